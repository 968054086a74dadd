"""The canvas on a lecture stage: labels that never collide, value boxes that fit,
text that grows with the window and with presentation mode, the loss node, batch
means, the dark theme, exports and slides."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import xml.etree.ElementTree as ET  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6 import QtCore, QtGui  # noqa: E402

from backprop_lab.engine.names import WeightRef  # noqa: E402
from backprop_lab.ui.canvas import CanvasData, NetworkCanvas  # noqa: E402
from backprop_lab.ui.canvas import labels as label_mod  # noqa: E402
from backprop_lab.ui.canvas.slide import render_slide, save_slide_png, save_slide_svg  # noqa: E402
from backprop_lab.ui.canvas.style import format_fixed  # noqa: E402


def article_data(weight: float = 1.0, **extra) -> CanvasData:
    """The article's 2-3-1 network (identity units), all weights ``weight``, on (0, 0)."""
    x = np.array([0.0, 0.0])
    w0, b0 = np.full((3, 2), weight), np.full(3, weight)
    w1, b1 = np.full((1, 3), weight), np.full(1, weight)
    a1 = w0 @ x + b0
    a2 = w1 @ a1 + b1
    return CanvasData(layers=(2, 3, 1), weights=(w0, w1), biases=(b0, b1),
                      activations=("identity", "identity"), a=(a1, a2), z=(x, a1, a2),
                      **extra)


def net_data(layers: tuple[int, ...], seed: int = 0, **extra) -> CanvasData:
    """A network with every number a lesson step shows: a, z, deltas, gradients, and a
    target/loss node unless told otherwise."""
    rng = np.random.default_rng(seed)
    pairs = list(zip(layers[:-1], layers[1:]))
    extra.setdefault("target", np.zeros(layers[-1]))
    extra.setdefault("loss", 0.1234)
    extra.setdefault("loss_label", "L for sample 1")
    weights = tuple(rng.normal(0, 1, (n, m)) for m, n in pairs)
    biases = tuple(rng.normal(0, 1, n) for _, n in pairs)
    return CanvasData(
        layers=layers, weights=weights, biases=biases,
        activations=("tanh",) * (len(layers) - 2) + ("sigmoid",),
        z=tuple(np.tanh(rng.normal(0, 1, n)) for n in layers),
        a=tuple(rng.normal(0, 1, n) for n in layers[1:]),
        deltas=tuple(rng.normal(0, 0.05, n) for n in layers[1:]),
        grad_weights=tuple(0.01 * w for w in weights),
        grad_biases=tuple(0.01 * b for b in biases), **extra)


def article_loss(**extra) -> CanvasData:
    extra.setdefault("target", np.array([0.0]))
    extra.setdefault("loss", 8.0)
    extra.setdefault("loss_label", "L for sample 1")
    return article_data(deltas=(np.full(3, 4.0), np.array([4.0])), **extra)


@pytest.fixture
def make_canvas(qtbot):
    """A shown canvas of a given viewport size."""
    made = []

    def make(width: int, height: int) -> NetworkCanvas:
        view = NetworkCanvas()
        qtbot.addWidget(view)
        view.resize(width, height)
        view.show()
        qtbot.waitExposed(view)
        made.append(view)
        return view

    yield make
    for view in made:
        view.close()


# -- geometry measured independently of the placement code --------------------------------
def _area(a: QtCore.QRectF, b: QtCore.QRectF) -> float:
    r = a.intersected(b)
    return max(r.width(), 0.0) * max(r.height(), 0.0) if r.isValid() else 0.0


def _circle_overlap(rect: QtCore.QRectF, center: QtCore.QPointF, radius: float) -> float:
    """How far (px) a circle reaches into a rectangle (0: they do not touch)."""
    dx = max(rect.left() - center.x(), 0.0, center.x() - rect.right())
    dy = max(rect.top() - center.y(), 0.0, center.y() - rect.bottom())
    return max(radius - float(np.hypot(dx, dy)), 0.0)


def overlaps(view: NetworkCanvas) -> dict[str, float]:
    """Total overlap of weight labels with each other, units, value boxes, the loss
    node and the canvas edge, in px^2 (units: px of penetration)."""
    labels = [r for _, _, r in view.label_rects()]
    boxes = [r for _, r in view.value_box_rects()]
    loss = view.loss_node_rect()
    out = {"labels": 0.0, "units": 0.0, "boxes": 0.0, "loss": 0.0, "outside": 0.0}
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            out["labels"] += _area(a, b)
        for _, shape, circle in view.unit_shapes():
            if circle:
                out["units"] += _circle_overlap(a, shape.center(), shape.width() / 2)
            else:
                out["units"] += _area(a, shape)
        for b in boxes:
            out["boxes"] += _area(a, b)
        if loss is not None:
            out["loss"] += _area(a, loss)
        out["outside"] += a.width() * a.height() - _area(a, view.sceneRect())
    return {k: round(v, 6) for k, v in out.items()}


def spiral_highlights() -> frozenset:
    """What an update step of the spiral net highlights: every weight into and out of
    one hidden unit, and the output's."""
    into = {(1, 3, s) for s in range(-1, 8)}
    out_of = {(2, t, 3) for t in range(8)}
    last = {(3, 0, s) for s in range(-1, 8)}
    return frozenset(into | out_of | last)


CASES = [
    ((2, 3, 1), False, 13),
    ((2, 4, 4, 1), False, 37),
    ((2, 8, 8, 8, 1), True, 26),
]
#: Fewest labels each case must draw (so that "no overlap" cannot hold by drawing none):
#: (layers, weight names, canvas width) -> count. Long names (W1_1_1 = 0.126) on a small
#: canvas leave little room; the article's net is always labelled in full.
MINIMUM = {((2, 3, 1), False, 900): 13, ((2, 3, 1), True, 900): 13,
           ((2, 3, 1), False, 1800): 13, ((2, 3, 1), True, 1800): 13,
           ((2, 4, 4, 1), False, 900): 30, ((2, 4, 4, 1), True, 900): 6,
           ((2, 4, 4, 1), False, 1800): 34, ((2, 4, 4, 1), True, 1800): 10,
           ((2, 8, 8, 8, 1), False, 900): 18, ((2, 8, 8, 8, 1), True, 900): 5,
           ((2, 8, 8, 8, 1), False, 1800): 22, ((2, 8, 8, 8, 1), True, 1800): 7}


@pytest.mark.parametrize("size", [(900, 520), (1800, 900)])
@pytest.mark.parametrize("layers,spiral,wanted", CASES)
@pytest.mark.parametrize("weight_names", [False, True])
def test_weight_labels_never_overlap(make_canvas, size, layers, spiral, wanted, weight_names):
    view = make_canvas(*size)
    view.set_show_weight_names(weight_names)
    extra = {"highlight_weights": spiral_highlights()} if spiral else {}
    data = article_loss() if layers == (2, 3, 1) else net_data(layers, **extra)
    view.set_data(data)
    drawn = view.label_rects()
    assert overlaps(view) == {"labels": 0.0, "units": 0.0, "boxes": 0.0, "loss": 0.0,
                              "outside": 0.0}
    # Not trivially: the labels are there, on their own edges, saying what they should.
    assert len(drawn) >= MINIMUM[(layers, weight_names, size[0])]
    if len(drawn) < wanted:
        assert any(f"{wanted - len(drawn)} weight label" in n for n in view.notes())
    else:
        assert not any("left out" in n for n in view.notes())
    for ref, text, rect in drawn:
        line = view.weight_segment(ref)
        # The label's centre lies on its edge.
        d = line.p2() - line.p1()
        c = rect.center() - line.p1()
        cross = abs(d.x() * c.y() - d.y() * c.x()) / np.hypot(d.x(), d.y())
        assert cross < 1.0
        if weight_names:
            assert text.split(" = ")[0] in ("W10", "W2_1_0", "V00") or "_" in text or \
                text[:1] in "WV"
    if spiral:
        refs = {(r.layer, r.target, r.source) for r, _, _ in drawn}
        assert refs <= spiral_highlights()


def test_labels_that_find_no_room_are_left_out_and_said_so(make_canvas):
    view = make_canvas(560, 330)
    view.set_data(net_data((2, 4, 4, 1)))
    drawn = len(view.label_rects())
    assert 0 < drawn < 37
    assert any(f"{37 - drawn} weight labels left out" in n for n in view.notes())
    assert overlaps(view)["labels"] == 0.0


def test_highlighted_weights_get_their_labels_first(make_canvas):
    view = make_canvas(560, 330)
    view.set_data(net_data((2, 4, 4, 1)))
    missing = {(r.layer, r.target, r.source) for r in
               _all_refs((2, 4, 4, 1))} - {(r.layer, r.target, r.source)
                                           for r, _, _ in view.label_rects()}
    assert missing
    wanted = frozenset(sorted(missing)[:3])
    view.set_data(net_data((2, 4, 4, 1), highlight_weights=wanted))
    shown = {(r.layer, r.target, r.source) for r, _, _ in view.label_rects()}
    assert wanted <= shown
    assert overlaps(view)["labels"] == 0.0


def _all_refs(layers):
    from backprop_lab.engine.names import all_weights
    return all_weights(layers)


def test_labels_stay_put_while_numbers_change_and_move_when_they_outgrow(make_canvas):
    view = make_canvas(900, 520)
    view.set_data(article_loss())
    before = {r: rect for r, _, rect in view.label_rects()}
    view.set_data(article_loss(loss=7.0))  # other numbers, same label texts
    assert {r: rect for r, _, rect in view.label_rects()} == before
    # The update: W10 becomes 0.6, a wider text; still no overlap.
    d = article_loss()
    b0 = d.biases[0].copy()
    b0[0] = 0.6
    view.set_data(CanvasData(layers=d.layers, weights=d.weights, biases=(b0, d.biases[1]),
                             activations=d.activations, a=d.a, z=d.z, deltas=d.deltas,
                             target=d.target, loss=d.loss))
    assert "0.6" in view.label_texts()
    assert overlaps(view)["labels"] == 0.0


def test_placement_core_drops_what_cannot_fit():
    # Three parallel edges too close for three labels: one is left out.
    segments = np.array([[0, 50, 200, 50], [0, 60, 200, 60], [0, 70, 200, 70.0]])
    p = label_mod.place_labels(segments, np.ones(3, bool), np.full(3, 190.0), 9.0,
                               np.zeros((0, 2)), 5.0, np.zeros((0, 4)), (0, 0, 200, 120))
    assert p.placed.sum() == 2 and p.dropped == 1
    rects = p.rects()[p.placed]
    assert not label_mod.rect_overlaps(rects[:1], rects[1:]).any()


# -- value boxes ----------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(800, 450), (760, 430)])
def test_value_boxes_fit_2_4_4_1_at_1280x720(make_canvas, size):
    view = make_canvas(*size)
    view.set_data(net_data((2, 4, 4, 1)))
    boxes = dict(view.value_box_rects())
    # Every unit but the bias units writes its values: 2 inputs (z), 9 others (a, z, delta).
    assert len(boxes) == 2 + 4 + 4 + 1
    texts = view.label_texts()
    assert sum(t.startswith("a = ") for t in texts) == 9
    assert sum(t.startswith("\u03b4 = ") for t in texts) == 9
    assert not any("Unit values" in n for n in view.notes())
    assert view.text_pixel_sizes()["value"] >= 11
    # Boxes overlap no unit and no other box.
    rects = list(boxes.values())
    for i, a in enumerate(rects):
        assert all(_area(a, b) == 0 for b in rects[i + 1:])
        for _, shape, circle in view.unit_shapes():
            if circle:
                assert _circle_overlap(a, shape.center(), shape.width() / 2) == 0
            else:
                assert _area(a, shape) == 0


def test_fixed_decimals_and_minus_sign():
    assert format_fixed(-0.0213, 2) == "\u22120.02"
    assert format_fixed(0.31234, 3) == "0.312"
    assert format_fixed(4.0, 3) == "4" and format_fixed(0.6, 3) == "0.6"
    assert format_fixed(3e-5, 3) == "3e\u22125"  # never a misleading 0
    assert format_fixed(123456.0, 3) == "1.2e5"
    assert format_fixed(float("nan"), 2) == "?"
    for v in (-12345.678, 9.99951, -0.00049, 1e-12, 987.6):
        for d in (2, 3):
            assert len(format_fixed(v, d).lstrip("\u2212")) <= d + 2


# -- text size ------------------------------------------------------------------------------
def _viewport_px(view: NetworkCanvas, key: str) -> float:
    """A font's pixel size as it appears on the viewport (the view's transform applied)."""
    font = view.fonts()[key]
    metrics = QtGui.QFontMetricsF(font)
    assert metrics.height() >= font.pixelSize()  # a real font of that size
    return font.pixelSize() * abs(view.transform().m11())


@pytest.mark.parametrize("layers,size", [((2, 3, 1), (1200, 650)),
                                         ((2, 4, 4, 1), (1400, 760))])
def test_presentation_digits_are_24_px_at_1080p(make_canvas, layers, size):
    view = make_canvas(*size)
    view.set_scale(1.5)
    view.set_theme("dark")
    view.set_data(article_loss() if layers == (2, 3, 1) else net_data(layers))
    assert view.value_box_rects()  # values are written, in that font
    assert view.label_rects()
    for key in ("value", "label", "loss", "name"):
        assert _viewport_px(view, key) >= 24, key
    assert view.text_pixel_sizes()["value"] == _viewport_px(view, "value")


def test_text_grows_with_the_window_and_the_scale(make_canvas):
    small = make_canvas(800, 450)
    small.set_data(article_loss())
    big = make_canvas(1600, 900)
    big.set_data(article_loss())
    px_small, px_big = _viewport_px(small, "value"), _viewport_px(big, "value")
    assert px_small >= 13 and px_big >= 1.3 * px_small
    big.set_scale(1.5)
    assert _viewport_px(big, "value") >= 1.3 * px_big * 0.88
    # Zooming in shows text bigger on the viewport: the measure follows the transform.
    small.scale(2.0, 2.0)
    assert _viewport_px(small, "value") == 2 * px_small


# -- loss node, batch means, names ------------------------------------------------------------
def test_loss_node_shows_target_and_loss(make_canvas, qtbot):
    view = make_canvas(900, 520)
    view.set_data(article_loss(loss=float("nan")))
    assert view.loss_node_rect() is not None
    assert "y = 0" in view.label_texts() and "L = ?" in view.label_texts()
    out = view.unit_center(2, 0)
    rect = view.loss_node_rect()
    assert rect.left() > out.x()  # right of the output layer
    assert rect.top() <= out.y() <= rect.bottom()
    view.set_data(article_loss(loss=8.0, loss_label="mean L over 4 samples",
                               highlight_loss=True))
    assert "L = 8" in view.label_texts()
    pos = view.mapFromScene(view.loss_node_rect().center())
    assert view.item_at(pos) == "loss"
    tip = view.tooltip_at(pos)
    assert "mean L over 4 samples" in tip and "L = 8.0" in tip and "D0 = 0.0" in tip
    with qtbot.waitSignal(view.loss_clicked, timeout=1000):
        qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    # Without target and loss there is no node, and the network takes the room.
    view.set_data(article_data())
    assert view.loss_node_rect() is None and not any(t.startswith("L = ")
                                                     for t in view.label_texts())
    with pytest.raises(ValueError):
        article_loss(target=np.zeros(2))


def test_loss_node_gives_way_on_a_narrow_canvas(make_canvas):
    view = make_canvas(420, 400)
    view.set_data(article_loss())
    assert view.loss_node_rect() is None
    assert any("Loss: no room" in n for n in view.notes())
    view.resize(900, 520)
    assert view.loss_node_rect() is not None
    assert not any("Loss" in n for n in view.notes())


def test_batch_means_are_marked(make_canvas):
    view = make_canvas(900, 520)
    view.set_data(net_data((2, 3, 1), values_are_means=True))
    texts = view.label_texts()
    assert any(t.startswith("\u03b4\u0304 = ") for t in texts)
    assert not any(t.startswith("\u03b4 = ") for t in texts)
    assert "mean" in view.unit_tooltip(1, 0)
    assert "mean over the batch" in view.weight_tooltip(WeightRef(0, 0, 1))
    view.set_color_by("gradient")
    assert any("mean" in text for _, text in view._state.legend)


def test_weight_names_with_and_without_values(make_canvas):
    view = make_canvas(1200, 700)
    view.set_show_weight_names(True)
    view.set_data(article_loss())
    texts = {ref: text for ref, text, _ in view.label_rects()}
    assert texts[WeightRef(0, 0, -1)] == "W10 = 1"
    assert texts[WeightRef(1, 0, 2)] == "V03 = 1"
    view.set_show_weight_values(False)
    texts = {ref: text for ref, text, _ in view.label_rects()}
    assert texts[WeightRef(0, 0, -1)] == "W10" and len(texts) == 13
    view.set_show_weight_values(True)
    view.set_color_by("gradient")
    view.set_data(article_loss(grad_weights=(np.zeros((3, 2)), np.full((1, 3), 4.0)),
                               grad_biases=(np.full(3, 4.0), np.array([4.0]))))
    texts = {ref: text for ref, text, _ in view.label_rects()}
    assert texts[WeightRef(1, 0, 2)] == "\u2202L/\u2202V03 = 4"
    assert overlaps(view)["labels"] == 0.0


# -- themes -----------------------------------------------------------------------------------
def test_dark_theme(make_canvas):
    view = make_canvas(900, 520)
    view.set_data(article_loss())
    light = view.render_to_image(QtCore.QSize(450, 260))
    view.set_theme("dark")
    assert view.theme() == "dark"
    dark = view.render_to_image(QtCore.QSize(450, 260))
    assert QtGui.QColor(dark.pixel(2, 2)).lightnessF() < 0.15
    assert QtGui.QColor(light.pixel(2, 2)).lightnessF() > 0.9
    assert view.text_color().lightnessF() > 0.9
    with pytest.raises(ValueError):
        view.set_theme("sepia")
    view.set_theme("light")
    view.set_high_contrast(True)
    assert view.background_color() == QtGui.QColor("#ffffff")


# -- export and slides ------------------------------------------------------------------------
def test_export_defaults_to_the_on_screen_size_times_the_pixel_ratio(make_canvas, tmp_path):
    view = make_canvas(900, 520)
    view.set_data(article_loss())
    dpr = view.devicePixelRatioF()
    expected = QtCore.QSize(round(view.viewport().width() * dpr),
                            round(view.viewport().height() * dpr))
    assert view.export_size() == expected
    assert view.render_to_image().size() == expected
    view.save_png(tmp_path / "net.png")
    assert QtGui.QImage(str(tmp_path / "net.png")).size() == expected


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_slide_png_and_svg(make_canvas, tmp_path, size):
    view = make_canvas(800, 450)
    view.set_show_weight_names(True)
    view.set_data(article_loss(caption="Weight update"))
    caption = ("Run the same sample forward again with the new weights:\n"
               "<b>D0 = 0.6 + 3 \u00b7 (0.6 \u00b7 0.6) = 1.68</b>")
    table = [["what", "article", "correct"], ["W10 after the update", "1.4", "0.6"]]
    save_slide_png(view, tmp_path / "slide.png", caption, table, size)
    image = QtGui.QImage(str(tmp_path / "slide.png"))
    assert (image.width(), image.height()) == size
    save_slide_svg(view, tmp_path / "slide.svg", caption, table, size)
    root = ET.parse(tmp_path / "slide.svg").getroot()
    assert root.tag.endswith("svg")
    svg = (tmp_path / "slide.svg").read_text()
    assert "1.68" in svg and "correct" in svg and "W10 = 1" in svg
    # The screen's canvas is untouched by the slide's own layout.
    assert view.sceneRect().width() == view.viewport().width()
    assert len(view.label_rects()) == 13


def test_slide_caption_is_large_and_the_network_is_on_it(make_canvas):
    view = make_canvas(800, 450)
    view.set_data(article_loss())
    image = render_slide(view, "<b>Short caption</b>", None, (1920, 1080))
    # Left part: the network (coloured edges and units); right part: the caption.
    left = image.copy(0, 0, 1100, 1080)
    blue = QtGui.QColor("#1e62b4")
    found = any(QtGui.QColor(left.pixel(x, y)) == blue
                for x in range(0, 1100, 7) for y in range(0, 1080, 7))
    assert found
    long = " ".join(["A long caption that goes on."] * 40)
    image = render_slide(view, long, [["a", "b"]] * 8, (1920, 1080))
    assert image.size() == QtCore.QSize(1920, 1080)
