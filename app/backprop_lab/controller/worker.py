"""The training thread: time-boxed chunks of epochs, snapshots out, commands in.

The worker owns its own ``Network`` and ``Trainer``; nothing it mutates is read by the
UI thread. Commands arrive through a ``queue.Queue`` and are applied between epochs.
After every chunk it stores the newest ``Snapshot`` and the per-epoch losses produced
since the UI last took them; the UI pulls both on its own clock (latest wins: nothing
queues up while the UI is busy). Errors come back as a signal, never die in the thread.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6 import QtCore

from ..engine import losses
from ..engine.data import Dataset
from ..engine.network import Network
from ..engine.training import Divergence, Trainer, TrainingConfig, accuracy_of
from .snapshot import HistoryChunk, Snapshot

CHUNK_SECONDS = 0.008  # train this long, then publish and
PAUSE_SECONDS = 0.002  # sleep this long so the UI thread gets the GIL
IDLE_WAIT = 0.05
PUBLISH_SECONDS = 0.008  # while training, at most one snapshot a chunk (~100 a second)


@dataclass(frozen=True)
class Command:
    kind: str
    value: Any = None


class TrainingWorker(QtCore.QObject):
    """Runs in its own QThread (see ``start``). Public methods are thread-safe."""

    #: a message: training diverged or a command failed; training is paused
    failed = QtCore.Signal(str)
    #: emitted (queued) when a new snapshot is waiting; the UI may ignore it and poll
    published = QtCore.Signal()
    finished = QtCore.Signal()

    def __init__(self, net: Network, cfg: TrainingConfig, dataset: Dataset, epoch: int = 0):
        super().__init__()
        self._commands: queue.Queue[Command] = queue.Queue()
        self._lock = threading.Lock()
        self._latest: Snapshot | None = None
        # per epoch: (epoch, train loss, test loss, train accuracy, test accuracy)
        self._pending: list[tuple[int, float, float, float, float]] = []
        self._version = 0
        self._thread: QtCore.QThread | None = None
        # state owned by the worker thread once started
        self._net = net.copy()
        self._dataset = dataset
        self._trainer = Trainer(self._net, cfg, dataset.x_train, dataset.y_train)
        self._trainer.epoch = epoch
        self._running = False
        self._budget = 0  # epochs still to run while paused (Step)
        self._speed: float | None = None  # epochs per second, None = full speed
        self._rate = 0.0
        self._quit = False
        self._applied = 0
        self._generation = 0
        self._last_row = None
        self._row_fresh = False
        self._last_publish = 0.0
        self._record_start()
        self._publish()

    # -- lifetime (UI thread) -----------------------------------------------------------
    def start(self) -> None:
        self._thread = QtCore.QThread()
        self._thread.setObjectName("training-worker")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._loop)
        self._thread.start()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Ask the loop to end and wait for the thread. Returns True when it ended."""
        self._commands.put(Command("quit"))
        if self._thread is None:
            return True
        self._thread.quit()
        ok = self._thread.wait(timeout_ms)
        self._thread = None
        return ok

    @property
    def thread_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    # -- commands (any thread) ----------------------------------------------------------
    def send(self, kind: str, value: Any = None) -> None:
        self._commands.put(Command(kind, value))

    def take(self) -> tuple[Snapshot | None, HistoryChunk | None]:
        """The newest snapshot (None if nothing new) and the losses since the last take."""
        with self._lock:
            snap, self._latest = self._latest, None
            pending, self._pending = self._pending, []
            generation = self._generation
        if not pending:
            return snap, None
        arr = np.array(pending)
        ds = self._dataset
        test = ds.has_test
        cls = ds.task == "classification"
        return snap, HistoryChunk(arr[:, 0].astype(np.int64), arr[:, 1],
                                  arr[:, 2] if test else None, arr[:, 3] if cls else None,
                                  arr[:, 4] if cls and test else None, generation)

    # -- the loop (worker thread) -------------------------------------------------------
    @QtCore.Slot()
    def _loop(self) -> None:
        try:
            # Divergence is detected and reported by the trainer; numpy's overflow
            # warnings on the way there would only be noise on the console.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._run()
        except Exception:  # never die silently in a thread
            self._running = False
            self.failed.emit("Internal error in the training thread:\n"
                             + traceback.format_exc(limit=5))
            self._publish()
        self.finished.emit()

    def _run(self) -> None:
        t_rate, n_rate = time.perf_counter(), 0
        speed_t0, speed_done = time.perf_counter(), 0
        while not self._quit:
            busy = self._running or self._budget > 0
            self._drain(block=not busy)
            if self._quit:
                break
            if not (self._running or self._budget > 0):
                speed_t0, speed_done = time.perf_counter(), 0
                t_rate, n_rate = time.perf_counter(), 0
                self._rate = 0.0
                continue
            start = time.perf_counter()
            allowed = math.inf
            if self._running and self._speed is not None:
                allowed = int((start - speed_t0) * self._speed) - speed_done
                if allowed <= 0:
                    time.sleep(min(0.02, (speed_done + 1) / self._speed - (start - speed_t0)))
                    continue
            if self._budget > 0:
                allowed = min(allowed, self._budget)
            done = self._chunk(allowed, start + CHUNK_SECONDS)
            speed_done += done
            n_rate += done
            now = time.perf_counter()
            if now - t_rate >= 0.5:
                self._rate = n_rate / (now - t_rate)
                t_rate, n_rate = now, 0
            if self._running and self._speed is None and self._rate == 0.0 and n_rate:
                self._rate = n_rate / max(now - t_rate, 1e-9)
            if not (self._running or self._budget > 0) or \
                    now - self._last_publish >= PUBLISH_SECONDS:
                self._publish()
            time.sleep(PAUSE_SECONDS)

    def _chunk(self, allowed: float, deadline: float) -> int:
        tr = self._trainer
        done = 0
        pending = []
        try:
            while done < allowed:
                loss = tr.run_epoch()
                pending.append(self._measure(loss))
                done += 1
                if self._budget > 0:
                    self._budget -= 1
                if time.perf_counter() >= deadline:
                    break
        except Divergence as e:
            self._running = False
            self._budget = 0
            with self._lock:
                self._pending.extend(pending)
            self._publish(error=str(e))
            self.failed.emit(str(e))
            return done
        with self._lock:
            self._pending.extend(pending)
        return done

    def _measure(self, train_loss: float) -> tuple[int, float, float, float, float]:
        """The history row of the current weights: epoch, losses and accuracies."""
        tr, ds = self._trainer, self._dataset
        cls = ds.task == "classification"
        test_loss = test_acc = train_acc = math.nan
        if cls:
            train_acc = accuracy_of(tr.train_outputs(), ds.y_train)
        if ds.has_test:
            c = self._net.forward(ds.x_test)
            test_loss = losses.mean(tr.cfg.loss, c.a[-1], c.z[-1], ds.y_test)
            if cls:
                test_acc = accuracy_of(c.z[-1], ds.y_test)
        row = (tr.epoch, train_loss, test_loss, train_acc, test_acc)
        self._last_row, self._row_fresh = row, True
        return row

    def _record_start(self) -> None:
        """The run's first row: the loss before this worker trained (epoch 0 at the start
        or after a reset), so the curve starts where training starts."""
        row = self._measure(self._trainer.train_loss())
        with self._lock:
            self._pending.append(row)

    def _drain(self, block: bool) -> None:
        try:
            cmd = self._commands.get(timeout=IDLE_WAIT) if block else self._commands.get_nowait()
        except queue.Empty:
            return
        changed = False
        while True:
            self._applied += 1
            try:
                changed |= self._apply(cmd)
            except (ValueError, IndexError) as e:
                self._running = False
                self.failed.emit(str(e))
                changed = True
            try:
                cmd = self._commands.get_nowait()
            except queue.Empty:
                break
        if changed:
            self._publish()

    def _apply(self, cmd: Command) -> bool:
        """Apply one command; True if the state others see changed."""
        self._row_fresh = False
        tr = self._trainer
        k, v = cmd.kind, cmd.value
        if k == "quit":
            self._quit = True
            self._running = False
            return False
        if k == "play":
            self._running = True
        elif k == "pause":
            self._running = False
            self._budget = 0
        elif k == "step":
            self._budget += int(v)
        elif k == "speed":
            self._speed = v
        elif k == "config":
            tr.set_config(v)
        elif k == "set_weight":
            ref, value = v
            if ref.is_bias:
                self._net.biases[ref.layer][ref.target] = value
            else:
                self._net.weights[ref.layer][ref.target, ref.source] = value
            tr.params_changed()
        elif k == "set_params":
            params, epoch = v
            self._net.params[:] = params
            tr.params_changed()
            if epoch is not None:
                tr.epoch = epoch
        elif k == "reset":
            params, generation = v
            self._net.params[:] = params
            tr.reset_state()
            self._running = False
            self._budget = 0
            with self._lock:  # rows of the old run never leave with the new label
                self._pending.clear()
                self._generation = generation
            self._record_start()
        else:
            raise ValueError(f"unknown command {k!r}")
        return True

    def _publish(self, error: str | None = None) -> None:
        """Store the newest snapshot for the UI (it takes it on its own clock)."""
        tr, ds = self._trainer, self._dataset
        row = self._last_row
        if row is None or row[0] != tr.epoch or not self._row_fresh:
            row = self._measure(tr.train_loss())
        _, train_loss, test_loss, train_acc, test_acc = row
        cls = ds.task == "classification"
        grad = tr.full_gradient()
        gw, gb = self._net.views(grad)
        norms = tuple(float(np.sqrt(np.vdot(w, w) + np.vdot(b, b))) for w, b in zip(gw, gb))
        self._version += 1
        snap = Snapshot(self._version, tr.epoch, self._net.params.copy(), tr.cfg, train_loss,
                        test_loss if ds.has_test else None, train_acc if cls else None,
                        test_acc if cls and ds.has_test else None, self._running,
                        self._rate if self._running else 0.0, error, self._applied,
                        not self._running and self._budget == 0, norms)
        self._last_publish = time.perf_counter()
        with self._lock:
            self._latest = snap
        self.published.emit()
