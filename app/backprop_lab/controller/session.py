"""The session: the one source of truth that the views observe.

It lives on the UI thread and uses QtCore only. It owns the project (network shape,
training settings, data, initialisation), the dataset, the loss history and the newest
snapshot of the training worker, and turns user intentions (play, step, edit a weight,
change the learning rate) into worker commands. Views connect to its signals and
render; they compute nothing the session can tell them.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from ..engine import data as data_mod
from ..engine import presets
from ..engine.init import InitConfig, initialize
from ..engine.names import WeightRef, weight_name
from ..engine.network import Network
from ..engine.optimizers import OptimizerState
from ..engine.project import Project, ProjectError, load, save
from ..engine.trace import Trace, trace_step
from ..engine.training import TrainingConfig, check_compatible
from .snapshot import History, Snapshot
from .worker import TrainingWorker

TICK_MS = 16  # the UI pulls the newest snapshot about 60 times a second


def _all_targets(ds: data_mod.Dataset) -> np.ndarray:
    """Training and test targets together (what a loss must be able to fit)."""
    return np.vstack([ds.y_train, ds.y_test]) if ds.has_test else ds.y_train


class Session(QtCore.QObject):
    """State and commands of one Backprop Lab window."""

    #: the network's shape, activations or data changed: re-layout views
    structure_changed = QtCore.Signal()
    #: a new snapshot arrived (weights, epoch, losses)
    snapshot_changed = QtCore.Signal(object)
    #: losses were appended to (or the history was cleared from) ``history``
    history_changed = QtCore.Signal()
    config_changed = QtCore.Signal(object)
    running_changed = QtCore.Signal(bool)
    selected_sample_changed = QtCore.Signal(int)
    #: a problem the user must see (divergence, bad value); training is paused
    error = QtCore.Signal(str)
    dirty_changed = QtCore.Signal(bool)
    path_changed = QtCore.Signal(object)
    speed_changed = QtCore.Signal(object)
    #: something the user should know that is not an error (e.g. a setting adapted)
    notice = QtCore.Signal(str)

    def __init__(self, project: Project | None = None, parent: QtCore.QObject | None = None,
                 path: str | Path | None = None):
        super().__init__(parent)
        self.history = History()
        self._worker: TrainingWorker | None = None
        self._snapshot: Snapshot | None = None
        self._running = False
        self._dirty = False
        self._path: Path | None = Path(path) if path is not None else None
        self._selected = 0
        self._speed: float | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.poll)
        self._install(project if project is not None else presets.load_preset(presets.DEFAULT))
        self._timer.start()

    # -- reading ----------------------------------------------------------------------
    @property
    def project(self) -> Project:
        """The project with the newest weights (a copy: safe to keep or save)."""
        p = self._project.copy()
        p.network.params[:] = self.params
        p.training = self.config
        return p

    @property
    def network(self) -> Network:
        """A network with the newest weights (a copy)."""
        net = self._project.network.copy()
        net.params[:] = self.params
        return net

    @property
    def layers(self) -> list[int]:
        return list(self._project.network.layers)

    @property
    def activations(self) -> list[str]:
        return self._project.network.activation_names

    @property
    def params(self) -> np.ndarray:
        return self._snapshot.params if self._snapshot is not None else \
            self._project.network.params

    @property
    def config(self) -> TrainingConfig:
        return self._project.training

    @property
    def init_config(self) -> InitConfig:
        return self._project.init

    @property
    def data_spec(self) -> data_mod.DataSpec:
        return self._project.data

    @property
    def dataset(self) -> data_mod.Dataset:
        return self._dataset

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def epoch(self) -> int:
        return self._snapshot.epoch if self._snapshot else 0

    @property
    def running(self) -> bool:
        return self._running

    @property
    def dirty(self) -> bool:
        return self._dirty

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def selected_sample(self) -> int:
        return self._selected

    @property
    def speed(self) -> float | None:
        return self._speed

    @property
    def initial_params(self) -> np.ndarray:
        """The weights Reset goes back to (a copy)."""
        return self._initial_params.copy()

    @property
    def training_backend(self) -> str:
        """Where training runs: ``process`` (a child process) or ``thread``."""
        return self._worker.backend if self._worker is not None else "none"

    @property
    def title(self) -> str:
        return self._project.meta.get("title", "") if self._project.meta else ""

    def weight_value(self, ref: WeightRef) -> float:
        w, b = self._project.network.views(self.params)
        return float(b[ref.layer][ref.target] if ref.is_bias else w[ref.layer][ref.target,
                                                                               ref.source])

    def weight_name(self, ref: WeightRef) -> str:
        return weight_name(self.layers, ref)

    def trace(self, samples: np.ndarray | list[int] | None = None) -> Trace:
        """What the next update would do on these training samples (default: the selected
        one), computed with the newest weights by the engine's own code."""
        idx = [self._selected] if samples is None else list(samples)
        ds = self._dataset
        opt = self._snapshot.optimizer if self._snapshot is not None else None
        return trace_step(self.network, self.config, ds.x_train[idx], ds.y_train[idx], opt)

    # -- setting up ---------------------------------------------------------------------
    def _install(self, project: Project, keep_history: bool = False,
                 dataset: data_mod.Dataset | None = None) -> None:
        """A fresh worker for ``project``, with its dataset (built unless given or the
        same data as now). With ``keep_history`` the run goes on: the epoch count
        continues where it was."""
        if dataset is None:
            same = getattr(self, "_project", None) is not None and project.data == \
                self._project.data
            dataset = self._dataset if same else data_mod.build(project.data)
        # everything is checked before the running worker is touched
        check_compatible(project.network, project.training, dataset.n_targets,
                         _all_targets(dataset))
        epoch = self.epoch if keep_history and getattr(self, "_worker", None) else 0
        if dataset.n_inputs != project.network.layers[0]:
            raise ValueError(f"the data has {dataset.n_inputs} inputs but the network has "
                             f"{project.network.layers[0]}")
        self._stop_worker()
        self._project = project
        self._dataset = dataset
        self._initial_params = project.network.params.copy()
        self._selected = min(self._selected, len(dataset.x_train) - 1)
        if keep_history:
            self.history.truncate_after(epoch - 1)  # the new worker records this epoch
        else:
            self.history.clear()
        self._worker = TrainingWorker(project.network, project.training, dataset, epoch)
        self._sent = 0
        self._generation = 0
        self._worker.failed.connect(self._on_worker_failed)
        if self._speed is not None:
            self._send("speed", self._speed)
        self._snapshot = None
        self._worker.start()
        self._set_running(False)
        self.poll()
        self.structure_changed.emit()
        self.config_changed.emit(self.config)
        self.history_changed.emit()

    def _send(self, kind: str, value=None) -> None:
        self._sent += 1
        self._worker.send(kind, value)

    def _stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.failed.disconnect(self._on_worker_failed)
            self._worker.stop()
            self._worker = None

    def shutdown(self) -> None:
        """Stop the timer and the training thread (call before the window closes)."""
        self._timer.stop()
        self._stop_worker()

    # -- the clock ----------------------------------------------------------------------
    @QtCore.Slot()
    def poll(self) -> None:
        """Take the newest snapshot and losses from the worker and tell the views."""
        if self._worker is None:
            return
        snap, chunk = self._worker.take()
        if chunk is not None and chunk.generation != self._generation:
            chunk = None  # rows from before a reset that crossed it on the way
        grew = chunk is not None
        if chunk is not None:
            self.history.add_chunk(chunk)
        if snap is not None:
            self._snapshot = snap
            before = len(self.history.grad_epochs)
            self.history.add_grad_norms(snap.epoch, snap.grad_norms)
            grew |= len(self.history.grad_epochs) != before
            if snap.running != self._running and not snap.running:
                self._set_running(False)
        if grew:
            self.history_changed.emit()
        if snap is not None:
            self.snapshot_changed.emit(snap)

    def _set_running(self, on: bool) -> None:
        if on != self._running:
            self._running = on
            self.running_changed.emit(on)

    def _on_worker_failed(self, message: str) -> None:
        self._set_running(False)
        self.poll()
        self.error.emit(message)

    def _mark_dirty(self) -> None:
        if not self._dirty:
            self._dirty = True
            self.dirty_changed.emit(True)

    # -- training commands --------------------------------------------------------------
    def play(self) -> None:
        self._send("play")
        self._set_running(True)
        self._mark_dirty()

    def pause(self) -> None:
        self._send("pause")
        self._set_running(False)

    def toggle_running(self) -> None:
        self.pause() if self._running else self.play()

    def step_epochs(self, n: int = 1) -> None:
        """Train exactly ``n`` more epochs (pauses first if running)."""
        if self._running:
            self.pause()
        self._send("step", int(n))
        self._mark_dirty()

    def reset(self) -> None:
        """Back to the initial weights of this network, epoch 0; the history starts again
        (with the loss at epoch 0)."""
        self._generation += 1
        self._send("reset", (self._initial_params.copy(), self._generation))
        self._set_running(False)
        self.history.clear()
        self.history_changed.emit()
        self._mark_dirty()

    def set_speed(self, epochs_per_second: float | None) -> None:
        """Limit training to this many epochs a second (None: full speed)."""
        if epochs_per_second is not None and not (epochs_per_second > 0):
            raise ValueError("speed must be a positive number of epochs per second")
        self._speed = epochs_per_second
        self._send("speed", epochs_per_second)
        self.speed_changed.emit(epochs_per_second)

    def set_config(self, **changes) -> None:
        """Change training settings live (learning rate, mode, optimiser, ...).

        Raises ``ValueError`` (nothing changed) when the new settings are invalid.
        """
        cfg = replace(self._project.training, **changes)
        cfg.validate()
        check_compatible(self._project.network, cfg, y=_all_targets(self._dataset))
        self._project.training = cfg
        self._send("config", cfg)
        self.config_changed.emit(cfg)
        self._mark_dirty()

    def set_learning_rate(self, lr: float) -> None:
        self.set_config(learning_rate=float(lr))

    def set_weight(self, ref: WeightRef, value: float) -> None:
        """Edit one weight, also while training runs."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError("a weight must be a finite number")
        if self._snapshot is not None:
            params = self._snapshot.params.copy()
            w, b = self._project.network.views(params)
            if ref.is_bias:
                b[ref.layer][ref.target] = value
            else:
                w[ref.layer][ref.target, ref.source] = value
            self._snapshot = replace(self._snapshot, params=params)
        self._send("set_weight", (ref, value))
        self._mark_dirty()
        self.snapshot_changed.emit(self._snapshot)

    def set_params(self, params: np.ndarray, epoch: int | None = None,
                   optimizer: OptimizerState | None = None) -> None:
        """Replace all weights (a lesson step, an undo); pauses training. With
        ``optimizer`` (a step taken by hand), the optimiser's state moves with them."""
        params = np.array(params, dtype=np.float64)
        if params.shape != self._project.network.params.shape:
            raise ValueError("the weights do not fit this network")
        self.pause()
        self._send("set_params", (params, epoch, optimizer))
        if self._snapshot is not None:
            self._snapshot = replace(
                self._snapshot, params=params,
                epoch=self._snapshot.epoch if epoch is None else epoch,
                optimizer=optimizer.copy() if optimizer is not None else self._snapshot.optimizer)
        self._mark_dirty()
        self.snapshot_changed.emit(self._snapshot)

    def select_sample(self, k: int) -> None:
        n = len(self._dataset.x_train)
        k = int(k) % n if n else 0
        if k != self._selected:
            self._selected = k
            self.selected_sample_changed.emit(k)

    def wait_idle(self, timeout_ms: int = 5000) -> None:
        """Block until the worker has applied the queued commands (for tests, scripts).
        Raises ``RuntimeError`` at once if the session has been shut down."""
        deadline = QtCore.QDeadlineTimer(timeout_ms)
        while not deadline.hasExpired():
            if self._worker is None:
                raise RuntimeError("the session has been shut down")
            QtCore.QCoreApplication.processEvents(QtCore.QEventLoop.AllEvents, 10)
            self.poll()
            s = self._snapshot
            if s is not None and s.applied >= self._sent and (s.idle or self._running):
                return
            QtCore.QThread.msleep(2)
        raise TimeoutError("the training thread did not answer in time")

    # -- structure, data, initialisation ------------------------------------------------
    def _rebuild(self, network: Network, training: TrainingConfig | None = None,
                 data: data_mod.DataSpec | None = None, init: InitConfig | None = None,
                 dataset: data_mod.Dataset | None = None) -> None:
        p = self._project
        new = Project(network, training or p.training, data or p.data, init or p.init,
                      dict(p.meta), p.lesson)
        self._install(new, dataset=dataset)
        self._mark_dirty()

    def set_structure(self, layers: list[int], hidden_activation: str | list[str] | None = None,
                      output_activation: str | None = None) -> None:
        """Rebuild the network with this shape and activations from the same seed."""
        old = self._project.network
        net = Network(layers, hidden_activation if hidden_activation is not None
                      else old.hidden_activation if len(layers) == len(old.layers)
                      else old.hidden_activations[0] if old.hidden_activations else "tanh",
                      output_activation or old.output_activation)
        check_compatible(net, self.config, y=_all_targets(self._dataset))
        initialize(net, self._project.init)
        self._rebuild(net)

    def set_activations(self, hidden: str | None = None, output: str | None = None,
                        loss: str | None = None) -> None:
        """Change activations (and the loss with them); keeps the current weights."""
        old = self.network
        net = Network(old.layers, hidden or old.hidden_activation,
                      output or old.output_activation, old.params)
        cfg = self.config if loss is None else replace(self.config, loss=loss)
        cfg.validate()
        check_compatible(net, cfg, y=_all_targets(self._dataset))
        p = self._project
        initial = self._initial_params
        self._install(Project(net, cfg, p.data, p.init, dict(p.meta), p.lesson),
                      keep_history=True)
        self._initial_params = initial  # Reset still goes back to the run's start
        self._mark_dirty()

    def set_init(self, init: InitConfig) -> None:
        """New initialisation: rebuild the weights from it (same shape)."""
        init.validate()
        net = Network(self.layers, self._project.network.hidden_activation,
                      self._project.network.output_activation)
        initialize(net, init)
        self._rebuild(net, init=init)

    def set_data(self, spec: data_mod.DataSpec) -> None:
        """New data: a new run, rebuilt from the same seed (the input and output layers
        follow the data). A loss that cannot fit the new targets is changed with the
        output activation (bce/ce on regression targets -> mse with identity output;
        softmax on a single target -> sigmoid), and ``notice`` says so."""
        ds = data_mod.build(spec)
        old_output, old_loss = self._project.network.output_activation, self.config.loss
        output, loss = old_output, old_loss
        y = _all_targets(ds)
        if ds.task == "regression" and loss in ("bce", "ce"):
            output, loss = "identity", "mse"
        elif ds.n_targets == 1 and output == "softmax":
            output, loss = "sigmoid", ("bce" if loss == "ce" else loss)
        elif loss == "ce" and not np.all(np.isclose(y.sum(axis=1), 1.0)):
            output, loss = "sigmoid", "bce"  # several 0/1 targets per row, not one-hot
        layers = [ds.n_inputs] + self.layers[1:-1] + [ds.n_targets]
        net = Network(layers, self._project.network.hidden_activation, output)
        initialize(net, self._project.init)
        self._rebuild(net, training=replace(self.config, loss=loss), data=spec, dataset=ds)
        if (output, loss) != (old_output, old_loss):
            self.notice.emit(f"The new data needs another loss: now {loss} with a {output} "
                             f"output (was {old_loss} with {old_output}).")

    # -- files ----------------------------------------------------------------------------
    def load_project(self, path: str | Path) -> None:
        """Open a project file. Raises ``ProjectError``; the current work is untouched."""
        project = load(path)
        self._install(project)
        self._path = Path(path)
        self._set_clean()
        self.path_changed.emit(self._path)

    def load_preset(self, name: str) -> None:
        self._install(presets.load_preset(name))
        self._path = None
        self._set_clean()
        self.path_changed.emit(None)

    def save_project(self, path: str | Path | None = None) -> Path:
        """Save atomically (to ``path`` or the current file). Raises ``ProjectError``."""
        target = Path(path) if path is not None else self._path
        if target is None:
            raise ProjectError("no file name: use Save As")
        save(self.project, target)
        self._path = target
        self._set_clean()
        self.path_changed.emit(self._path)
        return target

    def _set_clean(self) -> None:
        if self._dirty:
            self._dirty = False
        self.dirty_changed.emit(False)
