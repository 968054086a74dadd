"""The parameter panel's data group: input features toggled one by one (the input layer
follows, the project stores them) and Regenerate (new points, the next data seed)."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore
from tests.helpers import settle

from backprop_lab.engine import features as features_mod
from backprop_lab.engine.project import load


def test_feature_boxes_change_the_input_layer_and_are_saved(window, qtbot, tmp_path):
    s = window.session
    s.load_preset("circle")
    settle(s)
    group = window.param_dock.data_group
    boxes = group.feature_checks
    assert group.features_box.isEnabled()
    assert [n for n, b in boxes.items() if b.isChecked()] == ["x1", "x2"]
    assert s.network.layers[0] == 2
    qtbot.mouseClick(boxes["x1^2"], QtCore.Qt.LeftButton)
    qtbot.mouseClick(boxes["x2^2"], QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: s.network.layers[0] == 4, timeout=10_000)
    settle(s)
    assert tuple(s.data_spec.features) == ("x1", "x2", "x1^2", "x2^2")
    # the network's inputs are the features of the raw points
    np.testing.assert_array_equal(
        s.dataset.x_train[:, 2], s.dataset.raw_train[:, 0] ** 2)
    qtbot.mouseClick(boxes["x1"], QtCore.Qt.LeftButton)  # off: three inputs
    qtbot.waitUntil(lambda: s.network.layers[0] == 3, timeout=10_000)
    settle(s)
    path = tmp_path / "features.json"
    s.save_project(path)
    assert list(load(path).data.features) == ["x2", "x1^2", "x2^2"]


def test_the_last_feature_cannot_be_switched_off(window, qtbot):
    s = window.session
    s.load_preset("circle")
    settle(s)
    boxes = window.param_dock.data_group.feature_checks
    qtbot.mouseClick(boxes["x1"], QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: s.network.layers[0] == 1, timeout=10_000)
    settle(s)
    qtbot.mouseClick(boxes["x2"], QtCore.Qt.LeftButton)  # the only one left
    assert boxes["x2"].isChecked()
    assert tuple(s.data_spec.features) == ("x2",) and s.network.layers[0] == 1
    assert set(features_mod.FEATURES) == set(boxes)


def test_regenerate_draws_new_points_with_the_next_seed(window, qtbot):
    s = window.session
    s.load_preset("circle")
    settle(s)
    button = window.param_dock.data_group.regenerate_button
    assert button.isEnabled()
    seed, before = s.data_spec.seed, s.dataset.raw_train.copy()
    qtbot.mouseClick(button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: s.data_spec.seed == seed + 1, timeout=10_000)
    settle(s)
    assert s.dataset.raw_train.shape == before.shape
    assert not np.array_equal(s.dataset.raw_train, before)
    assert s.epoch == 0
    s.load_preset("article-xor")  # a truth table: nothing to regenerate
    settle(s)
    assert not button.isEnabled()


def test_the_canvas_says_which_feature_each_input_carries(window, qtbot):
    s = window.session
    s.load_preset("circle-features")  # x1² and x2²
    settle(s)
    canvas = window.canvas
    qtbot.waitUntil(lambda: canvas.input_labels() == ("x1²", "x2²"), timeout=10_000)
    legend = [text for _colour, text in canvas._legend(False)]
    assert "inputs: X1 = x1², X2 = x2²" in legend
    boxes = window.param_dock.data_group.feature_checks
    qtbot.mouseClick(boxes["x1*x2"], QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: canvas.input_labels() == ("x1²", "x2²", "x1·x2"),
                    timeout=10_000)
    s.load_preset("circle")  # the raw inputs: nothing to say
    qtbot.waitUntil(lambda: canvas.input_labels() == (), timeout=10_000)
