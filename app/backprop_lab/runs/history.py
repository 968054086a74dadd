"""The loss history the docks draw: losses, accuracies and gradient norms against epoch,
in bounded memory. No Qt.

A ``History`` keeps the newest ``exact`` to ``2 * exact`` samples as they arrived
(float64, every epoch) and folds older ones into min/max buckets: each bucket holds the
smallest and the largest value of every column over ``width`` epochs (buckets aligned to
multiples of ``width``, a power of two), and which of the two came first. When there
are more than ``max_buckets`` buckets, ``width`` doubles and neighbours merge. So a
run of any length costs at most about a megabyte here, a redraw reads at most
``2 * max_buckets + 2 * exact`` points, and spikes stay visible: a bucket is drawn as
two points, its extremes in the order they happened, at its first and last epoch.

The complete record of a run (every epoch's losses, for export and for going back) is
the ``Timeline``'s (``runs.timeline``), which feeds a History and rebuilds it after a
branch.

Reading API (what the docks use): ``len(h)`` (points drawn), ``h.epochs.view()``,
``h.train_loss.view()``, ``h.test_loss.view()``, ``h.acc_epochs.view()``,
``h.train_accuracy.view()``, ``h.test_accuracy.view()``, ``h.grad_epochs.view()``,
``h.grad_norms`` (one column per weight layer, each with ``view()``). A column's
``view()`` returns the same array object until the history changes, so a curve can
hold it without a copy; a change makes new arrays, never rewrites ones handed out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: samples kept exactly (the newest): between EXACT and 2 * EXACT of them
EXACT = 4096
#: at most this many min/max buckets for everything older
MAX_BUCKETS = 2048
#: the value columns of a history row after its epoch (see ``engine.training.ROW_FIELDS``)
ROW_COLUMNS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")


# -- min/max buckets -----------------------------------------------------------------------
def _group_starts(keys: np.ndarray) -> np.ndarray:
    """Indices where a run of equal ``keys`` starts (keys sorted)."""
    if len(keys) == 0:
        return np.empty(0, dtype=np.intp)
    change = np.empty(len(keys), dtype=bool)
    change[0] = True
    np.not_equal(keys[1:], keys[:-1], out=change[1:])
    return np.flatnonzero(change)


def fold_samples(epochs: np.ndarray, values: np.ndarray, width: int):
    """Min/max buckets of ``width`` epochs from samples (epochs strictly increasing,
    ``values`` shaped (k, n)). Returns ``first, last, lo, hi, hi_first``: the first and
    last epoch seen in each bucket, the smallest and largest value of each column (NaN
    ignored unless all are NaN), and whether the largest came before the smallest."""
    n = len(epochs)
    starts = _group_starts(epochs // width)
    ends = np.r_[starts[1:], n] - 1
    lo = np.fmin.reduceat(values, starts, axis=1)
    hi = np.fmax.reduceat(values, starts, axis=1)
    sizes = np.diff(np.r_[starts, n])
    idx = np.broadcast_to(np.arange(n), values.shape)
    i_lo = np.minimum.reduceat(np.where(values == np.repeat(lo, sizes, axis=1), idx, n),
                               starts, axis=1)
    i_hi = np.minimum.reduceat(np.where(values == np.repeat(hi, sizes, axis=1), idx, n),
                               starts, axis=1)
    return epochs[starts], epochs[ends], lo, hi, i_hi < i_lo


def _combine(lo_a, hi_a, hf_a, lo_b, hi_b, hf_b):
    """Merge bucket columns a (earlier) and b (later): extremes and their order."""
    lo = np.fmin(lo_a, lo_b)
    hi = np.fmax(hi_a, hi_b)
    lo_from_a = (lo_a <= lo_b) | np.isnan(lo_b)
    hi_from_a = (hi_a >= hi_b) | np.isnan(hi_b)
    hf = np.where(hi_from_a & ~lo_from_a, True,
                  np.where(~hi_from_a & lo_from_a, False, np.where(hi_from_a, hf_a, hf_b)))
    return lo, hi, hf


class Buckets:
    """Min/max buckets of ``width`` epochs (a power of two) for ``k`` value columns, in
    epoch order; at most ``max_buckets`` of them (``width`` doubles to stay below)."""

    __slots__ = ("k", "dtype", "max_buckets", "width", "n", "first", "last", "lo", "hi",
                 "hf")

    def __init__(self, k: int, dtype=np.float64, max_buckets: int = MAX_BUCKETS):
        self.k, self.dtype, self.max_buckets = k, np.dtype(dtype), max(2, int(max_buckets))
        self.width = 0  # no bucket yet
        self.n = 0
        self._alloc(16)

    def _alloc(self, cap: int) -> None:
        self.first = np.empty(cap, dtype=np.int64)
        self.last = np.empty(cap, dtype=np.int64)
        self.lo = np.empty((self.k, cap), dtype=self.dtype)
        self.hi = np.empty((self.k, cap), dtype=self.dtype)
        self.hf = np.empty((self.k, cap), dtype=bool)

    def _ensure(self, cap: int) -> None:
        if cap <= len(self.first):
            return
        old = (self.first, self.last, self.lo, self.hi, self.hf)
        self._alloc(max(cap, 2 * len(self.first)))
        n = self.n
        self.first[:n], self.last[:n] = old[0][:n], old[1][:n]
        self.lo[:, :n], self.hi[:, :n], self.hf[:, :n] = old[2][:, :n], old[3][:, :n], \
            old[4][:, :n]

    @property
    def nbytes(self) -> int:
        return (self.first.nbytes + self.last.nbytes + self.lo.nbytes + self.hi.nbytes
                + self.hf.nbytes)

    @property
    def last_epoch(self) -> int | None:
        return int(self.last[self.n - 1]) if self.n else None

    def arrays(self):
        """``first, last, lo, hi, hi_first`` of the buckets (views)."""
        n = self.n
        return (self.first[:n], self.last[:n], self.lo[:, :n], self.hi[:, :n],
                self.hf[:, :n])

    def clear(self) -> None:
        self.n = 0
        self.width = 0
        if len(self.first) > 64:
            self._alloc(16)

    # -- adding ---------------------------------------------------------------------------
    def add_samples(self, epochs: np.ndarray, values: np.ndarray) -> None:
        """Fold samples (epochs strictly increasing and after the last bucket's)."""
        if not len(epochs):
            return
        if self.width == 0:  # the first fold: about a quarter of the room for this span
            span = int(epochs[-1]) - int(epochs[0]) + 1
            w = 1
            while span > w * self.max_buckets // 4:
                w *= 2
            self.width = w
        self._append(*fold_samples(epochs, values.astype(self.dtype, copy=False),
                                   self.width))

    def add_buckets(self, first, last, lo, hi, hf, width: int) -> None:
        """Append another series' buckets (all after ours) made with ``width`` epochs."""
        if not len(first):
            return
        if self.width == 0:
            self.width = width
        while self.width < width:
            self._double()
        while width < self.width:  # make theirs as wide as ours
            first, last, lo, hi, hf = _merge_pairs(first, last, lo, hi, hf, 2 * width)
            width *= 2
        self._append(first, last, lo.astype(self.dtype, copy=False),
                     hi.astype(self.dtype, copy=False), hf)

    def _append(self, first, last, lo, hi, hf) -> None:
        n = self.n
        if n and first[0] // self.width == self.first[n - 1] // self.width:
            # the new samples start in our last bucket: merge them into it
            self.lo[:, n - 1], self.hi[:, n - 1], self.hf[:, n - 1] = _combine(
                self.lo[:, n - 1], self.hi[:, n - 1], self.hf[:, n - 1],
                lo[:, 0], hi[:, 0], hf[:, 0])
            self.last[n - 1] = last[0]
            first, last, lo, hi, hf = first[1:], last[1:], lo[:, 1:], hi[:, 1:], hf[:, 1:]
        m = len(first)
        self._ensure(n + m)
        self.first[n:n + m], self.last[n:n + m] = first, last
        self.lo[:, n:n + m], self.hi[:, n:n + m], self.hf[:, n:n + m] = lo, hi, hf
        self.n = n + m
        while self.n > self.max_buckets:
            self._double()

    def _double(self) -> None:
        self.width *= 2
        merged = _merge_pairs(*self.arrays(), self.width)
        m = len(merged[0])
        self.first[:m], self.last[:m] = merged[0], merged[1]
        self.lo[:, :m], self.hi[:, :m], self.hf[:, :m] = merged[2], merged[3], merged[4]
        self.n = m

    # -- cutting ------------------------------------------------------------------------
    def truncate_after(self, epoch: int) -> None:
        """Drop the buckets that start after ``epoch``. One that straddles it ends at
        ``epoch`` from now on (its extremes may come from the few epochs after)."""
        self.n = int(np.searchsorted(self.first[:self.n], epoch, side="right"))
        if self.n == 0:
            self.width = 0
        elif self.last[self.n - 1] > epoch:
            self.last[self.n - 1] = epoch

    def split_after(self, epoch: int) -> Buckets:
        """Move the buckets that start after ``epoch`` into a new ``Buckets``; one that
        straddles ``epoch`` goes to both (starting after ``epoch`` in the new one)."""
        i = int(np.searchsorted(self.first[:self.n], epoch, side="right"))
        tail = Buckets(self.k, self.dtype, self.max_buckets)
        j = i - 1 if i > 0 and self.last[i - 1] > epoch else i
        if j < self.n:
            f, la, lo, hi, hf = self.arrays()
            f = f[j:].copy()
            f[0] = max(f[0], epoch + 1)
            tail.width = self.width
            tail._append(f, la[j:].copy(), lo[:, j:].copy(), hi[:, j:].copy(),
                         hf[:, j:].copy())
        self.truncate_after(epoch)
        return tail

    # -- drawing --------------------------------------------------------------------------
    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """Two points a bucket, its extremes in the order they happened: at its first
        epoch the one that came first, at its last epoch the other. Returns ``(epochs,
        values (k, 2n))``."""
        f, la, lo, hi, hf = self.arrays()
        n = self.n
        x = np.empty(2 * n, dtype=np.int64)
        x[0::2], x[1::2] = f, la
        y = np.empty((self.k, 2 * n), dtype=np.float64)
        y[:, 0::2] = np.where(hf, hi, lo)
        y[:, 1::2] = np.where(hf, lo, hi)
        return x, y


def _merge_pairs(first, last, lo, hi, hf, width: int):
    """Merge neighbouring buckets that fall into the same ``width``-epoch bucket (at most
    two do: ``width`` is twice theirs)."""
    keys = first // width
    starts = _group_starts(keys)
    n = len(first)
    sizes = np.diff(np.r_[starts, n])
    pair = starts[sizes == 2]
    lo2, hi2, hf2 = lo[:, starts].copy(), hi[:, starts].copy(), hf[:, starts].copy()
    last2 = last[starts].copy()
    if len(pair):
        j = np.flatnonzero(sizes == 2)
        lo2[:, j], hi2[:, j], hf2[:, j] = _combine(lo[:, pair], hi[:, pair], hf[:, pair],
                                                   lo[:, pair + 1], hi[:, pair + 1],
                                                   hf[:, pair + 1])
        last2[j] = last[pair + 1]
    if np.any(sizes > 2):  # cannot happen when widths double; keep it correct anyway
        for j in np.flatnonzero(sizes > 2):
            s = starts[j]
            for t in range(s + 2, s + sizes[j]):
                lo2[:, j], hi2[:, j], hf2[:, j] = _combine(lo2[:, j], hi2[:, j], hf2[:, j],
                                                           lo[:, t], hi[:, t], hf[:, t])
            last2[j] = last[s + sizes[j] - 1]
    return first[starts].copy(), last2, lo2, hi2, hf2


# -- a bounded series ----------------------------------------------------------------------
class PeakSeries:
    """Samples (epoch, k values) in bounded memory: the newest ``exact`` to ``2 * exact``
    as given, older ones as min/max ``Buckets``. Epochs must increase."""

    def __init__(self, k: int, exact: int = EXACT, max_buckets: int = MAX_BUCKETS):
        self.k = k
        self._exact = max(1, int(exact))
        self._e = np.empty(64, dtype=np.int64)
        self._v = np.empty((k, 64), dtype=np.float64)
        self._n = 0
        self.buckets = Buckets(k, np.float64, max_buckets)
        self._points: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return 2 * self.buckets.n + self._n

    @property
    def nbytes(self) -> int:
        cached = 0 if self._points is None else self._points[0].nbytes + \
            sum(c.nbytes for c in self._points[1])
        return self._e.nbytes + self._v.nbytes + self.buckets.nbytes + cached

    @property
    def last_epoch(self) -> int | None:
        if self._n:
            return int(self._e[self._n - 1])
        return self.buckets.last_epoch

    @property
    def exact_from(self) -> int | None:
        """The first epoch of the exact part (None: there is none)."""
        return int(self._e[0]) if self._n else None

    def exact(self) -> tuple[np.ndarray, np.ndarray]:
        """The exact part: ``(epochs, values (k, n))`` (views)."""
        return self._e[:self._n], self._v[:, :self._n]

    def append(self, epochs: np.ndarray, values: np.ndarray) -> None:
        """Add samples: ``epochs`` strictly increasing and after ``last_epoch``,
        ``values`` shaped (k, n)."""
        m = len(epochs)
        if not m:
            return
        n = self._n
        if n + m > len(self._e):
            cap = max(n + m, 2 * len(self._e))
            e, v = np.empty(cap, dtype=np.int64), np.empty((self.k, cap), dtype=np.float64)
            e[:n], v[:, :n] = self._e[:n], self._v[:, :n]
            self._e, self._v = e, v
        self._e[n:n + m] = epochs
        self._v[:, n:n + m] = values
        self._n = n + m
        if self._n > 2 * self._exact:
            self._fold(self._n - self._exact)
        self._points = None

    def _fold(self, m: int) -> None:
        """Move the oldest ``m`` exact samples into the buckets."""
        self.buckets.add_samples(self._e[:m], self._v[:, :m])
        rest = self._n - m
        self._e[:rest] = self._e[m:self._n]
        self._v[:, :rest] = self._v[:, m:self._n]
        self._n = rest
        if len(self._e) > 4 * max(self._exact, rest) + 64:  # give back a big rebuild's room
            self._e, self._v = self._e[:2 * self._exact + 64].copy(), \
                self._v[:, :2 * self._exact + 64].copy()

    def add_buckets(self, first, last, lo, hi, hf, width: int) -> None:
        """Append min/max buckets (after every sample here): the exact part is folded
        first, so the series stays buckets-then-exact."""
        if not len(first):
            return
        if self._n:
            self._fold(self._n)
        self.buckets.add_buckets(first, last, lo, hi, hf, width)
        self._points = None

    def truncate_after(self, epoch: int) -> None:
        """Drop the samples after ``epoch``."""
        n = int(np.searchsorted(self._e[:self._n], epoch, side="right"))
        if n == 0 and self.buckets.n:
            self.buckets.truncate_after(epoch)
        if n != self._n or n == 0:
            self._points = None
        self._n = n

    def split_after(self, epoch: int) -> PeakSeries:
        """Move the samples after ``epoch`` into a new series."""
        tail = PeakSeries(self.k, self._exact, self.buckets.max_buckets)
        n = int(np.searchsorted(self._e[:self._n], epoch, side="right"))
        if n == 0 and self.buckets.n:
            b = self.buckets.split_after(epoch)
            if b.n:
                tail.buckets = b
        tail.append(self._e[n:self._n].copy(), self._v[:, n:self._n].copy())
        self._n = n
        self._points = None
        return tail

    def extend(self, other: PeakSeries) -> None:
        """Append another series (all of it after this one)."""
        if other.buckets.n:
            b = other.buckets
            self.add_buckets(*b.arrays(), b.width)
        e, v = other.exact()
        self.append(e, v)

    def clear(self) -> None:
        self._n = 0
        self.buckets.clear()
        if len(self._e) > 4 * self._exact:
            self._e = np.empty(64, dtype=np.int64)
            self._v = np.empty((self.k, 64), dtype=np.float64)
        self._points = None

    def points(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """What to draw: ``(epochs, [values of each column])``, bucket pairs then the
        exact samples (new arrays after every change; the same ones until then)."""
        if self._points is None:
            bx, by = self.buckets.points()
            e, v = self.exact()
            if len(bx):
                self._points = (np.concatenate([bx, e]),
                                [np.concatenate([by[j], v[j]]) for j in range(self.k)])
            else:
                self._points = (e.copy(), [v[j].copy() for j in range(self.k)])
        return self._points


# -- what the docks read -------------------------------------------------------------------
class Column:
    """One drawn column of a history: ``view()`` (an array) and ``len()``."""

    __slots__ = ("_get",)

    def __init__(self, get: Callable[[], np.ndarray]):
        self._get = get

    def view(self) -> np.ndarray:
        return self._get()

    def __len__(self) -> int:
        return len(self._get())


_EMPTY_F = np.empty(0, dtype=np.float64)
_EMPTY_I = np.empty(0, dtype=np.int64)


class History:
    """Loss and accuracy against epoch, and the gradient norms, for the docks: bounded
    (see the module's docstring), exact for the newest ``exact`` epochs at least."""

    def __init__(self, exact: int = EXACT, max_buckets: int = MAX_BUCKETS):
        self._exact, self._max_buckets = exact, max_buckets
        self._rows = PeakSeries(len(ROW_COLUMNS), exact, max_buckets)
        self._grad: PeakSeries | None = None
        self._has_test = False
        self._has_accuracy = False
        self.version = 0  # grows with every change

        def col(j: int, flag: Callable[[], bool] = lambda: True):
            return Column(lambda: self._rows.points()[1][j] if flag() else _EMPTY_F)

        self.epochs = Column(lambda: self._rows.points()[0])
        self.train_loss = col(0)
        self.test_loss = col(1, lambda: self._has_test)
        self.acc_epochs = Column(lambda: self._rows.points()[0] if self._has_accuracy
                                 else _EMPTY_I)
        self.train_accuracy = col(2, lambda: self._has_accuracy)
        self.test_accuracy = col(3, lambda: self._has_accuracy and self._has_test)
        self.grad_epochs = Column(lambda: self._grad.points()[0] if self._grad is not None
                                  else _EMPTY_I)
        self.grad_norms: list[Column] = []

    def __len__(self) -> int:
        return len(self._rows)

    # -- reading more -----------------------------------------------------------------------
    @property
    def has_test(self) -> bool:
        return self._has_test

    @property
    def has_accuracy(self) -> bool:
        return self._has_accuracy

    @property
    def last_epoch(self) -> int | None:
        """The newest epoch with a row (None: no rows)."""
        return self._rows.last_epoch

    @property
    def exact_from(self) -> int | None:
        """Rows from this epoch on are drawn exactly as measured, one point an epoch;
        before it, two points (min and max) per bucket of ``bucket_width`` epochs."""
        return self._rows.exact_from

    @property
    def bucket_width(self) -> int:
        """Epochs per min/max bucket of the older rows (0: none folded yet)."""
        return self._rows.buckets.width

    @property
    def nbytes(self) -> int:
        return self._rows.nbytes + (self._grad.nbytes if self._grad is not None else 0)

    # -- changing -------------------------------------------------------------------------
    def clear(self) -> None:
        self._rows.clear()
        self._grad = None
        self.grad_norms = []
        self.version += 1

    def add_grad_norms(self, epoch: int, norms: tuple[float, ...]) -> bool:
        """Record the per-layer gradient norms seen at ``epoch`` (one per snapshot); False
        if there was nothing new to record."""
        if not norms:
            return False
        if self._grad is not None and self._grad.k == len(norms):
            last = self._grad.last_epoch
            if last is not None and last >= epoch:
                return False
        else:
            self._grad = PeakSeries(len(norms), self._exact, self._max_buckets)
            g = self._grad
            self.grad_norms = [Column(lambda j=j: g.points()[1][j]) for j in range(len(norms))]
        self._grad.append(np.array([epoch], dtype=np.int64),
                          np.asarray(norms, dtype=np.float64).reshape(-1, 1))
        self.version += 1
        return True

    def add_rows(self, rows: np.ndarray, has_test: bool, has_accuracy: bool) -> None:
        """Append history rows (an (n, 5) array: epoch, train loss, test loss, train
        accuracy, test accuracy; see ``engine.training.ROW_FIELDS``). A row for an epoch
        already recorded replaces it and everything after it (the run went back)."""
        self._has_test, self._has_accuracy = bool(has_test), bool(has_accuracy)
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
        if not len(rows):
            return
        epochs = rows[:, 0].astype(np.int64)
        if len(epochs) > 1 and not (epochs[1:] > epochs[:-1]).all():
            # pieces of strictly increasing epochs (a going back inside one batch is rare)
            cuts = np.flatnonzero(np.diff(epochs) <= 0) + 1
            pieces = zip(np.split(epochs, cuts), np.split(rows, cuts))
        else:
            pieces = ((epochs, rows),)
        for piece_e, piece_r in pieces:
            last = self._rows.last_epoch
            if last is not None and piece_e[0] <= last:
                self._truncate(int(piece_e[0]) - 1)
            self._rows.append(piece_e, piece_r[:, 1:].T)
        self.version += 1

    def add_row_buckets(self, first, last, lo, hi, hf, width: int) -> None:
        """Append rows kept as min/max buckets (a ``Timeline`` rebuilding the history)."""
        self._rows.add_buckets(first, last, lo, hi, hf, width)
        self.version += 1

    def truncate_after(self, epoch: int) -> None:
        """Drop everything recorded after ``epoch`` (used when the run goes back)."""
        self._truncate(epoch)
        self.version += 1

    def _truncate(self, epoch: int) -> None:
        self._rows.truncate_after(epoch)
        if self._grad is not None:
            self._grad.truncate_after(epoch)

    def split_grad_after(self, epoch: int) -> PeakSeries | None:
        """Cut the gradient norms after ``epoch`` and return them (a branch keeps them)."""
        if self._grad is None:
            return None
        self.version += 1
        return self._grad.split_after(epoch)

    def extend_grad(self, tail: PeakSeries | None) -> None:
        """Append gradient norms cut off by ``split_grad_after`` (the branch undone)."""
        if tail is None or (self._grad is not None and self._grad.k != tail.k):
            return
        if self._grad is None:
            self._grad = PeakSeries(tail.k, self._exact, self._max_buckets)
            g = self._grad
            self.grad_norms = [Column(lambda j=j: g.points()[1][j]) for j in range(tail.k)]
        self._grad.extend(tail)
        self.version += 1

    def clear_rows(self) -> None:
        """Forget the loss rows only (the gradient norms stay): before a rebuild."""
        self._rows.clear()
        self.version += 1
