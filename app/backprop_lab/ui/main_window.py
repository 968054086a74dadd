"""The main window: composes the canvas and docks and wires them to the session."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from .. import __version__
from ..controller.lessons import LessonPlayer, list_lessons
from ..controller.session import Session
from ..controller.teaching import SCOPES, PhaseStepper, Reveal
from ..controller.undo import UndoHistory
from ..engine import data as data_mod
from ..engine import presets
from ..engine.names import WeightRef, unit_name
from ..engine.project import ProjectError
from ..engine.trace import Trace
from ..resources import resource
from .canvas import CanvasData, NetworkCanvas
from .docks.formula_dock import FormulaDock
from .docks.gradient_dock import GradientDock
from .docks.lesson_dock import LessonDock
from .docks.loss_dock import LossDock
from .docks.parameters import ParameterDock
from .gradcheck_dialog import GradCheckDialog
from .widgets import CsvImportDialog, WeightEditor, big_label, shortcut_sheet

MAX_RECENT = 8
PRESENT_SCALE = 1.4  # text in presentation mode, relative to normal
SPEEDS: list[tuple[str, float | None]] = [
    ("Full speed", None), ("1000 epochs/s", 1000.0), ("100 epochs/s", 100.0),
    ("30 epochs/s", 30.0), ("10 epochs/s", 10.0), ("3 epochs/s", 3.0), ("1 epoch/s", 1.0),
]
FILE_FILTER = "Backprop Lab project (*.json);;All files (*)"


def canvas_data(trace: Trace, sample: int = 0, **extra) -> CanvasData:
    """What the canvas shows for one sample of a trace (the engine's numbers, as is)."""
    return CanvasData(
        layers=trace.layers, weights=trace.weights, biases=trace.biases,
        activations=trace.activations,
        a=tuple(a[sample] for a in trace.a), z=tuple(z[sample] for z in trace.z),
        deltas=tuple(d[sample] for d in trace.deltas),
        grad_weights=tuple(g[sample] for g in trace.sample_grad_weights),
        grad_biases=tuple(g[sample] for g in trace.sample_grad_biases), **extra)


def reveal_canvas_data(r: Reveal) -> CanvasData:
    """What the canvas shows during a stepped update: only the numbers computed so far
    (NaN marks "not computed yet"), the phase's units and weights highlighted."""
    t, row = r.trace, r.sample
    L = len(t.layers) - 1
    nan = np.nan
    a = tuple(t.a[l - 1][row] if l <= r.forward_upto else np.full(t.layers[l], nan)
              for l in range(1, L + 1))
    z = tuple(t.z[l][row] if l <= r.forward_upto else np.full(t.layers[l], nan)
              for l in range(L + 1))

    def known(l: int) -> bool:
        return r.backward_from is not None and l >= r.backward_from

    deltas = tuple(t.deltas[l - 1][row] if known(l) else np.full(t.layers[l], nan)
                   for l in range(1, L + 1))
    gw = tuple(t.grad_weights[l] if known(l + 1) else np.zeros_like(t.grad_weights[l])
               for l in range(L))
    gb = tuple(t.grad_biases[l] if known(l + 1) else np.zeros_like(t.grad_biases[l])
               for l in range(L))
    return CanvasData(
        layers=t.layers, weights=t.new_weights if r.updated else t.weights,
        biases=t.new_biases if r.updated else t.biases, activations=t.activations,
        a=a, z=z, deltas=deltas, grad_weights=gw, grad_biases=gb,
        highlight_units=r.highlight_units, highlight_weights=r.highlight_weights,
        caption=r.caption)


class MainWindow(QtWidgets.QMainWindow):
    """Backprop Lab's window. ``session`` is the model; the window only renders it."""

    def __init__(self, session: Session, settings: QtCore.QSettings | None = None,
                 confirm_close: bool = True):
        super().__init__()
        self.session = session
        self.settings = settings if settings is not None else QtCore.QSettings()
        self.confirm_close = confirm_close
        self.setObjectName("main_window")
        self.setWindowIcon(QtGui.QIcon(str(resource("icons", "backprop-lab.svg"))))
        self.setDockOptions(QtWidgets.QMainWindow.AnimatedDocks
                            | QtWidgets.QMainWindow.AllowTabbedDocks)
        self.stepper = PhaseStepper(session, self)
        self.lesson_player = LessonPlayer(session, self.stepper, self)
        #: weight edits and resets; a change of structure clears it (see controller.undo)
        self.undo_history = UndoHistory(session, self)
        self._presenting = False
        self._state_before_presenting: QtCore.QByteArray | None = None

        self.canvas = NetworkCanvas(self)
        self.canvas.setObjectName("canvas")
        self.setCentralWidget(self.canvas)
        self.loss_dock = LossDock(session, self)
        self.param_dock = ParameterDock(session, self)
        self.addDockWidget(QtCore.Qt.LeftDockWidgetArea, self.param_dock)
        self.addDockWidget(QtCore.Qt.BottomDockWidgetArea, self.loss_dock)
        self.formula_dock = FormulaDock(session, self.stepper, self)
        self.lesson_dock = LessonDock(self.lesson_player, self)
        self.lesson_dock.confirm = self._confirm_discard  # a lesson replaces the network
        # the lesson's text above the formulas it talks about, both visible at once
        self.addDockWidget(QtCore.Qt.RightDockWidgetArea, self.lesson_dock)
        self.splitDockWidget(self.lesson_dock, self.formula_dock, QtCore.Qt.Vertical)
        self.lesson_dock.hide()  # shown when a lesson starts
        self._params_before_lesson: bool | None = None
        self.gradient_dock = GradientDock(session, self)
        self.addDockWidget(QtCore.Qt.BottomDockWidgetArea, self.gradient_dock)
        self.tabifyDockWidget(self.loss_dock, self.gradient_dock)
        self.loss_dock.raise_()
        self.resizeDocks([self.formula_dock], [330], QtCore.Qt.Horizontal)
        self.resizeDocks([self.param_dock], [300], QtCore.Qt.Horizontal)
        self.resizeDocks([self.loss_dock], [230], QtCore.Qt.Vertical)

        self._frames = 0
        self._fps = 0.0
        self._fps_t0 = time.perf_counter()
        self._last_labels = 0.0
        self._editor: WeightEditor | None = None

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status()
        self._default_state = self.saveState()

        s = session
        s.snapshot_changed.connect(self._on_snapshot_changed)
        s.structure_changed.connect(self._on_structure_changed)
        s.running_changed.connect(self._on_running_changed)
        s.selected_sample_changed.connect(self._on_sample_changed)
        s.error.connect(self._on_error)
        s.notice.connect(lambda text: self.statusBar().showMessage(text, 10000))
        s.dirty_changed.connect(self._update_title)
        self.stepper.changed.connect(self.render)
        self.stepper.changed.connect(self._follow_phase)
        self._auto_pin: object = None  # what the formula panel shows because of the phase
        self.lesson_player.view_option.connect(self._on_view_option)
        # a lesson replaces the network: older undo steps no longer apply
        self.lesson_player.changed.connect(self.undo_history.clear)
        self.lesson_player.changed.connect(self._on_lesson_changed)
        self.stepper.active_changed.connect(self._on_stepper_active)
        s.path_changed.connect(self._update_title)
        self.canvas.weight_clicked.connect(self.formula_dock.show_weight)
        self.canvas.weight_clicked.connect(self.edit_weight)
        self.canvas.unit_clicked.connect(self.formula_dock.show_unit)
        self.canvas.unit_clicked.connect(self._on_unit_clicked)
        self.canvas.weight_hovered.connect(self.formula_dock.follow_hover)
        self.canvas.unit_hovered.connect(self.formula_dock.follow_hover)

        self._fps_timer = QtCore.QTimer(self)
        self._fps_timer.setInterval(500)
        self._fps_timer.timeout.connect(self._update_status)
        self._fps_timer.start()

        self.resize(1440, 900)
        self._restore_settings()
        self._on_structure_changed()
        self._on_running_changed(s.running)
        self._update_title()
        self.canvas.setFocus()

    # -- actions and menus ------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable=False,
                checked=False) -> QtGui.QAction:
        a = QtGui.QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                a.setShortcuts([QtGui.QKeySequence(k) for k in shortcut])
            else:
                a.setShortcut(QtGui.QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        if checkable:
            a.setCheckable(True)
            a.setChecked(checked)
            a.toggled.connect(slot)
        else:
            a.triggered.connect(lambda _=False: slot())
        self.addAction(a)  # shortcuts work even when the menu bar is hidden
        return a

    def _build_actions(self) -> None:
        S = QtGui.QKeySequence
        self.act_play = self._action("Play", self.session.toggle_running, "Space",
                                     "Start or pause training (Space)")
        self.act_step = self._action("Step epoch", self._right_key, "Right",
                                     "Train exactly one epoch (Right arrow); in step mode, "
                                     "the next phase")
        self.act_reset = self._action("Reset", self.reset, "R",
                                      "Back to the initial weights, epoch 0 (R)")
        self.act_next = self._action(
            "Next", self.advance, ["PgDown"],
            "Next phase of the stepped update, or the next lesson step (Page Down, Right)")
        self.act_back = self._action(
            "Back", self.go_back, ["PgUp", "Left"],
            "Previous phase or lesson step; leaving the update restores the weights "
            "(Page Up, Left)")
        self.act_teach = self._action(
            "Step through an update", self._set_teaching, "T",
            "Take one update apart: forward layer by layer, loss, deltas, weight update (T)",
            True, False)
        self.act_stop_teach = self._action("Leave step mode", self.stepper.stop, "Esc")
        self.act_present = self._action(
            "Presentation mode", self.set_presenting, "F11",
            "Full screen, larger text, thicker lines, high contrast (F11)", True, False)
        self.act_prev_sample = self._action(
            "Previous sample", lambda: self.session.select_sample(
                self.session.selected_sample - 1), "Up", "Show the previous training sample")
        self.act_next_sample = self._action(
            "Next sample", lambda: self.session.select_sample(self.session.selected_sample + 1),
            "Down", "Show the next training sample")
        self.act_open = self._action("Open...", self.open_dialog, S.Open, "Open a project file")
        self.act_save = self._action("Save", self.save, S.Save, "Save the project")
        self.act_save_as = self._action("Save As...", self.save_as, S.SaveAs,
                                        "Save the project under a new name")
        self.act_import_csv = self._action(
            "Import data from CSV...", self.import_csv_dialog,
            tip="Train on your own numbers: a CSV file with a header row; you choose the "
                "target columns")
        self.act_export_png = self._action("Export canvas as PNG...",
                                           lambda: self.export_canvas("png"))
        self.act_export_svg = self._action("Export canvas as SVG...",
                                           lambda: self.export_canvas("svg"))
        self.act_quit = self._action("Quit", self.close, S.Quit, "Quit Backprop Lab")
        self.act_undo = self._action("Undo", self.undo_history.undo, S.Undo,
                                     "Undo the last weight edit or reset (Ctrl+Z)")
        self.act_redo = self._action("Redo", self.undo_history.redo, S.Redo,
                                     "Redo what Undo took back (Ctrl+Shift+Z)")
        self.undo_history.changed.connect(self._on_undo_changed)
        self._on_undo_changed()
        self.act_weights = self._action("Weight values on edges",
                                        self.canvas.set_show_weight_values, "W",
                                        "Write each weight on its edge", True, True)
        self.act_values = self._action("Activations and deltas on units", self._set_show_values,
                                       "V", "Write a, z and delta beside each unit", True, True)
        self.act_gradient = self._action(
            "Colour edges by gradient", lambda on: self.canvas.set_color_by(
                "gradient" if on else "weight"), "G",
            "Colour and thickness show dL/dw for the selected sample instead of w", True, False)
        self.act_fit = self._action("Fit to window", self.canvas.fit, "F",
                                    "Fit the whole network into the window")
        self.act_zoom_in = self._action("Zoom in", lambda: self.canvas.scale(1.2, 1.2),
                                        S.ZoomIn)
        self.act_zoom_out = self._action("Zoom out", lambda: self.canvas.scale(1 / 1.2, 1 / 1.2),
                                         S.ZoomOut)
        self.act_reset_layout = self._action("Reset layout", self.reset_layout,
                                             tip="Put the docks back where they started")
        self.act_shortcuts = self._action("Keyboard shortcuts", self.show_shortcuts,
                                          ["F1", "?"], "List every keyboard shortcut")
        self.act_about = self._action("About Backprop Lab", self.show_about)
        self.act_gradcheck = self._action(
            "Gradient check...", self.show_gradient_check, "Ctrl+G",
            "Compare backpropagation with finite differences for the selected sample")

    def _on_undo_changed(self) -> None:
        u = self.undo_history
        for action, verb, enabled, text in ((self.act_undo, "Undo", u.can_undo, u.undo_text),
                                            (self.act_redo, "Redo", u.can_redo, u.redo_text)):
            action.setEnabled(enabled)
            action.setText(f"{verb} {text}" if text else verb)

    def _set_show_values(self, on: bool) -> None:
        self.canvas.set_show_unit_values(on)
        self.canvas.set_show_deltas(on)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.preset_menu = f.addMenu("New from preset")
        for info in presets.list_presets():
            a = self.preset_menu.addAction(f"{info.title}  ({info.name})")
            a.setToolTip(info.description)
            a.triggered.connect(lambda _=False, n=info.name: self.new_from_preset(n))
        f.addAction(self.act_open)
        self.recent_menu = f.addMenu("Open recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        f.addSeparator()
        f.addAction(self.act_save)
        f.addAction(self.act_save_as)
        f.addSeparator()
        f.addAction(self.act_import_csv)
        f.addAction(self.act_export_png)
        f.addAction(self.act_export_svg)
        f.addSeparator()
        f.addAction(self.act_quit)
        e = mb.addMenu("&Edit")
        e.addAction(self.act_undo)
        e.addAction(self.act_redo)
        t = mb.addMenu("&Training")
        for a in (self.act_play, self.act_step, self.act_reset):
            t.addAction(a)
        t.addSeparator()
        t.addAction(self.act_teach)
        t.addAction(self.act_next)
        t.addAction(self.act_back)
        t.addAction(self.act_stop_teach)
        t.addSeparator()
        t.addAction(self.act_gradcheck)
        t.addSeparator()
        t.addAction(self.act_prev_sample)
        t.addAction(self.act_next_sample)
        v = mb.addMenu("&View")
        self.view_menu = v
        v.addAction(self.param_dock.toggleViewAction())
        v.addAction(self.loss_dock.toggleViewAction())
        v.addAction(self.formula_dock.toggleViewAction())
        v.addAction(self.gradient_dock.toggleViewAction())
        v.addAction(self.lesson_dock.toggleViewAction())
        v.addSeparator()
        for a in (self.act_weights, self.act_values, self.act_gradient):
            v.addAction(a)
        v.addSeparator()
        for a in (self.act_fit, self.act_zoom_in, self.act_zoom_out, self.act_reset_layout):
            v.addAction(a)
        v.addSeparator()
        v.addAction(self.act_present)
        lm = mb.addMenu("&Lessons")
        self.lesson_menu = lm
        for info in list_lessons():
            a = lm.addAction(info.title)
            a.setToolTip(info.summary)
            a.setEnabled(info.error is None)
            a.triggered.connect(lambda _=False, n=info.name: self.start_lesson(n))
        lm.addSeparator()
        lm.addAction("Open lesson file...", self.open_lesson_dialog)
        lm.addAction(self.lesson_dock.toggleViewAction())
        h = mb.addMenu("&Help")
        self.help_menu = h
        h.addAction(self.act_shortcuts)
        h.addAction(self.act_about)

    def _build_toolbar(self) -> None:
        tb = QtWidgets.QToolBar("Training controls", self)
        tb.setObjectName("controls")
        tb.setMovable(False)
        tb.setToolButtonStyle(QtCore.Qt.ToolButtonTextBesideIcon)
        f = tb.font()
        f.setPointSizeF(f.pointSizeF() * 1.15)
        tb.setFont(f)
        self.addToolBar(QtCore.Qt.TopToolBarArea, tb)
        self.toolbar = tb
        st = self.style()
        self.act_play.setIcon(st.standardIcon(QtWidgets.QStyle.SP_MediaPlay))
        self.act_step.setIcon(st.standardIcon(QtWidgets.QStyle.SP_MediaSeekForward))
        self.act_reset.setIcon(st.standardIcon(QtWidgets.QStyle.SP_BrowserReload))
        tb.addAction(self.act_play)
        tb.addAction(self.act_step)
        tb.addAction(self.act_reset)
        tb.addSeparator()
        self.act_teach.setIcon(st.standardIcon(QtWidgets.QStyle.SP_MediaSkipForward))
        tb.addAction(self.act_teach)
        self.scope_combo = QtWidgets.QComboBox()
        self.scope_combo.setObjectName("scope_combo")
        for sc, text in zip(SCOPES, ("one sample", "its mini-batch", "the whole batch")):
            self.scope_combo.addItem(text, sc)
        self.scope_combo.setToolTip("What the stepped update uses: the selected sample "
                                    "(stochastic), its mini-batch, or every sample (batch): "
                                    "the formulas show each sample's gradient and their mean")
        self.scope_combo.setFocusPolicy(QtCore.Qt.ClickFocus)
        self.scope_combo.currentIndexChanged.connect(
            lambda i: self.stepper.set_scope(self.scope_combo.itemData(i)))
        tb.addWidget(self.scope_combo)
        tb.addSeparator()
        self.speed_combo = QtWidgets.QComboBox()
        self.speed_combo.setObjectName("speed_combo")
        for text, value in SPEEDS:
            self.speed_combo.addItem(text, value)
        self.speed_combo.setToolTip("How fast Play trains: full speed, or a fixed number of "
                                    "epochs per second so the class can follow")
        self.speed_combo.currentIndexChanged.connect(self._on_speed_chosen)
        self.speed_combo.setFocusPolicy(QtCore.Qt.ClickFocus)
        tb.addWidget(QtWidgets.QLabel(" Speed "))
        tb.addWidget(self.speed_combo)
        tb.addSeparator()
        tb.addWidget(QtWidgets.QLabel(" Sample "))
        self.sample_spin = QtWidgets.QSpinBox()
        self.sample_spin.setObjectName("sample_spin")
        self.sample_spin.setToolTip("The training sample whose numbers the canvas shows "
                                    "(Up / Down)")
        self.sample_spin.setFocusPolicy(QtCore.Qt.ClickFocus)
        self.sample_spin.valueChanged.connect(lambda v: self.session.select_sample(v - 1))
        tb.addWidget(self.sample_spin)
        self.sample_label = QtWidgets.QLabel()
        self.sample_label.setToolTip("Inputs and target of the selected sample")
        tb.addWidget(self.sample_label)
        # The numbers a class watches get a row of their own, in large type.
        self.addToolBarBreak(QtCore.Qt.TopToolBarArea)
        tb = QtWidgets.QToolBar("Progress", self)
        tb.setObjectName("progress")
        tb.setMovable(False)
        self.addToolBar(QtCore.Qt.TopToolBarArea, tb)
        self.progress_bar = tb
        self.epoch_label = big_label("Epoch 0", "Epochs trained since the start or the last "
                                     "reset", 1.5)
        self.epoch_label.setObjectName("epoch_label")
        self.loss_label = big_label("", "Mean loss over the training set (and the test set) "
                                    "with the current weights", 1.5)
        self.loss_label.setObjectName("loss_label")
        tb.addWidget(QtWidgets.QLabel("  "))
        tb.addWidget(self.epoch_label)
        tb.addWidget(QtWidgets.QLabel("     "))
        tb.addWidget(self.loss_label)


    def _build_status(self) -> None:
        sb = self.statusBar()
        self.rate_label = QtWidgets.QLabel()
        self.rate_label.setToolTip("Training rate (epochs per second) and drawing rate "
                                   "(frames per second)")
        sb.addPermanentWidget(self.rate_label)

    # -- rendering ----------------------------------------------------------------------
    def _on_snapshot_changed(self, _snap=None) -> None:
        self.render()

    def render(self) -> None:
        """Show the newest state: canvas every time, text at most 10 times a second."""
        if self.stepper.active:
            data = reveal_canvas_data(self.stepper.reveal())
        else:
            data = canvas_data(self.session.trace())
        self.canvas.set_data(data)
        self._frames += 1
        now = time.perf_counter()
        if now - self._last_labels >= 0.1 or not self.session.running:
            self._last_labels = now
            self._update_labels()

    def _update_labels(self) -> None:
        snap = self.session.snapshot
        if snap is None:
            return
        self.epoch_label.setText(f"Epoch {snap.epoch:,}")
        text = f"Train loss {snap.train_loss:.5g}"
        if snap.test_loss is not None:
            text += f"   Test loss {snap.test_loss:.5g}"
        if snap.train_accuracy is not None:
            text += f"   Accuracy {100 * snap.train_accuracy:.0f}%"
        self.loss_label.setText(text)

    def _update_status(self) -> None:
        now = time.perf_counter()
        self._fps = self._frames / max(now - self._fps_t0, 1e-9)
        self._frames, self._fps_t0 = 0, now
        snap = self.session.snapshot
        rate = snap.epochs_per_second if snap is not None else 0.0
        self.rate_label.setText(f"{rate:,.0f} epochs/s   {self._fps:.0f} frames/s")

    def _on_structure_changed(self) -> None:
        ds = self.session.dataset
        with QtCore.QSignalBlocker(self.sample_spin):
            self.sample_spin.setRange(1, len(ds.x_train))
            self.sample_spin.setValue(self.session.selected_sample + 1)
        self._on_sample_changed(self.session.selected_sample)
        self.render()
        QtCore.QTimer.singleShot(0, self.canvas.fit)

    def _on_sample_changed(self, k: int) -> None:
        ds = self.session.dataset
        with QtCore.QSignalBlocker(self.sample_spin):
            self.sample_spin.setValue(k + 1)
        x = ", ".join(f"{v:.3g}" for v in ds.x_train[k])
        y = ", ".join(f"{v:.3g}" for v in ds.y_train[k])
        self.sample_label.setText(f" of {len(ds.x_train)}:  ({x}) \u2192 {y} ")
        self.render()

    def _on_running_changed(self, running: bool) -> None:
        st = self.style()
        self.act_play.setText("Pause" if running else "Play")
        self.act_play.setIcon(st.standardIcon(QtWidgets.QStyle.SP_MediaPause if running
                                              else QtWidgets.QStyle.SP_MediaPlay))
        self._update_labels()

    # -- stepping and lessons -------------------------------------------------------------
    def _lesson_active(self) -> bool:
        return self.lesson_player is not None and self.lesson_player.active

    def advance(self) -> None:
        """The clicker's 'next': a lesson step, else a phase of the stepped update."""
        if self._lesson_active():
            self.lesson_player.next()
        else:
            self.stepper.next()

    def go_back(self) -> None:
        if self._lesson_active():
            self.lesson_player.back()
        elif self.stepper.active:
            self.stepper.back()

    def _right_key(self) -> None:
        if self._lesson_active() or self.stepper.active:
            self.advance()
        else:
            self.session.step_epochs(1)

    def show_gradient_check(self) -> GradCheckDialog:
        dlg = GradCheckDialog(self.session, self)
        dlg.setAttribute(QtCore.Qt.WA_DeleteOnClose)
        dlg.show()
        return dlg

    def start_lesson(self, name: str) -> bool:
        """Start a shipped lesson by file name; the dock asks about unsaved changes
        (once). False if it did not start."""
        if not self.lesson_dock.select_lesson(name):
            return False
        started = self.lesson_dock.start_selected()
        if started or self.lesson_dock.start_error:  # the dock explains a broken file
            self._show_lesson_dock()
        return started

    def open_lesson_dialog(self) -> bool:
        """Lessons > Open lesson file...: choose a file and play it."""
        started = self.lesson_dock.open_dialog()
        if started or self.lesson_dock.start_error:
            self._show_lesson_dock()
        return started

    def _show_lesson_dock(self) -> None:
        self.lesson_dock.show()
        self.lesson_dock.raise_()
        QtCore.QTimer.singleShot(0, self._size_lesson_docks)

    def _size_lesson_docks(self) -> None:
        """The caption and its table need more room than the formulas below them."""
        if self.formula_dock.isVisible() and not self.formula_dock.isFloating():
            h = self.lesson_dock.height() + self.formula_dock.height()
            self.resizeDocks([self.lesson_dock, self.formula_dock],
                             [int(h * 0.62), int(h * 0.38)], QtCore.Qt.Vertical)
        if not self.lesson_dock.isFloating():
            self.resizeDocks([self.lesson_dock], [max(440, int(self.width() * 0.3))],
                             QtCore.Qt.Horizontal)
        if self.loss_dock.isVisible() and not self.loss_dock.isFloating():
            self.resizeDocks([self.loss_dock], [max(210, self.height() // 4)],
                             QtCore.Qt.Vertical)

    def _follow_phase(self) -> None:
        """In step mode the formula panel shows the first item of the phase, unless the
        user pinned something else themselves."""
        fd = self.formula_dock
        if not self.stepper.active:
            self._auto_pin = None
            return
        current = fd.pinned()
        if current is not None and current != self._auto_pin:
            return  # the user's choice wins
        p = self.stepper.phase
        L = len(self.session.layers) - 1
        if p.kind in ("forward", "backward"):
            fd.show_unit(p.layer, 0)
        elif p.kind == "loss":
            fd.show_unit(L, 0)
        elif p.kind == "update":
            fd.show_weight(WeightRef(0, 0, -1))
        else:
            fd.clear()
        self._auto_pin = fd.pinned()

    def _on_lesson_changed(self) -> None:
        """During a lesson the lesson sets the parameters: its panel makes room for the
        network; it comes back when the lesson ends."""
        active = self.lesson_player.active
        if active and self._params_before_lesson is None:
            self._params_before_lesson = self.param_dock.isVisible()
            self.param_dock.hide()
        elif not active and self._params_before_lesson is not None:
            self.param_dock.setVisible(self._params_before_lesson or self.param_dock.isVisible())
            self._params_before_lesson = None

    def _on_view_option(self, option: str, value) -> None:
        if option == "color_by":
            self.act_gradient.setChecked(value == "gradient")
        elif option == "weights":
            self.act_weights.setChecked(bool(value))
        elif option == "values":
            self.act_values.setChecked(bool(value))
        elif option == "show":
            dock = self.view_docks().get(str(value))
            if dock is not None:
                dock.show()
                dock.raise_()

    def view_docks(self) -> dict[str, QtWidgets.QDockWidget]:
        """Where each view a lesson may name lives in this window."""
        return {"loss_plot": self.loss_dock, "gradient_plot": self.gradient_dock,
                "formulas": self.formula_dock, "parameters": self.param_dock}

    def _set_teaching(self, on: bool) -> None:
        if on and not self.stepper.active:
            self.stepper.start()
        elif not on and self.stepper.active:
            self.stepper.stop()

    def _on_stepper_active(self, on: bool) -> None:
        with QtCore.QSignalBlocker(self.act_teach):
            self.act_teach.setChecked(on)
        self.render()

    def set_presenting(self, on: bool) -> None:
        """Presentation mode: full screen, larger text and lines, high contrast, only the
        docks a lecture needs. Each view scales itself (``set_scale``); the application
        font stays, so nothing is scaled twice."""
        if on == self._presenting:
            return
        self._presenting = on
        with QtCore.QSignalBlocker(self.act_present):
            self.act_present.setChecked(on)
        factor = PRESENT_SCALE if on else 1.0
        if on:
            self._state_before_presenting = self.saveState()
            self.param_dock.hide()
            self._geometry_before_presenting = self.saveGeometry()
            self.showFullScreen()
            if self.screen() is not None:  # without a window manager nobody else does it
                self.setGeometry(self.screen().geometry())
        else:
            self.showNormal()
            self.restoreGeometry(self._geometry_before_presenting)
            if self._state_before_presenting is not None:
                self.restoreState(self._state_before_presenting)
        self.canvas.set_scale(1.5 if on else 1.0)
        self.canvas.set_high_contrast(on)
        for dock in self.findChildren(QtWidgets.QDockWidget):
            if hasattr(dock, "set_scale"):
                dock.set_scale(factor)
        for bar, base in ((self.toolbar, 1.15), (self.progress_bar, 1.0)):
            f = QtGui.QFont(self.font())
            f.setPointSizeF(f.pointSizeF() * base * factor)
            bar.setFont(f)
        for label in (self.epoch_label, self.loss_label):
            f = QtGui.QFont(self.font())
            f.setPointSizeF(f.pointSizeF() * 1.5 * factor)
            label.setFont(f)
        QtCore.QTimer.singleShot(50, self.canvas.fit)

    @property
    def presenting(self) -> bool:
        return self._presenting

    def _on_speed_chosen(self, index: int) -> None:
        self.session.set_speed(self.speed_combo.itemData(index))

    def _on_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)
        QtWidgets.QMessageBox.warning(self, "Backprop Lab", message)

    def _on_unit_clicked(self, layer: int, unit: int) -> None:
        if layer == 0 and unit >= 0:
            return
        self.statusBar().showMessage(
            f"{unit_name(self.session.layers, layer, unit)} selected", 3000)

    # -- editing ------------------------------------------------------------------------
    def edit_weight(self, ref: WeightRef) -> WeightEditor:
        """Open the editor for one weight (non-blocking); Enter applies while training."""
        s = self.session
        name = s.weight_name(ref)
        src = unit_name(s.layers, ref.layer, ref.source)
        dst = unit_name(s.layers, ref.layer + 1, ref.target)
        if self._editor is not None:
            self._editor.close()
        ed = WeightEditor(name, f"The weight from {src} to {dst}.", s.weight_value(ref), self)
        ed.value_accepted.connect(lambda v, r=ref: self.set_weight(r, v))
        ed.finished.connect(lambda _r: setattr(self, "_editor", None))
        self._editor = ed
        ed.show()  # not modal: a lecturer can keep clicking weights to see their formulas
        return ed

    def set_weight(self, ref: WeightRef, value: float) -> None:
        self.undo_history.set_weight(ref, value)

    def reset(self) -> None:
        self.undo_history.reset()

    # -- files --------------------------------------------------------------------------
    def _confirm_discard(self) -> bool:
        """True if there are no unsaved changes or the user is fine losing/saving them."""
        if not self.session.dirty or not self.confirm_close:
            return True
        box = QtWidgets.QMessageBox(self)
        box.setIcon(QtWidgets.QMessageBox.Question)
        box.setWindowTitle("Unsaved changes")
        box.setText("The project has changes that are not saved.")
        box.setInformativeText("Save them first?")
        box.setStandardButtons(QtWidgets.QMessageBox.Save | QtWidgets.QMessageBox.Discard
                               | QtWidgets.QMessageBox.Cancel)
        box.setDefaultButton(QtWidgets.QMessageBox.Save)
        choice = box.exec()
        if choice == QtWidgets.QMessageBox.Save:
            return self.save()
        return choice == QtWidgets.QMessageBox.Discard

    def new_from_preset(self, name: str) -> None:
        if not self._confirm_discard():
            return
        self.session.load_preset(name)

    def open_dialog(self) -> None:
        if not self._confirm_discard():
            return
        start = str(self.session.path.parent) if self.session.path else \
            self.settings.value("last_dir", str(Path.home()))
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open project", start, FILE_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a project; on failure show one message and keep the current work."""
        try:
            self.session.load_project(path)
        except (ProjectError, ValueError) as e:
            self._show_problem("Cannot open project", str(e))
            return False
        self._add_recent(Path(path))
        return True

    def save(self) -> bool:
        if self.session.path is None:
            return self.save_as()
        return self._save_to(self.session.path)

    def save_as(self) -> bool:
        start = str(self.session.path or Path(self.settings.value("last_dir", str(Path.home())))
                    / "network.json")
        # The dialog adds ".json" itself, before it checks for a file to overwrite:
        # "net" asks about net.json when that exists.
        dlg = QtWidgets.QFileDialog(self, "Save project as", start, FILE_FILTER)
        dlg.setAcceptMode(QtWidgets.QFileDialog.AcceptSave)
        dlg.setFileMode(QtWidgets.QFileDialog.AnyFile)
        dlg.setDefaultSuffix("json")
        dlg.selectFile(start)
        if dlg.exec() != QtWidgets.QDialog.Accepted:
            return False
        files = dlg.selectedFiles()
        if not files or not files[0]:
            return False
        return self._save_to(Path(files[0]))

    def _save_to(self, path: Path) -> bool:
        try:
            self.session.save_project(path)
        except ProjectError as e:
            self._show_problem("Cannot save project", str(e))
            return False
        self._add_recent(path)
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def _show_problem(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message, 15000)
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Warning, title, message,
                                    QtWidgets.QMessageBox.Ok, self)
        box.setObjectName("problem_box")
        box.open()

    def import_csv_dialog(self) -> None:
        start = self.settings.value("last_dir", str(Path.home()))
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Import data from CSV", start, "CSV files (*.csv *.txt);;All files (*)")
        if not path:
            return
        try:
            _, _, inputs, targets = data_mod.read_csv(path)
        except ValueError as e:
            self._show_problem("Cannot import data", str(e))
            return
        dlg = CsvImportDialog(Path(path).name, list(inputs) + list(targets), self)
        if dlg.exec() == QtWidgets.QDialog.Accepted:
            self.import_csv(path, dlg.targets(), dlg.test_fraction(), dlg.normalize())

    def import_csv(self, path: str | Path, targets: list[str] | None = None,
                   test_fraction: float = 0.0, normalize: bool = False) -> bool:
        """Use a CSV file's rows as the data (inline in the project, so the project file
        keeps them). A new number of inputs or targets rebuilds the network's ends.
        On any problem: one message, and the current data and network stay."""
        try:
            x, y, in_names, out_names = data_mod.read_csv(path, targets)
            spec = data_mod.DataSpec(
                inputs=tuple(map(tuple, x.tolist())), targets=tuple(map(tuple, y.tolist())),
                input_names=in_names, target_names=out_names,
                test_fraction=float(test_fraction), normalize=bool(normalize))
            self.session.set_data(spec)
        except ValueError as e:
            self._show_problem("Cannot import data", str(e))
            return False
        self.settings.setValue("last_dir", str(Path(path).resolve().parent))
        self.statusBar().showMessage(
            f"Imported {len(x)} rows from {Path(path).name}: inputs {', '.join(in_names)}; "
            f"targets {', '.join(out_names)}", 8000)
        return True

    def export_canvas(self, kind: str) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, f"Export canvas as {kind.upper()}", str(Path.home() / f"network.{kind}"),
            f"{kind.upper()} image (*.{kind})")
        if not path:
            return
        try:
            if kind == "png":
                self.canvas.save_png(path)
            else:
                self.canvas.save_svg(path)
        except OSError as e:
            self._show_problem("Cannot export", f"{path}: {e}")
            return
        self.statusBar().showMessage(f"Exported {path}", 5000)

    # -- recent files and settings --------------------------------------------------------
    def recent_files(self) -> list[str]:
        v = self.settings.value("recent_files", [])
        if isinstance(v, str):
            v = [v]
        return [str(p) for p in (v or [])]

    def _add_recent(self, path: Path) -> None:
        p = str(path.resolve())
        items = [p] + [r for r in self.recent_files() if r != p]
        self.settings.setValue("recent_files", items[:MAX_RECENT])
        self.settings.setValue("last_dir", str(path.resolve().parent))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        items = self.recent_files()
        if not items:
            a = self.recent_menu.addAction("(none yet)")
            a.setEnabled(False)
        for p in items:
            a = self.recent_menu.addAction(p)
            a.triggered.connect(lambda _=False, p=p: self._open_recent(p))

    def _open_recent(self, path: str) -> None:
        if self._confirm_discard():
            self.open_path(path)

    def _restore_settings(self) -> None:
        geo = self.settings.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = self.settings.value("window_state")
        if state is not None:
            self.restoreState(state)

    def _save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.sync()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        self.param_dock.show()
        self.loss_dock.show()

    def _update_title(self, *_args) -> None:
        s = self.session
        name = s.path.name if s.path else (s.title or "untitled")
        self.setWindowTitle(f"{name}[*] \u2014 Backprop Lab")
        self.setWindowModified(s.dirty)

    # -- help ---------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        dlg = shortcut_sheet(self, getattr(self, "extra_shortcuts", []))
        dlg.open()

    def show_about(self) -> None:
        QtWidgets.QMessageBox.about(
            self, "About Backprop Lab",
            f"<h3>Backprop Lab {__version__}</h3><p>A simulator that makes backpropagation "
            "visible: the forward pass, the loss, the deltas flowing backwards and the weight "
            "update, with every number on screen.</p><p>Built with Qt (PySide6), pyqtgraph "
            "and numpy.</p>")

    # -- closing ------------------------------------------------------------------------
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self._confirm_discard():
            event.ignore()
            return
        if self._presenting:
            self.set_presenting(False)
        # End a lesson first: it brings back the docks it hid, so the saved layout is the
        # user's own, not the lesson's (a replay in progress ends at the shutdown below).
        self.lesson_player.stop()
        self._save_settings()
        self._fps_timer.stop()
        self.stepper.stop()
        if self._editor is not None:
            self._editor.close()
        self.session.shutdown()
        event.accept()
