"""Finished parts wired into the real window, driven as a user drives them: File > Export
slide and Export data as CSV, the recovery copy and its question at start, the sample
tables and the data view with their menu entries and keys."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets
from tests.conftest import end_session
from tests.helpers import settle

from backprop_lab.controller.recovery import FILE_NAME, Recovery, find_recovery
from backprop_lab.controller.session import Session
from backprop_lab.engine import data as data_mod
from backprop_lab.engine.names import WeightRef
from backprop_lab.ui.files import SlideExportDialog
from backprop_lab.ui.main_window import MainWindow


# -- File menu -------------------------------------------------------------------------
def menu_texts(window, title: str) -> list[str]:
    # the menus themselves, not QAction.menu(): on PySide6 6.10 that wrapper is deleted
    # under the test's feet
    menu = next(m for m in window.menuBar().findChildren(QtWidgets.QMenu)
                if m.title() == title)
    return [a.text() for a in menu.actions()]


def test_export_slide_from_the_file_menu_writes_the_lessons_caption(window, qtbot, tmp_path,
                                                                    monkeypatch):
    assert "Export slide..." in menu_texts(window, "&File")
    assert window.start_lesson("01-article-xor")
    player = window.lesson_player
    player.go(6)  # step 7: the weight update, with a table
    qtbot.waitUntil(lambda: not player.busy and player.index == 6, timeout=60_000)
    seen = {}

    def fake_exec(dlg):
        seen["table"] = dlg.table_check.isEnabled() and dlg.table_check.isChecked()
        return QtWidgets.QDialog.Accepted

    monkeypatch.setattr(SlideExportDialog, "exec", fake_exec)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "step7"), ""))
    window.act_export_slide.trigger()
    out = tmp_path / "step7.png"
    assert out.is_file() and seen["table"]
    from PySide6 import QtGui

    img = QtGui.QImage(str(out))
    assert (img.width(), img.height()) == (1920, 1080)


def test_export_data_as_csv_reads_back_as_the_same_points(window, tmp_path, monkeypatch):
    s = window.session
    s.load_preset("circle")  # 240 training points and 60 test points
    target = tmp_path / "circle.csv"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "circle"), ""))
    assert "Export data as CSV..." in menu_texts(window, "&File")
    window.act_export_csv.trigger()
    assert target.is_file()
    x, y, in_names, out_names = data_mod.read_csv(target, list(s.dataset.target_names))
    ds = s.dataset
    np.testing.assert_array_equal(x, np.vstack([ds.raw_train, ds.raw_test]))
    np.testing.assert_array_equal(y, np.vstack([ds.y_train, ds.y_test]))
    assert list(in_names) == list(ds.raw_names)
    assert "Exported 300 rows" in window.statusBar().currentMessage()


def test_export_data_to_an_unwritable_place_says_so(window, tmp_path):
    assert not window.files.export_csv(tmp_path / "no-such-folder" / "x.csv")
    box = window.findChild(QtWidgets.QMessageBox, "problem_box")
    assert box is not None and "no-such-folder" in box.text()
    box.close()


# -- recovery ---------------------------------------------------------------------------
@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "app-data"
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(folder))
    return folder


def leave_a_recovery_copy(qtbot, folder) -> float:
    """What a killed run leaves: a recovery copy of unsaved work (W12 edited)."""
    s = Session()
    rec = Recovery(s, folder)
    s.set_weight(WeightRef(0, 0, 1), -2.5)
    settle(s)
    assert rec.write() == folder / FILE_NAME
    end_session(qtbot, s)
    return -2.5


def new_window(qtbot, tmp_path) -> MainWindow:
    settings = QtCore.QSettings(str(tmp_path / "w.ini"), QtCore.QSettings.IniFormat)
    w = MainWindow(Session(), settings=settings, confirm_close=False)
    qtbot.addWidget(w)
    w.show()
    return w


def answer_recovery(qtbot, window, text: str) -> bool:
    """Open the recovery question, check it, click ``text``; returns the outcome."""
    box = window.offer_recovery()
    assert box is not None and box.isVisible() and box.objectName() == "recovery_box"
    assert "did not close cleanly" in box.text() and "never saved" in box.informativeText()
    button = next(b for b in box.buttons() if b.text().replace("&", "") == text)
    with qtbot.waitSignal(window.recovery_answered, timeout=10_000) as blocker:
        qtbot.mouseClick(button, QtCore.Qt.LeftButton)
    return blocker.args[0]


@pytest.mark.parametrize("answer", ["Restore", "Discard"])
def test_a_copy_left_by_a_crash_is_offered_at_start(qtbot, tmp_path, data_dir, answer):
    value = leave_a_recovery_copy(qtbot, data_dir)
    w = new_window(qtbot, tmp_path)
    try:
        s = w.session
        assert w.recovery is not None and w.recovery.folder == data_dir
        assert s.weight_value(WeightRef(0, 0, 1)) == 1.0
        restored = answer_recovery(qtbot, w, answer)
        assert restored == (answer == "Restore")
        if restored:
            settle(s)
            assert s.weight_value(WeightRef(0, 0, 1)) == value
            assert s.dirty and w.isWindowModified()  # unsaved work again
            assert find_recovery(data_dir) is not None  # kept until saved or closed
        else:
            assert s.weight_value(WeightRef(0, 0, 1)) == 1.0
            assert find_recovery(data_dir) is None
        if not restored:
            assert w.offer_recovery() is None  # no second question after a discard
    finally:
        w.close()
        end_session(qtbot, w.session)
    assert find_recovery(data_dir) is None  # a clean close removes the copy


def test_no_copy_no_question_and_a_clean_close_removes_the_copy(qtbot, tmp_path, data_dir,
                                                                  monkeypatch):
    w = new_window(qtbot, tmp_path)
    try:
        assert w.offer_recovery() is None
        assert w.findChild(QtWidgets.QMessageBox, "recovery_box") is None
        s = w.session
        s.set_weight(WeightRef(0, 0, 1), 0.5)  # unsaved work ...
        settle(s)
        s.play()
        qtbot.waitUntil(lambda: s.running, timeout=5000)
        s.pause()  # ... copied aside when training pauses
        qtbot.waitUntil(lambda: find_recovery(data_dir) is not None, timeout=5000)
    finally:
        w.close()
        end_session(qtbot, w.session)
    assert find_recovery(data_dir) is None


def test_a_broken_copy_is_reported_and_moved_aside(qtbot, tmp_path, data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / FILE_NAME).write_text('{"format": "backprop-lab", "version": 1}')
    w = new_window(qtbot, tmp_path)
    try:
        assert answer_recovery(qtbot, w, "Restore") is False
        box = w.findChild(QtWidgets.QMessageBox, "problem_box")
        assert box is not None and "moved to" in box.text()
        box.close()
        assert find_recovery(data_dir) is None
        assert (data_dir / (FILE_NAME + ".broken")).is_file()
    finally:
        w.close()
        end_session(qtbot, w.session)


# -- the data view ------------------------------------------------------------------------
def test_data_view_opens_from_the_view_menu_and_follows_the_canvas(window, qtbot):
    dock = window.data_dock
    toggle = dock.toggleViewAction()
    assert toggle in window.view_menu.actions()
    assert toggle.shortcut().toString() == "Ctrl+D"
    window.session.load_preset("xor-tanh")
    settle(window.session)
    if not dock.isVisible():
        toggle.trigger()
    dock.raise_()
    qtbot.waitUntil(lambda: dock.isVisible() and dock.values is not None, timeout=10_000)
    assert dock.grid is not None and dock.values.size >= 100 * 100
    window.canvas.unit_clicked.emit(1, 0)  # a hidden unit clicked: its own map
    qtbot.waitUntil(lambda: dock.shown_unit == (1, 0), timeout=5000)
    window.act_unit_maps.trigger()  # Ctrl+M: maps inside the hidden units
    assert dock.unit_maps_on() and window.act_unit_maps.isChecked()
    qtbot.waitUntil(lambda: len(window.canvas.unit_maps()) > 0, timeout=10_000)
    window.act_unit_maps.trigger()
    qtbot.waitUntil(lambda: not window.canvas.unit_maps(), timeout=10_000)


def test_a_lesson_step_that_needs_the_data_view_shows_it_beside_the_loss_plot(window, qtbot):
    window.resize(1280, 720)
    assert window.start_lesson("01-article-xor")
    player = window.lesson_player
    player.go(9)  # step 10: the floor at 0.125, with the four points on one colour
    qtbot.waitUntil(lambda: not player.busy and player.index == 9, timeout=60_000)
    qtbot.waitUntil(lambda: window.stage.last.get("needed") is not None
                    and "data_view" in window.stage.last["needed"], timeout=10_000)
    data, loss = window.data_dock, window.loss_dock
    qtbot.waitUntil(lambda: data.isVisible() and loss.isVisible(), timeout=10_000)
    assert not window.tabifiedDockWidgets(data)  # side by side, not behind a tab
    assert data.compact()
    d, lo = data.geometry(), loss.geometry()
    assert not d.intersects(lo) and d.width() > 200 and d.height() > 200
    values = data.values
    assert values is not None and np.ptp(values) < 1e-2  # one colour: output 0.5 all over
    window.lesson_player.stop()
    qtbot.waitUntil(lambda: not data.compact(), timeout=10_000)
