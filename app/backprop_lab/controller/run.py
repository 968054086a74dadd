"""A run: one network training on one data set, seen from the window.

A ``Run`` owns one client for its whole life (a training process, or a thread as the
fall-back), the run's loss history and the newest snapshot. Commands go out numbered;
every update that comes back says which commands it reflects. What the user asked for
(running or not, weights, settings) is taken from a snapshot only once it acknowledges
the last command sent: until then the run shows its own optimistic view of the change,
so an old snapshot can neither say "paused" after Play nor undo a weight edit.

When the client dies or stops answering, the run says so (``notice``) and carries on in
a thread from the newest ``RunState`` the loop reported, optimiser and shuffle state
included, then re-sends the commands that state does not reflect: the run goes on
bit-exact, as if nothing had happened. Nothing ever blocks waiting for a client.

The views are told at most about 60 times a second (``snapshot_changed``,
``history_changed``); ``acknowledged`` and ``settled`` are immediate, for the phase
stepper and the lessons, which move on them instead of waiting.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import numpy as np
from PySide6 import QtCore

from ..engine.data import Dataset
from ..engine.network import Network
from ..engine.optimizers import OptimizerState
from ..engine.training import TrainingConfig
from ..runs.history import History
from ..runs.loop import TrainingLoop
from ..runs.state import (
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
    decode_update,
    encode_command,
)
from ..runs.timeline import Timeline
from .clients import ClientFactory, ProcessClient, ThreadClient

TICK_MS = 16  # views hear of new snapshots about 60 times a second
FIRST_SPAWN_DELAY_MS = 300  # the first process starts once the window has painted


class Run(QtCore.QObject):
    """One training run and its client."""

    #: the newest snapshot (weights, epoch, losses) changed; at most ~60 times a second
    snapshot_changed = QtCore.Signal(object)
    #: rows were added to (or removed from) ``history``; at most ~60 times a second
    history_changed = QtCore.Signal()
    running_changed = QtCore.Signal(bool)
    #: the snapshot now reflects every command sent
    acknowledged = QtCore.Signal()
    #: acknowledged and idle: not running, no Step epochs left
    settled = QtCore.Signal()
    #: a problem the user must see (divergence, a refused command); training is paused
    failed = QtCore.Signal(str)
    #: something the user should know that is not an error (the backend changed)
    notice = QtCore.Signal(str)

    def __init__(self, network: Network, dataset: Dataset, state: RunState,
                 factory: ClientFactory | None = None, parent: QtCore.QObject | None = None,
                 start_delay_ms: int = 0):
        super().__init__(parent)
        self._factory = factory if factory is not None else ClientFactory()
        self.history = History()  # fed by the timeline
        self.timeline: Timeline | None = None
        self._seq = 0  # the number of the last command sent
        self._uncertain = 0  # ... and of the last one whose outcome only the loop knows
        self._barrier = 0  # rows of updates that acknowledge less than this are void
        self._log: collections.deque[tuple[int, Message]] = collections.deque()
        self._running = False
        self._on_settled: list[Callable[[], None]] = []
        self._reloads = 0
        self._snap_dirty = False
        self._hist_dirty = False
        self._closed = False
        self._tick = QtCore.QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._flush)
        self._install(network, dataset, state, keep_history=False)
        self._client = self._factory.create(self)
        self._connect(self._client)
        self._client.start(start_delay_ms)
        self._load_seq = 0
        self._send_load()
        self._tick.start()

    # -- reading ------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def state(self) -> RunState:
        return self._snapshot.state

    @property
    def network(self) -> Network:
        """The network's shape and activations, with the newest weights (a copy)."""
        net = self._network.copy()
        net.params[:] = self._snapshot.params
        return net

    @property
    def dataset(self) -> Dataset:
        return self._dataset

    @property
    def running(self) -> bool:
        """What the user asked for: training runs (or will, once the loop hears of it)."""
        return self._running

    @property
    def is_acknowledged(self) -> bool:
        return self._snapshot.applied >= self._seq

    @property
    def is_settled(self) -> bool:
        """Nothing is left to train, and what is shown is what the run has: every command
        whose outcome only the loop knows (training, new weights or settings and the losses
        they give, anything while running) is reflected in the snapshot. A load or a reset
        of an idle run is measured here when it is sent, so it does not unsettle it."""
        return (self._snapshot.applied >= self._uncertain and not self._running
                and self._snapshot.state.budget == 0)

    @property
    def backend(self) -> str:
        return self._client.backend if not self._closed else "none"

    @property
    def process_id(self) -> int | None:
        return self._client.pid if not self._closed else None

    @property
    def client(self) -> ProcessClient | ThreadClient:
        return self._client

    def after_settled(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` once the run is settled: now if it is, else when it becomes so."""
        if self.is_settled:
            fn()
        else:
            self._on_settled.append(fn)

    # -- commands -----------------------------------------------------------------------
    def play(self) -> None:
        self._send(Play())
        self._set_running(True)

    def pause(self) -> None:
        self._send(Pause())
        self._set_running(False)

    def step(self, epochs: int) -> None:
        """Train exactly ``epochs`` more epochs (pauses first if running)."""
        if self._running:
            self.pause()
        self._send(Step(int(epochs)))
        self._show(budget=self._snapshot.state.budget + int(epochs))

    def set_speed(self, epochs_per_second: float | None) -> None:
        self._send(SetSpeed(epochs_per_second))
        self._show(speed=epochs_per_second)

    def set_config(self, cfg: TrainingConfig) -> None:
        self._send(SetConfig(cfg))
        self._show(config=cfg)

    def set_weight(self, layer: int, target: int, source: int, value: float) -> None:
        params = self._snapshot.params.copy()
        w, b = self._network.views(params)
        if source < 0:
            b[layer][target] = value
        else:
            w[layer][target, source] = value
        self._send(SetWeight(layer, target, source, float(value)))
        self._show(params=params)

    def set_state(self, params: np.ndarray, optimizer: OptimizerState | None = None,
                  epoch: int | None = None, updates: int | None = None,
                  mark: bool = False) -> None:
        """Replace the weights (and optionally the optimiser state and counters); pauses.
        ``mark``: an update taken by hand, marked on the loss curve."""
        params = np.array(params, dtype=np.float64)
        if params.shape != self._snapshot.params.shape:
            raise ValueError("the weights do not fit this network")
        self._set_running(False)
        self._send(SetState(params, optimizer, epoch, updates, mark))
        s = self._snapshot.state
        self._show(params=params, running=False, budget=0,
                   optimizer=optimizer.copy() if optimizer is not None else s.optimizer,
                   epoch=s.epoch if epoch is None else int(epoch),
                   updates=s.updates if updates is None else int(updates))

    def reset(self, params: np.ndarray) -> None:
        """Back to ``params`` at epoch 0 with a fresh optimiser; the history restarts."""
        params = np.array(params, dtype=np.float64)
        if params.shape != self._snapshot.params.shape:
            raise ValueError("the weights do not fit this network")
        self._set_running(False)
        state = RunState.start(params, self._snapshot.config).replace(
            speed=self._snapshot.state.speed, applied=self._snapshot.applied)
        self._barrier = self._send(Reset(params, record_start=False))  # measured here
        self._adopt_local(state, keep_history=False)

    def load(self, network: Network, dataset: Dataset, state: RunState,
             keep_history: bool = False) -> None:
        """A new network, data and state on the same client (a structure or preset change,
        a lesson step). With ``keep_history`` the history goes on up to ``state.epoch``."""
        self._set_running(bool(state.running))
        state = state.replace(speed=self._snapshot.state.speed if state.speed is None
                              else state.speed, applied=self._snapshot.applied)
        self._install(network, dataset, state, keep_history)
        self._send_load()

    def replace_history(self, rows: np.ndarray, grad_norms=()) -> None:
        """Put these rows (and ``(epoch, norms)`` gradient norms) in place of the history
        (a lesson step computed elsewhere)."""
        self.timeline.restart(self._network, self._dataset, self._snapshot.state, rows)
        for epoch, norms in grad_norms:
            self.history.add_grad_norms(int(epoch), tuple(norms))
        self._hist_dirty = True

    def continue_from(self, network: Network, state: RunState) -> None:
        """Go on from a past state (a branch from a scrubbed epoch, or an undone branch):
        the timeline has been cut or restored already; the loop gets the state with a
        ``Load`` (it carries the shuffle generator's state too)."""
        self._set_running(False)
        state = state.replace(speed=self._snapshot.state.speed, running=False, budget=0,
                              applied=self._snapshot.applied)
        self._network = network.copy()
        loop = TrainingLoop(network, self._dataset, state, record_start=False,
                            pause_seconds=0.0)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            snap, _rows = decode_update(loop.publish())
        self._acked = snap.state
        self._snapshot = snap
        self._snap_dirty = self._hist_dirty = True
        self._send_load()

    def shutdown(self) -> None:
        """Stop the clock and end the client (never waits for it)."""
        if self._closed:
            return
        self._closed = True
        self._tick.stop()
        self._client.close()
        self._on_settled.clear()

    # -- the run's own ---------------------------------------------------------------------
    def _install(self, network: Network, dataset: Dataset, state: RunState,
                 keep_history: bool) -> None:
        """The first snapshot of a network, measured here at once (one forward pass), so
        the views can lay it out before the client answers."""
        self._network = network.copy()
        self._dataset = dataset
        loop = TrainingLoop(network, dataset, state, record_start=True, pause_seconds=0.0)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            msg = loop.publish()
        snap, rows = decode_update(msg)
        self._acked = snap.state
        self._adopt_local(snap.state, keep_history, snap, rows)

    def _adopt_local(self, state: RunState, keep_history: bool,
                     snap: Snapshot | None = None, rows: np.ndarray | None = None) -> None:
        if snap is None:
            loop = TrainingLoop(self._network, self._dataset, state, record_start=True,
                                pause_seconds=0.0)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                snap, rows = decode_update(loop.publish())
        if self.timeline is None:
            self.timeline = Timeline(self._network, self._dataset, snap.state, rows,
                                     history=self.history)
        elif keep_history:  # the same run goes on with another network
            self.timeline.switch(self._network, self._dataset, snap.state)
            self.timeline.record(snap.state, rows)
        else:
            self.timeline.restart(self._network, self._dataset, snap.state, rows)
        self.history.add_grad_norms(snap.epoch, snap.grad_norms)
        self._snapshot = snap
        self._snap_dirty = self._hist_dirty = True

    def _show(self, **changes) -> None:
        """Show a change at once, before the loop acknowledges it."""
        self._snapshot = self._snapshot.with_state(**changes)
        self._snap_dirty = True

    def _set_running(self, on: bool) -> None:
        if on != self._running:
            self._running = on
            self.running_changed.emit(on)

    def _send_load(self) -> None:
        """Send the installed network and state; that state is known from now on (a
        fall-back before the loop answers starts from it)."""
        seq = self._send(Load(self._network, self._dataset, self._acked, record_start=False))
        self._barrier = self._load_seq = seq
        self._acked = self._acked.replace(applied=seq)

    def _send(self, cmd: Command) -> int:
        if self._closed:
            return self._seq
        self._seq += 1
        # Only the loop knows what training does, and what the losses are after a change
        # of weights or settings; a load or a reset is measured here, exactly.
        if not isinstance(cmd, (Load, Reset, SetSpeed, Pause)) or self._running or \
                self._snapshot.state.budget > 0 or self._snapshot.applied < self._uncertain:
            self._uncertain = self._seq
        msg = encode_command(cmd, self._seq)
        self._log.append((self._seq, msg))
        self._client.send(msg)
        return self._seq

    def _connect(self, client) -> None:
        client.message.connect(self._on_message)
        client.lost.connect(self._on_lost)

    def _on_message(self, msg: Message) -> None:
        if self._closed:
            return
        kind = msg.get("kind")
        if kind == "update":
            self._on_update(msg)
        elif kind == "failed":
            self._set_running(False)
            self.failed.emit(str(msg.get("message")))
        elif kind == "ended":  # the loop failed inside and was reported: load it again
            self._reloads += 1
            if self._reloads <= 3:
                self._restore(self._client)

    def _on_update(self, msg: Message) -> None:
        snap, rows = decode_update(msg)
        if snap.applied < self._load_seq:
            return  # from before the newest load: another network, or another run
        self._acked = snap.state
        acked = []
        while self._log and self._log[0][0] <= snap.applied:
            acked.append(self._log.popleft())
        if snap.applied >= self._barrier:
            # the timeline learns the state, the rows and the edits this update is the
            # first to reflect (loads and resets it has been told of when they were sent)
            self.timeline.record(snap.state, rows,
                                 [(seq, m) for seq, m in acked
                                  if m.get("kind") not in ("load", "reset")],
                                 snap.grad_norms)
            self._hist_dirty = True
        if snap.applied < self._seq:
            return  # the loop has not seen the newest command yet: keep what we show
        was = self.is_acknowledged
        if len(snap.state.marks) != len(self._snapshot.state.marks):
            self._hist_dirty = True  # the loss curve's marks of updates taken by hand
        self._snapshot = snap
        self._snap_dirty = True
        if not snap.running and self._running:
            self._set_running(False)  # it stopped by itself: a Step ended, or a problem
        elif snap.running and not self._running:
            self._set_running(True)
        if not was:
            self.acknowledged.emit()
        if self.is_settled:
            self._flush()  # the views see the settled state before anyone acts on it
            self.settled.emit()
            callbacks, self._on_settled = self._on_settled, []
            for fn in callbacks:
                fn()

    def _flush(self) -> None:
        if self._hist_dirty:
            self._hist_dirty = False
            self.history_changed.emit()
        if self._snap_dirty:
            self._snap_dirty = False
            self.snapshot_changed.emit(self._snapshot)

    def _restore(self, client) -> None:
        """Load the newest reported state into ``client`` and re-send the commands that
        state does not reflect, with their own numbers."""
        state = self._acked
        client.send(encode_command(Load(self._network, self._dataset, state,
                                        record_start=False), state.applied))
        for seq, msg in self._log:
            if seq > state.applied:
                client.send(msg)

    def _on_lost(self, why: str) -> None:
        if self._closed:
            return
        old = self._client
        if isinstance(old, ProcessClient) and not old._hello:  # noqa: SLF001
            self._factory.process_failed(why)
        old.close()
        old.deleteLater()
        self._client = self._factory.fallback(self)
        self._connect(self._client)
        self._client.start()
        self._restore(self._client)
        self.notice.emit(f"The training process stopped: {why}. Training goes on in the "
                         "window's own thread (slower) from where it was; nothing was lost.")
