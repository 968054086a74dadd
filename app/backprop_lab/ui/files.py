"""The window's file handling: open, save and save-as dialogs, recent files, the CSV import
dialog and the CSV export, the canvas export and the slide export (the canvas with the
lesson's caption).

What a file becomes is the session's business (``Session.load_project``,
``save_project``, ``import_csv``); this module asks the user, reports problems in one
message, and remembers the recent files and the last folder in the window's settings.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ..controller.session import Session
from ..engine import data as data_mod
from ..engine.project import ProjectError
from .canvas import SLIDE_SIZES, NetworkCanvas, save_slide_png, save_slide_svg
from .widgets import CsvImportDialog

MAX_RECENT = 8
FILE_FILTER = "Backprop Lab project (*.json);;All files (*)"
CSV_FILTER = "CSV files (*.csv *.txt);;All files (*)"


class ProjectFiles(QtCore.QObject):
    """Files for one window. ``parent`` is the window: dialogs and messages open on it."""

    #: a line for the status bar, and how long to show it (ms)
    status = QtCore.Signal(str, int)

    def __init__(self, session: Session, settings: QtCore.QSettings, canvas: NetworkCanvas,
                 parent: QtWidgets.QWidget, confirm_unsaved: bool = True):
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.canvas = canvas
        #: ask before unsaved work is replaced (off for scripts and tests)
        self.confirm_unsaved = confirm_unsaved

    def _widget(self) -> QtWidgets.QWidget:
        return self.parent()

    def _home(self) -> str:
        return str(self.settings.value("last_dir", str(Path.home())))

    # -- unsaved work ---------------------------------------------------------------------
    def confirm_discard(self) -> bool:
        """True if there are no unsaved changes or the user is fine losing/saving them."""
        if not self.session.dirty or not self.confirm_unsaved:
            return True
        box = QtWidgets.QMessageBox(self._widget())
        box.setIcon(QtWidgets.QMessageBox.Question)
        box.setWindowTitle("Unsaved changes")
        box.setText("The project has changes that are not saved.")
        box.setInformativeText("Save them first?")
        box.setStandardButtons(QtWidgets.QMessageBox.Save | QtWidgets.QMessageBox.Discard
                               | QtWidgets.QMessageBox.Cancel)
        box.setDefaultButton(QtWidgets.QMessageBox.Save)
        choice = box.exec()
        if choice == QtWidgets.QMessageBox.Save:
            return self.save()
        return choice == QtWidgets.QMessageBox.Discard

    def show_problem(self, title: str, message: str) -> None:
        """One message box (not modal) and the same text in the status bar."""
        self.status.emit(message, 15000)
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Warning, title, message,
                                    QtWidgets.QMessageBox.Ok, self._widget())
        box.setObjectName("problem_box")
        box.open()

    # -- projects -------------------------------------------------------------------------
    def new_from_preset(self, name: str) -> None:
        if self.confirm_discard():
            self.session.load_preset(name)

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        start = str(self.session.path.parent) if self.session.path else self._home()
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self._widget(), "Open project", start,
                                                        FILE_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a project; on failure show one message and keep the current work. A part
        left out (a bad saved comparison) is named in one message; the rest is open."""
        try:
            self.session.load_project(path)
        except (ProjectError, ValueError) as e:
            self.show_problem("Cannot open project", str(e))
            return False
        self.add_recent(Path(path))
        left_out = self.session.left_out
        comparison = self.session.comparison
        if left_out:
            self.show_problem("Part of the project was left out",
                              f"{Path(path).name}: {left_out[0]}")
        elif comparison is not None:
            self.status.emit(f"This project holds a comparison of "
                             f"{len(comparison['runs'])} runs: Training > Compare... "
                             f"replays it", 10000)
        return True

    def save(self) -> bool:
        if self.session.path is None:
            return self.save_as()
        return self.save_to(self.session.path)

    def save_as(self) -> bool:
        start = str(self.session.path or Path(self._home()) / "network.json")
        # The dialog adds ".json" itself, before it checks for a file to overwrite:
        # "net" asks about net.json when that exists.
        dlg = QtWidgets.QFileDialog(self._widget(), "Save project as", start, FILE_FILTER)
        dlg.setAcceptMode(QtWidgets.QFileDialog.AcceptSave)
        dlg.setFileMode(QtWidgets.QFileDialog.AnyFile)
        dlg.setDefaultSuffix("json")
        dlg.selectFile(start)
        if dlg.exec() != QtWidgets.QDialog.Accepted:
            return False
        files = dlg.selectedFiles()
        if not files or not files[0]:
            return False
        return self.save_to(Path(files[0]))

    def save_to(self, path: Path) -> bool:
        try:
            self.session.save_project(path)
        except ProjectError as e:
            self.show_problem("Cannot save project", str(e))
            return False
        self.add_recent(path)
        self.status.emit(f"Saved {path}", 5000)
        return True

    # -- recent files ---------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        v = self.settings.value("recent_files", [])
        if isinstance(v, str):
            v = [v]
        return [str(p) for p in (v or [])]

    def add_recent(self, path: Path) -> None:
        p = str(path.resolve())
        items = [p] + [r for r in self.recent_files() if r != p]
        self.settings.setValue("recent_files", items[:MAX_RECENT])
        self.settings.setValue("last_dir", str(path.resolve().parent))

    def fill_recent_menu(self, menu: QtWidgets.QMenu) -> None:
        menu.clear()
        items = self.recent_files()
        if not items:
            a = menu.addAction("(none yet)")
            a.setEnabled(False)
        for p in items:
            a = menu.addAction(p)
            a.triggered.connect(lambda _=False, p=p: self.open_recent(p))

    def open_recent(self, path: str) -> None:
        if self.confirm_discard():
            self.open_path(path)

    # -- data and images ------------------------------------------------------------------
    def import_csv_dialog(self) -> None:
        """Choose a CSV file, then its target columns, test share and normalisation."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self._widget(), "Import data from CSV", self._home(), CSV_FILTER)
        if not path:
            return
        try:
            _, _, inputs, targets = data_mod.read_csv(path)  # the columns to choose from
        except ValueError as e:
            self.show_problem("Cannot import data", str(e))
            return
        dlg = CsvImportDialog(Path(path).name, list(inputs) + list(targets), self._widget())
        if dlg.exec() == QtWidgets.QDialog.Accepted:
            self.import_csv(path, dlg.targets(), dlg.test_fraction(), dlg.normalize())

    def import_csv(self, path: str | Path, targets: list[str] | None = None,
                   test_fraction: float = 0.0, normalize: bool = False) -> bool:
        """Use a CSV file's rows as the data (``Session.import_csv``). On any problem: one
        message, and the current data and network stay."""
        try:
            rows, in_names, out_names = self.session.import_csv(path, targets, test_fraction,
                                                                normalize)
        except ValueError as e:
            self.show_problem("Cannot import data", str(e))
            return False
        self.settings.setValue("last_dir", str(Path(path).resolve().parent))
        self.status.emit(f"Imported {rows} rows from {Path(path).name}: inputs "
                         f"{', '.join(in_names)}; targets {', '.join(out_names)}", 8000)
        return True

    def export_csv_dialog(self) -> bool:
        """File > Export data as CSV: choose a file, write the points to it."""
        name = (self.session.path.stem if self.session.path else "data") + ".csv"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self._widget(), "Export data as CSV", str(Path(self._home()) / name), CSV_FILTER)
        if not path:
            return False
        if not Path(path).suffix:
            path += ".csv"
        return self.export_csv(path)

    def export_csv(self, path: str | Path) -> bool:
        """Write the data's raw inputs and targets, training rows then test rows
        (``engine.data.write_csv``); reading the file back with the target columns as
        targets gives the same points. On a problem: one message, and False."""
        ds = self.session.dataset
        try:
            data_mod.write_csv(path, ds)
        except (OSError, ValueError) as e:
            self.show_problem("Cannot export data", f"{path}: {e}")
            return False
        self.settings.setValue("last_dir", str(Path(path).resolve().parent))
        rows = len(ds.raw_train) + len(ds.raw_test)
        self.status.emit(f"Exported {rows} rows to {path} (targets: "
                         f"{', '.join(ds.target_names)})", 8000)
        return True

    def export_canvas(self, kind: str) -> None:
        """Save the canvas as a PNG or SVG file the user names."""
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self._widget(), f"Export canvas as {kind.upper()}",
            str(Path.home() / f"network.{kind}"), f"{kind.upper()} image (*.{kind})")
        if not path:
            return
        try:
            if kind == "png":
                self.canvas.save_png(path)
            else:
                self.canvas.save_svg(path)
        except OSError as e:
            self.show_problem("Cannot export", f"{path}: {e}")
            return
        self.status.emit(f"Exported {path}", 5000)

    # -- slides ---------------------------------------------------------------------------
    def export_slide(self, path: str | Path, size: tuple[int, int] = SLIDE_SIZES[0],
                     caption_html: str = "",
                     table_rows: Sequence[Sequence[object]] | None = None) -> bool:
        """Write a slide: the canvas laid out afresh beside (or above) the caption and,
        if given, the table (first row: the headers). ``.svg`` writes SVG, anything else
        PNG of ``size`` pixels. On a problem: one message, and False."""
        path = Path(path)
        try:
            if path.suffix.lower() == ".svg":
                save_slide_svg(self.canvas, path, caption_html, table_rows, size)
            else:
                save_slide_png(self.canvas, path, caption_html, table_rows, size)
        except (OSError, RuntimeError) as e:
            self.show_problem("Cannot export the slide", f"{path}: {e}")
            return False
        self.status.emit(f"Exported the slide {path}", 5000)
        return True

    def export_slide_dialog(self, caption_html: str = "",
                            table_rows: Sequence[Sequence[object]] | None = None) -> bool:
        """File > Export slide: choose the size, the format and whether the table goes
        on the slide, then the file."""
        dlg = SlideExportDialog(bool(table_rows), self._widget())
        dlg.size_combo.setCurrentIndex(int(self.settings.value("slide_size_index", 0) or 0)
                                       % len(SLIDE_SIZES))
        if dlg.exec() != QtWidgets.QDialog.Accepted:
            return False
        kind = dlg.kind()
        self.settings.setValue("slide_size_index", dlg.size_combo.currentIndex())
        start = Path(self._home()) / f"slide.{kind}"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self._widget(), f"Export slide as {kind.upper()}", str(start),
            f"{kind.upper()} image (*.{kind})")
        if not path:
            return False
        if Path(path).suffix.lower() != f".{kind}":
            path += f".{kind}"
        ok = self.export_slide(path, dlg.slide_size(), caption_html,
                               table_rows if dlg.include_table() else None)
        if ok:
            self.settings.setValue("last_dir", str(Path(path).resolve().parent))
        return ok


def lesson_slide_text(player, stepper=None) -> tuple[str, list[list[str]] | None]:
    """What a slide says beside the canvas: the lesson step's title and caption and its
    compare table (headers first; None without one); outside a lesson, the stepped
    update's phase, if any, and no table."""
    step = player.step if player is not None and player.active else None
    if step is not None:
        head = f"<p><b>{html.escape(step.title)}</b></p>" if step.title else ""
        rows = None
        if step.compare:
            rows = [list(player.lesson.compare_headers)]
            rows += [[r.what, r.article, r.correct] for r in step.compare]
        return head + step.caption_html, rows
    if stepper is not None and stepper.active:
        r = stepper.reveal()
        return f"<p><b>{html.escape(r.caption)}</b></p>", None
    return "", None


class SlideExportDialog(QtWidgets.QDialog):
    """Size (1920x1080 or 3840x2160), format (PNG or SVG) and whether the table goes on
    the slide."""

    def __init__(self, has_table: bool, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("slide_export")
        self.setWindowTitle("Export slide")
        form = QtWidgets.QFormLayout(self)
        form.addRow(QtWidgets.QLabel("The network with the lesson's caption, on one 16:9 "
                                     "slide."))
        self.size_combo = QtWidgets.QComboBox()
        for w, h in SLIDE_SIZES:
            self.size_combo.addItem(f"{w} \u00d7 {h}", (w, h))
        form.addRow("Size:", self.size_combo)
        self.format_combo = QtWidgets.QComboBox()
        self.format_combo.addItem("PNG (picture)", "png")
        self.format_combo.addItem("SVG (vector, scales without blur)", "svg")
        self.format_combo.currentIndexChanged.connect(self._on_format)
        form.addRow("Format:", self.format_combo)
        self.table_check = QtWidgets.QCheckBox("Include the lesson's table")
        self.table_check.setChecked(has_table)
        self.table_check.setEnabled(has_table)
        if not has_table:
            self.table_check.setToolTip("This step has no table")
        form.addRow(self.table_check)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok
                                             | QtWidgets.QDialogButtonBox.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.Ok).setText("Export\u2026")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _on_format(self) -> None:
        # an SVG is drawn at the size's proportions; its pixels are the viewer's
        self.size_combo.setToolTip("The view box of the SVG" if self.kind() == "svg"
                                   else "The picture's size in pixels")

    def slide_size(self) -> tuple[int, int]:
        return tuple(self.size_combo.currentData())

    def kind(self) -> str:
        return self.format_combo.currentData()

    def include_table(self) -> bool:
        return self.table_check.isEnabled() and self.table_check.isChecked()
