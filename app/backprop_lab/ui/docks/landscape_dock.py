"""The loss landscape dock: a 2-D slice of the loss surface through the current weights.

The plane (``engine.landscape``, Li et al. 2018): the horizontal axis runs from the
initial weights (alpha = -1 at the run's start when it lies on the axis) to the current
ones (the centre, alpha = beta = 0), the vertical one is a random direction orthogonal
to it, both filter-normalised. Colours are log10 of the training loss (mean data loss
plus penalty, the quantity training lowers) with a few contour lines; the run's kept
states (``session.timeline.path()``) are projected on the plane as a line ending in a
marker at the current epoch.

The grid (41 x 41 forward passes over the training set) is computed off the UI thread
(``controller.landscape_job``) with a progress bar: when "Compute" is pressed, and when
the dock is shown or training pauses and the run has changed since the last landscape.
Never on its own while training runs.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...controller.landscape_job import LandscapeComputer, Request, Result, gather
from ..plot_style import TEXT_COLOR, style_axes
from .data_dock import contour_segments

PATH_COLOR = "#ffffff"
PATH_OUTLINE = "#1a1a1a"
CURRENT_COLOR = "#e6194b"
CONTOURS = 10
MAX_MARKERS = 60  # kept states drawn as dots up to this many


class LandscapeDock(QtWidgets.QDockWidget):
    """The loss surface around the current weights and the path the run took."""

    def __init__(self, session, parent: QtWidgets.QWidget | None = None):
        super().__init__("Loss landscape", parent)
        self.setObjectName("landscape_dock")
        self._session = session
        self._key: tuple | None = None  # the request of the landscape shown or computed
        self.result: Result | None = None
        self.computer = LandscapeComputer(self)
        self.finished = self.computer.finished  # a Result, once drawn

        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.setSpacing(2)
        bar = QtWidgets.QHBoxLayout()
        bar.setSpacing(8)
        self.compute_button = QtWidgets.QPushButton("Compute")
        self.compute_button.setToolTip("Compute the loss on a 41 x 41 grid of the plane "
                                       "through the initial and the current weights")
        self.compute_button.clicked.connect(self.compute)
        bar.addWidget(self.compute_button)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        bar.addWidget(self.progress)
        self.message = QtWidgets.QLabel("")
        self.message.setObjectName("landscape_message")
        self.message.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                   QtWidgets.QSizePolicy.Preferred)
        bar.addWidget(self.message, 1)
        layout.addLayout(bar)

        self.plot_widget = pg.GraphicsLayoutWidget()
        self.plot_widget.setBackground("#fbfbfb")
        self.plot = self.plot_widget.addPlot(row=0, col=0)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "α  (initial → current weights)")
        self.plot.setLabel("left", "β  (orthogonal direction)")
        style_axes(self.plot, grid=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.contours = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen("#00000060", width=1))
        self.plot.addItem(self.contours)
        self.path_curve = pg.PlotDataItem(
            pen=pg.mkPen(PATH_COLOR, width=2), symbol="o", symbolSize=4,
            symbolBrush=PATH_COLOR, symbolPen=pg.mkPen(PATH_OUTLINE))
        self.path_curve.setZValue(10)
        self.plot.addItem(self.path_curve)
        self.current_marker = pg.ScatterPlotItem(
            size=12, brush=pg.mkBrush(CURRENT_COLOR), pen=pg.mkPen(PATH_OUTLINE, width=1.5))
        self.current_marker.setZValue(11)
        self.plot.addItem(self.current_marker)
        cmap = pg.colormap.get("viridis")
        try:  # no colour-map menu (pyqtgraph >= 0.13.4)
            self.color_bar = pg.ColorBarItem(values=(0.0, 1.0), width=14, interactive=False,
                                             colorMap=cmap, colorMapMenu=False,
                                             pen=TEXT_COLOR, label="log₁₀ loss")
        except TypeError:
            self.color_bar = pg.ColorBarItem(values=(0.0, 1.0), width=14, interactive=False,
                                             colorMap=cmap, pen=TEXT_COLOR, label="log₁₀ loss")
        self.color_bar.setImageItem(self.image)
        self.plot_widget.addItem(self.color_bar, row=0, col=1)
        style_axes(self.color_bar, grid=False, sides=("right",))
        layout.addWidget(self.plot_widget, 1)
        self.setWidget(body)

        self.computer.progress.connect(self._on_progress)
        self.computer.finished.connect(self._on_finished)
        self.computer.failed.connect(self._on_failed)
        self.visibilityChanged.connect(self._on_visibility)
        session.running_changed.connect(self._on_running_changed)
        self._say("Press Compute for the loss surface around the current weights.")

    # -- computing ------------------------------------------------------------------------
    def compute(self) -> bool:
        """Start a landscape for the weights shown now (even while training runs); False
        with a message when there is nothing to show."""
        req = gather(self._session)
        if not isinstance(req, Request):
            self.computer.stop()
            self._clear()
            self.progress.hide()
            self._key = None
            self._say(req)
            return False
        self._key = req.key
        self.progress.setRange(0, req.points)
        self.progress.setValue(0)
        self.progress.show()
        self._say(f"Computing the landscape at epoch {req.epoch}...")
        self.computer.start(req)
        return True

    def stop(self) -> None:
        """Drop a landscape in progress (the window closes)."""
        if self.computer.busy:
            self._say("Stopped: press Compute for the landscape.")
        self.computer.stop()
        self.progress.hide()

    def _maybe_compute(self) -> None:
        """Recompute if the dock is visible, training is paused and the run changed."""
        if not self.isVisible() or self._session.running:
            return
        req = gather(self._session)
        if isinstance(req, Request):
            if req.key != self._key:
                self.compute()
        elif self.result is not None or self._key is not None:
            self.compute()  # shows the message (e.g. reset to epoch 0)

    def _on_visibility(self, visible: bool) -> None:
        if visible:
            self._maybe_compute()

    def _on_running_changed(self, running: bool) -> None:
        if not running:
            QtCore.QTimer.singleShot(0, self, self._maybe_compute)

    # -- drawing --------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setToolTip(text)

    def _clear(self) -> None:
        self.result = None
        self.image.clear()
        self.contours.setData([], [])
        self.path_curve.setData([], [])
        self.current_marker.setData([], [])

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _on_failed(self, message: str) -> None:
        self.progress.hide()
        self._clear()
        self._say(message)

    def _on_finished(self, result: Result) -> None:
        self.progress.hide()
        self.result = result
        ls = result.landscape
        a, b = ls.alphas, ls.betas
        with np.errstate(divide="ignore", invalid="ignore"):
            logv = np.log10(ls.values)
        finite = logv[np.isfinite(logv)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1e-6
        shown = np.where(np.isfinite(logv), logv, hi)  # a diverged corner: the top colour
        self.image.setImage(shown, autoLevels=False)
        da, db = a[1] - a[0], b[1] - b[0]
        self.image.setRect(QtCore.QRectF(a[0] - da / 2, b[0] - db / 2,
                                         da * len(a), db * len(b)))
        self.color_bar.setLevels((lo, hi))
        segs = [contour_segments(shown, a, b, lvl)
                for lvl in np.linspace(lo, hi, CONTOURS + 2)[1:-1]]
        seg = np.concatenate(segs) if segs else np.zeros((0, 4))
        self.contours.setData(seg[:, [0, 2]].ravel(), seg[:, [1, 3]].ravel())
        xy = result.coords
        # markers for the kept states only while they can be told apart
        self.path_curve.setData(xy[:, 0], xy[:, 1],
                                symbol="o" if len(xy) <= MAX_MARKERS else None)
        self.current_marker.setData([xy[-1, 0]], [xy[-1, 1]])
        self.plot.setRange(xRange=(a[0], a[-1]), yRange=(b[0], b[-1]), padding=0)
        req = result.request
        centre = ls.values[len(b) // 2, len(a) // 2]
        off = float(result.off_plane.max()) if len(result.off_plane) else 0.0
        self._say(f"Epoch {req.epoch}: loss {centre:.4g} at the centre (current weights); "
                  f"path of {len(xy)} kept states, up to {100 * off:.0f}% off the plane")
