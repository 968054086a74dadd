"""A monkey at the window: thousands of random actions while training runs, as an impatient
class would click: parameter changes (extreme values included), play, pause, step, reset,
presets, weight edits, undo and redo, the phase stepper, lessons, presentation mode,
resizes. Counted: exceptions (sys.excepthook and slots), Qt warnings about threads or
timers, and stalls of the UI (a 20 ms heartbeat that comes late by more than a second).

``BACKPROP_LAB_MONKEY_ACTIONS`` sets the number of actions (default 3,000).
"""

from __future__ import annotations

import os
import random
import sys
import time

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from backprop_lab.engine.names import WeightRef, all_weights

ACTIONS = int(os.environ.get("BACKPROP_LAB_MONKEY_ACTIONS", "3000"))
PRESETS = ("article-xor", "xor-tanh", "circle", "spiral", "three-class", "regression",
           "deep-relu", "xor-symmetric")
EXTREME_LR = (1e-5, 0.001, 0.1, 0.5, 3.0, 10.0, 999.0)
SIZES = ((1280, 720), (1366, 768), (1600, 1000), (900, 600))


class Watch:
    """Counts what must never happen."""

    def __init__(self):
        self.exceptions: list[str] = []
        self.warnings: list[str] = []
        self.lateness: list[float] = []
        self._last = time.perf_counter()

    def excepthook(self, kind, value, tb):
        import traceback

        self.exceptions.append("".join(traceback.format_exception(kind, value, tb))[-2000:])

    def qt_message(self, mode, context, message):
        text = str(message)
        if any(w in text for w in ("QThread", "Timers", "QObject::startTimer",
                                   "QBasicTimer", "thread", "destroyed while")):
            self.warnings.append(text)

    def beat(self):
        now = time.perf_counter()
        self.lateness.append(now - self._last - 0.02)
        self._last = now


def _random_action(rng: random.Random, w, s, log: list[str]) -> None:
    kind = rng.choice([
        "play", "play", "pause", "step", "reset", "preset", "lr", "lr", "mode", "optimizer",
        "activation", "structure", "weight", "weight", "undo", "redo", "teach", "next", "back",
        "sample", "lesson", "lesson_next", "present", "resize", "scope", "speed", "gradient",
        "values"])
    log.append(kind)
    if kind == "play":
        w.act_play.trigger()
    elif kind == "pause":
        s.pause()
    elif kind == "step":
        w.act_step.trigger()
    elif kind == "reset":
        w.act_reset.trigger()
    elif kind == "preset":
        s.load_preset(rng.choice(PRESETS))
    elif kind == "lr":
        try:
            s.set_learning_rate(rng.choice(EXTREME_LR))
        except ValueError:
            pass  # refused with a message: fine
    elif kind == "mode":
        s.set_config(mode=rng.choice(["batch", "minibatch", "stochastic"]))
    elif kind == "optimizer":
        s.set_config(optimizer=rng.choice(["sgd", "momentum", "adam"]))
    elif kind == "activation":
        try:
            s.set_activations(hidden=rng.choice(["tanh", "relu", "sigmoid", "identity"]))
        except ValueError:
            pass
    elif kind == "structure":
        layers = list(s.layers)
        hidden = [rng.randint(1, 8) for _ in range(rng.randint(0, 3))]
        s.set_structure([layers[0], *hidden, layers[-1]])
    elif kind == "weight":
        refs = all_weights(s.layers)
        ref = rng.choice(refs)
        value = rng.choice([0.0, -1.0, 2.5, 1e3, -1e-3, rng.uniform(-3, 3)])
        w.set_weight(WeightRef(ref.layer, ref.target, ref.source), value)
    elif kind == "undo":
        w.act_undo.trigger()
    elif kind == "redo":
        w.act_redo.trigger()
    elif kind == "teach":
        w.act_teach.trigger()
    elif kind == "next":
        w.act_next.trigger()
    elif kind == "back":
        w.act_back.trigger()
    elif kind == "sample":
        (w.act_next_sample if rng.random() < 0.5 else w.act_prev_sample).trigger()
    elif kind == "lesson":
        if rng.random() < 0.3:
            w.start_lesson(rng.choice(["01-article-xor", "02-learning-rate",
                                       "03-batch-vs-stochastic", "04-vanishing-gradients"]))
        else:
            w.lesson_player.stop()
    elif kind == "lesson_next":
        w.act_next.trigger()
    elif kind == "present":
        if rng.random() < 0.2:
            w.set_presenting(not w.presenting)
    elif kind == "resize":
        if not w.presenting:
            w.resize(*rng.choice(SIZES))
    elif kind == "scope":
        w.stepper.set_scope(rng.choice(["sample", "minibatch", "batch"]))
    elif kind == "speed":
        s.set_speed(rng.choice([None, 1000.0, 30.0, 3.0]))
    elif kind == "gradient":
        w.act_gradient.trigger()
    elif kind == "values":
        w.act_values.trigger()


@pytest.mark.parametrize("seed", [1])
def test_a_monkey_at_the_window_breaks_nothing(qtbot, window, seed, record_property,
                                               monkeypatch):
    watch = Watch()
    monkeypatch.setattr(sys, "excepthook", watch.excepthook)
    old_handler = QtCore.qInstallMessageHandler(watch.qt_message)
    # a modal box would wait for a click that never comes: errors go to the status bar
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        staticmethod(lambda *a, **k: QtWidgets.QMessageBox.Ok))
    window.files.confirm_unsaved = False
    beat = QtCore.QTimer()
    beat.setInterval(20)
    beat.timeout.connect(watch.beat)
    beat.start()
    rng = random.Random(seed)
    log: list[str] = []
    s = window.session
    t0 = time.perf_counter()
    try:
        for _ in range(ACTIONS):
            _random_action(rng, window, s, log)
            # let the window breathe between actions, as a person would at speed
            qtbot.wait(rng.choice([0, 0, 1, 3, 10]))
    finally:
        beat.stop()
        QtCore.qInstallMessageHandler(old_handler)
        if window.presenting:
            window.set_presenting(False)
    elapsed = time.perf_counter() - t0
    late = np.array(watch.lateness[5:] or [0.0])
    record_property("monkey_actions", ACTIONS)
    record_property("monkey_seconds", round(elapsed, 1))
    record_property("monkey_stall_max_s", round(float(late.max()), 3))
    print(f"\n{ACTIONS} actions in {elapsed:.1f} s; UI heartbeat late by at most "
          f"{late.max():.3f} s (p99 {np.percentile(late, 99):.3f} s)")
    assert watch.exceptions == [], watch.exceptions[:3]
    assert watch.warnings == [], watch.warnings[:5]
    assert late.max() < 1.0, f"the UI stalled for {late.max():.2f} s"
    # and the window still trains
    sent = []
    real_send = s.run._send
    s.run._send = lambda cmd: (sent.append(type(cmd).__name__), real_send(cmd))[1]
    s.load_preset("xor-tanh")  # (a lesson step still being prepared is dropped)
    s.step_epochs(3)
    try:
        qtbot.waitUntil(lambda: s.is_settled and s.epoch == 3, timeout=30000)
    except Exception:
        r = s.run
        raise AssertionError(
            f"not settled: running {s.running}, epoch {s.epoch}, snapshot applied "
            f"{r.snapshot.applied} budget {r.snapshot.state.budget} running "
            f"{r.snapshot.running}; sent {r._seq}, uncertain {r._uncertain}, backend "
            f"{s.training_backend}, past {s.past_epoch}; last actions {log[-15:]}; sent since "
            f"{sent}; lesson {window.lesson_player.active} busy {window.lesson_player.busy}; "
            f"stepper {window.stepper.active} {window.stepper.busy}") from None
