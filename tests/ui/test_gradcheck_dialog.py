"""The gradient-check dialog: verdicts, colours, counts, the explanation, copy, the problem
filter, and progress with Cancel on a 12,737-weight network."""

from __future__ import annotations

import time

from PySide6 import QtCore, QtGui, QtWidgets
from tests.helpers import settle

from backprop_lab.engine import update
from backprop_lab.engine.gradcheck import (
    FINE,
    KINK,
    LOOK_CLOSER,
    WRONG,
    GradCheckResult,
    GradCheckRow,
    Progress,
    iter_gradient_check,
)
from backprop_lab.engine.names import WeightRef
from backprop_lab.ui import gradcheck_dialog
from backprop_lab.ui.gradcheck_dialog import COLOURS, GradCheckDialog


def cell(dlg: GradCheckDialog, row: int, col: int, role=QtCore.Qt.DisplayRole):
    return dlg.proxy.data(dlg.proxy.index(row, col), role)


def background(dlg: GradCheckDialog, row: int) -> str:
    return cell(dlg, row, 0, QtCore.Qt.BackgroundRole).color().name()


def wait_check(qtbot, dlg: GradCheckDialog) -> None:
    """The check runs on a worker: wait for its result (or for it to stop)."""
    qtbot.waitUntil(lambda: not dlg.running and not dlg._job.running, timeout=60_000)


def open_dialog(qtbot, session, wait: bool = True, **kw) -> GradCheckDialog:
    dlg = GradCheckDialog(session, **kw)
    qtbot.addWidget(dlg)
    if wait and kw.get("run", True):
        wait_check(qtbot, dlg)
    return dlg


def test_article_preset_agrees(qtbot, session):
    dlg = open_dialog(qtbot, session)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert not dlg.running and not dlg.progress_bar.isVisible()
    assert len(dlg.rows) == 13 and dlg.result.complete
    assert dlg.counts() == {FINE: 13, LOOK_CLOSER: 0, WRONG: 0, KINK: 0}
    assert dlg.problem_count() == 0
    assert "agrees with finite differences on every weight" in dlg.summary()
    assert dlg.count_labels[FINE].text() == "13 fine"
    assert dlg.count_labels[WRONG].text() == "0 wrong"
    assert dlg.proxy.rowCount() == 13
    assert [cell(dlg, 0, c) for c in range(3)] == ["W10", "4", "4"]
    assert cell(dlg, 0, 4) == FINE
    assert dlg.row_for("W10").analytic == 4.0
    assert background(dlg, 0) == COLOURS[FINE][0]
    # the bands are explained in words, with their thresholds
    text = dlg.explanation_label.text()
    for words in ("6 significant digits", "1e-06", "more than 1%", "0.01", "relu",
                  "L1 penalty", "averages both", "too small to measure"):
        assert words in text, words
    assert dlg.explanation_label.isVisible()


def test_check_again_uses_new_weights_and_sample(qtbot, session):
    dlg = open_dialog(qtbot, session)
    session.set_weight(WeightRef(1, 0, 1), 2.0)  # V01
    session.select_sample(3)
    settle(session)
    qtbot.mouseClick(dlg.again_button, QtCore.Qt.LeftButton)
    wait_check(qtbot, dlg)
    assert "Sample 4" in dlg.context_label.text()
    assert dlg.row_for("W10").analytic != 4.0
    assert dlg.problem_count() == 0


def test_copy_as_text(qtbot, session):
    dlg = open_dialog(qtbot, session)
    QtWidgets.QApplication.clipboard().clear()
    qtbot.mouseClick(dlg.copy_button, QtCore.Qt.LeftButton)
    text = QtWidgets.QApplication.clipboard().text()
    assert ("weight\tbackprop dL/dw\tfinite difference\trelative error\tverdict\tnote"
            in text)
    assert "\nW10\t4\t4\t" in text and "\tfine\t" in text
    assert "13 fine, 0 look closer, 0 wrong, 0 kink" in text
    assert "agrees" in text


def test_a_broken_gradient_is_red_and_said(qtbot, session, monkeypatch):
    dlg = open_dialog(qtbot, session)
    dlg.show()
    qtbot.waitExposed(dlg)
    k = dlg.row_for("V01").index
    real = update.gradient

    def broken(*a, **kw):
        g = real(*a, **kw)
        g.grad[k] = -g.grad[k]
        return g

    monkeypatch.setattr(update, "gradient", broken)
    qtbot.mouseClick(dlg.again_button, QtCore.Qt.LeftButton)
    wait_check(qtbot, dlg)
    assert dlg.row_for("V01").verdict == WRONG
    assert dlg.counts() == {FINE: 12, LOOK_CLOSER: 0, WRONG: 1, KINK: 0}
    assert "disagrees" in dlg.summary() and "V01" in dlg.summary()
    assert dlg.count_labels[WRONG].text() == "1 wrong"
    row = next(i for i in range(13) if cell(dlg, i, 0) == "V01")
    assert background(dlg, row) == COLOURS[WRONG][0]
    assert cell(dlg, row, 4, QtCore.Qt.ForegroundRole).color().name() == COLOURS[WRONG][1]
    assert "disagree by more than 1%" in cell(dlg, row, 4, QtCore.Qt.ToolTipRole)
    qtbot.mouseClick(dlg.only_problems_check, QtCore.Qt.LeftButton)
    assert dlg.only_problems_check.isChecked()
    assert [r.name for r in dlg.visible_rows()] == ["V01"]
    dlg.only_problems_check.setChecked(False)
    assert dlg.proxy.rowCount() == 13


def _row(name: str, index: int, verdict: str, rel: float) -> GradCheckRow:
    return GradCheckRow(name, index, 0.5, 1.0, 1.0 + rel, rel, rel, float("nan"), 7e-4,
                        verdict, f"why {verdict}")


def test_each_verdict_has_its_colour_and_the_hook_follows_any_progress(qtbot, session):
    dlg = open_dialog(qtbot, session, run=False)
    rows = (_row("W10", 0, FINE, 1e-9), _row("W11", 1, LOOK_CLOSER, 1e-4),
            _row("W12", 2, WRONG, 0.5), _row("W20", 3, KINK, 0.3))
    result = GradCheckResult(rows, 4, 0.25, 1e-8, 0.01)
    steps = [Progress(0, 4, (), 0.25, 1e-8, 0.0),
             Progress(2, 4, rows[:2], 0.25, 1e-8, 0.005),
             Progress(4, 4, rows[2:], 0.25, 1e-8, 0.01, result)]
    dlg.follow(iter(steps), wait=True)
    assert dlg.rows == list(rows)
    assert [background(dlg, i) for i in range(4)] == [
        COLOURS[v][0] for v in (FINE, LOOK_CLOSER, WRONG, KINK)]
    assert len({background(dlg, i) for i in range(4)}) == 4
    assert cell(dlg, 3, 4, QtCore.Qt.ToolTipRole).endswith("why kink")
    assert dlg.count_labels[KINK].text() == "1 kink"
    assert dlg.count_labels[LOOK_CLOSER].text() == "1 look closer"
    dlg.table.sortByColumn(4, QtCore.Qt.DescendingOrder)  # worst verdict first
    assert [r.verdict for r in dlg.visible_rows()] == [WRONG, LOOK_CLOSER, KINK, FINE]
    dlg.only_problems_check.setChecked(True)
    assert {r.name for r in dlg.visible_rows()} == {"W11", "W12", "W20"}


def test_only_kinks_is_not_an_alarm(qtbot, session):
    dlg = open_dialog(qtbot, session, run=False)
    rows = (_row("W10", 0, FINE, 1e-9), _row("W20", 1, KINK, 0.3))
    result = GradCheckResult(rows, 2, 0.25, 1e-8, 0.01)
    dlg.follow(iter([Progress(2, 2, rows, 0.25, 1e-8, 0.01, result)]), wait=True)
    assert "agrees" in dlg.summary() and "1 sit at a kink" in dlg.summary()
    assert dlg.summary_label.styleSheet().startswith(f"color: {COLOURS[FINE][1]}")


def test_sorting_by_relative_error_is_numeric(qtbot, session):
    dlg = open_dialog(qtbot, session)
    dlg.table.sortByColumn(3, QtCore.Qt.DescendingOrder)
    errs = [dlg.proxy.data(dlg.proxy.index(r, 3), gradcheck_dialog.SORT_ROLE)
            for r in range(dlg.proxy.rowCount())]
    assert errs == sorted(errs, reverse=True)


def test_progress_from_a_worker_goes_through_on_progress(qtbot, session):
    dlg = open_dialog(qtbot, session, run=False)
    dlg.begin_external()
    assert dlg.running
    net = session.network
    ds = session.dataset
    seen = []
    for p in iter_gradient_check(net, session.config, ds.x_train[:1], ds.y_train[:1],
                                 batch=5):
        dlg.on_progress(p)
        seen.append((dlg.progress_bar.value(), dlg.progress_bar.maximum()))
    assert seen == [(0, 13), (5, 13), (10, 13), (13, 13)]
    assert not dlg.running and len(dlg.rows) == 13


def test_a_net_with_12k_weights_runs_in_steps_and_cancels(qtbot, session, record_property,
                                                          monkeypatch):
    import backprop_lab.controller.gradcheck as job_mod

    real = job_mod.iter_gradient_check

    def slowed(*args, **kw):  # a slow machine: Cancel always finds the check running
        for p in real(*args, **kw):
            time.sleep(0.02)
            yield p

    monkeypatch.setattr(job_mod, "iter_gradient_check", slowed)
    session.set_structure([2, 64, 64, 64, 64, 1])
    settle(session)
    n = 2 * 64 + 64 + 3 * (64 * 64 + 64) + 64 + 1
    dlg = open_dialog(qtbot, session, wait=False)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert dlg.running and dlg.progress_bar.isVisible() and dlg.cancel_button.isVisible()
    qtbot.waitUntil(lambda: dlg.progress_bar.value() >= 256, timeout=30000)
    assert dlg.progress_bar.maximum() == n
    with qtbot.waitSignal(dlg.cancel_requested, timeout=1000):
        qtbot.mouseClick(dlg.cancel_button, QtCore.Qt.LeftButton)
    assert not dlg.running and not dlg.progress_bar.isVisible()
    assert not dlg.result.complete and 256 <= len(dlg.rows) < n
    assert dlg.summary().startswith(f"Cancelled after {len(dlg.rows):,} of {n:,} weights")

    monkeypatch.setattr(job_mod, "iter_gradient_check", real)
    t0 = time.perf_counter()
    with qtbot.waitSignal(dlg.finished_check, timeout=120000) as done:
        qtbot.mouseClick(dlg.again_button, QtCore.Qt.LeftButton)
    total = time.perf_counter() - t0
    assert done.args[0].complete and len(dlg.rows) == n == 12737
    assert dlg.proxy.rowCount() == n
    assert dlg.counts()[WRONG] == 0 and dlg.counts()[LOOK_CLOSER] == 0
    record_property("gradcheck_12k_engine_s", round(dlg.seconds, 3))
    record_property("gradcheck_12k_total_s", round(total, 3))
    print(f"\ngradient check of {n} weights: engine {dlg.seconds:.2f} s, in the dialog "
          f"{total:.2f} s")


def test_closing_stops_a_running_check(qtbot, session):
    session.set_structure([2, 64, 64, 64, 64, 1])
    settle(session)
    dlg = open_dialog(qtbot, session, wait=False)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.progress_bar.value() > 0, timeout=30000)
    dlg.close()
    assert not dlg._job.running
    value = dlg.progress_bar.value()
    qtbot.wait(50)
    assert dlg.progress_bar.value() == value


def test_scaled_text(qtbot, session):
    dlg = open_dialog(qtbot, session)
    base = QtGui.QFontInfo(dlg.table.font()).pointSizeF()
    dlg.set_scale(2.0)
    assert QtGui.QFontInfo(dlg.table.font()).pointSizeF() > 1.5 * base
