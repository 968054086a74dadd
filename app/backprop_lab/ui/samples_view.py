"""Tables of samples, one row each.

``BatchSamplesView``: the samples of the stepped update (its mini-batch or the whole
batch), with inputs, target, output, loss and the chosen weight's gradient, above their
mean: the mean the canvas shows in batch scope. ``SamplesView``: every training sample
with its output and loss at the current weights (the 4 XOR rows on the article preset),
above the mean loss, the header's "Train loss".

Both render numbers the session and the stepper hand them (a trace, the outputs and
losses); they compute nothing but a mean to write under the rows. They are plain widgets:
the window puts them where it likes. While training runs they redraw at most five times a
second, and not at all while hidden.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import QSignalThrottler

from ..controller.session import Session
from ..controller.teaching import PhaseStepper
from ..engine import explain
from ..engine.names import WeightRef, unit_name, weight_name
from ..engine.trace import Trace

#: while training runs, redraw at most this often (ms)
THROTTLE_MS = 200
#: inputs, targets and outputs get one column each up to this many; more share a column
MAX_COLUMNS = 6
#: columns are sized for their header, the summary rows and this many sample rows (a
#: table of thousands is not measured cell by cell at every redraw)
FIT_ROWS = 40
#: the weight whose gradient the batch table shows until another is chosen (W10)
DEFAULT_WEIGHT = WeightRef(0, 0, -1)
SCOPE_TEXT = {"sample": "one sample", "minibatch": "its mini-batch",
              "batch": "the whole batch"}
UNKNOWN = "?"


class Column:
    """One column: a header, its tooltip, and the values (one per row). ``values`` is a
    1-D array (numbers) or a 2-D one (several numbers written in one cell); None: not
    computed yet (written ``?``)."""

    __slots__ = ("header", "tip", "values")

    def __init__(self, header: str, tip: str, values: np.ndarray | None):
        self.header = header
        self.tip = tip
        self.values = values


def _cell_text(v) -> str:
    if v is None:
        return UNKNOWN
    if isinstance(v, str):
        return v
    if isinstance(v, np.ndarray):
        parts = [explain.fmt(x) for x in v[:4].tolist()]
        return ", ".join(parts) + (", \u2026" if len(v) > 4 else "")
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    return explain.fmt(float(v))


def _cell_tip(v) -> str:
    if v is None:
        return "not computed yet in this phase"
    if isinstance(v, np.ndarray):
        return ", ".join(repr(float(x)) for x in v.tolist())
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return ""


class SamplesModel(QtCore.QAbstractTableModel):
    """Rows of samples (formatted when drawn, so big datasets cost nothing until seen)
    and, under them, summary rows (a mean) in bold."""

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._columns: list[Column] = []
        self._n = 0
        self._summary: list[list] = []
        self._current: int | None = None

    # -- filling --------------------------------------------------------------------------
    def set_table(self, columns: Sequence[Column], n_rows: int,
                  summary: Sequence[Sequence] = (), current: int | None = None) -> None:
        """Show ``n_rows`` rows of ``columns`` and the ``summary`` rows under them (one
        value per column; None writes ``?``, "" nothing); ``current`` is highlighted."""
        columns = list(columns)
        same_shape = ([c.header for c in columns] == [c.header for c in self._columns]
                      and n_rows == self._n and len(summary) == len(self._summary))
        if not same_shape:
            self.beginResetModel()
        self._columns = columns
        self._n = int(n_rows)
        self._summary = [list(r) for r in summary]
        self._current = current
        if same_shape:
            if self.rowCount() and self.columnCount():
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(self.rowCount() - 1, self.columnCount() - 1))
        else:
            self.endResetModel()

    def set_current(self, row: int | None) -> None:
        old, self._current = self._current, row
        for r in (old, row):
            if r is not None and 0 <= r < self._n and self.columnCount():
                self.dataChanged.emit(self.index(r, 0), self.index(r, self.columnCount() - 1))

    # -- reading (tests and the views) --------------------------------------------------------
    @property
    def sample_rows(self) -> int:
        return self._n

    def headers(self) -> list[str]:
        return [c.header for c in self._columns]

    def value(self, row: int, column: int):
        """The value behind a cell (a number, an array, a string or None)."""
        if row < self._n:
            vals = self._columns[column].values
            return None if vals is None else vals[row]
        return self._summary[row - self._n][column]

    def text(self, row: int, column: int) -> str:
        return _cell_text(self.value(row, column))

    def row_texts(self, row: int) -> list[str]:
        return [self.text(row, c) for c in range(self.columnCount())]

    # -- Qt's model interface -------------------------------------------------------------
    def rowCount(self, parent: QtCore.QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else self._n + len(self._summary)

    def columnCount(self, parent: QtCore.QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self._columns)

    def data(self, index: QtCore.QModelIndex, role: int = QtCore.Qt.DisplayRole):
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role == QtCore.Qt.DisplayRole:
            return self.text(r, c)
        if role == QtCore.Qt.ToolTipRole:
            return _cell_tip(self.value(r, c)) or None
        if role == QtCore.Qt.TextAlignmentRole:
            return int(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
        if role == QtCore.Qt.FontRole and r >= self._n:
            f = QtGui.QFont()
            f.setBold(True)
            return f
        if role == QtCore.Qt.BackgroundRole and r == self._current:
            return QtGui.QBrush(QtWidgets.QApplication.palette().color(
                QtGui.QPalette.Highlight).lighter(170))
        return None

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation,  # noqa: N802
                   role: int = QtCore.Qt.DisplayRole):
        if orientation != QtCore.Qt.Horizontal or not 0 <= section < len(self._columns):
            return None
        if role == QtCore.Qt.DisplayRole:
            return self._columns[section].header
        if role == QtCore.Qt.ToolTipRole:
            return self._columns[section].tip
        return None


def _value_columns(kind: str, names: Sequence[str], values: np.ndarray | None,
                   tip: str) -> list[Column]:
    """Columns for the inputs, targets or outputs of the rows: one per name, or one
    holding them all when there are more than ``MAX_COLUMNS``."""
    names = list(names)
    if len(names) > MAX_COLUMNS:
        return [Column(f"{kind} ({len(names)})", tip, values)]
    if len(names) == 1 and kind in ("y", "output"):
        label = kind if kind == "y" else f"output {names[0]}"
        return [Column(label, tip, None if values is None else values[:, 0])]
    return [Column(f"{kind} {n}" if kind != "x" else n, tip,
                   None if values is None else values[:, k]) for k, n in enumerate(names)]


class _SamplesTableBase(QtWidgets.QWidget):
    """A title above a table of samples; clicking a row selects that sample."""

    def __init__(self, session: Session, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._samples: list[int] = []
        self._stale = True
        self._refit = True  # the columns changed: size them afresh
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.title_label = QtWidgets.QLabel()
        self.title_label.setWordWrap(True)
        lay.addWidget(self.title_label)
        self.model = SamplesModel(self)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.NoSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QtWidgets.QHeaderView.Interactive)
        hh.setStretchLastSection(True)
        self.table.clicked.connect(self._on_clicked)
        lay.addWidget(self.table, 1)
        self._throttle = QSignalThrottler(QSignalThrottler.EmissionPolicy.Trailing, parent=self)
        self._throttle.setTimeout(THROTTLE_MS)
        self._throttle.triggered.connect(self.refresh)

    def refresh(self) -> None:
        """Draw the newest numbers now (later, if hidden: when shown)."""
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        self._fill()

    def _fill(self) -> None:
        raise NotImplementedError

    def _fit_columns(self) -> None:
        """Size each column for its header, the summary rows and the first ``FIT_ROWS``
        rows (never narrower than it is: numbers that change do not make it jump)."""
        m = self.model
        fm = self.table.fontMetrics()
        bold = QtGui.QFont(self.table.font())
        bold.setBold(True)
        fm_bold = QtGui.QFontMetrics(bold)
        head_fm = self.table.horizontalHeader().fontMetrics()
        rows = list(range(min(m.sample_rows, FIT_ROWS)))
        summary = list(range(m.sample_rows, m.rowCount()))
        pad = 18
        for c in range(m.columnCount()):
            w = head_fm.horizontalAdvance(m.headers()[c]) + pad
            for r in rows:
                w = max(w, fm.horizontalAdvance(m.text(r, c)) + pad)
            for r in summary:
                w = max(w, fm_bold.horizontalAdvance(m.text(r, c)) + pad)
            if w > self.table.columnWidth(c) or self._refit:
                self.table.setColumnWidth(c, w)
        self._refit = False

    def _set_table(self, columns: list[Column], n: int, summary: list[list],
                   current: int | None) -> None:
        if [c.header for c in columns] != self.model.headers():
            self._refit = True
        self.model.set_table(columns, n, summary, current)
        self._fit_columns()

    def _soon(self, *_args) -> None:
        self._throttle.throttle()

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._stale:
            QtCore.QTimer.singleShot(0, self.refresh)

    def _on_clicked(self, index: QtCore.QModelIndex) -> None:
        if 0 <= index.row() < len(self._samples):
            self.session.select_sample(self._samples[index.row()])

    def set_scale(self, factor: float) -> None:
        """Text size relative to the application's (presentation mode)."""
        f = QtGui.QFont(QtWidgets.QApplication.font())
        f.setPointSizeF(f.pointSizeF() * float(factor))
        self.table.setFont(f)
        self.table.horizontalHeader().setFont(f)
        self.title_label.setFont(f)
        self._refit = True
        self.refresh()


class BatchSamplesView(_SamplesTableBase):
    """The samples of the stepped update, one row each, and their mean.

    In step mode the rows are the step's samples and reveal what the phase has computed
    (``?`` before); otherwise they are the samples the next stepped update would use
    (the selected one, its mini-batch or all, by the stepper's scope) at the current
    weights. The last column is the gradient of one weight (``set_weight``; W10 until
    another is chosen): each sample's own, and their mean, which is what the update uses
    (plus the penalty's part, in a row of its own when there is a penalty).
    """

    def __init__(self, session: Session, stepper: PhaseStepper,
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(session, parent)
        self.setObjectName("batch_samples")
        self.stepper = stepper
        self._ref = DEFAULT_WEIGHT
        self.table.setToolTip("One row per sample of the update; the bold rows are what "
                              "the canvas shows in mini-batch and whole-batch scope")
        stepper.changed.connect(self.refresh)
        session.snapshot_changed.connect(self._on_snapshot)
        session.selected_sample_changed.connect(self._soon)
        session.config_changed.connect(self._soon)
        session.structure_changed.connect(self._on_structure_changed)

    def weight(self) -> WeightRef:
        return self._ref

    def set_weight(self, ref: WeightRef) -> None:
        """Show this weight's gradient (e.g. the weight clicked on the canvas)."""
        if self._fits(ref):
            self._ref = ref
            self.refresh()

    def _fits(self, ref: WeightRef) -> bool:
        layers = self.session.layers
        return (0 <= ref.layer < len(layers) - 1 and 0 <= ref.target < layers[ref.layer + 1]
                and -1 <= ref.source < layers[ref.layer])

    def _on_structure_changed(self) -> None:
        if not self._fits(self._ref):
            self._ref = DEFAULT_WEIGHT
        self.refresh()

    def _on_snapshot(self, *_args) -> None:
        if not self.stepper.active:  # a step shows its own trace: new weights change it not
            self._soon()

    def _fill(self) -> None:
        st, s = self.stepper, self.session
        if st.active and st.trace is not None:
            t, samples = st.trace, st.samples
            r = st.reveal()
            out_known = r.forward_upto >= len(t.layers) - 1
            loss_known = r.loss_known
            grad_known = r.backward_from is not None and r.backward_from <= self._ref.layer + 1
            what = (f"This update uses {SCOPE_TEXT[st.scope]}: "
                    f"{len(samples)} sample{'s' if len(samples) > 1 else ''}")
        else:
            samples = st.batch_samples()
            t = s.trace(samples)
            out_known = loss_known = grad_known = True
            what = (f"The next update ({SCOPE_TEXT[st.scope]}) would use "
                    f"{len(samples)} sample{'s' if len(samples) > 1 else ''}")
        self._samples = list(samples)
        columns, summary = self._columns(t, samples, out_known, loss_known, grad_known)
        if len(samples) > 1:
            what += "; the canvas shows their mean"
        self.title_label.setText(what)
        sel = s.selected_sample
        self._set_table(columns, len(samples), summary,
                        samples.index(sel) if sel in samples else None)

    def _columns(self, t: Trace, samples: list[int], out_known: bool, loss_known: bool,
                 grad_known: bool) -> tuple[list[Column], list[list]]:
        ds = self.session.dataset
        layers = t.layers
        L = len(layers) - 1
        ref = self._ref
        wname = weight_name(layers, ref)
        per = (t.sample_grad_biases if ref.is_bias else t.sample_grad_weights)[ref.layer]
        n = t.n_samples
        if ref.is_bias:
            grads = np.array([per[k, ref.target] for k in range(n)], dtype=np.float64)
        else:
            grads = np.array([per[k, ref.target, ref.source] for k in range(n)],
                             dtype=np.float64)
        out_names = [unit_name(layers, L, i) for i in range(layers[-1])]
        columns = [Column("#", "The training sample (counted from 1)",
                          np.array(samples, dtype=np.int64) + 1)]
        columns += _value_columns("x", ds.input_names, t.x, "The sample's inputs")
        columns += _value_columns("y", ds.target_names, t.y, "The sample's target")
        columns += _value_columns("output", out_names, t.z[-1] if out_known else None,
                                  "The network's output for the sample")
        columns.append(Column("L", "The sample's loss",
                              t.sample_losses if loss_known else None))
        columns.append(Column(f"\u2202L/\u2202{wname}",
                              f"The sample's own gradient of {wname} (z \u00b7 \u03b4)",
                              grads if grad_known else None))
        pad = [""] * (len(columns) - 3)
        mean_loss = float(t.loss) if loss_known else None
        mean_grad = float(grads.mean()) if grad_known else None
        summary = [["mean", *pad, mean_loss, mean_grad]] if n > 1 else []
        penalty = explain.weight_penalty_gradient(t, ref)
        if penalty != 0.0:
            used = explain.weight_gradient(t, ref)
            summary += [["+ penalty", *pad, "", penalty if grad_known else None],
                        ["update uses", *pad, "", used if grad_known else None]]
        return columns, summary


class SamplesView(_SamplesTableBase):
    """Every training sample with its output and loss at the current weights, and the
    mean loss under them (the header's and the loss plot's "Train loss" once the run has
    measured these weights). The selected sample's row is highlighted; click a row to
    select it."""

    def __init__(self, session: Session, parent: QtWidgets.QWidget | None = None):
        super().__init__(session, parent)
        self.setObjectName("samples_view")
        session.snapshot_changed.connect(self._soon)
        session.structure_changed.connect(self.refresh)
        session.config_changed.connect(self._soon)  # another loss
        session.selected_sample_changed.connect(self._on_selected)

    def _fill(self) -> None:
        s = self.session
        ds = s.dataset
        outputs, losses = s.sample_outputs()
        n = len(losses)
        self._samples = list(range(n))
        L = len(s.layers) - 1
        out_names = [unit_name(s.layers, L, i) for i in range(s.layers[-1])]
        columns = [Column("#", "The training sample (counted from 1)",
                          np.arange(1, n + 1, dtype=np.int64))]
        columns += _value_columns("x", ds.input_names, ds.x_train, "The sample's inputs")
        columns += _value_columns("y", ds.target_names, ds.y_train, "The sample's target")
        columns += _value_columns("output", out_names, outputs,
                                  "The network's output for the sample, current weights")
        columns.append(Column("L", "The sample's loss with the current weights", losses))
        mean = float(losses.mean()) if n else None
        summary = [["mean", *([""] * (len(columns) - 2)), mean]]
        self.title_label.setText(f"All {n:,} training samples with the current weights; "
                                 f"their mean loss is the Train loss")
        self._set_table(columns, n, summary, s.selected_sample)

    def _on_selected(self, k: int) -> None:
        self.model.set_current(k)
        if 0 <= k < self.model.sample_rows:
            self.table.scrollTo(self.model.index(k, 0))
