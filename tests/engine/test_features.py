"""Tests for engine.features and the feature pipeline of engine.data and engine.project."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_lab.engine import data, features, presets
from backprop_lab.engine.data import DataSpec
from backprop_lab.engine.project import ProjectError, apply_overrides, dumps, from_dict, loads

RAW = np.array([[0.5, -2.0], [0.0, 1.0], [-1.5, 0.25]])


def test_every_feature_is_its_formula():
    x1, x2 = RAW[:, 0], RAW[:, 1]
    expected = {"x1": x1, "x2": x2, "x1^2": x1 ** 2, "x2^2": x2 ** 2, "x1*x2": x1 * x2,
                "sin(x1)": np.sin(x1), "sin(x2)": np.sin(x2)}
    assert set(expected) == set(features.FEATURES)
    out = features.apply(features.FEATURES, RAW)
    assert out.shape == (3, 7) and out.dtype == np.float64 and out.flags.c_contiguous
    for j, name in enumerate(features.FEATURES):
        np.testing.assert_array_equal(out[:, j], expected[name], err_msg=name)
    assert features.apply(["x1*x2"], RAW).tolist() == [[-1.0], [0.0], [-0.375]]


def test_order_of_names_is_the_order_of_columns():
    out = features.apply(["x2^2", "x1"], RAW)
    assert out.tolist() == [[4.0, 0.5], [1.0, 0.0], [0.0625, -1.5]]


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(0, 20), st.just(2)),
                  elements=st.floats(-1e3, 1e3)),
       st.lists(st.sampled_from(features.FEATURES), min_size=1, max_size=7, unique=True))
def test_apply_shapes_and_row_independence(raw, names):
    out = features.apply(names, raw)
    assert out.shape == (len(raw), len(names)) and np.isfinite(out).all()
    for i in range(len(raw)):  # a row's features do not depend on the other rows
        np.testing.assert_array_equal(features.apply(names, raw[i:i + 1])[0], out[i])


@pytest.mark.parametrize("names, message", [
    ([], "must be a non-empty list"),
    ("x1", "must be a non-empty list"),
    (["x1", "x3"], r"features\[1\]: unknown feature 'x3'"),
    (["x1", 1], r"features\[1\]: unknown feature 1"),
    (["x1", "x1"], "names a feature twice"),
])
def test_bad_names_are_named(names, message):
    with pytest.raises(ValueError, match=message):
        features.validate(names, "features")


def test_apply_needs_two_raw_columns():
    with pytest.raises(ValueError, match="computed from 2 raw inputs"):
        features.apply(["x1"], np.zeros((3, 3)))


def test_labels_use_the_raw_names():
    assert features.labels(features.FEATURES) == ("X1", "X2", "X1²", "X2²", "X1·X2",
                                                  "sin X1", "sin X2")
    assert features.labels(["x1*x2", "sin(x2)"], ("age", "dose")) == ("age·dose", "sin dose")


def test_toggle_keeps_the_canonical_order_and_one_input():
    assert features.toggle(None, "x1*x2") == ("x1", "x2", "x1*x2")
    assert features.toggle(("x1", "x2", "x1*x2"), "x1^2") == ("x1", "x2", "x1^2", "x1*x2")
    assert features.toggle(("x1", "x2"), "x1") == ("x2",)
    with pytest.raises(ValueError, match="at least one input feature"):
        features.toggle(("x2",), "x2")
    with pytest.raises(ValueError, match="unknown feature"):
        features.toggle(None, "x9")


# -- features in the data ------------------------------------------------------------------
def test_no_features_leaves_every_dataset_as_it_was():
    for name in data.DATASETS:
        spec = DataSpec(dataset=name, test_fraction=0.25)
        ds = data.build(spec)
        assert ds.features is None and ds.input_names == ds.raw_names == ("X1", "X2")
        assert ds.x_train is ds.raw_train and ds.x_test is ds.raw_test
        assert "features" not in data.spec_to_dict(spec)


def test_features_change_the_input_columns_and_names():
    spec = data.spec_from_dict({"dataset": "circle", "samples": 40, "test_fraction": 0.25,
                                "features": ["x1", "x2^2", "x1*x2", "sin(x1)"]})
    ds = data.build(spec)
    plain = data.build(DataSpec(dataset="circle", samples=40, test_fraction=0.25))
    assert ds.n_inputs == 4 and ds.n_raw == 2
    assert ds.input_names == ("X1", "X2²", "X1·X2", "sin X1")
    np.testing.assert_array_equal(ds.raw_train, plain.x_train)
    np.testing.assert_array_equal(ds.raw_test, plain.x_test)
    np.testing.assert_array_equal(
        ds.x_train, features.apply(["x1", "x2^2", "x1*x2", "sin(x1)"], plain.x_train))
    np.testing.assert_array_equal(ds.inputs_from_raw(ds.raw_test), ds.x_test)


def test_features_need_two_raw_inputs():
    with pytest.raises(ValueError, match="computed from 2 raw inputs, but data.inputs has 3"):
        data.spec_from_dict({"inputs": [[0, 1, 2]], "targets": [[0]], "features": ["x1"]})
    with pytest.raises(ValueError, match=r"data.features\[0\]: unknown feature 'X1'"):
        data.spec_from_dict({"dataset": "xor", "features": ["X1"]})


def test_set_features_and_raw_default():
    spec = DataSpec(dataset="xor")
    wide = data.set_features(spec, ["x1", "x2", "x1*x2"])
    assert wide.features == ("x1", "x2", "x1*x2")
    assert data.build(wide).x_train[:, 2].tolist() == [0.0, 0.0, 0.0, 1.0]
    assert data.set_features(wide, ("x1", "x2")) == spec  # the raw inputs are the default
    assert data.set_features(wide, None) == spec


# -- features in the project -----------------------------------------------------------------
def _xor_project(features_, layers):
    d = presets.preset_dict("xor-tanh")
    d["network"]["layers"] = layers
    if features_ is not None:
        d["data"]["features"] = features_
    return d


def test_features_set_the_input_layer_of_a_project():
    p = from_dict(_xor_project(["x1", "x2", "x1*x2"], [3, 3, 1]))
    assert p.network.layers[0] == 3 and p.data.features == ("x1", "x2", "x1*x2")
    with pytest.raises(ProjectError, match="the data has 3 inputs but network.layers.0. is 2"):
        from_dict(_xor_project(["x1", "x2", "x1*x2"], [2, 3, 1]))
    q = loads(dumps(p))
    assert q.data == p.data and dumps(q) == dumps(p)
    assert json.loads(dumps(p))["data"]["features"] == ["x1", "x2", "x1*x2"]


def test_setting_features_from_the_command_line_resizes_the_input_layer():
    d = apply_overrides(presets.preset_dict("circle"), ['data.features=["x1^2","x2^2","x1"]'])
    assert d["network"]["layers"][0] == 3 and "weights" not in d["network"]
    p = from_dict(d)
    assert p.network.layers == [3, 4, 1]
    back = from_dict(apply_overrides(p.to_dict(), ["data.features=null"]))
    assert back.network.layers == [2, 4, 1] and back.data.features is None


def test_circle_features_preset_is_one_unit_on_the_squares():
    p = presets.load_preset("circle-features")
    ds = data.build(p.data)
    assert p.network.layers == [2, 1] and ds.input_names == ("X1²", "X2²")
    np.testing.assert_array_equal(ds.x_train, ds.raw_train ** 2)
