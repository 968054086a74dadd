"""The training loop without Qt: time-boxed chunks of epochs, commands in, updates out.

``TrainingLoop`` owns its own ``Network``, ``Trainer`` and ``Dataset``; nothing it mutates
is shared. ``serve(receive, send)`` runs it: ``receive(timeout)`` returns the next command
(a dict, see ``command_message``) or None, and ``send(message)`` delivers what the loop
produces. The same loop runs in a child process (``train_server``, messages cross a pipe)
or in the window's training thread (``worker``, messages are handed over directly).

Messages out (dicts with a ``kind``):

``update``  the newest state: everything a ``Snapshot`` holds (params, epoch, losses,
            accuracies, config as a dict, running, rate, error, applied, idle,
            grad_norms), the history rows produced since the last update (``rows``: an
            (n, 5) array of epoch, train loss, test loss, train accuracy, test accuracy;
            NaN where not measured), the run's ``generation`` and what it takes to carry
            the run on elsewhere (``budget``, ``speed``).
``failed``  a message for the user (divergence, a bad command); training is paused.

Rows are only sent together with an update, so the newest update always covers every
row received so far. A reset starts a new generation: rows of the old one that were not
sent yet are dropped, and the receiver drops the ones it still holds when it sees an
update with a new generation.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from ..engine import losses, optimizers
from ..engine.data import Dataset
from ..engine.network import Network
from ..engine.training import Divergence, Trainer, TrainingConfig, accuracy_of

CHUNK_SECONDS = 0.008  # train this long, then publish and
PAUSE_SECONDS = 0.002  # (in a thread) sleep this long so the UI thread gets the GIL
IDLE_WAIT = 0.05
PUBLISH_SECONDS = 0.008  # while training, at most one update a chunk (~100 a second)

#: commands that end ``serve`` (handed back to the caller): the server's own business
STOP_KINDS = frozenset({"quit", "load", "release", "eof"})

Message = dict[str, Any]


class ChannelClosed(Exception):
    """``send`` raises this when nobody listens any more (the parent process is gone)."""


def command_message(kind: str, value: Any = None) -> Message:
    """The wire form of a worker command (plain values, arrays and dicts only)."""
    try:
        if kind in ("play", "pause", "quit"):
            return {"kind": kind}
        if kind == "step":
            return {"kind": kind, "n": int(value)}
        if kind == "speed":
            return {"kind": kind, "value": None if value is None else float(value)}
        if kind == "config":
            return {"kind": kind, "config": config_to_dict(value)}
        if kind == "set_weight":
            ref, v = value
            return {"kind": kind, "layer": int(ref.layer), "target": int(ref.target),
                    "source": int(ref.source), "value": float(v)}
        if kind == "set_params":
            params, epoch, *rest = value
            msg = {"kind": kind, "params": np.array(params, dtype=np.float64),
                   "epoch": None if epoch is None else int(epoch)}
            if rest and rest[0] is not None:
                msg.update(optimizer_fields(rest[0]))
            return msg
        if kind == "reset":
            params, generation = value
            return {"kind": kind, "params": np.array(params, dtype=np.float64),
                    "generation": int(generation)}
    except (TypeError, ValueError, AttributeError) as e:
        return {"kind": kind, "invalid": f"bad value for {kind!r}: {e}"}
    return {"kind": kind}


def optimizer_fields(state: optimizers.OptimizerState) -> Message:
    """An optimiser's state as message fields (``opt_m``/``opt_v`` arrays when it has them)."""
    msg: Message = {"opt_kind": state.kind, "opt_step": int(state.step)}
    if state.m is not None:
        msg["opt_m"] = state.m.copy()
    if state.v is not None:
        msg["opt_v"] = state.v.copy()
    return msg


def optimizer_from(msg: Message) -> optimizers.OptimizerState | None:
    """The optimiser state in a message, if it has one."""
    if msg.get("opt_kind") is None:
        return None
    return optimizers.OptimizerState(msg["opt_kind"], int(msg["opt_step"]),
                                     msg.get("opt_m"), msg.get("opt_v"))


def config_to_dict(cfg: TrainingConfig) -> dict:
    d = asdict(cfg)
    for k, v in d.items():  # numpy scalars from the UI become plain numbers
        if isinstance(v, np.generic):
            d[k] = v.item()
    return d


def config_from_dict(d: dict) -> TrainingConfig:
    return TrainingConfig(**d)


class TrainingLoop:
    """The state of one training run and the loop that advances it.

    ``epoch``, ``generation``, ``version``, ``applied``, ``running``, ``budget`` and
    ``speed`` let a run continue where another loop left it (``record_start=False``:
    its first history row was recorded already).
    """

    def __init__(self, net: Network, cfg: TrainingConfig, dataset: Dataset, epoch: int = 0, *,
                 generation: int = 0, version: int = 0, applied: int = 0,
                 running: bool = False, budget: int = 0, speed: float | None = None,
                 record_start: bool = True, pause_seconds: float = PAUSE_SECONDS):
        self._net = net.copy()
        self._dataset = dataset
        self._trainer = Trainer(self._net, cfg, dataset.x_train, dataset.y_train)
        self._trainer.epoch = int(epoch)
        self._pause = pause_seconds
        self._running = bool(running)
        self._budget = int(budget)  # epochs still to run while paused (Step)
        self._speed = speed  # epochs per second, None = full speed
        self._rate = 0.0
        self._applied = int(applied)
        self._generation = int(generation)
        self._version = int(version)
        self._rows: list[tuple[int, float, float, float, float]] = []  # not sent yet
        self._last_row = None
        self._row_fresh = False
        self._last_publish = 0.0
        self._cfg_dict: tuple[TrainingConfig, dict] | None = None
        self._send: Callable[[Message], None] | None = None
        self._end: Message | None = None
        if record_start:
            self._record_start()

    @property
    def epoch(self) -> int:
        return self._trainer.epoch

    # -- running ------------------------------------------------------------------------
    def serve(self, receive: Callable[[float], Message | None],
              send: Callable[[Message], None]) -> Message:
        """Train and apply commands until a command of ``STOP_KINDS`` arrives; return it.

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

    def _run(self) -> None:
        t_rate, n_rate = time.perf_counter(), 0
        speed_t0, speed_done = time.perf_counter(), 0
        while True:
            busy = self._running or self._budget > 0
            self._drain(block=not busy)
            if self._end is not None:
                return
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
        """The run's first row: the loss before this loop trained (epoch 0 at the start
        or after a reset), so the curve starts where training starts."""
        self._rows.append(self._measure(self._trainer.train_loss()))

    # -- commands -----------------------------------------------------------------------
    def _drain(self, block: bool) -> None:
        cmd = self._receive(IDLE_WAIT if block else 0.0)
        changed = False
        while cmd is not None:
            if cmd.get("kind") in STOP_KINDS:
                self._end = cmd
                self._running = False
                break
            self._applied += 1
            try:
                changed |= self.apply(cmd)
            except (ValueError, IndexError, KeyError, TypeError) as e:
                self._running = False
                self._send({"kind": "failed", "message": str(e)})
                changed = True
            cmd = self._receive(0.0)
        if changed:
            self.publish()

    def apply(self, cmd: Message) -> bool:
        """Apply one command (see ``command_message``); True if the state others see
        changed. Raises ``ValueError`` (or ``IndexError``) for a bad one."""
        self._row_fresh = False
        tr = self._trainer
        k = cmd["kind"]
        if "invalid" in cmd:
            raise ValueError(cmd["invalid"])
        if k == "play":
            self._running = True
        elif k == "pause":
            self._running = False
            self._budget = 0
        elif k == "step":
            self._budget += int(cmd["n"])
        elif k == "speed":
            self._speed = cmd["value"]
        elif k == "config":
            tr.set_config(config_from_dict(cmd["config"]))
        elif k == "set_weight":
            layer, target, source = cmd["layer"], cmd["target"], cmd["source"]
            if source < 0:
                self._net.biases[layer][target] = cmd["value"]
            else:
                self._net.weights[layer][target, source] = cmd["value"]
            tr.params_changed()
        elif k == "set_params":
            self._net.params[:] = cmd["params"]
            tr.params_changed()
            if cmd["epoch"] is not None:
                tr.epoch = cmd["epoch"]
            state = optimizer_from(cmd)
            if state is not None and state.kind == tr.cfg.optimizer:
                tr.opt = state.copy()  # a step taken by hand moves the optimiser too
        elif k == "reset":
            self._net.params[:] = cmd["params"]
            tr.reset_state()
            self._running = False
            self._budget = 0
            self._rows.clear()  # rows of the old run never leave with the new label
            self._generation = cmd["generation"]
            self._record_start()
        else:
            raise ValueError(f"unknown command {k!r}")
        return True

    def catch_up(self, commands: list[Message]) -> list[str]:
        """Apply commands that were sent to another loop but never confirmed, then pause:
        whoever carries the run on after a failure tells the user that training stopped.
        Returns the messages of commands that failed."""
        errors = []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for cmd in commands:
                if cmd.get("kind") in STOP_KINDS:
                    continue
                self._applied += 1
                try:
                    self.apply(cmd)
                except (ValueError, IndexError, KeyError, TypeError) as e:
                    errors.append(str(e))
        self._running = False
        self._budget = 0
        return errors

    # -- out ------------------------------------------------------------------------------
    def publish(self, error: str | None = None) -> Message:
        """Send (and return) an update with the newest state and the unsent rows."""
        tr, ds = self._trainer, self._dataset
        row = self._last_row
        if row is None or row[0] != tr.epoch or not self._row_fresh:
            row = self._measure(tr.train_loss())
        _, train_loss, test_loss, train_acc, test_acc = row
        cls = ds.task == "classification"
        grad = tr.full_gradient()
        gw, gb = self._net.views(grad)
        norms = [float(np.sqrt(np.vdot(w, w) + np.vdot(b, b))) for w, b in zip(gw, gb)]
        if self._cfg_dict is None or self._cfg_dict[0] is not tr.cfg:
            self._cfg_dict = (tr.cfg, config_to_dict(tr.cfg))
        self._version += 1
        rows = np.array(self._rows, dtype=np.float64).reshape(-1, 5)
        self._rows = []
        msg = {
            "kind": "update", "version": self._version, "epoch": tr.epoch,
            "params": self._net.params.copy(), "config": dict(self._cfg_dict[1]),
            "train_loss": float(train_loss),
            "test_loss": float(test_loss) if ds.has_test else None,
            "train_accuracy": float(train_acc) if cls else None,
            "test_accuracy": float(test_acc) if cls and ds.has_test else None,
            "running": self._running, "rate": self._rate if self._running else 0.0,
            "error": error, "applied": self._applied,
            "idle": not self._running and self._budget == 0, "grad_norms": norms,
            "rows": rows, "generation": self._generation, "budget": self._budget,
            "speed": self._speed,
            **optimizer_fields(tr.opt),
        }
        self._last_publish = time.perf_counter()
        if self._send is not None:
            self._send(msg)
        return msg
