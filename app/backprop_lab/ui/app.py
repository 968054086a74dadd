"""Start the Qt application: the window, or an offscreen screenshot for slides."""

from __future__ import annotations

import json
import os
import sys
import tempfile

APP_NAME = "Backprop Lab"
ORG_NAME = "BackpropLab"


def _ensure_platform(offscreen: bool, screen: tuple[int, int] | None = None) -> str | None:
    """Choose Qt's platform. Offscreen with ``screen``: a virtual screen of that size
    (so that full screen, as in presentation mode, is that size); returns the temporary
    configuration file to remove once the application exists."""
    if offscreen:
        if screen is None:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            return None
        w, h = screen
        config = {"screens": [{"name": "screenshot", "x": 0, "y": 0, "width": int(w),
                               "height": int(h), "logicalDpi": 96, "logicalBase": 96,
                               "dpr": 1}]}
        fd, path = tempfile.mkstemp(prefix="backprop-lab-screen-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(config, f)
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={path}"
        return path
    elif "QT_QPA_PLATFORM" not in os.environ and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise RuntimeError("no display found (DISPLAY is not set). Use --screenshot for "
                           "offscreen work, or the sub-commands (backprop-lab --help)")


def make_application(argv: list[str] | None = None):
    from PySide6 import QtCore, QtGui, QtWidgets

    from ..resources import resource

    app = QtWidgets.QApplication.instance()
    if app is None:
        import numpy as np

        # The window shows what huge or overflowing numbers do (a diverging run, a weight
        # of 1e300) and says so in words; numpy's warnings would only print source lines
        # on the console.
        np.seterr(all="ignore")
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
            size: tuple[int, int] = (1600, 1000), lesson: str | None = None, step: int = 1,
            presentation: bool = False, theme: str | None = None) -> int:
    """Open the window (blocking) or, with ``screenshot``, save a PNG and return.

    ``lesson`` (a shipped lesson's file name) is shown at ``step`` (from 1), in
    presentation mode and in ``theme`` if asked; the command line has checked them."""
    from PySide6 import QtWidgets

    fresh = QtWidgets.QApplication.instance() is None  # else the platform is chosen
    try:
        config = _ensure_platform(offscreen=screenshot is not None,
                                  screen=size if screenshot is not None and fresh else None)
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
    try:
        app = make_application()
    finally:
        if config is not None:
            os.unlink(config)  # read when the application started
    session = Session(proj, path=project)
    if screenshot:
        # settings of its own, thrown away: a screenshot neither reads the user's window
        # layout nor leaves a file behind; and no recovery copy (the user's stays)
        settings_dir = tempfile.TemporaryDirectory(prefix="backprop-lab-screenshot-")
        settings = QtCore.QSettings(os.path.join(settings_dir.name, "settings.ini"),
                                    QtCore.QSettings.IniFormat)
        win = MainWindow(session, settings=settings, confirm_close=False, recovery=False)
        win.resize(*size)
        win.show()
        problem = prepare_screenshot(win, epochs, lesson=lesson, step=step,
                                     presentation=presentation, theme=theme)
        ok = problem is None and win.grab().save(screenshot, "PNG")
        win.close()
        # Delete the window now: left to the interpreter's exit, PySide destroys the
        # plots' graphics items after the application and crashes (seen after
        # presentation mode).
        win.deleteLater()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.DeferredDelete)
        del settings
        settings_dir.cleanup()
        if problem is not None:
            print(f"backprop-lab: error: {problem}", file=sys.stderr)
            return 1
        if not ok:
            print(f"backprop-lab: error: cannot write {screenshot}", file=sys.stderr)
            return 2
        print(f"saved {screenshot}")
        return 0
    try:
        win = MainWindow(session)
    except Exception as e:  # one message, and no training left running behind it
        session.shutdown()
        text = f"The window could not be opened: {str(e) or type(e).__name__}"
        print(f"backprop-lab: error: {text}", file=sys.stderr)
        QtWidgets.QMessageBox.critical(None, "Backprop Lab", text)
        return 1
    if os.environ.get("BACKPROP_LAB_STARTUP_PROBE"):
        _exit_after_first_paint(app, win)
    win.place_on_screen()  # inside the screen's available area, even a 1280x720 one
    win.show()
    QtCore.QTimer.singleShot(0, win.place_on_screen)  # the window manager's frame too
    win.offer_recovery()  # the last run did not end cleanly: restore its unsaved work?
    if theme:
        apply_theme(win, theme)
    if lesson and win.start_lesson(lesson) and step > 1:
        win.lesson_player.go(step - 1)  # shown when computed; nothing waits for it
    if presentation:
        win.set_presenting(True)
    return app.exec()


#: how long a screenshot waits for a lesson step or training before it gives up (ms)
SCREENSHOT_TIMEOUT_MS = 600_000
#: the window defers some layout work (fitting the canvas, sizing docks) to short
#: timers; a screenshot lets them run for this long before it grabs (ms)
LAYOUT_SETTLE_MS = 300


def apply_theme(win, theme: str) -> None:
    """The window's theme if it has one, else the canvas's."""
    if hasattr(win, "set_theme"):
        win.set_theme(theme)
    else:
        win.canvas.set_theme(theme)


def wait_until(signal, done, timeout_ms: int) -> bool:
    """For scripts, never for a slot: run Qt's event loop until ``done()`` holds, checked
    whenever ``signal`` fires, or ``timeout_ms`` passes. Returns ``done()``."""
    from PySide6 import QtCore

    if done():
        return True
    loop = QtCore.QEventLoop()

    def check(*_args) -> None:
        if done():
            loop.quit()

    timer = QtCore.QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    signal.connect(check)
    timer.start(timeout_ms)
    loop.exec()
    timer.stop()
    signal.disconnect(check)
    return done()


def run_for(ms: int) -> None:
    """Run Qt's event loop for ``ms`` (the window's own short timers fire meanwhile)."""
    from PySide6 import QtCore

    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(ms, loop.quit)
    loop.exec()


def show_lesson_step(win, lesson: str, step: int,
                     timeout_ms: int = SCREENSHOT_TIMEOUT_MS) -> str | None:
    """Start a shipped lesson and wait (an event loop) until step ``step`` (from 1) is
    shown. Returns what went wrong, or None."""
    if not win.start_lesson(lesson):
        why = win.lesson_dock.start_error or "it is not among the shipped lessons"
        return f"lesson {lesson} did not start: {why}"
    player = win.lesson_player
    if not 1 <= step <= player.count:
        return f"lesson {lesson} has {player.count} steps, not {step}"
    if step > 1:
        player.go(step - 1)
    if not wait_until(player.changed, lambda: not player.busy, timeout_ms):
        return f"step {step} of lesson {lesson} was not ready within {timeout_ms // 1000} s"
    if player.index != step - 1:
        return f"lesson {lesson} shows step {player.index + 1}, not {step}: {player.message}"
    return None


def prepare_screenshot(win, epochs: int = 0, lesson: str | None = None, step: int = 1,
                       presentation: bool = False, theme: str | None = None) -> str | None:
    """Bring the window to what a screenshot shows, and every view to the same state.

    Show ``lesson`` at ``step`` (from 1), or train ``epochs`` more epochs; switch to
    presentation mode (full screen: the command line makes the offscreen screen the
    screenshot's size) and to ``theme``. The docks redraw on timers (the loss dock also
    holds its readout text for a moment so it can be read while training), so right
    after training they may still show an older epoch than the progress bar: draw them
    all now. Returns what went wrong, or None."""
    from PySide6 import QtWidgets

    from ..controller.session import run_until_settled

    app = QtWidgets.QApplication.instance()
    session = win.session
    if lesson is not None:
        problem = show_lesson_step(win, lesson, step)
        if problem is not None:
            return problem
    if presentation:
        win.set_presenting(True)  # full screen: run_app makes the screen ``size``
    if theme:
        apply_theme(win, theme)
    if epochs:
        session.step_epochs(epochs)
    if not run_until_settled(session, timeout_ms=SCREENSHOT_TIMEOUT_MS):
        return f"training did not finish within {SCREENSHOT_TIMEOUT_MS // 1000} s"
    run_for(LAYOUT_SETTLE_MS)
    win.render()
    win.presenter.update_labels()
    win.loss_dock.refresh()
    win.loss_dock._update_text()  # refresh() alone may leave the held (older) text
    win.gradient_dock.refresh()
    win.formula_dock.refresh()
    win.canvas.fit()
    app.processEvents()
    return None


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
