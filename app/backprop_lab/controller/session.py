"""The session: the one source of truth that the views observe.

It lives on the UI thread and uses QtCore only. It owns the project (network shape,
training settings, data, initialisation), its dataset, and the runs that train it: the
main run (``run``), which the views show. User intentions (play, step, edit a weight,
change the learning rate) become commands of the main run; what a change of shape,
activations, data or initialisation makes of the project is decided in ``runs.edits``.
Views connect to the session's signals and render; they compute nothing the session can
tell them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6 import QtCore
from superqt.utils import create_worker

from ..engine import data as data_mod
from ..engine import presets
from ..engine.init import InitConfig
from ..engine.names import WeightRef, weight_name
from ..engine.network import Network
from ..engine.optimizers import OptimizerState
from ..engine.project import (
    Project,
    ProjectError,
    comparison_start,
    load,
    save,
    start_to_json,
)
from ..engine.trace import Trace, trace_step
from ..engine.training import TrainingConfig
from ..engine.update import sample_losses
from ..runs import edits
from ..runs.compare import CompareError, check_variants, project_base, runs_from_json
from ..runs.history import History
from ..runs.state import RunState, Snapshot
from .clients import ClientFactory
from .run import FIRST_SPAWN_DELAY_MS, Run


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
    #: points were added, moved or deleted by hand (``edit_points``): the dataset changed,
    #: the network and its weights did not
    data_changed = QtCore.Signal()
    #: the main run's snapshot reflects every command sent (see ``Run``)
    acknowledged = QtCore.Signal()
    #: ... and nothing is left to train
    settled = QtCore.Signal()
    #: a problem the user must see (divergence, bad value); training is paused
    error = QtCore.Signal(str)
    dirty_changed = QtCore.Signal(bool)
    path_changed = QtCore.Signal(object)
    speed_changed = QtCore.Signal(object)
    #: something the user should know that is not an error (e.g. a setting adapted)
    notice = QtCore.Signal(str)
    #: the epoch shown from the run's past (None: the present)
    past_changed = QtCore.Signal(object)
    #: a scrub is being computed: (epochs done, epochs to replay)
    scrub_progress = QtCore.Signal(int, int)
    #: Play from a past epoch started a branch (its epoch); the old future is the ghost
    branched = QtCore.Signal(int)
    #: the comparison the project carries changed (started in the window, or loaded)
    comparison_changed = QtCore.Signal()

    def __init__(self, project: Project | None = None, parent: QtCore.QObject | None = None,
                 path: str | Path | None = None, factory: ClientFactory | None = None,
                 start_delay_ms: int = FIRST_SPAWN_DELAY_MS):
        super().__init__(parent)
        self._factory = factory if factory is not None else ClientFactory()
        self._dirty = False
        self._path: Path | None = Path(path) if path is not None else None
        self._selected = 0
        self._speed: float | None = None
        self._run: Run | None = None
        self._past: Snapshot | None = None  # the past epoch shown (a scrub), if any
        self._past_network: Network | None = None
        self._scrub_worker = None
        self._scrub_target: int | None = None
        #: the comparison the project carries ({"epochs", "runs", "start": the weights its
        #: runs started from, "layers": the network's shape then}), the start a loaded
        #: project's comparisons use until new initial weights come (None: the initial
        #: weights), and what the last load left out
        self._comparison: dict | None = None
        self._comparison_start: np.ndarray | None = None
        self._left_out: list[str] = []
        project = project if project is not None else presets.load_preset(presets.DEFAULT)
        dataset = data_mod.build(project.data)
        edits.check(project, dataset)
        self._set_project(project, dataset)
        self._run = Run(project.network, dataset,
                        RunState.start(project.network.params, project.training),
                        self._factory, self, start_delay_ms=start_delay_ms)
        self._take_comparison(project, str(path) if path is not None else "the project",
                              self._path.parent if self._path is not None else None)
        r = self._run
        r.snapshot_changed.connect(self.snapshot_changed)
        r.history_changed.connect(self.history_changed)
        r.running_changed.connect(self.running_changed)
        r.acknowledged.connect(self.acknowledged)
        r.settled.connect(self.settled)
        r.failed.connect(self._on_failed)
        r.notice.connect(self.notice)

    # -- reading ----------------------------------------------------------------------
    @property
    def run(self) -> Run:
        """The main run: the one the views show."""
        return self._run

    @property
    def project(self) -> Project:
        """The project with the newest weights and settings (a copy: safe to keep or save),
        and the comparison it carries."""
        p = self._project.copy()
        p.network.params[:] = self.params
        p.training = self.config
        p.left_out = []
        p.comparison = self.comparison
        if p.comparison is not None:
            start = self._comparison["start"]
            if not np.array_equal(start, p.network.params):
                p.comparison["start"] = start_to_json(p.network, start)
        return p

    @property
    def comparison(self) -> dict | None:
        """The comparison the project carries: ``{"epochs": N, "runs": [{"name", "set"},
        ...]}`` (a copy), or None. One run on another network shape than the current is
        not carried (its start weights no longer fit)."""
        c = self._comparison
        if c is None or c["layers"] != self.layers:
            return None
        return {"epochs": c["epochs"], "runs": [dict(r) for r in c["runs"]]}

    @property
    def comparison_start(self) -> np.ndarray:
        """The weights a new comparison starts from: the initial weights (where Reset goes
        back to), or, in a project loaded with a saved comparison, the weights that one
        started from, until new initial weights come (a copy)."""
        s = self._comparison_start
        return s.copy() if s is not None else self.initial_params

    @property
    def left_out(self) -> list[str]:
        """What the last load left out of the project, one line each (a bad saved
        comparison); empty when all of it loaded."""
        return list(self._left_out)

    @property
    def network(self) -> Network:
        """A network with the weights shown (the newest, or the scrubbed epoch's; a
        copy)."""
        base = self._past_network if self._past is not None else self._project.network
        net = base.copy()
        net.params[:] = self.params
        return net

    @property
    def history(self) -> History:
        return self._run.history

    @property
    def layers(self) -> list[int]:
        return list(self._project.network.layers)

    @property
    def activations(self) -> list[str]:
        return self._project.network.activation_names

    @property
    def params(self) -> np.ndarray:
        return self.snapshot.params

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
    def snapshot(self) -> Snapshot:
        """What the views show: the run's newest snapshot, or the past epoch scrubbed to."""
        return self._past if self._past is not None else self._run.snapshot

    @property
    def epoch(self) -> int:
        return self.snapshot.epoch

    @property
    def updates(self) -> int:
        return self.snapshot.updates

    @property
    def past_epoch(self) -> int | None:
        """The past epoch the views show (None: the present)."""
        return self._past.epoch if self._past is not None else None

    @property
    def timeline(self):
        """The main run's past (``runs.timeline.Timeline``)."""
        return self._run.timeline

    @property
    def running(self) -> bool:
        return self._run.running

    @property
    def is_settled(self) -> bool:
        return self._run.is_settled

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
        """Where training runs: ``process`` (a child process), ``thread``, or ``none``
        after ``shutdown``."""
        return self._run.backend if self._run is not None else "none"

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
        one), computed with the newest weights by the engine's own update."""
        idx = [self._selected] if samples is None else list(samples)
        ds = self._dataset
        return trace_step(self.network, self.config, ds.x_train[idx], ds.y_train[idx],
                          self.snapshot.optimizer)

    def sample_outputs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every training sample's output and data loss with the newest weights: arrays
        of shape (samples, outputs) and (samples,); their mean loss is the run's train
        loss once it has measured these weights."""
        cache = self.network.forward(self._dataset.x_train)
        return cache.z[-1].copy(), sample_losses(self.config, cache, self._dataset.y_train)

    def next_batches(self) -> list[np.ndarray]:
        """The batches of the next epoch, in the order training will use them (the shuffle
        generator's state as the run last reported it)."""
        from ..engine.training import Trainer

        tr = Trainer(self.network, self.config, self._dataset.x_train, self._dataset.y_train)
        rng = self._run.snapshot.state.rng
        if rng is not None:
            tr.rng_state = rng
        return tr.next_batches()

    def after_settled(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` once the main run reflects every command and is idle: at once if it
        does, else when it does. Nothing waits meanwhile."""
        self._run.after_settled(fn)

    # -- setting up ---------------------------------------------------------------------
    def _set_project(self, project: Project, dataset: data_mod.Dataset) -> None:
        self._project = project
        self._dataset = dataset
        self._initial_params = project.network.params.copy()
        self._selected = min(self._selected, len(dataset.x_train) - 1)

    def _install(self, project: Project, dataset: data_mod.Dataset | None = None,
                 keep_history: bool = False, state: RunState | None = None) -> None:
        """Put ``project`` on the main run (the same client): a new run at epoch 0, or with
        ``keep_history`` the same run going on with another network."""
        if self._run is not None:
            self.show_present()
        if dataset is None:
            dataset = self._dataset if project.data == self._project.data else \
                data_mod.build(project.data)
        edits.check(project, dataset)  # everything is checked before anything changes
        if state is None:
            if keep_history:
                s = self._run.snapshot.state
                state = s.replace(params=project.network.params.copy(),
                                  config=project.training, running=False, budget=0)
            else:
                state = RunState.start(project.network.params, project.training)
        self._set_project(project, dataset)
        if not keep_history:  # other initial weights: a comparison starts from these now
            self._comparison_start = None
        self._run.load(project.network, dataset, state, keep_history=keep_history)
        self.structure_changed.emit()
        self.config_changed.emit(self.config)
        self.history_changed.emit()

    def shutdown(self) -> None:
        """End the training client (call before the window closes); never waits."""
        w, self._scrub_worker = self._scrub_worker, None
        if w is not None:
            w[1].cancel()
        if self._run is not None:
            self._run.shutdown()

    def _on_failed(self, message: str) -> None:
        self.error.emit(message)

    def _mark_dirty(self) -> None:
        if not self._dirty:
            self._dirty = True
            self.dirty_changed.emit(True)

    # -- the comparison the project carries -------------------------------------------
    def set_comparison(self, runs: list[dict], epochs: int, start: np.ndarray) -> None:
        """A comparison was started: the project carries it from now on (its runs as
        ``runs.compare.runs_to_json`` writes them, the epochs, and the weights its runs
        start from). It is the user's work: the project is marked unsaved."""
        self._comparison = {"epochs": int(epochs), "runs": [dict(r) for r in runs],
                            "start": np.array(start, dtype=np.float64),
                            "layers": self.layers}
        self._mark_dirty()
        self.comparison_changed.emit()

    def _take_comparison(self, project: Project, source: str, folder) -> None:
        """Carry ``project``'s saved comparison, its runs checked as a comparison would
        make them; a bad one is left out with one line in ``left_out`` (the rest of the
        project loads)."""
        self._left_out = list(project.left_out)
        self._comparison, self._comparison_start = None, None
        saved = project.comparison
        if saved is not None:
            try:
                base = project_base(source, project, folder=str(folder) if folder else None)
                check_variants(base, runs_from_json(saved["runs"], "comparison.runs"),
                               "comparison.runs")
            except CompareError as e:
                self._left_out.append(f"{e}; the saved comparison was left out")
            else:
                self._comparison_start = comparison_start(project)
                start = self._comparison_start if self._comparison_start is not None \
                    else project.network.params.copy()
                self._comparison = {"epochs": saved["epochs"],
                                    "runs": [dict(r) for r in saved["runs"]],
                                    "start": start, "layers": list(project.network.layers)}
        self.comparison_changed.emit()

    # -- the timeline: the run's past ---------------------------------------------------
    def scrub(self, epoch: int) -> None:
        """Show the run as it was at ``epoch`` (pauses training). The state is recomputed
        off the UI thread from the nearest kept state (bit for bit what training had);
        a new scrub while one is computed replaces it. ``scrub`` to the newest epoch
        shows the present again."""
        if self.running:
            self.pause()
        self._scrub_target = int(epoch)
        self._run.after_settled(self._start_scrub)

    def _start_scrub(self) -> None:
        epoch = self._scrub_target
        if epoch is None:
            return
        t = self._run.timeline
        epoch = min(max(epoch, t.first_epoch), t.last_epoch)
        if epoch == self._run.snapshot.epoch and t.last_epoch == epoch:
            self._scrub_target = None
            self.show_present()
            return
        old, self._scrub_worker = self._scrub_worker, None
        if old is not None:
            old[1].cancel()
        replay = t.replay(epoch)
        worker = create_worker(_replay_steps, replay, _start_thread=False)
        worker.yielded.connect(lambda p, r=replay: self._on_scrub_step(r, p))
        worker.finished.connect(lambda r=replay: self._on_scrub_done(r))
        self._scrub_worker = (worker, replay)
        worker.start()

    def _on_scrub_step(self, replay, progress) -> None:
        if self._scrub_worker is None or self._scrub_worker[1] is not replay:
            return
        if isinstance(progress, Exception):
            self._scrub_worker = None
            self.error.emit(f"Cannot show that epoch: {progress}")
            return
        self.scrub_progress.emit(*progress)

    def _on_scrub_done(self, replay) -> None:
        if self._scrub_worker is None or self._scrub_worker[1] is not replay:
            return
        self._scrub_worker = None
        if replay.snapshot is None:
            return  # cancelled
        self._scrub_target = None
        self._past = replay.snapshot
        self._past_network = replay.era.network
        self.past_changed.emit(self._past.epoch)
        self.snapshot_changed.emit(self._past)

    def show_present(self) -> None:
        """Back to the newest state (what training has now)."""
        self._scrub_target = None
        w, self._scrub_worker = self._scrub_worker, None
        if w is not None:
            w[1].cancel()
        if self._past is not None:
            self._past = None
            self._past_network = None
            self.past_changed.emit(None)
            self.snapshot_changed.emit(self._run.snapshot)

    def _branch_here(self) -> None:
        """Training goes on from the past epoch shown: its future is cut off and kept as
        the ghost (``timeline.ghost``) until the next branch; ``undo_branch`` restores
        it."""
        past, net = self._past, self._past_network
        self._past = self._past_network = None
        self._run.timeline.branch_at(past.epoch)
        self._run.continue_from(net, past.state)
        self.past_changed.emit(None)
        self.history_changed.emit()
        self.branched.emit(past.epoch)

    def undo_branch(self) -> None:
        """Give back the future the last branch cut off (the branch becomes the ghost)."""
        self.show_present()
        t = self._run.timeline
        state = t.undo_branch()
        self._run.continue_from(t.eras[-1].network, state)
        self.history_changed.emit()

    def redo_branch(self) -> None:
        self.show_present()
        t = self._run.timeline
        state = t.redo_branch()
        self._run.continue_from(t.eras[-1].network, state)
        self.history_changed.emit()

    # -- training commands --------------------------------------------------------------
    def play(self) -> None:
        if self._past is not None:
            self._branch_here()
        self._run.play()
        self._mark_dirty()

    def pause(self) -> None:
        self._run.pause()

    def toggle_running(self) -> None:
        self.pause() if self.running else self.play()

    def step_epochs(self, n: int = 1) -> None:
        """Train exactly ``n`` more epochs (pauses first if running; from a past epoch
        shown, a branch)."""
        if self._past is not None:
            self._branch_here()
        self._run.step(int(n))
        self._mark_dirty()

    def reset(self) -> None:
        """Back to the initial weights of this network, epoch 0; the history starts again
        (with the loss at epoch 0)."""
        self.show_present()
        self._run.reset(self._initial_params)
        self.history_changed.emit()
        self._mark_dirty()

    def set_speed(self, epochs_per_second: float | None) -> None:
        """Limit training to this many epochs a second (None: full speed)."""
        if epochs_per_second is not None and not (epochs_per_second > 0):
            raise ValueError("speed must be a positive number of epochs per second")
        self._speed = epochs_per_second
        self._run.set_speed(epochs_per_second)
        self.speed_changed.emit(epochs_per_second)

    def set_config(self, **changes) -> None:
        """Change training settings live (learning rate, mode, optimiser, ...).

        Raises ``ValueError`` (nothing changed) when the new settings are invalid.
        """
        new = edits.with_config(self._project, self._dataset, **changes)
        self._project = new  # a new object: a lesson's stages share the old one
        self._run.set_config(new.training)
        self.config_changed.emit(new.training)
        self._mark_dirty()

    def set_learning_rate(self, lr: float) -> None:
        self.set_config(learning_rate=float(lr))

    def set_weight(self, ref: WeightRef, value: float) -> None:
        """Edit one weight, also while training runs."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError("a weight must be a finite number")
        self.show_present()
        self._run.set_weight(ref.layer, ref.target, ref.source, value)
        self._mark_dirty()
        self.snapshot_changed.emit(self._run.snapshot)

    def set_params(self, params: np.ndarray, epoch: int | None = None,
                   optimizer: OptimizerState | None = None, updates: int | None = None,
                   mark_dirty: bool = True, by_hand: bool = False) -> None:
        """Replace all weights (an undo, a step taken by hand); pauses training. With
        ``optimizer`` the optimiser's state moves with them. ``mark_dirty`` False: a
        step that only shows what training does (a lesson, the phase stepper).
        ``by_hand``: an update taken by hand, marked on the loss curve (a later
        ``set_params`` with fewer ``updates`` takes the mark back)."""
        self.show_present()
        self._run.set_state(params, optimizer, epoch, updates, mark=by_hand)
        if mark_dirty:
            self._mark_dirty()
        self.snapshot_changed.emit(self._run.snapshot)

    def select_sample(self, k: int) -> None:
        n = len(self._dataset.x_train)
        k = int(k) % n if n else 0
        if k != self._selected:
            self._selected = k
            self.selected_sample_changed.emit(k)

    # -- structure, data, initialisation ------------------------------------------------
    def set_structure(self, layers: list[int], hidden_activation: str | list[str] | None = None,
                      output_activation: str | None = None) -> None:
        """Rebuild the network with this shape and activations from the same seed."""
        self._install(edits.with_structure(self._project, self._dataset, layers,
                                           hidden_activation, output_activation))
        self._mark_dirty()

    def set_activations(self, hidden: str | None = None, output: str | None = None,
                        loss: str | None = None) -> None:
        """Change activations (and the loss with them); keeps the current weights and the
        run's epoch count. Reset still goes back to the run's start."""
        initial = self._initial_params
        self._install(edits.with_activations(self._project, self._dataset, self.params,
                                             hidden, output, loss), keep_history=True)
        self._initial_params = initial
        self._mark_dirty()

    def set_loss(self, loss: str) -> edits.LossChoice:
        """Change the loss; one that needs another output activation (bce: sigmoid, ce:
        softmax) brings it along in the same change, keeping the weights (see
        ``edits.choose_loss``). Returns what was applied. Raises ``ValueError`` (nothing
        changed) when the pair cannot train on the data."""
        return self._apply_loss_choice(edits.choose_loss(self.activations[-1], loss))

    def set_output_activation(self, output: str) -> edits.LossChoice:
        """Change the output activation (keeping the weights); a loss that cannot use it
        becomes the one that fits it in the same change (see ``edits.choose_output``).
        Returns what was applied. Raises ``ValueError`` (nothing changed) when the pair
        cannot train on the data."""
        return self._apply_loss_choice(edits.choose_output(output, self.config.loss))

    def _apply_loss_choice(self, choice: edits.LossChoice) -> edits.LossChoice:
        output, loss = self.activations[-1], self.config.loss
        if choice.output != output:
            self.set_activations(output=choice.output,
                                 loss=choice.loss if choice.loss != loss else None)
        elif choice.loss != loss:
            self.set_config(loss=choice.loss)
        return choice

    def new_initial_weights(self) -> int:
        """Draw new initial weights: the initialisation's seed goes up by one and the run
        starts again from them (Reset keeps going back to the same start). Returns the new
        seed."""
        init = replace(self._project.init, seed=int(self._project.init.seed) + 1)
        self.set_init(init)
        return init.seed

    def set_init(self, init: InitConfig) -> None:
        """New initialisation: rebuild the weights from it (same shape)."""
        self._install(edits.with_init(self._project, self._dataset, init))
        self._mark_dirty()

    def set_data(self, spec: data_mod.DataSpec) -> None:
        """New data: a new run, rebuilt from the same seed (the input and output layers
        follow the data; ``notice`` says when the loss had to change, see ``runs.edits``)."""
        change = edits.with_data(self._project, spec)
        self._install(change.project, change.dataset)
        self._mark_dirty()
        if change.notice:
            self.notice.emit(change.notice)

    def edit_points(self, spec: data_mod.DataSpec) -> None:
        """Points added, moved or deleted by hand (see ``controller.data_edits``): the
        network goes on from where it is (weights, optimiser state, epoch, running or not)
        on the points of ``spec``, and ``data_changed`` is emitted; a scrubbed past epoch
        gives way to the present first, and the timeline starts a new era with these
        points (scrubbing back shows the old ones). Only if the kind of data
        changes (its task, or whether it has a test part) is it also ``structure_changed``,
        and the loss history starts again at this epoch. Raises ``ValueError`` (nothing
        changed) if the points need another network (other numbers of inputs or targets)
        or the loss cannot fit them."""
        dataset = data_mod.build(spec)
        old = self._dataset
        if (dataset.n_inputs, dataset.n_targets) != (old.n_inputs, old.n_targets):
            raise ValueError(f"edited points must keep {old.n_inputs} inputs and "
                             f"{old.n_targets} targets (use set_data for other data)")
        p = self._project
        network = p.network.copy()
        network.params[:] = self._run.snapshot.params  # the newest, not a scrubbed epoch's
        project = Project(network, p.training, spec, p.init, dict(p.meta), p.lesson)
        edits.check(project, dataset)
        self.show_present()  # the points change now, on the run as it stands
        same_kind = (dataset.task, dataset.has_test) == (old.task, old.has_test)
        state = self._run.snapshot.state.replace(running=self._run.running)
        initial, selected = self._initial_params, self._selected
        self._set_project(project, dataset)
        self._initial_params = initial  # Reset still goes back to the run's start
        self._run.load(project.network, dataset, state, keep_history=same_kind)
        self._mark_dirty()
        if not same_kind:
            self.structure_changed.emit()
            self.history_changed.emit()
        self.data_changed.emit()
        if self._selected != selected:
            self.selected_sample_changed.emit(self._selected)

    def import_csv(self, path: str | Path, targets: list[str] | None = None,
                   test_fraction: float = 0.0, normalize: bool = False) -> tuple[int, list[str],
                                                                                 list[str]]:
        """Use a CSV file's rows as the data (inline in the project, so the project file
        keeps them). Returns (rows, input names, target names). Raises ``ValueError``
        naming the line and column; the current data and network stay then."""
        x, y, in_names, out_names = data_mod.read_csv(path, targets)
        spec = data_mod.DataSpec(
            inputs=tuple(map(tuple, x.tolist())), targets=tuple(map(tuple, y.tolist())),
            input_names=in_names, target_names=out_names,
            test_fraction=float(test_fraction), normalize=bool(normalize))
        self.set_data(spec)
        return len(x), list(in_names), list(out_names)

    def load_state(self, project: Project, state: RunState, history_rows: np.ndarray,
                   selected: int = 0, initial_params: np.ndarray | None = None,
                   dataset: data_mod.Dataset | None = None, grad_norms=()) -> None:
        """Put a whole computed state on the main run in one go (a lesson step): the
        project, the run's state and its history. Showing a lesson step is not a change
        of the user's work (nothing is marked unsaved)."""
        self.show_present()
        self._install(project.copy(), dataset=dataset, state=state)
        if initial_params is not None:
            self._initial_params = np.array(initial_params, dtype=np.float64)
        self._run.replace_history(history_rows, grad_norms)
        self.select_sample(selected)
        self.history_changed.emit()

    # -- files ----------------------------------------------------------------------------
    def load_project(self, path: str | Path) -> None:
        """Open a project file. Raises ``ProjectError``; the current work is untouched."""
        project = load(path)
        self._install(project)
        self._path = Path(path)
        self._take_comparison(project, str(path), self._path.absolute().parent)
        self._set_clean()
        self.path_changed.emit(self._path)

    def open_recovered(self, path: str | Path, origin: str | Path | None,
                       meta_key: str) -> None:
        """Open a recovery copy as unsaved work: ``origin`` (the file it was last saved
        as, if any) becomes the session's file again. Raises ``ProjectError``."""
        project = load(path)
        if project.meta:
            project.meta.pop(meta_key, None)
        self._install(project)
        self._path = Path(origin) if origin else None
        self._take_comparison(project, str(path), Path(path).absolute().parent)
        self.path_changed.emit(self._path)
        self._mark_dirty()

    def load_preset(self, name: str) -> None:
        project = presets.load_preset(name)
        self._install(project)
        self._take_comparison(project, name, None)
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


def run_until_settled(session: Session, timeout_ms: int = 60_000) -> bool:
    """For scripts (the self-test, the benchmark, ``--screenshot``), never for a slot: run
    Qt's event loop until the main run is settled or ``timeout_ms`` passes. Returns
    whether it settled."""
    loop = QtCore.QEventLoop()
    done = [False]

    def settled() -> None:
        done[0] = True
        loop.quit()

    timer = QtCore.QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(timeout_ms)
    session.after_settled(settled)
    if not done[0]:
        loop.exec()
    timer.stop()
    return done[0]


def _replay_steps(replay):
    """A timeline replay for a worker: its progress, and any error as a value."""
    try:
        yield from replay
    except Exception as e:  # shown to the user, never lost in the worker
        yield e
