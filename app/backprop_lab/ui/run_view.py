"""Runs side by side (issue 11): two canvases, each showing a run of the window's choice.

A run is the main run or a variant of the last comparison (Training > Compare...). Each
canvas shows its run's network with the run's current weights (a finished variant: its
final ones) and the forward values, deltas and gradients of the selected training
sample, exactly as the main canvas does. The right canvas can colour its edges by the
difference of the weights, ``w(right) − w(left)``, in a diverging purple-green pair
symmetric about 0 (its weight labels then show the differences); "— none —" on the
right shows one run large.

The window follows the comparison (a start, new chunks, the end) and the main run (new
epochs, another sample) at most ``REFRESH_MS`` apart, never at training speed, and only
while it is visible. Its colours follow the window's theme and its text the window's
text size and presentation mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..engine.data import Dataset
from ..engine.network import Network
from ..engine.trace import trace_step
from ..runs.side_by_side import WeightDifference, run_network, shape_mismatch, weight_difference
from . import theme as theme_mod
from .canvas import CanvasData, EdgeOverride, NetworkCanvas
from .canvas.style import format_value, palette_for
from .docks.loss_dock import OVERLAY_COLORS
from .presenter import canvas_data

#: the pickers and canvases follow the runs at most this often (4 a second)
REFRESH_MS = 250
MAIN = "main"
NONE = "none"
SYMBOL = "\u0394w"
#: the title of a run's pane, and the difference's line, this much larger than the
#: controls' text: read from the back of a lecture room
TITLE_FONT = 1.2
NOTE_FONT = 1.1


def meaning(left: str, right: str) -> str:
    """What the right canvas's edges show, in the runs' names."""
    return f"\u0394w = w({right}) \u2212 w({left})"


@dataclass(frozen=True)
class ShownRun:
    """What a canvas shows of one run: its network with the weights shown, and what a
    trace of one sample needs."""

    key: str
    name: str
    color: str
    network: Network
    config: object
    optimizer: object
    dataset: Dataset
    epoch: int
    train_loss: float | None
    error: str | None = None


def variant_key(name: str) -> str:
    return f"variant:{name}"


def _swatch(color: str, side: int) -> QtGui.QIcon:
    pix = QtGui.QPixmap(side, side)
    pix.fill(QtCore.Qt.GlobalColor.transparent)
    p = QtGui.QPainter(pix)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    p.setPen(QtCore.Qt.PenStyle.NoPen)
    p.setBrush(QtGui.QColor(color))
    p.drawRoundedRect(QtCore.QRectF(1, 1, side - 2, side - 2), side / 5, side / 5)
    p.end()
    return QtGui.QIcon(pix)


class RunPane(QtWidgets.QWidget):
    """One side: a run picker over a canvas, with the run's name, epoch and loss."""

    def __init__(self, side: str, allow_none: bool, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.side = side
        self.allow_none = allow_none
        self.picker = QtWidgets.QComboBox()
        self.picker.setObjectName(f"{side}_picker")
        self.picker.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.picker.setToolTip(
            f"The run the {side} canvas shows: the main run, or a variant of the last "
            "comparison (Training > Compare...)"
            + ("; \u2014 none \u2014 shows the left run alone" if allow_none else ""))
        self.title = QtWidgets.QLabel()
        self.title.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.title.setObjectName(f"{side}_title")
        # a long title is cut at the pane's edge rather than widening the pane
        self.title.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                 QtWidgets.QSizePolicy.Policy.Preferred)
        self.canvas = NetworkCanvas()
        self.canvas.setObjectName(f"{side}_canvas")
        self.canvas.set_editable(False)
        top = QtWidgets.QHBoxLayout()
        label = QtWidgets.QLabel(f"{side.capitalize()}:")
        label.setBuddy(self.picker)
        top.addWidget(label)
        top.addWidget(self.picker)
        top.addSpacing(12)
        top.addWidget(self.title, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.canvas, 1)

    def key(self) -> str:
        data = self.picker.currentData()
        return str(data) if data is not None else NONE

    def set_choices(self, choices: list[tuple[str, str, str | None]], wanted: str) -> None:
        """Fill the picker with (key, text, colour) items, keeping ``wanted`` selected
        when it is among them (else the first). Texts are updated in place when the keys
        are the same (an open popup stays open)."""
        keys = [k for k, _, _ in choices]
        old = [self.picker.itemData(i) for i in range(self.picker.count())]
        side = max(10, self.picker.fontMetrics().height() - 2)
        with QtCore.QSignalBlocker(self.picker):
            if old != keys:
                self.picker.clear()
                for key, text, color in choices:
                    if color is None:
                        self.picker.addItem(text, key)
                    else:
                        self.picker.addItem(_swatch(color, side), text, key)
            else:
                for i, (_, text, _) in enumerate(choices):
                    if self.picker.itemText(i) != text:
                        self.picker.setItemText(i, text)
            i = keys.index(wanted) if wanted in keys else 0
            self.picker.setCurrentIndex(i)


class RunView(QtWidgets.QWidget):
    """The "Runs side by side" window of a main window (``window.session``, and the
    comparison of ``window.compare_dialog`` once it exists)."""

    def __init__(self, window, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent if parent is not None else window, QtCore.Qt.WindowType.Window)
        self.setWindowTitle("Runs side by side")
        self.setObjectName("run_view")
        self.window_ = window
        self.session = window.session
        self._job = None
        self._theme = "light"
        self._scale = 1.0
        self._canvas_scale = 1.0
        self._high_contrast = False
        self._wanted = {"left": MAIN, "right": NONE}
        self._names: list[str] | None = None  # the variants last offered (None: never)
        self._even = False  # the splitter has been set to halves
        self.difference: WeightDifference | None = None
        self.mismatch: str | None = None

        self.left = RunPane("left", False)
        self.right = RunPane("right", True)
        self.sample = QtWidgets.QSpinBox()
        self.sample.setObjectName("sample")
        self.sample.setToolTip("The training sample whose values both canvases show (the "
                               "window's selected sample; Up/Down there too)")
        self.by_difference = QtWidgets.QCheckBox("Colour by difference")
        self.by_difference.setObjectName("by_difference")
        self.by_difference.setChecked(True)
        self.by_difference.setToolTip(
            "Colour, width and labels of the right canvas's edges show w(right) \u2212 "
            "w(left): purple where the right run's weight is larger, green where smaller")
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("status")
        # the difference's legend, or why there is none: one line over both canvases (so
        # they stay level with each other)
        self.note = QtWidgets.QLabel()
        self.note.setObjectName("difference_note")
        self.note.setTextFormat(QtCore.Qt.TextFormat.RichText)
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.close)

        top = QtWidgets.QHBoxLayout()
        label = QtWidgets.QLabel("Sample:")
        label.setBuddy(self.sample)
        top.addWidget(label)
        top.addWidget(self.sample)
        top.addSpacing(16)
        top.addWidget(self.by_difference)
        top.addSpacing(16)
        top.addWidget(self.status, 1)
        top.addWidget(close)
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left)
        self.splitter.addWidget(self.right)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.note)
        lay.addWidget(self.splitter, 1)
        self.resize(1200, 640)

        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

        s = self.session
        s.snapshot_changed.connect(self.schedule)
        s.selected_sample_changed.connect(self._on_session_sample)
        s.structure_changed.connect(self.schedule)
        s.data_changed.connect(self.schedule)
        self.left.picker.currentIndexChanged.connect(lambda _: self._on_pick(self.left))
        self.right.picker.currentIndexChanged.connect(lambda _: self._on_pick(self.right))
        self.sample.valueChanged.connect(self._on_sample_spin)
        self.by_difference.toggled.connect(lambda _: self.refresh())
        dialog = getattr(window, "compare_dialog", None)
        if dialog is not None:
            self.set_job(dialog.job)

    # -- following --------------------------------------------------------------------------
    def set_job(self, job) -> None:
        """Follow this ``ComparisonJob`` (its runs are the variants offered)."""
        if job is self._job:
            return
        if self._job is not None:
            for sig in self._job_signals(self._job):
                sig.disconnect(self.schedule)
        self._job = job
        if job is not None:
            for sig in self._job_signals(job):
                sig.connect(self.schedule)
        self.schedule()

    @staticmethod
    def _job_signals(job):
        return (job.started, job.finished, job.cancelled, job.failed, job.curves_changed)

    @property
    def job(self):
        return self._job

    def schedule(self, *_args) -> None:
        """Refresh within ``REFRESH_MS`` (many calls, one refresh); nothing while hidden
        (showing the window refreshes)."""
        if self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def stop(self) -> None:
        """Stop following (the window closes; the main window closes)."""
        self._timer.stop()

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.stop()
        super().closeEvent(event)

    # -- choosing -------------------------------------------------------------------------
    def runs(self) -> list:
        """The compared variants' runs (``runs.compare.VariantRun``), in the loss dock's
        order (their colours there)."""
        return self._job.runs if self._job is not None else []

    def choices(self, allow_none: bool) -> list[tuple[str, str, str | None]]:
        """The picker's items: (key, text, colour)."""
        lk = theme_mod.look(self._theme)
        out: list[tuple[str, str, str | None]] = [
            (MAIN, f"Main run (epoch {self.session.epoch:,})", lk.blue)]
        for i, run in enumerate(self.runs()):
            text = f"{run.name} (epoch {run.epoch:,})"
            if run.error:
                text += " \u2014 stopped"
            out.append((variant_key(run.name), text, OVERLAY_COLORS[i % len(OVERLAY_COLORS)]))
        if allow_none:
            out.append((NONE, "\u2014 none \u2014", None))
        return out

    def select(self, left: str | int | None = None, right: str | int | None = None) -> None:
        """Show these runs: ``"main"``, a variant's index or name, or (right only)
        ``"none"``; None keeps the side as it is."""
        for pane, want in ((self.left, left), (self.right, right)):
            if want is None:
                continue
            self._wanted[pane.side] = self._key_for(want)
        self._names = [r.name for r in self.runs()]  # asked for: no default over it
        self.refresh()

    def default_selection(self) -> tuple[str, str]:
        """Two runs to compare: the first two variants, or the main run and the only
        variant, or the main run alone."""
        runs = self.runs()
        if len(runs) >= 2:
            return variant_key(runs[0].name), variant_key(runs[1].name)
        if len(runs) == 1:
            return MAIN, variant_key(runs[0].name)
        return MAIN, NONE

    def _key_for(self, want: str | int) -> str:
        if isinstance(want, (int, np.integer)):
            runs = self.runs()
            if not 0 <= int(want) < len(runs):
                raise IndexError(f"no variant {want} (the comparison has {len(runs)})")
            return variant_key(runs[int(want)].name)
        want = str(want)
        if want in (MAIN, NONE) or want.startswith("variant:"):
            return want
        return variant_key(want)

    def _on_pick(self, pane: RunPane) -> None:
        self._wanted[pane.side] = pane.key()
        self.refresh()

    def _on_session_sample(self, k: int) -> None:
        if self.sample.value() != k + 1:
            with QtCore.QSignalBlocker(self.sample):
                self.sample.setValue(k + 1)
        self.schedule()

    def _on_sample_spin(self, number: int) -> None:
        self.session.select_sample(number - 1)  # the window's own selection: one sample
        self.refresh()

    # -- what is shown ----------------------------------------------------------------------
    def shown(self, key: str) -> ShownRun | None:
        """The run behind a picker key, as shown now (None: "none", or a variant gone)."""
        lk = theme_mod.look(self._theme)
        s = self.session
        if key == MAIN:
            snap = s.snapshot
            return ShownRun(MAIN, "Main run", lk.blue, s.network, s.config,
                            snap.optimizer if snap is not None else None, s.dataset,
                            s.epoch, snap.train_loss if snap is not None else None)
        for i, run in enumerate(self.runs()):
            if variant_key(run.name) == key:
                state = run.state  # replaced whole by the worker, never changed in place
                loss = None
                if run.rows:
                    last = run.rows[-1]
                    if len(last):
                        loss = float(last[-1, 1])
                return ShownRun(key, run.name, OVERLAY_COLORS[i % len(OVERLAY_COLORS)],
                                run_network(run.project.network, state.params), state.config,
                                state.optimizer, run.dataset, state.epoch, loss, run.error)
        return None

    def _canvas_data(self, run: ShownRun) -> CanvasData:
        ds = run.dataset
        n = len(ds.x_train)
        k = self.session.selected_sample % n if n else 0
        trace = trace_step(run.network, run.config, ds.x_train[[k]], ds.y_train[[k]],
                           run.optimizer)
        return canvas_data(trace, number=k + 1)

    def refresh(self) -> None:
        """Pickers and canvases as the runs are now."""
        self._timer.stop()
        names = [r.name for r in self.runs()]
        # the first variants to offer, or others that lack a run picked: two to compare
        if (names != self._names and not self._names) or not self._wanted_valid():
            self._wanted["left"], self._wanted["right"] = self.default_selection()
        self._names = names
        self.left.set_choices(self.choices(False), self._wanted["left"])
        self.right.set_choices(self.choices(True), self._wanted["right"])
        n = len(self.session.dataset.x_train)
        with QtCore.QSignalBlocker(self.sample):
            self.sample.setRange(1, max(1, n))
            self.sample.setValue(self.session.selected_sample + 1)
        left = self.shown(self.left.key())
        right = self.shown(self.right.key())
        self.difference = None
        self.mismatch = None
        if right is not None and self.right.isHidden():
            self.right.show()
            self._even = False
        self.right.setVisible(right is not None)
        if not self._even and self.isVisible() and right is not None:
            # the two canvases equally wide: the same network drawn the same way twice
            self._even = True
            self.splitter.setSizes([self.splitter.width() // 2] * 2)
        self.by_difference.setEnabled(left is not None and right is not None)
        if left is not None:
            self._show(self.left, left)
        if right is not None:
            data = self._canvas_data(right)
            if left is not None and self.by_difference.isChecked():
                self.mismatch = shape_mismatch(left.network, right.network)
                if self.mismatch is None:
                    self.difference = weight_difference(left.network, right.network)
                    d = self.difference
                    override = EdgeOverride(d.weights, d.biases, SYMBOL,
                                            meaning(left.name, right.name))
                    data = replace(data, caption="Edges: \u0394w, right \u2212 left",
                                   edge_override=override)
            self._show(self.right, right, data)
        self._update_notes()
        runs = self.runs()
        if self._job is None or not runs:
            self.status.setText("No comparison yet: Training > Compare... (Ctrl+Shift+C) "
                                "trains variants to show here")
        elif self._job.running:
            self.status.setText("The comparison is running: the variants show their "
                                "weights so far")
        else:
            self.status.setText(f"{len(runs)} compared variant{'s' if len(runs) != 1 else ''}"
                                f", {self._job.epochs:,} epochs each")

    def _wanted_valid(self) -> bool:
        keys = {k for k, _, _ in self.choices(True)}
        return self._wanted["left"] in keys - {NONE} and self._wanted["right"] in keys

    def _show(self, pane: RunPane, run: ShownRun, data: CanvasData | None = None) -> None:
        pane.canvas.set_data(data if data is not None else self._canvas_data(run))
        loss = ("" if run.train_loss is None or not math.isfinite(run.train_loss)
                else f" \u00b7 train loss {run.train_loss:.4g}")
        error = f" \u00b7 {run.error}" if run.error else ""
        # the epoch is in the picker beside it
        pane.title.setText(f'<b><span style="color:{run.color}">\u25a0</span> '
                           f"{_html(run.name)}</b>{loss}{_html(error)}")
        pane.title.setToolTip(f"{run.name}: epoch {run.epoch:,}{loss}{error}")

    def _update_notes(self) -> None:
        note = self.note
        if self.right.isHidden():
            note.setText("")
        elif self.mismatch is not None:
            lk = theme_mod.look(self._theme)
            note.setText(f'<span style="color:{lk.error}">{_html(self.mismatch)}</span>')
        elif self.difference is not None:
            pal = palette_for(self._theme, self._high_contrast)
            largest = self.difference.largest
            note.setText(
                f"Edges: difference right \u2212 left, \u00b1{format_value(largest)} "
                f'(<span style="color:{pal.diff_positive}">\u25a0 purple</span>: right '
                f'larger, <span style="color:{pal.diff_negative}">\u25a0 green</span>: '
                "right smaller; its labels show \u0394w)")
        else:
            note.setText("")
        note.setVisible(bool(note.text()))  # no empty line over the canvases

    # -- look -------------------------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        self._theme = theme
        for pane in (self.left, self.right):
            pane.canvas.set_theme(theme)
        self.refresh()

    def set_scale(self, factor: float, canvas_scale: float | None = None,
                  high_contrast: bool = False) -> None:
        """Controls' text ``factor`` times the application font (which carries the text
        size; larger when presenting, as the docks'); the canvases at ``canvas_scale``
        (default ``factor``) and in high contrast when presenting."""
        self._scale = float(factor)
        self._canvas_scale = float(factor if canvas_scale is None else canvas_scale)
        self._high_contrast = bool(high_contrast)
        base = QtWidgets.QApplication.font()
        f = QtGui.QFont(base)
        f.setPointSizeF(base.pointSizeF() * self._scale)
        self.setFont(f)
        for label, k in ((self.left.title, TITLE_FONT), (self.right.title, TITLE_FONT),
                         (self.note, NOTE_FONT)):
            big = QtGui.QFont(f)
            big.setPointSizeF(f.pointSizeF() * k)
            label.setFont(big)
        for pane in (self.left, self.right):
            pane.canvas.set_scale(self._canvas_scale)
            pane.canvas.set_high_contrast(self._high_contrast)
        self.refresh()


def _html(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))

