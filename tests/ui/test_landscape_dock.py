"""The loss landscape dock on the real window: computed off the UI thread, centred on the
current weights, with the run's path ending at the centre."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore
from tests.helpers import settle

from backprop_lab.controller.landscape_job import NOTHING_YET
from backprop_lab.engine.update import objective


def _show(window, qtbot):
    dock = window.landscape_dock
    dock.show()
    dock.raise_()
    qtbot.waitUntil(dock.isVisible, timeout=5000)
    return dock


def test_landscape_of_a_trained_run(window, qtbot):
    s = window.session
    s.load_preset("xor-tanh")
    settle(s)
    s.step_epochs(200)
    settle(s)
    assert s.epoch == 200
    dock = _show(window, qtbot)
    assert dock.objectName() == "landscape_dock"
    assert dock.toggleViewAction() in window.view_menu.actions()
    assert dock in window.tabifiedDockWidgets(window.loss_dock)
    with qtbot.waitSignal(dock.finished, timeout=60_000) as blocker:
        dock.compute_button.click()
    result = blocker.args[0]
    assert result is dock.result
    ls = result.landscape
    assert ls.values.shape == (41, 41)
    assert np.all(np.isfinite(ls.values))
    assert ls.alphas[20] == 0.0 and ls.betas[20] == 0.0
    centre = ls.values[20, 20]
    # the centre is the current weights: the objective there is the session's train loss
    net = s.network
    want = objective(net, s.config, s.dataset.x_train, s.dataset.y_train)
    assert np.isclose(centre, want, rtol=1e-9, atol=0)
    assert np.isclose(centre, s.snapshot.train_loss, rtol=1e-9, atol=0)
    # the path: the run's kept states, from the start (on the first axis) to the centre
    xy = result.coords
    assert len(xy) >= 2
    np.testing.assert_allclose(xy[-1], [0.0, 0.0], atol=1e-9)
    assert result.request.path_epochs[-1] == 200
    px, py = dock.path_curve.getData()
    assert len(px) == len(xy) and px[-1] == xy[-1, 0]
    assert dock.image.image.shape == (41, 41)
    assert not dock.progress.isVisible()
    assert "Epoch 200" in dock.message.text()
    assert QtCore.QThreadPool.globalInstance().waitForDone(5000)


def test_nothing_to_show_at_epoch_zero(window, qtbot):
    s = window.session
    s.load_preset("xor-tanh")
    settle(s)
    dock = _show(window, qtbot)
    assert not dock.compute()
    assert dock.message.text() == NOTHING_YET
    assert dock.result is None and not dock.computer.busy
    assert QtCore.QThreadPool.globalInstance().waitForDone(5000)


def test_shown_dock_recomputes_when_the_run_changed(window, qtbot):
    s = window.session
    s.load_preset("xor-tanh")
    settle(s)
    s.step_epochs(20)
    settle(s)
    dock = window.landscape_dock
    with qtbot.waitSignal(dock.finished, timeout=60_000) as blocker:
        _show(window, qtbot)  # shown with a changed run: computed without a click
    assert blocker.args[0].request.epoch == 20
    dock.toggleViewAction().trigger()  # closed from the View menu
    qtbot.waitUntil(lambda: not dock.isVisible(), timeout=5000)
    s.step_epochs(5)
    settle(s)
    with qtbot.waitSignal(dock.finished, timeout=60_000) as blocker:
        _show(window, qtbot)
    assert blocker.args[0].request.epoch == 25
    assert QtCore.QThreadPool.globalInstance().waitForDone(5000)


def test_a_stopped_landscape_is_never_shown(window, qtbot):
    s = window.session
    s.load_preset("spiral")
    settle(s)
    s.step_epochs(10)
    settle(s)
    dock = window.landscape_dock
    dock.toggleViewAction().trigger()  # hidden: nothing computes on its own
    qtbot.waitUntil(lambda: not dock.isVisible(), timeout=5000)
    seen = []
    dock.finished.connect(seen.append)
    assert dock.compute()
    assert dock.computer.busy
    dock.stop()
    assert not dock.computer.busy
    assert QtCore.QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.wait(50)  # queued signals of the dropped worker are delivered and ignored
    assert seen == [] and dock.result is None
    assert dock.message.text().startswith("Stopped")
