"""The sample tables: the stepped update's batch one row per sample (with the chosen
weight's gradient and their mean, which the canvas shows), and every training sample
with its output and loss (their mean is the header's Train loss)."""

import numpy as np
import pytest
from PySide6 import QtCore
from tests.helpers import settle

from backprop_lab.controller.teaching import PhaseStepper
from backprop_lab.engine.names import WeightRef
from backprop_lab.ui.samples_view import BatchSamplesView, SamplesView

W11 = WeightRef(0, 0, 0)
W10 = WeightRef(0, 0, -1)


@pytest.fixture
def stepper(session):
    st = PhaseStepper(session)
    yield st
    st.stop()


@pytest.fixture
def batch_view(qtbot, session, stepper):
    v = BatchSamplesView(session, stepper)
    qtbot.addWidget(v)
    v.resize(700, 300)
    v.show()
    qtbot.waitExposed(v)
    return v


@pytest.fixture
def samples_view(qtbot, session):
    v = SamplesView(session)
    qtbot.addWidget(v)
    v.resize(600, 300)
    v.show()
    qtbot.waitExposed(v)
    return v


def column(model, header):
    return model.headers().index(header)


def test_all_four_xor_rows_with_output_and_loss(samples_view, session, qtbot):
    settle(session)
    samples_view.refresh()
    m = samples_view.model
    assert m.headers() == ["#", "X1", "X2", "y", "output D0", "L"]
    assert m.sample_rows == 4 and m.rowCount() == 5
    # every weight 1: outputs 4, 7, 7, 10 against targets 0, 1, 1, 0
    assert [m.row_texts(r) for r in range(4)] == [
        ["1", "0", "0", "0", "4", "8"], ["2", "0", "1", "1", "7", "18"],
        ["3", "1", "0", "1", "7", "18"], ["4", "1", "1", "0", "10", "50"]]
    assert m.row_texts(4)[0] == "mean" and m.value(4, column(m, "L")) == 23.5
    assert m.value(4, column(m, "L")) == pytest.approx(session.snapshot.train_loss)


def test_the_samples_table_follows_training_and_the_selection(samples_view, session, qtbot):
    m = samples_view.model
    L = column(m, "L")
    session.step_epochs(3)
    settle(session)
    qtbot.waitUntil(lambda: m.value(4, L) == pytest.approx(session.snapshot.train_loss),
                    timeout=5000)  # redrawn (throttled) after the snapshot
    outputs, losses = session.sample_outputs()
    assert [m.value(r, L) for r in range(4)] == list(losses)
    session.select_sample(2)
    assert m.data(m.index(2, 0), QtCore.Qt.BackgroundRole) is not None
    assert m.data(m.index(0, 0), QtCore.Qt.BackgroundRole) is None
    # a click on a row selects its sample
    rect = samples_view.table.visualRect(m.index(3, 1))
    qtbot.mouseClick(samples_view.table.viewport(), QtCore.Qt.LeftButton, pos=rect.center())
    assert session.selected_sample == 3


def test_a_hidden_table_does_not_redraw_until_shown(samples_view, session, qtbot):
    samples_view.hide()
    session.set_weight(W11, 3.0)
    samples_view.refresh()
    L = column(samples_view.model, "L")
    old = samples_view.model.value(2, L)  # sample 3, (1, 0): X1 feeds it through W11
    samples_view.show()
    qtbot.waitUntil(lambda: samples_view.model.value(2, L) != old, timeout=3000)
    assert samples_view.model.value(2, L) == session.sample_outputs()[1][2]


def test_the_whole_batch_one_row_per_sample_with_the_weights_gradient(
        batch_view, session, stepper, qtbot):
    stepper.set_scope("batch")
    batch_view.set_weight(W10)
    stepper.start()
    qtbot.waitUntil(lambda: stepper.active, timeout=10000)
    m = batch_view.model
    g = column(m, "\u2202L/\u2202W10")
    assert m.headers() == ["#", "X1", "X2", "y", "output D0", "L", "\u2202L/\u2202W10"]
    assert m.sample_rows == 4
    # the start phase: inputs and targets known, the rest not yet
    assert m.row_texts(1) == ["2", "0", "1", "1", "?", "?", "?"]
    stepper.go_to("loss")
    assert [m.text(r, column(m, "L")) for r in range(5)] == ["8", "18", "18", "50", "23.5"]
    assert m.text(0, g) == "?"
    stepper.go_to("backward", 1)
    t = stepper.trace
    grads = [m.value(r, g) for r in range(4)]
    # W10 carries the bias 1 into Z1: its gradient is delta_Z1 = V01 * delta_D0 per sample
    np.testing.assert_allclose(grads, t.deltas[0][:, 0])
    assert m.value(4, g) == pytest.approx(np.mean(grads))
    # ... and that mean is the gradient the canvas shows and the update uses
    assert m.value(4, g) == pytest.approx(t.grad_biases[0][0])
    assert "4 samples" in batch_view.title_label.text()


def test_a_clicked_weight_and_the_selected_sample(batch_view, session, stepper, qtbot):
    stepper.set_scope("batch")
    stepper.start()
    qtbot.waitUntil(lambda: stepper.active, timeout=10000)
    stepper.go_to("update")
    batch_view.set_weight(W11)
    m = batch_view.model
    g = column(m, "\u2202L/\u2202W11")
    # X1 is 0 in samples 1 and 2: no gradient from them (the article's error 2)
    assert [m.value(r, g) for r in range(2)] == [0.0, 0.0]
    assert m.value(2, g) != 0.0
    session.select_sample(2)
    assert m.data(m.index(2, 0), QtCore.Qt.BackgroundRole) is not None
    batch_view.set_weight(WeightRef(5, 0, 0))  # not in this network: ignored
    assert batch_view.weight() == W11


def test_outside_step_mode_the_table_shows_the_next_update(batch_view, session, stepper,
                                                           qtbot):
    session.set_config(mode="minibatch", batch_size=2)
    settle(session)
    stepper.set_scope("minibatch")
    batch_view.refresh()
    m = batch_view.model
    samples = stepper.batch_samples()
    assert m.sample_rows == 2
    assert [m.value(r, 0) for r in range(2)] == [k + 1 for k in samples]
    assert "would use 2 samples" in batch_view.title_label.text()
    t = session.trace(samples)
    assert m.value(2, column(m, "L")) == pytest.approx(t.loss)


def test_a_penalty_gets_rows_of_its_own(batch_view, session, stepper, qtbot):
    session.set_config(regularization="l2", regularization_rate=0.5)
    settle(session)
    stepper.set_scope("batch")
    batch_view.set_weight(W11)
    m = batch_view.model
    assert [m.text(r, 0) for r in range(4, m.rowCount())] == ["mean", "+ penalty",
                                                             "update uses"]
    g = column(m, "\u2202L/\u2202W11")
    t = session.trace(list(range(4)))
    assert m.value(5, g) + m.value(4, g) == pytest.approx(m.value(6, g))
    assert m.value(6, g) == pytest.approx(t.grad_weights[0][0, 0])


def test_presentation_scale_grows_text_and_columns(samples_view, session, qtbot):
    samples_view.refresh()
    table = samples_view.table
    before = table.font().pointSizeF(), table.columnWidth(4)
    samples_view.set_scale(1.5)
    assert table.font().pointSizeF() == pytest.approx(before[0] * 1.5, rel=0.01)
    assert table.columnWidth(4) > before[1]  # "output D0" needs more room
