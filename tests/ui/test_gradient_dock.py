"""The gradient-norm dock: one curve per weight layer, log scale, vanishing gradients."""

from __future__ import annotations

import numpy as np
import pytest
from tests.helpers import settle

from backprop_lab.ui.docks.gradient_dock import REDRAW_MS, GradientDock


@pytest.fixture
def dock(qtbot, session):
    d = GradientDock(session)
    qtbot.addWidget(d)
    d.resize(700, 350)
    d.show()
    qtbot.waitExposed(d)
    return d


def test_identity_and_article_legend(dock):
    assert dock.objectName() == "gradient_dock"
    assert dock.windowTitle() == "Gradient norms"
    assert dock.is_log_y() and dock.log_check.isChecked()
    assert [n.split(" ")[0] for n in dock.names] == ["W", "V"]
    assert len(dock.curves) == 2


def test_deep_sigmoid_shows_vanishing_gradients(dock, session):
    session.load_preset("deep-sigmoid")
    assert [n.split(" ")[0] for n in dock.names] == ["W1", "W2", "W3", "W4", "W5", "W6"]
    session.step_epochs(20)
    settle(session)
    dock.refresh()
    assert len(dock.curves) == 6
    last = []
    for c in dock.curves:
        x, y = c.getOriginalDataset()
        assert x is not None and len(x) >= 1 and x[-1] == 20
        assert np.all(np.isfinite(y))
        last.append(y[-1])
    assert last[0] < last[-1]
    assert last[0] < last[-1] / 10  # orders of magnitude in a deep sigmoid net
    assert "times smaller" in dock.readout_label.text()
    assert dock.latest() == pytest.approx(last)


def test_history_changes_redraw_coalesced(dock, session, qtbot):
    """A burst of 50 history changes (what 50 updates in a row send) costs one redraw,
    which shows the newest epoch."""
    session.step_epochs(5)
    settle(session)
    qtbot.wait(REDRAW_MS * 3)  # the last redraw of the steps is done
    redraws = []
    dock._redraw.triggered.connect(lambda: redraws.append(True))
    for _ in range(50):
        session.history_changed.emit()
    qtbot.wait(REDRAW_MS * 4)
    assert len(redraws) == 1
    x = dock.curves[0].getOriginalDataset()[0]
    assert x is not None and x[-1] == 5


def test_structure_change_clears_and_rebuilds(dock, session):
    session.step_epochs(3)
    settle(session)
    dock.refresh()
    assert len(dock.curves[0].getOriginalDataset()[0]) > 0
    session.set_structure([2, 4, 4, 1])
    assert [n.split(" ")[0] for n in dock.names] == ["W1", "W2", "W3"]
    assert len(dock.curves) == 3
    x, _y = dock.curves[0].getOriginalDataset()
    assert x is None or len(x) <= 1  # at most the new run's epoch 0


def test_log_switch_and_scale(dock):
    dock.set_log_y(False)
    assert not dock.is_log_y() and not dock.log_check.isChecked()
    dock.log_check.setChecked(True)
    assert dock.is_log_y()
    dock.set_scale(2.0)
    assert dock.scale() == 2.0
    assert dock.curves[0].opts["pen"].widthF() == pytest.approx(6.0)


def _circle_with_huge_output_weight():
    from backprop_lab.engine import presets

    p = presets.load_preset("circle")
    p.network.weights[-1][0, 0] = 1e300  # the first layer's gradient norm overflows to inf
    return p


def test_overflowing_gradient_norms_open_in_the_window(qtbot, tmp_path):
    """The circle preset with one output weight of 1e300 (issue 12): the first layer's
    gradient norm is inf, the last one's finite; the window opens without an exception."""
    from PySide6 import QtCore

    from backprop_lab.controller.session import Session
    from backprop_lab.ui.main_window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.IniFormat)
    session = Session(_circle_with_huge_output_weight())
    try:
        win = MainWindow(session, settings=settings, confirm_close=False)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        dock = win.findChild(GradientDock)
        dock.refresh()
        norms = dock.latest()
        assert len(norms) == 2 and not np.isfinite(norms[0]) and np.isfinite(norms[-1])
        text = dock.readout_label.text()
        assert "inf" in text and "times" not in text  # no ratio of an overflowed norm
        win.close()
    finally:
        session.shutdown()


@pytest.mark.parametrize("first, last, expected", [
    (np.inf, 1.0, None), (1.0, np.inf, None), (np.inf, np.inf, None), (np.nan, 1.0, None),
    (0.0, 1.0, None), (1e-300, 1e300, None), (1e300, 1e-300, None),
    (1e-3, 1.0, "1000 times smaller"), (1.0, 1e-3, "1000 times larger"),
])
def test_readout_survives_any_pair_of_norms(dock, session, first, last, expected):
    h = session.history
    h.add_grad_norms(int(h.grad_epochs.view()[-1]) + 1 if len(h.grad_epochs) else 0,
                     (first, last))
    dock.refresh()  # raised ZeroDivisionError for (inf, 1.0) before
    text = dock.readout_label.text()
    if expected is None:
        assert "times" not in text
    else:
        assert expected in text
