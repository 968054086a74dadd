"""The loss landscape dock: a 2-D slice of the loss surface, with the run's path and the
paths of the compared runs (Training > Compare) on it.

The plane (``engine.landscape``): the horizontal axis runs from the initial weights
(alpha = -1) to an end point (the centre, alpha = beta = 0): the main run's current
weights, or, before the main run has trained, the final weights of the first compared run
that finished (the caption says which). The vertical axis is a random direction
orthogonal to it, filter-normalised as in Li et al. 2018. Colours are log10 of the
training loss of the window's setup (mean data loss plus penalty, the quantity training
lowers) with a few contour lines.

The main run's kept states (``session.timeline.path()``) are drawn as a white line ending
in a red marker at the current epoch; each compared run's kept weights as a line in the
colour the loss dock gives that run (``loss_dock.OVERLAY_COLORS``, in the comparison's
order), from the common start (a hollow square) to an end marker. States between the
start and the end point generally lie off the plane: what is drawn is their projection,
and the legend gives each path's largest distance from the plane in units of the
start-to-end distance.

The grid (41 x 41 forward passes over the training set) is computed off the UI thread
(``controller.landscape_job``) with a progress bar: when "Compute" is pressed, when a
comparison ends while the dock is shown, and when the dock is shown or training pauses
and the run or the comparison has changed since the last landscape. Never on its own
while training runs. Colours and text follow the theme and the text size
(``set_theme``, ``set_scale``), as the other docks do.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...controller.landscape_job import LandscapeComputer, Request, Result, gather
from ..plot_style import ThinAxis, dock_body, scale_axes, scaled_font, style_axes
from ..theme import LIGHT, Look, look
from .data_dock import contour_segments
from .loss_dock import OVERLAY_COLORS

PATH_COLOR = "#ffffff"
PATH_OUTLINE = "#1a1a1a"
CURRENT_COLOR = "#e6194b"
#: behind the legend's line samples: the dark end of the colour map, as on the plot
SWATCH_BACKGROUND = "#2b2f4a"
CONTOURS = 10
MAX_MARKERS = 60  # kept states drawn as dots up to this many
PATH_WIDTH = 2.5  # pixels at scale 1 (an outline 2 px wider goes under it)


def variant_width(z: int, n: int) -> float:
    """The line width (at scale 1) of the ``z``-th of ``n`` compared paths: the first
    widest, each next one narrower and drawn over it, so paths that run together (SGD and
    momentum set off the same way) both stay visible: a band of each colour."""
    step = min(2.5, 7.5 / max(1, n - 1))  # pixels: at most 10 for the widest
    return PATH_WIDTH + step * (n - 1 - z)


def _fmt_off(d: float) -> str:
    return "on the plane" if d < 5e-3 else f"off-plane ≤ {d:.2g}"


class LandscapeDock(QtWidgets.QDockWidget):
    """The loss surface around the current weights and the paths the runs took."""

    def __init__(self, session, parent: QtWidgets.QWidget | None = None):
        super().__init__("Loss landscape", parent)
        self.setObjectName("landscape_dock")
        self._session = session
        self._key: tuple | None = None  # the request of the landscape shown or computed
        self._look: Look = LIGHT
        self._scale = 1.0
        self._comparison = None  # a ComparisonJob (Training > Compare), once there is one
        self._runs_shown = True  # False after "Clear comparison", until the next one
        self.result: Result | None = None
        self.computer = LandscapeComputer(self)
        self.finished = self.computer.finished  # a Result, once drawn

        body, layout, bar = dock_body(self)
        self.compute_button = QtWidgets.QPushButton("Compute")
        self.compute_button.setToolTip("Compute the loss on a 41 x 41 grid of the plane "
                                       "through the initial and the current weights (or a "
                                       "compared run's final weights)")
        self.compute_button.clicked.connect(self.compute)
        bar.addWidget(self.compute_button, 0, QtCore.Qt.AlignTop)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        bar.addWidget(self.progress, 0, QtCore.Qt.AlignTop)
        self.message = QtWidgets.QLabel("")
        self.message.setObjectName("landscape_message")
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                   QtWidgets.QSizePolicy.Preferred)
        bar.addWidget(self.message, 1)
        layout.addLayout(bar)

        row = QtWidgets.QHBoxLayout()
        row.setSpacing(6)
        self.plot_widget = pg.GraphicsLayoutWidget()
        # tick labels that would run into each other are left out (a short plot at a
        # large text size)
        self.plot = self.plot_widget.addPlot(
            row=0, col=0, axisItems={"left": ThinAxis("left"), "bottom": ThinAxis("bottom")})
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "α  (initial → current weights)")
        self.plot.setLabel("left", "β  (random)")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.contours = pg.PlotCurveItem(connect="pairs", pen=pg.mkPen("#00000060", width=1))
        self.plot.addItem(self.contours)
        # the main run's path over the compared ones (z 12-13): thin and white, it stays
        # visible where it runs along a compared run's wide line
        self.path_outline = pg.PlotCurveItem()
        self.path_outline.setZValue(14)
        self.plot.addItem(self.path_outline)
        self.path_curve = pg.PlotDataItem(symbol="o")
        self.path_curve.setZValue(15)
        self.plot.addItem(self.path_curve)
        self.current_marker = pg.ScatterPlotItem()
        self.current_marker.setZValue(21)
        self.plot.addItem(self.current_marker)
        self.start_marker = pg.ScatterPlotItem(symbol="s")
        self.start_marker.setZValue(19)  # hollow, under the end markers: a run that
        # hardly moves (in the plane) still shows its end inside it
        self.plot.addItem(self.start_marker)
        #: the compared runs' paths by name: (outline, line, end marker, colour)
        self._variant_items: dict[str, tuple] = {}
        cmap = pg.colormap.get("viridis")
        try:  # no colour-map menu (pyqtgraph >= 0.13.4)
            self.color_bar = pg.ColorBarItem(values=(0.0, 1.0), width=14, interactive=False,
                                             colorMap=cmap, colorMapMenu=False,
                                             label="log₁₀ loss")
        except TypeError:
            self.color_bar = pg.ColorBarItem(values=(0.0, 1.0), width=14, interactive=False,
                                             colorMap=cmap, label="log₁₀ loss")
        self.color_bar.setImageItem(self.image)
        self.plot_widget.addItem(self.color_bar, row=0, col=1)
        row.addWidget(self.plot_widget, 1)
        # the legend beside the plot, not over it: there it would hide the surface
        self.legend = QtWidgets.QLabel("")
        self.legend.setObjectName("landscape_legend")
        self.legend.setTextFormat(QtCore.Qt.RichText)
        self.legend.setAlignment(QtCore.Qt.AlignTop | QtCore.Qt.AlignLeft)
        self.legend.setToolTip("Each run's path and, when it leaves the plane, its largest "
                               "distance from it in units of the start-to-end distance "
                               "(what is drawn is its projection)")
        self.legend.hide()
        row.addWidget(self.legend, 0)
        layout.addLayout(row, 1)
        self._row, self._layout = row, layout
        #: the legend beside the plot in a wide dock, in a wrapped line under it in a
        #: narrow one (beside, it would squeeze the plot to a sliver at a large text size)
        self.legend_beside = True
        self.setWidget(body)
        self.installEventFilter(self)

        self.computer.progress.connect(self._on_progress)
        self.computer.finished.connect(self._on_finished)
        self.computer.failed.connect(self._on_failed)
        self.visibilityChanged.connect(self._on_visibility)
        session.running_changed.connect(self._on_running_changed)
        self.set_scale(1.0)
        self._say("Press Compute for the loss surface around the current weights.")

    # -- the compared runs ----------------------------------------------------------------
    def follow_comparison(self, job) -> None:
        """Draw the runs of ``job`` (a ``controller.comparison.ComparisonJob``) too: the
        landscape is computed again when a comparison ends (now if the dock is shown,
        else when it is next shown)."""
        if self._comparison is job:
            return
        self._comparison = job
        job.started.connect(self._on_comparison_started)
        job.finished.connect(self._on_comparison_ended)
        job.cancelled.connect(self._on_comparison_ended)

    def clear_comparison(self) -> None:
        """Leave the compared runs out (the Compare dialog's "Clear comparison") until the
        next comparison starts."""
        self._runs_shown = False
        self._on_comparison_ended()

    def _runs(self) -> list:
        if self._comparison is None or not self._runs_shown:
            return []
        return self._comparison.runs

    def _on_comparison_started(self) -> None:
        self._runs_shown = True
        note = "  A new comparison is running: its paths are drawn when it ends."
        if self.result is not None and self.result.paths and note not in self.message.text():
            self._say(self.message.text() + note)

    def _on_comparison_ended(self) -> None:
        if self.isVisible():
            req = gather(self._session, runs=self._runs())
            if not isinstance(req, Request) or req.key != self._key:
                self.compute()
        # hidden: the key differs now, so the landscape is computed when shown

    # -- computing ------------------------------------------------------------------------
    def compute(self) -> bool:
        """Start a landscape for the weights shown now and the compared runs (even while
        training runs); False with a message when there is nothing to show."""
        req = gather(self._session, runs=self._runs())
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
        if req.plane_run is None:
            self._say(f"Computing the landscape at epoch {req.epoch}...")
        else:
            self._say(f"Computing the landscape through {req.plane_run}'s final weights...")
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
        req = gather(self._session, runs=self._runs())
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

    # -- theme and text size --------------------------------------------------------------
    def set_scale(self, factor: float) -> None:
        """Scale fonts, lines and markers (presentation mode, text size)."""
        self._scale = max(0.5, float(factor))
        self._apply_look()

    def scale(self) -> float:
        return self._scale

    def set_theme(self, theme: str) -> None:
        """Colours for the light theme or the dark projector theme (``ui.theme``); the
        colour map stays."""
        self._look = look(theme)
        self._apply_look()

    def theme(self) -> str:
        return self._look.name

    def _apply_look(self) -> None:
        lk, k = self._look, self._scale
        font = scaled_font(k)
        self.widget().setFont(font)
        self.plot_widget.setBackground(lk.plot_background)
        style_axes(self.plot, grid=False, look=lk)
        scale_axes(self.plot, font, k, "-0.00", look=lk)
        # a vertical colour bar: tick values on its right axis, its label on the left one
        style_axes(self.color_bar, grid=False, sides=("right", "left"), look=lk)
        self.color_bar.getAxis("right").setTickFont(font)
        ax = self.color_bar.getAxis("left")
        ax.label.setFont(font)
        ax.setLabel(ax.labelText, **{"font-size": f"{font.pointSizeF():.1f}pt",
                                     "color": lk.plot_text})
        self.color_bar.setFixedWidth(QtGui.QFontMetricsF(font).horizontalAdvance("-0.0")
                                     + QtGui.QFontMetricsF(font).height() + 14 * k + 24)
        self.path_outline.setPen(pg.mkPen(PATH_OUTLINE, width=(PATH_WIDTH + 2) * k))
        self.path_curve.setPen(pg.mkPen(PATH_COLOR, width=PATH_WIDTH * k))
        self.path_curve.setSymbolSize(5 * k)
        self.path_curve.setSymbolBrush(PATH_COLOR)
        self.path_curve.setSymbolPen(pg.mkPen(PATH_OUTLINE))
        self.current_marker.setSize(13 * k)
        self.current_marker.setBrush(pg.mkBrush(CURRENT_COLOR))
        self.current_marker.setPen(pg.mkPen(PATH_OUTLINE, width=1.5 * k))
        self.start_marker.setSize(19 * k)
        self.start_marker.setBrush(pg.mkBrush(None))
        self.start_marker.setPen(pg.mkPen(PATH_COLOR, width=2.5 * k))
        for outline, line, end, color, width in self._variant_items.values():
            self._style_variant(outline, line, end, color, width)
        self._update_legend()

    def _style_variant(self, outline, line, end, color: str, width: float) -> None:
        k = self._scale
        outline.setPen(pg.mkPen(PATH_OUTLINE, width=(width + 2) * k))
        line.setPen(pg.mkPen(color, width=width * k))
        end.setSize(13 * k)
        end.setBrush(pg.mkBrush(color))
        end.setPen(pg.mkPen(PATH_OUTLINE, width=1.5 * k))

    # -- drawing --------------------------------------------------------------------------
    def _say(self, text: str, tooltip: str | None = None) -> None:
        self.message.setText(text)
        self.message.setToolTip(tooltip or text)

    def _clear(self) -> None:
        self.result = None
        self.image.clear()
        self.contours.setData([], [])
        self.path_curve.setData([], [])
        self.path_outline.setData([], [])
        self.current_marker.setData([], [])
        self.start_marker.setData([], [])
        self._set_variants(())
        self._update_legend()

    def variant_paths(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The compared runs' lines as drawn: name -> (x, y)."""
        return {name: items[1].getData() for name, items in self._variant_items.items()}

    def variant_color(self, name: str) -> str:
        return self._variant_items[name][3]

    def _set_variants(self, paths) -> None:
        for outline, line, end, _, _ in self._variant_items.values():
            for item in (outline, line, end):
                self.plot.removeItem(item)
        self._variant_items = {}
        for z, p in enumerate(paths):
            v = p.variant
            color = OVERLAY_COLORS[v.index % len(OVERLAY_COLORS)]
            width = variant_width(z, len(paths))
            outline, line = pg.PlotCurveItem(), pg.PlotCurveItem()
            end = pg.ScatterPlotItem(symbol="o")
            # every outline under every line: a narrower line over a wider one leaves the
            # wider one's colour showing on both sides
            outline.setZValue(12 + z / 100)
            line.setZValue(13 + z / 100)
            end.setZValue(20)
            self._style_variant(outline, line, end, color, width)
            xy = p.coords
            for item in (outline, line):
                item.setData(xy[:, 0], xy[:, 1])
                self.plot.addItem(item)
            end.setData(xy[-1:, 0], xy[-1:, 1])
            self.plot.addItem(end)
            self._variant_items[v.name] = (outline, line, end, color, width)

    def _legend_line(self, color: str, name: str, detail: str) -> str:
        return (f"<tr><td style='background-color:{SWATCH_BACKGROUND}; color:{color}'>"
                f"&nbsp;━━&nbsp;</td><td>&nbsp;{html.escape(name)}</td></tr>"
                + (f"<tr><td></td><td style='color:{self._look.note}'>&nbsp;"
                   f"{html.escape(detail)}</td></tr>" if detail else ""))

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        if obj is self and event.type() in (QtCore.QEvent.Resize,
                                            QtCore.QEvent.FontChange):
            self._place_legend()
        return False

    def _place_legend(self) -> None:
        """Beside the plot while the plot keeps at least twice the legend's width."""
        r = self.result
        if r is None or not r.paths:
            return
        self.legend_beside = True
        self.legend.setWordWrap(False)
        self.legend.setText(self._legend_html(True))
        wanted = self.legend.sizeHint().width()
        beside = self.width() >= 3 * wanted + 40
        if not beside:
            self.legend_beside = False
            self.legend.setText(self._legend_html(False))
        in_row = self._row.indexOf(self.legend) >= 0
        if beside != in_row:
            (self._row if in_row else self._layout).removeWidget(self.legend)
            if beside:
                self._row.addWidget(self.legend, 0)
            else:
                self._layout.addWidget(self.legend, 0)
        self.legend.setWordWrap(not beside)

    def _update_legend(self) -> None:
        r = self.result
        if r is None or not r.paths:
            self.legend.clear()
            self.legend.hide()
            return
        self._place_legend()
        self.legend.show()

    def _legend_entries(self) -> list[tuple[str, str, str]]:
        """(colour, name, detail) of each path in the legend."""
        r = self.result
        rows = []
        if len(r.coords) > 1:
            rows.append((PATH_COLOR, f"this run (epoch {r.request.epoch})",
                         _fmt_off(r.farthest)))
        for p in r.paths:
            v = p.variant
            detail = _fmt_off(p.farthest)
            if v.error is not None:
                detail += f"; diverged after epoch {int(p.epochs[-1]) if len(p.epochs) else 0}"
            elif not v.done:
                detail += f"; stopped at epoch {int(p.epochs[-1])}"
            if v.note:
                detail += "; " + v.note
            rows.append((OVERLAY_COLORS[v.index % len(OVERLAY_COLORS)], v.name, detail))
        return rows

    def _legend_html(self, table: bool) -> str:
        """A table (beside the plot) or one wrapped line (under it)."""
        entries = self._legend_entries()
        if table:
            return ("<table cellspacing='0' cellpadding='1'>"
                    + "".join(self._legend_line(*e) for e in entries) + "</table>")
        return "&nbsp;&nbsp; ".join(
            f"<span style='background-color:{SWATCH_BACKGROUND}; color:{c}'>&nbsp;━━&nbsp;"
            f"</span>&nbsp;{html.escape(n)} <span style='color:{self._look.note}'>"
            f"({html.escape(d)})</span>" for c, n, d in entries)

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
        req = result.request
        xy = result.coords
        if len(xy):
            # markers for the kept states only while they can be told apart
            self.path_curve.setData(xy[:, 0], xy[:, 1],
                                    symbol="o" if len(xy) <= MAX_MARKERS else None)
            self.path_outline.setData(xy[:, 0], xy[:, 1])
            self.current_marker.setData([xy[-1, 0]], [xy[-1, 1]])
        else:
            self.path_curve.setData([], [])
            self.path_outline.setData([], [])
            self.current_marker.setData([], [])
        start, _ = ls.plane.project(req.initial)
        self.start_marker.setData(start[:, 0], start[:, 1])
        self._set_variants(result.paths)
        self._update_legend()
        self.plot.setRange(xRange=(a[0], a[-1]), yRange=(b[0], b[-1]), padding=0)
        centre = ls.values[len(b) // 2, len(a) // 2]
        if req.plane_run is None:
            self.plot.setLabel("bottom", "α  (initial → current weights)")
            text = (f"Epoch {req.epoch}: loss {centre:.4g} at the centre (current weights), "
                    f"start □ at α = −1; this run's path of {len(xy)} kept states, "
                    f"{_fmt_off(result.farthest)}.")
            full = text
        else:
            end_epoch = next(int(p.epochs[-1]) for p in result.paths
                             if p.variant.name == req.plane_run)
            self.plot.setLabel("bottom", f"α  (initial → {req.plane_run})")
            text = (f"Plane: start □ (α = −1) → {req.plane_run}'s final weights (centre; "
                    f"epoch {end_epoch}, loss {centre:.3g}); this run has not trained yet.")
            full = (f"This run has not trained yet, so the plane runs through the initial "
                    f"weights (□, α = −1) and the final weights of {req.plane_run} (epoch "
                    f"{end_epoch}; the centre, α = β = 0, loss {centre:.4g}), the first "
                    f"compared run that finished.")
        if result.paths:
            text += " Paths off the plane are projections."
            full += (" Every compared run starts at □. Between the start and the end point a "
                     "path generally leaves the plane: what is drawn is its projection. The "
                     "legend gives each path's largest distance from the plane, in units of "
                     "the start-to-end distance (|α| = 1).")
        if req.notes:
            text += " " + "; ".join(req.notes) + "."
            full += " " + "; ".join(req.notes) + "."
        self._apply_look()  # the new axis label at the text size
        self._say(text, full)
