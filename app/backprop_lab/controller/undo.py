"""Undo and redo of the user's edits to the weights: a weight typed in, and Reset.

Each edit records where the run stood before and after it (the weights, and the epoch,
update count and optimiser state that go with them) and is undone or redone through
``Session.set_params``. The views bind to it (Edit > Undo and Redo are thin wrappers);
the model itself uses QtCore only, so it is tested without widgets.

Other edits apply themselves: an edit with its own ``undo(session)`` and
``redo(session)`` (the data view's point edits, ``controller.data_edits.PointEdit``) is
recorded the same way and undone and redone by those.

What is not an edit: stepping through an update by hand (the phase stepper), a lesson
step, training. What ends the history: anything that changes the network's shape,
activations, data or initialisation, a preset or a file (``Session.structure_changed``),
since the recorded weights no longer belong to that network. Should an edit still meet
weights of another shape, undoing or redoing it does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore

from ..engine.names import WeightRef
from ..engine.optimizers import OptimizerState
from .session import Session

#: edits kept; older ones are forgotten (each holds two copies of the weights)
MAX_EDITS = 100


@dataclass(frozen=True)
class RunPoint:
    """Where the run stands as far as an edit is concerned. Arrays are private copies."""

    params: np.ndarray
    epoch: int
    updates: int
    optimizer: OptimizerState

    @staticmethod
    def of(session: Session) -> RunPoint:
        snap = session.snapshot
        return RunPoint(snap.params.copy(), snap.epoch, snap.updates, snap.optimizer.copy())

    def with_params(self, params: np.ndarray) -> RunPoint:
        return RunPoint(np.array(params, dtype=np.float64), self.epoch, self.updates,
                        self.optimizer)


@dataclass(frozen=True)
class Edit:
    """One undoable edit: its name in the Edit menu and the run before and after it.
    ``reset``: redoing it is a Reset again (a fresh optimiser, shuffle order and loss
    history), not just the weights of ``after``."""

    text: str
    before: RunPoint
    after: RunPoint
    reset: bool = False
    #: a branch (Play from a past epoch): undone and redone by the timeline itself
    branch: bool = False


class UndoHistory(QtCore.QObject):
    """The session's undoable edits, oldest first, and the position between them."""

    #: anything below changed
    changed = QtCore.Signal()
    can_undo_changed = QtCore.Signal(bool)
    can_redo_changed = QtCore.Signal(bool)
    #: the name of the edit Undo would undo ("" when there is none)
    undo_text_changed = QtCore.Signal(str)
    redo_text_changed = QtCore.Signal(str)

    def __init__(self, session: Session, parent: QtCore.QObject | None = None,
                 limit: int = MAX_EDITS):
        super().__init__(parent)
        self.session = session
        self._limit = max(1, int(limit))
        self._edits: list[Edit] = []
        self._index = 0  # edits[:index] are done, edits[index:] undone
        self._seen = self._state()
        # the recorded weights no longer fit the network
        session.structure_changed.connect(self.clear)
        session.branched.connect(self._on_branched)

    # -- reading ------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self._edits)

    @property
    def index(self) -> int:
        """How many of the edits are done (the rest can be redone)."""
        return self._index

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._edits)

    @property
    def undo_text(self) -> str:
        return self._edits[self._index - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self._edits[self._index].text if self.can_redo else ""

    def edits(self) -> list[Edit]:
        return list(self._edits)

    # -- edits (do them and record them) --------------------------------------------------
    def set_weight(self, ref: WeightRef, value: float) -> None:
        """Set one weight (also while training runs) and record it. Raises ``ValueError``
        (nothing recorded) if the session refuses the value."""
        s = self.session
        before = RunPoint.of(s)
        s.set_weight(ref, value)
        # the session shows the edit at once, before the training loop acknowledges it
        self.record(Edit(f"Edit {s.weight_name(ref)}", before, before.with_params(s.params)))

    def reset(self) -> None:
        """Reset the run (initial weights, epoch 0, a fresh optimiser) and record it."""
        s = self.session
        before = RunPoint.of(s)
        s.reset()
        self.record(Edit("Reset", before, RunPoint.of(s), reset=True))

    def record(self, edit: Edit) -> None:
        """Add an edit that has already happened; the edits undone before it are
        forgotten."""
        del self._edits[self._index:]
        self._edits.append(edit)
        del self._edits[:-self._limit]
        self._index = len(self._edits)
        self._announce()

    # -- moving -------------------------------------------------------------------------
    def undo(self) -> None:
        if not self.can_undo:
            return
        self._index -= 1
        edit = self._edits[self._index]
        if not isinstance(edit, Edit):
            self._apply_own(edit.undo)
        elif edit.branch:
            self._timeline_move(self.session.undo_branch)
        else:
            self._restore(edit.before)
        self._announce()

    def redo(self) -> None:
        if not self.can_redo:
            return
        edit = self._edits[self._index]
        self._index += 1
        if not isinstance(edit, Edit):
            self._apply_own(edit.redo)
        elif edit.branch:
            self._timeline_move(self.session.redo_branch)
        elif edit.reset and self._fits(edit.after):
            self.session.reset()
        else:
            self._restore(edit.after)
        self._announce()

    def clear(self) -> None:
        if self._edits:
            self._edits.clear()
            self._index = 0
            self._announce()

    # -- the model's own ------------------------------------------------------------------
    def _on_branched(self, epoch: int) -> None:
        point = RunPoint.of(self.session)
        self.record(Edit(f"Branch from epoch {epoch}", point, point, branch=True))

    def _timeline_move(self, move) -> None:
        try:
            move()
        except (ValueError, RuntimeError):
            return  # the timeline has nothing to swap (a new run since)

    def _fits(self, point: RunPoint) -> bool:
        return point.params.shape == self.session.params.shape

    def _restore(self, point: RunPoint) -> None:
        if not self._fits(point):
            return  # from another network: nothing to restore
        try:
            self.session.set_params(point.params, epoch=point.epoch,
                                    optimizer=point.optimizer, updates=point.updates)
        except (ValueError, RuntimeError):
            return  # never into the event loop; the session has said what went wrong

    def _apply_own(self, fn) -> None:
        try:
            fn(self.session)
        except (ValueError, RuntimeError):
            return  # never into the event loop (the data no longer fits the network)

    def _state(self) -> tuple[bool, bool, str, str]:
        return self.can_undo, self.can_redo, self.undo_text, self.redo_text

    def _announce(self) -> None:
        now, was = self._state(), self._seen
        self._seen = now
        if now[0] != was[0]:
            self.can_undo_changed.emit(now[0])
        if now[1] != was[1]:
            self.can_redo_changed.emit(now[1])
        if now[2] != was[2]:
            self.undo_text_changed.emit(now[2])
        if now[3] != was[3]:
            self.redo_text_changed.emit(now[3])
        self.changed.emit()
