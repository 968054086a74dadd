"""Small widgets shared by the window: the CSV import dialog and the shortcut sheet."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class CsvImportDialog(QtWidgets.QDialog):
    """Choose which CSV columns are targets (the rest are inputs), and the test split."""

    def __init__(self, name: str, columns: list[str], parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("csv_import")
        self.setWindowTitle(f"Import {name}")
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(QtWidgets.QLabel("Tick the columns the network should predict "
                                       "(targets); the others are its inputs."))
        self.columns = QtWidgets.QListWidget()
        for k, c in enumerate(columns):
            item = QtWidgets.QListWidgetItem(c)
            item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.Checked if k == len(columns) - 1
                               else QtCore.Qt.Unchecked)
            self.columns.addItem(item)
        lay.addWidget(self.columns)
        form = QtWidgets.QFormLayout()
        self.test_spin = QtWidgets.QDoubleSpinBox()
        self.test_spin.setRange(0.0, 0.9)
        self.test_spin.setSingleStep(0.05)
        self.test_spin.setToolTip("Fraction of the rows kept aside to measure the test loss")
        form.addRow("Test fraction", self.test_spin)
        self.normalize_check = QtWidgets.QCheckBox("z-score the inputs (training statistics)")
        form.addRow(self.normalize_check)
        lay.addLayout(form)
        self.message = QtWidgets.QLabel("")
        self.message.setStyleSheet("color: #b00020")
        lay.addWidget(self.message)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._try_accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def targets(self) -> list[str]:
        return [self.columns.item(k).text() for k in range(self.columns.count())
                if self.columns.item(k).checkState() == QtCore.Qt.Checked]

    def test_fraction(self) -> float:
        return self.test_spin.value()

    def normalize(self) -> bool:
        return self.normalize_check.isChecked()

    def _try_accept(self) -> None:
        n = len(self.targets())
        if n == 0:
            self.message.setText("Tick at least one target column")
        elif n == self.columns.count():
            self.message.setText("Leave at least one column as an input")
        else:
            self.accept()


SHORTCUTS = [
    ("Space", "Play / pause training"),
    ("Right", "Train one epoch (in step mode or a lesson: next)"),
    ("T", "Step through one update: forward, loss, deltas, update"),
    ("Page Down / Page Up", "Next / previous phase or lesson step (a clicker)"),
    ("Left", "Previous phase or lesson step"),
    ("Esc", "Leave step mode"),
    ("F11", "Presentation mode (full screen, large text, high contrast)"),
    ("R", "Reset to the initial weights"),
    ("Up / Down", "Select the previous / next sample"),
    ("W", "Show weight values on the edges"),
    ("V", "Show activations and deltas on the units"),
    ("G", "Colour edges by gradient instead of weight"),
    ("F", "Fit the network to the window"),
    ("+ / -", "Zoom the network in / out (the mouse wheel too)"),
    ("Ctrl+= / Ctrl+-", "Larger / smaller text in every view (remembered)"),
    ("Ctrl+0", "Normal text size"),
    ("Ctrl+O / Ctrl+S", "Open / save a project"),
    ("Ctrl+Shift+S", "Save as"),
    ("Ctrl+D", "The data view: points over the network's output"),
    ("Ctrl+M", "Each hidden unit's map inside its circle"),
    ("Ctrl+Shift+C", "Compare variants of the run (Training > Compare...)"),
    ("Ctrl+Shift+B", "Runs side by side, weights coloured by their difference"),
    ("Ctrl+G", "Gradient check"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo a weight edit, reset, point edit or branch"),
    ("F1 or ?", "This list"),
    ("Ctrl+Q", "Quit"),
]


def shortcut_sheet(parent: QtWidgets.QWidget,
                   extra: list[tuple[str, str]] = ()) -> QtWidgets.QDialog:
    """A dialog listing the keyboard shortcuts (large, for a projector). Every entry is
    whole: the columns are as wide as their text, the dialog as large as the table (on
    a small screen the actions wrap and the table scrolls, nothing is cut)."""
    dlg = QtWidgets.QDialog(parent)
    dlg.setObjectName("shortcut_sheet")
    dlg.setWindowTitle("Keyboard shortcuts")
    table = QtWidgets.QTableWidget(0, 2, dlg)
    table.setObjectName("shortcut_table")
    f = table.font()
    f.setPointSizeF(f.pointSizeF() * 1.2)
    table.setFont(f)  # before the columns are measured
    table.setHorizontalHeaderLabels(["Key", "Action"])
    rows = list(SHORTCUTS) + list(extra)
    table.setRowCount(len(rows))
    for r, (k, a) in enumerate(rows):
        table.setItem(r, 0, QtWidgets.QTableWidgetItem(k))
        table.setItem(r, 1, QtWidgets.QTableWidgetItem(a))
    table.verticalHeader().hide()
    table.setWordWrap(True)
    table.setTextElideMode(QtCore.Qt.ElideNone)
    table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
    table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    table.resizeRowsToContents()
    lay = QtWidgets.QVBoxLayout(dlg)
    lay.addWidget(table)
    close = QtWidgets.QPushButton("Close")
    close.clicked.connect(dlg.accept)
    lay.addWidget(close, alignment=QtCore.Qt.AlignRight)
    # as large as the table wants, within the screen
    width = sum(table.columnWidth(c) for c in range(2)) + 2 * table.frameWidth() + \
        table.verticalScrollBar().sizeHint().width() + 30
    height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth() + \
        sum(table.rowHeight(r) for r in range(len(rows))) + close.sizeHint().height() + 40
    screen = (parent.screen() if parent is not None else None) or \
        QtWidgets.QApplication.primaryScreen()
    if screen is not None:
        avail = screen.availableGeometry()
        width = min(width, int(avail.width() * 0.9))
        height = min(height, int(avail.height() * 0.9))
    dlg.resize(width, height)
    # narrower than the text: the actions wrap (after the dialog has its size)
    table.horizontalHeader().sectionResized.connect(
        lambda *_a: QtCore.QTimer.singleShot(0, table.resizeRowsToContents))
    return dlg


def big_label(text: str = "", tooltip: str = "", scale: float = 1.3) -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel(text)
    f = lab.font()
    f.setPointSizeF(f.pointSizeF() * scale)
    lab.setFont(f)
    lab.setToolTip(tooltip)
    lab.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
    return lab
