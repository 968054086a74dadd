"""The wire format, the typed commands and the run state: exact round trips."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from backprop_lab.engine import data, presets
from backprop_lab.engine.optimizers import OptimizerState
from backprop_lab.runs import wire
from backprop_lab.runs.state import (
    BadCommand,
    Load,
    Pause,
    Play,
    Reset,
    RunState,
    SetConfig,
    SetSpeed,
    SetState,
    SetWeight,
    Snapshot,
    Step,
    config_from_dict,
    config_to_dict,
    decode_command,
    decode_update,
    encode_command,
    update_message,
)


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
           "np_int": np.int64(5), "big": 2 ** 127 + 5}
    out = wire.decode(wire.encode(msg))
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
    assert out["big"] == 2 ** 127 + 5  # a generator's 128-bit state travels exactly


def test_the_frame_reader_takes_bytes_as_they_come():
    msgs = [{"kind": "a", "x": np.arange(5.0)}, {"kind": "b"}, {"kind": "c", "n": 3}]
    stream = b"".join(wire.encode(m) for m in msgs)
    reader = wire.FrameReader()
    got = []
    for i in range(0, len(stream), 7):  # in awkward pieces
        got += reader.feed(stream[i:i + 7])
    assert [m["kind"] for m in got] == ["a", "b", "c"]
    np.testing.assert_array_equal(got[0]["x"], np.arange(5.0))
    assert reader.pending == 0
    assert reader.feed(stream[:5]) == [] and reader.pending == 5


def test_bad_frames_are_refused():
    frame = wire.encode({"kind": "x", "a": np.ones(3)})
    with pytest.raises(wire.ProtocolError):
        wire.decode(frame[:-1])
    with pytest.raises(wire.ProtocolError):
        wire.decode(frame[:8] + b"[" + frame[9:])
    with pytest.raises(TypeError):
        wire.encode({"kind": "x", "obj": object()})
    with pytest.raises(TypeError):
        wire.encode({"kind": "x", "a": np.array(["text"])})
    with pytest.raises(wire.ProtocolError):
        wire.FrameReader().feed(b"\xff\xff\xff\xff\x00\x00\x00\x00")


def _state(optimizer="adam") -> RunState:
    rng = np.random.default_rng(3)
    p = rng.normal(size=13)
    cfg = presets.load_preset("article-xor").training.with_(optimizer=optimizer, shuffle=True)
    gen = np.random.default_rng(11)
    gen.permutation(10)
    opt = OptimizerState(optimizer, 7, rng.normal(size=13), rng.normal(size=13))
    return RunState(p, cfg, opt, epoch=42, updates=99, rng=gen.bit_generator.state,
                    running=True, budget=3, speed=12.5, applied=17)


def _same_state(a: RunState, b: RunState) -> None:
    assert a.params.tobytes() == b.params.tobytes()
    assert a.config == b.config
    assert (a.optimizer.kind, a.optimizer.step) == (b.optimizer.kind, b.optimizer.step)
    assert a.optimizer.m.tobytes() == b.optimizer.m.tobytes()
    assert a.optimizer.v.tobytes() == b.optimizer.v.tobytes()
    assert (a.epoch, a.updates, a.rng, a.running, a.budget, a.speed, a.applied) == \
        (b.epoch, b.updates, b.rng, b.running, b.budget, b.speed, b.applied)


def test_run_state_and_snapshots_round_trip_exactly():
    s = _state()
    _same_state(RunState.from_fields(wire.decode(wire.encode(s.fields()))), s)
    snap = Snapshot(s, 0.25, None, 0.75, None, (1.0, 2.0), 123.0, None, 9)
    back, rows = decode_update(wire.decode(wire.encode(update_message(snap, np.ones((2, 5))))))
    _same_state(back.state, s)
    assert (back.train_loss, back.train_accuracy, back.grad_norms, back.version) == \
        (0.25, 0.75, (1.0, 2.0), 9)
    assert rows.shape == (2, 5)


def test_commands_round_trip():
    proj = presets.load_preset("spiral")
    ds = data.build(proj.data)
    cfg = replace(proj.training, learning_rate=0.1 + 0.2, optimizer="adam", shuffle=True)
    assert config_from_dict(config_to_dict(cfg)) == cfg
    cmds = [Play(), Pause(), Step(5), SetSpeed(None), SetSpeed(2.5), SetConfig(cfg),
            SetWeight(1, 0, -1, -2.5), SetState(np.arange(3.0), None, 4, 5),
            SetState(np.arange(3.0), OptimizerState("momentum", 2, np.ones(3))),
            Reset(np.arange(3.0), record_start=False)]
    for k, cmd in enumerate(cmds, 1):
        back, seq = decode_command(wire.decode(wire.encode(encode_command(cmd, k))))
        assert seq == k and type(back) is type(cmd)
        for f in cmd.__dataclass_fields__:
            a, b = getattr(cmd, f), getattr(back, f)
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b)
            elif isinstance(a, OptimizerState):
                assert (a.kind, a.step) == (b.kind, b.step)
                np.testing.assert_array_equal(a.m, b.m)
            else:
                assert a == b
    load, seq = decode_command(wire.decode(wire.encode(encode_command(
        Load(proj.network, ds, _state().replace(params=proj.network.params), False), 30))))
    assert seq == 30 and not load.record_start
    assert load.network.layers == proj.network.layers
    assert load.network.activation_names == proj.network.activation_names
    for key in ("x_train", "y_train", "x_test", "y_test"):
        assert getattr(load.dataset, key).tobytes() == getattr(ds, key).tobytes()


@pytest.mark.parametrize("msg,words", [
    ({"kind": "fly", "seq": 1}, "unknown command 'fly'"),
    ({"kind": "step", "seq": 1}, "bad 'step' command"),
    ({"kind": "step", "seq": 1, "epochs": -3}, "fewer than 0"),
    ({"kind": "speed", "seq": 1, "value": -1.0}, "not a positive number"),
    ({"kind": "config", "seq": 1, "config": {"learning_rate": 1e9}}, "too large"),
    ({"kind": "play"}, "bad 'play' command"),
])
def test_bad_commands_are_named(msg, words):
    with pytest.raises(BadCommand, match=words):
        decode_command(msg)
