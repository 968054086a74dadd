"""The formula dock: the article's numbers, what the stepper has revealed, hover and pin,
live refresh, copy, the real canvas."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from tests.helpers import settle

from backprop_lab.controller.teaching import PhaseStepper
from backprop_lab.engine.names import WeightRef
from backprop_lab.ui.docks.formula_dock import FormulaDock

Z1_FORWARD = "a_Z1 = W10*X0 + W11*X1 + W12*X2 = 1*1 + 1*0 + 1*0 = 1"
W10_UPDATE = "W10 := W10 - alpha * X0 * delta_Z1 = 1 - 0.1 * 1 * 4 = 0.6"
W10 = WeightRef(0, 0, -1)


@pytest.fixture
def stepper(session):
    return PhaseStepper(session)


@pytest.fixture
def dock(qtbot, session, stepper):
    d = FormulaDock(session, stepper)
    qtbot.addWidget(d)
    d.resize(700, 600)
    d.show()
    qtbot.waitExposed(d)
    return d


def lines(dock: FormulaDock) -> list[str]:
    return [line.strip() for line in dock.text().splitlines()]


def test_dock_identity(dock):
    assert dock.objectName() == "formula_dock"
    assert dock.windowTitle() == "Formulas"
    assert "Click a unit or a weight" in dock.text()
    assert dock.pinned() is None


def test_unit_z1_of_the_article_net_general_and_numbers(dock):
    dock.show_unit(1, 0)
    text = lines(dock)
    assert Z1_FORWARD in text
    assert "a_Z1 = sum_j W1j * Xj" in text
    assert "delta_Z1 = f'(a_Z1) * sum_k Vk1 * delta_Dk" in text
    assert "delta_Z1 = V01 * delta_D0 * f'(a_Z1) = 1 * 4 * 1 = 4" in text
    assert any("f = identity" in line for line in text)
    assert dock.pinned() == (1, 0)


def test_output_unit_shows_the_loss_delta(dock):
    dock.show_unit(2, 0)
    text = lines(dock)
    assert "delta_D0 = dL/da_D0 = (D0 - y0) * f'(a_D0)" in text
    assert "delta_D0 = (D0 - y0) * f'(a_D0) = (4 - 0) * 1 = 4" in text
    assert "L = 1/2 * [(D0 - y0)^2] = 1/2 * [(4 - 0)^2] = 8" in text


def test_input_and_bias_units_explain_they_have_no_delta(dock):
    dock.show_unit(0, 0)
    assert "X1 = 0" in lines(dock)
    assert "no delta" in dock.text()
    dock.show_unit(1, -1)
    assert "Z0 = 1" in lines(dock)
    assert "no delta" in dock.text()


def test_weight_w10_gradient_and_update(dock):
    dock.show_weight(W10)
    text = lines(dock)
    assert "dL/dW10 = X0 * delta_Z1 = 1 * 4 = 4" in text
    assert W10_UPDATE in text
    assert "W10 := W10 - alpha * dL/dW10" in text
    assert dock.pinned() == W10


def test_stepper_forward_phase_hides_the_delta(dock, stepper):
    stepper.start()
    stepper.go_to("forward", 1)
    dock.show_unit(1, 0)
    text = lines(dock)
    assert Z1_FORWARD in text
    assert "delta_Z1: not computed yet (the backward pass comes after the loss)" in text
    assert not any(line.startswith("delta_Z1 = V01") for line in text)
    dock.show_weight(W10)
    text = lines(dock)
    assert any(line.startswith("dL/dW10: not computed yet") for line in text)
    assert W10_UPDATE not in text


def test_stepper_start_phase_hides_the_forward_values(dock, stepper):
    stepper.start()
    dock.show_unit(1, 0)
    text = dock.text()
    assert "a_Z1 and Z1: not computed yet" in text
    assert Z1_FORWARD not in text


def test_stepper_update_shows_the_update_and_follows_phase_changes(dock, stepper):
    dock.show_weight(W10)
    stepper.start()
    stepper.go_to("backward", 1)  # the dock follows stepper.changed by itself
    text = lines(dock)
    assert "dL/dW10 = X0 * delta_Z1 = 1 * 4 = 4" in text
    assert W10_UPDATE not in text
    stepper.go_to("update")
    text = lines(dock)
    assert W10_UPDATE in text
    assert "W10 is now 0.6" in text


def test_batch_scope_lists_each_sample_and_the_mean(dock, stepper):
    stepper.set_scope("batch")
    stepper.start()
    stepper.go_to("update")
    dock.show_weight(WeightRef(0, 0, 0))  # W11: from X1 (source 0) to Z1
    text = lines(dock)
    samples = [line for line in text if line.startswith("sample ") and "X1 * delta_Z1" in line]
    assert len(samples) == 4
    assert "dL/dW11 (data) = mean over 4 samples of X1 * delta_Z1 = (0 + 0 + 6 + 10) / 4 = 4" \
        in text
    assert "W11 := W11 - alpha * dL/dW11 = 1 - 0.1 * 4 = 0.6" in text


def test_hover_previews_and_leaving_returns_to_the_pinned_item(dock, qtbot):
    dock.show_unit(1, 0)
    dock.follow_hover(W10)
    qtbot.waitUntil(lambda: dock.shown() == W10, timeout=2000)
    assert W10_UPDATE in lines(dock)
    assert "under the pointer" in dock.header_label.text()
    dock.follow_hover(None)
    qtbot.waitUntil(lambda: dock.shown() == (1, 0), timeout=2000)
    assert Z1_FORWARD in lines(dock)
    assert dock.pinned() == (1, 0)


def test_none_in_the_same_breath_as_a_new_item_is_ignored(dock, qtbot):
    # the canvas sends weight_hovered(ref) then unit_hovered(None) when the pointer moves
    # from a unit straight onto an edge
    dock.follow_hover((1, 0))
    dock.follow_hover(W10)
    dock.follow_hover(None)
    qtbot.waitUntil(lambda: dock.shown() == W10, timeout=2000)
    qtbot.wait(500)
    assert dock.shown() == W10


def test_live_training_refreshes_the_numbers(dock, session, qtbot):
    dock.show_unit(1, 0)
    assert "weights of epoch 0;" in dock.text()
    session.step_epochs(3)
    settle(session)
    qtbot.waitUntil(lambda: "weights of epoch 3;" in dock.text(), timeout=3000)
    assert Z1_FORWARD not in dock.text()  # the weights moved


def test_copy_button_copies_the_plain_text(dock, qtbot):
    dock.show_weight(W10)
    QtWidgets.QApplication.clipboard().clear()
    qtbot.mouseClick(dock.copy_button, QtCore.Qt.LeftButton)
    assert QtWidgets.QApplication.clipboard().text() == dock.text()
    assert W10_UPDATE in QtWidgets.QApplication.clipboard().text()


def test_scale_and_monospace(dock):
    app_pt = QtWidgets.QApplication.font().pointSizeF()
    assert dock.browser.font().pointSizeF() == pytest.approx(app_pt * 1.25)
    metrics = QtGui.QFontMetricsF(dock.browser.font())
    assert metrics.horizontalAdvance("i") == pytest.approx(metrics.horizontalAdvance("M"))
    dock.set_scale(2.0)
    assert dock.browser.font().pointSizeF() == pytest.approx(app_pt * 2.5)


def test_text_is_written_once_when_scrolled_and_refreshed(qtbot, session):
    session.load_preset("deep-sigmoid")
    d = FormulaDock(session)
    qtbot.addWidget(d)
    d.resize(600, 300)
    d.show()
    qtbot.waitExposed(d)
    d.show_unit(2, 3)
    d.browser.verticalScrollBar().setValue(10_000)
    session.step_epochs(2)
    settle(session)
    d.refresh()
    qtbot.wait(50)
    shown = d.browser.toPlainText()
    assert shown.count("Z24: hidden unit of layer Z2") == 1  # Z2 with the subscript 4
    assert "aZ2,4 = " in shown  # typeset: a with the subscript Z2,4


def test_equations_are_typeset_on_screen_and_plain_in_the_clipboard(dock):
    """On screen: subscripts, Greek letters, real operators, no ASCII * or _ in the
    equations; copied: the plain ASCII the command line prints."""
    dock.show_weight(WeightRef(0, 0, -1))  # W10
    html = dock.browser.toHtml()
    assert "W</span><span style=\" vertical-align:sub;\">10" in html or \
        "vertical-align:sub" in html
    shown = dock.browser.toPlainText()
    equations = [line for line in shown.splitlines() if " = " in line]
    assert equations and not any("*" in line for line in equations)
    assert "_" not in shown
    assert any("α" in line or "δ" in line for line in equations)
    assert "W10 := W10 - alpha * X0 * delta_Z1" in dock.text()  # copy stays ASCII


def test_an_unknown_unit_or_weight_is_ignored(dock):
    dock.show_unit(1, 0)
    assert dock.show_unit(1, 7) is False
    assert dock.show_weight(WeightRef(3, 0, 0)) is False
    assert dock.pinned() == (1, 0)


def test_structure_change_drops_a_pinned_item_that_no_longer_exists(dock, session):
    dock.show_unit(1, 2)  # Z3
    session.set_structure([2, 2, 1])
    assert dock.pinned() is None
    assert "Click a unit or a weight" in dock.text()


def edge_point(canvas, ref: WeightRef, qtbot) -> QtCore.QPoint:
    """The middle of an edge in viewport pixels, once the canvas has settled (it refits
    after the window or its docks change size)."""
    def point():
        return canvas.mapFromScene(canvas.weight_segment(ref).center())

    qtbot.waitUntil(lambda: canvas.item_at(point()) == ref, timeout=3000)
    qtbot.wait(50)
    qtbot.waitUntil(lambda: canvas.item_at(point()) == ref, timeout=3000)
    return point()


def test_click_on_a_weight_in_the_real_canvas(window, qtbot):
    canvas = window.canvas
    dock = getattr(window, "formula_dock", None)
    if dock is None:  # not wired into the window yet: wire a dock the way the lead will
        dock = FormulaDock(window.session, None, window)
        window.addDockWidget(QtCore.Qt.RightDockWidgetArea, dock)
        canvas.weight_clicked.connect(dock.show_weight)
        canvas.unit_clicked.connect(dock.show_unit)
        canvas.weight_hovered.connect(dock.follow_hover)
        canvas.unit_hovered.connect(dock.follow_hover)
    ref = WeightRef(0, 0, 0)  # W11: from X1 (source 0) to Z1
    pos = edge_point(canvas, ref, qtbot)
    qtbot.mouseClick(canvas.viewport(), QtCore.Qt.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: dock.pinned() == ref, timeout=2000)
    assert "W11 := W11 - alpha * X1 * delta_Z1 = 1 - 0.1 * 0 * 4 = 1" in lines(dock)
    # the click also opened the in-place weight editor: close it
    canvas.close_weight_editor(commit=False)
    # pointing at another weight previews it; leaving the canvas goes back to W11
    v01 = WeightRef(1, 0, 0)
    at = edge_point(canvas, v01, qtbot)
    for p in (at + QtCore.QPoint(0, 1), at):  # the first move after the editor enters
        qtbot.mouseMove(canvas.viewport(), p)
    qtbot.waitUntil(lambda: dock.shown() == v01, timeout=2000)
    assert dock.pinned() == ref
    canvas._set_hover(None)  # what leaveEvent does; offscreen has no real pointer to move
    qtbot.waitUntil(lambda: dock.shown() == ref, timeout=2000)
