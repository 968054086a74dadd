"""Names of units and weights: the article's scheme, extended to any shape.

Article network (one hidden layer): inputs X0 (bias), X1, X2; hidden Z0 (bias), Z1..Z3;
output D0, D1 ...; W_ij from X_j to Z_i; V_ik from Z_k to D_i.

Other shapes: the input layer is X and the output layer D. A single hidden layer is Z;
several are Z1, Z2, ... (their units Z1_0 (bias), Z1_1, ...). Weight matrices are W (into
the first hidden layer or, without hidden layers, the output) and V (into the output)
for zero or one hidden layer; with more, W1, W2, ... numbered by the layer they feed.
Weight names join matrix, target index and source index (W10); when the matrix name
has a digit or an index has two digits, with underscores (W2_3_0).
Index 0 of a non-output layer is its bias unit; output units count from 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class WeightRef:
    """Where a weight lives: ``layer`` is the source layer (0 = input); ``target`` is the
    row in ``weights[layer]``; ``source`` is the column, or -1 for the bias weight."""

    layer: int
    target: int
    source: int

    @property
    def is_bias(self) -> bool:
        return self.source < 0


def layer_prefix(layers: Sequence[int], layer: int) -> str:
    n_hidden = len(layers) - 2
    if layer == 0:
        return "X"
    if layer == len(layers) - 1:
        return "D"
    return "Z" if n_hidden == 1 else f"Z{layer}"


def matrix_name(layers: Sequence[int], layer: int) -> str:
    """Name of the weight matrix from ``layer`` to ``layer + 1``."""
    n_hidden = len(layers) - 2
    if n_hidden <= 1:
        return "W" if layer == 0 else "V"
    return f"W{layer + 1}"


def display_index(layers: Sequence[int], layer: int, unit: int) -> int:
    """The unit's index in its name: bias is 0, so other units count from 1, except in
    the output layer (no bias) where they count from 0. ``unit = -1`` is the bias."""
    if unit < 0:
        return 0
    return unit if layer == len(layers) - 1 else unit + 1


def _join(prefix: str, index: int) -> str:
    return f"{prefix}{index}" if len(prefix) == 1 else f"{prefix}_{index}"


def unit_name(layers: Sequence[int], layer: int, unit: int) -> str:
    """Name of unit ``unit`` (0-based among non-bias units, -1 = bias) of ``layer``."""
    return _join(layer_prefix(layers, layer), display_index(layers, layer, unit))


def weight_name(layers: Sequence[int], ref: WeightRef) -> str:
    m = matrix_name(layers, ref.layer)
    i = display_index(layers, ref.layer + 1, ref.target)
    j = display_index(layers, ref.layer, ref.source)
    if len(m) == 1 and i < 10 and j < 10:
        return f"{m}{i}{j}"
    return f"{m}_{i}_{j}"


def all_weights(layers: Sequence[int]) -> list[WeightRef]:
    """Every weight in order: per layer, per target unit, bias first then sources."""
    refs = []
    for l, (m, n) in enumerate(zip(layers[:-1], layers[1:])):
        for i in range(n):
            refs.append(WeightRef(l, i, -1))
            refs.extend(WeightRef(l, i, j) for j in range(m))
    return refs


def weight_lookup(layers: Sequence[int]) -> dict[str, WeightRef]:
    """Map every weight name to its place."""
    return {weight_name(layers, r): r for r in all_weights(layers)}


def unit_lookup(layers: Sequence[int]) -> dict[str, tuple[int, int]]:
    """Map every unit name (bias units included, as unit -1) to (layer, unit)."""
    out = {}
    for l, n in enumerate(layers):
        if l < len(layers) - 1:
            out[unit_name(layers, l, -1)] = (l, -1)
        for u in range(n):
            out[unit_name(layers, l, u)] = (l, u)
    return out
