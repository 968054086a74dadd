"""The parameter dock, driven through its widgets as a lecturer would."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402
from tests.helpers import settle  # noqa: E402

from backprop_lab.controller.session import Session  # noqa: E402
from backprop_lab.engine import data as data_mod  # noqa: E402
from backprop_lab.ui.docks.parameters import (  # noqa: E402
    LR_MAX,
    LR_MIN,
    LR_STEPS,
    ParameterDock,
    lr_to_slider,
    slider_to_lr,
)


@pytest.fixture
def session(qtbot):
    s = Session()  # the article preset: 2-3-1, identity, mse, inline XOR table
    yield s
    s.shutdown()  # always: a running QThread at exit aborts the whole run


@pytest.fixture
def dock(qtbot, session):
    d = ParameterDock(session)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    return d


def type_into(qtbot, spin: QtWidgets.QAbstractSpinBox, text: str) -> None:
    """Select the spin box's text, type ``text`` and press Enter."""
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, QtCore.Qt.Key_Return)


def choose(combo: QtWidgets.QComboBox, key: str) -> None:
    i = combo.findData(key)
    assert i >= 0, f"{key!r} is not in the box"
    combo.setCurrentIndex(i)


# -- the log mapping ------------------------------------------------------------------------
def test_slider_mapping_covers_the_range_and_round_trips():
    assert slider_to_lr(0) == LR_MIN
    assert slider_to_lr(LR_STEPS) == LR_MAX
    for lr in (1e-4, 0.001, 0.01, 0.03, 0.1, 0.5, 1.0, 3.0):
        assert slider_to_lr(lr_to_slider(lr)) == pytest.approx(lr, rel=0.02)
    assert lr_to_slider(1e-9) == 0 and lr_to_slider(1e9) == LR_STEPS


# -- training ---------------------------------------------------------------------------------
def test_shows_the_session_on_start(dock, session):
    assert dock.objectName() == "parameter_dock"
    assert dock.windowTitle() == "Parameters"
    assert dock.lr_spin.value() == pytest.approx(0.1)
    assert dock.lr_slider.value() == lr_to_slider(0.1)
    assert dock.mode_combo.currentData() == "batch"
    assert dock.loss_combo.currentData() == "mse"
    assert dock.output_combo.currentData() == "identity"
    assert [s.value() for s in dock.layer_spins] == [3]
    assert dock.dataset_combo.currentText() == "custom table (4 samples)"
    assert not dock.samples_spin.isEnabled()
    assert dock.error_label.isHidden()


def test_typing_a_learning_rate_applies_it_and_moves_the_slider(qtbot, dock, session):
    type_into(qtbot, dock.lr_spin, "0.5")
    assert session.config.learning_rate == pytest.approx(0.5)
    assert dock.lr_slider.value() == lr_to_slider(0.5)
    assert dock.error_label.isHidden()


def test_moving_the_slider_sets_the_spin_box_and_the_config(qtbot, dock, session):
    dock.lr_slider.setValue(lr_to_slider(1.0))
    assert dock.lr_spin.value() == pytest.approx(1.0)
    assert session.config.learning_rate == pytest.approx(1.0)
    # Page Down is one decade on the log slider
    dock.lr_slider.setFocus()
    qtbot.keyClick(dock.lr_slider, QtCore.Qt.Key_PageDown)
    assert session.config.learning_rate == pytest.approx(0.1)
    assert dock.lr_spin.value() == pytest.approx(0.1)


def test_minibatch_enables_the_batch_size(qtbot, dock, session):
    assert not dock.batch_spin.isEnabled()
    choose(dock.mode_combo, "minibatch")
    assert session.config.mode == "minibatch"
    assert dock.batch_spin.isEnabled()
    assert dock.shuffle_check.isEnabled()
    type_into(qtbot, dock.batch_spin, "2")
    assert session.config.batch_size == 2
    qtbot.mouseClick(dock.shuffle_check, QtCore.Qt.LeftButton)
    assert session.config.shuffle is True
    choose(dock.mode_combo, "stochastic")
    assert session.config.mode == "stochastic"
    assert not dock.batch_spin.isEnabled()


def test_optimizer_and_regularisation_apply_live(qtbot, dock, session):
    choose(dock.optimizer_combo, "adam")
    assert session.config.optimizer == "adam"
    assert not dock.reg_rate_spin.isEnabled()
    choose(dock.reg_combo, "l2")
    assert session.config.regularization == "l2"
    assert dock.reg_rate_spin.isEnabled()
    type_into(qtbot, dock.reg_rate_spin, "0.01")
    assert session.config.regularization_rate == pytest.approx(0.01)


# -- loss and activations ---------------------------------------------------------------------
def test_choosing_bce_switches_the_output_to_sigmoid(dock, session):
    choose(dock.loss_combo, "bce")
    assert session.config.loss == "bce"
    assert session.activations[-1] == "sigmoid"
    assert dock.output_combo.currentData() == "sigmoid"
    assert "sigmoid" in dock.note_label.text().lower()
    assert not dock.note_label.isHidden()
    assert dock.error_label.isHidden()


def test_messages_go_when_another_project_is_loaded(dock, session):
    choose(dock.loss_combo, "bce")
    assert not dock.note_label.isHidden()
    session.load_preset("circle")
    assert dock.note_label.isHidden()
    assert dock.error_label.isHidden()


def three_classes(session) -> None:
    """Data with three one-hot target columns, so softmax and ce fit."""
    session.set_data(data_mod.DataSpec(dataset="gaussian", classes=3))
    assert session.layers[-1] == 3


def test_choosing_ce_switches_the_output_to_softmax(dock, session):
    three_classes(session)
    choose(dock.loss_combo, "ce")
    assert session.config.loss == "ce"
    assert session.activations[-1] == "softmax"


def test_an_output_that_does_not_fit_the_loss_changes_the_loss(dock, session):
    three_classes(session)
    choose(dock.loss_combo, "bce")
    choose(dock.output_combo, "softmax")
    assert session.activations[-1] == "softmax"
    assert session.config.loss == "ce"
    choose(dock.output_combo, "tanh")
    assert session.activations[-1] == "tanh"
    assert session.config.loss == "mse"
    assert dock.loss_combo.currentData() == "mse"


def test_hidden_activation_keeps_the_weights(dock, session):
    session.step_epochs(2)
    settle(session)
    params = session.params.copy()
    choose(dock.hidden_combo, "tanh")
    assert session.activations[:-1] == ["tanh"]
    assert (session.params == params).all()


# -- shape ------------------------------------------------------------------------------------
def test_add_and_remove_hidden_layers(qtbot, dock, session):
    assert session.layers == [2, 3, 1]
    qtbot.mouseClick(dock.add_layer_button, QtCore.Qt.LeftButton)
    assert session.layers == [2, 3, 3, 1]
    assert [s.value() for s in dock.layer_spins] == [3, 3]
    type_into(qtbot, dock.layer_spins[1], "5")
    assert session.layers == [2, 3, 5, 1]
    qtbot.mouseClick(dock.remove_layer_button, QtCore.Qt.LeftButton)
    qtbot.mouseClick(dock.remove_layer_button, QtCore.Qt.LeftButton)
    assert session.layers == [2, 1]
    assert dock.layer_spins == []
    assert not dock.remove_layer_button.isEnabled()
    assert not dock.hidden_combo.isEnabled()
    qtbot.mouseClick(dock.add_layer_button, QtCore.Qt.LeftButton)
    assert session.layers == [2, 3, 1]


def test_input_and_output_sizes_come_from_the_data(dock, session):
    assert dock.input_label.text().startswith("2")
    assert "X1" in dock.input_label.text()
    assert dock.output_label.text().startswith("1")


# -- initialisation and data ------------------------------------------------------------------
def test_initialisation_method_and_seed(qtbot, dock, session):
    assert not dock.seed_spin.isEnabled()  # constant ignores the seed
    choose(dock.init_combo, "uniform")
    assert session.init_config.method == "uniform"
    assert dock.init_range_spin.isEnabled() and not dock.init_value_spin.isEnabled()
    before = session.params.copy()
    type_into(qtbot, dock.seed_spin, "7")
    assert session.init_config.seed == 7
    assert not (session.params == before).all()


def test_changing_the_dataset_to_spiral_rebuilds_the_data(qtbot, dock, session):
    choose(dock.dataset_combo, "spiral")
    assert session.data_spec.dataset == "spiral"
    assert len(session.dataset.x_train) == dock.samples_spin.value() == 200
    assert dock.samples_spin.isEnabled() and dock.noise_spin.isEnabled()
    type_into(qtbot, dock.samples_spin, "300")
    type_into(qtbot, dock.test_spin, "20")
    assert len(session.dataset.x_train) == 240
    assert len(session.dataset.x_test) == 60
    # the project's own table is still offered
    choose(dock.dataset_combo, "")
    assert session.data_spec.dataset is None
    assert len(session.dataset.x_train) + len(session.dataset.x_test) == 4


def test_truth_tables_disable_samples_and_noise(dock, session):
    choose(dock.dataset_combo, "and")
    assert session.data_spec.dataset == "and"
    assert not dock.samples_spin.isEnabled()
    assert not dock.noise_spin.isEnabled()


def test_loading_a_preset_updates_every_control_without_applying_anything(
        qtbot, dock, session, monkeypatch):
    calls = []
    for name in ("set_config", "set_activations", "set_structure", "set_init", "set_data"):
        original = getattr(session, name)
        monkeypatch.setattr(session, name,
                            lambda *a, _o=original, _n=name, **k: (calls.append(_n), _o(*a, **k)))
    session.load_preset("spiral")
    assert calls == []  # the sync must not call back into the session
    assert not session.dirty
    assert dock.lr_spin.value() == pytest.approx(0.03)
    assert dock.lr_slider.value() == lr_to_slider(0.03)
    assert dock.mode_combo.currentData() == "minibatch"
    assert dock.batch_spin.isEnabled() and dock.batch_spin.value() == 10
    assert dock.shuffle_check.isChecked()
    assert dock.loss_combo.currentData() == "bce"
    assert dock.hidden_combo.currentData() == "tanh"
    assert dock.output_combo.currentData() == "sigmoid"
    assert [s.value() for s in dock.layer_spins] == [8, 8, 8]
    assert dock.init_combo.currentData() == "xavier"
    assert dock.seed_spin.value() == 1
    assert dock.dataset_combo.currentData() == "spiral"
    assert dock.samples_spin.value() == 625
    assert dock.test_spin.value() == 20
    # another project's table is not offered any more
    assert dock.dataset_combo.findData("") == -1
    session.load_preset("article-xor")
    assert dock.dataset_combo.currentText() == "custom table (4 samples)"
    assert [s.value() for s in dock.layer_spins] == [3]


# -- refusals -----------------------------------------------------------------------------
def test_a_refused_value_shows_one_message_and_restores_the_control(qtbot, dock, session):
    dock.lr_spin.setMaximum(1e4)  # let the box take a value the engine refuses
    type_into(qtbot, dock.lr_spin, "5000")
    assert session.config.learning_rate == pytest.approx(0.1)
    assert not dock.error_label.isHidden()
    assert "learning_rate" in dock.error_label.text()
    assert dock.lr_spin.value() == pytest.approx(0.1)
    assert dock.lr_slider.value() == lr_to_slider(0.1)
    # the next good change clears the message
    type_into(qtbot, dock.lr_spin, "0.2")
    assert session.config.learning_rate == pytest.approx(0.2)
    assert dock.error_label.isHidden()


def test_ce_on_one_output_is_refused_and_changes_nothing(dock, session):
    session.load_preset("circle")  # one output: softmax of one number is always 1
    before = (session.layers, session.activations, session.config, session.params.copy())
    assert dock.loss_combo.findText("CE (softmax)") >= 0
    dock.loss_combo.setCurrentIndex(dock.loss_combo.findText("CE (softmax)"))
    assert not dock.error_label.isHidden()
    assert "softmax needs at least 2 outputs; with one output use sigmoid" in \
        dock.error_label.text()
    assert (session.layers, session.activations, session.config) == before[:3]
    assert (session.params == before[3]).all()
    assert dock.loss_combo.currentData() == "bce"
    assert dock.output_combo.currentData() == "sigmoid"
    assert dock.note_label.isHidden()
    choose(dock.output_combo, "softmax")  # the same from the output box
    assert "softmax needs at least 2 outputs" in dock.error_label.text()
    assert (session.activations, session.config) == (before[1], before[2])
    assert dock.output_combo.currentData() == "sigmoid"


def test_bce_on_regression_targets_is_refused_before_the_session_changes(dock, session):
    choose(dock.dataset_combo, "plane")  # targets from about -0.8 to 0.8
    assert session.dataset.task == "regression"
    cfg, acts = session.config, session.activations
    choose(dock.loss_combo, "bce")
    assert "loss 'bce' needs targets from 0 to 1" in dock.error_label.text()
    assert not dock.error_label.isHidden()
    assert (session.config, session.activations) == (cfg, acts)
    assert dock.loss_combo.currentData() == cfg.loss
    choose(dock.output_combo, "sigmoid")  # allowed with mse ...
    assert session.activations[-1] == "sigmoid" and dock.error_label.isHidden()
    choose(dock.loss_combo, "bce")  # ... but bce still is not
    assert "loss 'bce' needs targets" in dock.error_label.text()
    assert session.config.loss == "mse" and dock.loss_combo.currentData() == "mse"
    session.step_epochs(3)  # the session still trains
    settle(session)
    assert session.epoch == 3


def test_an_unexpected_failure_never_reaches_the_event_loop(qtbot, dock, session, monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(session, "set_structure", broken)
    qtbot.mouseClick(dock.add_layer_button, QtCore.Qt.LeftButton)
    assert "disk on fire" in dock.error_label.text()
    assert session.layers == [2, 3, 1]
    assert len(dock.layer_spins) == 1


# -- comfort ------------------------------------------------------------------------------
def test_the_wheel_does_not_change_an_unfocused_control(qtbot, dock, session):
    combo = dock.mode_combo
    combo.clearFocus()
    pos = QtCore.QPointF(combo.rect().center())
    event = QtGui.QWheelEvent(pos, QtCore.QPointF(combo.mapToGlobal(pos.toPoint())),
                              QtCore.QPoint(0, 0), QtCore.QPoint(0, -120),
                              QtCore.Qt.NoButton, QtCore.Qt.NoModifier,
                              QtCore.Qt.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(combo, event)
    assert session.config.mode == "batch"


def test_every_control_has_a_tooltip(dock):
    panel = dock.scroll.widget()
    controls = [w for kind in (QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox,
                               QtWidgets.QAbstractButton, QtWidgets.QSlider)
                for w in panel.findChildren(kind)]
    assert len(controls) > 20
    for w in controls:
        label = w.text() if isinstance(w, QtWidgets.QAbstractButton) else ""
        assert w.toolTip(), f"{type(w).__name__} {w.objectName()!r} {label!r}"


def test_set_scale_makes_the_fonts_bigger(dock):
    before = dock.lr_spin.font().pointSizeF()
    dock.set_scale(1.5)
    assert dock.lr_spin.font().pointSizeF() == pytest.approx(1.5 * before, rel=0.05)


# -- data: what the group does not show stays ---------------------------------------------
def test_a_new_sample_count_keeps_the_input_features(qtbot, dock, session):
    session.load_preset("circle-features")
    features = session.data_spec.features
    assert features == ("x1^2", "x2^2") and session.layers[0] == 2
    type_into(qtbot, dock.samples_spin, "400")
    assert session.data_spec.samples == 400
    assert session.data_spec.features == features
    assert session.dataset.input_names == ("X1²", "X2²")
    choose(dock.dataset_combo, "moons")
    assert session.data_spec.features == features and session.layers[0] == 2


def test_normalisation_is_fitted_to_the_new_points(qtbot, dock, session):
    import numpy as np

    choose(dock.dataset_combo, "circle")
    qtbot.mouseClick(dock.normalize_check, QtCore.Qt.LeftButton)
    spec = session.data_spec
    assert spec.normalize and spec.norm_mean is not None  # stored, for the project file
    np.testing.assert_allclose(session.dataset.x_train.mean(axis=0), 0, atol=1e-12)
    type_into(qtbot, dock.data_seed_spin, "5")
    assert session.data_spec.norm_mean != spec.norm_mean  # other points, other statistics
    np.testing.assert_allclose(session.dataset.x_train.mean(axis=0), 0, atol=1e-12)
    qtbot.mouseClick(dock.normalize_check, QtCore.Qt.LeftButton)
    assert not session.data_spec.normalize and session.data_spec.norm_mean is None


def test_a_tables_own_test_part_stays(qtbot, dock, session):
    session.set_data(data_mod.DataSpec(
        inputs=((0, 0), (0, 1), (1, 0)), targets=((0,), (1,), (1,)),
        test_inputs=((1, 1),), test_targets=((0,),)))
    assert len(session.dataset.x_test) == 1
    qtbot.mouseClick(dock.normalize_check, QtCore.Qt.LeftButton)
    assert session.data_spec.normalize and dock.error_label.isHidden()
    assert session.data_spec.test_inputs == ((1.0, 1.0),)
    assert len(session.dataset.x_train) == 3 and len(session.dataset.x_test) == 1
