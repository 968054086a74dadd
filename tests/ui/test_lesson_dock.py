"""The lesson dock, driven as a lecturer would: choose, Start, Next, Back."""

import json

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from tests.helpers import wait_lesson

from backprop_lab.controller.lessons import LessonPlayer
from backprop_lab.controller.teaching import PhaseStepper
from backprop_lab.ui.docks.lesson_dock import ARTICLE_COLOR, CORRECT_COLOR, LessonDock

LEFT = QtCore.Qt.LeftButton


@pytest.fixture
def dock(qtbot, session):
    win = QtWidgets.QMainWindow()
    player = LessonPlayer(session, PhaseStepper(session))
    d = LessonDock(player, win)
    win.addDockWidget(QtCore.Qt.RightDockWidgetArea, d)
    win.setCentralWidget(QtWidgets.QWidget())
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    yield d
    win.close()


def table(d):
    t = d.compare_table
    return [tuple(t.item(r, c).text() for c in range(3)) for r in range(t.rowCount())]


def test_the_dock_lists_the_lessons_and_waits(qtbot, dock):
    assert dock.objectName() == "lesson_dock"
    assert dock.lesson_combo.count() == 4
    assert dock.lesson_combo.itemText(0).startswith("1. The article's XOR example")
    assert "Start" in dock.caption_label.text()
    assert not dock.back_button.isEnabled() and not dock.next_button.isEnabled()
    assert dock.back_button.toolTip() and dock.next_button.toolTip()
    assert dock.start_button.toolTip()
    dock.lesson_combo.setCurrentIndex(3)
    assert dock.title_label.text() == "Vanishing gradients"


def test_walk_the_article_lesson(qtbot, dock, session):
    dock.lesson_combo.setCurrentIndex(0)
    qtbot.mouseClick(dock.start_button, LEFT)
    assert dock.player.active
    assert dock.step_label.text().startswith("Step 1 of 16")
    assert "worked example" in dock.caption_label.text()
    assert dock.compare_table.isHidden()
    assert not dock.back_button.isEnabled() and dock.next_button.isEnabled()
    for _ in range(4):  # a clicker pressed four times quickly: no waiting between
        qtbot.mouseClick(dock.next_button, LEFT)
    wait_lesson(qtbot, dock.player)
    assert dock.step_label.text().startswith("Step 5 of 16")
    assert "delta_D0 = (D0 − y) · f'(a) = (4 − 0) · 1 = +4" in dock.caption_label.text()
    assert table(dock) == [("delta_D0", "−4", "+4")]
    qtbot.mouseClick(dock.next_button, LEFT)
    wait_lesson(qtbot, dock.player)
    qtbot.mouseClick(dock.next_button, LEFT)
    wait_lesson(qtbot, dock.player)
    assert "The weight update" in dock.step_label.text()
    assert "W10 = 1 − 0.1 · 1 · 4 = <b>0.6</b>" in dock.caption_label.text()
    rows = table(dock)
    assert rows[0] == ("W10, W20, W30 (input X0 = 1)", "1.4", "0.6")
    assert rows[1][1:] == ("1.4", "1.0 (unchanged)")
    assert dock.compare_table.horizontalHeaderItem(1).text() == "Article says"
    assert dock.compare_table.horizontalHeaderItem(2).text() == "Correct"
    assert dock.compare_table.item(0, 1).foreground().color() == QtGui.QColor(ARTICLE_COLOR)
    assert dock.compare_table.item(0, 2).foreground().color() == QtGui.QColor(CORRECT_COLOR)
    assert dock.compare_table.item(0, 2).font().bold()
    assert dock.compare_table.isVisible()
    np.testing.assert_allclose(session.network.biases[0], 0.6)
    # Back: the deltas again, and the weights exactly as before the update
    qtbot.mouseClick(dock.back_button, LEFT)
    assert dock.step_label.text().startswith("Step 6 of 16")
    assert table(dock)[1] == ("delta of the bias unit Z0", "−4 (computed)",
                              "none: nothing feeds a bias unit")
    np.testing.assert_array_equal(session.params, 1.0)
    assert dock.message_label.isHidden()


def test_the_caption_is_large_and_wraps(qtbot, dock):
    dock.lesson_combo.setCurrentIndex(0)
    dock.start_button.click()
    wait_lesson(qtbot, dock.player)
    app_pt = QtWidgets.QApplication.font().pointSizeF()
    assert dock.caption_label.wordWrap()
    assert dock.caption_label.font().pointSizeF() == pytest.approx(1.3 * app_pt)
    dock.set_scale(1.5)
    assert dock.caption_label.font().pointSizeF() == pytest.approx(1.95 * app_pt)
    assert dock.scale() == 1.5


def test_steps_menu_jumps(qtbot, dock, session):
    dock.lesson_combo.setCurrentIndex(0)
    dock.start_button.click()
    wait_lesson(qtbot, dock.player)
    dock._fill_steps_menu()
    actions = dock.steps_menu.actions()
    assert len(actions) == 16 and actions[0].isChecked()
    actions[9].trigger()
    wait_lesson(qtbot, dock.player)
    assert dock.player.index == 9 and session.epoch == 503
    assert dock.step_label.text().startswith("Step 10 of 16: <b>A floor at 0.125</b>")


def test_divergence_shows_in_red(qtbot, dock, session):
    dock.lesson_combo.setCurrentIndex(1)
    dock.start_button.click()
    wait_lesson(qtbot, dock.player)
    dock.player.go(4)
    wait_lesson(qtbot, dock.player)
    assert dock.message_label.isVisible()
    assert dock.message_label.text().startswith("Training diverged in epoch 87")
    assert "b00020" in dock.message_label.styleSheet()
    dock.back_button.click()
    wait_lesson(qtbot, dock.player)
    assert dock.message_label.isHidden()


def test_finishing_and_ending(qtbot, dock):
    dock.lesson_combo.setCurrentIndex(2)
    dock.start_button.click()
    wait_lesson(qtbot, dock.player)
    dock.player.go(dock.player.count - 1)
    wait_lesson(qtbot, dock.player)
    assert dock.next_button.text() == "Finish"
    with qtbot.waitSignal(dock.player.finished, timeout=1000):
        qtbot.mouseClick(dock.next_button, LEFT)
    assert not dock.player.active
    assert "Lesson finished" in dock.step_label.text()
    assert not dock.next_button.isEnabled() and not dock.stop_button.isEnabled()
    dock.start_button.click()
    wait_lesson(qtbot, dock.player)
    assert dock.player.index == 0
    qtbot.mouseClick(dock.stop_button, LEFT)
    assert not dock.player.active


def test_a_broken_file_is_explained(dock, tmp_path):
    bad = tmp_path / "mine.json"
    bad.write_text(json.dumps({"format": "backprop-lab-lesson", "version": 1, "title": "x",
                               "preset": "article-xor",
                               "steps": [{"caption": "a", "actions": [{"action": "play"}]}]}))
    assert not dock.start_file(bad)
    assert dock.message_label.isVisible()
    assert dock.message_label.text().startswith("mine.json: step 1, action 1 (play)")
    assert not dock.player.active


def test_in_the_main_window_page_down_drives_the_lesson(qtbot, window):
    """What the lead's wiring will do: the window's Next/Back actions go to the player."""
    player = LessonPlayer(window.session, window.stepper)
    d = LessonDock(player, window)
    window.addDockWidget(QtCore.Qt.RightDockWidgetArea, d)
    window.lesson_player = player
    d.start_button.click()
    wait_lesson(qtbot, player)
    window.act_next.trigger()
    window.act_next.trigger()
    wait_lesson(qtbot, player)
    assert player.index == 2 and d.step_label.text().startswith("Step 3 of 16")
    assert window.stepper.reveal().phase.kind == "forward"
    window.act_back.trigger()
    wait_lesson(qtbot, player)
    assert player.index == 1


def test_every_way_of_starting_asks_confirm_once(qtbot, dock, session, tmp_path,
                                                 monkeypatch):
    """Start, Open… and start_file each ask the window's "unsaved changes?" question
    exactly once; No keeps the network; a broken file does not ask at all."""
    asked = []
    answer = [False]

    def confirm():
        asked.append(True)
        return answer[0]

    dock.confirm = confirm
    session.load_preset("spiral")
    before = session.params.copy()
    dock.lesson_combo.setCurrentIndex(0)
    qtbot.mouseClick(dock.start_button, LEFT)
    assert len(asked) == 1 and not dock.player.active
    np.testing.assert_array_equal(session.params, before)
    own = dock.selected_info().path
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(own), ""))
    dock.open_button.click()
    assert len(asked) == 2 and not dock.player.active
    assert not dock.start_file(own)
    assert len(asked) == 3 and not dock.player.active
    np.testing.assert_array_equal(session.params, before)
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert not dock.start_file(bad)
    assert len(asked) == 3 and dock.message_label.isVisible()
    answer[0] = True
    dock.open_button.click()
    assert len(asked) == 4 and dock.player.active
    dock.player.stop()
    qtbot.mouseClick(dock.start_button, LEFT)
    assert len(asked) == 5 and dock.player.active and dock.player.index == 0
