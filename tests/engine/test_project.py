"""The project file: round trip, validation, atomic save, presets."""

import json
import os
import re

import numpy as np
import pytest

from backprop_lab.engine import presets
from backprop_lab.engine.project import (
    ProjectError,
    apply_overrides,
    dumps,
    from_dict,
    load,
    loads,
    save,
)

ARTICLE = {"format": "backprop-lab", "version": 1,
           "network": {"layers": [2, 3, 1], "hidden_activation": "identity",
                       "output_activation": "identity",
                       "weights": [[[1, 1], [1, 1], [1, 1]], [[1, 1, 1]]],
                       "biases": [[1, 1, 1], [1]]},
           "training": {"learning_rate": 0.1, "mode": "batch", "batch_size": 4, "loss": "mse",
                        "optimizer": "sgd", "shuffle": False, "seed": 0,
                        "regularization": "none", "regularization_rate": 0.0},
           "data": {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [[0], [1], [1], [0]]}}


def test_the_issue_example_loads_as_the_article_network():
    p = from_dict(ARTICLE)
    assert p.network.layers == [2, 3, 1]
    assert np.all(p.network.params == 1.0)
    assert p.training.learning_rate == 0.1 and p.training.mode == "batch"


def test_weights_index_convention():
    d = json.loads(json.dumps(ARTICLE))
    d["network"]["weights"][0][2][1] = 7.0  # from X2 to Z3: W32
    d["network"]["biases"][1][0] = -3.0  # V00
    p = from_dict(d)
    assert p.network.weights[0][2, 1] == 7.0
    assert p.network.biases[1][0] == -3.0


def test_round_trip_is_exact(tmp_path):
    p = presets.load_preset("xor-tanh")
    rng = np.random.default_rng(1)
    p.network.params[:] = rng.normal(size=p.network.n_params) / 3.0  # awkward floats
    path = tmp_path / "x.json"
    save(p, path)
    q = load(path)
    np.testing.assert_array_equal(q.network.params, p.network.params)
    assert q.training == p.training and q.init == p.init and q.data == p.data
    assert dumps(q) == dumps(p)


def test_every_preset_loads_and_round_trips():
    names = presets.preset_names()
    assert {"article-xor", "xor-tanh", "xor-symmetric", "spiral"} <= set(names)
    for name in names:
        p = presets.load_preset(name)
        assert loads(dumps(p)).to_dict() == p.to_dict(), name


def test_article_preset_is_the_article():
    p = presets.load_preset("article-xor")
    assert p.network.layers == [2, 3, 1]
    assert p.network.activation_names == ["identity", "identity"]
    assert np.all(p.network.params == 1.0)
    t = p.training
    assert (t.learning_rate, t.mode, t.loss, t.optimizer, t.shuffle) == (0.1, "batch", "mse",
                                                                         "sgd", False)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(format="other"), "not a Backprop Lab project"),
    (lambda d: d.update(version=99), "newer Backprop Lab"),
    (lambda d: d["network"].update(layers=[2, 0, 1]), "network.layers[1]"),
    (lambda d: d["network"].update(hidden_activation="swish"), "swish"),
    (lambda d: d["network"]["weights"][0].pop(), "network.weights[0]"),
    (lambda d: d["network"]["weights"][1][0].__setitem__(1, "x"), "network.weights[1][0][1]"),
    (lambda d: d["network"]["biases"][0].append(1), "network.biases[0]"),
    (lambda d: d["training"].update(learning_rate=-0.1), "training.learning_rate"),
    (lambda d: d["training"].update(loss="hinge"), "hinge"),
    (lambda d: d["training"].update(momentum=0.9), "training.momentum"),
    (lambda d: d["training"].update(loss="bce"), "sigmoid"),
    (lambda d: d["data"]["inputs"].__setitem__(1, [0]), "data.inputs"),
    (lambda d: d["data"].update(targets=[[0, 1]] * 4), "targets"),
    (lambda d: d.update(extra=1), "extra"),
])
def test_bad_projects_name_the_problem(mutate, message):
    d = json.loads(json.dumps(ARTICLE))
    mutate(d)
    with pytest.raises(ProjectError, match=message.replace("[", r"\[").replace("]", r"\]")):
        from_dict(d)


def test_bad_files(tmp_path):
    with pytest.raises(ProjectError, match="no such file"):
        load(tmp_path / "missing.json")
    f = tmp_path / "broken.json"
    f.write_text('{"format": "backprop-lab",\n "version": 1,,}')
    with pytest.raises(ProjectError, match=r"broken.json: not valid JSON \(line 2"):
        load(f)
    f.write_text(json.dumps(ARTICLE).replace('"learning_rate": 0.1', '"learning_rate": NaN'))
    with pytest.raises(ProjectError, match="NaN"):
        load(f)
    f.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProjectError, match="broken.json"):
        load(f)
    with pytest.raises(ProjectError, match="folder"):
        load(tmp_path)


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    p = presets.load_preset("article-xor")
    path = tmp_path / "keep.json"
    save(p, path)
    original = path.read_text()
    p.network.params[0] = 0.5

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ProjectError, match="keep.json: no space left on the device"):
        save(p, path)
    assert path.read_text() == original
    assert [x.name for x in tmp_path.iterdir()] == ["keep.json"]  # no temporary left


def test_nan_weights_are_not_saved(tmp_path):
    p = presets.load_preset("article-xor")
    p.network.params[3] = np.nan
    with pytest.raises(ProjectError, match="NaN"):
        save(p, tmp_path / "n.json")
    assert not (tmp_path / "n.json").exists()


def test_overrides():
    d = apply_overrides(ARTICLE, ["training.learning_rate=0.5",
                                  "network.hidden_activation=tanh"])
    p = from_dict(d)
    assert p.training.learning_rate == 0.5
    assert p.network.hidden_activations == ["tanh"]
    assert np.all(p.network.params == 1.0)  # activations alone keep the weights
    d = apply_overrides(ARTICLE, ["network.layers=[2,5,1]", "initialization.method=xavier"])
    assert from_dict(d).network.layers == [2, 5, 1]
    with pytest.raises(ProjectError, match="unknown key 'training.speed'"):
        apply_overrides(ARTICLE, ["training.speed=3"])
    with pytest.raises(ProjectError, match="KEY=VALUE"):
        apply_overrides(ARTICLE, ["training.learning_rate"])


# -- loss and targets -----------------------------------------------------------------------
def with_changes(net=None, training=None, data=None) -> dict:
    d = json.loads(json.dumps(ARTICLE))
    d["network"].update(net or {})
    d["training"].update(training or {})
    if data is not None:
        d["data"] = data
    return d


@pytest.mark.parametrize("d, message", [
    (with_changes(net={"output_activation": "softmax"}),
     "softmax needs at least 2 outputs; with one output use sigmoid"),
    (with_changes(net={"output_activation": "softmax"}, training={"loss": "ce"}),
     "softmax needs at least 2 outputs; with one output use sigmoid"),
    (with_changes(net={"output_activation": "sigmoid"}, training={"loss": "bce"},
                  data={"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]],
                        "targets": [[0], [3], [1], [0]]}),
     "loss 'bce' needs targets from 0 to 1"),
    (with_changes(net={"output_activation": "sigmoid"}, training={"loss": "bce"},
                  data={"dataset": "plane"}),
     "loss 'bce' needs targets from 0 to 1"),
])
def test_a_loss_that_cannot_train_on_the_targets_is_refused(d, message):
    d["network"].pop("weights"), d["network"].pop("biases")
    with pytest.raises(ProjectError, match=message):
        from_dict(d)
    with pytest.raises(ProjectError, match=f"^p.json: {message}"):
        loads(json.dumps(d), "p.json")


def test_ce_needs_one_hot_targets_in_a_project():
    data = {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]],
            "targets": [[1, 0], [0, 1], [1, 1], [1, 0]]}
    d = with_changes(net={"layers": [2, 3, 2], "output_activation": "softmax"},
                     training={"loss": "ce"}, data=data)
    del d["network"]["weights"], d["network"]["biases"]
    with pytest.raises(ProjectError, match=r"loss 'ce' needs one-hot targets.*row 2"):
        from_dict(d)
    data["targets"][2] = [0, 1]
    assert from_dict(d).training.loss == "ce"


def test_the_test_part_of_the_targets_is_checked_too():
    d = with_changes(net={"output_activation": "sigmoid"}, training={"loss": "bce"},
                     data={"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]],
                           "targets": [[0], [1], [1], [5]], "test_fraction": 0.5})
    del d["network"]["weights"], d["network"]["biases"]
    with pytest.raises(ProjectError, match="loss 'bce' needs targets"):
        from_dict(d)


# -- hostile input --------------------------------------------------------------------------
HUGE = "9" * 400


@pytest.mark.parametrize("text, message", [
    (json.dumps(ARTICLE).replace('"weights": [[[1, 1]', f'"weights": [[[{HUGE}, 1]'),
     r"network\.weights\[0\]\[0\]\[0\] is too large"),
    (json.dumps(ARTICLE).replace('"biases": [[1, 1, 1]', f'"biases": [[{HUGE}, 1, 1]'),
     r"network\.biases\[0\]\[0\] is too large"),
    (json.dumps(ARTICLE).replace('"learning_rate": 0.1', f'"learning_rate": {HUGE}'),
     r"training\.learning_rate is too large"),
    (json.dumps(ARTICLE).replace('"regularization_rate": 0.0',
                                 f'"regularization_rate": {HUGE}'),
     r"training\.regularization_rate is too large"),
    (json.dumps({**ARTICLE, "initialization": {"value": int(HUGE)}}),
     r"initialization\.value is too large"),
    (json.dumps({**ARTICLE, "initialization": {"seed": int(HUGE)}}),
     r"initialization\.seed must be below 2\*\*63"),
    (json.dumps({**ARTICLE, "initialization": {"method": "uniform", "seed": 1.5}}),
     r"initialization\.seed must be a whole number >= 0, not 1\.5"),
    (json.dumps({**ARTICLE, "initialization": {"method": {"he": 1}}}),
     r"unknown initialization\.method"),
    (json.dumps({**ARTICLE, "initialization": {"range": "wide"}}),
     r"initialization\.range must be a positive number"),
    (json.dumps(ARTICLE).replace('"inputs": [[0, 0]', f'"inputs": [[{HUGE}, 0]'),
     r"data"),
    (json.dumps({**ARTICLE, "data": {"dataset": "circle", "noise": int(HUGE)}}),
     r"data"),
    (json.dumps({**ARTICLE, "meta": {"title": ["a"]}}), r"meta\.title must be a string"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    (json.dumps({**ARTICLE, "meta": {"x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
        [[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}),
     "nested too deeply"),
    (json.dumps(ARTICLE).replace('"weights": [[[1, 1]', '"weights": [[[' + "9" * 5000),
     "p.json"),
    (json.dumps({**ARTICLE, "training": {"seed": int(HUGE)}}),
     r"training\.seed must be below 2\*\*63"),
    (json.dumps(ARTICLE).replace('"layers": [2, 3, 1]', f'"layers": [2, {HUGE}, 1]'),
     r"network\.layers"),
    (json.dumps(ARTICLE).replace('"layers": [2, 3, 1]', '"layers": [2, [3], 1]'),
     r"network\.layers"),
    (json.dumps({**ARTICLE, "data": {"dataset": ["circle"]}}), "data.dataset"),
    (json.dumps({**ARTICLE, "data": {"dataset": "circle", "samples": {"n": 1}}}),
     "data.samples"),
])
def test_hostile_files_give_one_project_error_naming_the_file(text, message):
    with pytest.raises(ProjectError) as err:
        loads(text, "p.json")
    msg = str(err.value)
    assert msg.startswith("p.json: ")
    assert re.search(message, msg), msg
    assert "\n" not in msg and len(msg) < 300


def test_wrong_types_anywhere_never_escape_as_another_error():
    """Every value of every preset replaced, one at a time, by values of the wrong type:
    loads raises ProjectError or succeeds, nothing else."""
    hostile = [10 ** 400, -1, 1.5, True, None, "x", [], {}, [[1]], {"a": [1]}, 2 ** 63]

    def paths(o, p=()):
        yield p
        items = o.items() if isinstance(o, dict) else enumerate(o) \
            if isinstance(o, list) and len(o) < 5 else ()
        for k, v in items:
            yield from paths(v, p + (k,))

    for info in presets.list_presets():
        base = presets.preset_dict(info.name)
        for p in list(paths(base))[1:]:
            for v in hostile:
                d = json.loads(json.dumps(base))
                o = d
                for k in p[:-1]:
                    o = o[k]
                o[p[-1]] = v
                try:
                    loads(json.dumps(d), "p.json")
                except ProjectError:
                    pass


# -- overrides on data ----------------------------------------------------------------------
@pytest.mark.parametrize("key", ["noise=0.2", "samples=50", "classes=3"])
def test_generator_settings_are_refused_on_inline_data(key):
    with pytest.raises(ProjectError, match=rf"^data\.{key.split('=')[0]} applies to a "
                                           r"generated dataset; this project has inline data "
                                           r"\(set data\.dataset=circle first\)$"):
        apply_overrides(ARTICLE, [f"data.{key}"])
    xor = presets.preset_dict("xor-tanh")
    with pytest.raises(ProjectError, match="applies to a generated dataset"):
        apply_overrides(xor, [f"data.{key}"])


def test_setting_a_dataset_drops_the_inline_table():
    d = dict(ARTICLE, data=dict(ARTICLE["data"], input_names=["a", "b"], target_names=["t"]))
    out = apply_overrides(d, ["data.dataset=circle"])
    assert out["data"] == {"dataset": "circle"}
    assert from_dict(out).data.dataset == "circle"
    # in either order, the generator settings then apply
    for sets in (["data.dataset=circle", "data.noise=0.2", "data.samples=50"],
                 ["data.noise=0.2", "data.samples=50", "data.dataset=circle"]):
        p = from_dict(apply_overrides(d, sets))
        assert (p.data.dataset, p.data.noise, p.data.samples) == ("circle", 0.2, 50)
    assert d["data"]["inputs"] == ARTICLE["data"]["inputs"]  # the input is not changed


def test_a_deeply_nested_set_value_is_one_error():
    with pytest.raises(ProjectError, match="--set network.layers: the value is nested too"):
        apply_overrides(ARTICLE, ["network.layers=" + "[" * 100000 + "]" * 100000])
