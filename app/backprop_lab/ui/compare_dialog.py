"""Training > Compare...: variants of the window's setup that differ in one setting.

A non-modal dialog: pick a setting (the ``--set`` keys of ``backprop-lab train``), type
its values, the epochs, and Run. The variants train on a worker thread
(``controller.comparison.ComparisonJob``) from the same initial weights, data and
shuffling as the main run; their train-loss curves appear in the loss dock as they grow
and the table gives each one's final and lowest loss. Promote makes the selected variant
the main run (its settings, its trained weights and history; Reset goes back to the
common start). Export CSV writes every variant's losses per epoch.

The comparison run last is part of the project (``Session.set_comparison``: saved with
it, and starting one marks the project unsaved). A project loaded with a saved
comparison fills in its setting, values and epochs, and Run replays its runs (their
names and settings as saved) from the weights they started from: the same numbers as
before. Otherwise the dialog starts with the setting, values and epochs of the last run
(in the window's ``QSettings``, under ``compare/``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtWidgets

from ..controller.comparison import CompareError, ComparisonJob
from ..engine.project import atomic_write
from ..runs.compare import Variant, curve_summary, parse_vary, runs_from_json

#: (label, ``--set`` key, default values, short name of a variant in the legend)
SETTINGS = (
    ("Learning rate", "training.learning_rate", "0.01, 0.1, 1", "lr"),
    ("Mode", "training.mode", "batch, minibatch, stochastic", "mode"),
    ("Batch size", "training.batch_size", "1, 4, 10", "batch"),
    ("Optimiser", "training.optimizer", "sgd, momentum, adam", "optimiser"),
    ("Hidden activation", "network.hidden_activation", "sigmoid, tanh, relu", "hidden"),
    ("Initialisation seed", "initialization.seed", "0, 1, 2", "init seed"),
    ("Loss", "training.loss", "mse, bce", "loss"),
)
DEFAULT_EPOCHS = 300
MAX_EPOCHS = 10_000_000
#: the loss dock gets the curves at most this often (it redraws at 10 Hz anyway)
CURVES_MS = 100


def _fmt(v: float) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v:.6g}"


class CompareDialog(QtWidgets.QDialog):
    """The Compare dialog of ``window`` (its session and loss dock)."""

    #: Side by side... pressed: the selected variant's row (-1: none selected)
    side_by_side_requested = QtCore.Signal(int)

    def __init__(self, session, loss_dock=None, parent: QtWidgets.QWidget | None = None,
                 settings: QtCore.QSettings | None = None):
        super().__init__(parent)
        #: where the last setting, values and epochs are remembered (the window's)
        self.settings = settings if settings is not None else \
            getattr(parent, "settings", None) or QtCore.QSettings()
        #: a project's saved comparison: its variants, and the fields as filled from it
        #: (Run replays the variants while the fields still say that)
        self._saved: tuple[list[Variant], tuple] | None = None
        self._starting = False
        self.setWindowTitle("Compare")
        self.setModal(False)
        self.session = session
        self.loss_dock = loss_dock
        self.job = ComparisonJob(session, self)

        self.setting = QtWidgets.QComboBox()
        for label, key, _, _ in SETTINGS:
            self.setting.addItem(label, key)
            self.setting.setItemData(self.setting.count() - 1, key, QtCore.Qt.ToolTipRole)
        self.values = QtWidgets.QLineEdit()
        self.values.setToolTip("The values to compare, separated by commas")
        self.epochs = QtWidgets.QSpinBox()
        self.epochs.setRange(1, MAX_EPOCHS)
        self.epochs.setGroupSeparatorShown(True)
        self.epochs.setValue(DEFAULT_EPOCHS)
        form = QtWidgets.QFormLayout()
        form.addRow("Setting", self.setting)
        form.addRow("Values", self.values)
        form.addRow("Epochs", self.epochs)

        self.run_button = QtWidgets.QPushButton("Run")
        self.run_button.setDefault(True)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.clear_button = QtWidgets.QPushButton("Clear comparison")
        self.clear_button.setToolTip("Remove the compared curves from the loss plot")
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.run_button, self.cancel_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        #: what a loaded project's saved comparison is, and that Run replays it
        self.saved_label = QtWidgets.QLabel()
        self.saved_label.setWordWrap(True)
        self.saved_label.hide()

        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.error_label = QtWidgets.QLabel()
        self.error_label.setStyleSheet("color: #D55E00")
        self.error_label.setWordWrap(False)
        self.error_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)

        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Variant", "Final train loss",
                                              "Lowest", "at epoch"])
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.Stretch)

        self.promote_button = QtWidgets.QPushButton("Promote")
        self.promote_button.setToolTip("Make the selected variant the main run: its "
                                       "settings, trained weights and loss history")
        self.export_button = QtWidgets.QPushButton("Export CSV...")
        self.export_button.setToolTip("Every variant's train and test loss per epoch")
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.close)
        self.side_button = QtWidgets.QPushButton("Side by side...")
        self.side_button.setToolTip("Two runs on two canvases, the weights' difference "
                                    "coloured; the selected variant on the right "
                                    "(Training > Runs side by side, Ctrl+Shift+B)")
        lower = QtWidgets.QHBoxLayout()
        for b in (self.promote_button, self.export_button, self.side_button):
            lower.addWidget(b)
        lower.addStretch(1)
        lower.addWidget(close)

        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.saved_label)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.error_label)
        lay.addWidget(self.table, 1)
        lay.addLayout(lower)
        self.resize(520, 420)

        self._curves_timer = QtCore.QTimer(self)
        self._curves_timer.setSingleShot(True)
        self._curves_timer.setInterval(CURVES_MS)
        self._curves_timer.timeout.connect(self._show_curves)
        self._curves: dict[str, np.ndarray] = {}

        self.setting.currentIndexChanged.connect(self._on_setting)
        self.values.textEdited.connect(lambda _: self.error_label.clear())
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.job.cancel)
        self.clear_button.clicked.connect(self.clear_comparison)
        self.promote_button.clicked.connect(self.promote_selected)
        self.export_button.clicked.connect(self._on_export)
        self.side_button.clicked.connect(self._on_side_by_side)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.job.progress.connect(self._on_progress)
        self.job.curves_changed.connect(self._on_curves)
        self.job.running_changed.connect(lambda _: self._update_buttons())
        self.job.finished.connect(self._on_ended)
        self.job.cancelled.connect(self._on_ended)
        self.job.failed.connect(self._on_failed)
        session.comparison_changed.connect(self._on_comparison_changed)
        self._on_setting()
        if not self._take_saved():
            self._restore_last()
        self._update_buttons()

    # -- reading ----------------------------------------------------------------------
    @property
    def key(self) -> str:
        return self.setting.currentData()

    def select_setting(self, key: str) -> None:
        self.setting.setCurrentIndex(self.setting.findData(key))

    @property
    def error(self) -> str:
        return self.error_label.text()

    def _fields(self) -> tuple:
        return (self.key, self.values.text(), self.epochs.value())

    @property
    def replays_saved(self) -> bool:
        """True if Run replays the loaded project's saved comparison (the fields still
        say what was filled in from it)."""
        return self._saved is not None and self._saved[1] == self._fields()

    # -- the saved comparison and the remembered fields ----------------------------------------
    def _take_saved(self) -> bool:
        """Fill the fields from the session's saved comparison; False if it has none."""
        c = self.session.comparison
        if c is None:
            self._saved = None
            self.saved_label.hide()
            return False
        try:
            variants = runs_from_json(c["runs"], "comparison.runs")
        except CompareError:  # checked when the project loaded; never expected here
            self._saved = None
            self.saved_label.hide()
            return False
        keys = {k for v in variants for k in v.settings}
        known = [key for _, key, _, _ in SETTINGS]
        if len(keys) == 1 and all(len(v.settings) == 1 for v in variants) and \
                next(iter(keys)) in known:
            key = next(iter(keys))
            self.select_setting(key)
            self.values.setText(", ".join(
                v.settings[key] if isinstance(v.settings[key], str)
                else json.dumps(v.settings[key]) for v in variants))
        self.epochs.setValue(min(max(int(c["epochs"]), 1), MAX_EPOCHS))
        self._saved = (variants, self._fields())
        names = ", ".join(v.name for v in variants)
        self.saved_label.setText(f"This project holds a comparison of {len(variants)} runs "
                                 f"({names}), {c['epochs']:,} epochs each, from the same "
                                 f"start. Run replays it to the same numbers.")
        self.saved_label.show()
        self.error_label.clear()
        return True

    def _restore_last(self) -> None:
        """The setting, values and epochs of the last comparison run in the app."""
        st = self.settings
        key = st.value("compare/setting", None)
        if not isinstance(key, str) or self.setting.findData(key) < 0:
            return
        self.select_setting(key)
        values = st.value("compare/values", None)
        if isinstance(values, str) and values.strip():
            self.values.setText(values)
        try:
            epochs = int(st.value("compare/epochs", DEFAULT_EPOCHS))
        except (TypeError, ValueError):
            epochs = DEFAULT_EPOCHS
        self.epochs.setValue(min(max(epochs, 1), MAX_EPOCHS))

    def _remember(self) -> None:
        key, values, epochs = self._fields()
        self.settings.setValue("compare/setting", key)
        self.settings.setValue("compare/values", values)
        self.settings.setValue("compare/epochs", epochs)

    def _on_comparison_changed(self) -> None:
        if self._starting:  # our own Run: the fields already say it
            self.saved_label.hide()
            return
        # another project (or a preset) was loaded: the compared curves were of the old one
        self.clear_comparison()
        self._take_saved()

    # -- commands ---------------------------------------------------------------------
    def run(self) -> bool:
        """Start the comparison typed in; False (and the one-line error) for bad input."""
        self.error_label.clear()
        try:
            if self.replays_saved:  # the saved runs as they were: names and settings
                variants = list(self._saved[0])
            else:
                variants = parse_vary(f"{self.key}={self.values.text()}")
                short = SETTINGS[self.setting.currentIndex()][3]
                # "lr 0.01" in the legend and the table; the settings stay the --set keys
                variants = [Variant(f"{short} {v.name.partition('=')[2]}", v.settings)
                            for v in variants]
            self._starting = True
            try:
                self.job.start(variants, self.epochs.value())
            finally:
                self._starting = False
        except CompareError as e:
            self.error_label.setText(str(e).splitlines()[0])
            return False
        self._saved = (variants, self._fields())  # Run again: the same runs
        self._remember()
        return True

    def clear_comparison(self) -> None:
        """Remove the compared curves from the loss plot and the table (a run going on is
        cancelled)."""
        self.job.cancel()
        self._curves_timer.stop()
        self._curves = {}
        if self.loss_dock is not None:
            self.loss_dock.clear_overlays()
        self.table.setRowCount(0)
        self.progress.setValue(0)
        self._update_buttons()

    def promote_selected(self) -> bool:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.job.running:
            return False
        index = rows[0].row()
        if index >= len(self.job.runs):
            return False
        try:
            self.job.promote(index)
        except ValueError as e:
            self.error_label.setText(str(e).splitlines()[0])
            return False
        return True

    def export_csv(self, path: str | Path) -> Path:
        """Write every variant's losses per epoch (``runs.compare.csv_chunks``)
        atomically. Raises ``OSError``."""
        chunks = self.job.csv_chunks()

        def write(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                for chunk in chunks:
                    f.write(chunk)

        atomic_write(path, write)
        return Path(path)

    def shutdown(self) -> None:
        """Stop the comparison (the window closes); never waits."""
        self._curves_timer.stop()
        self.job.shutdown()

    # -- following the job ----------------------------------------------------------------
    def _on_setting(self) -> None:
        self.values.setText(SETTINGS[self.setting.currentIndex()][2])
        self.error_label.clear()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _on_curves(self, curves: dict) -> None:
        self._curves = curves
        if not self._curves_timer.isActive():
            self._curves_timer.start()

    def _show_curves(self) -> None:
        if self.loss_dock is not None:
            self.loss_dock.set_overlays(self._curves)
        self._fill_table()

    def _on_ended(self) -> None:
        self._curves_timer.stop()
        self._curves = self.job.curves()
        self._show_curves()
        self._update_buttons()

    def _on_failed(self, message: str) -> None:
        self.error_label.setText(message)
        self._on_ended()

    def _fill_table(self) -> None:
        runs = self.job.runs
        selected = self.table.selectionModel().selectedRows()
        keep = selected[0].row() if selected else None
        self.table.setRowCount(len(runs))
        for i, r in enumerate(runs):
            y = self._curves.get(r.name)
            s = curve_summary(y) if y is not None and len(y) else {}
            cells = [r.name + ("  (diverged)" if r.error else ""), _fmt(s.get("final")),
                     _fmt(s.get("min")), str(s["min_epoch"]) if s else "—"]
            for c, text in enumerate(cells):
                item = self.table.item(i, c)
                if item is None:
                    item = QtWidgets.QTableWidgetItem()
                    if c:
                        item.setTextAlignment(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
                    self.table.setItem(i, c, item)
                item.setText(text)
        if keep is not None and keep < len(runs):
            self.table.selectRow(keep)
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.job.running
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        has = bool(self.job.runs) and not running
        self.export_button.setEnabled(has)
        self.side_button.setEnabled(bool(self.job.runs))
        self.promote_button.setEnabled(has and bool(self.table.selectionModel().selectedRows()))

    def _on_side_by_side(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.side_by_side_requested.emit(rows[0].row() if rows else -1)

    def _on_export(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export comparison as CSV",
                                                        "comparison.csv", "CSV (*.csv)")
        if not path:
            return
        try:
            self.export_csv(path)
        except OSError as e:
            self.error_label.setText(f"Cannot write {path}: {e.strerror or e}")
