"""The data dock: points over the network's output, clicks as samples and edits, metrics."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from tests.conftest import end_session
from tests.helpers import settle

from backprop_lab.controller.clients import ClientFactory
from backprop_lab.controller.data_edits import PointEditor
from backprop_lab.controller.session import Session
from backprop_lab.controller.undo import UndoHistory
from backprop_lab.engine import data as data_mod
from backprop_lab.engine import grid as grid_mod
from backprop_lab.engine import losses, metrics, presets
from backprop_lab.ui.docks.data_dock import (
    CELLS,
    FLAT_STRENGTH,
    HEAT_STRENGTH,
    REDRAW_MS,
    DataDock,
    contour_segments,
    diverging_lut,
    signed_index,
)

LEFT, RIGHT = QtCore.Qt.LeftButton, QtCore.Qt.RightButton


def _show(qtbot, session, editor=None) -> DataDock:
    d = DataDock(session, editor)
    qtbot.addWidget(d)
    d.resize(640, 620)
    d.show()
    qtbot.waitExposed(d)
    qtbot.wait(60)  # the dock's layout settles (the plot keeps one scale on both axes)
    return d


@pytest.fixture
def thread_session(qtbot):
    s = Session(factory=ClientFactory("thread"), start_delay_ms=0)
    yield s
    end_session(qtbot, s)


def trained(session, preset: str, epochs: int):
    session.load_preset(preset)
    session.step_epochs(epochs)
    settle(session, 120_000)


def click(qtbot, dock: DataDock, x: float, y: float, button=LEFT,
          modifier=QtCore.Qt.NoModifier) -> None:
    qtbot.mouseClick(dock.plot_widget.viewport(), button, modifier, dock.view_position(x, y))


def drag(qtbot, widget: QtWidgets.QWidget, start: QtCore.QPoint, end: QtCore.QPoint) -> None:
    """Press, move with the button held (QTest's moves carry no buttons), release; a
    person's pace (pyqtgraph drops moves that come faster than 60 a second)."""
    def send(kind, pos, buttons):
        p = QtCore.QPointF(pos)
        ev = QtGui.QMouseEvent(kind, p, widget.mapToGlobal(p), LEFT, buttons,
                               QtCore.Qt.NoModifier)
        QtWidgets.QApplication.sendEvent(widget, ev)

    send(QtCore.QEvent.MouseButtonPress, start, LEFT)
    for t in np.linspace(0, 1, 8):
        qtbot.wait(25)
        send(QtCore.QEvent.MouseMove, start + (end - start) * float(t), LEFT)
    send(QtCore.QEvent.MouseButtonRelease, end, QtCore.Qt.NoButton)


def test_clicking_adds_a_point_and_undo_removes_it(qtbot, session):
    history = UndoHistory(session)
    dock = _show(qtbot, session, PointEditor(session, history))
    params = session.params.copy()
    assert dock.train_points.data.size == 4
    click(qtbot, dock, 0.5, 0.25)
    ds = session.dataset
    assert len(ds.x_train) == 5 and ds.y_train[4].tolist() == [1.0]
    pixel = dock._pixel()
    assert abs(ds.raw_train[4][0] - 0.5) < 2 * pixel and abs(ds.raw_train[4][1] - 0.25) < 2 * pixel
    assert dock.train_points.data.size == 5
    assert np.array_equal(session.params, params)  # only the points changed
    click(qtbot, dock, 0.25, 0.5, RIGHT)
    assert len(session.dataset.x_train) == 6 and session.dataset.y_train[5].tolist() == [0.0]
    assert history.undo_text == "Add point"
    history.undo()
    history.undo()
    assert len(session.dataset.x_train) == 4 and dock.train_points.data.size == 4
    history.redo()
    assert len(session.dataset.x_train) == 5 and dock.train_points.data.size == 5
    history.deleteLater()


def test_shift_click_deletes_the_nearest_point_and_a_point_can_be_dragged(qtbot, thread_session):
    s = thread_session
    dock = _show(qtbot, s)
    pixel = dock._pixel()
    click(qtbot, dock, 1.0 + 5 * pixel, 1.0, LEFT, QtCore.Qt.ShiftModifier)
    assert s.dataset.raw_train.tolist() == [[0, 0], [0, 1], [1, 0]]
    click(qtbot, dock, 0.5, 0.5, LEFT, QtCore.Qt.ShiftModifier)  # no point there
    assert len(s.dataset.x_train) == 3 and "none here" in dock.readout_label.text()
    drag(qtbot, dock.plot_widget.viewport(), dock.point_position("train", 1),
         dock.view_position(0.4, 0.8))
    moved = s.dataset.raw_train[1]
    assert abs(moved[0] - 0.4) < 2 * pixel and abs(moved[1] - 0.8) < 2 * pixel
    assert s.dataset.y_train[1].tolist() == [1.0]  # a moved point keeps its class


def test_clicking_a_point_selects_the_sample_everywhere(qtbot, window):
    """Wired as the window will be: the toolbar's Sample box, the canvas and the formula
    panel follow the session's selection."""
    s = window.session
    dock = DataDock(s, PointEditor(s, window.undo_history), window)
    window.addDockWidget(QtCore.Qt.RightDockWidgetArea, dock)
    dock.show()
    qtbot.waitExposed(dock)
    QtWidgets.QApplication.processEvents()
    click(qtbot, dock, 1.0, 0.0)  # sample 3: (1, 0) -> 1
    assert s.selected_sample == 2
    assert window.sample_spin.value() == 3
    z0 = window.canvas.data().z[0]
    assert z0.tolist() == [1.0, 0.0]
    assert dock.selected_point.data["x"][0] == 1.0 and dock.selected_point.data["y"][0] == 0.0
    assert len(s.dataset.x_train) == 4  # selecting adds nothing
    window.sample_spin.setValue(2)  # and the other way round
    assert dock.selected_point.data["x"][0] == 0.0 and dock.selected_point.data["y"][0] == 1.0


def test_hover_shows_inputs_target_output_and_loss(qtbot, thread_session):
    s = thread_session
    trained(s, "circle", 20)
    dock = _show(qtbot, s)
    ds = s.dataset
    i = 7
    qtbot.mouseMove(dock.plot_widget.viewport(), dock.point_position("train", i))
    text = dock.readout_label.text()
    net = s.network
    cache = net.forward(ds.x_train[i:i + 1])
    loss = losses.per_sample(s.config.loss, cache.a[-1], cache.z[-1], ds.y_train[i:i + 1])[0]
    x1, x2 = ds.raw_train[i]
    assert text.startswith(f"Training sample {i + 1}: X1 = {x1:.3g}".replace("-", "\u2212"))
    assert f"target class {int(ds.y_train[i, 0])}" in text
    assert f"output {cache.output[0, 0]:.3g}".replace("-", "\u2212") in text
    assert f"loss {loss:.3g}".replace("-", "\u2212") in text
    # empty space: the output there
    text = dock.describe(1.0, 1.0)
    out = net.predict(ds.inputs_from_raw(np.array([[1.0, 1.0]])))[0, 0]
    assert text.startswith("X1 = 1, X2 = 1: output") and f"{out:.3g}" in text


def test_heatmap_equals_the_engine_forward_pass(qtbot, thread_session):
    s = thread_session
    trained(s, "spiral", 30)
    dock = _show(qtbot, s)
    dock.refresh(force=True)
    g = dock.grid
    assert g.shape == (CELLS, CELLS)
    ds = s.dataset
    (x0, x1), (y0, y1) = g.x_range, g.y_range
    assert x0 < ds.raw_train[:, 0].min() and x1 > ds.raw_train[:, 0].max()
    assert y0 < ds.raw_train[:, 1].min() and y1 > ds.raw_train[:, 1].max()
    same = grid_mod.plane(ds, CELLS, bounds=(g.x_range, g.y_range))
    assert np.array_equal(same.inputs, g.inputs)
    expected = s.network.predict(g.inputs)[:, 0].reshape(g.shape)
    assert np.array_equal(dock.values, expected)
    rgb = dock.image_rgb()
    assert rgb.shape == (CELLS, CELLS, 3)
    assert np.array_equal(rgb, diverging_lut(HEAT_STRENGTH)[signed_index(2 * expected - 1)])
    # axes in data units: the picture covers the grid
    r = dock.image.mapRectToParent(dock.image.boundingRect())
    assert (r.left(), r.top(), r.width(), r.height()) == pytest.approx(g.rect)
    # row 0 is the bottom of the plane: where the output is high, the picture is blue
    iy, ix = np.unravel_index(np.argmax(expected), expected.shape)
    assert rgb[iy, ix, 2] > rgb[iy, ix, 0]


def test_the_picture_follows_training(qtbot, session):
    session.load_preset("circle")
    dock = _show(qtbot, session)
    before = dock.values.copy()
    session.play()
    qtbot.waitUntil(lambda: session.epoch >= 20, timeout=30_000)
    qtbot.waitUntil(lambda: not np.array_equal(dock.values, before), timeout=10_000)
    session.pause()
    settle(session)
    dock.refresh()  # the newest weights, if the last redraw was of an older snapshot
    expected = session.network.predict(dock.grid.inputs)[:, 0].reshape(dock.grid.shape)
    assert np.array_equal(dock.values, expected)


def test_discretise_draws_the_decision_boundary(qtbot, thread_session):
    s = thread_session
    trained(s, "xor-tanh", 300)
    dock = _show(qtbot, s)
    dock.discrete_check.setChecked(True)
    assert dock.boundary.isVisible()
    x, y = dock.boundary.getData()
    assert len(x) >= 20
    net, ds = s.network, s.dataset
    out = net.predict(ds.inputs_from_raw(np.column_stack([x, y])))[:, 0]
    g = dock.grid
    # on the boundary the output is 0.5, up to the interpolation inside one cell
    step = max(g.xs[1] - g.xs[0], g.ys[1] - g.ys[0])
    slope = np.abs(np.gradient(dock.values, g.ys, g.xs)).max()
    assert np.abs(out - 0.5).max() < slope * step
    rgb = dock.image_rgb()
    assert len({tuple(c) for c in rgb.reshape(-1, 3).tolist()}) == 2  # flat regions
    flat = diverging_lut(FLAT_STRENGTH)
    assert {tuple(c) for c in rgb.reshape(-1, 3).tolist()} == {
        tuple(flat[0].tolist()), tuple(flat[-1].tolist())}
    dock.discrete_check.setChecked(False)
    assert not dock.boundary.isVisible()


def test_contour_segments_of_a_plane():
    xs = np.linspace(-1, 1, 21)
    ys = np.linspace(-1, 1, 11)
    f = xs[None, :] + 0 * ys[:, None]  # f = x: the curve f = 0.25 is the line x = 0.25
    segs = contour_segments(f, xs, ys, 0.25)
    assert len(segs) == len(ys) - 1
    assert np.allclose(segs[:, [0, 2]], 0.25)
    assert segs[:, [1, 3]].min() == -1 and segs[:, [1, 3]].max() == 1
    saddle = np.array([[1.0, -1.0], [-1.0, 1.0]])
    assert len(contour_segments(saddle, np.array([0.0, 1.0]), np.array([0.0, 1.0]), 0)) == 2


def test_three_classes_show_class_colours_accuracy_and_confusion(qtbot, thread_session):
    s = thread_session
    trained(s, "three-class", 40)
    dock = _show(qtbot, s)
    assert dock.mode == "classes"
    m = metrics.evaluate(s.network, s.dataset)
    assert dock.metrics() == m
    text = dock.metrics_label.text()
    assert text == (f"Accuracy: train {100 * m['train']['accuracy']:.1f}% \u00b7 test "
                    f"{100 * m['test']['accuracy']:.1f}%")
    assert dock.confusion_label.isVisible()
    table = dock.confusion_label.text()
    for row in m["train"]["confusion"]:
        for n in row:
            assert f">{n}</td>" in table
    assert sum(map(sum, m["train"]["confusion"])) == len(s.dataset.x_train)
    # one colour per class: the winning class's hue in every cell
    winner, _ = dock.maps.classes()
    rgb = dock.image_rgb().astype(float)
    blue = rgb[winner == 1]
    assert (blue[:, 2] >= blue[:, 0]).all()
    orange = rgb[winner == 0]
    assert (orange[:, 0] >= orange[:, 2]).all()
    assert dock.class_combo.isVisible() and dock.class_combo.count() == 3
    assert not dock.color_bar.isVisible()


def test_regression_shows_r2_rmse_and_a_colour_bar(qtbot, thread_session):
    s = thread_session
    trained(s, "regression", 40)
    dock = _show(qtbot, s)
    assert dock.mode == "regression"
    m = metrics.evaluate(s.network, s.dataset)
    text = dock.metrics_label.text()
    assert "R\u00b2: train" in text and "RMSE: train" in text
    assert f"R\u00b2: train {m['train']['r2']:.3f}".replace("-", "\u2212") in text
    assert f"RMSE: train {m['train']['rmse']:.3f} \u00b7 test {m['test']['rmse']:.3f}" in text
    y = np.vstack([s.dataset.y_train, s.dataset.y_test])
    assert dock.color_bar.isVisible()
    assert dock.color_bar.levels() == pytest.approx((y.min(), y.max()))
    assert not dock.confusion_label.isVisible()
    assert "the largest" in dock.readout_label.text()


def test_a_hidden_unit_shows_its_own_map(qtbot, thread_session):
    s = thread_session
    trained(s, "spiral", 10)
    dock = _show(qtbot, s)
    dock.follow_unit((2, 3))
    assert dock.shown_unit == (2, 3)
    z = s.network.forward(dock.grid.inputs).z[1][:, 3].reshape(dock.grid.shape)
    assert np.array_equal(dock.values, z)
    assert "Z2_4, tanh" in dock.caption_label.text()
    dock.follow_unit(None)
    assert dock.shown_unit is None and "Output D0" in dock.caption_label.text()
    dock.pin_unit(0, 1)  # an input: its values over the plane
    assert np.array_equal(dock.values, dock.grid.inputs[:, 1].reshape(dock.grid.shape))
    dock.follow_unit((1, 0))
    assert dock.shown_unit == (1, 0)
    dock.follow_unit(None)
    assert dock.shown_unit == (0, 1)  # back to the pinned unit
    assert dock.output_button.isVisible()
    dock.output_button.click()
    assert dock.shown_unit is None
    dock.pin_unit(1, -1)  # a bias unit has no map
    assert dock.shown_unit is None


def test_test_points_are_drawn_hollow_on_a_toggle(qtbot, thread_session):
    s = thread_session
    s.load_preset("circle")
    dock = _show(qtbot, s)
    assert not dock.test_points.isVisible()
    dock.test_check.setChecked(True)
    assert dock.test_points.isVisible()
    assert dock.test_points.data.size == len(s.dataset.x_test) == 60
    assert dock.test_points.opts["brush"].style() == QtCore.Qt.NoBrush  # hollow
    colours = {p.color().name() for p in dock.test_points.data["pen"]}
    assert colours == {"#e0650f", "#1e62b4"}  # the class colours, as the training points
    dock.test_check.setChecked(False)
    assert not dock.test_points.isVisible()


def test_data_without_two_raw_inputs_says_so(qtbot, thread_session):
    s = thread_session
    dock = _show(qtbot, s)
    s.set_data(data_mod.DataSpec(inputs=((0, 0, 1), (1, 0, 1), (0, 1, 0)),
                                 targets=((0,), (1,), (1,))))
    assert dock.stack.currentWidget() is dock.message_label
    assert "3 (X1, X2, X3)" in dock.message_label.text()
    s.load_preset("article-xor")
    assert dock.stack.currentWidget() is dock.plot_widget


def test_article_preset_shows_its_four_points(qtbot, thread_session):
    s = thread_session
    assert s.title and len(s.dataset.x_train) == 4
    dock = _show(qtbot, s)
    d = dock.train_points.data
    assert sorted(zip(d["x"].tolist(), d["y"].tolist())) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    # at epoch 0 every weight is 1: the output is at least 1 everywhere on the plane
    assert dock.values.min() >= 1.0 and "Accuracy: train 50.0%" in dock.metrics_label.text()
    p = presets.load_preset("article-xor")
    assert np.array_equal(dock.values, p.network.predict(dock.grid.inputs)[:, 0].reshape(
        dock.grid.shape))


def test_a_burst_of_snapshots_costs_few_redraws_and_draws_the_newest(qtbot, thread_session):
    s = thread_session
    s.load_preset("circle")
    dock = _show(qtbot, s)
    assert dock.interval_ms >= REDRAW_MS
    qtbot.wait(int(3 * dock.interval_ms))
    base = s.params.copy()
    redraws = dock.redraws
    t0 = time.perf_counter()
    for k in range(50):  # 50 snapshots in one go, as a busy UI would take them
        s.set_params(base * (1.0 + 0.01 * k), mark_dirty=False)
    # at most one redraw per interval (the loop's own duration depends on the machine)
    allowed = 1 + int((time.perf_counter() - t0) * 1000 / dock.interval_ms)
    assert dock.redraws - redraws <= allowed
    expected = s.network.predict(dock.grid.inputs)[:, 0].reshape(dock.grid.shape)
    qtbot.waitUntil(lambda: np.array_equal(dock.values, expected), timeout=5000)
    assert dock.redraws - redraws <= allowed + 1  # the newest weights, drawn last


def test_points_are_not_edited_while_editing_is_off(qtbot, thread_session):
    s = thread_session
    dock = _show(qtbot, s)
    dock.set_editable(False)
    assert "cannot be edited" in dock.readout_label.text()
    click(qtbot, dock, 0.5, 0.5)
    click(qtbot, dock, 1.0, 1.0, LEFT, QtCore.Qt.ShiftModifier)
    assert len(s.dataset.x_train) == 4
    click(qtbot, dock, 0.0, 1.0)  # selecting still works
    assert s.selected_sample == 1
    dock.set_editable(True)
    click(qtbot, dock, 0.5, 0.5)
    assert len(s.dataset.x_train) == 5
