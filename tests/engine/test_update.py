"""One update function: training, the trace and the gradient check share it."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from backprop_lab.engine import explain, optimizers, update
from backprop_lab.engine.gradcheck import gradient_check
from backprop_lab.engine.network import Network
from backprop_lab.engine.trace import trace_step
from backprop_lab.engine.training import Trainer, TrainingConfig

X = np.array([[0.1, -0.4], [0.7, 0.2], [-0.3, 0.9], [0.5, 0.5]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def _net(seed=0, hidden="tanh", output="sigmoid"):
    rng = np.random.default_rng(seed)
    return Network([2, 3, 1], hidden, output, rng.uniform(-1, 1, 13))


@pytest.mark.parametrize("opt", optimizers.OPTIMIZERS)
@pytest.mark.parametrize("reg", ["none", "l2", "l1"])
def test_trace_is_the_next_training_update(opt, reg):
    cfg = TrainingConfig(learning_rate=0.3, mode="batch", loss="bce", optimizer=opt,
                         regularization=reg, regularization_rate=0.01)
    net = _net()
    trainer = Trainer(net.copy(), cfg, X, Y)
    for _ in range(3):
        trainer.run_epoch()
    t = trace_step(trainer.net, cfg, X, Y, trainer.opt)
    trainer.run_epoch()
    np.testing.assert_array_equal(t.new_params, trainer.net.params)


def test_penalty_part_is_reported_separately():
    cfg = TrainingConfig(learning_rate=0.1, loss="mse", regularization="l2",
                         regularization_rate=0.5)
    net = _net(output="identity")
    g = update.gradient(net, cfg, X, Y, keep_penalty=True)
    plain = update.gradient(net, cfg.with_(regularization="none"), X, Y).grad
    np.testing.assert_allclose(g.grad - g.penalty_grad, plain, rtol=0, atol=1e-15)
    np.testing.assert_allclose(g.penalty_grad, 0.5 * net.params * net.weight_mask())


def test_gradient_check_agrees_with_update():
    cfg = TrainingConfig(loss="bce", regularization="l2", regularization_rate=0.1)
    rows = gradient_check(_net(3), cfg, X, Y)
    g = update.gradient(_net(3), cfg, X, Y).grad
    assert sorted(r.analytic for r in rows) == sorted(g.tolist())


def test_explain_computes_nothing():
    """explain.py formats numbers the trace carries: no activation or loss maths."""
    tree = ast.parse(Path(explain.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                for a in n.names}
    assert not imported & {"activations", "losses", "optimizers", "regularization"}
    calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
             and n.func.value.id == "np"}
    assert calls <= {"isfinite", "argmax"}, calls
