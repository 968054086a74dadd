"""The parameter dock: every setting of the session, applied live.

Each control calls one session method when the user changes it (``set_config``,
``set_activations``, ``set_structure``, ``set_init``, ``set_data``). The dock keeps no
state of its own: when the session changes (from here, a preset, a project file, a
lesson) the ``_on_*_changed`` handlers copy its values into the controls with their
signals blocked, so nothing is applied twice. A value the session refuses shows one
message at the top of the panel and the control goes back to the session's value.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ...engine import activations as act_mod
from ...engine import data as data_mod
from ...engine import losses as loss_mod
from ...engine import optimizers as opt_mod
from ...engine import regularization as reg_mod
from ...engine.init import INITS, InitConfig
from ...engine.network import MAX_HIDDEN_LAYERS, MAX_UNITS, Network
from ...engine.training import MODES, check_compatible

log = logging.getLogger(__name__)

# -- the learning-rate slider: logarithmic, 200 steps a decade ----------------------------
LR_MIN, LR_MAX = 1e-5, 10.0
LR_DECIMALS = 5
LR_STEPS_PER_DECADE = 200
LR_DECADES = round(math.log10(LR_MAX / LR_MIN))
LR_STEPS = LR_STEPS_PER_DECADE * LR_DECADES


def lr_to_slider(lr: float) -> int:
    """Slider position (0 .. ``LR_STEPS``) of a learning rate."""
    lr = min(max(float(lr), LR_MIN), LR_MAX)
    return round(LR_STEPS_PER_DECADE * math.log10(lr / LR_MIN))


def slider_to_lr(position: int) -> float:
    """The learning rate at a slider position: three significant digits, and no finer
    than the spin box shows."""
    lr = LR_MIN * 10 ** (position / LR_STEPS_PER_DECADE)
    lr = float(f"{lr:.3g}")
    return min(max(round(lr, LR_DECIMALS), LR_MIN), LR_MAX)


# -- names the user sees ------------------------------------------------------------------
MODE_TEXT = {"batch": "Batch", "minibatch": "Mini-batch", "stochastic": "Stochastic"}
MODE_TIPS = {"batch": "One update per epoch from the gradient of all training samples",
             "minibatch": "One update per batch of samples; several updates per epoch",
             "stochastic": "One update per sample; as many updates per epoch as samples"}
OPTIMIZER_TEXT = {"sgd": "SGD", "momentum": "Momentum (0.9)", "adam": "Adam"}
OPTIMIZER_TIPS = {"sgd": "Plain gradient descent: w -= lr * gradient",
                  "momentum": "Gradient descent with a velocity: v = 0.9 v + gradient; "
                              "w -= lr * v",
                  "adam": "Adam: a step per weight scaled by running averages of the "
                          "gradient and its square"}
LOSS_TEXT = {"mse": "MSE", "bce": "BCE (sigmoid)", "ce": "CE (softmax)"}
LOSS_NAMES = {"mse": "mean squared error", "bce": "binary cross-entropy",
              "ce": "cross-entropy"}
REG_TEXT = {"none": "None", "l2": "L2", "l1": "L1"}
REG_TIPS = {"none": "No weight penalty",
            "l2": "Adds λ/2 · Σ w² to the loss: pulls every weight towards 0",
            "l1": "Adds λ · Σ |w| to the loss: pushes small weights to exactly 0"}
ACT_TEXT = {"identity": "identity", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU",
            "leaky_relu": "leaky ReLU", "softmax": "softmax"}
INIT_TEXT = {"constant": "Constant", "uniform": "Uniform ±r", "xavier": "Xavier (Glorot)",
             "he": "He"}
INIT_TIPS = {"constant": "Every weight and bias gets the same value (the article uses 1)",
             "uniform": "Weights and biases drawn uniformly from -r .. r",
             "xavier": "Weights uniform in ±sqrt(6 / (fan_in + fan_out)), biases 0: "
                       "suits tanh and sigmoid",
             "he": "Weights normal with variance 2 / fan_in, biases 0: suits ReLU"}
DATASET_TEXT = {"xor": "XOR table", "and": "AND table", "or": "OR table",
                "xnor": "XNOR table", "circle": "Circle", "xor-2d": "XOR quadrants",
                "gaussian": "Gaussian blobs", "spiral": "Spiral", "moons": "Two moons",
                "plane": "Plane (regression)"}
DATASET_TIPS = {"xor": "The 4 rows of the XOR truth table", "and": "The 4 rows of AND",
                "or": "The 4 rows of OR", "xnor": "The 4 rows of XNOR",
                "circle": "Class 1 inside a circle, class 0 on a ring around it",
                "xor-2d": "Class 1 in quadrants I and III, class 0 in II and IV",
                "gaussian": "One round blob of points per class",
                "spiral": "One spiral arm per class: hard, needs depth",
                "moons": "Two interleaved half moons",
                "plane": "Regression: y = 0.5 x1 - 0.3 x2 + noise"}
#: item data of the "custom table" entry of the dataset box
CUSTOM = ""
ERROR_STYLE = ("QLabel { color: #9b0018; background: #fdecee; border: 1px solid #e8a3ad;"
               " border-radius: 4px; padding: 4px 6px; }")
NOTE_STYLE = "QLabel { color: #4a4a4a; font-style: italic; }"


# -- controls that ignore the mouse wheel unless focused ------------------------------------
# Scrolling the panel must never change a value (or rebuild the network) by accident.
class _NoWheel:
    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:  # Qt override
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # the scroll area scrolls instead


class _SpinBox(_NoWheel, QtWidgets.QSpinBox):
    def __init__(self, lo: int, hi: int, tip: str, step: int = 1):
        super().__init__()
        self.setRange(lo, hi)
        self.setSingleStep(step)
        self.setKeyboardTracking(False)  # apply on Enter / focus out, not every keystroke
        self.setFocusPolicy(QtCore.Qt.StrongFocus)
        self.setToolTip(tip)


class _DoubleSpinBox(_NoWheel, QtWidgets.QDoubleSpinBox):
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


class _ComboBox(_NoWheel, QtWidgets.QComboBox):
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


class _Slider(_NoWheel, QtWidgets.QSlider):
    def __init__(self, tip: str):
        super().__init__(QtCore.Qt.Horizontal)
        self.setFocusPolicy(QtCore.Qt.StrongFocus)
        self.setToolTip(tip)


class _MessageLabel(QtWidgets.QLabel):
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


def _set_combo(combo: QtWidgets.QComboBox, key) -> None:
    """Select the item with data ``key`` (none: the placeholder) without signals."""
    with QtCore.QSignalBlocker(combo):
        combo.setCurrentIndex(combo.findData(key))


def _set_value(widget, value) -> None:
    with QtCore.QSignalBlocker(widget):
        widget.setValue(value)


def _form() -> QtWidgets.QFormLayout:
    form = QtWidgets.QFormLayout()
    form.setRowWrapPolicy(QtWidgets.QFormLayout.WrapLongRows)
    form.setFieldGrowthPolicy(QtWidgets.QFormLayout.AllNonFixedFieldsGrow)
    form.setLabelAlignment(QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter)
    return form


class ParameterDock(QtWidgets.QDockWidget):
    """Training, network, initialisation and data settings of the session."""

    def __init__(self, session, parent: QtWidgets.QWidget | None = None):
        super().__init__("Parameters", parent)
        self.setObjectName("parameter_dock")
        self._session = session
        self._scale = 1.0
        self._applying = False
        #: the project's own inline table, so the user can go back to it
        self._custom_spec: data_mod.DataSpec | None = None
        self._custom_rows: int | None = -1  # what the dataset box lists now
        self.layer_spins: list[QtWidgets.QSpinBox] = []

        body = QtWidgets.QWidget(self)
        outer = QtWidgets.QVBoxLayout(body)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(4)
        self.error_label = _MessageLabel()
        outer.addWidget(self.error_label)

        content = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(content)
        column.setContentsMargins(2, 2, 2, 2)
        column.setSpacing(8)
        column.addWidget(self._build_training())
        column.addWidget(self._build_network())
        column.addWidget(self._build_init())
        column.addWidget(self._build_data())
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

    # -- building -----------------------------------------------------------------------
    def _build_training(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Training")
        box.setToolTip("These settings change the running training at once")
        form = _form()
        box.setLayout(form)

        self.lr_spin = _DoubleSpinBox(
            LR_MIN, LR_MAX, LR_DECIMALS,
            f"Learning rate α: how far each update moves the weights along the negative "
            f"gradient ({LR_MIN:g} to {LR_MAX:g}). Type a value and press Enter.")
        self.lr_spin.valueChanged.connect(self._on_lr_spin_changed)
        self.lr_slider = _Slider("Learning rate on a logarithmic scale: each tick is a "
                                 "factor of 10 (0.00001 at the left, 10 at the right)")
        self.lr_slider.setRange(0, LR_STEPS)
        self.lr_slider.setSingleStep(LR_STEPS_PER_DECADE // 20)
        self.lr_slider.setPageStep(LR_STEPS_PER_DECADE)
        self.lr_slider.setTickPosition(QtWidgets.QSlider.TicksBelow)
        self.lr_slider.setTickInterval(LR_STEPS_PER_DECADE)
        self.lr_slider.valueChanged.connect(self._on_lr_slider_changed)
        form.addRow("Learning rate", self.lr_spin)
        form.addRow(self.lr_slider)

        self.mode_combo = _ComboBox({k: MODE_TEXT.get(k, k) for k in MODES},
                                    "How many samples make one weight update", MODE_TIPS)
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        form.addRow("Mode", self.mode_combo)
        self.batch_spin = _SpinBox(1, data_mod.MAX_SAMPLES,
                                   "Samples per update in mini-batch mode (the last batch "
                                   "of an epoch may be smaller)")
        self.batch_spin.valueChanged.connect(
            lambda v: self._apply(self._session.set_config, batch_size=int(v)))
        form.addRow("Batch size", self.batch_spin)
        self.shuffle_check = QtWidgets.QCheckBox("Shuffle every epoch")
        self.shuffle_check.setToolTip("Visit the samples in a new random order each epoch "
                                      "(mini-batch and stochastic modes)")
        self.shuffle_check.toggled.connect(
            lambda on: self._apply(self._session.set_config, shuffle=bool(on)))
        form.addRow(self.shuffle_check)

        self.optimizer_combo = _ComboBox(
            {k: OPTIMIZER_TEXT.get(k, k) for k in opt_mod.OPTIMIZERS},
            "The rule that turns a gradient into a weight change", OPTIMIZER_TIPS)
        self.optimizer_combo.currentIndexChanged.connect(
            lambda _i: self._apply(self._session.set_config,
                                   optimizer=self.optimizer_combo.currentData()))
        form.addRow("Optimiser", self.optimizer_combo)
        self.loss_combo = _ComboBox(
            {k: LOSS_TEXT.get(k, k) for k in loss_mod.LOSSES},
            "What training minimises. Binary cross-entropy needs a sigmoid output and "
            "cross-entropy a softmax output: the output activation follows.",
            {k: f"{LOSS_NAMES.get(k, k).capitalize()}: {loss_mod.FORMULAS[k]}"
                + (f"  (needs a {loss_mod.REQUIRED_OUTPUT[k]} output)"
                   if k in loss_mod.REQUIRED_OUTPUT else "")
             for k in loss_mod.LOSSES if k in loss_mod.FORMULAS})
        self.loss_combo.currentIndexChanged.connect(self._on_loss_changed)
        form.addRow("Loss", self.loss_combo)

        self.reg_combo = _ComboBox({k: REG_TEXT.get(k, k) for k in reg_mod.REGULARIZATIONS},
                                   "A penalty on large weights (biases are not penalised)",
                                   REG_TIPS)
        self.reg_combo.currentIndexChanged.connect(
            lambda _i: self._apply(self._session.set_config,
                                   regularization=self.reg_combo.currentData()))
        self.reg_rate_spin = _DoubleSpinBox(0.0, 1.0, 5, "Regularisation strength λ")
        self.reg_rate_spin.valueChanged.connect(
            lambda v: self._apply(self._session.set_config, regularization_rate=float(v)))
        form.addRow("Penalty", self.reg_combo)
        form.addRow("Strength λ", self.reg_rate_spin)
        return box

    def _build_network(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Network")
        box.setToolTip("Changing the shape rebuilds the network from the same seed and "
                       "starts again at epoch 0")
        form = _form()
        box.setLayout(form)
        self.hidden_combo = _ComboBox(
            {k: ACT_TEXT.get(k, k) for k in act_mod.HIDDEN_ACTIVATIONS},
            "Activation function of every hidden unit (keeps the weights)",
            {k: act_mod.FORMULAS[k][0] for k in act_mod.HIDDEN_ACTIVATIONS
             if k in act_mod.FORMULAS})
        self.hidden_combo.setPlaceholderText("mixed")
        self.hidden_combo.currentIndexChanged.connect(self._on_hidden_changed)
        form.addRow("Hidden activation", self.hidden_combo)
        self.output_combo = _ComboBox(
            {k: ACT_TEXT.get(k, k) for k in act_mod.OUTPUT_ACTIVATIONS},
            "Activation function of the output units (keeps the weights); the loss "
            "follows when it needs another output",
            {k: act_mod.FORMULAS[k][0] for k in act_mod.OUTPUT_ACTIVATIONS
             if k in act_mod.FORMULAS})
        self.output_combo.currentIndexChanged.connect(self._on_output_changed)
        form.addRow("Output activation", self.output_combo)
        self.note_label = QtWidgets.QLabel("")
        self.note_label.setObjectName("parameter_note")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet(NOTE_STYLE)
        self.note_label.hide()
        form.addRow(self.note_label)

        self.input_label = QtWidgets.QLabel()
        self.input_label.setToolTip("Input units: one per input column of the data "
                                    "(set by the data)")
        self.input_label.setWordWrap(True)
        form.addRow("Input layer", self.input_label)
        self._layers_form = _form()
        self._layers_form.setContentsMargins(0, 0, 0, 0)
        layers_box = QtWidgets.QWidget()
        layers_box.setLayout(self._layers_form)
        form.addRow(layers_box)
        self.output_label = QtWidgets.QLabel()
        self.output_label.setToolTip("Output units: one per target column of the data "
                                     "(set by the data)")
        self.output_label.setWordWrap(True)
        form.addRow("Output layer", self.output_label)

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
        form.addRow(buttons)
        return box

    def _build_init(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Initialisation")
        box.setToolTip("How the weights start; changing it resets the weights and starts "
                       "again at epoch 0")
        form = _form()
        box.setLayout(form)
        self.init_combo = _ComboBox({k: INIT_TEXT.get(k, k) for k in INITS},
                                    "How the starting weights are chosen", INIT_TIPS)
        self.init_combo.currentIndexChanged.connect(self._apply_init)
        form.addRow("Method", self.init_combo)
        self.init_value_spin = _DoubleSpinBox(-10.0, 10.0, 3,
                                              "The value of every weight and bias "
                                              "(constant initialisation)", step=0.1)
        self.init_value_spin.valueChanged.connect(self._apply_init)
        form.addRow("Value", self.init_value_spin)
        self.init_range_spin = _DoubleSpinBox(0.001, 10.0, 3,
                                              "Weights are drawn from -r .. r (uniform "
                                              "initialisation)", step=0.1)
        self.init_range_spin.valueChanged.connect(self._apply_init)
        form.addRow("Range r", self.init_range_spin)
        self.seed_spin = _SpinBox(0, 2**31 - 1, "Random seed of the starting weights: the "
                                                "same seed gives the same weights")
        self.seed_spin.valueChanged.connect(self._apply_init)
        form.addRow("Seed", self.seed_spin)
        return box

    def _build_data(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Data")
        box.setToolTip("Changing the data rebuilds the training set and starts again at "
                       "epoch 0")
        form = _form()
        box.setLayout(form)
        self.dataset_combo = _ComboBox({}, "The training data: a truth table or points "
                                           "in the plane drawn by a generator")
        self.dataset_combo.currentIndexChanged.connect(self._apply_data)
        form.addRow("Dataset", self.dataset_combo)
        self.samples_spin = _SpinBox(data_mod.MIN_SAMPLES, data_mod.MAX_SAMPLES,
                                     "How many points the generator draws (training and "
                                     "test together)", step=50)
        self.samples_spin.valueChanged.connect(self._apply_data)
        form.addRow("Samples", self.samples_spin)
        self.noise_spin = _DoubleSpinBox(0.0, 2.0, 2, "Standard deviation of the Gaussian "
                                                      "noise added to the points", step=0.05)
        self.noise_spin.valueChanged.connect(self._apply_data)
        form.addRow("Noise", self.noise_spin)
        self.classes_spin = _SpinBox(2, data_mod.MAX_CLASSES,
                                     "Number of classes (Gaussian blobs and spiral only); "
                                     "more than 2 gives one output per class")
        self.classes_spin.valueChanged.connect(self._apply_data)
        form.addRow("Classes", self.classes_spin)
        self.test_spin = _SpinBox(0, 90, "Share of the samples held back as a test set "
                                         "(never trained on)", step=5)
        self.test_spin.setSuffix(" %")
        self.test_spin.valueChanged.connect(self._apply_data)
        form.addRow("Test set", self.test_spin)
        self.data_seed_spin = _SpinBox(0, 2**31 - 1, "Random seed of the generator and of "
                                                     "the train/test split")
        self.data_seed_spin.valueChanged.connect(self._apply_data)
        form.addRow("Seed", self.data_seed_spin)
        self.normalize_check = QtWidgets.QCheckBox("Normalise inputs")
        self.normalize_check.setToolTip("Shift and scale every input column to mean 0 and "
                                        "standard deviation 1 (statistics of the training "
                                        "set)")
        self.normalize_check.toggled.connect(self._apply_data)
        form.addRow(self.normalize_check)
        return box

    def _fill_dataset_combo(self, custom_rows: int | None) -> None:
        """List the datasets, with a "custom table" entry first when there is one."""
        if custom_rows == self._custom_rows:
            return
        combo = self.dataset_combo
        with QtCore.QSignalBlocker(combo):
            combo.clear()
            if custom_rows is not None:
                combo.addItem(f"custom table ({custom_rows} samples)", CUSTOM)
                combo.setItemData(0, "The project's own table of inputs and targets",
                                  QtCore.Qt.ToolTipRole)
                combo.insertSeparator(combo.count())
            for group in (data_mod.TABLES, data_mod.GENERATORS):
                if combo.count() and group is data_mod.GENERATORS:
                    combo.insertSeparator(combo.count())
                for name in group:
                    combo.addItem(DATASET_TEXT.get(name, name), name)
                    combo.setItemData(combo.count() - 1, DATASET_TIPS.get(name, ""),
                                      QtCore.Qt.ToolTipRole)
        self._custom_rows = custom_rows

    def _fit_width(self) -> None:
        """Wide enough that no control is squeezed and no sideways scrolling is needed."""
        bar = self.scroll.verticalScrollBar().sizeHint().width()
        self.scroll.setMinimumWidth(self._content.minimumSizeHint().width() + bar + 4)

    # -- presentation -------------------------------------------------------------------
    def set_scale(self, factor: float) -> None:
        """Scale the panel's fonts (presentation mode: ``factor`` 1.5 or 2)."""
        self._scale = max(0.5, float(factor))
        font = QtGui.QFont(QtWidgets.QApplication.font())
        font.setPointSizeF(font.pointSizeF() * self._scale)
        self.widget().setFont(font)
        self._fit_width()

    # -- applying (user -> session) -----------------------------------------------------
    def _apply(self, method, *args, **kwargs) -> bool:
        """Call a session method; a refusal shows one message and restores the controls."""
        self._applying = True
        try:
            method(*args, **kwargs)
        except Exception as e:  # nothing may reach the event loop
            if not isinstance(e, ValueError):
                log.exception("a parameter change failed")
            self._show_error(str(e) or type(e).__name__)
            self._sync_all()
            return False
        finally:
            self._applying = False
        self.error_label.hide()
        return True

    def _show_error(self, message: str) -> None:
        self.error_label.setText(f"Not applied: {message}")
        self.error_label.show()

    def _note(self, text: str) -> None:
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))

    def _on_lr_spin_changed(self, value: float) -> None:
        self._apply(self._session.set_config, learning_rate=float(value))

    def _on_lr_slider_changed(self, position: int) -> None:
        lr = slider_to_lr(position)
        _set_value(self.lr_spin, lr)
        self._apply(self._session.set_config, learning_rate=float(self.lr_spin.value()))

    def _on_mode_changed(self, _index: int) -> None:
        self._apply(self._session.set_config, mode=self.mode_combo.currentData())

    def _check_fit(self, output: str, loss: str) -> None:
        """Raise ``ValueError`` if this output activation and loss cannot train on the
        session's data (softmax with one output, bce on targets outside 0..1, ce on targets
        that are not one-hot), before the session is asked to change anything."""
        s = self._session
        ds = s.dataset
        net = Network(s.layers, s.activations[:-1], output)
        check_compatible(net, replace(s.config, loss=loss), ds.n_targets,
                         np.vstack([ds.y_train, ds.y_test]))

    def _on_loss_changed(self, _index: int) -> None:
        loss = self.loss_combo.currentData()
        need = loss_mod.REQUIRED_OUTPUT.get(loss)
        output = self._session.activations[-1]
        if need and need != output:
            if self._apply(self._check_fit, need, loss) and \
                    self._apply(self._session.set_activations, output=need, loss=loss):
                self._note(f"Output activation set to {ACT_TEXT.get(need, need)}: "
                           f"{LOSS_NAMES.get(loss, loss)} needs it.")
        elif self._apply(self._check_fit, output, loss) and \
                self._apply(self._session.set_config, loss=loss):
            self._note("")

    def _on_output_changed(self, _index: int) -> None:
        output = self.output_combo.currentData()
        loss = self._session.config.loss
        need = loss_mod.REQUIRED_OUTPUT.get(loss)
        if need and need != output:
            # the loss that fits this output: sigmoid -> bce, softmax -> ce, else mse
            fitting = {v: k for k, v in loss_mod.REQUIRED_OUTPUT.items()}.get(output, "mse")
            if self._apply(self._check_fit, output, fitting) and \
                    self._apply(self._session.set_activations, output=output, loss=fitting):
                self._note(f"Loss set to {LOSS_NAMES.get(fitting, fitting)}: "
                           f"{LOSS_NAMES.get(loss, loss)} needs a "
                           f"{ACT_TEXT.get(need, need)} output.")
        elif self._apply(self._check_fit, output, loss) and \
                self._apply(self._session.set_activations, output=output):
            self._note("")

    def _on_hidden_changed(self, _index: int) -> None:
        hidden = self.hidden_combo.currentData()
        if hidden is not None:
            self._apply(self._session.set_activations, hidden=hidden)

    def _hidden_for_structure(self) -> str | None:
        """The hidden activation to build a new shape with (None: the session's)."""
        return self.hidden_combo.currentData()

    def _on_layer_units_changed(self, index: int, units: int) -> None:
        layers = self._session.layers
        if not 0 < index + 1 < len(layers) - 1 or layers[index + 1] == units:
            return
        layers[index + 1] = int(units)
        self._apply(self._session.set_structure, layers, self._hidden_for_structure())

    def _on_add_layer(self) -> None:
        layers = self._session.layers
        units = layers[-2] if len(layers) > 2 else 3
        layers.insert(len(layers) - 1, units)
        self._apply(self._session.set_structure, layers, self._hidden_for_structure())

    def _on_remove_layer(self) -> None:
        layers = self._session.layers
        if len(layers) > 2:
            del layers[-2]
            self._apply(self._session.set_structure, layers, self._hidden_for_structure())

    def _apply_init(self, *_args) -> None:
        init = InitConfig(method=self.init_combo.currentData(), seed=self.seed_spin.value(),
                          value=float(self.init_value_spin.value()),
                          range=float(self.init_range_spin.value()))
        if init != self._session.init_config:
            self._apply(self._session.set_init, init)

    def _spec_from_controls(self) -> data_mod.DataSpec:
        name = self.dataset_combo.currentData()
        common = {"seed": self.data_seed_spin.value(),
                  "test_fraction": self.test_spin.value() / 100.0,
                  "normalize": self.normalize_check.isChecked()}
        if name == CUSTOM or name is None:
            base = self._custom_spec or self._session.data_spec
            return replace(base, **common)
        return data_mod.DataSpec(
            dataset=name, samples=self.samples_spin.value(),
            noise=float(self.noise_spin.value()),
            classes=self.classes_spin.value() if name in data_mod.MULTICLASS else 2,
            **common)

    def _apply_data(self, *_args) -> None:
        spec = self._spec_from_controls()
        if spec != self._session.data_spec:
            self._apply(self._session.set_data, spec)

    # -- following the session (session -> controls) ------------------------------------
    def _sync_all(self) -> None:
        self._on_structure_changed()
        self._on_config_changed(self._session.config)

    def _on_config_changed(self, cfg) -> None:
        _set_value(self.lr_spin, cfg.learning_rate)
        # Leave the slider where the user holds it when it already means this value.
        if slider_to_lr(self.lr_slider.value()) != self.lr_spin.value() \
                and not self.lr_slider.isSliderDown():
            _set_value(self.lr_slider, lr_to_slider(cfg.learning_rate))
        _set_combo(self.mode_combo, cfg.mode)
        _set_value(self.batch_spin, cfg.batch_size)
        self.batch_spin.setEnabled(cfg.mode == "minibatch")
        with QtCore.QSignalBlocker(self.shuffle_check):
            self.shuffle_check.setChecked(cfg.shuffle)
        self.shuffle_check.setEnabled(cfg.mode != "batch")
        _set_combo(self.optimizer_combo, cfg.optimizer)
        _set_combo(self.loss_combo, cfg.loss)
        _set_combo(self.reg_combo, cfg.regularization)
        _set_value(self.reg_rate_spin, cfg.regularization_rate)
        self.reg_rate_spin.setEnabled(cfg.regularization != "none")

    def _on_structure_changed(self) -> None:
        if not self._applying:  # a preset, a file, a lesson: old messages no longer apply
            self.error_label.hide()
            self._note("")
        self._sync_network()
        self._sync_init()
        self._sync_data()

    def _sync_network(self) -> None:
        s = self._session
        layers = s.layers
        acts = s.activations
        hidden = set(acts[:-1])
        _set_combo(self.hidden_combo, next(iter(hidden)) if len(hidden) == 1 else
                   None if hidden else self.hidden_combo.currentData() or "tanh")
        self.hidden_combo.setEnabled(len(layers) > 2)
        _set_combo(self.output_combo, acts[-1])
        ds = s.dataset
        self.input_label.setText(f"{layers[0]}  ({', '.join(ds.input_names)})")
        self.output_label.setText(f"{layers[-1]}  ({', '.join(ds.target_names)})")
        n_hidden = len(layers) - 2
        if len(self.layer_spins) != n_hidden:
            self._rebuild_layer_rows(n_hidden)
        for spin, units in zip(self.layer_spins, layers[1:-1]):
            _set_value(spin, units)
        self.add_layer_button.setEnabled(n_hidden < MAX_HIDDEN_LAYERS)
        self.remove_layer_button.setEnabled(n_hidden > 0)

    def _rebuild_layer_rows(self, n_hidden: int) -> None:
        form = self._layers_form
        while form.rowCount():
            form.removeRow(0)
        self.layer_spins = []
        for k in range(n_hidden):
            spin = _SpinBox(1, MAX_UNITS, f"Units in hidden layer {k + 1} (1 to {MAX_UNITS}); "
                                          f"changing it rebuilds the network")
            spin.setSuffix(" units")
            spin.valueChanged.connect(
                lambda v, k=k: self._on_layer_units_changed(k, int(v)))
            form.addRow(f"Hidden layer {k + 1}", spin)
            self.layer_spins.append(spin)

    def _sync_init(self) -> None:
        init = self._session.init_config
        _set_combo(self.init_combo, init.method)
        _set_value(self.seed_spin, init.seed)
        _set_value(self.init_value_spin, init.value)
        _set_value(self.init_range_spin, init.range)
        self.init_value_spin.setEnabled(init.method == "constant")
        self.init_range_spin.setEnabled(init.method == "uniform")
        self.seed_spin.setEnabled(init.method != "constant")

    def _sync_data(self) -> None:
        spec = self._session.data_spec
        if spec.dataset is None:
            self._custom_spec = spec
        elif not self._applying:
            self._custom_spec = None  # another project: its table is not ours to offer
        custom = self._custom_spec
        self._fill_dataset_combo(None if custom is None else len(custom.inputs or ()))
        _set_combo(self.dataset_combo, CUSTOM if spec.dataset is None else spec.dataset)
        _set_value(self.samples_spin, spec.samples)
        _set_value(self.noise_spin, spec.noise)
        _set_value(self.classes_spin, spec.classes)
        _set_value(self.test_spin, round(spec.test_fraction * 100))
        _set_value(self.data_seed_spin, spec.seed)
        with QtCore.QSignalBlocker(self.normalize_check):
            self.normalize_check.setChecked(spec.normalize)
        generated = spec.dataset in data_mod.GENERATORS
        self.samples_spin.setEnabled(generated)
        self.noise_spin.setEnabled(generated)
        self.classes_spin.setEnabled(spec.dataset in data_mod.MULTICLASS)
