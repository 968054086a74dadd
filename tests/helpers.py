"""Helpers for tests that drive a session: waiting is done here, with qtbot's event loop,
never in the application."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


def settle(session, timeout_ms: int = 30_000) -> None:
    """Run the event loop until the session's main run is settled (every command whose
    outcome only the training loop knows has been acknowledged, and it is idle)."""
    deadline = QtCore.QDeadlineTimer(timeout_ms)
    loop = QtCore.QEventLoop()
    done = []

    def on_settled():
        done.append(True)
        loop.quit()

    session.after_settled(on_settled)
    if not done:
        timer = QtCore.QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        timer.start(max(1, deadline.remainingTime()))
        loop.exec()
        timer.stop()
    if not done:
        raise TimeoutError(f"the session did not settle within {timeout_ms} ms")
    QtWidgets.QApplication.processEvents()  # let the views hear of it (queued signals)


def wait_lesson(qtbot, player, timeout_ms: int = 60_000) -> None:
    """Wait until the lesson player shows the step it was asked for."""
    try:
        qtbot.waitUntil(lambda: not player.busy, timeout=timeout_ms)
    except Exception:
        pool = QtCore.QThreadPool.globalInstance()
        import sys
        import threading
        import traceback

        frames = sys._current_frames()
        stacks = "\n".join(f"--- {t.name}\n" + "".join(traceback.format_stack(frames[t.ident]))
                           for t in threading.enumerate() if t.ident in frames)
        raise AssertionError(
            f"the lesson player stayed busy: index {player.index}, target {player.target}, "
            f"stages {sorted(player._stages)}, worker {player._worker}, message "
            f"{player.message!r}; thread pool: {pool.activeThreadCount()} of "
            f"{pool.maxThreadCount()} threads busy\n{stacks}") from None
    QtWidgets.QApplication.processEvents()


def wait_stepper(qtbot, stepper, timeout_ms: int = 30_000) -> None:
    """Wait until the phase stepper has started the step it was asked for (it waits for
    the run to settle, e.g. after an update taken by hand)."""
    qtbot.waitUntil(lambda: not stepper.busy, timeout=timeout_ms)
