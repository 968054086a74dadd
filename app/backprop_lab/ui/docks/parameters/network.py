"""The network group: activations (which keep the weights) and the shape (which rebuilds
the network from the same seed). The input and output layers follow the data.

The output activation goes through ``Session.set_output_activation``: a loss that cannot
use it changes with it (``runs.edits.choose_output``), and the note says so."""

from __future__ import annotations

from PySide6 import QtWidgets

from ....engine import activations as act_mod
from ....engine.losses import REQUIRED_OUTPUT
from ....engine.network import MAX_HIDDEN_LAYERS, MAX_UNITS
from .controls import (
    ACT_TEXT,
    LOSS_NAMES,
    NOTE_STYLE,
    REFUSED,
    ComboBox,
    Group,
    SpinBox,
    form,
    set_combo,
    set_value,
)


class NetworkGroup(Group):
    """Activations, hidden layers and their units; the note on what followed a choice."""

    def __init__(self, session, panel):
        super().__init__("Network", "Changing the shape rebuilds the network from the same "
                         "seed and starts again at epoch 0", session, panel)
        f = self.form
        self.layer_spins: list[QtWidgets.QSpinBox] = []
        self.hidden_combo = ComboBox(
            {k: ACT_TEXT.get(k, k) for k in act_mod.HIDDEN_ACTIVATIONS},
            "Activation function of every hidden unit (keeps the weights)",
            {k: act_mod.FORMULAS[k][0] for k in act_mod.HIDDEN_ACTIVATIONS
             if k in act_mod.FORMULAS})
        self.hidden_combo.setPlaceholderText("mixed")
        self.hidden_combo.currentIndexChanged.connect(self._on_hidden_changed)
        f.addRow("Hidden activation", self.hidden_combo)
        self.output_combo = ComboBox(
            {k: ACT_TEXT.get(k, k) for k in act_mod.OUTPUT_ACTIVATIONS},
            "Activation function of the output units (keeps the weights); the loss "
            "follows when it needs another output",
            {k: act_mod.FORMULAS[k][0] for k in act_mod.OUTPUT_ACTIVATIONS
             if k in act_mod.FORMULAS})
        self.output_combo.currentIndexChanged.connect(self._on_output_changed)
        f.addRow("Output activation", self.output_combo)
        self.note_label = QtWidgets.QLabel("")
        self.note_label.setObjectName("parameter_note")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet(NOTE_STYLE)
        self.note_label.hide()
        f.addRow(self.note_label)

        self.input_label = QtWidgets.QLabel()
        self.input_label.setToolTip("Input units: one per input column of the data "
                                    "(set by the data)")
        self.input_label.setWordWrap(True)
        f.addRow("Input layer", self.input_label)
        self._layers_form = form()
        self._layers_form.setContentsMargins(0, 0, 0, 0)
        layers_box = QtWidgets.QWidget()
        layers_box.setLayout(self._layers_form)
        f.addRow(layers_box)
        self.output_label = QtWidgets.QLabel()
        self.output_label.setToolTip("Output units: one per target column of the data "
                                     "(set by the data)")
        self.output_label.setWordWrap(True)
        f.addRow("Output layer", self.output_label)

        buttons = QtWidgets.QHBoxLayout()
        self.add_layer_button = QtWidgets.QPushButton("+ Layer")
        self.add_layer_button.setToolTip(f"Add a hidden layer before the output layer (at "
                                         f"most {MAX_HIDDEN_LAYERS})")
        self.add_layer_button.clicked.connect(self._on_add_layer)
        self.remove_layer_button = QtWidgets.QPushButton("− Layer")
        self.remove_layer_button.setToolTip("Remove the last hidden layer")
        self.remove_layer_button.clicked.connect(self._on_remove_layer)
        buttons.addWidget(self.add_layer_button)
        buttons.addWidget(self.remove_layer_button)
        f.addRow(buttons)

    def note(self, text: str) -> None:
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))

    # -- user -> session ----------------------------------------------------------------
    def _on_output_changed(self, _index: int) -> None:
        output = self.output_combo.currentData()
        loss = self.session.config.loss
        choice = self.panel.apply(self.session.set_output_activation, output)
        if choice is REFUSED:
            return
        if choice.followed == "loss":
            need = REQUIRED_OUTPUT.get(loss, output)
            self.panel.note(f"Loss set to {LOSS_NAMES.get(choice.loss, choice.loss)}: "
                            f"{LOSS_NAMES.get(loss, loss)} needs a "
                            f"{ACT_TEXT.get(need, need)} output.")
        else:
            self.panel.note("")

    def _on_hidden_changed(self, _index: int) -> None:
        hidden = self.hidden_combo.currentData()
        if hidden is not None:
            self.panel.apply(self.session.set_activations, hidden=hidden)

    def _set_layers(self, layers: list[int]) -> None:
        # a new shape is built with the hidden activation shown (None: the session's)
        self.panel.apply(self.session.set_structure, layers, self.hidden_combo.currentData())

    def _on_layer_units_changed(self, index: int, units: int) -> None:
        layers = self.session.layers
        if not 0 < index + 1 < len(layers) - 1 or layers[index + 1] == units:
            return
        layers[index + 1] = int(units)
        self._set_layers(layers)

    def _on_add_layer(self) -> None:
        layers = self.session.layers
        units = layers[-2] if len(layers) > 2 else 3
        layers.insert(len(layers) - 1, units)
        self._set_layers(layers)

    def _on_remove_layer(self) -> None:
        layers = self.session.layers
        if len(layers) > 2:
            del layers[-2]
            self._set_layers(layers)

    # -- session -> controls ------------------------------------------------------------
    def sync(self) -> None:
        s = self.session
        layers = s.layers
        acts = s.activations
        hidden = set(acts[:-1])
        set_combo(self.hidden_combo, next(iter(hidden)) if len(hidden) == 1 else
                  None if hidden else self.hidden_combo.currentData() or "tanh")
        self.hidden_combo.setEnabled(len(layers) > 2)
        set_combo(self.output_combo, acts[-1])
        ds = s.dataset
        self.input_label.setText(f"{layers[0]}  ({', '.join(ds.input_names)})")
        self.output_label.setText(f"{layers[-1]}  ({', '.join(ds.target_names)})")
        n_hidden = len(layers) - 2
        if len(self.layer_spins) != n_hidden:
            self._rebuild_layer_rows(n_hidden)
        for spin, units in zip(self.layer_spins, layers[1:-1]):
            set_value(spin, units)
        self.add_layer_button.setEnabled(n_hidden < MAX_HIDDEN_LAYERS)
        self.remove_layer_button.setEnabled(n_hidden > 0)

    def _rebuild_layer_rows(self, n_hidden: int) -> None:
        rows = self._layers_form
        while rows.rowCount():
            rows.removeRow(0)
        self.layer_spins = []
        for k in range(n_hidden):
            spin = SpinBox(1, MAX_UNITS, f"Units in hidden layer {k + 1} (1 to {MAX_UNITS}); "
                                         f"changing it rebuilds the network")
            spin.setSuffix(" units")
            spin.valueChanged.connect(
                lambda v, k=k: self._on_layer_units_changed(k, int(v)))
            rows.addRow(f"Hidden layer {k + 1}", spin)
            self.layer_spins.append(spin)
