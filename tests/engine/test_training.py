"""Training: the article's batch run, the linear floor, symmetry, XOR learning,
divergence, configuration validation and reproducible initialisation."""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from backprop_lab.engine import init
from backprop_lab.engine.init import InitConfig, initialize
from backprop_lab.engine.network import Network
from backprop_lab.engine.training import (
    MAX_LEARNING_RATE,
    Divergence,
    Trainer,
    TrainingConfig,
    accuracy,
    check_compatible,
)

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=float)


def article_trainer(lr=0.1, **cfg) -> Trainer:
    net = Network([2, 3, 1], "identity", "identity", np.ones(13))
    return Trainer(net, TrainingConfig(learning_rate=lr, **cfg), XOR_X, XOR_Y)


def exact_identity_losses(epochs: int) -> list[Fraction]:
    """Mean mse of the all-ones identity 2-3-1 net under batch GD, lr 1/10, in exact
    rational arithmetic: [before epoch 1, after epoch 1, ...]."""
    lr = Fraction(1, 10)
    W = [[Fraction(1)] * 3 for _ in range(3)]  # W[i] = [W_i0, W_i1, W_i2]
    V = [Fraction(1)] * 4  # V00..V03
    data = [((1, 0, 0), 0), ((1, 0, 1), 1), ((1, 1, 0), 1), ((1, 1, 1), 0)]
    out = []
    for epoch in range(epochs + 1):
        gW = [[Fraction(0)] * 3 for _ in range(3)]
        gV = [Fraction(0)] * 4
        total = Fraction(0)
        for xs, t in data:
            z = [Fraction(1)] + [sum(W[i][j] * xs[j] for j in range(3)) for i in range(3)]
            d = sum(V[k] * z[k] for k in range(4))
            total += (d - t) ** 2 / 2
            delta = d - t
            for k in range(4):
                gV[k] += delta * z[k]
            for i in range(3):
                for j in range(3):
                    gW[i][j] += V[i + 1] * delta * xs[j]
        out.append(total / 4)
        if epoch == epochs:
            break
        V = [V[k] - lr * gV[k] / 4 for k in range(4)]
        W = [[W[i][j] - lr * gW[i][j] / 4 for j in range(3)] for i in range(3)]
    return out


def test_exact_reference_matches_the_article_page():
    ref = exact_identity_losses(2)
    assert ref[0] == Fraction(47, 2)  # 23.5
    assert ref[1] == Fraction("1.315053125")
    assert float(ref[2]) == pytest.approx(0.45785954220247826, rel=1e-15)


def test_article_batch_training_loss_sequence():
    trainer = article_trainer()
    ref = exact_identity_losses(5)
    assert trainer.train_loss() == 23.5
    got = [trainer.run_epoch() for _ in range(5)]
    assert got[0] == pytest.approx(1.315053125, rel=1e-12)
    assert got[1] == pytest.approx(0.45785954220247826, rel=1e-12)
    for g, r in zip(got, ref[1:]):
        assert g == pytest.approx(float(r), rel=1e-12)
    assert trainer.epoch == 5
    # Reported loss is the loss of the weights after the epoch.
    assert trainer.net.loss(XOR_X, XOR_Y, "mse") == pytest.approx(got[-1], rel=1e-15)


def test_identity_network_settles_at_the_linear_floor():
    trainer = article_trainer()
    lowest = math.inf
    for _ in range(1500):
        loss = trainer.run_epoch()
        lowest = min(lowest, loss)
    assert loss == pytest.approx(0.125, abs=1e-6)
    # A linear model cannot beat the best linear fit.
    assert lowest >= 0.125 - 1e-12
    np.testing.assert_allclose(trainer.net.predict(XOR_X), 0.5, atol=2e-3)
    assert accuracy(trainer.net, XOR_X, XOR_Y) <= 0.75


def test_all_ones_sigmoid_hidden_units_stay_identical():
    net = Network([2, 3, 1], "sigmoid", "identity", np.ones(13))
    trainer = Trainer(net, TrainingConfig(learning_rate=0.5), XOR_X, XOR_Y)
    for _ in range(1000):
        trainer.run_epoch()
    W = np.column_stack([net.biases[0], net.weights[0]])  # rows: [W_i0, W_i1, W_i2]
    assert np.abs(W - 1.0).max() > 0.1  # the weights did move
    for i in (1, 2):
        np.testing.assert_allclose(W[i], W[0], rtol=0, atol=1e-13)
    v = net.weights[1][0]
    np.testing.assert_allclose(v, v[0], rtol=0, atol=1e-13)
    # Symmetric hidden units cannot represent XOR.
    assert trainer.train_loss() > 0.1


def test_random_init_breaks_symmetry():
    net = Network([2, 3, 1], "sigmoid", "identity")
    initialize(net, InitConfig(method="uniform", range=1.0, seed=0))
    trainer = Trainer(net, TrainingConfig(learning_rate=0.5), XOR_X, XOR_Y)
    for _ in range(10):
        trainer.run_epoch()
    W = np.column_stack([net.biases[0], net.weights[0]])
    assert np.abs(W[0] - W[1]).max() > 1e-2 and np.abs(W[1] - W[2]).max() > 1e-2


# Settings for the xor-tanh preset: 2-3-1, tanh hidden, identity output, mse,
# uniform init r = 1, batch gradient descent with lr 0.5 (seeds 0..99 all reach
# mse < 0.01, the slowest after 457 epochs).
XOR_TANH = {"init": InitConfig(method="uniform", range=1.0), "lr": 0.5, "output": "identity"}


def test_xor_tanh_learns_for_most_seeds():
    passed = []
    for seed in range(10):
        net = Network([2, 3, 1], "tanh", XOR_TANH["output"])
        initialize(net, replace(XOR_TANH["init"], seed=seed))
        trainer = Trainer(net, TrainingConfig(learning_rate=XOR_TANH["lr"], mode="batch"),
                          XOR_X, XOR_Y)
        for _ in range(5000):
            if trainer.run_epoch() < 0.01:
                passed.append(seed)
                assert accuracy(net, XOR_X, XOR_Y) == 1.0
                break
    assert len(passed) >= 9, f"only seeds {passed} learned XOR"


# -- divergence -------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
@pytest.mark.parametrize("mode", ["batch", "minibatch", "stochastic"])
def test_divergence_names_epoch_and_restores_weights(optimizer, mode):
    # rates at which the loss passes its bound after a few epochs of real progress
    lr = {("stochastic", "sgd"): 0.5, ("stochastic", "momentum"): 0.2}.get((mode, optimizer),
                                                                           0.4)
    trainer = article_trainer(lr=lr, optimizer=optimizer, mode=mode, batch_size=3)
    with np.errstate(all="ignore"):
        for _ in range(200):
            before = trainer.net.params.copy()
            opt_before = trainer.opt.copy()
            epoch_before = trainer.epoch
            try:
                trainer.run_epoch()
            except Divergence as exc:
                err = exc
                break
        else:
            pytest.fail("training did not diverge")
    assert err.epoch == epoch_before + 1
    assert f"epoch {epoch_before + 1}" in str(err)
    assert isinstance(err, ArithmeticError)
    np.testing.assert_array_equal(trainer.net.params, before)
    assert trainer.epoch == epoch_before
    if optimizer != "sgd":  # sgd: see test_divergence_restores_sgd_step_count
        assert trainer.opt.step == opt_before.step
    for attr in ("m", "v"):
        a, b = getattr(trainer.opt, attr), getattr(opt_before, attr)
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)
    assert err.epoch > 1  # the rollback is tested against real earlier progress
    # The measured loss is that of the kept weights, finite.
    with np.errstate(all="ignore"):
        loss_before = trainer.net.loss(XOR_X, XOR_Y, "mse")
    assert np.isfinite(loss_before)
    assert trainer.train_loss() == loss_before


def test_divergence_restores_adam_state():
    # Adam's step is bounded by lr, so drive it to NaN with a hand-edited huge weight
    # after a few normal epochs (gradient inf -> m/sqrt(v) = inf/inf = NaN).
    trainer = article_trainer(lr=0.1, optimizer="adam")
    for _ in range(3):
        trainer.run_epoch()
    trainer.net.weights[1][:] = 1e200
    trainer.params_changed()
    before, opt_before = trainer.net.params.copy(), trainer.opt.copy()
    with np.errstate(all="ignore"), pytest.raises(Divergence, match="epoch 4") as info:
        trainer.run_epoch()
    assert info.value.epoch == 4
    np.testing.assert_array_equal(trainer.net.params, before)
    assert trainer.opt.step == opt_before.step == 3
    np.testing.assert_array_equal(trainer.opt.m, opt_before.m)
    np.testing.assert_array_equal(trainer.opt.v, opt_before.v)
    assert np.isfinite(trainer.opt.m).all() and np.isfinite(trainer.opt.v).all()
    assert trainer.epoch == 3


def test_divergence_restores_sgd_step_count():
    # The optimiser's step counter counts updates actually applied; after a rolled-back
    # epoch it must equal what it was before that epoch, for sgd as for the others.
    trainer = article_trainer(lr=50.0)
    with np.errstate(all="ignore"):
        with pytest.raises(Divergence) as info:
            for _ in range(200):
                steps_before = trainer.opt.step
                trainer.run_epoch()
    assert info.value.epoch == steps_before + 1
    assert trainer.opt.step == steps_before == trainer.epoch


def test_divergence_in_first_epoch_reports_epoch_one():
    trainer = article_trainer(lr=MAX_LEARNING_RATE)
    trainer.net.params[:] = 1e150
    trainer.params_changed()
    with np.errstate(all="ignore"), pytest.raises(Divergence, match="epoch 1") as info:
        trainer.run_epoch()
    assert info.value.epoch == 1
    np.testing.assert_array_equal(trainer.net.params, 1e150)


# -- configuration ------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "key"), [
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"learning_rate": -0.1}, "learning_rate"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"learning_rate": float("inf")}, "learning_rate"),
    ({"learning_rate": 1000.5}, "learning_rate"),
    ({"learning_rate": 1e9}, "learning_rate"),
    ({"learning_rate": True}, "learning_rate"),
    ({"learning_rate": "0.1"}, "learning_rate"),
    ({"learning_rate": None}, "learning_rate"),
    ({"mode": "full"}, "mode"),
    ({"mode": "Batch"}, "mode"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": -3}, "batch_size"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"batch_size": True}, "batch_size"),
    ({"loss": "mae"}, "loss"),
    ({"loss": "MSE"}, "loss"),
    ({"optimizer": "rmsprop"}, "optimizer"),
    ({"shuffle": 1}, "shuffle"),
    ({"shuffle": "yes"}, "shuffle"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"seed": False}, "seed"),
    ({"regularization": "l3"}, "regularization"),
    ({"regularization_rate": -0.1}, "regularization_rate"),
    ({"regularization_rate": float("nan")}, "regularization_rate"),
    ({"regularization_rate": float("inf")}, "regularization_rate"),
    ({"regularization_rate": "0.1"}, "regularization_rate"),
])
def test_validate_rejects_with_key_in_message(changes, key):
    cfg = TrainingConfig().with_(**changes)
    with pytest.raises(ValueError, match=rf"training\.{key}\b"):
        cfg.validate()
    with pytest.raises(ValueError, match=rf"training\.{key}\b"):
        article_trainer().set_config(cfg)


@pytest.mark.parametrize("changes", [
    {}, {"learning_rate": MAX_LEARNING_RATE}, {"learning_rate": 1}, {"learning_rate": 1e-9},
    {"mode": "minibatch", "batch_size": 1}, {"mode": "stochastic"},
    {"optimizer": "adam"}, {"optimizer": "momentum"}, {"loss": "ce"}, {"loss": "bce"},
    {"regularization": "l1", "regularization_rate": 0.5},
    {"regularization": "l2", "regularization_rate": 0}, {"seed": np.int64(4)},
    {"batch_size": np.int64(7)}, {"shuffle": True},
])
def test_validate_accepts_good_configs(changes):
    TrainingConfig().with_(**changes).validate()


def test_effective_batch_size():
    assert TrainingConfig(mode="batch", batch_size=2).effective_batch_size(9) == 9
    assert TrainingConfig(mode="stochastic", batch_size=5).effective_batch_size(9) == 1
    assert TrainingConfig(mode="minibatch", batch_size=4).effective_batch_size(9) == 4
    assert TrainingConfig(mode="minibatch", batch_size=40).effective_batch_size(9) == 9


@pytest.mark.parametrize(("loss", "output"), [
    ("bce", "identity"), ("bce", "softmax"), ("bce", "tanh"),
    ("ce", "sigmoid"), ("ce", "identity"),
])
def test_loss_output_mismatch_rejected(loss, output):
    net = Network([2, 3, 2], "tanh", output)
    y = np.eye(2)[[0, 1, 1, 0]]
    with pytest.raises(ValueError, match=loss):
        Trainer(net, TrainingConfig(loss=loss), XOR_X, y)
    with pytest.raises(ValueError, match=loss):
        check_compatible(net, TrainingConfig(loss=loss))
    trainer = Trainer(net, TrainingConfig(loss="mse"), XOR_X, y)
    with pytest.raises(ValueError, match=loss):
        trainer.set_config(TrainingConfig(loss=loss))
    assert trainer.cfg.loss == "mse"


def test_softmax_needs_two_outputs():
    net = Network([2, 3, 1], "tanh", "softmax")  # softmax of one number is always 1
    for loss in ("ce", "mse"):
        with pytest.raises(ValueError, match="softmax needs at least 2 outputs; with one "
                                             "output use sigmoid"):
            check_compatible(net, TrainingConfig(loss=loss))
        with pytest.raises(ValueError, match="softmax needs at least 2 outputs"):
            Trainer(net, TrainingConfig(loss=loss), XOR_X, XOR_Y)
    check_compatible(Network([2, 3, 2], "tanh", "softmax"), TrainingConfig(loss="ce"))


@pytest.mark.parametrize(("y", "message"), [
    (np.array([[0.0], [1.0], [2.0], [0.5]]), r"loss 'bce' needs targets from 0 to 1.*'mse'"),
    (np.array([[0.0], [1.0], [-0.1], [0.5]]), r"loss 'bce' needs targets from 0 to 1"),
])
def test_bce_refuses_targets_outside_0_1(y, message):
    net = Network([2, 3, 1], "tanh", "sigmoid")
    cfg = TrainingConfig(loss="bce")
    with pytest.raises(ValueError, match=message):
        check_compatible(net, cfg, y=y)
    with pytest.raises(ValueError, match=message):
        Trainer(net, cfg, XOR_X, y)
    check_compatible(net, cfg)  # targets not known yet: nothing to say
    Trainer(net, cfg, XOR_X, np.array([[0.0], [1.0], [0.25], [1.0]]))  # soft labels: fine
    trainer = Trainer(net, TrainingConfig(loss="mse"), XOR_X, y)  # mse takes any target
    with pytest.raises(ValueError, match="loss 'bce' needs targets"):
        trainer.set_config(cfg)
    assert trainer.cfg.loss == "mse"


@pytest.mark.parametrize("y", [
    np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 1.0]]),  # two 1s
    np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 1.0]]),  # no 1
    np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.0, 1.0]]),  # soft
    np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0], [0.0, 1.0]]),  # sums to 1, not 0/1
])
def test_ce_refuses_targets_that_are_not_one_hot(y):
    net = Network([2, 3, 2], "tanh", "softmax")
    cfg = TrainingConfig(loss="ce")
    with pytest.raises(ValueError, match=r"loss 'ce' needs one-hot targets.*row 2.*'bce'"):
        check_compatible(net, cfg, 2, y)
    with pytest.raises(ValueError, match="loss 'ce' needs one-hot targets"):
        Trainer(net, cfg, XOR_X, y)
    Trainer(net, cfg, XOR_X, np.eye(2)[[0, 1, 1, 0]])


def test_check_compatible_keeps_its_old_calls():
    net = Network([2, 3, 1], "tanh", "sigmoid")
    cfg = TrainingConfig(loss="bce")
    check_compatible(net, cfg)
    check_compatible(net, cfg, 1)
    with pytest.raises(ValueError, match="target columns"):
        check_compatible(net, cfg, 2)
    with pytest.raises(ValueError, match="target columns"):
        check_compatible(net, cfg, y=np.zeros((4, 2)))


def test_seeds_must_fit_in_63_bits():
    TrainingConfig(seed=2 ** 63 - 1).validate()
    with pytest.raises(ValueError, match=r"training\.seed must be below 2\*\*63"):
        TrainingConfig(seed=2 ** 63).validate()


def test_data_shape_mismatch_rejected():
    net = Network([2, 3, 1], "tanh", "identity")
    with pytest.raises(ValueError, match="target columns"):
        Trainer(net, TrainingConfig(), XOR_X, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="input columns"):
        Trainer(net, TrainingConfig(), np.zeros((4, 3)), XOR_Y)
    with pytest.raises(ValueError, match="one row per"):
        Trainer(net, TrainingConfig(), XOR_X, XOR_Y[:3])
    with pytest.raises(ValueError, match="one row per"):
        Trainer(net, TrainingConfig(), np.zeros((0, 2)), np.zeros((0, 1)))


def test_set_config_changes_learning_rate_live_and_keeps_optimizer_state():
    a, b = article_trainer(optimizer="momentum"), article_trainer(optimizer="momentum")
    a.run_epoch()
    b.run_epoch()
    a.set_config(a.cfg.with_(learning_rate=0.01))
    assert a.opt.step == 1  # same optimizer: state kept
    a.run_epoch()
    b.set_config(b.cfg.with_(optimizer="adam"))
    assert b.opt.step == 0 and b.opt.kind == "adam"


# -- initialisation and reset -----------------------------------------------------------

@pytest.mark.parametrize("method", init.INITS)
def test_initialize_is_reproducible(method):
    cfg = InitConfig(method=method, seed=42, value=0.3, range=0.7)
    a, b = Network([3, 5, 4, 2]), Network([3, 5, 4, 2])
    initialize(a, cfg)
    initialize(b, cfg)
    np.testing.assert_array_equal(a.params, b.params)
    if method != "constant":
        c = Network([3, 5, 4, 2])
        initialize(c, InitConfig(method=method, seed=43, value=0.3, range=0.7))
        assert not np.array_equal(a.params, c.params)


def test_init_methods_ranges():
    net = Network([3, 5, 4, 2])
    initialize(net, InitConfig(method="constant", value=0.3))
    np.testing.assert_array_equal(net.params, 0.3)
    initialize(net, InitConfig(method="uniform", range=0.7, seed=1))
    assert np.abs(net.params).max() <= 0.7 and np.abs(net.params).max() > 0.5
    initialize(net, InitConfig(method="xavier", seed=1))
    for w, b in zip(net.weights, net.biases):
        s = math.sqrt(6 / (w.shape[0] + w.shape[1]))
        assert np.abs(w).max() <= s
        np.testing.assert_array_equal(b, 0.0)
    initialize(net, InitConfig(method="he", seed=1))
    for b in net.biases:
        np.testing.assert_array_equal(b, 0.0)
    big = Network([100, 128, 50])
    initialize(big, InitConfig(method="he", seed=3))
    assert np.std(big.weights[0]) == pytest.approx(math.sqrt(2 / 100), rel=0.03)
    assert np.std(big.weights[1]) == pytest.approx(math.sqrt(2 / 128), rel=0.03)
    initialize(big, InitConfig(method="xavier", seed=3))
    s0 = math.sqrt(6 / (100 + 128))
    assert np.abs(big.weights[0]).max() == pytest.approx(s0, rel=0.01)
    assert np.std(big.weights[0]) == pytest.approx(s0 / math.sqrt(3), rel=0.03)
    for bad in (InitConfig(method="zeros"), InitConfig(method="uniform", range=0),
                InitConfig(method="uniform", range=float("nan")),
                InitConfig(method="constant", value=float("inf"))):
        with pytest.raises(ValueError):
            initialize(net, bad)


@pytest.mark.parametrize(("changes", "message"), [
    ({"method": "zeros"}, "unknown initialization.method 'zeros'"),
    ({"method": ["he"]}, "unknown initialization.method"),
    ({"method": None}, "unknown initialization.method"),
    ({"seed": 1.5}, "initialization.seed must be a whole number >= 0, not 1.5"),
    ({"seed": 1e30}, "initialization.seed must be a whole number >= 0, not 1e+30"),
    ({"seed": -1}, "initialization.seed must be a whole number >= 0, not -1"),
    ({"seed": True}, "initialization.seed must be a whole number >= 0, not True"),
    ({"seed": "3"}, "initialization.seed must be a whole number >= 0"),
    ({"seed": 2 ** 63}, "initialization.seed must be below 2**63"),
    ({"seed": 10 ** 400}, "initialization.seed must be below 2**63"),
    ({"value": "abc"}, "initialization.value must be a finite number, not 'abc'"),
    ({"value": True}, "initialization.value must be a finite number, not True"),
    ({"value": None}, "initialization.value must be a finite number"),
    ({"value": float("nan")}, "initialization.value must be a finite number"),
    ({"value": 10 ** 400}, "initialization.value must be a finite number"),
    ({"range": "wide"}, "initialization.range must be a positive number, not 'wide'"),
    ({"range": False}, "initialization.range must be a positive number"),
    ({"range": -1.0}, "initialization.range must be a positive number, not -1.0"),
    ({"range": float("inf")}, "initialization.range must be a positive number"),
])
def test_init_config_checks_types_and_names_the_key(changes, message):
    cfg = InitConfig(**changes)
    with pytest.raises(ValueError) as err:
        cfg.validate()
    assert message in str(err.value)
    assert len(str(err.value)) < 200  # a 400-digit number is not printed whole
    with pytest.raises(ValueError):
        initialize(Network([2, 3, 1]), cfg)


@pytest.mark.parametrize("changes", [
    {}, {"seed": 2 ** 63 - 1}, {"seed": np.int64(5)}, {"value": 0}, {"value": -2.5},
    {"range": 3}, {"value": np.float64(0.5)}, {"method": "he"},
])
def test_init_config_accepts_good_values(changes):
    InitConfig(**changes).validate()
    initialize(Network([2, 3, 1]), InitConfig(**changes))


def test_reset_returns_to_same_initial_weights_and_replays_identically():
    cfg_init = InitConfig(method="xavier", seed=7)
    cfg = TrainingConfig(learning_rate=0.2, mode="minibatch", batch_size=3, shuffle=True,
                         seed=5, optimizer="adam")
    x = np.random.default_rng(0).normal(size=(10, 2))
    y = np.random.default_rng(1).uniform(size=(10, 1))
    net = Network([2, 4, 1], "tanh", "sigmoid")
    initialize(net, cfg_init)
    start = net.params.copy()
    trainer = Trainer(net, cfg, x, y)
    first = [trainer.run_epoch() for _ in range(5)]
    after = net.params.copy()
    assert not np.array_equal(after, start)
    initialize(net, cfg_init)
    trainer.params_changed()
    trainer.reset_state()
    np.testing.assert_array_equal(net.params, start)
    assert trainer.epoch == 0 and trainer.opt.step == 0
    second = [trainer.run_epoch() for _ in range(5)]
    assert first == second
    np.testing.assert_array_equal(net.params, after)


def test_a_loss_beyond_its_bound_is_divergence_at_the_epoch_it_crosses():
    """xor-tanh at learning rate 1: finite weights, but the loss grows to 3e188 by epoch
    300; it stops in the epoch the loss first passes 1e10 * (1 + mean y^2)."""
    from backprop_lab.engine import data, presets
    from backprop_lab.engine.training import LOSS_LIMIT, loss_bound

    p = presets.load_preset("xor-tanh")
    ds = data.build(p.data)
    y = ds.y_train
    assert loss_bound(y) == LOSS_LIMIT * (1 + np.mean(np.sum(y * y, axis=1))) == 1.5e10
    tr = Trainer(p.network, p.training.with_(learning_rate=1.0), ds.x_train, y)
    free = Trainer(p.network.copy(), p.training.with_(learning_rate=1.0), ds.x_train, y)
    free.loss_bound = math.inf  # the same run without the rule: where it would go
    with np.errstate(all="ignore"):
        losses_free = [free.run_epoch() for _ in range(300)]
    crossed = next(i for i, v in enumerate(losses_free) if v > 1.5e10) + 1
    assert crossed == 113 and max(losses_free) > 1e188 and np.isfinite(losses_free).all()
    with np.errstate(all="ignore"):
        with pytest.raises(Divergence) as e:
            for _ in range(300):
                before = tr.net.params.copy()
                tr.run_epoch()
    assert e.value.epoch == crossed and tr.epoch == crossed - 1
    assert "the loss reached" in e.value.what and "1.5e+10" in e.value.what
    np.testing.assert_array_equal(tr.net.params, before)  # the weights before that epoch
    # the bound follows the targets' scale: targets 1000 times larger, 1e6 times the bound
    assert loss_bound(1000 * y) == pytest.approx(LOSS_LIMIT * (1 + 1e6 * 0.5))
