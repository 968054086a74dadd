"""The timeline: scrubbing is bit-exact, branching and its undo, bounded memory, export."""

from __future__ import annotations

import queue
import threading
import time
import tracemalloc

import numpy as np
import pytest

from backprop_lab.engine import data, presets
from backprop_lab.engine.project import apply_overrides, from_dict
from backprop_lab.runs.loop import TrainingLoop
from backprop_lab.runs.state import (
    Load,
    Pause,
    Play,
    RunState,
    SetConfig,
    SetState,
    SetWeight,
    decode_update,
    encode_command,
)
from backprop_lab.runs.timeline import RowStore, Timeline


def project(*overrides: str, preset: str = "spiral"):
    d = apply_overrides(presets.preset_dict(preset), list(overrides))
    p = from_dict(d)
    return p, data.build(p.data)


@pytest.fixture(scope="module")
def spiral_adam():
    """A small spiral (80 points, 16 of them test), Adam, shuffled mini-batches of 10."""
    return project("data.samples=80", "training.optimizer=adam",
                   "training.learning_rate=0.01")


class Window:
    """A training loop driven the way the window sees it: epochs in chunks, each chunk
    followed by an update (state and rows) that the timeline records together with the
    commands it acknowledges; a command is applied between epochs and published at
    once, as the loop's ``serve`` does. ``ref`` is a straight run's state at every
    epoch (the latest state at that epoch)."""

    def __init__(self, p, ds, **timeline_kwargs):
        self.net, self.ds = p.network, ds
        self.loop = TrainingLoop(p.network, ds, RunState.start(p.network.params, p.training),
                                 record_start=True, pause_seconds=0.0)
        self.timeline = Timeline(p.network, ds, self.loop.state(), self.loop.take_rows(),
                                 **timeline_kwargs)
        self.ref = {0: self.loop.state()}
        self.seq = 0
        self.all_rows = [self.timeline.history.train_loss.view().copy()]

    def train(self, n: int) -> None:
        for _ in range(n):  # one by one only to keep the straight run's states
            assert self.loop.run_epochs(1) is None
            self.ref[self.loop.epoch] = self.loop.state()
        self.publish()

    def send(self, cmd) -> None:
        self.seq += 1
        self.loop.apply(cmd, self.seq)
        self.ref[self.loop.epoch] = self.loop.state()
        self.publish([(self.seq, encode_command(cmd, self.seq))])

    def publish(self, commands=()) -> None:
        snap = self.loop.snapshot()
        self.timeline.record(snap.state, self.loop.take_rows(), commands, snap.grad_norms)


def assert_same_state(a: RunState, b: RunState) -> None:
    """Bit for bit: weights, optimiser state, counters, shuffle generator, settings."""
    assert (a.epoch, a.updates) == (b.epoch, b.updates)
    assert a.params.tobytes() == b.params.tobytes(), f"weights differ at epoch {a.epoch}"
    assert (a.optimizer.kind, a.optimizer.step) == (b.optimizer.kind, b.optimizer.step)
    for x, y in ((a.optimizer.m, b.optimizer.m), (a.optimizer.v, b.optimizer.v)):
        assert (x is None) == (y is None)
        if x is not None:
            assert x.tobytes() == y.tobytes(), f"optimiser state differs at epoch {a.epoch}"
    assert a.rng == b.rng
    assert a.config == b.config
    assert a.marks.tobytes() == b.marks.tobytes() and a.marks.shape == b.marks.shape


def drive(w: Window, chunks: int, seed: int = 0, commands: dict | None = None) -> None:
    rng = np.random.default_rng(seed)
    for i in range(chunks):
        w.train(int(rng.integers(1, 7)))
        for cmd in (commands or {}).get(i, []):
            w.send(cmd)


# -- scrubbing -----------------------------------------------------------------------------
def test_scrubbing_reproduces_every_epoch_bit_for_bit(spiral_adam):
    p, ds = spiral_adam
    cfg = p.training
    w = Window(p, ds, checkpoints_budget=24 * 4000, dense=4)
    n = p.network.n_params
    drive(w, 110, commands={
        10: [Pause(), Play()],  # no effect on the weights: not an edit
        25: [SetConfig(cfg.with_(learning_rate=0.03))],
        40: [SetWeight(1, 2, 3, 0.5), SetWeight(0, 0, -1, -0.25)],
        60: [SetConfig(cfg.with_(learning_rate=0.02, optimizer="momentum", seed=5))],
        75: [SetState(np.linspace(-0.3, 0.3, n), mark=True)],  # a step by hand: pinned
        90: [SetConfig(cfg.with_(mode="stochastic", optimizer="adam"))]})
    tl = w.timeline
    assert len(w.ref[tl.last_epoch].marks) == 1  # the step by hand is marked
    assert tl.spacing > 1, "the budget must have thinned the checkpoints"
    assert len(tl.checkpoint_epochs()) < tl.last_epoch / 4
    for k in range(tl.first_epoch, tl.last_epoch + 1):
        assert_same_state(tl.state_at(k), w.ref[k])


def test_recorded_from_a_live_loop_that_takes_commands_while_it_trains(spiral_adam):
    """The loop's own ``serve`` in a thread, commands sent while it trains, its updates
    recorded as the window records them: every state the loop published is what
    ``state_at`` gives for its epoch, so each edit was replayed where it happened."""
    p, ds = spiral_adam
    inbox: queue.Queue = queue.Queue()
    outbox: list = []
    loop = TrainingLoop(p.network, ds, RunState.start(p.network.params, p.training),
                        record_start=True, pause_seconds=0.0005)

    def receive(timeout):
        try:
            return inbox.get(timeout=timeout) if timeout > 0 else inbox.get_nowait()
        except queue.Empty:
            return None

    worker = threading.Thread(target=loop.serve, args=(receive, outbox.append))
    worker.start()
    log = []

    def send(cmd):
        seq = len(log) + 1
        log.append((seq, encode_command(cmd, seq)))
        inbox.put(log[-1][1])

    cfg = p.training
    try:
        send(Play())
        for cmd in (SetConfig(cfg.with_(learning_rate=0.03)), SetWeight(2, 1, 4, -0.7),
                    SetConfig(cfg.with_(optimizer="momentum", learning_rate=0.02)),
                    SetWeight(0, 3, -1, 0.2), SetConfig(cfg.with_(mode="batch"))):
            time.sleep(0.06)
            send(cmd)
        time.sleep(0.06)
        send(Pause())
        deadline = time.time() + 10
        while time.time() < deadline and not any(
                m["kind"] == "update" and m["applied"] == len(log) for m in list(outbox)):
            time.sleep(0.01)
    finally:
        inbox.put({"kind": "quit"})
        worker.join(10)
    tl = Timeline(p.network, ds, RunState.start(p.network.params, p.training),
                  checkpoints_budget=6 * 5000, dense=2)
    published = {}
    acked = 0
    for m in outbox:
        assert m["kind"] == "update", m
        snap, rows = decode_update(m)
        new = [(s, c) for s, c in log if acked < s <= snap.applied]
        acked = snap.applied
        tl.record(snap.state, rows, new, snap.grad_norms)
        published[snap.epoch] = snap.state
    assert acked == len(log) and tl.last_epoch > 40, "the loop must have trained a while"
    assert tl.spacing > 1
    for epoch, state in published.items():
        assert_same_state(tl.state_at(epoch), state)


def test_replay_is_chunked_cancellable_and_cheap_at_a_checkpoint(spiral_adam):
    p, ds = spiral_adam
    w = Window(p, ds, checkpoints_budget=12 * 4000, dense=2)
    drive(w, 60, seed=3)
    tl = w.timeline
    kept = np.unique(tl.checkpoint_epochs())
    gap = int(np.argmax(np.diff(kept)))
    target = int(kept[gap + 1]) - 1  # the epoch farthest from any kept state
    # cancelled from outside (another thread would call cancel): no result
    r = tl.replay(target, chunk=2)
    it = iter(r)
    next(it), next(it)
    r.cancel()
    assert list(it) == [] and r.result is None
    r = tl.replay(target, chunk=2)
    steps = list(r)
    assert r.total > 10 and len(steps) >= 5 and steps[-1] == (r.total, r.total)
    assert all(0 <= d <= t for d, t in steps)
    assert_same_state(r.result, w.ref[target])
    # measured as the loop measures: what the canvas and the docks show at that epoch
    straight = TrainingLoop(p.network, ds, w.ref[target], record_start=False,
                            pause_seconds=0.0).snapshot()
    assert r.snapshot.state is r.result
    assert (r.snapshot.train_loss, r.snapshot.test_loss, r.snapshot.train_accuracy,
            r.snapshot.grad_norms) == (straight.train_loss, straight.test_loss,
                                       straight.train_accuracy, straight.grad_norms)
    # the row kept for that epoch (float32) is the loss measured there
    assert abs(r.snapshot.train_loss / tl.row_at(target)[1] - 1) < 6e-8
    # a kept checkpoint: no training at all
    k = sorted(kept)[len(kept) // 2]
    r = tl.replay(k)
    assert r.total == 0 and not r.edits
    assert_same_state(r.run(), w.ref[k])
    # what a replay passed on the way makes the next one short
    r = tl.replay(target - 1)
    assert r.total < 10
    assert_same_state(r.run(), w.ref[target - 1])


def test_an_undo_to_an_earlier_epoch_cuts_the_future(spiral_adam):
    p, ds = spiral_adam
    w = Window(p, ds)
    drive(w, 20)
    back = w.timeline.last_epoch - 15
    params = w.ref[back].params
    w.send(SetState(params, epoch=back))  # what undoing a weight edit sends
    assert w.timeline.last_epoch == back
    assert w.timeline.history.last_epoch <= back
    # the run goes on from there; the old epochs after it are gone
    drive(w, 5, seed=9)
    tl = w.timeline
    assert list(tl.history.epochs.view()) == list(range(tl.last_epoch + 1))
    for k in range(back, tl.last_epoch + 1):
        assert_same_state(tl.state_at(k), w.ref[k])


def test_a_reset_or_a_load_of_the_same_network_adds_nothing(spiral_adam):
    """``restart`` for a reset, then the update that acknowledges the Reset (or the Load
    of a new run, its data decoded from the wire): no second era, no duplicate."""
    p, ds = spiral_adam
    w = Window(p, ds)
    drive(w, 5)
    tl = w.timeline
    start = RunState.start(p.network.params, p.training)
    tl.restart(p.network, ds, start, np.array([[0, 0.7, 0.7, 0.5, 0.5]]))
    w.seq += 1
    load = encode_command(Load(p.network, ds, start, False), w.seq)
    tl.record(start.replace(applied=w.seq), np.empty((0, 5)), [(w.seq, load)])
    assert len(tl.eras) == 1 and list(tl.checkpoint_epochs()) == [0]
    assert tl.last_epoch == 0 and len(tl.history) == 1


def test_an_activation_change_starts_a_new_era(spiral_adam):
    """A Load that keeps the history (another hidden activation, same weights): replays
    before it use the old network, after it the new one."""
    p, ds = spiral_adam
    w = Window(p, ds, checkpoints_budget=10 * 4000, dense=2)
    drive(w, 15)
    e = w.loop.epoch
    relu = p.network.copy()
    relu.hidden_activations = ["relu"] * len(relu.hidden_activations)
    state = w.loop.state()
    w.send(Load(relu, ds, state, record_start=False))
    drive(w, 15, seed=4)
    tl = w.timeline
    assert len(tl.eras) == 2
    for k in (e - 3, e, e + 5, tl.last_epoch):
        assert_same_state(tl.state_at(k), w.ref[k])


# -- branching --------------------------------------------------------------------------------
def test_branch_keeps_the_old_future_as_a_ghost_and_undo_restores_it(spiral_adam):
    p, ds = spiral_adam
    w = Window(p, ds, checkpoints_budget=20 * 4000, dense=4)
    drive(w, 40, commands={12: [SetConfig(p.training.with_(learning_rate=0.02))]})
    tl = w.timeline
    old_end = tl.last_epoch
    old_ref = dict(w.ref)
    old_epochs = tl.history.epochs.view().copy()
    old_loss = tl.history.train_loss.view().copy()
    k = old_end // 2
    state_k = tl.state_at(k)
    ghost = tl.branch_at(k)
    assert ghost is not None and ghost.branch_epoch == k and ghost.end_epoch == old_end
    assert tl.last_epoch == k and tl.history.last_epoch == k
    # the ghost draws the cut-off future
    np.testing.assert_array_equal(ghost.history.epochs.view(), np.arange(k + 1, old_end + 1))
    np.testing.assert_allclose(ghost.history.train_loss.view(), old_loss[k + 1:], rtol=1e-7)
    # an update still in flight from before the branch is ignored
    tl.record(w.loop.state(), np.empty((0, 5)))
    assert tl.last_epoch == k
    # the run goes on from epoch k with another learning rate (a new branch)
    w.seq += 1
    w.loop.apply(Load(p.network, ds, state_k, record_start=False), w.seq)
    w.ref = {e: s for e, s in old_ref.items() if e <= k}
    w.publish([(w.seq, encode_command(Load(p.network, ds, state_k, False), w.seq))])
    w.send(SetConfig(p.training.with_(learning_rate=0.05)))
    drive(w, 10, seed=7)
    branch_ref = dict(w.ref)
    for e in range(k, tl.last_epoch + 1):
        assert_same_state(tl.state_at(e), branch_ref[e])
    branch_end = tl.last_epoch
    # undo: the old future is back, bit for bit, and the branch is the ghost now
    end_state = tl.undo_branch()
    assert_same_state(end_state, old_ref[old_end])
    assert tl.last_epoch == old_end
    np.testing.assert_array_equal(tl.history.epochs.view(), old_epochs)
    np.testing.assert_array_equal(tl.history.train_loss.view()[:k + 1], old_loss[:k + 1])
    np.testing.assert_allclose(tl.history.train_loss.view(), old_loss, rtol=1e-7)
    assert tl.ghost.end_epoch == branch_end
    for e in (k, k + 1, (k + old_end) // 2, old_end):
        assert_same_state(tl.state_at(e), old_ref[e])
    # redo: the branch again
    assert_same_state(tl.redo_branch(), branch_ref[branch_end])
    for e in (k + 1, branch_end):
        assert_same_state(tl.state_at(e), branch_ref[e])


def test_branch_at_the_end_cuts_nothing(spiral_adam):
    p, ds = spiral_adam
    w = Window(p, ds)
    drive(w, 5)
    assert w.timeline.branch_at(w.timeline.last_epoch) is None
    with pytest.raises(ValueError):
        w.timeline.branch_at(w.timeline.last_epoch + 1)
    with pytest.raises(ValueError):
        w.timeline.undo_branch()


# -- memory --------------------------------------------------------------------------------------
def fake_updates(tl: Timeline, cfg, n_params: int, epochs: int, every: int, adam: bool,
                 seed: int = 0):
    """The window's input at the loop's pace without training: an update every
    ``every`` epochs with its rows and a fresh state (fresh arrays, as decoded)."""
    rng = np.random.default_rng(seed)
    start = tl.last_epoch + 1
    rng_state = np.random.default_rng(1).bit_generator.state
    from backprop_lab.engine.optimizers import OptimizerState
    for e0 in range(start, start + epochs, every):
        e = np.arange(e0, min(e0 + every, start + epochs))
        rows = np.column_stack([e, rng.random((len(e), 4))])
        opt = OptimizerState("adam", int(e[-1]) * 50, rng.random(n_params),
                             rng.random(n_params)) if adam else OptimizerState("sgd")
        tl.record(RunState(rng.random(n_params), cfg, opt, int(e[-1]), int(e[-1]) * 50,
                           rng_state), rows, (), (0.1, 0.2, 0.3, 0.4))


def test_memory_stays_within_the_budget_and_nbytes_tells_the_truth(spiral_adam):
    p, ds = spiral_adam
    rows_budget, ckpt_budget = 500_000, 300_000
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tl = Timeline(p.network, ds, RunState.start(p.network.params, p.training),
                  rows_budget=rows_budget, checkpoints_budget=ckpt_budget)
    fake_updates(tl, p.training, p.network.n_params, 40_000, 4, adam=True)
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    history = tl.history.nbytes
    assert tl.rows.nbytes <= rows_budget
    assert tl.nbytes - tl.rows.nbytes - history <= ckpt_budget + 10_000
    assert abs(held - tl.nbytes) < 0.15 * held, (held, tl.nbytes)
    # the oldest rows were folded, the newest are exact, the history is short
    assert tl.rows.reduced.n > 0 and tl.row_at(tl.last_epoch) is not None
    assert len(tl.history) <= 2 * 2048 + 2 * 4096
    assert tl.history.exact_from >= tl.last_epoch - 8192
    # the export says which lines stand for several epochs
    lines = "".join(tl.csv_chunks()).splitlines()
    assert lines[0] == "epoch,train_loss,test_loss,span"
    assert len(lines) - 1 == tl.csv_rows()
    assert lines[1].split(",")[0] == "1" and int(lines[1].split(",")[-1]) > 1  # from epoch 1
    assert lines[-1].split(",")[0] == str(tl.last_epoch) and lines[-1].endswith(",1")


def test_branch_and_undo_among_folded_rows(spiral_adam):
    p, ds = spiral_adam
    tl = Timeline(p.network, ds, RunState.start(p.network.params, p.training),
                  rows_budget=200_000, checkpoints_budget=200_000)
    fake_updates(tl, p.training, p.network.n_params, 30_000, 4, adam=True)
    assert tl.rows.reduced.n and tl.rows.exact_from > 5000
    before = "".join(tl.csv_chunks())
    end = tl.last_epoch
    ghost = tl.branch_at(5000)
    # a bucket that straddles the cut now ends there (and starts the ghost)
    assert tl.last_epoch == 5000 and tl.rows.last_epoch == 5000
    e = tl.history.epochs.view()
    assert e[-1] == 5000 and np.all(np.diff(e) >= 0)
    g = ghost.history.epochs.view()
    assert g[0] == 5001 and g[-1] == end and np.all(np.diff(g) >= 0)
    tl.undo_branch()
    assert tl.last_epoch == end and tl.rows.last_epoch == end
    e = tl.history.epochs.view()
    assert e[-1] == end and np.all(np.diff(e) >= 0)
    after = "".join(tl.csv_chunks())
    assert after.splitlines()[-2000:] == before.splitlines()[-2000:]


# -- rows, history, export ------------------------------------------------------------------
def test_row_store_split_extend_and_fold():
    s = RowStore((0, 1), budget=10**9)
    vals = np.vstack([np.arange(300.0), -np.arange(300.0), np.zeros((2, 300))])
    s.append(np.arange(300), vals)
    s.append(np.arange(400, 450), vals[:, :50])  # a gap: a new block
    assert len(s.blocks) == 2 and len(s) == 350
    tail = s.split_after(149)
    assert s.last_epoch == 149 and tail.first_epoch == 150 and len(tail) == 200
    np.testing.assert_array_equal(s.row_at(149)[:3], [149, 149, -149])
    assert np.isnan(s.row_at(149)[3])
    s.extend(tail)
    assert len(s) == 350 and s.row_at(420)[1] == 20
    s.shrink_to(1)  # fold all but the newest block
    assert len(s.blocks) == 1 and s.reduced.n > 0 and s.first_epoch == 0
    f, la, lo, hi, _ = s.reduced.arrays()
    assert lo[0].min() == 0 and hi[0].max() == 299


def test_history_is_bounded_exact_at_the_end_and_keeps_spikes():
    from backprop_lab.runs.history import History

    h = History(exact=100, max_buckets=64)
    n = 50_000
    clean = np.exp(-np.arange(n) / 5000.0)
    loss = clean.copy()
    loss[12_345] = 7.0  # a spike long ago
    rows = np.column_stack([np.arange(n), loss, clean + 1, np.full(n, 0.5), np.full(n, 0.25)])
    for s in range(0, n, 37):
        h.add_rows(rows[s:s + 37], has_test=True, has_accuracy=True)
    assert len(h) <= 2 * 64 + 2 * 100
    assert h.train_loss.view().max() == 7.0  # the spike survives folding
    e = h.epochs.view()
    assert np.all(np.diff(e) >= 0) and e[0] == 0 and e[-1] == n - 1
    tail = e >= h.exact_from
    np.testing.assert_array_equal(e[tail], np.arange(h.exact_from, n))
    np.testing.assert_array_equal(h.train_loss.view()[tail], loss[h.exact_from:])
    assert n - h.exact_from >= 100
    # a falling curve is drawn falling: the larger value of each bucket first
    assert np.all(np.diff(h.test_loss.view()) <= 0)
    # the view is the same array until something changes
    assert h.train_loss.view() is h.train_loss.view()
    h.truncate_after(n - 10)
    assert h.epochs.view()[-1] == n - 10
    h.add_rows(rows[n - 20:n - 15], True, True)  # going back replaces
    assert h.epochs.view()[-1] == n - 16


def test_history_grad_norms_and_flags():
    from backprop_lab.runs.history import History

    h = History()
    assert h.add_grad_norms(0, (1.0, 2.0))
    assert not h.add_grad_norms(0, (3.0, 4.0))  # nothing new at the same epoch
    assert h.add_grad_norms(4, (3.0, 4.0))
    assert list(h.grad_epochs.view()) == [0, 4]
    assert [list(c.view()) for c in h.grad_norms] == [[1.0, 3.0], [2.0, 4.0]]
    h.add_rows(np.array([[0, 1.0, np.nan, 0.5, np.nan]]), has_test=False, has_accuracy=True)
    assert len(h.test_loss) == 0 and len(h.test_accuracy) == 0
    assert list(h.acc_epochs.view()) == [0] and list(h.train_accuracy.view()) == [0.5]
    h.clear()
    assert len(h) == 0 and len(h.grad_epochs) == 0 and h.grad_norms == []


def test_csv_chunks_write_every_epoch(spiral_adam):
    p, ds = spiral_adam
    w = Window(p, ds)
    drive(w, 10)
    tl = w.timeline
    chunks = list(tl.csv_chunks(rows_per_chunk=7, accuracy=True))
    assert len(chunks) > 3
    lines = "".join(chunks).splitlines()
    assert lines[0] == "epoch,train_loss,test_loss,train_accuracy,test_accuracy"
    assert len(lines) - 1 == tl.csv_rows() == tl.last_epoch + 1
    values = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    np.testing.assert_array_equal(values[:, 0], np.arange(tl.last_epoch + 1))
    exact = w.timeline.history.train_loss.view()
    # 9 digits give back the stored float32 exactly
    np.testing.assert_array_equal(values[:, 1].astype(np.float32), exact.astype(np.float32))
    assert np.abs(values[:, 1] / exact - 1).max() < 6e-8
    plain = "".join(tl.csv_chunks()).splitlines()
    assert plain[0] == "epoch,train_loss,test_loss"
