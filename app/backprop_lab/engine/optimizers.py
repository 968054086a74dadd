"""Optimisers with the update rules and defaults of ``torch.optim``.

``sgd``       p -= lr * g
``momentum``  v = 0.9 v + g (v = g on the first step); p -= lr * v   (SGD, momentum=0.9)
``adam``      m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
              p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)   (b1 .9, b2 .999, eps 1e-8)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam")
MOMENTUM = 0.9
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


@dataclass
class OptimizerState:
    """Everything an optimiser remembers between steps (copyable, for snapshots)."""

    kind: str
    step: int = 0
    m: np.ndarray | None = field(default=None, repr=False)
    v: np.ndarray | None = field(default=None, repr=False)

    def copy(self) -> OptimizerState:
        return OptimizerState(self.kind, self.step,
                              None if self.m is None else self.m.copy(),
                              None if self.v is None else self.v.copy())


def new_state(kind: str) -> OptimizerState:
    if kind not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {kind!r} (choose from {', '.join(OPTIMIZERS)})")
    return OptimizerState(kind)


def step(state: OptimizerState, params: np.ndarray, grad: np.ndarray, lr: float) -> None:
    """Update ``params`` in place from ``grad``; advances ``state``."""
    state.step += 1
    kind = state.kind
    if kind == "sgd":
        params -= lr * grad
    elif kind == "momentum":
        if state.m is None:
            state.m = grad.copy()
        else:
            state.m *= MOMENTUM
            state.m += grad
        params -= lr * state.m
    elif kind == "adam":
        b1, b2 = ADAM_BETAS
        if state.m is None:
            state.m = np.zeros_like(params)
            state.v = np.zeros_like(params)
        state.m *= b1
        state.m += (1.0 - b1) * grad
        state.v *= b2
        state.v += (1.0 - b2) * grad * grad
        t = state.step
        m_hat = state.m / (1.0 - b1 ** t)
        v_hat = state.v / (1.0 - b2 ** t)
        params -= lr * m_hat / (np.sqrt(v_hat) + ADAM_EPS)
    else:
        raise ValueError(f"unknown optimizer {kind!r}")
