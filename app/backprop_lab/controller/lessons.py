"""The lesson player: shows a lesson's steps on the session and the phase stepper.

A step's state is a pure function of the lesson and the step index
(``runs.lessons.iter_replay``). The player computes it off the UI thread, keeps every
stage it computed, and applies the one asked for in one go: the network, the run's
state and history, the selected sample, the stepper's phase and the view options.
Moves that arrive while a stage is computed (a clicker pressed twice) only move the
target; the newest target wins and nothing runs inside anything else, so a step always
shows the same state.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore
from superqt.utils import create_worker

from ..runs.lessons import (
    DEFAULT_COMPARE_HEADERS,
    VIEW_DEFAULTS,
    Lesson,
    LessonError,
    LessonInfo,
    Stage,
    Step,
    iter_replay,
    lessons_dir,
    list_lessons,
    load_lesson,
)
from .session import Session
from .teaching import PhaseStepper

__all__ = ["DEFAULT_COMPARE_HEADERS", "Lesson", "LessonError", "LessonInfo", "LessonPlayer",
           "lessons_dir", "list_lessons", "load_lesson"]


class LessonPlayer(QtCore.QObject):
    """Plays a lesson on a session and its phase stepper, one step at a time.

    A problem in a step (training diverged, a setting the network refuses) does not
    raise: it is kept in ``message`` for the dock to show, and the steps stay navigable.
    """

    #: the lesson, the step, the message or ``busy`` changed
    changed = QtCore.Signal()
    #: a view setting the window should apply: ("color_by", "gradient"|"weight"),
    #: ("weights", bool), ("values", bool) or ("show", a view name of runs.lessons.VIEWS)
    view_option = QtCore.Signal(str, object)
    #: Next was pressed on the last step; the lesson has ended (its state stays)
    finished = QtCore.Signal()
    #: a stage was applied to the session (the step shown is ``index``)
    applied = QtCore.Signal(int)

    def __init__(self, session: Session, stepper: PhaseStepper,
                 parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.stepper = stepper
        self._lesson: Lesson | None = None
        self._index = 0  # the step shown
        self._target = 0  # the step asked for
        self._stages: dict[int, Stage] = {}
        self._worker = None
        self._message = ""
        self._stage: Stage | None = None
        self._applying = False
        # the user opened something else meanwhile: a step still being prepared is
        # not put over it
        session.structure_changed.connect(self._on_structure_changed)

    def _on_structure_changed(self) -> None:
        if self._applying or not self.busy:
            return
        if self._stage is None:  # the lesson had not even shown its first step
            self.stop()
            return
        self._cancel()
        self._target = self._index
        self.changed.emit()

    # -- state --------------------------------------------------------------------------
    @property
    def lesson(self) -> Lesson | None:
        return self._lesson

    @property
    def active(self) -> bool:
        return self._lesson is not None

    @property
    def index(self) -> int:
        """The step shown, counted from 0 (``target`` while it is being prepared)."""
        return self._index

    @property
    def target(self) -> int:
        return self._target

    @property
    def busy(self) -> bool:
        """The step asked for is being prepared (the one shown is still the old one)."""
        return self.active and (self._target != self._index or self._stage is None)

    @property
    def count(self) -> int:
        return len(self._lesson.steps) if self._lesson is not None else 0

    @property
    def step(self) -> Step | None:
        return self._lesson.steps[self._index] if self._lesson is not None else None

    @property
    def message(self) -> str:
        """What went wrong in the current step ("" if nothing): show it in red."""
        return self._message

    @property
    def replaying(self) -> bool:
        """Kept for the window: a step being prepared changes nothing in the session
        until it is applied, so there is no replay in progress to protect."""
        return False

    @property
    def view_options(self) -> dict[str, Any]:
        """The view settings the lesson has chosen up to the current step."""
        return self._stage.view_options if self._stage is not None else {}

    @property
    def at_end(self) -> bool:
        return self.active and self._index == self.count - 1

    @property
    def stage(self) -> Stage | None:
        """The stage shown."""
        return self._stage

    # -- moving -------------------------------------------------------------------------
    def start(self, lesson: Lesson) -> None:
        """Begin ``lesson`` at its first step."""
        self._cancel()
        self._lesson = lesson
        self._stages = {}
        self._stage = None
        self._index = self._target = 0
        self._message = ""
        self.go(0)

    def next(self) -> None:
        """The next step; on the last step, end the lesson (``finished``)."""
        if not self.active:
            return
        if self._target >= self.count - 1:
            if self.busy:
                return  # the last step is still being prepared
            self.finished.emit()
            self.stop()
            return
        self.go(self._target + 1)

    def back(self) -> None:
        if self.active and self._target > 0:
            self.go(self._target - 1)

    def go(self, k: int) -> None:
        """Show step ``k`` (counted from 0): at once if it was computed before, else as
        soon as it is."""
        if not self.active:
            raise RuntimeError("no lesson is playing")
        if not 0 <= k < self.count:
            raise IndexError(f"step {k} is outside 0..{self.count - 1}")
        self._target = k
        if k in self._stages:
            self._apply(self._stages[k])
            return
        self.changed.emit()  # busy
        if self._worker is None:
            self._compute()

    def stop(self) -> None:
        """Leave the lesson; the session keeps the state of the last step shown."""
        if self._lesson is None:
            return
        self._cancel()
        self._lesson = None
        self._stages = {}
        self._stage = None
        self._index = self._target = 0
        self._message = ""
        self.changed.emit()

    # -- computing stages ------------------------------------------------------------------
    def _compute(self) -> None:
        below = [i for i in self._stages if i < self._target]
        before = self._stages[max(below)] if below else None
        lesson, target = self._lesson, self._target
        worker = create_worker(_replay, lesson, target, before, _start_thread=False)
        worker.yielded.connect(lambda st, w=worker: self._on_stage(w, lesson, st))
        worker.errored.connect(lambda e, lesson=lesson: self._on_error(lesson, e))
        worker.finished.connect(lambda w=worker, t=target: self._on_done(w, t))
        self._worker = worker
        worker.start()

    def _on_stage(self, worker, lesson: Lesson, stage) -> None:
        if lesson is not self._lesson:
            return
        if isinstance(stage, Exception):
            if worker is self._worker:
                self._on_error(lesson, stage)
            return
        if stage is None:
            return
        self._stages[stage.index] = stage  # a stage is a stage, whoever computed it
        if worker is self._worker and stage.index == self._target:
            try:
                self._apply(stage)
            except Exception as e:  # never leave the dock saying "Preparing" for ever
                self._stage = stage
                self._index = stage.index
                self._message = f"Step {stage.index + 1} cannot be shown: {e}"
                self.changed.emit()

    def _on_error(self, lesson: Lesson, e: Exception) -> None:
        if lesson is not self._lesson:
            return
        self._message = str(e) or type(e).__name__
        self._index = self._target
        self.changed.emit()

    def _on_done(self, worker, target: int) -> None:
        if worker is not self._worker:
            return
        self._worker = None
        if not self.active or self._target in self._stages:
            return
        if target < self._target:
            # the target moved on while this one computed (also when the step it
            # computed carries a message, such as a divergence: that is not an error
            # of the next step, which must still be computed)
            self._compute()
        elif not self._message:
            # it ended without the stage it was started for and without a word: say so
            # rather than start it again for ever
            self._on_error(self._lesson, RuntimeError(
                f"step {self._target + 1} could not be prepared"))


    def _cancel(self) -> None:
        w, self._worker = self._worker, None
        if w is not None:
            w.quit()  # ends at its next yield; its results are for another lesson

    # -- showing a stage ------------------------------------------------------------------
    def _apply(self, stage: Stage) -> None:
        """Put ``stage`` on the session and the stepper in one go."""
        self.stepper.stop()
        self._applying = True
        try:
            self.session.load_state(stage.project, stage.state, stage.rows, stage.selected,
                                    initial_params=stage.initial_params,
                                    dataset=stage.dataset, grad_norms=stage.grad_norms)
        finally:
            self._applying = False
        self.stepper.scope = stage.scope
        sp = stage.stepper
        if sp is not None:
            self.stepper.restore(list(sp.samples), sp.index, sp.params, sp.optimizer,
                                 sp.updates, sp.scope)
        self._stage = stage
        self._index = stage.index
        self._message = stage.message
        options = stage.view_options
        for option in self._view_options_used():
            value = options.get(option, VIEW_DEFAULTS[option])
            if value is not None:
                self.view_option.emit(option, value)
        self.changed.emit()
        self.applied.emit(stage.index)

    def _view_options_used(self) -> list[str]:
        used = []
        for step in self._lesson.steps:
            for a in step.actions:
                if a.kind == "view" and a["option"] not in used:
                    used.append(a["option"])
        return used


def _replay(lesson: Lesson, target: int, before: Stage | None):
    """``iter_replay`` for a worker: every exception is handed over as a value (superqt
    would keep some, such as a RuntimeError, to itself)."""
    try:
        yield from iter_replay(lesson, target, before)
    except Exception as e:  # reported in the lesson dock, never lost
        yield e
