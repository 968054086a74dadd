"""The window's actions, menus, toolbars and keyboard shortcuts.

``WindowActions`` builds them on the window (as ``window.act_play``, ``window.toolbar``,
``window.sample_spin`` ...; tests and scripts use those names), forwards each to the
object that acts on it (the session, the stepper, the lesson player, the undo history,
the file handling, the canvas) and keeps their state in step: Play says Pause while
training runs, Undo names the edit it would undo, the sample box follows the selection.
The keys a presenter's clicker sends (Page Down / Page Up) go to the lesson when one is
playing, else to the stepped update.

In presentation mode the menu bar and the controls toolbar are hidden; the progress row
becomes the control strip (Back, Next, Play, Step, the epoch and loss readout, Leave),
``show_strip``. Every action keeps its shortcut either way.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from .. import __version__
from ..controller.lessons import list_lessons
from ..controller.teaching import SCOPES
from ..engine import presets
from .files import lesson_slide_text
from .theme import THEMES, look, tinted
from .widgets import big_label, shortcut_sheet

SPEEDS: list[tuple[str, float | None]] = [
    ("Full speed", None), ("1000 epochs/s", 1000.0), ("100 epochs/s", 100.0),
    ("30 epochs/s", 30.0), ("10 epochs/s", 10.0), ("3 epochs/s", 3.0), ("1 epoch/s", 1.0),
]


class WindowActions(QtCore.QObject):
    """Builds and drives the actions, menus and toolbars of a ``MainWindow``."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.stepper = window.stepper
        self._icons: dict[QtGui.QAction, QtWidgets.QStyle.StandardPixmap] = {}
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status()

        s = self.session
        s.running_changed.connect(self._on_running_changed)
        s.structure_changed.connect(self._on_structure_changed)
        s.selected_sample_changed.connect(self._on_sample_changed)
        self.stepper.active_changed.connect(self._on_stepper_active)
        window.undo_history.changed.connect(self._on_undo_changed)
        window.lesson_player.view_option.connect(self._on_view_option)
        self._on_undo_changed()
        self._on_structure_changed()
        self._on_running_changed(s.running)

    # -- building -----------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable=False,
                checked=False) -> QtGui.QAction:
        w = self.window
        a = QtGui.QAction(text, w)
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
        w.addAction(a)  # shortcuts work even when the menu bar is hidden
        return a

    def _build_actions(self) -> None:
        S = QtGui.QKeySequence
        w, s, act = self.window, self.session, self._action
        files, canvas, undo = w.files, w.canvas, w.undo_history
        w.act_play = act("Play", s.toggle_running, "Space", "Start or pause training (Space)")
        w.act_step = act("Step epoch", self.right_key, "Right",
                         "Train exactly one epoch (Right arrow); in step mode, the next phase")
        w.act_reset = act("Reset", undo.reset, "R", "Back to the initial weights, epoch 0 (R)")
        w.act_new_weights = act(
            "New initial weights", self.new_initial_weights, "Ctrl+R",
            "Draw new initial weights (the next seed) and start again from them (Ctrl+R); "
            "Reset (R) keeps going back to the same start")
        w.act_next = act(
            "Next", self.advance, ["PgDown"],
            "Next phase of the stepped update, or the next lesson step (Page Down, Right)")
        w.act_back = act(
            "Back", self.go_back, ["PgUp", "Left"],
            "Previous phase or lesson step; leaving the update restores the weights "
            "(Page Up, Left)")
        w.act_teach = act(
            "Step through an update", self._set_teaching, "T",
            "Take one update apart: forward layer by layer, loss, deltas, weight update (T)",
            True, False)
        w.act_stop_teach = act("Leave step mode", self.stepper.stop, "Esc")
        w.act_present = act(
            "Presentation mode", w.set_presenting, "F11",
            "Full screen, larger text, thicker lines, high contrast (F11)", True, False)
        w.act_prev_sample = act(
            "Previous sample", lambda: s.select_sample(s.selected_sample - 1), "Up",
            "Show the previous training sample")
        w.act_next_sample = act(
            "Next sample", lambda: s.select_sample(s.selected_sample + 1), "Down",
            "Show the next training sample")
        w.act_open = act("Open...", files.open_dialog, S.Open, "Open a project file")
        w.act_save = act("Save", files.save, S.Save, "Save the project")
        w.act_save_as = act("Save As...", files.save_as, S.SaveAs,
                            "Save the project under a new name")
        w.act_import_csv = act(
            "Import data from CSV...", files.import_csv_dialog,
            tip="Train on your own numbers: a CSV file with a header row; you choose the "
                "target columns")
        w.act_export_png = act("Export canvas as PNG...", lambda: files.export_canvas("png"))
        w.act_export_svg = act("Export canvas as SVG...", lambda: files.export_canvas("svg"))
        w.act_export_slide = act(
            "Export slide...", self.export_slide,
            tip="The canvas with the lesson step's caption (and its table) on one 16:9 "
                "slide: PNG at 1920x1080 or 3840x2160, or SVG")
        w.act_export_csv = act(
            "Export data as CSV...", files.export_csv_dialog,
            tip="The training (and test) points as CSV: the raw inputs, then the targets; "
                "File > Import data from CSV reads it back")
        w.act_quit = act("Quit", w.close, S.Quit, "Quit Backprop Lab")
        w.act_unit_maps = act(
            "Unit maps in the canvas", w.data_dock.set_unit_maps, "Ctrl+M",
            "Draw each hidden unit's activation over the input plane inside its circle on "
            "the canvas, refreshed while training runs (Ctrl+M)", checkable=True)
        w.data_dock.unit_maps_changed.connect(
            lambda maps: w.act_unit_maps.setChecked(w.data_dock.unit_maps_on()))
        w.act_undo = act("Undo", undo.undo, S.Undo,
                         "Undo the last weight edit or reset (Ctrl+Z)")
        w.act_redo = act("Redo", undo.redo, S.Redo, "Redo what Undo took back (Ctrl+Shift+Z)")
        w.act_weights = act("Weight values on edges", canvas.set_show_weight_values, "W",
                            "Write each weight on its edge", True, True)
        w.act_values = act("Activations and deltas on units", self._set_show_values, "V",
                           "Write a, z and delta beside each unit", True, True)
        w.act_gradient = act(
            "Colour edges by gradient",
            lambda on: canvas.set_color_by("gradient" if on else "weight"), "G",
            "Colour and thickness show dL/dw for the selected sample instead of w", True, False)
        w.act_fit = act("Fit to window", canvas.fit, "F", "Fit the whole network into the window")
        w.act_zoom_in = act("Zoom in", lambda: canvas.scale(1.2, 1.2), ["+", "="],
                            "Zoom into the network (+; the mouse wheel too)")
        w.act_zoom_out = act("Zoom out", lambda: canvas.scale(1 / 1.2, 1 / 1.2), ["-"],
                             "Zoom out of the network (-)")
        w.act_text_larger = act("Larger text", lambda: w.step_text_scale(1),
                                ["Ctrl+=", "Ctrl++"],
                                "Every view's text larger (Ctrl+=); remembered")
        w.act_text_smaller = act("Smaller text", lambda: w.step_text_scale(-1), ["Ctrl+-"],
                                 "Every view's text smaller (Ctrl+-); remembered")
        w.act_text_reset = act("Normal text size", lambda: w.step_text_scale(0), ["Ctrl+0"],
                               "Text back to its normal size (Ctrl+0)")
        w.theme_group = QtGui.QActionGroup(w)
        w.theme_actions = {}
        for name, text, tip in (
                ("light", "Light", "Dark text on a light background"),
                ("dark", "Dark (projector)", "Light text on near black, high contrast: for "
                 "a projector in a dim room")):
            a = act(text, lambda on, n=name: on and w.set_theme(n), tip=tip, checkable=True,
                    checked=name == "light")
            w.theme_group.addAction(a)
            w.theme_actions[name] = a
        assert tuple(w.theme_actions) == THEMES
        w.act_leave_present = act("Leave presentation", lambda: w.set_presenting(False),
                                  tip="Back to the normal window (F11)")
        w.act_reset_layout = act("Reset layout", w.reset_layout,
                                 tip="Put the docks back where they started")
        w.act_shortcuts = act("Keyboard shortcuts", self.show_shortcuts, ["F1", "?"],
                              "List every keyboard shortcut")
        w.act_about = act("About Backprop Lab", self.show_about)
        w.act_gradcheck = act(
            "Gradient check...", w.show_gradient_check, "Ctrl+G",
            "Compare backpropagation with finite differences for the selected sample")
        w.act_compare = act(
            "Compare...", w.show_compare, "Ctrl+Shift+C",
            "Train variants of this setup that differ in one setting, side by side")
        w.act_run_view = act(
            "Runs side by side...", lambda: w.open_run_view(), "Ctrl+Shift+B",
            "Two runs (the main run, compared variants) on two canvases, the right one's "
            "edges coloured by the difference of the weights (Ctrl+Shift+B)")

    def _build_menus(self) -> None:
        w = self.window
        mb = w.menuBar()
        f = mb.addMenu("&File")
        w.preset_menu = f.addMenu("New from preset")
        for info in presets.list_presets():
            a = w.preset_menu.addAction(f"{info.title}  ({info.name})")
            a.setToolTip(info.description)
            a.triggered.connect(lambda _=False, n=info.name: w.files.new_from_preset(n))
        f.addAction(w.act_open)
        w.recent_menu = f.addMenu("Open recent")
        w.recent_menu.aboutToShow.connect(lambda: w.files.fill_recent_menu(w.recent_menu))
        f.addSeparator()
        f.addAction(w.act_save)
        f.addAction(w.act_save_as)
        f.addSeparator()
        f.addAction(w.act_import_csv)
        f.addAction(w.act_export_csv)
        f.addSeparator()
        f.addAction(w.act_export_png)
        f.addAction(w.act_export_svg)
        f.addAction(w.act_export_slide)
        f.addSeparator()
        f.addAction(w.act_quit)
        e = mb.addMenu("&Edit")
        e.addAction(w.act_undo)
        e.addAction(w.act_redo)
        t = mb.addMenu("&Training")
        for a in (w.act_play, w.act_step, w.act_reset, w.act_new_weights):
            t.addAction(a)
        t.addSeparator()
        t.addAction(w.act_teach)
        t.addAction(w.act_next)
        t.addAction(w.act_back)
        t.addAction(w.act_stop_teach)
        t.addSeparator()
        t.addAction(w.act_gradcheck)
        t.addAction(w.act_compare)
        t.addAction(w.act_run_view)
        t.addSeparator()
        t.addAction(w.act_prev_sample)
        t.addAction(w.act_next_sample)
        v = mb.addMenu("&View")
        w.view_menu = v
        for dock in (w.param_dock, w.loss_dock, w.formula_dock, w.gradient_dock,
                     w.landscape_dock, w.data_dock, w.lesson_dock):
            v.addAction(dock.toggleViewAction())
        data_view = w.data_dock.toggleViewAction()
        data_view.setShortcut(QtGui.QKeySequence("Ctrl+D"))
        data_view.setToolTip("The data view: the training points over the network's output "
                             "across the input plane (Ctrl+D)")
        v.addAction(w.act_unit_maps)
        v.addSeparator()
        for a in (w.act_weights, w.act_values, w.act_gradient):
            v.addAction(a)
        v.addSeparator()
        for a in (w.act_fit, w.act_zoom_in, w.act_zoom_out, w.act_reset_layout):
            v.addAction(a)
        v.addSeparator()
        ts = v.addMenu("Text size")
        for a in (w.act_text_larger, w.act_text_smaller, w.act_text_reset):
            ts.addAction(a)
        th = v.addMenu("Theme")
        w.theme_menu = th
        for a in w.theme_actions.values():
            th.addAction(a)
        v.addSeparator()
        v.addAction(w.act_present)
        lm = mb.addMenu("&Lessons")
        w.lesson_menu = lm
        for info in list_lessons():
            a = lm.addAction(info.title)
            a.setToolTip(info.summary)
            a.setEnabled(info.error is None)
            a.triggered.connect(lambda _=False, n=info.name: w.start_lesson(n))
        lm.addSeparator()
        lm.addAction("Open lesson file...", w.open_lesson_dialog)
        lm.addAction(w.lesson_dock.toggleViewAction())
        h = mb.addMenu("&Help")
        w.help_menu = h
        h.addAction(w.act_shortcuts)
        h.addAction(w.act_about)

    def _build_toolbar(self) -> None:
        w = self.window
        tb = QtWidgets.QToolBar("Training controls", w)
        tb.setObjectName("controls")
        tb.setMovable(False)
        tb.setToolButtonStyle(QtCore.Qt.ToolButtonTextBesideIcon)
        f = tb.font()
        f.setPointSizeF(f.pointSizeF() * 1.15)
        tb.setFont(f)
        w.addToolBar(QtCore.Qt.TopToolBarArea, tb)
        w.toolbar = tb
        self._set_icon(w.act_play, QtWidgets.QStyle.SP_MediaPlay)
        self._set_icon(w.act_step, QtWidgets.QStyle.SP_MediaSeekForward)
        self._set_icon(w.act_reset, QtWidgets.QStyle.SP_BrowserReload)
        tb.addAction(w.act_play)
        tb.addAction(w.act_step)
        tb.addAction(w.act_reset)
        tb.addSeparator()
        self._set_icon(w.act_teach, QtWidgets.QStyle.SP_MediaSkipForward)
        w.act_teach.setIconText("Step update")  # the toolbar's short name
        tb.addAction(w.act_teach)
        w.scope_combo = QtWidgets.QComboBox()
        w.scope_combo.setObjectName("scope_combo")
        for sc, text in zip(SCOPES, ("one sample", "its mini-batch", "the whole batch")):
            w.scope_combo.addItem(text, sc)
        w.scope_combo.setToolTip("What the stepped update uses: the selected sample "
                                 "(stochastic), its mini-batch, or every sample (batch): "
                                 "the formulas show each sample's gradient and their mean")
        w.scope_combo.setFocusPolicy(QtCore.Qt.ClickFocus)
        w.scope_combo.currentIndexChanged.connect(
            lambda i: self.stepper.set_scope(w.scope_combo.itemData(i)))
        tb.addWidget(w.scope_combo)
        tb.addSeparator()
        w.speed_combo = QtWidgets.QComboBox()
        w.speed_combo.setObjectName("speed_combo")
        for text, value in SPEEDS:
            w.speed_combo.addItem(text, value)
        w.speed_combo.setToolTip("How fast Play trains: full speed, or a fixed number of "
                                 "epochs per second so the class can follow")
        w.speed_combo.currentIndexChanged.connect(
            lambda i: self.session.set_speed(w.speed_combo.itemData(i)))
        w.speed_combo.setFocusPolicy(QtCore.Qt.ClickFocus)
        tb.addWidget(QtWidgets.QLabel(" Speed "))
        tb.addWidget(w.speed_combo)
        tb.addSeparator()
        tb.addWidget(QtWidgets.QLabel(" Sample "))
        w.sample_spin = QtWidgets.QSpinBox()
        w.sample_spin.setObjectName("sample_spin")
        w.sample_spin.setToolTip("The training sample whose numbers the canvas shows "
                                 "(Up / Down)")
        w.sample_spin.setFocusPolicy(QtCore.Qt.ClickFocus)
        w.sample_spin.valueChanged.connect(lambda v: self.session.select_sample(v - 1))
        tb.addWidget(w.sample_spin)
        w.sample_label = QtWidgets.QLabel()
        w.sample_label.setToolTip("Inputs and target of the selected sample")
        tb.addWidget(w.sample_label)
        # The numbers a class watches get a row of their own, in large type.
        w.addToolBarBreak(QtCore.Qt.TopToolBarArea)
        tb = QtWidgets.QToolBar("Progress", w)
        tb.setObjectName("progress")
        tb.setMovable(False)
        w.addToolBar(QtCore.Qt.TopToolBarArea, tb)
        w.progress_bar = tb
        w.epoch_label = big_label("Epoch 0", "Epochs trained since the start or the last "
                                  "reset", 1.5)
        w.epoch_label.setObjectName("epoch_label")
        w.loss_label = big_label("", "Mean loss over the training set (and the test set) "
                                 "with the current weights", 1.5)
        w.loss_label.setObjectName("loss_label")
        tb.addWidget(QtWidgets.QLabel("  "))
        tb.addWidget(w.epoch_label)
        tb.addWidget(QtWidgets.QLabel("     "))
        tb.addWidget(w.loss_label)
        # the control strip of presentation mode: these join the row only then
        self._set_icon(w.act_back, QtWidgets.QStyle.SP_ArrowBack)
        self._set_icon(w.act_next, QtWidgets.QStyle.SP_ArrowForward)
        self._set_icon(w.act_leave_present, QtWidgets.QStyle.SP_TitleBarNormalButton)
        w.act_leave_present.setIconText("Leave")
        tb.setToolButtonStyle(QtCore.Qt.ToolButtonTextBesideIcon)
        self._strip_items: list[QtGui.QAction] = []

    def show_strip(self, on: bool) -> None:
        """Make the progress row the control strip of presentation mode (or not)."""
        w = self.window
        tb = w.progress_bar
        for a in self._strip_items:
            tb.removeAction(a)
        self._strip_items = []
        if not on:
            return
        first = tb.actions()[0]
        items = []
        for a in (w.act_back, w.act_next):
            tb.insertAction(first, a)
            items.append(a)
        items.append(tb.insertSeparator(first))
        for a in (w.act_play, w.act_step):
            tb.insertAction(first, a)
            items.append(a)
        items.append(tb.insertSeparator(first))
        spacer = QtWidgets.QWidget()
        spacer.setSizePolicy(QtWidgets.QSizePolicy.Expanding, QtWidgets.QSizePolicy.Preferred)
        items.append(tb.addWidget(spacer))
        tb.addAction(w.act_leave_present)
        items.append(w.act_leave_present)
        self._strip_items = items

    def _build_status(self) -> None:
        w = self.window
        w.rate_label = QtWidgets.QLabel()
        w.rate_label.setToolTip("Training rate (epochs per second) and drawing rate "
                                "(frames per second)")
        w.statusBar().addPermanentWidget(w.rate_label)

    # -- icons that follow the theme ----------------------------------------------------------
    def _set_icon(self, action: QtGui.QAction, which) -> None:
        self._icons[action] = which
        action.setIcon(self._icon(which))

    def _icon(self, which) -> QtGui.QIcon:
        """The style's icon; on the dark theme drawn in the theme's light text colour
        (the style's own dark glyphs vanish on near black)."""
        w = self.window
        icon = w.style().standardIcon(which)
        theme = w.theme() if hasattr(w, "theme") else "light"
        if theme == "light":
            return icon
        return tinted(icon, look(theme).text)

    def retint_icons(self) -> None:
        """Draw the icons again for the current theme."""
        for action, which in self._icons.items():
            action.setIcon(self._icon(which))

    # -- what the keys do ---------------------------------------------------------------
    @property
    def lesson_player(self):
        return self.window.lesson_player  # looked up each time: a test may put its own

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

    def right_key(self) -> None:
        """Right: the next step in a lesson or step mode, else one epoch of training."""
        if self._lesson_active() or self.stepper.active:
            self.advance()
        else:
            self.session.step_epochs(1)

    def new_initial_weights(self) -> None:
        """Training > New initial weights: the next seed; the status bar names it."""
        seed = self.session.new_initial_weights()
        self.window.statusBar().showMessage(
            f"New initial weights from seed {seed}; Reset goes back to them", 10000)

    def _set_teaching(self, on: bool) -> None:
        if on and not self.stepper.active:
            self.stepper.start()
        elif not on and self.stepper.active:
            self.stepper.stop()

    def export_slide(self) -> bool:
        """File > Export slide: the canvas with the lesson step's caption and table (or
        the stepped update's phase)."""
        w = self.window
        return w.files.export_slide_dialog(*lesson_slide_text(w.lesson_player, self.stepper))

    def _set_show_values(self, on: bool) -> None:
        self.window.canvas.set_show_unit_values(on)
        self.window.canvas.set_show_deltas(on)

    def show_shortcuts(self) -> None:
        w = self.window
        shortcut_sheet(w, getattr(w, "extra_shortcuts", [])).open()

    def show_about(self) -> None:
        QtWidgets.QMessageBox.about(
            self.window, "About Backprop Lab",
            f"<h3>Backprop Lab {__version__}</h3><p>A simulator that makes backpropagation "
            "visible: the forward pass, the loss, the deltas flowing backwards and the weight "
            "update, with every number on screen.</p><p>Built with Qt (PySide6), pyqtgraph "
            "and numpy.</p>")

    # -- keeping the controls in step -----------------------------------------------------
    def _on_running_changed(self, running: bool) -> None:
        w = self.window
        w.act_play.setText("Pause" if running else "Play")
        self._set_icon(w.act_play, QtWidgets.QStyle.SP_MediaPause if running
                       else QtWidgets.QStyle.SP_MediaPlay)

    def _on_stepper_active(self, on: bool) -> None:
        with QtCore.QSignalBlocker(self.window.act_teach):
            self.window.act_teach.setChecked(on)

    def _on_undo_changed(self) -> None:
        w, u = self.window, self.window.undo_history
        for action, verb, enabled, text in ((w.act_undo, "Undo", u.can_undo, u.undo_text),
                                            (w.act_redo, "Redo", u.can_redo, u.redo_text)):
            action.setEnabled(enabled)
            action.setText(f"{verb} {text}" if text else verb)

    def _on_structure_changed(self) -> None:
        spin = self.window.sample_spin
        with QtCore.QSignalBlocker(spin):
            spin.setRange(1, len(self.session.dataset.x_train))
        self._on_sample_changed(self.session.selected_sample)

    def _on_sample_changed(self, k: int) -> None:
        w, ds = self.window, self.session.dataset
        with QtCore.QSignalBlocker(w.sample_spin):
            w.sample_spin.setValue(k + 1)
        x = ", ".join(f"{v:.3g}" for v in ds.x_train[k])
        y = ", ".join(f"{v:.3g}" for v in ds.y_train[k])
        w.sample_label.setText(f" of {len(ds.x_train)}:  ({x}) \u2192 {y} ")

    def _on_view_option(self, option: str, value) -> None:
        """A lesson sets a view option: the action that stands for it follows."""
        w = self.window
        if option == "color_by":
            w.act_gradient.setChecked(value == "gradient")
        elif option == "weights":
            w.act_weights.setChecked(bool(value))
        elif option == "values":
            w.act_values.setChecked(bool(value))
        elif option == "show":
            dock = w.view_docks().get(str(value))
            if dock is not None:
                dock.show()
                dock.raise_()
