"""A comparison's own process, seen from the window (``runs.compare_server``).

``CompareProcess`` starts ``backprop-lab --compare-server`` with a ``QProcess``, writes
the request and brings the window's copy of the comparison up to each ``progress``
frame as it arrives (through Qt's event loop: no thread in the window, so the training
never competes with the UI thread for the GIL). It reports ``progressed(Progress)``,
then ``done`` or ``failed(message)`` once; ``cancel`` ends the process. ``failed`` with
``start_failed`` set means the process never ran (the caller may train on a thread).
"""

from __future__ import annotations

from PySide6 import QtCore

from ..runs.compare import Comparison
from ..runs.compare_server import apply_progress
from ..runs.state import Message
from ..runs.wire import FrameReader, ProtocolError, encode
from .clients import server_process

__all__ = ["CompareProcess"]


class CompareProcess(QtCore.QObject):
    progressed = QtCore.Signal(object)
    done = QtCore.Signal()
    failed = QtCore.Signal(str)

    def __init__(self, comparison: Comparison, req: Message,
                 parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.comparison = comparison
        self._request = req
        self._reader = FrameReader()
        self._proc: QtCore.QProcess | None = None
        self._ended = False
        self.start_failed = False

    @property
    def running(self) -> bool:
        return self._proc is not None and not self._ended

    def start(self) -> bool:
        """Start the process (False: it could not be started; ``failed`` was sent)."""
        proc = server_process(self, "--compare-server")
        if proc is None:
            self.start_failed = True
            self._end("The comparison's process could not start: there is no program "
                      "to start (sys.executable is empty)")
            return False
        proc.readyReadStandardOutput.connect(self._on_output)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        self._proc = proc
        proc.start()
        if not proc.waitForStarted(10_000):
            self.start_failed = True
            self._end(f"The comparison's process could not start: {proc.errorString()}")
            return False
        proc.write(encode(self._request))
        proc.closeWriteChannel()
        return True

    def cancel(self) -> None:
        """End the process now (what arrived stays in the comparison); no signal."""
        self._ended = True
        self.comparison.cancel()
        self._stop()

    # -- from the process ---------------------------------------------------------------
    def _on_output(self) -> None:
        proc = self._proc
        if proc is None or self._ended:
            return
        try:
            msgs = self._reader.feed(bytes(proc.readAllStandardOutput().data()))
        except ProtocolError as e:
            self._end(f"The comparison's process sent something unreadable ({e})")
            return
        for msg in msgs:
            if self._ended:
                return
            kind = msg.get("kind")
            if kind == "progress":
                self.progressed.emit(apply_progress(self.comparison, msg))
            elif kind == "done":
                self._ended = True
                self._stop()  # it ends by itself after "done": this only reaps it
                self.done.emit()
            elif kind == "failed":
                self._end(str(msg.get("message", "the comparison failed")))

    def _on_finished(self, code: int, status: QtCore.QProcess.ExitStatus) -> None:
        if self._ended:
            return
        self._on_output()  # the last frames may come with the end
        if self._ended:
            return
        how = "it crashed" if status == QtCore.QProcess.CrashExit else f"exit code {code}"
        self._end(f"The comparison's process ended before the comparison did ({how})")

    def _on_error(self, error: QtCore.QProcess.ProcessError) -> None:
        if error == QtCore.QProcess.FailedToStart and not self._ended:
            self.start_failed = True
            self._end("The comparison's process could not start: "
                      + (self._proc.errorString() if self._proc else ""))

    def _end(self, message: str) -> None:
        if self._ended:
            return
        self._ended = True
        self._stop()
        self.failed.emit(message)

    def _stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.state() != QtCore.QProcess.NotRunning:
            proc.kill()
            proc.waitForFinished(2000)
