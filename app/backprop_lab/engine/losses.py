"""Losses: each the mean over the samples of a batch, plus the output delta.

``mse``  1/2 * sum over outputs of (y_hat - y)^2
``bce``  -sum[y log y_hat + (1 - y) log(1 - y_hat)], sigmoid outputs
``ce``   -sum y log softmax(a), one-hot targets, softmax outputs
"""

from __future__ import annotations

import numpy as np

from . import activations

LOSSES = ("mse", "bce", "ce")
#: The output activation a loss needs, where it needs one.
REQUIRED_OUTPUT = {"bce": "sigmoid", "ce": "softmax"}
FORMULAS = {
    "mse": "L = 1/2 * sum (y_hat - y)^2",
    "bce": "L = -[y log y_hat + (1 - y) log(1 - y_hat)]",
    "ce": "L = -sum y log y_hat",
}


def per_sample(loss: str, a: np.ndarray, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Loss of every sample, shape ``(n_samples,)``, from output pre-activation ``a``
    and activation ``z``. ``bce`` and ``ce`` are computed from ``a`` (log-sum-exp form)
    so they stay finite when the output saturates."""
    if loss == "mse":
        d = z - y
        return 0.5 * np.einsum("ij,ij->i", d, d)
    if loss == "bce":
        # -[y log s(a) + (1-y) log(1-s(a))] = max(a,0) - a*y + log(1 + e^-|a|)
        return (np.maximum(a, 0.0) - a * y + np.log1p(np.exp(-np.abs(a)))).sum(axis=1)
    if loss == "ce":
        m = a.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(a - m).sum(axis=1, keepdims=True)) + m
        return -(y * (a - log_sum)).sum(axis=1)
    raise ValueError(f"unknown loss {loss!r}")


def per_output(loss: str, a: np.ndarray, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each output's share of each sample's loss, shape ``(n_samples, n_outputs)``; the rows
    sum to ``per_sample``. (For ``ce`` only the target class contributes.)"""
    if loss == "mse":
        d = z - y
        return 0.5 * d * d
    if loss == "bce":
        return np.maximum(a, 0.0) - a * y + np.log1p(np.exp(-np.abs(a)))
    if loss == "ce":
        m = a.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(a - m).sum(axis=1, keepdims=True)) + m
        return -(y * (a - log_sum))
    raise ValueError(f"unknown loss {loss!r}")


def mean(loss: str, a: np.ndarray, z: np.ndarray, y: np.ndarray) -> float:
    """Mean loss over the samples."""
    if loss == "mse":
        d = z - y
        return float(0.5 * np.vdot(d, d) / len(y))
    return float(per_sample(loss, a, z, y).mean())


def output_delta(loss: str, output_activation: str, a: np.ndarray, z: np.ndarray,
                 y: np.ndarray) -> np.ndarray:
    """``dL_i/da`` for every sample i (not divided by the batch size)."""
    if loss == "mse":
        return activations.backward(output_activation, a, z, z - y)
    if loss in REQUIRED_OUTPUT:
        if output_activation != REQUIRED_OUTPUT[loss]:
            raise ValueError(
                f"loss {loss!r} needs a {REQUIRED_OUTPUT[loss]} output activation, "
                f"not {output_activation!r}")
        return z - y
    raise ValueError(f"unknown loss {loss!r}")
