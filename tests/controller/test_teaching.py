"""The phase stepper on the article's example: every phase's numbers, back and forth."""

import numpy as np
import pytest
from tests.helpers import settle, wait_stepper

from backprop_lab.controller.teaching import PhaseStepper


@pytest.fixture
def stepper(session):
    return PhaseStepper(session)


def kinds(st):
    return [(p.kind, p.layer) for p in st.phases]


def test_phases_of_the_article_network(stepper):
    stepper.start()
    assert kinds(stepper) == [("start", 0), ("forward", 1), ("forward", 2), ("loss", 0),
                              ("backward", 2), ("backward", 1), ("update", 0)]


def test_walk_the_article_step(stepper, session):
    stepper.start()
    r = stepper.reveal()
    assert r.phase.kind == "start" and "X1 = 0" in r.lines[0]
    stepper.next()  # forward into Z
    r = stepper.reveal()
    assert "a_Z1 = W10*X0 + W11*X1 + W12*X2 = 1*1 + 1*0 + 1*0 = 1" in r.lines
    assert (0, 0, -1) in r.highlight_weights and (1, 0) in r.highlight_units
    stepper.next()  # forward into D0
    assert "a_D0 = V00*Z0 + V01*Z1 + V02*Z2 + V03*Z3 = 1*1 + 1*1 + 1*1 + 1*1 = 4" in \
        stepper.reveal().lines
    stepper.next()  # loss
    assert stepper.reveal().lines[0].endswith("= 8")
    stepper.next()  # output delta
    assert stepper.reveal().lines[0] == "delta_D0 = (D0 - y0) * f'(a_D0) = (4 - 0) * 1 = 4"
    stepper.next()  # hidden deltas
    r = stepper.reveal()
    assert "delta_Z1 = V01 * delta_D0 * f'(a_Z1) = 1 * 4 * 1 = 4" in r.lines
    assert any("bias unit Z0 has no delta" in line for line in r.lines)
    before = session.params.copy()
    stepper.next()  # update: applied to the session
    r = stepper.reveal()
    assert "W10 := W10 - alpha * X0 * delta_Z1 = 1 - 0.1 * 1 * 4 = 0.6" in r.lines
    assert "W11 := W11 - alpha * X1 * delta_Z1 = 1 - 0.1 * 0 * 4 = 1" in r.lines
    settle(session)
    w, b = session.network.weights, session.network.biases
    np.testing.assert_allclose(b[0], 0.6)
    np.testing.assert_array_equal(w[0], 1.0)
    np.testing.assert_allclose(w[1], 0.6)
    np.testing.assert_allclose(b[1], 0.6)
    # Back restores the weights exactly
    stepper.back()
    settle(session)
    np.testing.assert_array_equal(session.params, before)
    # forward again gives the same update; D0 for the same sample is then 1.68
    stepper.next()
    settle(session)
    assert session.network.predict([[0, 0]])[0, 0] == pytest.approx(1.68)


def test_back_and_forth_returns_to_identical_states(stepper, session):
    stepper.start()
    seen = []
    for _ in range(len(stepper.phases) - 1):
        seen.append(stepper.reveal().lines)
        stepper.next()
    seen.append(stepper.reveal().lines)
    for i in range(len(seen) - 1, 0, -1):
        assert stepper.reveal().lines == seen[i]
        stepper.back()
    assert stepper.reveal().lines == seen[0]
    settle(session)
    assert np.all(session.params == 1.0)


def test_after_the_update_next_moves_to_the_next_sample(qtbot, stepper, session):
    stepper.start()
    stepper.go_to("update")
    stepper.next()
    wait_stepper(qtbot, stepper)
    assert session.selected_sample == 1
    assert stepper.reveal().phase.kind == "start"
    assert stepper.trace.x[0].tolist() == [0.0, 1.0]
    # the new step starts from the updated weights
    assert stepper.trace.biases[0][0] == pytest.approx(0.6)


def test_batch_scope_averages_every_sample(stepper, session):
    stepper.set_scope("batch")
    stepper.start()
    assert stepper.samples == [0, 1, 2, 3]
    stepper.go_to("update")
    r = stepper.reveal()
    line = next(x for x in r.lines if x.startswith("dL/dV00"))
    assert "mean over 4 samples" in line
    # the batch step equals one epoch of batch training
    settle(session)
    from backprop_lab.engine import presets
    from backprop_lab.engine.training import Trainer
    p = presets.load_preset("article-xor")
    Trainer(p.network, p.training, session.dataset.x_train, session.dataset.y_train).run_epoch()
    np.testing.assert_allclose(session.params, p.network.params, rtol=0, atol=1e-15)


def test_play_leaves_step_mode(stepper, session, qtbot):
    stepper.start()
    stepper.next()
    session.play()
    assert not stepper.active
    session.pause()


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_a_traced_step_is_the_next_real_step_with_momentum_and_adam(session, optimizer):
    session.load_preset("xor-tanh")
    session.set_config(optimizer=optimizer, learning_rate=0.05)
    session.step_epochs(50)
    settle(session)
    predicted = session.trace(range(4)).new_params  # batch mode: the whole set
    session.step_epochs(1)
    settle(session)
    np.testing.assert_allclose(session.params, predicted, rtol=0, atol=1e-14)


def test_stepping_by_hand_moves_the_optimiser_too(session):
    session.load_preset("xor-tanh")
    session.set_config(optimizer="adam", learning_rate=0.05)
    session.step_epochs(20)
    settle(session)
    st = PhaseStepper(session)
    st.set_scope("batch")
    st.start()
    st.go_to("update")
    settle(session)
    # the next real epoch continues the same Adam run (step count 22, not a fresh 1)
    predicted = session.trace(range(4)).new_params
    assert session.snapshot.optimizer.step == 21
    session.step_epochs(1)
    settle(session)
    np.testing.assert_allclose(session.params, predicted, rtol=0, atol=1e-14)
    # and Back restores the optimiser as well as the weights
    st.start()
    st.go_to("update")
    st.back()
    settle(session)
    assert session.snapshot.optimizer.step == 22


def test_go_to_on_an_idle_stepper_starts_a_step_and_goes_there(stepper, session):
    """Called while no step is shown and the run is settled: the step starts at once and
    the move is made (it used to be queued after the start and never run)."""
    settle(session)
    assert not stepper.active
    stepper.go_to("backward", 1)
    assert stepper.active and stepper.phase.kind == "backward" and stepper.phase.layer == 1
