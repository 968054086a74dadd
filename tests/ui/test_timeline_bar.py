"""The timeline bar in the real window, driven by its keys and its slider: scrub back,
branch with Play, undo the branch, new initial weights."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore
from tests.helpers import settle

from backprop_lab.engine import data, presets
from backprop_lab.engine.training import Trainer


def _straight(name: str, epochs: int) -> np.ndarray:
    p = presets.load_preset(name)
    ds = data.build(p.data)
    t = Trainer(p.network.copy(), p.training, ds.x_train, ds.y_train)
    for _ in range(epochs):
        t.run_epoch()
    return t.net.params.copy()


def press(qtbot, window, key, mod=QtCore.Qt.NoModifier):
    qtbot.keyClick(window.canvas, key, mod)


def _trained(window, epochs=300):
    s = window.session
    s.load_preset("xor-tanh")
    start = s.params.copy()
    s.step_epochs(epochs)
    settle(s)
    QtCore.QCoreApplication.processEvents()
    window.timeline_bar.sync()
    return s, start


def _wait_past(qtbot, window, epoch):
    qtbot.waitUntil(lambda: window.session.past_epoch == epoch, timeout=30000)


def test_home_shows_the_first_epoch_and_end_the_present(window, qtbot):
    s, start = _trained(window)
    bar = window.timeline_bar
    assert bar.slider.maximum() == 300 and bar.slider.value() == 300
    assert bar.label.text() == "Epoch 300 of 300" and not bar.now_button.isEnabled()
    newest = s.params.copy()
    press(qtbot, window, QtCore.Qt.Key_Home)
    _wait_past(qtbot, window, 0)
    assert s.params.tobytes() == start.tobytes()
    window.render()
    assert "Epoch 0" in window.epoch_label.text()
    assert "the past" in window.epoch_label.text()  # the header says so, not only the bar
    assert bar.slider.value() == 0 and "the past" in bar.label.text()
    assert bar.now_button.isEnabled()
    assert window.loss_dock.past_marker() == 0.0
    assert "shown (the past)" in window.loss_dock.readout_label.text()
    # the gradient plot marks it too, and reads out the norms of that epoch
    grad = window.gradient_dock
    grad.refresh()
    assert grad.past_marker() == 0.0
    assert grad.readout_label.text().startswith("shown (the past): epoch 0:")
    # Ctrl+Right: a hundredth of the run on (3 epochs), exactly what training had there
    press(qtbot, window, QtCore.Qt.Key_Right, QtCore.Qt.ControlModifier)
    _wait_past(qtbot, window, 3)
    assert s.params.tobytes() == _straight("xor-tanh", 3).tobytes()
    assert window.loss_dock.past_marker() == 3.0
    press(qtbot, window, QtCore.Qt.Key_Left, QtCore.Qt.ControlModifier)
    _wait_past(qtbot, window, 0)
    press(qtbot, window, QtCore.Qt.Key_End)
    assert s.past_epoch is None and s.epoch == 300
    assert s.params.tobytes() == newest.tobytes()
    assert bar.slider.value() == 300 and bar.label.text() == "Epoch 300 of 300"
    assert window.loss_dock.past_marker() is None
    assert window.gradient_dock.past_marker() is None
    assert "the past" not in window.epoch_label.text()
    window.gradient_dock.refresh()
    assert window.gradient_dock.readout_label.text().startswith("epoch 300:")


def test_dragging_the_slider_scrubs_and_pauses_training(window, qtbot):
    s, _start = _trained(window, 100)
    bar = window.timeline_bar
    press(qtbot, window, QtCore.Qt.Key_Space)
    assert s.running
    qtbot.waitUntil(lambda: bar.slider.maximum() > 150, timeout=20000)  # follows training
    for v in range(10, 60, 5):  # a drag: many values, throttled to a few scrubs
        bar.slider.setValue(v)
    _wait_past(qtbot, window, 55)
    assert not s.running
    assert s.params.tobytes() == _straight("xor-tanh", 55).tobytes()
    assert bar.slider.value() == 55
    bar.now_button.click()
    assert s.past_epoch is None and not s.running and s.epoch == bar.slider.maximum()


def test_play_from_the_past_branches_the_ghost_is_drawn_and_undo_restores(window, qtbot):
    s, _start = _trained(window, 200)
    future = s.params.copy()
    window.timeline_bar.scrub_to(50)
    _wait_past(qtbot, window, 50)
    press(qtbot, window, QtCore.Qt.Key_Right)  # one epoch from the past: a branch
    settle(s)
    assert s.epoch == 51 and s.past_epoch is None
    ghost = s.timeline.ghost
    assert ghost is not None and ghost.end_epoch == 200
    window.loss_dock.refresh()
    gx, _gy = window.loss_dock.ghost_curve.getData()
    assert gx is not None and gx[0] > 50 and gx[-1] == 200
    bar = window.timeline_bar
    QtCore.QCoreApplication.processEvents()
    bar.sync()
    assert bar.slider.maximum() == 51 and "the past" not in bar.label.text()
    assert window.act_undo.isEnabled() and "Branch from epoch 50" in window.act_undo.text()
    window.act_undo.trigger()
    settle(s)
    assert s.epoch == 200 and s.params.tobytes() == future.tobytes()
    window.loss_dock.refresh()  # the branch is the ghost now
    gx, _gy = window.loss_dock.ghost_curve.getData()
    assert gx is not None and gx[-1] == 51


def test_ctrl_r_draws_new_initial_weights_and_reset_returns_to_them(window, qtbot):
    s, start = _trained(window, 20)
    seed = s.init_config.seed
    press(qtbot, window, QtCore.Qt.Key_R, QtCore.Qt.ControlModifier)
    assert s.init_config.seed == seed + 1 and s.epoch == 0
    assert not np.array_equal(s.params, start)
    assert f"seed {seed + 1}" in window.statusBar().currentMessage()
    fresh = s.params.copy()
    s.step_epochs(10)
    settle(s)
    press(qtbot, window, QtCore.Qt.Key_R)  # Reset: the new start, not the old one
    settle(s)
    assert s.epoch == 0 and s.params.tobytes() == fresh.tobytes()
    assert window.act_new_weights in window.menuBar().actions()[2].menu().actions()


def test_the_new_keys_are_unique_and_listed(window):
    seen = {}
    for a in window.actions():
        for k in a.shortcuts():
            text = k.toString()
            assert text not in seen, f"{text} is both {seen[text]} and {a.text()}"
            seen[text] = a.text()
    for key in ("Home", "End", "Ctrl+Left", "Ctrl+Right", "Ctrl+R"):
        assert key in seen
    listed = " ".join(k for k, _ in window.extra_shortcuts)
    assert "Home" in listed and "Ctrl+Left" in listed and "Ctrl+R" in listed


def test_presentation_mode_shows_the_bar_only_for_the_past(window, qtbot):
    s, _start = _trained(window, 50)
    bar = window.timeline_bar
    assert bar.isVisible()
    window.set_presenting(True)
    try:
        assert not bar.isVisible()
        press(qtbot, window, QtCore.Qt.Key_Home)  # the keys work; the bar comes
        _wait_past(qtbot, window, 0)
        assert bar.isVisible()
        press(qtbot, window, QtCore.Qt.Key_End)
        assert not bar.isVisible() and s.past_epoch is None
    finally:
        window.set_presenting(False)
    assert bar.isVisible()


def test_the_bar_fits_at_1280x720_scrubbed(window, qtbot):
    s, _start = _trained(window, 300)
    window.resize(1280, 720)
    window.timeline_bar.scrub_to(123)
    _wait_past(qtbot, window, 123)
    QtCore.QCoreApplication.processEvents()
    bar = window.timeline_bar
    assert bar.isVisible() and "the past" in bar.label.text()
    inside = window.centralWidget().rect()
    assert inside.contains(bar.geometry())
    assert bar.label.width() >= bar.label.sizeHint().width()  # the text whole
    assert bar.now_button.isVisible() and bar.slider.width() >= 300
    assert window.canvas.height() >= 4 * bar.height()


def test_a_click_on_the_groove_jumps_there(window, qtbot):
    s, _start = _trained(window, 200)
    bar = window.timeline_bar
    slider = bar.slider
    x = slider.width() // 4
    qtbot.mouseClick(slider, QtCore.Qt.LeftButton, pos=QtCore.QPoint(x, slider.height() // 2))
    qtbot.waitUntil(lambda: s.past_epoch is not None, timeout=30000)
    assert 30 <= s.past_epoch <= 70, s.past_epoch  # about a quarter, not a page step (20)
    assert slider.value() == s.past_epoch
    assert s.params.tobytes() == _straight("xor-tanh", s.past_epoch).tobytes()
