"""The presenter: the session and the phase stepper turned into what the canvas and the
header show, checked against the engine's own numbers."""

import numpy as np
import pytest
from PySide6 import QtWidgets
from tests.helpers import settle

from backprop_lab.controller.teaching import PhaseStepper
from backprop_lab.ui.canvas import NetworkCanvas
from backprop_lab.ui.presenter import Presenter, header_texts


@pytest.fixture
def presenter(qtbot, session):
    canvas = NetworkCanvas()
    qtbot.addWidget(canvas)
    labels = [QtWidgets.QLabel() for _ in range(3)]
    stepper = PhaseStepper(session)
    p = Presenter(session, stepper, canvas, *labels)
    yield p
    p.stop()
    stepper.stop()


def test_the_header_names_epoch_loss_and_accuracy(session):
    settle(session)
    assert header_texts(session.snapshot) == ("Epoch 0", "Train loss 23.5   Accuracy 50%")


def test_the_canvas_shows_the_selected_sample_with_the_newest_weights(presenter, session):
    session.step_epochs(2)
    settle(session)
    session.select_sample(3)  # (1, 1) -> 0
    d = presenter.canvas.data()
    t = session.trace([3])
    np.testing.assert_array_equal(d.z[0], [1.0, 1.0])
    np.testing.assert_array_equal(d.z[-1], t.z[-1][0])
    np.testing.assert_array_equal(d.weights[0], session.network.weights[0])
    assert presenter.epoch_label.text() == "Epoch 2"
    assert presenter.loss_label.text() == header_texts(session.snapshot)[1]


def test_a_stepped_update_shows_only_what_is_computed(presenter, session, qtbot):
    stepper = presenter.stepper
    stepper.start()
    qtbot.waitUntil(lambda: stepper.active, timeout=10000)
    d = presenter.canvas.data()
    assert np.isnan(d.a[0]).all() and np.isnan(d.deltas[-1]).all()
    stepper.next()  # forward into the hidden layer
    d = presenter.canvas.data()
    assert not np.isnan(d.a[0]).any() and np.isnan(d.a[1]).all()
    assert d.highlight_weights and d.caption
    stepper.stop()
    d = presenter.canvas.data()
    assert not np.isnan(d.a[1]).any() and not np.isnan(d.deltas[0]).any()
