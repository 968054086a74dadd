"""Training > Compare...: the dialog, its job on a worker thread and the loss dock's
overlaid curves, driven through the real widgets."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from backprop_lab.controller.compare_process import CompareProcess
from backprop_lab.controller.session import run_until_settled

APP = str(Path(__file__).resolve().parents[2] / "app")


def cli_train_losses(lr: str, epochs: int) -> list[float]:
    """``backprop-lab train --preset xor-tanh --set training.learning_rate=LR --json``."""
    env = dict(os.environ, PYTHONPATH=APP)
    out = subprocess.run(
        [sys.executable, "-m", "backprop_lab", "train", "--preset", "xor-tanh", "--set",
         f"training.learning_rate={lr}", "--epochs", str(epochs), "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=True)
    return json.loads(out.stdout)["train_loss"]


@pytest.fixture
def dialog(qtbot, window):
    window.session.load_preset("xor-tanh")
    assert run_until_settled(window.session)
    window.act_compare.trigger()
    dlg = window.compare_dialog
    assert dlg is not None and dlg.isVisible() and not dlg.isModal()
    yield dlg
    dlg.shutdown()
    dlg.close()
    # the worker ends at its next chunk: no thread of ours outlives the test
    assert QtCore.QThreadPool.globalInstance().waitForDone(10_000)
    assert not dlg.job.running


def run_and_wait(qtbot, dlg, values: str, epochs: int, key="training.learning_rate"):
    dlg.select_setting(key)
    dlg.values.clear()
    qtbot.keyClicks(dlg.values, values)
    dlg.epochs.setValue(epochs)
    with qtbot.waitSignal(dlg.job.finished, timeout=60_000):
        qtbot.mouseClick(dlg.run_button, QtCore.Qt.LeftButton)


def test_menu_entry_and_defaults(window):
    assert window.act_compare.shortcut().toString() == "Ctrl+Shift+C"
    training = [m for m in window.menuBar().actions() if m.text() == "&Training"][0]
    assert window.act_compare in training.menu().actions()
    dlg = window.show_compare()
    assert window.show_compare() is dlg  # one dialog per window
    assert dlg.key == "training.learning_rate"
    assert dlg.values.text() == "0.01, 0.1, 1"
    assert dlg.epochs.value() == 300
    dlg.select_setting("training.optimizer")
    assert dlg.values.text() == "sgd, momentum, adam"
    dlg.close()


def test_variants_equal_train_set_and_overlay_in_loss_dock(qtbot, window, dialog):
    # the main run has trained on: the variants still start where it started
    window.session.step_epochs(30)
    assert run_until_settled(window.session) and window.session.epoch == 30
    run_and_wait(qtbot, dialog, "0.01,0.1", 50)
    runs = dialog.job.runs
    assert [r.name for r in runs] == ["lr 0.01", "lr 0.1"]
    assert [r.variant.settings for r in runs] == [{"training.learning_rate": 0.01},
                                                  {"training.learning_rate": 0.1}]
    for r, lr in zip(runs, ("0.01", "0.1")):
        h = r.history()
        assert h.shape[0] == 51 and r.error is None
        # to the last bit: the same numbers as the command line's, not merely close
        assert h[1:, 1].tolist() == cli_train_losses(lr, 50)
    # the loss dock overlays both, with their names in the legend and their own colours
    overlays = window.loss_dock.overlays()
    assert list(overlays) == [r.name for r in runs]
    # drawn at the dock's next throttled redraw
    qtbot.waitUntil(lambda: all(c.getOriginalDataset()[1] is not None
                                and len(c.getOriginalDataset()[1]) == 51
                                for c in overlays.values()), timeout=5_000)
    for r, curve in zip(runs, overlays.values()):
        x, y = curve.getOriginalDataset()
        assert np.array_equal(y, r.history()[:, 1])
        assert np.array_equal(x, np.arange(51))
    legend = [label.text for _, label in window.loss_dock.legend.items]
    assert legend[-2:] == [r.name for r in runs]
    colours = {c.opts["pen"].color().name() for c in overlays.values()}
    assert len(colours) == 2 and not colours & {"#0072b2", "#d55e00"}
    # the table: final and lowest train loss per variant
    assert dialog.table.rowCount() == 2
    for i, r in enumerate(runs):
        y = r.history()[:, 1]
        assert dialog.table.item(i, 0).text() == r.name
        assert dialog.table.item(i, 1).text() == f"{y[-1]:.6g}"
        assert dialog.table.item(i, 2).text() == f"{y.min():.6g}"
        assert dialog.table.item(i, 3).text() == str(int(np.argmin(y)))
    assert dialog.progress.value() == dialog.progress.maximum() == 100
    # Clear comparison takes the curves and their legend entries away
    qtbot.mouseClick(dialog.clear_button, QtCore.Qt.LeftButton)
    assert window.loss_dock.overlays() == {}
    assert [label.text for _, label in window.loss_dock.legend.items] == ["train"]
    assert dialog.table.rowCount() == 0


def test_bad_values_give_one_line_and_nothing_runs(qtbot, window, dialog):
    dialog.select_setting("training.learning_rate")
    dialog.values.clear()
    qtbot.keyClicks(dialog.values, "0.1,abc")
    qtbot.mouseClick(dialog.run_button, QtCore.Qt.LeftButton)
    assert not dialog.job.running and dialog.job.runs == []
    assert "abc" in dialog.error and "\n" not in dialog.error
    assert "Traceback" not in dialog.error
    assert window.loss_dock.overlays() == {}
    dialog.values.clear()
    qtbot.keyClicks(dialog.values, "0.1,")
    qtbot.mouseClick(dialog.run_button, QtCore.Qt.LeftButton)
    assert dialog.error.startswith("--vary training.learning_rate: give the values")
    assert not dialog.job.running


def test_cancel_stops_and_leaves_no_thread(qtbot, window, dialog):
    dialog.values.setText("0.1, 0.5")
    dialog.epochs.setValue(5_000_000)
    qtbot.mouseClick(dialog.run_button, QtCore.Qt.LeftButton)
    assert dialog.job.running and not dialog.run_button.isEnabled()
    # the variants train in a process of their own: the window keeps the GIL
    proc = dialog.job._worker  # noqa: SLF001 (a test looks inside)
    assert isinstance(proc, CompareProcess) and dialog.job.backend == "process"
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30_000)
    with qtbot.waitSignal(dialog.job.cancelled, timeout=10_000):
        qtbot.mouseClick(dialog.cancel_button, QtCore.Qt.LeftButton)
    assert not dialog.job.running and dialog.run_button.isEnabled()
    assert QtCore.QThreadPool.globalInstance().waitForDone(10_000)
    assert proc._proc.state() == QtCore.QProcess.NotRunning  # noqa: SLF001 (ended, not left)
    assert all(r.epoch < 5_000_000 for r in dialog.job.runs)


def test_without_a_process_the_variants_train_on_a_thread_to_the_same_numbers(
        qtbot, monkeypatch, window, dialog):
    """A machine where no second process may start: the comparison still runs (on a
    thread of the window) and gives the same numbers."""
    from backprop_lab.controller import clients

    monkeypatch.setattr(clients, "server_command",
                        lambda flag: ("/nonexistent/backprop-lab", [flag], {}))
    run_and_wait(qtbot, dialog, "0.1,0.5", 40)
    assert dialog.job.backend == "thread"
    for r, lr in zip(dialog.job.runs, ("0.1", "0.5")):
        assert r.error is None and r.history()[1:, 1].tolist() == cli_train_losses(lr, 40)


def test_promote_makes_the_variant_the_main_run(qtbot, window, dialog):
    """Promote takes the variant's settings, its trained weights (epoch 50 here) and its
    history; Reset then goes back to the comparison's common start."""
    s = window.session
    start = s.initial_params
    run_and_wait(qtbot, dialog, "0.01,0.1", 50)
    run = dialog.job.runs[1]
    dialog.table.selectRow(1)
    assert dialog.promote_button.isEnabled()
    qtbot.mouseClick(dialog.promote_button, QtCore.Qt.LeftButton)
    assert run_until_settled(s)
    assert s.config.learning_rate == 0.1
    assert s.epoch == 50
    assert np.array_equal(s.params, run.state.params)
    assert np.array_equal(s.initial_params, start)
    assert np.array_equal(s.history.train_loss.view()[:51], run.history()[:, 1])
    assert s.dirty


def test_export_csv(qtbot, tmp_path, window, dialog):
    run_and_wait(qtbot, dialog, "0.01,0.1", 20)
    path = dialog.export_csv(tmp_path / "cmp.csv")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["epoch", "lr 0.01: train_loss", "lr 0.01: test_loss"]
    assert len(rows) == 22
    assert float(rows[-1][1]) == dialog.job.runs[0].history()[-1, 1]


# -- the comparison saved in the project file -----------------------------------------------
def cli_compare(project: Path) -> dict:
    """``backprop-lab compare --project F --json``: the runs the file saved."""
    env = dict(os.environ, PYTHONPATH=APP)
    out = subprocess.run([sys.executable, "-m", "backprop_lab", "compare", "--project",
                          str(project), "--json"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def second_window(qtbot, tmp_path, name="settings.ini"):
    from backprop_lab.controller.session import Session
    from backprop_lab.ui.main_window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / name), QtCore.QSettings.IniFormat)
    w = MainWindow(Session(), settings=settings, confirm_close=False)
    qtbot.addWidget(w)
    w.show()
    return w


def close_window(qtbot, w):
    from tests.conftest import end_session

    if w.compare_dialog is not None:
        w.compare_dialog.shutdown()
    w.close()
    end_session(qtbot, w.session)
    assert QtCore.QThreadPool.globalInstance().waitForDone(10_000)


def test_a_comparison_is_saved_and_replays_to_the_same_numbers(qtbot, tmp_path, window,
                                                               dialog):
    s = window.session
    # the main run trains on before and after: the saved file holds other weights than
    # the comparison's start, which it carries
    s.step_epochs(20)
    assert run_until_settled(s)
    s.save_project(tmp_path / "before.json")
    assert not s.dirty
    run_and_wait(qtbot, dialog, "0.01, 0.1, 1", 40)
    assert s.dirty  # a comparison is the user's work
    first = {r.name: r.history()[:, 1].copy() for r in dialog.job.runs}
    s.step_epochs(5)
    assert run_until_settled(s)
    path = tmp_path / "cmp.json"
    assert window.files.save_to(path)
    saved = json.loads(path.read_text())["comparison"]
    assert saved["epochs"] == 40
    assert saved["runs"] == [{"name": f"lr {v}", "set": {"training.learning_rate": float(v)}}
                             for v in ("0.01", "0.1", "1")]
    assert "start" in saved  # the main run's weights moved on: the start is kept

    other = second_window(qtbot, tmp_path, "other.ini")
    try:
        assert other.open_path(path)
        assert other.session.comparison["epochs"] == 40 and not other.session.dirty
        dlg = other.show_compare()
        assert dlg.key == "training.learning_rate"
        assert dlg.values.text() == "0.01, 0.1, 1"
        assert dlg.epochs.value() == 40
        assert dlg.replays_saved and dlg.saved_label.isVisible()
        assert "Run replays it" in dlg.saved_label.text()
        with qtbot.waitSignal(dlg.job.finished, timeout=60_000):
            qtbot.mouseClick(dlg.run_button, QtCore.Qt.LeftButton)
        again = {r.name: r.history()[:, 1] for r in dlg.job.runs}
        assert list(again) == list(first)
        for name in first:  # bit for bit
            assert again[name].tobytes() == first[name].tobytes(), name
        # the command line replays the file's runs to the same numbers
        cli = cli_compare(path)
        assert cli["epochs"] == 40
        assert [v["name"] for v in cli["variants"]] == list(first)
        for v in cli["variants"]:
            assert v["train_loss"] == first[v["name"]][1:].tolist()
    finally:
        close_window(qtbot, other)


def test_a_broken_saved_comparison_gives_one_message_and_the_network_loads(
        qtbot, tmp_path, window):
    s = window.session
    s.load_preset("xor-tanh")
    s.step_epochs(7)
    assert run_until_settled(s)
    path = tmp_path / "p.json"
    s.save_project(path)
    d = json.loads(path.read_text())
    weights = d["network"]["weights"]
    for broken, needle in [
            ({"epochs": 50, "runs": [{"set": {"training.learning_rate": 0.1}},
                                     {"set": {"training.lr": 1}}]},
             "comparison.runs[1].set: unknown key 'training.lr'"),
            ({"epochs": 50, "runs": [{"name": "odd", "set": {"training.learning_rate": -1}}]},
             "comparison.runs[0]: odd: training.learning_rate must be a positive number"),
            ({"epochs": 0, "runs": [{"set": {}}]}, "comparison.epochs must be a whole number"),
            ({"epochs": 5, "runs": [{"set": {}}], "start": {"weights": [], "biases": []}},
             "comparison.start.weights must hold 2 matrices")]:
        d["comparison"] = broken
        path.write_text(json.dumps(d))
        s.load_preset("spiral")
        assert window.open_path(path)
        box = window.findChild(QtWidgets.QMessageBox, "problem_box")
        assert box is not None and box.isVisible()
        text = box.text()
        box.close()
        box.deleteLater()
        assert needle in text and "p.json" in text and "left out" in text
        assert "\n" not in text
        # the rest of the project is there: the network with its weights
        assert s.layers == [2, 3, 1] and s.comparison is None
        assert np.array_equal(s.network.weights[0], np.array(weights[0]))
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.DeferredDelete)
        # the command line names the same problem in one line, exit 2
        env = dict(os.environ, PYTHONPATH=APP)
        out = subprocess.run([sys.executable, "-m", "backprop_lab", "compare", "--project",
                              str(path)], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 2 and needle in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1


def test_the_dialog_remembers_its_last_setting_between_runs_of_the_app(qtbot, tmp_path):
    """Two windows one after the other on the same settings file (as the app on the
    user's QSettings): the second opens the dialog as the first last ran it; a project
    with a saved comparison fills in that comparison instead."""
    first = second_window(qtbot, tmp_path)
    try:
        first.session.load_preset("xor-tanh")
        dlg = first.show_compare()
        assert (dlg.key, dlg.values.text(), dlg.epochs.value()) == \
            ("training.learning_rate", "0.01, 0.1, 1", 300)  # nothing remembered yet
        run_and_wait(qtbot, dlg, "sgd, adam", 12, key="training.optimizer")
        assert dlg.key == "training.optimizer"
        first.session.save_project(tmp_path / "saved.json")
    finally:
        close_window(qtbot, first)
    again = second_window(qtbot, tmp_path)
    try:
        dlg = again.show_compare()
        assert (dlg.key, dlg.values.text(), dlg.epochs.value()) == \
            ("training.optimizer", "sgd, adam", 12)
        assert not dlg.replays_saved and not dlg.saved_label.isVisible()
        # typed and run: remembered again (the last one wins)
        run_and_wait(qtbot, dlg, "0.5, 0.05", 7)
    finally:
        close_window(qtbot, again)
    third = second_window(qtbot, tmp_path)
    try:
        dlg = third.show_compare()
        assert (dlg.key, dlg.values.text(), dlg.epochs.value()) == \
            ("training.learning_rate", "0.5, 0.05", 7)
        # a project carrying a comparison fills in its own
        assert third.open_path(tmp_path / "saved.json")
        assert (dlg.key, dlg.values.text(), dlg.epochs.value()) == \
            ("training.optimizer", "sgd, adam", 12)
        assert dlg.replays_saved
    finally:
        close_window(qtbot, third)
    # a window opened on that project file starts with the file's comparison
    from backprop_lab.controller.session import Session
    from backprop_lab.engine.project import load
    from backprop_lab.ui.main_window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.IniFormat)
    path = tmp_path / "saved.json"
    w = MainWindow(Session(load(path), path=path), settings=settings, confirm_close=False)
    qtbot.addWidget(w)
    try:
        dlg = w.show_compare()
        assert (dlg.key, dlg.epochs.value()) == ("training.optimizer", 12)
        assert dlg.replays_saved
    finally:
        close_window(qtbot, w)


def test_the_diverged_variant_stops_and_the_table_says_so(qtbot, window, dialog):
    """lr 0.01, 0.1 and 1 on xor-tanh, 300 epochs: lr 1's loss passes its bound
    (1.5e10) in epoch 113; its curve stops there and its row says diverged."""
    run_and_wait(qtbot, dialog, "0.01, 0.1, 1", 300)
    runs = dialog.job.runs
    assert [r.name for r in runs] == ["lr 0.01", "lr 0.1", "lr 1"]
    assert [r.error is None for r in runs] == [True, True, False]
    assert "Training diverged in epoch 113: the loss reached" in runs[2].error
    assert runs[2].epoch == 112 and len(runs[2].history()) == 113  # epochs 0 to 112
    assert len(runs[0].history()) == len(runs[1].history()) == 301
    assert [dialog.table.item(i, 0).text() for i in range(3)] == \
        ["lr 0.01", "lr 0.1", "lr 1  (diverged)"]
    curve = window.loss_dock.overlays()["lr 1"]
    qtbot.waitUntil(lambda: curve.getOriginalDataset()[1] is not None
                    and len(curve.getOriginalDataset()[1]) == 113, timeout=5_000)
    assert np.isfinite(curve.getOriginalDataset()[1]).all()
    assert curve.getOriginalDataset()[1].max() < 1.5e10


def test_side_by_side_shows_the_selected_variant_on_the_right(qtbot, window, dialog):
    assert not dialog.side_button.isEnabled()  # nothing to show yet
    run_and_wait(qtbot, dialog, "0.1,0.5", 30)
    assert dialog.side_button.isEnabled()
    dialog.table.selectRow(1)
    qtbot.mouseClick(dialog.side_button, QtCore.Qt.LeftButton)
    view = window.run_view
    assert view is not None and view.isVisible()
    run = dialog.job.runs[1]
    shown = view.shown(view.right.key())
    assert shown.name == run.name and view.right.isVisible()
    assert shown.network.params.tobytes() == run.state.params.tobytes()
    view.close()
