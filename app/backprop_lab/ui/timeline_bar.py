"""The timeline bar under the canvas: scrub back through the run's past (issue 11).

A slider from the run's first to its newest epoch, a label ("Epoch N of M", and that it
is the past while a past epoch is shown) and a Now button. Dragging or clicking the
slider asks the session to show that epoch (``Session.scrub``: it pauses training and
recomputes the state off the UI thread); the requests are throttled, so a drag sends at
most one every ``SCRUB_MS`` and always the last. The slider's end follows training
(``history_changed``, throttled too). Play from a past epoch is the session's business
(it branches); the bar only follows. In presentation mode the bar shows only while a
past epoch is shown.

``install_shortcuts`` adds the keys to the window: Home (the first epoch), End (the
present), Ctrl+Left / Ctrl+Right (back / forward by a step: a hundredth of the run, at
least one epoch).
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import QSignalThrottler

SCRUB_MS = 60  # at most one scrub request this often while the slider is dragged
FOLLOW_MS = 200  # the slider's end follows training at most 5 times a second
STEPS_PER_RUN = 100  # Ctrl+Left / Ctrl+Right: a hundredth of the run a press

#: the keys, for Help > Keyboard shortcuts
SHORTCUTS = [
    ("Home / End", "Timeline: the first epoch / the present"),
    ("Ctrl+Left / Ctrl+Right", "Timeline: back / forward a step (pauses training)"),
    ("Ctrl+R", "New initial weights (a new seed; Reset keeps the start)"),
]


class JumpSlider(QtWidgets.QSlider):
    """A slider whose handle jumps to where the groove is clicked (a plain QSlider moves a
    page towards it) and can be dragged on from there."""

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt)
        if event.button() == QtCore.Qt.LeftButton and self.maximum() > self.minimum():
            opt = QtWidgets.QStyleOptionSlider()
            self.initStyleOption(opt)
            style = self.style()
            handle = style.subControlRect(QtWidgets.QStyle.CC_Slider, opt,
                                          QtWidgets.QStyle.SC_SliderHandle, self)
            pos = event.position().toPoint()
            if not handle.contains(pos):
                groove = style.subControlRect(QtWidgets.QStyle.CC_Slider, opt,
                                              QtWidgets.QStyle.SC_SliderGroove, self)
                span = max(1, groove.width() - handle.width())
                x = pos.x() - groove.x() - handle.width() // 2
                self.setValue(QtWidgets.QStyle.sliderValueFromPosition(
                    self.minimum(), self.maximum(), min(max(x, 0), span), span))
        super().mousePressEvent(event)


class TimelineBar(QtWidgets.QWidget):
    """Slider, label and Now button over ``session``'s timeline."""

    def __init__(self, session, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("timeline_bar")
        self.session = session
        self._target: int | None = None  # the epoch asked for, until it is shown
        self._presenting = False
        self._hidden = False
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.setSpacing(8)
        self.label = QtWidgets.QLabel()
        self.label.setObjectName("timeline_label")
        self.label.setToolTip("The epoch the canvas and the plots show, of all trained")
        self.slider = JumpSlider(QtCore.Qt.Horizontal)
        self.slider.setObjectName("timeline_slider")
        self.slider.setFocusPolicy(QtCore.Qt.NoFocus)  # keys: the window's shortcuts
        self.slider.setToolTip(
            "Drag to go back to any epoch of training (pauses it): the canvas, formulas "
            "and plots show the network as it was. Play from there starts a branch; "
            "Edit > Undo gives the old future back. Home / End, Ctrl+Left / Ctrl+Right")
        self.now_button = QtWidgets.QToolButton()
        self.now_button.setObjectName("timeline_now")
        self.now_button.setText("Now")
        self.now_button.setFocusPolicy(QtCore.Qt.NoFocus)
        self.now_button.setToolTip("Back to the present: the newest epoch trained (End)")
        self.now_button.clicked.connect(self.go_present)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)
        lay.addWidget(self.now_button)
        self.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Fixed)

        self._scrub = QSignalThrottler(QSignalThrottler.EmissionPolicy.Leading, parent=self)
        self._scrub.setTimeout(SCRUB_MS)
        self._scrub.triggered.connect(self._send_scrub)
        self._follow = QSignalThrottler(QSignalThrottler.EmissionPolicy.Leading, parent=self)
        self._follow.setTimeout(FOLLOW_MS)
        self._follow.triggered.connect(self.sync)
        self.slider.valueChanged.connect(self._on_slider)

        session.history_changed.connect(self._follow.throttle)
        session.structure_changed.connect(self._follow.throttle)
        session.past_changed.connect(self._on_past_changed)
        session.scrub_progress.connect(self._on_progress)
        session.branched.connect(lambda _e: self.sync())
        session.error.connect(self._on_error)
        self.sync()

    # -- reading ------------------------------------------------------------------------
    def shown_epoch(self) -> int:
        """The epoch the bar stands at: the one asked for, else the one shown."""
        return self._target if self._target is not None else self.session.epoch

    def bounds(self) -> tuple[int, int]:
        t = self.session.timeline
        return int(t.first_epoch), int(t.last_epoch)

    def is_past(self) -> bool:
        """A past epoch is shown or asked for."""
        return self._target is not None or self.session.past_epoch is not None

    def set_scale(self, factor: float) -> None:
        """The label's and the button's text ``factor`` times the application's
        (presentation mode)."""
        base = QtWidgets.QApplication.font().pointSizeF()
        for w in (self.label, self.now_button):
            f = QtGui.QFont(w.font())
            f.setPointSizeF(base * factor)
            w.setFont(f)

    def set_presenting(self, on: bool) -> None:
        """In presentation mode the canvas keeps its room: the bar shows only while a
        past epoch is shown (the keys work either way)."""
        self._presenting = bool(on)
        self._update_label()

    # -- commands -----------------------------------------------------------------------
    def scrub_to(self, epoch: int) -> None:
        """Show ``epoch`` (clamped to the run); the newest epoch is the present."""
        first, last = self.bounds()
        epoch = min(max(int(epoch), first), last)
        if epoch == last:
            self.go_present()  # the newest epoch is the present (training goes on)
            return
        self._target = epoch
        self._set_slider(epoch)
        self._update_label()
        self._scrub.throttle()

    def go_first(self) -> None:
        self.scrub_to(self.bounds()[0])

    def go_present(self) -> None:
        """Back to the newest epoch (training stays paused: Play goes on from here)."""
        self._target = None
        self._scrub.cancel()
        self.session.show_present()
        self.sync()

    def step(self, direction: int) -> None:
        """Back (-1) or forward (1) a hundredth of the run, at least an epoch (the kept
        states lie where training happened to report, so they make no even steps;
        a replay from the nearest one is quick, and a step forward resumes from the
        last)."""
        first, last = self.bounds()
        size = max(1, (last - first) // STEPS_PER_RUN)
        self.scrub_to(self.shown_epoch() + (size if direction > 0 else -size))

    # -- following the session ------------------------------------------------------------
    @QtCore.Slot()
    def sync(self) -> None:
        """The slider's range from the timeline; its handle at the epoch shown."""
        first, last = self.bounds()
        if self._target is not None and not first <= self._target < last:
            self._target = None  # a new run or a reset since it was asked for
        with QtCore.QSignalBlocker(self.slider):
            self.slider.setRange(first, last)
            self.slider.setPageStep(max(1, (last - first) // 10))
        self._set_slider(self.shown_epoch())
        self._update_label()

    def _set_slider(self, epoch: int) -> None:
        with QtCore.QSignalBlocker(self.slider):
            self.slider.setValue(int(epoch))

    def _on_slider(self, value: int) -> None:
        self.scrub_to(value)

    def _send_scrub(self) -> None:
        if self._target is not None:
            self.session.scrub(self._target)

    def _on_past_changed(self, epoch) -> None:
        if epoch is None or epoch == self._target:
            self._target = None
        self.sync()

    def _on_error(self, _message: str) -> None:
        self._target = None  # the scrub failed (the session says why)
        self.sync()

    def _on_progress(self, done: int, total: int) -> None:
        if self._target is not None and total > 0:
            self._update_label(f"computing\u2026 {100 * done // total}%")

    def _update_label(self, note: str | None = None) -> None:
        first, last = self.bounds()
        epoch = self.shown_epoch()
        past = self.is_past()
        text = f"Epoch {epoch} of {last}"
        if note is not None:
            text += f" \u2014 {note}"
        elif past:
            text += " \u2014 the past"
        self.label.setText(text)
        self.label.setProperty("past", past)
        self.label.setToolTip(
            "A past epoch: Play or Step trains a branch from here (Edit > Undo gives the "
            "old future back); Now or End returns to the present" if past else
            "The epoch the canvas and the plots show, of all trained")
        self.now_button.setEnabled(past)
        hide = self._presenting and not past
        if hide != self._hidden:  # never shown here before the window shows it
            self._hidden = hide
            self.setHidden(hide)
        f = self.label.font()
        if f.italic() != past:
            f.setItalic(past)
            self.label.setFont(f)


def install_shortcuts(window, bar: TimelineBar) -> list[QtGui.QAction]:
    """The timeline's keys on ``window`` (they work with the menu bar hidden too), as
    ``window.act_timeline_first`` etc.; listed under Help > Keyboard shortcuts."""
    made = []
    for name, text, keys, slot, tip in (
            ("act_timeline_first", "First epoch", "Home", bar.go_first,
             "Show the run's first epoch (Home); pauses training"),
            ("act_timeline_present", "Present", "End", bar.go_present,
             "Back to the newest epoch (End)"),
            ("act_timeline_back", "Back in time", "Ctrl+Left", lambda: bar.step(-1),
             "Show an earlier epoch: a hundredth of the run back (Ctrl+Left)"),
            ("act_timeline_forward", "Forward in time", "Ctrl+Right", lambda: bar.step(1),
             "Show a later epoch: a hundredth of the run on (Ctrl+Right)")):
        a = QtGui.QAction(text, window)
        a.setShortcut(QtGui.QKeySequence(keys))
        a.setToolTip(tip)
        a.setStatusTip(tip)
        a.triggered.connect(lambda _=False, s=slot: s())
        window.addAction(a)
        setattr(window, name, a)
        made.append(a)
    extra = list(getattr(window, "extra_shortcuts", []))
    window.extra_shortcuts = extra + [s for s in SHORTCUTS if s not in extra]
    return made
