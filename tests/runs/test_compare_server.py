"""A comparison trained in its own process (``--compare-server``) gives the window the
same runs, to the bit, as training it in the window would."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from backprop_lab.runs.compare import Comparison, load_base, parse_vary
from backprop_lab.runs.compare_server import (
    apply_progress,
    comparison_from,
    request,
    serve,
)
from backprop_lab.runs.wire import FrameReader, encode

APP = str(Path(__file__).resolve().parents[2] / "app")


def _setup(vary="training.optimizer=sgd,momentum,adam", epochs=60, preset="xor-tanh"):
    base = load_base(preset=preset)
    return base, parse_vary(vary), epochs


def _same(a: Comparison, b: Comparison) -> None:
    assert [r.name for r in a.runs] == [r.name for r in b.runs]
    for ra, rb in zip(a.runs, b.runs):
        assert ra.history().tobytes() == rb.history().tobytes()
        assert ra.path_epochs == rb.path_epochs
        assert np.array(ra.path).tobytes() == np.array(rb.path).tobytes()
        assert ra.state.params.tobytes() == rb.state.params.tobytes()
        assert ra.state.epoch == rb.state.epoch and ra.state.updates == rb.state.updates
        assert ra.state.rng == rb.state.rng
        for x, y in ((ra.state.optimizer.m, rb.state.optimizer.m),
                     (ra.state.optimizer.v, rb.state.optimizer.v)):
            assert (x is None) == (y is None)
            if x is not None:
                assert np.asarray(x).tobytes() == np.asarray(y).tobytes()
        assert ra.error == rb.error and ra.done == rb.done


def _replay(out: bytes, req) -> tuple[Comparison, list[dict]]:
    mirror = comparison_from(req)
    msgs = FrameReader().feed(out)
    for m in msgs:
        if m["kind"] == "progress":
            apply_progress(mirror, m)
    return mirror, msgs


def test_the_servers_progress_rebuilds_the_comparison_bit_for_bit():
    base, variants, epochs = _setup()
    req = request(base, variants, epochs, chunk=25)
    out = io.BytesIO()
    assert serve(io.BytesIO(encode(req)), out) == 0
    mirror, msgs = _replay(out.getvalue(), req)
    assert msgs[-1]["kind"] == "done"
    assert sum(m["kind"] == "progress" for m in msgs) == 3 * 3  # 60 epochs in chunks of 25
    direct = Comparison(base, variants, epochs, chunk=25)
    direct.run()
    _same(mirror, direct)
    assert all(r.epoch == epochs for r in mirror.runs)


def test_chunks_shorter_than_the_path_spacing():
    """2,000 epochs keep a path point every 10; chunks of 4 bring one every third chunk
    or so, and none in between."""
    base, variants, epochs = _setup("training.learning_rate=0.1,0.3", 2000)
    req = request(base, variants, epochs, chunk=4)
    out = io.BytesIO()
    serve(io.BytesIO(encode(req)), out)
    mirror, msgs = _replay(out.getvalue(), req)
    assert any(m["kind"] == "progress" and not m["path_epochs"] for m in msgs)
    direct = Comparison(base, variants, epochs, chunk=4)
    direct.run()
    _same(mirror, direct)
    assert mirror.runs[0].path_epochs[:3] == [0, 10, 20]


def test_a_diverging_variant_is_reported_as_in_the_window():
    base, variants, epochs = _setup("training.learning_rate=0.1,50", 80, "article-xor")
    req = request(base, variants, epochs, chunk=10)
    out = io.BytesIO()
    serve(io.BytesIO(encode(req)), out)
    mirror, _ = _replay(out.getvalue(), req)
    direct = Comparison(base, variants, epochs, chunk=10)
    direct.run()
    _same(mirror, direct)
    assert mirror.runs[0].error is None and "diverged" in mirror.runs[1].error


def test_a_bad_request_gets_one_line():
    out = io.BytesIO()
    assert serve(io.BytesIO(encode({"kind": "load"})), out) == 2
    (msg,) = FrameReader().feed(out.getvalue())
    assert msg["kind"] == "failed" and "\n" not in msg["message"]


def test_the_real_process_answers_the_same():
    base, variants, epochs = _setup("training.learning_rate=0.1,0.5", 40)
    req = request(base, variants, epochs, chunk=25)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [APP] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    proc = subprocess.run([sys.executable, "-m", "backprop_lab", "--compare-server"],
                          input=encode(req), capture_output=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    mirror, msgs = _replay(proc.stdout, req)
    assert msgs[-1]["kind"] == "done"
    direct = Comparison(base, variants, epochs, chunk=25)
    direct.run()
    _same(mirror, direct)
