"""Teach the article's example from the window alone: the lesson driven by the clicker
keys, with the canvas and the formula panel checked against the engine at each step."""

import numpy as np
import pytest
from PySide6 import QtCore
from tests.helpers import settle, wait_lesson

from backprop_lab.engine import data, presets
from backprop_lab.engine.names import WeightRef
from backprop_lab.engine.trace import trace_step


@pytest.fixture
def engine_trace():
    p = presets.load_preset("article-xor")
    ds = data.build(p.data)
    return trace_step(p.network, p.training, ds.x_train[:1], ds.y_train[:1])


def clicker(qtbot, window, n=1, key=QtCore.Qt.Key_PageDown):
    for _ in range(n):
        qtbot.keyClick(window.canvas, key)
    wait_lesson(qtbot, window.lesson_player)
    settle(window.session)


def canvas_values(window):
    QtCore.QCoreApplication.processEvents()
    d = window.canvas.data()
    return d, window.canvas.label_texts()


def test_the_article_lesson_in_the_window(window, qtbot, engine_trace):
    t = engine_trace
    window.start_lesson("01-article-xor")
    wait_lesson(qtbot, window.lesson_player)
    assert window.lesson_dock.isVisible()
    d, labels = canvas_values(window)
    assert d.caption.startswith("Start")
    # nothing is computed yet beyond the inputs

    assert np.isnan(d.a[0]).all() and "\u03b4 = ?" in labels

    clicker(qtbot, window)  # forward into Z
    d, labels = canvas_values(window)
    np.testing.assert_array_equal(d.a[0], t.a[0][0])
    np.testing.assert_array_equal(d.z[1], t.z[1][0])
    assert np.isnan(d.a[1]).all()  # D0 not yet
    assert (0, 0, -1) in d.highlight_weights
    window.formula_dock.show_unit(1, 0)  # Z1
    text = window.formula_dock.text()
    assert "a_Z1 = W10*X0 + W11*X1 + W12*X2 = 1*1 + 1*0 + 1*0 = 1" in text
    assert "not computed yet" in text  # its delta comes later

    clicker(qtbot, window)  # forward into D0
    d, labels = canvas_values(window)
    assert d.z[2][0] == t.z[2][0, 0] == 4.0
    assert "z = 4" in labels

    clicker(qtbot, window, 2)  # loss, output delta
    d, labels = canvas_values(window)
    assert d.deltas[1][0] == t.deltas[1][0, 0] == 4.0
    assert np.isnan(d.deltas[0]).all()

    clicker(qtbot, window)  # hidden deltas
    d, labels = canvas_values(window)
    np.testing.assert_array_equal(d.deltas[0], [4.0, 4.0, 4.0])
    window.formula_dock.show_unit(1, 0)
    assert "delta_Z1 = V01 * delta_D0 * f'(a_Z1) = 1 * 4 * 1 = 4" in window.formula_dock.text()

    clicker(qtbot, window)  # the update
    d, labels = canvas_values(window)
    np.testing.assert_allclose(d.biases[0], 0.6)
    np.testing.assert_array_equal(d.weights[0], 1.0)
    np.testing.assert_allclose(d.weights[1], 0.6)
    assert "0.6" in labels
    window.formula_dock.show_weight(WeightRef(0, 0, -1))
    assert "W10 := W10 - alpha * X0 * delta_Z1 = 1 - 0.1 * 1 * 4 = 0.6" in \
        window.formula_dock.text()
    table = window.lesson_dock.compare_table
    cells = [[table.item(r, c).text() for c in range(table.columnCount())]
             for r in range(table.rowCount())]
    assert any("1.4" in row[1] and "0.6" in row[2] for row in cells)
    # the engine holds the corrected weights
    np.testing.assert_allclose(window.session.network.biases[0], 0.6)

    # Back (the clicker's other button) restores the weights exactly
    clicker(qtbot, window, key=QtCore.Qt.Key_PageUp)
    assert np.all(window.session.params == 1.0)
    clicker(qtbot, window)
    np.testing.assert_allclose(window.session.network.biases[0], 0.6)


def test_the_linear_floor_and_symmetry_steps(window, qtbot):
    window.start_lesson("01-article-xor")
    window.lesson_player.go(9)
    wait_lesson(qtbot, window.lesson_player)
    assert window.session.snapshot.train_loss == pytest.approx(0.125, abs=1e-6)
    window.lesson_player.go(13)
    wait_lesson(qtbot, window.lesson_player)
    w = window.session.network.weights[0]
    assert np.array_equal(w[0], w[1]) and np.array_equal(w[1], w[2])
