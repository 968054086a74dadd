"""Comparisons: every variant equals `backprop-lab train --set KEY=V` to the last bit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backprop_lab.cli import main
from backprop_lab.engine import presets
from backprop_lab.runs.compare import (
    CompareError,
    Comparison,
    Variant,
    csv_chunks,
    curve_summary,
    load_base,
    parse_vary,
    runs_from_json,
    runs_to_json,
    split_values,
)
from backprop_lab.runs.state import RunState
from backprop_lab.runs.timeline import Timeline


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def train_json(capsys, source: list[str], sets: list[str], epochs: int) -> dict:
    args = ["train", *source, "--epochs", str(epochs), "--json"]
    for s in sets:
        args += ["--set", s]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("source, base_sets, vary, epochs", [
    (["--preset", "xor-tanh"], [], "training.learning_rate=0.01,0.1,1", 40),
    (["--preset", "circle"], [], "training.mode=batch,stochastic", 6),
    (["--preset", "circle"], [], "training.batch_size=5,20", 6),
    (["--preset", "spiral"], ["data.samples=80", "training.learning_rate=0.01"],
     "training.optimizer=sgd,momentum,adam", 8),
    (["--preset", "circle"], [], "network.hidden_activation=tanh,relu,sigmoid", 6),
    (["--preset", "circle"], [], "initialization.seed=1,2", 6),
    (["--preset", "circle"], [], "training.loss=mse,bce", 6),
    (["--preset", "regression"], ["data.samples=60"], "training.seed=0,7", 6),
])
def test_every_variant_equals_train_with_the_same_set(capsys, source, base_sets, vary,
                                                      epochs):
    args = ["compare", *source, "--vary", vary, "--epochs", str(epochs), "--json"]
    for s in base_sets:
        args += ["--set", s]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    result = json.loads(out)
    key, _, values = vary.partition("=")
    assert [v["name"] for v in result["variants"]] == [f"{key}={v}" for v in
                                                      values.split(",")]
    curves = []
    for v, text in zip(result["variants"], values.split(",")):
        ref = train_json(capsys, source, base_sets + [f"{key}={text}"], epochs)
        assert v["epochs"] == ref["epochs"] == epochs
        assert v["train_loss"] == ref["train_loss"]  # floats through JSON: bit for bit
        assert v.get("test_loss") == ref.get("test_loss")
        assert v["final_train_loss"] == ref["train_loss"][-1]
        assert v["error"] is None
        curves.append(tuple(v["train_loss"]))
    assert len(set(curves)) == len(curves), "the variants must actually differ"


def test_a_project_file_with_runs(tmp_path, capsys):
    d = presets.preset_dict("xor-tanh")
    d["runs"] = [{"name": "slow", "set": {"training.learning_rate": 0.05}},
                 {"set": {"training.optimizer": "adam", "training.learning_rate": 0.05}}]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    code, out, err = run_cli(capsys, "compare", "--project", str(path), "--epochs", "15",
                             "--json")
    assert code == 0, err
    got = json.loads(out)["variants"]
    assert [v["name"] for v in got] == ["slow", "training.optimizer=adam, "
                                                "training.learning_rate=0.05"]
    ref = train_json(capsys, ["--preset", "xor-tanh"], ["training.optimizer=adam",
                                                        "training.learning_rate=0.05"], 15)
    assert got[1]["train_loss"] == ref["train_loss"]
    # --vary replaces the file's runs
    code, out, _ = run_cli(capsys, "compare", "--project", str(path), "--epochs", "3",
                           "--vary", "training.learning_rate=0.2", "--json")
    assert [v["name"] for v in json.loads(out)["variants"]] == ["training.learning_rate=0.2"]


def test_a_csv_file_as_the_data(tmp_path, capsys):
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (40, 2))
    lines = ["a,b,label"] + [f"{u:.4f},{v:.4f},{int(u * v > 0)}" for u, v in x]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    src = ["--preset", "circle", "--csv", str(path), "--targets", "label"]
    code, out, err = run_cli(capsys, "compare", *src, "--epochs", "5", "--json",
                             "--vary", "training.learning_rate=0.1,1")
    assert code == 0, err
    got = json.loads(out)["variants"]
    for v, lr in zip(got, ("0.1", "1")):
        ref = train_json(capsys, src, [f"training.learning_rate={lr}"], 5)
        assert v["train_loss"] == ref["train_loss"]
    code, _, err = run_cli(capsys, "compare", "--preset", "circle", "--targets", "label",
                           "--vary", "training.learning_rate=1")
    assert code == 2 and "--targets goes with --csv" in err


def test_text_output(capsys):
    code, out, err = run_cli(capsys, "compare", "--preset", "circle", "--epochs", "5",
                             "--vary", "training.learning_rate=0.1,1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("circle: 2 variants, 5 epochs each")
    assert "train loss" in lines[1] and "test loss" in lines[1]
    assert lines[2].startswith("training.learning_rate=0.1 ")
    assert any(c in lines[2] for c in "▁▂▃▄▅▆▇█")


@pytest.mark.parametrize("argv, needle", [
    (["--vary", "training.lr=1,2"], "unknown key 'training.lr'"),
    (["--vary", "training.learning_rate=-1,2"], "learning_rate must be a positive number"),
    (["--vary", "training.learning_rate="], "give the values"),
    (["--vary", "nothing"], "expected KEY=V1,V2"),
    (["--vary", "training.optimizer=sgd,rmsprop"], "unknown training.optimizer 'rmsprop'"),
    (["--vary", "training.loss=ce"], "softmax"),
    (["--epochs", "-3", "--vary", "training.learning_rate=1"], "--epochs must be >= 0"),
    ([], "give --vary"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    code, out, err = run_cli(capsys, "compare", "--preset", "xor-tanh", *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err, err


def test_a_diverging_variant_is_reported_and_the_others_finish(capsys):
    code, out, err = run_cli(capsys, "compare", "--preset", "xor-tanh", "--epochs", "50",
                             "--vary", "training.learning_rate=0.1,1000", "--json")
    got = json.loads(out)["variants"]
    assert code == 1 and "diverged" in err
    assert got[0]["error"] is None and got[0]["epochs"] == 50
    assert got[1]["error"] and got[1]["epochs"] < 50


# -- the API the window uses ------------------------------------------------------------------
def test_progress_interleaves_feeds_timelines_and_cancels():
    base = load_base("circle")
    variants = parse_vary("training.learning_rate=0.1,0.3,1")
    comp = Comparison(base, variants, epochs=30, chunk=7, keep_rows=False)
    lines = [Timeline(r.project.network, r.dataset, r.initial, comp.first_rows(i))
             for i, r in enumerate(comp.runs)]
    seen = []
    for p in comp:
        lines[p.index].record(p.state, p.rows)
        seen.append((p.index, p.state.epoch))
    assert [i for i, _ in seen[:3]] == [0, 1, 2]  # in turn
    assert all(r.epoch == 30 and r.done and not r.rows for r in comp.runs)
    assert seen[-1][1] == 30 and p.done == p.total == 90
    # the timelines hold what training did: same as a comparison that kept its rows
    again = Comparison(base, variants, epochs=30, interleave=False).run()
    for tl, r in zip(lines, again):
        h = r.history()
        np.testing.assert_array_equal(tl.history.train_loss.view(), h[:, 1])
        assert tl.state_at(30).params.tobytes() == r.state.params.tobytes()
        assert r.path_epochs[0] == 0 and r.path_epochs[-1] == 30
        assert r.path[-1].tobytes() == r.state.params.tobytes()
    # stopped between chunks
    comp = Comparison(base, variants, epochs=30, chunk=5)
    it = iter(comp)
    next(it)
    comp.cancel()
    assert list(it) == [] and comp.runs[0].epoch == 5 and comp.runs[1].epoch == 0


def test_same_initial_weights_unless_the_variant_changes_them():
    base = load_base("circle")
    comp = Comparison(base, parse_vary("training.learning_rate=0.1,1")
                      + parse_vary("initialization.seed=5"), epochs=0)
    a, b, c = (r.initial.params for r in comp.runs)
    assert a.tobytes() == b.tobytes() and a.tobytes() != c.tobytes()
    assert comp.runs[0].dataset.x_train.tobytes() == comp.runs[2].dataset.x_train.tobytes()


def test_runs_json_round_trip_and_validation():
    variants = [Variant("lr", {"training.learning_rate": 0.01}),
                Variant("adam, seed 3", {"training.optimizer": "adam", "training.seed": 3}),
                Variant("base", {})]
    assert runs_from_json(runs_to_json(variants)) == variants
    assert runs_from_json([{"set": {"network.layers": [2, 8, 1]}}])[0].name == \
        "network.layers=[2, 8, 1]"
    for bad, needle in [({}, "must be a list"), ([1], "runs[0] must be a JSON object"),
                        ([{"set": {"training.lr": 1}}], "unknown key 'training.lr'"),
                        ([{"set": {}, "colour": "red"}], "unknown key runs[0].colour"),
                        ([{"name": "", "set": {}}], "name must be a non-empty string"),
                        ([{"set": [1]}], "set must be a JSON object")]:
        with pytest.raises(CompareError) as e:
            runs_from_json(bad)
        assert needle in str(e.value)


def test_values_split_outside_brackets_and_quotes():
    assert split_values("0.1,1") == ["0.1", "1"]
    assert split_values("[2,8,1],[2,4,4,1]") == ["[2,8,1]", "[2,4,4,1]"]
    assert split_values('"a,b",c') == ['"a,b"', "c"]
    v = parse_vary("network.layers=[2,8,1],[2,4,1]")
    assert [x.settings for x in v] == [{"network.layers": [2, 8, 1]},
                                       {"network.layers": [2, 4, 1]}]


def test_summary_and_csv():
    s = curve_summary(np.array([1.0, 0.8, 0.4, 0.5, 0.3]))
    assert s == {"initial": 1.0, "final": 0.3, "min": 0.3, "min_epoch": 4, "half_epoch": 2,
                 "quarter": 0.8, "middle": 0.4, "three_quarters": 0.5}
    a = np.array([[0, 1.0, 2.0, np.nan, np.nan], [1, 0.5, 1.5, np.nan, np.nan]])
    b = np.array([[0, 3.0, np.nan, np.nan, np.nan]])
    text = "".join(csv_chunks([("lr 0.1", a), ('say "hi", b', b)], rows_per_chunk=1))
    assert text.splitlines() == [
        'epoch,lr 0.1: train_loss,lr 0.1: test_loss,"say ""hi"", b: train_loss",'
        '"say ""hi"", b: test_loss"',
        "0,1.0,2.0,3.0,", "1,0.5,1.5,,"]


def test_variant_state_starts_like_a_fresh_run():
    base = load_base("xor-tanh")
    comp = Comparison(base, [Variant("base", {})], epochs=0)
    p = presets.load_preset("xor-tanh")
    start = RunState.start(p.network.params, p.training)
    assert comp.runs[0].initial.params.tobytes() == start.params.tobytes()
    assert comp.runs[0].initial.config == start.config
