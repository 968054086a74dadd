"""The training loop on its own and the training process driven directly: exact numbers,
commands, a run carried on from its state bit for bit, and the server's conversation."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from backprop_lab.controller.clients import server_command
from backprop_lab.engine import data, presets
from backprop_lab.engine.training import Trainer, TrainingConfig
from backprop_lab.runs import wire
from backprop_lab.runs.loop import TrainingLoop
from backprop_lab.runs.state import (
    Load,
    Play,
    RunState,
    SetConfig,
    SetWeight,
    Step,
    decode_update,
    encode_command,
)

ROOT = Path(__file__).resolve().parents[2]


def _project(name: str, **cfg):
    proj = presets.load_preset(name)
    if cfg:
        proj.training = proj.training.with_(**cfg)
    return proj, data.build(proj.data)


def _loop(proj, ds, **kw):
    return TrainingLoop(proj.network, ds, RunState.start(proj.network.params, proj.training),
                        pause_seconds=0.0, **kw)


# -- the loop ----------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_run_carried_on_from_its_state_is_bit_exact(optimizer):
    """Train 7 epochs, take the state, build a new loop from it, train 5 more: the same as
    12 straight epochs (optimiser moments, step count and the shuffle generator travel)."""
    proj, ds = _project("circle", optimizer=optimizer, mode="minibatch", batch_size=7,
                        shuffle=True, learning_rate=0.05)
    straight = _loop(proj, ds)
    assert straight.run_epochs(12) is None
    first = _loop(proj, ds)
    first.run_epochs(7)
    state = first.state()
    # through the wire, as a fall-back gets it
    state = RunState.from_fields(wire.decode(wire.encode(state.fields())))
    second = TrainingLoop(proj.network, ds, state, record_start=False, pause_seconds=0.0)
    second.run_epochs(5)
    a, b = straight.state(), second.state()
    assert a.params.tobytes() == b.params.tobytes()
    assert (a.epoch, a.updates, a.rng) == (b.epoch, b.updates, b.rng) == \
        (12, b.updates, b.rng)
    assert a.updates == 12 * -(-len(ds.x_train) // 7)


def test_the_loop_reports_the_article_numbers_and_acknowledges():
    proj, ds = _project("article-xor")
    loop = _loop(proj, ds)
    loop.apply(Step(3), 5)
    assert loop.run_epochs(3) is None
    snap, rows = decode_update(loop.publish())
    assert snap.applied == 5 and snap.epoch == 3
    assert list(rows[:, 0]) == [0, 1, 2, 3]
    assert rows[1, 1] == pytest.approx(1.315053125, rel=1e-12)
    assert rows[3, 1] == 0.2570035016035258
    t = Trainer(proj.network.copy(), proj.training, ds.x_train, ds.y_train)
    assert [t.run_epoch() for _ in range(3)] == list(rows[1:, 1])
    np.testing.assert_array_equal(snap.params, t.net.params)


def test_a_load_replaces_the_network_and_drops_unsent_rows():
    proj, ds = _project("article-xor")
    loop = _loop(proj, ds)
    loop.run_epochs(4)
    other, ods = _project("spiral")
    loop.apply(Load(other.network, ods, RunState.start(other.network.params, other.training)),
               9)
    snap, rows = decode_update(loop.publish())
    assert snap.applied == 9 and snap.epoch == 0 and len(snap.params) == 177
    assert list(rows[:, 0]) == [0]  # the new run's start only


# -- the server, driven directly ------------------------------------------------------------
class Server:
    """A training server started the way the window starts it."""

    def __init__(self):
        program, args, extra = server_command()
        self.proc = subprocess.Popen([program, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0,
                                     env=dict(os.environ, **extra))
        self.seq = 0

    def send(self, msg):
        wire.write_frame(self.proc.stdin, msg)

    def command(self, cmd) -> int:
        self.seq += 1
        self.send(encode_command(cmd, self.seq))
        return self.seq

    def read(self, skip_alive: bool = True):
        while True:
            msg = wire.read_frame(self.proc.stdout)
            if msg is None or not skip_alive or msg["kind"] != "alive":
                return msg

    def until_settled(self, seq: int) -> list:
        """Messages up to the first idle update that acknowledges ``seq``."""
        got = []
        while True:
            msg = self.read()
            assert msg is not None, "the server ended"
            got.append(msg)
            if msg["kind"] == "update" and not msg["running"] and msg["budget"] == 0 \
                    and msg["applied"] >= seq:
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
    assert s.read()["kind"] == "hello"
    yield s
    s.close()


def _rows(msgs) -> np.ndarray:
    return np.concatenate([m["rows"] for m in msgs if m["kind"] == "update"])


def test_server_trains_article_xor_exactly(server):
    proj, ds = _project("article-xor")
    server.command(Load(proj.network, ds, RunState.start(proj.network.params, proj.training)))
    first = server.read()
    assert first["kind"] == "update" and first["epoch"] == 0 and first["applied"] == 1
    seq = server.command(Step(3))
    msgs = [first] + server.until_settled(seq)
    rows = _rows(msgs)
    assert list(rows[:, 0]) == [0, 1, 2, 3]
    t = Trainer(proj.network.copy(), proj.training, ds.x_train, ds.y_train)
    assert [t.run_epoch() for _ in range(3)] == list(rows[1:, 1])
    np.testing.assert_array_equal(msgs[-1]["params"], t.net.params)


def test_server_reports_bad_commands_and_divergence(server):
    proj, ds = _project("article-xor")
    server.command(Load(proj.network, ds, RunState.start(proj.network.params, proj.training)))
    server.read()
    server.seq += 1
    server.send({"kind": "fly", "seq": server.seq})
    got = server.until_settled(server.seq)
    assert any(m["kind"] == "failed" and "unknown command" in m["message"] for m in got)
    server.command(SetConfig(TrainingConfig(learning_rate=900.0)))
    server.command(Play())
    msgs = []
    while not any(m["kind"] == "failed" for m in msgs):
        msgs.append(server.read())
    failed = [m for m in msgs if m["kind"] == "failed"][0]
    assert "diverged in epoch" in failed["message"]
    last = [m for m in msgs if m["kind"] == "update"][-1]
    assert last["error"] == failed["message"] and not last["running"]
    assert np.isfinite(last["params"]).all()


def test_server_says_it_is_alive_while_it_trains(server):
    proj, ds = _project("spiral")
    server.command(Load(proj.network, ds, RunState.start(proj.network.params, proj.training)))
    server.command(Play())
    kinds, t0 = [], time.monotonic()
    while "alive" not in kinds:
        assert time.monotonic() - t0 < 30, "no heartbeat at all"
        kinds.append(server.read(skip_alive=False)["kind"])
    assert "update" in kinds


@pytest.mark.parametrize("how", ["quit", "eof"])
def test_quit_or_end_of_input_ends_the_server(server, how):
    proj, ds = _project("spiral")
    server.command(Load(proj.network, ds, RunState.start(proj.network.params, proj.training)))
    server.read()
    server.command(Play())
    server.read()
    if how == "quit":
        server.send({"kind": "quit"})
    else:
        server.proc.stdin.close()  # the window died
    assert server.proc.wait(5) == 0


def test_one_server_serves_one_load_after_another(server):
    proj, ds = _project("spiral")
    server.command(Load(proj.network, ds, RunState.start(proj.network.params, proj.training)))
    server.command(Play())
    proj, ds = _project("article-xor")
    seq = server.command(Load(proj.network, ds,
                              RunState.start(proj.network.params, proj.training)))
    seq = server.command(Step(1))
    msgs = server.until_settled(seq)
    rows = np.concatenate([m["rows"] for m in msgs
                           if m["kind"] == "update" and m["applied"] >= seq - 1])
    assert list(rows[:, 0]) == [0, 1] and rows[0, 1] == 23.5
    w = server.command(SetWeight(0, 0, 1, -2.5))
    last = server.until_settled(w)[-1]
    assert last["params"][1] == -2.5


def test_the_cli_flag_starts_the_server_before_anything_else():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "app"))
    code = ("import sys; from backprop_lab import cli; "
            "sys.stdin.close(); r = cli.main(['--train-server']); "
            "print(sorted(m for m in sys.modules if m.startswith('PySide6')),"
            " file=sys.stderr); sys.exit(r)")
    done = subprocess.run([sys.executable, "-c", code], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # only frames go to stdout: the hello, nothing else
    msgs = wire.FrameReader().feed(done.stdout)
    assert [m["kind"] for m in msgs] == ["hello"]
    assert b"PySide6" not in done.stderr
