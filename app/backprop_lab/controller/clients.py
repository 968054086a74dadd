"""Where a run's loop runs: a training process (the default) or a thread (the fall-back).

Both clients take messages (``send``) and give messages back (``message``, on the UI
thread); ``lost`` says the client can no longer serve, with the reason. A run owns one
client for its whole life; a new network is a ``load`` on the same client.

``ProcessClient`` starts ``backprop-lab --train-server`` with a ``QProcess``: its output
arrives through Qt's event loop (no relay thread, no locks) and its death through
``finished``/``errorOccurred``. The server says ``alive`` four times a second, so a
process that stops answering (hung, or stopped with SIGSTOP) is noticed within
``SILENCE_SECONDS`` and killed; nothing waits for it.

``ThreadClient`` runs the same server loop (``runs.server.run_server``) in a Python thread
of the window's process, with short pauses between chunks so the UI thread gets the GIL.
"""

from __future__ import annotations

import collections
import os
import queue
import sys
import threading
import time
from pathlib import Path

from PySide6 import QtCore

from ..runs.loop import PAUSE_SECONDS
from ..runs.server import run_server
from ..runs.state import Message
from ..runs.wire import FrameReader, ProtocolError, encode

BACKEND_ENV = "BACKPROP_LAB_TRAINING"
BACKENDS = ("process", "thread")
SILENCE_SECONDS = 1.0  # a running process that says nothing for this long is hung
START_SECONDS = 15.0  # ... and one that has not said hello this long after starting
WATCH_MS = 250


def server_command(flag: str = "--train-server") -> tuple[str, list[str], dict[str, str]]:
    """The program, arguments and extra environment that start a training server (or,
    with ``flag`` ``--compare-server``, a comparison's process)."""
    if getattr(sys, "frozen", False):  # the PyInstaller app: the same program
        exe = Path(sys.executable)
        if sys.platform == "win32" and not exe.stem.endswith("-cli"):
            # the windowed program may have no standard streams: use its console twin
            twin = exe.with_name(f"{exe.stem}-cli{exe.suffix}")
            if twin.is_file():
                return str(twin), [flag], {}
        return str(exe), [flag], {}
    app_dir = str(Path(__file__).resolve().parents[2])  # works from a checkout too
    path = os.environ.get("PYTHONPATH")
    return sys.executable, ["-m", "backprop_lab", flag], {
        "PYTHONPATH": os.pathsep.join([app_dir] + ([path] if path else []))}


def server_process(parent: QtCore.QObject, flag: str = "--train-server"
                   ) -> QtCore.QProcess | None:
    """A ``QProcess`` set up to start a server (``server_command(flag)``), its stderr
    forwarded; None when there is no program to start (an empty ``sys.executable``)."""
    program, args, extra = server_command(flag)
    if not program:
        return None
    proc = QtCore.QProcess(parent)
    env = QtCore.QProcessEnvironment.systemEnvironment()
    for k, v in extra.items():
        env.insert(k, v)
    proc.setProcessEnvironment(env)
    proc.setProgram(program)
    proc.setArguments(args)
    proc.setProcessChannelMode(QtCore.QProcess.ForwardedErrorChannel)
    return proc


def default_backend() -> str:
    """Where training runs unless told otherwise: "process", or "thread" when the user
    chose it (``BACKPROP_LAB_TRAINING=thread``)."""
    return "thread" if os.environ.get(BACKEND_ENV, "").strip().lower() == "thread" \
        else "process"


class ProcessClient(QtCore.QObject):
    """A training server process, spoken to with frames over its stdin and stdout."""

    message = QtCore.Signal(object)
    lost = QtCore.Signal(str)

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._proc: QtCore.QProcess | None = None
        self._reader = FrameReader()
        self._waiting: list[bytes] = []  # frames sent before the process started
        self._started = False
        self._hello = False
        self._gone = False
        self._t_start = 0.0
        self._last_seen = 0.0
        self._last_watch = 0.0
        self._watch = QtCore.QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self._check)
        self._spawn_timer: QtCore.QTimer | None = None

    @property
    def backend(self) -> str:
        return "process"

    @property
    def pid(self) -> int | None:
        p = self._proc
        return int(p.processId()) if p is not None and p.processId() else None

    @property
    def alive(self) -> bool:
        return not self._gone

    def start(self, delay_ms: int = 0) -> None:
        """Start the process now or after ``delay_ms`` (commands wait for it meanwhile)."""
        if delay_ms > 0:
            self._spawn_timer = QtCore.QTimer(self)
            self._spawn_timer.setSingleShot(True)
            self._spawn_timer.timeout.connect(self._spawn)
            self._spawn_timer.start(delay_ms)
        else:
            self._spawn()

    def _spawn(self) -> None:
        if self._proc is not None or self._gone:
            return
        proc = server_process(self)
        if proc is None:
            self._lose("there is no Python interpreter to start (sys.executable is empty)")
            return
        proc.readyReadStandardOutput.connect(self._on_ready)
        proc.errorOccurred.connect(self._on_error)
        proc.finished.connect(self._on_finished)
        proc.started.connect(self._on_started)
        self._proc = proc
        self._t_start = self._last_watch = time.monotonic()
        self._watch.start()
        proc.start()

    def send(self, msg: Message) -> None:
        """Send a message (queued until the process has started)."""
        if self._gone:
            return
        data = encode(msg)
        if self._started and self._proc is not None:
            self._proc.write(data)
        else:
            self._waiting.append(data)
            if self._proc is None and (self._spawn_timer is None
                                       or not self._spawn_timer.isActive()):
                self._spawn()

    def close(self) -> None:
        """End the process without waiting for it: close its input (it quits by itself)
        and kill it if it is still there a moment later."""
        if self._spawn_timer is not None:
            self._spawn_timer.stop()
        self._watch.stop()
        self._gone = True
        proc = self._proc
        if proc is None:
            return
        proc.blockSignals(True)  # whatever it still says is for nobody
        if proc.state() != QtCore.QProcess.NotRunning:
            proc.closeWriteChannel()
            if not proc.waitForFinished(50):  # an idle server quits at once
                proc.kill()
                proc.waitForFinished(1000)  # reaps a killed process (immediate)

    # -- the process's side -------------------------------------------------------------
    def _on_started(self) -> None:
        self._started = True
        for data in self._waiting:
            self._proc.write(data)
        self._waiting.clear()

    def _on_ready(self) -> None:
        if self._proc is None or self._gone:
            return
        data = bytes(self._proc.readAllStandardOutput())
        if not data:
            return
        self._last_seen = time.monotonic()
        try:
            messages = self._reader.feed(data)
        except ProtocolError as e:
            self._lose(f"its messages could not be read ({e})")
            return
        for msg in messages:
            kind = msg.get("kind")
            if kind == "hello":
                self._hello = True
            elif kind != "alive":
                self.message.emit(msg)
            if self._gone:
                return

    def _check(self) -> None:
        now = time.monotonic()
        late = now - self._last_watch > 3 * WATCH_MS / 1000
        self._last_watch = now
        if late:  # this thread was busy: the process's messages may just be waiting
            self._last_seen = max(self._last_seen, now - WATCH_MS / 1000)
            return
        if not self._hello:
            if now - self._t_start > START_SECONDS:
                self._lose(f"it did not start within {START_SECONDS:.0f} s")
            return
        if now - self._last_seen > SILENCE_SECONDS:
            if self._proc is not None and self._proc.waitForReadyRead(0):
                self._on_ready()
            if now - self._last_seen > SILENCE_SECONDS and not self._gone:
                self._lose(f"it stopped answering for more than {SILENCE_SECONDS:g} s")

    def _on_error(self, error: QtCore.QProcess.ProcessError) -> None:
        if error == QtCore.QProcess.FailedToStart:
            self._lose("it could not start" + (f" ({self._proc.errorString()})"
                                               if self._proc is not None else ""))
        # crashes and write errors end in finished(), handled there

    def _on_finished(self, code: int, status: QtCore.QProcess.ExitStatus) -> None:
        if self._gone:
            return
        self._on_ready()
        how = "it crashed" if status == QtCore.QProcess.CrashExit else f"exit code {code}"
        self._lose(f"it ended ({how})")

    def _lose(self, why: str) -> None:
        if self._gone:
            return
        self.close()
        self.lost.emit(why)


class ThreadClient(QtCore.QObject):
    """The same server loop in a thread of this process (the fall-back)."""

    message = QtCore.Signal(object)
    lost = QtCore.Signal(str)
    _wake = QtCore.Signal()

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._inbox: queue.Queue[Message] = queue.Queue()
        self._outbox: collections.deque[Message] = collections.deque()
        self._lock = threading.Lock()
        self._gone = False
        self._wake.connect(self._deliver, QtCore.Qt.QueuedConnection)
        self._thread = threading.Thread(target=self._main, name="training-thread",
                                        daemon=True)

    @property
    def backend(self) -> str:
        return "thread"

    @property
    def pid(self) -> int | None:
        return None

    @property
    def alive(self) -> bool:
        return not self._gone

    def start(self, delay_ms: int = 0) -> None:
        self._thread.start()

    def send(self, msg: Message) -> None:
        if not self._gone:
            self._inbox.put(msg)

    def close(self) -> None:
        """Ask the thread to end (it does within a chunk); never waits for it."""
        self._gone = True
        self._inbox.put({"kind": "quit"})

    def wait(self, timeout: float = 5.0) -> bool:
        """Wait for the thread to end (tests; the window never waits)."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _main(self) -> None:
        try:
            run_server(self._inbox, self._post, pause_seconds=PAUSE_SECONDS)
        except Exception as e:  # never die silently  # pragma: no cover
            self._post({"kind": "lost", "message": f"an internal error ({e})"})

    def _post(self, msg: Message) -> None:
        with self._lock:
            wake = not self._outbox
            self._outbox.append(msg)
        if wake:
            self._wake.emit()

    def _deliver(self) -> None:
        with self._lock:
            batch = list(self._outbox)
            self._outbox.clear()
        for msg in batch:
            if self._gone:
                return
            if msg.get("kind") == "lost":
                self._gone = True
                self.lost.emit(str(msg.get("message")))
                return
            self.message.emit(msg)


class ClientFactory:
    """Makes the clients of a session's runs: processes unless the user chose threads
    (``BACKPROP_LAB_TRAINING=thread``) or a process could not start here once."""

    def __init__(self, backend: str | None = None):
        if backend is None:
            backend = default_backend()
        if backend not in BACKENDS:
            raise ValueError(f"unknown training backend {backend!r}")
        self.backend = backend
        self.broken: str | None = None  # why processes cannot start here

    def create(self, parent: QtCore.QObject | None = None) -> ProcessClient | ThreadClient:
        if self.backend == "thread" or self.broken:
            return ThreadClient(parent)
        return ProcessClient(parent)

    def fallback(self, parent: QtCore.QObject | None = None) -> ThreadClient:
        return ThreadClient(parent)

    def process_failed(self, why: str) -> None:
        """A process never answered: later runs start on threads directly."""
        self.broken = why
