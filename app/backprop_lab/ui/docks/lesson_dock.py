"""The lesson dock: choose a lesson, read its caption, step with Back and Next.

It renders a ``LessonPlayer`` and computes nothing: the player replays the lesson on the
session, the canvas and the other docks show the result. Text is large enough to read
from the back of a lecture hall; the compare table puts the article's number (orange)
beside the correct one (blue, bold).

The text fits the dock, it does not scroll: ``fit()`` picks the largest text size, up to
the dock's scale (``set_scale``: presentation mode and the window's text size), at which
the heading, the caption and the whole table fit the room the dock has; the table's
columns are as wide as their longest word at least, so nothing is cut off. The window
asks ``needed_height`` how much room a text size takes when it shares the screen out.
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
from ..theme import LIGHT, Look, look, tinted

#: Okabe-Ito colours, as in the loss dock: told apart with colour-vision deficiencies
ARTICLE_COLOR = LIGHT.vermillion  # what the article says
CORRECT_COLOR = LIGHT.blue  # what is correct
ERROR_COLOR = LIGHT.error
CAPTION_SCALE = 1.3  # caption text relative to the application font (projector)
STEP_SCALE = 1.3  # "Step 7 of 16: The weight update"
TITLE_SCALE = 1.0  # the lesson's title, above it (muted: it is the same on every step)
TABLE_SCALE = 1.15
#: the smallest text ``fit`` goes down to, as a fraction of the dock's scale-1 size
#: (a caption of 1.3 x 0.55 = 0.72 times the application font)
MIN_FIT = 0.55
#: the fitted size moves in steps of this factor (fewer relayouts, no jitter)
FIT_STEP = 0.04
#: pixels kept free below the text: the layout rounds a little differently from the
#: measurement, and one pixel too many makes the page scroll
FIT_SLACK = 3
#: room a table cell needs beside its text (the item's margins, the grid line)
CELL_PAD = 16
#: the compare table's columns, as shares of the width their text would like
COLUMN_WEIGHTS = (1.2, 1.0, 1.0)


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
        self._fitted = 1.0  # the text size fit() chose, at most _scale
        self._look: Look = LIGHT
        self._fit_queued = False

        body = QtWidgets.QWidget(self)
        outer = QtWidgets.QVBoxLayout(body)
        outer.setContentsMargins(6, 4, 6, 6)
        outer.setSpacing(6)

        # -- chooser (hidden while a lesson plays: the Lessons menu starts another) ------
        self.chooser = QtWidgets.QWidget()
        self.chooser.setObjectName("lesson_chooser")
        row = QtWidgets.QHBoxLayout(self.chooser)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.lesson_combo = ElidingComboBox()
        self.lesson_combo.setObjectName("lesson_combo")
        self.lesson_combo.setToolTip("The lessons shipped in resources/lessons")
        self.lesson_combo.setSizePolicy(QtWidgets.QSizePolicy.Expanding,
                                        QtWidgets.QSizePolicy.Fixed)
        self.lesson_combo.setSizeAdjustPolicy(
            QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.lesson_combo.setMinimumContentsLength(12)
        # the box shows as much of a long title as fits, ending in "…"; the list and
        # the tooltip show whole titles, however narrow the dock is
        self.lesson_combo.view().setTextElideMode(QtCore.Qt.ElideNone)
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
        outer.addWidget(self.chooser)

        # -- the step (fit() sizes the text so that it does not scroll) -------------------
        page = _Page()
        self.page = page
        lay = QtWidgets.QVBoxLayout(page)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(8)
        self.title_label = QtWidgets.QLabel()
        self.title_label.setObjectName("lesson_title")
        self.title_label.setWordWrap(True)
        self.title_label.setTextFormat(QtCore.Qt.PlainText)
        self.title_label.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                       QtWidgets.QSizePolicy.Minimum)
        lay.addWidget(self.title_label)

        step_row = QtWidgets.QHBoxLayout()
        self._step_row = step_row
        self.step_label = QtWidgets.QLabel()
        self.step_label.setObjectName("lesson_step")
        self.step_label.setWordWrap(True)
        self.step_label.setTextFormat(QtCore.Qt.RichText)
        self.step_label.setToolTip("Where you are in the lesson")
        self.step_label.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                      QtWidgets.QSizePolicy.Minimum)
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
        self.compare_table.setTextElideMode(QtCore.Qt.ElideNone)  # wrapped, never cut
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
        self.message_label.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.message_label.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                         QtWidgets.QSizePolicy.Minimum)
        self.message_label.hide()
        lay.addWidget(self.message_label)
        lay.addStretch(1)

        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        self.scroll.setWidget(page)
        self.scroll.viewport().installEventFilter(self)  # refit when the room changes
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
        self.message_label.setStyleSheet(f"color: {self._look.error}")
        self.title_label.setStyleSheet(f"color: {self._look.note}")
        self.set_scale(1.0)
        self.reload_lessons()

    def set_scale(self, factor: float) -> None:
        """The largest text size (presentation mode: 1.4; the window's text size is in
        the application font already); at 1 the caption is 1.3 times the application
        font. ``fit`` shrinks the text below this when the dock is too small for it."""
        self._scale = max(0.5, float(factor))
        k = self._scale
        self.widget().setFont(_font(k))
        for b in (self.back_button, self.stop_button, self.next_button):
            b.setFont(_font(1.15 * k))
        self._apply_fonts(k)
        self._refresh()

    def scale(self) -> float:
        return self._scale

    def fitted_scale(self) -> float:
        """The text size the step is shown at now (``fit``), at most ``scale()``."""
        return self._fitted

    def set_theme(self, theme: str) -> None:
        """Colours for the light theme or the dark projector theme (``ui.theme``)."""
        self._look = look(theme)
        st = self.style()
        for b, which in ((self.back_button, QtWidgets.QStyle.SP_ArrowBack),
                         (self.next_button, QtWidgets.QStyle.SP_ArrowForward)):
            icon = st.standardIcon(which)
            b.setIcon(icon if theme == "light" else tinted(icon, self._look.text))
        self.message_label.setStyleSheet(f"color: {self._look.error}")
        self.title_label.setStyleSheet(f"color: {self._look.note}")
        self._refresh()

    # -- fitting the text to the room -----------------------------------------------------
    def _apply_fonts(self, k: float) -> None:
        self._fitted = k
        self.title_label.setFont(_font(TITLE_SCALE * k, bold=True))
        self.step_label.setFont(_font(STEP_SCALE * k))
        self.caption_label.setFont(_font(CAPTION_SCALE * k))
        t = self.compare_table
        t.setFont(_font(TABLE_SCALE * k))
        t.horizontalHeader().setFont(_font(TABLE_SCALE * k, bold=True))
        bold = _font(TABLE_SCALE * k, bold=True)
        for r in range(t.rowCount()):
            item = t.item(r, 2)
            if item is not None:
                item.setFont(bold)
        self.message_label.setFont(_font(CAPTION_SCALE * 0.9 * k, bold=True))

    def _page_width(self, dock_width: int | None = None) -> int:
        """The width the page's text has when the dock is ``dock_width`` wide."""
        chrome = self.width() - self.scroll.viewport().width()
        w = (self.width() if dock_width is None else dock_width) - chrome
        m = self.page.layout().contentsMargins()
        return max(40, w - m.left() - m.right())

    def chrome_height(self) -> int:
        """The dock's height that is not the page: title bar, chooser, buttons."""
        return max(0, self.height() - self.scroll.viewport().height())

    def content_height(self, width: int, k: float | None = None) -> int:
        """The page's height at text size ``k`` (default: as shown) when the page is
        ``width`` wide (the fonts and the table are put back as they were)."""
        shown = self._fitted
        try:
            if k is not None:
                self._apply_fonts(k)
            return self._measure(width)
        finally:
            self._apply_fonts(shown)
            self._layout_table(self._page_width())

    def _measure(self, width: int) -> int:
        """The page's height when its text is ``width`` wide, as its layout computes it
        (the table laid out for that width first); huge if the table's words do not
        fit its columns."""
        fits = self._layout_table(width)
        lay = self.page.layout()
        m = lay.contentsMargins()
        for sub in (lay, self._step_row):
            sub.invalidate()  # fonts changed: no cached height-for-width
        h = lay.heightForWidth(width + m.left() + m.right())
        return h if fits else 10 ** 6

    def needed_height(self, dock_width: int | None = None, k: float | None = None) -> int:
        """The dock's height that shows the step whole at text size ``k``."""
        return self.chrome_height() + self.content_height(self._page_width(dock_width), k) \
            + FIT_SLACK

    def fit(self) -> float:
        """Show the step at the largest text size, up to ``scale()``, that fits the
        room the dock has now; returns it."""
        self._fit_queued = False
        room = self.scroll.viewport().height()
        width = self._page_width()
        k = self.best_scale(width, room)
        self._apply_fonts(k)
        self._layout_table(width)
        return k

    def best_scale(self, width: int, room: int) -> float:
        """The largest text size (in FIT_STEP steps below ``scale()``) at which the page
        is at most ``room`` high when ``width`` wide; MIN_FIT if none is."""
        shown = self._fitted
        sizes = _sizes(self._scale)
        try:
            lo, hi = 0, len(sizes) - 1  # sizes[0] is the largest
            if self._fits(sizes[0], width, room):
                return sizes[0]
            if not self._fits(sizes[hi], width, room):
                return sizes[hi]
            while hi - lo > 1:  # sizes[lo] does not fit, sizes[hi] does
                mid = (lo + hi) // 2
                if self._fits(sizes[mid], width, room):
                    hi = mid
                else:
                    lo = mid
            return sizes[hi]
        finally:
            self._apply_fonts(shown)

    def _fits(self, k: float, width: int, room: int) -> bool:
        self._apply_fonts(k)
        return self._measure(width) + FIT_SLACK <= room

    def _queue_fit(self) -> None:
        if not self._fit_queued:
            self._fit_queued = True
            QtCore.QTimer.singleShot(0, self.fit)

    # -- the lesson list ------------------------------------------------------------------
    def reload_lessons(self) -> None:
        """Fill the chooser from the lessons folder (call after adding a file)."""
        with QtCore.QSignalBlocker(self.lesson_combo):
            self.lesson_combo.clear()
            for n, info in enumerate(list_lessons()):
                self._add_info(info, n + 1)
        self.lesson_combo.fit_popup()
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
        self.chooser.setVisible(not active)
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
        if self.isVisible():
            self.fit()
        else:
            self._queue_fit()

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
                    item.setForeground(QtGui.QColor(self._look.vermillion))
                elif c == 2:
                    if not plain:
                        item.setForeground(QtGui.QColor(self._look.blue))
                    item.setFont(bold)
                t.setItem(r, c, item)
        t.setVisible(bool(rows))
        self._layout_table(self._page_width())

    def column_needs(self) -> list[tuple[float, float]]:
        """Per column of the compare table: (the width its longest word needs, the width
        its longest text needs on one line), in pixels at the table's font."""
        t = self.compare_table
        fm = QtGui.QFontMetricsF(t.font())
        fmb = QtGui.QFontMetricsF(t.horizontalHeader().font())
        out = []
        for c in range(t.columnCount()):
            head = t.horizontalHeaderItem(c)
            head_w = fmb.horizontalAdvance(head.text()) if head is not None else 0.0
            least, most = head_w, head_w
            for r in range(t.rowCount()):
                item = t.item(r, c)
                if item is None:
                    continue
                m = QtGui.QFontMetricsF(item.font()) if c == 2 else fm
                text = item.text()
                words = text.split() or [""]
                least = max(least, max(m.horizontalAdvance(wd) for wd in words))
                most = max(most, m.horizontalAdvance(text))
            out.append((least + CELL_PAD, most + CELL_PAD))
        return out

    def _layout_table(self, width: int) -> bool:
        """Columns as wide as their longest word at least, the rest of ``width`` shared
        by how much text each has; the table exactly as tall as its rows (it never
        scrolls). False if the longest words alone are wider than ``width``."""
        t = self.compare_table
        if not t.rowCount():
            return True
        inner = max(30, width - 2 * t.frameWidth())
        needs = self.column_needs()
        least = [a for a, _ in needs]
        most = [max(a, b) for a, b in needs]
        fits = sum(least) <= inner
        if sum(most) <= inner:  # every text on one line: share the rest out evenly
            extra = (inner - sum(most)) / len(most)
            widths = [m + extra for m in most]
        elif fits:
            want = [(b - a) * wt for (a, b), wt in zip(zip(least, most), COLUMN_WEIGHTS)]
            spare = inner - sum(least)
            total = sum(want) or 1.0
            widths = [a + spare * w / total for a, w in zip(least, want)]
        else:
            widths = [a * inner / sum(least) for a in least]
        done = 0
        for c, w in enumerate(widths):
            w = int(w) if c < len(widths) - 1 else inner - done
            t.setColumnWidth(c, w)
            done += w
        t.resizeRowsToContents()
        h = t.horizontalHeader().sizeHint().height() + 2 * t.frameWidth()
        h += sum(t.rowHeight(r) for r in range(t.rowCount()))
        t.setFixedHeight(h)
        return fits

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if obj is self.scroll.viewport() and event.type() == QtCore.QEvent.Resize:
            self._queue_fit()  # the room changed: the text size follows
        return super().eventFilter(obj, event)


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


class ElidingComboBox(QtWidgets.QComboBox):
    """A combo box that ends a text too long for it in "…" instead of cutting it off
    mid-letter; its list is as wide as its longest item."""

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QtWidgets.QStylePainter(self)
        opt = QtWidgets.QStyleOptionComboBox()
        self.initStyleOption(opt)
        painter.drawComplexControl(QtWidgets.QStyle.CC_ComboBox, opt)
        field = self.style().subControlRect(QtWidgets.QStyle.CC_ComboBox, opt,
                                            QtWidgets.QStyle.SC_ComboBoxEditField, self)
        opt.currentText = self.fontMetrics().elidedText(opt.currentText,
                                                        QtCore.Qt.ElideRight, field.width())
        painter.drawControl(QtWidgets.QStyle.CE_ComboBoxLabel, opt)

    def shown_text(self) -> str:
        """The text the box shows now (elided when it is too narrow)."""
        opt = QtWidgets.QStyleOptionComboBox()
        self.initStyleOption(opt)
        field = self.style().subControlRect(QtWidgets.QStyle.CC_ComboBox, opt,
                                            QtWidgets.QStyle.SC_ComboBoxEditField, self)
        return self.fontMetrics().elidedText(self.currentText(), QtCore.Qt.ElideRight,
                                             field.width())

    def fit_popup(self) -> None:
        """The list as wide as its longest item."""
        fm = self.view().fontMetrics()
        widest = max((fm.horizontalAdvance(self.itemText(i)) for i in range(self.count())),
                     default=0)
        self.view().setMinimumWidth(widest + 40)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.FontChange:
            self.fit_popup()


class _Page(QtWidgets.QWidget):
    """The step's page. Its minimum height is its height at the width it has (its
    layout's height-for-width), not at its narrowest: else the scroll area would make it
    taller than the text and scroll although the text fits."""

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        hint = super().minimumSizeHint()
        lay = self.layout()
        if lay is None or self.width() <= 0:
            return hint
        return QtCore.QSize(hint.width(), min(hint.height(), lay.heightForWidth(self.width())))


def _sizes(largest: float) -> list[float]:
    """The text sizes ``fit`` tries, largest first, down to MIN_FIT."""
    out, k = [], largest
    while k > MIN_FIT + 1e-9:
        out.append(round(k, 4))
        k -= FIT_STEP
    out.append(MIN_FIT if largest > MIN_FIT else largest)
    return out
