"""The main window: builds the canvas and the docks, wires them to the session, and
keeps the window's own business: the layout (lessons and presentation mode change it),
the theme and the text size, the settings, the title and closing.

During a lesson ``stage.StageLayout`` shares the window out among the views the step
needs; the lesson's view options (pin, log, ranges, highlight, show) are applied here
when a step is shown. The formula panel follows the phase of a stepped update (the loss
in the Loss phase, a weight in the update) unless the lesson pins something or the user
clicked something during this step.

The rest lives beside it: ``actions`` (actions, menus, toolbars, shortcuts), ``files``
(open, save, recent files, CSV import, export), ``presenter`` (the session and the phase
stepper drawn on the canvas and in the header). The controller decides what an edit, an
undo, a file or a lesson does; the window forwards what the user asks for.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from ..controller.data_edits import PointEditor
from ..controller.lessons import LessonPlayer
from ..controller.recovery import Recovery, describe_recovery, find_recovery, restore
from ..controller.session import Session
from ..controller.teaching import PhaseStepper
from ..controller.undo import UndoHistory
from ..engine.names import WeightRef, unit_name
from ..engine.project import ProjectError
from ..resources import resource
from . import theme as theme_mod
from .actions import WindowActions
from .canvas import NetworkCanvas
from .canvas.editing import WeightSpinBox
from .docks.data_dock import DataDock
from .docks.formula_dock import FormulaDock
from .docks.gradient_dock import GradientDock
from .docks.landscape_dock import LandscapeDock
from .docks.lesson_dock import LessonDock
from .docks.loss_dock import LossDock
from .docks.parameters import ParameterDock
from .files import ProjectFiles
from .gradcheck_dialog import GradCheckDialog
from .presenter import Presenter, WeightEditLink, canvas_data, reveal_canvas_data
from .stage import StageLayout, resolve_names
from .theme import AppLook, next_text_scale
from .timeline_bar import TimelineBar, install_shortcuts

__all__ = ["PRESENT_SCALE", "MainWindow", "canvas_data", "reveal_canvas_data"]

PRESENT_SCALE = 1.4  # text in presentation mode, relative to normal (at 720 px) ...
#: ... growing with the screen's height beyond STAGE_HEIGHT px, up to STAGE_GROWTH times
#: (a 1080p projector: 1.4 x 1.4), as the canvas's text grows with its room
STAGE_HEIGHT = 740
STAGE_GROWTH = 1.4
PRESENT_PLOTS_SHARE = 0.3  # presenting outside a lesson: the plots under the canvas
CANVAS_PRESENT_SCALE = 1.5  # the canvas's text and lines in presentation mode
DEFAULT_SIZE = (1440, 900)  # the first window, when the screen has room for it


class MainWindow(QtWidgets.QMainWindow):
    """Backprop Lab's window. ``session`` is the model; the window only renders it."""

    #: the answer to the recovery question: True if the unsaved work was restored
    recovery_answered = QtCore.Signal(bool)

    def __init__(self, session: Session, settings: QtCore.QSettings | None = None,
                 confirm_close: bool = True, recovery: bool = True):
        super().__init__()
        self.session = session
        self.settings = settings if settings is not None else QtCore.QSettings()
        self.setObjectName("main_window")
        self.setWindowIcon(QtGui.QIcon(str(resource("icons", "backprop-lab.svg"))))
        self.setDockOptions(QtWidgets.QMainWindow.AnimatedDocks
                            | QtWidgets.QMainWindow.AllowTabbedDocks)
        self.stepper = PhaseStepper(session, self)
        self.lesson_player = LessonPlayer(session, self.stepper, self)
        #: weight edits and resets; a change of structure clears it (see controller.undo)
        self.undo_history = UndoHistory(session, self)
        #: a copy of unsaved work in the app-data folder (None: off, for screenshots and
        #: self-tests, which must neither write it nor remove the user's)
        self.recovery = Recovery(session, parent=self) if recovery else None
        self._presenting = False
        self._state_before_presenting: QtCore.QByteArray | None = None
        self._geometry_before_presenting: QtCore.QByteArray | None = None
        self._state_before_lesson: QtCore.QByteArray | None = None
        self._params_wanted: bool | None = None  # the user's parameter panel, while hidden
        self._user_pinned = False  # the user clicked an item during this step
        self._readout_factor = 1.5  # the readout's text size, before fit_readout
        # the theme and the text size are the application's (menus and dialogs follow)
        self.look = AppLook()
        theme = str(self.settings.value("theme", "light"))
        self._theme = theme if theme in theme_mod.THEMES else "light"
        try:
            scale = float(self.settings.value("text_scale", 1.0))
        except (TypeError, ValueError):
            scale = 1.0
        self._text_scale = min(max(scale, theme_mod.TEXT_SCALES[0]),
                               theme_mod.TEXT_SCALES[-1])
        self.look.apply(self._theme, self._text_scale)
        # the lesson column and the formulas run the full height; plots sit under the canvas
        self.setCorner(QtCore.Qt.BottomRightCorner, QtCore.Qt.RightDockWidgetArea)
        self.setCorner(QtCore.Qt.TopRightCorner, QtCore.Qt.RightDockWidgetArea)
        self.setCorner(QtCore.Qt.BottomLeftCorner, QtCore.Qt.LeftDockWidgetArea)

        self.canvas = NetworkCanvas(self)
        self.canvas.setObjectName("canvas")
        # the timeline bar under the canvas (issue 11): scrub back through training
        self.timeline_bar = TimelineBar(session)
        central = QtWidgets.QWidget(self)
        column = QtWidgets.QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.canvas, 1)
        column.addWidget(self.timeline_bar)
        self.setCentralWidget(central)
        self.files = ProjectFiles(session, self.settings, self.canvas, self, confirm_close)
        self._build_docks()
        self.window_actions = WindowActions(self)
        install_shortcuts(self, self.timeline_bar)
        self._default_state = self.saveState()
        self.presenter = Presenter(session, self.stepper, self.canvas, self.epoch_label,
                                   self.loss_label, self.rate_label, self)
        #: weights edited in place on the canvas: live, one undo step per edit
        self.weight_edits = WeightEditLink(session, self.undo_history, self.canvas,
                                           self.stepper, self)
        self.stage = StageLayout(self)
        self._wire()

        self.resize(*DEFAULT_SIZE)
        self._restore_settings()
        self._apply_theme()
        self._apply_scales()
        self.presenter.render()
        QtCore.QTimer.singleShot(0, self.canvas.fit)
        self._update_title()
        self.canvas.setFocus()

    def _build_docks(self) -> None:
        s = self.session
        self.loss_dock = LossDock(s, self)
        self.compare_dialog = None  # Training > Compare..., made when first asked for
        self.run_view = None  # Training > Runs side by side..., made when first asked for
        self.param_dock = ParameterDock(s, self)
        self.addDockWidget(QtCore.Qt.LeftDockWidgetArea, self.param_dock)
        self.addDockWidget(QtCore.Qt.BottomDockWidgetArea, self.loss_dock)
        self.formula_dock = FormulaDock(s, self.stepper, self)
        self.lesson_dock = LessonDock(self.lesson_player, self)
        self.lesson_dock.confirm = self.files.confirm_discard  # a lesson replaces the network
        # the lesson's text above the formulas it talks about, both visible at once
        self.addDockWidget(QtCore.Qt.RightDockWidgetArea, self.lesson_dock)
        self.splitDockWidget(self.lesson_dock, self.formula_dock, QtCore.Qt.Vertical)
        self.lesson_dock.hide()  # shown when a lesson starts
        self.gradient_dock = GradientDock(s, self)
        self.addDockWidget(QtCore.Qt.BottomDockWidgetArea, self.gradient_dock)
        self.tabifyDockWidget(self.loss_dock, self.gradient_dock)
        self.landscape_dock = LandscapeDock(s, self)
        self.addDockWidget(QtCore.Qt.BottomDockWidgetArea, self.landscape_dock)
        self.tabifyDockWidget(self.loss_dock, self.landscape_dock)
        self.loss_dock.raise_()
        # the data view (points over the network's output across the input plane) in a
        # tab beside the formulas: at 1280x720 the canvas keeps its width
        self.data_dock = DataDock(s, PointEditor(s, self.undo_history), self)
        self.addDockWidget(QtCore.Qt.RightDockWidgetArea, self.data_dock)
        self.tabifyDockWidget(self.formula_dock, self.data_dock)
        self.formula_dock.raise_()
        self.resizeDocks([self.formula_dock], [330], QtCore.Qt.Horizontal)
        self.resizeDocks([self.param_dock], [300], QtCore.Qt.Horizontal)
        self.resizeDocks([self.loss_dock], [230], QtCore.Qt.Vertical)

    def _wire(self) -> None:
        s = self.session
        s.error.connect(self._on_error)
        s.notice.connect(lambda text: self.statusBar().showMessage(text, 10000))
        s.dirty_changed.connect(self._update_title)
        s.path_changed.connect(self._update_title)
        self.files.status.connect(self.statusBar().showMessage)
        if self.recovery is not None:
            self.recovery.failed.connect(lambda m: self.statusBar().showMessage(m, 15000))
        self.stepper.changed.connect(self._follow_phase)
        # a lesson replaces the network: older undo steps no longer apply
        self.lesson_player.changed.connect(self.undo_history.clear)
        self.lesson_player.changed.connect(self._on_lesson_changed)
        self.lesson_player.applied.connect(self._on_lesson_applied)
        self.canvas.weight_clicked.connect(self._user_pin)
        self.canvas.unit_clicked.connect(self._user_pin)
        self.canvas.loss_clicked.connect(self._user_pin)
        self.canvas.weight_clicked.connect(self.formula_dock.show_weight)
        self.canvas.weight_clicked.connect(self.edit_weight)
        self.canvas.unit_clicked.connect(self.formula_dock.show_unit)
        self.canvas.unit_clicked.connect(self._on_unit_clicked)
        self.canvas.loss_clicked.connect(self.formula_dock.show_loss)
        self.canvas.viewport().installEventFilter(self)  # its scale follows its room
        self.canvas.weight_hovered.connect(self.formula_dock.follow_hover)
        self.canvas.unit_hovered.connect(self.formula_dock.follow_hover)
        # a unit hovered or clicked on the canvas: its own map in the data view; the
        # data view's maps inside the canvas's units (View > Unit maps)
        self.canvas.unit_hovered.connect(self.data_dock.follow_unit)
        self.canvas.unit_clicked.connect(self.data_dock.pin_unit)
        self.data_dock.unit_maps_changed.connect(self.canvas.set_unit_maps)

    # -- what scripts and tests call ------------------------------------------------------
    def render(self) -> None:
        """Show the newest state now (see ``Presenter.render``)."""
        self.presenter.render()

    @property
    def confirm_close(self) -> bool:
        """Ask before unsaved work is replaced or the window closes."""
        return self.files.confirm_unsaved

    @confirm_close.setter
    def confirm_close(self, on: bool) -> None:
        self.files.confirm_unsaved = bool(on)

    def open_path(self, path: str | Path) -> bool:
        return self.files.open_path(path)

    def save(self) -> bool:
        return self.files.save()

    def save_as(self) -> bool:
        return self.files.save_as()

    def import_csv(self, path: str | Path, targets: list[str] | None = None,
                   test_fraction: float = 0.0, normalize: bool = False) -> bool:
        return self.files.import_csv(path, targets, test_fraction, normalize)

    def export_canvas(self, kind: str) -> None:
        self.files.export_canvas(kind)

    def recent_files(self) -> list[str]:
        return self.files.recent_files()

    def new_from_preset(self, name: str) -> None:
        self.files.new_from_preset(name)

    def offer_recovery(self) -> QtWidgets.QMessageBox | None:
        """Work a previous run left unsaved (it did not end cleanly): one question,
        Restore or Discard, window-modal without a nested event loop. Returns the open
        question (None: nothing to recover); ``recovery_answered(bool restored)`` follows
        the answer. ``app.run_app`` asks once the window is on screen."""
        if self.recovery is None:
            return None
        path = find_recovery(self.recovery.folder)
        if path is None:
            return None
        box = QtWidgets.QMessageBox(self)
        box.setObjectName("recovery_box")
        box.setIcon(QtWidgets.QMessageBox.Question)
        box.setWindowTitle("Recover unsaved work")
        box.setText("Backprop Lab did not close cleanly last time.")
        box.setInformativeText(describe_recovery(path) + " Restore it?")
        box.setStandardButtons(QtWidgets.QMessageBox.Discard)
        restore_button = box.addButton("Restore", QtWidgets.QMessageBox.AcceptRole)
        box.setDefaultButton(restore_button)

        def answered(button: QtWidgets.QAbstractButton) -> None:
            box.deleteLater()
            self.recovery_answered.emit(self._answer_recovery(path, button is restore_button))

        box.buttonClicked.connect(answered)
        box.open()
        return box

    def _answer_recovery(self, path: Path, restore_it: bool) -> bool:
        if not restore_it:
            self.recovery.discard()
            return False
        try:
            restore(self.session, path)
        except ProjectError as e:
            kept = path.with_name(path.name + ".broken")
            try:
                path.replace(kept)
                where = f" It was moved to {kept}."
            except OSError:
                where = ""
            self.files.show_problem("Cannot restore the unsaved work", f"{e}{where}")
            return False
        self.statusBar().showMessage("Restored the unsaved work; save it to keep it", 10000)
        return True

    # -- editing and checking -----------------------------------------------------------
    def edit_weight(self, ref: WeightRef) -> WeightSpinBox | None:
        """Edit one weight in place on the canvas: a spin box over its label, the loss
        following as the value changes; Enter keeps it (one undo step), Escape puts the
        old value back. Training goes on meanwhile. None if the canvas does not show it."""
        return self.canvas.edit_weight(ref, self.session.weight_value(ref))

    def set_weight(self, ref: WeightRef, value: float) -> None:
        self.undo_history.set_weight(ref, value)

    def reset(self) -> None:
        self.undo_history.reset()

    def show_compare(self):
        """Training > Compare...: the one Compare dialog of this window (made when first
        asked for; closing it hides it, its comparison and curves stay)."""
        if self.compare_dialog is None:
            from .compare_dialog import CompareDialog

            self.compare_dialog = CompareDialog(self.session, self.loss_dock, self)
            if self.run_view is not None:
                self.run_view.set_job(self.compare_dialog.job)
            self.compare_dialog.side_by_side_requested.connect(
                lambda row: self.open_run_view(right=row if row >= 0 else None))
            # the compared runs' paths on the loss landscape too
            self.landscape_dock.follow_comparison(self.compare_dialog.job)
            self.compare_dialog.clear_button.clicked.connect(
                self.landscape_dock.clear_comparison)
        self.compare_dialog.show()
        self.compare_dialog.raise_()
        self.compare_dialog.activateWindow()
        return self.compare_dialog

    def open_run_view(self, left: str | int | None = None, right: str | int | None = None):
        """Show the "Runs side by side" window (made on first use): ``left`` and ``right``
        are ``"main"``, a compared variant's index or name, or (right) ``"none"``; None
        keeps what the window shows (the first time: the first two variants, or the main
        run and the only variant)."""
        if self.run_view is None:
            from .run_view import RunView

            self.run_view = RunView(self)
            self.run_view.set_theme(self._theme)
            self.run_view.set_scale(self.present_factor(), self.canvas_scale_wanted(),
                                    self._presenting)
        view = self.run_view
        if left is not None or right is not None:
            view.select(left, right)
        view.show()
        view.raise_()
        view.activateWindow()
        return view

    def show_gradient_check(self) -> GradCheckDialog:
        dlg = GradCheckDialog(self.session, self)
        dlg.setAttribute(QtCore.Qt.WA_DeleteOnClose)
        dlg.show()
        return dlg

    # -- lessons and the stepped update: which dock shows what --------------------------
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
        self.stage.schedule()

    def _user_pin(self, *_args) -> None:
        """The user chose what the formula panel shows: it stays until the next step."""
        self._user_pinned = True

    def _follow_phase(self) -> None:
        """The formula panel shows what the step is about: the lesson's pin, else the
        first item of the stepped update's phase (the loss in the Loss phase, W10 in the
        update), unless the user clicked something during this step."""
        fd = self.formula_dock
        if self._lesson_pin():
            return
        if not self.stepper.active or self._user_pinned:
            return
        p = self.stepper.phase
        if p.kind in ("forward", "backward"):
            fd.show_unit(p.layer, 0)
        elif p.kind == "loss":
            fd.show_loss()
        elif p.kind == "update":
            fd.show_weight(WeightRef(0, 0, -1))

    def _lesson_pin(self) -> bool:
        """Pin what the lesson's ``pin`` option names; False if it names nothing."""
        if not self.lesson_player.active:
            return False
        name = self.lesson_player.view_options.get("pin")
        if not name:
            return False
        fd = self.formula_dock
        if name == "loss":
            return fd.show_loss()
        units, weights, _unknown = resolve_names(self.session.layers, [name])
        if units:
            return fd.show_unit(*next(iter(units)))
        if weights:
            layer, target, source = next(iter(weights))
            return fd.show_weight(WeightRef(layer, target, source))
        return False

    def _on_lesson_applied(self, _index: int) -> None:
        """A lesson step is on the session: apply its view options, let the formula
        panel follow it, and share the window out among the views it needs."""
        self._user_pinned = False
        options = self.lesson_player.view_options
        ld = self.loss_dock
        ld.set_log_y(bool(options.get("log", False)))
        ld.set_ranges(options.get("x_range"), options.get("y_range"))
        units, weights, _unknown = resolve_names(self.session.layers,
                                                 options.get("highlight") or ())
        self.presenter.set_highlight(units, weights)
        self._follow_phase()
        self.stage.schedule()

    def _on_lesson_changed(self) -> None:
        """A lesson takes the window over: its layout is kept aside and comes back when
        the lesson ends; the parameter panel makes room (the lesson sets them)."""
        active = self.lesson_player.active
        if active and self._state_before_lesson is None:
            self._state_before_lesson = self.saveState()
            if self._params_wanted is None:
                self._params_wanted = self.param_dock.isVisible()
            self.param_dock.hide()
            self.landscape_dock.hide()  # not a lesson view; restoreState brings it back
        elif not active and self._state_before_lesson is not None:
            state, self._state_before_lesson = self._state_before_lesson, None
            self.restoreState(state)
            self.presenter.set_highlight()
            self.loss_dock.set_ranges(None, None)
            if not self._presenting:
                self._restore_params()
        if active:
            self.stage.schedule()

    def _restore_params(self) -> None:
        if self._params_wanted is not None:
            self.param_dock.setVisible(self._params_wanted or self.param_dock.isVisible())
            self._params_wanted = None

    def view_docks(self) -> dict[str, QtWidgets.QDockWidget]:
        """Where each view a lesson may name lives in this window."""
        return {"loss_plot": self.loss_dock, "gradient_plot": self.gradient_dock,
                "formulas": self.formula_dock, "parameters": self.param_dock,
                "caption": self.lesson_dock, "table": self.lesson_dock,
                "data_view": self.data_dock}

    # -- theme and text size --------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        """The light theme or the dark projector theme, for every view; remembered."""
        if theme not in theme_mod.THEMES:
            raise ValueError(f"theme must be one of {theme_mod.THEMES}, not {theme!r}")
        self._theme = theme
        self.settings.setValue("theme", theme)
        self.look.apply(self._theme, self._text_scale)
        self._apply_theme()

    def theme(self) -> str:
        return self._theme

    def _apply_theme(self) -> None:
        t = self._theme
        act = self.theme_actions.get(t)
        if act is not None and not act.isChecked():
            with QtCore.QSignalBlocker(act):
                act.setChecked(True)
        self.canvas.set_theme(t)
        if self.run_view is not None:
            self.run_view.set_theme(t)
        for dock in (self.loss_dock, self.gradient_dock, self.formula_dock, self.lesson_dock,
                     self.landscape_dock):
            dock.set_theme(t)
        self.window_actions.retint_icons()

    def set_text_scale(self, factor: float) -> None:
        """Every view's text at ``factor`` times its normal size (Ctrl+= / Ctrl+- /
        Ctrl+0); remembered."""
        lo, hi = theme_mod.TEXT_SCALES[0], theme_mod.TEXT_SCALES[-1]
        self._text_scale = min(max(float(factor), lo), hi)
        self.settings.setValue("text_scale", self._text_scale)
        self.look.apply(self._theme, self._text_scale)
        self._apply_scales()

    def step_text_scale(self, direction: int) -> None:
        """One step larger (1), smaller (-1), or back to normal (0)."""
        self.set_text_scale(next_text_scale(self._text_scale, direction))

    def text_scale(self) -> float:
        return self._text_scale

    def canvas_scale_wanted(self) -> float:
        """The canvas's scale before fitting: the text size, larger when presenting."""
        return self._text_scale * (CANVAS_PRESENT_SCALE if self._presenting else 1.0)

    def present_factor(self) -> float:
        """The docks' text size: 1 normally; in presentation mode PRESENT_SCALE, more on
        a taller screen (the docks fit their text below it when it does not fit)."""
        if not self._presenting:
            return 1.0
        screen = self.screen()
        height = screen.geometry().height() if screen is not None else self.height()
        return PRESENT_SCALE * min(STAGE_GROWTH, max(1.0, height / STAGE_HEIGHT))

    def _apply_scales(self) -> None:
        """Every view's text for the text size and the mode (the docks scale their own
        text from the application font, which carries the text size)."""
        factor = self.present_factor()
        for dock in self.findChildren(QtWidgets.QDockWidget):
            if hasattr(dock, "set_scale"):
                dock.set_scale(factor)
        base = QtWidgets.QApplication.font()
        for bar, k in ((self.toolbar, 1.15), (self.progress_bar, 1.0)):
            f = QtGui.QFont(base)
            f.setPointSizeF(base.pointSizeF() * k * factor)
            bar.setFont(f)
            side = int(round(QtGui.QFontMetricsF(f).height() * 0.9))  # icons grow with text
            bar.setIconSize(QtCore.QSize(side, side))
        self._readout_factor = 1.5 * factor
        self.timeline_bar.set_scale(factor)
        for label in (self.epoch_label, self.loss_label):
            f = QtGui.QFont(base)
            f.setPointSizeF(base.pointSizeF() * self._readout_factor)
            label.setFont(f)
        if self.run_view is not None:
            self.run_view.set_scale(factor, self.canvas_scale_wanted(), self._presenting)
        self.stage.fit_canvas_scale()
        self.stage.schedule()

    def fit_readout(self) -> None:
        """The epoch and loss readout as large as the row it is in allows: smaller
        rather than pushed behind the toolbar's "»" (the control strip at 1280 px)."""
        bar = self.progress_bar
        ext = overflow_button(bar)
        base = QtWidgets.QApplication.font().pointSizeF()
        k = self._readout_factor
        for _ in range(12):
            bar.layout().activate()
            if ext is None or not ext.isVisible() or k <= 1.0:
                break
            k = max(1.0, k * 0.92)
            for label in (self.epoch_label, self.loss_label):
                f = QtGui.QFont(label.font())
                f.setPointSizeF(base * k)
                label.setFont(f)
            QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.LayoutRequest)

    # -- presentation mode --------------------------------------------------------------
    def set_presenting(self, on: bool) -> None:
        """Presentation mode: full screen, larger text and lines, high contrast. The
        menu bar, the status bar, the controls toolbar and the docks' title bars go; a
        control strip stays (Back, Next, Play, Step, the readout, Leave). Every key
        works as before."""
        if on == self._presenting:
            return
        self._presenting = on
        with QtCore.QSignalBlocker(self.act_present):
            self.act_present.setChecked(on)
        if on:
            self._state_before_presenting = self.saveState()
            if self._params_wanted is None:
                self._params_wanted = self.param_dock.isVisible()
            self.param_dock.hide()
            self._geometry_before_presenting = self.saveGeometry()
            self.showFullScreen()
            if self.screen() is not None:  # without a window manager nobody else does it
                self.setGeometry(self.screen().geometry())
        else:
            self.showNormal()
            if self._geometry_before_presenting is not None:
                self.restoreGeometry(self._geometry_before_presenting)
            if self._state_before_presenting is not None:
                self.restoreState(self._state_before_presenting)
            if not self.lesson_player.active:
                self._restore_params()
        self.menuBar().setVisible(not on)
        self.statusBar().setVisible(not on)
        self.toolbar.setVisible(not on)
        self.window_actions.show_strip(on)
        for dock in self.findChildren(QtWidgets.QDockWidget):
            # an empty widget in place of the title bar: no title, no buttons, no frame
            dock.setTitleBarWidget(QtWidgets.QWidget(dock) if on else None)
        self.canvas.set_high_contrast(on)
        self.loss_dock.set_presenting(on)
        self.timeline_bar.set_presenting(on)
        self._apply_scales()
        if on:
            QtCore.QTimer.singleShot(0, self._give_plots_room)
        QtCore.QTimer.singleShot(50, self.canvas.fit)

    def _give_plots_room(self) -> None:
        """Presenting outside a lesson: the plots under the canvas get PLOTS_SHARE of
        the screen's height (else the canvas takes it all and the loss curve is a strip
        a hall cannot read); a lesson's stage sizes them itself."""
        if not self._presenting or self.lesson_player.active:
            return
        docks = [d for d in (self.loss_dock, self.gradient_dock, self.landscape_dock)
                 if d.isVisible() and not d.isFloating()]
        if docks:
            self.resizeDocks(docks[:1], [int(self.height() * PRESENT_PLOTS_SHARE)],
                             QtCore.Qt.Vertical)
            self.stage.schedule()

    @property
    def presenting(self) -> bool:
        return self._presenting

    def readout_font_factor(self) -> float:
        """The readout's text size now, relative to the application font."""
        return self.epoch_label.font().pointSizeF() / \
            QtWidgets.QApplication.font().pointSizeF()

    def place_on_screen(self, available: QtCore.QRect | None = None) -> None:
        """Keep the window, its frame included, inside the screen's available area
        (``available``, default: the screen's): smaller than DEFAULT_SIZE on a small
        screen, moved back when a remembered position lies off it. ``app.run_app``
        calls it before and after showing the window (the frame is known after)."""
        if available is None:
            screen = self.screen() or QtGui.QGuiApplication.primaryScreen()
            if screen is None:
                return
            available = screen.availableGeometry()
        frame = self.frameGeometry()
        geo = self.geometry()
        extra_w = max(0, frame.width() - geo.width())
        extra_h = max(0, frame.height() - geo.height())
        w = min(geo.width(), available.width() - extra_w)
        h = min(geo.height(), available.height() - extra_h)
        if (w, h) != (geo.width(), geo.height()):
            self.resize(w, h)
        x = min(max(frame.x(), available.left()), available.right() + 1 - w - extra_w)
        y = min(max(frame.y(), available.top()), available.bottom() + 1 - h - extra_h)
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.stage.schedule()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.stage.schedule()

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Resize and obj is self.canvas.viewport():
            self.stage.schedule()
        return super().eventFilter(obj, event)

    # -- messages, layout, title, settings ------------------------------------------------
    def _on_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)
        QtWidgets.QMessageBox.warning(self, "Backprop Lab", message)

    def _on_unit_clicked(self, layer: int, unit: int) -> None:
        if layer == 0 and unit >= 0:
            return
        self.statusBar().showMessage(
            f"{unit_name(self.session.layers, layer, unit)} selected", 3000)

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        self.param_dock.show()
        self.loss_dock.show()
        self.stage.schedule()

    def _update_title(self, *_args) -> None:
        s = self.session
        name = s.path.name if s.path else (s.title or "untitled")
        self.setWindowTitle(f"{name}[*] \u2014 Backprop Lab")
        self.setWindowModified(s.dirty)

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

    # -- closing ------------------------------------------------------------------------
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt override)
        # a value typed and not yet entered is kept (and counts as unsaved work)
        self.canvas.close_weight_editor()
        if not self.files.confirm_discard():
            event.ignore()
            return
        if self._presenting:
            self.set_presenting(False)
        # End a lesson first: it brings back the docks it hid, so the saved layout is the
        # user's own, not the lesson's (a replay in progress ends at the shutdown below).
        self.lesson_player.stop()
        self._save_settings()
        self.look.restore()
        self.presenter.stop()
        self.stepper.stop()
        self.landscape_dock.stop()
        if self.recovery is not None:
            self.recovery.discard()  # a clean exit: nothing to recover next time
        if self.compare_dialog is not None:
            self.compare_dialog.shutdown()
            self.compare_dialog.close()
        if self.run_view is not None:
            self.run_view.stop()
            self.run_view.close()
        self.session.shutdown()
        event.accept()


def overflow_button(bar: QtWidgets.QToolBar) -> QtWidgets.QToolButton | None:
    """The "»" button a toolbar shows when its items do not all fit."""
    for b in bar.findChildren(QtWidgets.QToolButton):
        if b.objectName() == "qt_toolbar_ext_button":
            return b
    return None
