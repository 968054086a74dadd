"""Activation functions and their derivatives.

Every function takes the pre-activation ``a`` (shape ``(n_samples, n_units)``) and
returns an array of the same shape. ``derivative`` takes both ``a`` and ``z = f(a)``
because several derivatives are cheapest from ``z``.
"""

from __future__ import annotations

import numpy as np

HIDDEN_ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu")
OUTPUT_ACTIVATIONS = HIDDEN_ACTIVATIONS + ("softmax",)
LEAKY_SLOPE = 0.01

#: Formulas as text, for explanations and tooltips.
FORMULAS = {
    "identity": ("f(a) = a", "f'(a) = 1"),
    "sigmoid": ("f(a) = 1 / (1 + e^-a)", "f'(a) = f(a) * (1 - f(a))"),
    "tanh": ("f(a) = tanh(a)", "f'(a) = 1 - f(a)^2"),
    "relu": ("f(a) = max(0, a)", "f'(a) = 1 if a > 0 else 0"),
    "leaky_relu": ("f(a) = a if a > 0 else 0.01 a", "f'(a) = 1 if a > 0 else 0.01"),
    "softmax": ("f(a)_i = e^a_i / sum_k e^a_k", "df_i/da_k = f_i (1[i=k] - f_k)"),
}


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # Exact in both tails: exp of a non-positive number only, so no overflow, and
    # e/(1+e) keeps full relative precision for very negative a.
    e = np.exp(-np.abs(a))
    r = 1.0 / (1.0 + e)
    return np.where(a >= 0, r, e * r)


def _softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def apply(name: str, a: np.ndarray) -> np.ndarray:
    """Return ``f(a)`` for the activation called ``name``."""
    if name == "identity":
        return a
    if name == "sigmoid":
        return _sigmoid(a)
    if name == "tanh":
        return np.tanh(a)
    if name == "relu":
        return np.maximum(a, 0.0)
    if name == "leaky_relu":
        return np.where(a > 0, a, LEAKY_SLOPE * a)
    if name == "softmax":
        return _softmax(a)
    raise ValueError(f"unknown activation {name!r}")


def derivative(name: str, a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Return the element-wise ``f'(a)``; not defined for softmax (see ``backward``)."""
    if name == "identity":
        return np.ones_like(a)
    if name == "sigmoid":
        return z * (1.0 - z)
    if name == "tanh":
        d = z * z
        np.subtract(1.0, d, out=d)
        return d
    if name == "relu":
        return (a > 0).astype(a.dtype)
    if name == "leaky_relu":
        return np.where(a > 0, 1.0, LEAKY_SLOPE)
    raise ValueError(f"activation {name!r} has no element-wise derivative")


def backward(name: str, a: np.ndarray, z: np.ndarray, grad_z: np.ndarray) -> np.ndarray:
    """Return ``dL/da`` given ``dL/dz``: the chain rule through the activation."""
    if name == "identity":
        return grad_z
    if name == "softmax":
        # Jacobian-vector product of softmax: z * (g - sum_k g_k z_k).
        return z * (grad_z - (grad_z * z).sum(axis=1, keepdims=True))
    d = derivative(name, a, z)
    d *= grad_z
    return d
