"""Where everything goes: unit centres, edge segments, label places, font sizes.

The layout is computed in scene units equal to device pixels at zoom 1, for a given
area (normally the viewport), so font sizes are real pixel sizes on the screen. It is
recomputed only when the shape, the area or a size setting changes, never when the
numbers change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6 import QtGui

from ...engine import names
from . import style


@dataclass
class Layout:
    """Geometry of one network shape in one area. Arrays are indexed by node (unit,
    bias units included, layer by layer, bias first) or by edge (per layer, per target
    unit, bias weight first, then sources: the order of ``names.all_weights``)."""

    width: float
    height: float
    scale: float
    layers: tuple[int, ...]
    names: list[str]
    centers: np.ndarray          # (N, 2)
    node_layer: np.ndarray       # (N,)
    node_unit: np.ndarray        # (N,), -1 = bias
    node_bias: np.ndarray        # (N,) bool
    node_index: dict[tuple[int, int], int]
    radius: float
    edge_refs: np.ndarray        # (E, 3): layer, target, source (-1 = bias)
    edge_index: dict[tuple[int, int, int], int]
    segments: np.ndarray         # (E, 4) float64, C-contiguous: x1, y1, x2, y2
    widths: np.ndarray           # (LEVELS,) edge width per magnitude level
    antialias: bool
    name_px: float               # 0: names not drawn inside units (too small)
    outer_name_px: float         # >0: input/output names drawn beside the units
    value_px: float
    value_lines: int             # 0: no value boxes (off or no room)
    box_cols: int                # values side by side per box row
    line_h: float
    item_w: float
    item_sep: float
    box_pad: float
    values_wanted: bool          # value boxes were asked for (maybe no room)
    box_w: float
    box_h: float
    box_gap: float
    label_px: float
    label_pos: np.ndarray | None  # (E, 2) centres of weight labels, None: no labels
    label_w: float
    label_h: float
    caption_px: float
    note_px: float
    top_band: float
    bottom_band: float
    _d: np.ndarray = field(init=False, repr=False)     # segment directions
    _len2: np.ndarray = field(init=False, repr=False)  # their squared lengths

    def __post_init__(self) -> None:
        self._d = self.segments[:, 2:] - self.segments[:, :2]
        self._len2 = np.maximum((self._d ** 2).sum(axis=1), 1e-12)

    @property
    def n_edges(self) -> int:
        return len(self.segments)

    def box_rect(self, node: int) -> tuple[float, float, float, float]:
        """Value box under node ``node`` as (x, y, w, h)."""
        cx, cy = self.centers[node]
        return (cx - self.box_w / 2, cy + self.radius + self.box_gap, self.box_w, self.box_h)

    # -- hit testing (numpy; forgiving by ``tolerance`` scene units) -------------------
    def node_at(self, x: float, y: float, tolerance: float) -> int | None:
        """The unit under (x, y), or None."""
        if not len(self.centers):
            return None
        d2 = ((self.centers - (x, y)) ** 2).sum(axis=1)
        k = int(np.argmin(d2))
        return k if d2[k] <= (self.radius + tolerance) ** 2 else None

    def edge_at(self, x: float, y: float, tolerance: float,
                half_widths: np.ndarray | None = None) -> int | None:
        """The edge nearest (x, y) within ``tolerance`` (plus its half width), or None."""
        if not self.n_edges:
            return None
        p0 = self.segments[:, :2]
        rel = np.array([x, y]) - p0
        t = np.clip((rel * self._d).sum(axis=1) / self._len2, 0.0, 1.0)
        dist = np.hypot(rel[:, 0] - t * self._d[:, 0], rel[:, 1] - t * self._d[:, 1])
        limit = tolerance if half_widths is None else tolerance + half_widths
        dist = np.where(dist <= limit, dist, np.inf)
        k = int(np.argmin(dist))
        return k if np.isfinite(dist[k]) else None


def _text_width(px: float, text: str, bold: bool = False) -> float:
    return QtGui.QFontMetricsF(style.font(px, bold)).horizontalAdvance(text)


def compute_layout(layers: tuple[int, ...], width: float, height: float, scale: float = 1.0,
                   value_lines: int = 0) -> Layout:
    """Lay a network out left to right in a ``width`` x ``height`` area.

    Parameters
    ----------
    layers : tuple of int
        Units per layer (bias units not counted).
    width, height : float
        The area in pixels.
    scale : float
        Size of text and lines: 1.0 normal, about 1.5 for presentation.
    value_lines : int
        Lines of numbers to reserve under each unit (0 = no value boxes). Boxes are
        dropped when there is no room for them.

    Returns
    -------
    Layout
    """
    s = float(scale)
    width = max(float(width), 120.0)
    height = max(float(height), 90.0)
    n_layers = len(layers)
    last = n_layers - 1

    # -- nodes ----------------------------------------------------------------------
    node_layer, node_unit, node_names = [], [], []
    for l, n in enumerate(layers):
        units = ([-1] if l < last else []) + list(range(n))
        node_layer += [l] * len(units)
        node_unit += units
        node_names += [names.unit_name(layers, l, u) for u in units]
    node_layer_a = np.array(node_layer, dtype=np.int64)
    node_unit_a = np.array(node_unit, dtype=np.int64)
    node_index = {(l, u): k for k, (l, u) in enumerate(zip(node_layer, node_unit))}
    rows = [n + (1 if l < last else 0) for l, n in enumerate(layers)]

    caption_px = 18.0 * s
    note_px = 13.0 * s
    # Small networks in a big area get bigger units and text (up to 1.35x): easier to
    # read from the back of a lecture room.
    dense0 = (height - caption_px * 2.2 - note_px * 2.6) / max(rows)
    ts = s * float(np.clip(dense0 / 140.0, 1.0, 1.35))
    name_px = 16.0 * ts
    value_px = 13.0 * ts
    top_band = caption_px * 2.2
    bottom_band = note_px * 2.6
    avail_h = max(height - top_band - bottom_band, 20.0)
    dense = avail_h / max(rows)
    spacing = [min(avail_h / r, 1.5 * dense) for r in rows]

    line_h = value_px * 1.3
    pad = 3.0 * s
    box_gap = 3.0 * s
    item_w = _text_width(value_px, "\u03b4 = \u22120.0001234")
    item_sep = 10.0 * s

    def box_size(n_rows: int) -> tuple[int, float, float]:
        cols = -(-value_lines // n_rows)
        return cols, cols * item_w + (cols - 1) * item_sep + 4 * pad, n_rows * line_h + 2 * pad

    r_max = 30.0 * ts
    name_w = max(_text_width(name_px, nm, bold=True) for nm in node_names)
    r_for_names = name_w * 14.0 / 16.0 / 2 + 3 * s  # names may shrink to 14 px
    radius = r_max
    lines, box_cols, box_w, box_h = 0, 1, 0.0, 0.0
    # Stack the values in as many rows as fit under the units; else fewer, wider rows.
    for n_rows in range(value_lines, 0, -1):
        cols, bw, bh = box_size(n_rows)
        margin_x = max(18.0 * s + r_max, bw / 2 + 10 * s)
        col_gap = (width - 2 * margin_x) / max(last, 1)
        # 2.12 rather than 2: most of a highlight ring around the unit below fits.
        r = min(0.38 * dense, r_max, 0.2 * col_gap, (dense - bh - box_gap - 6 * s) / 2.12)
        if r >= min(r_for_names, 0.38 * dense) and bw < col_gap - 12 * s:
            lines, box_cols, box_w, box_h, radius = value_lines, cols, bw, bh, r
            break
    else:
        margin_x = 18.0 * s + r_max
        col_gap = (width - 2 * margin_x) / max(last, 1)
        radius = min(0.38 * dense, r_max, 0.2 * col_gap)
    x_left = margin_x
    radius = max(radius, 1.5)
    # Shrink the name font to fit the circle, but never below legibility.
    if 2 * radius < name_w + 8 * s:
        name_px = name_px * (2 * radius - 6 * s) / name_w
        if name_px < 12.0 * s:
            name_px = 0.0

    # Units too small for names inside: name the input and output units beside them.
    outer_px = 0.0
    if not name_px:
        outer_px = 13.0 * s if min(spacing[0], spacing[last]) >= 15.0 * s else 0.0

    group_h = 2 * radius + (box_gap + box_h if lines else 0.0)
    centers = np.empty((len(node_names), 2))
    xs = [x_left + l * col_gap if last else width / 2 for l in range(n_layers)]
    for k, (l, u) in enumerate(zip(node_layer, node_unit)):
        row = u + (1 if l < last else 0)
        sp = spacing[l]
        top = top_band + (avail_h - sp * rows[l]) / 2
        cell_top = top + row * sp
        centers[k] = (xs[l], cell_top + (sp - group_h) / 2 + radius)

    # -- edges ----------------------------------------------------------------------
    refs = []
    src, dst = [], []
    for l in range(last):
        m, n = layers[l], layers[l + 1]
        tgt = np.repeat(np.arange(n), m + 1)
        sources = np.tile(np.arange(-1, m), n)
        refs.append(np.column_stack([np.full(n * (m + 1), l), tgt, sources]))
        first_src = node_index[(l, -1)]
        first_dst = node_index[(l + 1, 0)]
        src.append(first_src + sources + 1)
        dst.append(first_dst + tgt)
    edge_refs = np.concatenate(refs).astype(np.int64) if refs else np.zeros((0, 3), np.int64)
    src_a = np.concatenate(src) if src else np.zeros(0, np.int64)
    dst_a = np.concatenate(dst) if dst else np.zeros(0, np.int64)
    segments = np.ascontiguousarray(
        np.column_stack([centers[src_a], centers[dst_a]]), dtype=np.float64)
    edge_index = {tuple(int(v) for v in r): k for k, r in enumerate(edge_refs)}
    n_edges = len(segments)

    many = n_edges > style.MANY_EDGES
    if many:
        w_min, w_max = 1.0, 2.0
    else:
        w_min = 1.0 * s
        w_max = float(np.clip(0.3 * radius, 2.0 * s, 8.0 * s))
    widths = w_min + (w_max - w_min) * (np.arange(style.LEVELS) + 1) / style.LEVELS

    # -- weight labels: greedy placement along each edge, avoiding units and boxes -----
    label_px = 13.0 * ts
    label_w = _text_width(label_px, "\u22120.0000") + 8 * ts
    label_h = label_px * 1.45
    label_pos = None
    if 0 < n_edges <= style.MAX_EDGE_LABELS:
        label_pos = _place_labels(segments, centers, radius, label_w, label_h,
                                  [(*_box(centers[k], radius, box_gap, box_w, box_h),)
                                   for k in range(len(centers))] if lines else [])

    return Layout(
        width=width, height=height, scale=s, layers=tuple(layers), names=node_names,
        centers=centers, node_layer=node_layer_a, node_unit=node_unit_a,
        node_bias=node_unit_a < 0, node_index=node_index, radius=radius,
        edge_refs=edge_refs, edge_index=edge_index, segments=segments, widths=widths,
        antialias=not many, name_px=name_px, outer_name_px=outer_px, value_px=value_px,
        value_lines=lines,
        box_cols=box_cols, line_h=line_h, item_w=item_w, item_sep=item_sep, box_pad=pad,
        values_wanted=value_lines > 0, box_w=box_w, box_h=box_h, box_gap=box_gap,
        label_px=label_px, label_pos=label_pos, label_w=label_w, label_h=label_h,
        caption_px=caption_px, note_px=note_px, top_band=top_band,
        bottom_band=bottom_band)


def _box(center: np.ndarray, radius: float, gap: float, w: float, h: float
         ) -> tuple[float, float, float, float]:
    return (center[0] - w / 2, center[1] + radius + gap, w, h)


_CANDIDATES = (0.3, 0.25, 0.36, 0.42, 0.2, 0.48, 0.55, 0.62, 0.7, 0.16, 0.76, 0.82)


def _place_labels(segments: np.ndarray, centers: np.ndarray, radius: float, w: float,
                  h: float, boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
    """Pick a point along every edge for its value label so labels overlap nothing."""
    m = 2.0
    obstacles = [(cx - radius - m, cy - radius - m, 2 * (radius + m), 2 * (radius + m))
                 for cx, cy in centers]
    obstacles += boxes
    obs = np.array(obstacles, dtype=np.float64).reshape(-1, 4)
    placed: list[tuple[float, float, float, float]] = []
    out = np.empty((len(segments), 2))
    # Greedy in edge order (per layer, per target): each label takes the first spot
    # along its edge that is free, else the least covered one.
    for k, (x1, y1, x2, y2) in enumerate(segments):
        best, best_cost = None, np.inf
        for t in _CANDIDATES:
            cx, cy = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
            rect = np.array([cx - w / 2, cy - h / 2, w, h])
            allr = obs if not placed else np.vstack([obs, np.array(placed)])
            ox = np.clip(np.minimum(rect[0] + rect[2], allr[:, 0] + allr[:, 2])
                         - np.maximum(rect[0], allr[:, 0]), 0, None)
            oy = np.clip(np.minimum(rect[1] + rect[3], allr[:, 1] + allr[:, 3])
                         - np.maximum(rect[1], allr[:, 1]), 0, None)
            cost = float((ox * oy).sum())
            if cost < best_cost - 1e-9:
                best, best_cost = (cx, cy), cost
            if cost == 0.0:
                break
        assert best is not None
        out[k] = best
        placed.append((best[0] - w / 2, best[1] - h / 2, w, h))
    return out
