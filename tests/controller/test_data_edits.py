"""Points added, moved and deleted by hand: the session keeps the weights, the edits undo."""

import numpy as np
import pytest
from tests.helpers import settle

from backprop_lab.controller.data_edits import PointEditor, click_target, n_classes
from backprop_lab.controller.undo import UndoHistory
from backprop_lab.engine import data, presets
from backprop_lab.engine.names import WeightRef

W12 = WeightRef(0, 0, 1)


@pytest.fixture
def history(session):
    h = UndoHistory(session)
    yield h
    h.deleteLater()


@pytest.fixture
def editor(session, history):
    e = PointEditor(session, history)
    yield e
    e.deleteLater()


def test_adding_a_point_keeps_the_weights_and_undo_removes_it(session, history, editor):
    session.step_epochs(3)
    settle(session)
    params, epoch = session.params.copy(), session.epoch
    seen = []
    session.data_changed.connect(lambda: seen.append("data"))
    session.structure_changed.connect(lambda: seen.append("structure"))
    edit = editor.add((0.25, 0.75), 1.0)
    assert seen == ["data"]
    ds = session.dataset
    assert len(ds.x_train) == 5
    assert ds.raw_train[4].tolist() == [0.25, 0.75] and ds.y_train[4].tolist() == [1.0]
    assert np.array_equal(session.params, params) and session.epoch == epoch
    assert (edit.kind, edit.part, edit.index, edit.text) == ("add", "train", 4, "Add point")
    assert len(edit.before.inputs) == 4 and len(edit.after.inputs) == 5
    assert history.can_undo and history.undo_text == "Add point"
    assert session.dirty
    session.step_epochs(1)  # the loop trains on the five points from the same weights
    settle(session)
    assert session.epoch == epoch + 1
    assert session.history.epochs.view()[-1] == epoch + 1
    history.undo()
    assert len(session.dataset.x_train) == 4 and session.data_spec == edit.before
    assert session.epoch == epoch + 1  # undo takes the point back, not the training
    history.redo()
    assert len(session.dataset.x_train) == 5 and session.data_spec == edit.after


def test_point_edits_live_with_weight_edits_in_one_history(session, history, editor):
    history.set_weight(W12, -0.5)
    editor.add((0.5, 0.5), 0.0)
    assert history.count == 2  # the point edit did not end the history
    history.undo()
    assert len(session.dataset.x_train) == 4
    assert session.weight_value(W12) == -0.5
    history.undo()
    assert session.weight_value(W12) == 1.0


def test_move_and_delete(session, editor):
    before = session.dataset
    edit = editor.move(2, (0.9, 0.1))
    ds = session.dataset
    assert ds.raw_train[2].tolist() == [0.9, 0.1]
    assert ds.y_train[2].tolist() == before.y_train[2].tolist()  # the target stays
    assert edit.text == "Move point 3"
    editor.delete(0)
    ds = session.dataset
    assert len(ds.x_train) == 3 and ds.raw_train[1].tolist() == [0.9, 0.1]
    with pytest.raises(ValueError, match="no train point 7"):
        editor.delete(7)


def test_editing_while_training_keeps_training(session, editor, qtbot):
    session.load_preset("circle")
    session.play()
    qtbot.waitUntil(lambda: session.epoch >= 3, timeout=20_000)
    n = len(session.dataset.x_train)
    editor.add_click((0.0, 0.0), primary=False)
    assert session.running
    assert len(session.dataset.x_train) == n + 1
    assert session.dataset.y_train[-1].tolist() == [0.0]
    epoch = session.epoch
    qtbot.waitUntil(lambda: session.epoch >= epoch + 3, timeout=20_000)
    session.pause()
    settle(session)
    # the test part was not reshuffled by the edit
    assert len(session.dataset.x_test) == 60


def test_a_test_point_that_goes_changes_the_kind_of_data(session, history, editor):
    spec = data.DataSpec(inputs=((0, 0), (0, 1), (1, 0), (1, 1)),
                         targets=((0,), (1,), (1,), (0,)),
                         test_inputs=((0.5, 0.5),), test_targets=((1,),))
    session.set_data(spec)
    assert session.dataset.has_test
    seen = []
    session.structure_changed.connect(lambda: seen.append("structure"))
    editor.delete(0, "test")
    assert not session.dataset.has_test and seen == ["structure"]
    history.undo()  # the test part comes back
    assert session.dataset.has_test and len(session.dataset.x_test) == 1


def test_points_that_need_another_network_are_refused(session):
    spec = data.DataSpec(inputs=((0, 0, 1),), targets=((1,),))
    with pytest.raises(ValueError, match="2 inputs"):
        session.edit_points(spec)
    assert len(session.dataset.x_train) == 4


def test_click_targets():
    xor = data.build(presets.load_preset("article-xor").data)
    assert n_classes(xor) == 2
    assert click_target(xor, True) == (1.0,) and click_target(xor, False) == (0.0,)
    three = data.build(presets.load_preset("three-class").data)
    assert n_classes(three) == 3
    assert click_target(three, True) == (0.0, 1.0, 0.0)
    assert click_target(three, True, 2) == (0.0, 0.0, 1.0)
    assert click_target(three, False, 2) == (1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="no class 3"):
        click_target(three, True, 3)
    reg = data.build(presets.load_preset("regression").data)
    y = np.vstack([reg.y_train, reg.y_test])
    assert n_classes(reg) == 0
    assert click_target(reg, True) == (float(y.max()),)
    assert click_target(reg, False) == (float(y.min()),)


def test_an_edit_while_a_past_epoch_is_shown_edits_the_present(qtbot, session, editor):
    session.load_preset("xor-tanh")
    session.step_epochs(20)
    settle(session)
    present = session.params.copy()
    with qtbot.waitSignal(session.past_changed, timeout=30000):
        session.scrub(5)
    assert session.past_epoch == 5
    editor.add((0.5, 0.5), 1.0)
    assert session.past_epoch is None and session.epoch == 20
    assert np.array_equal(session.params, present)
    assert len(session.dataset.x_train) == 5
    session.step_epochs(1)
    settle(session)
    assert session.epoch == 21
    # the run's past keeps its own points: scrubbing back before the edit
    with qtbot.waitSignal(session.past_changed, timeout=30000):
        session.scrub(20)
    assert np.array_equal(session.params, present)
