"""The gradient check: backpropagation's dL/dw against finite differences, weight by weight.

The dialog checks the session's selected training sample with the newest weights
(``engine.gradcheck``) and shows one row per weight in a ``QTableView`` over a table
model (a 2-64-64-64-64-1 network has 12,737 weights: no widget per cell). Each row has a
verdict -- fine, look closer, wrong, or kink -- and its colour; the counts and a plain
explanation of the bands sit above the table. The table can be cut down to the problems
and copied as tab-separated text.

Running: ``follow(iterator)`` takes any iterator of ``engine.gradcheck.Progress`` and
shows it in a progress bar with a Cancel button. Small networks are checked at once;
bigger ones one batch of weights per event-loop turn, so the window stays responsive.
A caller that runs the check on a worker instead feeds ``on_progress`` and listens to
``cancel_requested``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from PySide6 import QtCore, QtGui, QtWidgets

from ..controller.gradcheck import GradientCheck
from ..engine import explain
from ..engine.gradcheck import (
    FINE,
    FINE_BELOW,
    FLOOR,
    KINK,
    LOOK_CLOSER,
    STEP,
    VERDICTS,
    WRONG,
    WRONG_ABOVE,
    GradCheckResult,
    GradCheckRow,
    Progress,
    count_verdicts,
)

#: (row background, verdict text) per verdict
COLOURS = {
    FINE: ("#e2f2e2", "#1b5e20"),
    LOOK_CLOSER: ("#fff0c2", "#7a4a00"),
    WRONG: ("#ffd6d6", "#a00000"),
    KINK: ("#e4e4e4", "#3c3c3c"),
}
SEVERITY = {FINE: 0, KINK: 1, LOOK_CLOSER: 2, WRONG: 3}
COLUMNS = ("weight", "backprop dL/dw", "finite difference", "relative error", "verdict")
TIPS = (
    "The weight's name",
    "dL/dw from backpropagation (the engine's gradient), 6 significant digits",
    "The slope measured from the loss itself: the weight nudged down and up by a small "
    "step, extrapolated to a zero step",
    "|backprop - finite difference| / the larger of the two (or the floor, for slopes too "
    "small to measure)",
    "fine, look closer, wrong, or kink: see the explanation above the table",
)

def _role(r) -> int:
    return int(getattr(r, "value", r))


_DISPLAY = _role(QtCore.Qt.DisplayRole)
_TOOLTIP = _role(QtCore.Qt.ToolTipRole)
_FONT = _role(QtCore.Qt.FontRole)
_ALIGN = _role(QtCore.Qt.TextAlignmentRole)
_BACKGROUND = _role(QtCore.Qt.BackgroundRole)
_FOREGROUND = _role(QtCore.Qt.ForegroundRole)
_RIGHT = _role(QtCore.Qt.AlignRight) | _role(QtCore.Qt.AlignVCenter)
SORT_ROLE = _role(QtCore.Qt.UserRole) + 1
PROBLEM_ROLE = _role(QtCore.Qt.UserRole) + 2


def _num(v: float) -> str:
    return f"{v:.6g}"


def _err(v: float) -> str:
    if math.isnan(v):
        return "n/a"
    return f"{v:.1e}" if v != 0 else "0"


def explanation(floor: float = FLOOR) -> str:
    """The bands in plain words (rich text), with the floor the last check used."""
    def chip(verdict: str) -> str:
        bg, fg = COLOURS[verdict]
        return (f"<span style='background:{bg}; color:{fg}; font-weight:bold'>"
                f"&nbsp;{verdict}&nbsp;</span>")

    return (
        "Each row compares dL/dw from backpropagation with a <i>finite difference</i>: the "
        "loss measured with the weight nudged down and up by a small step "
        f"({STEP:.1e} &times; max(1, |w|)), extrapolated to cancel most of the step's own "
        "error. Relative error = |difference| / the larger of the two; slopes smaller "
        f"than {floor:.2g} are too small to measure this way, so their error is measured "
        f"against {floor:.2g} instead.<br>"
        f"{chip(FINE)} They agree to 6 significant digits (relative error at most "
        f"{FINE_BELOW:g}), or differ by less than the finite difference's own "
        "uncertainty.<br>"
        f"{chip(LOOK_CLOSER)} They differ by more than rounding explains, but by less "
        "than 1%: usually a saturated unit or a loss near zero, rarely a small bug.<br>"
        f"{chip(WRONG)} They differ by more than 1% (relative error above "
        f"{WRONG_ABOVE:g}) and by more than the finite difference can be off: "
        "backpropagation is wrong for this weight.<br>"
        f"{chip(KINK)} A relu unit or the L1 penalty changes slope within the step: "
        "backpropagation takes the slope on one side, the finite difference averages both "
        "sides, so a difference here is not an error."
    )


class GradCheckModel(QtCore.QAbstractTableModel):
    """The rows of a gradient check, read-only, formatted only when a cell is drawn."""

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._rows: list[GradCheckRow] = []
        self._background = {v: QtGui.QBrush(QtGui.QColor(bg)) for v, (bg, _) in
                            COLOURS.items()}
        self._foreground = {v: QtGui.QBrush(QtGui.QColor(fg)) for v, (_, fg) in
                            COLOURS.items()}
        self._bold = QtGui.QFont()
        self._bold.setBold(True)

    def set_rows(self, rows: list[GradCheckRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def append_rows(self, rows) -> None:
        if not rows:
            return
        n = len(self._rows)
        self.beginInsertRows(QtCore.QModelIndex(), n, n + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def rows(self) -> list[GradCheckRow]:
        return list(self._rows)

    def row(self, i: int) -> GradCheckRow:
        return self._rows[i]

    def rowCount(self, parent=None) -> int:  # noqa: N802 (Qt override)
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent=None) -> int:  # noqa: N802 (Qt override)
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=QtCore.Qt.DisplayRole):  # noqa: N802
        if orientation == QtCore.Qt.Horizontal:
            if role == QtCore.Qt.DisplayRole:
                return COLUMNS[section]
            if role == QtCore.Qt.ToolTipRole:
                return TIPS[section]
        elif role == QtCore.Qt.DisplayRole:
            return section + 1
        return None

    def data(self, index, role=_DISPLAY):
        # Called for every visible cell and role on each repaint: plain int roles, no
        # enum comparisons (Qt passes roles as ints).
        if not index.isValid():
            return None
        role = int(role)
        r = self._rows[index.row()]
        c = index.column()
        if role == _DISPLAY:
            return (r.name, _num(r.analytic), _num(r.numeric), _err(r.rel_error),
                    r.verdict)[c]
        if role == _BACKGROUND:
            return self._background[r.verdict]
        if role == _FOREGROUND:
            return self._foreground[r.verdict] if c == 4 else None
        if role == _FONT:
            return self._bold if c == 4 and r.verdict != FINE else None
        if role == _ALIGN:
            return _RIGHT if 0 < c < 4 else None
        if role == SORT_ROLE:
            rel = math.inf if math.isnan(r.rel_error) else r.rel_error
            return (index.row(), r.analytic, r.numeric, rel, SEVERITY[r.verdict])[c]
        if role == PROBLEM_ROLE:
            return "problem" if r.problem else ""
        if role == _TOOLTIP:
            u = "not needed" if math.isnan(r.uncertainty) else f"{r.uncertainty:.2e}"
            tip = (f"{r.name} = {r.weight!r}\nbackprop {r.analytic!r}\nfinite difference "
                   f"{r.numeric!r} (step {r.step:.2e}, uncertainty {u})\n"
                   f"|difference| {r.abs_error:.3e}, relative error {r.rel_error:.3e}\n"
                   f"verdict: {r.verdict}")
            return tip + (f"\n{r.note}" if r.note else "")
        return None


class _Filter(QtCore.QSortFilterProxyModel):
    """Sorts by the numbers (not their text); optionally keeps only the problems.

    The filter is Qt's own fixed-string filter on ``PROBLEM_ROLE`` ("problem" or ""), so
    switching it needs neither ``invalidateFilter`` nor ``beginFilterChange`` (the one
    deprecated in Qt 6.10, the other new in it)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(PROBLEM_ROLE)
        self.setFilterKeyColumn(0)

    @property
    def only_problems(self) -> bool:
        return self.filterRegularExpression().pattern() != ""

    def set_only_problems(self, on: bool) -> None:
        self.setFilterFixedString("problem" if on else "")


class GradCheckDialog(QtWidgets.QDialog):
    """Check backpropagation against finite differences on the selected sample."""

    #: the user pressed Cancel (a caller running the check on a worker stops it)
    cancel_requested = QtCore.Signal()
    #: a check ended: the result (``complete`` is False when it was cancelled)
    finished_check = QtCore.Signal(object)

    def __init__(self, session, parent: QtWidgets.QWidget | None = None, *,
                 run: bool = True):
        super().__init__(parent)
        self.setObjectName("gradcheck_dialog")
        self.setWindowTitle("Gradient check")
        self._session = session
        self._result: GradCheckResult | None = None
        self._pending: list[GradCheckRow] = []
        self._live_counts = count_verdicts([])
        self._last: Progress | None = None
        self._iter: Iterator[Progress] | None = None
        self._summary = ""
        self._context = ""
        self._sample_text = "The objective"
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._pull)

        layout = QtWidgets.QVBoxLayout(self)
        self.context_label = QtWidgets.QLabel("")
        self.context_label.setWordWrap(True)
        self.context_label.setToolTip("The training sample and weights the check used")
        layout.addWidget(self.context_label)
        self.summary_label = QtWidgets.QLabel("")
        self.summary_label.setObjectName("gradcheck_summary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        layout.addWidget(self.summary_label)

        counts = QtWidgets.QHBoxLayout()
        self.count_labels: dict[str, QtWidgets.QLabel] = {}
        for v in VERDICTS:
            lab = QtWidgets.QLabel("")
            lab.setObjectName(f"gradcheck_count_{v.replace(' ', '_')}")
            bg, fg = COLOURS[v]
            lab.setStyleSheet(f"background: {bg}; color: {fg}; padding: 2px 8px; "
                              "border-radius: 3px")
            lab.setToolTip(f"Weights judged '{v}'")
            counts.addWidget(lab)
            self.count_labels[v] = lab
        counts.addStretch(1)
        layout.addLayout(counts)

        self.explanation_label = QtWidgets.QLabel(explanation())
        self.explanation_label.setObjectName("gradcheck_explanation")
        self.explanation_label.setWordWrap(True)
        self.explanation_label.setTextFormat(QtCore.Qt.RichText)
        layout.addWidget(self.explanation_label)

        run_bar = QtWidgets.QHBoxLayout()
        self.progress_bar = QtWidgets.QProgressBar()
        self.progress_bar.setObjectName("gradcheck_progress")
        self.progress_bar.setFormat("%v of %m weights")
        self.progress_bar.setToolTip("Weights checked so far")
        run_bar.addWidget(self.progress_bar, 1)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the check and show the weights checked so far")
        self.cancel_button.clicked.connect(self.cancel)
        run_bar.addWidget(self.cancel_button)
        layout.addLayout(run_bar)
        self._show_running(False)

        self.model = GradCheckModel(self)
        self.proxy = _Filter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QtWidgets.QTableView()
        self.table.setObjectName("gradcheck_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, QtCore.Qt.AscendingOrder)  # engine order until clicked
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.Stretch)  # numbers share the width
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.Interactive)
        layout.addWidget(self.table, 1)

        bar = QtWidgets.QHBoxLayout()
        self.only_problems_check = QtWidgets.QCheckBox("Only show problems")
        self.only_problems_check.setToolTip("Hide the weights judged fine")
        self.only_problems_check.toggled.connect(self.proxy.set_only_problems)
        bar.addWidget(self.only_problems_check)
        bar.addStretch(1)
        self.again_button = QtWidgets.QPushButton("Check again")
        self.again_button.setToolTip("Run the check again with the newest weights and the "
                                     "selected sample")
        self.again_button.clicked.connect(self.run_check)
        bar.addWidget(self.again_button)
        self.copy_button = QtWidgets.QPushButton("Copy as text")
        self.copy_button.setToolTip("Copy the summary and every row as tab-separated text")
        self.copy_button.clicked.connect(self.copy)
        bar.addWidget(self.copy_button)
        self.close_button = QtWidgets.QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        bar.addWidget(self.close_button)
        layout.addLayout(bar)

        self._job = GradientCheck(session, self)
        self._job.started.connect(self._on_job_started)
        self._job.progress.connect(self.on_progress)
        self._job.finished.connect(self._on_job_finished)
        self._job.failed.connect(self._on_job_failed)
        self.cancel_requested.connect(self._job.cancel)

        self.set_scale(1.0)
        self.resize(820, 640)
        if run:
            self.run_check()

    # -- running --------------------------------------------------------------------------
    @QtCore.Slot()
    def run_check(self) -> None:
        """Check every weight on the selected sample with the newest weights, on a
        worker (``controller.gradcheck``): rows fill in as they are checked, and Cancel
        stops it."""
        self._stop()
        self._job.start()

    def _on_job_started(self, context: str) -> None:
        self.begin_external(context)

    def _on_job_finished(self, result) -> None:
        if result is None and self.running:  # cancelled elsewhere: show what was checked
            self.cancel()

    def follow(self, progress: Iterator[Progress], wait: bool = False) -> None:
        """Show a running check from an iterator of ``Progress`` (``iter_gradient_check``).

        ``wait``: run it to the end now. Otherwise one step per event-loop turn, so the
        progress bar moves and Cancel works; ``finished_check`` is emitted at the end.
        """
        self._stop()
        self._begin()
        self._iter = iter(progress)
        if wait:
            for p in self._iter:
                self.on_progress(p)
                if p.result is not None:
                    break
            self._iter = None
        else:
            self._timer.start()

    @QtCore.Slot(object)
    def on_progress(self, p: Progress) -> None:
        """Take one ``Progress``: move the bar, keep its rows, and show the result at the
        end. A caller running the check elsewhere calls this for each one (after
        ``begin_external``)."""
        self._last = p
        self._pending.extend(p.rows)
        self.model.append_rows(p.rows)  # rows appear as they are checked
        for v, n in count_verdicts(p.rows).items():
            self._live_counts[v] += n
        self._show_counts(self._live_counts)
        self.progress_bar.setMaximum(max(1, p.total))
        self.progress_bar.setValue(p.done)
        if p.result is not None:
            self._timer.stop()
            self._iter = None
            self._show_result(p.result)

    def begin_external(self, context: str | None = None) -> None:
        """Prepare for a check whose ``Progress`` arrives through ``on_progress``;
        ``context`` says what is checked ("Sample 3 (...), weights of epoch 12: loss")."""
        self._stop()
        if context is not None:
            self._sample_text = context
        self._begin()

    @QtCore.Slot()
    def cancel(self) -> None:
        """Stop the check and show the weights checked so far."""
        if not self.running:
            return
        self._stop()
        self.cancel_requested.emit()
        last = self._last
        if last is None:
            self._show_running(False)
            return
        self._show_result(GradCheckResult(tuple(self._pending), last.total, last.objective,
                                          last.floor, last.elapsed))

    @property
    def running(self) -> bool:
        return self.progress_bar.isVisibleTo(self)

    def _begin(self) -> None:
        self._pending = []
        self._last = None
        self._result = None
        self.model.set_rows([])
        self._live_counts = count_verdicts([])
        self._show_counts(self._live_counts)
        self.context_label.setText(self._sample_text + ".")
        self._summary = "Checking every weight..."
        self.summary_label.setText(self._summary)
        self.summary_label.setStyleSheet("font-weight: bold")
        self.progress_bar.setMaximum(1)
        self.progress_bar.setValue(0)
        self._show_running(True)

    def _show_counts(self, counts: dict[str, int]) -> None:
        for v, n in counts.items():
            self.count_labels[v].setText(f"{n:,} {v}")

    def _pull(self) -> None:
        if self._iter is None:
            self._timer.stop()
            return
        try:
            p = next(self._iter)
        except StopIteration:
            self._timer.stop()
            self._iter = None
            return
        self.on_progress(p)

    def _stop(self) -> None:
        self._timer.stop()
        it, self._iter = self._iter, None
        close = getattr(it, "close", None)
        if close is not None:
            close()

    def _show_running(self, on: bool) -> None:
        self.progress_bar.setVisible(on)
        self.cancel_button.setVisible(on)

    def _show_result(self, result: GradCheckResult) -> None:
        self._show_running(False)
        self._result = result
        if self.model.rowCount() != len(result.rows):  # rows not given through on_progress
            self.model.set_rows(list(result.rows))
        self._context = (f"{self._sample_text} = {explain.fmt(result.objective)}. "
                         f"{len(result):,} of {result.total:,} weights checked in "
                         f"{result.seconds:.2f} s.")
        self.context_label.setText(self._context)
        self._summary, colour = self._summarize(result)
        self.summary_label.setText(self._summary)
        self.summary_label.setStyleSheet(f"color: {colour}; font-weight: bold")
        self._show_counts(result.counts())
        self.explanation_label.setText(explanation(result.floor))
        self._fit_columns()
        self.finished_check.emit(result)

    @staticmethod
    def _summarize(result: GradCheckResult) -> tuple[str, str]:
        """The headline in words, and its colour."""
        if not result.rows:
            return ("Cancelled before any weight was checked." if result.total else
                    "This network has no weights to check."), COLOURS[KINK][1]
        c = result.counts()
        worst = result.worst()
        cut = "" if result.complete else \
            f"Cancelled after {len(result):,} of {result.total:,} weights. "
        if c[WRONG]:
            bad = [r for r in result.rows if r.verdict == WRONG]
            top = max(bad, key=lambda r: r.rel_error if not math.isnan(r.rel_error)
                      else math.inf)
            more = f" Look closer at {c[LOOK_CLOSER]:,} more." if c[LOOK_CLOSER] else ""
            return (f"{cut}Backpropagation disagrees with finite differences on "
                    f"{c[WRONG]:,} weight{'s' if c[WRONG] > 1 else ''} (worst {top.name}, "
                    f"relative error {_err(top.rel_error)}).{more}", COLOURS[WRONG][1])
        if c[LOOK_CLOSER]:
            return (f"{cut}No weight is clearly wrong; look closer at {c[LOOK_CLOSER]:,}: "
                    "they differ by more than rounding explains.", COLOURS[LOOK_CLOSER][1])
        kinks = (f"; {c[KINK]:,} sit at a kink, where finite differences cannot judge"
                 if c[KINK] else "")
        every = "every weight checked" if cut else "every weight"
        return (f"{cut}Backpropagation agrees with finite differences on {every}{kinks}. "
                f"Largest relative error {_err(worst.rel_error)} ({worst.name}).",
                COLOURS[FINE][1])

    def _on_job_failed(self, message: str) -> None:
        self._show_running(False)
        self.summary_label.setText(message)
        self.summary_label.setStyleSheet("font-weight: bold; color: #b00020")

    def done(self, r: int) -> None:  # Qt override: closing stops the check
        self._stop()
        self._job.cancel()
        super().done(r)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._stop()
        self._job.cancel()
        super().closeEvent(event)

    # -- reading --------------------------------------------------------------------------
    @property
    def rows(self) -> list[GradCheckRow]:
        """Every row of the last check, in the engine's weight order."""
        return self.model.rows()

    @property
    def result(self) -> GradCheckResult | None:
        return self._result

    @property
    def seconds(self) -> float:
        """How long the last check took (the engine's part)."""
        return self._result.seconds if self._result is not None else 0.0

    def summary(self) -> str:
        return self._summary

    def counts(self) -> dict[str, int]:
        return count_verdicts(self.model._rows)

    def problem_count(self) -> int:
        return sum(1 for r in self.model._rows if r.problem)

    def visible_rows(self) -> list[GradCheckRow]:
        """The rows the table shows, in its order (filter and sorting applied)."""
        return [self.model.row(self.proxy.mapToSource(self.proxy.index(i, 0)).row())
                for i in range(self.proxy.rowCount())]

    def row_for(self, name: str) -> GradCheckRow | None:
        return next((r for r in self.model._rows if r.name == name), None)

    def text(self) -> str:
        """Summary and table as tab-separated text."""
        counts = ", ".join(f"{n} {v}" for v, n in self.counts().items())
        lines = [self._context, self._summary, counts, "",
                 "\t".join(COLUMNS + ("note",))]
        lines += [f"{r.name}\t{_num(r.analytic)}\t{_num(r.numeric)}\t{_err(r.rel_error)}\t"
                  f"{r.verdict}\t{r.note}" for r in self.model._rows]
        return "\n".join(lines) + "\n"

    @QtCore.Slot()
    def copy(self) -> None:
        QtWidgets.QApplication.clipboard().setText(self.text())

    # -- presentation -------------------------------------------------------------------
    def set_scale(self, factor: float) -> None:
        """Scale the text (presentation mode: 1.5 or 2)."""
        app_font = QtWidgets.QApplication.font()
        font = QtGui.QFont(app_font)
        font.setPointSizeF(app_font.pointSizeF() * max(0.5, float(factor)))
        self.setFont(font)
        # labels with a style sheet do not inherit the dialog's font: give it to them
        for lab in (self.summary_label, *self.count_labels.values()):
            lab.setFont(font)
        mono = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont)
        mono.setPointSizeF(font.pointSizeF() * 1.1)
        self.table.setFont(mono)
        self.table.verticalHeader().setDefaultSectionSize(
            int(QtGui.QFontMetrics(mono).height() * 1.35))
        self._fit_columns()

    def _fit_columns(self) -> None:
        m = QtGui.QFontMetrics(self.table.font())
        longest = max((len(r.name) for r in self.model._rows), default=6)
        self.table.setColumnWidth(0, m.horizontalAdvance("M" * max(longest, 6)) + 24)
        hm = QtGui.QFontMetrics(self.table.horizontalHeader().font())
        need = self.table.columnWidth(0) + 40 + sum(
            max(m.horizontalAdvance("-0.000000e-00"), hm.horizontalAdvance(c)) + 24
            for c in COLUMNS[1:])
        self.table.setMinimumWidth(need)
