"""The compared runs (Training > Compare) on the loss landscape, and the dock's theme and
text size: a real comparison on the real window, its runs trained on a worker thread."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui
from tests.helpers import settle

from backprop_lab.controller.landscape_job import NOTHING_YET
from backprop_lab.engine.update import objective
from backprop_lab.ui.docks.landscape_dock import variant_width
from backprop_lab.ui.docks.loss_dock import OVERLAY_COLORS
from backprop_lab.ui.theme import DARK, LIGHT


@pytest.fixture
def compare(qtbot, window):
    """xor-tanh at epoch 0, the landscape dock shown, the Compare dialog open; the
    comparison and every landscape worker end with the test."""
    s = window.session
    s.load_preset("xor-tanh")
    settle(s)
    dock = window.landscape_dock
    dock.show()
    dock.raise_()
    qtbot.waitUntil(dock.isVisible, timeout=5000)
    dlg = window.show_compare()
    yield dlg
    dlg.shutdown()
    dlg.close()
    dock.stop()
    assert QtCore.QThreadPool.globalInstance().waitForDone(10_000)
    assert not dlg.job.running and not dock.computer.busy


def run_comparison(qtbot, window, dlg, key: str, values: str, epochs: int):
    """Run a comparison from the dialog and wait for the landscape it brings (the dock is
    shown: it computes when the comparison ends, without a click)."""
    dock = window.landscape_dock
    dlg.select_setting(key)
    dlg.values.setText(values)
    dlg.epochs.setValue(epochs)
    with qtbot.waitSignal(dock.finished, timeout=120_000) as landscape:
        with qtbot.waitSignal(dlg.job.finished, timeout=120_000):
            qtbot.mouseClick(dlg.run_button, QtCore.Qt.LeftButton)
    return landscape.args[0]


def pen_color(item) -> str:
    return QtGui.QPen(item.opts["pen"]).color().name().lower()


def test_sgd_and_adam_paths_before_the_main_run_trains(qtbot, window, compare):
    s, dock = window.session, window.landscape_dock
    assert not dock.compute() and dock.message.text() == NOTHING_YET
    result = run_comparison(qtbot, window, compare, "training.optimizer", "sgd, adam", 100)
    runs = compare.job.runs
    assert [r.name for r in runs] == ["optimiser sgd", "optimiser adam"]
    assert all(r.done and r.error is None and r.epoch == 100 for r in runs)
    req, ls = result.request, result.landscape
    plane = ls.plane
    # the main run has not trained: the first finished run ends the plane, and says so
    assert s.epoch == 0 and req.plane_run == "optimiser sgd"
    assert "optimiser sgd's final weights" in dock.message.text()
    assert "not trained" in dock.message.text()
    assert len(result.coords) == 0 and dock.path_curve.getData()[0] is None
    np.testing.assert_array_equal(plane.origin, runs[0].state.params)
    np.testing.assert_array_equal(plane.d1, runs[0].state.params - s.initial_params)
    # one path per variant, each ending at the projection of its final weights
    assert [p.variant.name for p in result.paths] == [r.name for r in runs]
    drawn = dock.variant_paths()
    for i, (p, r) in enumerate(zip(result.paths, runs)):
        assert p.epochs[0] == 0 and p.epochs[-1] == 100
        want, _ = plane.project(r.state.params)
        np.testing.assert_allclose(p.coords[-1], want[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(p.coords[0], [-1.0, 0.0], atol=1e-12)  # the common start
        x, y = drawn[r.name]
        np.testing.assert_array_equal(x, p.coords[:, 0])
        np.testing.assert_array_equal(y, p.coords[:, 1])
        # the loss dock's colour for the same run
        assert dock.variant_color(r.name).lower() == OVERLAY_COLORS[i].lower()
        assert pen_color(window.loss_dock.overlays()[r.name]) == OVERLAY_COLORS[i].lower()
    sgd, adam = result.paths
    # the run that ends the plane: from (-1, 0) to the centre, both exactly on the plane
    np.testing.assert_allclose(sgd.coords[-1], [0.0, 0.0], atol=1e-12)
    assert sgd.distance[0] < 1e-12 and sgd.distance[-1] < 1e-12
    # adam's path is a projection: it leaves the plane, and the legend says by how much
    assert adam.farthest > 0.01
    legend = dock.legend.text()
    assert dock.legend.isVisible()
    assert "optimiser sgd" in legend and "optimiser adam" in legend
    assert f"off-plane ≤ {adam.farthest:.2g}" in legend
    assert "projections" in dock.message.text()
    # the grid covers every path, and the loss at the grid point nearest the end of the
    # plane's run is that run's own final train loss (the point is the centre)
    a, b = ls.alphas, ls.betas
    for p in result.paths:
        assert a[0] <= p.coords[:, 0].min() and p.coords[:, 0].max() <= a[-1]
        assert b[0] <= p.coords[:, 1].min() and p.coords[:, 1].max() <= b[-1]
    i = int(np.argmin(np.abs(a - sgd.coords[-1, 0])))
    j = int(np.argmin(np.abs(b - sgd.coords[-1, 1])))
    assert a[i] == 0.0 and b[j] == 0.0
    net = runs[0].project.network.copy()
    net.params[:] = runs[0].state.params
    ds = s.dataset
    want = objective(net, s.config, ds.x_train, ds.y_train)
    assert np.isclose(ls.values[j, i], want, rtol=1e-9, atol=0)
    assert np.isclose(ls.values[j, i], runs[0].history()[-1, 1], rtol=1e-9, atol=0)
    # the start is the initial weights, at (-1, 0): the loss there is the epoch-0 loss
    i0 = int(np.argmin(np.abs(a + 1.0)))
    probe = net.copy()
    probe.params[:] = plane.point(a[i0], b[j])
    assert ls.values[j, i0] == objective(probe, s.config, ds.x_train, ds.y_train)

    # once the main run has trained, its weights end the plane; the compared paths stay
    s.step_epochs(30)
    settle(s)
    with qtbot.waitSignal(dock.finished, timeout=60_000) as blocker:
        dock.compute_button.click()
    again = blocker.args[0]
    assert again.request.plane_run is None and again.request.epoch == 30
    np.testing.assert_allclose(again.coords[-1], [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(again.coords[0], [-1.0, 0.0], atol=1e-12)
    assert [p.variant.name for p in again.paths] == [r.name for r in runs]
    for p, r in zip(again.paths, runs):
        want, _ = again.landscape.plane.project(r.state.params)
        np.testing.assert_allclose(p.coords[-1], want[0], rtol=1e-12, atol=1e-12)
    assert "this run (epoch 30)" in dock.legend.text()

    # "Clear comparison": the paths go
    with qtbot.waitSignal(dock.finished, timeout=60_000) as blocker:
        compare.clear_button.click()
    assert blocker.args[0].paths == () and dock.variant_paths() == {}
    assert not dock.legend.isVisible()


def test_runs_from_other_initial_weights_are_left_out(qtbot, window, compare):
    s = window.session
    result = run_comparison(qtbot, window, compare, "initialization.seed", "7, 0", 40)
    runs = compare.job.runs
    same = [np.array_equal(r.initial.params, s.initial_params) for r in runs]
    assert sum(same) == 1, "one seed must give the session's own initial weights"
    kept, other = runs[same.index(True)], runs[same.index(False)]
    assert [p.variant.name for p in result.paths] == [kept.name]
    assert result.request.plane_run == kept.name
    assert any(other.name in n and "left out" in n for n in result.request.notes)
    assert f"{other.name}: left out (other initial weights)" in window.landscape_dock \
        .message.text()
    # its colour is still the one the loss dock gives it (its place in the comparison)
    i = runs.index(kept)
    assert window.landscape_dock.variant_color(kept.name) == OVERLAY_COLORS[i]


def test_a_comparison_while_the_dock_is_hidden_is_drawn_when_shown(qtbot, window, compare):
    dock = window.landscape_dock
    dock.toggleViewAction().trigger()
    qtbot.waitUntil(lambda: not dock.isVisible(), timeout=5000)
    seen = []
    dock.finished.connect(seen.append)
    compare.select_setting("training.optimizer")
    compare.values.setText("momentum")
    compare.epochs.setValue(30)
    with qtbot.waitSignal(compare.job.finished, timeout=60_000):
        compare.run()
    qtbot.wait(50)
    assert seen == [] and not dock.computer.busy  # hidden: nothing computed
    with qtbot.waitSignal(dock.finished, timeout=60_000) as blocker:
        dock.show()
        dock.raise_()
    assert [p.variant.name for p in blocker.args[0].paths] == ["optimiser momentum"]


def test_theme_and_text_size(qtbot, window, compare):
    dock = window.landscape_dock
    run_comparison(qtbot, window, compare, "training.optimizer", "sgd, momentum", 30)
    window.set_theme("light")
    bottom = dock.plot.getAxis("bottom")
    assert dock.plot_widget.backgroundBrush().color().name() == LIGHT.plot_background
    assert bottom.textPen().color().name() == LIGHT.plot_text
    assert dock.color_bar.getAxis("right").textPen().color().name() == LIGHT.plot_text
    assert LIGHT.note in dock.legend.text()
    window.set_theme("dark")
    assert dock.theme() == "dark"
    assert dock.plot_widget.backgroundBrush().color().name() == DARK.plot_background
    assert bottom.textPen().color().name() == DARK.plot_text
    assert dock.plot.getAxis("left").textPen().color().name() == DARK.plot_text
    assert dock.color_bar.getAxis("right").textPen().color().name() == DARK.plot_text
    assert DARK.note in dock.legend.text() and LIGHT.note not in dock.legend.text()
    assert DARK.plot_text in bottom.labelStyle.get("color", "")
    bar_label = dock.color_bar.getAxis("left")
    assert bar_label.labelText == "log₁₀ loss"
    assert DARK.plot_text in bar_label.labelStyle.get("color", "")
    # the paths keep the loss dock's colours in either theme
    for i, name in enumerate(["optimiser sgd", "optimiser momentum"]):
        assert dock.variant_color(name) == OVERLAY_COLORS[i]
    # the text size (Ctrl+=): the caption, the legend and the axes grow with it
    base = dock.message.font().pointSizeF()
    tick = bottom.style["tickFont"].pointSizeF()
    window.set_text_scale(1.6)
    assert dock.message.font().pointSizeF() == pytest.approx(base * 1.6, rel=0.02)
    assert dock.legend.font().pointSizeF() == pytest.approx(base * 1.6, rel=0.02)
    assert bottom.style["tickFont"].pointSizeF() == pytest.approx(tick * 1.6, rel=0.02)
    # presentation mode (F11): lines and markers grow too
    window.set_presenting(True)
    k = window.present_factor()
    assert k > 1 and dock.scale() == pytest.approx(k)
    line = dock._variant_items["optimiser sgd"][1]  # noqa: SLF001 (a test looks inside)
    assert QtGui.QPen(line.opts["pen"]).widthF() == pytest.approx(variant_width(0, 2) * k)
    window.set_presenting(False)
    # the legend goes under the plot in a narrow dock, beside it in a wide one
    dock.setFloating(True)
    dock.resize(420, 420)
    qtbot.waitUntil(lambda: not dock.legend_beside, timeout=5000)
    qtbot.waitUntil(lambda: dock.plot_widget.width() > dock.width() / 2, timeout=5000)
    assert "off-plane" in dock.legend.text() and "<table" not in dock.legend.text()
    dock.resize(1400, 420)
    qtbot.waitUntil(lambda: dock.legend_beside, timeout=5000)
    qtbot.waitUntil(lambda: dock.plot_widget.width() >= 2 * dock.legend.width(),
                    timeout=5000)  # laid out again
    assert "<table" in dock.legend.text()
    dock.setFloating(False)
    window.set_text_scale(1.0)
    window.set_theme("light")
    assert dock.scale() == 1.0
    assert dock.plot_widget.backgroundBrush().color().name() == LIGHT.plot_background
