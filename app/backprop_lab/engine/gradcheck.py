"""Gradient check: backpropagation against central finite differences, per weight."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import update as one_update
from .names import all_weights, weight_name
from .network import Network
from .training import TrainingConfig


@dataclass(frozen=True)
class GradCheckRow:
    name: str
    analytic: float
    numeric: float
    rel_error: float


def gradient_check(net: Network, cfg: TrainingConfig, x: np.ndarray, y: np.ndarray,
                   eps: float = 1e-4) -> list[GradCheckRow]:
    """Compare dL/dw from backpropagation with (L(w+eps) - L(w-eps)) / (2 eps) for every
    weight, on the batch (x, y). ``net`` is left unchanged.

    ``eps`` = 1e-4 balances truncation (eps^2) against rounding (1e-16 / eps) best on the
    presets. The relative error is |a - n| / max(|a| + |n|, 1e-8): below 1e-7 for a correct
    gradient in float64; large only at a kink of relu, leaky_relu or L1.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    net = net.copy()
    mask = net.weight_mask()
    grad = one_update.gradient(net, cfg, x, y, mask=mask).grad
    order = all_weights(net.layers)
    index = _flat_index(net)
    rows = []
    for ref in order:
        k = index[(ref.layer, ref.target, ref.source)]
        old = net.params[k]
        net.params[k] = old + eps
        up = one_update.objective(net, cfg, x, y, mask)
        net.params[k] = old - eps
        down = one_update.objective(net, cfg, x, y, mask)
        net.params[k] = old
        numeric = (up - down) / (2 * eps)
        a = float(grad[k])
        rel = abs(a - numeric) / max(abs(a) + abs(numeric), 1e-8)
        rows.append(GradCheckRow(weight_name(net.layers, ref), a, float(numeric), float(rel)))
    return rows


def _flat_index(net: Network) -> dict[tuple[int, int, int], int]:
    """(layer, target, source) -> position in ``net.params`` (source -1: bias)."""
    idx = np.arange(net.n_params, dtype=np.float64)
    w, b = net.views(idx)
    out = {}
    for l in range(len(w)):
        for i in range(w[l].shape[0]):
            out[(l, i, -1)] = int(b[l][i])
            for j in range(w[l].shape[1]):
                out[(l, i, j)] = int(w[l][i, j])
    return out
