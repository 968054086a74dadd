"""The controls the parameter groups are made of, and what a group needs from its panel.

Every control ignores the mouse wheel unless it has the focus: scrolling the panel must
never change a value (or rebuild the network) by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6 import QtCore, QtGui, QtWidgets

ERROR_STYLE = ("QLabel { color: #9b0018; background: #fdecee; border: 1px solid #e8a3ad;"
               " border-radius: 4px; padding: 4px 6px; }")
NOTE_STYLE = "QLabel { color: #4a4a4a; font-style: italic; }"

#: names the user sees in more than one group
ACT_TEXT = {"identity": "identity", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU",
            "leaky_relu": "leaky ReLU", "softmax": "softmax"}
LOSS_NAMES = {"mse": "mean squared error", "bce": "binary cross-entropy",
              "ce": "cross-entropy"}

#: what ``Panel.apply`` returns when the session refused a change
REFUSED = object()


class Panel(Protocol):
    """What a group asks of the panel it sits in (``ParameterDock``)."""

    #: a change from this panel is being applied (its own echo is on the way back)
    applying: bool

    def apply(self, method: Callable[..., Any], *args, **kwargs) -> Any:
        """Call a session method; a refusal shows one message, puts every control back
        to the session's value and returns ``REFUSED``."""

    def note(self, text: str) -> None:
        """Say what else changed with the user's choice ("" hides the note)."""


class _NoWheel:
    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:  # Qt override
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # the scroll area scrolls instead


class SpinBox(_NoWheel, QtWidgets.QSpinBox):
    def __init__(self, lo: int, hi: int, tip: str, step: int = 1):
        super().__init__()
        self.setRange(lo, hi)
        self.setSingleStep(step)
        self.setKeyboardTracking(False)  # apply on Enter / focus out, not every keystroke
        self.setFocusPolicy(QtCore.Qt.StrongFocus)
        self.setToolTip(tip)


class DoubleSpinBox(_NoWheel, QtWidgets.QDoubleSpinBox):
    def __init__(self, lo: float, hi: float, decimals: int, tip: str, step: float = 0.0):
        super().__init__()
        self.setDecimals(decimals)
        self.setRange(lo, hi)
        if step:
            self.setSingleStep(step)
        else:
            self.setStepType(QtWidgets.QAbstractSpinBox.AdaptiveDecimalStepType)
        self.setKeyboardTracking(False)
        self.setFocusPolicy(QtCore.Qt.StrongFocus)
        self.setToolTip(tip)

    def textFromValue(self, value: float) -> str:  # Qt override: 0.1, not 0.10000
        text = self.locale().toString(value, "f", self.decimals())
        point = self.locale().decimalPoint()
        if point in text:
            text = text.rstrip("0").rstrip(point)
        return text


class ComboBox(_NoWheel, QtWidgets.QComboBox):
    def __init__(self, items: dict[str, str], tip: str, item_tips: dict[str, str] | None = None):
        super().__init__()
        self.setFocusPolicy(QtCore.Qt.StrongFocus)
        # Room for the longest item: a narrow panel (or big presentation fonts) wraps the
        # row, label above the box, instead of cutting the text off.
        self.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToContents)
        self.setToolTip(tip)
        for key, text in items.items():
            self.addItem(text, key)
            if item_tips and key in item_tips:
                self.setItemData(self.count() - 1, item_tips[key], QtCore.Qt.ToolTipRole)

    def minimumSizeHint(self) -> QtCore.QSize:  # Qt override
        # QComboBox keeps its minimum from the old font after a font change (set_scale);
        # its size hint follows the font, and with AdjustToContents they are the same.
        return self.sizeHint()


class Slider(_NoWheel, QtWidgets.QSlider):
    def __init__(self, tip: str):
        super().__init__(QtCore.Qt.Horizontal)
        self.setFocusPolicy(QtCore.Qt.StrongFocus)
        self.setToolTip(tip)


class MessageLabel(QtWidgets.QLabel):
    """The one error message at the top of the panel; a click dismisses it."""

    def __init__(self):
        super().__init__()
        self.setObjectName("parameter_error")
        self.setWordWrap(True)
        self.setStyleSheet(ERROR_STYLE)
        self.setToolTip("A setting was not applied; click to dismiss")
        self.setSizePolicy(QtWidgets.QSizePolicy.Ignored, QtWidgets.QSizePolicy.Minimum)
        self.hide()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # Qt override
        self.hide()
        super().mousePressEvent(event)


def set_combo(combo: QtWidgets.QComboBox, key) -> None:
    """Select the item with data ``key`` (none: the placeholder) without signals."""
    with QtCore.QSignalBlocker(combo):
        combo.setCurrentIndex(combo.findData(key))


def set_value(widget, value) -> None:
    with QtCore.QSignalBlocker(widget):
        widget.setValue(value)


def set_checked(widget: QtWidgets.QAbstractButton, on: bool) -> None:
    with QtCore.QSignalBlocker(widget):
        widget.setChecked(on)


def check_box(text: str, tip: str) -> QtWidgets.QCheckBox:
    box = QtWidgets.QCheckBox(text)
    box.setToolTip(tip)
    return box


def form() -> QtWidgets.QFormLayout:
    f = QtWidgets.QFormLayout()
    f.setRowWrapPolicy(QtWidgets.QFormLayout.WrapLongRows)
    f.setFieldGrowthPolicy(QtWidgets.QFormLayout.AllNonFixedFieldsGrow)
    f.setLabelAlignment(QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter)
    return f


class Group(QtWidgets.QGroupBox):
    """A group of settings: built from the session, applied through the panel, and
    brought back in step with the session by ``sync`` (signals blocked)."""

    def __init__(self, title: str, tip: str, session, panel: Panel):
        super().__init__(title)
        self.setToolTip(tip)
        self.session = session
        self.panel = panel
        self.form = form()
        self.setLayout(self.form)

    def sync(self) -> None:
        raise NotImplementedError
