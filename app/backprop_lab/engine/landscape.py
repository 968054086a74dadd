"""A 2-D slice of the loss surface through two weight vectors, and paths projected on it.

The plane goes through the initial weights and an end point (the current weights of the
main run, or a compared run's final weights): ``origin`` is the end point, and

- ``d1`` is the step from the initial weights to the end point itself, so the initial
  weights lie exactly at ``(alpha, beta) = (-1, 0)`` and the end point at ``(0, 0)``:
  a run's start and end are on the plane, not projections. If the weights have not
  moved (epoch 0), a random filter-normalised direction instead
  (``Plane.along_path`` False).
- ``d2`` is a random Gaussian direction (``seed``) with filter normalisation as in
  Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets": made orthogonal to
  ``d1`` neuron by neuron, then each neuron's part scaled to the norm of the same
  neuron's part of the end point. In a fully connected network a filter is a neuron; a
  neuron's part is its incoming weights *and its bias weight* (in this app the bias is
  the weight from the bias unit, a row of the same matrix). Orthogonal neuron by
  neuron, the axes are orthogonal too.

Li et al. filter-normalise random directions so that plots of different networks have
comparable scales; an interpolation direction (Goodfellow et al. 2015) is the raw step.
Filter-normalising ``d1`` as well would scale each neuron's step differently and leave
the initial weights off the plane (by 34-39% of their distance on xor-tanh and the
spiral after 300 epochs), so the drawn start would only be a projection.

A neuron whose end-point weights are all zero gets no part in ``d2``.

The loss at ``(alpha, beta)`` is ``update.objective`` (the one place the loss is composed:
mean data loss plus penalty) at ``origin + alpha * d1 + beta * d2`` on the training
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

    def distance(self, params: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """How far each weight vector lies from the plane, as a fraction of ``|d1|`` (the
        distance from the initial weights to the origin when ``along_path``): 0 on the
        plane. Unlike ``project``'s fraction it does not grow near the origin."""
        x = np.atleast_2d(np.asarray(params, dtype=np.float64))
        coords, _ = self.project(x)
        rest = x - self.origin - np.outer(coords[:, 0], self.d1) - \
            np.outer(coords[:, 1], self.d2)
        span = float(np.linalg.norm(self.d1))
        return np.linalg.norm(rest, axis=1) / span if span > 0 else \
            np.zeros(len(x))


def make_plane(network: Network, current: np.ndarray, initial: np.ndarray | None,
               seed: int = 0) -> Plane:
    """The plane through ``initial`` and ``current`` (the origin): ``d1 = current -
    initial`` (random if the two are equal or ``initial`` is None), ``d2`` random,
    orthogonal and filter-normalised (see the module's docstring). The same ``seed``
    gives the same plane."""
    cur = np.array(current, dtype=np.float64)
    rng = np.random.default_rng(seed)
    along = initial is not None and np.any(cur != np.asarray(initial))
    if along:
        d1 = cur - np.asarray(initial, dtype=np.float64)
    else:
        d1 = filter_normalize(rng.standard_normal(cur.size), cur, network)
        if not np.any(d1):  # every neuron has zero weights: one length for all
            d1 = rng.standard_normal(cur.size)
    raw2 = rng.standard_normal(cur.size)
    d2 = filter_normalize(_orthogonal_per_neuron(raw2, d1, network), cur, network)
    if not np.any(d2):  # all-zero weights: an orthogonal direction as long as d1
        d2 = raw2 - (raw2 @ d1) / (d1 @ d1) * d1
        d2 *= np.linalg.norm(d1) / np.linalg.norm(d2)
    return Plane(cur, d1, d2, bool(along))


def grid_axis(extent: float, points: int = DEFAULT_POINTS) -> np.ndarray:
    """``points`` evenly spaced values from ``-extent`` to ``extent`` (0 among them when
    ``points`` is odd)."""
    return np.linspace(-extent, extent, int(points))


def extent_for(plane: Plane, paths: Sequence[np.ndarray] = (), margin: float = 0.15,
               least: float = 1.0, most: float = 4.0) -> float:
    """A grid half-width that shows every path's projection with a margin: at least
    ``least`` (one neuron length along ``d2``; along ``d1`` the whole way from the
    initial weights), at most ``most`` (a run that diverged would otherwise shrink the
    rest to a dot; states that are not finite are left out)."""
    far = least
    for p in paths:
        if len(p):
            coords, _ = plane.project(p)
            coords = coords[np.isfinite(coords).all(axis=1)]
            if len(coords):
                far = max(far, float(np.abs(coords).max()) * (1 + margin))
    return min(far, max(least, most))


def extents_for(plane: Plane, paths: Sequence[np.ndarray] = (), margin: float = 0.15,
                least: tuple[float, float] = (1.0, 0.5), most: float = 4.0
                ) -> tuple[float, float]:
    """Half-widths of the grid along ``d1`` and ``d2`` that show every path's projection
    with a margin, each at least ``least`` (along ``d1`` the whole way from the initial
    weights; along ``d2`` half a neuron length) and at most ``most``; states that are not
    finite are left out. Separate extents let paths that stay near the first axis fill
    the plot instead of a thin strip of it."""
    far = [float(least[0]), float(least[1])]
    for p in paths:
        if len(p):
            coords, _ = plane.project(p)
            coords = coords[np.isfinite(coords).all(axis=1)]
            if len(coords):
                for k in (0, 1):
                    far[k] = max(far[k], float(np.abs(coords[:, k]).max()) * (1 + margin))
    return min(far[0], max(least[0], most)), min(far[1], max(least[1], most))


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
           "extents_for", "grid_axis", "landscape", "make_plane"]
