"""The training worker: the window's handle on a training run.

The run itself is a ``TrainingLoop`` (``training_loop``, no Qt). By default it runs in a
child process (``train_server``): training then has a core and a GIL of its own and
the window keeps drawing at full rate. The worker's QThread relays: it blocks reading the
child's updates (a blocking read releases the GIL) and stores the newest snapshot and
the history rows for the UI, which pulls them on its own clock (latest wins: nothing
queues up while the UI is busy). Commands from ``send`` go down the child's stdin.

The fallback backend ("thread", also chosen with ``BACKPROP_LAB_TRAINING=thread``) runs
the same loop in the QThread itself, in time-boxed chunks with short pauses so the UI
thread gets the GIL. If the child cannot start or dies, the worker reports it (``failed``,
so training is paused) and carries the run on in its thread from the newest state it
received, replaying the commands the child never confirmed: nothing the user did is
lost. A child that could not start (or load a run) is not tried again in this app.

A stopped worker hands its (idle) process to the next worker (the session replaces its
worker on every preset or structure change), so a new run starts without waiting for a
process to start; an idle process nobody takes within ``IDLE_LINGER_MS`` is ended, and
so is one left at exit. The app's first process starts ``FIRST_SPAWN_DELAY`` after its
worker (or at the first command), when the window has painted: the first snapshot comes
from this process, so nothing waits for it.
"""

from __future__ import annotations

import atexit
import collections
import os
import queue
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore

from ..engine.data import Dataset
from ..engine.network import Network
from ..engine.training import TrainingConfig
from .snapshot import HistoryChunk, Snapshot
from .train_server import encode, load_message, read_frame, write_all
from .training_loop import (
    PAUSE_SECONDS,
    Message,
    TrainingLoop,
    command_message,
    config_from_dict,
    optimizer_from,
)

BACKEND_ENV = "BACKPROP_LAB_TRAINING"
INTERNAL_ERROR = "an internal error in the training loop"
BACKENDS = ("process", "thread")
STOP_WAIT_MS = 2000  # how long a stopping process may take to answer before it is killed
STARTING_WAIT_MS = 30  # ... or, if it has not answered its first load yet, this long
IDLE_LINGER_MS = 5000  # how long a process that finished a run waits for the next one
#: the first process of the app starts this long after its worker (or at the first
#: command): starting it costs CPU the window needs to paint for the first time
FIRST_SPAWN_DELAY = 0.3


# -- the training process ---------------------------------------------------------------
def server_command() -> tuple[list[str], dict[str, str] | None]:
    """The command line (and environment) that starts a training server."""
    if getattr(sys, "frozen", False):  # the PyInstaller app: the same program
        exe = Path(sys.executable)
        if sys.platform == "win32" and not exe.stem.endswith("-cli"):
            # the windowed program may have no standard streams: use its console twin
            # (started without a window)
            twin = exe.with_name(f"{exe.stem}-cli{exe.suffix}")
            if twin.is_file():
                return [str(twin), "--train-server"], None
        return [str(exe), "--train-server"], None
    app_dir = str(Path(__file__).resolve().parents[2])  # works from a checkout too
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [app_dir] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return [sys.executable, "-m", "backprop_lab", "--train-server"], env


class TrainingProcess:
    """A training server process and its pipes. ``write`` is thread-safe; one thread at a
    time may ``read``."""

    def __init__(self):
        cmd, env = server_command()
        if not cmd[0]:
            raise OSError("no Python interpreter to start (sys.executable is empty)")
        extra: dict[str, Any] = {}
        if sys.platform == "win32":
            extra["creationflags"] = subprocess.CREATE_NO_WINDOW
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=None, bufsize=0, env=env, close_fds=True,
                                     **extra)
        self._write_lock = threading.Lock()
        self._closed = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def write(self, msg: Message) -> None:
        data = encode(msg)
        with self._write_lock:
            write_all(self.proc.stdin, data)

    def read(self) -> Message | None:
        """The next message; None when the process closed its end (it ended)."""
        return read_frame(self.proc.stdout)

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass

    def close(self, wait: float = 2.0) -> int | None:
        """Ask the process to quit, wait up to ``wait`` seconds, then kill it; reaped."""
        if self._closed:
            return self.proc.returncode
        self._closed = True
        try:
            self.write({"kind": "quit"})
        except (OSError, ValueError):
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        try:
            return self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self.kill()
            try:
                return self.proc.wait(5)
            except subprocess.TimeoutExpired:
                return None

    def close_soon(self) -> None:
        """``close`` without blocking the caller."""
        threading.Thread(target=self.close, name="training-process-reaper",
                         daemon=True).start()


_pool_lock = threading.Lock()
_idle: TrainingProcess | None = None  # one process that finished a run, ready for the next
_broken: str | None = None  # why processes cannot start here: use threads from then on
_spawned_any = False  # has this app started a training process yet?
_orphans: list[QtCore.QThread] = []  # threads that would not stop (never destroyed running)


def _take_idle() -> TrainingProcess | None:
    global _idle
    with _pool_lock:
        proc, _idle = _idle, None
    if proc is not None and not proc.alive():
        proc.close_soon()
        return None
    return proc


def _park(proc: TrainingProcess) -> None:
    """Keep ``proc`` for the next worker; end it unless one takes it within
    ``IDLE_LINGER_MS`` (at once without a Qt application to time it)."""
    global _idle
    with _pool_lock:
        old, _idle = _idle, proc
    if old is not None:
        old.close_soon()
    if QtCore.QCoreApplication.instance() is None:
        _discard_idle(proc)
    else:
        QtCore.QTimer.singleShot(IDLE_LINGER_MS, lambda: _discard_idle(proc))


def _discard_idle(proc: TrainingProcess) -> None:
    global _idle
    with _pool_lock:
        if _idle is not proc:
            return
        _idle = None
    proc.close_soon()


@atexit.register
def shutdown_idle_process() -> None:
    """End the idle process now (at exit, or in tests)."""
    global _idle
    with _pool_lock:
        proc, _idle = _idle, None
    if proc is not None:
        proc.close(wait=1.0)


def default_backend() -> str:
    """``process`` unless ``BACKPROP_LAB_TRAINING=thread`` or processes failed to start."""
    if os.environ.get(BACKEND_ENV, "").strip().lower() == "thread" or _broken:
        return "thread"
    return "process"


# -- the worker -----------------------------------------------------------------------------
class TrainingWorker(QtCore.QObject):
    """Runs (or relays) a training run in its own QThread (see ``start``). Public methods
    are thread-safe."""

    #: a message: training diverged or a command failed; training is paused
    failed = QtCore.Signal(str)
    #: emitted (queued) when a new snapshot is waiting; the UI may ignore it and poll
    published = QtCore.Signal()
    finished = QtCore.Signal()

    def __init__(self, net: Network, cfg: TrainingConfig, dataset: Dataset, epoch: int = 0,
                 backend: str | None = None):
        super().__init__()
        backend = backend or default_backend()
        if backend not in BACKENDS:
            raise ValueError(f"unknown training backend {backend!r}")
        self._lock = threading.Lock()  # the newest snapshot, the rows, the generation
        self._latest: Snapshot | None = None
        self._pending: list[np.ndarray] = []  # (n, 5) row blocks not taken yet
        self._generation = 0
        self._thread: QtCore.QThread | None = None
        self._dataset = dataset
        self._shape = net.copy()
        self._cfg_cache: tuple[dict, TrainingConfig] | None = None
        self._state: Message | None = None  # the newest update: where the run stands
        # commands: the backend, the process, and the commands it has not confirmed
        self._send_lock = threading.Lock()
        self._backend = backend
        self._commands: queue.Queue[Message] = queue.Queue()  # for the thread backend
        self._sent = 0
        self._log: collections.deque[tuple[int, Message]] = collections.deque()
        self._written = 0
        self._loaded = False
        self._release_sent = False
        self._stopping = False
        self._process: TrainingProcess | None = None
        self._process_clean = False  # released (or never loaded): can serve another run
        self._answered = False  # the process has sent its first update
        self._wake = threading.Event()  # a command or stop: start the first process now
        self._loop: TrainingLoop | None = TrainingLoop(net, cfg, dataset, epoch,
                                                       pause_seconds=PAUSE_SECONDS)
        self._deliver(self._loop.publish())  # the first snapshot is there at once
        if backend == "process":
            self._loop = None
            self._process = _take_idle()  # spawned in the thread if there is none

    # -- lifetime (UI thread) -----------------------------------------------------------
    @property
    def backend(self) -> str:
        """``process`` or ``thread``: where the run is trained now."""
        return self._backend

    @property
    def process_id(self) -> int | None:
        p = self._process
        return p.pid if p is not None else None

    def start(self) -> None:
        self._thread = QtCore.QThread()
        self._thread.setObjectName("training-worker")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)
        self._thread.start()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """End the run and wait for the thread (the process is ended, or kept for the next
        worker). Returns True when the thread ended."""
        with self._send_lock:
            self._stopping = True
            self._wake.set()
            if self._backend == "thread":
                self._commands.put({"kind": "quit"})
            else:
                self._send_release()
        thread = self._thread
        ok = True
        if thread is not None:
            thread.quit()
            if self._backend == "thread":
                first = timeout_ms
            elif self._answered:
                first = min(timeout_ms, STOP_WAIT_MS)
            else:  # a process still starting up is not worth waiting for: it is killed
                first = STARTING_WAIT_MS  # (the next worker starts another)
            ok = thread.wait(first)
            if not ok and self._backend == "process":
                if self._process is not None:
                    self._process.kill()  # not answering: the relay sees the end at once
                ok = thread.wait(timeout_ms)
            if not ok:
                _orphans.append(thread)
            self._thread = None
        proc, self._process = self._process, None
        if proc is not None:
            if (self._process_clean or not self._loaded) and ok and proc.alive():
                _park(proc)
            else:
                proc.close_soon()
        return ok

    @property
    def thread_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    # -- commands (any thread) ----------------------------------------------------------
    def send(self, kind: str, value: Any = None) -> None:
        msg = command_message(kind, value)
        with self._send_lock:
            if self._backend == "thread":
                self._commands.put(msg)
                return
            if kind == "quit":  # ends the run, not the process
                self._send_release()
                return
            self._sent += 1
            self._log.append((self._sent, msg))
            self._wake.set()
            if self._loaded and self._process is not None and not self._release_sent:
                self._write_backlog()

    def _send_release(self) -> None:
        """(with ``_send_lock``) Ask the process to end the run, once it has one."""
        if self._loaded and not self._release_sent and self._process is not None:
            self._release_sent = True
            try:
                self._process.write({"kind": "release"})
            except (OSError, ValueError):
                pass  # it is gone: the relay sees the end

    def _write_backlog(self) -> None:
        """(with ``_send_lock``) Write the logged commands the process has not seen."""
        for i, msg in self._log:
            if i > self._written:
                try:
                    self._process.write(msg)
                except (OSError, ValueError):
                    return  # gone: the relay notices and the log is replayed
                self._written = i

    def take(self) -> tuple[Snapshot | None, HistoryChunk | None]:
        """The newest snapshot (None if nothing new) and the losses since the last take."""
        with self._lock:
            snap, self._latest = self._latest, None
            pending, self._pending = self._pending, []
            generation = self._generation
        if not pending:
            return snap, None
        arr = pending[0] if len(pending) == 1 else np.concatenate(pending)
        ds = self._dataset
        test = ds.has_test
        cls = ds.task == "classification"
        return snap, HistoryChunk(arr[:, 0].astype(np.int64), arr[:, 1],
                                  arr[:, 2] if test else None, arr[:, 3] if cls else None,
                                  arr[:, 4] if cls and test else None, generation)

    # -- arriving updates (worker thread) -------------------------------------------------
    def _config(self, d: dict) -> TrainingConfig:
        c = self._cfg_cache
        if c is None or c[0] != d:
            c = self._cfg_cache = (d, config_from_dict(d))
        return c[1]

    def _deliver(self, msg: Message) -> None:
        """Store an update from the loop for the UI."""
        snap = Snapshot(msg["version"], msg["epoch"], msg["params"], self._config(msg["config"]),
                        msg["train_loss"], msg["test_loss"], msg["train_accuracy"],
                        msg["test_accuracy"], msg["running"], msg["rate"], msg["error"],
                        msg["applied"], msg["idle"], tuple(msg["grad_norms"]),
                        optimizer_from(msg))
        rows = msg["rows"]
        with self._lock:
            if msg["generation"] != self._generation:  # a reset: older rows are void
                self._pending.clear()
                self._generation = msg["generation"]
            if len(rows):
                self._pending.append(rows)
            self._latest = snap
        self._state = msg
        if self._log:
            with self._send_lock:  # confirmed commands need no replay
                applied = msg["applied"]
                while self._log and self._log[0][0] <= applied:
                    self._log.popleft()
        self.published.emit()

    def _on_message(self, msg: Message) -> None:
        kind = msg.get("kind")
        if kind == "update":
            self._deliver(msg)
        elif kind == "failed":
            self.failed.emit(str(msg.get("message")))

    # -- the thread ---------------------------------------------------------------------
    @QtCore.Slot()
    def _run(self) -> None:
        try:
            if self._backend == "process":
                problem = self._relay()
                if problem is None or not self._fall_back(
                        problem, quiet=problem == INTERNAL_ERROR):
                    self.finished.emit()
                    return
            self._serve_here()
        except Exception:  # never die silently in a thread
            self.failed.emit("Internal error in the training thread:\n"
                             + traceback.format_exc(limit=5))
        self.finished.emit()

    def _serve_here(self) -> None:
        """The thread backend: run the loop in this thread."""

        def receive(timeout: float) -> Message | None:
            try:
                return self._commands.get(timeout=timeout) if timeout > 0 else \
                    self._commands.get_nowait()
            except queue.Empty:
                return None

        while True:
            result = self._loop.serve(receive, self._on_message)
            # An internal error was reported (``failed``, so training is paused); a
            # fresh loop from the last state keeps Play working.
            if result.get("kind") != "error" or not self._fall_back(INTERNAL_ERROR,
                                                                     quiet=True):
                return

    def _relay(self) -> str | None:
        """The process backend: start (or reuse) a process, load the run, pass its
        updates on. Returns None when the run ended as asked, else what went wrong."""
        global _broken, _spawned_any
        proc = self._process
        spawned = proc is None
        if proc is None:
            if not _spawned_any:
                self._wake.wait(FIRST_SPAWN_DELAY)
            _spawned_any = True
            with self._send_lock:
                if self._stopping:
                    return None
            try:
                proc = TrainingProcess()
            except (OSError, ValueError, subprocess.SubprocessError) as e:
                _broken = f"it could not start ({e})"
                return _broken
            with self._send_lock:
                self._process = proc
                if self._stopping:
                    self._process_clean = True
                    return None
        state = self._state
        load = load_message(self._shape, self._config(state["config"]), self._dataset,
                            state["epoch"], params=state["params"],
                            generation=state["generation"], version=state["version"],
                            applied=state["applied"], running=state["running"],
                            budget=state["budget"], speed=state["speed"], record_start=False)
        try:
            proc.write(load)  # outside the lock: a large data set may take a moment
        except (OSError, ValueError):
            pass  # the read below finds the end
        with self._send_lock:
            self._loaded = True
            self._write_backlog()
            if self._stopping:
                self._send_release()
        while True:
            try:
                msg = proc.read()
            except (OSError, ValueError) as e:  # ProtocolError is a ValueError
                proc.kill()
                return f"its messages could not be read ({e})"
            if msg is None:
                break
            kind = msg.get("kind")
            if kind == "update":
                self._answered = True
                self._deliver(msg)
            elif kind == "failed":
                self.failed.emit(str(msg.get("message")))
            elif kind == "released":
                self._process_clean = True
                return None
            elif kind == "ended":  # an internal error, reported: the run is over
                return INTERNAL_ERROR
        with self._send_lock:
            if self._stopping:
                return None
        try:
            code = proc.proc.wait(1.0)
        except subprocess.TimeoutExpired:
            code = None
        why = f"exit code {code}" if code is not None else "it closed its output"
        if not self._answered:
            why = f"it ended before it answered ({why})"
            if spawned:  # a new process that cannot even load a run: do not try again
                _broken = why
        return why

    def _fall_back(self, problem: str, quiet: bool = False) -> bool:
        """Carry the run on in this thread from the newest state received, after the
        commands the process never confirmed. False if the worker is stopping. ``quiet``:
        the problem was reported already."""
        with self._send_lock:
            if self._stopping:
                return False
            state = self._state
            net = self._shape.copy()
            net.params[:] = state["params"]
            loop = TrainingLoop(net, self._config(state["config"]), self._dataset,
                                state["epoch"], generation=state["generation"],
                                version=state["version"], applied=state["applied"],
                                speed=state["speed"], record_start=False,
                                pause_seconds=PAUSE_SECONDS)
            errors = loop.catch_up([m for i, m in self._log if i > state["applied"]])
            self._log.clear()
            self._backend = "thread"
            self._loop = loop
            proc, self._process = self._process, None
        if proc is not None:
            proc.close_soon()
        self._deliver(loop.publish())
        if not quiet:
            self.failed.emit(f"The training process stopped unexpectedly: {problem}. "
                             "Training is paused and goes on in the window's own thread "
                             "(slower) when you press Play; the weights are those it last "
                             "reported.")
        for e in errors:
            self.failed.emit(e)
        return True
