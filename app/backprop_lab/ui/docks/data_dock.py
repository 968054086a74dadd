"""The data dock: the training points over what the network computes across the input plane.

A grid of 100 x 100 cells over the raw inputs' range (``engine.grid.plane``: the data's
own features and normalisation) goes through one vectorised forward pass of the newest
weights (``engine.grid.maps``) on the UI thread, about a millisecond and a half for the
spiral network; the maps become colours here and nothing else is computed. While
training runs the picture is redrawn with a snapshot at most every ``REDRAW_MS`` (about
30 times a second, in step with the canvas, so maps inside the canvas's units cost no
extra canvas frame), and less often when a redraw costs more than ``1 / BUDGET_SHARE``
of that time (a slow or busy machine): the dock keeps to its share of the frame budget.
A skipped snapshot arms superqt's throttler, so the newest weights are always drawn
last. Nothing is computed while the dock is hidden, unless the canvas
shows unit maps.

Colours (colour-blind safe, the canvas's own blue and orange):

- two classes (one 0/1 target): orange for class 0, blue for class 1, pale at an output
  of 0.5; a diverging map with its colour bar;
- three or more classes (one-hot targets): one Okabe-Ito colour per class, the winning
  class's probability as its strength (white where the network cannot decide);
- regression: orange (smallest target) through white to blue (largest), with a colour bar
  in target units;
- one unit's map (hover or click a unit on the canvas): its activation z, blue +,
  orange −, scaled as the canvas fills its units.

"Discretise" draws flat class regions and the decision boundary (the 0.5 contour, or
where the winning class changes; for a unit, where its activation crosses 0, or 0.5 for a
sigmoid), or ten bands for regression. Every point is a sample: click it to select it
(the canvas, the formulas and the stepper follow), hover it for its numbers; clicks on
empty space add points and Shift+click deletes one (``controller.data_edits``).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import QSignalThrottler

from ...controller.data_edits import PointEditor, click_target, n_classes
from ...engine import grid as grid_mod
from ...engine import losses, metrics
from ...engine.names import unit_name
from ..canvas.style import LIGHT
from ..plot_style import TEXT_COLOR, dock_body, scale_axes, scaled_font, style_axes

BACKGROUND = "#fbfbfb"
WHITE = "#ffffff"
#: class 0 and class 1 are the canvas's orange and blue (negative and positive); then
#: Okabe-Ito colours, told apart with the common colour-vision deficiencies
CLASS_COLORS = (LIGHT.negative, LIGHT.positive, "#009E73", "#CC79A7", "#F0E442", "#56B4E9",
                "#8C510A", "#000000", "#999999", "#762A83")
POINT_OUTLINE = "#1a1a1a"
SELECTED_COLOR = LIGHT.highlight
BOUNDARY_COLOR = "#202020"
#: how strongly the background map is tinted at most (points are drawn at full strength)
HEAT_STRENGTH = 0.75
FLAT_STRENGTH = 0.45  # discretised regions
UNIT_STRENGTH = 0.9  # maps inside the canvas's units
CELLS = 100
UNIT_MAP_STEP = 3  # the canvas's unit maps use every third cell: 34 x 34 images
REGRESSION_BANDS = 10
REDRAW_MS = 30  # a redraw at most every other snapshot (snapshots come every 16 ms)
#: a redraw may take at most this share of the time between redraws (paint not counted)
BUDGET_SHARE = 0.08
METRICS_MS = 250  # the metrics text changes at most 4 times a second, so it can be read
HIT_PX = 6.0  # a click this close to a point's marker (screen pixels) is on the point
DELETE_PX = 24.0  # Shift+click deletes the nearest point this close
LUT_SIZE = 256


# -- colours ----------------------------------------------------------------------------
def _rgb(color: str) -> np.ndarray:
    c = QtGui.QColor(color)
    return np.array([c.redF(), c.greenF(), c.blueF()])


def _to_u8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def diverging_lut(strength: float, negative: str = LIGHT.negative,
                  positive: str = LIGHT.positive) -> np.ndarray:
    """(LUT_SIZE, 3) uint8: index 0 is ``negative`` at ``strength`` (pre-mixed with white),
    the middle white, the last ``positive``; for values -1 .. 1."""
    s = np.linspace(-1.0, 1.0, LUT_SIZE)[:, None]
    base = np.where(s < 0, _rgb(negative), _rgb(positive))
    white = _rgb(WHITE)
    return _to_u8(white + (base - white) * (np.abs(s) * strength))


def rgb32(lut: np.ndarray) -> np.ndarray:
    """uint8 RGB colours (..., 3) as opaque 32-bit pixels 0xffRRGGBB (QImage RGB32: drawn
    without a conversion, about three times faster than 24-bit RGB)."""
    c = lut.astype(np.uint32)
    return (0xFF000000 | (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]).astype(np.uint32)


def class_luts(k: int, strength: float) -> np.ndarray:
    """(k, LUT_SIZE, 3) uint8: class c from white (index 0) to its colour at ``strength``."""
    t = np.linspace(0.0, 1.0, LUT_SIZE)[None, :, None]
    cols = np.array([_rgb(class_color(c)) for c in range(k)])[:, None, :]
    white = _rgb(WHITE)
    return _to_u8(white + (cols - white) * (t * strength))


def class_color(c: int) -> str:
    return CLASS_COLORS[c % len(CLASS_COLORS)]


def signed_index(s: np.ndarray) -> np.ndarray:
    """Values -1 .. 1 (clipped; NaN counts as 0) as indices into a diverging LUT."""
    s = np.nan_to_num(np.asarray(s, dtype=np.float64), nan=0.0)
    return ((np.clip(s, -1.0, 1.0) + 1.0) * (0.5 * (LUT_SIZE - 1)) + 0.5).astype(np.intp)


def unit_scale(values: np.ndarray) -> float:
    """What a unit's map is divided by: max(1, largest |value|), as the canvas fills."""
    finite = np.abs(values[np.isfinite(values)])
    return max(1.0, float(finite.max())) if finite.size else 1.0


def activation_level(activation: str) -> float:
    """Where a unit's activation changes sign in meaning: 0.5 for sigmoid, else 0."""
    return 0.5 if activation == "sigmoid" else 0.0


def contour_segments(f: np.ndarray, xs: np.ndarray, ys: np.ndarray, level: float
                     ) -> np.ndarray:
    """The curve ``f = level`` as line segments, shape (n, 4): x1, y1, x2, y2.

    ``f`` has shape (len(ys), len(xs)), sampled at (xs[ix], ys[iy]). Marching squares,
    vectorised over the cells; a saddle cell is resolved by the mean of its corners."""
    a = np.nan_to_num(np.asarray(f, dtype=np.float64) - level, nan=0.0)
    ny, nx = a.shape
    if nx < 2 or ny < 2:
        return np.zeros((0, 4))
    pos = a >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        th = a[:, :-1] / (a[:, :-1] - a[:, 1:])
        tv = a[:-1, :] / (a[:-1, :] - a[1:, :])
    hx = xs[None, :-1] + th * np.diff(xs)[None, :]
    hy = np.broadcast_to(ys[:, None], th.shape)
    vx = np.broadcast_to(xs[None, :], tv.shape)
    vy = ys[:-1, None] + tv * np.diff(ys)[:, None]
    ch = pos[:, :-1] != pos[:, 1:]
    cv = pos[:-1, :] != pos[1:, :]
    # the edges of cell (iy, ix) in order around it: bottom, right, top, left
    X = np.stack([hx[:-1], vx[:, 1:], hx[1:], vx[:, :-1]])
    Y = np.stack([hy[:-1], vy[:, 1:], hy[1:], vy[:, :-1]])
    C = np.stack([ch[:-1], cv[:, 1:], ch[1:], cv[:, :-1]])
    n = C.sum(axis=0)
    parts = []
    two = n == 2
    if two.any():
        Xt, Yt, Ct = X[:, two], Y[:, two], C[:, two]
        order = np.argsort(~Ct, axis=0, kind="stable")[:2]
        cols = np.arange(Xt.shape[1])
        parts.append(np.column_stack([Xt[order[0], cols], Yt[order[0], cols],
                                      Xt[order[1], cols], Yt[order[1], cols]]))
    four = n == 4
    if four.any():
        corners = (a[:-1, :-1] + a[:-1, 1:] + a[1:, :-1] + a[1:, 1:])[four] / 4.0
        same = (corners >= 0) == pos[:-1, :-1][four]
        Xf, Yf = X[:, four], Y[:, four]
        b, r, t, l = 0, 1, 2, 3
        for e1, e2, f1, f2 in ((b, r, l, b), (t, l, r, t)):
            first = np.where(same, e1, f1)
            second = np.where(same, e2, f2)
            cols = np.arange(Xf.shape[1])
            parts.append(np.column_stack([Xf[first, cols], Yf[first, cols],
                                          Xf[second, cols], Yf[second, cols]]))
    if not parts:
        return np.zeros((0, 4))
    return np.ascontiguousarray(np.vstack(parts))


def _fmt(v: float) -> str:
    return f"{v:.3g}".replace("-", "\u2212")


def _vec(values) -> str:
    values = np.ravel(values)
    if len(values) == 1:
        return _fmt(values[0])
    return "(" + ", ".join(_fmt(v) for v in values) + ")"


class _PlaneBox(pg.ViewBox):
    """The plot's view box: clicks and drags go to the dock (no pan, zoom or menu)."""

    def __init__(self, dock: DataDock):
        super().__init__(enableMenu=False)
        self._dock = dock
        self.setMouseEnabled(x=False, y=False)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph override)
        ev.accept()
        self._dock._on_click(self.mapToView(ev.pos()), ev.button(), ev.modifiers())

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph override)
        self._dock._on_drag(ev)

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph override)
        ev.ignore()


class _Picture(pg.GraphicsObject):
    """The coloured grid: one 32-bit image stretched over a rectangle in data units, its
    first row at the rectangle's lower y (the view's y axis points up)."""

    def __init__(self):
        super().__init__()
        self._rect = QtCore.QRectF(0.0, 0.0, 1.0, 1.0)
        self._pixels: np.ndarray | None = None
        self._qimage: QtGui.QImage | None = None

    def setRect(self, rect: QtCore.QRectF) -> None:  # noqa: N802 (as pyqtgraph's items)
        self.prepareGeometryChange()
        self._rect = QtCore.QRectF(rect)
        self.update()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt override)
        return QtCore.QRectF(self._rect)

    def set_pixels(self, pixels: np.ndarray) -> None:
        """Show ``pixels``, (ny, nx) uint32 0xffRRGGBB (kept: the image reads them)."""
        self._pixels = np.ascontiguousarray(pixels, dtype=np.uint32)
        h, w = self._pixels.shape
        self._qimage = QtGui.QImage(self._pixels.data, w, h, 4 * w,
                                    QtGui.QImage.Format.Format_RGB32)
        self.update()

    def pixels(self) -> np.ndarray | None:
        return self._pixels

    def paint(self, p: QtGui.QPainter, *_args) -> None:
        if self._qimage is None:
            return
        p.drawImage(self._rect, self._qimage)


class _Points(pg.ScatterPlotItem):
    """Points that leave clicks to the view box (the dock decides what a click does)."""

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph override)
        ev.ignore()


class DataDock(QtWidgets.QDockWidget):
    """The training (and test) points over the network's output across the input plane.

    Signals
    -------
    unit_maps_changed(dict or None)
        New maps for the canvas's units while "Maps in units" is on: {(layer, unit):
        (h, w, 3) uint8 RGB, row 0 at the top}; None when it is switched off. Connect it
        to ``NetworkCanvas.set_unit_maps``.
    """

    unit_maps_changed = QtCore.Signal(object)

    def __init__(self, session, editor: PointEditor | None = None,
                 parent: QtWidgets.QWidget | None = None):
        super().__init__("Data", parent)
        self.setObjectName("data_dock")
        self._session = session
        self.editor = editor if editor is not None else PointEditor(session, parent=self)
        self._scale = 1.0
        self._grid: grid_mod.Grid | None = None
        self._bounds: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._maps: grid_mod.Maps | None = None
        self._maps_params: np.ndarray | None = None
        self._maps_units = False
        self._mode = "binary"  # binary, classes, regression
        self._k = 2
        self._y_range = (0.0, 1.0)
        self._pinned: tuple[int, int] | None = None
        self._hovered: tuple[int, int] | None = None
        self._shown: tuple[int, int] | None = None  # the unit whose map is shown
        self._values: np.ndarray | None = None  # the map shown, (ny, nx)
        self._unit_maps_on = False
        self._input_images: dict[tuple[int, int], np.ndarray] = {}
        self._last_metrics = -1e9
        self._last_refresh = -1e9
        self._cost_ms = 0.0  # a running mean of what a redraw costs
        #: the time between redraws while training: REDRAW_MS, or more on a slow machine
        self.interval_ms = float(REDRAW_MS)
        self._metrics: dict | None = None
        self._drag: tuple[str, int] | None = None
        self._editable = True
        self._supported = True
        self._lut = diverging_lut(HEAT_STRENGTH)
        self._lut32 = rgb32(self._lut)
        self._flat_lut32 = rgb32(diverging_lut(FLAT_STRENGTH))
        self._unit_lut = diverging_lut(UNIT_STRENGTH)
        self._class_luts32 = rgb32(class_luts(2, HEAT_STRENGTH))
        self._class_unit_luts = class_luts(2, UNIT_STRENGTH)
        #: milliseconds of the last redraw's parts: the forward pass over the grid
        #: (``maps_ms``), colouring the picture, the canvas's unit maps, the metrics
        self.timings: dict[str, float] = {}
        self.redraws = 0  # redraws so far (the benchmark counts them)

        self._build()
        # catches the snapshots skipped by _schedule_redraw: the newest weights last
        self._redraw = QSignalThrottler(QSignalThrottler.EmissionPolicy.Trailing, parent=self)
        self._redraw.setTimeout(REDRAW_MS)
        self._redraw.triggered.connect(self.refresh)
        session.structure_changed.connect(self._on_structure_changed)
        session.data_changed.connect(self._on_data_changed)
        session.snapshot_changed.connect(self._schedule_redraw)
        session.selected_sample_changed.connect(self._on_selected)
        self.set_scale(1.0)
        self._on_structure_changed()

    # -- widgets ------------------------------------------------------------------------
    def _build(self) -> None:
        body, layout, bar = dock_body(self, 3, 10)
        self.test_check = QtWidgets.QCheckBox("Test points")
        self.test_check.setToolTip("Show the test points too, drawn hollow: the network "
                                   "never trains on them")
        self.test_check.toggled.connect(self._update_points)
        bar.addWidget(self.test_check)
        self.discrete_check = QtWidgets.QCheckBox("Discretise")
        self.discrete_check.setToolTip("Flat class regions and the decision boundary (the "
                                       "0.5 contour, or where the winning class changes); "
                                       "ten bands for regression")
        self.discrete_check.toggled.connect(lambda _on: self.refresh(force=True))
        bar.addWidget(self.discrete_check)
        self.unit_maps_action = QtGui.QAction("Maps in units", self)
        self.unit_maps_action.setCheckable(True)
        self.unit_maps_action.setToolTip("Draw each unit's map over the input plane inside "
                                         "its circle on the network canvas")
        self.unit_maps_action.toggled.connect(self.set_unit_maps)
        self.unit_maps_check = QtWidgets.QCheckBox("Maps in units")
        self.unit_maps_check.setToolTip(self.unit_maps_action.toolTip())
        self.unit_maps_check.toggled.connect(self.unit_maps_action.setChecked)
        bar.addWidget(self.unit_maps_check)
        self.class_label = QtWidgets.QLabel("Adds")
        self.class_combo = QtWidgets.QComboBox()
        self.class_combo.setObjectName("data_class_combo")
        self.class_combo.setToolTip("The class a click adds (a right-click adds class 0)")
        self.class_combo.setFocusPolicy(QtCore.Qt.ClickFocus)
        self.class_combo.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToContents)
        self.class_combo.currentIndexChanged.connect(lambda _i: self._update_hint())
        bar.addStretch(1)
        self.controls = QtWidgets.QWidget()
        self.controls.setLayout(bar)
        bar.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)

        head = QtWidgets.QHBoxLayout()
        self.caption_label = QtWidgets.QLabel("")
        self.caption_label.setObjectName("data_caption")
        self.caption_label.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                         QtWidgets.QSizePolicy.Preferred)
        head.addWidget(self.caption_label, 1)
        head.addWidget(self.class_label)  # here, not in the bar: the dock stays narrow
        head.addWidget(self.class_combo)
        self.output_button = QtWidgets.QPushButton("Show output")
        self.output_button.setToolTip("Back to the network's output (hover or click a unit "
                                      "on the canvas to see its map)")
        self.output_button.clicked.connect(lambda: self.pin_unit(-1, -1))
        self.output_button.setFocusPolicy(QtCore.Qt.ClickFocus)
        head.addWidget(self.output_button)
        layout.addLayout(head)

        self.stack = QtWidgets.QStackedWidget()
        self.plot_widget = pg.GraphicsLayoutWidget()
        self.plot_widget.setBackground(BACKGROUND)
        self.plot_widget.setMinimumSize(200, 160)
        self.plot_widget.setMouseTracking(True)
        self.stack.addWidget(self.plot_widget)
        self.message_label = QtWidgets.QLabel("")
        self.message_label.setObjectName("data_message")
        self.message_label.setWordWrap(True)
        self.message_label.setAlignment(QtCore.Qt.AlignCenter)
        self.stack.addWidget(self.message_label)
        layout.addWidget(self.stack, 1)

        self.readout_label = QtWidgets.QLabel("")
        self.readout_label.setObjectName("data_readout")
        self.readout_label.setWordWrap(True)
        self.readout_label.setTextFormat(QtCore.Qt.PlainText)
        self.readout_label.setAlignment(QtCore.Qt.AlignLeft | QtCore.Qt.AlignTop)
        self.readout_label.setToolTip("The point or place under the mouse: its inputs, "
                                      "target, the network's output and the sample's loss")
        layout.addWidget(self.readout_label)
        bottom = QtWidgets.QHBoxLayout()
        self.metrics_label = QtWidgets.QLabel("")
        self.metrics_label.setObjectName("data_metrics")
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setToolTip("How well the current weights fit the data: accuracy "
                                      "for classes, R\u00b2 and RMSE for regression")
        bottom.addWidget(self.metrics_label, 1)
        self.confusion_label = QtWidgets.QLabel("")
        self.confusion_label.setObjectName("data_confusion")
        self.confusion_label.setTextFormat(QtCore.Qt.RichText)
        self.confusion_label.setToolTip("Confusion matrix of the training samples: rows are "
                                        "the true class, columns the class the network "
                                        "gives")
        bottom.addWidget(self.confusion_label, 0, QtCore.Qt.AlignTop)
        layout.addLayout(bottom)
        self.setWidget(body)

        self.box = _PlaneBox(self)
        self.plot: pg.PlotItem = self.plot_widget.addPlot(row=0, col=0, viewBox=self.box)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        style_axes(self.plot, grid=False)
        self.image = _Picture()
        self.plot.addItem(self.image)
        self.boundary = pg.PlotCurveItem(connect="pairs", antialias=True)
        self.plot.addItem(self.boundary)
        self.train_points = _Points(pxMode=True)
        self.test_points = _Points(pxMode=True)
        self.selected_point = _Points(pxMode=True)
        for z, item in enumerate((self.test_points, self.train_points, self.selected_point)):
            item.setZValue(10 + z)
            self.plot.addItem(item)
        try:  # no colour-map menu: the palette follows the task (pyqtgraph >= 0.13.4)
            self.color_bar = pg.ColorBarItem(values=(0.0, 1.0), width=14, interactive=False,
                                             colorMapMenu=False, pen=TEXT_COLOR)
        except TypeError:  # an older pyqtgraph has no such menu to turn off
            self.color_bar = pg.ColorBarItem(values=(0.0, 1.0), width=14, interactive=False,
                                             pen=TEXT_COLOR)
        self.plot_widget.addItem(self.color_bar, row=0, col=1)
        style_axes(self.color_bar, grid=False, sides=("right",))
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.box.sigRangeChanged.connect(self._on_range_changed)
        self.plot_widget.viewport().installEventFilter(self)

    # -- presentation -------------------------------------------------------------------
    def set_scale(self, factor: float) -> None:
        """Scale fonts and point sizes (presentation mode: ``factor`` 1.5 or 2)."""
        self._scale = max(0.5, float(factor))
        font = scaled_font(self._scale)
        self.widget().setFont(font)
        scale_axes(self.plot, font, self._scale, "\u22120.00")
        bar_axis = self.color_bar.getAxis("right")
        bar_axis.setTickFont(font)
        # text that changes as the mouse moves must not change the plot's size
        lines = QtGui.QFontMetrics(font).lineSpacing()
        self.readout_label.setFixedHeight((3 if self._scale >= 1.3 else 2) * lines + 4)
        self.metrics_label.setMinimumHeight(lines + 4)
        if self._grid is not None:
            self._update_points()

    def scale(self) -> float:
        return self._scale

    # -- what the window and tests use ---------------------------------------------------
    @property
    def grid(self) -> grid_mod.Grid | None:
        """The grid of the picture (None when the data has no 2-D plane)."""
        return self._grid

    @property
    def values(self) -> np.ndarray | None:
        """The map shown, (ny, nx), row iy at ``grid.ys[iy]``: the output (for several
        classes, the winning class's output), or the shown unit's activation."""
        return self._values

    @property
    def maps(self) -> grid_mod.Maps | None:
        """The maps of the last redraw (the engine's forward pass over the grid)."""
        return self._maps

    @property
    def mode(self) -> str:
        """"binary", "classes" or "regression": how the output is coloured."""
        return self._mode

    @property
    def shown_unit(self) -> tuple[int, int] | None:
        """The unit whose map is shown, (layer, unit), or None for the output."""
        return self._shown

    def image_rgb(self) -> np.ndarray | None:
        """The colours of the picture, (ny, nx, 3) uint8, row iy at ``grid.ys[iy]``."""
        px = self.image.pixels()
        if px is None:
            return None
        return np.stack([(px >> 16) & 0xFF, (px >> 8) & 0xFF, px & 0xFF], axis=-1).astype(
            np.uint8)

    def metrics(self) -> dict | None:
        """The last metrics shown (``engine.metrics.evaluate``)."""
        return self._metrics

    def point_position(self, part: str, index: int) -> QtCore.QPoint:
        """Where point ``index`` of ``part`` is drawn, in the plot widget's viewport."""
        ds = self._session.dataset
        x, y = (ds.raw_train if part == "train" else ds.raw_test)[index][:2]
        return self.view_position(float(x), float(y))

    def view_position(self, x: float, y: float) -> QtCore.QPoint:
        """The viewport position of the raw point (x, y)."""
        scene = self.box.mapViewToScene(QtCore.QPointF(x, y))
        return self.plot_widget.mapFromScene(scene)

    def set_unit_maps(self, on: bool) -> None:
        """Draw each unit's map inside its circle on the canvas (``unit_maps_changed``)."""
        on = bool(on)
        for w in (self.unit_maps_action, self.unit_maps_check):
            with QtCore.QSignalBlocker(w):
                w.setChecked(on)
        if on == self._unit_maps_on:
            return
        self._unit_maps_on = on
        if on:
            self.refresh(force=True)
        else:
            self.unit_maps_changed.emit(None)

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        """As wide as the formulas it shares a tab with: the canvas keeps the width."""
        return QtCore.QSize(330, 420)

    def set_compact(self, on: bool) -> None:
        """A lesson's stage: the picture, its caption and the metrics only (no controls,
        no hover readout), so that the plane gets the dock's height."""
        self.controls.setVisible(not on)
        self.readout_label.setVisible(not on)

    def compact(self) -> bool:
        return not self.controls.isVisibleTo(self)

    def unit_maps_on(self) -> bool:
        return self._unit_maps_on

    def set_editable(self, on: bool) -> None:
        """Whether clicks add, move and delete points (off during a stepped update or a
        lesson step); clicking a point always selects it."""
        self._editable = bool(on)
        self._update_hint()

    def editable(self) -> bool:
        return self._editable

    @QtCore.Slot(object)
    def follow_unit(self, unit) -> None:
        """The canvas's hovered unit, (layer, unit) or None: its map is shown while the
        mouse is on it (then the pinned unit's, or the output's, again)."""
        unit = self._valid_unit(unit)
        if unit == self._hovered:
            return
        self._hovered = unit
        self._show_unit()

    @QtCore.Slot(int, int)
    def pin_unit(self, layer: int, unit: int) -> None:
        """Show this unit's map until another is pinned (a click on the canvas); a bias
        unit, an unknown unit or the output of a single-output network: the output."""
        self._pinned = self._valid_unit((layer, unit))
        self._show_unit()

    # -- following the session ------------------------------------------------------------
    def _valid_unit(self, unit) -> tuple[int, int] | None:
        if unit is None or not isinstance(unit, tuple):
            return None
        layers = self._session.layers
        layer, u = int(unit[0]), int(unit[1])
        if not 0 <= layer < len(layers) or not 0 <= u < layers[layer]:
            return None
        if layer == len(layers) - 1 and layers[-1] == 1:
            return None  # the output of one unit is the picture itself
        return layer, u

    def _show_unit(self) -> None:
        shown = self._hovered if self._hovered is not None else self._pinned
        if shown != self._shown:
            self._shown = shown
            self.refresh(force=True)

    def _on_structure_changed(self) -> None:
        s = self._session
        ds = s.dataset
        self._supported = ds.n_raw == 2
        self._pinned = self._valid_unit(self._pinned)
        self._hovered = None
        self._shown = self._pinned
        self._maps = None
        self._maps_params = None
        if not self._supported:
            self._grid = None
            self._values = None
            self.message_label.setText(
                f"The data view draws data with two raw inputs; this data has {ds.n_raw} "
                f"({', '.join(ds.raw_names)}).")
            self.stack.setCurrentWidget(self.message_label)
            self._update_controls()
            if self._unit_maps_on:
                self.unit_maps_changed.emit({})
            return
        self.stack.setCurrentWidget(self.plot_widget)
        self._bounds = None
        self._update_data()

    def _on_data_changed(self) -> None:
        if self._supported and self._session.dataset.n_raw == 2:
            self._update_data()

    def _update_data(self) -> None:
        """The data changed: its kind, the grid (grown to hold new points), the points."""
        ds = self._session.dataset
        y = np.vstack([ds.y_train, ds.y_test])
        if ds.task == "regression":
            self._mode = "regression"
            lo, hi = float(np.min(y[:, 0])), float(np.max(y[:, 0]))
            self._y_range = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
        elif ds.n_targets >= 2:
            self._mode = "classes"
            self._k = ds.n_targets
            self._class_luts32 = rgb32(class_luts(self._k, HEAT_STRENGTH))
            self._class_unit_luts = class_luts(self._k, UNIT_STRENGTH)
        else:
            self._mode = "binary"
            self._k = 2
        n = len(ds.raw_train) + len(ds.raw_test)
        margin = 0.25 if n <= 16 else grid_mod.DEFAULT_MARGIN
        (x0, x1), (y0, y1) = grid_mod.data_range(ds, margin)
        if self._bounds is not None:  # grow only: the picture stays put while editing
            (bx0, bx1), (by0, by1) = self._bounds
            x0, x1, y0, y1 = min(x0, bx0), max(x1, bx1), min(y0, by0), max(y1, by1)
        bounds = ((x0, x1), (y0, y1))
        if bounds != self._bounds:  # else the view stays exactly as it is
            self._bounds = bounds
            self._make_grid(bounds)
            w, h = x1 - x0, y1 - y0
            self.box.setAspectLocked(1 / 3 <= w / h <= 3, ratio=1.0)
            self.box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)
        else:
            self._make_grid((self._grid.x_range, self._grid.y_range))
        names = ds.raw_names
        self.plot.setLabel("bottom", names[0])
        self.plot.setLabel("left", names[1])
        self._update_controls()
        self._update_points()
        self.refresh(force=True)

    def _make_grid(self, bounds) -> None:
        self._grid = grid_mod.plane(self._session.dataset, CELLS, bounds=bounds)
        self._maps = None
        self._input_images = {}
        self.image.setRect(QtCore.QRectF(*self._grid.rect))

    def _on_range_changed(self, *_args) -> None:
        """The plot's shape shows more than the data's range (the axes keep one scale):
        the grid covers what is shown, so the picture fills the plot."""
        g = self._grid
        if not self._supported or g is None:
            return
        (x0, x1), (y0, y1) = self.box.viewRange()
        (bx0, bx1), (by0, by1) = self._bounds
        x0, x1, y0, y1 = min(x0, bx0), max(x1, bx1), min(y0, by0), max(y1, by1)
        tol = 1e-6 * max(x1 - x0, y1 - y0)
        if np.allclose((x0, x1, y0, y1), (*g.x_range, *g.y_range), rtol=0, atol=tol):
            return
        self._make_grid(((x0, x1), (y0, y1)))
        self.refresh(force=True)

    def _unit_window(self) -> tuple[slice, slice]:
        """The grid's rows and columns over the data's range, every few cells, rows
        flipped (an image's first row is its top): what the canvas's unit maps show."""
        g = self._grid
        (x0, x1), (y0, y1) = self._bounds
        ix = np.searchsorted(g.xs, (x0, x1))
        iy = np.searchsorted(g.ys, (y0, y1))
        step = max(1, int(round(max(ix[1] - ix[0], iy[1] - iy[0]) / (CELLS / UNIT_MAP_STEP))))
        rows = slice(max(int(iy[1]) - 1, 0), int(iy[0]) - 1 if iy[0] > 0 else None, -step)
        return rows, slice(int(ix[0]), int(ix[1]), step)

    def _update_controls(self) -> None:
        ds = self._session.dataset
        k = n_classes(ds) if self._supported else 0
        multi = k > 2
        with QtCore.QSignalBlocker(self.class_combo):
            current = self.class_combo.currentData()
            self.class_combo.clear()
            if multi:
                for c in range(k):
                    swatch = QtGui.QPixmap(12, 12)
                    swatch.fill(QtGui.QColor(class_color(c)))
                    self.class_combo.addItem(QtGui.QIcon(swatch), f"class {c}", c)
                    self.class_combo.setItemData(
                        c, f"Class {c}: target {ds.target_names[c]} is 1",
                        QtCore.Qt.ToolTipRole)
                self.class_combo.setCurrentIndex(
                    self.class_combo.findData(current if current is not None and
                                              current < k else 1))
        self.class_label.setVisible(multi)
        self.class_combo.setVisible(multi)
        self._update_hint()

    def _update_hint(self) -> None:
        self.readout_label.setText(self._hint())

    def _hint(self) -> str:
        ds = self._session.dataset
        if not self._supported:
            return ""
        if not self._editable:
            return "Click a point to select that sample (points cannot be edited now)."
        try:
            hi = click_target(ds, True, self.class_combo.currentData())
            lo = click_target(ds, False)
        except ValueError:
            return "Click a point to select that sample."
        if self._mode == "regression":
            add = f"adds y = {_fmt(hi[0])} (the largest), right-click y = {_fmt(lo[0])}"
        elif self._mode == "classes":
            add = f"adds class {int(np.argmax(hi))}, right-click class 0"
        else:
            add = "adds class 1, right-click class 0"
        return (f"Click a point to select it. A click elsewhere {add}; Shift+click deletes, "
                f"drag moves.")

    def _on_selected(self, _k: int) -> None:
        self._update_selected()

    def _schedule_redraw(self, *_args) -> None:
        """A new snapshot: redraw now, with the canvas (one frame for both), unless the
        last redraw was less than ``interval_ms`` ago; then the throttler redraws later,
        unless a newer snapshot does first."""
        if (time.perf_counter() - self._last_refresh) * 1000 >= self.interval_ms:
            self.refresh()
        else:
            self._redraw.throttle()

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        # the dock as context: no call after it is gone
        QtCore.QTimer.singleShot(0, self, lambda: self.refresh(force=True))

    # -- drawing ------------------------------------------------------------------------
    def _wanted(self) -> bool:
        return self._supported and (self.isVisible() or self._unit_maps_on)

    @QtCore.Slot()
    def refresh(self, force: bool = False) -> None:
        """Redraw from the newest weights now (normally the throttler calls this)."""
        self._redraw.cancel()
        if not self._wanted() or self._grid is None:
            return
        self._last_refresh = time.perf_counter()
        s = self._session
        params = s.params
        units = self._unit_maps_on or (self._shown is not None
                                       and 0 < self._shown[0] < len(s.layers) - 1)
        t0 = time.perf_counter()
        same = (self._maps is not None and self._maps_params is not None
                and (params is self._maps_params or np.array_equal(params, self._maps_params))
                and (self._maps_units or not units))
        if not same:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._maps = grid_mod.maps(s.network, self._grid, units=units)
            self._maps_params = params
            self._maps_units = units
        elif not force:
            return
        t1 = time.perf_counter()
        if self.isVisible() or force:
            self._draw_picture()
        t2 = time.perf_counter()
        if self._unit_maps_on:
            self.unit_maps_changed.emit(self.unit_images())
        t3 = time.perf_counter()
        if force or not s.running or t3 - self._last_metrics >= METRICS_MS / 1000:
            self._last_metrics = t3
            self._update_metrics()
        t4 = time.perf_counter()
        self.redraws += 1
        cost = (t3 - t0) * 1e3
        self._cost_ms = cost if self._cost_ms == 0.0 else 0.8 * self._cost_ms + 0.2 * cost
        interval = max(float(REDRAW_MS), self._cost_ms / BUDGET_SHARE)
        if abs(interval - self.interval_ms) > 2.0:
            self.interval_ms = interval
            self._redraw.setTimeout(int(round(interval)))
        self.timings = {"maps_ms": (t1 - t0) * 1e3, "picture_ms": (t2 - t1) * 1e3,
                        "unit_maps_ms": (t3 - t2) * 1e3, "metrics_ms": (t4 - t3) * 1e3}

    def _draw_picture(self) -> None:
        """Colour the map shown into the image; the boundary, bar and caption with it."""
        m, g = self._maps, self._grid
        assert m is not None and g is not None
        layers = self._session.layers
        acts = self._session.activations
        discrete = self.discrete_check.isChecked()
        shown = self._shown
        segs = np.zeros((0, 4))
        bar: tuple[str, float, float] | None = None
        if shown is not None:
            layer, u = shown
            v = self._unit_values(layer, u)
            self._values = v
            act = "input" if layer == 0 else acts[layer - 1]
            name = unit_name(layers, layer, u)
            if layer == 0:
                what = f"input {name}"
            elif layer == len(layers) - 1:
                what = f"output {name} ({act})"
            else:
                what = f"{name}, {act}"
            self._caption(f"{what} over the input plane",
                          "Blue where the unit's value is positive, orange where negative "
                          "(as the canvas fills its units)")
            top = unit_scale(v)
            level = activation_level(act)
            if discrete:
                rgb = self._flat_lut32[signed_index(np.where(v >= level, 1.0, -1.0))]
                segs = contour_segments(v, g.xs, g.ys, level)
            else:
                rgb = self._lut32[signed_index(v / top)]
            bar = ("z" if layer else name, -top if np.nanmin(v) < 0 else 0.0, top)
        elif self._mode == "classes":
            winner, strength = m.classes()
            self._values = strength
            k = self._k
            if discrete:
                t = np.full(winner.shape, FLAT_STRENGTH / HEAT_STRENGTH)
                for c in range(k):
                    others = np.delete(m.output, c, axis=0).max(axis=0)
                    segs = np.vstack([segs, contour_segments(m.output[c] - others, g.xs,
                                                             g.ys, 0.0)])
            else:
                t = (strength - 1.0 / k) / (1.0 - 1.0 / k)
            idx = (np.clip(np.nan_to_num(t), 0.0, 1.0) * (LUT_SIZE - 1) + 0.5).astype(np.intp)
            rgb = self._class_luts32[np.minimum(winner, k - 1), idx]
            self._caption("The network's class (colour) and certainty (strength)",
                          "The colour of the class with the largest output; pale where "
                          "that output is small (the network cannot decide)")
        elif self._mode == "regression":
            v = m.output[0]
            self._values = v
            lo, hi = self._y_range
            u = (v - lo) / (hi - lo)
            if discrete:
                u = (np.floor(np.clip(u, 0.0, 1.0 - 1e-9) * REGRESSION_BANDS) + 0.5) \
                    / REGRESSION_BANDS
            rgb = self._lut32[signed_index(2.0 * u - 1.0)]
            ds = self._session.dataset
            out = unit_name(layers, len(layers) - 1, 0)
            self._caption(f"Output {out} over the input plane",
                          f"The network's output {out} where the target is "
                          f"{ds.target_names[0]}: orange low, blue high (the colour bar)")
            bar = (ds.target_names[0], lo, hi)
        else:
            v = m.output[0]
            self._values = v
            if discrete:
                rgb = self._flat_lut32[signed_index(np.where(v >= 0.5, 1.0, -1.0))]
                segs = contour_segments(v, g.xs, g.ys, 0.5)
            else:
                rgb = self._lut32[signed_index(2.0 * v - 1.0)]
            out = unit_name(layers, len(layers) - 1, 0)
            self._caption(f"Output {out} over the input plane (class 1 where \u2265 0.5)",
                          f"The network's output {out}: blue towards 1 (class 1), orange "
                          f"towards 0 (class 0), white at 0.5, the decision boundary")
            bar = ("output", 0.0, 1.0)
        self.image.set_pixels(rgb)
        if len(segs):
            self.boundary.setData(segs[:, [0, 2]].ravel(), segs[:, [1, 3]].ravel(),
                                  connect="pairs")
            self.boundary.setPen(pg.mkPen(BOUNDARY_COLOR, width=2.5 * self._scale))
            self.boundary.setVisible(True)
        else:
            self.boundary.setVisible(False)
        self._set_bar(bar)
        self.output_button.setVisible(self._pinned is not None)

    def _caption(self, text: str, tip: str) -> None:
        self.caption_label.setText(text)
        self.caption_label.setToolTip(tip)

    def _unit_values(self, layer: int, u: int) -> np.ndarray:
        g, m = self._grid, self._maps
        if layer == 0:
            return g.inputs[:, u].reshape(g.shape)
        return m.unit(layer, u)

    def _set_bar(self, bar: tuple[str, float, float] | None) -> None:
        if bar is None:
            self.color_bar.setVisible(False)
            return
        label, lo, hi = bar
        if hi <= lo:
            hi = lo + 1.0
        key = (label, lo, hi, self._shown is not None or self._mode == "regression")
        if getattr(self, "_bar_key", None) != key:
            self._bar_key = key
            lut = self._lut
            if self._shown is not None and lo >= 0:
                lut = lut[LUT_SIZE // 2:]  # a map of values >= 0: white to blue
            cmap = pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut)
            self.color_bar.setColorMap(cmap)
            self.color_bar.setLevels((lo, hi))
            self.color_bar.getAxis("right").setLabel(label)
        self.color_bar.setVisible(True)

    def unit_images(self) -> dict[tuple[int, int], np.ndarray]:
        """Every unit's map as a small RGB image for the canvas (row 0 at the top):
        inputs, hidden units (their activation, as the canvas fills them) and outputs
        (coloured as the picture's output)."""
        m, g = self._maps, self._grid
        if m is None or g is None:
            return {}
        layers = self._session.layers
        sub = self._unit_window()
        out: dict[tuple[int, int], np.ndarray] = {}
        if not self._input_images:
            for j in range(layers[0]):
                v = g.inputs[:, j].reshape(g.shape)[sub]
                self._input_images[(0, j)] = self._unit_lut[signed_index(v / unit_scale(v))]
        out.update(self._input_images)
        for l, maps in enumerate(m.units):
            v = maps[(slice(None),) + sub]
            top = np.maximum(1.0, np.nanmax(np.abs(np.nan_to_num(v)), axis=(1, 2)))
            rgb = self._unit_lut[signed_index(v / top[:, None, None])]
            for u in range(len(rgb)):
                out[(l + 1, u)] = rgb[u]
        last = len(layers) - 1
        if self._mode == "binary":
            out[(last, 0)] = self._lut[signed_index(2.0 * m.output[0][sub] - 1.0)]
        else:
            for u in range(layers[-1]):
                v = m.output[u][sub]
                if self._mode == "classes" and u < self._k:  # the class's probability
                    idx = (np.clip(np.nan_to_num(v), 0.0, 1.0) * (LUT_SIZE - 1)
                           + 0.5).astype(np.intp)
                    out[(last, u)] = self._class_unit_luts[u][idx]
                    continue
                if self._mode == "regression":
                    lo, hi = self._y_range
                    s = 2.0 * (v - lo) / (hi - lo) - 1.0
                else:
                    s = v / unit_scale(v)
                out[(last, u)] = self._unit_lut[signed_index(s)]
        return out

    # -- points -----------------------------------------------------------------------------
    def _point_brushes(self, y: np.ndarray) -> list[QtGui.QBrush]:
        if self._mode == "regression":
            lo, hi = self._y_range
            idx = signed_index(2.0 * (y[:, 0] - lo) / (hi - lo) - 1.0)
            lut = diverging_lut(1.0)
            cache: dict[int, QtGui.QBrush] = {}
            out = []
            for i in idx.tolist():
                b = cache.get(i)
                if b is None:
                    b = cache[i] = pg.mkBrush(*lut[i].tolist())
                out.append(b)
            return out
        brushes = [pg.mkBrush(class_color(c)) for c in range(max(self._k, 2))]
        return [brushes[c] for c in self._classes(y).tolist()]

    def _classes(self, y: np.ndarray) -> np.ndarray:
        if y.shape[1] == 1:
            return (y[:, 0] >= 0.5).astype(np.int64)
        return np.argmax(y, axis=1)

    def _point_size(self) -> float:
        ds = self._session.dataset
        n = len(ds.raw_train)
        base = 16.0 if n <= 20 else 11.0 if n <= 200 else 9.0
        return base * self._scale

    def _update_points(self) -> None:
        if not hasattr(self, "train_points"):
            return
        ds = self._session.dataset
        if not self._supported or ds.n_raw != 2:
            for item in (self.train_points, self.test_points, self.selected_point):
                item.clear()
            return
        size = self._point_size()
        pen = pg.mkPen(POINT_OUTLINE, width=1.2 * self._scale)
        self.train_points.setData(x=ds.raw_train[:, 0], y=ds.raw_train[:, 1], size=size,
                                  pen=pen, brush=self._point_brushes(ds.y_train),
                                  symbol="o")
        if self.test_check.isChecked() and ds.has_test:
            if self._mode == "regression":
                pens = [pg.mkPen(b.color(), width=2.5 * self._scale)
                        for b in self._point_brushes(ds.y_test)]
            else:
                by_class = [pg.mkPen(class_color(c), width=2.5 * self._scale)
                            for c in range(max(self._k, 2))]
                pens = [by_class[c] for c in self._classes(ds.y_test).tolist()]
            self.test_points.setData(x=ds.raw_test[:, 0], y=ds.raw_test[:, 1], size=size,
                                     pen=pens, brush=pg.mkBrush(None), symbol="o")
            self.test_points.setVisible(True)
        else:
            self.test_points.clear()
            self.test_points.setVisible(False)
        self._update_selected()

    def _update_selected(self) -> None:
        ds = self._session.dataset
        k = self._session.selected_sample
        if not self._supported or ds.n_raw != 2 or not 0 <= k < len(ds.raw_train):
            self.selected_point.clear()
            return
        x, y = ds.raw_train[k][:2]
        size = self._point_size() + 10 * self._scale
        self.selected_point.setData(
            x=[x, x], y=[y, y], size=[size, size + 3 * self._scale], brush=pg.mkBrush(None),
            pen=[pg.mkPen(SELECTED_COLOR, width=3.5 * self._scale),
                 pg.mkPen(POINT_OUTLINE, width=1.0 * self._scale)], symbol="o")

    # -- metrics --------------------------------------------------------------------------
    def _update_metrics(self) -> None:
        s = self._session
        ds = s.dataset
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            m = metrics.evaluate(s.network, ds)
        self._metrics = m
        parts = []
        if ds.task == "regression":
            for key, name in (("r2", "R\u00b2"), ("rmse", "RMSE")):
                vals = [f"{part} {m[part][key]:.3f}".replace("-", "\u2212")
                        if m[part][key] is not None
                        else f"{part} \u2014" for part in ("train", "test") if part in m]
                parts.append(f"{name}: " + " \u00b7 ".join(vals))
        else:
            vals = [f"{part} {100 * m[part]['accuracy']:.1f}%" for part in ("train", "test")
                    if part in m and m[part]["accuracy"] is not None]
            parts.append("Accuracy: " + " \u00b7 ".join(vals))
        self.metrics_label.setText("    ".join(parts))
        conf = m["train"].get("confusion")
        k = len(conf) if conf else 0
        if conf and k >= 3:
            head = "".join(f"<th style='color:{class_color(c)}'>{c}</th>" for c in range(k))
            bold = " style='font-weight:bold'"
            rows = "".join(
                f"<tr><th style='color:{class_color(t)}'>{t}</th>"
                + "".join(f"<td align='right'{bold if t == p else ''}>{n}</td>"
                          for p, n in enumerate(row)) + "</tr>"
                for t, row in enumerate(conf))
            self.confusion_label.setText(
                f"<table cellspacing='0' cellpadding='2'><tr><td>true \\ net</td>{head}"
                f"</tr>{rows}</table>")
            self.confusion_label.setVisible(True)
        else:
            self.confusion_label.setText("")
            self.confusion_label.setVisible(False)

    # -- the mouse ------------------------------------------------------------------------
    def _pixel(self) -> float:
        sx, sy = self.box.viewPixelSize()
        return max(abs(sx), abs(sy)) or 1e-9

    def _hit(self, pos: QtCore.QPointF, px: float | None = None) -> tuple[str, int] | None:
        """The point within ``px`` screen pixels of ``pos`` (default: on its marker)."""
        if px is None:
            px = self._point_size() / 2 + HIT_PX / 2
        return grid_mod.nearest_sample(self._session.dataset, (pos.x(), pos.y()),
                                       px * self._pixel(), test=self.test_check.isChecked())

    def _on_click(self, pos: QtCore.QPointF, button, modifiers) -> None:
        if not self._supported:
            return
        shift = bool(modifiers & QtCore.Qt.ShiftModifier)
        try:
            if shift and self._editable:
                hit = self._hit(pos, DELETE_PX)
                if hit is None:
                    self.readout_label.setText("Shift+click on a point deletes it; there is "
                                               "none here.")
                    return
                self.editor.delete(hit[1], hit[0])
                return
            hit = self._hit(pos)
            if hit is not None:
                part, i = hit
                if part == "train":
                    self._session.select_sample(i)
                else:
                    self.readout_label.setText(f"Test point {i + 1}: the network never "
                                               "trains on it, so it cannot be selected.")
                return
            if not self._editable or shift or button not in (QtCore.Qt.LeftButton,
                                                             QtCore.Qt.RightButton):
                return
            self.editor.add_click((pos.x(), pos.y()), button == QtCore.Qt.LeftButton,
                                  self.class_combo.currentData())
        except ValueError as e:
            self.readout_label.setText(str(e))

    def _on_drag(self, ev) -> None:
        if ev.button() != QtCore.Qt.LeftButton or not self._supported or not self._editable:
            ev.ignore()
            return
        ev.accept()
        pos = self.box.mapToView(ev.pos())
        if ev.isStart():
            start = self.box.mapToView(ev.buttonDownPos())
            self._drag = self._hit(start)
        if self._drag is None:
            return
        part, i = self._drag
        item = self.train_points if part == "train" else self.test_points
        if not ev.isFinish():
            ds = self._session.dataset
            pts = (ds.raw_train if part == "train" else ds.raw_test).copy()
            pts[i] = (pos.x(), pos.y())
            item.setData(x=pts[:, 0], y=pts[:, 1])  # a preview; the data changes on release
            return
        self._drag = None
        try:
            self.editor.move(i, (pos.x(), pos.y()), part)
        except ValueError as e:
            self.readout_label.setText(str(e))
            self._update_points()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Leave:
            self._update_hint()
        return False

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        if not self._supported or self._drag is not None:
            return
        if not self.box.sceneBoundingRect().contains(scene_pos):
            self._update_hint()
            return
        pos = self.box.mapSceneToView(scene_pos)
        self.readout_label.setText(self.describe(pos.x(), pos.y()))

    def describe(self, x: float, y: float) -> str:
        """What hovering the raw point (x, y) shows: the sample drawn there (inputs,
        target, output, loss), else the network's output at that place."""
        s = self._session
        ds = s.dataset
        hit = self._hit(QtCore.QPointF(x, y)) if self._grid is not None else None
        net = s.network
        names = ds.raw_names
        if hit is not None:
            part, i = hit
            raw = (ds.raw_train if part == "train" else ds.raw_test)[i]
            xin = (ds.x_train if part == "train" else ds.x_test)[i:i + 1]
            yt = (ds.y_train if part == "train" else ds.y_test)[i:i + 1]
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                cache = net.forward(xin)
                loss = float(losses.per_sample(s.config.loss, cache.a[-1], cache.z[-1],
                                               yt)[0])
            out = cache.output[0]
            where = "Training sample" if part == "train" else "Test point"
            inputs = ", ".join(f"{n} = {_fmt(v)}" for n, v in zip(names, raw))
            return (f"{where} {i + 1}: {inputs} \u2192 target {self._target_text(yt[0])}, "
                    f"output {self._output_text(out)}, loss {_fmt(loss)}")
        xin = ds.inputs_from_raw(np.array([[x, y]]))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            cache = net.forward(xin)
        text = (f"{names[0]} = {_fmt(x)}, {names[1]} = {_fmt(y)}: output "
                f"{self._output_text(cache.output[0])}")
        if self._shown is not None:
            layer, u = self._shown
            v = cache.layer_z(layer)[0][u]
            text += f"; {unit_name(s.layers, layer, u)} = {_fmt(v)}"
        return text

    def _target_text(self, y: np.ndarray) -> str:
        if self._mode == "regression":
            return _vec(y)
        if len(y) == 1:
            return f"class {int(y[0] >= 0.5)}"
        return f"class {int(np.argmax(y))}"

    def _output_text(self, out: np.ndarray) -> str:
        if self._mode == "regression":
            return _vec(out)
        if len(out) == 1:
            return f"{_fmt(out[0])} (class {int(out[0] >= 0.5)})"
        return f"{_vec(out)} (class {int(np.argmax(out))})"

