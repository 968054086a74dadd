"""The main window: builds the canvas and the docks, wires them to the session, and
keeps the window's own business: the layout (lessons and presentation mode change it),
the settings, the title and closing.

The rest lives beside it: ``actions`` (actions, menus, toolbars, shortcuts), ``files``
(open, save, recent files, CSV import, export), ``presenter`` (the session and the phase
stepper drawn on the canvas and in the header). The controller decides what an edit, an
undo, a file or a lesson does; the window forwards what the user asks for.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from ..controller.lessons import LessonPlayer
from ..controller.session import Session
from ..controller.teaching import PhaseStepper
from ..controller.undo import UndoHistory
from ..engine.names import WeightRef, unit_name
from ..resources import resource
from .actions import WindowActions
from .canvas import NetworkCanvas
from .docks.formula_dock import FormulaDock
from .docks.gradient_dock import GradientDock
from .docks.lesson_dock import LessonDock
from .docks.loss_dock import LossDock
from .docks.parameters import ParameterDock
from .files import ProjectFiles
from .gradcheck_dialog import GradCheckDialog
from .presenter import Presenter, canvas_data, reveal_canvas_data
from .widgets import WeightEditor

__all__ = ["PRESENT_SCALE", "MainWindow", "canvas_data", "reveal_canvas_data"]

PRESENT_SCALE = 1.4  # text in presentation mode, relative to normal


class MainWindow(QtWidgets.QMainWindow):
    """Backprop Lab's window. ``session`` is the model; the window only renders it."""

    def __init__(self, session: Session, settings: QtCore.QSettings | None = None,
                 confirm_close: bool = True):
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
        self._presenting = False
        self._state_before_presenting: QtCore.QByteArray | None = None
        self._params_before_lesson: bool | None = None
        self._auto_pin: object = None  # what the formula panel shows because of the phase
        self._editor: WeightEditor | None = None

        self.canvas = NetworkCanvas(self)
        self.canvas.setObjectName("canvas")
        self.setCentralWidget(self.canvas)
        self.files = ProjectFiles(session, self.settings, self.canvas, self, confirm_close)
        self._build_docks()
        self.window_actions = WindowActions(self)
        self._default_state = self.saveState()
        self.presenter = Presenter(session, self.stepper, self.canvas, self.epoch_label,
                                   self.loss_label, self.rate_label, self)
        self._wire()

        self.resize(1440, 900)
        self._restore_settings()
        self.presenter.render()
        QtCore.QTimer.singleShot(0, self.canvas.fit)
        self._update_title()
        self.canvas.setFocus()

    def _build_docks(self) -> None:
        s = self.session
        self.loss_dock = LossDock(s, self)
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
        self.loss_dock.raise_()
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
        self.stepper.changed.connect(self._follow_phase)
        # a lesson replaces the network: older undo steps no longer apply
        self.lesson_player.changed.connect(self.undo_history.clear)
        self.lesson_player.changed.connect(self._on_lesson_changed)
        self.canvas.weight_clicked.connect(self.formula_dock.show_weight)
        self.canvas.weight_clicked.connect(self.edit_weight)
        self.canvas.unit_clicked.connect(self.formula_dock.show_unit)
        self.canvas.unit_clicked.connect(self._on_unit_clicked)
        self.canvas.weight_hovered.connect(self.formula_dock.follow_hover)
        self.canvas.unit_hovered.connect(self.formula_dock.follow_hover)

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

    # -- editing and checking -----------------------------------------------------------
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

    def view_docks(self) -> dict[str, QtWidgets.QDockWidget]:
        """Where each view a lesson may name lives in this window."""
        return {"loss_plot": self.loss_dock, "gradient_plot": self.gradient_dock,
                "formulas": self.formula_dock, "parameters": self.param_dock}

    # -- presentation mode --------------------------------------------------------------
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
        if not self.files.confirm_discard():
            event.ignore()
            return
        if self._presenting:
            self.set_presenting(False)
        # End a lesson first: it brings back the docks it hid, so the saved layout is the
        # user's own, not the lesson's (a replay in progress ends at the shutdown below).
        self.lesson_player.stop()
        self._save_settings()
        self.presenter.stop()
        self.stepper.stop()
        if self._editor is not None:
            self._editor.close()
        self.session.shutdown()
        event.accept()
