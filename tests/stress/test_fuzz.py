"""Fuzzing project files and CSV imports (issue 12).

Every generated case must end in one of two ways: a valid load (a project that round-trips
and can be trained on; a table that builds a dataset), or one ``ProjectError`` /
``CsvError`` / ``ValueError`` with a short one-line message. Any other exception, a
traceback-sized message or a case that runs longer than ``CASE_LIMIT_S`` fails.

The normal run makes ``DEFAULT_EXAMPLES`` cases (at least 5,000); the environment variable
``BACKPROP_LAB_FUZZ_EXAMPLES`` sets another total for a nightly-style run, e.g.
``BACKPROP_LAB_FUZZ_EXAMPLES=100000 python -m pytest -q tests/stress/test_fuzz.py``.
Hypothesis runs derandomized (the same cases on every machine) and keeps no database.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import string
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_lab.engine import data, presets
from backprop_lab.engine.project import (
    MAX_MESSAGE,
    ProjectError,
    apply_overrides,
    dumps,
    from_dict,
    loads,
)
from backprop_lab.engine.training import Divergence, Trainer

DEFAULT_EXAMPLES = 6000
TOTAL = int(os.environ.get("BACKPROP_LAB_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)
#: how the total is shared between the kinds of case
SHARES = {"structured": 0.30, "mutated": 0.30, "text": 0.12, "overrides": 0.08, "csv": 0.20}
CASE_LIMIT_S = 60  # a case this slow counts as a hang (a normal one takes milliseconds)
#: train one epoch on a valid project only when it is this small (samples x parameters)
TRAIN_BUDGET = 2_000_000
MAX_BATCHES = 25  # ... and in at most this many updates

COUNTS: dict[str, dict[str, int]] = {k: {"valid": 0, "error": 0} for k in SHARES}


def _examples(kind: str) -> int:
    return max(1, round(TOTAL * SHARES[kind]))


def _settings(kind: str):
    return settings(max_examples=_examples(kind), deadline=None, derandomize=True,
                    database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much,
                                           HealthCheck.large_base_example])


@contextlib.contextmanager
def hang_guard(seconds: int = CASE_LIMIT_S):
    """Fail a case that takes longer than ``seconds`` (a hang), where signals allow it."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal,
                                                                                 "SIGALRM"):
        yield
        return

    def fire(signum, frame):
        raise AssertionError(f"a fuzz case ran longer than {seconds} s (a hang)")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def assert_one_line(e: BaseException) -> None:
    msg = str(e)
    assert msg and "\n" not in msg and "\r" not in msg, repr(msg[:500])
    assert len(msg) <= MAX_MESSAGE + 200, (len(msg), msg[:300])
    assert "Traceback" not in msg and "set_int_max_str_digits" not in msg, msg


# -- values -----------------------------------------------------------------------------------
EDGE_NUMBERS = [0, -1, 1, 2, 3, 129, 1025, 2 ** 31, 2 ** 63, 2 ** 64, 10 ** 30, 10 ** 400,
                -(10 ** 400), 0.0, -0.0, 0.5, 1.5, 1e-320, 5e-324, 1e8, 1e12, 1e100, 1.1e100,
                1e154, 1e300, -1e300, 1.7976931348623157e308, float("nan"), float("inf"),
                -float("inf")]
#: values that once made a bad message: a traceback, a 5,125-character echo, ...
NASTY = [True, False, None, "x" * 5125, 10 ** 400, -(10 ** 400), list(range(5125)),
         ["y" * 5125], {"k" * 300: 1}, [[[[[[[[[[1]]]]]]]]]], 1e300, 10 ** 12, 2 ** 63, "",
         [True], [None], {"": []}]
hostile = st.deferred(lambda: st.one_of(
    st.sampled_from(NASTY), st.sampled_from(NASTY),
    st.none(), st.booleans(), st.sampled_from(EDGE_NUMBERS),
    st.integers(-(2 ** 70), 2 ** 70), st.floats(width=64),
    st.text(string.printable + "é€\u2028\x00", max_size=12),
    st.sampled_from(["", "x" * 5125, "tanh", "sigmoid", "softmax", "adam", "circle", "xor",
                     "batch", "mse", "ce", "bce", "he", "constant", "l2"]),
    st.lists(st.one_of(st.integers(-3, 300), st.floats(-2, 2)), max_size=5),
    st.dictionaries(st.sampled_from(["a", "mean", "std", "layers", ""]),
                    st.integers(-2, 5), max_size=3),
    st.builds(lambda n: [[[[]]]] * n, st.integers(0, 3)),
    # a copy every time: the mutations below change values in place, and a shared NASTY
    # object changed by one case (once even into a list that contains itself) would leak
    # into the next cases, which Hypothesis rightly calls a flaky strategy
)).map(copy.deepcopy)


def finite_floats(lo=-3.0, hi=3.0):
    return st.one_of(st.floats(lo, hi, allow_nan=False, width=64),
                     st.sampled_from([0.0, 1.0, -1.0, 1e-300, 1e100, -1e100, 1e50]))


# -- structured, near-valid projects ----------------------------------------------------------
OUTPUT_FOR_LOSS = {"mse": ["identity", "sigmoid", "tanh", "relu"], "bce": ["sigmoid"],
                   "ce": ["softmax"]}


@st.composite
def near_valid_projects(draw) -> dict:
    """Mostly valid projects (the data fits the network, the loss fits the targets), with
    the occasional wrong size or value drawn in: the paths a real file takes."""
    kind = draw(st.sampled_from(["table", "generator", "inline"]))
    data_d: dict = {}
    if kind == "table":
        data_d["dataset"] = draw(st.sampled_from(data.TABLES))
        n_in, n_out, targets01 = 2, 1, True
    elif kind == "generator":
        name = draw(st.sampled_from(data.GENERATORS))
        data_d["dataset"] = name
        data_d["samples"] = draw(st.integers(4, 300) | st.sampled_from([3, 100_001, 2.5]))
        data_d["noise"] = draw(finite_floats(0, 0.5) | st.sampled_from([-0.1, 1e300]))
        classes = draw(st.integers(2, 4)) if name in data.MULTICLASS else 2
        if classes != 2 or draw(st.booleans()):
            data_d["classes"] = classes
        n_in, n_out, targets01 = 2, (classes if classes > 2 else 1), name != "plane"
    else:
        rows = draw(st.integers(1, 12))
        n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        targets01 = draw(st.booleans())
        cell = finite_floats()
        tcell = st.sampled_from([0.0, 1.0]) if targets01 else finite_floats()
        data_d["inputs"] = draw(st.lists(st.lists(cell, min_size=n_in, max_size=n_in),
                                         min_size=rows, max_size=rows))
        data_d["targets"] = draw(st.lists(st.lists(tcell, min_size=n_out, max_size=n_out),
                                          min_size=rows, max_size=rows))
        if draw(st.booleans()):
            data_d["input_names"] = [f"in{j}" for j in range(n_in)]
        if draw(st.booleans()):
            data_d["target_names"] = [f"out{j}" for j in range(n_out)]
    if draw(st.booleans()):
        data_d["test_fraction"] = draw(st.sampled_from([0.0, 0.25, 0.5, 0.9, 0.99]))
    if draw(st.booleans()):
        data_d["normalize"] = draw(st.booleans())
    if draw(st.booleans()):
        data_d["seed"] = draw(st.integers(0, 2 ** 32))

    hidden = draw(st.lists(st.integers(1, 8), max_size=3))
    layers = [n_in] + hidden + [n_out]
    if draw(st.integers(0, 9)) == 0:  # a layer that does not fit, or is huge
        k = draw(st.integers(0, len(layers) - 1))
        layers[k] = draw(st.sampled_from([0, 129, 1025, 10 ** 8, 10 ** 12, n_in + 1]))
    losses = ["mse", "bce", "ce"] if targets01 else ["mse"]
    if n_out < 2 and "ce" in losses:
        losses.remove("ce")
    loss = draw(st.sampled_from(losses))
    net = {"layers": layers,
           "hidden_activation": draw(st.sampled_from(["tanh", "sigmoid", "relu", "identity",
                                                       "leaky_relu"])),
           "output_activation": draw(st.sampled_from(OUTPUT_FOR_LOSS[loss]))}
    if draw(st.booleans()) and all(isinstance(n, int) and n <= 16 for n in layers):
        w = finite_floats(-2, 2)
        net["weights"] = [draw(st.lists(st.lists(w, min_size=m, max_size=m), min_size=n,
                                        max_size=n)) for m, n in zip(layers, layers[1:])]
        net["biases"] = [draw(st.lists(w, min_size=n, max_size=n)) for n in layers[1:]]
    training = {"learning_rate": draw(st.sampled_from([1e-4, 0.01, 0.1, 0.5, 3.0, 1000.0])),
                "mode": draw(st.sampled_from(["batch", "minibatch", "stochastic"])),
                "batch_size": draw(st.integers(1, 20)), "loss": loss,
                "optimizer": draw(st.sampled_from(["sgd", "momentum", "adam"])),
                "shuffle": draw(st.booleans()), "seed": draw(st.integers(0, 2 ** 40)),
                "regularization": draw(st.sampled_from(["none", "l1", "l2"])),
                "regularization_rate": draw(st.sampled_from([0.0, 1e-3, 0.1]))}
    init = {"method": draw(st.sampled_from(["constant", "uniform", "xavier", "he"])),
            "seed": draw(st.integers(0, 2 ** 40)), "value": draw(finite_floats(-2, 2)),
            "range": draw(st.sampled_from([0.1, 0.5, 1.0]))}
    d = {"format": "backprop-lab", "version": 1, "network": net, "training": training,
         "initialization": init, "data": data_d}
    if draw(st.booleans()):
        d["meta"] = {"title": draw(st.text(max_size=20)), "description": "fuzz"}
    return d


# -- mutations ---------------------------------------------------------------------------------
def _paths(o, prefix=()):
    """Paths into ``o``: every dict key, the first few list items."""
    yield prefix
    if isinstance(o, dict):
        for k, v in o.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(o, list):
        for i, v in enumerate(o[:3]):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated(draw, base: st.SearchStrategy) -> dict:
    d = json.loads(json.dumps(draw(base)))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(d))
        keyed = [p for p in paths if p and isinstance(p[-1], str)]  # settings, not list items
        path = draw(st.sampled_from(keyed) if keyed and draw(st.booleans())
                    else st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "wrap",
                                   "drop_item", "dup_item"]))
        if not path:
            if op == "replace":
                d = draw(hostile)
                break
            continue
        parent = d
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        if op == "replace":
            parent[key] = draw(hostile)
        elif op == "delete" and isinstance(parent, dict):
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "weights", "biases", "layers", "dataset",
                                         "inputs", "classes", "k" * 300]))] = draw(hostile)
        elif op == "wrap":
            parent[key] = [parent[key]]
        elif op == "drop_item" and isinstance(parent[key], list) and parent[key]:
            parent[key].pop(draw(st.integers(0, len(parent[key]) - 1)))
        elif op == "dup_item" and isinstance(parent[key], list) and parent[key]:
            parent[key].append(parent[key][0])
    return d


PRESET_DICTS = [presets.preset_dict(n) for n in presets.preset_names()]
bases = st.one_of(st.sampled_from(PRESET_DICTS), near_valid_projects())


# -- checking a case ------------------------------------------------------------------------------
def check_project_text(text: str, kind: str) -> None:
    with hang_guard():
        try:
            project = loads(text, "p.json")
        except ProjectError as e:
            assert type(e) is ProjectError
            assert str(e).startswith("p.json: "), str(e)[:200]
            assert_one_line(e)
            COUNTS[kind]["error"] += 1
            return
        # a valid load: it saves and loads back exactly, and it can be trained on
        again = loads(dumps(project), "again.json")
        assert again.to_dict() == project.to_dict()
        ds = data.build(project.data)
        assert ds.n_inputs == project.network.layers[0]
        for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
            assert np.isfinite(a).all() and (np.abs(a) <= data.MAX_MAGNITUDE).all()
        trainer = Trainer(project.network.copy(), project.training, ds.x_train, ds.y_train)
        n = len(ds.x_train)
        batches = -(-n // project.training.effective_batch_size(n))
        if n * project.network.n_params <= TRAIN_BUDGET and batches <= MAX_BATCHES:
            with np.errstate(all="ignore"):
                try:
                    loss = trainer.run_epoch()
                    assert np.isfinite(loss)
                except Divergence as e:
                    assert_one_line(e)
        COUNTS[kind]["valid"] += 1


def _dump(d) -> str:
    return json.dumps(d)  # NaN and Infinity are written as such: loads must refuse them


@_settings("structured")
@given(near_valid_projects())
def test_structured_projects(d):
    check_project_text(_dump(d), "structured")


@_settings("mutated")
@given(mutated(bases))
def test_mutated_projects(d):
    check_project_text(_dump(d), "mutated")


TOKENS = ["9" * 5000, "1e400", "-1e400", "NaN", "Infinity", "-0", "[", "]", "{", "}", ",",
          ":", '"', "\\", "\\u0000", "\ud800", "true", "null", "1" * 300, "[" * 70 + "]" * 70,
          '"layers": [2, 100000000, 1]', '"weights": []', "\x00", "\ufeff"]


@st.composite
def mutated_text(draw) -> str:
    text = json.dumps(draw(st.sampled_from(PRESET_DICTS) | near_valid_projects()))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "truncate", "replace_number"]))
        if op == "insert":
            text = text[:i] + draw(st.sampled_from(TOKENS) | st.text(max_size=3)) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 20)):]
        elif op == "truncate":
            text = text[:i]
        else:
            j = text.find(" ", i)
            if j >= 0:
                text = text[:j + 1] + draw(st.sampled_from(TOKENS[:6])) + text[j + 1:]
    return text


@_settings("text")
@given(mutated_text())
def test_mutated_project_text(text):
    check_project_text(text, "text")


SET_KEYS = ["network.layers", "network.hidden_activation", "network.output_activation",
            "training.learning_rate", "training.mode", "training.batch_size", "training.loss",
            "training.optimizer", "training.seed", "initialization.method",
            "initialization.seed", "initialization.value", "data.dataset", "data.samples",
            "data.noise", "data.classes", "data.inputs", "data.normalize",
            "data.test_fraction", "wat.x", "network", "training.nope"]
SET_VALUES = ["0", "-1", "1e300", "9" * 5000, "true", "null", "[2,8,1]", "[100000000,1]",
              "[2,[3],1]", "tanh", "softmax", "adam", "circle", "spiral", "x" * 5125, "",
              "[" * 100 + "]" * 100, "NaN", "[[0,0],[1,1e300]]", "0.5", "3", "ce"]


GOOD_SETS = ["training.learning_rate=0.5", "training.mode=minibatch", "training.batch_size=3",
             "training.optimizer=adam", "training.seed=7", "initialization.method=he",
             "initialization.seed=3", "network.hidden_activation=relu",
             "data.test_fraction=0.25", "data.normalize=true", "training.regularization=l2",
             "training.regularization_rate=0.01", "initialization.value=0.5"]
a_set = st.one_of(
    st.sampled_from(GOOD_SETS), st.sampled_from(GOOD_SETS),
    st.tuples(st.sampled_from(SET_KEYS), st.sampled_from(SET_VALUES) | st.text(max_size=8))
    .map(lambda kv: f"{kv[0]}={kv[1]}"),
    st.text(max_size=10))


@_settings("overrides")
@given(st.sampled_from(presets.preset_names()), st.lists(a_set, min_size=1, max_size=3))
def test_set_overrides(preset, sets):
    with hang_guard():
        try:
            project = from_dict(apply_overrides(presets.preset_dict(preset), sets))
        except ProjectError as e:
            assert_one_line(e)
            COUNTS["overrides"]["error"] += 1
            return
        data.build(project.data)
        COUNTS["overrides"]["valid"] += 1


# -- CSV imports -----------------------------------------------------------------------------------
CELLS = ["0", "1", "-2.5", " 3 ", "1e300", "1e100", "-1e101", "nan", "inf", "-Infinity", "",
         "abc", "1_000", "0x10", "9" * 400, '"4"', '"5,5"', "1e-320", "+7", ".5", "5.", "1e5"]


@st.composite
def csv_texts(draw) -> tuple[bytes, list[str] | None]:
    n_cols = draw(st.integers(1, 5))
    if draw(st.booleans()):  # plain names
        header = [f"col{j}" for j in range(n_cols)]
    else:
        header = draw(st.lists(st.sampled_from(["a", "b", "c", "x y", "t", "", "1", '"q"', "é"])
                               | st.text("abc,;\" \n", max_size=3), min_size=n_cols,
                               max_size=n_cols))
    number = finite_floats(-1e3, 1e3).map(repr)
    cell = number if draw(st.booleans()) else number | st.sampled_from(CELLS)
    rows = draw(st.lists(st.lists(cell, min_size=n_cols, max_size=n_cols), max_size=12))
    delim = draw(st.sampled_from([",", ";", ","]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r", "\n"]))
    lines = [delim.join(header)] + [delim.join(r) for r in rows]
    text = newline.join(lines) + draw(st.sampled_from(["", newline, newline * 3, "\f"]))
    if draw(st.integers(0, 3)) == 0:  # a random edit: a stray quote, a blank line, a NUL ...
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(['"', "\n", "\n\n", "\x00", ",", ";", "\ufeff",
                                                "\u2028", "\x85"])) + text[i:]
    raw = text.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        raw = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b""])) + raw + \
            draw(st.sampled_from([b"", b"\xff", b"\xc3"]))
    targets = draw(st.none() | st.lists(st.sampled_from(header + ["zz"]), max_size=3))
    return raw, targets


def test_csv_imports():
    with tempfile.TemporaryDirectory(prefix="fuzz-csv-") as folder:
        path = Path(folder) / "fuzz.csv"

        @_settings("csv")
        @given(csv_texts())
        def case(args):
            raw, targets = args
            path.write_bytes(raw)
            with hang_guard():
                try:
                    x, y, names, tnames = data.read_csv(path, targets)
                except data.CsvError as e:
                    assert str(e).startswith("fuzz.csv"), str(e)[:200]
                    assert_one_line(e)
                    COUNTS["csv"]["error"] += 1
                    return
                assert x.shape == (len(y), len(names)) and y.shape[1] == len(tnames) >= 1
                assert np.isfinite(x).all() and np.isfinite(y).all()
                # what the window does with an imported table
                spec = data.DataSpec(inputs=tuple(map(tuple, x.tolist())),
                                     targets=tuple(map(tuple, y.tolist())), input_names=names,
                                     target_names=tnames, normalize=True)
                try:
                    data.build(spec)
                except ValueError as e:
                    assert_one_line(e)
                    COUNTS["csv"]["error"] += 1
                    return
                COUNTS["csv"]["valid"] += 1

        case()


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    """After the module: every kind ran its cases; the figures go to the terminal."""
    yield
    done = {k: v["valid"] + v["error"] for k, v in COUNTS.items()}
    line = ", ".join(f"{k} {done[k]} ({COUNTS[k]['valid']} valid)" for k in COUNTS)
    print(f"\nfuzz cases: {sum(done.values())} in all: {line}")


def test_zz_every_case_ran():
    """Runs last in this module (pytest keeps file order): the totals are what was asked."""
    done = {k: v["valid"] + v["error"] for k, v in COUNTS.items()}
    if any(v == 0 for v in done.values()):
        pytest.skip("only part of the module ran")
    assert sum(done.values()) >= 0.95 * TOTAL, done
    if TOTAL >= DEFAULT_EXAMPLES:
        assert sum(done.values()) >= 5000
    for kind, c in COUNTS.items():  # both outcomes happen: the cases are near the edge
        assert c["valid"] > 0 and c["error"] > 0, (kind, c)
