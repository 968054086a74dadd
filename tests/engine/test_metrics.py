"""Tests for engine.metrics on cases worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from backprop_lab.engine import data, metrics, presets
from backprop_lab.engine.training import Trainer


def test_binary_accuracy_thresholds_at_one_half():
    y = [[0], [1], [1], [0], [1]]
    out = [[0.2], [0.5], [0.49], [0.7], [3.0]]  # right, right, wrong, wrong, right
    assert metrics.accuracy(y, out) == 0.6
    assert metrics.confusion_matrix(y, out) == [[1, 1], [1, 2]]


def test_multiclass_accuracy_and_confusion():
    eye = np.eye(3)
    y = eye[[0, 0, 1, 1, 2, 2, 2]]
    out = np.array([[0.8, 0.1, 0.1],   # 0 -> 0
                    [0.2, 0.7, 0.1],   # 0 -> 1
                    [0.1, 0.8, 0.1],   # 1 -> 1
                    [0.1, 0.2, 0.7],   # 1 -> 2
                    [0.3, 0.3, 0.4],   # 2 -> 2
                    [0.0, 0.1, 0.9],   # 2 -> 2
                    [0.6, 0.3, 0.1]])  # 2 -> 0
    assert metrics.accuracy(y, out) == pytest.approx(4 / 7)
    assert metrics.confusion_matrix(y, out) == [[1, 1, 0], [0, 1, 1], [1, 0, 2]]
    result = metrics.compute("classification", y, out)
    assert result == {"task": "classification", "samples": 7, "accuracy": 4 / 7,
                      "classes": 3, "confusion": [[1, 1, 0], [0, 1, 1], [1, 0, 2]]}
    json.dumps(result)


def test_several_labels_per_sample_are_scored_value_by_value():
    y = [[1, 1], [0, 1]]  # not one-hot
    out = [[0.9, 0.2], [0.1, 0.8]]
    assert metrics.accuracy(y, out) == 0.75
    assert "confusion" not in metrics.compute("classification", y, out)
    with pytest.raises(ValueError, match="one-hot"):
        metrics.confusion_matrix(y, out)


def test_r2_and_rmse_known_values():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert metrics.r2(y, y) == 1.0 and metrics.rmse(y, y) == 0.0
    assert metrics.r2(y, np.full(4, 2.5)) == 0.0  # predicting the mean
    # residuals 0.5, -0.5, 0.5, -0.5: SS_res = 1, SS_tot = 5
    out = y + [0.5, -0.5, 0.5, -0.5]
    assert metrics.r2(y, out) == pytest.approx(0.8)
    assert metrics.rmse(y, out) == 0.5
    assert metrics.r2(y, -y) == pytest.approx(1 - 120 / 5)  # worse than the mean: negative
    two = np.column_stack([y, 2 * y])  # R² averages over columns
    assert metrics.r2(two, np.column_stack([y, 2 * out])) == pytest.approx((1 + 0.8) / 2)


def test_undefined_metrics_are_none():
    assert metrics.r2([[2.0], [2.0]], [[1.0], [3.0]]) is None  # constant targets
    assert metrics.r2([[1.0]], [[1.0]]) is None
    assert metrics.accuracy(np.zeros((0, 1)), np.zeros((0, 1))) is None
    assert metrics.rmse(np.zeros((0, 1)), np.zeros((0, 1))) is None
    r = metrics.compute("regression", [[2.0], [2.0]], [[2.0], [2.0]])
    assert r == {"task": "regression", "samples": 2, "r2": None, "rmse": 0.0}
    json.dumps(r)


def test_shapes_must_match():
    with pytest.raises(ValueError, match="same shape"):
        metrics.accuracy([[0], [1]], [[0.1, 0.9], [0.2, 0.8]])
    with pytest.raises(ValueError, match="unknown task"):
        metrics.compute("ranking", [[0]], [[0]])


def test_evaluate_has_the_test_part_only_when_there_is_one():
    p = presets.load_preset("article-xor")
    ds = data.build(p.data)
    result = metrics.evaluate(p.network, ds)
    assert set(result) == {"train"}
    # the article's start: every weight 1, identity units, output 4 + 3 x1 + 3 x2 >= 0.5
    assert result["train"]["accuracy"] == 0.5
    assert result["train"]["confusion"] == [[0, 2], [0, 2]]


@pytest.mark.parametrize("name, key, good", [
    ("three-class", "accuracy", 0.9), ("regression", "r2", 0.8), ("circle", "accuracy", 0.9)])
def test_presets_train_and_their_metrics_show_it(name, key, good):
    p = presets.load_preset(name)
    ds = data.build(p.data)
    before = metrics.evaluate(p.network, ds)
    trainer = Trainer(p.network, p.training, ds.x_train, ds.y_train)
    for _ in range(300):
        trainer.run_epoch()
    after = metrics.evaluate(p.network, ds)
    assert set(after) == {"train", "test"}
    assert after["test"][key] > good and after["test"][key] > before["test"][key]
    if name == "three-class":
        m = after["test"]["confusion"]
        assert len(m) == 3 and sum(map(sum, m)) == len(ds.y_test)
        assert not math.isnan(after["train"]["accuracy"])
    if name == "regression":
        assert after["test"]["rmse"] < before["test"]["rmse"]
