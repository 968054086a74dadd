"""The loss dock: curves from the session's history, readout, log scale, export."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6 import QtCore, QtGui  # noqa: E402
from tests.helpers import settle

from backprop_lab.controller.session import Session  # noqa: E402
from backprop_lab.engine.data import DataSpec  # noqa: E402
from backprop_lab.ui.docks.loss_dock import LINE_WIDTH, LossDock  # noqa: E402


@pytest.fixture
def session(qtbot):
    s = Session()  # the article preset: no test set, classification
    yield s
    s.shutdown()  # always: a running QThread at exit aborts the whole run


@pytest.fixture
def dock(qtbot, session):
    d = LossDock(session)
    qtbot.addWidget(d)
    d.resize(900, 420)
    d.show()
    qtbot.waitExposed(d)
    return d


def curve_points(curve) -> int:
    x, _ = curve.getOriginalDataset()
    return 0 if x is None else len(x)


def train(qtbot, session, dock, n: int) -> None:
    before = len(session.history)
    session.step_epochs(n)
    settle(session)
    qtbot.waitUntil(lambda: curve_points(dock.train_curve) == before + n, timeout=3000)


def test_identity(dock):
    assert dock.objectName() == "loss_dock"
    assert dock.windowTitle() == "Loss"


def test_train_curve_shows_the_history(qtbot, session, dock):
    # before any training the history holds epoch 0: the article's start, every weight 1,
    # outputs 4, 6, 6, 8 for targets 0, 1, 1, 0 -> mean of half squared errors 23.5
    x, y = dock.train_curve.getOriginalDataset()
    np.testing.assert_array_equal(x, [0])
    assert y[0] == 23.5
    assert "epoch 0" in dock.readout_label.text() and "23.5" in dock.readout_label.text()
    train(qtbot, session, dock, 5)
    x, y = dock.train_curve.getOriginalDataset()
    np.testing.assert_array_equal(x, [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(y, session.history.train_loss.view())
    # the article's first epoch: every weight 1, lr 0.1, batch mse -> loss 1.3150531...
    assert y[0] == 23.5 and y[1] == pytest.approx(1.315053125)
    assert all(np.diff(y) < 0)
    # epoch 0 is part of the data, so the auto-ranged x axis starts at (or before) it
    dock.plot_widget.scene().prepareForPaint()
    x_lo, x_hi = dock.loss_plot.getViewBox().viewRange()[0]
    assert x_lo <= 0 < 5 <= x_hi
    # the curve reads the history's buffer itself: no copy per redraw
    assert np.shares_memory(y, session.history.train_loss.view())
    assert curve_points(dock.test_curve) == 0  # the article has no test set
    qtbot.waitUntil(lambda: "epoch 5" in dock.readout_label.text(), timeout=2000)


def test_history_changes_are_coalesced(qtbot, session, dock):
    train(qtbot, session, dock, 3)
    redraws = []
    dock.train_curve.sigPlotChanged.connect(lambda *_: redraws.append(1))
    for _ in range(50):
        session.history_changed.emit()
    assert redraws == []  # nothing drawn synchronously
    qtbot.wait(150)
    assert len(redraws) == 1


def test_test_curve_and_accuracy_with_a_test_set(qtbot, session, dock):
    session.load_preset("spiral")  # 20 % test set
    train(qtbot, session, dock, 3)
    qtbot.waitUntil(lambda: curve_points(dock.test_curve) == 4, timeout=2000)
    x, y = dock.test_curve.getOriginalDataset()
    np.testing.assert_array_equal(x, [0, 1, 2, 3])  # epoch 0: before training
    np.testing.assert_array_equal(y, session.history.test_loss.view())
    assert dock.test_curve.isVisible()
    assert [label.text for _, label in dock.legend.items] == ["train", "test"]
    assert dock.accuracy_plot.isVisible()
    # accuracy is recorded every epoch, epoch 0 included
    h, snap = session.history, session.snapshot
    for curve, values, newest in ((dock.train_accuracy_curve, h.train_accuracy,
                                   snap.train_accuracy),
                                  (dock.test_accuracy_curve, h.test_accuracy,
                                   snap.test_accuracy)):
        x, y = curve.getOriginalDataset()
        np.testing.assert_array_equal(x, [0, 1, 2, 3])
        np.testing.assert_array_equal(y, values.view())
        assert y[-1] == newest  # the last row is the weights the snapshot shows


def test_regression_hides_the_accuracy_plot(qtbot, session, dock):
    assert dock.accuracy_plot.isVisible()
    session.set_data(DataSpec(dataset="plane", samples=50))
    assert not dock.accuracy_plot.isVisible()


def test_clears_when_the_history_is_cleared(qtbot, session, dock):
    train(qtbot, session, dock, 4)
    session.reset()
    # at once, no timer: only the new run's epoch-0 row (measured by the session itself)
    assert curve_points(dock.train_curve) == 1
    session.step_epochs(2)
    settle(session)
    # the new run starts again with its epoch-0 row
    qtbot.waitUntil(lambda: curve_points(dock.train_curve) == 3, timeout=2000)
    x, y = dock.train_curve.getOriginalDataset()
    np.testing.assert_array_equal(x, [0, 1, 2])
    assert y[0] == 23.5 and y[1] == pytest.approx(1.315053125)
    session.load_preset("xor-tanh")
    # a fresh preset: only its epoch 0 (mean loss 0.573 before training)
    qtbot.waitUntil(lambda: curve_points(dock.train_curve) == 1, timeout=2000)
    x, y = dock.train_curve.getOriginalDataset()
    assert list(x) == [0] and f"{y[0]:.3f}" == "0.573"


def test_log_toggle(qtbot, session, dock):
    train(qtbot, session, dock, 5)
    assert not dock.is_log_y()
    qtbot.mouseClick(dock.log_check, QtCore.Qt.LeftButton)
    assert dock.log_check.isChecked()
    assert dock.is_log_y()
    assert dock.train_curve.opts["logMode"] == [False, True]
    assert dock.accuracy_plot.ctrl.logYCheck.isChecked() is False  # accuracy stays linear
    dock.set_log_y(False)
    assert not dock.log_check.isChecked()
    assert dock.train_curve.opts["logMode"] == [False, False]


def test_export_csv(qtbot, session, dock, tmp_path):
    train(qtbot, session, dock, 5)
    path = dock.export_csv(tmp_path / "loss.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "epoch,train_loss,test_loss"
    assert len(lines) == 7
    assert lines[1] == "0,23.5,"  # epoch 0: the loss before training
    rows = [line.split(",") for line in lines[1:]]
    assert [int(r[0]) for r in rows] == [0, 1, 2, 3, 4, 5]
    assert [float(r[1]) for r in rows] == session.history.train_loss.view().tolist()
    assert all(r[2] == "" for r in rows)  # no test set
    assert not [p for p in tmp_path.iterdir() if p.name != "loss.csv"]  # no temp left


def test_export_csv_with_a_test_set(qtbot, session, dock, tmp_path):
    session.load_preset("spiral")
    train(qtbot, session, dock, 2)
    lines = dock.export_csv(tmp_path / "l.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1", "2"]
    assert [float(line.split(",")[2]) for line in lines[1:]] == \
        session.history.test_loss.view().tolist()


def test_export_png(qtbot, session, dock, tmp_path):
    train(qtbot, session, dock, 5)
    path = dock.export_png(tmp_path / "loss.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QtGui.QImage(str(path))
    assert not image.isNull()
    assert image.width() == dock.plot_widget.width()


def test_hover_readout_after_a_mouse_move(qtbot, session, dock):
    train(qtbot, session, dock, 5)
    dock.plot_widget.scene().prepareForPaint()  # apply the auto-range
    vb = dock.loss_plot.getViewBox()
    y_mid = float(np.mean(vb.viewRange()[1]))
    scene_pos = vb.mapViewToScene(QtCore.QPointF(3.1, y_mid))
    view_pos = dock.plot_widget.mapFromScene(scene_pos)
    qtbot.mouseMove(dock.plot_widget.viewport(), view_pos)
    text = dock.readout_label.text()
    assert "epoch 3" in text
    assert session.history.epochs.view()[3] == 3  # row 0 is epoch 0
    assert f"{session.history.train_loss.view()[3]:.4g}" in text
    assert dock._markers[0].isVisible() and dock._markers[0].value() == 3


def test_readout_picks_the_nearest_epoch(qtbot, session, dock):
    train(qtbot, session, dock, 5)
    assert "epoch 3" in dock.readout_at(2.6)
    assert "epoch 2" in dock.readout_at(2.4)
    assert "epoch 5" in dock.readout_at(1e9)
    assert "epoch 0" in dock.readout_at(-10)
    assert "train loss 23.5<" in dock.readout_at(0.4)
    assert "epoch 1" in dock.readout_at(0.6)
    # every epoch has its own accuracy (the article's network: 2 of 4 right at epoch 4)
    text = dock.readout_at(4)
    acc = session.history.train_accuracy.view()
    assert len(acc) == 6 and acc[4] == 0.5
    assert "accuracy 50%" in text and "at epoch" not in text


def test_set_scale_thickens_lines(dock):
    dock.set_scale(2.0)
    assert dock.train_curve.opts["pen"].widthF() == pytest.approx(2 * LINE_WIDTH)
    assert dock.loss_plot.getAxis("left").style["tickFont"].pointSizeF() > 0
    dock.set_scale(1.0)
    assert dock.train_curve.opts["pen"].widthF() == pytest.approx(LINE_WIDTH)
