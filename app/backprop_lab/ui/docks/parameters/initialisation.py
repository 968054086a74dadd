"""The initialisation group: how the weights start. A change draws the weights anew from
the same shape and starts again at epoch 0 (``Session.set_init``)."""

from __future__ import annotations

from dataclasses import replace

from ....engine.init import INITS
from .controls import ComboBox, DoubleSpinBox, Group, SpinBox, set_combo, set_value

INIT_TEXT = {"constant": "Constant", "uniform": "Uniform ±r", "xavier": "Xavier (Glorot)",
             "he": "He"}
INIT_TIPS = {"constant": "Every weight and bias gets the same value (the article uses 1)",
             "uniform": "Weights and biases drawn uniformly from -r .. r",
             "xavier": "Weights uniform in ±sqrt(6 / (fan_in + fan_out)), biases 0: "
                       "suits tanh and sigmoid",
             "he": "Weights normal with variance 2 / fan_in, biases 0: suits ReLU"}


class InitGroup(Group):
    """Method, value, range and seed of the starting weights."""

    def __init__(self, session, panel):
        super().__init__("Initialisation", "How the weights start; changing it resets the "
                         "weights and starts again at epoch 0", session, panel)
        f = self.form
        self.init_combo = ComboBox({k: INIT_TEXT.get(k, k) for k in INITS},
                                   "How the starting weights are chosen", INIT_TIPS)
        self.init_combo.currentIndexChanged.connect(self._apply)
        f.addRow("Method", self.init_combo)
        self.init_value_spin = DoubleSpinBox(-10.0, 10.0, 3,
                                             "The value of every weight and bias "
                                             "(constant initialisation)", step=0.1)
        self.init_value_spin.valueChanged.connect(self._apply)
        f.addRow("Value", self.init_value_spin)
        self.init_range_spin = DoubleSpinBox(0.001, 10.0, 3,
                                             "Weights are drawn from -r .. r (uniform "
                                             "initialisation)", step=0.1)
        self.init_range_spin.valueChanged.connect(self._apply)
        f.addRow("Range r", self.init_range_spin)
        self.seed_spin = SpinBox(0, 2**31 - 1, "Random seed of the starting weights: the "
                                               "same seed gives the same weights")
        self.seed_spin.valueChanged.connect(self._apply)
        f.addRow("Seed", self.seed_spin)

    def _apply(self, *_args) -> None:
        init = replace(self.session.init_config, method=self.init_combo.currentData(),
                       seed=self.seed_spin.value(), value=float(self.init_value_spin.value()),
                       range=float(self.init_range_spin.value()))
        if init != self.session.init_config:
            self.panel.apply(self.session.set_init, init)

    def sync(self) -> None:
        init = self.session.init_config
        set_combo(self.init_combo, init.method)
        set_value(self.seed_spin, init.seed)
        set_value(self.init_value_spin, init.value)
        set_value(self.init_range_spin, init.range)
        self.init_value_spin.setEnabled(init.method == "constant")
        self.init_range_spin.setEnabled(init.method == "uniform")
        self.seed_spin.setEnabled(init.method != "constant")
