"""The written-out arithmetic: every numeric part of a line must evaluate to the result the
line states (up to the 6 significant digits the numbers are shown with)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from backprop_lab.engine import explain
from backprop_lab.engine.init import InitConfig, initialize
from backprop_lab.engine.network import Network
from backprop_lab.engine.trace import trace_step
from backprop_lab.engine.training import TrainingConfig


def make_trace(layers, output, loss, y, seed=1, x=(0.5, -1.0)):
    net = Network(layers, "tanh", output)
    initialize(net, InitConfig(method="uniform", seed=seed, range=1.5))
    return trace_step(net, TrainingConfig(loss=loss), np.array(x, dtype=float),
                      np.array(y, dtype=float))


def evaluate(numeric: str) -> float:
    """The value of a numeric part as the lines write it: ``[...]`` groups, ``y log z``
    products, ``+ - *``."""
    py = re.sub(r"(-?[\d.e+-]+) log (-?[\d.e+-]+)", r"(\1)*math.log(\2)", numeric)
    py = py.replace("[", "(").replace("]", ")")
    assert re.fullmatch(r"[\d.e+\-*() ]*", py.replace("math.log", "")), numeric
    return eval(py, {"math": math})  # only digits, operators and math.log (checked above)


def stated(line: str) -> float:
    return float(line.rsplit(" = ", 1)[1].split()[0])


# -- the loss -------------------------------------------------------------------------------
@pytest.mark.parametrize(("n_out", "y", "seed"), [
    (1, [1.0], 1), (1, [0.0], 2), (3, [0.0, 1.0, 1.0], 1), (4, [1.0, 0.0, 0.0, 1.0], 5),
    (2, [0.25, 1.0], 3),
])
def test_bce_loss_line_covers_every_output_and_adds_up(n_out, y, seed):
    t = make_trace([2, 3, n_out], "sigmoid", "bce", y, seed)
    [line] = explain.loss_lines(t)
    total = stated(line)
    assert total == pytest.approx(t.sample_losses[0], rel=1e-5)
    parts = line.split(" = ")
    # the formula with every output's numbers plugged in
    plugged = parts[2]
    for k in range(n_out):
        assert f"log {explain.fmt(t.z[-1][0, k])}" in plugged, (k, line)
    assert evaluate(plugged) == pytest.approx(total, rel=1e-4)
    if n_out > 1:
        # each output's share, written out, sums to the total
        shares = [float(v) for v in parts[3].split(" + ")]
        assert len(shares) == n_out
        assert sum(shares) == pytest.approx(total, rel=1e-5)
        assert parts[1].startswith("-sum_k [yk log Dk")


def test_mse_loss_line_adds_up():
    t = make_trace([2, 3, 3], "sigmoid", "mse", [0.0, 1.0, 0.5])
    [line] = explain.loss_lines(t)
    numeric = line.split(" = ")[2].replace("1/2 *", "0.5 *").replace("^2", "**2")
    assert evaluate(numeric) == pytest.approx(stated(line), rel=1e-5)


# -- output deltas --------------------------------------------------------------------------
@pytest.mark.parametrize(("unit", "y"), [(0, [0.0, 1.0, 0.0]), (1, [0.0, 1.0, 0.0]),
                                         (2, [1.0, 0.0, 0.0]), (1, [0.2, 0.3, 0.5])])
def test_softmax_with_mse_delta_sums_over_every_output(unit, y):
    t = make_trace([2, 3, 3], "softmax", "mse", y, seed=4)
    lines = explain.unit_delta(t, 2, unit)
    name = f"D{unit}"
    head = f"delta_{name} = sum_k (Dk - yk) * dDk/da_{name} = "
    assert lines[0].startswith(head), lines[0]
    d = t.deltas[-1][0, unit]
    assert stated(lines[0]) == pytest.approx(d, rel=1e-5)
    numeric = lines[0][len(head):].rsplit(" = ", 1)[0]
    assert evaluate(numeric) == pytest.approx(d, rel=1e-4, abs=1e-6)
    # the Jacobian entries shown are Dk * (1[k=i] - Di)
    z = t.z[-1][0]
    for k in range(3):
        jac = z[k] * ((k == unit) - z[unit])
        m = re.search(rf"dD{k}/da_{name} = ([\d.e+-]+) \* \((\d) - ([\d.e+-]+)\) = "
                      rf"(-?[\d.e+-]+)", lines[1])
        assert m, lines[1]
        zk, ind, zi, shown = (float(g) for g in m.groups())
        assert ind == (k == unit)
        assert zk * (ind - zi) == pytest.approx(shown, rel=1e-4, abs=1e-9)
        assert shown == pytest.approx(jac, rel=1e-5, abs=1e-9)


def test_other_output_deltas_still_add_up():
    t = make_trace([2, 3, 2], "tanh", "mse", [0.0, 1.0])
    [line] = explain.unit_delta(t, 2, 1)
    assert evaluate(line.split(" = ")[2]) == pytest.approx(stated(line), rel=1e-4)
    assert stated(line) == pytest.approx(t.deltas[-1][0, 1], rel=1e-5)
    t = make_trace([2, 3, 2], "softmax", "ce", [0.0, 1.0])
    [line] = explain.unit_delta(t, 2, 0)
    line = line.split("   ")[0]  # without the note
    assert evaluate(line.split(" = ")[2]) == pytest.approx(stated(line), rel=1e-4, abs=1e-6)
