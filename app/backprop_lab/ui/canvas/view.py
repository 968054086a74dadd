"""NetworkCanvas: the central node-link view of the network."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from ...engine import names
from ...engine.project import atomic_write
from .data import CanvasData
from .frame import Styler, make_edge_frame, make_unit_frame
from .items import CanvasState, EdgesItem, LabelsItem, OverlayItem, UnitsItem
from .layout import Layout, compute_layout
from .style import HIGH_CONTRAST, LIGHT, MAX_EDGE_LABELS, format_value

#: How far (screen pixels) a click may miss a line or a unit and still hit it.
HIT_TOLERANCE_PX = 5.0
_MIN_ZOOM, _MAX_ZOOM = 0.25, 16.0


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
    """

    weight_clicked = QtCore.Signal(object)
    unit_clicked = QtCore.Signal(int, int)
    weight_hovered = QtCore.Signal(object)
    unit_hovered = QtCore.Signal(object)

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
        self._color_by = "weight"
        self._scale = 1.0
        self._high_contrast = False
        self._fitted = True
        self._press_pos: QtCore.QPoint | None = None
        self._panning = False

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
        if old is None or old.layers != data.layers or self._state.layout is None:
            self._state.hover_edge = self._state.hover_node = None
            self.fit()
        else:
            self._refresh()

    def data(self) -> CanvasData | None:
        """The data shown, or None."""
        return self._state.data

    def set_show_weight_values(self, on: bool) -> None:
        """Write weight values on the edges.

        Parameters
        ----------
        on : bool
            Only networks with at most ``MAX_EDGE_LABELS`` edges get labels; bigger
            ones say so in a note (hover an edge to read it).
        """
        self._show_weight_values = bool(on)
        self._refresh()

    def set_show_unit_values(self, on: bool) -> None:
        """Write a and z under every unit.

        Parameters
        ----------
        on : bool
            Values are written only where there is room; otherwise a note says so.
        """
        self._show_unit_values = bool(on)
        self._relayout()

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

    def item_at(self, pos: QtCore.QPoint) -> names.WeightRef | tuple[int, int] | None:
        """What a click at a viewport position would hit.

        Parameters
        ----------
        pos : QPoint
            Viewport coordinates.

        Returns
        -------
        WeightRef, (layer, unit) or None
            Units win over edges; lines count as hit within ``HIT_TOLERANCE_PX``.
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
        return ""

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
            lines = [f"{name}: input {unit + 1}"]
        else:
            lines = [f"{name}: unit of the {where}, activation {data.activations[layer - 1]}"]
        if data.a is not None and layer > 0:
            lines.append(f"a (weighted input) = {float(data.a[layer - 1][unit])!r}")
        if data.z is not None:
            label = "z (input value)" if layer == 0 else "z = f(a)"
            lines.append(f"{label} = {float(data.z[layer][unit])!r}")
        if data.deltas is not None and layer > 0:
            lines.append(f"\u03b4 = \u2202L/\u2202a = {float(data.deltas[layer - 1][unit])!r}")
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
        if grad is not None:
            lines.append(f"gradient \u2202L/\u2202{wname} = {float(grad)!r}")
        lines.append("click to edit")
        return "\n".join(lines)

    def notes(self) -> list[str]:
        """Short notes drawn at the top right (what is hidden and why)."""
        return list(self._state.notes)

    def label_texts(self) -> list[str]:
        """Every number and caption currently written on the canvas."""
        st = self._state
        out = [st.caption] if st.caption else []
        out += st.edge_labels or []
        if st.units is not None and st.units.boxes and st.layout and st.layout.value_lines:
            for lines in st.units.boxes:
                out += lines
        return out

    def render_to_image(self, size: QtCore.QSize | tuple[int, int] | None = None
                        ) -> QtGui.QImage:
        """The whole network as an image (not just the zoomed part).

        Parameters
        ----------
        size : QSize or (width, height), optional
            Image size; defaults to the laid-out size. The drawing keeps its aspect
            ratio and is centred.

        Returns
        -------
        QImage
        """
        lay = self._require_layout()
        qsize = self._qsize(size, lay)
        image = QtGui.QImage(qsize, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QtGui.QColor(self._state.palette.background))
        painter = QtGui.QPainter(image)
        try:
            self._render(painter, QtCore.QRectF(0, 0, qsize.width(), qsize.height()))
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
            Image size; defaults to the laid-out size.

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
        qsize = self._qsize(size, lay)

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

    # -- building -------------------------------------------------------------------------
    def _value_lines(self) -> int:
        return (2 if self._show_unit_values else 0) + (1 if self._show_deltas else 0)

    def _relayout(self, size: QtCore.QSize | None = None) -> None:
        st = self._state
        if st.data is None:
            return
        if size is None:
            size = (self.viewport().size() if self._fitted or st.layout is None
                    else QtCore.QSize(int(st.layout.width), int(st.layout.height)))
        for item in self._items:
            item.prepareGeometryChange()
        st.layout = compute_layout(st.data.layers, size.width(), size.height(), self._scale,
                                   self._value_lines())
        lay = st.layout
        st.styler = Styler(st.palette, lay)
        r = lay.radius
        b = 0.88 * r
        st.node_rects = [QtCore.QRectF(x - b, y - b, 2 * b, 2 * b) if bias
                         else QtCore.QRectF(x - r, y - r, 2 * r, 2 * r)
                         for (x, y), bias in zip(lay.centers.tolist(), lay.node_bias.tolist())]
        rect = st.rect()
        self._scene.setSceneRect(rect)
        self.setSceneRect(rect)
        self._refresh()

    def _refresh(self) -> None:
        st = self._state
        data, lay = st.data, st.layout
        if data is None or lay is None:
            return
        notes = []
        by_grad = self._color_by == "gradient"
        if by_grad and (data.grad_weights is None or data.grad_biases is None):
            by_grad = False
            notes.append("No gradients yet: edges show weights")
        st.edges = make_edge_frame(lay, data, by_grad)
        st.units = make_unit_frame(lay, data, self._show_unit_values, self._show_deltas)
        st.edge_labels = None
        if self._show_weight_values:
            if lay.label_pos is not None:
                st.edge_labels = [format_value(v) for v in st.edges.values.tolist()]
            else:
                notes.append(f"Weight values: hover an edge ({lay.n_edges:,} edges, "
                             f"written for \u2264 {MAX_EDGE_LABELS})")
        if lay.values_wanted and not lay.value_lines:
            notes.append("Unit values: hover a unit (no room to write them)")
        st.notes = notes
        st.caption = data.caption
        st.legend = self._legend(by_grad)
        self.viewport().update()

    def _legend(self, by_grad: bool) -> list[tuple[QtGui.QColor | None, str]]:
        st = self._state
        assert st.styler is not None and st.edges is not None
        pos = QtGui.QColor(st.palette.positive)
        neg = QtGui.QColor(st.palette.negative)
        what = "\u2202L/\u2202w" if by_grad else "w"
        return [(pos, f"{what} > 0"), (neg, f"{what} < 0"),
                (None, f"line width \u221d |{what}|, largest {format_value(st.edges.largest)}"),
                (None, "unit fill: activation z (blue +, orange \u2212)"),
                (None, "grey square: bias unit (always 1)")]

    def _apply_palette(self) -> None:
        st = self._state
        st.palette = HIGH_CONTRAST if self._high_contrast else LIGHT
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
        fr = self._state.edges
        half = None if fr is None else lay.widths[fr.level] / 2
        edge = lay.edge_at(sp.x(), sp.y(), tol, half)
        if edge is not None:
            return ("edge", edge)
        return None

    def _describe_hit(self, hit: tuple[str, int] | None
                      ) -> names.WeightRef | tuple[int, int] | None:
        lay = self._state.layout
        if hit is None or lay is None:
            return None
        kind, k = hit
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
        event.accept()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self._press_pos = event.position().toPoint()
            self._panning = False
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        pos = event.position().toPoint()
        if self._press_pos is not None and event.buttons() & QtCore.Qt.MouseButton.LeftButton:
            delta = pos - self._press_pos
            if not self._panning and delta.manhattanLength() >= \
                    QtWidgets.QApplication.startDragDistance():
                self._panning = True
                self.viewport().setCursor(QtCore.Qt.CursorShape.ClosedHandCursor)
            if self._panning:
                h, v = self.horizontalScrollBar(), self.verticalScrollBar()
                h.setValue(h.value() - delta.x())
                v.setValue(v.value() - delta.y())
                self._press_pos = pos
            event.accept()
            return
        self._set_hover(self._hit(pos))
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self._press_pos is not None:
            was_panning = self._panning
            self._press_pos, self._panning = None, False
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
        if event.key() in (QtCore.Qt.Key.Key_Home, QtCore.Qt.Key.Key_0):
            self.fit()
            event.accept()
            return
        super().keyPressEvent(event)
