"""Two runs side by side: the difference of their weights. No Qt.

The "Runs side by side" window shows two runs (the main run, or variants of a
comparison) and colours the right one's edges by ``w_right - w_left``. Weights are only
comparable edge for edge when both networks have the same layer sizes; the activations
may differ (a sigmoid-vs-tanh comparison has the same weights to compare).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.network import Network


class ShapeMismatch(ValueError):
    """The two networks' weights cannot be compared edge for edge (one line)."""


@dataclass(frozen=True)
class WeightDifference:
    """``right - left`` per weight matrix and bias vector (the networks' own layout:
    ``weights[l][i, j]`` from unit j of layer l to unit i of layer l+1)."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    @property
    def largest(self) -> float:
        """The largest |difference| among the finite ones (0 when there are none)."""
        flat = np.concatenate([a.ravel() for a in self.weights + self.biases])
        flat = np.abs(flat[np.isfinite(flat)])
        return float(flat.max()) if len(flat) else 0.0


def shape_mismatch(left: Network, right: Network) -> str | None:
    """None when the weights of ``left`` and ``right`` match edge for edge, else one line
    saying why not."""
    if list(left.layers) != list(right.layers):
        def shape(net: Network) -> str:
            return "-".join(str(n) for n in net.layers)
        return (f"No difference: the networks differ in shape ({shape(left)} vs "
                f"{shape(right)}), so their weights do not match edge for edge")
    return None


def weight_difference(left: Network, right: Network) -> WeightDifference:
    """``right``'s weights minus ``left``'s (copies). Raises ``ShapeMismatch`` when the
    networks have different layer sizes."""
    problem = shape_mismatch(left, right)
    if problem is not None:
        raise ShapeMismatch(problem)
    return WeightDifference(
        weights=tuple(np.asarray(r, dtype=np.float64) - np.asarray(l, dtype=np.float64)
                      for l, r in zip(left.weights, right.weights)),
        biases=tuple(np.asarray(r, dtype=np.float64) - np.asarray(l, dtype=np.float64)
                     for l, r in zip(left.biases, right.biases)))


def run_network(base: Network, params: np.ndarray) -> Network:
    """A copy of ``base`` (its layers and activations) holding ``params``."""
    net = base.copy()
    net.set_params(np.asarray(params, dtype=np.float64))
    return net
