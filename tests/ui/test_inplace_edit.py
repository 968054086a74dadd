"""Editing a weight in place on the canvas: a spin box at the edge or a drag on its label,
the loss following live, one undo step per edit, Escape putting the value back."""

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from tests.helpers import settle

from backprop_lab.controller.teaching import PhaseStepper
from backprop_lab.controller.undo import UndoHistory
from backprop_lab.engine.names import WeightRef
from backprop_lab.ui.canvas import NetworkCanvas
from backprop_lab.ui.canvas.editing import WeightSpinBox, format_weight, parse_weight
from backprop_lab.ui.presenter import Presenter, WeightEditLink

LEFT = QtCore.Qt.MouseButton.LeftButton
W11 = WeightRef(0, 0, 0)  # X1 -> Z1
W10 = WeightRef(0, 0, -1)  # the bias weight into Z1


@pytest.fixture
def stage(qtbot, session):
    """The canvas, presenter, undo history and edit link on a session (no window)."""
    canvas = NetworkCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(1100, 700)
    canvas.show()
    qtbot.waitExposed(canvas)
    stepper = PhaseStepper(session)
    labels = [QtWidgets.QLabel() for _ in range(3)]
    presenter = Presenter(session, stepper, canvas, *labels)
    undo = UndoHistory(session)
    link = WeightEditLink(session, undo, canvas, stepper)
    settle(session)
    presenter.render()
    yield canvas, presenter, undo, link
    canvas.close_weight_editor(commit=False, restore=False)
    presenter.stop()
    stepper.stop()
    canvas.close()


def test_the_editor_opens_over_the_weights_label(stage, qtbot):
    canvas, *_ = stage
    box = canvas.edit_weight(W11, 1.0)
    assert isinstance(box, WeightSpinBox) and box.isVisible() and box.hasFocus()
    assert box.text() == "1"
    label = next(r for ref, _, r in canvas.label_rects() if ref == W11)
    centre = canvas.mapFromScene(label.center())
    assert box.geometry().contains(centre)
    assert canvas.editing_weight() == W11


def test_typing_changes_the_loss_live_and_enter_makes_one_undo_step(stage, qtbot, session):
    canvas, presenter, undo, _ = stage
    loss0 = canvas.data().loss
    assert loss0 == 8.0  # sample 1 of the article: output 4, target 0
    box = canvas.edit_weight(W10, session.weight_value(W10))
    qtbot.keyClicks(box.lineEdit(), "-2")  # the text was selected: replaced
    assert session.weight_value(W10) == -2.0  # live, before Enter
    assert canvas.data().loss != loss0  # the canvas follows the value
    live_loss = canvas.data().loss
    qtbot.keyClick(box.lineEdit(), QtCore.Qt.Key.Key_Up)  # one step of 0.1
    assert session.weight_value(W10) == pytest.approx(-1.9)
    assert canvas.data().loss != live_loss
    with qtbot.waitSignal(canvas.weight_edit_committed) as sig:
        qtbot.keyClick(box.lineEdit(), QtCore.Qt.Key.Key_Return)
    ref, before, after = sig.args
    assert (ref, before, after) == (W10, 1.0, pytest.approx(-1.9))
    assert canvas.weight_editor() is None and not box.isVisible()
    assert undo.count == 1 and undo.undo_text == "Edit W10"
    undo.undo()
    assert session.weight_value(W10) == 1.0
    assert canvas.data().loss == loss0
    undo.redo()
    assert session.weight_value(W10) == pytest.approx(-1.9)


def test_escape_puts_the_value_back_and_records_nothing(stage, qtbot, session):
    canvas, _, undo, _ = stage
    box = canvas.edit_weight(W11, session.weight_value(W11))
    qtbot.keyClicks(box.lineEdit(), "0.25")
    assert session.weight_value(W11) == 0.25
    with qtbot.waitSignal(canvas.weight_edit_cancelled):
        qtbot.keyClick(box.lineEdit(), QtCore.Qt.Key.Key_Escape)
    assert session.weight_value(W11) == 1.0
    assert undo.count == 0 and canvas.weight_editor() is None


def test_a_click_away_keeps_the_value(stage, qtbot, session):
    canvas, _, undo, _ = stage
    box = canvas.edit_weight(W11, session.weight_value(W11))
    qtbot.keyClicks(box.lineEdit(), "3")
    qtbot.mouseClick(canvas.viewport(), LEFT, pos=QtCore.QPoint(4, 690))
    assert canvas.weight_editor() is None
    assert session.weight_value(W11) == 3.0 and undo.count == 1


def test_enter_without_a_change_is_no_edit(stage, qtbot, session):
    canvas, _, undo, _ = stage
    before = session.dirty
    box = canvas.edit_weight(W11, session.weight_value(W11))
    qtbot.keyClick(box.lineEdit(), QtCore.Qt.Key.Key_Return)
    assert undo.count == 0 and session.dirty == before


def test_dragging_a_label_changes_the_weight_as_one_edit(stage, qtbot, session):
    canvas, _, undo, _ = stage
    label = next(r for ref, _, r in canvas.label_rects() if ref == W11)
    start = canvas.mapFromScene(label.center())
    vp = canvas.viewport()
    changes = []
    canvas.weight_edit_changed.connect(lambda r, v: changes.append((r, v)))
    qtbot.mousePress(vp, LEFT, pos=start)
    for dx in (10, 30, 50):
        qtbot.mouseMove(vp, start + QtCore.QPoint(dx, 0))
    assert canvas.editing_weight() == W11
    with qtbot.waitSignal(canvas.weight_edit_committed) as sig:
        qtbot.mouseRelease(vp, LEFT, pos=start + QtCore.QPoint(50, 0))
    assert sig.args == [W11, 1.0, 1.5]  # 0.01 a pixel
    assert [v for _, v in changes] == [1.1, 1.3, 1.5]
    assert session.weight_value(W11) == 1.5 and undo.count == 1
    assert canvas.editing_weight() is None
    undo.undo()
    assert session.weight_value(W11) == 1.0


def test_a_drag_on_empty_space_still_pans_and_edits_nothing(stage, qtbot, session):
    canvas, _, undo, _ = stage
    canvas.scale(2, 2)  # zoomed in: there is room to pan
    vp = canvas.viewport()
    with qtbot.assertNotEmitted(canvas.weight_edit_started):
        qtbot.mousePress(vp, LEFT, pos=QtCore.QPoint(5, 5))
        qtbot.mouseMove(vp, QtCore.QPoint(60, 60))
        qtbot.mouseRelease(vp, LEFT, pos=QtCore.QPoint(60, 60))
    assert undo.count == 0


def test_an_edit_during_a_stepped_update_ends_the_step(stage, qtbot, session):
    canvas, presenter, undo, _ = stage
    stepper = presenter.stepper
    stepper.start()
    qtbot.waitUntil(lambda: stepper.active, timeout=10000)
    box = canvas.edit_weight(W11, session.weight_value(W11))
    assert stepper.active  # opening alone changes nothing
    qtbot.keyClicks(box.lineEdit(), "2")
    assert not stepper.active
    t = session.trace()
    assert canvas.data().loss == pytest.approx(float(t.sample_losses[0]))
    qtbot.keyClick(box.lineEdit(), QtCore.Qt.Key.Key_Return)
    assert undo.count == 1


def test_a_new_network_abandons_the_edit(stage, qtbot, session):
    canvas, _, undo, link = stage
    canvas.edit_weight(W11, session.weight_value(W11))
    with qtbot.waitSignal(canvas.weight_edit_cancelled):
        session.load_preset("spiral")
    assert canvas.weight_editor() is None and not link.editing and undo.count == 0
    settle(session)


def test_the_editor_keeps_its_keys_from_window_shortcuts(stage, qtbot, session):
    canvas, *_ = stage
    fired = []
    act = QtGui.QAction("next sample", canvas)
    act.setShortcut(QtCore.Qt.Key.Key_Down)
    act.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
    act.triggered.connect(lambda: fired.append(True))
    canvas.addAction(act)
    box = canvas.edit_weight(W11, 1.0)
    qtbot.keyClick(box.lineEdit(), QtCore.Qt.Key.Key_Down)
    assert not fired
    assert session.weight_value(W11) == pytest.approx(0.9)


def test_number_text():
    assert format_weight(0.6) == "0.6" and format_weight(1) == "1" and format_weight(0) == "0"
    assert format_weight(0.123456789) == "0.123457"
    assert parse_weight("0,5") == 0.5 and parse_weight("2e-3") == 0.002
    assert parse_weight("abc") is None and parse_weight("nan") is None
    assert parse_weight("1e7") is None  # beyond the limit
    assert np.isfinite(parse_weight("-1e6"))


def test_text_that_is_not_a_number_is_refused(stage, qtbot, session):
    canvas, _, undo, _ = stage
    box = canvas.edit_weight(W11, session.weight_value(W11))
    with qtbot.assertNotEmitted(canvas.weight_edit_changed):
        qtbot.keyClicks(box.lineEdit(), "abc")
    assert box.lineEdit().text() in ("", "1")  # the letters were not taken
    qtbot.keyClick(box.lineEdit(), QtCore.Qt.Key.Key_Return)
    assert session.weight_value(W11) == 1.0 and undo.count == 0
