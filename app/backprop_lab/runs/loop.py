"""The training loop without Qt: time-boxed chunks of epochs, commands in, updates out.

``TrainingLoop`` owns its ``Network``, ``Trainer`` and ``Dataset``; nothing it mutates is
shared. ``serve(receive, send)`` runs it: ``receive(timeout)`` returns the next message
(a command in its wire form, see ``runs.state``) or None, and ``send(message)`` delivers
what the loop produces. The same loop runs in the training process (``runs.server``,
messages cross a pipe) or, as the fall-back, in a thread of the window's process.

Messages out (dicts with a ``kind``):

``update``  a snapshot (the ``RunState`` and what was measured at it) and the history
            rows produced since the last update (``rows``: an (n, 5) array of epoch,
            train loss, test loss, train accuracy, test accuracy; NaN where not measured).
            Rows only leave with an update, so the newest update covers every row sent.
``failed``  a message for the user (divergence, a bad command); training is paused.

A command that replaces the state (``Reset``, ``Load``) drops the rows not sent yet; the
receiver drops rows of updates that do not acknowledge it.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable

import numpy as np

from ..engine.data import Dataset
from ..engine.network import Network
from ..engine.training import Divergence, Trainer, measure
from .state import (
    CONTROL_KINDS,
    MARK_FIELDS,
    BadCommand,
    Command,
    Load,
    Message,
    Pause,
    Play,
    Reset,
    RunState,
    SetConfig,
    SetSpeed,
    SetState,
    SetWeight,
    Snapshot,
    Step,
    decode_command,
    update_message,
)

CHUNK_SECONDS = 0.008  # train this long, then publish and
PAUSE_SECONDS = 0.002  # (in a thread) sleep this long so the UI thread gets the GIL
IDLE_WAIT = 0.05
PUBLISH_SECONDS = 0.008  # while training, at most one update a chunk (~100 a second)


class ChannelClosed(Exception):
    """``send`` raises this when nobody listens any more (the parent process is gone)."""


class TrainingLoop:
    """The state of one training run and the loop that advances it."""

    def __init__(self, network: Network, dataset: Dataset, state: RunState, *,
                 record_start: bool = True, pause_seconds: float = PAUSE_SECONDS):
        self._pause = pause_seconds
        self._version = 0
        self._send: Callable[[Message], None] | None = None
        self._end: Message | None = None
        self._install(network, dataset, state, record_start)

    def _install(self, network: Network, dataset: Dataset, state: RunState,
                 record_start: bool) -> None:
        net = network.copy()
        net.params[:] = state.params
        tr = Trainer(net, state.config, dataset.x_train, dataset.y_train)
        tr.epoch = int(state.epoch)
        tr.updates = int(state.updates)
        if state.optimizer.kind == state.config.optimizer:
            tr.opt = state.optimizer.copy()
        if state.rng is not None:
            tr.rng_state = state.rng
        self._net, self._dataset, self._trainer = net, dataset, tr
        self._running = bool(state.running)
        self._budget = int(state.budget)  # epochs still to run while paused (Step)
        self._speed = state.speed  # epochs per second, None = full speed
        self._applied = int(state.applied)
        self._rate = 0.0
        self._marks = np.array(state.marks, dtype=np.float64).reshape(-1, len(MARK_FIELDS))
        self._rows: list[tuple] = []  # not sent yet
        self._last_row: tuple | None = None
        self._row_fresh = False
        self._last_publish = 0.0
        if record_start:
            self._rows.append(self._measure())

    # -- reading ------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return self._trainer.epoch

    def state(self) -> RunState:
        """Where the run stands now (copies)."""
        tr = self._trainer
        return RunState(self._net.params.copy(), tr.cfg, tr.opt.copy(), tr.epoch, tr.updates,
                        tr.rng_state, self._running, self._budget, self._speed, self._applied,
                        self._marks.copy())

    # -- running ------------------------------------------------------------------------
    def serve(self, receive: Callable[[float], Message | None],
              send: Callable[[Message], None]) -> Message:
        """Train and apply commands until a control message (quit, release, eof) arrives;
        return it.

        Errors never end the loop silently: a bad command is reported (``failed``) and the
        loop goes on; anything else is reported with its traceback and ends the loop
        (returns ``{"kind": "error"}``). ``ChannelClosed`` from ``send`` is passed on.
        """
        self._send = send
        self._receive = receive
        self._end = None
        try:
            # Divergence is detected and reported by the trainer; numpy's overflow
            # warnings on the way there would only be noise on the console.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._run()
        except ChannelClosed:
            raise
        except Exception:  # never die silently
            self._running = False
            self._budget = 0
            text = "Internal error in the training loop:\n" + traceback.format_exc(limit=5)
            try:
                self.publish()
            except ChannelClosed:
                raise
            except Exception:  # the report below matters more
                pass
            send({"kind": "failed", "message": text})
            return {"kind": "error", "message": text}
        finally:
            self._send = None
        return self._end

    def _busy(self) -> bool:
        return self._running or self._budget > 0

    def _run(self) -> None:
        t_rate, n_rate = time.perf_counter(), 0
        speed_t0, speed_done = time.perf_counter(), 0
        while True:
            self._drain(block=not self._busy())
            if self._end is not None:
                return
            if not self._busy():
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
            if not self._busy() or now - self._last_publish >= PUBLISH_SECONDS:
                self.publish()
            if self._pause > 0:
                time.sleep(self._pause)

    def _chunk(self, allowed: float, deadline: float) -> int:
        tr = self._trainer
        done = 0
        try:
            while done < allowed:
                loss = tr.run_epoch()
                self._rows.append(self._measure(loss))
                done += 1
                if self._budget > 0:
                    self._budget -= 1
                if time.perf_counter() >= deadline:
                    break
        except Divergence as e:
            self._running = False
            self._budget = 0
            self.publish(error=str(e))
            self._send({"kind": "failed", "message": str(e)})
        return done

    def run_epochs(self, n: int, norms: list | None = None) -> str | None:
        """Train ``n`` epochs here and now (a lesson's replay); the rows wait for the next
        update. With ``norms`` (a list), each epoch's gradient norms are appended to it as
        ``(epoch, norms)``, as the window records them while training. Returns the
        problem if training diverged on the way (it stops there)."""
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for _ in range(int(n)):
                    self._rows.append(self._measure(self._trainer.run_epoch()))
                    if norms is not None:
                        norms.append((self._trainer.epoch, self.grad_norms()))
        except Divergence as e:
            return str(e)
        return None

    def grad_norms(self) -> tuple[float, ...]:
        """The Euclidean norm of the full-batch gradient of each weight layer (weights
        and bias weights into layer l+1), at the current weights."""
        grad = self._trainer.full_gradient()
        gw, gb = self._net.views(grad)
        return tuple(float(np.sqrt(np.vdot(w, w) + np.vdot(b, b))) for w, b in zip(gw, gb))

    def take_rows(self) -> np.ndarray:
        """The rows produced since the last update or take, as an (n, 5) array."""
        rows = np.array(self._rows, dtype=np.float64).reshape(-1, 5)
        self._rows = []
        return rows

    def _measure(self, train_loss: float | None = None) -> tuple:
        """The history row of the current weights (see ``engine.training.ROW_FIELDS``)."""
        row = measure(self._trainer, self._dataset, train_loss)
        self._last_row, self._row_fresh = row, True
        return row

    # -- commands -----------------------------------------------------------------------
    def _drain(self, block: bool) -> None:
        msg = self._receive(IDLE_WAIT if block else 0.0)
        changed = False
        while msg is not None:
            if msg.get("kind") in CONTROL_KINDS:
                self._end = msg
                self._running = False
                break
            try:
                cmd, seq = decode_command(msg)
            except BadCommand as e:
                self._fail(str(e), msg.get("seq"))
                changed = True
            else:
                try:
                    self.apply(cmd, seq)
                except (ValueError, IndexError, KeyError, TypeError) as e:
                    self._fail(str(e), seq)
                changed = True
            msg = self._receive(0.0)
        if changed:
            self.publish()

    def _add_mark(self) -> None:
        """Mark the update just taken by hand: the losses after it, placed within its
        epoch by the share of the epoch's updates taken so far."""
        tr = self._trainer
        per_epoch = len(tr.next_batches())
        since = int(np.sum(self._marks[:, 0] >= tr.epoch)) + 1 if len(self._marks) else 1
        position = tr.epoch + min(0.95, since / (per_epoch + 1))
        _, train_loss, test_loss, _, _ = self._measure()
        self._marks = np.vstack([self._marks, [[position, tr.updates, train_loss, test_loss]]])

    def _fail(self, message: str, seq) -> None:
        self._running = False
        self._budget = 0
        if isinstance(seq, int):
            self._applied = max(self._applied, seq)  # answered, though refused
        self._send({"kind": "failed", "message": message})

    def apply(self, cmd: Command, seq: int) -> None:
        """Apply one command and acknowledge ``seq``. Raises ``ValueError`` (or
        ``IndexError``) for a command that cannot be applied; nothing changed then."""
        tr = self._trainer
        self._row_fresh = False  # the weights or the loss may change: measure again
        if isinstance(cmd, Play):
            self._running = True
        elif isinstance(cmd, Pause):
            self._running = False
            self._budget = 0
        elif isinstance(cmd, Step):
            self._budget += int(cmd.epochs)
        elif isinstance(cmd, SetSpeed):
            self._speed = cmd.value
        elif isinstance(cmd, SetConfig):
            tr.set_config(cmd.config)
        elif isinstance(cmd, SetWeight):
            if cmd.source < 0:
                self._net.biases[cmd.layer][cmd.target] = cmd.value
            else:
                self._net.weights[cmd.layer][cmd.target, cmd.source] = cmd.value
            tr.params_changed()
        elif isinstance(cmd, SetState):
            params = np.asarray(cmd.params, dtype=np.float64)
            if params.shape != self._net.params.shape:
                raise ValueError("the weights do not fit this network")
            self._net.params[:] = params
            tr.params_changed()
            if cmd.epoch is not None:
                tr.epoch = int(cmd.epoch)
            if cmd.updates is not None:
                tr.updates = int(cmd.updates)
            if cmd.optimizer is not None and cmd.optimizer.kind == tr.cfg.optimizer:
                tr.opt = cmd.optimizer.copy()  # a step taken by hand moves the optimiser too
            self._running = False
            self._budget = 0
            self._marks = self._marks[self._marks[:, 1] <= tr.updates]
            if cmd.mark:
                self._add_mark()
        elif isinstance(cmd, Reset):
            params = np.asarray(cmd.params, dtype=np.float64)
            if params.shape != self._net.params.shape:
                raise ValueError("the weights do not fit this network")
            self._net.params[:] = params
            tr.reset_state()
            self._running = False
            self._budget = 0
            self._marks = self._marks[:0]
            self._rows.clear()  # rows of the old run never leave after the reset
            if cmd.record_start:
                self._rows.append(self._measure())
        elif isinstance(cmd, Load):
            # rows not sent yet belong to a state the sender did not know: dropped
            self._install(cmd.network, cmd.dataset, cmd.state, cmd.record_start)
        else:  # pragma: no cover - decode_command makes only the types above
            raise ValueError(f"unknown command {cmd!r}")
        self._applied = int(seq)

    # -- out ------------------------------------------------------------------------------
    def snapshot(self, error: str | None = None) -> Snapshot:
        """The newest state and its measurements (a new version)."""
        tr = self._trainer
        row = self._last_row
        if row is None or row[0] != tr.epoch or not self._row_fresh:
            row = self._measure()
        _, train_loss, test_loss, train_acc, test_acc = row
        ds = self._dataset
        cls = ds.task == "classification"
        norms = self.grad_norms()
        self._version += 1
        return Snapshot(self.state(), float(train_loss),
                        float(test_loss) if ds.has_test else None,
                        float(train_acc) if cls else None,
                        float(test_acc) if cls and ds.has_test else None,
                        norms, self._rate if self._running else 0.0, error, self._version)

    def publish(self, error: str | None = None) -> Message:
        """Send (and return) an update with the newest state and the unsent rows."""
        msg = update_message(self.snapshot(error), self.take_rows())
        self._last_publish = time.perf_counter()
        if self._send is not None:
            self._send(msg)
        return msg
