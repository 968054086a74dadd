"""The project file: round trip, validation, atomic save, presets."""

import json
import os

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
    with pytest.raises(ProjectError, match="No space left"):
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
