"""The data group: which points the network trains on. A change builds the data anew and
starts again at epoch 0 (``Session.set_data``; the input and output layers follow it).

The group shows the source of the points (a truth table, a generator with its size,
noise and classes, or the project's own table), the test share, the seed and whether
inputs are normalised, the input features computed from the two raw inputs (x1, x2,
x1², x2², x1·x2, sin x1, sin x2: the input layer follows them) and a Regenerate button
(new points: the next data seed). What it does not show stays as it is: the explicit
test part of a table.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6 import QtCore, QtWidgets

from ....engine import data as data_mod
from ....engine import features as features_mod
from .controls import (
    ComboBox,
    DoubleSpinBox,
    Group,
    SpinBox,
    check_box,
    set_checked,
    set_combo,
    set_value,
)

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
#: the feature check boxes' text, in the order of ``features.FEATURES``
FEATURE_TEXT = {"x1": "x1", "x2": "x2", "x1^2": "x1²", "x2^2": "x2²", "x1*x2": "x1·x2",
                "sin(x1)": "sin x1", "sin(x2)": "sin x2"}
#: item data of the "custom table" entry of the dataset box
CUSTOM = ""
#: the fields of a spec that hold a table's own points: a named dataset has none
TABLE_FIELDS = {"inputs": None, "targets": None, "input_names": None, "target_names": None,
                "test_inputs": None, "test_targets": None, "csv": None, "csv_targets": None}


class DataGroup(Group):
    """Dataset, its size, noise and classes, the test share, the seed, normalisation."""

    def __init__(self, session, panel):
        super().__init__("Data", "Changing the data rebuilds the training set and starts "
                         "again at epoch 0", session, panel)
        #: the project's own inline table, so the user can go back to it
        self._custom_spec: data_mod.DataSpec | None = None
        self._custom_rows: int | None = -1  # what the dataset box lists now
        f = self.form
        self.dataset_combo = ComboBox({}, "The training data: a truth table or points "
                                          "in the plane drawn by a generator")
        self.dataset_combo.currentIndexChanged.connect(self._apply)
        f.addRow("Dataset", self.dataset_combo)
        self.samples_spin = SpinBox(data_mod.MIN_SAMPLES, data_mod.MAX_SAMPLES,
                                    "How many points the generator draws (training and "
                                    "test together)", step=50)
        self.samples_spin.valueChanged.connect(self._apply)
        f.addRow("Samples", self.samples_spin)
        self.noise_spin = DoubleSpinBox(0.0, 2.0, 2, "Standard deviation of the Gaussian "
                                                     "noise added to the points", step=0.05)
        self.noise_spin.valueChanged.connect(self._apply)
        f.addRow("Noise", self.noise_spin)
        self.classes_spin = SpinBox(2, data_mod.MAX_CLASSES,
                                    "Number of classes (Gaussian blobs and spiral only); "
                                    "more than 2 gives one output per class")
        self.classes_spin.valueChanged.connect(self._apply)
        f.addRow("Classes", self.classes_spin)
        self.test_spin = SpinBox(0, 90, "Share of the samples held back as a test set "
                                        "(never trained on)", step=5)
        self.test_spin.setSuffix(" %")
        self.test_spin.valueChanged.connect(self._apply)
        f.addRow("Test set", self.test_spin)
        self.data_seed_spin = SpinBox(0, 2**31 - 1, "Random seed of the generator and of "
                                                    "the train/test split")
        self.data_seed_spin.valueChanged.connect(self._apply)
        seed_row = QtWidgets.QHBoxLayout()
        seed_row.setContentsMargins(0, 0, 0, 0)
        seed_row.addWidget(self.data_seed_spin, 1)
        self.regenerate_button = QtWidgets.QPushButton("Regenerate")
        self.regenerate_button.setObjectName("regenerate_button")
        self.regenerate_button.setToolTip("New points from the same generator: the next "
                                          "data seed (training starts again at epoch 0)")
        self.regenerate_button.clicked.connect(
            lambda: self.data_seed_spin.setValue(self.data_seed_spin.value() + 1))
        seed_row.addWidget(self.regenerate_button)
        f.addRow("Seed", seed_row)
        self.normalize_check = check_box("Normalise inputs",
                                         "Shift and scale every input column to mean 0 and "
                                         "standard deviation 1 (statistics of the training "
                                         "set)")
        self.normalize_check.toggled.connect(self._apply)
        f.addRow(self.normalize_check)
        grid = QtWidgets.QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.feature_checks: dict[str, QtWidgets.QCheckBox] = {}
        for i, name in enumerate(features_mod.FEATURES):
            box = check_box(FEATURE_TEXT[name],
                            f"Give the network {FEATURE_TEXT[name]} as an input (computed "
                            "from the two raw inputs); the input layer follows")
            box.setObjectName(f"feature_{name}")
            # as wide as its text: a click beside it is not on it
            box.setSizePolicy(QtWidgets.QSizePolicy.Fixed, QtWidgets.QSizePolicy.Fixed)
            box.toggled.connect(lambda on, n=name: self._toggle_feature(n, on))
            grid.addWidget(box, i // 3, i % 3)
            self.feature_checks[name] = box
        self.features_box = QtWidgets.QWidget()
        self.features_box.setLayout(grid)
        self.features_box.setToolTip("The input features: the network's input columns, "
                                     "computed from the raw inputs x1 and x2")
        # a row of its own under its label: the panel stays as narrow as before
        label = QtWidgets.QLabel("Input features")
        label.setToolTip(self.features_box.toolTip())
        f.addRow(label)
        f.addRow(self.features_box)

    # -- user -> session ----------------------------------------------------------------
    def spec_from_controls(self) -> data_mod.DataSpec:
        """The session's data spec with what the controls show put in. Fields the group
        does not show (features, normalisation statistics, a table's test part) are
        kept; a named dataset drops a table's own rows."""
        current = self.session.data_spec
        name = self.dataset_combo.currentData()
        if name == CUSTOM or name is None:
            base = replace(self._custom_spec or current, features=current.features)
        else:
            base = replace(current, dataset=name, samples=self.samples_spin.value(),
                           noise=float(self.noise_spin.value()),
                           classes=self.classes_spin.value() if name in data_mod.MULTICLASS
                           else 2, **TABLE_FIELDS)
        return replace(base, features=self._features(current), seed=self.data_seed_spin.value(),
                       test_fraction=self.test_spin.value() / 100.0,
                       normalize=self.normalize_check.isChecked())

    def _features(self, current: data_mod.DataSpec):
        """The features the boxes show (None: the raw inputs, as a spec without any)."""
        if not self.features_box.isEnabled():
            return current.features
        chosen = tuple(f for f in features_mod.FEATURES if self.feature_checks[f].isChecked())
        if features_mod.is_raw(chosen) and features_mod.is_raw(current.features):
            return current.features
        return chosen

    def _toggle_feature(self, name: str, on: bool) -> None:
        if not any(b.isChecked() for b in self.feature_checks.values()):
            set_checked(self.feature_checks[name], True)  # a network needs an input
            self.panel.note("At least one input feature must stay on")
            return
        self._apply()

    def _apply(self, *_args) -> None:
        spec = self.spec_from_controls()
        if spec != self.session.data_spec:
            self.panel.apply(self._set_data, spec)

    def _set_data(self, spec: data_mod.DataSpec) -> None:
        # new points: normalisation statistics fitted to them (or none when it is off)
        self.session.set_data(data_mod.set_normalize(spec, spec.normalize))

    # -- session -> controls ------------------------------------------------------------
    def sync(self) -> None:
        spec = self.session.data_spec
        if spec.dataset is None:
            self._custom_spec = spec
        elif not self.panel.applying:
            self._custom_spec = None  # another project: its table is not ours to offer
        custom = self._custom_spec
        self._fill_dataset_combo(None if custom is None else len(custom.inputs or ()))
        set_combo(self.dataset_combo, CUSTOM if spec.dataset is None else spec.dataset)
        set_value(self.samples_spin, spec.samples)
        set_value(self.noise_spin, spec.noise)
        set_value(self.classes_spin, spec.classes)
        set_value(self.test_spin, round(spec.test_fraction * 100))
        set_value(self.data_seed_spin, spec.seed)
        set_checked(self.normalize_check, spec.normalize)
        chosen = features_mod.RAW if spec.features is None else tuple(spec.features)
        for name, box in self.feature_checks.items():
            set_checked(box, name in chosen)
        self.features_box.setEnabled(self._two_raw_inputs())
        generated = spec.dataset in data_mod.GENERATORS
        self.samples_spin.setEnabled(generated)
        self.regenerate_button.setEnabled(generated)
        self.noise_spin.setEnabled(generated)
        self.classes_spin.setEnabled(spec.dataset in data_mod.MULTICLASS)

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

    def _two_raw_inputs(self) -> bool:
        """Features are computed from exactly two raw inputs."""
        try:
            return len(self.session.dataset.raw_names) == features_mod.N_RAW
        except AttributeError:
            return False
