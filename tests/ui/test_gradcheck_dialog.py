"""The gradient-check dialog: the article's numbers, red rows, copy, a 12k-weight net."""

from __future__ import annotations

import time

from PySide6 import QtCore, QtWidgets
from tests.helpers import settle

from backprop_lab.engine.gradcheck import GradCheckRow
from backprop_lab.engine.names import WeightRef
from backprop_lab.ui import gradcheck_dialog
from backprop_lab.ui.gradcheck_dialog import TOLERANCE, GradCheckDialog


def cell(dlg: GradCheckDialog, row: int, col: int, role=QtCore.Qt.DisplayRole):
    return dlg.proxy.data(dlg.proxy.index(row, col), role)


def test_article_preset_agrees(qtbot, session):
    dlg = GradCheckDialog(session)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert len(dlg.rows) == 13
    assert all(r.rel_error < TOLERANCE for r in dlg.rows)
    assert dlg.bad_count() == 0
    assert dlg.summary().startswith("Largest relative error")
    assert "backpropagation agrees with finite differences" in dlg.summary()
    assert dlg.proxy.rowCount() == 13
    assert [cell(dlg, 0, c) for c in range(3)] == ["W10", "4", "4"]
    assert dlg.row_for("W10").analytic == 4.0
    assert cell(dlg, 0, 3, QtCore.Qt.BackgroundRole) is None


def test_check_again_uses_new_weights_and_sample(qtbot, session):
    dlg = GradCheckDialog(session)
    qtbot.addWidget(dlg)
    session.set_weight(WeightRef(1, 0, 1), 2.0)  # V01
    session.select_sample(3)
    settle(session)
    qtbot.mouseClick(dlg.again_button, QtCore.Qt.LeftButton)
    assert "Sample 4" in dlg.context_label.text()
    # sample (1, 1) -> target 0; D0 = 1 + 2*3 + 3 = 10... the gradient is no longer 4
    assert dlg.row_for("W10").analytic != 4.0
    assert dlg.bad_count() == 0


def test_copy_as_text(qtbot, session):
    dlg = GradCheckDialog(session)
    qtbot.addWidget(dlg)
    QtWidgets.QApplication.clipboard().clear()
    qtbot.mouseClick(dlg.copy_button, QtCore.Qt.LeftButton)
    text = QtWidgets.QApplication.clipboard().text()
    assert "weight\tbackprop dL/dw\tfinite difference\trelative error" in text
    assert "\nW10\t4\t4\t" in text
    assert "agrees" in text


def test_disagreement_is_red_and_said(qtbot, session, monkeypatch):
    rows = [GradCheckRow("W10", 4.0, 4.0, 1e-12), GradCheckRow("W11", 1.0, 1.5, 0.2),
            GradCheckRow("W12", 0.0, 0.0, 0.0)]
    monkeypatch.setattr(gradcheck_dialog, "gradient_check", lambda *a, **k: rows)
    dlg = GradCheckDialog(session)
    qtbot.addWidget(dlg)
    assert dlg.bad_count() == 1
    assert "disagree" in dlg.summary() and "W11" in dlg.summary()
    assert cell(dlg, 1, 3, QtCore.Qt.BackgroundRole) is not None
    assert cell(dlg, 0, 3, QtCore.Qt.BackgroundRole) is None
    dlg.only_bad_check.setChecked(True)
    assert dlg.proxy.rowCount() == 1
    assert cell(dlg, 0, 0) == "W11"


def test_sorting_by_relative_error_is_numeric(qtbot, session):
    dlg = GradCheckDialog(session)
    qtbot.addWidget(dlg)
    dlg.table.sortByColumn(3, QtCore.Qt.DescendingOrder)
    errs = [dlg.proxy.data(dlg.proxy.index(r, 3), gradcheck_dialog.SORT_ROLE)
            for r in range(dlg.proxy.rowCount())]
    assert errs == sorted(errs, reverse=True)


def test_a_net_with_12k_weights_builds(qtbot, session, record_property):
    session.set_structure([2, 64, 64, 64, 64, 1])
    t0 = time.perf_counter()
    dlg = GradCheckDialog(session)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    total = time.perf_counter() - t0
    n = 2 * 64 + 64 + 3 * (64 * 64 + 64) + 64 + 1
    assert len(dlg.rows) == n == 12737
    assert dlg.proxy.rowCount() == n
    record_property("gradcheck_12k_engine_s", round(dlg.seconds, 3))
    record_property("gradcheck_12k_total_s", round(total, 3))
    print(f"\ngradient check of {n} weights: engine {dlg.seconds:.2f} s, dialog shown "
          f"after {total:.2f} s")
