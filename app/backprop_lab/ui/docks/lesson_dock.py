"""The lesson dock: choose a lesson, read its caption, step with Back and Next.

It renders a ``LessonPlayer`` and computes nothing: the player replays the lesson on the
session, the canvas and the other docks show the result. Text is large enough to read
from the back of a lecture hall; the compare table puts the article's number (orange)
beside the correct one (blue, bold).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from ...controller.lessons import (
    DEFAULT_COMPARE_HEADERS,
    LessonError,
    LessonInfo,
    LessonPlayer,
    lessons_dir,
    list_lessons,
    load_lesson,
)

#: Okabe-Ito colours, as in the loss dock: told apart with colour-vision deficiencies
ARTICLE_COLOR = "#D55E00"  # vermillion: what the article says
CORRECT_COLOR = "#0072B2"  # blue: what is correct
ERROR_COLOR = "#b00020"
CAPTION_SCALE = 1.3  # caption text relative to the application font (projector)
TITLE_SCALE = 1.45
TABLE_SCALE = 1.15


#: column widths of the compare table, as fractions of its width
COLUMN_SHARES = (0.42, 0.26, 0.32)


def _font(factor: float, bold: bool = False) -> QtGui.QFont:
    f = QtGui.QFont(QtWidgets.QApplication.font())
    f.setPointSizeF(f.pointSizeF() * factor)
    f.setBold(bold)
    return f


class LessonDock(QtWidgets.QDockWidget):
    """Plays lessons through ``player``; the window maps Page Up / Page Down to
    ``back_button`` / ``next_button``.

    Starting a lesson replaces the network. ``confirm``, when set (the window sets its
    "unsaved changes?" question), is asked exactly once before any lesson starts, however
    it is started; returning False leaves everything as it was.
    """

    def __init__(self, player: LessonPlayer, parent: QtWidgets.QWidget | None = None):
        super().__init__("Lesson", parent)
        self.setObjectName("lesson_dock")
        self.player = player
        #: asked before a lesson replaces the network; False keeps the current work
        self.confirm: Callable[[], bool] | None = None
        self._finished_title: str | None = None
        self._start_error = ""
        self._scale = 1.0

        body = QtWidgets.QWidget(self)
        outer = QtWidgets.QVBoxLayout(body)
        outer.setContentsMargins(6, 4, 6, 6)
        outer.setSpacing(6)

        # -- chooser --------------------------------------------------------------------
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(6)
        self.lesson_combo = QtWidgets.QComboBox()
        self.lesson_combo.setObjectName("lesson_combo")
        self.lesson_combo.setToolTip("The lessons shipped in resources/lessons")
        self.lesson_combo.setSizePolicy(QtWidgets.QSizePolicy.Expanding,
                                        QtWidgets.QSizePolicy.Fixed)
        self.lesson_combo.setSizeAdjustPolicy(
            QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.lesson_combo.setMinimumContentsLength(12)
        self.lesson_combo.currentIndexChanged.connect(lambda _i: self._refresh())
        row.addWidget(self.lesson_combo, 1)
        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.setObjectName("lesson_start")
        self.start_button.setToolTip("Start the chosen lesson at its first step (this "
                                     "replaces the network on the canvas)")
        self.start_button.clicked.connect(self.start_selected)
        row.addWidget(self.start_button)
        self.open_button = QtWidgets.QToolButton()
        self.open_button.setText("Open…")
        self.open_button.setToolTip("Play a lesson file from disk (for lecturers writing "
                                    "their own; see resources/lessons/README.md)")
        self.open_button.clicked.connect(self.open_dialog)
        row.addWidget(self.open_button)
        outer.addLayout(row)

        # -- the step (scrolls when it does not fit) -----------------------------------------
        page = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(page)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(8)
        self.title_label = QtWidgets.QLabel()
        self.title_label.setObjectName("lesson_title")
        self.title_label.setWordWrap(True)
        self.title_label.setTextFormat(QtCore.Qt.PlainText)
        lay.addWidget(self.title_label)

        step_row = QtWidgets.QHBoxLayout()
        self.step_label = QtWidgets.QLabel()
        self.step_label.setObjectName("lesson_step")
        self.step_label.setWordWrap(True)
        self.step_label.setTextFormat(QtCore.Qt.RichText)
        self.step_label.setToolTip("Where you are in the lesson")
        step_row.addWidget(self.step_label, 1)
        self.steps_button = QtWidgets.QToolButton()
        self.steps_button.setText("Steps")
        self.steps_button.setToolTip("Jump to any step of the lesson")
        self.steps_button.setPopupMode(QtWidgets.QToolButton.InstantPopup)
        self.steps_menu = QtWidgets.QMenu(self.steps_button)
        self.steps_menu.aboutToShow.connect(self._fill_steps_menu)
        self.steps_button.setMenu(self.steps_menu)
        step_row.addWidget(self.steps_button, 0, QtCore.Qt.AlignTop)
        lay.addLayout(step_row)

        self.caption_label = QtWidgets.QLabel()
        self.caption_label.setObjectName("lesson_caption")
        self.caption_label.setWordWrap(True)
        self.caption_label.setTextFormat(QtCore.Qt.RichText)
        self.caption_label.setAlignment(QtCore.Qt.AlignTop | QtCore.Qt.AlignLeft)
        self.caption_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.caption_label.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                         QtWidgets.QSizePolicy.Minimum)
        lay.addWidget(self.caption_label)

        self.compare_table = QtWidgets.QTableWidget(0, 3)
        self.compare_table.setObjectName("lesson_compare")
        self.compare_table.setToolTip("What the article says beside what is correct")
        self.compare_table.verticalHeader().hide()
        self.compare_table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.compare_table.setSelectionMode(QtWidgets.QAbstractItemView.NoSelection)
        self.compare_table.setFocusPolicy(QtCore.Qt.NoFocus)
        self.compare_table.setWordWrap(True)
        self.compare_table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        self.compare_table.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        hh = self.compare_table.horizontalHeader()
        hh.setSectionResizeMode(QtWidgets.QHeaderView.Fixed)
        hh.setDefaultAlignment(QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter)
        hh.setHighlightSections(False)
        self.compare_table.setSizePolicy(QtWidgets.QSizePolicy.Expanding,
                                         QtWidgets.QSizePolicy.Fixed)
        self.compare_table.hide()
        self.compare_table.viewport().installEventFilter(self)  # re-wrap on resize
        lay.addWidget(self.compare_table)

        self.message_label = QtWidgets.QLabel()
        self.message_label.setObjectName("lesson_message")
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(QtCore.Qt.PlainText)
        self.message_label.setStyleSheet(f"color: {ERROR_COLOR}")
        self.message_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.message_label.hide()
        lay.addWidget(self.message_label)
        lay.addStretch(1)

        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        self.scroll.setWidget(page)
        outer.addWidget(self.scroll, 1)

        # -- buttons --------------------------------------------------------------------
        nav = QtWidgets.QHBoxLayout()
        st = self.style()
        self.back_button = QtWidgets.QPushButton("Back")
        self.back_button.setObjectName("lesson_back")
        self.back_button.setIcon(st.standardIcon(QtWidgets.QStyle.SP_ArrowBack))
        self.back_button.setToolTip("The previous step, exactly as it was (Page Up)")
        self.back_button.clicked.connect(self._back)
        self.stop_button = QtWidgets.QPushButton("End")
        self.stop_button.setObjectName("lesson_stop")
        self.stop_button.setToolTip("Leave the lesson; the network stays as it is now")
        self.stop_button.clicked.connect(self.player.stop)
        self.next_button = QtWidgets.QPushButton("Next")
        self.next_button.setObjectName("lesson_next")
        self.next_button.setIcon(st.standardIcon(QtWidgets.QStyle.SP_ArrowForward))
        self.next_button.setLayoutDirection(QtCore.Qt.RightToLeft)  # icon after the text
        self.next_button.setToolTip("The next step (Page Down)")
        self.next_button.clicked.connect(self._next)
        for b in (self.back_button, self.stop_button, self.next_button):
            b.setFocusPolicy(QtCore.Qt.TabFocus)  # keys stay with the canvas
        self.next_button.setDefault(True)
        nav.addWidget(self.back_button)
        nav.addStretch(1)
        nav.addWidget(self.stop_button)
        nav.addStretch(1)
        nav.addWidget(self.next_button)
        outer.addLayout(nav)
        self.setWidget(body)

        player.changed.connect(self._refresh)
        player.finished.connect(self._on_finished)
        self.set_scale(1.0)
        self.reload_lessons()

    def set_scale(self, factor: float) -> None:
        """Scale the text (presentation mode: 1.5 or 2); at 1 the caption is already
        1.3 times the application font."""
        self._scale = max(0.5, float(factor))
        k = self._scale
        self.widget().setFont(_font(k))
        self.title_label.setFont(_font(TITLE_SCALE * k, bold=True))
        self.step_label.setFont(_font(CAPTION_SCALE * 0.95 * k))
        self.caption_label.setFont(_font(CAPTION_SCALE * k))
        self.compare_table.setFont(_font(TABLE_SCALE * k))
        self.compare_table.horizontalHeader().setFont(_font(TABLE_SCALE * k, bold=True))
        self.message_label.setFont(_font(CAPTION_SCALE * 0.9 * k, bold=True))
        for b in (self.back_button, self.stop_button, self.next_button):
            b.setFont(_font(1.15 * k))
        self._refresh()

    def scale(self) -> float:
        return self._scale

    # -- the lesson list ------------------------------------------------------------------
    def reload_lessons(self) -> None:
        """Fill the chooser from the lessons folder (call after adding a file)."""
        with QtCore.QSignalBlocker(self.lesson_combo):
            self.lesson_combo.clear()
            for n, info in enumerate(list_lessons()):
                self._add_info(info, n + 1)
        self._refresh()

    def _add_info(self, info: LessonInfo, number: int | None = None) -> None:
        prefix = f"{number}. " if number is not None else ""
        if info.error:
            self.lesson_combo.addItem(f"{prefix}{info.name} (cannot be played)", info)
            tip = info.error
        else:
            self.lesson_combo.addItem(f"{prefix}{info.title}", info)
            tip = f"{info.summary}\n({info.steps} steps, {info.path.name})"
        self.lesson_combo.setItemData(self.lesson_combo.count() - 1, tip,
                                      QtCore.Qt.ToolTipRole)

    def selected_info(self) -> LessonInfo | None:
        info = self.lesson_combo.currentData()
        return info if isinstance(info, LessonInfo) else None

    def select_lesson(self, name: str) -> bool:
        """Choose the lesson with this file name (without .json) in the chooser."""
        for i in range(self.lesson_combo.count()):
            info = self.lesson_combo.itemData(i)
            if isinstance(info, LessonInfo) and info.name == name:
                self.lesson_combo.setCurrentIndex(i)
                return True
        return False

    # -- commands -------------------------------------------------------------------------
    def start_selected(self) -> bool:
        """Start the lesson chosen in the chooser; False if it did not start."""
        info = self.selected_info()
        if info is None:
            return False
        return self.start_file(info.path)

    def start_file(self, path: str | Path) -> bool:
        """Load and start a lesson file; a broken file is explained in red. Asks
        ``confirm`` (once) before the lesson replaces the network."""
        try:
            lesson = load_lesson(path)
        except LessonError as e:
            self._finished_title = None
            self._start_error = str(e)
            self._refresh()
            return False
        if self.confirm is not None and not self.confirm():
            return False  # the user keeps their work; the dock stays as it was
        self._finished_title = None
        self._start_error = ""
        self._busy(lambda: self.player.start(lesson))
        return True

    @property
    def start_error(self) -> str:
        """Why the last lesson file could not be started ("" if it could)."""
        return self._start_error

    def open_dialog(self) -> bool:
        """Choose a lesson file and start it (``start_file`` asks ``confirm``)."""
        start = str(lessons_dir()) if lessons_dir().is_dir() else str(Path.home())
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open lesson", start, "Backprop Lab lesson (*.json);;All files (*)")
        return bool(path) and self.start_file(path)

    def _next(self) -> None:
        self._busy(self.player.next)

    def _back(self) -> None:
        self._busy(self.player.back)

    def _go(self, k: int) -> None:
        self._busy(lambda: self.player.go(k))

    def _busy(self, fn) -> None:
        fn()  # a step that takes a moment says "Preparing" in the heading meanwhile

    def _fill_steps_menu(self) -> None:
        self.steps_menu.clear()
        p = self.player
        if not p.active:
            return
        for k, step in enumerate(p.lesson.steps):
            a = self.steps_menu.addAction(f"{k + 1}. {step.title or 'Step ' + str(k + 1)}")
            a.setCheckable(True)
            a.setChecked(k == p.index)
            a.triggered.connect(lambda _=False, k=k: self._go(k))

    def _on_finished(self) -> None:
        lesson = self.player.lesson
        self._finished_title = lesson.title if lesson is not None else ""

    # -- rendering ------------------------------------------------------------------------
    def _refresh(self) -> None:
        p = self.player
        active = p.active
        self.back_button.setEnabled(active and p.index > 0)
        self.next_button.setEnabled(active)
        self.stop_button.setEnabled(active)
        self.steps_button.setEnabled(active)
        if active:
            self._finished_title = None
            lesson, step = p.lesson, p.step
            self.title_label.setText(lesson.title)
            heading = f"Step {p.index + 1} of {p.count}"
            if step.title:
                heading += f": <b>{_escape(step.title)}</b>"
            if p.busy:
                heading += (f"<br><i>Preparing step {p.target + 1}…</i>"
                            if p.target != p.index else " <i>(preparing…)</i>")
            self.step_label.setText(heading)
            self.caption_label.setText(step.caption_html)
            self._show_compare(lesson.compare_headers, step.compare)
            self._show_message(p.message)
            last = p.at_end
            self.next_button.setText("Finish" if last else "Next")
            self.next_button.setToolTip("End the lesson; the network stays as it is "
                                        "(Page Down)" if last else "The next step (Page Down)")
        else:
            info = self.selected_info()
            self.next_button.setText("Next")
            self._show_compare(DEFAULT_COMPARE_HEADERS, ())
            if self._finished_title is not None:
                self.title_label.setText(self._finished_title)
                self.step_label.setText("<b>Lesson finished</b>")
                self.caption_label.setText("The network stays as the last step left it: "
                                           "train it, change it, explore. Choose a lesson "
                                           "and press Start to begin another.")
            elif info is None:
                self.title_label.setText("No lessons found")
                self.step_label.setText("")
                self.caption_label.setText(f"Put lesson files into {_escape(str(lessons_dir()))}"
                                           " or use Open….")
            else:
                self.title_label.setText(info.title if not info.error else info.name)
                self.step_label.setText(f"{info.steps} steps" if not info.error else "")
                self.caption_label.setText(
                    _escape(info.summary) + "<br><br>Press <b>Start</b> to begin."
                    if not info.error else "")
            self._show_message(self._start_error or (info.error if info is not None and
                                                     info.error else ""))

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def _show_compare(self, headers, rows) -> None:
        t = self.compare_table
        t.setRowCount(len(rows))
        t.setHorizontalHeaderLabels(list(headers))
        plain = tuple(headers) != DEFAULT_COMPARE_HEADERS
        bold = QtGui.QFont(t.font())
        bold.setBold(True)
        for r, row in enumerate(rows):
            cells = (row.what, row.article, row.correct)
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setToolTip(f"{headers[c] or 'What'}: {text}" if c else text)
                item.setTextAlignment(QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter)
                if c == 1 and not plain:
                    item.setForeground(QtGui.QColor(ARTICLE_COLOR))
                elif c == 2:
                    if not plain:
                        item.setForeground(QtGui.QColor(CORRECT_COLOR))
                    item.setFont(bold)
                t.setItem(r, c, item)
        t.setVisible(bool(rows))
        self._fit_table()

    def _fit_table(self) -> None:
        """Make the table exactly as tall as its rows: the page scrolls, not the table."""
        t = self.compare_table
        width = t.viewport().width()
        for c, share in enumerate(COLUMN_SHARES):
            t.setColumnWidth(c, int(width * share) if c < 2 else
                             width - sum(t.columnWidth(i) for i in range(2)))
        if not t.rowCount():
            return
        t.resizeRowsToContents()
        h = t.horizontalHeader().height() + 2 * t.frameWidth()
        h += sum(t.rowHeight(r) for r in range(t.rowCount()))
        t.setFixedHeight(h)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if obj is self.compare_table.viewport() and event.type() == QtCore.QEvent.Resize:
            QtCore.QTimer.singleShot(0, self._fit_table)  # wrapped rows change height
        return super().eventFilter(obj, event)


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
