"""The training group: learning rate, mode, batch size, shuffle, optimiser, loss and
regularisation, all applied to the running training at once (``Session.set_config``;
the loss through ``Session.set_loss``, which brings the output activation it needs)."""

from __future__ import annotations

import math

from PySide6 import QtWidgets

from ....engine import data as data_mod
from ....engine import losses as loss_mod
from ....engine import optimizers as opt_mod
from ....engine import regularization as reg_mod
from ....engine.training import MODES, TrainingConfig
from .controls import (
    ACT_TEXT,
    LOSS_NAMES,
    REFUSED,
    ComboBox,
    DoubleSpinBox,
    Group,
    Slider,
    SpinBox,
    check_box,
    set_checked,
    set_combo,
    set_value,
)

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
REG_TEXT = {"none": "None", "l2": "L2", "l1": "L1"}
REG_TIPS = {"none": "No weight penalty",
            "l2": "Adds λ/2 · Σ w² to the loss: pulls every weight towards 0",
            "l1": "Adds λ · Σ |w| to the loss: pushes small weights to exactly 0"}


class TrainingGroup(Group):
    """Settings that change the running training at once."""

    def __init__(self, session, panel):
        super().__init__("Training", "These settings change the running training at once",
                         session, panel)
        form = self.form
        self.lr_spin = DoubleSpinBox(
            LR_MIN, LR_MAX, LR_DECIMALS,
            f"Learning rate α: how far each update moves the weights along the negative "
            f"gradient ({LR_MIN:g} to {LR_MAX:g}). Type a value and press Enter.")
        self.lr_spin.valueChanged.connect(self._on_lr_spin_changed)
        self.lr_slider = Slider("Learning rate on a logarithmic scale: each tick is a "
                                "factor of 10 (0.00001 at the left, 10 at the right)")
        self.lr_slider.setRange(0, LR_STEPS)
        self.lr_slider.setSingleStep(LR_STEPS_PER_DECADE // 20)
        self.lr_slider.setPageStep(LR_STEPS_PER_DECADE)
        self.lr_slider.setTickPosition(QtWidgets.QSlider.TicksBelow)
        self.lr_slider.setTickInterval(LR_STEPS_PER_DECADE)
        self.lr_slider.valueChanged.connect(self._on_lr_slider_changed)
        form.addRow("Learning rate", self.lr_spin)
        form.addRow(self.lr_slider)

        self.mode_combo = ComboBox({k: MODE_TEXT.get(k, k) for k in MODES},
                                   "How many samples make one weight update", MODE_TIPS)
        self.mode_combo.currentIndexChanged.connect(
            lambda _i: self._set(mode=self.mode_combo.currentData()))
        form.addRow("Mode", self.mode_combo)
        self.batch_spin = SpinBox(1, data_mod.MAX_SAMPLES,
                                  "Samples per update in mini-batch mode (the last batch "
                                  "of an epoch may be smaller)")
        self.batch_spin.valueChanged.connect(lambda v: self._set(batch_size=int(v)))
        form.addRow("Batch size", self.batch_spin)
        self.shuffle_check = check_box(
            "Shuffle every epoch", "Visit the samples in a new random order each epoch "
                                   "(mini-batch and stochastic modes)")
        self.shuffle_check.toggled.connect(lambda on: self._set(shuffle=bool(on)))
        form.addRow(self.shuffle_check)

        self.optimizer_combo = ComboBox(
            {k: OPTIMIZER_TEXT.get(k, k) for k in opt_mod.OPTIMIZERS},
            "The rule that turns a gradient into a weight change", OPTIMIZER_TIPS)
        self.optimizer_combo.currentIndexChanged.connect(
            lambda _i: self._set(optimizer=self.optimizer_combo.currentData()))
        form.addRow("Optimiser", self.optimizer_combo)
        self.loss_combo = ComboBox(
            {k: LOSS_TEXT.get(k, k) for k in loss_mod.LOSSES},
            "What training minimises. Binary cross-entropy needs a sigmoid output and "
            "cross-entropy a softmax output: the output activation follows.",
            {k: f"{LOSS_NAMES.get(k, k).capitalize()}: {loss_mod.FORMULAS[k]}"
                + (f"  (needs a {loss_mod.REQUIRED_OUTPUT[k]} output)"
                   if k in loss_mod.REQUIRED_OUTPUT else "")
             for k in loss_mod.LOSSES if k in loss_mod.FORMULAS})
        self.loss_combo.currentIndexChanged.connect(self._on_loss_changed)
        form.addRow("Loss", self.loss_combo)

        self.reg_combo = ComboBox({k: REG_TEXT.get(k, k) for k in reg_mod.REGULARIZATIONS},
                                  "A penalty on large weights (biases are not penalised)",
                                  REG_TIPS)
        self.reg_combo.currentIndexChanged.connect(
            lambda _i: self._set(regularization=self.reg_combo.currentData()))
        self.reg_rate_spin = DoubleSpinBox(0.0, 1.0, 5, "Regularisation strength λ")
        self.reg_rate_spin.valueChanged.connect(
            lambda v: self._set(regularization_rate=float(v)))
        form.addRow("Penalty", self.reg_combo)
        form.addRow("Strength λ", self.reg_rate_spin)

    # -- user -> session ----------------------------------------------------------------
    def _set(self, **changes) -> None:
        self.panel.apply(self.session.set_config, **changes)

    def _on_lr_spin_changed(self, value: float) -> None:
        self._set(learning_rate=float(value))

    def _on_lr_slider_changed(self, position: int) -> None:
        set_value(self.lr_spin, slider_to_lr(position))
        self._set(learning_rate=float(self.lr_spin.value()))

    def _on_loss_changed(self, _index: int) -> None:
        loss = self.loss_combo.currentData()
        choice = self.panel.apply(self.session.set_loss, loss)
        if choice is REFUSED:
            return
        if choice.followed == "output":
            output = ACT_TEXT.get(choice.output, choice.output)
            self.panel.note(f"Output activation set to {output}: "
                            f"{LOSS_NAMES.get(loss, loss)} needs it.")
        else:
            self.panel.note("")

    # -- session -> controls ------------------------------------------------------------
    def sync(self, cfg: TrainingConfig | None = None) -> None:
        cfg = cfg if cfg is not None else self.session.config
        set_value(self.lr_spin, cfg.learning_rate)
        # Leave the slider where the user holds it when it already means this value.
        if slider_to_lr(self.lr_slider.value()) != self.lr_spin.value() \
                and not self.lr_slider.isSliderDown():
            set_value(self.lr_slider, lr_to_slider(cfg.learning_rate))
        set_combo(self.mode_combo, cfg.mode)
        set_value(self.batch_spin, cfg.batch_size)
        self.batch_spin.setEnabled(cfg.mode == "minibatch")
        set_checked(self.shuffle_check, cfg.shuffle)
        self.shuffle_check.setEnabled(cfg.mode != "batch")
        set_combo(self.optimizer_combo, cfg.optimizer)
        set_combo(self.loss_combo, cfg.loss)
        set_combo(self.reg_combo, cfg.regularization)
        set_value(self.reg_rate_spin, cfg.regularization_rate)
        self.reg_rate_spin.setEnabled(cfg.regularization != "none")

