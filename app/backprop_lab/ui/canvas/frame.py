"""Per-frame drawing state: from CanvasData numbers to draw-ready buckets and strings.

Nothing here computes anything about the network; it only sorts the given numbers
into colours, widths and text. Pens and brushes are built once per theme and layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtGui

from .data import CanvasData
from .layout import MEAN_MARK, SYMBOLS, Layout
from .style import LEVELS, Palette, format_fixed, luminance, mix

#: Unit fill tints per sign; fills are quantised to 2 * FILL_STEPS + 1 brushes.
FILL_STEPS = 12
N_BUCKETS = 4 * LEVELS  # dimmed/normal x level x sign


class Styler:
    """Pens and brushes of one theme at one layout's sizes."""

    def __init__(self, palette: Palette, layout: Layout, difference: bool = False):
        self.palette = palette
        pal = palette
        # edges (and their labels' borders) showing a difference: the difference pair
        pos_color, neg_color = ((pal.diff_positive, pal.diff_negative) if difference
                                else (pal.positive, pal.negative))
        s = layout.text_scale
        self.background = QtGui.QColor(pal.background)
        self.text = QtGui.QColor(pal.text)
        self.muted = QtGui.QColor(pal.muted_text)
        self.white_text = QtGui.QColor("#ffffff")
        self.edge_pens: list[QtGui.QPen] = []
        self.edge_colors: list[QtGui.QColor] = []
        for b in range(N_BUCKETS):
            normal, rest = divmod(b, 2 * LEVELS)
            level, negative = divmod(rest, 2)
            strength = pal.weakest + (1 - pal.weakest) * (level + 1) / LEVELS
            if not normal:
                strength *= pal.dimmed
            color = mix(neg_color if negative else pos_color, pal.background, strength)
            pen = QtGui.QPen(color, float(layout.widths[level]))
            pen.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
            self.edge_pens.append(pen)
            self.edge_colors.append(color)
        self.halo_color = QtGui.QColor(pal.highlight)
        self.hover_color = QtGui.QColor(pal.hover)
        self.label_pens = [QtGui.QPen(QtGui.QColor(pos_color), 1.5 * s),
                           QtGui.QPen(QtGui.QColor(neg_color), 1.5 * s)]
        self.plate_brush = QtGui.QBrush(QtGui.QColor(pal.plate))
        self.box_pen = QtGui.QPen(QtGui.QColor(mix(pal.outline, pal.background, 0.45)),
                                  max(1.0, round(s)))
        many_units = layout.radius < 8
        self.outline_pen = QtGui.QPen(QtGui.QColor(pal.outline),
                                      (0.8 if many_units else 1.6) * s)
        self.bias_pen = QtGui.QPen(QtGui.QColor(pal.outline), (0.8 if many_units else 1.6) * s)
        self.bias_pen.setStyle(QtCore.Qt.PenStyle.DashLine)
        self.bias_brush = QtGui.QBrush(QtGui.QColor(pal.bias_fill))
        self.ring_pen = QtGui.QPen(self.halo_color, max(4.0 * s, 0.25 * layout.radius))
        self.hover_ring_pen = QtGui.QPen(self.hover_color, max(3.0 * s, 0.2 * layout.radius))
        self.fill_brushes: list[QtGui.QBrush] = []
        self.fill_text: list[QtGui.QColor] = []
        # Names on unit fills: white on dark fills, dark on light ones, in every theme.
        dark_ink = self.text if luminance(self.text) < 0.3 else QtGui.QColor("#101010")

        def ink(fill: QtGui.QColor) -> QtGui.QColor:
            return self.white_text if luminance(fill) < 0.3 else dark_ink

        for q in range(-FILL_STEPS, FILL_STEPS + 1):
            base = pal.positive if q > 0 else pal.negative
            color = mix(base, pal.plate, abs(q) / FILL_STEPS * pal.unit_strength)
            self.fill_brushes.append(QtGui.QBrush(color))
            self.fill_text.append(ink(color))
        self.bias_text = ink(QtGui.QColor(pal.bias_fill))
        self.neutral_label_pen = QtGui.QPen(QtGui.QColor(mix(pal.outline, pal.background, 0.6)),
                                            1.2 * s)
        self.loss_pen = QtGui.QPen(QtGui.QColor(pal.outline), 1.6 * s)
        self.link_pen = QtGui.QPen(QtGui.QColor(mix(pal.outline, pal.background, 0.7)),
                                   max(1.5, 2.0 * s))
        self.link_pen.setStyle(QtCore.Qt.PenStyle.DashLine)


@dataclass
class EdgeFrame:
    """Edges in draw order, grouped into buckets of one pen each."""

    values: np.ndarray        # (E,) the quantity edges are coloured by, edge order
    level: np.ndarray         # (E,) magnitude level per edge
    bucket: np.ndarray        # (E,) pen bucket per edge
    negative: np.ndarray      # (E,) bool
    segments: np.ndarray      # (E, 4) contiguous, sorted by bucket
    runs: list[tuple[int, int, int]]   # (bucket, start, count), non-empty, in order
    halo: np.ndarray          # (H, 4) contiguous highlighted segments, sorted by level
    halo_runs: list[tuple[int, int, int]]  # (level, start, count)
    largest: float            # largest |value|, the width reference


@dataclass
class UnitFrame:
    """Unit fills, highlights and value texts."""

    fill: np.ndarray          # (N,) brush index per node
    highlighted: list[int]    # node indices
    boxes: list[list[str]] | None   # per node, lines of its value box (None: no boxes)
    loss_lines: list[str] | None = None  # target rows then the L row (None: no loss node)


def edge_values(data: CanvasData, by_gradient: bool) -> np.ndarray:
    """Weights (or their gradients) in edge order: per layer, per target, bias first;
    the data's ``edge_override`` instead when it has one."""
    if data.edge_override is not None:
        ws, bs = data.edge_override.weights, data.edge_override.biases
    else:
        ws = data.grad_weights if by_gradient else data.weights
        bs = data.grad_biases if by_gradient else data.biases
    assert ws is not None and bs is not None
    parts = [np.concatenate([np.asarray(b, dtype=np.float64)[:, None],
                             np.asarray(w, dtype=np.float64)], axis=1).ravel()
             for w, b in zip(ws, bs)]
    return np.concatenate(parts)


def make_edge_frame(layout: Layout, data: CanvasData, by_gradient: bool) -> EdgeFrame:
    """Sort every edge into its pen bucket for one set of numbers."""
    values = edge_values(data, by_gradient)
    mags = np.abs(values)
    finite = np.isfinite(mags)
    largest = float(mags[finite].max()) if finite.any() else 0.0
    if largest > 0:
        level = np.minimum((np.where(finite, mags, largest) / largest * LEVELS).astype(np.int64),
                           LEVELS - 1)
    else:
        level = np.zeros(len(values), dtype=np.int64)
    negative = values < 0
    normal = np.ones(len(values), dtype=bool)
    highlighted = np.zeros(0, dtype=np.int64)
    if data.highlight_weights:
        idx = [layout.edge_index.get(tuple(r)) for r in data.highlight_weights]
        highlighted = np.array(sorted(i for i in idx if i is not None), dtype=np.int64)
        if len(highlighted):
            normal[:] = False
            normal[highlighted] = True
    bucket = normal.astype(np.int64) * (2 * LEVELS) + level * 2 + negative
    order = np.argsort(bucket, kind="stable")
    segments = np.ascontiguousarray(layout.segments[order])
    counts = np.bincount(bucket, minlength=N_BUCKETS)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    runs = [(b, int(starts[b]), int(counts[b])) for b in range(N_BUCKETS) if counts[b]]
    halo_runs: list[tuple[int, int, int]] = []
    halo = np.zeros((0, 4))
    if len(highlighted):
        h_order = highlighted[np.argsort(level[highlighted], kind="stable")]
        halo = np.ascontiguousarray(layout.segments[h_order])
        h_levels = level[h_order]
        h_counts = np.bincount(h_levels, minlength=LEVELS)
        h_starts = np.concatenate([[0], np.cumsum(h_counts)[:-1]])
        halo_runs = [(lv, int(h_starts[lv]), int(h_counts[lv]))
                     for lv in range(LEVELS) if h_counts[lv]]
    return EdgeFrame(values=values, level=level, bucket=bucket, negative=negative,
                     segments=segments,
                     runs=runs, halo=halo, halo_runs=halo_runs, largest=largest)


def make_unit_frame(layout: Layout, data: CanvasData, show_values: bool,
                    show_deltas: bool) -> UnitFrame:
    """Fill index, highlights and value texts of every unit."""
    n_nodes = len(layout.centers)
    fill = np.full(n_nodes, FILL_STEPS, dtype=np.int64)
    if data.z is not None:
        for l, z in enumerate(data.z):
            zl = np.asarray(z, dtype=np.float64)
            finite = zl[np.isfinite(zl)]
            top = max(1.0, float(np.abs(finite).max())) if len(finite) else 1.0
            q = np.rint(np.clip(np.nan_to_num(zl) / top, -1, 1) * FILL_STEPS).astype(np.int64)
            first = layout.node_index[(l, 0)]
            fill[first:first + len(zl)] = q + FILL_STEPS
    highlighted = sorted(k for k in (layout.node_index.get(tuple(u))
                                     for u in data.highlight_units) if k is not None)
    boxes = None
    want_values = show_values and (data.z is not None or data.a is not None)
    want_deltas = show_deltas and data.deltas is not None
    d = layout.decimals
    delta = SYMBOLS["d"] + (MEAN_MARK if data.values_are_means else "")
    if layout.value_lines and (want_values or want_deltas):
        kinds = layout.values
        boxes = []
        for l, u in zip(layout.node_layer.tolist(), layout.node_unit.tolist()):
            lines: list[str] = []
            if u >= 0 and layout.node_lines(len(boxes)):  # bias units: no box, always 1
                if want_values and "a" in kinds and l > 0 and data.a is not None:
                    lines.append(f"a = {format_fixed(data.a[l - 1][u], d)}")
                if want_values and "z" in kinds and data.z is not None:
                    lines.append(f"z = {format_fixed(data.z[l][u], d)}")
                if want_deltas and "d" in kinds and l > 0:
                    assert data.deltas is not None
                    lines.append(f"{delta} = {format_fixed(data.deltas[l - 1][u], d)}")
            boxes.append(lines)
    loss_lines = None
    if layout.loss is not None:
        loss_lines = []
        if data.target is not None and len(layout.loss.rows_y):
            loss_lines = [f"y = {format_fixed(v, 3)}" for v in np.asarray(data.target).tolist()]
        value = np.nan if data.loss is None else data.loss
        loss_lines.append(f"L = {format_fixed(value, 3)}")
    return UnitFrame(fill=fill, highlighted=highlighted, boxes=boxes, loss_lines=loss_lines)
