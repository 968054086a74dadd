"""Undo and redo of weight edits and resets, driven without widgets (on both backends)."""

import numpy as np
import pytest
from tests.helpers import settle

from backprop_lab.controller.teaching import PhaseStepper
from backprop_lab.controller.undo import Edit, RunPoint, UndoHistory
from backprop_lab.engine import data, presets
from backprop_lab.engine.names import WeightRef
from backprop_lab.engine.training import Trainer

W10, W12 = WeightRef(0, 0, -1), WeightRef(0, 0, 1)


@pytest.fixture
def history(session):
    h = UndoHistory(session)
    yield h
    h.deleteLater()


def signals(h: UndoHistory) -> list:
    seen = []
    h.can_undo_changed.connect(lambda on: seen.append(("can_undo", on)))
    h.can_redo_changed.connect(lambda on: seen.append(("can_redo", on)))
    h.undo_text_changed.connect(lambda t: seen.append(("undo_text", t)))
    h.redo_text_changed.connect(lambda t: seen.append(("redo_text", t)))
    return seen


def test_a_weight_edit_is_undone_and_redone(session, history):
    seen = signals(history)
    assert not history.can_undo and not history.can_redo and history.undo_text == ""
    history.set_weight(W12, -0.75)
    assert session.weight_value(W12) == -0.75
    assert seen == [("can_undo", True), ("undo_text", "Edit W12")]
    settle(session)
    seen.clear()
    history.undo()
    settle(session)
    assert session.weight_value(W12) == 1.0 and np.all(session.params == 1.0)
    assert seen == [("can_undo", False), ("can_redo", True), ("undo_text", ""),
                    ("redo_text", "Edit W12")]
    history.redo()
    settle(session)
    assert session.weight_value(W12) == -0.75
    assert (history.can_undo, history.can_redo, history.index) == (True, False, 1)
    history.redo()  # nothing left to redo: nothing happens
    assert session.weight_value(W12) == -0.75 and history.index == 1


def test_a_value_the_session_refuses_is_not_recorded(session, history):
    with pytest.raises(ValueError, match="finite"):
        history.set_weight(W12, float("nan"))
    assert history.count == 0 and np.all(session.params == 1.0)


def _straight(epochs: int, **cfg) -> np.ndarray:
    proj = presets.load_preset("xor-tanh")
    ds = data.build(proj.data)
    t = Trainer(proj.network.copy(), proj.training.with_(**cfg), ds.x_train, ds.y_train)
    for _ in range(epochs):
        t.run_epoch()
    return t.net.params


def test_undoing_a_reset_brings_back_the_run_with_its_optimiser(session, history):
    """Adam keeps two moments per weight: after Undo of a Reset the run goes on exactly
    as if there had been no reset."""
    cfg = {"optimizer": "adam", "learning_rate": 0.05}
    session.load_preset("xor-tanh")
    session.set_config(**cfg)
    initial = session.params.copy()
    session.step_epochs(5)
    settle(session)
    trained, updates = session.params.copy(), session.updates
    moments = session.snapshot.optimizer.m.copy(), session.snapshot.optimizer.v.copy()
    assert session.epoch == 5 and updates == 5 and np.any(moments[0] != 0)
    history.reset()
    settle(session)
    assert session.epoch == 0 and session.snapshot.optimizer.m is None
    np.testing.assert_array_equal(session.params, initial)
    assert history.undo_text == "Reset"
    history.undo()
    settle(session)
    assert (session.epoch, session.updates) == (5, updates)
    np.testing.assert_array_equal(session.params, trained)
    np.testing.assert_array_equal(session.snapshot.optimizer.m, moments[0])
    np.testing.assert_array_equal(session.snapshot.optimizer.v, moments[1])
    session.step_epochs(1)
    settle(session)
    assert session.params.tobytes() == _straight(6, **cfg).tobytes()
    history.redo()  # a Reset again: the initial weights, a fresh optimiser and history
    settle(session)
    assert (session.epoch, session.updates) == (0, 0)
    np.testing.assert_array_equal(session.params, initial)
    assert session.snapshot.optimizer.m is None
    assert list(session.history.epochs.view()) == [0]


def test_stepping_through_an_update_by_hand_is_not_an_edit(session, history, qtbot):
    history.set_weight(W10, 2.0)
    stepper = PhaseStepper(session)
    try:
        stepper.start()
        qtbot.waitUntil(lambda: stepper.active, timeout=10000)
        stepper.go_to("update")
        assert stepper.phase.kind == "update"
        assert session.weight_value(W10) != 2.0  # the update moved the edited weight
        assert (history.count, history.undo_text, history.can_redo) == (1, "Edit W10", False)
        stepper.back()  # leaving the update is no edit either
        assert history.count == 1
    finally:
        stepper.stop()
    history.undo()
    settle(session)
    assert np.all(session.params == 1.0)


def test_a_structure_change_clears_it_and_old_weights_are_never_applied(session, history):
    history.set_weight(W10, 2.0)
    history.undo()
    assert history.can_redo
    session.set_structure([2, 5, 1])
    assert history.count == 0 and not history.can_undo and not history.can_redo
    history.undo()  # nothing to undo: nothing happens
    after = session.params.copy()
    wrong = RunPoint.of(session).with_params(np.zeros(after.size + 3))
    history.record(Edit("Old edit", wrong, wrong))
    history.undo()
    history.redo()
    settle(session)
    np.testing.assert_array_equal(session.params, after)


def test_a_preset_clears_it(session, history):
    history.reset()
    session.load_preset("circle")
    assert history.count == 0


def test_a_new_edit_forgets_what_was_undone_and_old_edits_drop_off(session):
    h = UndoHistory(session, limit=2)
    try:
        for value in (2.0, 3.0, 4.0):
            h.set_weight(W10, value)
        biases = [session.network.views(e.after.params)[1][0][0] for e in h.edits()]
        assert h.count == 2 and biases == [3.0, 4.0]  # W10 is the first layer's bias 0
        h.undo()
        h.set_weight(W12, 5.0)  # the undone 4.0 cannot be redone any more
        assert not h.can_redo and h.undo_text == "Edit W12"
        h.undo()
        h.undo()
        assert not h.can_undo
        settle(session)
        assert session.weight_value(W10) == 2.0 and session.weight_value(W12) == 1.0
    finally:
        h.deleteLater()
