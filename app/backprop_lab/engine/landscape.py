"""A 2-D slice of the loss surface through the current weights, and paths projected on it.

Directions as in Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets", with
filter normalisation: in a fully connected network a filter is a neuron, so each
neuron's part of a direction is scaled to the norm of the same neuron's part of the
current weights. A neuron's part is its incoming weights *and its bias weight* (in this
app the bias is the weight from the bias unit, a row of the same matrix). Li et al.'s
code leaves biases out of random directions (``ignore='biasbn'``); here the first
direction is the path the run took, biases included, and leaving them out would make
the plane miss part of that path.

- ``d1``: from the initial to the current weights, filter-normalised. If the weights
  have not moved (epoch 0), a random direction instead (``Plane.along_path`` False).
- ``d2``: a random Gaussian direction (``seed``), made orthogonal to ``d1`` neuron by
  neuron and filter-normalised: each neuron's parts of ``d1`` and ``d2`` are orthogonal
  and as long as the neuron's current weights, so the plane's axes are orthogonal too.

A neuron whose current weights are all zero gets no part in either direction.

The loss at ``(alpha, beta)`` is ``update.objective`` (the one place the loss is composed:
mean data loss plus penalty) at ``current + alpha * d1 + beta * d2`` on the training
set. ``LandscapeJob`` computes the grid row by row, yielding progress; the grid
(``Landscape.values``, NaN where not yet computed) can be drawn while it fills.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .network import Network
from .update import objective

DEFAULT_POINTS = 41


def _rows(network: Network, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    w, b = network.views(flat)
    return list(zip(w, b))


def filter_normalize(direction: np.ndarray, reference: np.ndarray,
                     network: Network) -> np.ndarray:
    """``direction`` with each neuron's part (incoming weights and bias weight) scaled to
    the norm of that neuron's part of ``reference``; a new array."""
    d = np.array(direction, dtype=np.float64)
    for (dw, db), (rw, rb) in zip(_rows(network, d), _rows(network, reference)):
        nd = np.sqrt(np.einsum("ij,ij->i", dw, dw) + db * db)
        nr = np.sqrt(np.einsum("ij,ij->i", rw, rw) + rb * rb)
        scale = np.divide(nr, nd, out=np.zeros_like(nr), where=nd > 0)
        dw *= scale[:, None]
        db *= scale
    return d


def _orthogonal_per_neuron(d: np.ndarray, to: np.ndarray, network: Network) -> np.ndarray:
    """``d`` minus, neuron by neuron, its component along ``to``; a new array."""
    out = np.array(d, dtype=np.float64)
    for (ow, ob), (tw, tb) in zip(_rows(network, out), _rows(network, to)):
        tt = np.einsum("ij,ij->i", tw, tw) + tb * tb
        ot = np.einsum("ij,ij->i", ow, tw) + ob * tb
        c = np.divide(ot, tt, out=np.zeros_like(tt), where=tt > 0)
        ow -= c[:, None] * tw
        ob -= c * tb
    return out


@dataclass(frozen=True)
class Plane:
    """The slice: points ``origin + alpha * d1 + beta * d2``."""

    origin: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    #: d1 runs from the initial to the current weights (False: the run had not moved and
    #: d1 is random)
    along_path: bool

    def point(self, alpha: float, beta: float) -> np.ndarray:
        """The weights at ``(alpha, beta)``."""
        return self.origin + alpha * self.d1 + beta * self.d2

    def project(self, params: np.ndarray | Sequence[np.ndarray]
                ) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates of weight vectors on the plane (least squares; the axes are
        orthogonal) and how far each lies off it, as a fraction of its distance from
        ``origin`` (0 on the plane). ``params``: one vector, a list, or an (n, P) array.
        Returns ``(coords (n, 2), off_plane (n,))``."""
        x = np.atleast_2d(np.asarray(params, dtype=np.float64))
        diff = x - self.origin
        n1, n2 = float(self.d1 @ self.d1), float(self.d2 @ self.d2)
        a = diff @ self.d1 / n1 if n1 > 0 else np.zeros(len(x))
        b = diff @ self.d2 / n2 if n2 > 0 else np.zeros(len(x))
        rest = diff - np.outer(a, self.d1) - np.outer(b, self.d2)
        dist = np.linalg.norm(diff, axis=1)
        off = np.divide(np.linalg.norm(rest, axis=1), dist, out=np.zeros_like(dist),
                        where=dist > 0)
        return np.column_stack([a, b]), off


def make_plane(network: Network, current: np.ndarray, initial: np.ndarray | None,
               seed: int = 0) -> Plane:
    """The plane through ``current``: ``d1`` towards it from ``initial`` (random if the
    two are equal or ``initial`` is None), ``d2`` random and orthogonal (see the
    module's docstring). The same ``seed`` gives the same plane."""
    cur = np.array(current, dtype=np.float64)
    rng = np.random.default_rng(seed)
    along = initial is not None and np.any(cur != np.asarray(initial))
    raw1 = cur - np.asarray(initial, dtype=np.float64) if along else \
        rng.standard_normal(cur.size)
    d1 = filter_normalize(raw1, cur, network)
    if not np.any(d1):  # every neuron that moved has zero weights now
        d1 = filter_normalize(rng.standard_normal(cur.size), cur, network)
        along = False
    d2 = filter_normalize(_orthogonal_per_neuron(rng.standard_normal(cur.size), d1, network),
                          cur, network)
    return Plane(cur, d1, d2, bool(along))


def grid_axis(extent: float, points: int = DEFAULT_POINTS) -> np.ndarray:
    """``points`` evenly spaced values from ``-extent`` to ``extent`` (0 among them when
    ``points`` is odd)."""
    return np.linspace(-extent, extent, int(points))


def extent_for(plane: Plane, paths: Sequence[np.ndarray] = (), margin: float = 0.15,
               least: float = 1.0) -> float:
    """A grid half-width that shows every path's projection with a margin (at least
    ``least``, one current neuron length along each axis)."""
    far = least
    for p in paths:
        if len(p):
            coords, _ = plane.project(p)
            far = max(far, float(np.abs(coords).max()) * (1 + margin))
    return far


@dataclass
class Landscape:
    """The loss at ``(alphas[i], betas[j])`` is ``values[j, i]`` (NaN: not computed yet;
    inf or NaN where the loss itself is)."""

    plane: Plane
    alphas: np.ndarray
    betas: np.ndarray
    values: np.ndarray
    #: rows of ``values`` (betas) computed so far
    rows_done: int = 0

    @property
    def complete(self) -> bool:
        return self.rows_done == len(self.betas)


class LandscapeJob:
    """Computes a ``Landscape`` a grid row at a time. Iterate it (each step yields
    ``(rows_done, rows_total)``) or call ``run()``; ``result`` fills as it goes;
    ``cancel()`` (from any thread) stops it before the next row. Shares nothing
    mutable with its caller (it works on copies)."""

    def __init__(self, network: Network, config, x: np.ndarray, y: np.ndarray,
                 plane: Plane, alphas: np.ndarray, betas: np.ndarray):
        self._net = network.copy()
        self._cfg = config
        self._x = np.ascontiguousarray(x, dtype=np.float64)
        self._y = np.ascontiguousarray(y, dtype=np.float64)
        self.result = Landscape(plane, np.array(alphas, dtype=np.float64),
                                np.array(betas, dtype=np.float64),
                                np.full((len(betas), len(alphas)), np.nan))
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return self._steps()

    def run(self) -> Landscape:
        for _ in self._steps():
            pass
        return self.result

    def _steps(self) -> Iterator[tuple[int, int]]:
        r = self.result
        net, plane = self._net, r.plane
        mask = net.weight_mask()
        total = len(r.betas)
        yield (r.rows_done, total)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for j in range(r.rows_done, total):
                if self.cancelled:
                    return
                b = r.betas[j]
                for i, a in enumerate(r.alphas):
                    net.params[:] = plane.point(a, b)
                    try:
                        r.values[j, i] = objective(net, self._cfg, self._x, self._y, mask)
                    except (FloatingPointError, OverflowError):  # pragma: no cover
                        r.values[j, i] = math.inf
                r.rows_done = j + 1
                yield (j + 1, total)


def landscape(network: Network, config, x: np.ndarray, y: np.ndarray, plane: Plane,
              alphas: np.ndarray, betas: np.ndarray) -> Landscape:
    """The whole grid here and now (see ``LandscapeJob``)."""
    return LandscapeJob(network, config, x, y, plane, alphas, betas).run()


__all__ = ["Landscape", "LandscapeJob", "Plane", "extent_for", "filter_normalize",
           "grid_axis", "landscape", "make_plane"]
