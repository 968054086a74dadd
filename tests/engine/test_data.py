"""Tests for engine.data: tables, generators, splits, normalisation, specs and CSV."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_lab.engine import data
from backprop_lab.engine.data import CsvError, DataSpec, Normalization

TRUTH = {"xor": [0, 1, 1, 0], "and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "xnor": [1, 0, 0, 1]}
CLASSIFIERS = [g for g in data.GENERATORS if g not in data.REGRESSION]


def _plain(a: np.ndarray) -> bool:
    return a.dtype == np.float64 and a.flags.c_contiguous


# -- truth tables -----------------------------------------------------------------------
def test_lists_are_consistent():
    assert data.DATASETS == data.TABLES + data.GENERATORS
    assert set(TRUTH) == set(data.TABLES)


@pytest.mark.parametrize("name", data.TABLES)
def test_truth_table_exact(name):
    x, y = data.truth_table(name)
    assert x.tolist() == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert y.tolist() == [[float(v)] for v in TRUTH[name]]
    assert _plain(x) and _plain(y)


def test_truth_table_unknown():
    with pytest.raises(ValueError, match="'nand'.*xor, and, or, xnor"):
        data.truth_table("nand")


@pytest.mark.parametrize("name", data.TABLES)
def test_build_table(name):
    ds = data.build(DataSpec(dataset=name, samples=999))
    assert ds.y_train[:, 0].tolist() == TRUTH[name]
    assert (ds.input_names, ds.target_names, ds.task) == (("X1", "X2"), ("D0",), "classification")
    assert not ds.has_test and ds.x_test.shape == (0, 2) and ds.y_test.shape == (0, 1)
    assert (ds.n_inputs, ds.n_targets, ds.normalization) == (2, 1, None)


# -- generators -------------------------------------------------------------------------
@pytest.mark.parametrize("name", data.GENERATORS)
@pytest.mark.parametrize("noise", [0.0, 0.2])
def test_generator_deterministic_shapes_finite(name, noise):
    x, y = data.generate(name, 101, noise, seed=7)
    x2, y2 = data.generate(name, 101, noise, seed=7)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    x3, _ = data.generate(name, 101, noise, seed=8)
    assert not np.array_equal(x, x3)
    assert x.shape == (101, 2) and y.shape == (101, 1)
    assert _plain(x) and _plain(y)
    assert np.isfinite(x).all() and np.isfinite(y).all()
    if noise == 0:
        assert np.abs(x).max() <= 1.0
    assert np.abs(x).max() > 0.5  # fills roughly [-1, 1]^2, not a tiny corner


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_generator_classes_balanced_and_shuffled(name):
    _, y = data.generate(name, 101, 0.1, seed=3)
    assert set(y[:, 0].tolist()) == {0.0, 1.0}
    assert y.sum() in (50.0, 51.0)
    assert 10 < y[:50].sum() < 40  # shuffled, not sorted by class


@pytest.mark.parametrize("name", data.MULTICLASS)
@pytest.mark.parametrize("classes", [3, 5])
def test_generator_multiclass_one_hot(name, classes):
    x, y = data.generate(name, 152, 0.0, seed=1, classes=classes)
    assert x.shape == (152, 2) and y.shape == (152, classes) and _plain(y)
    assert set(np.unique(y).tolist()) == {0.0, 1.0}
    assert (y.sum(axis=1) == 1).all()
    counts = y.sum(axis=0)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 152
    ds = data.build(DataSpec(dataset=name, samples=152, classes=classes))
    assert ds.target_names == tuple(f"D{i}" for i in range(classes))
    assert ds.task == "classification"


def test_circle_shape():
    x, y = data.generate("circle", 400, 0.0, 0)
    r = np.hypot(x[:, 0], x[:, 1])
    inner = y[:, 0] == 1
    assert r[inner].max() <= 0.5 and r[~inner].min() >= 0.7 and r.max() <= 1.0


def test_xor2d_quadrants():
    x, y = data.generate("xor-2d", 400, 0.0, 0)
    assert np.array_equal(y[:, 0] == 1, x[:, 0] * x[:, 1] > 0)
    assert np.abs(x).min() >= 0.05


def test_gaussian_centres():
    x, y = data.generate("gaussian", 2000, 0.0, 0)
    assert np.allclose(x[y[:, 0] == 0].mean(axis=0), [0.5, 0.5], atol=0.03)
    assert np.allclose(x[y[:, 0] == 1].mean(axis=0), [-0.5, -0.5], atol=0.03)
    assert np.allclose(x[y[:, 0] == 1].std(axis=0), [0.15, 0.15], atol=0.02)


def test_spiral_arms_within_unit_disc_and_distinct():
    x, y = data.generate("spiral", 300, 0.0, 0)
    assert np.hypot(x[:, 0], x[:, 1]).max() < 1.0
    a, b = x[y[:, 0] == 0], x[y[:, 0] == 1]
    assert np.allclose(a.mean(axis=0), -b.mean(axis=0), atol=1e-9)  # arms are point-symmetric


def test_moons_ranges():
    x, y = data.generate("moons", 400, 0.0, 0)
    assert x[:, 0].min() >= -1.0 and x[:, 0].max() <= 1.0
    assert x[:, 1].min() >= -0.5 - 1e-12 and x[:, 1].max() <= 0.5 + 1e-12
    assert x[y[:, 0] == 0, 1].mean() > x[y[:, 0] == 1, 1].mean()


def test_plane_is_exact_without_noise_and_noisy_with():
    x, y = data.generate("plane", 500, 0.0, 2)
    assert np.allclose(y[:, 0], 0.5 * x[:, 0] - 0.3 * x[:, 1], rtol=0, atol=1e-15)
    x, y = data.generate("plane", 5000, 0.2, 2)
    residual = y[:, 0] - (data.PLANE_A * x[:, 0] + data.PLANE_B * x[:, 1])
    assert abs(residual.std() - 0.2) < 0.01
    ds = data.build(DataSpec(dataset="plane"))
    assert ds.task == "regression" and data.infer_task(ds.y_train) == "regression"


def test_noise_moves_points_not_labels():
    x0, y0 = data.generate("circle", 200, 0.0, 5)
    x1, y1 = data.generate("circle", 200, 0.3, 5)
    assert np.array_equal(y0, y1) and not np.allclose(x0, x1)


@pytest.mark.parametrize("kwargs, message", [
    ({"samples": 3}, "samples must be a whole number from 4 to 100000, not 3"),
    ({"samples": 100_001}, "samples must be a whole number from 4 to 100000, not 100001"),
    ({"samples": 10.0}, "samples must be a whole number"),
    ({"samples": True}, "samples must be a whole number"),
    ({"noise": -0.1}, "noise must be a number >= 0, not -0.1"),
    ({"noise": math.nan}, "noise must be a number >= 0, not nan"),
    ({"noise": math.inf}, "noise must be a number >= 0, not inf"),
    ({"noise": "abc"}, "noise must be a number >= 0, not 'abc'"),
    ({"seed": -1}, "seed must be a whole number >= 0, not -1"),
    ({"classes": 3}, "classes: only gaussian, spiral and blobs make more than 2 classes, "
                     "not 'circle'"),
    ({"name": "spiral", "classes": 11}, "classes must be a whole number from 2 to 10, not 11"),
    ({"name": "spiral", "classes": 1}, "classes must be a whole number from 2 to 10, not 1"),
    ({"name": "spiral", "classes": 5, "samples": 4}, "samples (4) must be at least classes (5)"),
    ({"name": "xor"}, "unknown generator 'xor'"),
    ({"name": "ring"}, "unknown generator 'ring'"),
])
def test_generate_rejects_bad_arguments(kwargs, message):
    args = {"name": "circle", "samples": 100, "noise": 0.0, "seed": 0, **kwargs}
    with pytest.raises(ValueError) as e:
        data.generate(**args)
    assert message in str(e.value)


# -- split --------------------------------------------------------------------------------
def _numbered(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(2 * n, dtype=float).reshape(n, 2)
    return x, x[:, :1] * 10


def test_split_sizes_disjoint_and_ordered():
    x, y = _numbered(10)
    xt, yt, xs, ys = data.split(x, y, 0.3, seed=4)
    assert (len(xt), len(xs)) == (7, 3)
    assert all(map(_plain, (xt, yt, xs, ys)))
    train, test = set(xt[:, 0]), set(xs[:, 0])
    assert not train & test and train | test == set(x[:, 0])
    assert list(xt[:, 0]) == sorted(xt[:, 0]) and list(xs[:, 0]) == sorted(xs[:, 0])
    assert np.array_equal(yt, xt[:, :1] * 10) and np.array_equal(ys, xs[:, :1] * 10)
    again = data.split(x, y, 0.3, seed=4)
    assert np.array_equal(again[2], xs)
    others = {tuple(data.split(x, y, 0.3, seed=s)[2][:, 0]) for s in range(10)}
    assert len(others) > 1


def test_split_without_test_and_keeps_one_training_sample():
    x, y = _numbered(4)
    xt, yt, xs, ys = data.split(x, y, 0.0, seed=0)
    assert np.array_equal(xt, x) and np.array_equal(yt, y)
    assert xs.shape == (0, 2) and ys.shape == (0, 1)
    xt, _, xs, _ = data.split(x, y, 0.99, seed=0)
    assert (len(xt), len(xs)) == (1, 3)


@pytest.mark.parametrize("fraction", [1.0, -0.1, math.nan, "0.5"])
def test_split_rejects_bad_fraction(fraction):
    x, y = _numbered(4)
    with pytest.raises(ValueError, match="test_fraction must be a number from 0 to below 1"):
        data.split(x, y, fraction, 0)


def test_split_rejects_mismatched_rows():
    with pytest.raises(ValueError, match="same number of rows"):
        data.split(np.zeros((3, 2)), np.zeros((4, 1)), 0.0, 0)


def test_build_with_test_fraction():
    ds = data.build(DataSpec(dataset="moons", samples=200, test_fraction=0.25, seed=9))
    assert ds.x_train.shape == (150, 2) and ds.x_test.shape == (50, 2) and ds.has_test
    x, y = data.generate("moons", 200, 0.0, 9)
    assert len({tuple(r) for r in np.vstack([ds.x_train, ds.x_test])} ^ {tuple(r) for r in x}) == 0


# -- normalisation ------------------------------------------------------------------------
def test_normalisation_uses_training_statistics_only():
    spec = DataSpec(dataset="plane", samples=300, seed=3, test_fraction=0.3)
    raw = data.build(spec)
    ds = data.build(DataSpec(**{**spec.__dict__, "normalize": True}))
    norm = ds.normalization
    assert np.allclose(norm.mean, raw.x_train.mean(axis=0), rtol=0, atol=1e-15)
    assert np.allclose(norm.std, raw.x_train.std(axis=0), rtol=0, atol=1e-15)
    assert np.allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(ds.x_train.std(axis=0), 1.0, atol=1e-12)
    assert np.allclose(ds.x_test, (raw.x_test - norm.mean) / norm.std, rtol=0, atol=1e-15)
    assert not np.allclose(ds.x_test.mean(axis=0), 0.0, atol=1e-12)  # not the test's own stats
    assert np.array_equal(ds.y_train, raw.y_train) and np.array_equal(ds.y_test, raw.y_test)
    assert _plain(ds.x_train) and _plain(ds.x_test)


def test_normalisation_of_constant_column():
    norm = Normalization.fit(np.array([[0.1, 1.0], [0.1, 2.0], [0.1, 3.0]]))
    assert norm.std[0] == 1.0 and norm.mean[0] == pytest.approx(0.1)
    out = norm.apply(np.array([[0.1, 2.0]]))
    assert np.isfinite(out).all() and out[0, 1] == 0.0
    ds = data.build(DataSpec(dataset="and", normalize=True))
    assert ds.normalization.std.tolist() == [0.5, 0.5]
    assert ds.x_train.tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]]


def test_normalisation_dict_round_trip_and_errors():
    norm = Normalization(np.array([0.1, -2.5]), np.array([1.0 / 3.0, 4.0]))
    back = Normalization.from_dict(json.loads(json.dumps(norm.to_dict())))
    assert back.mean.tolist() == norm.mean.tolist() and back.std.tolist() == norm.std.tolist()
    with pytest.raises(ValueError, match="for 2 input columns"):
        norm.apply(np.zeros((3, 3)))
    bad = [({"mean": [0.0]}, "exactly 'mean' and 'std'"),
           ({"mean": [0.0], "std": [1.0, 2.0]}, "mean has 1 values but normalization.std has 2"),
           ({"mean": [0.0], "std": [0.0]}, "normalization.std values must be > 0"),
           ({"mean": ["x"], "std": [1.0]}, "normalization.mean[0] must be a number"),
           ({"mean": [0.0], "std": [math.inf]}, "normalization.std[0] is infinite"),
           ({"mean": [], "std": []}, "normalization.mean must be a non-empty list")]
    for d, message in bad:
        with pytest.raises(ValueError) as e:
            Normalization.from_dict(d)
        assert message in str(e.value)


# -- specs ---------------------------------------------------------------------------------
def test_spec_defaults_and_minimal_dict():
    assert data.spec_from_dict({"dataset": "xor"}) == DataSpec(dataset="xor")
    assert data.spec_to_dict(DataSpec(dataset="xor")) == {"dataset": "xor"}
    spec = DataSpec(dataset="spiral", samples=300, noise=0.1, classes=3, normalize=True)
    assert data.spec_to_dict(spec) == {"dataset": "spiral", "samples": 300, "noise": 0.1,
                                       "normalize": True, "classes": 3}


def test_inline_spec_and_build():
    d = {"inputs": [[0, 1], [2, 3.5], [4, 5]], "targets": [[1.5], [0], [2]],
         "input_names": ["a", "b"], "target_names": ["t"]}
    spec = data.spec_from_dict(d)
    assert spec.inputs == ((0.0, 1.0), (2.0, 3.5), (4.0, 5.0))
    assert spec.targets == ((1.5,), (0.0,), (2.0,))
    assert data.spec_to_dict(spec) == {"inputs": [[0.0, 1.0], [2.0, 3.5], [4.0, 5.0]],
                                       "targets": [[1.5], [0.0], [2.0]],
                                       "input_names": ["a", "b"], "target_names": ["t"]}
    ds = data.build(spec)
    assert ds.x_train.tolist() == [[0, 1], [2, 3.5], [4, 5]] and ds.y_train.shape == (3, 1)
    assert (ds.input_names, ds.target_names, ds.task) == (("a", "b"), ("t",), "regression")
    ds = data.build(DataSpec(inputs=((0.0,), (1.0,)), targets=((0.0, 1.0), (1.0, 0.0))))
    assert (ds.input_names, ds.target_names, ds.task) == (("X1",), ("D0", "D1"), "classification")


def test_build_is_deterministic_and_validates_constructed_specs():
    spec = DataSpec(dataset="gaussian", samples=50, noise=0.3, seed=11, test_fraction=0.2,
                    normalize=True)
    a, b = data.build(spec), data.build(spec)
    for f in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(a, f), getattr(b, f))
    with pytest.raises(ValueError, match="data.noise must be a number >= 0, not -1"):
        data.build(DataSpec(dataset="circle", noise=-1))
    with pytest.raises(ValueError, match=r"data.inputs row 1 has 1 values, expected 2"):
        data.build(DataSpec(inputs=((1, 2), (3,)), targets=((0,), (1,))))


@pytest.mark.parametrize("d, message", [
    ([1, 2], "data must be an object, not list"),
    ({"dataset": "xor", "nois": 0.1, "size": 3}, "data has unknown keys: 'nois', 'size'"),
    ({"dataset": "nand"}, "unknown data.dataset 'nand'"),
    ({}, "data needs either 'dataset' or both 'inputs' and 'targets'"),
    ({"inputs": [[0.0]]}, "data needs either 'dataset' or both"),
    ({"dataset": "xor", "inputs": [[0]], "targets": [[0]]}, "gives both 'dataset' and inline"),
    ({"dataset": "circle", "noise": "abc"}, "data.noise must be a number >= 0, not 'abc'"),
    ({"dataset": "circle", "noise": -1}, "data.noise must be a number >= 0, not -1"),
    ({"dataset": "circle", "samples": 3}, "data.samples must be a whole number from 4 to 100000"),
    ({"dataset": "circle", "samples": "200"}, "data.samples must be a whole number"),
    ({"dataset": "circle", "seed": 1.5}, "data.seed must be a whole number >= 0, not 1.5"),
    ({"dataset": "circle", "test_fraction": 1}, "data.test_fraction must be a number from 0"),
    ({"dataset": "circle", "test_fraction": -0.5}, "data.test_fraction must be a number from 0"),
    ({"dataset": "circle", "normalize": "yes"}, "data.normalize must be true or false"),
    ({"dataset": "circle", "classes": 3}, "data.classes: only gaussian, spiral and blobs"),
    ({"dataset": "spiral", "classes": 12}, "data.classes must be a whole number from 2 to 10"),
    ({"dataset": "spiral", "classes": 8, "samples": 5}, "data.samples (5) must be at least"),
    ({"inputs": [[0, 1], [1, 1]], "targets": [[0], [1]], "classes": 3}, "data.classes: only"),
    ({"dataset": "xor", "input_names": ["a"]}, "data.input_names has 1 names for 2 columns"),
    ({"dataset": "xor", "target_names": ["a", "b"]}, "data.target_names has 2 names for 1"),
    ({"dataset": "spiral", "classes": 3, "target_names": ["a", "b"]}, "has 2 names for 3"),
    ({"dataset": "xor", "input_names": ["a", "a"]}, "data.input_names has a name twice"),
    ({"dataset": "xor", "input_names": ["a", ""]}, "data.input_names must be a list of non-empty"),
    ({"dataset": "xor", "input_names": "ab"}, "data.input_names must be a list"),
    ({"inputs": [[0, 1], [1, 1], [2, 2], [3]], "targets": [[0]] * 4},
     "data.inputs row 3 has 1 values, expected 2"),
    ({"inputs": [[0], [1], [2]], "targets": [[0], [1], [math.nan]]}, "data.targets[2][0] is NaN"),
    ({"inputs": [[0], [-math.inf]], "targets": [[0], [1]]}, "data.inputs[1][0] is infinite"),
    ({"inputs": [[0], ["1"]], "targets": [[0], [1]]},
     "data.inputs[1][0] must be a number, not '1'"),
    ({"inputs": [[0], [True]], "targets": [[0], [1]]}, "data.inputs[1][0] must be a number"),
    ({"inputs": [[0], 1], "targets": [[0], [1]]}, "data.inputs[1] must be a non-empty list"),
    ({"inputs": [[0], []], "targets": [[0], [1]]}, "data.inputs[1] must be a non-empty list"),
    ({"inputs": [], "targets": []}, "data.inputs must be a non-empty list of rows"),
    ({"inputs": [[0], [1]], "targets": [[0]]}, "data.inputs has 2 rows but data.targets has 1"),
    ({"inputs": [[0], [1]], "targets": [[0], [1]], "input_names": ["a", "b"]},
     "data.input_names has 2 names for 1 columns"),
])
def test_spec_from_dict_rejects(d, message):
    with pytest.raises(ValueError) as e:
        data.spec_from_dict(d)
    assert message in str(e.value)


_finite_floats = st.floats(-data.MAX_MAGNITUDE, data.MAX_MAGNITUDE, allow_nan=False, width=64)
_names = st.text("abXY_1 é€", min_size=1, max_size=6).filter(str.strip)


@st.composite
def _specs(draw) -> DataSpec:
    common = {"seed": draw(st.integers(0, 2**40)), "normalize": draw(st.booleans()),
              "test_fraction": draw(st.floats(0, 1, exclude_max=True))}
    if draw(st.booleans()):
        name = draw(st.sampled_from(data.DATASETS))
        classes = draw(st.integers(2, 10)) if name in data.MULTICLASS else 2
        n_out = classes if classes > 2 else 1
        names = draw(st.none() | st.lists(_names, min_size=2, max_size=2, unique=True))
        out = draw(st.none() | st.lists(_names, min_size=n_out, max_size=n_out, unique=True))
        return DataSpec(dataset=name, samples=draw(st.integers(10, 100_000)),
                        noise=draw(st.floats(0, 1e6)), classes=classes,
                        input_names=names and tuple(names), target_names=out and tuple(out),
                        **common)
    rows, n_in, n_out = (draw(st.integers(1, 5)) for _ in range(3))
    cells = st.lists(_finite_floats, min_size=n_in, max_size=n_in).map(tuple)
    out = st.lists(_finite_floats, min_size=n_out, max_size=n_out).map(tuple)
    return DataSpec(inputs=tuple(draw(st.lists(cells, min_size=rows, max_size=rows))),
                    targets=tuple(draw(st.lists(out, min_size=rows, max_size=rows))), **common)


@settings(max_examples=200)
@given(_specs())
def test_spec_round_trip(spec):
    d = data.spec_to_dict(spec)
    assert data.spec_from_dict(d) == spec
    assert data.spec_from_dict(json.loads(json.dumps(d))) == spec
    assert data.spec_from_dict(json.loads(json.dumps(d))).__dict__ == spec.__dict__


def test_infer_task():
    assert data.infer_task(np.array([[0.0], [1.0], [1.0]])) == "classification"
    assert data.infer_task(np.array([[0, 1, 0], [1, 0, 0]])) == "classification"
    assert data.infer_task(np.array([[0.0], [0.5]])) == "regression"
    assert data.infer_task(np.array([[2.0], [1.0]])) == "regression"


def test_dataset_checks_shapes():
    with pytest.raises(ValueError, match="one name per column"):
        data.Dataset(np.zeros((2, 2)), np.zeros((2, 1)), np.zeros((0, 2)), np.zeros((0, 1)),
                     ("X1",), ("D0",), "classification")
    with pytest.raises(ValueError, match="unknown Dataset.task 'sorting'"):
        data.Dataset(np.zeros((2, 2)), np.zeros((2, 1)), np.zeros((0, 2)), np.zeros((0, 1)),
                     ("X1", "X2"), ("D0",), "sorting")


# -- CSV ------------------------------------------------------------------------------------
IRIS = "sepal,petal_length,petal_width,species\n1.0,2.5,0.2,0\n2,3e1,-0.4,1\n"


def _write(tmp_path, text: str, name: str = "iris.csv", **kw):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="", **kw)
    return path


def test_read_csv_default_target_is_last_column(tmp_path):
    x, y, names, targets = data.read_csv(_write(tmp_path, IRIS + "\n\n"))
    assert x.tolist() == [[1.0, 2.5, 0.2], [2.0, 30.0, -0.4]] and y.tolist() == [[0.0], [1.0]]
    assert names == ("sepal", "petal_length", "petal_width") and targets == ("species",)
    assert _plain(x) and _plain(y)


def test_read_csv_chosen_targets_in_given_order(tmp_path):
    x, y, names, targets = data.read_csv(_write(tmp_path, IRIS), ["species", "sepal"])
    assert names == ("petal_length", "petal_width") and targets == ("species", "sepal")
    assert x.tolist() == [[2.5, 0.2], [30.0, -0.4]] and y.tolist() == [[0.0, 1.0], [1.0, 2.0]]
    assert _plain(x) and _plain(y)


def test_read_csv_semicolons_bom_crlf_quotes_and_spaces(tmp_path):
    text = '\ufeff"a" ; b ;c\r\n 1 ;2;3\r\n4;5; 6 \r\n'
    x, y, names, targets = data.read_csv(_write(tmp_path, text, "semi.csv"))
    assert names == ("a", "b") and targets == ("c",)
    assert x.tolist() == [[1, 2], [4, 5]] and y.tolist() == [[3], [6]]


@pytest.mark.parametrize("text, targets, message", [
    ("", None, "iris.csv is empty"),
    ("  \n\n", None, "iris.csv is empty"),
    ("a,b,c\n", None, "iris.csv has a header but no data rows"),
    ("a,b,c\n\n", None, "iris.csv has a header but no data rows"),
    ("a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n11,abc\n", None,
     "iris.csv, line 7, column 'b': 'abc' is not a number"),
    ("a,petal_width\n1,2\n3,4\n4,5\n5,6\n6,7\n7, abc \n", None,
     "iris.csv, line 7, column 'petal_width': 'abc' is not a number"),
    ("a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,2\n", None, "iris.csv, line 5 has 2 values, the header has 3"),
    ("a,b,c\n1,2,3,4\n", None, "iris.csv, line 2 has 4 values, the header has 3"),
    ("a,b\n1,nan\n", None, "iris.csv, line 2, column 'b': 'nan' is not a finite number"),
    ("a,b\n1,2\ninf,2\n", None, "iris.csv, line 3, column 'a': 'inf' is not a finite number"),
    ("a,b\n1,-Infinity\n", None, "line 2, column 'b': '-Infinity' is not a finite number"),
    ("a,b\n1,\n", None, "iris.csv, line 2, column 'b' is empty"),
    ("a,b\n1,2\n\n3,4\n", None, "iris.csv, line 3 is blank"),
    ("a,b,c\n1,2,3\n", ["d"], "iris.csv has no column 'd' (columns: a, b, c)"),
    ("a,b,c\n1,2,3\n", ["b", "b"], "iris.csv: target column 'b' is chosen twice"),
    ("a,b,c\n1,2,3\n", [], "iris.csv: choose at least one target column"),
    ("a,b\n1,2\n", ["b", "a"], "every column is a target"),
    ("a,b,a\n1,2,3\n", None, "iris.csv, line 1: column 'a' appears twice"),
    ("a,,c\n1,2,3\n", None, "iris.csv, line 1, column 2 has no name"),
    ("1,2,3\n4,5,6\n", None, "iris.csv, line 1 must be a header with column names"),
    ("abc\n1\n", None, "iris.csv, line 1: the header needs at least two columns"),
    ("a,b\n1,1e300\n", None, "iris.csv, line 2, column 'b': '1e300' is too large for training "
                            "(data values must lie within +-1e+100)"),
    ("a,b\n-1e101,1\n", None, "line 2, column 'a': '-1e101' is too large for training"),
    ("a," + "b" * 5000 + "\n1,x\n", None,
     "line 2, column 'bbbbbbbbbbbbbbbbbbb...bbbbbbbbbbbbbbbbbbb': 'x' is not a number"),
    ("a,b\n1," + "9" * 5000 + "\n", None, "line 2, column 'b': '9999999999999999999...99999999999"
                                        "99999999' is not a finite number"),
    (",".join(f"c{j}" for j in range(data.MAX_COLUMNS + 1)) + "\n", None,
     f"iris.csv, line 1 has {data.MAX_COLUMNS + 1:,} columns; at most {data.MAX_COLUMNS:,}"),
    ("a,b\n" + "1,2\n" * (data.MAX_DATA_VALUES // 2 + 1), None,
     f"iris.csv, line {data.MAX_DATA_VALUES // 2 + 2}: too many values (at most "
     f"{data.MAX_DATA_VALUES:,}"),
    ("a,b\n1,2\n" + "\f" * (2 * data.MAX_DATA_VALUES + 1001), None,
     "iris.csv has too many lines"),
])
def test_read_csv_errors(tmp_path, text, targets, message):
    with pytest.raises(CsvError) as e:
        data.read_csv(_write(tmp_path, text), targets)
    assert message in str(e.value)
    assert isinstance(e.value, ValueError)


def test_read_csv_missing_and_undecodable_file(tmp_path):
    with pytest.raises(CsvError, match=r"nothere.csv: cannot read the file \(no such file\)"):
        data.read_csv(tmp_path / "nothere.csv")
    (tmp_path / "latin.csv").write_bytes(b"a,b\n1,\xff\n")
    with pytest.raises(CsvError, match="latin.csv: cannot read the file"):
        data.read_csv(tmp_path / "latin.csv")


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.sampled_from("ab,;\"' \n\r\t0123456789.-+eEnaif\x00"), max_size=60),
       st.none() | st.lists(st.sampled_from(["a", "b", "ab"]), max_size=3))
def test_read_csv_never_fails_otherwise(tmp_path, text, targets):
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        x, y, names, tnames = data.read_csv(path, targets)
    except CsvError as e:
        assert str(e).startswith("fuzz.csv")
        return
    assert x.shape == (len(y), len(names)) and y.shape[1] == len(tnames) >= 1 and len(names) >= 1
    assert np.isfinite(x).all() and np.isfinite(y).all() and _plain(x) and _plain(y)


# -- blobs and sine -------------------------------------------------------------------------
def test_blobs_make_three_classes_unless_told():
    spec = data.spec_from_dict({"dataset": "blobs", "samples": 90})
    assert spec.classes == 3 and spec == DataSpec(dataset="blobs", samples=90)
    assert data.spec_to_dict(spec) == {"dataset": "blobs", "samples": 90}
    two = data.spec_from_dict({"dataset": "blobs", "classes": 2})
    assert data.spec_to_dict(two)["classes"] == 2
    assert data.spec_from_dict(data.spec_to_dict(two)) == two
    ds = data.build(spec)
    assert ds.y_train.shape == (90, 3) and ds.task == "classification"
    assert ds.y_train.sum(axis=0).tolist() == [30.0, 30.0, 30.0]
    labels = ds.y_train.argmax(axis=1)
    for c in range(3):  # centres on a circle of radius 0.55, the first at the top
        t = np.pi / 2 + 2 * np.pi * c / 3
        centre = ds.x_train[labels == c].mean(axis=0)
        assert np.hypot(*(centre - (0.55 * np.cos(t), 0.55 * np.sin(t)))) < 0.08


def test_sine_is_exact_without_noise_and_noisy_with():
    x, y = data.generate("sine", 200, 0.0, seed=4)
    np.testing.assert_array_equal(y[:, 0], np.sin(np.pi * x[:, 0]) * np.cos(np.pi * x[:, 1]))
    xn, yn = data.generate("sine", 200, 0.1, seed=4)
    np.testing.assert_array_equal(xn, x)
    assert 0.07 < np.std(yn - y) < 0.13
    assert data.build(DataSpec(dataset="sine")).task == "regression"


# -- stored normalisation -------------------------------------------------------------------
def test_set_normalize_stores_training_statistics_after_features():
    spec = DataSpec(dataset="moons", samples=80, test_fraction=0.25, features=("x1", "x1*x2"))
    on = data.set_normalize(spec, True)
    plain = data.build(spec)
    assert on.norm_mean == tuple(plain.x_train.mean(axis=0).tolist())
    assert on.norm_std == tuple(plain.x_train.std(axis=0).tolist())
    ds = data.build(on)
    np.testing.assert_array_equal(ds.x_train, (plain.x_train - on.norm_mean) / on.norm_std)
    assert ds.normalization.to_dict() == {"mean": list(on.norm_mean), "std": list(on.norm_std)}
    d = json.loads(json.dumps(data.spec_to_dict(on)))
    assert d["normalize"] is True and d["normalization"]["mean"] == list(on.norm_mean)
    back = data.spec_from_dict(d)
    assert back == on
    np.testing.assert_array_equal(data.build(back).x_test, ds.x_test)  # bit-identical
    assert data.set_normalize(on, False) == spec


def test_stored_statistics_survive_edits_until_refitted():
    on = data.set_normalize(DataSpec(dataset="circle", samples=40), True)
    edited = data.add_point(on, (3.0, 3.0), 1)
    assert (edited.norm_mean, edited.norm_std) == (on.norm_mean, on.norm_std)
    before, after = data.build(on), data.build(edited)
    np.testing.assert_array_equal(after.x_train[:-1], before.x_train)
    assert data.refit_normalization(edited).norm_mean != on.norm_mean
    wider = data.set_features(on, ["x1", "x2", "x1^2"])  # new columns: fitted again
    assert len(wider.norm_mean) == 3 and data.build(wider).n_inputs == 3


@pytest.mark.parametrize("d, message", [
    ({"dataset": "xor", "normalization": {"mean": [0, 0], "std": [1, 1]}},
     "data.normalization is given but data.normalize is not true"),
    ({"dataset": "xor", "normalize": True, "normalization": {"mean": [0, 0]}},
     "data.normalization must be an object with exactly 'mean' and 'std'"),
    ({"dataset": "xor", "normalize": True, "normalization": {"mean": [0, 0], "std": [1, 0]}},
     "data.normalization.std values must be > 0"),
    ({"dataset": "xor", "normalize": True, "normalization": {"mean": [0, "a"], "std": [1, 1]}},
     r"data.normalization.mean\[1\] must be a number"),
])
def test_bad_stored_normalisation_is_named(d, message):
    with pytest.raises(ValueError, match=message):
        data.spec_from_dict(d)


def test_stored_normalisation_must_fit_the_columns():
    spec = data.spec_from_dict({"dataset": "xor", "normalize": True,
                                "normalization": {"mean": [0, 0, 0], "std": [1, 1, 1]}})
    with pytest.raises(ValueError, match="data.normalization has 3 values for 2 input columns"):
        data.build(spec)


# -- points edited by hand -------------------------------------------------------------------
def _same_dataset(a: data.Dataset, b: data.Dataset) -> None:
    for f in ("x_train", "y_train", "x_test", "y_test", "raw_train", "raw_test"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert (a.input_names, a.target_names, a.task, a.raw_names, a.features) == \
        (b.input_names, b.target_names, b.task, b.raw_names, b.features)
    assert (a.normalization is None) == (b.normalization is None)
    if a.normalization is not None:
        assert a.normalization.to_dict() == b.normalization.to_dict()


@pytest.mark.parametrize("spec", [
    DataSpec(dataset="spiral", samples=60, noise=0.1, test_fraction=0.3, seed=5),
    DataSpec(dataset="blobs", samples=30, classes=3, test_fraction=0.2),
    DataSpec(dataset="sine", samples=30, noise=0.1, test_fraction=0.2),
    DataSpec(dataset="xor"),
    DataSpec(inputs=((0, 1), (1, 2), (2, 3), (4, 4)), targets=((0,), (1,), (0,), (1,)),
             test_fraction=0.5, input_names=("a", "b"), target_names=("t",)),
    DataSpec(dataset="circle", samples=50, test_fraction=0.2, normalize=True,
             features=("x1^2", "x2^2", "sin(x1)")),
])
def test_to_inline_gives_the_same_dataset(spec):
    inline = data.to_inline(spec)
    assert data.is_inline(inline) and inline.dataset is None
    _same_dataset(data.build(inline), data.build(spec))
    assert data.to_inline(inline) is inline
    d = json.loads(json.dumps(data.spec_to_dict(inline)))
    assert data.spec_from_dict(d) == inline


def test_add_point_appends_and_moves_no_other_point():
    spec = DataSpec(dataset="circle", samples=50, noise=0.05, test_fraction=0.3, seed=2)
    before = data.build(spec)
    edited = data.add_point(spec, (0.25, -0.5), 1)
    assert spec == DataSpec(dataset="circle", samples=50, noise=0.05, test_fraction=0.3, seed=2)
    after = data.build(edited)
    np.testing.assert_array_equal(after.raw_train[:-1], before.raw_train)
    np.testing.assert_array_equal(after.y_train[:-1], before.y_train)
    np.testing.assert_array_equal(after.raw_test, before.raw_test)
    assert after.raw_train[-1].tolist() == [0.25, -0.5] and after.y_train[-1].tolist() == [1.0]
    test_added = data.build(data.add_point(edited, (0.0, 0.0), 0, part="test"))
    assert test_added.raw_test[-1].tolist() == [0.0, 0.0] and len(test_added.y_test) == 16
    # undo is the spec from before; deleting the new point gives the inline original
    assert data.delete_point(edited, len(after.y_train) - 1) == data.to_inline(spec)


def test_move_and_delete_points():
    spec = DataSpec(inputs=((0, 0), (1, 0), (0, 1)), targets=((0,), (1,), (1,)))
    moved = data.move_point(spec, 1, (0.5, 0.5))
    assert moved.inputs == ((0.0, 0.0), (0.5, 0.5), (0.0, 1.0)) and moved.targets == spec.targets
    relabelled = data.move_point(spec, 2, (0, 1), y=0)
    assert relabelled.targets == ((0.0,), (1.0,), (0.0,))
    gone = data.delete_point(spec, 0)
    assert gone.inputs == ((1.0, 0.0), (0.0, 1.0)) and gone.targets == ((1.0,), (1.0,))
    with pytest.raises(ValueError, match="no train point 3 .the train part has 3 points"):
        data.delete_point(spec, 3)
    with pytest.raises(ValueError, match="no test point 0"):
        data.move_point(spec, 0, (0, 0), part="test")
    with pytest.raises(ValueError, match="the last training point cannot be deleted"):
        data.delete_point(data.delete_point(gone, 0), 0)
    with pytest.raises(ValueError, match="part must be 'train' or 'test'"):
        data.add_point(spec, (0, 0), 1, part="validation")


def test_deleting_the_last_test_point_leaves_no_test_part():
    spec = DataSpec(inputs=((0, 0), (1, 1)), targets=((0,), (1,)),
                    test_inputs=((2, 2),), test_targets=((1,),))
    out = data.delete_point(spec, 0, part="test")
    assert out.test_inputs is None and out.test_targets is None
    assert not data.build(out).has_test


def test_points_are_checked():
    spec = DataSpec(dataset="blobs", samples=30, classes=3)
    three = data.add_point(spec, np.array([0.1, 0.2]), 2)
    assert three.targets[-1] == (0.0, 0.0, 1.0)
    assert data.add_point(spec, (0.1, 0.2), [0, 1, 0]).targets[-1] == (0.0, 1.0, 0.0)
    for x, y, message in [((0.1,), 0, "a point has 2 raw inputs, not 1"),
                          ((0.1, math.nan), 0, r"point\[1\] is NaN"),
                          ((0.1, 0.2), 3, "a class number from 0 to 2, not 3"),
                          ((0.1, 0.2), 1.0, "a class number from 0 to 2"),
                          ((0.1, 0.2), [0, 1], "a target row has 3 values, not 2")]:
        with pytest.raises(ValueError, match=message):
            data.add_point(spec, x, y)
    reg = data.add_point(DataSpec(dataset="sine", samples=10), (0, 0), 0.75)
    assert reg.targets[-1] == (0.75,) and data.build(reg).task == "regression"


@pytest.mark.parametrize("d, message", [
    ({"dataset": "xor", "test_inputs": [[0, 0]], "test_targets": [[0]]},
     "go with inline 'inputs' and 'targets'"),
    ({"inputs": [[0, 0]], "targets": [[0]], "test_inputs": [[0, 0]]}, "go together"),
    ({"inputs": [[0, 0]], "targets": [[0]], "test_inputs": [[0, 0]], "test_targets": [[0]],
      "test_fraction": 0.5}, "data.test_fraction must then be 0"),
    ({"inputs": [[0, 0]], "targets": [[0]], "test_inputs": [[0]], "test_targets": [[0]]},
     "data.test_inputs rows have 1 values, data.inputs rows 2"),
    ({"inputs": [[0, 0]], "targets": [[0]], "test_inputs": [[0, 0]], "test_targets": [[0, 1]]},
     "data.test_targets rows have 2 values, data.targets rows 1"),
    ({"inputs": [[0, 0]], "targets": [[0]], "test_inputs": [[0, 0]], "test_targets": []},
     "data.test_targets must be a non-empty list of rows"),
    ({"inputs": [[0, 0]], "targets": [[0]], "test_inputs": [[0, 0], [1, 1]],
      "test_targets": [[0]]}, "data.test_inputs has 2 rows but data.test_targets has 1"),
    ({"dataset": "xor", "colour": 1}, "data has unknown keys: 'colour'"),
])
def test_bad_test_parts_are_named(d, message):
    with pytest.raises(ValueError, match=message):
        data.spec_from_dict(d)


def test_project_round_trip_with_features_normalisation_and_edits(tmp_path):
    from backprop_lab.engine import presets
    from backprop_lab.engine.project import dumps, load, save

    p = presets.load_preset("circle")
    spec = data.set_normalize(data.set_features(p.data, ["x1", "x2", "x1^2", "x2^2"]), True)
    spec = data.add_point(spec, (0.1, 0.9), 0)
    spec = data.move_point(spec, 0, (-0.3, 0.3), y=1)
    spec = data.delete_point(spec, 0, part="test")
    d = p.to_dict()
    d["data"] = data.spec_to_dict(spec)
    d["network"]["layers"][0] = 4
    del d["network"]["weights"], d["network"]["biases"]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    q = load(path)
    assert q.data == spec and q.network.layers == [4, 4, 1]
    _same_dataset(data.build(q.data), data.build(spec))
    save(q, tmp_path / "again.json")
    r = load(tmp_path / "again.json")
    assert r.data == spec and dumps(r) == dumps(q)


def test_a_project_with_normalize_true_stores_its_statistics():
    from backprop_lab.engine.project import dumps, from_dict, loads

    d = {"format": "backprop-lab", "version": 1, "network": {"layers": [2, 2, 1]},
         "data": {"dataset": "gaussian", "samples": 20, "normalize": True}}
    p = from_dict(d)
    ds = data.build(DataSpec(dataset="gaussian", samples=20, normalize=True))
    assert p.data.norm_mean == tuple(ds.normalization.mean.tolist())
    again = loads(dumps(p))
    assert again.data == p.data
    np.testing.assert_array_equal(data.build(again.data).x_train, ds.x_train)


# -- CSV: written, referenced by a project --------------------------------------------------
def test_write_csv_round_trips_exactly(tmp_path):
    ds = data.build(DataSpec(dataset="blobs", samples=30, noise=0.1, test_fraction=0.2,
                             features=("x1^2", "x1*x2"), normalize=True))
    path = tmp_path / "blobs.csv"
    path.write_text("old", encoding="utf-8")
    data.write_csv(path, ds)
    assert [p.name for p in tmp_path.iterdir()] == ["blobs.csv"]  # no temporary file left
    assert path.read_text(encoding="utf-8").splitlines()[0] == "X1,X2,D0,D1,D2"
    x, y, names, targets = data.read_csv(path, ["D0", "D1", "D2"])
    np.testing.assert_array_equal(x, np.vstack([ds.raw_train, ds.raw_test]))
    np.testing.assert_array_equal(y, np.vstack([ds.y_train, ds.y_test]))
    assert (names, targets) == (("X1", "X2"), ("D0", "D1", "D2"))
    data.write_csv(path, ds, part="test")
    np.testing.assert_array_equal(data.read_csv(path, ["D0", "D1", "D2"])[0], ds.raw_test)
    with pytest.raises(ValueError, match="part must be"):
        data.write_csv(path, ds, part="both")


def test_write_csv_refuses_repeated_names(tmp_path):
    ds = data.build(DataSpec(dataset="xor", input_names=("a", "D0")))
    with pytest.raises(ValueError, match="repeat a name"):
        data.write_csv(tmp_path / "x.csv", ds)
    assert not list(tmp_path.iterdir())


POINTS = "x,y,label\n0.5,0.5,1\n-0.5,0.5,0\n0.5,-0.5,0\n-0.5,-0.5,1\n0.1,0.2,1\n"


def _csv_project(folder, text=POINTS, **data_keys):
    (folder / "points.csv").write_text(text, encoding="utf-8")
    d = {"format": "backprop-lab", "version": 1,
         "network": {"layers": [2, 3, 1], "output_activation": "sigmoid"},
         "training": {"loss": "bce"},
         "data": {"csv": "points.csv", "targets": ["label"], **data_keys}}
    path = folder / "project.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    return path


def test_a_project_reads_a_csv_beside_it(tmp_path, monkeypatch):
    from backprop_lab.engine.project import load, save

    folder = tmp_path / "course"
    folder.mkdir()
    path = _csv_project(folder, features=["x1", "x2"])
    monkeypatch.chdir(tmp_path)  # not the project's folder
    p = load(path)
    assert p.data.csv == "points.csv" and p.data.csv_targets == ("label",)
    ds = data.build(p.data)
    assert ds.raw_names == ("x", "y") and ds.input_names == ("x", "y")
    assert ds.x_train.shape == (5, 2) and ds.y_train[:, 0].tolist() == [1, 0, 0, 1, 1]
    assert data.spec_to_dict(p.data) == {"csv": "points.csv", "targets": ["label"],
                                         "features": ["x1", "x2"]}
    # saved elsewhere, the reference follows the file
    (tmp_path / "saved").mkdir()
    save(p, tmp_path / "saved" / "copy.json")
    saved = json.loads((tmp_path / "saved" / "copy.json").read_text(encoding="utf-8"))
    assert saved["data"]["csv"] == "../course/points.csv"
    _same_dataset(data.build(load(tmp_path / "saved" / "copy.json").data), ds)


def test_a_bad_csv_row_names_line_and_column_and_loads_nothing(tmp_path):
    from backprop_lab.engine.project import ProjectError, load

    path = _csv_project(tmp_path, POINTS.replace("0.1,0.2,1", "0.1,zero,1"))
    with pytest.raises(ProjectError) as e:
        load(path)
    assert str(e.value) == (f"{path}: points.csv, line 6, column 'y': 'zero' is not a number")
    (tmp_path / "points.csv").unlink()
    with pytest.raises(ProjectError, match="points.csv: cannot read the file"):
        load(path)


@pytest.mark.parametrize("d, message", [
    ({"csv": "p.csv", "dataset": "xor"}, "data.csv cannot go with data.dataset"),
    ({"csv": "p.csv", "samples": 10}, "data.csv cannot go with data.samples"),
    ({"csv": "p.csv", "input_names": ["a", "b"]}, "data.csv cannot go with data.input_names"),
    ({"csv": ""}, "data.csv must be the path of a CSV file"),
    ({"csv": 3}, "data.csv must be the path of a CSV file"),
    ({"csv": "p.csv", "targets": [[0]]}, "must be a list of column names"),
    ({"csv": "p.csv", "targets": ["a", "a"]}, "names a column twice"),
    ({"csv": "p.csv", "test_fraction": 1.5}, "data.test_fraction must be a number from 0"),
])
def test_bad_csv_references_are_named(d, message):
    with pytest.raises(ValueError, match=message):
        data.spec_from_dict(d)


def test_csv_spec_checks_the_file_now(tmp_path):
    (tmp_path / "points.csv").write_text(POINTS, encoding="utf-8")
    spec = data.csv_spec(tmp_path / "points.csv", ["label"], test_fraction=0.4)
    ds = data.build(spec)
    assert len(ds.y_train) == 3 and len(ds.y_test) == 2
    assert data.csv_spec(tmp_path / "points.csv").csv_targets is None  # the last column
    (tmp_path / "bad.csv").write_text("a,b\n1,x\n", encoding="utf-8")
    with pytest.raises(CsvError, match="bad.csv, line 2, column 'b'"):
        data.csv_spec(tmp_path / "bad.csv")
    edited = data.add_point(spec, (0, 0), 1)  # a CSV's rows become inline; the file stays
    assert edited.csv is None and len(edited.inputs) == 4
    assert (tmp_path / "points.csv").read_text(encoding="utf-8") == POINTS


def test_overrides_switch_between_csv_and_generated_data(tmp_path):
    from backprop_lab.engine.project import apply_overrides, from_dict

    path = _csv_project(tmp_path)
    d = json.loads(path.read_text(encoding="utf-8"))
    gen = apply_overrides(d, ["data.dataset=circle"])
    assert gen["data"] == {"dataset": "circle"}
    back = apply_overrides(gen, [f"data.csv={tmp_path / 'points.csv'}",
                                 'data.targets=["label"]'])
    assert set(back["data"]) == {"csv", "targets"}
    assert from_dict(back).data.csv_targets == ("label",)


# -- what is at the path, and how big ----------------------------------------------------------
def test_read_csv_refuses_devices_pipes_folders_and_huge_files(tmp_path):
    import threading

    with pytest.raises(CsvError, match=r"^zero: cannot read the file \(not a regular file"):
        data.read_csv("/dev/zero")
    with pytest.raises(CsvError, match=r"a folder, not a file"):
        data.read_csv(tmp_path)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    errors = []

    def read():
        try:
            data.read_csv(fifo)
        except CsvError as e:
            errors.append(str(e))

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "reading a FIFO blocked"
    assert errors and "not a regular file" in errors[0]
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:  # sparse: nothing is written or read
        f.truncate(data.MAX_FILE_BYTES + 1)
    with pytest.raises(CsvError, match=r"big.csv: cannot read the file \(too large"):
        data.read_csv(big)


def test_read_input_file_reads_at_most_the_limit(tmp_path):
    f = tmp_path / "f.txt"
    f.write_bytes(b"x" * 100)
    assert data.read_input_file(f, 100) == b"x" * 100
    with pytest.raises(data.FileProblem, match="too large"):
        data.read_input_file(f, 99)


# -- data that cannot be trained on -------------------------------------------------------------
@pytest.mark.parametrize("d, message", [
    ({"inputs": [[0.0], [1e300]], "targets": [[0.0], [1.0]]},
     r"data\.inputs\[1\]\[0\] is 1e\+300: too large for training"),
    ({"inputs": [[0.0], [1.0]], "targets": [[0.0], [-2e100]]},
     r"data\.targets\[1\]\[0\] is -2e\+100: too large for training"),
    ({"inputs": [[0.0], [1e200]], "targets": [[0.0], [1.0]], "normalize": True},
     r"data\.inputs\[1\]\[0\] is 1e\+200: too large"),
    ({"dataset": "circle", "noise": 1e300},
     r"data: input 'X1' holds values up to .*e\+300, too large for training .*lower data\.noise"),
    ({"dataset": "plane", "noise": 1e200, "normalize": True},
     r"data: target 'D0' holds values up to .*lower data\.noise"),
])
def test_data_too_large_for_training_is_named_when_built(d, message):
    with pytest.raises(data.DataError, match=message) as e:
        data.build(data.spec_from_dict(d))
    assert "learning rate" not in str(e.value)
    assert isinstance(e.value, ValueError)


def test_the_largest_values_allowed_build_and_normalise():
    m = data.MAX_MAGNITUDE
    spec = data.spec_from_dict({"inputs": [[m], [-m], [0.0], [m]], "targets": [[m], [0.0],
                                                                              [-m], [1.0]],
                                "normalize": True})
    ds = data.build(spec)
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.normalization.std).all()


def test_check_finite_names_the_column_of_a_dataset_made_elsewhere():
    ok = data.build(data.spec_from_dict({"dataset": "xor"}))
    data.check_finite(ok)
    bad = data.Dataset(np.array([[0.0, np.inf], [1.0, 2.0]]), np.zeros((2, 1)),
                       np.zeros((0, 2)), np.zeros((0, 1)), ("a", "b"), ("t",),
                       "classification")
    with pytest.raises(data.DataError, match="input 'b' holds NaN or infinite values"):
        data.check_finite(bad)
    with np.errstate(all="ignore"):
        norm = data.Normalization.fit(np.array([[1e308], [-1e308], [1e308]]))
    overflowed = data.Dataset(np.zeros((3, 1)), np.zeros((3, 1)), np.zeros((0, 1)),
                              np.zeros((0, 1)), ("big",), ("t",), "classification", norm)
    with pytest.raises(data.DataError, match="normalising input 'big' overflows"):
        data.check_finite(overflowed)


def test_too_many_inline_values_are_refused_before_converting():
    n = data.MAX_DATA_VALUES // 2 + 1
    d = {"inputs": [[0.0]] * n, "targets": [[0.0]] * n}
    with pytest.raises(data.DataError, match=f"data holds {2 * n:,} values; at most"):
        data.spec_from_dict(d)
    with pytest.raises(data.DataError, match="data.inputs holds"):
        data.spec_from_dict({"inputs": [[0.0] * 1000] * 401, "targets": [[0.0]] * 401})


def test_long_values_are_echoed_short():
    for d in ({"dataset": "x" * 5125}, {"dataset": "circle", "samples": "9" * 5125},
              {"inputs": "v" * 5125, "targets": [[1]]}, {"x" * 5125: 1, "dataset": "xor"},
              {"dataset": "xor", "input_names": ["n" * 5125]}):
        with pytest.raises(ValueError) as e:
            data.spec_from_dict(d)
        assert len(str(e.value)) < 300, str(e.value)[:300]
