"""Unit maps on the canvas: small images inside the units, given by the data dock."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from tests.conftest import end_session
from tests.helpers import settle

from backprop_lab.controller.clients import ClientFactory
from backprop_lab.controller.session import Session
from backprop_lab.ui.canvas import NetworkCanvas
from backprop_lab.ui.docks.data_dock import DataDock
from backprop_lab.ui.presenter import canvas_data


@pytest.fixture
def pair(qtbot):
    """A canvas and a data dock on one session, wired as the window wires them."""
    s = Session(factory=ClientFactory("thread"), start_delay_ms=0)
    win = QtWidgets.QMainWindow()
    qtbot.addWidget(win)
    canvas = NetworkCanvas(win)
    win.setCentralWidget(canvas)
    dock = DataDock(s, parent=win)
    win.addDockWidget(QtCore.Qt.RightDockWidgetArea, dock)
    dock.unit_maps_changed.connect(canvas.set_unit_maps)

    def render(*_):
        canvas.set_data(canvas_data(s.trace()))

    s.snapshot_changed.connect(render)
    s.structure_changed.connect(render)
    render()
    win.resize(1400, 800)
    win.show()
    qtbot.waitExposed(win)
    yield s, canvas, dock
    win.close()
    end_session(qtbot, s)


def centre_colour(canvas: NetworkCanvas, layer: int, unit: int) -> QtGui.QColor:
    """The colour inside a unit, halfway down from its centre (clear of its name)."""
    img = canvas.viewport().grab().toImage()
    rect = {u: r for u, r, _ in canvas.unit_shapes()}[(layer, unit)]
    c = canvas.unit_center(layer, unit)
    p = canvas.mapFromScene(QtCore.QPointF(c.x(), c.y() + 0.6 * rect.height() / 2))
    return img.pixelColor(p)


def test_maps_are_drawn_inside_the_units(qtbot):
    canvas = NetworkCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(1000, 700)
    canvas.show()
    qtbot.waitExposed(canvas)
    from tests.ui.test_canvas import random_data

    canvas.set_data(random_data((2, 4, 1)))
    red = np.zeros((20, 20, 3), np.uint8)
    red[..., 0] = 255
    green = np.zeros((20, 20, 3), np.uint8)
    green[..., 1] = 200
    canvas.set_unit_maps({(1, 2): red, (2, 0): green, (1, -1): red, (7, 0): green})
    qtbot.wait(20)
    assert centre_colour(canvas, 1, 2).name() == "#ff0000"
    assert centre_colour(canvas, 2, 0).name() == "#00c800"
    assert centre_colour(canvas, 1, 1).name() not in ("#ff0000", "#00c800")
    assert set(canvas.unit_maps()) == {(1, 2), (2, 0), (1, -1), (7, 0)}  # as given
    assert any("input plane" in text for _, text in canvas._state.legend)
    canvas.set_unit_maps(None)
    qtbot.wait(20)
    assert centre_colour(canvas, 1, 2).name() != "#ff0000"
    assert not any("input plane" in text for _, text in canvas._state.legend)
    with pytest.raises(ValueError, match="shape"):
        canvas.set_unit_maps({(1, 0): np.zeros((4, 4))})


def test_the_toggle_draws_a_map_in_every_unit(qtbot, pair):
    s, canvas, dock = pair
    s.load_preset("spiral")
    assert canvas.unit_maps() == {}
    dock.unit_maps_check.setChecked(True)
    assert dock.unit_maps_action.isChecked()
    maps = canvas.unit_maps()
    hidden = {(l, u) for l in (1, 2, 3) for u in range(8)}
    assert hidden <= set(maps) and len(hidden) == 24
    assert set(maps) == hidden | {(0, 0), (0, 1), (4, 0)}
    # each hidden unit's image is its activation over the plane (as the canvas fills:
    # blue where z > 0, orange where z < 0)
    z = dock.maps.unit(2, 5)
    rows, cols = dock._unit_window()
    sub = z[rows, cols]
    img = maps[(2, 5)].astype(int)
    assert img.shape == sub.shape + (3,)
    pos, neg = sub > 0.2, sub < -0.2
    assert (img[pos, 2] > img[pos, 0]).all() and (img[neg, 0] > img[neg, 2]).all()
    qtbot.wait(20)
    colour = centre_colour(canvas, 2, 5)
    assert colour.name() != canvas.background_color().name()
    # live: new weights, new maps
    before = maps[(1, 0)].copy()
    s.step_epochs(50)
    settle(s, 60_000)
    dock.refresh()
    assert not np.array_equal(canvas.unit_maps()[(1, 0)], before)
    dock.unit_maps_action.setChecked(False)
    assert canvas.unit_maps() == {} and not dock.unit_maps_check.isChecked()


def test_unit_maps_follow_a_new_shape_and_run_with_the_dock_hidden(qtbot, pair):
    s, canvas, dock = pair
    dock.set_unit_maps(True)
    assert set(canvas.unit_maps()) == {(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 0)}
    dock.hide()
    s.set_structure([2, 5, 1])
    s.step_epochs(1)
    settle(s)
    dock.refresh()
    assert {k for k in canvas.unit_maps() if k[0] == 1} == {(1, u) for u in range(5)}
