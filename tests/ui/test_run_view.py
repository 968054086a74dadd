"""Training > Runs side by side...: two canvases with run pickers over a real comparison,
the right one coloured by the difference of the weights; driven through the real
widgets."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore

from backprop_lab.controller.session import run_until_settled
from backprop_lab.engine.network import Network
from backprop_lab.runs.compare import Variant
from backprop_lab.runs.side_by_side import ShapeMismatch, shape_mismatch, weight_difference
from backprop_lab.ui.canvas import CanvasData, EdgeOverride, NetworkCanvas
from backprop_lab.ui.canvas.frame import edge_values
from backprop_lab.ui.canvas.style import format_fixed, format_value

APP = str(Path(__file__).resolve().parents[2] / "app")
EPOCHS = 50


def cli_final_weights(lr: str, epochs: int) -> tuple[list, list]:
    """The final weights of ``backprop-lab train --preset xor-tanh --set
    training.learning_rate=LR --epochs N --json``."""
    env = dict(os.environ, PYTHONPATH=APP)
    out = subprocess.run(
        [sys.executable, "-m", "backprop_lab", "train", "--preset", "xor-tanh", "--set",
         f"training.learning_rate={lr}", "--epochs", str(epochs), "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=True)
    net = json.loads(out.stdout)["project"]["network"]
    return net["weights"], net["biases"]


@pytest.fixture
def compared(qtbot, window):
    """The window on xor-tanh with a finished comparison of learning rates 0.1 and 1."""
    window.session.load_preset("xor-tanh")
    assert run_until_settled(window.session)
    dlg = window.show_compare()
    dlg.select_setting("training.learning_rate")
    dlg.values.clear()
    qtbot.keyClicks(dlg.values, "0.1, 1")
    dlg.epochs.setValue(EPOCHS)
    with qtbot.waitSignal(dlg.job.finished, timeout=60_000):
        qtbot.mouseClick(dlg.run_button, QtCore.Qt.LeftButton)
    yield window
    dlg.shutdown()
    dlg.close()
    assert QtCore.QThreadPool.globalInstance().waitForDone(10_000)
    assert not dlg.job.running


@pytest.fixture
def view(qtbot, compared):
    window = compared
    window.act_run_view.trigger()
    v = window.run_view
    assert v is not None and v.isVisible()
    qtbot.waitExposed(v)
    yield v
    v.close()
    assert not v._timer.isActive()  # noqa: SLF001 (no timer left running)


def pick(qtbot, pane, text_start: str) -> None:
    """Choose the item whose text starts with ``text_start``, as a user would: open the
    popup, move to it with the keyboard, Enter."""
    combo = pane.picker
    index = next(i for i in range(combo.count()) if combo.itemText(i).startswith(text_start))
    combo.setFocus()
    combo.showPopup()
    popup = combo.view()
    qtbot.waitUntil(popup.isVisible)
    popup.setCurrentIndex(combo.model().index(index, 0))
    qtbot.keyClick(popup, QtCore.Qt.Key_Return)
    qtbot.waitUntil(lambda: combo.currentIndex() == index)


def shown_weights(canvas: NetworkCanvas) -> tuple[list, list]:
    data = canvas.data()
    return [w.tolist() for w in data.weights], [b.tolist() for b in data.biases]


def test_menu_entry_shortcut_and_tooltip(window):
    assert window.act_run_view.shortcut().toString() == "Ctrl+Shift+B"
    assert "difference" in window.act_run_view.toolTip()
    training = [m for m in window.menuBar().actions() if m.text() == "&Training"][0]
    assert window.act_run_view in training.menu().actions()
    # the shortcut is nobody else's
    keys = [a.shortcut().toString() for a in window.findChildren(type(window.act_run_view))
            if a is not window.act_run_view]
    assert "Ctrl+Shift+B" not in keys


def test_without_a_comparison_shows_the_main_run_alone(qtbot, window):
    v = window.open_run_view()
    try:
        qtbot.waitExposed(v)
        assert [v.left.picker.itemText(i) for i in range(v.left.picker.count())] == [
            f"Main run (epoch {window.session.epoch})"]
        assert v.right.picker.currentText() == "\u2014 none \u2014"
        assert v.right.isHidden() and not v.by_difference.isEnabled()
        assert "Compare" in v.status.text()
        assert shown_weights(v.left.canvas) == shown_weights(window.canvas)
        assert window.open_run_view() is v  # one window per main window
    finally:
        v.close()


def test_pickers_show_each_variants_final_weights(qtbot, view, compared):
    runs = compared.compare_dialog.job.runs
    assert [r.name for r in runs] == ["lr 0.1", "lr 1"]
    left_items = [view.left.picker.itemText(i) for i in range(view.left.picker.count())]
    assert left_items == [f"Main run (epoch {compared.session.epoch})",
                          f"lr 0.1 (epoch {EPOCHS})", f"lr 1 (epoch {EPOCHS})"]
    right_items = [view.right.picker.itemText(i) for i in range(view.right.picker.count())]
    assert right_items == left_items + ["\u2014 none \u2014"]
    # the default: the first two variants side by side
    assert view.left.picker.currentText().startswith("lr 0.1")
    assert view.right.picker.currentText().startswith("lr 1")

    pick(qtbot, view.left, "lr 1")
    pick(qtbot, view.right, "lr 0.1")
    # exactly the command line's final weights (json round-trips floats exactly)
    assert shown_weights(view.left.canvas) == cli_final_weights("1", EPOCHS)
    assert shown_weights(view.right.canvas) == cli_final_weights("0.1", EPOCHS)
    # ... which are the variant's own final state
    r0 = runs[0].state.params
    flat = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(
        view.right.canvas.data().weights, view.right.canvas.data().biases)])
    assert np.array_equal(flat, r0)
    # the forward values are the selected sample's with those weights
    net = Network([2, 3, 1], "tanh", "identity", r0)
    k = compared.session.selected_sample
    x = runs[0].dataset.x_train[[k]]
    assert np.array_equal(view.right.canvas.data().z[-1], net.forward(x).z[-1][0])
    assert "lr 0.1" in view.right.title.text() and "train loss" in view.right.title.text()

    pick(qtbot, view.left, "Main run")
    assert shown_weights(view.left.canvas) == shown_weights(compared.canvas)


def test_difference_colouring_is_right_minus_left(qtbot, view, compared):
    runs = compared.compare_dialog.job.runs
    assert view.by_difference.isChecked() and view.by_difference.isEnabled()
    data = view.right.canvas.data()
    o = data.edge_override
    assert o is not None
    want_w, want_b = cli_final_weights("1", EPOCHS), cli_final_weights("0.1", EPOCHS)
    for l in range(2):
        assert np.array_equal(o.weights[l], np.array(want_w[0][l]) - np.array(want_b[0][l]))
        assert np.array_equal(o.biases[l], np.array(want_w[1][l]) - np.array(want_b[1][l]))
    # edges and labels show the differences; the right canvas's weights are its own
    diff = runs[1].state.params - runs[0].state.params
    assert shown_weights(view.right.canvas) == cli_final_weights("1", EPOCHS)
    ev = edge_values(data, False)
    assert np.array_equal(np.sort(ev), np.sort(diff))
    largest = float(np.abs(diff).max())
    # every weight label writes its weight's difference
    decimals = view.right.canvas._state.layout.decimals  # noqa: SLF001
    labels = view.right.canvas.label_rects()
    assert len(labels) == 13
    for ref, text, _ in labels:
        d = (o.biases[ref.layer][ref.target] if ref.is_bias
             else o.weights[ref.layer][ref.target, ref.source])
        assert text == format_fixed(d, decimals)
    legend = view.note.text()
    assert f"\u00b1{format_value(largest)}" in legend and "right \u2212 left" in legend
    assert any(f"\u00b1{format_value(largest)}" in text
               for _, text in view.right.canvas._state.legend)  # noqa: SLF001
    # weight labels of a view cannot be dragged: it never changes a run
    assert view.right.canvas.label_at(view.right.canvas.mapFromScene(
        view.right.canvas.label_rects()[0][2].center())) is None

    # off: the right canvas colours by its weights again
    qtbot.mouseClick(view.by_difference, QtCore.Qt.LeftButton)
    assert not view.by_difference.isChecked()
    assert view.right.canvas.data().edge_override is None and not view.note.text()
    qtbot.mouseClick(view.by_difference, QtCore.Qt.LeftButton)
    assert view.right.canvas.data().edge_override is not None

    # the same run on both sides: no difference at all
    pick(qtbot, view.right, "lr 0.1")
    o = view.right.canvas.data().edge_override
    assert all(not np.any(w) for w in o.weights + o.biases)


def test_none_hides_the_right_canvas(qtbot, view):
    pick(qtbot, view.right, "\u2014 none")
    assert view.right.isHidden()
    assert not view.by_difference.isEnabled() and view.difference is None
    assert view.note.isHidden()
    pick(qtbot, view.right, "lr 1")
    assert view.right.isVisible() and view.difference is not None
    assert view.note.isVisible() and "right \u2212 left" in view.note.text()


def test_follows_a_new_comparison_and_the_main_run(qtbot, view, compared):
    dlg = compared.compare_dialog
    dlg.values.clear()
    qtbot.keyClicks(dlg.values, "0.5")
    with qtbot.waitSignal(dlg.job.finished, timeout=60_000):
        qtbot.mouseClick(dlg.run_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: view.left.picker.count() == 2, timeout=5000)
    # the old variants are gone: the main run and the one variant
    assert view.left.picker.currentText().startswith("Main run")
    assert view.right.picker.currentText().startswith("lr 0.5")
    s = compared.session
    s.step_epochs(7)
    assert run_until_settled(s)
    qtbot.waitUntil(lambda: view.left.picker.currentText() == f"Main run (epoch {s.epoch})",
                    timeout=5000)
    assert shown_weights(view.left.canvas) == shown_weights(compared.canvas)
    # another sample, in the window or here: both canvases show it
    s.select_sample(2)
    qtbot.waitUntil(lambda: view.sample.value() == 3, timeout=5000)
    qtbot.waitUntil(lambda: view.left.canvas.data().loss_label == "L for sample 3",
                    timeout=5000)
    view.sample.setValue(4)
    assert s.selected_sample == 3
    assert view.right.canvas.data().loss_label == "L for sample 4"


def test_theme_and_text_size_follow_the_window(qtbot, view, compared):
    compared.set_theme("dark")
    assert view.left.canvas.theme() == "dark" and view.right.canvas.theme() == "dark"
    assert "#d29bf0" in view.note.text()  # the dark theme's difference colours
    before = view.status.font().pointSizeF()
    compared.set_text_scale(1.5)
    assert view.status.font().pointSizeF() > before
    compared.set_theme("light")


def test_open_run_view_with_runs_named(qtbot, compared):
    v = compared.open_run_view(left="main", right=1)
    try:
        qtbot.waitExposed(v)
        assert v.left.picker.currentText().startswith("Main run")
        assert v.right.picker.currentText().startswith("lr 1")
        compared.open_run_view(right="none")
        assert v.right.isHidden()
        with pytest.raises(IndexError):
            compared.open_run_view(left=5)
    finally:
        v.close()


def test_different_shapes_give_a_one_line_message(qtbot, compared):
    # the dialog offers no structure setting: the comparison job itself (the same job)
    job = compared.compare_dialog.job
    with qtbot.waitSignal(job.finished, timeout=60_000):
        job.start([Variant("wider", {"network.layers": [2, 4, 1]})], 5)
    v = compared.open_run_view(left="main", right=0)
    try:
        qtbot.waitExposed(v)
        assert v.difference is None and v.mismatch is not None
        assert "2-3-1 vs 2-4-1" in v.note.text() and "\n" not in v.mismatch
        assert v.right.canvas.data().edge_override is None
        assert v.right.canvas.data().layers == (2, 4, 1)
    finally:
        v.close()


def test_close_with_the_window_leaves_no_timer(qtbot, compared):
    v = compared.open_run_view()
    qtbot.waitExposed(v)
    compared.session.step_epochs(3)
    v.schedule()
    compared.close()
    assert not v.isVisible() and not v._timer.isActive()  # noqa: SLF001


# -- the Qt-free difference and the canvas hook --------------------------------------------
def test_weight_difference_and_shape_check():
    a = Network([2, 3, 1], "tanh", "identity", np.arange(13, dtype=float))
    b = Network([2, 3, 1], "sigmoid", "identity", np.arange(13, dtype=float) ** 2)
    d = weight_difference(a, b)
    for l in range(2):
        assert np.array_equal(d.weights[l], b.weights[l] - a.weights[l])
        assert np.array_equal(d.biases[l], b.biases[l] - a.biases[l])
    assert d.largest == 144 - 12
    assert shape_mismatch(a, b) is None  # another activation: the same edges
    c = Network([2, 4, 1])
    with pytest.raises(ShapeMismatch, match="2-3-1 vs 2-4-1"):
        weight_difference(a, c)


def test_canvas_edge_override(qtbot):
    canvas = NetworkCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(700, 450)
    w = (np.array([[0.5, -0.25], [1.0, 2.0]]), np.array([[0.75, -1.5]]))
    b = (np.array([0.1, -0.2]), np.array([0.3]))
    dw = (np.array([[0.01, -0.02], [0.0, 0.4]]), np.array([[-0.8, 0.05]]))
    db = (np.array([0.0, 0.2]), np.array([-0.1]))
    plain = CanvasData(layers=(2, 2, 1), weights=w, biases=b, activations=("tanh", "identity"))
    canvas.set_data(plain)
    canvas.show()
    qtbot.waitExposed(canvas)
    assert canvas.label_rects()
    plain_pens = [p.color().name() for p in canvas._state.styler.edge_pens]  # noqa: SLF001
    canvas.set_data(CanvasData(layers=(2, 2, 1), weights=w, biases=b,
                               activations=("tanh", "identity"),
                               edge_override=EdgeOverride(dw, db, "\u0394w", "what it is")))
    st = canvas._state  # noqa: SLF001
    # edges, their width reference and labels follow the override; other colours
    assert np.array_equal(st.edges.values, edge_values(canvas.data(), False))
    assert st.edges.largest == 0.8
    texts = {t for _, t, _ in canvas.label_rects()}
    assert {"\u22120.8", "0.4", "0.05"} <= texts and "2" not in texts
    # the strongest edges in the palette's own colours: blue/orange, purple/green
    assert plain_pens[-2:] == [st.palette.positive, st.palette.negative]
    diff_pens = [p.color().name() for p in st.styler.edge_pens]
    assert diff_pens[-2:] == [st.palette.diff_positive, st.palette.diff_negative]
    assert [p.color().name() for p in st.styler.label_pens] == diff_pens[-2:]
    assert st.legend[0][0].name() == st.palette.diff_positive
    assert any("what it is, \u00b10.8" == t for _, t in st.legend)
    canvas.set_show_weight_names(True)
    assert any(t.startswith("\u0394W") for _, t, _ in canvas.label_rects())
    assert "\u0394w = " in canvas.weight_tooltip(canvas.label_rects()[0][0])
    # the wrong shape is refused
    with pytest.raises(ValueError, match="edge_override"):
        CanvasData(layers=(2, 2, 1), weights=w, biases=b, activations=("tanh", "identity"),
                   edge_override=EdgeOverride(dw[:1], db))
    canvas.set_data(plain)
    assert [p.color().name() for p in st.styler.edge_pens] == plain_pens
    canvas.close()


def test_canvas_not_editable_has_no_draggable_labels(qtbot):
    canvas = NetworkCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(600, 400)
    canvas.set_data(CanvasData(layers=(2, 1), weights=(np.array([[0.5, -1.0]]),),
                               biases=(np.array([0.2]),), activations=("identity",)))
    canvas.show()
    qtbot.waitExposed(canvas)
    ref, _, rect = canvas.label_rects()[0]
    pos = canvas.mapFromScene(rect.center())
    assert canvas.label_at(pos) == ref
    assert "click to edit" in canvas.weight_tooltip(ref)
    canvas.set_editable(False)
    assert canvas.label_at(pos) is None and "click to edit" not in canvas.weight_tooltip(ref)
    canvas.close()



def test_refreshes_are_coalesced_and_none_while_hidden(qtbot, view, monkeypatch):
    calls = []
    real = view.left.canvas.set_data
    monkeypatch.setattr(view.left.canvas, "set_data", lambda d: (calls.append(1), real(d)))
    for _ in range(200):  # a burst of snapshots and curves, as training sends them
        view.schedule()
    assert not calls and view._timer.isActive()  # noqa: SLF001 (nothing drawn yet)
    qtbot.waitUntil(lambda: not view._timer.isActive(), timeout=5000)  # noqa: SLF001
    assert len(calls) == 1  # one redraw for the burst
    view.hide()
    view.schedule()
    assert not view._timer.isActive()  # noqa: SLF001 (hidden: nothing to draw)
    view.show()  # showing draws what is there now
    assert len(calls) == 2
