"""The training process: its wire format, the server driven directly, and the worker's
process backend (reuse, failure and fallback to the thread, no processes left behind)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from backprop_lab.controller import train_server as ts
from backprop_lab.controller import worker as worker_mod
from backprop_lab.controller.training_loop import (
    TrainingLoop,
    command_message,
    config_from_dict,
    config_to_dict,
)
from backprop_lab.engine import data, presets
from backprop_lab.engine.names import WeightRef
from backprop_lab.engine.training import Trainer, TrainingConfig

ROOT = Path(__file__).resolve().parents[2]


# -- the wire format ------------------------------------------------------------------------
def test_frames_round_trip_arrays_exactly():
    rng = np.random.default_rng(7)
    params = rng.normal(size=97) * 1e-300  # subnormal-ish values survive bit for bit
    params[3] = -0.0
    rows = np.array([[0, 23.5, math.nan, 0.5, math.inf]] * 3) + rng.normal(size=(3, 5))
    msg = {"kind": "update", "params": params, "rows": rows, "empty": np.zeros((0, 5)),
           "grid": np.arange(12, dtype=np.int64).reshape(3, 4), "epoch": 12,
           "loss": 0.1 + 0.2, "nan": math.nan, "inf": -math.inf, "none": None,
           "flag": True, "text": "Gewichte ändern: ∂L/∂w", "norms": [1.5, 2.25],
           "nested": {"a": [1, 2, {"b": None}]}, "np_scalar": np.float64(1) / 3,
           "np_int": np.int64(5)}
    out = ts.decode(ts.encode(msg))
    assert set(out) == set(msg)
    for key in ("params", "rows", "empty", "grid"):
        assert out[key].dtype == np.float64
        assert out[key].shape == msg[key].shape
        assert out[key].tobytes() == np.asarray(msg[key], dtype=np.float64).tobytes()
        assert out[key].flags.writeable
    assert out["loss"] == 0.1 + 0.2 and out["epoch"] == 12 and out["flag"] is True
    assert math.isnan(out["nan"]) and out["inf"] == -math.inf and out["none"] is None
    assert out["text"] == msg["text"] and out["nested"] == msg["nested"]
    assert out["np_scalar"] == float(msg["np_scalar"]) and out["np_int"] == 5


def test_configs_and_load_messages_round_trip():
    proj = presets.load_preset("spiral")
    ds = data.build(proj.data)
    cfg = replace(proj.training, learning_rate=0.1 + 0.2, optimizer="adam", shuffle=True)
    assert config_from_dict(config_to_dict(cfg)) == cfg
    msg = ts.load_message(proj.network, cfg, ds, 17, generation=2, version=5, applied=9,
                          speed=12.5)
    back = ts.decode(ts.encode(msg))
    assert config_from_dict(back["config"]) == cfg
    loop_net = ts.loop_from_load(back)._net
    np.testing.assert_array_equal(loop_net.params, proj.network.params)
    assert loop_net.layers == proj.network.layers
    assert loop_net.activation_names == proj.network.activation_names
    for key in ("x_train", "y_train", "x_test", "y_test"):
        assert back[key].tobytes() == getattr(ds, key).tobytes()
    assert (back["epoch"], back["generation"], back["version"], back["applied"],
            back["speed"]) == (17, 2, 5, 9, 12.5)
    # data specs travel as the project file's dicts
    assert data.spec_from_dict(ts.decode(ts.encode(
        {"spec": data.spec_to_dict(proj.data)}))["spec"]) == proj.data
    # worker commands
    ref = WeightRef(1, 0, -1)
    cmd = ts.decode(ts.encode(command_message("set_weight", (ref, -2.5))))
    assert cmd == {"kind": "set_weight", "layer": 1, "target": 0, "source": -1, "value": -2.5}
    cmd = ts.decode(ts.encode(command_message("reset", (proj.network.params, 3))))
    assert cmd["generation"] == 3
    np.testing.assert_array_equal(cmd["params"], proj.network.params)


def test_bad_frames_are_refused():
    frame = ts.encode({"kind": "x", "a": np.ones(3)})
    with pytest.raises(ts.ProtocolError):
        ts.decode(frame[:-1])
    with pytest.raises(ts.ProtocolError):
        ts.decode(frame[:8] + b"[" + frame[9:])
    with pytest.raises(TypeError):
        ts.encode({"kind": "x", "obj": object()})
    with pytest.raises(TypeError):
        ts.encode({"kind": "x", "a": np.array(["text"])})


# -- the server, driven directly --------------------------------------------------------------
class Server:
    """A training server started the way the window starts it."""

    def __init__(self):
        cmd, env = worker_mod.server_command()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     bufsize=0, env=env)

    def send(self, msg):
        ts.write_frame(self.proc.stdin, msg)

    def read(self):
        return ts.read_frame(self.proc.stdout)

    def until_idle(self, applied: int) -> list:
        """Updates up to the first that is idle with ``applied`` commands applied."""
        got = []
        while True:
            msg = self.read()
            assert msg is not None, "the server ended"
            got.append(msg)
            if msg["kind"] == "update" and msg["idle"] and msg["applied"] >= applied:
                return got

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.proc.stdin.close()
        self.proc.stdout.close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def _load(name: str, **kw):
    proj = presets.load_preset(name)
    ds = data.build(proj.data)
    return proj, ds, ts.load_message(proj.network, proj.training, ds, **kw)


def _rows(updates) -> np.ndarray:
    return np.concatenate([u["rows"] for u in updates if u["kind"] == "update"])


def test_server_trains_article_xor_exactly(server):
    proj, ds, load = _load("article-xor")
    server.send(load)
    first = server.read()
    assert first["kind"] == "update" and first["epoch"] == 0 and first["idle"]
    server.send(command_message("step", 3))
    updates = [first] + server.until_idle(1)
    rows = _rows(updates)
    assert list(rows[:, 0]) == [0, 1, 2, 3]
    loss = rows[:, 1]
    assert loss[0] == 23.5
    assert loss[1] == pytest.approx(1.315053125, rel=1e-12)
    assert loss[2] == 0.45785954220247826
    assert loss[3] == 0.2570035016035258
    # bit for bit what the engine computes in this process
    t = Trainer(proj.network.copy(), proj.training, ds.x_train, ds.y_train)
    assert [t.run_epoch() for _ in range(3)] == list(loss[1:])
    assert updates[-1]["epoch"] == 3
    np.testing.assert_array_equal(updates[-1]["params"], t.net.params)
    assert updates[-1]["train_accuracy"] == rows[3, 3]
    assert updates[-1]["test_loss"] is None


def test_server_reports_bad_commands_and_divergence(server):
    _, _, load = _load("article-xor")
    server.send(load)
    server.read()
    server.send({"kind": "fly"})
    got = server.until_idle(1)
    assert any(m["kind"] == "failed" and "unknown command" in m["message"] for m in got)
    server.send(command_message("config", TrainingConfig(learning_rate=900.0)))
    server.send(command_message("play"))
    msgs = []
    while not any(m["kind"] == "failed" for m in msgs):
        msgs.append(server.read())
    failed = [m for m in msgs if m["kind"] == "failed"][0]
    assert "diverged in epoch" in failed["message"]
    last = [m for m in msgs if m["kind"] == "update"][-1]
    assert last["error"] == failed["message"] and not last["running"]
    assert np.isfinite(last["params"]).all()


def test_quit_ends_the_server(server):
    _, _, load = _load("spiral")
    server.send(load)
    server.read()
    server.send(command_message("play"))
    server.read()
    server.send({"kind": "quit"})
    assert server.proc.wait(5) == 0


def test_end_of_input_ends_the_server(server):
    _, _, load = _load("spiral")
    server.send(load)
    server.read()
    server.send(command_message("play"))
    server.read()
    server.proc.stdin.close()  # the window died
    assert server.proc.wait(5) == 0


def test_one_server_serves_several_runs(server):
    _, _, load = _load("spiral")
    server.send(load)
    server.read()
    server.send(command_message("play"))
    server.send({"kind": "release"})
    kinds = []
    while not kinds or kinds[-1] != "released":
        kinds.append(server.read()["kind"])
    proj, ds, load = _load("article-xor")
    server.send(load)
    server.send(command_message("step", 1))
    rows = _rows([server.read()] + server.until_idle(1))
    assert list(rows[:, 0]) == [0, 1] and rows[0, 1] == 23.5
    # a load in the middle of a run replaces it
    _, _, load = _load("xor-tanh")
    server.send(command_message("play"))
    server.send(load)
    server.send(command_message("step", 2))
    got = []
    while not got or not (got[-1]["kind"] == "update" and got[-1]["idle"]
                          and got[-1]["applied"] >= 1 and got[-1]["epoch"] == 2):
        got.append(server.read())
    server.send({"kind": "quit"})
    assert server.proc.wait(5) == 0


def test_the_cli_flag_starts_the_server_before_anything_else():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "app"))
    code = ("import sys; from backprop_lab import cli; "
            "sys.stdin.close(); r = cli.main(['--train-server']); "
            "print(sorted(m for m in sys.modules if m.startswith('PySide6')),"
            " file=sys.stderr); sys.exit(r)")
    done = subprocess.run([sys.executable, "-c", code], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""  # nothing but frames may ever go there
    assert b"PySide6" not in done.stderr


# -- the training loop on its own --------------------------------------------------------------
def test_catch_up_applies_commands_and_pauses():
    proj, ds, _ = _load("article-xor")
    loop = TrainingLoop(proj.network, proj.training, ds, applied=4, running=True, budget=3)
    errors = loop.catch_up([command_message("set_weight", (WeightRef(0, 0, 1), -2.5)),
                            command_message("play"), {"kind": "fly"}])
    msg = loop.publish()
    assert msg["applied"] == 7 and not msg["running"] and msg["idle"]
    assert msg["params"][1] == -2.5
    assert errors == ["unknown command 'fly'"]


# -- the worker's process backend ----------------------------------------------------------------
def test_default_backend_is_the_process(session):
    if os.environ.get(worker_mod.BACKEND_ENV) == "thread":
        pytest.skip("BACKPROP_LAB_TRAINING=thread")
    session.step_epochs(2)
    session.wait_idle()
    worker = session._worker
    assert worker.backend == "process"
    assert worker.process_id is not None and worker.process_id != os.getpid()
    assert session.epoch == 2


def test_session_tests_pass_on_the_other_backend():
    """tests/controller/test_session.py runs here on the backend the suite does not use."""
    other = "process" if worker_mod.default_backend() == "thread" else "thread"
    env = dict(os.environ, BACKPROP_LAB_TRAINING=other, PYTHONPATH=str(ROOT / "app"))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(ROOT / "tests" / "controller" / "test_session.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


@pytest.fixture
def process_session(qtbot):
    from backprop_lab.controller.session import Session

    if os.environ.get(worker_mod.BACKEND_ENV) == "thread":
        pytest.skip("BACKPROP_LAB_TRAINING=thread")
    s = Session(presets.load_preset("xor-tanh"))
    yield s
    s.shutdown()


def _process_of(session) -> subprocess.Popen:
    session.wait_idle()
    proc = session._worker._process
    assert proc is not None
    return proc.proc


def test_a_killed_process_is_reported_and_training_goes_on_in_the_thread(process_session,
                                                                          qtbot):
    s = process_session
    errors = []
    s.error.connect(errors.append)
    s.step_epochs(5)
    s.wait_idle()
    proc = _process_of(s)
    params = s.params.copy()
    proc.kill()
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "The training process stopped unexpectedly" in errors[0]
    assert s._worker.backend == "thread"
    assert not s.running
    s.wait_idle()
    assert s.epoch == 5
    np.testing.assert_array_equal(s.params, params)
    # the same run goes on: exactly what the engine does from those weights
    s.step_epochs(2)
    s.wait_idle()
    net = s.network
    net.params[:] = params
    t = Trainer(net, s.config, s.dataset.x_train, s.dataset.y_train)
    t.run_epoch()
    t.run_epoch()
    np.testing.assert_array_equal(s.params, net.params)
    assert list(s.history.epochs.view()) == list(range(8))
    s.play()
    qtbot.waitUntil(lambda: s.epoch > 20, timeout=5000)
    assert proc.poll() is not None  # reaped: no zombie


def test_a_process_killed_while_training_keeps_the_commands_sent_since(process_session,
                                                                       qtbot):
    s = process_session
    errors = []
    s.error.connect(errors.append)
    s.play()
    qtbot.waitUntil(lambda: s.epoch > 10, timeout=5000)
    proc = s._worker._process.proc
    proc.kill()
    s.set_learning_rate(0.01)  # may reach the dead process: replayed
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    s.wait_idle()
    assert not s.running
    assert s.snapshot.config.learning_rate == 0.01
    e = s.epoch
    s.step_epochs(3)
    s.wait_idle()
    assert s.epoch == e + 3
    assert list(s.history.epochs.view()) == list(range(e + 4))


def test_a_process_that_cannot_start_falls_back_to_the_thread(qtbot, monkeypatch):
    from backprop_lab.controller.session import Session

    monkeypatch.setattr(worker_mod, "server_command",
                        lambda: ([str(ROOT / "no-such-program")], None))
    monkeypatch.setattr(worker_mod, "_broken", None)
    monkeypatch.delenv(worker_mod.BACKEND_ENV, raising=False)
    worker_mod.shutdown_idle_process()
    s = Session()
    errors = []
    s.error.connect(errors.append)
    try:
        qtbot.waitUntil(lambda: bool(errors), timeout=5000)
        assert "could not start" in errors[0]
        s.step_epochs(1)
        s.wait_idle()
        assert s.epoch == 1 and s._worker.backend == "thread"
        assert s.snapshot.train_loss == pytest.approx(1.315053125, rel=1e-12)
        # from now on the window trains in its thread without asking again
        s.load_preset("xor-tanh")
        assert s._worker.backend == "thread"
        assert len(errors) == 1
    finally:
        s.shutdown()


def test_a_process_that_ends_at_once_falls_back_too(qtbot, monkeypatch):
    from backprop_lab.controller.session import Session

    monkeypatch.setattr(worker_mod, "server_command",
                        lambda: ([sys.executable, "-c", "pass"], None))
    monkeypatch.setattr(worker_mod, "_broken", None)
    monkeypatch.delenv(worker_mod.BACKEND_ENV, raising=False)
    worker_mod.shutdown_idle_process()
    s = Session()
    errors = []
    s.error.connect(errors.append)
    try:
        qtbot.waitUntil(lambda: bool(errors), timeout=5000)
        assert "ended before it answered" in errors[0]
        s.step_epochs(2)
        s.wait_idle()
        assert s.epoch == 2
    finally:
        s.shutdown()


def test_closing_a_session_ends_its_process(qtbot, monkeypatch):
    from backprop_lab.controller.session import Session

    if os.environ.get(worker_mod.BACKEND_ENV) == "thread":
        pytest.skip("BACKPROP_LAB_TRAINING=thread")
    monkeypatch.setattr(worker_mod, "IDLE_LINGER_MS", 50)
    s = Session()
    s.load_preset("spiral")
    s.play()
    qtbot.waitUntil(lambda: s.epoch > 0, timeout=5000)
    proc = s._worker._process.proc
    worker = s._worker
    s.shutdown()
    assert not worker.thread_running
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=5000)
    assert proc.returncode == 0  # it quit when asked: not killed


def test_the_next_run_reuses_the_process(qtbot):
    from backprop_lab.controller.session import Session

    if os.environ.get(worker_mod.BACKEND_ENV) == "thread":
        pytest.skip("BACKPROP_LAB_TRAINING=thread")
    s = Session()
    try:
        s.step_epochs(1)
        pid = _process_of(s).pid
        s.load_preset("spiral")  # a new worker, the same process
        s.step_epochs(2)
        s.wait_idle()
        assert _process_of(s).pid == pid
        assert s.epoch == 2 and list(s.history.epochs.view()) == [0, 1, 2]
        s.set_structure([2, 5, 1])
        s.step_epochs(1)
        s.wait_idle()
        assert _process_of(s).pid == pid and s.epoch == 1
    finally:
        s.shutdown()
    worker_mod.shutdown_idle_process()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ended and reaped
