"""The gradient check: backpropagation's dL/dw against finite differences, weight by weight.

The dialog runs ``engine.gradcheck.gradient_check`` on the session's selected training
sample with the newest weights and shows one row per weight in a ``QTableView`` over a
table model (a 2-64-64-64-64-1 network has 12,737 weights: no widget per cell). Relative
errors above ``TOLERANCE`` are shown in red and the summary line says whether the two
agree. The whole table can be copied as tab-separated text.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..engine import explain
from ..engine.gradcheck import GradCheckRow, gradient_check
from ..engine.names import unit_name

TOLERANCE = 1e-6  # relative errors above this are highlighted
BAD_FOREGROUND = "#a00000"
BAD_BACKGROUND = "#ffd9d9"
COLUMNS = ("weight", "backprop dL/dw", "finite difference", "relative error")
TIPS = (
    "The weight's name",
    "dL/dw from backpropagation (the engine's gradient), 6 significant digits",
    "(L(w + eps) - L(w - eps)) / (2 eps): the loss changed by hand, eps = 1e-4",
    "|backprop - finite difference| / (|backprop| + |finite difference|); "
    f"red above {TOLERANCE:g}",
)
SORT_ROLE = QtCore.Qt.UserRole + 1


def _num(v: float) -> str:
    return f"{v:.6g}"


def _err(v: float) -> str:
    return f"{v:.1e}" if v != 0 else "0"


class GradCheckModel(QtCore.QAbstractTableModel):
    """The rows of a gradient check, read-only, formatted only when a cell is drawn."""

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._rows: list[GradCheckRow] = []
        self._bad_brush = QtGui.QBrush(QtGui.QColor(BAD_BACKGROUND))
        self._bad_pen = QtGui.QBrush(QtGui.QColor(BAD_FOREGROUND))

    def set_rows(self, rows: list[GradCheckRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[GradCheckRow]:
        return list(self._rows)

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

    def data(self, index, role=QtCore.Qt.DisplayRole):
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        c = index.column()
        if role == QtCore.Qt.DisplayRole:
            return (r.name, _num(r.analytic), _num(r.numeric), _err(r.rel_error))[c]
        if role == SORT_ROLE:
            return (index.row(), r.analytic, r.numeric, r.rel_error)[c]
        if role == QtCore.Qt.TextAlignmentRole and c > 0:
            return int(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
        bad = not r.rel_error <= TOLERANCE  # NaN counts as bad
        if bad and role == QtCore.Qt.BackgroundRole:
            return self._bad_brush
        if bad and role == QtCore.Qt.ForegroundRole:
            return self._bad_pen
        if role == QtCore.Qt.ToolTipRole:
            return (f"{r.name}: backprop {r.analytic!r}, finite difference {r.numeric!r}, "
                    f"relative error {r.rel_error:.3e}")
        return None


class _Filter(QtCore.QSortFilterProxyModel):
    """Sorts by the numbers (not their text); optionally keeps only the bad rows."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.only_bad = False
        self.setSortRole(SORT_ROLE)

    def set_only_bad(self, on: bool) -> None:
        self.beginFilterChange()
        self.only_bad = bool(on)
        self.endFilterChange(QtCore.QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802 (Qt override)
        if not self.only_bad:
            return True
        r = self.sourceModel()._rows[row]
        return not r.rel_error <= TOLERANCE


class GradCheckDialog(QtWidgets.QDialog):
    """Check backpropagation against finite differences on the selected sample."""

    def __init__(self, session, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gradcheck_dialog")
        self.setWindowTitle("Gradient check")
        self._session = session
        self._seconds = 0.0
        self._summary = ""
        self._context = ""

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
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.Stretch)  # numbers share the width
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.Interactive)
        layout.addWidget(self.table, 1)

        bar = QtWidgets.QHBoxLayout()
        self.only_bad_check = QtWidgets.QCheckBox(f"Only errors above {TOLERANCE:g}")
        self.only_bad_check.setToolTip("Hide the weights where the two gradients agree")
        self.only_bad_check.toggled.connect(self._on_only_bad)
        bar.addWidget(self.only_bad_check)
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

        self.set_scale(1.0)
        self.resize(760, 560)
        self.run_check()

    # -- running --------------------------------------------------------------------------
    @QtCore.Slot()
    def run_check(self) -> None:
        """Check every weight on the selected sample with the newest weights."""
        s = self._session
        k = s.selected_sample
        ds = s.dataset
        x, y = ds.x_train[k:k + 1], ds.y_train[k:k + 1]
        net, cfg = s.network, s.config
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.WaitCursor)
        try:
            t0 = time.perf_counter()
            rows = gradient_check(net, cfg, x, y)
            self._seconds = time.perf_counter() - t0
            loss = float(net.loss(x, y, cfg.loss))
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        self.model.set_rows(rows)
        inputs = ", ".join(f"{unit_name(s.layers, 0, j)} = {explain.fmt(x[0, j])}"
                           for j in range(x.shape[1]))
        target = ", ".join(explain.fmt(v) for v in y[0])
        self._context = (f"Sample {k + 1} ({inputs}; target {target}), weights of epoch "
                         f"{s.epoch}, loss {cfg.loss} = {explain.fmt(loss)}: {len(rows):,} "
                         f"weights checked in {self._seconds:.2f} s.")
        self.context_label.setText(self._context)
        self._summary = self._summarize(rows, loss)
        bad = self.bad_count()
        self.summary_label.setText(self._summary)
        self.summary_label.setStyleSheet(
            f"color: {BAD_FOREGROUND}; font-weight: bold" if bad else
            "color: #006400; font-weight: bold")
        self._fit_columns()

    def _summarize(self, rows: list[GradCheckRow], loss: float) -> str:
        if not rows:
            return "This network has no weights to check."
        errs = np.array([r.rel_error for r in rows])
        if np.isnan(errs).any():
            worst = int(np.flatnonzero(np.isnan(errs))[0])
        else:
            worst = int(np.argmax(errs))
        top = rows[worst]
        bad = int(np.count_nonzero(~(errs <= TOLERANCE)))
        if bad == 0:
            return (f"Largest relative error {_err(top.rel_error)} ({top.name}): "
                    "backpropagation agrees with finite differences.")
        cause = []
        acts = self._session.activations
        if any(a in ("relu", "leaky_relu") for a in acts) or \
                self._session.config.regularization == "l1":
            cause.append("a kink of relu or L1 between w - eps and w + eps")
        if abs(loss) > 1e6:
            cause.append(f"rounding, the loss being {explain.fmt(loss)}")
        why = f" Finite differences are approximate; possible reason: {' or '.join(cause)}." \
            if cause else ""
        return (f"Largest relative error {_err(top.rel_error)} ({top.name}); {bad:,} of "
                f"{len(rows):,} weights above {TOLERANCE:g}: backpropagation and finite "
                f"differences disagree.{why}")

    # -- reading --------------------------------------------------------------------------
    @property
    def rows(self) -> list[GradCheckRow]:
        return self.model.rows()

    @property
    def seconds(self) -> float:
        """How long the last check took (the engine's part)."""
        return self._seconds

    def summary(self) -> str:
        return self._summary

    def bad_count(self) -> int:
        return sum(1 for r in self.model._rows if not r.rel_error <= TOLERANCE)

    def row_for(self, name: str) -> GradCheckRow | None:
        return next((r for r in self.model._rows if r.name == name), None)

    def text(self) -> str:
        """Summary and table as tab-separated text."""
        lines = [self._context, self._summary, "", "\t".join(COLUMNS)]
        lines += [f"{r.name}\t{_num(r.analytic)}\t{_num(r.numeric)}\t{_err(r.rel_error)}"
                  for r in self.model._rows]
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

    def _on_only_bad(self, on: bool) -> None:
        self.proxy.set_only_bad(on)
