"""Unit and weight names: the article's scheme and its extension to other shapes."""

from __future__ import annotations

import re

import numpy as np
import pytest

from backprop_lab.engine import names
from backprop_lab.engine.names import WeightRef
from backprop_lab.engine.network import Network

ARTICLE = [2, 3, 1]

SHAPES = [
    [2, 3, 1], [2, 1], [3, 2], [1, 1], [4, 12, 2], [2, 3, 3, 1], [3, 4, 5, 2],
    [11, 10, 10, 12], [2, 5, 4, 3, 2, 1], [1] + [2] * 8 + [1], [13, 1], [2, 11, 1],
]


def test_article_weight_names_in_params_order():
    got = [names.weight_name(ARTICLE, r) for r in names.all_weights(ARTICLE)]
    assert got == ["W10", "W11", "W12", "W20", "W21", "W22", "W30", "W31", "W32",
                   "V00", "V01", "V02", "V03"]


def test_article_unit_names():
    lookup = names.unit_lookup(ARTICLE)
    assert lookup == {
        "X0": (0, -1), "X1": (0, 0), "X2": (0, 1),
        "Z0": (1, -1), "Z1": (1, 0), "Z2": (1, 1), "Z3": (1, 2),
        "D0": (2, 0),
    }
    assert names.unit_name(ARTICLE, 2, 0) == "D0"


def test_article_weight_refs_point_at_the_right_parameters():
    net = Network(ARTICLE, "identity", "identity", np.arange(13.0))
    lookup = names.weight_lookup(ARTICLE)
    assert lookup["W10"] == WeightRef(0, 0, -1) and lookup["W10"].is_bias
    assert lookup["W32"] == WeightRef(0, 2, 1) and not lookup["W32"].is_bias
    assert lookup["V00"] == WeightRef(1, 0, -1)
    assert lookup["V03"] == WeightRef(1, 0, 2)

    def value(ref):
        return net.biases[ref.layer][ref.target] if ref.is_bias else \
            net.weights[ref.layer][ref.target, ref.source]

    # W_ij connects X_j to Z_i; V_0k connects Z_k to D0.
    for i in range(1, 4):
        assert value(lookup[f"W{i}0"]) == net.biases[0][i - 1]
        for j in range(1, 3):
            assert value(lookup[f"W{i}{j}"]) == net.weights[0][i - 1, j - 1]
    assert value(lookup["V00"]) == net.biases[1][0]
    for k in range(1, 4):
        assert value(lookup[f"V0{k}"]) == net.weights[1][0, k - 1]


@pytest.mark.parametrize("layers", SHAPES, ids=str)
def test_names_unique_and_complete(layers):
    refs = names.all_weights(layers)
    n_params = Network(layers).n_params
    assert len(refs) == n_params
    assert len(set(refs)) == n_params
    weight_names = [names.weight_name(layers, r) for r in refs]
    assert len(set(weight_names)) == n_params
    units = names.unit_lookup(layers)
    # Every unit plus one bias unit per non-output layer.
    assert len(units) == sum(layers) + len(layers) - 1
    assert not set(units) & set(weight_names)


@pytest.mark.parametrize("layers", SHAPES, ids=str)
def test_weight_lookup_is_inverse_of_all_weights(layers):
    refs = names.all_weights(layers)
    lookup = names.weight_lookup(layers)
    assert len(lookup) == len(refs)
    for r in refs:
        assert lookup[names.weight_name(layers, r)] == r
    for name, r in lookup.items():
        assert names.weight_name(layers, r) == name
    units = names.unit_lookup(layers)
    for name, (layer, unit) in units.items():
        assert names.unit_name(layers, layer, unit) == name


@pytest.mark.parametrize("layers", SHAPES, ids=str)
def test_refs_follow_the_params_layout(layers):
    # all_weights is not storage order (bias first per unit); through the views, every
    # ref addresses a distinct parameter, and together they cover all of them.
    net = Network(layers)
    net.params[:] = np.arange(net.n_params)
    seen = []
    for r in names.all_weights(layers):
        w, b = net.weights[r.layer], net.biases[r.layer]
        assert 0 <= r.target < w.shape[0]
        assert -1 <= r.source < w.shape[1]
        seen.append(b[r.target] if r.is_bias else w[r.target, r.source])
    assert sorted(seen) == list(range(net.n_params))


@pytest.mark.parametrize("layers", SHAPES, ids=str)
def test_weight_names_agree_with_unit_names(layers):
    """A weight's name carries the display indices of the units it joins, and its
    matrix letter: W/V with at most one hidden layer, else W1, W2, ... by target layer."""
    n_hidden = len(layers) - 2
    for r in names.all_weights(layers):
        target = names.unit_name(layers, r.layer + 1, r.target)
        source = names.unit_name(layers, r.layer, r.source)
        i = int(re.search(r"(\d+)$", target).group(1))
        j = int(re.search(r"(\d+)$", source).group(1))
        matrix = ("W" if r.layer == 0 else "V") if n_hidden <= 1 else f"W{r.layer + 1}"
        name = names.weight_name(layers, r)
        if len(matrix) == 1 and i < 10 and j < 10:
            assert name == f"{matrix}{i}{j}"
        else:
            assert name == f"{matrix}_{i}_{j}"
        if r.is_bias:
            assert j == 0 and source.endswith("0")


def test_deeper_network_names():
    layers = [2, 3, 3, 1]
    assert names.unit_lookup(layers) == {
        "X0": (0, -1), "X1": (0, 0), "X2": (0, 1),
        "Z1_0": (1, -1), "Z1_1": (1, 0), "Z1_2": (1, 1), "Z1_3": (1, 2),
        "Z2_0": (2, -1), "Z2_1": (2, 0), "Z2_2": (2, 1), "Z2_3": (2, 2),
        "D0": (3, 0),
    }
    got = [names.weight_name(layers, r) for r in names.all_weights(layers)]
    assert got[:3] == ["W1_1_0", "W1_1_1", "W1_1_2"]
    assert "W2_3_0" in got and "W2_3_3" in got
    assert got[-4:] == ["W3_0_0", "W3_0_1", "W3_0_2", "W3_0_3"]


def test_no_hidden_layer_and_two_digit_names():
    assert [names.weight_name([2, 1], r) for r in names.all_weights([2, 1])] == [
        "W00", "W01", "W02"]
    layers = [2, 12, 1]
    lookup = names.weight_lookup(layers)
    assert lookup["W_12_2"] == WeightRef(0, 11, 1)
    assert lookup["W91"] == WeightRef(0, 8, 0)
    assert lookup["V_0_10"] == WeightRef(1, 0, 9)
    assert lookup["V09"] == WeightRef(1, 0, 8)
    assert names.unit_name(layers, 1, 11) == "Z12"
    assert names.unit_name([2, 3, 3, 12], 3, 11) == "D11"
