"""Points edited by hand in the data view: added, moved or deleted, each an undoable edit.

An edit is a ``PointEdit``: its name for the Edit menu and the data spec before and after
it (plain, immutable ``DataSpec`` values, never widgets). ``PointEditor`` makes the new
spec with the engine's pure functions (``engine.data.add_point``, ``move_point``,
``delete_point``), applies it with ``Session.edit_points`` (the network keeps its weights,
optimiser state and epoch, and training goes on if it was running), and records the
edit in the window's ``UndoHistory`` when it has one. Undoing puts the spec before back
the same way; the weights stay as training has left them.

The first edit turns generated or CSV data into inline rows with an explicit training /
test split (``engine.data.to_inline``), so the project file keeps the points as edited.

Which target a click adds is decided here (``click_target``), not in the view:

- two classes (one 0/1 target column): the primary button adds class 1, the other
  class 0;
- one-hot classes: the primary button adds the chosen class (class 1 unless another is
  chosen), the other class 0;
- regression: the primary button adds the largest target value of the data, the other
  the smallest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore

from ..engine import data as data_mod
from ..engine import metrics
from .session import Session

KINDS = ("add", "move", "delete")


@dataclass(frozen=True)
class PointEdit:
    """One edit of the points: ``kind`` ("add", "move" or "delete") of row ``index`` of
    ``part`` ("train" or "test"), and the whole data spec before and after it."""

    text: str
    kind: str
    part: str
    index: int
    before: data_mod.DataSpec
    after: data_mod.DataSpec

    def undo(self, session: Session) -> None:
        """Put the points back as they were before the edit (weights untouched)."""
        session.edit_points(self.before)

    def redo(self, session: Session) -> None:
        """Make the edit again (weights untouched)."""
        session.edit_points(self.after)


def n_classes(dataset: data_mod.Dataset) -> int:
    """Classes a click can add: 2 for one 0/1 column, the columns of one-hot targets,
    0 for regression (or targets that are neither)."""
    if dataset.task != "classification":
        return 0
    y = np.vstack([dataset.y_train, dataset.y_test])
    if y.shape[1] == 1:
        return 2
    return y.shape[1] if metrics.is_one_hot(y) else 0


def click_target(dataset: data_mod.Dataset, primary: bool, chosen_class: int | None = None
                 ) -> tuple[float, ...]:
    """The target row a click adds (see the module's rules). ``chosen_class`` is the class
    the primary button adds with one-hot targets (default 1). Raises ``ValueError`` for
    targets a click cannot make (several 0/1 labels per sample)."""
    k = n_classes(dataset)
    if dataset.task == "regression":
        y = np.vstack([dataset.y_train, dataset.y_test])
        return tuple(float(v) for v in (y.max(axis=0) if primary else y.min(axis=0)))
    if k == 2 and dataset.n_targets == 1:
        return (1.0 if primary else 0.0,)
    if k >= 2:
        c = (1 if chosen_class is None else int(chosen_class)) if primary else 0
        if not 0 <= c < k:
            raise ValueError(f"no class {c} (the data has classes 0 to {k - 1})")
        return tuple(float(j == c) for j in range(k))
    raise ValueError("points cannot be added by clicking to data with several labels per "
                     "sample")


class PointEditor(QtCore.QObject):
    """Adds, moves and deletes points of the session's data, one undoable edit each.

    ``history`` (an ``UndoHistory``) records every edit, so Edit > Undo takes it back;
    without one, edits are only announced (``edited``)."""

    #: a ``PointEdit`` that has just been made
    edited = QtCore.Signal(object)

    def __init__(self, session: Session, history=None, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.history = history

    def add(self, point, target, part: str = "train") -> PointEdit:
        """Add the raw point ``point`` (x1, x2) with ``target`` (a target row, a number,
        or a class number for one-hot targets) to ``part``. Raises ``ValueError``."""
        before = self.session.data_spec
        after = data_mod.add_point(before, point, target, part)
        rows = after.inputs if part == "train" else after.test_inputs
        label = "test point" if part == "test" else "point"
        return self._apply(PointEdit(f"Add {label}", "add", part, len(rows) - 1,
                                     before, after))

    def add_click(self, point, primary: bool, chosen_class: int | None = None) -> PointEdit:
        """Add a training point where the user clicked, with the target the click stands
        for (``click_target``)."""
        target = click_target(self.session.dataset, primary, chosen_class)
        return self.add(point, target)

    def move(self, index: int, point, part: str = "train") -> PointEdit:
        """Move point ``index`` of ``part`` to ``point`` (its target stays)."""
        before = self.session.data_spec
        after = data_mod.move_point(before, index, point, part)
        label = "test point" if part == "test" else "point"
        return self._apply(PointEdit(f"Move {label} {index + 1}", "move", part, int(index),
                                     before, after))

    def delete(self, index: int, part: str = "train") -> PointEdit:
        """Delete point ``index`` of ``part`` (later points move up by one)."""
        before = self.session.data_spec
        after = data_mod.delete_point(before, index, part)
        label = "test point" if part == "test" else "point"
        return self._apply(PointEdit(f"Delete {label} {index + 1}", "delete", part,
                                     int(index), before, after))

    def _apply(self, edit: PointEdit) -> PointEdit:
        self.session.edit_points(edit.after)  # raises before anything is recorded
        if self.history is not None:
            self.history.record(edit)
        self.edited.emit(edit)
        return edit
