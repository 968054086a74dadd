"""Editing a weight in place on the canvas: a small spin box at the edge, or a drag on the
edge's label.

The canvas only says what the user does (``weight_edit_started``, ``..._changed``,
``..._committed``, ``..._cancelled``); what an edit does to the network, and how it is
undone, is for the code that listens (see ``ui.presenter.WeightEditLink``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets

from ...engine.names import WeightRef

#: the largest weight the editor accepts (as the old dialog did)
WEIGHT_LIMIT = 1e6
#: a drag on a weight label: the change per pixel, and the decimals it is rounded to,
#: plain / with Shift (fine) / with Ctrl (coarse)
DRAG_STEPS = {"plain": (0.01, 2), "fine": (0.001, 3), "coarse": (0.1, 1)}
#: keys the editor keeps for itself while it has the focus (the window binds them too:
#: Up/Down choose a sample, Escape leaves step mode, Page Up/Down move the lesson)
EDITOR_KEYS = frozenset({QtCore.Qt.Key.Key_Up, QtCore.Qt.Key.Key_Down,
                         QtCore.Qt.Key.Key_PageUp, QtCore.Qt.Key.Key_PageDown,
                         QtCore.Qt.Key.Key_Escape, QtCore.Qt.Key.Key_Return,
                         QtCore.Qt.Key.Key_Enter, QtCore.Qt.Key.Key_Space,
                         QtCore.Qt.Key.Key_Left, QtCore.Qt.Key.Key_Right})
_PARTIAL = re.compile(r"^[+-]?(\d*[.,]?\d*)?([eE][+-]?\d*)?$")


def format_weight(v: float) -> str:
    """A weight as the editor shows it: up to 6 significant digits, no trailing zeros."""
    v = float(v)
    return "0" if v == 0 else f"{v:.6g}"


def parse_weight(text: str) -> float | None:
    """The number typed (a comma counts as a decimal point), or None."""
    try:
        v = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return v if math.isfinite(v) and abs(v) <= WEIGHT_LIMIT else None


def drag_step(modifiers: QtCore.Qt.KeyboardModifier) -> tuple[float, int]:
    """Change per pixel and rounding of a label drag with these keyboard modifiers."""
    if modifiers & QtCore.Qt.KeyboardModifier.ShiftModifier:
        return DRAG_STEPS["fine"]
    if modifiers & QtCore.Qt.KeyboardModifier.ControlModifier:
        return DRAG_STEPS["coarse"]
    return DRAG_STEPS["plain"]


class WeightSpinBox(QtWidgets.QDoubleSpinBox):
    """The in-place editor: a number typed or stepped (arrows, wheel: 0.1), applied live.

    Enter (or the focus leaving it) ``committed``; Escape ``cancelled``. It keeps the
    keys it uses from the window's shortcuts while it has the focus.
    """

    committed = QtCore.Signal()
    cancelled = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("weight_edit_box")
        self.setRange(-WEIGHT_LIMIT, WEIGHT_LIMIT)
        self.setDecimals(12)  # the value is kept as typed; the text shows 6 digits
        self.setSingleStep(0.1)
        self.setKeyboardTracking(True)  # live: every keystroke that makes a number
        self.setAccelerated(True)
        self.setCorrectionMode(QtWidgets.QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        self.setToolTip("Type a number or use the arrows (0.1 a step); Enter keeps it, "
                        "Escape puts the old value back")
        self.lineEdit().installEventFilter(self)

    # -- text <-> value -------------------------------------------------------------------
    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        return format_weight(value)

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt override)
        v = parse_weight(text)
        return self.value() if v is None else v

    def validate(self, text: str, pos: int):  # Qt override
        State = QtGui.QValidator.State
        if parse_weight(text) is not None:
            return State.Acceptable, text, pos
        if _PARTIAL.match(text.strip()):
            return State.Intermediate, text, pos
        return State.Invalid, text, pos

    # -- keys and focus -------------------------------------------------------------------
    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.ShortcutOverride and \
                event.key() in EDITOR_KEYS:
            event.accept()  # the key comes to the editor, not to a window shortcut
            return True
        return super().eventFilter(obj, event)

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ShortcutOverride and \
                event.key() in EDITOR_KEYS:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 (Qt override)
        key = event.key()
        if key in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter):
            self.interpretText()
            self.committed.emit()
            event.accept()
            return
        if key == QtCore.Qt.Key.Key_Escape:
            self.cancelled.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QtGui.QFocusEvent) -> None:  # noqa: N802 (Qt override)
        super().focusOutEvent(event)
        # Another window coming to the front (or a menu opening) is not a click away.
        if event.reason() not in (QtCore.Qt.FocusReason.ActiveWindowFocusReason,
                                  QtCore.Qt.FocusReason.PopupFocusReason):
            self.committed.emit()


@dataclass
class WeightEdit:
    """An edit in progress: the weight, its value when the edit began and now; ``box`` is
    the spin box (None: a drag on the label, which started at ``x0`` in the viewport)."""

    ref: WeightRef
    before: float
    value: float
    box: WeightSpinBox | None = None
    x0: float = 0.0
