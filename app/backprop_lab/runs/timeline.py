"""A run's past in bounded memory: scrub back to any epoch, branch, undo a branch. No Qt.

A ``Timeline`` follows one run as the window sees it: every update (a ``RunState`` and
the history rows since the last one) is recorded, together with the commands it is the
first to acknowledge. It keeps three things:

**Rows.** Every epoch's measurements (train loss, test loss, train and test accuracy;
only the columns the data has) as float32, the epochs implicit (blocks of consecutive
epochs), so an epoch of the spiral costs 16 bytes and one of article-xor 8. float32
keeps about 7 significant digits (relative error below 6e-8); the CSV writes 9, which
reproduce the stored value exactly. The rows stay exact until they fill ``rows_budget``
(16 MiB: a million epochs of the spiral take 16 MB); then the oldest blocks are folded
into min/max buckets (see ``runs.history``), a block an update, until a quarter of the
budget is free, so the memory is bounded at any run length. The ``history`` the docks
draw is fed from here.

**Checkpoints.** A checkpoint is a full ``RunState`` (weights, optimiser state, epoch,
update count, shuffle generator, settings) packed into one float64 array. Every update
is a candidate. The newest ``dense`` (32) are always kept; older ones are thinned to
one per ``spacing`` epochs (the first update in each run of ``spacing`` epochs), and
``spacing`` (a power of two, 1 at the start: every update is kept early on) doubles
whenever the checkpoints, the ghost's included, exceed ``checkpoints_budget`` (12 MiB)
or ``MAX_CHECKPOINTS`` (4096: a tiny network's checkpoints are cheap to replay between).
So scrubbing never replays more than ``spacing`` epochs (512 after a million epochs
of the spiral with Adam). Pinned checkpoints are never thinned: the run's start, and
the state after a command that cannot be replayed (``SetState``: a step by hand or an
undo; ``Load``: an activation change that keeps the history; ``Reset``).

**Edits.** A ``SetConfig`` (learning rate, optimiser ...) or ``SetWeight`` is kept as the
command itself with the epoch it was applied at (the epoch of the update that first
acknowledges it: the loop publishes right after applying commands) and replayed with
``TrainingLoop.apply``. An edit costs bytes, not a checkpoint, and is never dropped.

``state_at(epoch)`` is the state training had at that epoch (the latest one at that
epoch, after any edit made there): the nearest kept checkpoint at or before it, then
``TrainingLoop.run_epochs`` forward with the edits applied where they were. Same
arithmetic, same RNG state: bit for bit. ``replay(epoch)`` is the same as a
``Replay``: an iterator that trains ``chunk`` epochs a step and yields progress, for a
worker thread (created on the thread that owns the timeline; it shares nothing
mutable with it). Finished and partial replays leave waypoints that later replays
start from, so dragging a slider forward replays only the new epochs.

**Branching.** ``branch_at(epoch)`` cuts the future off and keeps it (rows, checkpoints,
edits, gradient norms) as the ``ghost``, drawn as a faint curve, until the next branch.
``undo_branch()`` swaps them back: the ghost becomes the run's future again and the
branch becomes the ghost (so ``redo_branch()`` is the same swap).

How the window feeds it (``controller.run.Run``, which then reads ``timeline.history``
and adds nothing to it itself):

- a new run, a ``Reset`` or a ``Load`` that starts the history again: ``restart(network,
  dataset, state, rows)``, with the row(s) measured for the new state;
- every update whose rows the window accepts (it acknowledges the newest Reset or Load):
  ``record(state, rows, commands, grad_norms)``, where ``commands`` are the ``(seq,
  message)`` pairs of the run's command log that this update is the first to
  acknowledge (``state.applied`` above the previous update's);
- an activation change that keeps the history: nothing extra (its ``Load`` command
  arrives in ``commands`` and starts a new era with its network), or ``switch``;
- play from a scrubbed epoch k: ``branch_at(k)``, then send ``Load(network, dataset,
  state)`` with the state at k (a ``Load``, not ``SetState``: it carries the shuffle
  generator); undo: ``undo_branch()`` and send a ``Load`` of the state it returns.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..engine.data import Dataset
from ..engine.network import Network
from ..engine.optimizers import OptimizerState
from ..engine.training import TrainingConfig
from .history import ROW_COLUMNS, Buckets, History, PeakSeries
from .loop import TrainingLoop
from .state import (
    Load,
    Reset,
    RunState,
    SetConfig,
    SetState,
    SetWeight,
    Snapshot,
    decode_command,
)

MIB = 1 << 20
ROWS_BUDGET = 16 * MIB
CHECKPOINTS_BUDGET = 12 * MIB
MAX_CHECKPOINTS = 4096  # also at most this many (a tiny network's are cheap to replay)
DENSE = 32  # the newest checkpoints, always kept
BLOCK_ROWS = 1 << 14  # rows per block of the row store (folded one at a time)
REPLAY_CHUNK = 32  # epochs per step of a replay
WAYPOINTS = 8  # states a replay leaves behind for later ones
SCRATCH = 32  # waypoints kept
CHECKPOINT_OVERHEAD = 560  # bytes of Python objects around a checkpoint's array (measured)
EDIT_OVERHEAD = 400  # bytes of an edit (a small frozen dataclass and its tuple)


def row_columns(dataset: Dataset) -> tuple[int, ...]:
    """Which of ``ROW_COLUMNS`` the data has: the training loss always, the test loss with
    a test set, the accuracies for classification."""
    cls = dataset.task == "classification"
    cols = [0]
    if dataset.has_test:
        cols.append(1)
    if cls:
        cols.append(2)
        if dataset.has_test:
            cols.append(3)
    return tuple(cols)


# -- rows -----------------------------------------------------------------------------------
class _Block:
    """Rows of consecutive epochs ``first .. first + n - 1`` as float32 columns."""

    __slots__ = ("first", "n", "data")

    def __init__(self, first: int, k: int, cap: int):
        self.first = first
        self.n = 0
        self.data = np.empty((k, cap), dtype=np.float32)

    @property
    def last(self) -> int:
        return self.first + self.n - 1


class RowStore:
    """Every epoch's measurements in float32, epochs implicit; the oldest folded into
    min/max buckets once the store passes its budget (``shrink_to``)."""

    def __init__(self, columns: tuple[int, ...], budget: int = ROWS_BUDGET):
        self.columns = tuple(columns)
        self.k = len(self.columns)
        self.budget = int(budget)
        self.blocks: list[_Block] = []
        # a block takes at most an eighth of the budget (the newest is never folded)
        self.block_rows = int(min(BLOCK_ROWS, max(256, self.budget // (32 * self.k))))
        per_bucket = 16 + self.k * 9
        self.reduced = Buckets(self.k, np.float32,
                               max(64, self.budget // (8 * per_bucket)))

    # -- reading ------------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        return sum(b.data.nbytes for b in self.blocks) + self.reduced.nbytes

    @property
    def last_epoch(self) -> int | None:
        if self.blocks:
            return self.blocks[-1].last
        return self.reduced.last_epoch

    @property
    def first_epoch(self) -> int | None:
        if self.reduced.n:
            return int(self.reduced.first[0])
        return self.blocks[0].first if self.blocks else None

    @property
    def exact_from(self) -> int | None:
        """Rows from this epoch on are kept one per epoch (None: none are)."""
        return self.blocks[0].first if self.blocks else None

    def __len__(self) -> int:
        """Rows kept exactly."""
        return sum(b.n for b in self.blocks)

    def row_at(self, epoch: int) -> np.ndarray | None:
        """The five-column row of ``epoch`` (float64; NaN for a column the data has not),
        or None if that epoch is not kept exactly."""
        i = bisect.bisect_right(self.blocks, epoch, key=lambda b: b.first) - 1
        if i < 0 or epoch > self.blocks[i].last:
            return None
        b = self.blocks[i]
        row = np.full(5, np.nan)
        row[0] = epoch
        row[1 + np.array(self.columns)] = b.data[:, epoch - b.first]
        return row

    def snapshot(self) -> list:
        """The pieces as they are now, safe to read from another thread while rows keep
        arriving: ``("buckets", first, last, lo, hi, hf, width)`` (copies) then
        ``("rows", first, n, data)`` per block (appends never touch the first ``n``
        columns; a cut copies a block before rows are written over it)."""
        out: list = []
        if self.reduced.n:
            f, la, lo, hi, hf = self.reduced.arrays()
            out.append(("buckets", f.copy(), la.copy(), lo.copy(), hi.copy(), hf.copy(),
                        self.reduced.width))
        out += [("rows", b.first, b.n, b.data) for b in self.blocks]
        return out

    # -- changing -----------------------------------------------------------------------
    def append(self, epochs: np.ndarray, values: np.ndarray) -> None:
        """Add rows: ``epochs`` strictly increasing and after ``last_epoch``; ``values``
        the five-column rows' value columns, shaped (4, n)."""
        vals = values[list(self.columns)]
        n = len(epochs)
        consecutive = n < 2 or int(epochs[-1]) - int(epochs[0]) == n - 1
        full = self.block_rows
        i = 0
        while i < n:
            e = int(epochs[i])
            b = self.blocks[-1] if self.blocks else None
            if b is None or e != b.last + 1 or b.n == full:
                b = _Block(e, self.k, min(256, full))
                self.blocks.append(b)
            # as many consecutive epochs as fit in this block
            run = n - i
            if not consecutive:
                gaps = np.flatnonzero(np.diff(epochs[i:]) != 1)
                if len(gaps):
                    run = int(gaps[0]) + 1
            run = min(run, full - b.n)
            if b.n + run > b.data.shape[1]:
                cap = min(full, max(b.n + run, 2 * b.data.shape[1]))
                data = np.empty((self.k, cap), dtype=np.float32)
                data[:, :b.n] = b.data[:, :b.n]
                b.data = data
            with np.errstate(over="ignore"):  # a loss beyond float32 is stored as inf
                b.data[:, b.n:b.n + run] = vals[:, i:i + run]
            b.n += run
            i += run

    def truncate_after(self, epoch: int) -> None:
        """Drop the rows after ``epoch``."""
        self.split_after(epoch)

    def split_after(self, epoch: int) -> RowStore:
        """Move the rows after ``epoch`` into a new store (same columns and budget)."""
        tail = RowStore(self.columns, self.budget)
        i = bisect.bisect_right(self.blocks, epoch, key=lambda b: b.first)
        if i > 0 and self.blocks[i - 1].last > epoch:  # the cut falls inside a block
            b = self.blocks[i - 1]
            keep = epoch - b.first + 1
            t = _Block(epoch + 1, self.k, b.n - keep)
            t.data[:, :] = b.data[:, keep:b.n]
            t.n = b.n - keep
            # a copy for the part that stays: readers of the old array keep their rows
            data = np.empty((self.k, max(keep, 256)), dtype=np.float32)
            data[:, :keep] = b.data[:, :keep]
            b.data, b.n = data, keep
            tail.blocks.append(t)
        tail.blocks += self.blocks[i:]
        del self.blocks[i:]
        if not self.blocks and self.reduced.n:
            tail.reduced = self.reduced.split_after(epoch)
        return tail

    def extend(self, other: RowStore) -> None:
        """Append ``other``'s rows (all after ours)."""
        if other.reduced.n:
            # buckets only go before exact blocks: fold ours first (rare: both long)
            for b in self.blocks:
                self._fold(b)
            self.blocks = []
            r = other.reduced
            self.reduced.add_buckets(*r.arrays(), r.width)
        self.blocks += other.blocks
        other.blocks = []

    def shrink_to(self, target: int, max_blocks: int | None = None) -> None:
        """Fold the oldest blocks into min/max buckets until the store takes at most
        ``target`` bytes (the newest block always stays exact), or ``max_blocks`` of
        them have been folded."""
        folded = 0
        while self.nbytes > target and len(self.blocks) > 1 and \
                (max_blocks is None or folded < max_blocks):
            self._fold(self.blocks.pop(0))
            folded += 1

    def _fold(self, b: _Block) -> None:
        self.reduced.add_samples(np.arange(b.first, b.first + b.n, dtype=np.int64),
                                 b.data[:, :b.n])


# -- checkpoints ----------------------------------------------------------------------------
def _pack_rng(rng: dict | None):
    """A PCG64 state as a tuple of ints (a fraction of a nested dict's size)."""
    if rng is None:
        return None
    try:
        if rng["bit_generator"] == "PCG64" and set(rng) == {"bit_generator", "state",
                                                            "has_uint32", "uinteger"}:
            s = rng["state"]
            return (int(s["state"]), int(s["inc"]), int(rng["has_uint32"]),
                    int(rng["uinteger"]))
    except (KeyError, TypeError):
        pass
    return dict(rng)


def _unpack_rng(packed) -> dict | None:
    if packed is None or isinstance(packed, dict):
        return None if packed is None else dict(packed)
    state, inc, has32, uint = packed
    return {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
            "has_uint32": has32, "uinteger": uint}


class Checkpoint:
    """A ``RunState`` packed: params, optimiser ``m`` and ``v`` in one float64 array."""

    __slots__ = ("epoch", "applied", "updates", "era", "config", "opt_kind", "opt_step",
                 "n_params", "has_m", "has_v", "data", "rng", "marks", "own_marks", "pinned")

    def __init__(self, state: RunState, era: int, pinned: bool = False,
                 previous: Checkpoint | None = None):
        p = np.asarray(state.params, dtype=np.float64)
        opt = state.optimizer
        parts = [p.ravel()]
        self.has_m = opt.m is not None
        self.has_v = opt.v is not None
        if self.has_m:
            parts.append(np.asarray(opt.m, dtype=np.float64).ravel())
        if self.has_v:
            parts.append(np.asarray(opt.v, dtype=np.float64).ravel())
        self.data = np.concatenate(parts)
        self.n_params = p.size
        self.epoch = int(state.epoch)
        self.applied = int(state.applied)
        self.updates = int(state.updates)
        self.era = era
        self.config = state.config
        self.opt_kind = opt.kind
        self.opt_step = int(opt.step)
        rng = state.rng
        if rng is None:  # fresh from the seed: the same state, written out
            rng = np.random.default_rng(state.config.seed).bit_generator.state
        self.rng = _pack_rng(rng)
        # the marks of updates taken by hand: rarely change, so shared with the previous
        marks = np.asarray(state.marks, dtype=np.float64)
        if previous is not None and np.array_equal(previous.marks, marks):
            marks = previous.marks
        elif marks is state.marks:
            marks = marks.copy()
        self.marks = marks
        self.own_marks = previous is None or marks is not previous.marks
        self.pinned = pinned

    @property
    def key(self) -> tuple[int, int]:
        return (self.epoch, self.applied)

    @property
    def nbytes(self) -> int:
        return self.data.nbytes + CHECKPOINT_OVERHEAD + \
            (self.marks.nbytes if self.own_marks else 0)

    def holds(self, state: RunState) -> bool:
        """Whether ``state`` is this checkpoint's state (its ``applied`` aside)."""
        other = Checkpoint(state, self.era)
        return (other.data.tobytes() == self.data.tobytes() and other.rng == self.rng
                and np.array_equal(other.marks, self.marks)
                and other.config == self.config and other.opt_kind == self.opt_kind
                and other.opt_step == self.opt_step and other.updates == self.updates
                and (other.has_m, other.has_v) == (self.has_m, self.has_v))

    @property
    def params(self) -> np.ndarray:
        return self.data[:self.n_params]

    def state(self) -> RunState:
        """The state (fresh arrays), paused, with no Step budget and no speed limit."""
        p = self.n_params
        k = p
        m = v = None
        if self.has_m:
            m = self.data[k:k + p].copy()
            k += p
        if self.has_v:
            v = self.data[k:k + p].copy()
        return RunState(self.data[:p].copy(), self.config,
                        OptimizerState(self.opt_kind, self.opt_step, m, v), self.epoch,
                        self.updates, _unpack_rng(self.rng), False, 0, None, self.applied,
                        self.marks.copy())


@dataclass(frozen=True)
class Edit:
    """A command replayed at ``epoch``, in the order of ``seq``."""

    epoch: int
    seq: int
    command: SetConfig | SetWeight

    @property
    def key(self) -> tuple[int, int]:
        return (self.epoch, self.seq)


@dataclass(frozen=True)
class Era:
    """The network (shape and activations; its weights are not used) and data that the
    checkpoints from ``start`` on belong to."""

    network: Network
    dataset: Dataset


# -- replays -----------------------------------------------------------------------------
class ReplayError(RuntimeError):
    """Training diverged while replaying: the timeline does not match what the run did."""


class Replay:
    """The state at ``target``, computed from a checkpoint: iterate (each step trains up to
    ``chunk`` epochs and yields ``(done, total)``), or call ``run()``. ``result`` is
    the ``RunState`` once done and ``snapshot`` a ``Snapshot`` of it, measured as the
    training loop measures (losses, accuracies, gradient norms: what the views show).
    ``cancel()`` (from any thread) stops it at the next step; both stay None then."""

    def __init__(self, era: Era, start: Checkpoint, edits: list[Edit], target: int,
                 generation: int, chunk: int = REPLAY_CHUNK):
        self.era, self.start, self.edits = era, start, edits
        self.target = int(target)
        self.generation = generation
        self.chunk = max(1, int(chunk))
        self.total = self.target - start.epoch
        self.done = 0
        self.result: RunState | None = None
        self.snapshot: Snapshot | None = None
        self.cancelled = False
        #: states passed on the way (packed), for later replays; appended as it goes
        self.waypoints: list[Checkpoint] = []

    @property
    def start_epoch(self) -> int:
        return self.start.epoch

    def cancel(self) -> None:
        self.cancelled = True

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return self._steps()

    def run(self) -> RunState | None:
        """Replay to the end here and now; the state (None if cancelled)."""
        for _ in self._steps():
            pass
        return self.result

    def _steps(self) -> Iterator[tuple[int, int]]:
        if self.result is not None:
            return
        loop = TrainingLoop(self.era.network, self.era.dataset, self.start.state(),
                            record_start=False, pause_seconds=0.0)
        if self.total == 0 and not self.edits:
            self._finish(loop)
            yield (0, 0)
            return
        every = max(self.chunk, math.ceil(self.total / (WAYPOINTS + 1)))
        next_waypoint = self.start.epoch + every
        edits = list(self.edits)
        yield (0, self.total)
        while True:
            if self.cancelled:
                return
            stop = min(self.target, loop.epoch + self.chunk)
            if edits and edits[0].epoch <= stop:
                stop = edits[0].epoch
            n = stop - loop.epoch
            if n > 0:
                problem = loop.run_epochs(n)
                loop.take_rows()
                if problem:
                    raise ReplayError(f"replaying to epoch {self.target}: {problem}")
            while edits and edits[0].epoch == loop.epoch:
                e = edits.pop(0)
                loop.apply(e.command, e.seq)
            self.done = loop.epoch - self.start.epoch
            if loop.epoch >= next_waypoint and loop.epoch < self.target:
                self.waypoints.append(Checkpoint(loop.state(), self.start.era))
                next_waypoint += every
            if loop.epoch >= self.target and not edits:
                self._finish(loop)
                yield (self.done, self.total)
                return
            yield (self.done, self.total)

    def _finish(self, loop: TrainingLoop) -> None:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            snap = loop.snapshot()
        self.snapshot = snap
        self.result = snap.state


# -- the ghost --------------------------------------------------------------------------------
class Ghost:
    """The future a branch cut off: its rows, checkpoints and edits, kept until the next
    branch. ``history`` is a drawable (bounded) copy of its rows; ``end_epoch`` its last."""

    def __init__(self, branch_epoch: int, branch_applied: int, rows: RowStore,
                 checkpoints: list[Checkpoint], edits: list[Edit],
                 grad: PeakSeries | None, seen_applied: int):
        self.branch_epoch = branch_epoch
        self.branch_applied = branch_applied
        self.rows = rows
        self.checkpoints = checkpoints
        self.edits = edits
        self.grad = grad
        self.seen_applied = seen_applied
        self._history: History | None = None

    @property
    def end_epoch(self) -> int:
        ends = [c.epoch for c in self.checkpoints[-1:]]
        last = self.rows.last_epoch
        if last is not None:
            ends.append(last)
        return max(ends) if ends else self.branch_epoch

    @property
    def history(self) -> History:
        """The ghost's rows to draw (epoch, train/test loss, accuracy), bounded."""
        if self._history is None:
            h = History()
            _feed_history(h, self.rows.snapshot(), self.rows.columns)
            self._history = h
        return self._history

    @property
    def nbytes(self) -> int:
        return (self.rows.nbytes + sum(c.nbytes for c in self.checkpoints)
                + EDIT_OVERHEAD * len(self.edits)
                + (self.grad.nbytes if self.grad is not None else 0)
                + (self._history.nbytes if self._history is not None else 0))


def _same_data(a: Dataset, b: Dataset) -> bool:
    """The same data (a Load's decoded copy of the data the era already has)."""
    if a is b:
        return True
    return (a.task == b.task and tuple(a.input_names) == tuple(b.input_names)
            and tuple(a.target_names) == tuple(b.target_names)
            and all(np.array_equal(getattr(a, f), getattr(b, f))
                    for f in ("x_train", "y_train", "x_test", "y_test")))


def _feed_history(h: History, pieces: list, columns: tuple[int, ...],
                  has_test: bool | None = None, has_accuracy: bool | None = None) -> None:
    """Add a row store's pieces to a history (buckets, then rows a block at a time)."""
    cols = np.array(columns)
    ht = 1 in columns if has_test is None else has_test
    ha = 2 in columns if has_accuracy is None else has_accuracy
    for p in pieces:
        if p[0] == "buckets":
            _, f, la, lo, hi, hf, w = p
            n = len(f)
            full = [np.full((4, n), np.nan), np.full((4, n), np.nan),
                    np.zeros((4, n), dtype=bool)]
            full[0][cols], full[1][cols], full[2][cols] = lo, hi, hf
            h.add_row_buckets(f, la, full[0], full[1], full[2], w)
        else:
            _, first, n, data = p
            for s in range(0, n, 8192):
                m = min(8192, n - s)
                rows = np.full((m, 5), np.nan)
                rows[:, 0] = np.arange(first + s, first + s + m)
                rows[:, 1 + cols] = data[:, s:s + m].T
                h.add_rows(rows, ht, ha)


# -- the timeline ---------------------------------------------------------------------------
class Timeline:
    """One run's past: rows, checkpoints, edits, a ghost; see the module's docstring."""

    def __init__(self, network: Network, dataset: Dataset, state: RunState,
                 rows: np.ndarray | None = None, *, rows_budget: int = ROWS_BUDGET,
                 checkpoints_budget: int = CHECKPOINTS_BUDGET, dense: int = DENSE,
                 history: History | None = None):
        self.rows_budget = int(rows_budget)
        self.checkpoints_budget = int(checkpoints_budget)
        self.dense = max(1, int(dense))
        self.history = history if history is not None else History()
        self.generation = 0
        self.restart(network, dataset, state, rows)

    # -- following the run ------------------------------------------------------------------
    def restart(self, network: Network, dataset: Dataset, state: RunState,
                rows: np.ndarray | None = None) -> None:
        """A new history (a new run, a reset, a new network or data): the past, the ghost
        and everything else are dropped. ``state`` is where the run stands (pinned) and
        ``rows`` the rows measured so far (its epoch-0 row, or a lesson's history)."""
        self._eras = [Era(network.copy(), dataset)]
        self._columns = row_columns(dataset)
        self._rows = RowStore(self._columns, self.rows_budget)
        self._ckpts: list[Checkpoint] = [Checkpoint(state, 0, pinned=True)]
        self._ckpt_bytes = self._ckpts[0].nbytes
        # the dense tail takes at most a quarter of the budget (a big network has fewer)
        self._dense = max(2, min(self.dense, self.checkpoints_budget // (4 * self._ckpt_bytes)))
        self._edits: list[Edit] = []
        self._spacing = 1
        self._folding = False  # folding old rows, a block an update
        self._ghost: Ghost | None = None
        self._config: TrainingConfig = state.config
        self._seen = int(state.applied)  # the highest ``applied`` recorded
        self._ignore_upto = -1  # updates acknowledging no more than this are stale
        self._end = int(state.epoch)
        self._issued: list[Replay] = []
        self._scratch: list[Checkpoint] = []
        self.generation += 1
        self.history.clear()
        if rows is not None:
            self._add_rows(rows)

    def record(self, state: RunState, rows: np.ndarray | None = None,
               commands: Iterable = (), grad_norms: tuple[float, ...] = ()) -> None:
        """An update from the run: its state, the rows since the last update, and the
        commands it is the first to acknowledge, as ``(seq, message)`` pairs from the
        run's command log or ``(seq, command)`` pairs. Updates from before the newest
        branch or undo (``state.applied`` not above the command count then) are
        ignored."""
        if int(state.applied) <= self._ignore_upto:
            return
        if rows is not None and len(rows):
            self._add_rows(rows)
        pin = False
        edits: list[Edit] = []
        configured = False
        for seq, cmd in commands:
            if isinstance(cmd, dict):
                cmd, seq = decode_command(cmd)
            if isinstance(cmd, (SetConfig, SetWeight)):
                edits.append(Edit(int(state.epoch), int(seq), cmd))
                configured = configured or isinstance(cmd, SetConfig)
            elif isinstance(cmd, Load):
                pin = True
                self._era_for(cmd.network, cmd.dataset)
            elif isinstance(cmd, (SetState, Reset)):
                pin = True
        if state.config != self._config and not configured:
            pin = True  # changed by something we were not told of: keep the state itself
        if state.epoch < self._end:
            self._cut(int(state.epoch))  # the run went back (an undo to an earlier epoch)
            pin = True
        if not pin:
            self._edits += edits
        self._config = state.config
        self._seen = max(self._seen, int(state.applied))
        self._end = int(state.epoch)
        self._add_checkpoint(state, pin)
        if grad_norms:
            self.history.add_grad_norms(int(state.epoch), tuple(grad_norms))
        self._fit_budgets()

    def switch(self, network: Network, dataset: Dataset, state: RunState) -> None:
        """The run goes on with another network (an activation change that keeps the
        history): from ``state`` on, replays use ``network``. Same as recording the
        update that acknowledges a ``Load``."""
        self._era_for(network, dataset)
        if state.epoch < self._end:
            self._cut(int(state.epoch))
        self._config = state.config
        self._end = int(state.epoch)
        self._add_checkpoint(state, True)
        self._fit_budgets()

    def _era_for(self, network: Network, dataset: Dataset) -> None:
        era = self._eras[-1]
        n = era.network
        if _same_data(dataset, era.dataset) and n.layers == network.layers and \
                n.hidden_activations == network.hidden_activations and \
                n.output_activation == network.output_activation:
            return
        self._eras.append(Era(network.copy(), dataset))

    def _add_rows(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
        epochs = rows[:, 0].astype(np.int64)
        if len(epochs) > 1 and not (epochs[1:] > epochs[:-1]).all():
            cuts = np.flatnonzero(np.diff(epochs) <= 0) + 1
            pieces = zip(np.split(epochs, cuts), np.split(rows, cuts))
        else:
            pieces = ((epochs, rows),)
        for e, r in pieces:
            last = self._rows.last_epoch
            if last is not None and e[0] <= last:
                self._rows.truncate_after(int(e[0]) - 1)
            self._rows.append(e, r[:, 1:].T)
        self.history.add_rows(rows, 1 in self._columns, 2 in self._columns)

    def _add_checkpoint(self, state: RunState, pinned: bool) -> None:
        era = len(self._eras) - 1
        last = self._ckpts[-1]
        if state.epoch == last.epoch:
            edits_since = bool(self._edits) and self._edits[-1].key > last.key
            if last.pinned and not edits_since and state.updates == last.updates and \
                    (not pinned or last.holds(state)):
                return  # nothing happened since the pinned state (a pause, a speed)
            if not last.pinned and len(self._ckpts) > 1:
                # the newer state at this epoch makes the older one useless
                self._ckpt_bytes -= self._ckpts.pop().nbytes
        c = Checkpoint(state, era, pinned, self._ckpts[-1])
        self._ckpts.append(c)
        self._ckpt_bytes += c.nbytes
        self._thin_leaving()

    def _thin_leaving(self) -> None:
        """The checkpoint that just left the dense tail stays only if it starts a new run
        of ``spacing`` epochs (or is pinned)."""
        i = len(self._ckpts) - self._dense - 1
        if i < 1:
            return
        c, prev = self._ckpts[i], self._ckpts[i - 1]
        if not c.pinned and c.epoch // self._spacing == prev.epoch // self._spacing:
            self._ckpt_bytes -= c.nbytes
            del self._ckpts[i]

    def _fit_budgets(self) -> None:
        g = self._ghost
        ghost_ckpt = sum(c.nbytes for c in g.checkpoints) if g is not None else 0
        while self._ckpt_bytes + ghost_ckpt > self.checkpoints_budget or \
                len(self._ckpts) + (len(g.checkpoints) if g is not None else 0) > \
                MAX_CHECKPOINTS:
            if self._spacing > 2 * max(self._end, 1):
                break  # one checkpoint left per run of epochs: the rest are pinned or dense
            self._spacing *= 2
            self._ckpts = _thinned(self._ckpts, self._spacing, self._dense)
            self._ckpt_bytes = sum(c.nbytes for c in self._ckpts)
            if g is not None:
                g.checkpoints = _thinned(g.checkpoints, self._spacing, 1)
                ghost_ckpt = sum(c.nbytes for c in g.checkpoints)
        ghost_rows = g.rows.nbytes if g is not None else 0
        if self._rows.nbytes + ghost_rows > self.rows_budget or self._folding:
            # over the budget: fold a block an update (a block fills in thousands of
            # epochs, an update brings a few) until a quarter of the budget is free, so
            # no single update pays for all of it
            if g is not None and ghost_rows > self.rows_budget // 4:
                g.rows.shrink_to(self.rows_budget // 4, max_blocks=1)
                g._history = None  # noqa: SLF001 (rebuilt from the folded rows on demand)
                ghost_rows = g.rows.nbytes
            target = self.rows_budget * 3 // 4 - ghost_rows
            self._rows.shrink_to(target, max_blocks=1)
            self._folding = self._rows.nbytes > target and len(self._rows.blocks) > 1

    # -- reading -------------------------------------------------------------------------------
    @property
    def first_epoch(self) -> int:
        """The earliest epoch whose state can be recomputed."""
        return self._ckpts[0].epoch

    @property
    def last_epoch(self) -> int:
        """The run's newest recorded epoch."""
        return self._end

    @property
    def spacing(self) -> int:
        """At most this many epochs lie between kept checkpoints (outside pinned ones):
        the longest replay."""
        return self._spacing

    @property
    def ghost(self) -> Ghost | None:
        return self._ghost

    @property
    def eras(self) -> list[Era]:
        return list(self._eras)

    @property
    def rows(self) -> RowStore:
        return self._rows

    @property
    def nbytes(self) -> int:
        """Bytes held: rows, checkpoints, edits, the ghost, waypoints and the history."""
        return (self._rows.nbytes + self._ckpt_bytes + EDIT_OVERHEAD * len(self._edits)
                + (self._ghost.nbytes if self._ghost is not None else 0)
                + sum(c.nbytes for c in self._scratch) + self.history.nbytes)

    def checkpoint_epochs(self) -> np.ndarray:
        """The epochs of the kept checkpoints (where scrubbing is instant)."""
        return np.array([c.epoch for c in self._ckpts], dtype=np.int64)

    def path(self) -> tuple[np.ndarray, np.ndarray]:
        """The run's weights at its kept checkpoints: ``(epochs, params (n, P))``, for a
        loss landscape's trajectory."""
        if not self._ckpts:
            return np.empty(0, dtype=np.int64), np.empty((0, 0))
        return self.checkpoint_epochs(), np.stack([c.params for c in self._ckpts])

    def row_at(self, epoch: int) -> np.ndarray | None:
        """The measured row of ``epoch`` (epoch, train loss, test loss, train accuracy,
        test accuracy; float32 precision) or None if not kept one by one."""
        return self._rows.row_at(epoch)

    def replay(self, epoch: int, chunk: int = REPLAY_CHUNK) -> Replay:
        """A ``Replay`` to ``epoch`` from the nearest state kept at or before it. Create it
        on the thread that records; run it anywhere. Raises ``ValueError`` for an
        epoch outside ``first_epoch .. last_epoch``."""
        epoch = int(epoch)
        if not self.first_epoch <= epoch <= self._end:
            raise ValueError(f"epoch {epoch} is outside the timeline "
                             f"({self.first_epoch} to {self._end})")
        self._harvest()
        i = bisect.bisect_right(self._ckpts, epoch, key=lambda c: c.epoch) - 1
        start = self._ckpts[i]
        for w in self._scratch:
            if w.epoch <= epoch and w.key > start.key:
                start = w
        j = bisect.bisect_right(self._edits, start.key, key=lambda e: e.key)
        edits = [e for e in self._edits[j:] if e.epoch <= epoch]
        r = Replay(self._eras[start.era], start, edits, epoch, self.generation, chunk)
        self._issued.append(r)
        del self._issued[:-WAYPOINTS]
        return r

    def state_at(self, epoch: int) -> RunState:
        """The state training had at ``epoch`` (computed here and now: see ``replay``)."""
        r = self.replay(epoch)
        r.run()
        return r.result

    def _harvest(self) -> None:
        """Keep the waypoints (and results) of earlier replays of this lineage."""
        fresh: list[Checkpoint] = []
        for r in self._issued:
            if r.generation != self.generation:
                continue
            fresh += r.waypoints
            r.waypoints = []
            if r.result is not None and r.total > 0:
                fresh.append(Checkpoint(r.result, r.start.era))
        if fresh:
            keys = {c.key for c in self._ckpts[-self._dense:]}
            self._scratch = [c for c in self._scratch + fresh if c.key not in keys][-SCRATCH:]

    # -- branching ---------------------------------------------------------------------------
    def branch_at(self, epoch: int) -> Ghost | None:
        """Cut everything after ``epoch`` off and keep it as the ghost (replacing the old
        one); the run goes on from the state at ``epoch`` (``state_at``), which the
        caller loads into the run with a ``Load`` command (it carries the shuffle
        generator; ``SetState`` does not). Updates acknowledging no command sent after
        this call are ignored from now on. Returns the ghost (None: nothing was cut)."""
        epoch = int(epoch)
        if not self.first_epoch <= epoch <= self._end:
            raise ValueError(f"epoch {epoch} is outside the timeline "
                             f"({self.first_epoch} to {self._end})")
        ghost = self._split(epoch, self._seen)
        self._ghost = ghost if ghost is not None else None
        self._ignore_upto = self._seen
        return self._ghost

    def undo_branch(self) -> RunState:
        """Swap the ghost back: its future becomes the run's again and the branch (what
        was trained since ``branch_at``) becomes the ghost. Returns the state to load
        into the run (the restored future's newest). Raises ``ValueError`` without a
        ghost."""
        g = self._ghost
        if g is None:
            raise ValueError("there is no branch to undo")
        current = self._split(g.branch_epoch, g.branch_applied)
        restored = g.rows.snapshot()
        self._rows.extend(g.rows)
        self._ckpts += g.checkpoints
        self._ckpt_bytes = sum(c.nbytes for c in self._ckpts)
        self._edits += g.edits
        if self.history.exact_from is None or self.history.exact_from > g.branch_epoch:
            self._rebuild_history()
        else:
            _feed_history(self.history, restored, self._columns)
        self.history.extend_grad(g.grad)
        last = self._ckpts[-1]
        self._end = max(last.epoch, self._rows.last_epoch or last.epoch)
        self._config = self._config_at_end()
        self._seen = max(self._seen, g.seen_applied)
        self._ignore_upto = self._seen
        self._ghost = current
        self.generation += 1
        self._fit_budgets()
        return last.state()

    redo_branch = undo_branch  # the same swap, the other way

    def _split(self, epoch: int, applied: int) -> Ghost | None:
        """Cut off everything after (epoch, applied); return it as a ghost."""
        def after(key: tuple[int, int]) -> bool:
            return key[0] > epoch or (key[0] == epoch and key[1] > applied)

        ck = [c for c in self._ckpts if after(c.key)]
        self._ckpts = [c for c in self._ckpts if not after(c.key)]
        self._ckpt_bytes = sum(c.nbytes for c in self._ckpts)
        ed = [e for e in self._edits if after(e.key)]
        self._edits = [e for e in self._edits if not after(e.key)]
        rows = self._rows.split_after(epoch)
        exact = self.history.exact_from
        grad = self.history.split_grad_after(epoch)
        self.history.truncate_after(epoch)
        if exact is None or exact > epoch:
            self._rebuild_history()  # the cut fell among folded rows: draw them again
        seen = self._seen
        self._end = epoch
        self._config = self._config_at_end()
        self._scratch = []
        self.generation += 1
        if not ck and not ed and not len(rows) and not rows.reduced.n:
            return None
        return Ghost(epoch, applied, rows, ck, ed, grad, seen)

    def _config_at_end(self) -> TrainingConfig:
        """The settings after the newest checkpoint and the edits since."""
        last = self._ckpts[-1]
        cfg = last.config
        for e in self._edits:
            if e.key > last.key and isinstance(e.command, SetConfig):
                cfg = e.command.config
        return cfg

    def _cut(self, epoch: int) -> None:
        """The run went back to ``epoch`` on its own: drop the future (no ghost; the
        ghost too if its branch lay after ``epoch``)."""
        if self._ghost is not None and self._ghost.branch_epoch > epoch:
            self._ghost = None
        self._split(epoch, self._seen)

    def _rebuild_history(self) -> None:
        self.history.clear_rows()
        _feed_history(self.history, self._rows.snapshot(), self._columns)

    # -- export -------------------------------------------------------------------------------
    def csv_chunks(self, rows_per_chunk: int = 20_000, accuracy: bool = False
                   ) -> Iterator[str]:
        """The run's rows as CSV text, a chunk at a time (the first holds the header):
        ``epoch,train_loss,test_loss`` (and ``train_accuracy,test_accuracy`` with
        ``accuracy``), one line an epoch, empty where the data has no such column,
        values with 9 significant digits (the stored float32 exactly). Rows folded into
        buckets (runs past the budget) come as two lines a bucket, at its first and last
        epoch, and a last column ``span`` says how many epochs a line stands for (1 for
        the others). Safe to run on another thread while the run goes on; it writes
        the rows there were when it was called."""
        return _csv_chunks(self._rows.snapshot(), self._columns, rows_per_chunk, accuracy)

    def csv_rows(self) -> int:
        """Lines (without the header) ``csv_chunks`` will write: for progress."""
        return len(self._rows) + 2 * self._rows.reduced.n


def _thinned(ckpts: list[Checkpoint], spacing: int, dense: int) -> list[Checkpoint]:
    """Keep the first checkpoint of every run of ``spacing`` epochs, the pinned ones, the
    first and the newest ``dense``."""
    out: list[Checkpoint] = []
    limit = len(ckpts) - dense
    prev = None
    for i, c in enumerate(ckpts):
        b = c.epoch // spacing
        if i == 0 or i >= limit or c.pinned or b != prev:
            out.append(c)
            prev = b
    return out


def _fmt_column(v: np.ndarray) -> list[str]:
    out = np.char.mod("%.9g", v.astype(np.float64))
    out[np.isnan(v)] = ""
    return out.tolist()


def _csv_chunks(pieces: list, columns: tuple[int, ...], per_chunk: int,
                accuracy: bool) -> Iterator[str]:
    wanted = [0, 1] + ([2, 3] if accuracy else [])
    folded = any(p[0] == "buckets" for p in pieces)
    header = "epoch," + ",".join(ROW_COLUMNS[c] for c in wanted) + (",span" if folded else "")
    pos = {c: i for i, c in enumerate(columns)}
    yield header + "\n"
    per_chunk = max(1, int(per_chunk))

    def lines(epochs: np.ndarray, values, span: list[str] | None) -> str:
        n = len(epochs)
        cols = [np.char.mod("%d", epochs).tolist()]
        for c in wanted:
            cols.append(_fmt_column(values[pos[c]]) if c in pos else [""] * n)
        if span is not None:
            cols.append(span)
        return "\n".join(map(",".join, zip(*cols))) + "\n"

    for p in pieces:
        if p[0] == "buckets":
            _, f, la, lo, hi, hf, w = p
            x = np.empty(2 * len(f), dtype=np.int64)
            x[0::2], x[1::2] = f, la
            y = np.empty((lo.shape[0], 2 * len(f)), dtype=np.float32)
            y[:, 0::2] = np.where(hf, hi, lo)
            y[:, 1::2] = np.where(hf, lo, hi)
            span = np.repeat(la - f + 1, 2).astype(str).tolist()
            for s in range(0, len(x), per_chunk):
                yield lines(x[s:s + per_chunk], y[:, s:s + per_chunk],
                            span[s:s + per_chunk])
        else:
            _, first, n, data = p
            for s in range(0, n, per_chunk):
                m = min(per_chunk, n - s)
                yield lines(np.arange(first + s, first + s + m), data[:, s:s + m],
                            ["1"] * m if folded else None)


__all__ = ["Checkpoint", "Edit", "Era", "Ghost", "Replay", "ReplayError", "RowStore",
           "Timeline", "row_columns"]
