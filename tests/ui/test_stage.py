"""The stage in one window: lessons drive the views, the formula panel follows the step,
the text size and the theme reach every view and are remembered, nothing is cut off."""

import json

import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from tests.helpers import settle, wait_lesson

from backprop_lab.engine.names import WeightRef
from backprop_lab.ui.main_window import MainWindow


def key(qtbot, window, k, mod=QtCore.Qt.NoModifier):
    qtbot.keyClick(window.canvas, k, mod)


def reopen(window, qtbot):
    from backprop_lab.controller.session import Session

    w = MainWindow(Session(), settings=window.settings, confirm_close=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    return w


def go(qtbot, window, k):
    """Show lesson step ``k`` (counted from 1, as the dock does)."""
    window.lesson_player.go(k - 1)
    wait_lesson(qtbot, window.lesson_player)
    settle(window.session)
    QtWidgets.QApplication.processEvents()


# -- the formula panel follows the step -----------------------------------------------------
def test_the_formula_panel_follows_the_phase_of_each_lesson_step(window, qtbot):
    """Forward and backward phases explain their layer's first unit, the Loss phase the
    loss, the update a weight; not Z1 all the way through."""
    assert window.start_lesson("01-article-xor")
    wait_lesson(qtbot, window.lesson_player)
    fd = window.formula_dock
    seen = {}
    for k in range(2, 8):
        go(qtbot, window, k)
        phase = window.stepper.phase
        seen[phase.kind, phase.layer] = fd.shown()
    assert seen[("forward", 1)] == (1, 0)
    assert seen[("forward", 2)] == (2, 0)
    assert [v for (kind, _layer), v in seen.items() if kind == "loss"] == ["loss"]
    assert seen[("backward", 2)] == (2, 0)
    assert seen[("backward", 1)] == (1, 0)
    update = [v for (kind, _layer), v in seen.items() if kind == "update"]
    assert update == [WeightRef(0, 0, -1)]
    go(qtbot, window, 4)
    assert fd.shown() == "loss"
    assert "L = 1/2 * [(D0 - y0)^2] = 1/2 * [(4 - 0)^2] = 8" in fd.text()


def test_a_click_wins_until_the_next_step(window, qtbot):
    assert window.start_lesson("01-article-xor")
    wait_lesson(qtbot, window.lesson_player)
    go(qtbot, window, 2)
    window.canvas.unit_clicked.emit(1, 2)  # the lecturer points at Z3
    assert window.formula_dock.shown() == (1, 2)
    window.stepper.changed.emit()  # anything redrawn: the click stays
    assert window.formula_dock.shown() == (1, 2)
    go(qtbot, window, 4)  # the next step explains its own phase again
    assert window.formula_dock.shown() == "loss"


# -- view options -----------------------------------------------------------------------
def _lesson(tmp_path):
    def view(option, value):
        return {"action": "view", "option": option, "value": value}

    path = tmp_path / "views.json"
    path.write_text(json.dumps({
        "format": "backprop-lab-lesson", "version": 1, "title": "Views",
        "preset": "article-xor", "steps": [
            {"caption": "pinned on the loss, log axis, fixed axes, two highlights",
             "views": ["canvas", "caption", "formulas", "loss_plot"],
             "actions": [view("pin", "loss"), view("log", True),
                         view("y_range", [0.01, 100]), view("x_range", [0, 50]),
                         view("highlight", ["Z1", "W21"])]},
            {"caption": "pinned on W21, linear and automatic again, the gradient plot",
             "views": ["canvas", "caption", "formulas", "gradient_plot"],
             "actions": [view("pin", "W21"), view("log", False),
                         view("y_range", "auto"), view("x_range", "auto"),
                         view("highlight", [])]},
        ]}))
    return path


def test_a_lesson_drives_pin_axes_highlights_and_plots(window, qtbot, tmp_path):
    assert window.lesson_dock.start_file(_lesson(tmp_path))
    window._show_lesson_dock()  # noqa: SLF001 (as start_lesson does)
    wait_lesson(qtbot, window.lesson_player)
    settle(window.session)
    window.stage.apply()
    ld, fd = window.loss_dock, window.formula_dock
    assert fd.shown() == "loss"
    assert ld.is_log_y() and ld.log_check.isChecked()
    (x0, x1), (y0, y1) = ld.loss_plot.getViewBox().viewRange()
    assert (x0, x1) == pytest.approx((0, 50))
    assert (y0, y1) == pytest.approx((-2, 2))  # log10 of 0.01 and 100
    data = window.canvas.data()
    assert (1, 0) in data.highlight_units and (0, 1, 0) in data.highlight_weights
    assert ld.isVisible() and not window.gradient_dock.isVisible()

    go(qtbot, window, 2)
    window.stage.apply()
    assert fd.shown() == WeightRef(0, 1, 0)
    assert not ld.is_log_y() and ld.ranges() == (None, None)
    data = window.canvas.data()
    assert (1, 0) not in data.highlight_units and not data.highlight_weights
    assert window.gradient_dock.isVisible() and not ld.isVisible()  # no empty plot

    go(qtbot, window, 1)  # Back: everything as step 1 had it
    window.stage.apply()
    assert fd.shown() == "loss" and ld.is_log_y() and ld.ranges()[1] == (0.01, 100)
    window.lesson_player.stop()
    QtWidgets.QApplication.processEvents()
    assert not window.canvas.data().highlight_weights  # the lesson's highlights go too


# -- text size and theme -------------------------------------------------------------------
def test_the_text_size_keys_reach_every_view_and_are_remembered(window, qtbot):
    app_pt = QtWidgets.QApplication.font().pointSizeF()
    caption_pt = window.lesson_dock.caption_label.font().pointSizeF()
    axis_pt = window.loss_dock.loss_plot.getAxis("left").style["tickFont"].pointSizeF()
    key(qtbot, window, QtCore.Qt.Key_Equal, QtCore.Qt.ControlModifier)
    key(qtbot, window, QtCore.Qt.Key_Equal, QtCore.Qt.ControlModifier)
    assert window.text_scale() == pytest.approx(1.25)
    QtWidgets.QApplication.processEvents()  # the font change reaches the widgets
    assert QtWidgets.QApplication.font().pointSizeF() == pytest.approx(1.25 * app_pt)
    assert window.menuBar().font().pointSizeF() == pytest.approx(1.25 * app_pt)
    assert window.lesson_dock.caption_label.font().pointSizeF() > caption_pt
    assert window.loss_dock.loss_plot.getAxis("left").style["tickFont"].pointSizeF() == \
        pytest.approx(1.25 * axis_pt)
    assert window.canvas_scale_wanted() == pytest.approx(1.25)
    key(qtbot, window, QtCore.Qt.Key_Minus, QtCore.Qt.ControlModifier)
    assert window.text_scale() == pytest.approx(1.1)
    window.close()
    assert QtWidgets.QApplication.font().pointSizeF() == pytest.approx(app_pt)
    again = reopen(window, qtbot)
    try:
        assert again.text_scale() == pytest.approx(1.1)  # remembered
        assert QtWidgets.QApplication.font().pointSizeF() == pytest.approx(1.1 * app_pt)
        key(qtbot, again, QtCore.Qt.Key_0, QtCore.Qt.ControlModifier)
        assert again.text_scale() == 1.0
        assert QtWidgets.QApplication.font().pointSizeF() == pytest.approx(app_pt)
    finally:
        again.close()


def test_the_dark_theme_reaches_every_view_and_is_remembered(window, qtbot):
    light_window = QtWidgets.QApplication.palette().color(QtGui.QPalette.Window)
    window.theme_actions["dark"].trigger()
    assert window.theme() == "dark"
    pal = QtWidgets.QApplication.palette()
    assert pal.color(QtGui.QPalette.Window).lightness() < 60
    assert pal.color(QtGui.QPalette.WindowText).lightness() > 200
    assert window.canvas.theme() == "dark"
    assert window.canvas.background_color().lightness() < 40
    for dock in (window.loss_dock, window.gradient_dock):
        assert dock.theme() == "dark"
        assert dock.plot_widget.backgroundBrush().color().lightness() < 40
    assert window.lesson_dock.message_label.styleSheet() == "color: #ff6b7f"
    window.close()
    assert QtWidgets.QApplication.palette().color(QtGui.QPalette.Window) == light_window
    again = reopen(window, qtbot)
    try:
        assert again.theme() == "dark" and again.canvas.theme() == "dark"
        assert again.theme_actions["dark"].isChecked()
        again.set_theme("light")
        assert again.canvas.theme() == "light"
        assert QtWidgets.QApplication.palette().color(QtGui.QPalette.Window) == light_window
    finally:
        again.close()


# -- presentation ---------------------------------------------------------------------------
def test_presentation_keeps_a_control_strip_and_every_key(window, qtbot):
    assert window.start_lesson("01-article-xor")
    wait_lesson(qtbot, window.lesson_player)
    key(qtbot, window, QtCore.Qt.Key_F11)
    assert window.presenting and not window.menuBar().isVisible()
    strip = window.progress_bar.actions()
    for a in (window.act_back, window.act_next, window.act_play, window.act_step,
              window.act_leave_present):
        assert a in strip
    assert window.epoch_label.isVisible() and window.loss_label.isVisible()
    key(qtbot, window, QtCore.Qt.Key_PageDown)  # the clicker still works
    wait_lesson(qtbot, window.lesson_player)
    assert window.lesson_player.index == 1
    for dock in (window.lesson_dock, window.formula_dock):
        assert dock.titleBarWidget() is not None
    window.act_leave_present.trigger()
    assert not window.presenting and window.menuBar().isVisible()


def test_the_window_stays_inside_a_small_screen(window):
    window.resize(1440, 900)
    window.move(600, 400)  # a position remembered from a bigger screen
    window.place_on_screen(QtCore.QRect(0, 0, 1280, 720))
    frame = window.frameGeometry()
    assert QtCore.QRect(0, 0, 1280, 720).contains(frame), frame


# -- nothing is cut off ------------------------------------------------------------------
def test_every_shortcut_sheet_entry_is_whole(window, qtbot):
    window.window_actions.show_shortcuts()
    dlg = window.findChild(QtWidgets.QDialog, "shortcut_sheet")
    qtbot.waitExposed(dlg)
    table = dlg.findChild(QtWidgets.QTableWidget, "shortcut_table")
    QtWidgets.QApplication.processEvents()
    keys = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert "Ctrl+= / Ctrl+-" in keys and "Ctrl+0" in keys and "F11" in keys
    fm = QtGui.QFontMetrics(table.font())
    for r in range(table.rowCount()):
        # the key column holds every key on one line; actions wrap inside their row
        assert fm.horizontalAdvance(table.item(r, 0).text()) <= table.columnWidth(0)
        assert table.sizeHintForRow(r) <= table.rowHeight(r)
    assert table.horizontalScrollBar().maximum() == 0
    dlg.close()


def test_the_lesson_chooser_never_cuts_a_title(window, qtbot):
    combo = window.lesson_dock.lesson_combo
    window.lesson_dock.show()
    window.resizeDocks([window.lesson_dock], [260], QtCore.Qt.Horizontal)
    QtWidgets.QApplication.processEvents()
    for i in range(combo.count()):
        combo.setCurrentIndex(i)
        shown, full = combo.shown_text(), combo.currentText()
        assert shown == full or (shown.endswith("…") and full.startswith(shown[:-1]))
        assert combo.itemData(i, QtCore.Qt.ToolTipRole)  # the whole story on hover
    fm = combo.view().fontMetrics()
    widest = max(fm.horizontalAdvance(combo.itemText(i)) for i in range(combo.count()))
    assert combo.view().minimumWidth() >= widest


def test_stepping_through_an_update_or_a_lesson_is_not_unsaved_work(window, qtbot):
    s = window.session
    window.confirm_close = True
    key(qtbot, window, QtCore.Qt.Key_T)
    while window.stepper.phase.kind != "update":
        key(qtbot, window, QtCore.Qt.Key_PageDown)
    settle(s)
    assert s.snapshot.updates == 1 and not s.dirty
    key(qtbot, window, QtCore.Qt.Key_Escape)
    assert window.start_lesson("01-article-xor")  # no question asked: nothing to lose
    for k in (4, 7, 10):
        go(qtbot, window, k)
    assert not s.dirty
    window.lesson_player.stop()
    assert not s.dirty and window.files.confirm_discard()  # closing asks nothing
    window.confirm_close = False


def test_switching_the_si_prefix_off_at_a_small_range_keeps_epochs_as_they_are(window, qtbot):
    """pyqtgraph froze a x1000 scale when the prefix went off while the axis spanned
    less than 1: 200 epochs read "200k"."""
    ld = window.loss_dock
    ax = ld.loss_plot.getAxis("bottom")
    ld.loss_plot.setXRange(0, 0.5, padding=0)
    ld.set_scale(1.4)  # styles the axes again, at that range
    ld.set_theme("dark")
    assert ax.autoSIPrefixScale == 1.0
    assert ax.tickStrings([0.0, 200.0, 400.0], ax.autoSIPrefixScale, 200.0) == \
        ["0", "200", "400"]
