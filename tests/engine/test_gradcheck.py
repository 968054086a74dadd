"""The gradient check tells the truth: no false alarms on trained presets, every injected
bug caught, kinks reported as kinks, and it can be followed and cancelled."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lab.engine import data, presets, update
from backprop_lab.engine import gradcheck as gc
from backprop_lab.engine.gradcheck import (
    FINE,
    KINK,
    LOOK_CLOSER,
    WRONG,
    gradient_check,
    iter_gradient_check,
    judge,
)
from backprop_lab.engine.network import Network
from backprop_lab.engine.training import Trainer, TrainingConfig

#: the epochs each preset is checked at: all at 0, 100 and 1000; 5000 where training is
#: cheap; the spiral at 2600, where the old check flagged finite-difference noise in red
EPOCHS = {
    "article-xor": (0, 100, 1000, 5000),
    "xor-tanh": (0, 100, 1000, 5000),
    "xor-symmetric": (0, 100, 1000, 5000),
    "circle": (0, 100, 1000, 5000),
    "spiral": (0, 100, 1000, 2600),
    "deep-sigmoid": (0, 100, 1000),
    "deep-relu": (0, 100, 1000),
    "circle-features": (0, 100, 1000, 5000),
    "three-class": (0, 100, 1000),
    "regression": (0, 100, 1000),
}


@pytest.fixture(scope="module")
def trained():
    """{(preset, epoch): (network, config, dataset)}, trained once with ``Trainer``."""
    assert set(EPOCHS) == set(presets.preset_names()), "a new preset needs epochs here"
    out = {}
    for name, epochs in EPOCHS.items():
        p = presets.load_preset(name)
        ds = data.build(p.data)
        net = p.network.copy()
        tr = Trainer(net, p.training, ds.x_train, ds.y_train)
        for e in range(max(epochs) + 1):
            if e in epochs:
                out[(name, e)] = (net.copy(), p.training, ds)
            if e < max(epochs):
                tr.run_epoch()
    return out


def batches(ds, singles: int):
    """The first ``singles`` training samples one by one, then the whole training set."""
    for k in range(min(singles, len(ds.x_train))):
        yield f"sample {k + 1}", ds.x_train[k:k + 1], ds.y_train[k:k + 1]
    yield "all", ds.x_train, ds.y_train


def test_no_preset_at_any_checked_epoch_gives_a_false_alarm(trained):
    for (name, epoch), (net, cfg, ds) in trained.items():
        singles = 40 if (name, epoch) == ("spiral", 2600) else 6
        for which, x, y in batches(ds, singles):
            result = gradient_check(net, cfg, x, y)
            assert result.complete and len(result) == net.n_params
            c = result.counts()
            where = (name, epoch, which, result.problems()[:3])
            assert c[WRONG] == 0, where
            assert c[LOOK_CLOSER] == 0, where
            if "relu" not in net.activation_names:
                assert c[KINK] == 0, where


def test_the_old_check_flagged_the_trained_spiral(trained):
    """The regression is real: h = 1e-4 and |a - n| / (|a| + |n|) > 1e-6 flag weights of
    the trained spiral that the new check finds fine."""
    net, cfg, ds = trained[("spiral", 2600)]
    net = net.copy()
    flagged = 0
    for k in range(10):
        x, y = ds.x_train[k:k + 1], ds.y_train[k:k + 1]
        g = update.gradient(net, cfg, x, y).grad.copy()
        for i in range(net.n_params):
            w = net.params[i]
            net.params[i] = w + 1e-4
            up = update.objective(net, cfg, x, y)
            net.params[i] = w - 1e-4
            down = update.objective(net, cfg, x, y)
            net.params[i] = w
            n = (up - down) / 2e-4
            flagged += abs(g[i] - n) / max(abs(g[i]) + abs(n), 1e-8) > 1e-6
        assert gradient_check(net, cfg, x, y).counts()[FINE] == net.n_params
    assert flagged > 0


def _broken(real, index: int, how):
    def gradient(net, cfg, x, y, **kw):
        g = real(net, cfg, x, y, **kw)
        g.grad[index] = how(g.grad[index])
        return g
    return gradient


BREAKS = {
    "sign flipped": lambda v: -v,
    "scaled by 1.5": lambda v: 1.5 * v,
    "off by 2%": lambda v: 1.02 * v,
}


def test_a_broken_gradient_entry_is_always_caught(trained, monkeypatch):
    rng = np.random.default_rng(0)
    real = update.gradient
    checked = 0
    for (name, epoch), (net, cfg, ds) in trained.items():
        if epoch not in (0, max(EPOCHS[name])):
            continue
        for which, x, y in [("sample 1", ds.x_train[:1], ds.y_train[:1]),
                            ("20 samples", ds.x_train[:20], ds.y_train[:20])]:
            clean = gradient_check(net, cfg, x, y)
            g = np.array([r.analytic for r in sorted(clean, key=lambda r: r.index)])
            # entries big enough to judge (100 times the floor), not at a kink
            ok = [r.index for r in clean if abs(r.analytic) > 100 * clean.floor
                  and r.verdict != KINK]
            if not ok:
                continue
            biggest = max(ok, key=lambda i: abs(g[i]))
            for index in {biggest, int(rng.choice(ok))}:
                for label, how in BREAKS.items():
                    monkeypatch.setattr(update, "gradient", _broken(real, index, how))
                    result = gradient_check(net, cfg, x, y)
                    monkeypatch.setattr(update, "gradient", real)
                    row = next(r for r in result if r.index == index)
                    where = (name, epoch, which, label, row)
                    assert row.verdict == WRONG, where
                    assert result.counts()[WRONG] == 1, where
                    checked += 1
    assert checked >= 80


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_a_dropped_penalty_term_is_caught(trained, monkeypatch, kind):
    net, _, ds = trained[("spiral", 1000)]
    cfg = TrainingConfig(loss="bce", regularization=kind, regularization_rate=0.01)
    x, y = ds.x_train[:1], ds.y_train[:1]
    assert gradient_check(net, cfg, x, y).counts()[FINE] == net.n_params
    real = update.gradient

    def no_penalty(net_, cfg_, x_, y_, **kw):
        return real(net_, cfg_.with_(regularization="none"), x_, y_, **kw)

    monkeypatch.setattr(update, "gradient", no_penalty)
    result = gradient_check(net, cfg, x, y)
    mask = net.weight_mask()
    pen = np.zeros(net.n_params)
    update.regularization.add_gradient(kind, 0.01, net.params, mask, pen)
    for r in result:
        share = abs(pen[r.index]) / max(abs(r.numeric), result.floor)
        if share > 0.02:
            assert r.verdict == WRONG, r
        elif mask[r.index] == 0:
            assert r.verdict == FINE, r  # bias weights carry no penalty
    assert result.counts()[WRONG] > net.n_params // 2


# -- kinks ------------------------------------------------------------------------------

def _relu_net(bias: float, activation: str = "relu") -> Network:
    """1-2-1: hidden unit 1 has pre-activation 0.5 * x + bias at x = 1; unit 2 is far from
    its kink. Output identity, mse."""
    net = Network([1, 2, 1], activation, "identity")
    w, b = net.weights, net.biases
    w[0][:] = [[0.5], [0.8]]
    b[0][:] = [-0.5 + bias, 0.3]
    w[1][:] = [[1.5, -0.7]]
    b[1][:] = [0.1]
    return net


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_a_unit_on_its_kink_is_reported_as_a_kink(activation):
    net = _relu_net(1e-10, activation)  # unit Z1's pre-activation is 1e-10
    cfg = TrainingConfig(loss="mse")
    result = gradient_check(net, cfg, [[1.0]], [[2.0]])
    rows = {r.name: r for r in result}
    # the weights into Z1 (bias and X1) nudge it across 0: finite differences average
    # the two slopes, backprop takes one
    for name in ("W10", "W11"):
        assert rows[name].verdict == KINK, rows[name]
        assert "Z1" in rows[name].note and activation in rows[name].note
        assert rows[name].rel_error > 0.1
    assert result.counts()[WRONG] == 0
    # the weights into Z2, and V (Z1's outgoing weight does not move its input) are fine
    for name in ("W20", "W21", "V00", "V01", "V02"):
        assert rows[name].verdict == FINE, rows[name]


def test_a_unit_near_its_kink_is_judged_with_a_smaller_step():
    net = _relu_net(1e-6)  # 1e-6 from the kink: the first step crosses it, smaller ones not
    result = gradient_check(net, TrainingConfig(loss="mse"), [[1.0]], [[2.0]])
    rows = {r.name: r for r in result}
    for name in ("W10", "W11"):
        assert rows[name].verdict == FINE, rows[name]
        assert rows[name].step < gc.STEP / 100
    assert rows["W20"].step == gc.STEP


def test_a_kink_further_down_is_found():
    """A weight into layer 1 moves a relu unit of layer 2 across 0."""
    net = Network([1, 1, 1, 1], "relu", "identity")
    w, b = net.weights, net.biases
    w[0][:] = [[1.0]]
    b[0][:] = [0.5]          # Z1_1: a = 1.5 at x = 1, far from its kink
    w[1][:] = [[2.0]]
    b[1][:] = [-3.0 + 1e-10]  # Z2_1: a = 2 * 1.5 - 3 = 1e-10, on its kink
    w[2][:] = [[1.0]]
    b[2][:] = [0.0]
    result = gradient_check(net, TrainingConfig(loss="mse"), [[1.0]], [[1.0]])
    rows = {r.name: r for r in result}
    assert rows["W1_1_1"].verdict == KINK and "Z2_1" in rows["W1_1_1"].note
    assert result.counts()[WRONG] == 0


def test_l1_kinks():
    net = _relu_net(0.2, "tanh")
    net.weights[0][1, 0] = 1e-10   # W21 on the L1 kink
    net.weights[1][0, 1] = 0.0     # V02 exactly at 0: sign(0) = 0 on both sides
    cfg = TrainingConfig(loss="mse", regularization="l1", regularization_rate=0.1)
    result = gradient_check(net, cfg, [[1.0]], [[2.0]])
    rows = {r.name: r for r in result}
    assert rows["W21"].verdict == KINK and "L1" in rows["W21"].note
    assert rows["V02"].verdict == FINE
    assert result.counts() == {FINE: net.n_params - 1, LOOK_CLOSER: 0, WRONG: 0, KINK: 1}


# -- the measure and the bands -----------------------------------------------------------

def test_judge_bands():
    floor = 1e-8
    assert judge(1.0, 1.0 + 5e-7, float("nan"), floor)[0] == FINE
    assert judge(1.0, 1.0 + 1e-4, float("nan"), floor)[0] == LOOK_CLOSER
    assert judge(1.0, 1.0 + 1e-4, 2e-4, floor)[0] == FINE          # within the uncertainty
    assert judge(1.0, 1.5, 1e-6, floor)[0] == WRONG
    assert judge(1.0, 1.5, 1.0, floor)[0] == LOOK_CLOSER            # FD too uncertain
    assert judge(1.0, -1.0, 1e-6, floor, "a kink")[0] == KINK
    # below the floor the difference is measured against the floor, not the gradient
    v, rel, diff, note = judge(3e-15, -2e-15, float("nan"), floor)
    assert v == FINE and rel == pytest.approx(5e-15 / floor) and "floor" in note
    assert judge(3e-12, -2e-12, float("nan"), floor)[0] == LOOK_CLOSER
    assert judge(3e-12, -2e-12, 1e-11, floor)[0] == FINE            # noise: within u
    assert judge(3e-7, -3e-7, 1e-12, floor)[0] == WRONG             # above it: judged
    assert judge(float("nan"), 1.0, 0.0, floor)[0] == WRONG
    assert judge(1.0, float("inf"), 0.0, floor)[0] == LOOK_CLOSER


def test_article_rows():
    p = presets.load_preset("article-xor")
    result = gradient_check(p.network, p.training, [[0, 0]], [[0]])
    rows = {r.name: r for r in result}
    assert rows["W10"].analytic == 4.0
    assert abs(rows["W10"].numeric - 4.0) < 1e-9
    assert rows["W11"].analytic == 0.0 and abs(rows["W11"].numeric) < 1e-12
    assert result.counts()[FINE] == 13
    assert [r.name for r in result][:4] == ["W10", "W11", "W12", "W20"]


# -- running it -------------------------------------------------------------------------

def test_progress_and_result():
    p = presets.load_preset("spiral")
    ds = data.build(p.data)
    before = p.network.params.copy()
    steps = list(iter_gradient_check(p.network, p.training, ds.x_train[:3],
                                     ds.y_train[:3], batch=50))
    total = p.network.n_params
    assert [s.done for s in steps] == [0, 50, 100, 150, total]
    assert all(s.total == total for s in steps)
    assert [len(s.rows) for s in steps] == [0, 50, 50, 50, total - 150]
    assert all(s.result is None for s in steps[:-1])
    result = steps[-1].result
    assert result.complete and [r for s in steps for r in s.rows] == list(result.rows)
    np.testing.assert_array_equal(p.network.params, before)  # the caller's net untouched


def test_cancel_returns_the_rows_so_far():
    p = presets.load_preset("spiral")
    ds = data.build(p.data)
    seen = []
    result = gradient_check(p.network, p.training, ds.x_train[:1], ds.y_train[:1],
                            batch=40, progress=lambda d, t: seen.append((d, t)),
                            cancelled=lambda: len(seen) >= 3)
    assert seen == [(0, 177), (40, 177), (80, 177)]
    assert not result.complete and len(result) == 80 and result.total == 177


def test_the_network_is_copied_when_the_iterator_is_made():
    """A worker may run the iterator while the session's network changes."""
    p = presets.load_preset("xor-tanh")
    net = p.network.copy()
    steps = iter_gradient_check(net, p.training, [[0, 1]], [[1]])
    expected = gradient_check(net, p.training, [[0, 1]], [[1]])
    net.params[:] = 0.0
    result = list(steps)[-1].result
    assert [r.analytic for r in result] == [r.analytic for r in expected]


def test_non_finite_loss_is_not_a_verdict_on_backprop():
    net = Network([1, 1], output_activation="identity", params=np.array([1e200, 0.0]))
    with np.errstate(over="ignore", invalid="ignore"):
        result = gradient_check(net, TrainingConfig(loss="mse"), [[1e200]], [[0.0]])
    assert result.counts()[LOOK_CLOSER] == net.n_params
    assert all("not finite" in r.note for r in result)
