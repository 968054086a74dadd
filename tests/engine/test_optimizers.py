"""Optimisers against hand-computed values (torch.optim's rules and defaults)."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lab.engine import optimizers

P0 = np.array([1.0, -2.0, 0.5, 0.0])
GRADS = [
    np.array([0.5, -1.0, 0.0, 2.0]),
    np.array([0.25, 0.5, 0.0, -1.0]),
    np.array([-0.75, 0.1, 0.0, 0.3]),
]
LR = 0.1


def run(kind: str) -> list[np.ndarray]:
    state = optimizers.new_state(kind)
    p = P0.copy()
    out = []
    for t, g in enumerate(GRADS, 1):
        g_before = g.copy()
        optimizers.step(state, p, g, LR)
        np.testing.assert_array_equal(g, g_before)  # the gradient is not modified
        assert state.step == t
        out.append(p.copy())
    return out


def test_sgd():
    steps = run("sgd")
    np.testing.assert_allclose(steps[0], [0.95, -1.9, 0.5, -0.2], rtol=1e-15)
    np.testing.assert_allclose(steps[1], [0.925, -1.95, 0.5, -0.1], rtol=1e-15)
    np.testing.assert_allclose(steps[2], [1.0, -1.96, 0.5, -0.13], rtol=1e-14)


def test_momentum():
    # buf1 = g1 = [.5, -1, 0, 2]            p1 = p0 - .1 buf1 = [.95, -1.9, .5, -.2]
    # buf2 = .9 buf1 + g2 = [.7, -.4, 0, .8]   p2 = [.88, -1.86, .5, -.28]
    # buf3 = .9 buf2 + g3 = [-.12, -.26, 0, 1.02]  p3 = [.892, -1.834, .5, -.382]
    steps = run("momentum")
    np.testing.assert_allclose(steps[0], [0.95, -1.9, 0.5, -0.2], rtol=1e-14)
    np.testing.assert_allclose(steps[1], [0.88, -1.86, 0.5, -0.28], rtol=1e-14)
    np.testing.assert_allclose(steps[2], [0.892, -1.834, 0.5, -0.382], rtol=1e-14)


def test_momentum_buffer_values():
    state = optimizers.new_state("momentum")
    p = P0.copy()
    optimizers.step(state, p, GRADS[0], LR)
    np.testing.assert_array_equal(state.m, GRADS[0])
    assert state.m is not GRADS[0]  # a copy, not an alias of the caller's gradient
    optimizers.step(state, p, GRADS[1], LR)
    np.testing.assert_allclose(state.m, [0.7, -0.4, 0.0, 0.8], rtol=1e-15)


def test_adam():
    # Step 1: m_hat = g, v_hat = g^2, so p -= lr * g / (|g| + 1e-8).
    # Step 2, first entry: m = .9*.05 + .1*.25 = .07, m_hat = .07 / .19;
    #   v = .999*.00025 + .001*.0625 = .00031225, v_hat = v / (1 - .999^2);
    #   p = .9 - .1 * m_hat / (sqrt(v_hat) + 1e-8) = 0.80678204...
    steps = run("adam")
    expected1 = P0 - LR * GRADS[0] / (np.abs(GRADS[0]) + 1e-8)
    np.testing.assert_allclose(steps[0], expected1, rtol=1e-15)
    np.testing.assert_allclose(
        steps[0], [0.9000000019999999, -1.900000001, 0.5, -0.09999999950000009], rtol=1e-14)
    np.testing.assert_allclose(
        steps[1], [0.8067820404774622, -1.873366297370903, 0.5, -0.12663370329756857],
        rtol=1e-13)
    np.testing.assert_allclose(
        steps[2], [0.8149797201107778, -1.8585564644610497, 0.5, -0.15554047237383067],
        rtol=1e-13)


def test_adam_moments():
    state = optimizers.new_state("adam")
    p = P0.copy()
    for g in GRADS[:2]:
        optimizers.step(state, p, g, LR)
    np.testing.assert_allclose(state.m, 0.9 * 0.1 * GRADS[0] + 0.1 * GRADS[1], rtol=1e-15)
    np.testing.assert_allclose(state.v, 0.999 * 0.001 * GRADS[0] ** 2 + 0.001 * GRADS[1] ** 2,
                               rtol=1e-15)


def test_adam_first_step_is_about_lr_per_coordinate():
    # Bias correction: the first Adam step moves every coordinate with a nonzero
    # gradient by almost exactly lr, whatever the gradient's scale.
    state = optimizers.new_state("adam")
    p = np.zeros(3)
    optimizers.step(state, p, np.array([1e-3, -50.0, 7.0]), 0.01)
    np.testing.assert_allclose(p, [-0.01, 0.01, -0.01], rtol=1e-4)


def test_state_copy_is_independent():
    state = optimizers.new_state("adam")
    p = P0.copy()
    optimizers.step(state, p, GRADS[0], LR)
    snap = state.copy()
    optimizers.step(state, p, GRADS[1], LR)
    assert snap.step == 1 and state.step == 2
    np.testing.assert_allclose(snap.m, 0.1 * GRADS[0], rtol=1e-15)
    assert optimizers.new_state("sgd").copy().m is None


def test_unknown_optimizer_rejected():
    with pytest.raises(ValueError, match="rmsprop"):
        optimizers.new_state("rmsprop")
    assert optimizers.OPTIMIZERS == ("sgd", "momentum", "adam")


@pytest.mark.parametrize("kind", optimizers.OPTIMIZERS)
def test_matches_torch(kind):
    torch = pytest.importorskip("torch")
    p_t = torch.tensor(P0.copy(), dtype=torch.float64, requires_grad=True)
    if kind == "sgd":
        opt = torch.optim.SGD([p_t], lr=LR)
    elif kind == "momentum":
        opt = torch.optim.SGD([p_t], lr=LR, momentum=0.9)
    else:
        opt = torch.optim.Adam([p_t], lr=LR)
    ours = run(kind)
    for g, mine in zip(GRADS, ours):
        opt.zero_grad()
        p_t.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        np.testing.assert_allclose(mine, p_t.detach().numpy(), rtol=1e-12, atol=1e-15)
