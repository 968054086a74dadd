"""One look for every pyqtgraph plot: readable axes and a grid that is cheap to draw.

pyqtgraph draws grid lines with the axis pen at the grid's alpha, for every tick level.
Measured on the loss dock (two plots, 2,000 epochs, 1600 px wide): 16-19 ms a repaint
with translucent grid lines at all tick levels, 7 ms with opaque lines at major ticks
only. The grid therefore uses an opaque pen and major ticks, and the axis text keeps its
own pen. Colours come from the theme (``ui.theme``): dark text on a light grid, or light
text on a dark one for the projector theme.
"""

from __future__ import annotations

import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from .theme import LIGHT, Look

TEXT_COLOR = LIGHT.plot_text
GRID_COLOR = LIGHT.plot_grid


def style_axes(plot: pg.PlotItem, grid: bool = True, sides=("left", "bottom"),
               look: Look = LIGHT) -> None:
    """Axis text in the theme's colour, an opaque grid at major ticks, no SI prefixes."""
    for side in sides:
        ax = plot.getAxis(side)
        ax.setPen(pg.mkPen(look.plot_grid if grid else look.plot_text))
        ax.setTextPen(pg.mkPen(look.plot_text))
        ax.enableAutoSIPrefix(False)  # "loss (x0.001)" confuses more than it helps
        # pyqtgraph 0.14 computes the prefix scale once more while switching it off, from
        # the range of that moment (0.5 -> "milli", x1000), and keeps that scale for
        # good: 200 epochs read "200k". Switched off means no scale.
        ax.autoSIPrefixScale = 1.0
        ax.labelUnitPrefix = ""
        ax.picture = None
        ax.setStyle(maxTickLevel=0)
        ax.setGrid(255 if grid else False)


#: the epoch axis of a plot shows at least this many epochs (a run at epoch 0 is one
#: point: drawn on 0..10, not on a range around it)
MIN_EPOCH_SPAN = 10


def dock_body(dock: QtWidgets.QWidget, spacing: int = 2, bar_spacing: int = 8
              ) -> tuple[QtWidgets.QWidget, QtWidgets.QVBoxLayout, QtWidgets.QHBoxLayout]:
    """A dock's body as the plot docks share it: a column with narrow margins and the
    control bar for its top row (not yet added: the dock adds it where it wants it)."""
    body = QtWidgets.QWidget(dock)
    layout = QtWidgets.QVBoxLayout(body)
    layout.setContentsMargins(4, 2, 4, 4)
    layout.setSpacing(spacing)
    bar = QtWidgets.QHBoxLayout()
    bar.setSpacing(bar_spacing)
    return body, layout, bar


def scaled_font(factor: float) -> QtGui.QFont:
    """The application font times ``factor`` (presentation mode scales plots by it)."""
    app_font = QtWidgets.QApplication.font()
    font = QtGui.QFont(app_font)
    font.setPointSizeF(app_font.pointSizeF() * factor)
    return font


def scale_axes(plot: pg.PlotItem, font: QtGui.QFont, factor: float, widest_tick: str,
               look: Look = LIGHT) -> None:
    """Tick and label fonts at ``font``; the left axis wide enough for ``widest_tick``."""
    pt = font.pointSizeF()
    metrics = QtGui.QFontMetricsF(font)
    for side in ("left", "bottom"):
        ax = plot.getAxis(side)
        ax.setTickFont(font)
        ax.setStyle(tickTextOffset=int(4 * factor))
        ax.label.setFont(font)
        ax.setLabel(ax.labelText, **{"font-size": f"{pt:.1f}pt", "color": look.plot_text})
    plot.getAxis("left").setWidth(
        int(metrics.horizontalAdvance(widest_tick) + metrics.height() + 14))


class ThinAxis(pg.AxisItem):
    """An axis that leaves out labels that would run into each other (pyqtgraph writes
    a log axis's minor labels 0.009, 0.008, ... on top of each other in a short plot).
    Powers of ten are kept first, then the others from the lowest up, each only where
    it has room."""

    def tickStrings(self, values, scale, spacing):  # pyqtgraph override
        strings = super().tickStrings(values, scale, spacing)
        return thin_labels(self, values, strings)


def thin_labels(axis: pg.AxisItem, values, strings) -> list[str]:
    """``strings`` with those blanked that would overlap their neighbours on ``axis``."""
    lo, hi = axis.range
    vertical = axis.orientation in ("left", "right")
    length = axis.height() if vertical else axis.width()
    if len(values) < 2 or hi <= lo or length <= 0:
        return list(strings)
    metrics = QtGui.QFontMetricsF(axis.style["tickFont"] or axis.font())

    def size(text: str) -> float:
        return metrics.height() * 1.1 if vertical else \
            metrics.horizontalAdvance(text) + metrics.height()

    pos = [(v - lo) * length / (hi - lo) for v in values]

    def round_value(v: float) -> bool:
        return abs(v - round(v)) < 1e-9 if axis.logMode else False

    order = sorted(range(len(values)), key=lambda i: (not round_value(values[i]), pos[i]))
    kept: list[int] = []
    for i in order:
        if not strings[i]:
            continue
        if all(abs(pos[i] - pos[j]) >= (size(strings[i]) + size(strings[j])) / 2
               for j in kept):
            kept.append(i)
    return [s if i in kept else "" for i, s in enumerate(strings)]



class ReadoutRow(QtCore.QObject):
    """Keeps a dock's readout label beside its controls when the dock is wide, and on a
    line of its own below them when it is narrow (two plots side by side): wrapped
    beside a checkbox it took four lines and squeezed the plot."""

    #: the readout needs about this many characters beside the controls
    CHARS = 42

    def __init__(self, dock: QtWidgets.QDockWidget, bar: QtWidgets.QHBoxLayout,
                 below: QtWidgets.QBoxLayout, label: QtWidgets.QLabel, index: int = 1):
        super().__init__(dock)
        self.dock, self.bar, self.below, self.label, self.index = dock, bar, below, label, index
        self.beside = True
        dock.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() in (QtCore.QEvent.Resize, QtCore.QEvent.FontChange) and \
                shiboken6.isValid(self.dock) and shiboken6.isValid(self.label):
            self.place()  # (a dock being destroyed still sends events: not then)
        return False

    def place(self) -> None:
        others = sum(self.bar.itemAt(i).sizeHint().width() for i in range(self.bar.count())
                     if self.bar.itemAt(i).widget() is not self.label)
        char = QtGui.QFontMetricsF(self.label.font()).averageCharWidth()
        beside = self.dock.width() >= others + self.CHARS * char
        if beside == self.beside:
            return
        self.beside = beside
        (self.below if beside else self.bar).removeWidget(self.label)
        if beside:
            self.bar.insertWidget(self.index, self.label, 1)
        else:
            self.below.addWidget(self.label, 1)
