"""NetworkCanvas: the central node-link view of the network."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from ...engine import names
from ...engine.project import atomic_write
from .data import CanvasData
from .editing import WeightEdit, WeightSpinBox, drag_step
from .frame import Styler, edge_values, make_edge_frame, make_unit_frame
from .items import CanvasState, EdgesItem, LabelsItem, OverlayItem, UnitsItem, layout_fonts
from .labels import Placement
from .layout import (
    MEAN_MARK,
    LabelSpec,
    Layout,
    compute_layout,
    label_texts,
    place_on_layout,
    text_label_width,
)
from .style import MAX_EDGE_LABELS, THEMES, format_value, palette_for

#: How far (screen pixels) a click may miss a line or a unit and still hit it.
HIT_TOLERANCE_PX = 5.0
_MIN_ZOOM, _MAX_ZOOM = 0.25, 16.0


def _has_gradients(data: CanvasData) -> bool:
    return data.grad_weights is not None and data.grad_biases is not None


class NetworkCanvas(QtWidgets.QGraphicsView):
    """Layers left to right, units as labelled circles, weights as coloured lines.

    Renders a ``CanvasData`` and nothing else. Click a weight or a unit to have it
    emitted; hover for exact values; wheel to zoom, drag to pan, double-click empty
    space (or ``fit()``) to fit the network to the window.

    Signals
    -------
    weight_clicked(WeightRef)
    unit_clicked(int layer, int unit)    unit -1 is the layer's bias unit
    weight_hovered(WeightRef or None)
    unit_hovered((layer, unit) or None)
    loss_clicked()                       the target/loss node
    weight_edit_started(WeightRef, float before)
    weight_edit_changed(WeightRef, float value)     live, while the value changes
    weight_edit_committed(WeightRef, float before, float after)
    weight_edit_cancelled(WeightRef, float before)  Escape (the value was put back with
                                                    a last ``weight_edit_changed``) or
                                                    the network changed shape

    A weight is edited in place with ``edit_weight`` (a spin box at the edge) or by
    dragging its label sideways; one edit runs from started to committed or cancelled.
    """

    weight_clicked = QtCore.Signal(object)
    unit_clicked = QtCore.Signal(int, int)
    weight_hovered = QtCore.Signal(object)
    unit_hovered = QtCore.Signal(object)
    loss_clicked = QtCore.Signal()
    weight_edit_started = QtCore.Signal(object, float)
    weight_edit_changed = QtCore.Signal(object, float)
    weight_edit_committed = QtCore.Signal(object, float, float)
    weight_edit_cancelled = QtCore.Signal(object, float)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        # A QGraphicsView does not own its scene: keep the Python reference.
        self._scene = QtWidgets.QGraphicsScene(self)
        self._scene.setItemIndexMethod(QtWidgets.QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setScene(self._scene)
        self._state = CanvasState()
        self._items = [EdgesItem(self._state), UnitsItem(self._state),
                       LabelsItem(self._state), OverlayItem(self._state)]
        for z, item in enumerate(self._items):
            item.setZValue(z)
            self._scene.addItem(item)

        self._show_weight_values = True
        self._show_unit_values = True
        self._show_deltas = True
        #: what each input unit carries when it is not simply x1, x2 (input features)
        self._input_labels: tuple[str, ...] = ()
        self._color_by = "weight"
        self._scale = 1.0
        self._high_contrast = False
        self._theme = "light"
        self._show_weight_names = False
        self._placements: dict[object, Placement] = {}
        self._fitted = True
        self._press_pos: QtCore.QPoint | None = None
        self._panning = False
        self._press_label: names.WeightRef | None = None  # a press on a weight label
        self._edit: WeightEdit | None = None
        self._editable = True

        self.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QtWidgets.QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QtWidgets.QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing
                            | QtGui.QPainter.RenderHint.TextAntialiasing)
        self.setOptimizationFlag(
            QtWidgets.QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.setMinimumSize(240, 180)
        self._apply_palette()

    # -- public API ---------------------------------------------------------------------
    def set_data(self, data: CanvasData) -> None:
        """Show ``data``. Cheap when the layer sizes are unchanged (only numbers and
        highlights change: no re-layout, no new items); a new shape reflows and fits.

        Parameters
        ----------
        data : CanvasData
            The network and, optionally, one sample's values and gradients.
        """
        old = self._state.data
        self._state.data = data
        if old is not None and old.layers != data.layers and self._edit is not None:
            self.close_weight_editor(commit=False, restore=False)  # another network
        if old is None or old.layers != data.layers or self._state.layout is None:
            self._state.hover_edge = self._state.hover_node = None
            self.fit()
        elif (old.has_loss_node != data.has_loss_node
              or (old.edge_override is None) != (data.edge_override is None)
              or (data.has_loss_node and old.loss_label != data.loss_label)
              or (self._color_by == "gradient" and self._show_weight_names
                  and _has_gradients(old) != _has_gradients(data))):
            self._relayout()
        else:
            self._refresh()

    def data(self) -> CanvasData | None:
        """The data shown, or None."""
        return self._state.data

    def set_unit_maps(self, maps: Mapping[tuple[int, int], np.ndarray] | None) -> None:
        """Draw a small image inside units: the data view's map of each unit's activation
        over the input plane. The canvas only draws what it is given.

        Parameters
        ----------
        maps : mapping of (layer, unit) to ndarray, or None
            An RGB image per unit, shape (h, w, 3), uint8, row 0 at the top; it fills the
            unit's circle (the unit's name is then left to hover). Units not in the
            network, and bias units, are ignored. None or an empty mapping: no maps.
            The canvas keeps its own copy of the pixels.
        """
        out: dict[tuple[int, int], tuple[QtGui.QImage, np.ndarray]] = {}
        for key, arr in (maps or {}).items():
            a = np.ascontiguousarray(arr, dtype=np.uint8)
            if a.ndim != 3 or a.shape[2] != 3 or not a.shape[0] or not a.shape[1]:
                raise ValueError(f"a unit map must have shape (h, w, 3), not {a.shape}")
            h, w = a.shape[:2]
            # converted once here (a copy of its own): painting RGB32 needs no conversion
            img = QtGui.QImage(a.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888
                               ).convertToFormat(QtGui.QImage.Format.Format_RGB32)
            out[(int(key[0]), int(key[1]))] = (img, a)
        had = bool(self._state.unit_maps)
        self._state.unit_maps = out
        self._state.unit_maps_version += 1
        if had != bool(out):
            self._refresh()  # the legend says what the maps are
        else:
            self.viewport().update()

    def unit_maps(self) -> dict[tuple[int, int], np.ndarray]:
        """The unit maps drawn, as given to ``set_unit_maps``."""
        return {k: a for k, (_img, a) in self._state.unit_maps.items()}

    def set_show_weight_values(self, on: bool) -> None:
        """Write weight values on the edges.

        Parameters
        ----------
        on : bool
            Only networks with at most ``MAX_EDGE_LABELS`` edges get labels; bigger
            ones say so in a note (hover an edge to read it).
        """
        self._show_weight_values = bool(on)
        self._relayout()

    def set_editable(self, on: bool) -> None:
        """Whether weight labels can be dragged (and tooltips offer a click to edit);
        off for a view that only shows runs (the canvas never changes weights itself)."""
        self._editable = bool(on)
        if not on:
            self.close_weight_editor(commit=False)

    def editable(self) -> bool:
        return self._editable

    def set_show_weight_names(self, on: bool) -> None:
        """Write the article's weight names on the edges (W10, V03, ...).

        Parameters
        ----------
        on : bool
            With weight values also on, labels read ``W10 = 0.6`` (``∂L/∂W10 = 4``
            when edges are coloured by gradient); alone, ``W10``.
        """
        self._show_weight_names = bool(on)
        self._relayout()

    def set_show_unit_values(self, on: bool) -> None:
        """Write a and z under every unit.

        Parameters
        ----------
        on : bool
            Values are written only where there is room; otherwise a note says so.
        """
        self._show_unit_values = bool(on)
        self._relayout()

    def set_input_labels(self, labels) -> None:
        """What the input units carry (``("x2", "x1²")``: X1 is x2, X2 is x1²), named in
        the legend and the units' tooltips; empty when the inputs are the raw x1, x2."""
        labels = tuple(str(t) for t in labels)
        if labels != self._input_labels:
            self._input_labels = labels
            self._relayout()

    def input_labels(self) -> tuple[str, ...]:
        return self._input_labels

    def set_show_deltas(self, on: bool) -> None:
        """Write delta = dL/da under every non-input unit.

        Parameters
        ----------
        on : bool
            Shown when the data carries deltas and there is room.
        """
        self._show_deltas = bool(on)
        self._relayout()

    def set_color_by(self, mode: str) -> None:
        """Choose what edge colour, width and labels show.

        Parameters
        ----------
        mode : {"weight", "gradient"}
            ``"gradient"`` uses ``grad_weights``/``grad_biases`` (falls back to the
            weights, with a note, when the data has none).
        """
        if mode not in ("weight", "gradient"):
            raise ValueError(f"color_by must be 'weight' or 'gradient', not {mode!r}")
        self._color_by = mode
        if self._show_weight_names:  # "∂L/∂W10 = " is wider than "W10 = "
            self._relayout()
        else:
            self._refresh()

    def set_scale(self, factor: float) -> None:
        """Set the size of text, units and lines.

        Parameters
        ----------
        factor : float
            1.0 normal, about 1.5 for presenting on a projector (clamped to 0.5..3).
        """
        self._scale = float(np.clip(factor, 0.5, 3.0))
        self._relayout()

    def set_high_contrast(self, on: bool) -> None:
        """Switch the high-contrast theme.

        Parameters
        ----------
        on : bool
            Stronger colours, black text and outlines, no faint edges.
        """
        self._high_contrast = bool(on)
        self._apply_palette()
        self._relayout()

    def set_theme(self, theme: str) -> None:
        """Switch between the light theme and the dark projector theme.

        Parameters
        ----------
        theme : {"light", "dark"}
            ``"dark"``: light text and lines on near black, colour-blind-safe blue and
            orange kept; high contrast in itself (``set_high_contrast`` then changes
            nothing). ``"light"`` honours ``set_high_contrast``.
        """
        if theme not in THEMES:
            raise ValueError(f"theme must be one of {THEMES}, not {theme!r}")
        self._theme = theme
        self._apply_palette()
        self._relayout()

    def theme(self) -> str:
        """The current theme, ``"light"`` or ``"dark"``."""
        return self._theme

    def background_color(self) -> QtGui.QColor:
        """The canvas background of the current theme."""
        return QtGui.QColor(self._state.palette.background)

    def text_color(self) -> QtGui.QColor:
        """The canvas text colour of the current theme."""
        return QtGui.QColor(self._state.palette.text)

    def fit(self) -> None:
        """Fit the network to the window: reset zoom and pan, lay out for this size."""
        self.resetTransform()
        self._fitted = True
        self._relayout(self.viewport().size())

    def unit_names(self) -> list[str]:
        """Names of the units drawn, layer by layer, bias unit first (e.g. X0, X1, ...)."""
        lay = self._state.layout
        return list(lay.names) if lay is not None else []

    def unit_center(self, layer: int, unit: int) -> QtCore.QPointF:
        """Scene position of a unit's centre.

        Parameters
        ----------
        layer, unit : int
            The unit; ``unit = -1`` is the layer's bias unit.
        """
        lay = self._require_layout()
        x, y = lay.centers[lay.node_index[(layer, unit)]]
        return QtCore.QPointF(float(x), float(y))

    def weight_segment(self, ref: names.WeightRef) -> QtCore.QLineF:
        """Scene line of a weight's edge.

        Parameters
        ----------
        ref : WeightRef
            The weight.

        Returns
        -------
        QLineF
            From the source unit's centre to the target unit's centre.
        """
        lay = self._require_layout()
        x1, y1, x2, y2 = lay.segments[lay.edge_index[(ref.layer, ref.target, ref.source)]]
        return QtCore.QLineF(float(x1), float(y1), float(x2), float(y2))

    def item_at(self, pos: QtCore.QPoint) -> names.WeightRef | tuple[int, int] | str | None:
        """What a click at a viewport position would hit.

        Parameters
        ----------
        pos : QPoint
            Viewport coordinates.

        Returns
        -------
        WeightRef, (layer, unit), "loss" or None
            Units win over the loss node and edges; lines count as hit within
            ``HIT_TOLERANCE_PX``.
        """
        hit = self._hit(pos)
        return self._describe_hit(hit)

    def tooltip_at(self, pos: QtCore.QPoint) -> str:
        """The tooltip shown at a viewport position.

        Parameters
        ----------
        pos : QPoint
            Viewport coordinates.

        Returns
        -------
        str
            Empty over empty space.
        """
        found = self.item_at(pos)
        if isinstance(found, names.WeightRef):
            return self.weight_tooltip(found)
        if isinstance(found, tuple):
            return self.unit_tooltip(*found)
        if found == "loss":
            return self.loss_tooltip()
        return ""

    def loss_tooltip(self) -> str:
        """Exact values of the loss node: what L is, L, and the targets."""
        data = self._state.data
        if data is None or not data.has_loss_node:
            return ""
        lines = [f"{data.loss_label or 'loss'}"]
        if data.loss is None or np.isnan(data.loss):
            lines.append("L: not computed yet")
        else:
            lines.append(f"L = {float(data.loss)!r}")
        if data.target is not None:
            out = len(data.layers) - 1
            for i, y in enumerate(np.asarray(data.target).tolist()):
                lines.append(f"target y for {names.unit_name(data.layers, out, i)} = {y!r}")
        lines.append("click for the loss formula")
        return "\n".join(lines)

    def unit_tooltip(self, layer: int, unit: int) -> str:
        """Exact values of a unit: name, activation function, a, z, delta.

        Parameters
        ----------
        layer, unit : int
            The unit; ``unit = -1`` is the layer's bias unit.
        """
        data = self._state.data
        if data is None:
            return ""
        layers = data.layers
        name = names.unit_name(layers, layer, unit)
        last = len(layers) - 1
        where = ("input layer" if layer == 0 else "output layer" if layer == last
                 else f"hidden layer {layer}")
        if unit < 0:
            return f"{name}: bias unit of the {where}, always 1"
        if layer == 0:
            carries = (f" = {self._input_labels[unit]}"
                       if unit < len(self._input_labels) else "")
            lines = [f"{name}: input {unit + 1}{carries}"]
        else:
            lines = [f"{name}: unit of the {where}, activation {data.activations[layer - 1]}"]
        if data.a is not None and layer > 0:
            lines.append(f"a (weighted input) = {float(data.a[layer - 1][unit])!r}")
        if data.z is not None:
            label = "z (input value)" if layer == 0 else "z = f(a)"
            lines.append(f"{label} = {float(data.z[layer][unit])!r}")
        if data.deltas is not None and layer > 0:
            d = float(data.deltas[layer - 1][unit])
            if data.values_are_means:
                lines.append(f"\u03b4{MEAN_MARK} = mean \u2202L/\u2202a over the batch = {d!r}")
            else:
                lines.append(f"\u03b4 = \u2202L/\u2202a = {d!r}")
        if len(lines) == 1:
            lines.append("select a sample to see its values")
        return "\n".join(lines)

    def weight_tooltip(self, ref: names.WeightRef) -> str:
        """Exact values of a weight: name, from/to units, value, gradient.

        Parameters
        ----------
        ref : WeightRef
            The weight.
        """
        data = self._state.data
        if data is None:
            return ""
        layers = data.layers
        wname = names.weight_name(layers, ref)
        src = names.unit_name(layers, ref.layer, ref.source)
        dst = names.unit_name(layers, ref.layer + 1, ref.target)
        kind = "bias weight, " if ref.is_bias else ""
        if ref.is_bias:
            value = data.biases[ref.layer][ref.target]
            grad = None if data.grad_biases is None else data.grad_biases[ref.layer][ref.target]
        else:
            value = data.weights[ref.layer][ref.target, ref.source]
            grad = (None if data.grad_weights is None
                    else data.grad_weights[ref.layer][ref.target, ref.source])
        lines = [f"{wname}: {kind}from {src}{' (bias)' if ref.is_bias else ''} to {dst}",
                 f"value = {float(value)!r}"]
        o = data.edge_override
        if o is not None:
            diff = (o.biases[ref.layer][ref.target] if ref.is_bias
                    else o.weights[ref.layer][ref.target, ref.source])
            lines.append(f"{o.symbol} = {float(diff)!r}" + (f"  ({o.meaning})" if o.meaning
                                                             else ""))
        if grad is not None:
            mean = "mean over the batch of " if data.values_are_means else ""
            lines.append(f"gradient: {mean}\u2202L/\u2202{wname} = {float(grad)!r}")
        if self._labels_show_weights():
            lines.append("click to edit")
        return "\n".join(lines)

    def notes(self) -> list[str]:
        """Short notes drawn at the top right (what is hidden and why)."""
        return list(self._state.notes)

    def label_texts(self) -> list[str]:
        """Every number and caption currently written on the canvas."""
        st = self._state
        out = [st.caption] if st.caption else []
        out += [text for _, text, _, _ in st.edge_labels or []]
        if st.units is not None and st.units.boxes and st.layout and st.layout.value_lines:
            for lines in st.units.boxes:
                out += lines
        if st.units is not None and st.units.loss_lines:
            out += st.units.loss_lines
        return out

    # -- geometry of what is drawn (scene coordinates), for checks and tests --------------
    def label_rects(self) -> list[tuple[names.WeightRef, str, QtCore.QRectF]]:
        """Every weight label drawn: its weight, its text and its plate's rectangle."""
        lay = self._state.layout
        if lay is None:
            return []
        out = []
        for k, text, rect, _ in self._state.edge_labels or []:
            l, t, s = (int(v) for v in lay.edge_refs[k])
            out.append((names.WeightRef(l, t, s), text, QtCore.QRectF(rect)))
        return out

    def unit_shapes(self) -> list[tuple[tuple[int, int], QtCore.QRectF, bool]]:
        """Every unit: (layer, unit), its bounding rectangle, and whether it is a circle
        (False: a bias unit's square)."""
        lay = self._state.layout
        if lay is None:
            return []
        return [((int(lay.node_layer[k]), int(lay.node_unit[k])), QtCore.QRectF(r),
                 not bool(lay.node_bias[k])) for k, r in enumerate(self._state.node_rects)]

    def value_box_rects(self) -> list[tuple[tuple[int, int], QtCore.QRectF]]:
        """Every value box drawn, with its unit."""
        st = self._state
        lay = st.layout
        if lay is None or st.units is None or not st.units.boxes or not lay.value_lines:
            return []
        out = []
        for k, lines in enumerate(st.units.boxes):
            if not lines:
                continue
            x, y, w, h, _ = lay.drawn_box(k, len(lines))
            out.append(((int(lay.node_layer[k]), int(lay.node_unit[k])),
                        QtCore.QRectF(x, y, w, h)))
        return out

    def loss_node_rect(self) -> QtCore.QRectF | None:
        """The target/loss node, or None when none is drawn."""
        lay = self._state.layout
        if lay is None or lay.loss is None:
            return None
        return QtCore.QRectF(*lay.loss.rect)

    def fonts(self) -> dict[str, QtGui.QFont]:
        """The fonts the canvas draws its text in (sizes in scene pixels; see
        ``text_pixel_sizes`` for what that is on the screen)."""
        lay = self._require_layout()
        return {k: QtGui.QFont(f) for k, f in layout_fonts(lay).items()}

    def text_pixel_sizes(self) -> dict[str, float]:
        """Pixel size of every kind of text as it appears in the viewport now.

        Returns
        -------
        dict
            Font pixel size (the em size) times the view's zoom, per key of ``fonts()``,
            for the text that is drawn (unit values only when boxes are shown, and so
            on); in device-independent pixels (multiply by the screen's
            devicePixelRatio for physical ones).
        """
        lay = self._require_layout()
        zoom = abs(self.transform().m11())
        st = self._state
        shown = {"caption", "note", "legend"}
        if lay.name_px:
            shown.add("name")
        if lay.outer_name_px:
            shown.add("outer_name")
        if st.units is not None and st.units.boxes and lay.value_lines:
            shown.add("value")
        if st.edge_labels:
            shown.add("label")
        if lay.loss is not None:
            shown |= {"loss", "loss_big", "loss_head"}
        return {k: f.pixelSize() * zoom for k, f in layout_fonts(lay).items() if k in shown}

    # -- editing weights in place ----------------------------------------------------------
    def edit_weight(self, ref: names.WeightRef, value: float | None = None
                    ) -> WeightSpinBox | None:
        """Open a small spin box on the canvas at the weight's edge (over its label).

        The value is applied live (``weight_edit_changed`` at every change); Enter or a
        click away keeps it (``weight_edit_committed``), Escape puts ``value`` back
        (``weight_edit_changed`` with it, then ``weight_edit_cancelled``). An edit
        already open is kept first.

        Parameters
        ----------
        ref : WeightRef
            The weight.
        value : float, optional
            Its value now (default: the value in the data shown).

        Returns
        -------
        WeightSpinBox or None
            The editor; None when the canvas shows no such weight.
        """
        lay, data = self._state.layout, self._state.data
        if lay is None or data is None or \
                (ref.layer, ref.target, ref.source) not in lay.edge_index:
            return None
        self.close_weight_editor()
        before = float(self._data_weight(ref) if value is None else value)
        box = WeightSpinBox(self.viewport())
        with QtCore.QSignalBlocker(box):
            box.setValue(before)
        box.setFont(self._editor_font())
        box.setAccessibleName(f"Edit {names.weight_name(data.layers, ref)}")
        edit = WeightEdit(ref, before, before, box)
        box.valueChanged.connect(lambda v, e=edit: self._on_edit_value(e, v))
        box.committed.connect(lambda e=edit: self._finish_edit(e, True))
        box.cancelled.connect(lambda e=edit: self._finish_edit(e, False))
        self._edit = edit
        self._place_editor()
        box.show()
        box.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
        box.selectAll()
        self.weight_edit_started.emit(ref, before)
        return box

    def weight_editor(self) -> WeightSpinBox | None:
        """The open spin box, or None."""
        return self._edit.box if self._edit is not None else None

    def editing_weight(self) -> names.WeightRef | None:
        """The weight being edited (spin box open or label dragged), or None."""
        return self._edit.ref if self._edit is not None else None

    def close_weight_editor(self, commit: bool = True, restore: bool = True) -> None:
        """End the edit in progress, if any: keep its value (``commit``), or put the value
        it began with back (``restore``) or leave it (the network changed: nothing to
        put back into)."""
        if self._edit is not None:
            self._finish_edit(self._edit, commit, restore)

    def label_at(self, pos: QtCore.QPoint) -> names.WeightRef | None:
        """The weight whose value label is under a viewport position (None: no label, or
        the labels show gradients: dragging one would not say what changes)."""
        st = self._state
        lay = st.layout
        if lay is None or not st.edge_labels or not self._labels_show_weights():
            return None
        sp = self.mapToScene(pos)
        for k, _, rect, _ in st.edge_labels:
            if rect.contains(sp):
                l, t, s = (int(v) for v in lay.edge_refs[k])
                return names.WeightRef(l, t, s)
        return None

    def _labels_show_weights(self) -> bool:
        spec = self._state.layout.label_spec if self._state.layout is not None else None
        if spec is None or not spec.values or spec.difference or not self._editable:
            return False
        return not (self._color_by == "gradient" and _has_gradients(self._state.data))

    def _data_weight(self, ref: names.WeightRef) -> float:
        data = self._state.data
        if ref.is_bias:
            return float(data.biases[ref.layer][ref.target])
        return float(data.weights[ref.layer][ref.target, ref.source])

    def _editor_font(self) -> QtGui.QFont:
        """The editor's text: as large as the weight labels appear, at least 13 px."""
        f = QtGui.QFont(self.font())
        lay = self._state.layout
        zoom = abs(self.transform().m11())
        px = (lay.label_px or lay.value_px or lay.note_px) * zoom if lay is not None else 13
        f.setPixelSize(int(round(max(13.0, px * 1.1))))
        return f

    def _place_editor(self) -> None:
        """Put the spin box over the weight's label (else the middle of its edge)."""
        edit = self._edit
        if edit is None or edit.box is None or self._state.layout is None:
            return
        rect = next((r for ref, _, r in self.label_rects() if ref == edit.ref), None)
        centre = rect.center() if rect is not None else \
            self.weight_segment(edit.ref).center()
        box = edit.box
        box.setFont(self._editor_font())
        hint = box.sizeHint()
        w = max(hint.width(), box.fontMetrics().horizontalAdvance("-0.000000") + 40)
        h = hint.height()
        c = self.mapFromScene(centre)
        vp = self.viewport().rect()
        x = int(min(max(c.x() - w / 2, 0), max(vp.width() - w, 0)))
        y = int(min(max(c.y() - h / 2, 0), max(vp.height() - h, 0)))
        box.setGeometry(x, y, int(w), int(h))

    def _on_edit_value(self, edit: WeightEdit, value: float) -> None:
        if edit is not self._edit or value == edit.value:
            return
        edit.value = float(value)
        self.weight_edit_changed.emit(edit.ref, edit.value)

    def _finish_edit(self, edit: WeightEdit, commit: bool, restore: bool = True) -> None:
        if edit is not self._edit:
            return  # already ended (Enter, then the focus leaving the closed box)
        box = edit.box
        if box is not None and commit:
            box.interpretText()  # a number typed but not yet taken
        self._edit = None
        if box is not None:
            had_focus = box.hasFocus() or box.lineEdit().hasFocus()
            box.blockSignals(True)
            box.hide()
            box.deleteLater()
            if had_focus:
                self.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
        if commit:
            self.weight_edit_committed.emit(edit.ref, edit.before, edit.value)
            return
        if restore and edit.value != edit.before:
            self.weight_edit_changed.emit(edit.ref, edit.before)
        self.weight_edit_cancelled.emit(edit.ref, edit.before)

    def _drag_label(self, edit: WeightEdit, x: float,
                    modifiers: QtCore.Qt.KeyboardModifier) -> None:
        """A drag on a weight label: sideways by ``x - x0`` viewport pixels."""
        step, decimals = drag_step(modifiers)
        value = round(edit.before + (x - edit.x0) * step, decimals)
        if value != edit.value:
            edit.value = value
            self.weight_edit_changed.emit(edit.ref, value)

    # -- export -------------------------------------------------------------------------
    def export_size(self) -> QtCore.QSize:
        """The default export size: the canvas as laid out on screen, in physical pixels
        (its size times the screen's devicePixelRatio)."""
        lay = self._require_layout()
        dpr = self.devicePixelRatioF()
        return QtCore.QSize(int(round(lay.width * dpr)), int(round(lay.height * dpr)))

    def render_to_image(self, size: QtCore.QSize | tuple[int, int] | None = None
                        ) -> QtGui.QImage:
        """The whole network as an image (not just the zoomed part).

        Parameters
        ----------
        size : QSize or (width, height), optional
            Image size in pixels; defaults to ``export_size()``, the canvas's on-screen
            size times the screen's devicePixelRatio (the image then carries that
            ratio, so it shows at the canvas's size with every physical pixel used).
            The drawing keeps its aspect ratio and is centred.

        Returns
        -------
        QImage
        """
        lay = self._require_layout()
        dpr = 1.0
        if size is None:
            qsize = self.export_size()
            dpr = self.devicePixelRatioF()
        else:
            qsize = self._qsize(size, lay)
        image = QtGui.QImage(qsize, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(dpr)
        image.fill(QtGui.QColor(self._state.palette.background))
        painter = QtGui.QPainter(image)
        try:
            self._render(painter, QtCore.QRectF(0, 0, qsize.width() / dpr, qsize.height() / dpr))
        finally:
            painter.end()
        return image

    def save_png(self, path: str | Path, size: QtCore.QSize | tuple[int, int] | None = None
                 ) -> bool:
        """Write the whole network to a PNG file.

        Parameters
        ----------
        path : str or Path
            The file to write.
        size : QSize or (width, height), optional
            Image size; defaults to ``export_size()`` (on-screen size x devicePixelRatio).

        Returns
        -------
        bool
            True; the file is written atomically and ``OSError`` says why it could not be.
        """
        image = self.render_to_image(size)

        def write(tmp: str) -> None:
            if not image.save(tmp, "PNG"):
                raise OSError(f"cannot write {path}")

        atomic_write(path, write)
        return True

    def save_svg(self, path: str | Path, size: QtCore.QSize | tuple[int, int] | None = None,
                 title: str = "Backprop Lab network") -> None:
        """Write the whole network to an SVG file (vector: edges, units and text).

        Parameters
        ----------
        path : str or Path
            The file to write.
        size : QSize or (width, height), optional
            Drawing size; defaults to the laid-out size.
        title : str
            The SVG document title.
        """
        lay = self._require_layout()
        qsize = self._qsize(size, lay) if size is not None else QtCore.QSize(
            int(round(lay.width)), int(round(lay.height)))

        def write(tmp: str) -> None:
            gen = QtSvg.QSvgGenerator()
            gen.setFileName(tmp)
            gen.setSize(qsize)
            gen.setViewBox(QtCore.QRect(0, 0, qsize.width(), qsize.height()))
            gen.setTitle(title)
            painter = QtGui.QPainter(gen)
            if not painter.isActive():
                raise OSError(f"cannot write {path}")
            try:
                painter.fillRect(QtCore.QRectF(0, 0, qsize.width(), qsize.height()),
                                 QtGui.QColor(self._state.palette.background))
                self._render(painter, QtCore.QRectF(0, 0, qsize.width(), qsize.height()))
            finally:
                painter.end()

        atomic_write(path, write)  # a failed export never leaves half a file

    def paint_laid_out(self, painter: QtGui.QPainter, target: QtCore.QRectF,
                       scale: float | None = None) -> None:
        """Draw the network laid out afresh for ``target`` (not scaled from the screen).

        For slides: the network, its value boxes and labels are arranged for the
        target's size at ``scale`` (default: the canvas's scale), exactly as the canvas
        would show them in a viewport of that size; the on-screen canvas is untouched.

        Parameters
        ----------
        painter : QPainter
            An active painter (image, SVG generator, ...).
        target : QRectF
            Where to draw, in the painter's coordinates; its size is the layout area.
        scale : float, optional
            Text and line scale.
        """
        st = self._state
        if st.data is None:
            raise RuntimeError("NetworkCanvas has no data yet: call set_data first")
        saved = (st.layout, st.styler, st.node_rects, st.edges, st.units, st.edge_labels,
                 st.notes, st.legend, st.caption, st.placement, self._placements)
        for item in self._items:
            item.prepareGeometryChange()
        try:
            self._placements = {}
            self._build(QtCore.QSize(int(round(target.width())), int(round(target.height()))),
                        self._scale if scale is None else float(scale))
            self._compose()
            painter.save()
            painter.fillRect(target, QtGui.QColor(st.palette.background))
            self._render(painter, target)
            painter.restore()
        finally:
            for item in self._items:
                item.prepareGeometryChange()
            (st.layout, st.styler, st.node_rects, st.edges, st.units, st.edge_labels,
             st.notes, st.legend, st.caption, st.placement, self._placements) = saved

    # -- building -------------------------------------------------------------------------
    def _value_kinds(self) -> tuple[str, ...]:
        return (("a", "z") if self._show_unit_values else ()) + (
            ("d",) if self._show_deltas else ())

    def _build(self, size: QtCore.QSize, scale: float) -> None:
        """Lay out for ``size`` and prepare the styler and unit shapes (no repaint)."""
        st = self._state
        assert st.data is not None
        n_targets = st.data.layers[-1] if st.data.has_loss_node else None
        diff = st.data.edge_override is not None
        by_grad = self._color_by == "gradient" and _has_gradients(st.data) and not diff
        spec = LabelSpec(self._show_weight_values, self._show_weight_names, by_grad, diff)
        values = edge_values(st.data, by_grad) if spec.values else None
        st.layout = compute_layout(st.data.layers, size.width(), size.height(), scale,
                                   self._value_kinds(), n_targets, spec, st.data.loss_label,
                                   values)
        lay = st.layout
        st.styler = Styler(st.palette, lay, difference=diff)
        r = lay.radius
        b = 0.88 * r
        st.node_rects = [QtCore.QRectF(x - b, y - b, 2 * b, 2 * b) if bias
                         else QtCore.QRectF(x - r, y - r, 2 * r, 2 * r)
                         for (x, y), bias in zip(lay.centers.tolist(), lay.node_bias.tolist())]

    def _relayout(self, size: QtCore.QSize | None = None) -> None:
        st = self._state
        if st.data is None:
            return
        if size is None:
            size = (self.viewport().size() if self._fitted or st.layout is None
                    else QtCore.QSize(int(st.layout.width), int(st.layout.height)))
        for item in self._items:
            item.prepareGeometryChange()
        self._placements = {}
        self._build(size, self._scale)
        rect = st.rect()
        self._scene.setSceneRect(rect)
        self.setSceneRect(rect)
        self._refresh()

    def _refresh(self) -> None:
        if self._compose():
            self.viewport().update()
            self._place_editor()

    def _compose(self) -> bool:
        """Turn the data's numbers into what the items draw (layout unchanged)."""
        st = self._state
        data, lay = st.data, st.layout
        if data is None or lay is None:
            return False
        notes = []
        by_grad = self._color_by == "gradient" and data.edge_override is None
        if by_grad and (data.grad_weights is None or data.grad_biases is None):
            by_grad = False
            notes.append("No gradients yet: edges show weights")
        st.edges = make_edge_frame(lay, data, by_grad)
        st.units = make_unit_frame(lay, data, self._show_unit_values, self._show_deltas)
        notes += self._compose_labels(lay, data, by_grad)
        if lay.values_wanted and not lay.value_lines:
            notes.append("Unit values: hover a unit (no room to write them)")
        if lay.loss_dropped:
            notes.append("Loss: no room beside the output (widen the canvas)")
        st.notes = notes
        st.caption = data.caption
        st.legend = self._legend(by_grad)
        return True

    def _compose_labels(self, lay: Layout, data: CanvasData, by_grad: bool) -> list[str]:
        """Weight labels of this frame: their texts, at the places found for them."""
        st = self._state
        st.edge_labels = None
        st.placement = None
        spec = lay.label_spec
        if spec is None or not spec.any or not lay.n_edges:
            return []
        if spec.gradient != by_grad:  # no gradients in the data: labels show weights
            spec = LabelSpec(spec.values, spec.names, by_grad, spec.difference)
        notes = []
        highlighted = np.array(sorted(i for i in (lay.edge_index.get(tuple(r))
                                                  for r in data.highlight_weights)
                                      if i is not None), dtype=np.int64)
        wanted = np.zeros(lay.n_edges, dtype=bool)
        what = "Weight values" if spec.values else "Weight names"
        if lay.n_edges <= MAX_EDGE_LABELS:
            wanted[:] = True
        elif 0 < len(highlighted) <= MAX_EDGE_LABELS:
            wanted[highlighted] = True
            notes.append(f"{what}: highlighted edges only (hover the others)")
        else:
            notes.append(f"{what}: hover an edge ({lay.n_edges:,} edges, "
                         f"written for \u2264 {MAX_EDGE_LABELS})")
            return notes
        values = st.edges.values if st.edges is not None else None
        edges = np.flatnonzero(wanted)
        texts = label_texts(lay, edges, values, spec)
        widths = np.zeros(lay.n_edges)
        for k, text in zip(edges.tolist(), texts):
            widths[k] = text_label_width(lay, text)
        placement = self._placement(lay, wanted, widths, highlighted)
        st.placement = placement
        h = lay.label_h
        labels = []
        for k, text in zip(edges.tolist(), texts):
            if not placement.placed[k]:
                continue
            w = float(widths[k])
            cx, cy = placement.centers[k]
            labels.append((k, text, QtCore.QRectF(cx - w / 2, cy - h / 2, w, h),
                           spec.values))
        st.edge_labels = labels
        if placement.dropped:
            n = placement.dropped
            notes.append(f"{n} weight label{'s' if n > 1 else ''} left out (no room): "
                         f"hover {'those edges' if n > 1 else 'that edge'}")
        return notes

    def _placement(self, lay: Layout, wanted: np.ndarray, widths: np.ndarray,
                   highlighted: np.ndarray) -> Placement:
        """Where the labels go, so that labels stay put while numbers change.

        The places found with the layout are kept while every label fits the room it
        was given; a label that outgrows it (a longer number) has them found again,
        each label's room only ever growing. When a highlighted weight has no label,
        labels are placed again with highlighted weights first.
        """
        key = wanted.tobytes()
        base = self._placements.get(key)
        if base is None:
            if lay.placement is not None and wanted.all():
                base = lay.placement
            else:
                base = place_on_layout(lay, wanted, widths)
            self._placements = {key: base}
        grown = base.placed & (widths > base.widths + 0.5)
        if grown.any():
            base = place_on_layout(lay, wanted, np.maximum(base.widths, widths))
            self._placements = {key: base}
        if not len(highlighted) or base.placed[highlighted].all():
            return base
        key2 = (key, highlighted.tobytes())
        first = self._placements.get(key2)
        if first is None:
            priority = np.ones(lay.n_edges, dtype=np.int64)
            priority[highlighted] = 0
            first = self._placements[key2] = place_on_layout(lay, wanted, base.widths,
                                                             priority)
        return first

    def _legend(self, by_grad: bool) -> list[tuple[QtGui.QColor | None, str]]:
        st = self._state
        assert st.styler is not None and st.edges is not None and st.data is not None
        o = st.data.edge_override
        if o is not None:
            largest = format_value(st.edges.largest)
            return [(QtGui.QColor(st.palette.diff_positive), f"{o.symbol} > 0"),
                    (QtGui.QColor(st.palette.diff_negative), f"{o.symbol} < 0"),
                    (None, (f"{o.meaning}, " if o.meaning else "") + f"\u00b1{largest}"),
                    (None, f"line width \u221d |{o.symbol}|"),
                    (None, "unit fill: activation z (blue +, orange \u2212)"),
                    (None, "grey square: bias unit (always 1)")]
        pos = QtGui.QColor(st.palette.positive)
        neg = QtGui.QColor(st.palette.negative)
        what = "\u2202L/\u2202w" if by_grad else "w"
        means = st.data.values_are_means
        if by_grad and means:
            what = "mean \u2202L/\u2202w"
        out: list[tuple[QtGui.QColor | None, str]] = [
            (pos, f"{what} > 0"), (neg, f"{what} < 0")]
        if means:
            out.append((None, f"\u03b4{MEAN_MARK}: mean over the batch"))
        sym = "\u2202L/\u2202w" if by_grad else "w"
        out += [(None, f"line width \u221d |{sym}|, largest {format_value(st.edges.largest)}"),
                (None, "unit fill: activation z (blue +, orange \u2212)"
                 + (", or z over the input plane" if st.unit_maps else "")),
                (None, "grey square: bias unit (always 1)")]
        if len(self._input_labels) == st.data.layers[0]:
            # right after the colours: the legend drops what does not fit from the end
            out.insert(2, (None, "inputs: " + ", ".join(
                f"{names.unit_name(st.data.layers, 0, u)} = {t}"
                for u, t in enumerate(self._input_labels))))
        return out

    def _apply_palette(self) -> None:
        st = self._state
        st.palette = palette_for(self._theme, self._high_contrast)
        self._scene.setBackgroundBrush(QtGui.QColor(st.palette.background))

    def _require_layout(self) -> Layout:
        if self._state.layout is None:
            raise RuntimeError("NetworkCanvas has no data yet: call set_data first")
        return self._state.layout

    @staticmethod
    def _qsize(size: QtCore.QSize | tuple[int, int] | None, lay: Layout) -> QtCore.QSize:
        if size is None:
            return QtCore.QSize(int(round(lay.width)), int(round(lay.height)))
        if isinstance(size, QtCore.QSize):
            return size
        return QtCore.QSize(int(size[0]), int(size[1]))

    def _render(self, painter: QtGui.QPainter, target: QtCore.QRectF) -> None:
        painter.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing
                               | QtGui.QPainter.RenderHint.TextAntialiasing)
        st = self._state
        hover = st.hover_edge, st.hover_node
        st.hover_edge = st.hover_node = None  # exports show no hover marks
        try:
            self._scene.render(painter, target, st.rect(),
                               QtCore.Qt.AspectRatioMode.KeepAspectRatio)
        finally:
            st.hover_edge, st.hover_node = hover

    # -- hit testing ----------------------------------------------------------------------
    def _hit(self, pos: QtCore.QPoint) -> tuple[str, int] | None:
        lay = self._state.layout
        if lay is None or self._state.data is None:
            return None
        sp = self.mapToScene(pos)
        zoom = max(abs(self.transform().m11()), 1e-6)
        tol = HIT_TOLERANCE_PX / zoom
        node = lay.node_at(sp.x(), sp.y(), tol)
        if node is not None:
            return ("unit", node)
        if lay.loss is not None:
            x, y, w, h = lay.loss.rect
            if x - tol <= sp.x() <= x + w + tol and y - tol <= sp.y() <= y + h + tol:
                return ("loss", 0)
        fr = self._state.edges
        half = None if fr is None else lay.widths[fr.level] / 2
        edge = lay.edge_at(sp.x(), sp.y(), tol, half)
        if edge is not None:
            return ("edge", edge)
        return None

    def _describe_hit(self, hit: tuple[str, int] | None
                      ) -> names.WeightRef | tuple[int, int] | str | None:
        lay = self._state.layout
        if hit is None or lay is None:
            return None
        kind, k = hit
        if kind == "loss":
            return "loss"
        if kind == "unit":
            return (int(lay.node_layer[k]), int(lay.node_unit[k]))
        l, t, s = (int(v) for v in lay.edge_refs[k])
        return names.WeightRef(l, t, s)

    def _set_hover(self, hit: tuple[str, int] | None) -> None:
        st = self._state
        edge = hit[1] if hit and hit[0] == "edge" else None
        node = hit[1] if hit and hit[0] == "unit" else None
        if edge == st.hover_edge and node == st.hover_node:
            return
        edge_changed = edge != st.hover_edge
        node_changed = node != st.hover_node
        st.hover_edge, st.hover_node = edge, node
        described = self._describe_hit(hit)
        if edge_changed:
            self.weight_hovered.emit(described if edge is not None else None)
        if node_changed:
            self.unit_hovered.emit(described if node is not None else None)
        self.viewport().setCursor(QtCore.Qt.CursorShape.PointingHandCursor if hit
                                  else QtCore.Qt.CursorShape.ArrowCursor)
        self.viewport().update()

    # -- Qt events ------------------------------------------------------------------------
    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fitted and self._state.data is not None:
            self._relayout(self.viewport().size())

    def viewportEvent(self, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.ToolTip:
            text = self.tooltip_at(event.pos())
            if text:
                # Rich text only to size it for the room: 14 px at scale 1.
                body = "<br>".join(html.escape(line) for line in text.splitlines())
                px = int(round(14 * self._scale))
                QtWidgets.QToolTip.showText(
                    event.globalPos(), f"<div style='font-size:{px}px'>{body}</div>",
                    self.viewport())
            else:
                QtWidgets.QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:  # noqa: N802
        dy = event.angleDelta().y() or event.angleDelta().x()
        if not dy or self._state.layout is None:
            return
        zoom = abs(self.transform().m11())
        factor = float(np.clip(1.0015 ** dy, _MIN_ZOOM / zoom, _MAX_ZOOM / zoom))
        self.scale(factor, factor)
        self._fitted = False
        self._place_editor()
        event.accept()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 (Qt override)
        super().scrollContentsBy(dx, dy)
        self._place_editor()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self.close_weight_editor()  # a click away keeps the value typed
            self._press_pos = event.position().toPoint()
            self._press_label = self.label_at(self._press_pos)
            self._panning = False
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        pos = event.position().toPoint()
        edit = self._edit
        if edit is not None and edit.box is None:  # dragging a weight label
            self._drag_label(edit, pos.x(), event.modifiers())
            event.accept()
            return
        if self._press_pos is not None and event.buttons() & QtCore.Qt.MouseButton.LeftButton:
            delta = pos - self._press_pos
            moved = delta.manhattanLength() >= QtWidgets.QApplication.startDragDistance()
            if moved and not self._panning and self._press_label is not None:
                ref = self._press_label
                before = self._data_weight(ref)
                self._edit = WeightEdit(ref, before, before, None, float(self._press_pos.x()))
                self.weight_edit_started.emit(ref, before)
                self._drag_label(self._edit, pos.x(), event.modifiers())
                event.accept()
                return
            if not self._panning and moved:
                self._panning = True
                self.viewport().setCursor(QtCore.Qt.CursorShape.ClosedHandCursor)
            if self._panning:
                h, v = self.horizontalScrollBar(), self.verticalScrollBar()
                h.setValue(h.value() - delta.x())
                v.setValue(v.value() - delta.y())
                self._press_pos = pos
            event.accept()
            return
        hit = self._hit(pos)
        self._set_hover(hit)
        shape = QtCore.Qt.CursorShape
        self.viewport().setCursor(shape.SizeHorCursor if self.label_at(pos) is not None
                                  else shape.PointingHandCursor if hit else shape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self._edit is not None \
                and self._edit.box is None:  # the end of a drag on a weight label
            self._press_pos, self._press_label, self._panning = None, None, False
            self._finish_edit(self._edit, True)
            event.accept()
            return
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self._press_pos is not None:
            was_panning = self._panning
            self._press_pos, self._press_label, self._panning = None, None, False
            pos = event.position().toPoint()
            if was_panning:
                self._set_hover(self._hit(pos))
                self.viewport().setCursor(QtCore.Qt.CursorShape.ArrowCursor)
            else:
                found = self.item_at(pos)
                if isinstance(found, names.WeightRef):
                    self.weight_clicked.emit(found)
                elif isinstance(found, tuple):
                    self.unit_clicked.emit(found[0], found[1])
                elif found == "loss":
                    self.loss_clicked.emit()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        if self.item_at(event.position().toPoint()) is None:
            self.fit()
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def leaveEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802
        self._set_hover(None)
        super().leaveEvent(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802
        if event.key() == QtCore.Qt.Key.Key_Escape and self._edit is not None \
                and self._edit.box is None:  # Escape during a label drag: put it back
            self._press_pos, self._press_label = None, None
            self._finish_edit(self._edit, False)
            event.accept()
            return
        if event.key() in (QtCore.Qt.Key.Key_Home, QtCore.Qt.Key.Key_0):
            self.fit()
            event.accept()
            return
        super().keyPressEvent(event)
