"""The gradient dock: how large each weight layer's gradient is, against epoch.

One curve per weight matrix (W, V or W1, W2, ...): the Euclidean norm of the full-batch
gradient of its weights and bias weights, as the session's ``History`` recorded it with
every snapshot. The y axis is logarithmic by default, so vanishing gradients show at a
glance: in a deep sigmoid net the first layer's curve lies orders of magnitude below the
last one's. ``history_changed`` and ``snapshot_changed`` only start a timer: the plot
redraws at most about 10 times a second.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import QSignalThrottler

from ...engine.names import layer_prefix, matrix_name
from ..plot_style import (
    MIN_EPOCH_SPAN,
    ReadoutRow,
    ThinAxis,
    dock_body,
    scale_axes,
    scaled_font,
    style_axes,
)
from ..theme import LIGHT, Look, look

#: Okabe-Ito colours (told apart with common colour-vision deficiencies), first layer first.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
BACKGROUND = "#fbfbfb"
LINE_WIDTH = 3.0  # pixels at scale 1
REDRAW_MS = 100  # at most ~10 redraws a second
SYMBOLS_BELOW = 60  # with fewer points than this, each point gets a dot (a step is one)


def _fmt(v: float) -> str:
    return f"{v:.2g}" if v != 0 else "0"


def _times(r: float) -> str:
    """A ratio as a person says it: 3.5, 250, 1.2e+05."""
    return f"{r:.2g}" if r < 100 else f"{r:.0f}" if r < 10000 else f"{r:.1e}"


def layer_color(i: int, n: int, lk: Look = LIGHT) -> QtGui.QColor:
    """The colour of weight layer ``i`` of ``n`` in the theme ``lk``."""
    colors = (lk.blue, lk.vermillion, lk.green, lk.pink, lk.orange, lk.sky, lk.strong)
    if n <= len(colors):
        return QtGui.QColor(colors[i])
    return pg.intColor(i, hues=n, values=1, maxValue=255 if lk.name == "dark" else 200,
                       sat=230)


class GradientDock(QtWidgets.QDockWidget):
    """Per-layer gradient norms against epoch for the session's run."""

    def __init__(self, session, parent: QtWidgets.QWidget | None = None):
        super().__init__("Gradient norms", parent)
        self.setObjectName("gradient_dock")
        self._session = session
        self._scale = 1.0
        self._layers: tuple[int, ...] = ()
        self._look: Look = LIGHT
        self.curves: list[pg.PlotDataItem] = []
        self.names: list[str] = []

        body, layout, bar = dock_body(self)
        self.log_check = QtWidgets.QCheckBox("Log scale")
        self.log_check.setChecked(True)
        self.log_check.setToolTip("A logarithmic y axis: a gradient 1000 times smaller than "
                                  "another is still visible")
        self.log_check.toggled.connect(self.set_log_y)
        bar.addWidget(self.log_check)
        self.readout_label = QtWidgets.QLabel("")
        self.readout_label.setObjectName("gradient_readout")
        self.readout_label.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                         QtWidgets.QSizePolicy.Preferred)
        self.readout_label.setWordWrap(True)  # two lines in a narrow dock, never cut
        self.readout_label.setToolTip("The newest gradient norms: the length of dL/dW for the "
                                      "first and the last weight layer, over all training "
                                      "samples")
        bar.addWidget(self.readout_label, 1)
        layout.addLayout(bar)
        below = QtWidgets.QHBoxLayout()  # the readout, when the dock is too narrow beside
        layout.addLayout(below)
        self._readout_row = ReadoutRow(self, bar, below, self.readout_label)

        row = QtWidgets.QHBoxLayout()
        row.setSpacing(6)
        self.plot_widget = pg.GraphicsLayoutWidget()
        self.plot_widget.setBackground(BACKGROUND)
        self.plot_widget.setMinimumSize(160, 90)
        self.plot_widget.setToolTip("Length (Euclidean norm) of the full-batch gradient of "
                                    "each weight matrix, weights and bias weights together")
        row.addWidget(self.plot_widget, 1)
        # the legend beside the plot, not over it: there it would hide curves
        self.legend = QtWidgets.QLabel("")
        self.legend.setObjectName("gradient_legend")
        self.legend.setTextFormat(QtCore.Qt.RichText)
        self.legend.setAlignment(QtCore.Qt.AlignTop | QtCore.Qt.AlignLeft)
        self.legend.setToolTip("One curve per weight matrix: the layers it connects")
        row.addWidget(self.legend, 0)
        layout.addLayout(row, 1)
        self.setWidget(body)

        # labels that would overlap are left out (a short plot on a log axis)
        self.plot: pg.PlotItem = self.plot_widget.addPlot(
            row=0, col=0, axisItems={"left": ThinAxis("left"), "bottom": ThinAxis("bottom")})
        self.plot.setLabel("left", "gradient norm")
        self.plot.setLabel("bottom", "epoch")
        self.plot.hideButtons()
        style_axes(self.plot)
        self.plot.getViewBox().setDefaultPadding(0.02)
        self.plot.setLogMode(x=False, y=True)
        self.plot.ctrl.logYCheck.toggled.connect(self._on_plot_log_toggled)

        # at most one redraw every REDRAW_MS, the newest history last (latest wins)
        self._redraw = QSignalThrottler(QSignalThrottler.EmissionPolicy.Trailing, parent=self)
        self._redraw.setTimeout(REDRAW_MS)
        self._redraw.triggered.connect(self.refresh)

        session.structure_changed.connect(self._on_structure_changed)
        session.history_changed.connect(self._schedule_redraw)
        # the norms arrive with snapshots, which need not come with new losses
        session.snapshot_changed.connect(self._schedule_redraw)
        # the past epoch shown (the timeline bar): a solid line, as in the loss plot
        self._past_marker = pg.InfiniteLine(angle=90, movable=False)
        self._past_marker.setVisible(False)
        self._past_marker.setZValue(20)
        self.plot.addItem(self._past_marker, ignoreBounds=True)
        session.past_changed.connect(self._on_past_changed)
        self.set_scale(1.0)
        self._on_structure_changed()

    # -- presentation -------------------------------------------------------------------
    def set_scale(self, factor: float) -> None:
        """Scale fonts and line widths (presentation mode: ``factor`` 1.5 or 2)."""
        self._scale = max(0.5, float(factor))
        self._apply_colors()

    def scale(self) -> float:
        return self._scale

    def set_theme(self, theme: str) -> None:
        """Colours for the light theme or the dark projector theme (``ui.theme``)."""
        self._look = look(theme)
        self._apply_colors()

    def theme(self) -> str:
        return self._look.name

    def _apply_colors(self) -> None:
        font = scaled_font(self._scale)
        self.widget().setFont(font)
        self.plot_widget.setBackground(self._look.plot_background)
        style_axes(self.plot, look=self._look)
        scale_axes(self.plot, font, self._scale, "1e-10", look=self._look)
        if hasattr(self, "_past_marker"):
            self._past_marker.setPen(pg.mkPen(self._look.plot_text, width=2 * self._scale))
        self._style_curves()

    def set_log_y(self, on: bool) -> None:
        on = bool(on)
        with QtCore.QSignalBlocker(self.log_check):
            self.log_check.setChecked(on)
        if self.is_log_y() != on:
            self.plot.setLogMode(x=False, y=on)
        self.refresh()  # zeros become gaps on a log axis and come back on a linear one
        self.plot.enableAutoRange()

    def is_log_y(self) -> bool:
        return bool(self.plot.ctrl.logYCheck.isChecked())

    def _on_plot_log_toggled(self, on: bool) -> None:
        with QtCore.QSignalBlocker(self.log_check):
            self.log_check.setChecked(on)
        self.refresh()

    # -- following the session ------------------------------------------------------------
    def _on_structure_changed(self) -> None:
        layers = tuple(self._session.layers)
        if layers != self._layers or not self.curves:
            self._layers = layers
            for c in self.curves:
                self.plot.removeItem(c)
            n = len(layers) - 1
            self.names = [f"{matrix_name(layers, l)} ({layer_prefix(layers, l)} → "
                          f"{layer_prefix(layers, l + 1)})" for l in range(n)]
            self.curves = []
            for _ in range(n):
                c = self.plot.plot(antialias=False, autoDownsampleFactor=1.0)
                c.setDownsampling(auto=True, method="peak")
                c.setClipToView(True)
                self.curves.append(c)
            self._style_curves()
        self.refresh()
        self.plot.enableAutoRange()

    def _schedule_redraw(self, *_args) -> None:
        self._redraw.throttle()

    def _on_past_changed(self, epoch) -> None:
        """The timeline shows a past epoch (None: the present): mark it and read it out."""
        if epoch is not None:
            self._past_marker.setValue(float(epoch))
        self._past_marker.setVisible(epoch is not None)
        self.refresh()

    def past_marker(self) -> float | None:
        """The epoch marked as shown from the past (None: no marker)."""
        m = self._past_marker
        return float(m.value()) if m.isVisible() else None

    def _style_curves(self) -> None:
        n = len(self.curves)
        self.legend.setText("<table cellspacing='0' cellpadding='2'>" + "".join(
            f"<tr><td style='color:{layer_color(i, n, self._look).name()}; "
            "font-weight:bold'>"
            f"&#9473;&#9473;</td><td>{html.escape(name)}</td></tr>"
            for i, name in enumerate(self.names)) + "</table>")
        for i, c in enumerate(self.curves):
            color = layer_color(i, n, self._look)
            c.setPen(pg.mkPen(color, width=LINE_WIDTH * self._scale))
            c.setSymbolPen(pg.mkPen(color))
            c.setSymbolBrush(pg.mkBrush(color))
            c.setSymbolSize(int(7 * self._scale))

    # -- drawing ------------------------------------------------------------------------
    @QtCore.Slot()
    def refresh(self) -> None:
        """Redraw the curves from the history now (normally the timer calls this)."""
        self._redraw.cancel()
        h = self._session.history
        epochs = h.grad_epochs.view()
        norms = h.grad_norms
        n = len(epochs)
        if n == 0 or len(norms) != len(self.curves):
            for c in self.curves:
                c.clear()
            self.readout_label.setText("no gradients recorded yet" if n == 0 else "")
            return
        symbol = "o" if n < SYMBOLS_BELOW else None
        log = self.is_log_y()
        for c, buf in zip(self.curves, norms):
            y = buf.view()[:n]
            if log and np.any(y <= 0):  # a zero gradient has no logarithm: leave a gap
                y = np.where(y > 0, y, np.nan)
            if c.opts["symbol"] != symbol:
                c.setSymbol(symbol)
            c.setData(epochs, y, connect="finite")
        if epochs[-1] - epochs[0] < MIN_EPOCH_SPAN:  # one point: not a range around 0
            self.plot.setXRange(float(epochs[0]), float(epochs[0]) + MIN_EPOCH_SPAN,
                                padding=0.02)
        else:
            self.plot.enableAutoRange(x=True)
        past = self._session.past_epoch
        if past is None:
            self._update_readout(n - 1)
        else:  # the norms recorded at the past epoch shown, or the last before it
            i = int(np.searchsorted(epochs, past, side="right")) - 1
            self._update_readout(max(i, 0), past=True)

    def _update_readout(self, i: int, past: bool = False) -> None:
        h = self._session.history
        epoch = int(h.grad_epochs.view()[i])
        norms = [float(b.view()[i]) for b in h.grad_norms]
        short = [n.split(" ")[0] for n in self.names]
        if len(norms) == 1:
            text = f"epoch {epoch}: |dL/d{short[0]}| = {_fmt(norms[0])}"
        else:
            first, last = norms[0], norms[-1]
            text = (f"epoch {epoch}: |dL/d{short[0]}| = {_fmt(first)}, "
                    f"|dL/d{short[-1]}| = {_fmt(last)}")
            # an overflowing norm (inf) or a ratio beyond the float range has no ratio
            r = last / first if 0 < first < np.inf and 0 < last < np.inf else 0.0
            if 10 <= r < np.inf:
                text += f"  (first layer {_times(r)} times smaller)"
            elif 0 < r <= 0.1:
                text += f"  (first layer {_times(1 / r)} times larger)"
        self.readout_label.setText(("shown (the past): " if past else "") + text)

    def latest(self) -> list[float]:
        """The newest norm of every weight layer (empty before any was recorded)."""
        h = self._session.history
        if not len(h.grad_epochs):
            return []
        return [float(b.view()[len(h.grad_epochs) - 1]) for b in h.grad_norms]
