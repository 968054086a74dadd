"""Autosave and recovery: unsaved work is copied aside and offered back after a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from tests.helpers import settle

from backprop_lab.controller.recovery import (
    Recovery,
    describe_recovery,
    find_recovery,
    restore,
)
from backprop_lab.controller.session import Session
from backprop_lab.engine.names import WeightRef

ROOT = Path(__file__).resolve().parents[2]


def test_unsaved_work_is_copied_and_a_save_removes_the_copy(qtbot, session, tmp_path):
    rec = Recovery(session, tmp_path / "data", interval_ms=50)
    assert find_recovery(rec.folder) is None
    session.set_weight(WeightRef(0, 0, 1), -2.5)
    settle(session)
    qtbot.waitUntil(lambda: find_recovery(rec.folder) is not None, timeout=5000)
    assert "never saved" in describe_recovery(rec.path)
    session.save_project(tmp_path / "mine.json")
    assert find_recovery(rec.folder) is None


def test_pausing_writes_the_copy_at_once(qtbot, session, tmp_path):
    rec = Recovery(session, tmp_path / "data", interval_ms=3_600_000)
    session.play()
    qtbot.waitUntil(lambda: session.epoch > 3, timeout=10000)
    session.pause()
    qtbot.waitUntil(lambda: rec.path.is_file(), timeout=5000)


def test_a_killed_window_leaves_a_copy_that_restores_the_work(qtbot, tmp_path):
    """kill -9 while there are unsaved changes: the next start finds the copy, and
    restoring it gives back the same weights as unsaved work."""
    data = tmp_path / "data"
    script = textwrap.dedent(f"""
        import os, sys, time
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6 import QtCore, QtWidgets
        app = QtWidgets.QApplication([])
        from backprop_lab.controller.clients import ClientFactory
        from backprop_lab.controller.recovery import Recovery
        from backprop_lab.controller.session import Session, run_until_settled
        from backprop_lab.engine.names import WeightRef
        s = Session(factory=ClientFactory("thread"))
        rec = Recovery(s, {str(data)!r}, interval_ms=10)
        s.set_weight(WeightRef(0, 0, 1), -2.5)
        s.step_epochs(3)
        run_until_settled(s)
        rec.write()
        print("written", flush=True)
        time.sleep(60)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "app"))
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env,
                         text=True)
    try:
        assert p.stdout.readline().strip() == "written"
        os.kill(p.pid, signal.SIGKILL)
    finally:
        p.wait(10)
        p.stdout.close()
    found = find_recovery(data)
    assert found is not None
    s = Session(start_delay_ms=0)
    try:
        restore(s, found)
        assert s.dirty and s.path is None and s.epoch == 0
        w = s.network.weights[0]
        assert not np.all(w == 1.0)  # the edited and trained weights, not the preset's
        assert "recovered_from" not in (s.project.meta or {})
    finally:
        s.shutdown()
