"""Weight penalties: L2 adds (lambda/2) sum w^2, L1 adds lambda sum |w|; weights only."""

from __future__ import annotations

import numpy as np

REGULARIZATIONS = ("none", "l2", "l1")


def penalty(kind: str, rate: float, params: np.ndarray, mask: np.ndarray) -> float:
    if kind == "none" or rate == 0.0:
        return 0.0
    w = params * mask
    if kind == "l2":
        return 0.5 * rate * float(np.vdot(w, w))
    if kind == "l1":
        return rate * float(np.abs(w).sum())
    raise ValueError(f"unknown regularization {kind!r}")


def add_gradient(kind: str, rate: float, params: np.ndarray, mask: np.ndarray,
                 grad: np.ndarray) -> None:
    """Add the penalty's gradient to ``grad`` in place."""
    if kind == "none" or rate == 0.0:
        return
    if kind == "l2":
        grad += rate * params * mask
    elif kind == "l1":
        grad += rate * np.sign(params) * mask
    else:
        raise ValueError(f"unknown regularization {kind!r}")
