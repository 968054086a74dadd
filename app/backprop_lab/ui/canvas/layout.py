"""Where everything goes: unit centres, edge segments, value boxes, the loss node, sizes.

The layout is computed in scene units equal to device-independent pixels at zoom 1, for
a given area (normally the viewport), so font sizes are real pixel sizes on the screen.
Text grows with the area (a canvas filling a 1920x1080 screen writes bigger numbers
than one in a 1280x720 window) and with the user's scale (presentation mode); it
shrinks, down to a floor, when that is what it takes to keep every unit's values on
screen. The layout is recomputed only when the shape, the area or a size setting
changes, never when the numbers change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...engine import names
from . import style
from .labels import Placement, place_labels

#: Canvas size (px) at which text has its base size: the canvas of a 1280x720 window.
REF_SIZE = (860.0, 480.0)
#: Text grows with the canvas by at most this factor (times the user's scale).
MAX_GROW = 2.6
#: Text may shrink to this fraction of the user's scale to keep unit values on screen
#: (nets with at most MAX_EDGE_LABELS edges; bigger ones not below the user's scale),
MIN_SHRINK = 0.8
#: and by this factor more (below the size the value boxes allow) to find room for every
#: weight label; text that the value boxes allow at PROJECTOR_PX or more (numbers a
#: room can read) shrinks down to PROJECTOR_PX instead. Labels that still find no room
#: are left out.
LABEL_SHRINK = 0.88
PROJECTOR_PX = 24.0
#: Base pixel sizes at text scale 1.
NAME_PX, VALUE_PX, LABEL_PX, CAPTION_PX, NOTE_PX = 16.0, 14.0, 14.0, 18.0, 13.0
#: The quantities a value box can hold, in order, and their symbols.
VALUE_KINDS = ("a", "z", "d")
SYMBOLS = {"a": "a", "z": "z", "d": "\u03b4"}
#: Combining macron: "δ̄" marks a mean over the samples of a batch.
MEAN_MARK = "\u0304"
#: Target rows written in the loss node (more outputs: the node shows only L).
MAX_TARGET_ROWS = 6
#: Widest share of the canvas the loss node (with its link) may take.
LOSS_SHARE = 0.3


@dataclass(frozen=True)
class LabelSpec:
    """What weight labels say: values, names (W10) or both; gradients instead of values."""

    values: bool = True
    names: bool = False
    gradient: bool = False
    #: the values are differences (``EdgeOverride``): ``ΔW10 = 0.3``
    difference: bool = False

    @property
    def any(self) -> bool:
        return self.values or self.names

    def text(self, name: str | None, value: str) -> str:
        """The label of one edge, e.g. ``0.6``, ``W10``, ``W10 = 0.6``, ``∂L/∂W10 = 4``."""
        if name is None or not self.names:
            return value
        if not self.values:
            return name
        if self.difference:
            return f"\u0394{name} = {value}"
        return f"\u2202L/\u2202{name} = {value}" if self.gradient else f"{name} = {value}"


@dataclass
class LossGeometry:
    """The target/loss node right of the output layer."""

    rect: tuple[float, float, float, float]  # x, y, w, h
    pad: float
    head_px: float           # the loss label (muted, up to two lines)
    head_h: float
    px: float                # target rows
    line_h: float
    big_px: float            # the L row (bold)
    rows_y: np.ndarray       # (n_targets,) centre y of every target row
    l_y: float               # centre y of the L row
    anchors: np.ndarray      # (n_outputs, 2) where each output's link ends


@dataclass
class Layout:
    """Geometry of one network shape in one area. Arrays are indexed by node (unit,
    bias units included, layer by layer, bias first) or by edge (per layer, per target
    unit, bias weight first, then sources: the order of ``names.all_weights``)."""

    width: float
    height: float
    scale: float                 # the user's scale (1 normal, 1.5 presenting)
    text_scale: float            # what text is drawn at: scale x room, after fitting
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
    values: tuple[str, ...]      # kinds reserved in value boxes ("a", "z", "d")
    value_lines: int             # 0: no value boxes (off or no room)
    box_style: str               # "left" (beside the unit), "below", "" (none)
    box_cols: int                # values side by side per box row ("below" only)
    line_h: float
    item_w: float
    item_sep: float
    box_pad: float
    values_wanted: bool          # value boxes were asked for (maybe no room)
    box_w: float
    box_h: float
    box_gap: float
    boxes: np.ndarray            # (N, 4) reserved box rect per node; NaN: none
    decimals: int                # decimals of numbers in boxes and on edges
    label_px: float
    label_h: float
    label_pad: float
    caption_px: float
    note_px: float
    top_band: float
    bottom_band: float
    loss: LossGeometry | None
    label_spec: LabelSpec | None = None
    edge_names: list[str] | None = None     # weight names, when labels show them
    placement: Placement | None = None       # labels of all edges (small nets), no priority
    loss_dropped: bool = False               # a loss node was asked for; no room for it
    _d: np.ndarray = field(init=False, repr=False)     # segment directions
    _len2: np.ndarray = field(init=False, repr=False)  # their squared lengths

    def __post_init__(self) -> None:
        self._d = self.segments[:, 2:] - self.segments[:, :2]
        self._len2 = np.maximum((self._d ** 2).sum(axis=1), 1e-12)

    @property
    def n_edges(self) -> int:
        return len(self.segments)

    def box_rect(self, node: int) -> tuple[float, float, float, float]:
        """Reserved value box of node ``node`` as (x, y, w, h) (NaN when it has none)."""
        x, y, w, h = self.boxes[node]
        return (float(x), float(y), float(w), float(h))

    def drawn_box(self, node: int, n_lines: int) -> tuple[float, float, float, float, int]:
        """Value box of ``node`` holding ``n_lines`` lines: (x, y, w, h, columns).

        Beside the unit (style "left", not the input layer) the box is centred on the
        unit; below it, it hangs from the reserved box's top, columns side by side.
        """
        x, y, w, h = self.box_rect(node)
        cx, cy = (float(v) for v in self.centers[node])
        if self.box_style == "left" and self.node_layer[node] > 0:
            h = n_lines * self.line_h + 2 * self.box_pad
            return x, cy - h / 2, w, h, 1
        cols = self.box_cols if self.box_style == "below" else 1
        n_rows = -(-n_lines // cols)
        n_cols = min(cols, n_lines)
        w = n_cols * self.item_w + (n_cols - 1) * self.item_sep + 4 * self.box_pad
        return cx - w / 2, y, w, n_rows * self.line_h + 2 * self.box_pad, cols

    def node_lines(self, node: int) -> int:
        """Value lines reserved for a node (bias and input units: z only)."""
        return _node_lines(self.values, int(self.node_layer[node]), bool(self.node_bias[node]))

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


def _node_lines(values: tuple[str, ...], layer: int, bias: bool) -> int:
    # Bias units hold no box: they are always 1 (the legend and their tooltip say so).
    if bias:
        return 0
    if layer == 0:
        return 1 if "z" in values else 0
    return len(values)


def value_item_width(px: float, decimals: int) -> float:
    """Width of the widest value line, ``δ̄ = −0.000``, at ``px`` (tight font)."""
    return max(style.text_width(px, f"\u03b4{MEAN_MARK} = {v}", tight=True)
               for v in style.fixed_width_samples(decimals))


@dataclass
class _Fit:
    """One candidate arrangement at one text scale."""

    ts: float
    style: str
    decimals: int
    radius: float
    margin_l: float
    col_gap: float
    lines: int = 0
    cols: int = 1
    box_w: float = 0.0
    box_h: float = 0.0
    item_w: float = 0.0


def compute_layout(layers: tuple[int, ...], width: float, height: float, scale: float = 1.0,
                   values: tuple[str, ...] = (), n_targets: int | None = None,
                   labels: LabelSpec | None = None, loss_label: str = "",
                   label_values: np.ndarray | None = None) -> Layout:
    """Lay a network out left to right in a ``width`` x ``height`` area.

    Parameters
    ----------
    layers : tuple of int
        Units per layer (bias units not counted).
    width, height : float
        The area in pixels.
    scale : float
        Size of text and lines: 1.0 normal, about 1.5 for presentation. Text also grows
        with the area (``REF_SIZE`` is scale 1) and shrinks, not below ``MIN_SHRINK``
        times ``scale``, to keep value boxes on screen.
    values : tuple of str
        The quantities to reserve value boxes for, a subset of ``("a", "z", "d")``
        (empty: none). Boxes are dropped when there is no room for them.
    n_targets : int, optional
        Lay out a target/loss node right of the output layer (``n_targets`` = number of
        outputs); None: no loss node.
    loss_label : str
        The loss node's heading; the node is made wide enough for it on one line, up
        to twice its numbers' width (then it wraps to two lines).
    labels : LabelSpec, optional
        Weight labels to place on every edge (nets with at most ``MAX_EDGE_LABELS``
        edges). Text then shrinks (not below ``LABEL_SHRINK`` times ``scale``) until
        every label finds a place (see ``LABEL_SHRINK``); the result is
        ``Layout.placement``.
    label_values : ndarray (E,), optional
        The numbers the labels show now (edge order): labels are sized for them. None:
        sized for the widest number they could show.

    Returns
    -------
    Layout
    """
    s = float(scale)
    width = max(float(width), 120.0)
    height = max(float(height), 90.0)
    values = tuple(k for k in VALUE_KINDS if k in values)
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
    # The longest names, to size the units (measuring all of a big net's is wasteful).
    long_names = sorted(set(node_names), key=len)[-4:]

    grow = float(np.clip(min(width / REF_SIZE[0], height / REF_SIZE[1]), 1.0, MAX_GROW))
    target_ts = s * grow
    if n_targets is not None:
        # The loss node may take at most LOSS_SHARE of the width; else the network
        # keeps the room and the loss node is left out (the view says so).
        loss_w = max(style.text_width(VALUE_PX * target_ts * 1.15, "L = 8.888", bold=True,
                                      tight=True), style.text_width(
            NOTE_PX * target_ts, loss_label or "loss") / 2)
        if loss_w + 72 * target_ts > LOSS_SHARE * width:
            lay = compute_layout(layers, width, height, scale, values, None, labels, "",
                                 label_values)
            lay.loss_dropped = True
            return lay

    def bands(ts: float) -> tuple[float, float, float]:
        top, bottom = CAPTION_PX * ts * 1.9, NOTE_PX * ts * 2.4
        return top, bottom, max(height - top - bottom, 20.0)

    def loss_size(ts: float) -> tuple[float, float, int]:
        """Node width, link length and lines of the heading."""
        if n_targets is None:
            return 0.0, 0.0, 0
        px = VALUE_PX * ts
        w = max(style.text_width(px, f"y = {v}", tight=True)
                for v in style.fixed_width_samples(3))
        # A loss is never negative: no room for a minus sign.
        w = max(w, max(style.text_width(px * 1.15, f"L = {v.lstrip(chr(0x2212))}",
                                        bold=True, tight=True)
                       for v in style.fixed_width_samples(3)))
        head = style.text_width(NOTE_PX * ts, loss_label or "loss") + 4 * ts
        return max(w, min(head, 2 * w)) + 12 * ts, 30 * ts, 1 if head <= 2 * w else 2

    def attempt(ts: float, box_style: str, decimals: int) -> _Fit | None:
        _, _, avail_h = bands(ts)
        dense = avail_h / max(rows)
        r_max = 30.0 * ts
        name_w = max(style.text_width(NAME_PX * ts, nm, bold=True) for nm in long_names)
        r_names = name_w * 13.0 / 16.0 / 2 + 3 * ts  # names may shrink to 13/16
        loss_w, link, _ = loss_size(ts)

        def right_margin(r: float, half_box: float = 0.0) -> float:
            if n_targets is None:
                return max(18.0 * ts + r_max, half_box + 10 * ts)
            return max(r + link, half_box + 8 * ts) + loss_w + 10 * ts

        if box_style == "":
            margin_l = 18.0 * ts + r_max
            col_gap = (width - margin_l - right_margin(r_max)) / max(last, 1)
            r = min(0.38 * dense, r_max, 0.2 * col_gap)
            return _Fit(ts, "", decimals, r, margin_l, col_gap)
        pad = 3.0 * ts
        line_h = VALUE_PX * ts * 1.22
        item_w = value_item_width(VALUE_PX * ts, decimals)
        n = len(values)
        gap = 4.0 * ts
        in_spacing = min(avail_h / rows[0], 1.5 * dense)
        if box_style == "left":
            # Boxes left of hidden and output units; the inputs' one-line boxes below.
            box_w, box_h = item_w + 4 * pad, n * line_h + 2 * pad
            if box_h > dense - 5 * ts:
                return None
            r = min(0.4 * dense, r_max)
            in_box_h = (line_h + 2 * pad) if "z" in values else 0.0
            r = min(r, (in_spacing - in_box_h - gap - 6 * ts) / 2.12)
            margin_l = max(18.0 * ts + r_max, box_w / 2 + 10 * ts)
            col_gap = (width - margin_l - right_margin(r)) / max(last, 1)
            # Edges keep room for a column of weight labels between a unit and the box
            # of the next layer's unit.
            r = min(r, (col_gap - box_w - gap - 3.2 * LABEL_PX * ts) / 2)
            if r < min(r_names, 0.4 * dense):
                return None
            return _Fit(ts, "left", decimals, r, margin_l, col_gap, n, 1, box_w, box_h,
                        item_w)
        # "below": stack the values in as many rows as fit; else fewer, wider rows.
        for n_rows in range(n, 0, -1):
            cols = -(-n // n_rows)
            bw = cols * item_w + (cols - 1) * 10 * ts + 4 * pad
            bh = n_rows * line_h + 2 * pad
            margin_l = max(18.0 * ts + r_max, bw / 2 + 10 * ts)
            col_gap = (width - margin_l - right_margin(r_max, bw / 2)) / max(last, 1)
            # 2.12 rather than 2: most of a highlight ring around the unit below fits.
            r = min(0.38 * dense, r_max, 0.2 * col_gap, (dense - bh - gap - 6 * ts) / 2.12)
            if r >= min(r_names, 0.38 * dense) and bw < col_gap - 12 * ts:
                return _Fit(ts, "below", decimals, r, margin_l, col_gap, n_rows, cols, bw, bh,
                            item_w)
        return None

    # Text sizes to try, largest first: values must fit (down to MIN_SHRINK), labels
    # should (down to LABEL_SHRINK).
    # Small nets (their numbers are the lesson) may shrink text to keep values on
    # screen; bigger ones not below the user's scale: their values go to hover.
    n_edges = sum((m + 1) * n for m, n in zip(layers[:-1], layers[1:]))
    lowest = MIN_SHRINK * s if n_edges <= style.MAX_EDGE_LABELS else s
    steps = [target_ts]
    while steps[-1] * 0.94 >= lowest - 1e-9:
        steps.append(steps[-1] * 0.94)

    def geometric(ts: float, decimals: int) -> _Fit | None:
        if not values:
            return attempt(ts, "", decimals)
        for box_style in ("left", "below"):
            fit = attempt(ts, box_style, decimals)
            if fit is not None:
                return fit
        return None

    def build(fit: _Fit) -> Layout:
        return _build(layers, width, height, s, values, n_targets, fit, node_layer, node_unit,
                      node_names, node_layer_a, node_unit_a, node_index, rows, bands,
                      loss_size, labels, label_values)

    first = next((i for i, ts in enumerate(steps)
                  if geometric(ts, 3) is not None or geometric(ts, 2) is not None), None)
    if first is None:  # no room for value boxes at any size: none, text at full size
        fit = attempt(target_ts, "", 3)
        assert fit is not None
        steps, first, values = [target_ts], 0, ()
        lay = build(fit)
        if lay.placement is None or not lay.placement.dropped:
            return lay

    if steps[first] * VALUE_PX >= PROJECTOR_PX - 1e-9:
        floor = PROJECTOR_PX / VALUE_PX
    else:
        floor = max(MIN_SHRINK * s, LABEL_SHRINK * steps[first])
    label_steps = [i for i in range(first, len(steps)) if i == first or steps[i] >= floor - 1e-9]
    if not (labels is not None and labels.any) or len(steps) == 0:
        return _evaluate(steps[first], geometric, build)[0]
    tried: dict[int, tuple[Layout, int]] = {}

    def at(i: int) -> tuple[Layout, int]:
        if i not in tried:
            tried[i] = _evaluate(steps[label_steps[i]], geometric, build)
        return tried[i]

    # The largest text at which every label is placed (binary search: smaller text
    # leaves more room). When even the smallest text allowed leaves labels out, it is
    # used only if it at least halves their number: else larger text wins.
    if at(0)[1] == 0 or len(label_steps) == 1:
        return at(0)[0]
    lo, hi = 0, len(label_steps) - 1
    if at(hi)[1] > 0:
        return at(hi)[0] if at(hi)[1] <= at(0)[1] / 2 else at(0)[0]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if at(mid)[1] == 0:
            hi = mid
        else:
            lo = mid
    return at(hi)[0]


def _evaluate(ts: float, geometric, build) -> tuple[Layout, int]:
    """The layout at text scale ``ts`` (3 decimals, else 2) and its dropped labels."""
    best: tuple[Layout, int] | None = None
    for decimals in (3, 2):
        fit = geometric(ts, decimals)
        if fit is None:
            continue
        lay = build(fit)
        dropped = lay.placement.dropped if lay.placement is not None else 0
        if best is None or dropped < best[1]:
            best = (lay, dropped)
        if dropped == 0:
            break
    assert best is not None
    return best


def _build(layers, width, height, s, values, n_targets, fit: _Fit, node_layer, node_unit,
           node_names, node_layer_a, node_unit_a, node_index, rows, bands, loss_size,
           labels: LabelSpec | None, label_values: np.ndarray | None) -> Layout:
    ts = fit.ts
    last = len(layers) - 1
    top_band, bottom_band, avail_h = bands(ts)
    dense = avail_h / max(rows)
    spacing = [min(avail_h / r, 1.5 * dense) for r in rows]
    radius = max(fit.radius, 1.5)
    name_px = NAME_PX * ts
    name_w = max(style.text_width(name_px, nm, bold=True)
                 for nm in sorted(set(node_names), key=len)[-4:])
    # Shrink the name font to fit the circle, but never below legibility.
    if 2 * radius < name_w + 8 * ts:
        name_px = name_px * (2 * radius - 6 * ts) / name_w
        if name_px < 12.0 * ts:
            name_px = 0.0
    # Units too small for names inside: name the input and output units beside them.
    outer_px = 0.0
    if not name_px:
        outer_px = 13.0 * ts if min(spacing[0], spacing[last]) >= 15.0 * ts else 0.0

    lines = fit.lines
    pad = 3.0 * ts
    box_gap = 4.0 * ts
    line_h = VALUE_PX * ts * 1.22

    def below(l: int) -> bool:
        return fit.style == "below" or (fit.style == "left" and l == 0)

    def group_h(l: int) -> float:
        if not lines or not below(l):
            return 2 * radius
        n = _node_lines(values, l, False)
        box_h = -(-n // fit.cols) * line_h + 2 * pad if n else 0.0
        return 2 * radius + (box_gap + box_h if n else 0.0)

    centers = np.empty((len(node_names), 2))
    xs = [fit.margin_l + l * fit.col_gap if last else width / 2 for l in range(len(layers))]
    groups = [group_h(l) for l in range(len(layers))]
    for k, (l, u) in enumerate(zip(node_layer, node_unit)):
        row = u + (1 if l < last else 0)
        sp = spacing[l]
        top = top_band + (avail_h - sp * rows[l]) / 2
        cell_top = top + row * sp
        centers[k] = (xs[l], cell_top + (sp - groups[l]) / 2 + radius)

    # -- value boxes: reserved rectangles ----------------------------------------------
    boxes = np.full((len(node_names), 4), np.nan)
    if lines:
        for k, (l, u) in enumerate(zip(node_layer, node_unit)):
            n = _node_lines(values, l, u < 0)
            if not n:
                continue
            cx, cy = centers[k]
            if not below(l):
                h = n * line_h + 2 * pad
                boxes[k] = (cx - radius - box_gap - fit.box_w, cy - h / 2, fit.box_w, h)
            else:
                cols = fit.cols if fit.style == "below" else 1
                n_rows = -(-n // cols)
                n_cols = min(cols, n)
                w = n_cols * fit.item_w + (n_cols - 1) * 10 * ts + 4 * pad
                boxes[k] = (cx - w / 2, cy + radius + box_gap, w, n_rows * line_h + 2 * pad)

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
        # Lines thicken with the user's scale, not with the window: thick antialiased
        # lines are what a frame costs most.
        w_min = 1.0 * s
        w_max = float(np.clip(0.3 * radius, 2.0 * s, 8.0 * s))
    widths = w_min + (w_max - w_min) * (np.arange(style.LEVELS) + 1) / style.LEVELS

    # -- the target/loss node ------------------------------------------------------------
    loss = None
    if n_targets is not None:
        loss_w, link, head_lines = loss_size(ts)
        px = VALUE_PX * ts
        head_px = NOTE_PX * ts
        head_h = head_lines * head_px * 1.25
        n_rows = n_targets if n_targets <= MAX_TARGET_ROWS else 0
        big_h = px * 1.15 * 1.3
        h = head_h + n_rows * line_h + big_h + 3 * pad
        out = centers[node_index[(last, 0)]:]
        cy = float(out[:, 1].mean())
        y0 = float(np.clip(cy - h / 2, top_band, max(top_band, height - bottom_band - h)))
        x0 = xs[last] + radius + link
        rows_y = y0 + pad + head_h + (np.arange(n_rows) + 0.5) * line_h
        l_y = y0 + pad + head_h + n_rows * line_h + pad + big_h / 2
        anchors = np.column_stack([np.full(len(out), x0),
                                   rows_y if n_rows else np.full(len(out), l_y)])
        loss = LossGeometry(rect=(x0, y0, loss_w, h), pad=pad, head_px=head_px, head_h=head_h,
                            px=px, line_h=line_h, big_px=px * 1.15, rows_y=rows_y, l_y=l_y,
                            anchors=anchors)

    label_px = LABEL_PX * ts
    lay = Layout(
        width=width, height=height, scale=s, text_scale=ts, layers=tuple(layers),
        names=node_names, centers=centers, node_layer=node_layer_a, node_unit=node_unit_a,
        node_bias=node_unit_a < 0, node_index=node_index, radius=radius,
        edge_refs=edge_refs, edge_index=edge_index, segments=segments, widths=widths,
        antialias=not many, name_px=name_px, outer_name_px=outer_px,
        value_px=VALUE_PX * ts, values=values, value_lines=lines, box_style=fit.style,
        box_cols=fit.cols, line_h=line_h, item_w=fit.item_w, item_sep=10 * ts, box_pad=pad,
        values_wanted=bool(values), box_w=fit.box_w, box_h=fit.box_h, box_gap=box_gap,
        boxes=boxes, decimals=fit.decimals, label_px=label_px, label_h=label_px * 1.4,
        label_pad=4 * ts, caption_px=CAPTION_PX * ts, note_px=NOTE_PX * ts,
        top_band=top_band, bottom_band=bottom_band, loss=loss, label_spec=labels)
    if labels is not None and labels.any and 0 < n_edges <= style.MAX_EDGE_LABELS:
        if labels.names:
            lay.edge_names = [names.weight_name(layers, names.WeightRef(l, t, src))
                              for l, t, src in edge_refs.tolist()]
        wanted = np.ones(n_edges, dtype=bool)
        lay.placement = place_on_layout(lay, wanted, label_widths(lay, wanted, label_values))
    return lay


def label_texts(lay: Layout, edges: np.ndarray, values: np.ndarray | None,
                spec: LabelSpec | None = None) -> list[str]:
    """The label texts of some edges for the numbers ``values`` (all edges, edge order);
    ``values`` None: the widest text each label could show. ``spec`` defaults to the
    layout's."""
    spec = spec or lay.label_spec or LabelSpec()
    if spec.names and lay.edge_names is None:
        lay.edge_names = [names.weight_name(lay.layers, names.WeightRef(l, t, s))
                          for l, t, s in lay.edge_refs.tolist()]
    edge_names = lay.edge_names if spec.names else None
    if values is None:
        samples = style.fixed_width_samples(lay.decimals)
        widest = max(samples, key=lambda v: style.text_width(lay.label_px, v, tight=True))
        texts = [widest] * len(edges)
    else:
        texts = [style.format_fixed(values[k], lay.decimals) for k in edges.tolist()]
    return [spec.text(edge_names[k] if edge_names is not None else None, v)
            for k, v in zip(edges.tolist(), texts)]


def text_label_width(lay: Layout, text: str) -> float:
    """Width of the plate of a label with ``text``."""
    return max(style.text_width(lay.label_px, text, tight=True) + 2 * lay.label_pad,
               2.2 * lay.label_h)


def label_widths(lay: Layout, wanted: np.ndarray, values: np.ndarray | None = None
                 ) -> np.ndarray:
    """Label width per edge (0 where not wanted) for the numbers ``values`` (edge order;
    None: the widest number the label could show)."""
    widths = np.zeros(lay.n_edges)
    edges = np.flatnonzero(wanted)
    for k, text in zip(edges.tolist(), label_texts(lay, edges, values)):
        widths[k] = text_label_width(lay, text)
    return widths


def place_on_layout(lay: Layout, wanted: np.ndarray, widths: np.ndarray,
                    priority: np.ndarray | None = None) -> Placement:
    """Place labels of ``widths`` on the wanted edges, clear of units, value boxes and the
    loss node."""
    circles = lay.centers[~lay.node_bias]
    b = 0.88 * lay.radius
    squares = np.column_stack([lay.centers[lay.node_bias] - b,
                               np.full((int(lay.node_bias.sum()), 2), 2 * b)])
    rects = [squares, lay.boxes]
    if lay.loss is not None:
        rects.append(np.array([lay.loss.rect]))
    margin = 4 * lay.text_scale
    bounds = (margin, lay.top_band, lay.width - margin, lay.height - lay.bottom_band)
    return place_labels(lay.segments, wanted, widths, lay.label_h, circles, lay.radius,
                        np.concatenate(rects).reshape(-1, 4), bounds, priority)
