"""Start the Qt application: the window, or an offscreen screenshot for slides."""

from __future__ import annotations

import os
import sys

APP_NAME = "Backprop Lab"
ORG_NAME = "BackpropLab"


def _ensure_platform(offscreen: bool) -> None:
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif "QT_QPA_PLATFORM" not in os.environ and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise RuntimeError("no display found (DISPLAY is not set). Use --screenshot for "
                           "offscreen work, or the sub-commands (backprop-lab --help)")


def make_application(argv: list[str] | None = None):
    from PySide6 import QtCore, QtGui, QtWidgets

    from ..resources import resource

    app = QtWidgets.QApplication.instance()
    if app is None:
        QtCore.QCoreApplication.setOrganizationName(ORG_NAME)
        QtCore.QCoreApplication.setApplicationName(APP_NAME)
        app = QtWidgets.QApplication(argv if argv is not None else [sys.argv[0]])
        app.setWindowIcon(QtGui.QIcon(str(resource("icons", "backprop-lab.svg"))))
        app.setDesktopFileName("backprop-lab")
        f = app.font()
        if f.pointSizeF() < 11:  # readable from the back of a lecture hall
            f.setPointSizeF(11)
            app.setFont(f)
    return app


def run_app(preset: str | None = None, project: str | None = None,
            screenshot: str | None = None, epochs: int = 0,
            size: tuple[int, int] = (1600, 1000)) -> int:
    """Open the window (blocking) or, with ``screenshot``, save a PNG and return."""
    try:
        _ensure_platform(offscreen=screenshot is not None)
    except RuntimeError as e:
        print(f"backprop-lab: {e}", file=sys.stderr)
        return 1
    from ..qtcheck import check as qt_problem

    reason = qt_problem()  # before any Qt call: a known-bad PySide6 crashes in seconds
    if reason:
        print(f"backprop-lab: error: {reason}", file=sys.stderr)
        return 1
    from PySide6 import QtCore

    from ..controller.session import Session
    from ..engine import presets
    from ..engine.project import ProjectError, load
    from .main_window import MainWindow

    try:
        proj = load(project) if project else presets.load_preset(preset or presets.DEFAULT)
    except ProjectError as e:
        print(f"backprop-lab: error: {e}", file=sys.stderr)
        return 2
    app = make_application()
    session = Session(proj, path=project)
    if screenshot:
        settings = QtCore.QSettings(QtCore.QSettings.IniFormat, QtCore.QSettings.UserScope,
                                    ORG_NAME, "screenshot")
        settings.clear()
        win = MainWindow(session, settings=settings, confirm_close=False)
        win.resize(*size)
        win.show()
        prepare_screenshot(win, epochs)
        ok = win.grab().save(screenshot, "PNG")
        win.close()
        if not ok:
            print(f"backprop-lab: error: cannot write {screenshot}", file=sys.stderr)
            return 2
        print(f"saved {screenshot}")
        return 0
    win = MainWindow(session)
    if os.environ.get("BACKPROP_LAB_STARTUP_PROBE"):
        _exit_after_first_paint(app, win)
    win.place_on_screen()  # inside the screen's available area, even a 1280x720 one
    win.show()
    QtCore.QTimer.singleShot(0, win.place_on_screen)  # the window manager's frame too
    return app.exec()


def prepare_screenshot(win, epochs: int = 0) -> None:
    """Train ``epochs`` more epochs, then bring every view to the same epoch for grab().

    The docks redraw on timers (the loss dock also holds its readout text for a moment so
    it can be read while training), so right after training they may still show an
    older epoch than the progress bar: draw them all now."""
    from PySide6 import QtWidgets

    from ..controller.session import run_until_settled

    app = QtWidgets.QApplication.instance()
    session = win.session
    if epochs:
        session.step_epochs(epochs)
    run_until_settled(session, timeout_ms=600_000)
    app.processEvents()
    win.render()
    win.presenter.update_labels()
    win.loss_dock.refresh()
    win.loss_dock._update_text()  # refresh() alone may leave the held (older) text
    win.gradient_dock.refresh()
    win.formula_dock.refresh()
    win.canvas.fit()
    app.processEvents()


def _exit_after_first_paint(app, win) -> None:
    """For the cold-start benchmark: print 'painted' at the first paint, then quit."""
    from PySide6 import QtCore

    class _Probe(QtCore.QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
            if event.type() == QtCore.QEvent.Paint and not getattr(self, "done", False):
                self.done = True
                print("painted", flush=True)
                win.confirm_close = False
                QtCore.QTimer.singleShot(0, win.close)
                QtCore.QTimer.singleShot(0, app.quit)
            return False

    win._startup_probe = _Probe(win)  # noqa: SLF001 (kept alive with the window)
    win.installEventFilter(win._startup_probe)
