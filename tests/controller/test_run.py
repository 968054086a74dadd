"""A run and its client: state follows acknowledgements, and a client that dies or hangs
is replaced by a thread that carries the run on bit-exact (issue 8's regressions)."""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
import pytest
from PySide6 import QtCore
from tests.conftest import end_session
from tests.helpers import settle

from backprop_lab.controller import clients as clients_mod
from backprop_lab.controller.clients import ClientFactory
from backprop_lab.controller.run import Run
from backprop_lab.controller.session import Session
from backprop_lab.engine import data, presets
from backprop_lab.engine.training import Trainer
from backprop_lab.runs.state import RunState, Snapshot, decode_command, update_message


# -- acknowledgements, with a client the test controls ---------------------------------------
class FakeClient(QtCore.QObject):
    message = QtCore.Signal(object)
    lost = QtCore.Signal(str)
    backend = "fake"
    pid = None
    alive = True

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sent = []

    def start(self, delay_ms=0):
        pass

    def send(self, msg):
        self.sent.append(decode_command(msg))

    def close(self):
        self.alive = False


class FakeFactory(ClientFactory):
    def create(self, parent=None):
        self.client = FakeClient(parent)
        return self.client


@pytest.fixture
def fake_run(qtbot):
    proj = presets.load_preset("article-xor")
    ds = data.build(proj.data)
    factory = FakeFactory("process")
    run = Run(proj.network, ds, RunState.start(proj.network.params, proj.training), factory)
    yield run, factory.client
    run.shutdown()


def _update(run, **state):
    snap = Snapshot(run.snapshot.state.replace(**state), 1.0)
    return update_message(snap, np.zeros((0, 5)))


def test_a_stale_snapshot_cannot_say_paused_after_play(fake_run):
    """The bug: an update sent before the loop saw Play said running=False, the window
    showed "Play" while training ran, and Space needed two presses."""
    run, client = fake_run
    run.play()
    seq = client.sent[-1][1]
    client.message.emit(_update(run, running=False, applied=seq - 1))  # crossed on the way
    assert run.running and run.snapshot.applied < seq
    client.message.emit(_update(run, running=True, applied=seq))
    assert run.running and run.snapshot.running


def test_a_stale_snapshot_cannot_undo_a_weight_edit(fake_run):
    run, client = fake_run
    run.set_weight(0, 0, 1, -2.5)
    assert run.snapshot.params[1] == -2.5  # shown at once
    old = run.snapshot.params.copy()
    old[1] = 1.0
    client.message.emit(_update(run, params=old, applied=client.sent[-1][1] - 1))
    assert run.snapshot.params[1] == -2.5
    assert not run.is_settled  # the loss at the new weights comes from the loop
    new = run.snapshot.params.copy()
    client.message.emit(_update(run, params=new, applied=client.sent[-1][1]))
    assert run.is_settled and run.snapshot.params[1] == -2.5


def test_training_commands_unsettle_until_acknowledged(fake_run):
    run, client = fake_run
    calls = []
    run.step(3)
    run.after_settled(lambda: calls.append(run.snapshot.epoch))
    assert not run.is_settled and calls == []
    seq = client.sent[-1][1]
    client.message.emit(_update(run, epoch=2, budget=1, applied=seq))
    assert calls == []
    client.message.emit(_update(run, epoch=3, budget=0, applied=seq))
    assert calls == [3]


def test_play_is_shown_once_even_when_the_race_happens_for_real(qtbot, backend):
    """The issue's recipe on the spiral: step 3,000 epochs, Play 0.3 s later, then one press
    of Space pauses."""
    s = Session(presets.load_preset("spiral"), factory=ClientFactory(backend),
                start_delay_ms=0)
    try:
        for _ in range(3):
            s.step_epochs(3000)
            qtbot.wait(300)
            s.play()
            qtbot.wait(400)
            assert s.running
            qtbot.waitUntil(lambda: s.snapshot.running, timeout=5000)
            s.toggle_running()  # one press pauses
            assert not s.running
            settle(s)
            assert not s.snapshot.running
    finally:
        end_session(qtbot, s)


# -- failing over ----------------------------------------------------------------------------
def _process_session(preset: str, **cfg) -> Session:
    proj = presets.load_preset(preset)
    if cfg:
        proj.training = proj.training.with_(**cfg)
    return Session(proj, factory=ClientFactory("process"), start_delay_ms=0)


def _straight(preset: str, epochs: int, **cfg) -> np.ndarray:
    proj = presets.load_preset(preset)
    ds = data.build(proj.data)
    t = Trainer(proj.network.copy(), proj.training.with_(**cfg), ds.x_train, ds.y_train)
    for _ in range(epochs):
        t.run_epoch()
    return t.net.params


def _pid(qtbot, s) -> int:
    qtbot.waitUntil(lambda: s.run.process_id is not None, timeout=10000)
    return s.run.process_id


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
@pytest.mark.parametrize("how", ["kill", "stop"])
def test_failover_keeps_the_optimiser_bit_exact(qtbot, optimizer, how):
    """The bug: after the process died, the thread went on without the optimiser state
    (Adam at lr 0.05 on xor-tanh: 6 epochs differed from an uninterrupted run by 0.081).
    Killed (SIGKILL) or hung (SIGSTOP, noticed by its silence), the run goes on exactly."""
    cfg = {"optimizer": optimizer, "learning_rate": 0.05}
    s = _process_session("xor-tanh", **cfg)
    notices = []
    s.notice.connect(notices.append)
    pid = None
    try:
        s.step_epochs(5)
        settle(s)
        pid = _pid(qtbot, s)
        os.kill(pid, signal.SIGKILL if how == "kill" else signal.SIGSTOP)
        s.step_epochs(1)  # sent to a dead (or stopped) process: carried over
        settle(s, timeout_ms=20000)
        assert s.training_backend == "thread"
        assert notices and "stopped" in notices[0] and "nothing was lost" in notices[0]
        assert s.epoch == 6
        assert s.params.tobytes() == _straight("xor-tanh", 6, **cfg).tobytes()
        assert list(s.history.epochs.view()) == list(range(7))
    finally:
        end_session(qtbot, s)
        if pid is not None and how == "stop":
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_a_process_killed_while_training_keeps_the_commands_sent_since(qtbot):
    s = _process_session("xor-tanh")
    try:
        s.play()
        qtbot.waitUntil(lambda: s.epoch > 10, timeout=10000)
        os.kill(_pid(qtbot, s), signal.SIGKILL)
        s.set_learning_rate(0.01)  # may reach the dead process: re-sent
        qtbot.waitUntil(lambda: s.training_backend == "thread", timeout=10000)
        assert s.running  # it carries on as the user asked
        s.pause()
        settle(s)
        assert s.snapshot.config.learning_rate == 0.01
        e = s.epoch
        s.step_epochs(3)
        settle(s)
        assert s.epoch == e + 3
        assert list(s.history.epochs.view()) == list(range(e + 4))
    finally:
        end_session(qtbot, s)


def test_a_process_that_cannot_start_falls_back_and_is_not_tried_again(qtbot, monkeypatch):
    monkeypatch.setattr(clients_mod, "server_command",
                        lambda *_: ("/no/such/program", [], {}))
    notices = []
    factory = ClientFactory("process")
    s = Session(factory=factory, start_delay_ms=0)
    s.notice.connect(notices.append)
    try:
        s.step_epochs(1)
        settle(s)
        assert s.epoch == 1 and s.training_backend == "thread"
        assert s.snapshot.train_loss == pytest.approx(1.315053125, rel=1e-12)
        assert "could not start" in notices[0]
        assert factory.broken
        other = Session(factory=factory, start_delay_ms=0)
        assert other.training_backend == "thread"
        end_session(qtbot, other)
    finally:
        end_session(qtbot, s)


def test_a_process_that_ends_at_once_falls_back_too(qtbot, monkeypatch):
    monkeypatch.setattr(clients_mod, "server_command",
                        lambda *_: (sys.executable, ["-c", "pass"], {}))
    s = Session(factory=ClientFactory("process"), start_delay_ms=0)
    try:
        s.step_epochs(2)
        settle(s)
        assert s.epoch == 2 and s.training_backend == "thread"
    finally:
        end_session(qtbot, s)


def test_a_structure_change_is_a_load_on_the_same_process(qtbot):
    s = Session(factory=ClientFactory("process"), start_delay_ms=0)
    try:
        s.step_epochs(1)
        settle(s)
        pid = _pid(qtbot, s)
        s.load_preset("spiral")
        s.step_epochs(2)
        settle(s)
        assert s.run.process_id == pid
        assert s.epoch == 2 and list(s.history.epochs.view()) == [0, 1, 2]
        s.set_structure([2, 5, 1])
        s.step_epochs(1)
        settle(s)
        assert s.run.process_id == pid and s.epoch == 1
    finally:
        end_session(qtbot, s)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_no_module_level_state_in_the_controller():
    """Clients belong to their runs: no pool, no globals holding processes or threads."""
    import ast
    from pathlib import Path

    import backprop_lab.controller as pkg

    for path in Path(pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            assert not isinstance(node, ast.Global), f"{path.name}: 'global' used"
