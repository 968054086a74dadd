"""Gradient check: backpropagation against finite differences, weight by weight, with a
verdict per weight that does not mistake rounding for a bug.

For every weight w the check compares ``a = dL/dw`` from backpropagation
(``update.gradient``) with an estimate ``n`` made from the objective alone
(``update.objective``: the mean data loss plus the penalty, the quantity training
minimises). Neither is computed any other way here.

How the estimate is made, and why
---------------------------------
A central difference ``D(h) = (L(w + h) - L(w - h)) / 2h`` has two errors: truncation,
about ``h^2 L''' / 6``, and rounding, about ``eps |L| / h`` (``eps = 2.2e-16``, machine
epsilon) -- or more where a unit is saturated, because ``tanh`` or ``sigmoid`` near 1
changes by only a few units of the last place over the step. So:

* **Step per weight.** ``h = eps^(1/5) * max(1, |w|)`` (about ``7.4e-4`` for weights up to
  1): relative to large weights, absolute for small ones. The step is made exactly
  representable (``(w + h) - (w - h)`` is the divisor).
* **Stage 1**, ``D(h)``: if it already agrees with ``a`` to ``FINE_BELOW``, the weight is
  fine and nothing more is spent on it.
* **Stage 2**, Richardson extrapolation: ``R = (4 D(h) - D(2h)) / 3`` cancels the ``h^2``
  term, leaving an ``h^4`` error; ``eps^(1/5)`` is the step that balances ``h^4`` against
  ``eps / h``, so the step is about 120 times the ``eps^(1/3) = 6e-6`` that is best for a
  plain central difference, and the rounding noise 120 times smaller. The spread
  ``|D(h) - D(2h)|`` (three times the truncation error of ``D(h)``, and about the size of
  the rounding noise) plus ``3 eps S / h`` is the estimate's uncertainty ``u``, where
  ``S`` is the larger of ``|L|`` and the outputs' largest pre-activation (the loss is
  computed from those, so its rounding error scales with them even when ``L`` is tiny).
* **Stage 3**, only when ``|a - n|`` lies within that (deliberately generous) ``u``:
  ``D(h/2)`` too, the extrapolation ``(4 D(h/2) - D(h)) / 3`` from the smaller pair, and
  the sharper uncertainty ``|R(h/2) - R(h)|``.

Measured on every preset after 0, 100, 300, 1000, 2600 and 5000 epochs of training (30
single samples and the whole training set each; 156,666 rows), the largest relative error
(against ``max(|a|, |n|, 1e-8)``) of the networks without relu was 0.64 with the old
``h = 1e-4``, 2.3e-3 with ``eps^(1/3) * max(1, |w|)`` and 8.4e-5 with this Richardson
pair; with ``u`` every one of those rows is fine. Most weights stop after stage 1: about
2 to 4 objective evaluations per weight.

Error measure and verdicts
--------------------------
``rel = |a - n| / max(|a|, |n|, floor)`` with ``floor = FLOOR * max(1, |L|)``: a gradient
smaller than the floor is below what finite differences can resolve, so its error is
measured against the floor instead of against itself.

* ``fine``: ``rel <= FINE_BELOW`` (6 significant digits agree), or ``rel <= WRONG_ABOVE``
  and ``|a - n| <= u`` (the difference is within the finite difference's own uncertainty).
* ``wrong``: ``rel > WRONG_ABOVE`` (more than 1 %) and ``|a - n| > u``.
* ``look closer``: everything between: more than rounding explains, less than 1 %, or a
  finite difference too uncertain to settle a larger difference.
* ``kink``: not fine, and within the step a relu or leaky_relu unit that the weight
  feeds (directly or further down) changes sign for some sample, or the L1 penalty's
  ``|w|`` bends at 0. The check first retries with steps 16, 256 ... times smaller (down to
  ``sqrt(eps) * max(1, |w|)``); only a weight that stays on the kink is reported as one:
  there the slope changes, backpropagation uses one side's slope and finite differences
  average both, so neither is wrong.

Running it
----------
``iter_gradient_check`` returns an iterator of ``Progress`` (one before the first weight,
then one per ``batch`` weights, the last carrying the ``GradCheckResult``): a background
worker can report progress and stop by no longer iterating. ``gradient_check`` runs it to
the end (or until ``cancelled()`` says so).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from . import update as one_update
from .names import all_weights, unit_name, weight_name
from .network import Network

EPS = float(np.finfo(np.float64).eps)
#: relative step of the finite differences (see the module docstring)
STEP = EPS ** 0.2
#: smallest relative step tried when stepping away from a kink
MIN_STEP = EPS ** 0.5
#: how much smaller each retry near a kink makes the step
KINK_SHRINK = 16.0
#: relative errors at most this are fine whatever the uncertainty
FINE_BELOW = 1e-6
#: relative errors above this, and beyond the uncertainty, are wrong
WRONG_ABOVE = 1e-2
#: gradients smaller than FLOOR * max(1, |L|) are judged against that floor
FLOOR = 1e-8

FINE = "fine"
LOOK_CLOSER = "look closer"
WRONG = "wrong"
KINK = "kink"
VERDICTS = (FINE, LOOK_CLOSER, WRONG, KINK)
KINKED_ACTIVATIONS = ("relu", "leaky_relu")


@dataclass(frozen=True)
class GradCheckRow:
    """One weight's check.

    ``analytic`` is backpropagation's dL/dw, ``numeric`` the finite-difference estimate,
    ``uncertainty`` that estimate's own error bound (NaN when stage 1 settled it),
    ``step`` the h it used, ``rel_error`` = ``abs_error / max(|a|, |n|, floor)``.
    ``note`` says in words why the verdict is what it is.
    """

    name: str
    index: int
    weight: float
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    uncertainty: float
    step: float
    verdict: str
    note: str = ""

    @property
    def problem(self) -> bool:
        """Anything but fine."""
        return self.verdict != FINE


@dataclass(frozen=True)
class GradCheckResult:
    """Every checked row in the engine's weight order, and what they were judged by.

    ``total`` is the number of weights in the network; fewer rows mean the check was
    cancelled. Iterating, ``len`` and indexing go over the rows.
    """

    rows: tuple[GradCheckRow, ...]
    total: int
    objective: float
    floor: float
    seconds: float

    @property
    def complete(self) -> bool:
        return len(self.rows) == self.total

    def counts(self) -> dict[str, int]:
        """How many rows got each verdict, in ``VERDICTS`` order (zeros included)."""
        return count_verdicts(self.rows)

    def problems(self) -> list[GradCheckRow]:
        return [r for r in self.rows if r.problem]

    def worst(self) -> GradCheckRow | None:
        """The row with the largest relative error that is not at a kink (NaN first)."""
        judged = [r for r in self.rows if r.verdict != KINK] or list(self.rows)
        if not judged:
            return None
        return max(judged, key=lambda r: math.inf if math.isnan(r.rel_error) else r.rel_error)

    def __iter__(self) -> Iterator[GradCheckRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]


@dataclass(frozen=True)
class Progress:
    """Where a running check is: ``done`` of ``total`` weights; ``rows`` are the ones
    checked since the previous ``Progress``; ``result`` is set on the last one only."""

    done: int
    total: int
    rows: tuple[GradCheckRow, ...]
    objective: float
    floor: float
    elapsed: float
    result: GradCheckResult | None = None


def judge(analytic: float, numeric: float, uncertainty: float, floor: float,
          kink: str | None = None) -> tuple[str, float, float, str]:
    """The verdict on one weight: ``(verdict, rel_error, abs_error, note)``.

    ``uncertainty`` may be NaN (not estimated: only a relative error within
    ``FINE_BELOW`` is then fine); ``kink`` names a kink within the step, if any.
    """
    a, n = float(analytic), float(numeric)
    if not math.isfinite(n):
        return LOOK_CLOSER, math.nan, math.nan, ("the loss is not finite near this weight: "
                                                 "no finite difference to compare with")
    if not math.isfinite(a):
        return WRONG, math.nan, math.nan, ("backpropagation gave a number that is not "
                                           "finite where the loss is")
    diff = abs(a - n)
    rel = diff / max(abs(a), abs(n), floor)
    within = not math.isnan(uncertainty) and diff <= uncertainty
    if rel <= FINE_BELOW:
        return FINE, rel, diff, ("below the floor: too small to judge more finely"
                                 if max(abs(a), abs(n)) < floor else "")
    if within and rel <= WRONG_ABOVE:
        return FINE, rel, diff, "within the finite difference's own uncertainty"
    if kink:
        return KINK, rel, diff, kink
    if rel > WRONG_ABOVE and not within:
        return WRONG, rel, diff, ("backpropagation and the finite difference disagree by "
                                  "more than 1% and more than the estimate's uncertainty")
    if within:
        return LOOK_CLOSER, rel, diff, ("the finite difference is too uncertain here to "
                                        "settle a difference this large")
    return LOOK_CLOSER, rel, diff, ("they differ by more than rounding explains, but by "
                                    "less than 1%")


def iter_gradient_check(net: Network, cfg, x, y, *, batch: int = 128) -> Iterator[Progress]:
    """Check every weight of ``net`` on the batch ``(x, y)``; see the module docstring.

    The network, configuration and data are copied now, so the iterator can run on
    another thread while ``net`` changes. It yields a ``Progress`` before the first
    weight and after every ``batch`` weights; the last one carries the result. Stop
    iterating to cancel.
    """
    return _Checker(net, cfg, x, y).run(max(1, int(batch)))


def gradient_check(net: Network, cfg, x, y, *, batch: int = 128,
                   progress: Callable[[int, int], None] | None = None,
                   cancelled: Callable[[], bool] | None = None) -> GradCheckResult:
    """Run ``iter_gradient_check`` to the end and return its result. ``progress(done,
    total)`` is called after every ``batch`` weights; when ``cancelled()`` turns true the
    check stops and returns the rows so far (``result.complete`` is then False)."""
    rows: list[GradCheckRow] = []
    last = None
    for p in iter_gradient_check(net, cfg, x, y, batch=batch):
        last = p
        rows.extend(p.rows)
        if progress is not None:
            progress(p.done, p.total)
        if p.result is not None:
            return p.result
        if cancelled is not None and cancelled():
            break
    assert last is not None
    return GradCheckResult(tuple(rows), last.total, last.objective, last.floor, last.elapsed)


class _Checker:
    """The state of one check: a private copy of the network that is perturbed in place."""

    def __init__(self, net: Network, cfg, x, y):
        self.x = np.atleast_2d(np.array(x, dtype=np.float64))
        self.y = np.atleast_2d(np.array(y, dtype=np.float64))
        self.net = net = net.copy()
        self.cfg = cfg
        self.mask = net.weight_mask()
        self.layers = list(net.layers)
        self.refs = all_weights(self.layers)
        self.index = _flat_index(net)
        self.l1 = cfg.regularization == "l1" and cfg.regularization_rate != 0.0
        names = net.activation_names
        self.kink_layers = [l for l, a in enumerate(names) if a in KINKED_ACTIVATIONS]
        # The loss is computed from the outputs' pre-activations (log-sum-exp for ce and
        # bce): its rounding error is about eps times their size, even when the loss
        # itself is tiny (a sample classified with confidence). That size, not |L|, sets
        # the rounding noise of a finite difference.
        out = net.forward(self.x).a[-1]
        self.round_scale = float(np.max(np.abs(out))) if out.size else 0.0
        if not np.isfinite(self.round_scale):
            self.round_scale = 0.0

    # -- the objective, and nothing else, at perturbed weights -------------------------
    def _loss(self) -> float:
        return one_update.objective(self.net, self.cfg, self.x, self.y, self.mask)

    def _central(self, k: int, h: float) -> tuple[float, float]:
        """``(D(h), max |L(w +- h)|)`` for parameter k; the parameter is restored."""
        p = self.net.params
        w = p[k]
        p[k] = w + h
        wp = p[k]
        up = self._loss()
        p[k] = w - h
        wm = p[k]
        down = self._loss()
        p[k] = w
        return (up - down) / (wp - wm), max(abs(up), abs(down))

    # -- kinks ------------------------------------------------------------------------
    def _kink(self, k: int, layer: int, h: float) -> str | None:
        """A kink between w - 2h and w + 2h that the finite differences would cross."""
        w = float(self.net.params[k])
        if self.l1 and self.mask[k] and w != 0.0 and abs(w) <= 2 * h:
            return (f"the L1 penalty's |w| bends at 0, and this weight ({w:.3g}) is within "
                    f"the step ({2 * h:.2g}) of 0")
        layers = [l for l in self.kink_layers if l >= layer]
        if not layers:
            return None
        p = self.net.params
        names = self.net.activation_names
        try:
            for s in (-2 * h, -h, h, 2 * h):
                p[k] = w + s
                c = self.net.forward(self.x)
                for l in layers:
                    flipped = np.argwhere((c.a[l] > 0) != self._base_positive[l])
                    if len(flipped):
                        sample, unit = (int(v) for v in flipped[0])
                        where = f" for sample {sample + 1}" if len(self.x) > 1 else ""
                        return (f"{unit_name(self.layers, l + 1, unit)} ({names[l]}) changes "
                                f"slope at 0 within the step{where}: backpropagation takes "
                                "one side's slope, the finite difference averages both")
        finally:
            p[k] = w
        return None

    # -- one weight -------------------------------------------------------------------
    def _estimate(self, k: int, h: float, a: float) -> tuple[float, float, float]:
        """``(numeric, uncertainty, biggest |L| seen)`` in stages (module docstring)."""
        d1, big1 = self._central(k, h)
        if abs(a - d1) <= FINE_BELOW * max(abs(a), abs(d1), self.floor):
            return d1, math.nan, big1
        d2, big2 = self._central(k, 2 * h)
        r1 = (4 * d1 - d2) / 3
        big = max(big1, big2, self.round_scale)
        u1 = abs(d1 - d2) + 3 * EPS * big / h
        if not abs(a - r1) <= u1:
            return r1, u1, big
        d0, big0 = self._central(k, h / 2)
        r0 = (4 * d0 - d1) / 3
        big = max(big, big0, self.round_scale)
        return r0, abs(r0 - r1) + 6 * EPS * big / h, big

    def _row(self, ref, a: float) -> GradCheckRow:
        k = self.index[(ref.layer, ref.target, ref.source)]
        w = float(self.net.params[k])
        scale = max(1.0, abs(w))
        h = STEP * scale
        numeric, u, _ = self._estimate(k, h, a)
        verdict, rel, diff, note = judge(a, numeric, u, self.floor)
        if verdict != FINE and (self.kink_layers or self.l1):
            kink = self._kink(k, ref.layer, h)
            trial = h
            while kink and trial / KINK_SHRINK >= MIN_STEP * scale:
                trial /= KINK_SHRINK
                kink = self._kink(k, ref.layer, trial)
                if not kink:  # clear of the kink at this step: estimate afresh
                    h = trial
                    numeric, u, _ = self._estimate(k, h, a)
            verdict, rel, diff, note = judge(a, numeric, u, self.floor, kink)
        return GradCheckRow(weight_name(self.layers, ref), k, w, a, float(numeric), diff, rel,
                            float(u), h, verdict, note)

    # -- the whole check --------------------------------------------------------------
    def run(self, batch: int) -> Iterator[Progress]:
        """The check as a generator; ``elapsed`` counts its own time, not the time the
        consumer spends between steps."""
        busy = 0.0
        resumed = time.perf_counter()
        net = self.net
        grad = one_update.gradient(net, self.cfg, self.x, self.y, mask=self.mask).grad.copy()
        self.objective = float(self._loss())
        self.floor = FLOOR * max(1.0, abs(self.objective)) if math.isfinite(
            self.objective) else FLOOR
        if self.kink_layers:
            base = net.forward(self.x)
            self._base_positive = {l: base.a[l] > 0 for l in self.kink_layers}
        total = len(self.refs)
        rows: list[GradCheckRow] = []
        chunk: list[GradCheckRow] = []

        def progress(result=None) -> Progress:
            return Progress(len(rows), total, tuple(chunk), self.objective, self.floor,
                            busy, result)

        busy += time.perf_counter() - resumed
        yield progress()
        resumed = time.perf_counter()
        for ref in self.refs:
            row = self._row(ref, float(grad[self.index[(ref.layer, ref.target, ref.source)]]))
            rows.append(row)
            chunk.append(row)
            if len(chunk) >= batch and len(rows) < total:
                busy += time.perf_counter() - resumed
                yield progress()
                resumed = time.perf_counter()
                chunk = []
        busy += time.perf_counter() - resumed
        result = GradCheckResult(tuple(rows), total, self.objective, self.floor, busy)
        yield progress(result)


def _flat_index(net: Network) -> dict[tuple[int, int, int], int]:
    """(layer, target, source) -> position in ``net.params`` (source -1: bias)."""
    idx = np.arange(net.n_params, dtype=np.float64)
    w, b = net.views(idx)
    out = {}
    for l in range(len(w)):
        for i in range(w[l].shape[0]):
            out[(l, i, -1)] = int(b[l][i])
            for j in range(w[l].shape[1]):
                out[(l, i, j)] = int(w[l][i, j])
    return out


def count_verdicts(rows: Sequence[GradCheckRow]) -> dict[str, int]:
    """Verdict counts of any list of rows (a partial check, say), in ``VERDICTS`` order."""
    out = dict.fromkeys(VERDICTS, 0)
    for r in rows:
        out[r.verdict] += 1
    return out
