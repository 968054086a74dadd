"""The project file: round trip, validation, atomic save, presets."""

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

from backprop_lab.engine import presets
from backprop_lab.engine import project as project_mod
from backprop_lab.engine.project import (
    MAX_FILE_BYTES,
    ProjectError,
    apply_overrides,
    atomic_write_text,
    check_save_target,
    dumps,
    from_dict,
    load,
    loads,
    remove_stale_temps,
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


# -- saving: what is at the target path -----------------------------------------------------
@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _temps(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_save_keeps_the_mode_of_an_existing_file(tmp_path, umask_022):
    p = presets.load_preset("article-xor")
    for mode in (0o644, 0o600, 0o640, 0o664):
        path = tmp_path / f"m{mode:o}.json"
        path.write_text("{}")
        os.chmod(path, mode)
        save(p, path)
        assert stat_mode(path) == mode
        assert load(path).to_dict() == p.to_dict()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root may give a file to another user")
def test_root_saving_a_users_file_keeps_its_owner(tmp_path):
    path = tmp_path / "users.json"
    path.write_text("{}")
    os.chown(path, 1234, 5678)
    os.chmod(path, 0o640)
    save(presets.load_preset("article-xor"), path)
    st = os.stat(path)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1234, 5678, 0o640)


def test_a_new_file_gets_the_umask_default_not_0600(tmp_path, umask_022):
    p = presets.load_preset("article-xor")
    save(p, tmp_path / "new.json")
    assert stat_mode(tmp_path / "new.json") == 0o644
    os.umask(0o077)
    save(p, tmp_path / "private.json")
    assert stat_mode(tmp_path / "private.json") == 0o600


def stat_mode(path) -> int:
    return os.stat(path).st_mode & 0o7777


def test_save_writes_through_a_symlink_and_keeps_the_link(tmp_path, umask_022):
    p = presets.load_preset("article-xor")
    real = tmp_path / "real" / "project.json"
    real.parent.mkdir()
    real.write_text("old")
    os.chmod(real, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    save(p, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert load(real).to_dict() == p.to_dict()
    assert stat_mode(real) == 0o640
    assert _temps(tmp_path) == [] and _temps(real.parent) == []
    # a link to a file that does not exist yet: the file is made where it points
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "real" / "later.json")
    save(p, dangling)
    assert dangling.is_symlink() and (tmp_path / "real" / "later.json").is_file()


def test_targets_that_are_not_regular_files_are_refused_and_left_alone(tmp_path):
    p = presets.load_preset("article-xor")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    for target, message in ((fifo, "is not a regular file"), (folder, "is a folder"),
                            ("/dev/null", "is not a regular file")):
        with pytest.raises(ProjectError, match=message) as e:
            save(p, target)
        assert str(e.value).startswith(f"{target}: ") and "\n" not in str(e.value)
        with pytest.raises(ProjectError, match=message):
            check_save_target(target)
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # not replaced by a file, even as root
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert _temps(tmp_path) == []
    # a link to a device is refused the same way
    link = tmp_path / "null.json"
    link.symlink_to("/dev/null")
    with pytest.raises(ProjectError, match="is not a regular file"):
        save(p, link)
    assert link.is_symlink()


def test_an_empty_name_is_refused(tmp_path):
    p = presets.load_preset("article-xor")
    with pytest.raises(ProjectError, match="^no file name given$"):
        save(p, "")
    with pytest.raises(ProjectError, match="no file name given"):
        check_save_target("")
    with pytest.raises(ProjectError, match="no file name given"):
        load("")


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(ProjectError, match=r"the folder .*nowhere does not exist"):
        save(presets.load_preset("article-xor"), tmp_path / "nowhere" / "p.json")


@pytest.mark.parametrize("err, message", [
    (13, "is not writable (permission denied)"),
    (30, "is read-only (a read-only file system)"),
    (28, "no space left on the device"),
])
def test_write_failures_say_what_is_wrong_with_the_folder(tmp_path, monkeypatch, err, message):
    """As root nothing is read-only, so the failure is simulated where the temporary file
    is created."""
    real_open = os.open

    def failing_open(path, flags, *args):
        if str(path).endswith(".tmp") and flags & os.O_CREAT:
            raise OSError(err, os.strerror(err), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", failing_open)
    with pytest.raises(ProjectError) as e:
        save(presets.load_preset("article-xor"), tmp_path / "p.json")
    msg = str(e.value)
    assert message in msg and str(tmp_path) in msg and "\n" not in msg, msg
    assert _temps(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_and_file_are_named(tmp_path):
    p = presets.load_preset("article-xor")
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        with pytest.raises(ProjectError, match="is not writable"):
            save(p, ro / "p.json")
    finally:
        os.chmod(ro, 0o755)
    f = tmp_path / "locked.json"
    f.write_text("keep")
    os.chmod(f, 0o444)
    with pytest.raises(ProjectError, match="is read-only"):
        save(p, f)
    assert f.read_text() == "keep"


def test_stale_temporary_files_are_removed_and_others_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    old = time.time() - project_mod.STALE_TEMP_SECONDS - 60
    files = {
        f".p.json.{dead}-0123abcd.tmp": "removed",  # its process is gone
        ".p.json.k2j4h5g6.tmp": "removed",  # an older version's name, old
        ".p.json.zz12ab34.tmp": "kept",  # an older version's name, recent: may be writing
        f".p.json.{os.getpid()}-0123abcd.tmp": "kept",  # this process, recent
        f".p.json.{os.getppid()}-0123abcd.tmp": "kept",  # a running process
        f".other.json.{dead}-0123abcd.tmp": "kept",  # another file's
        ".p.json.notours.tmp": "kept",  # not our pattern
        "p.json.k2j4h5g6.tmp": "kept",  # not hidden: not ours
    }
    for name in files:
        (tmp_path / name).write_text("partial")
    os.utime(tmp_path / ".p.json.k2j4h5g6.tmp", (old, old))
    os.utime(tmp_path / "p.json.k2j4h5g6.tmp", (old, old))
    save(presets.load_preset("article-xor"), tmp_path / "p.json")
    left = {p.name for p in tmp_path.iterdir()}
    for name, fate in files.items():
        assert (name in left) == (fate == "kept"), name
    # a folder with our pattern's name is never touched
    (tmp_path / f".p.json.{dead}-99999999.tmp").mkdir()
    assert remove_stale_temps(tmp_path, "p.json") == 0


def test_atomic_write_is_used_by_exports_with_the_same_rules(tmp_path, umask_022):
    atomic_write_text(tmp_path / "a.csv", "x\n")
    assert stat_mode(tmp_path / "a.csv") == 0o644
    with pytest.raises(OSError, match="^is not a regular file"):
        atomic_write_text("/dev/null", "x\n")


# -- loading: what is at the path, and how big ------------------------------------------------
def test_devices_pipes_and_huge_files_are_refused_before_reading(tmp_path):
    with pytest.raises(ProjectError, match="^/dev/zero: not a regular file"):
        load("/dev/zero")
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    result = []
    t = threading.Thread(target=lambda: result.append(_error_of(load, fifo)), daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "loading a FIFO blocked"
    assert "not a regular file" in result[0]
    big = tmp_path / "big.json"
    with open(big, "wb") as f:  # sparse: nothing is written or read
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ProjectError, match=r"big.json: too large \(32.0 MB; at most 32.0 MB\)"):
        load(big)
    with pytest.raises(ProjectError, match="a folder, not a file"):
        load(tmp_path)


def _error_of(fn, *args) -> str:
    try:
        fn(*args)
    except ProjectError as e:
        return str(e)
    return ""


def test_too_many_lists_are_refused_before_parsing():
    text = "[" + "[]," * (project_mod.MAX_CONTAINERS + 1) + "[]]"
    with pytest.raises(ProjectError, match="too many lists and objects"):
        loads(text, "p.json")


@pytest.mark.parametrize("layers", [[100_000_000, 3, 1], [2, 3, 10 ** 12], [10 ** 12, 1],
                                    [1000] + [128] * 8 + [128]])
def test_huge_layers_are_refused_without_allocating(layers):
    d = json.loads(json.dumps(ARTICLE))
    d["network"] = {"layers": layers}
    tracemalloc.start()
    try:
        with pytest.raises(ProjectError, match=r"network\.layers.*at most"):
            from_dict(d)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_the_largest_network_allowed_loads():
    from backprop_lab.engine.network import MAX_PARAMS, Network
    net = Network([2] + [128] * 8 + [1])
    assert net.n_params < MAX_PARAMS


def test_messages_name_the_key_and_stay_short():
    cases = [
        (("network", "hidden_activation"), True, r"network\.hidden_activation must be an "
                                                 r"activation name or a list"),
        (("network", "hidden_activation"), "x" * 5125, "unknown hidden activation"),
        (("network", "output_activation"), "y" * 5125, "unknown output activation"),
        (("training", "mode"), "z" * 5125, "unknown training.mode"),
        (("data", "inputs"), "w" * 5125, "data.inputs must be a non-empty list of rows"),
        (("data", "input_names"), ["q" * 5125], "data.input_names"),
        (("data", "input_names"), ["a" * 5125, "a" * 5125], "has a name twice"),
        (("data", "k" * 5125), 1, "data has unknown keys"),
        (("training", "k" * 5125), 1, "unknown key training"),
        (("k" * 5125,), 1, "unknown key"),
        (("data", "inputs"), [[0, 0]] * 3 + [list(range(5125))], "data.inputs row 3"),
    ]
    for path, value, message in cases:
        d = json.loads(json.dumps(ARTICLE))
        o = d
        for k in path[:-1]:
            o = o[k]
        o[path[-1]] = value
        with pytest.raises(ProjectError) as e:
            loads(json.dumps(d), "p.json")
        msg = str(e.value)
        assert re.search(message, msg), msg
        assert len(msg) <= project_mod.MAX_MESSAGE and "\n" not in msg, (len(msg), msg[:200])


def test_a_number_with_too_many_digits_says_so_and_where():
    text = json.dumps(ARTICLE).replace('"learning_rate": 0.1', '"learning_rate": ' + "7" * 5000)
    with pytest.raises(ProjectError) as e:
        loads(text, "p.json")
    msg = str(e.value)
    col = text.index("7" * 5000) + 1
    assert msg == f"p.json: the number on line 1, column {col} is too large (5,000 digits)"
    assert "sys.set_int_max_str_digits" not in msg
    with pytest.raises(ProjectError, match=r"^--set training\.learning_rate: the number is too "
                                           r"large"):
        apply_overrides(ARTICLE, ["training.learning_rate=" + "7" * 5000])


def test_out_of_memory_while_loading_is_a_project_error(monkeypatch):
    from backprop_lab.engine import data as data_mod

    def no_memory(spec):
        raise MemoryError

    monkeypatch.setattr(data_mod, "build", no_memory)
    with pytest.raises(ProjectError, match="too large to load"):
        loads(json.dumps(ARTICLE), "p.json")


def test_data_too_large_for_training_is_a_data_message_not_divergence():
    d = json.loads(json.dumps(ARTICLE))
    d["data"]["inputs"][1] = [0, 1e300]
    with pytest.raises(ProjectError, match=r"data\.inputs\[1\]\[1\] is 1e\+300: too large for "
                                           r"training") as e:
        from_dict(d)
    assert "learning rate" not in str(e.value)
    d = {**ARTICLE, "data": {"dataset": "circle", "noise": 1e300}}
    d["network"] = {"layers": [2, 3, 1]}
    with pytest.raises(ProjectError, match=r"data: input 'X1' holds values up to .* lower "
                                           r"data\.noise"):
        from_dict(d)


def test_a_saved_comparison_round_trips_and_a_bad_one_is_left_out_alone(tmp_path):
    d = presets.preset_dict("xor-tanh")
    proj = project_mod.from_dict(d)
    assert proj.comparison is None and "comparison" not in proj.to_dict()
    start = proj.network.copy()
    start.params[:] = np.linspace(-1, 1, start.n_params)
    d["comparison"] = {"epochs": 30,
                       "runs": [{"name": "slow", "set": {"training.learning_rate": 0.01}},
                                {"set": {"training.optimizer": "adam"}}],
                       "start": project_mod.start_to_json(start, start.params)}
    proj = project_mod.from_dict(d)
    assert proj.left_out == [] and proj.comparison == d["comparison"]
    assert project_mod.comparison_start(proj).tobytes() == start.params.tobytes()
    path = tmp_path / "p.json"
    project_mod.save(proj, path)
    again = project_mod.load(path)
    assert again.comparison == d["comparison"]
    # a bad entry: the network and everything else load; one line names the entry
    for comparison, needle in [
            ([1], "comparison must be a JSON object"),
            ({"epochs": 3, "runs": []}, "comparison.runs must be a list of runs"),
            ({"epochs": 3, "runs": [{"set": {"data.x": 1}}], "colour": 1},
             "unknown key comparison.colour"),
            ({"epochs": True, "runs": [{}]}, "comparison.epochs must be a whole number"),
            ({"epochs": 3, "runs": [{"set": {"train.lr": 1}}]},
             "comparison.runs[0].set: unknown key 'train.lr'"),
            ({"epochs": 3, "runs": [{}], "start": {"weights": [[[1, 2]]] * 2,
                                                    "biases": [[0]] * 2}},
             "comparison.start.weights[0] must be a list of 3 rows")]:
        d["comparison"] = comparison
        proj = project_mod.from_dict(d)
        assert proj.comparison is None
        assert len(proj.left_out) == 1 and needle in proj.left_out[0], proj.left_out
        assert proj.left_out[0].endswith("the saved comparison was left out")
        assert proj.network.layers == [2, 3, 1]
