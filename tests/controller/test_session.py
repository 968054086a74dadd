"""The session and its training client, driven without widgets (on both backends)."""

import math

import numpy as np
import pytest
from tests.helpers import settle

from backprop_lab.controller.session import Session
from backprop_lab.engine.init import InitConfig
from backprop_lab.engine.names import WeightRef
from backprop_lab.engine.project import ProjectError


def test_starts_on_the_article_preset(session):
    settle(session)
    assert session.layers == [2, 3, 1]
    assert session.epoch == 0
    assert session.snapshot.train_loss == 23.5
    assert np.all(session.params == 1.0)


def test_step_trains_exactly_one_epoch(session):
    session.step_epochs(1)
    settle(session)
    assert session.epoch == 1
    assert session.snapshot.train_loss == pytest.approx(1.315053125, rel=1e-12)
    assert list(session.history.epochs.view()) == [0, 1]
    session.step_epochs(2)
    settle(session)
    assert session.epoch == 3
    assert session.history.train_loss.view()[2] == pytest.approx(0.45785954220247826)


def test_play_trains_and_pause_stops(session, qtbot):
    session.play()
    qtbot.waitUntil(lambda: session.epoch > 50, timeout=5000)
    session.pause()
    settle(session)
    e = session.epoch
    qtbot.wait(100)
    assert session.epoch == e and not session.running and not session.snapshot.running
    assert session.snapshot.train_loss < 0.2
    # every epoch reached the history, in order, without gaps
    epochs = session.history.epochs.view()
    assert list(epochs) == list(range(0, e + 1))


def test_learning_rate_change_is_used_while_running(qtbot):
    from backprop_lab.engine import presets
    from backprop_lab.engine.training import Trainer

    s = Session(presets.load_preset("xor-tanh"))
    try:
        s.set_speed(50.0)  # far from converged when the rate changes
        s.play()
        qtbot.waitUntil(lambda: s.epoch > 5, timeout=5000)
        s.set_learning_rate(0.01)
        s.pause()
        settle(s)
        assert s.snapshot.config.learning_rate == 0.01
        # the next epoch uses 0.01: compare with the engine on the same weights
        nets = {}
        for lr in (0.01, 0.5):
            net = s.network
            Trainer(net, s.config.with_(learning_rate=lr), s.dataset.x_train,
                    s.dataset.y_train).run_epoch()
            nets[lr] = net.params
        s.step_epochs(1)
        settle(s)
        np.testing.assert_array_equal(s.params, nets[0.01])
        assert not np.allclose(s.params, nets[0.5], rtol=1e-9, atol=0)
    finally:
        s.shutdown()


def test_bad_learning_rate_is_refused_and_nothing_changes(session):
    for bad in (0.0, -1.0, math.nan, 1e9):
        with pytest.raises(ValueError, match="learning_rate"):
            session.set_learning_rate(bad)
    assert session.config.learning_rate == 0.1


def test_weight_edit_reaches_the_engine(session):
    ref = WeightRef(0, 0, 1)  # W12
    session.set_weight(ref, -2.5)
    settle(session)
    assert session.weight_value(ref) == -2.5
    assert session.network.weights[0][0, 1] == -2.5
    session.step_epochs(1)
    settle(session)
    assert session.epoch == 1  # trained from the edited weight
    assert session.weight_value(ref) != 1.0


def test_weight_edit_while_training(session, qtbot):
    session.set_speed(200.0)
    session.play()
    qtbot.waitUntil(lambda: session.epoch > 3, timeout=5000)
    session.set_weight(WeightRef(1, 0, -1), 42.0)  # V00
    session.pause()
    settle(session)
    # the edit was applied between epochs and training continued from it
    assert session.weight_value(WeightRef(1, 0, -1)) != 1.0
    assert abs(session.weight_value(WeightRef(1, 0, -1))) > 1.0


def test_reset_returns_to_the_initial_weights(session):
    session.step_epochs(10)
    settle(session)
    session.reset()
    settle(session)
    assert session.epoch == 0
    assert np.all(session.params == 1.0)
    # the history starts again with the loss before training
    assert list(session.history.epochs.view()) == [0]
    assert session.history.train_loss.view()[0] == 23.5


def test_divergence_pauses_and_keeps_last_good_weights(session, qtbot):
    errors = []
    session.error.connect(errors.append)
    session.set_learning_rate(900.0)
    session.play()
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    settle(session)
    assert not session.running
    assert "diverged in epoch" in errors[0]
    assert np.isfinite(session.params).all()
    assert math.isfinite(session.snapshot.train_loss)


def test_structure_change_rebuilds_from_the_same_seed(session):
    session.load_preset("xor-tanh")
    session.set_structure([2, 5, 1])
    p1 = session.params.copy()
    session.set_structure([2, 3, 1])
    session.set_structure([2, 5, 1])
    np.testing.assert_array_equal(session.params, p1)
    assert session.layers == [2, 5, 1]


def test_init_change(session):
    session.set_init(InitConfig("uniform", seed=3, range=0.5))
    p = session.params
    assert np.all(np.abs(p) <= 0.5) and len(set(p)) > 1


def test_broken_project_leaves_the_session_intact(session, tmp_path):
    session.step_epochs(3)
    settle(session)
    before = session.params.copy()
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "backprop-lab", "version": 1, "network": {"layers": [2, 0, 1]}}')
    with pytest.raises(ProjectError, match="bad.json"):
        session.load_project(bad)
    assert session.epoch == 3
    np.testing.assert_array_equal(session.params, before)


def test_save_and_load_round_trip(session, tmp_path):
    session.step_epochs(5)
    settle(session)
    path = tmp_path / "p.json"
    session.save_project(path)
    assert not session.dirty
    params = session.params.copy()
    other = Session()
    try:
        other.load_project(path)
        np.testing.assert_array_equal(other.params, params)  # floats exact
    finally:
        other.shutdown()


def test_shutdown_while_training_ends_the_client(qtbot, backend):
    from tests.conftest import end_session

    from backprop_lab.controller.clients import ClientFactory

    s = Session(factory=ClientFactory(backend), start_delay_ms=0)
    s.load_preset("spiral")
    s.play()
    qtbot.waitUntil(lambda: s.epoch > 0, timeout=10000)
    client = s.run.client
    end_session(qtbot, s)  # shuts down and checks the thread or process has ended
    assert not client.alive and s.training_backend == "none"


def test_speed_limit_paces_training(session, qtbot):
    """At 20 epochs a second the loop reports a rate near 20 (measured by the loop on its
    own clock, not by this test's)."""
    session.set_speed(20.0)
    session.play()
    qtbot.waitUntil(lambda: session.snapshot.epochs_per_second > 0, timeout=10000)
    assert session.snapshot.epochs_per_second < 40
    session.pause()
    settle(session)
    assert session.speed == 20.0 and session.snapshot.state.speed == 20.0


def test_activation_change_mid_run_keeps_one_row_per_epoch(session):
    session.load_preset("xor-tanh")
    session.step_epochs(5)
    settle(session)
    session.set_activations(hidden="sigmoid")
    session.step_epochs(2)
    settle(session)
    assert list(session.history.epochs.view()) == list(range(8))
    # the row at epoch 5 is the loss with the new activation
    assert session.history.train_loss.view()[7] == session.snapshot.train_loss


def test_repeated_resets_never_duplicate_rows(session, qtbot):
    session.load_preset("circle")
    for _ in range(5):
        session.play()
        qtbot.wait(30)
        session.reset()
    session.step_epochs(3)
    settle(session)
    assert list(session.history.epochs.view()) == [0, 1, 2, 3]


def test_after_an_internal_error_play_still_trains(qtbot, monkeypatch):
    from backprop_lab.controller.clients import ClientFactory
    from backprop_lab.engine.training import Trainer

    real = Trainer.run_epoch
    calls = {"n": 0}

    def flaky(self):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("a bug")
        return real(self)

    monkeypatch.setattr(Trainer, "run_epoch", flaky)
    s = Session(factory=ClientFactory("thread"))
    errors = []
    s.error.connect(errors.append)
    try:
        s.play()
        qtbot.waitUntil(lambda: bool(errors), timeout=5000)
        assert "Internal error" in errors[0] and "a bug" in errors[0]
        qtbot.waitUntil(lambda: not s.running, timeout=2000)
        e = s.epoch
        s.play()  # a fresh loop from the last state
        qtbot.waitUntil(lambda: s.epoch > e + 10, timeout=5000)
        s.pause()
        assert len(errors) == 1
    finally:
        from tests.conftest import end_session

        end_session(qtbot, s)


def test_data_a_loss_cannot_fit_switches_the_loss_and_says_so(session):
    from backprop_lab.engine.data import DataSpec

    notices = []
    session.notice.connect(notices.append)
    session.load_preset("circle")  # bce with a sigmoid output
    session.set_data(DataSpec(dataset="plane", samples=50))  # regression targets
    assert session.config.loss == "mse"
    assert session.network.output_activation == "identity"
    assert "mse" in notices[-1]
    session.step_epochs(3)
    settle(session)
    assert session.epoch == 3 and session.snapshot.train_loss >= 0


def test_a_refused_change_keeps_the_running_worker(session):
    from backprop_lab.engine.data import DataSpec

    session.load_preset("circle")
    with pytest.raises(ValueError):
        session.set_config(loss="ce")  # one output: softmax cannot work
    session.set_data(DataSpec(dataset="gaussian", samples=60, classes=3))
    assert session.config.loss == "bce"  # several outputs with bce still fit one-hot rows
    session.step_epochs(2)
    settle(session)
    assert session.epoch == 2


def test_a_loss_or_an_output_change_brings_its_partner_in_one_go(session):
    from backprop_lab.engine.data import DataSpec

    session.step_epochs(2)
    settle(session)
    params, epoch = session.params.copy(), session.epoch
    structures = []
    session.structure_changed.connect(lambda: structures.append(session.activations[-1]))
    choice = session.set_loss("bce")  # the article's identity output cannot take bce
    assert (choice.output, choice.loss, choice.followed) == ("sigmoid", "bce", "output")
    assert session.activations[-1] == "sigmoid" and session.config.loss == "bce"
    assert structures == ["sigmoid"]  # one change, not an output and then a loss
    np.testing.assert_array_equal(session.params, params)  # the weights stay
    assert session.epoch == epoch
    choice = session.set_output_activation("tanh")  # bce cannot use tanh: mse comes along
    assert (choice.loss, choice.followed) == ("mse", "loss")
    assert (session.activations[-1], session.config.loss) == ("tanh", "mse")
    choice = session.set_loss("mse")  # nothing to change
    assert choice.followed is None and structures == ["sigmoid", "tanh"]
    # a pair the data refuses changes nothing
    session.set_data(DataSpec(dataset="plane", samples=50))
    before = (session.activations, session.config)
    with pytest.raises(ValueError, match="needs targets from 0 to 1"):
        session.set_loss("bce")
    with pytest.raises(ValueError, match="softmax needs at least 2 outputs"):
        session.set_output_activation("softmax")
    assert (session.activations, session.config) == before
    session.step_epochs(1)
    settle(session)
    assert session.epoch == 1


def test_the_comparison_the_project_carries(qtbot, tmp_path):
    """Its start stays the weights it ran from (new initial weights do not move it), it is
    saved and loaded with the project, and a change of shape leaves it out."""
    import json

    from tests.conftest import end_session

    from backprop_lab.controller.clients import ClientFactory
    from backprop_lab.engine import presets

    s = Session(presets.load_preset("xor-tanh"), factory=ClientFactory("thread"),
                start_delay_ms=0)
    try:
        start = s.initial_params
        assert s.comparison is None and s.comparison_start.tobytes() == start.tobytes()
        runs = [{"name": "lr 1", "set": {"training.learning_rate": 1}}]
        s.set_comparison(runs, 25, start)
        assert s.dirty and s.comparison == {"epochs": 25, "runs": runs}
        assert "start" not in s.project.comparison  # the network's own weights
        s.new_initial_weights()
        settle(s)
        # new comparisons start from the new weights; the saved one keeps its own start
        assert s.comparison_start.tobytes() == s.initial_params.tobytes() != start.tobytes()
        path = tmp_path / "p.json"
        s.save_project(path)
        saved = json.loads(path.read_text())["comparison"]
        assert saved["epochs"] == 25 and saved["runs"] == runs
        s.load_project(path)
        assert s.comparison == {"epochs": 25, "runs": runs} and not s.dirty
        assert s.comparison_start.tobytes() == start.tobytes()
        s.set_structure([2, 4, 1])
        settle(s)
        assert s.comparison is None and s.project.comparison is None
        assert s.comparison_start.tobytes() == s.initial_params.tobytes()
    finally:
        end_session(qtbot, s)
