"""The command line, run as a user runs it: a subprocess, stdout, stderr, exit code."""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "app"), QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "backprop_lab", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def test_step_json_is_the_article_corrected():
    r = run("step", "--preset", "article-xor", "--sample", "0", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["forward"]["Z1"] == {"a": 1.0, "z": 1.0}
    assert out["forward"]["D0"] == {"a": 4.0, "z": 4.0}
    assert out["loss"] == 8.0
    assert out["deltas"] == {"D0": 4.0, "Z1": 4.0, "Z2": 4.0, "Z3": 4.0}
    assert out["gradients"]["W10"] == 4.0 and out["gradients"]["W11"] == 0.0
    upd = out["updated"]
    for w in ("W10", "W20", "W30", "V00", "V01", "V02", "V03"):
        assert upd[w] == pytest.approx(0.6, abs=1e-15)
    for w in ("W11", "W12", "W21", "W22", "W31", "W32"):
        assert upd[w] == 1.0


def test_step_text_reads_like_the_article():
    r = run("step", "--preset", "article-xor", "--sample", "0")
    assert r.returncode == 0
    assert "a_Z1 = W10*X0 + W11*X1 + W12*X2 = 1*1 + 1*0 + 1*0 = 1" in r.stdout
    assert "delta_Z1 = V01 * delta_D0 * f'(a_Z1) = 1 * 4 * 1 = 4" in r.stdout
    assert "W10 := W10 - alpha * X0 * delta_Z1 = 1 - 0.1 * 1 * 4 = 0.6" in r.stdout


def test_train_json(tmp_path):
    save = tmp_path / "trained.json"
    r = run("train", "--preset", "article-xor", "--epochs", "3", "--json", "--save", str(save))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["epochs"] == 3
    assert out["train_loss"][0] == pytest.approx(1.315053125, rel=1e-12)
    assert out["train_loss"][1] == pytest.approx(0.45785954, rel=1e-7)
    assert out["project"]["format"] == "backprop-lab"
    assert json.loads(save.read_text())["network"] == out["project"]["network"]


def test_train_reports_test_loss_and_overrides():
    r = run("train", "--preset", "circle", "--epochs", "4", "--json",
            "--set", "training.learning_rate=0.05", "--set", "network.layers=[2,6,1]")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["test_loss"]) == 4
    assert out["project"]["training"]["learning_rate"] == 0.05
    assert out["project"]["network"]["layers"] == [2, 6, 1]


def test_train_text_summary():
    r = run("train", "--preset", "xor-tanh", "--epochs", "50")
    assert r.returncode == 0
    assert "trained 50 epochs" in r.stdout and "train loss" in r.stdout


def test_presets_lists_every_preset():
    r = run("presets")
    assert r.returncode == 0
    names = [line.split()[0] for line in r.stdout.splitlines()]
    assert names[0] == "article-xor" and "spiral" in names


@pytest.mark.parametrize("args, message", [
    (["train", "--project", "missing.json"], "missing.json: no such file"),
    (["train", "--preset", "nope"], "unknown preset 'nope'"),
    (["train", "--preset", "article-xor", "--set", "training.learning_rate=0"],
     "training.learning_rate"),
    (["train", "--preset", "article-xor", "--set", "network.hidden_activation=swish"], "swish"),
    (["train", "--preset", "article-xor", "--set", "training.loss=hinge"], "hinge"),
    (["train", "--preset", "article-xor", "--set", "wat.x=1"], "unknown key 'wat.x'"),
    (["train", "--preset", "article-xor", "--epochs", "-1"], "--epochs"),
    (["step", "--preset", "article-xor", "--sample", "9"], "out of range"),
    (["train"], "required"),
    (["train", "--preset", "xor-tanh", "--set", "network.output_activation=softmax"],
     "softmax needs at least 2 outputs; with one output use sigmoid"),
    (["train", "--preset", "circle", "--set", "data.dataset=plane"],
     "loss 'bce' needs targets from 0 to 1"),
    (["train", "--preset", "article-xor", "--set", "initialization.value=abc"],
     "initialization.value must be a finite number, not 'abc'"),
    (["train", "--preset", "article-xor", "--set", "initialization.seed=1.5"],
     "initialization.seed must be a whole number >= 0, not 1.5"),
    (["train", "--preset", "article-xor", "--set", "initialization.seed=1e30"],
     "initialization.seed must be a whole number >= 0"),
    (["train", "--preset", "article-xor", "--set", "initialization.seed=-1"],
     "initialization.seed must be a whole number >= 0, not -1"),
    (["train", "--preset", "article-xor", "--set", "initialization.seed=true"],
     "initialization.seed must be a whole number >= 0"),
    (["train", "--preset", "article-xor", "--set", "initialization.seed=" + "9" * 400],
     "initialization.seed must be below 2**63"),
    (["train", "--preset", "article-xor", "--set", "training.learning_rate=" + "9" * 400],
     "training.learning_rate is too large"),
    (["train", "--preset", "article-xor", "--set", "data.noise=0.2"],
     "data.noise applies to a generated dataset; this project has inline data "
     "(set data.dataset=circle first)"),
    (["train", "--preset", "article-xor", "--set", "data.samples=50"],
     "data.samples applies to a generated dataset"),
    (["train", "--preset", "xor-tanh", "--set", "data.noise=0.2"],
     "data.noise applies to a generated dataset"),
    (["train", "--preset", "circle", "--set", "network.layers=[100000000,3,1]"],
     "network.layers[0]: at most 1024 inputs, not 100000000"),
    (["train", "--preset", "circle", "--set", "network.layers=[2,3,1000000000000]"],
     "network.layers[2]: at most 128 outputs"),
    (["train", "--preset", "xor-tanh", "--set", "network.hidden_activation=true"],
     "network.hidden_activation must be an activation name or a list of names"),
    (["train", "--preset", "xor-tanh", "--set", "training.mode=" + "m" * 5125],
     "unknown training.mode 'mmmmmmmmmmmmmmmmmmm...mmmmmmmmmmmmmmmmmmm'"),
    (["train", "--preset", "xor-tanh", "--set", "training.learning_rate=" + "9" * 5000],
     "--set training.learning_rate: the number is too large"),
    (["train", "--preset", "article-xor", "--set", "data.inputs=[[0,0],[0,1e300],[1,0],[1,1]]",
      "--set", "data.normalize=true"],
     "data.inputs[1][1] is 1e+300: too large for training"),
    (["train", "--preset", "circle", "--set", "data.noise=1e300"],
     "holds values up to"),
    (["train", "--preset", "xor-tanh", "--save", ""], "--save: no file name given"),
    (["train", "--preset", "xor-tanh", "--save", "/dev/null"],
     "--save: /dev/null: is not a regular file"),
    (["train", "--preset", "xor-tanh", "--save", "."], "--save: .: is a folder, not a file"),
    (["train", "--preset", "xor-tanh", "--save", "no/such/folder.json"],
     "the folder no/such does not exist"),
    (["train", "--project", "/dev/zero"], "/dev/zero: not a regular file"),
    (["step", "--project", "/dev/zero"], "/dev/zero: not a regular file"),
    (["train", "--project", "."], ".: a folder, not a file"),
])
def test_bad_input_is_one_line_exit_2(args, message, tmp_path):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert message in lines[0]
    assert "Traceback" not in r.stderr and "learning rate" not in r.stderr
    assert len(lines[0]) < 300
    assert r.stdout == ""  # refused before training
    assert list(tmp_path.iterdir()) == []  # no file written


def test_bad_project_files(tmp_path):
    f = tmp_path / "p.json"
    f.write_text('{"format": "backprop-lab", "version": 1, "network": {"layers": [2, 3, 1], '
                 '"weights": [[[1, 1]]], "biases": [[1], [1]]}}')
    r = run("train", "--project", str(f))
    assert r.returncode == 2 and "network.weights" in r.stderr
    f.write_text('{"format": "backprop-lab", "version": 1, "network": {"layers": [2, 3, 1]}, '
                 '"data": {"inputs": [[0, 0], [1, NaN]], "targets": [[0], [1]]}}')
    r = run("train", "--project", str(f))
    assert r.returncode == 2 and "NaN" in r.stderr and len(r.stderr.splitlines()) == 1


def test_divergence_is_reported_not_saved(tmp_path):
    save = tmp_path / "out.json"
    r = run("train", "--preset", "article-xor", "--set", "training.learning_rate=900",
            "--epochs", "50", "--save", str(save))
    assert r.returncode == 1
    assert "diverged in epoch" in r.stderr
    assert not save.exists()


def test_setting_a_dataset_replaces_inline_data():
    r = run("train", "--preset", "article-xor", "--epochs", "2", "--json",
            "--set", "data.dataset=circle", "--set", "data.noise=0.1",
            "--set", "data.samples=40")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)["project"]["data"]
    assert data["dataset"] == "circle" and data["noise"] == 0.1 and data["samples"] == 40
    assert "inputs" not in data and "targets" not in data


def test_hostile_project_files_are_one_line(tmp_path):
    f = tmp_path / "p.json"
    for text in ('{"format":"backprop-lab","version":1,"network":{"layers":[2,1],'
                 '"weights":[[[' + "9" * 400 + ',1]]],"biases":[[0]]}}',
                 "[" * 100000 + "]" * 100000,
                 '{"format":"backprop-lab","version":1,"network":{"layers":[2,1]},'
                 '"initialization":{"method":"uniform","seed":1.5}}'):
        f.write_text(text)
        r = run("train", "--project", str(f))
        assert r.returncode == 2, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
        assert "p.json: " in r.stderr


# -- saving and loading odd paths -------------------------------------------------------------
def test_save_refuses_a_fifo_and_never_replaces_a_device(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for target in (fifo, "/dev/null"):
        r = run("train", "--preset", "xor-tanh", "--epochs", "1", "--save", str(target))
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.count("\n") == 1 and "is not a regular file" in r.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_save_keeps_mode_and_writes_through_a_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("{}")
    os.chmod(real, 0o644)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    r = run("train", "--preset", "xor-tanh", "--epochs", "2", "--save", str(link))
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.stat(real).st_mode & 0o777 == 0o644
    assert json.loads(real.read_text())["format"] == "backprop-lab"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_a_fifo_project_does_not_block(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    r = run("train", "--project", str(fifo))  # run() times out after 120 s
    assert r.returncode == 2 and "not a regular file" in r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_a_project_over_the_size_limit_is_refused_unread(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(32 * 1024 * 1024 + 1)  # sparse
    r = run("train", "--project", str(big))
    assert r.returncode == 2 and "big.json: too large (32.0 MB; at most 32.0 MB)" in r.stderr


def _unprivileged() -> list[str]:
    """A command prefix that makes file permissions apply (root ignores them)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv"):
        return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]
    pytest.skip("running as root without setpriv: permissions cannot be tested")


def test_a_read_only_folder_or_file_is_named(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    locked = tmp_path / "locked.json"
    locked.write_text("keep")
    os.chmod(locked, 0o444)
    os.chmod(ro, 0o555)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "app"), QT_QPA_PLATFORM="offscreen")
    try:
        for target, message in ((ro / "p.json", f"the folder {ro} is not writable "
                                                "(permission denied)"),
                                (locked, "locked.json: is read-only")):
            r = subprocess.run([*_unprivileged(), sys.executable, "-m", "backprop_lab", "train",
                                "--preset", "xor-tanh", "--save", str(target)],
                               capture_output=True, text=True, env=env, timeout=120)
            assert r.returncode == 2 and message in r.stderr, r.stderr
            assert len(r.stderr.splitlines()) == 1
    finally:
        os.chmod(ro, 0o755)
    assert locked.read_text() == "keep"


# -- output: valid JSON, a quiet stderr -----------------------------------------------------------
def _strict_json(text: str):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_train_json_writes_null_for_an_infinite_loss(tmp_path):
    """Weights of 1e60 see a test input of 1e100: the test loss overflows to inf while the
    training loss stays 0. Before, stdout held ``Infinity`` (not JSON)."""
    f = tmp_path / "p.json"
    f.write_text(json.dumps({
        "format": "backprop-lab", "version": 1,
        "network": {"layers": [1, 1], "output_activation": "identity",
                    "weights": [[[1e60]]], "biases": [[0]]},
        "data": {"inputs": [[0], [0], [0], [1e100]], "targets": [[0], [0], [0], [0]],
                 "test_fraction": 0.25}}))
    r = run("train", "--project", str(f), "--epochs", "3", "--json")
    assert r.returncode == 0 and r.stderr == ""
    out = _strict_json(r.stdout)
    assert out["train_loss"] == [0.0, 0.0, 0.0] and out["test_loss"] == [None, None, None]
    r = run("step", "--project", str(f), "--json")
    assert r.returncode == 0 and r.stderr == ""
    _strict_json(r.stdout)


def test_huge_weights_are_reported_not_trained_silently(tmp_path):
    """The circle preset with Adam and every weight near 1e300: the updates are lost to
    rounding; before, training went on with a constant loss and said nothing."""
    from backprop_lab.engine import presets
    from backprop_lab.engine.project import save

    p = presets.load_preset("circle")
    p.network.params[:] = np.where(p.network.params >= 0, 1e300, -1e300)
    p.training = p.training.with_(optimizer="adam")
    f = tmp_path / "huge.json"
    save(p, f)
    r = run("train", "--project", str(f), "--epochs", "20", "--json")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1
    assert "diverged in epoch 1: the weights are too large to train (up to 1e+300" in r.stderr
    assert "re-initialise the weights" in r.stderr and "learning rate" not in r.stderr


# -- CSV data and metrics ------------------------------------------------------------------
def test_train_on_a_csv_file_and_export_the_data(tmp_path):
    src = tmp_path / "points.csv"
    src.write_text("a,b,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    out = tmp_path / "out.csv"
    r = run("train", "--preset", "xor-tanh", "--csv", str(src), "--targets", "label",
            "--epochs", "300", "--json", "--export-csv", str(out))
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["metrics"]["train"]["accuracy"] == 1.0
    assert d["project"]["network"]["layers"] == [2, 3, 1]
    assert out.read_text().splitlines()[0] == "a,b,label"
    again = run("train", "--preset", "xor-tanh", "--csv", str(out), "--targets", "label",
                "--epochs", "300", "--json")
    assert json.loads(again.stdout)["train_loss"] == d["train_loss"]  # the same points


def test_a_bad_csv_row_names_its_line_and_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n0,0,0\n0,x,1\n")
    r = run("train", "--preset", "xor-tanh", "--csv", str(bad))
    assert r.returncode == 2
    assert r.stderr.strip() == "backprop-lab: error: bad.csv, line 3, column 'b': 'x' is " \
        "not a number"
    r = run("train", "--preset", "xor-tanh", "--targets", "label")
    assert r.returncode == 2 and "--targets goes with --csv" in r.stderr


def test_metrics_in_the_json_for_every_kind_of_task():
    cls = json.loads(run("train", "--preset", "three-class", "--epochs", "30",
                         "--json").stdout)["metrics"]
    assert cls["train"]["task"] == "classification" and len(cls["train"]["confusion"]) == 3
    assert sum(map(sum, cls["test"]["confusion"])) == cls["test"]["samples"]
    reg = json.loads(run("train", "--preset", "regression", "--epochs", "5",
                         "--json").stdout)["metrics"]
    assert set(reg["train"]) >= {"r2", "rmse"} and "accuracy" not in reg["train"]
    text = run("train", "--preset", "regression", "--epochs", "5").stdout
    assert "train: " in text and "r2 " in text and "rmse " in text

# -- screenshots of the stage: a lesson at a step ---------------------------------------------
def _steps(name):
    from backprop_lab.runs.lessons import lessons_dir, load_lesson

    return len(load_lesson(lessons_dir() / f"{name}.json").steps)


ARTICLE_STEPS = _steps("01-article-xor")


@pytest.mark.parametrize("args, message", [
    (["--lesson", "9"], "--lesson '9': no such lesson (choose from 01-article-xor"),
    (["--lesson", "nope"], "or a number from 1 to 4"),
    (["--lesson", "1", "--step", "0"], f"--step 0 is out of range: lesson 01-article-xor "
     f"has {ARTICLE_STEPS} steps (1 to {ARTICLE_STEPS})"),
    (["--lesson", "02-learning-rate", "--step", "99"], "lesson 02-learning-rate has"),
    (["--lesson", "1", "--step", "two"], "argument --step: invalid int value: 'two'"),
    (["--step", "2"], "--step needs --lesson"),
    (["--lesson", "1", "--preset", "spiral"], "leave out --preset and --project"),
    (["--lesson", "1", "--epochs", "5"], "--epochs does not apply to a lesson step"),
    (["--lesson", "1", "--theme", "purple"], "invalid choice: 'purple'"),
])
def test_bad_lesson_screenshots_are_one_line_exit_2(args, message, tmp_path):
    out = tmp_path / "shot.png"
    r = run("--screenshot", str(out), "--size", "1280x720", *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert not out.exists()


def _image(path):
    from PySide6 import QtGui

    img = QtGui.QImage(str(path))
    assert not img.isNull()
    return img


@pytest.mark.parametrize("lesson, extra", [
    ("1", ["--presentation", "--theme", "dark"]),
    ("03-batch-vs-stochastic", []),
])
def test_a_lesson_step_screenshot_is_written_at_its_size(lesson, extra, tmp_path):
    out = tmp_path / "stage.png"
    r = run("--screenshot", str(out), "--lesson", lesson, "--step", "3", "--size", "1280x720",
            *extra)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"saved {out}"
    img = _image(out)
    assert (img.width(), img.height()) == (1280, 720)
    colours = {img.pixel(x, y) for x in range(0, 1280, 32) for y in range(0, 720, 32)}
    assert len(colours) > 5
    if "dark" in extra:  # the canvas, left of the lesson, is in the dark theme
        from PySide6 import QtGui

        dark = sum(QtGui.QColor(img.pixel(x, y)).lightness() < 60
                   for x in range(20, 600, 20) for y in range(150, 420, 20))
        assert dark > 200


def test_prepare_screenshot_shows_the_step_asked_for(window):
    """What --screenshot --lesson 1 --step 7 grabs: step 7 (index 6), with its update
    taken (the header counts it) and the loss node on the canvas."""
    from backprop_lab.ui.app import prepare_screenshot

    assert prepare_screenshot(window, lesson="01-article-xor", step=7, theme="dark") is None
    player = window.lesson_player
    assert player.index == 6 and not player.busy
    assert window.epoch_label.text() == "Epoch 0 \u00b7 1 update"
    assert window.canvas.data().loss == 8.0  # L for sample 1, computed before the update
    assert window.canvas.theme() == "dark"
    assert f"lesson 01-article-xor has {ARTICLE_STEPS} steps, not 40" in prepare_screenshot(
        window, lesson="01-article-xor", step=40)
    assert "did not start" in prepare_screenshot(window, lesson="no-such-lesson")
