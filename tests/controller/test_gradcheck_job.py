"""The gradient check as a background job: results arrive by signal, Cancel stops it."""

from __future__ import annotations

from tests.helpers import settle

from backprop_lab.controller.gradcheck import GradientCheck
from backprop_lab.engine.gradcheck import FINE


def test_the_check_runs_off_the_ui_thread_and_reports(qtbot, session):
    job = GradientCheck(session)
    progress = []
    job.progress.connect(progress.append)
    with qtbot.waitSignal(job.finished, timeout=30000) as done:
        context = job.start(sample=2)
    result = done.args[0]
    assert "Sample 3" in context and result.complete and len(result.rows) == 13
    assert all(r.verdict == FINE for r in result.rows)
    assert progress[-1].result is result and not job.running


def test_cancel_stops_a_big_check(qtbot, session, monkeypatch):
    import time

    import backprop_lab.controller.gradcheck as job_mod

    real = job_mod.iter_gradient_check

    def slowed(*args, **kw):  # a slow machine: Cancel always finds the check running
        for p in real(*args, **kw):
            time.sleep(0.02)
            yield p

    monkeypatch.setattr(job_mod, "iter_gradient_check", slowed)
    session.set_structure([2, 64, 64, 64, 64, 1])
    settle(session)
    job = GradientCheck(session)
    progress = []
    job.progress.connect(progress.append)
    job.start()
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=30000)
    with qtbot.waitSignal(job.finished, timeout=5000) as done:
        job.cancel()
    assert done.args[0] is None and not job.running
    n = len(progress)
    qtbot.wait(300)
    assert len(progress) == n  # nothing arrives after Cancel
