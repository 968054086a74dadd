"""Where weight labels go: a spot along each edge that overlaps nothing.

Every labelled edge offers candidate centres along its line (``CANDIDATES``, fractions
of the way from source to target, the preferred ones first). A candidate is free when
its rectangle stays inside the drawing area and clear of every unit circle, every value
box, the loss node and every label placed before it. Edges are placed greedily: by
priority (highlighted weights first), and within a priority the edge with the fewest
free candidates first. Among its free candidates an edge takes the one that the fewest
other labelled edges cross (so a label sits unmistakably on its own line; more than
``MAX_CROSSINGS`` make a spot unusable), then the preferred one. An edge with no free
candidate gets no label: the view says so in a note.

All geometry tests are numpy array operations over candidates x obstacles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Candidate label centres along an edge, as fractions from source to target,
#: the preferred first: near the source the edges of one unit fan out apart.
_GRID = np.arange(0.1, 0.905, 0.025)
CANDIDATES = _GRID[np.argsort(np.abs(_GRID - 0.3) + 0.4 * (_GRID > 0.3) * (_GRID - 0.3),
                              kind="stable")]
#: Above this many labelled edges, crossings are not counted (too costly).
MAX_CROSSING_EDGES = 2000
#: Clearance (scene px) kept around units and between labels.
CLEARANCE = 2.0
#: A spot that more other edges cross is ambiguous (whose label is it?): not used.
MAX_CROSSINGS = 3


@dataclass
class Placement:
    """Label centres for the edges that wanted one."""

    centers: np.ndarray   # (E, 2), NaN for edges without a label
    widths: np.ndarray    # (E,) reserved label widths
    height: float
    wanted: np.ndarray    # (E,) bool: a label was asked for
    placed: np.ndarray    # (E,) bool: and found a place

    @property
    def dropped(self) -> int:
        """How many wanted labels found no place."""
        return int((self.wanted & ~self.placed).sum())

    def rects(self) -> np.ndarray:
        """(E, 4) reserved rectangles x, y, w, h (NaN rows for edges without a label)."""
        out = np.full((len(self.widths), 4), np.nan)
        ok = self.placed
        out[ok, 0] = self.centers[ok, 0] - self.widths[ok] / 2
        out[ok, 1] = self.centers[ok, 1] - self.height / 2
        out[ok, 2] = self.widths[ok]
        out[ok, 3] = self.height
        return out


def rect_overlaps(a: np.ndarray, b: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Pairwise overlap of rectangles ``a`` (..., 4) and ``b`` (M, 4) as x, y, w, h.

    Returns a bool array of shape ``a.shape[:-1] + (M,)``; touching edges and ``margin``
    closer count as overlap. NaN rectangles overlap nothing.
    """
    a = np.asarray(a, dtype=np.float64)[..., None, :]
    b = np.asarray(b, dtype=np.float64)
    ox = np.minimum(a[..., 0] + a[..., 2], b[:, 0] + b[:, 2]) - np.maximum(a[..., 0], b[:, 0])
    oy = np.minimum(a[..., 1] + a[..., 3], b[:, 1] + b[:, 3]) - np.maximum(a[..., 1], b[:, 1])
    return (ox > -margin) & (oy > -margin)


def rect_circle_overlaps(rects: np.ndarray, centers: np.ndarray, radius: float
                         ) -> np.ndarray:
    """Pairwise overlap of rectangles (..., 4) with circles of one radius at (N, 2)."""
    r = np.asarray(rects, dtype=np.float64)[..., None, :]
    hw, hh = r[..., 2] / 2, r[..., 3] / 2
    dx = np.maximum(np.abs(r[..., 0] + hw - centers[:, 0]) - hw, 0.0)
    dy = np.maximum(np.abs(r[..., 1] + hh - centers[:, 1]) - hh, 0.0)
    return dx * dx + dy * dy < radius * radius


def _crossings(rects: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Which segments pass through which rectangles: (R, 4) x (E, 4) -> (R, E) bool."""
    p0 = segments[:, :2]
    d = segments[:, 2:] - p0
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d  # inf for a segment parallel to an axis
        lo = np.zeros((len(rects), len(segments)))
        hi = np.ones_like(lo)
        for axis in (0, 1):
            a0 = rects[:, axis, None]
            t1 = (a0 - p0[:, axis]) * inv[:, axis]
            t2 = (a0 + rects[:, 2 + axis, None] - p0[:, axis]) * inv[:, axis]
            # fmin/fmax skip the NaN of 0 * inf (a segment lying on the rectangle's side).
            np.fmax(lo, np.fmin(t1, t2), out=lo)
            np.fmin(hi, np.fmax(t1, t2), out=hi)
    return lo <= hi


def place_labels(segments: np.ndarray, wanted: np.ndarray, widths: np.ndarray, height: float,
                 circles: np.ndarray, radius: float, rects: np.ndarray,
                 bounds: tuple[float, float, float, float],
                 priority: np.ndarray | None = None) -> Placement:
    """Place one label on each wanted edge, overlapping nothing, or leave it out.

    Parameters
    ----------
    segments : ndarray (E, 4)
        Edges as x1, y1, x2, y2 (source to target).
    wanted : ndarray (E,) of bool
        Edges that want a label.
    widths : ndarray (E,)
        Label width per edge (the widest text it may show, padded).
    height : float
        Label height.
    circles : ndarray (N, 2)
        Unit centres; every unit is a circle of ``radius``.
    radius : float
        Unit radius.
    rects : ndarray (M, 4)
        Other obstacles (value boxes, the loss node) as x, y, w, h; NaN rows ignored.
    bounds : (x0, y0, x1, y1)
        Labels stay inside this rectangle.
    priority : ndarray (E,) of int, optional
        Lower goes first (e.g. 0 for highlighted weights, 1 for the rest).

    Returns
    -------
    Placement
    """
    segments = np.asarray(segments, dtype=np.float64)
    n_edges = len(segments)
    wanted = np.asarray(wanted, dtype=bool)
    widths = np.asarray(widths, dtype=np.float64)
    centers_out = np.full((n_edges, 2), np.nan)
    placed = np.zeros(n_edges, dtype=bool)
    sel = np.flatnonzero(wanted)
    if not len(sel):
        return Placement(centers_out, widths, height, wanted, placed)

    # Candidate rectangles (S, C, 4).
    seg = segments[sel]
    t = CANDIDATES[None, :, None]
    pos = seg[:, None, :2] + t * (seg[:, None, 2:] - seg[:, None, :2])
    w = widths[sel][:, None]
    cand = np.empty(pos.shape[:2] + (4,))
    cand[..., 0] = pos[..., 0] - w / 2
    cand[..., 1] = pos[..., 1] - height / 2
    cand[..., 2] = w
    cand[..., 3] = height

    x0, y0, x1, y1 = bounds
    free = ((cand[..., 0] >= x0) & (cand[..., 1] >= y0)
            & (cand[..., 0] + cand[..., 2] <= x1) & (cand[..., 1] + cand[..., 3] <= y1))
    if len(circles):
        free &= ~rect_circle_overlaps(cand, np.asarray(circles, dtype=np.float64),
                                      radius + CLEARANCE).any(axis=-1)
    obstacles = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    obstacles = obstacles[np.isfinite(obstacles).all(axis=1)]
    if len(obstacles):
        free &= ~rect_overlaps(cand, obstacles, CLEARANCE).any(axis=-1)

    # Cost of each candidate: other edges crossing it first, then the preference order.
    rank = np.broadcast_to(np.arange(len(CANDIDATES), dtype=np.float64), free.shape)
    if len(sel) <= MAX_CROSSING_EDGES:
        # Only labelled edges count: when a few highlighted edges are labelled, the
        # others are drawn dimmed and do not make a label ambiguous.
        n_cross = np.zeros(free.shape, dtype=np.int64)
        si, ci = np.nonzero(free)  # only spots free of units and boxes
        if len(si):
            cross = _crossings(cand[si, ci], segments[sel])
            cross[np.arange(len(si)), si] = False  # its own edge
            n_cross[si, ci] = cross.sum(axis=1)
        free &= n_cross <= MAX_CROSSINGS
        cost = n_cross * len(CANDIDATES) + rank
    else:
        cost = rank.copy()

    prio = np.zeros(n_edges, dtype=np.int64) if priority is None else np.asarray(priority)
    order = np.lexsort((sel, free.sum(axis=1), prio[sel]))  # most constrained first
    placed_rects = np.empty((len(sel), 4))
    n_placed = 0
    for i in order:
        ok = free[i].copy()
        if not ok.any():
            continue
        if n_placed:
            ok &= ~rect_overlaps(cand[i], placed_rects[:n_placed], CLEARANCE).any(axis=-1)
            if not ok.any():
                continue
        c = int(np.argmin(np.where(ok, cost[i], np.inf)))
        placed_rects[n_placed] = cand[i, c]
        n_placed += 1
        k = sel[i]
        centers_out[k] = pos[i, c]
        placed[k] = True
    return Placement(centers_out, widths, height, wanted, placed)
