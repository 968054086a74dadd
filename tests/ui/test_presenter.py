"""The presenter: the session and the phase stepper turned into what the canvas and the
header show, checked against the engine's own numbers."""

import numpy as np
import pytest
from PySide6 import QtWidgets
from tests.helpers import settle

from backprop_lab.controller.teaching import PhaseStepper
from backprop_lab.ui.canvas import NetworkCanvas
from backprop_lab.ui.presenter import Presenter, header_texts


@pytest.fixture
def presenter(qtbot, session):
    canvas = NetworkCanvas()
    qtbot.addWidget(canvas)
    labels = [QtWidgets.QLabel() for _ in range(3)]
    stepper = PhaseStepper(session)
    p = Presenter(session, stepper, canvas, *labels)
    yield p
    p.stop()
    stepper.stop()


def test_the_header_names_epoch_updates_loss_and_accuracy(session):
    settle(session)
    assert header_texts(session.snapshot) == ("Epoch 0 \u00b7 0 updates",
                                              "Train loss 23.5   Accuracy 50%")
    # regression targets have no accuracy to show
    assert header_texts(session.snapshot, classification=False) == (
        "Epoch 0 \u00b7 0 updates", "Train loss 23.5")


def test_the_canvas_shows_the_selected_sample_with_the_newest_weights(presenter, session):
    session.step_epochs(2)
    settle(session)
    session.select_sample(3)  # (1, 1) -> 0
    d = presenter.canvas.data()
    t = session.trace([3])
    np.testing.assert_array_equal(d.z[0], [1.0, 1.0])
    np.testing.assert_array_equal(d.z[-1], t.z[-1][0])
    np.testing.assert_array_equal(d.weights[0], session.network.weights[0])
    assert presenter.epoch_label.text() == "Epoch 2 \u00b7 2 updates"  # batch mode
    assert presenter.loss_label.text() == header_texts(session.snapshot)[1]


def test_a_stepped_update_shows_only_what_is_computed(presenter, session, qtbot):
    stepper = presenter.stepper
    stepper.start()
    qtbot.waitUntil(lambda: stepper.active, timeout=10000)
    d = presenter.canvas.data()
    assert np.isnan(d.a[0]).all() and np.isnan(d.deltas[-1]).all()
    stepper.next()  # forward into the hidden layer
    d = presenter.canvas.data()
    assert not np.isnan(d.a[0]).any() and np.isnan(d.a[1]).all()
    assert d.highlight_weights and d.caption
    stepper.stop()
    d = presenter.canvas.data()
    assert not np.isnan(d.a[1]).any() and not np.isnan(d.deltas[0]).any()


# -- the loss on the canvas, the header after hand steps, batch scope as means -------------
def test_the_loss_node_shows_the_selected_samples_target_and_loss(presenter, session):
    settle(session)
    presenter.render()
    d = presenter.canvas.data()
    # the article's sample 1: inputs (0, 0), output 4, target 0, L = (4 - 0)^2 / 2 = 8
    assert d.loss == 8.0 and list(d.target) == [0.0]
    assert d.loss_label == "L for sample 1" and not d.highlight_loss
    session.select_sample(2)  # (1, 0) -> 1
    d = presenter.canvas.data()
    t = session.trace([2])
    assert d.loss == float(t.sample_losses[0]) and list(d.target) == [1.0]
    assert d.loss_label == "L for sample 3"
    assert presenter.canvas.loss_node_rect() is not None  # drawn, not just carried


def test_the_loss_appears_in_the_loss_phase_of_a_stepped_update(presenter, session, qtbot):
    stepper = presenter.stepper
    stepper.start()
    qtbot.waitUntil(lambda: stepper.active, timeout=10000)
    kinds = [p.kind for p in stepper.phases]
    seen = []
    while True:
        d = presenter.canvas.data()
        kind = stepper.phase.kind
        seen.append((kind, d.loss, d.highlight_loss))
        assert list(d.target) == [0.0]  # the target is data: known from the start
        assert not d.values_are_means  # one sample
        if stepper.index == len(kinds) - 1:
            break
        stepper.next()
    loss_at = kinds.index("loss")
    for i, (kind, loss, lit) in enumerate(seen):
        if i < loss_at:
            assert np.isnan(loss), kind
        else:
            assert loss == 8.0, kind  # during and after the Loss phase
        assert lit == (kind == "loss")
    stepper.stop()


def test_hand_steps_count_as_updates_in_the_header(presenter, session, qtbot):
    stepper = presenter.stepper
    stepper.start()
    qtbot.waitUntil(lambda: stepper.active, timeout=10000)
    stepper.go_to("update")
    settle(session)
    presenter.update_labels()
    assert presenter.epoch_label.text() == "Epoch 0 \u00b7 1 update"
    # the header's loss is the mean training loss after the step: the loss dock's mark
    mark = session.snapshot.state.marks[-1]
    assert presenter.loss_label.text().startswith(f"Train loss {mark[2]:.5g}")
    assert "mean loss over the 4 training samples" in presenter.loss_label.toolTip()


@pytest.mark.parametrize("scope", ["batch", "minibatch"])
def test_batch_scope_shows_the_mean_deltas_and_loss_the_update_uses(presenter, session,
                                                                    qtbot, scope):
    if scope == "minibatch":
        session.set_config(mode="minibatch", batch_size=2)
        settle(session)
    stepper = presenter.stepper
    stepper.set_scope(scope)
    session.select_sample(1)
    stepper.start()
    qtbot.waitUntil(lambda: stepper.active, timeout=10000)
    stepper.go_to("update")
    t = stepper.trace
    n = 4 if scope == "batch" else 2
    assert t.n_samples == n and 1 in stepper.samples
    d = presenter.canvas.data()
    assert d.values_are_means
    for l in range(len(t.deltas)):
        np.testing.assert_allclose(d.deltas[l], t.deltas[l].mean(axis=0))
        np.testing.assert_allclose(d.grad_weights[l], t.grad_weights[l])
    assert d.loss == pytest.approx(t.loss)
    row = stepper.samples.index(1)
    assert list(d.target) == list(t.y[row])
    np.testing.assert_array_equal(d.z[0], t.x[row])  # the forward values stay the sample's
    assert d.loss_label == f"y: sample 2 \u00b7 L: mean of {n}"
    stepper.stop()
