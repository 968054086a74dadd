"""The run's past in the session: scrub back, branch with Play, undo the branch; Reset
goes back to the same start, and new initial weights only when asked."""

from __future__ import annotations

import numpy as np
import pytest
from tests.helpers import settle

from backprop_lab.engine import data, presets
from backprop_lab.engine.training import Trainer


@pytest.fixture
def backend():
    return "process"


def _straight(name: str, epochs: int, **cfg):
    p = presets.load_preset(name)
    ds = data.build(p.data)
    t = Trainer(p.network.copy(), p.training.with_(**cfg), ds.x_train, ds.y_train)
    for _ in range(epochs):
        t.run_epoch()
    return t


def test_scrubbing_shows_exactly_the_weights_training_had(qtbot, session):
    session.load_preset("circle")  # shuffled mini-batches: the shuffle state matters
    session.step_epochs(60)
    settle(session)
    for k in (0, 17, 41, 59):
        with qtbot.waitSignal(session.past_changed, timeout=30000):
            session.scrub(k)
        assert session.past_epoch == k and session.epoch == k
        assert session.params.tobytes() == _straight("circle", k).net.params.tobytes()
    session.show_present()
    assert session.past_epoch is None and session.epoch == 60


def test_play_from_the_past_branches_and_undo_gives_the_future_back(qtbot, session):
    session.load_preset("xor-tanh")
    session.step_epochs(40)
    settle(session)
    future = session.params.copy()
    with qtbot.waitSignal(session.past_changed, timeout=30000):
        session.scrub(10)
    with qtbot.waitSignal(session.branched, timeout=5000):
        session.step_epochs(5)  # training from epoch 10: a branch
    settle(session)
    assert session.epoch == 15
    assert session.params.tobytes() == _straight("xor-tanh", 15).net.params.tobytes()
    ghost = session.timeline.ghost
    assert ghost is not None and ghost.end_epoch == 40
    session.undo_branch()
    settle(session)
    assert session.epoch == 40 and session.params.tobytes() == future.tobytes()
    session.step_epochs(2)  # and the restored future trains on exactly
    settle(session)
    assert session.params.tobytes() == _straight("xor-tanh", 42).net.params.tobytes()


def test_reset_keeps_the_start_and_new_initial_weights_draw_another(session):
    start = session.params.copy()
    session.load_preset("xor-tanh")
    first = session.params.copy()
    session.step_epochs(5)
    settle(session)
    session.reset()
    assert session.params.tobytes() == first.tobytes()
    seed = session.init_config.seed
    assert session.new_initial_weights() == seed + 1
    assert not np.array_equal(session.params, first) and session.epoch == 0
    del start


def test_a_branch_is_an_undoable_edit(qtbot, session):
    from backprop_lab.controller.undo import UndoHistory

    undo = UndoHistory(session)
    session.load_preset("xor-tanh")
    session.step_epochs(20)
    settle(session)
    with qtbot.waitSignal(session.past_changed, timeout=30000):
        session.scrub(5)
    session.step_epochs(3)
    settle(session)
    assert undo.undo_text == "Branch from epoch 5" and session.epoch == 8
    undo.undo()
    settle(session)
    assert session.epoch == 20
    undo.redo()
    settle(session)
    assert session.epoch == 8
