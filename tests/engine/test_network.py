"""Network forward/backward: the article's worked example, finite-difference gradient
checks for every activation/loss/regularisation combination, per-batch updates, and
shape validation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_lab.engine import activations, losses, regularization
from backprop_lab.engine.network import MAX_HIDDEN_LAYERS, MAX_UNITS, Network
from backprop_lab.engine.training import Divergence, Trainer, TrainingConfig

HIDDEN = activations.HIDDEN_ACTIVATIONS
LOSS_OUTPUT = [("mse", out) for out in activations.OUTPUT_ACTIVATIONS] + [
    ("bce", "sigmoid"), ("ce", "softmax")]
REGS = ("none", "l2", "l1")


# -- the article's worked example ------------------------------------------------------

def article_net() -> Network:
    return Network([2, 3, 1], "identity", "identity", np.ones(13))


X00 = np.array([[0.0, 0.0]])
Y00 = np.array([[0.0]])


def test_article_forward():
    net = article_net()
    assert net.n_params == 13
    cache = net.forward(X00)
    np.testing.assert_array_equal(cache.a[0], [[1.0, 1.0, 1.0]])  # Z1..Z3 pre-activation
    np.testing.assert_array_equal(cache.z[0], [[1.0, 1.0, 1.0]])  # Z1..Z3
    np.testing.assert_array_equal(cache.output, [[4.0]])  # D0
    np.testing.assert_array_equal(cache.layer_z(0), X00)
    np.testing.assert_array_equal(cache.layer_z(1), [[1.0, 1.0, 1.0]])
    assert net.loss(X00, Y00, "mse") == 8.0  # 1/2 (4 - 0)^2


def test_article_deltas_are_predicted_minus_actual():
    net = article_net()
    deltas = net.deltas(net.forward(X00), Y00, "mse")
    assert len(deltas) == 2
    np.testing.assert_array_equal(deltas[1], [[4.0]])  # output delta: +4, not -4
    np.testing.assert_array_equal(deltas[0], [[4.0, 4.0, 4.0]])  # hidden deltas Z1..Z3


def test_article_gradient():
    net = article_net()
    grad, _ = net.gradient(net.forward(X00), Y00, "mse")
    gw, gb = net.views(grad)
    np.testing.assert_array_equal(gb[0], [4.0, 4.0, 4.0])  # W10, W20, W30 (X0 = 1)
    np.testing.assert_array_equal(gw[0], np.zeros((3, 2)))  # W11..W32 (X1 = X2 = 0)
    np.testing.assert_array_equal(gb[1], [4.0])  # V00 (Z0 = 1)
    np.testing.assert_array_equal(gw[1], [[4.0, 4.0, 4.0]])  # V01..V03 (Z = 1)


def test_article_sgd_step():
    net = article_net()
    trainer = Trainer(net, TrainingConfig(learning_rate=0.1), X00, Y00)
    # Flat layout: W11 W12 W21 W22 W31 W32 | W10 W20 W30 | V01 V02 V03 | V00.
    np.testing.assert_array_equal(trainer.gradient(X00, Y00), [0] * 6 + [4] * 7)
    loss_after = trainer.run_epoch()
    w, b = net.weights, net.biases
    # W_ij is weights[0][i-1, j-1] (j >= 1); W_i0 is biases[0][i-1].
    for i in range(1, 4):
        assert b[0][i - 1] == pytest.approx(0.6, rel=1e-15, abs=0)  # W_i0 = 1 - 0.1*4
        for j in range(1, 3):
            assert w[0][i - 1, j - 1] == 1.0  # W_ij untouched: input 0, gradient 0
    assert b[1][0] == pytest.approx(0.6, rel=1e-15, abs=0)  # V00
    for k in range(1, 4):
        assert w[1][0, k - 1] == pytest.approx(0.6, rel=1e-15, abs=0)  # V0k
    # The same sample now gives D0 = 0.6 + 3 * 0.6 * 0.6 = 1.68, closer to 0.
    assert net.predict(X00)[0, 0] == pytest.approx(1.68, rel=1e-14)
    assert loss_after == pytest.approx(0.5 * 1.68 ** 2, rel=1e-14)


def test_article_views_share_memory_with_params():
    net = article_net()
    net.biases[0][1] = 7.0  # W20
    net.weights[1][0, 2] = 5.0  # V03
    layout = net.params.copy()
    # Layout: W (3x2) row-major, then W_i0, then V (1x3), then V00.
    np.testing.assert_array_equal(layout, [1, 1, 1, 1, 1, 1, 1, 7, 1, 1, 1, 5, 1])
    np.testing.assert_array_equal(net.weight_mask(), [1] * 6 + [0] * 3 + [1] * 3 + [0])


# -- finite-difference gradient checks ------------------------------------------------

def _targets(rng: np.random.Generator, loss: str, n: int, k: int) -> np.ndarray:
    if loss == "mse":
        return rng.uniform(0.0, 1.0, (n, k))
    if loss == "bce":
        y = rng.integers(0, 2, (n, k)).astype(float)
        y[0] = 1.0 - y[1]  # both classes present in every column
        return y
    return np.eye(k)[rng.integers(0, k, n)]


def _away_from_kinks(net: Network, x: np.ndarray, reg: str) -> bool:
    cache = net.forward(x)
    for name, a in zip(net.activation_names, cache.a):
        if name in ("relu", "leaky_relu") and np.abs(a).min() < 1e-4:
            return False
    if reg == "l1" and np.abs(net.params[net.weight_mask() == 1]).min() < 1e-4:
        return False
    return True


def _fd_check(layers, hidden, out, loss, reg, seed):
    rng = np.random.default_rng(seed)
    n = 6
    k = layers[-1]
    for _ in range(50):
        net = Network(layers, hidden, out, rng.uniform(-1.0, 1.0, Network(
            layers, hidden, out).n_params))
        x = rng.normal(0.0, 1.0, (n, layers[0]))
        if _away_from_kinks(net, x, reg):
            break
    else:  # pragma: no cover
        pytest.fail("could not draw a point away from the kinks")
    y = _targets(rng, loss, n, k)
    cfg = TrainingConfig(loss=loss, regularization=reg,
                         regularization_rate=0.0 if reg == "none" else 0.07)
    trainer = Trainer(net, cfg, x, y)
    grad = trainer.gradient(x, y)
    assert grad.shape == (net.n_params,)
    eps = 1e-6
    fd = np.empty(net.n_params)
    p0 = net.params.copy()
    for i in range(net.n_params):
        net.params[i] = p0[i] + eps
        up = trainer.objective(x, y)
        net.params[i] = p0[i] - eps
        down = trainer.objective(x, y)
        net.params[i] = p0[i]
        fd[i] = (up - down) / (2 * eps)
    np.testing.assert_array_equal(net.params, p0)
    rel = np.linalg.norm(grad - fd) / max(np.linalg.norm(grad) + np.linalg.norm(fd), 1e-300)
    assert rel < 1e-7, f"relative error {rel:.3g}"
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)
    # The check must be meaningful: the gradient is not identically zero.
    assert np.linalg.norm(grad) > 1e-3


@pytest.mark.parametrize("reg", REGS)
@pytest.mark.parametrize(("loss", "out"), LOSS_OUTPUT)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradient_one_hidden_layer(hidden, loss, out, reg):
    seed = HIDDEN.index(hidden) * 100 + LOSS_OUTPUT.index((loss, out)) * 10 + REGS.index(reg)
    _fd_check([3, 4, 3], hidden, out, loss, reg, seed)


@pytest.mark.parametrize("reg", REGS)
@pytest.mark.parametrize(("loss", "out"), LOSS_OUTPUT)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradient_three_hidden_layers(hidden, loss, out, reg):
    seed = 5000 + HIDDEN.index(hidden) * 100 + LOSS_OUTPUT.index((loss, out)) * 10 + \
        REGS.index(reg)
    _fd_check([2, 4, 3, 5, 2], hidden, out, loss, reg, seed)


@pytest.mark.parametrize("reg", REGS)
@pytest.mark.parametrize(("loss", "out"), LOSS_OUTPUT)
def test_gradient_no_hidden_layer(loss, out, reg):
    seed = 9000 + LOSS_OUTPUT.index((loss, out)) * 10 + REGS.index(reg)
    _fd_check([3, 3], "tanh", out, loss, reg, seed)


MIXED = [
    ["relu", "tanh", "sigmoid"],
    ["sigmoid", "leaky_relu", "identity"],
    ["tanh", "identity", "relu"],
    ["leaky_relu", "sigmoid", "tanh"],
]


@pytest.mark.parametrize("reg", REGS)
@pytest.mark.parametrize(("loss", "out"), LOSS_OUTPUT)
@pytest.mark.parametrize("hidden", MIXED, ids="-".join)
def test_gradient_per_layer_activations(hidden, loss, out, reg):
    seed = 7000 + MIXED.index(hidden) * 100 + LOSS_OUTPUT.index((loss, out)) * 10 + \
        REGS.index(reg)
    net = Network([3, 5, 4, 3, 2], hidden, out)
    assert net.hidden_activations == hidden
    assert net.hidden_activation == hidden
    _fd_check([3, 5, 4, 3, 2], hidden, out, loss, reg, seed)


def test_gradient_single_output_softmax_is_zero():
    # Softmax of one unit is the constant 1: nothing to learn in the output layer.
    rng = np.random.default_rng(3)
    net = Network([2, 3, 1], "tanh", "softmax", rng.uniform(-1, 1, 13))
    x = rng.normal(size=(4, 2))
    np.testing.assert_array_equal(net.predict(x), np.ones((4, 1)))
    grad, _ = net.gradient(net.forward(x), rng.uniform(size=(4, 1)), "mse")
    np.testing.assert_allclose(grad, 0.0, atol=1e-15)


def test_losses_match_direct_formulas():
    rng = np.random.default_rng(11)
    a = rng.normal(0, 3, (5, 3))
    y01 = rng.integers(0, 2, (5, 3)).astype(float)
    s = 1 / (1 + np.exp(-a))
    bce = -(y01 * np.log(s) + (1 - y01) * np.log(1 - s)).sum(axis=1)
    np.testing.assert_allclose(losses.per_sample("bce", a, s, y01), bce, rtol=1e-12)
    onehot = np.eye(3)[[0, 2, 1, 1, 0]]
    sm = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    ce = -(onehot * np.log(sm)).sum(axis=1)
    np.testing.assert_allclose(losses.per_sample("ce", a, sm, onehot), ce, rtol=1e-12)
    np.testing.assert_allclose(activations.apply("softmax", a), sm, rtol=1e-14)
    yr = rng.uniform(size=(5, 3))
    assert losses.mean("mse", a, s, yr) == pytest.approx(0.5 * ((s - yr) ** 2).sum() / 5,
                                                         rel=1e-14)
    # Saturated outputs stay finite.
    big = np.array([[800.0, -800.0]])
    assert np.isfinite(losses.per_sample("bce", big, activations.apply("sigmoid", big),
                                         np.array([[0.0, 1.0]]))).all()
    assert np.isfinite(losses.per_sample("ce", big, activations.apply("softmax", big),
                                         np.array([[0.0, 1.0]]))).all()


def test_penalties():
    params = np.array([1.0, -2.0, 3.0, 0.5])
    mask = np.array([1.0, 1.0, 0.0, 1.0])
    assert regularization.penalty("l2", 0.1, params, mask) == pytest.approx(
        0.05 * (1 + 4 + 0.25), rel=1e-15)
    assert regularization.penalty("l1", 0.1, params, mask) == pytest.approx(0.35, rel=1e-15)
    assert regularization.penalty("none", 0.1, params, mask) == 0.0
    g = np.zeros(4)
    regularization.add_gradient("l2", 0.1, params, mask, g)
    np.testing.assert_allclose(g, [0.1, -0.2, 0.0, 0.05], rtol=1e-15)
    g = np.zeros(4)
    regularization.add_gradient("l1", 0.1, params, mask, g)
    np.testing.assert_allclose(g, [0.1, -0.1, 0.0, 0.1], rtol=1e-15)


# -- per-batch updates ----------------------------------------------------------------

def _setup_five(rng_seed=0, hidden="tanh"):
    rng = np.random.default_rng(rng_seed)
    net = Network([2, 3, 1], hidden, "identity", rng.uniform(-1, 1, 13))
    x = rng.normal(size=(5, 2))
    y = rng.uniform(size=(5, 1))
    return net, x, y


def _manual_sgd(net: Network, x, y, batches, lr, loss="mse"):
    """Plain SGD over ``batches`` with gradients written out by hand (1 hidden layer)."""
    w1, b1 = net.weights[0].copy(), net.biases[0].copy()
    w2, b2 = net.weights[1].copy(), net.biases[1].copy()
    assert net.hidden_activations == ["tanh"] and net.output_activation == "identity"
    for idx in batches:
        xb, yb = x[idx], y[idx]
        h = np.tanh(xb @ w1.T + b1)
        out = h @ w2.T + b2
        d2 = out - yb
        d1 = (d2 @ w2) * (1 - h ** 2)
        n = len(idx)
        gw2, gb2 = d2.T @ h / n, d2.sum(0) / n
        gw1, gb1 = d1.T @ xb / n, d1.sum(0) / n
        w1, b1, w2, b2 = w1 - lr * gw1, b1 - lr * gb1, w2 - lr * gw2, b2 - lr * gb2
    return np.concatenate([w1.ravel(), b1, w2.ravel(), b2])


def test_minibatch_epoch_updates_per_batch_with_partial_last_batch():
    net, x, y = _setup_five()
    start = net.copy()
    cfg = TrainingConfig(learning_rate=0.3, mode="minibatch", batch_size=2)
    trainer = Trainer(net, cfg, x, y)
    batches = trainer.next_batches()
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    trainer.run_epoch()
    expected = _manual_sgd(start, x, y, [[0, 1], [2, 3], [4]], 0.3)
    np.testing.assert_allclose(net.params, expected, rtol=1e-13, atol=1e-15)
    # Not what one full batch, a dropped last batch or a padded last batch would give.
    for other in ([[0, 1, 2, 3, 4]], [[0, 1], [2, 3]], [[0, 1], [2, 3], [4, 0]]):
        assert np.abs(net.params - _manual_sgd(start, x, y, other, 0.3)).max() > 1e-4


def test_minibatch_shuffle_uses_default_rng_permutation():
    net, x, y = _setup_five(1)
    start = net.copy()
    cfg = TrainingConfig(learning_rate=0.2, mode="minibatch", batch_size=2, shuffle=True,
                         seed=1234)
    trainer = Trainer(net, cfg, x, y)
    peeked = [b.tolist() for b in trainer.next_batches()]
    assert peeked == [b.tolist() for b in trainer.next_batches()]  # peeking draws nothing
    trainer.run_epoch()
    trainer.run_epoch()
    rng = np.random.default_rng(1234)
    p1, p2 = rng.permutation(5), rng.permutation(5)
    order = [p1[0:2], p1[2:4], p1[4:5], p2[0:2], p2[2:4], p2[4:5]]
    assert peeked == [o.tolist() for o in order[:3]]
    expected = _manual_sgd(start, x, y, order, 0.2)
    np.testing.assert_allclose(net.params, expected, rtol=1e-13, atol=1e-15)
    unshuffled = [[0, 1], [2, 3], [4]] * 2
    assert np.abs(net.params - _manual_sgd(start, x, y, unshuffled, 0.2)).max() > 1e-6


def test_stochastic_mode_one_sample_at_a_time():
    net, x, y = _setup_five(2)
    start = net.copy()
    trainer = Trainer(net, TrainingConfig(learning_rate=0.1, mode="stochastic",
                                          batch_size=3), x, y)
    assert [b.tolist() for b in trainer.next_batches()] == [[0], [1], [2], [3], [4]]
    loss = trainer.run_epoch()
    expected = _manual_sgd(start, x, y, [[0], [1], [2], [3], [4]], 0.1)
    np.testing.assert_allclose(net.params, expected, rtol=1e-13, atol=1e-15)
    assert loss == pytest.approx(net.loss(x, y, "mse"), rel=1e-15)
    assert trainer.epoch == 1


def test_batch_mode_and_oversized_minibatch_are_one_update():
    net, x, y = _setup_five(3)
    start = net.copy()
    expected = _manual_sgd(start, x, y, [[0, 1, 2, 3, 4]], 0.1)
    for cfg in (TrainingConfig(learning_rate=0.1),
                TrainingConfig(learning_rate=0.1, mode="minibatch", batch_size=50)):
        n = start.copy()
        trainer = Trainer(n, cfg, x, y)
        assert [b.tolist() for b in trainer.next_batches()] == [[0, 1, 2, 3, 4]]
        trainer.run_epoch()
        np.testing.assert_allclose(n.params, expected, rtol=1e-13, atol=1e-15)
    del net


def test_batch_mode_cache_does_not_go_stale_after_outside_edit():
    net, x, y = _setup_five(4)
    trainer = Trainer(net, TrainingConfig(learning_rate=0.1), x, y)
    trainer.run_epoch()
    net.params[:] = start = np.random.default_rng(9).uniform(-1, 1, 13)
    trainer.params_changed()
    trainer.run_epoch()
    ref = Network([2, 3, 1], "tanh", "identity", start)
    np.testing.assert_allclose(net.params, _manual_sgd(ref, x, y, [[0, 1, 2, 3, 4]], 0.1),
                               rtol=1e-13, atol=1e-15)


# -- shapes and validation ------------------------------------------------------------

@st.composite
def net_specs(draw):
    n_in = draw(st.integers(1, 4))
    hidden_sizes = draw(st.lists(st.integers(1, 6), min_size=0, max_size=3))
    loss, out = draw(st.sampled_from(LOSS_OUTPUT))
    n_out = draw(st.integers(2 if out == "softmax" else 1, 3))  # softmax of one is 1
    layers = [n_in, *hidden_sizes, n_out]
    hidden = draw(st.lists(st.sampled_from(HIDDEN), min_size=len(hidden_sizes),
                           max_size=len(hidden_sizes)))
    n = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    return layers, hidden, out, loss, n, seed


@settings(max_examples=60, deadline=None)
@given(net_specs())
def test_random_shapes_forward_and_gradient(spec):
    layers, hidden, out, loss, n, seed = spec
    rng = np.random.default_rng(seed)
    n_params = sum((m + 1) * k for m, k in zip(layers[:-1], layers[1:]))
    net = Network(layers, hidden, out, rng.uniform(-2, 2, n_params))
    assert net.n_params == n_params
    assert len(net.weights) == len(net.biases) == len(layers) - 1
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        assert w.shape == (layers[l + 1], layers[l])
        assert b.shape == (layers[l + 1],)
        assert np.shares_memory(w, net.params) and np.shares_memory(b, net.params)
    x = rng.uniform(-3, 3, (n, layers[0]))
    y = _targets(rng, loss, n, layers[-1]) if n >= 2 or loss != "bce" else \
        rng.integers(0, 2, (n, layers[-1])).astype(float)
    cache = net.forward(x)
    assert len(cache.a) == len(cache.z) == len(layers) - 1
    for l, (a, z) in enumerate(zip(cache.a, cache.z)):
        assert a.shape == z.shape == (n, layers[l + 1])
    assert cache.output.shape == (n, layers[-1])
    assert cache.layer_z(0) is cache.z_in
    for l in range(1, len(layers)):
        assert cache.layer_z(l) is cache.z[l - 1]
    assert np.isfinite(cache.output).all()
    deltas = net.deltas(cache, y, loss)
    assert [d.shape for d in deltas] == [(n, k) for k in layers[1:]]
    grad, _ = net.gradient(cache, y, loss)
    assert grad.shape == (n_params,)
    assert np.isfinite(grad).all()
    trainer = Trainer(net, TrainingConfig(loss=loss), x, y)
    before = net.params.copy()
    try:
        value = trainer.run_epoch()
    except Divergence as e:  # the loss ran past its bound (a deep linear net at the
        # default rate can): the epoch is refused and the weights from before it kept
        assert e.epoch == 1 and net.params.tobytes() == before.tobytes()
    else:
        assert np.isfinite(value)


@pytest.mark.parametrize(("layers", "match"), [
    ([], "at least an input and an output"),
    ([3], "at least an input and an output"),
    ([2, 0, 1], r"layers\[1\]"),
    ([2, 3, -1], r"layers\[2\]"),
    ([0, 3, 1], r"layers\[0\]"),
    ([2, 1.5, 1], r"layers\[1\]"),
    ([2, True, 1], r"layers\[1\]"),
    ([2, "3", 1], r"layers\[1\]"),
    ([2, None, 1], r"layers\[1\]"),
    ([2, MAX_UNITS + 1, 1], r"layers\[1\]"),
    ([2] + [3] * (MAX_HIDDEN_LAYERS + 1) + [1], "hidden layers"),
])
def test_bad_shapes_rejected(layers, match):
    with pytest.raises(ValueError, match=match):
        Network(layers)


def test_largest_allowed_shape_accepted():
    net = Network([2] + [MAX_UNITS] * MAX_HIDDEN_LAYERS + [1])
    assert len(net.hidden_activations) == MAX_HIDDEN_LAYERS
    Network([2, np.int64(3), 1])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"hidden_activation": "softmax"}, "hidden activation 'softmax'"),
    ({"hidden_activation": "gelu"}, "hidden activation 'gelu'"),
    ({"hidden_activation": ["tanh", "Relu"]}, "hidden activation 'Relu'"),
    ({"hidden_activation": ["tanh"]}, "1 activations for 2 hidden layers"),
    ({"hidden_activation": ["tanh"] * 3}, "3 activations for 2 hidden layers"),
    ({"output_activation": "linear"}, "output activation 'linear'"),
    ({"output_activation": ""}, "output activation"),
    ({"params": np.ones(5)}, "parameters"),
])
def test_bad_activations_and_params_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Network([2, 3, 2, 1], **kwargs)


def test_params_are_copied_on_construction():
    p = np.ones(13)
    net = Network([2, 3, 1], "identity", "identity", p)
    net.params[0] = 5.0
    assert p[0] == 1.0
    c = net.copy()
    c.params[1] = 9.0
    assert net.params[1] == 1.0
    assert c.hidden_activations == net.hidden_activations


def test_all_combinations_are_covered():
    # Guard against the parametrisation silently shrinking.
    combos = list(itertools.product(HIDDEN, LOSS_OUTPUT, REGS))
    assert len(combos) == 5 * 8 * 3
