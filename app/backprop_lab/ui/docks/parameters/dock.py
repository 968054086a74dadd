"""The parameter dock: the training, network, initialisation and data groups in one
scrolling panel, with one message line for a setting the session refuses.

Each control calls one session method when the user changes it; the rules of what a
change brings along (a loss its output, new data its layers) are the session's
(``runs.edits``). The dock keeps no state of its own: when the session changes (from
here, a preset, a project file, a lesson) every group copies the session's values into
its controls with their signals blocked, so nothing is applied twice. A value the
session refuses shows one message at the top of the panel and the controls go back to
the session's values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from .controls import REFUSED, MessageLabel
from .data import DataGroup
from .initialisation import InitGroup
from .network import NetworkGroup
from .training import TrainingGroup

log = logging.getLogger(__name__)


def _widget(group: str, name: str) -> property:
    """The dock's name for a group's control (``dock.lr_spin`` is the training group's)."""
    return property(lambda self: getattr(getattr(self, group), name),
                    doc=f"``self.{group}.{name}``")


class ParameterDock(QtWidgets.QDockWidget):
    """Training, network, initialisation and data settings of the session."""

    lr_spin = _widget("training_group", "lr_spin")
    lr_slider = _widget("training_group", "lr_slider")
    mode_combo = _widget("training_group", "mode_combo")
    batch_spin = _widget("training_group", "batch_spin")
    shuffle_check = _widget("training_group", "shuffle_check")
    optimizer_combo = _widget("training_group", "optimizer_combo")
    loss_combo = _widget("training_group", "loss_combo")
    reg_combo = _widget("training_group", "reg_combo")
    reg_rate_spin = _widget("training_group", "reg_rate_spin")
    hidden_combo = _widget("network_group", "hidden_combo")
    output_combo = _widget("network_group", "output_combo")
    note_label = _widget("network_group", "note_label")
    input_label = _widget("network_group", "input_label")
    output_label = _widget("network_group", "output_label")
    layer_spins = _widget("network_group", "layer_spins")
    add_layer_button = _widget("network_group", "add_layer_button")
    remove_layer_button = _widget("network_group", "remove_layer_button")
    init_combo = _widget("init_group", "init_combo")
    init_value_spin = _widget("init_group", "init_value_spin")
    init_range_spin = _widget("init_group", "init_range_spin")
    seed_spin = _widget("init_group", "seed_spin")
    dataset_combo = _widget("data_group", "dataset_combo")
    samples_spin = _widget("data_group", "samples_spin")
    noise_spin = _widget("data_group", "noise_spin")
    classes_spin = _widget("data_group", "classes_spin")
    test_spin = _widget("data_group", "test_spin")
    data_seed_spin = _widget("data_group", "data_seed_spin")
    normalize_check = _widget("data_group", "normalize_check")

    def __init__(self, session, parent: QtWidgets.QWidget | None = None):
        super().__init__("Parameters", parent)
        self.setObjectName("parameter_dock")
        self._session = session
        self._scale = 1.0
        #: a change from this panel is being applied (see ``controls.Panel``)
        self.applying = False

        body = QtWidgets.QWidget(self)
        outer = QtWidgets.QVBoxLayout(body)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(4)
        self.error_label = MessageLabel()
        outer.addWidget(self.error_label)

        content = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(content)
        column.setContentsMargins(2, 2, 2, 2)
        column.setSpacing(8)
        self.training_group = TrainingGroup(session, self)
        self.network_group = NetworkGroup(session, self)
        self.init_group = InitGroup(session, self)
        self.data_group = DataGroup(session, self)
        for group in self.groups():
            column.addWidget(group)
        column.addStretch(1)
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        self.scroll.setWidget(content)
        outer.addWidget(self.scroll, 1)
        self.setWidget(body)
        self._content = content

        session.config_changed.connect(self._on_config_changed)
        session.structure_changed.connect(self._on_structure_changed)
        self._on_structure_changed()
        self._on_config_changed(session.config)
        self._fit_width()

    def groups(self) -> list[QtWidgets.QGroupBox]:
        return [self.training_group, self.network_group, self.init_group, self.data_group]

    # -- what the groups ask of the panel ---------------------------------------------------
    def apply(self, method: Callable[..., Any], *args, **kwargs) -> Any:
        """Call a session method and return what it returns; a refusal shows one message,
        puts the controls back to the session's values and returns ``REFUSED``."""
        self.applying = True
        try:
            result = method(*args, **kwargs)
        except Exception as e:  # nothing may reach the event loop
            if not isinstance(e, ValueError):
                log.exception("a parameter change failed")
            self.error_label.setText(f"Not applied: {str(e) or type(e).__name__}")
            self.error_label.show()
            self._sync_all()
            return REFUSED
        finally:
            self.applying = False
        self.error_label.hide()
        return result

    def note(self, text: str) -> None:
        self.network_group.note(text)

    # -- presentation -------------------------------------------------------------------
    def set_scale(self, factor: float) -> None:
        """Scale the panel's fonts (presentation mode: ``factor`` 1.5 or 2)."""
        self._scale = max(0.5, float(factor))
        font = QtGui.QFont(QtWidgets.QApplication.font())
        font.setPointSizeF(font.pointSizeF() * self._scale)
        self.widget().setFont(font)
        self._fit_width()

    def _fit_width(self) -> None:
        """Wide enough that no control is squeezed and no sideways scrolling is needed."""
        bar = self.scroll.verticalScrollBar().sizeHint().width()
        self.scroll.setMinimumWidth(self._content.minimumSizeHint().width() + bar + 4)

    # -- following the session (session -> controls) ------------------------------------
    def _sync_all(self) -> None:
        self._on_structure_changed()
        self._on_config_changed(self._session.config)

    def _on_config_changed(self, cfg) -> None:
        self.training_group.sync(cfg)

    def _on_structure_changed(self) -> None:
        if not self.applying:  # a preset, a file, a lesson: old messages no longer apply
            self.error_label.hide()
            self.note("")
        self.network_group.sync()
        self.init_group.sync()
        self.data_group.sync()
