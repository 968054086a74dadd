"""The node-link canvas: names, clicks, hover, tooltips, reflow, big nets, export."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from backprop_lab.engine.names import WeightRef  # noqa: E402
from backprop_lab.ui.canvas import CanvasData, NetworkCanvas  # noqa: E402

LEFT = QtCore.Qt.MouseButton.LeftButton


def article_data(weight: float = 1.0, **extra) -> CanvasData:
    """The article's 2-3-1 network (identity units), all weights ``weight``, on (0, 1)."""
    x = np.array([0.0, 1.0])
    w0, b0 = np.full((3, 2), weight), np.full(3, weight)
    w1, b1 = np.full((1, 3), weight), np.full(1, weight)
    a1 = w0 @ x + b0
    a2 = w1 @ a1 + b1
    return CanvasData(layers=(2, 3, 1), weights=(w0, w1), biases=(b0, b1),
                      activations=("identity", "identity"), a=(a1, a2), z=(x, a1, a2),
                      **extra)


def random_data(layers: tuple[int, ...], seed: int = 0, **extra) -> CanvasData:
    rng = np.random.default_rng(seed)
    pairs = list(zip(layers[:-1], layers[1:]))
    return CanvasData(
        layers=layers,
        weights=tuple(rng.normal(0, 1, (n, m)) for m, n in pairs),
        biases=tuple(rng.normal(0, 1, n) for _, n in pairs),
        activations=("tanh",) * (len(layers) - 2) + ("sigmoid",),
        z=tuple(np.tanh(rng.normal(0, 1, n)) for n in layers),
        a=tuple(rng.normal(0, 1, n) for n in layers[1:]), **extra)


@pytest.fixture
def canvas(qtbot):
    view = NetworkCanvas()
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.close()
    assert not any(w is view and w.isVisible() for w in QtWidgets.QApplication.topLevelWidgets())


def view_pos(view: NetworkCanvas, scene_point: QtCore.QPointF) -> QtCore.QPoint:
    return view.mapFromScene(scene_point)


def test_article_network_shows_article_unit_names(canvas):
    canvas.set_data(article_data())
    assert canvas.unit_names() == ["X0", "X1", "X2", "Z0", "Z1", "Z2", "Z3", "D0"]


def test_click_on_weight_w12_emits_its_ref(canvas, qtbot):
    canvas.set_data(article_data())
    mid = canvas.weight_segment(WeightRef(0, 0, 1)).center()
    with qtbot.waitSignal(canvas.weight_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(canvas.viewport(), LEFT, pos=view_pos(canvas, mid))
    assert blocker.args == [WeightRef(layer=0, target=0, source=1)]


def test_click_near_a_thin_line_still_hits_it(canvas, qtbot):
    canvas.set_data(article_data(weight=0.001))  # all equally thin
    line = canvas.weight_segment(WeightRef(1, 0, 2))  # V02: Z2 -> D0
    normal = line.normalVector().unitVector()
    off = QtCore.QPointF(normal.dx() * 3.5, normal.dy() * 3.5)
    with qtbot.waitSignal(canvas.weight_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(canvas.viewport(), LEFT, pos=view_pos(canvas, line.center() + off))
    assert blocker.args == [WeightRef(1, 0, 2)]


def test_click_on_units_emits_layer_and_unit(canvas, qtbot):
    canvas.set_data(article_data())
    with qtbot.waitSignal(canvas.unit_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(canvas.viewport(), LEFT, pos=view_pos(canvas, canvas.unit_center(1, 1)))
    assert blocker.args == [1, 1]
    with qtbot.waitSignal(canvas.unit_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(canvas.viewport(), LEFT, pos=view_pos(canvas, canvas.unit_center(0, -1)))
    assert blocker.args == [0, -1]


def test_click_on_empty_space_emits_nothing(canvas, qtbot):
    canvas.set_data(article_data())
    with qtbot.assertNotEmitted(canvas.weight_clicked), \
            qtbot.assertNotEmitted(canvas.unit_clicked):
        qtbot.mouseClick(canvas.viewport(), LEFT, pos=QtCore.QPoint(5, 790))


def test_tooltips_contain_exact_values(canvas, qtbot):
    w = 0.1234567891234
    grads = (np.full((3, 2), 1e-3 / 3), np.full((1, 3), 2.5e-7))
    data = article_data(weight=w, deltas=(np.full(3, 0.3333333333), np.full(1, -1.0 / 7)),
                        grad_weights=grads, grad_biases=(np.zeros(3), np.zeros(1)))
    canvas.set_data(data)
    tip = canvas.weight_tooltip(WeightRef(0, 0, 1))
    assert tip.startswith("W12: from X2 to Z1")
    assert repr(w) in tip and repr(1e-3 / 3) in tip
    assert "W10: bias weight, from X0 (bias) to Z1" in canvas.weight_tooltip(WeightRef(0, 0, -1))
    unit_tip = canvas.unit_tooltip(1, 0)
    assert unit_tip.startswith("Z1") and "identity" in unit_tip
    assert repr(float(data.a[0][0])) in unit_tip and repr(float(data.z[1][0])) in unit_tip
    assert repr(0.3333333333) in unit_tip
    assert "bias" in canvas.unit_tooltip(0, -1)
    # What the mouse sees is the same text, and the ToolTip event shows it.
    pos = view_pos(canvas, canvas.unit_center(2, 0))
    assert canvas.tooltip_at(pos) == canvas.unit_tooltip(2, 0)
    event = QtGui.QHelpEvent(QtCore.QEvent.Type.ToolTip, pos, canvas.viewport().mapToGlobal(pos))
    QtWidgets.QApplication.sendEvent(canvas.viewport(), event)
    assert "D0: unit of the output layer" in QtWidgets.QToolTip.text()
    QtWidgets.QToolTip.hideText()


def test_hover_emits_unit_and_weight(canvas, qtbot):
    canvas.set_data(article_data())
    with qtbot.waitSignal(canvas.unit_hovered, timeout=1000) as blocker:
        qtbot.mouseMove(canvas.viewport(), view_pos(canvas, canvas.unit_center(1, 2)))
    assert blocker.args == [(1, 2)]
    mid = canvas.weight_segment(WeightRef(1, 0, -1)).center()
    with qtbot.waitSignal(canvas.weight_hovered, timeout=1000) as blocker:
        qtbot.mouseMove(canvas.viewport(), view_pos(canvas, mid))
    assert blocker.args == [WeightRef(1, 0, -1)]


def test_weight_values_are_written_on_small_nets_only(canvas):
    canvas.set_data(article_data())
    assert canvas.label_texts().count("1") == 13
    canvas.set_show_weight_values(False)
    assert canvas.label_texts().count("1") == 0
    canvas.set_show_weight_values(True)
    canvas.set_data(random_data((2, 8, 8, 8, 1)))
    assert any("hover an edge" in n for n in canvas.notes())


def test_unit_values_and_deltas_toggle(canvas):
    data = article_data(deltas=(np.array([4.0, 4.0, 4.0]), np.array([7.0])))
    canvas.set_data(data)
    texts = canvas.label_texts()
    assert "a = 7" in texts and "z = 7" in texts and "\u03b4 = 7" in texts
    canvas.set_show_deltas(False)
    assert "\u03b4 = 7" not in canvas.label_texts()
    canvas.set_show_unit_values(False)
    assert "a = 7" not in canvas.label_texts()


def test_changing_layers_reflows(canvas):
    canvas.set_data(article_data())
    assert len(canvas.unit_names()) == 8
    canvas.set_data(random_data((2, 8, 8, 8, 1)))
    names = canvas.unit_names()
    assert len(names) == 3 + 3 * 9 + 1
    assert names[:4] == ["X0", "X1", "X2", "Z1_0"] and names[-1] == "D0"
    rect = canvas.sceneRect()
    for layer, unit in [(0, -1), (2, 7), (4, 0)]:
        assert rect.contains(canvas.unit_center(layer, unit))


def test_numbers_only_update_keeps_layout_and_items(canvas):
    canvas.set_data(random_data((2, 8, 8, 8, 1), seed=1))
    items = list(canvas.scene().items())
    where = canvas.unit_center(2, 3)
    canvas.set_data(random_data((2, 8, 8, 8, 1), seed=2))
    assert list(canvas.scene().items()) == items
    assert canvas.unit_center(2, 3) == where


def test_big_net_set_data_and_hit_test(canvas, qtbot):
    layers = (2, 64, 64, 64, 64, 1)
    canvas.set_data(random_data(layers, highlight_weights=frozenset({(2, 5, 7)}),
                                highlight_units=frozenset({(3, 10)})))
    assert len(canvas.unit_names()) == 3 + 4 * 65 + 1
    canvas.set_data(random_data(layers, seed=3))
    assert canvas.render_to_image().isNull() is False
    with qtbot.waitSignal(canvas.unit_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(canvas.viewport(), LEFT, pos=view_pos(canvas, canvas.unit_center(3, 10)))
    assert blocker.args == [3, 10]
    found = canvas.item_at(view_pos(canvas, canvas.weight_segment(WeightRef(4, 0, 20)).center()))
    assert isinstance(found, WeightRef) and found.layer == 4


def test_color_by_gradient_scale_contrast_and_zoom(canvas, qtbot):
    canvas.set_data(article_data())
    canvas.set_color_by("gradient")
    assert any("No gradients" in n for n in canvas.notes())
    grads = (np.ones((3, 2)), -np.ones((1, 3)))
    canvas.set_data(article_data(grad_weights=grads, grad_biases=(np.zeros(3), np.zeros(1))))
    assert not canvas.notes()
    with pytest.raises(ValueError):
        canvas.set_color_by("bogus")
    r1 = canvas.render_to_image()
    canvas.set_scale(1.5)
    canvas.set_high_contrast(True)
    assert canvas.render_to_image() != r1
    pos = view_pos(canvas, canvas.unit_center(1, 0))
    wheel = QtGui.QWheelEvent(QtCore.QPointF(pos), QtCore.QPointF(canvas.mapToGlobal(pos)),
                              QtCore.QPoint(), QtCore.QPoint(0, 240),
                              QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
                              QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(canvas.viewport(), wheel)
    assert canvas.transform().m11() > 1.2
    canvas.fit()
    assert canvas.transform().isIdentity()


def test_export_png_and_svg(canvas, tmp_path):
    canvas.set_data(article_data(caption="Forward: layer 1"))
    image = canvas.render_to_image(QtCore.QSize(800, 500))
    assert image.size() == QtCore.QSize(800, 500)
    assert canvas.save_png(tmp_path / "net.png")
    assert QtGui.QImage(str(tmp_path / "net.png")).width() > 0
    canvas.save_svg(tmp_path / "net.svg")
    svg = (tmp_path / "net.svg").read_text()
    assert "<svg" in svg and "Forward: layer 1" in svg


def test_bad_data_is_refused():
    with pytest.raises(ValueError):
        CanvasData(layers=(2, 3, 1), weights=(np.ones((3, 2)), np.ones((2, 3))),
                   biases=(np.ones(3), np.ones(1)), activations=("tanh", "identity"))


def test_values_not_computed_yet_show_as_a_question_mark(canvas):
    data = article_data(deltas=(np.full(3, np.nan), np.array([4.0])))
    canvas.set_data(data)
    texts = canvas.label_texts()
    assert "\u03b4 = ?" in texts and "\u03b4 = 4" in texts
