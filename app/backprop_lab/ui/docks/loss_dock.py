"""The loss dock: training and test loss (and accuracy) against epoch.

The curves are drawn straight from the session's ``History`` buffers (numpy views, no
copies), downsampled to the screen with pyqtgraph's peak method, so a run of a million
epochs redraws as fast as one of a hundred. ``history_changed`` only sets a timer: the
plot redraws at most about 30 times a second and the numbers under it about 4 times a
second, so they can be read while training runs.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import QSignalThrottler

from ...engine.project import atomic_write, atomic_write_text
from ..plot_style import (
    MIN_EPOCH_SPAN,
    TEXT_COLOR,
    ReadoutRow,
    ThinAxis,
    dock_body,
    scale_axes,
    scaled_font,
    style_axes,
)
from ..theme import LIGHT, Look, look

#: Okabe-Ito colours: told apart with every common colour-vision deficiency.
TRAIN_COLOR = "#0072B2"  # blue
TEST_COLOR = "#D55E00"  # vermillion
BACKGROUND = "#fbfbfb"
AXIS_COLOR = TEXT_COLOR
MARKER_COLOR = "#888888"
HAND_COLOR = "#E69F00"  # orange (Okabe-Ito): updates taken by hand
#: compared runs (Training > Compare), in turn: the Okabe-Ito colours the main run's
#: train (blue) and test (vermillion) curves do not use (bluish green, reddish purple,
#: sky blue, yellow, orange)
OVERLAY_COLORS = ("#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#E69F00")
LINE_WIDTH = 3.0  # pixels at scale 1: readable on a projector
REDRAW_MS = 100  # at most 10 redraws a second: smooth enough for a curve, and its
# repaint (8-9 ms with two plots) would otherwise take a third of the window's time
TEXT_MS = 250  # the numbers under the plot change at most 4 times a second
#: The accuracy plot goes beside the loss plot when the dock is this much wider than tall.
SIDE_BY_SIDE_RATIO = 2.2


def _fmt(v: float) -> str:
    return f"{v:.4g}"


class EpochAxis(pg.AxisItem):
    """An epoch axis that writes 20k and 1.5M instead of 20000 and 1.5e+06, and leaves
    out every other label (or more) when they would run into each other."""

    @staticmethod
    def _text(v: float) -> str:
        if abs(v) >= 1e6:
            return f"{v / 1e6:g}M"
        if abs(v) >= 1e4:
            return f"{v / 1e3:g}k"
        return f"{v:g}"

    def tickStrings(self, values, scale, spacing):  # pyqtgraph override
        strings = [self._text(v * scale) for v in values]
        lo, hi = self.range
        if len(values) < 2 or spacing <= 0 or hi <= lo or self.width() <= 0:
            return strings
        pixels = spacing * self.width() / (hi - lo)
        metrics = QtGui.QFontMetricsF(self.style["tickFont"] or self.font())
        needed = max(metrics.horizontalAdvance(s) for s in strings) + 2 * metrics.height()
        if needed <= pixels:
            return strings
        every = math.ceil(needed / pixels)
        return [s if round(v / spacing) % every == 0 else ""
                for v, s in zip(values, strings)]


class LossDock(QtWidgets.QDockWidget):
    """Loss (and, for classification, accuracy) against epoch for the session's run."""

    def __init__(self, session, parent: QtWidgets.QWidget | None = None):
        super().__init__("Loss", parent)
        self.setObjectName("loss_dock")
        self._session = session
        self._scale = 1.0
        self._has_test = False
        self._classification = False
        self._accuracy_placed: tuple[int, int] | None = None
        self._hover_x: float | None = None
        self._text_pending = False
        self._look: Look = LIGHT
        self._x_range: tuple[float, float] | None = None  # a lesson's fixed axes
        self._y_range: tuple[float, float] | None = None

        body, layout, bar = dock_body(self)
        self.log_check = QtWidgets.QCheckBox("Log scale")
        self.log_check.setToolTip("Show the loss on a logarithmic scale: small losses late in "
                                  "training stay visible")
        self.log_check.toggled.connect(self.set_log_y)
        bar.addWidget(self.log_check)
        self.readout_label = QtWidgets.QLabel("")
        self.readout_label.setObjectName("loss_readout")
        self.readout_label.setTextFormat(QtCore.Qt.RichText)
        self.readout_label.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                         QtWidgets.QSizePolicy.Preferred)
        self.readout_label.setWordWrap(True)  # two lines in a narrow dock, never cut
        self.readout_label.setToolTip("The newest losses; point at the plot to read the "
                                      "losses of that epoch")
        bar.addWidget(self.readout_label, 1)
        self.png_button = QtWidgets.QToolButton()
        self.png_button.setText("PNG…")
        self.png_button.setToolTip("Save the plot as a PNG image")
        self.png_button.clicked.connect(self._on_png_clicked)
        bar.addWidget(self.png_button)
        self.csv_button = QtWidgets.QToolButton()
        self.csv_button.setText("CSV…")
        self.csv_button.setToolTip("Save the losses of every epoch as a CSV table "
                                   "(epoch, train_loss, test_loss)")
        self.csv_button.clicked.connect(self._on_csv_clicked)
        bar.addWidget(self.csv_button)
        layout.addLayout(bar)
        below = QtWidgets.QHBoxLayout()  # the readout, when the dock is too narrow beside
        layout.addLayout(below)
        self._readout_row = ReadoutRow(self, bar, below, self.readout_label)

        self.plot_widget = pg.GraphicsLayoutWidget()
        self.plot_widget.setBackground(BACKGROUND)
        self.plot_widget.setMinimumSize(160, 90)
        layout.addWidget(self.plot_widget, 1)
        self.setWidget(body)

        self.loss_plot: pg.PlotItem = self.plot_widget.addPlot(
            row=0, col=0, axisItems={"bottom": EpochAxis("bottom"), "left": ThinAxis("left")})
        self.accuracy_plot = pg.PlotItem(axisItems={"bottom": EpochAxis("bottom")})
        self._style_plot(self.loss_plot, "loss")
        self._style_plot(self.accuracy_plot, "accuracy")
        self._accuracy_lines = []
        self.accuracy_plot.setXLink(self.loss_plot)
        self.accuracy_plot.setYRange(0.0, 1.0, padding=0.06)
        # x follows the loss plot through the link; two auto-ranging views would fight
        self.accuracy_plot.enableAutoRange(x=False, y=False)
        self.accuracy_plot.setMouseEnabled(x=True, y=False)
        acc_axis = self.accuracy_plot.getAxis("left")
        acc_axis.setTicks([[(0.0, "0%"), (0.5, "50%"), (1.0, "100%")], []])
        # An axis with a grid hides labels that overhang the view, so 0% and 100% would
        # vanish: draw the accuracy grid lines as plain lines instead.
        style_axes(self.accuracy_plot, grid=False, sides=("left",))
        for level in (0.0, 0.5, 1.0):
            line = pg.InfiniteLine(level, angle=0, movable=False,
                                   pen=pg.mkPen(LIGHT.plot_grid))
            self._accuracy_lines.append(line)
            self.accuracy_plot.addItem(line, ignoreBounds=True)

        self.train_curve = self._curve(self.loss_plot, TRAIN_COLOR)
        self.test_curve = self._curve(self.loss_plot, TEST_COLOR)
        # updates taken by hand (the phase stepper, a lesson): diamonds on the train curve
        self.hand_steps = pg.ScatterPlotItem(symbol="d", size=13, brush=pg.mkBrush(HAND_COLOR),
                                             pen=pg.mkPen("#ffffff", width=1))
        self.hand_steps.setZValue(10)
        self.hand_steps.setToolTip("An update taken by hand (step through an update): the "
                                   "mean training loss after it")
        self.loss_plot.addItem(self.hand_steps)
        self.train_accuracy_curve = self._curve(self.accuracy_plot, TRAIN_COLOR)
        self.test_accuracy_curve = self._curve(self.accuracy_plot, TEST_COLOR)
        # one row, top right: covers as little of the curves as possible
        self.legend = self.loss_plot.addLegend(offset=(-8, 4), colCount=2)
        self.legend.setBrush(pg.mkBrush(255, 255, 255, 230))
        self.legend.setPen(pg.mkPen("#bbbbbb"))
        self.legend.setLabelTextColor(AXIS_COLOR)

        # the future the last branch cut off (timeline.ghost): faint, thin, behind the
        # curves (solid: a dashed pen on a long noisy curve costs seconds a frame)
        self.ghost_curve = self._curve(self.loss_plot, TRAIN_COLOR)
        self.ghost_curve.setZValue(-5)
        self.ghost_curve.setToolTip("The future the last branch cut off (Edit > Undo "
                                    "gives it back)")
        self._ghost = None  # the timeline's ghost the curve shows
        self._short_x = False  # the epoch axis held at MIN_EPOCH_SPAN (a short run)
        # compared runs' train losses (set_overlays): name -> curve, and the data to draw
        self._overlays: dict[str, pg.PlotDataItem] = {}
        self._overlay_data: dict[str, np.ndarray] = {}
        # the past epoch shown (the timeline bar): a solid line across both plots
        self._past_markers = []
        for plot in (self.loss_plot, self.accuracy_plot):
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setVisible(False)
            line.setZValue(20)
            plot.addItem(line, ignoreBounds=True)
            self._past_markers.append(line)

        self._markers = []
        for plot in (self.loss_plot, self.accuracy_plot):
            line = pg.InfiniteLine(angle=90, movable=False,
                                   pen=pg.mkPen(MARKER_COLOR, width=1,
                                                style=QtCore.Qt.DotLine))
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self._markers.append(line)

        # The log switch in pyqtgraph's own context menu and ours stay in step.
        self.loss_plot.ctrl.logYCheck.toggled.connect(self._on_plot_log_toggled)

        self._drawn = 0  # history rows the curves show
        # at most one redraw every REDRAW_MS, the newest history last (latest wins)
        self._redraw = QSignalThrottler(QSignalThrottler.EmissionPolicy.Trailing, parent=self)
        self._redraw.setTimeout(REDRAW_MS)
        self._redraw.triggered.connect(self.refresh)
        self._text_timer = QtCore.QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(TEXT_MS)
        self._text_timer.timeout.connect(self._on_text_timer)

        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot_widget.viewport().installEventFilter(self)
        self.plot_widget.installEventFilter(self)

        session.structure_changed.connect(self._on_structure_changed)
        session.history_changed.connect(self._on_history_changed)
        session.past_changed.connect(self._on_past_changed)
        self.set_scale(1.0)
        self._on_structure_changed()
        self.refresh()

    # -- building ---------------------------------------------------------------------
    def _style_plot(self, plot: pg.PlotItem, name: str) -> None:
        plot.setLabel("left", name)
        plot.setLabel("bottom", "epoch")
        plot.setMenuEnabled(True)
        plot.hideButtons()
        style_axes(plot)
        # epoch labels: major ticks only, thinned by EpochAxis so they never collide
        plot.getAxis("bottom").setStyle(maxTextLevel=0)
        plot.getViewBox().setDefaultPadding(0.02)

    def _curve(self, plot: pg.PlotItem, color: str) -> pg.PlotDataItem:
        # Solid, not antialiased, about two points a pixel: a thick antialiased or dashed
        # pen on a noisy million-epoch curve takes seconds a frame; this takes ~10 ms.
        c = plot.plot(pen=self._pen(color), antialias=False, autoDownsampleFactor=1.0)
        c.setDownsampling(auto=True, method="peak")
        c.setClipToView(True)
        return c

    def _pen(self, color: str) -> QtGui.QPen:
        return pg.mkPen(color, width=LINE_WIDTH * self._scale)

    # -- presentation -------------------------------------------------------------------
    def set_scale(self, factor: float) -> None:
        """Scale fonts and line widths (presentation mode: ``factor`` 1.5 or 2)."""
        self._scale = max(0.5, float(factor))
        font = scaled_font(self._scale)
        self.widget().setFont(font)
        self.legend.setLabelTextSize(f"{font.pointSizeF():.1f}pt")
        self._apply_colors()

    def scale(self) -> float:
        return self._scale

    def set_presenting(self, on: bool) -> None:
        """On a stage the export buttons go (File > Export is still there): the readout
        gets their room."""
        self.png_button.setVisible(not on)
        self.csv_button.setVisible(not on)

    def set_theme(self, theme: str) -> None:
        """Colours for the light theme or the dark projector theme (``ui.theme``)."""
        self._look = look(theme)
        self._apply_colors()

    def theme(self) -> str:
        return self._look.name

    def _apply_colors(self) -> None:
        lk = self._look
        self.plot_widget.setBackground(lk.plot_background)
        font = scaled_font(self._scale)
        for plot in (self.loss_plot, self.accuracy_plot):
            style_axes(plot, grid=plot is self.loss_plot,
                       sides=("left", "bottom") if plot is self.loss_plot else ("left",),
                       look=lk)
            if plot is self.accuracy_plot:
                style_axes(plot, sides=("bottom",), look=lk)
            scale_axes(plot, font, self._scale, "0.0000", look=lk)
        for line in self._accuracy_lines:
            line.setPen(pg.mkPen(lk.plot_grid))
        for m in self._markers:
            m.setPen(pg.mkPen(lk.marker, width=1, style=QtCore.Qt.DotLine))
        for m in self._past_markers:
            m.setPen(pg.mkPen(lk.plot_text, width=2 * self._scale))
        ghost = QtGui.QColor(lk.blue)
        ghost.setAlphaF(0.35)
        self.ghost_curve.setPen(pg.mkPen(ghost, width=1.5 * self._scale))
        self.legend.setBrush(pg.mkBrush(lk.legend_brush))
        self.legend.setPen(pg.mkPen(lk.legend_pen))
        self.legend.setLabelTextColor(lk.plot_text)
        self.hand_steps.setBrush(pg.mkBrush(lk.orange))
        self.hand_steps.setPen(pg.mkPen(lk.plot_background, width=1))
        self.hand_steps.setSize(13 * self._scale)
        for curve, color in ((self.train_curve, lk.blue), (self.test_curve, lk.vermillion),
                             (self.train_accuracy_curve, lk.blue),
                             (self.test_accuracy_curve, lk.vermillion)):
            curve.setPen(self._pen(color))
        for i, curve in enumerate(getattr(self, "_overlays", {}).values()):
            curve.setPen(self._pen(OVERLAY_COLORS[i % len(OVERLAY_COLORS)]))
        self._update_legend()
        if self._session.snapshot is not None:
            self._update_text()

    # -- a lesson's axes ------------------------------------------------------------------
    def set_ranges(self, x_range=None, y_range=None) -> None:
        """Fix the loss plot's axes (epochs; loss), or ``None``/``"auto"`` to follow the
        data. A loss range stays a loss range on a log axis (given in loss, not log10)."""
        self._x_range = _as_range(x_range)
        self._y_range = _as_range(y_range)
        self._apply_ranges()

    def ranges(self) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
        """The fixed axes (``None``: automatic)."""
        return self._x_range, self._y_range

    def _apply_ranges(self) -> None:
        vb = self.loss_plot.getViewBox()
        if self._x_range is None:
            vb.enableAutoRange(x=True)
        else:
            self.loss_plot.setXRange(*self._x_range, padding=0.0)
        if self._y_range is None:
            vb.enableAutoRange(y=True)
        else:
            lo, hi = self._y_range
            if self.is_log_y():
                lo, hi = math.log10(max(lo, 1e-300)), math.log10(max(hi, 1e-300))
            self.loss_plot.setYRange(lo, hi, padding=0.0)

    def set_log_y(self, on: bool) -> None:
        """Show the loss axis logarithmically (accuracy stays linear)."""
        on = bool(on)
        with QtCore.QSignalBlocker(self.log_check):
            self.log_check.setChecked(on)
        if self.is_log_y() != on:
            self.loss_plot.setLogMode(x=False, y=on)
        self._apply_ranges()  # a fixed loss range is the same losses on the new axis

    def is_log_y(self) -> bool:
        return bool(self.loss_plot.ctrl.logYCheck.isChecked())

    def _on_plot_log_toggled(self, on: bool) -> None:
        with QtCore.QSignalBlocker(self.log_check):
            self.log_check.setChecked(on)
        if self._y_range is not None:
            QtCore.QTimer.singleShot(0, self._apply_ranges)

    # -- following the session ------------------------------------------------------------
    def _on_structure_changed(self) -> None:
        ds = self._session.dataset
        self._has_test = bool(ds.has_test)
        self._classification = ds.task == "classification"
        self.test_curve.setVisible(self._has_test)
        self.test_accuracy_curve.setVisible(self._has_test)
        self._update_legend()
        self._place_accuracy()
        self._schedule_redraw()

    def _on_history_changed(self) -> None:
        if len(self._session.history) < self._drawn:
            self.refresh()  # cleared or cut back (a reset, a new run): show it at once
        else:
            self._schedule_redraw()

    def _on_past_changed(self, epoch) -> None:
        """The timeline shows a past epoch (None: the present): mark it on the plots."""
        for m in self._past_markers:
            if epoch is not None:
                m.setValue(float(epoch))
            m.setVisible(epoch is not None)
        self._update_text()

    def past_marker(self) -> float | None:
        """The epoch marked as shown from the past (None: no marker)."""
        m = self._past_markers[0]
        return float(m.value()) if m.isVisible() else None

    def _draw_ghost(self) -> None:
        ghost = self._session.timeline.ghost
        if ghost is self._ghost:
            return
        self._ghost = ghost
        if ghost is None:
            self.ghost_curve.clear()
            return
        h = ghost.history
        n = len(h.epochs)
        self.ghost_curve.setData(h.epochs.view()[:n], h.train_loss.view()[:n])

    def _schedule_redraw(self) -> None:
        self._redraw.throttle()

    def _update_legend(self) -> None:
        self.legend.clear()
        self.legend.setColumnCount(2 if self._has_test else 1)
        self.legend.addItem(self.train_curve, "train")
        if self._has_test:
            self.legend.addItem(self.test_curve, "test")
        for name, curve in getattr(self, "_overlays", {}).items():
            self.legend.addItem(curve, name)
        self.legend.updateSize()

    # -- compared runs ------------------------------------------------------------------
    def set_overlays(self, curves: dict[str, np.ndarray]) -> None:
        """Show these runs' train losses (name -> loss per epoch from 0) over the main
        run's, each in its own colour with a legend entry; drawn at the next throttled
        redraw. Runs not named are removed."""
        curves = {str(k): np.asarray(v, dtype=np.float64) for k, v in curves.items()}
        if list(curves) != list(self._overlays):
            for c in self._overlays.values():
                self.loss_plot.removeItem(c)
            self._overlays = {}
            for i, name in enumerate(curves):
                c = self._curve(self.loss_plot, OVERLAY_COLORS[i % len(OVERLAY_COLORS)])
                c.opts["connect"] = "finite"  # a run that diverged ends in NaN
                c.setZValue(-1)  # behind the main run's curves
                self._overlays[name] = c
            self._update_legend()
        self._overlay_data = curves
        self._schedule_redraw()

    def clear_overlays(self) -> None:
        """Remove the compared runs' curves."""
        self.set_overlays({})
        self._draw_overlays()

    def overlays(self) -> dict[str, pg.PlotDataItem]:
        """The compared runs' curves by name (as drawn)."""
        return dict(self._overlays)

    def _draw_overlays(self) -> None:
        for name, c in self._overlays.items():
            y = self._overlay_data.get(name)
            if y is None or not len(y):
                c.clear()
            else:
                c.setData(np.arange(len(y), dtype=np.float64), y)

    def _place_accuracy(self) -> None:
        """Accuracy beside the loss plot in a wide dock, below it in a tall one; hidden for
        regression."""
        wanted = None
        if self._classification:
            wanted = (0, 1) if self._wide() else (1, 0)
        if wanted == self._accuracy_placed:
            return
        ci = self.plot_widget.ci
        if self._accuracy_placed is not None:
            ci.removeItem(self.accuracy_plot)
        grid = ci.layout
        for k in (0, 1):
            grid.setRowStretchFactor(k, 0)
            grid.setColumnStretchFactor(k, 0)
        grid.setRowStretchFactor(0, 3)
        grid.setColumnStretchFactor(0, 3)
        if wanted is not None:
            ci.addItem(self.accuracy_plot, row=wanted[0], col=wanted[1])
            if wanted == (1, 0):
                grid.setRowStretchFactor(1, 1)
            else:
                grid.setColumnStretchFactor(1, 1)
        self.accuracy_plot.setVisible(wanted is not None)
        # stacked: the lower plot names the shared epoch axis
        self.loss_plot.getAxis("bottom").showLabel(wanted != (1, 0))
        self._accuracy_placed = wanted

    def _wide(self) -> bool:
        w, h = self.plot_widget.width(), self.plot_widget.height()
        return w > SIDE_BY_SIDE_RATIO * max(h, 1)

    # -- drawing ------------------------------------------------------------------------
    @QtCore.Slot()
    def refresh(self) -> None:
        """Redraw the curves from the history now (normally the timer calls this)."""
        self._redraw.cancel()
        self._draw_ghost()
        self._draw_overlays()
        h = self._session.history
        epochs = h.epochs.view()
        n = len(epochs)
        self._drawn = n
        marks = self._session.snapshot.state.marks
        if len(marks):
            self.hand_steps.setData(marks[:, 0], marks[:, 2])
        else:
            self.hand_steps.clear()
        if n == 0:
            for c in (self.train_curve, self.test_curve, self.train_accuracy_curve,
                      self.test_accuracy_curve):
                c.clear()
            self._apply_ranges()
            self._hide_markers()
        else:
            self.train_curve.setData(epochs, h.train_loss.view()[:n])
            if self._has_test and len(h.test_loss) >= n:
                self.test_curve.setData(epochs, h.test_loss.view()[:n])
            else:
                self.test_curve.clear()
            if self._classification:
                acc_e = h.acc_epochs.view()
                m = min(len(acc_e), len(h.train_accuracy))
                self.train_accuracy_curve.setData(acc_e[:m], h.train_accuracy.view()[:m])
                k = min(len(acc_e), len(h.test_accuracy))
                if self._has_test and k:
                    self.test_accuracy_curve.setData(acc_e[:k], h.test_accuracy.view()[:k])
                else:
                    self.test_accuracy_curve.clear()
        self._fit_short_run(epochs)
        self._request_text()

    def _fit_short_run(self, epochs) -> None:
        """A run of a few epochs (one point at epoch 0) spans MIN_EPOCH_SPAN epochs from
        its first, not -0.4 to 0.4 around it; longer runs follow the data again."""
        short = (self._x_range is None and len(epochs) > 0 and not self._overlay_data
                 and self._ghost is None and epochs[-1] - epochs[0] < MIN_EPOCH_SPAN)
        if short:
            self.loss_plot.setXRange(float(epochs[0]), float(epochs[0]) + MIN_EPOCH_SPAN,
                                     padding=0.02)
        elif self._short_x and self._x_range is None:
            vb = self.loss_plot.getViewBox()
            vb.enableAutoRange(x=True)
            vb.updateAutoRange()  # now: the curves are clipped to the view they are in
        self._short_x = short

    def _request_text(self) -> None:
        if self._text_timer.isActive():
            self._text_pending = True
        else:
            self._update_text()
            if len(self._session.history):
                self._text_timer.start()  # hold fast-changing numbers for a moment

    def _on_text_timer(self) -> None:
        if self._text_pending:
            self._text_pending = False
            self._update_text()
            self._text_timer.start()

    def _update_text(self) -> None:
        if self._hover_x is not None:
            self.readout_at(self._hover_x)
            return
        n = len(self._session.history)
        snap = self._session.snapshot
        marks = snap.state.marks
        past = self._session.past_epoch
        if past is not None and n:
            i = min(int(np.searchsorted(self._session.history.epochs.view(), past)), n - 1)
            self.readout_label.setText("shown (the past): " + self._describe(i))
        elif len(marks) and marks[-1, 1] == snap.updates:
            self.readout_label.setText(self._describe_mark(marks[-1], snap.epoch))
        elif n == 0:
            self.readout_label.setText("no epochs trained yet")
        else:
            self.readout_label.setText(self._describe(n - 1, latest=True))

    def _describe_mark(self, mark, epoch: int) -> str:
        """Rich text for the latest update taken by hand (what the header shows too)."""
        _, updates, train, test = mark
        parts = [f"<b>latest: epoch {epoch}, update {int(updates)} (by hand)</b>",
                 f"<span style='color:{self._look.blue}'>train loss {_fmt(train)}</span>"]
        if self._has_test and np.isfinite(test):
            parts.append(f"<span style='color:{self._look.vermillion}'>test loss "
                         f"{_fmt(test)}</span>")
        return " &nbsp;·&nbsp; ".join(parts)

    # -- reading values -------------------------------------------------------------------
    def _describe(self, i: int, latest: bool = False) -> str:
        """Rich text for the epoch at index ``i`` of the history."""
        h = self._session.history
        epoch = int(h.epochs.view()[i])
        parts = [f"<b>{'latest: ' if latest else ''}epoch {epoch}</b>",
                 f"<span style='color:{self._look.blue}'>train loss "
                 f"{_fmt(h.train_loss.view()[i])}</span>"]
        if self._has_test and i < len(h.test_loss):
            parts.append(f"<span style='color:{self._look.vermillion}'>test loss "
                         f"{_fmt(h.test_loss.view()[i])}</span>")
        if self._classification and i < len(h.train_accuracy):
            # accuracy is recorded every epoch, in the same rows as the losses
            acc = f"accuracy {h.train_accuracy.view()[i]:.0%}"
            if self._has_test and i < len(h.test_accuracy):
                acc += f" (test {h.test_accuracy.view()[i]:.0%})"
            parts.append(acc)
        return " &nbsp;·&nbsp; ".join(parts)

    def readout_at(self, x: float) -> str:
        """Show the losses of the epoch nearest to ``x`` (plot coordinates) and return the
        label's text."""
        epochs = self._session.history.epochs.view()
        n = len(epochs)
        if n == 0:
            self._hide_markers()
            self.readout_label.setText("no epochs trained yet")
            return self.readout_label.text()
        i = int(np.searchsorted(epochs, x))
        if i >= n or (i > 0 and x - epochs[i - 1] < epochs[i] - x):
            i = min(i, n) - 1
        for m in self._markers:
            m.setValue(float(epochs[i]))
            m.setVisible(True)
        self.readout_label.setText(self._describe(i))
        return self.readout_label.text()

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        for plot in (self.loss_plot, self.accuracy_plot):
            if plot.isVisible() and plot.scene() is not None and \
                    plot.getViewBox().sceneBoundingRect().contains(scene_pos):
                self._hover_x = plot.getViewBox().mapSceneToView(scene_pos).x()
                self.readout_at(self._hover_x)
                return
        self._end_hover()

    def _end_hover(self) -> None:
        if self._hover_x is not None:
            self._hover_x = None
            self._hide_markers()
            self._update_text()

    def _hide_markers(self) -> None:
        for m in self._markers:
            m.setVisible(False)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # Qt override
        kind = event.type()
        if kind == QtCore.QEvent.Leave and obj is self.plot_widget.viewport():
            self._end_hover()
        elif kind == QtCore.QEvent.Resize and obj is self.plot_widget:
            self._place_accuracy()
        return False

    # -- export -------------------------------------------------------------------------
    def export_png(self, path: str | os.PathLike) -> Path:
        """Save the plots as a PNG, as they look on screen (pixel for pixel: pyqtgraph
        enlarges text but not lines or the legend when it scales; for a bigger image
        enlarge the dock or use ``set_scale`` first)."""
        self.refresh()
        for _ in range(3):  # finish pending layouts (after set_scale, a resize) ...
            QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.LayoutRequest)
        self.plot_widget.scene().prepareForPaint()  # ... and auto-ranges
        path = Path(path)
        exporter = ImageExporter(self.plot_widget.scene())
        if int(exporter.parameters()["width"]) <= 0:
            raise ValueError("the plot has no size yet: show the Loss dock first")
        image = exporter.export(toBytes=True)

        def write(tmp: str) -> None:
            if not image.save(tmp, "PNG"):
                raise OSError(f"could not write {path}")

        atomic_write(path, write)
        return path

    def csv_text(self) -> str:
        """The history as CSV: ``epoch,train_loss,test_loss`` (test empty without a test
        set)."""
        h = self._session.history
        epochs = h.epochs.view().tolist()
        n = len(epochs)
        train = h.train_loss.view()[:n].tolist()
        lines = ["epoch,train_loss,test_loss"]
        columns = [map(str, epochs), map(repr, train)]
        if self._has_test and len(h.test_loss) >= n:
            columns.append(map(repr, h.test_loss.view()[:n].tolist()))
        else:
            columns.append([""] * n)
        lines.extend(map(",".join, zip(*columns)))  # ~1.5 s for a million epochs
        return "\n".join(lines) + "\n"

    def export_csv(self, path: str | os.PathLike) -> Path:
        """Write the losses of every epoch to ``path`` atomically."""
        path = Path(path)
        atomic_write_text(path, self.csv_text())
        return path

    def _on_png_clicked(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save the loss plot", "loss.png", "PNG image (*.png)")
        if path:
            self._export(self.export_png, path)

    def _on_csv_clicked(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save the losses", "loss.csv", "CSV table (*.csv)")
        if path:
            self._export(self.export_csv, path)

    def _export(self, fn, path: str) -> None:
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.WaitCursor)
        try:
            fn(path)
            problem = None
        except (OSError, ValueError) as e:
            problem = e
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        if problem is not None:
            QtWidgets.QMessageBox.warning(self, "Not saved",
                                          f"Could not save {path}:\n{problem}")


def _as_range(value) -> tuple[float, float] | None:
    if value is None or isinstance(value, str):
        return None
    lo, hi = (float(v) for v in value)
    return (lo, hi) if lo < hi else None
