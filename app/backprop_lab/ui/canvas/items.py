"""The canvas's four graphics items. Each draws a whole class of things in one go
(all edges, all units, all text labels, the caption and legend), reading from a shared
``CanvasState``, so a new frame changes numbers, never items."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from .data import CanvasData
from .frame import EdgeFrame, Styler, UnitFrame
from .labels import Placement
from .layout import Layout
from .style import LIGHT, Palette, font

_LINE_BYTES = 32  # one QLineF: four float64


@dataclass
class CanvasState:
    """Everything the items draw; owned by the view, replaced piecewise."""

    palette: Palette = LIGHT
    data: CanvasData | None = None
    layout: Layout | None = None
    styler: Styler | None = None
    edges: EdgeFrame | None = None
    units: UnitFrame | None = None
    placement: Placement | None = None
    #: Weight labels drawn: (edge, text, rect, signed) per label; signed labels get a
    #: border in the colour of their value's sign.
    edge_labels: list[tuple[int, str, QtCore.QRectF, bool]] | None = None
    caption: str = ""
    notes: list[str] = field(default_factory=list)
    legend: list[tuple[QtGui.QColor | None, str]] = field(default_factory=list)
    hover_edge: int | None = None
    hover_node: int | None = None
    node_rects: list[QtCore.QRectF] = field(default_factory=list)
    #: small images drawn inside units: (layer, unit) -> (image, the array it reads)
    unit_maps: dict[tuple[int, int], tuple[QtGui.QImage, np.ndarray]] = field(
        default_factory=dict)
    unit_maps_version: int = 0  # counts the sets of unit maps given

    def rect(self) -> QtCore.QRectF:
        if self.layout is None:
            return QtCore.QRectF(0, 0, 1, 1)
        return QtCore.QRectF(0, 0, self.layout.width, self.layout.height)


_FONTS: dict[tuple, dict[str, QtGui.QFont]] = {}


def layout_fonts(lay: Layout) -> dict[str, QtGui.QFont]:
    """The fonts every piece of canvas text is drawn in, at one layout's sizes (scene px).

    Keys: ``name`` (unit names), ``outer_name``, ``value`` (value boxes), ``label``
    (weight labels), ``loss`` (target rows), ``loss_big`` (the L row), ``loss_head``,
    ``caption``, ``note``, ``legend``. A size of 0 means that text is not drawn.
    """
    key = (lay.name_px, lay.outer_name_px, lay.value_px, lay.label_px, lay.caption_px,
           lay.note_px, None if lay.loss is None else (lay.loss.px, lay.loss.head_px))
    fonts = _FONTS.get(key)
    if fonts is None:
        if len(_FONTS) > 64:
            _FONTS.clear()
        note = font(lay.note_px)
        note.setItalic(True)
        fonts = {
            "name": font(lay.name_px, bold=True), "outer_name": font(lay.outer_name_px, True),
            "value": font(lay.value_px, tight=True), "label": font(lay.label_px, tight=True),
            "caption": font(lay.caption_px, bold=True), "note": note,
            "legend": font(lay.note_px)}
        if lay.loss is not None:
            fonts["loss"] = font(lay.loss.px, tight=True)
            fonts["loss_big"] = font(lay.loss.big_px, bold=True, tight=True)
            fonts["loss_head"] = font(lay.loss.head_px)
        _FONTS[key] = fonts
    return fonts


def _lines(p: QtGui.QPainter, arr, start: int, count: int) -> None:
    """Draw ``count`` rows of a contiguous (n, 4) float64 array, zero-copy."""
    p.drawLines(shiboken6.wrapInstance(arr.ctypes.data + start * _LINE_BYTES, QtCore.QLineF),
                count)


class _Item(QtWidgets.QGraphicsItem):
    def __init__(self, state: CanvasState):
        super().__init__()
        self.state = state
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt override)
        return self.state.rect()


class EdgesItem(_Item):
    """All edges, drawn with ``drawLines`` in a few opaque pen buckets."""

    def paint(self, p: QtGui.QPainter, option, widget=None) -> None:
        st = self.state
        fr, lay, sty = st.edges, st.layout, st.styler
        if fr is None or lay is None or sty is None:
            return
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, lay.antialias)
        halo_done = not fr.halo_runs
        normal_start = 2 * len(lay.widths)
        for bucket, start, count in fr.runs:
            if not halo_done and bucket >= normal_start:
                self._halos(p, fr, lay, sty)
                halo_done = True
            p.setPen(sty.edge_pens[bucket])
            _lines(p, fr.segments, start, count)
        if not halo_done:
            self._halos(p, fr, lay, sty)
        k = st.hover_edge
        if k is not None and k < lay.n_edges:
            seg = lay.segments[k:k + 1]
            pen = QtGui.QPen(sty.hover_color, float(lay.widths[fr.level[k]]) + 6 * lay.text_scale)
            pen.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
            p.setPen(pen)
            _lines(p, seg, 0, 1)
            p.setPen(sty.edge_pens[int(fr.bucket[k])])
            _lines(p, seg, 0, 1)

    @staticmethod
    def _halos(p: QtGui.QPainter, fr: EdgeFrame, lay: Layout, sty: Styler) -> None:
        extra = max(7.0 * lay.text_scale, 0.5 * float(lay.widths[-1]))
        for level, start, count in fr.halo_runs:
            pen = QtGui.QPen(sty.halo_color, float(lay.widths[level]) + extra)
            pen.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
            p.setPen(pen)
            _lines(p, fr.halo, start, count)


class UnitsItem(_Item):
    """All units: circles filled by activation, bias units as grey dashed squares.

    On raster devices (the screen, PNG) every unit is a blit of a pre-drawn sprite at
    device resolution (one per fill colour; about 15x cheaper than an antialiased
    ``drawEllipse``); on vector devices (SVG) units are drawn as shapes.
    """

    def __init__(self, state: CanvasState):
        super().__init__(state)
        self._sprites: dict[int, QtGui.QImage] = {}
        self._sprite_key: tuple | None = None
        self._names: list[QtGui.QStaticText] = []
        self._names_key: tuple | None = None
        self._map_sprites: dict[int, QtGui.QImage] = {}
        self._map_key: tuple | None = None
        self._map_layout: Layout | None = None

    def paint(self, p: QtGui.QPainter, option, widget=None) -> None:
        st = self.state
        fr, lay, sty = st.units, st.layout, st.styler
        if fr is None or lay is None or sty is None:
            return
        rects = st.node_rects
        bias = lay.node_bias
        fill = fr.fill.tolist()
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        if fr.highlighted:
            p.setPen(sty.ring_pen)
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            grow = sty.ring_pen.widthF() / 2
            for k in fr.highlighted:
                r = rects[k].adjusted(-grow, -grow, grow, grow)
                p.drawRect(r) if bias[k] else p.drawEllipse(r)
        transform = p.worldTransform()
        raster = p.paintEngine().type() == QtGui.QPaintEngine.Type.Raster
        if raster and transform.type().value <= QtGui.QTransform.TransformationType.TxScale.value:
            self._blit_units(p, transform, fill)
        else:
            self._draw_units(p, fill)
        mapped = frozenset()
        if st.unit_maps:
            scaled = transform.type().value <= QtGui.QTransform.TransformationType.TxScale.value
            mapped = (self._blit_maps(p, transform) if raster and scaled
                      else self._draw_maps(p))
        if st.hover_node is not None and st.hover_node < len(rects):
            k = st.hover_node
            p.setPen(sty.hover_ring_pen)
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            grow = sty.hover_ring_pen.widthF() / 2 + sty.outline_pen.widthF()
            r = rects[k].adjusted(-grow, -grow, grow, grow)
            p.drawRect(r) if bias[k] else p.drawEllipse(r)
        if lay.name_px:
            self._draw_names(p, fill, raster, mapped)
        elif lay.outer_name_px:
            self._draw_outer_names(p)

    def _mapped(self) -> list[tuple[int, QtGui.QImage]]:
        """(node, image) of every unit map that belongs to a unit drawn now."""
        st = self.state
        lay = st.layout
        out = []
        for key, (img, _arr) in st.unit_maps.items():
            k = lay.node_index.get(key)
            if k is not None and not lay.node_bias[k] and k < len(st.node_rects):
                out.append((k, img))
        return out

    def _map_circle(self, p: QtGui.QPainter, img: QtGui.QImage, r: QtCore.QRectF,
                    k: int) -> None:
        """``img`` filling the circle in ``r`` (a texture brush: the edge stays
        antialiased), the outline on top, and node ``k``'s name in dark text on a light
        halo, readable on any map, if it is short enough to leave the map visible."""
        st = self.state
        lay, sty = st.layout, st.styler
        brush = QtGui.QBrush(img)
        t = QtGui.QTransform()
        t.translate(r.x(), r.y())
        t.scale(r.width() / img.width(), r.height() / img.height())
        brush.setTransform(t)
        p.setPen(sty.outline_pen)
        p.setBrush(brush)
        p.drawEllipse(r)
        if not lay.name_px:
            return
        f = layout_fonts(lay)["name"]
        path = QtGui.QPainterPath()
        fm = QtGui.QFontMetricsF(f)
        name = lay.names[k]
        if fm.horizontalAdvance(name) > 0.6 * r.width():
            return  # it would hide the map: hover names the unit
        c = r.center()
        path.addText(c.x() - fm.horizontalAdvance(name) / 2,
                     c.y() + (fm.ascent() - fm.descent()) / 2, f, name)
        halo = QtGui.QPen(QtGui.QColor(st.palette.plate), max(2.0, 0.22 * f.pixelSize()))
        halo.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
        p.strokePath(path, halo)
        p.fillPath(path, sty.text)

    def _draw_maps(self, p: QtGui.QPainter) -> frozenset[int]:
        """Each unit's map filling its circle, the outline on top (vector devices).
        Returns the nodes that got a map."""
        st = self.state
        p.save()
        p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
        drawn = []
        for k, img in self._mapped():
            self._map_circle(p, img, st.node_rects[k], k)
            drawn.append(k)
        p.restore()
        return frozenset(drawn)

    def _blit_maps(self, p: QtGui.QPainter, transform: QtGui.QTransform) -> frozenset[int]:
        """The maps as sprites at device resolution, made once per set of maps and zoom
        (the canvas repaints more often than the maps change)."""
        st = self.state
        lay, sty = st.layout, st.styler
        zoom = transform.m11()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        key = (st.unit_maps_version, id(sty), lay.radius, round(zoom, 4), dpr)
        # the layout itself, not its id, says which unit a node is (ids are reused)
        if key != self._map_key or self._map_layout is not lay:
            self._map_key, self._map_layout = key, lay
            self._map_sprites = {}
        margin = 2.0 + sty.outline_pen.widthF() * zoom
        half = lay.radius * zoom + margin
        p.save()
        p.setWorldTransform(QtGui.QTransform())
        drawn = []
        for k, img in self._mapped():
            sprite = self._map_sprites.get(k)
            if sprite is None:
                side = int(np.ceil(2 * half * dpr)) + 1
                sprite = QtGui.QImage(side, side,
                                      QtGui.QImage.Format.Format_ARGB32_Premultiplied)
                sprite.setDevicePixelRatio(dpr)
                sprite.fill(QtCore.Qt.GlobalColor.transparent)
                q = QtGui.QPainter(sprite)
                q.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
                q.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
                q.translate(half, half)
                q.scale(zoom, zoom)
                q.translate(-float(lay.centers[k][0]), -float(lay.centers[k][1]))
                self._map_circle(q, img, st.node_rects[k], k)
                q.end()
                self._map_sprites[k] = sprite
            x, y = lay.centers[k]
            cx = x * transform.m11() + transform.dx()
            cy = y * transform.m22() + transform.dy()
            p.drawImage(QtCore.QPointF(round(cx - half), round(cy - half)), sprite)
            drawn.append(k)
        p.restore()
        return frozenset(drawn)

    def _draw_units(self, p: QtGui.QPainter, fill: list[int]) -> None:
        st = self.state
        sty, bias, rects = st.styler, st.layout.node_bias, st.node_rects
        p.setPen(sty.bias_pen)
        p.setBrush(sty.bias_brush)
        for k in range(len(rects)):
            if bias[k]:
                p.drawRect(rects[k])
        p.setPen(sty.outline_pen)
        current = -1
        for k in sorted(range(len(rects)), key=fill.__getitem__):
            if bias[k]:
                continue
            if fill[k] != current:
                current = fill[k]
                p.setBrush(sty.fill_brushes[current])
            p.drawEllipse(rects[k])

    def _blit_units(self, p: QtGui.QPainter, transform: QtGui.QTransform,
                    fill: list[int]) -> None:
        st = self.state
        lay, sty = st.layout, st.styler
        zoom = transform.m11()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        key = (id(sty), lay.radius, round(zoom, 4), dpr)
        if key != self._sprite_key:
            self._sprites.clear()
            self._sprite_key = key
        margin = 2.0 + sty.outline_pen.widthF() * zoom
        half = lay.radius * zoom + margin
        centers = lay.centers * (transform.m11(), transform.m22()) + (transform.dx(),
                                                                       transform.dy())
        p.save()
        p.setWorldTransform(QtGui.QTransform())
        sprites = self._sprites
        for k, (x, y) in enumerate(centers.tolist()):
            idx = -1 if lay.node_bias[k] else fill[k]
            img = sprites.get(idx)
            if img is None:
                img = sprites[idx] = self._make_sprite(idx, zoom, half, dpr)
            p.drawImage(QtCore.QPointF(round(x - half), round(y - half)), img)
        p.restore()

    def _make_sprite(self, idx: int, zoom: float, half: float, dpr: float) -> QtGui.QImage:
        st = self.state
        lay, sty = st.layout, st.styler
        side = int(np.ceil(2 * half * dpr)) + 1
        img = QtGui.QImage(side, side, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        img.setDevicePixelRatio(dpr)
        img.fill(QtCore.Qt.GlobalColor.transparent)
        q = QtGui.QPainter(img)
        q.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        # Same sub-pixel phase as the blit (which rounds the corner to whole pixels).
        q.translate(half, half)
        q.scale(zoom, zoom)
        r = lay.radius
        if idx < 0:
            b = 0.88 * r
            q.setPen(sty.bias_pen)
            q.setBrush(sty.bias_brush)
            q.drawRect(QtCore.QRectF(-b, -b, 2 * b, 2 * b))
        else:
            q.setPen(sty.outline_pen)
            q.setBrush(sty.fill_brushes[idx])
            q.drawEllipse(QtCore.QRectF(-r, -r, 2 * r, 2 * r))
        q.end()
        return img

    def _draw_outer_names(self, p: QtGui.QPainter) -> None:
        st = self.state
        lay, sty = st.layout, st.styler
        p.setFont(layout_fonts(lay)["outer_name"])
        p.setPen(sty.text)
        last = len(lay.layers) - 1
        gap = lay.radius + 4 * lay.text_scale
        w, h = 80 * lay.text_scale, 2 * lay.outer_name_px
        vcenter = QtCore.Qt.AlignmentFlag.AlignVCenter
        for k, name in enumerate(lay.names):
            layer = lay.node_layer[k]
            if layer not in (0, last):
                continue
            x, y = lay.centers[k]
            if layer == 0:
                r = QtCore.QRectF(x - gap - w, y - h / 2, w, h)
                flags = QtCore.Qt.AlignmentFlag.AlignRight | vcenter
            elif lay.loss is not None:  # the right side holds the link to the loss node
                r = QtCore.QRectF(x - w / 2, y - gap - h, w, h)
                flags = QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignBottom
            else:
                r = QtCore.QRectF(x + gap, y - h / 2, w, h)
                flags = QtCore.Qt.AlignmentFlag.AlignLeft | vcenter
            p.drawText(r, int(flags), name)

    def _draw_names(self, p: QtGui.QPainter, fill: list[int], raster: bool,
                    mapped: frozenset[int] = frozenset()) -> None:
        """Unit names inside the units (units that show a map have theirs already)."""
        st = self.state
        lay, sty, rects = st.layout, st.styler, st.node_rects
        f = layout_fonts(lay)["name"]
        p.setFont(f)
        bias = lay.node_bias
        if not raster:
            center = int(QtCore.Qt.AlignmentFlag.AlignCenter)
            for k, name in enumerate(lay.names):
                if k in mapped:
                    continue
                p.setPen(sty.bias_text if bias[k] else sty.fill_text[fill[k]])
                p.drawText(rects[k].adjusted(-20, 0, 20, 0), center, name)
            return
        cached = self._names_key
        # The layout itself, not its id: a slide's passing layout may reuse an id.
        if cached is None or cached[0] is not lay or cached[1] != lay.name_px:
            self._names_key = (lay, lay.name_px)
            self._names = []
            for name in lay.names:
                text = QtGui.QStaticText(name)
                text.setTextFormat(QtCore.Qt.TextFormat.PlainText)
                text.prepare(QtGui.QTransform(), f)
                self._names.append(text)
        for k, text in enumerate(self._names):
            if k in mapped:
                continue
            p.setPen(sty.bias_text if bias[k] else sty.fill_text[fill[k]])
            size = text.size()
            c = rects[k].center()
            p.drawStaticText(QtCore.QPointF(c.x() - size.width() / 2,
                                            c.y() - size.height() / 2), text)


class LabelsItem(_Item):
    """Numbers: weight labels on edges and the a, z, delta boxes of the units."""

    def __init__(self, state: CanvasState):
        super().__init__(state)
        self._geometry_key: tuple | None = None
        self._geometry: tuple[list[QtCore.QRectF], list[QtCore.QPointF]] = ([], [])

    def paint(self, p: QtGui.QPainter, option, widget=None) -> None:
        st = self.state
        lay, sty = st.layout, st.styler
        if lay is None or sty is None:
            return
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        fonts = layout_fonts(lay)
        center = int(QtCore.Qt.AlignmentFlag.AlignCenter)
        s = lay.text_scale
        if st.edge_labels and st.edges is not None:
            p.setFont(fonts["label"])
            neg = st.edges.negative
            p.setBrush(sty.plate_brush)
            radius = 4 * s
            for k, text, rect, signed in st.edge_labels:
                p.setPen(sty.label_pens[int(neg[k])] if signed else sty.neutral_label_pen)
                p.drawRoundedRect(rect, radius, radius)
                p.setPen(sty.text)
                p.drawText(rect, center, text)
        boxes = st.units.boxes if st.units is not None else None
        if boxes and lay.value_lines:
            self._boxes(p, boxes, fonts["value"])
        if st.units is not None and st.units.loss_lines is not None and lay.loss is not None:
            self._loss_node(p, st.units.loss_lines)

    def _box_geometry(self, boxes: list[list[str]], value_font: QtGui.QFont
                      ) -> tuple[list[QtCore.QRectF], list[tuple[int, int, QtCore.QPointF]]]:
        """Plates and text baselines of the value boxes (cached per layout and shape):
        the plates, and (node, line, baseline point) for every line."""
        st = self.state
        lay = st.layout
        counts = tuple(len(lines) for lines in boxes)
        cached = self._geometry_key
        # The layout itself, not its id, is the key: ids are reused.
        if cached is not None and cached[0] is lay and cached[1] == counts:
            return self._geometry
        fm = QtGui.QFontMetricsF(value_font)
        base = (lay.line_h + fm.ascent() - fm.descent()) / 2
        pad = lay.box_pad
        rects, points = [], []
        for k, n in enumerate(counts):
            if not n or not np.isfinite(lay.boxes[k]).all():
                continue
            x, y, w, h, cols = lay.drawn_box(k, n)
            # Whole pixels: crisp borders without antialiasing.
            rects.append(QtCore.QRectF(round(x) + 0.5, round(y) + 0.5, round(w), round(h)))
            for i in range(n):
                row, col = divmod(i, cols)
                points.append((k, i, QtCore.QPointF(
                    x + 2 * pad + col * (lay.item_w + lay.item_sep),
                    y + pad + row * lay.line_h + base)))
        self._geometry_key, self._geometry = (lay, counts), (rects, points)
        return rects, points

    def _boxes(self, p: QtGui.QPainter, boxes: list[list[str]], value_font: QtGui.QFont
               ) -> None:
        sty = self.state.styler
        rects, points = self._box_geometry(boxes, value_font)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        p.setPen(sty.box_pen)
        p.setBrush(sty.plate_brush)
        p.drawRects(rects)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setFont(value_font)
        p.setPen(sty.text)
        draw = p.drawText
        for k, i, point in points:
            draw(point, boxes[k][i])

    def _loss_node(self, p: QtGui.QPainter, lines: list[str]) -> None:
        st = self.state
        lay, sty = st.layout, st.styler
        g = lay.loss
        assert g is not None and st.data is not None
        fonts = layout_fonts(lay)
        s = lay.text_scale
        x, y, w, h = g.rect
        rect = QtCore.QRectF(x, y, w, h)
        # Links from every output unit to its target row (or to the L row).
        p.setPen(sty.link_pen)
        out0 = lay.node_index[(len(lay.layers) - 1, 0)]
        for i, (ax, ay) in enumerate(g.anchors.tolist()):
            cx, cy = lay.centers[out0 + i]
            dx, dy = ax - cx, ay - cy
            d = max((dx * dx + dy * dy) ** 0.5, 1e-9)
            start = QtCore.QPointF(cx + dx / d * lay.radius, cy + dy / d * lay.radius)
            p.drawLine(start, QtCore.QPointF(ax, ay))
        if st.data.highlight_loss:
            p.setPen(sty.ring_pen)
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            grow = sty.ring_pen.widthF() / 2
            p.drawRoundedRect(rect.adjusted(-grow, -grow, grow, grow), 6 * s + grow, 6 * s + grow)
        p.setPen(sty.loss_pen)
        p.setBrush(sty.plate_brush)
        p.drawRoundedRect(rect, 6 * s, 6 * s)
        inner = rect.adjusted(g.pad * 2, g.pad, -g.pad * 2, -g.pad)
        head = st.data.loss_label or "loss"
        p.setFont(fonts["loss_head"])
        p.setPen(sty.muted)
        head_rect = QtCore.QRectF(inner.x(), inner.y(), inner.width(), g.head_h)
        p.drawText(head_rect, int(QtCore.Qt.AlignmentFlag.AlignLeft
                                  | QtCore.Qt.AlignmentFlag.AlignVCenter
                                  | QtCore.Qt.TextFlag.TextWordWrap), head)
        left = int(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
        p.setPen(sty.text)
        p.setFont(fonts["loss"])
        targets = lines[:-1]
        for text, ry in zip(targets, g.rows_y.tolist()):
            p.drawText(QtCore.QRectF(inner.x(), ry - g.line_h / 2, inner.width(), g.line_h),
                       left, text)
        p.setFont(fonts["loss_big"])
        big_h = g.big_px * 1.3
        p.drawText(QtCore.QRectF(inner.x(), g.l_y - big_h / 2, inner.width(), big_h), left,
                   lines[-1])


class OverlayItem(_Item):
    """Caption (top left), notes (top right) and the colour legend (bottom)."""

    def paint(self, p: QtGui.QPainter, option, widget=None) -> None:
        st = self.state
        lay, sty = st.layout, st.styler
        if lay is None or sty is None:
            return
        s = lay.text_scale
        fonts = layout_fonts(lay)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        margin = 14 * s
        top = QtCore.QRectF(margin, 0, lay.width - 2 * margin, lay.top_band)
        vcenter = QtCore.Qt.AlignmentFlag.AlignVCenter
        caption_w = 0.0
        if st.caption:
            f = fonts["caption"]
            p.setFont(f)
            p.setPen(sty.text)
            fm = QtGui.QFontMetricsF(f)
            room = top.width() * (0.62 if st.notes else 1.0)
            caption = fm.elidedText(st.caption, QtCore.Qt.TextElideMode.ElideRight, room)
            p.drawText(top, int(QtCore.Qt.AlignmentFlag.AlignLeft | vcenter), caption)
            caption_w = fm.horizontalAdvance(caption) + 24 * s
        if st.notes:
            p.setFont(fonts["note"])
            p.setPen(sty.muted)
            area = top.adjusted(caption_w, 0, 0, 0)
            p.drawText(area, int(QtCore.Qt.AlignmentFlag.AlignRight | vcenter
                                 | QtCore.Qt.TextFlag.TextWordWrap), "  \u00b7  ".join(st.notes))
        if st.legend:
            f = fonts["legend"]
            p.setFont(f)
            fm = QtGui.QFontMetricsF(f)
            y = lay.height - lay.bottom_band / 2
            x = margin
            swatch = 22 * s
            right = lay.width - margin
            for color, text in st.legend:
                w = fm.horizontalAdvance(text)
                need = w + (swatch + 6 * s if color is not None else 0.0)
                if x + need > right:
                    break  # an entry is written whole or not at all
                if color is not None:
                    p.setPen(QtGui.QPen(color, 4 * s))
                    p.drawLine(QtCore.QPointF(x, y), QtCore.QPointF(x + swatch, y))
                    x += swatch + 6 * s
                p.setPen(sty.muted)
                p.drawText(QtCore.QRectF(x, y - lay.note_px, w + 2, 2 * lay.note_px),
                           int(QtCore.Qt.AlignmentFlag.AlignLeft | vcenter), text)
                x += w + 18 * s
