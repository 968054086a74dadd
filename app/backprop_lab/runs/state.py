"""Typed commands, the state of a run, snapshots, and their wire form. No Qt.

A run is driven by commands (``Play``, ``Step``, ``SetConfig`` ...). Every command sent
gets a sequence number; the loop that applies it reports the number of the last command
it applied (``RunState.applied``) in every update, so the sender knows which of its
commands a snapshot already reflects ("state follows acknowledgements").

``RunState`` is everything it takes to carry a run on elsewhere, bit for bit: weights,
optimiser state, epoch, update count, the shuffle generator's state and the loop's own
controls. The same value is published by the loop, loaded into a loop (a new network,
a lesson step, a fall-back after the training process died) and kept by the window.

Messages are plain dicts whose top-level NumPy arrays travel as raw float64 (see
``runs.wire``): ``encode_command``/``decode_command`` and ``update_message``/
``decode_update`` convert between the typed values and that form.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from ..engine.data import Dataset
from ..engine.network import Network
from ..engine.optimizers import OptimizerState
from ..engine.training import TrainingConfig

Message = dict[str, Any]


# -- configuration on the wire ---------------------------------------------------------------
def config_to_dict(cfg: TrainingConfig) -> dict:
    d = asdict(cfg)
    for k, v in d.items():  # numpy scalars from the UI become plain numbers
        if isinstance(v, np.generic):
            d[k] = v.item()
    return d


def config_from_dict(d: dict) -> TrainingConfig:
    return TrainingConfig(**d)


def optimizer_fields(state: OptimizerState, prefix: str = "opt_") -> Message:
    """An optimiser's state as message fields (``m``/``v`` arrays when it has them)."""
    msg: Message = {f"{prefix}kind": state.kind, f"{prefix}step": int(state.step)}
    if state.m is not None:
        msg[f"{prefix}m"] = state.m.copy()
    if state.v is not None:
        msg[f"{prefix}v"] = state.v.copy()
    return msg


def optimizer_from(msg: Message, prefix: str = "opt_") -> OptimizerState | None:
    if msg.get(f"{prefix}kind") is None:
        return None
    return OptimizerState(msg[f"{prefix}kind"], int(msg[f"{prefix}step"]),
                          msg.get(f"{prefix}m"), msg.get(f"{prefix}v"))


#: the columns of a hand-step mark: where it goes on the epoch axis (the epoch it was
#: taken in plus the share of that epoch's updates taken so far), the run's update count
#: after it, and the mean training (and test) loss after it
MARK_FIELDS = ("position", "updates", "train_loss", "test_loss")


# -- the state of a run ----------------------------------------------------------------------
@dataclass(frozen=True)
class RunState:
    """Where a run stands. Arrays are private copies; treat them as read-only.

    ``rng`` is the shuffle generator's state (``numpy.random.Generator.bit_generator
    .state``; None: fresh from ``config.seed``). ``budget`` is the number of epochs still
    to train while paused (Step), ``speed`` the epochs-per-second limit (None: full
    speed), ``applied`` the sequence number of the last command the loop applied.
    """

    params: np.ndarray
    config: TrainingConfig
    optimizer: OptimizerState
    epoch: int = 0
    updates: int = 0
    rng: dict | None = None
    running: bool = False
    budget: int = 0
    speed: float | None = None
    applied: int = 0
    #: updates taken by hand (the phase stepper, a lesson): one row each of ``MARK_FIELDS``
    marks: np.ndarray = field(default_factory=lambda: np.zeros((0, len(MARK_FIELDS))),
                              repr=False)

    @property
    def idle(self) -> bool:
        """Nothing left to do: not running and no epochs of a Step still to train."""
        return not self.running and self.budget == 0

    def replace(self, **changes) -> RunState:
        return replace(self, **changes)

    def fields(self) -> Message:
        """The state as message fields."""
        return {"params": np.array(self.params, dtype=np.float64),
                "config": config_to_dict(self.config), **optimizer_fields(self.optimizer),
                "epoch": int(self.epoch), "updates": int(self.updates), "rng": self.rng,
                "running": bool(self.running), "budget": int(self.budget),
                "speed": None if self.speed is None else float(self.speed),
                "applied": int(self.applied),
                "marks": np.asarray(self.marks, dtype=np.float64).reshape(-1, len(MARK_FIELDS))}

    @staticmethod
    def from_fields(msg: Message) -> RunState:
        cfg = config_from_dict(msg["config"])
        return RunState(np.array(msg["params"], dtype=np.float64), cfg,
                        optimizer_from(msg) or OptimizerState(cfg.optimizer),
                        int(msg["epoch"]), int(msg["updates"]), msg.get("rng"),
                        bool(msg["running"]), int(msg["budget"]), msg.get("speed"),
                        int(msg["applied"]),
                        np.asarray(msg.get("marks", np.zeros((0, len(MARK_FIELDS)))),
                                   dtype=np.float64).reshape(-1, len(MARK_FIELDS)))

    @staticmethod
    def start(params: np.ndarray, config: TrainingConfig) -> RunState:
        """A run at epoch 0: fresh optimiser and shuffle generator."""
        return RunState(np.array(params, dtype=np.float64), config,
                        OptimizerState(config.optimizer))


# -- commands ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Play:
    """Train until paused (or until training diverges)."""


@dataclass(frozen=True)
class Pause:
    """Stop training after the current epoch; drops what is left of a Step."""


@dataclass(frozen=True)
class Step:
    """Train exactly ``epochs`` more epochs, then stop."""

    epochs: int


@dataclass(frozen=True)
class SetSpeed:
    """Limit Play to ``value`` epochs a second (None: full speed)."""

    value: float | None


@dataclass(frozen=True)
class SetConfig:
    """New training settings, applied between epochs (learning rate, mode, optimiser ...)."""

    config: TrainingConfig


@dataclass(frozen=True)
class SetWeight:
    """Edit one weight (``source`` -1: the bias weight), also while training runs."""

    layer: int
    target: int
    source: int
    value: float


@dataclass(frozen=True)
class SetState:
    """Replace the weights, and optionally the optimiser state and the counters: an update
    taken by hand, an undo. Pauses training. ``mark``: this is an update taken by hand,
    to be marked on the loss curve; marks of updates beyond ``updates`` are dropped (a
    step taken back)."""

    params: np.ndarray
    optimizer: OptimizerState | None = None
    epoch: int | None = None
    updates: int | None = None
    mark: bool = False


@dataclass(frozen=True)
class Reset:
    """Back to ``params`` at epoch 0 with a fresh optimiser and shuffle generator; the
    history starts again (``record_start``: with the loop's own measurement of epoch 0).
    Pauses training."""

    params: np.ndarray
    record_start: bool = True


@dataclass(frozen=True)
class Load:
    """A new network, data and state for the same loop (a structure or preset change, a
    lesson step, a fall-back). ``record_start``: measure the state as the first history
    row (a new history); otherwise the history goes on where it was."""

    network: Network
    dataset: Dataset
    state: RunState
    record_start: bool = True


Command = Play | Pause | Step | SetSpeed | SetConfig | SetWeight | SetState | Reset | Load

_KINDS: dict[type, str] = {Play: "play", Pause: "pause", Step: "step", SetSpeed: "speed",
                           SetConfig: "config", SetWeight: "set_weight", SetState: "set_state",
                           Reset: "reset", Load: "load"}
_TYPES = {v: k for k, v in _KINDS.items()}
#: messages that are not commands of a run: the server's and the channel's own
CONTROL_KINDS = frozenset({"quit", "release", "eof"})


class BadCommand(ValueError):
    """A command message that cannot be understood; the loop reports it and goes on."""


def encode_command(cmd: Command, seq: int) -> Message:
    """The wire form of ``cmd`` with its sequence number."""
    kind = _KINDS[type(cmd)]
    msg: Message = {"kind": kind, "seq": int(seq)}
    if isinstance(cmd, Step):
        msg["epochs"] = int(cmd.epochs)
    elif isinstance(cmd, SetSpeed):
        msg["value"] = None if cmd.value is None else float(cmd.value)
    elif isinstance(cmd, SetConfig):
        msg["config"] = config_to_dict(cmd.config)
    elif isinstance(cmd, SetWeight):
        msg.update(layer=int(cmd.layer), target=int(cmd.target), source=int(cmd.source),
                   value=float(cmd.value))
    elif isinstance(cmd, SetState):
        msg["params"] = np.array(cmd.params, dtype=np.float64)
        if cmd.optimizer is not None:
            msg.update(optimizer_fields(cmd.optimizer))
        msg["epoch"] = None if cmd.epoch is None else int(cmd.epoch)
        msg["updates"] = None if cmd.updates is None else int(cmd.updates)
        msg["mark"] = bool(cmd.mark)
    elif isinstance(cmd, Reset):
        msg["params"] = np.array(cmd.params, dtype=np.float64)
        msg["record_start"] = bool(cmd.record_start)
    elif isinstance(cmd, Load):
        msg.update(network_fields(cmd.network))
        msg.update(dataset_fields(cmd.dataset))
        msg.update(cmd.state.fields())
        msg["kind"] = kind  # (the state's fields have no kind; keep ours)
        msg["seq"] = int(seq)
        msg["record_start"] = bool(cmd.record_start)
    return msg


def decode_command(msg: Message) -> tuple[Command, int]:
    """``(command, seq)`` from its wire form. Raises ``BadCommand``."""
    kind = msg.get("kind")
    try:
        seq = int(msg["seq"])
        if kind == "play":
            return Play(), seq
        if kind == "pause":
            return Pause(), seq
        if kind == "step":
            n = int(msg["epochs"])
            if n < 0:
                raise ValueError("a step of fewer than 0 epochs")
            return Step(n), seq
        if kind == "speed":
            v = msg["value"]
            if v is not None and not (math.isfinite(v) and v > 0):
                raise ValueError(f"speed {v!r} is not a positive number")
            return SetSpeed(None if v is None else float(v)), seq
        if kind == "config":
            cfg = config_from_dict(msg["config"])
            cfg.validate()
            return SetConfig(cfg), seq
        if kind == "set_weight":
            return SetWeight(int(msg["layer"]), int(msg["target"]), int(msg["source"]),
                             float(msg["value"])), seq
        if kind == "set_state":
            return SetState(msg["params"], optimizer_from(msg), msg.get("epoch"),
                            msg.get("updates"), bool(msg.get("mark", False))), seq
        if kind == "reset":
            return Reset(msg["params"], bool(msg.get("record_start", True))), seq
        if kind == "load":
            return Load(network_from(msg), dataset_from(msg), RunState.from_fields(msg),
                        bool(msg.get("record_start", True))), seq
    except (KeyError, TypeError, ValueError) as e:
        raise BadCommand(f"bad {kind!r} command: {e}") from None
    raise BadCommand(f"unknown command {kind!r}")


def network_fields(net: Network) -> Message:
    """The network's shape and activations (its weights travel in the state)."""
    return {"layers": list(net.layers), "hidden": list(net.hidden_activations),
            "output": net.output_activation}


def network_from(msg: Message) -> Network:
    net = Network(msg["layers"], msg["hidden"], msg["output"])
    net.params[:] = msg["params"]
    return net


def dataset_fields(ds: Dataset) -> Message:
    """The data itself (exact, also for points typed in by hand)."""
    return {"x_train": ds.x_train, "y_train": ds.y_train, "x_test": ds.x_test,
            "y_test": ds.y_test, "input_names": list(ds.input_names),
            "target_names": list(ds.target_names), "task": ds.task}


def dataset_from(msg: Message) -> Dataset:
    return Dataset(msg["x_train"], msg["y_train"], msg["x_test"], msg["y_test"],
                   tuple(msg["input_names"]), tuple(msg["target_names"]), msg["task"])


# -- what the loop reports -------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """A run at one moment: its state and what was measured at it. Immutable.

    ``version`` grows by one for every snapshot a loop publishes. ``error`` is set on the
    snapshot published when training stopped because of a problem.
    """

    state: RunState
    train_loss: float
    test_loss: float | None = None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    #: Euclidean norm of the full-batch gradient of each weight layer (weights and bias
    #: weights into layer l+1), at these weights
    grad_norms: tuple[float, ...] = ()
    epochs_per_second: float = 0.0
    error: str | None = None
    version: int = 0
    extra: dict = field(default_factory=dict, compare=False)

    # the state's fields, for readers that only want one
    @property
    def params(self) -> np.ndarray:
        return self.state.params

    @property
    def epoch(self) -> int:
        return self.state.epoch

    @property
    def updates(self) -> int:
        return self.state.updates

    @property
    def config(self) -> TrainingConfig:
        return self.state.config

    @property
    def optimizer(self) -> OptimizerState:
        return self.state.optimizer

    @property
    def running(self) -> bool:
        return self.state.running

    @property
    def applied(self) -> int:
        return self.state.applied

    @property
    def idle(self) -> bool:
        return self.state.idle

    def with_state(self, **changes) -> Snapshot:
        """The same measurements with some of the state changed (an edit not yet
        acknowledged, shown at once)."""
        return replace(self, state=self.state.replace(**changes))


def _opt_float(v) -> float | None:
    return None if v is None else float(v)


def update_message(snap: Snapshot, rows: np.ndarray) -> Message:
    """The wire form of a snapshot and the history rows produced since the last one."""
    return {"kind": "update", **snap.state.fields(), "train_loss": float(snap.train_loss),
            "test_loss": _opt_float(snap.test_loss),
            "train_accuracy": _opt_float(snap.train_accuracy),
            "test_accuracy": _opt_float(snap.test_accuracy),
            "grad_norms": [float(v) for v in snap.grad_norms],
            "rate": float(snap.epochs_per_second), "error": snap.error,
            "version": int(snap.version), "rows": rows}


def decode_update(msg: Message) -> tuple[Snapshot, np.ndarray]:
    snap = Snapshot(RunState.from_fields(msg), msg["train_loss"], msg["test_loss"],
                    msg["train_accuracy"], msg["test_accuracy"], tuple(msg["grad_norms"]),
                    msg["rate"], msg["error"], msg["version"])
    return snap, np.asarray(msg["rows"], dtype=np.float64).reshape(-1, 5)


__all__ = ["BadCommand", "Command", "Load", "Message", "Pause", "Play", "Reset", "RunState",
           "SetConfig", "SetSpeed", "SetState", "SetWeight", "Snapshot", "Step",
           "decode_command", "decode_update", "encode_command", "update_message"]
