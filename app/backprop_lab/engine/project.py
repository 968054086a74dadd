"""The project file: a versioned JSON document. Load, validate, save (atomically).

Nothing is ever loaded with pickle or eval: ``json`` with NaN and Infinity refused.

Loading reads only regular files of at most ``MAX_FILE_BYTES`` (devices, pipes and
folders are refused before anything is read) and checks every size (layers, parameter
count, data values) before allocating for it. Saving writes a temporary file beside the
target, flushes it to disk and renames it over the target: the target keeps its mode (a
new file gets the umask's), a symbolic link stays a link and its target is written, and
anything that is not a regular file (a device, a pipe, a folder) is refused.
"""

from __future__ import annotations

import copy
import errno
import json
import math
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import data as data_mod
from .init import InitConfig, initialize
from .network import Network
from .training import TrainingConfig, check_compatible, short_repr

#: project files larger than this are refused before they are read
MAX_FILE_BYTES = data_mod.MAX_FILE_BYTES
#: lists and objects in a project file; each costs far more memory than its 2 characters,
#: so their number is checked before the JSON is parsed (a project at the size limits
#: has fewer than 700,000)
MAX_CONTAINERS = 1_000_000
#: a message echoes at most this many characters of the file's own text
MAX_MESSAGE = 300
FORMAT = "backprop-lab"
VERSION = 1
TOP_KEYS = {"format", "version", "meta", "network", "training", "initialization", "data",
            "lesson", "comparison"}
#: the keys of a saved comparison (see ``_comparison``) and of each of its runs
COMPARISON_KEYS = {"epochs", "runs", "start"}
RUN_KEYS = {"name", "set"}
#: a saved comparison trains at most this many epochs per run (the Compare dialog's limit)
MAX_COMPARE_EPOCHS = 10_000_000
NETWORK_KEYS = {"layers", "hidden_activation", "output_activation", "weights", "biases"}
TRAINING_KEYS = set(TrainingConfig.__dataclass_fields__)
INIT_KEYS = set(InitConfig.__dataclass_fields__)


class ProjectError(ValueError):
    """A project file or project object is invalid; the message names the problem."""


@dataclass
class Project:
    """Everything a session needs: network with weights, training, data, initialisation."""

    network: Network
    training: TrainingConfig
    data: data_mod.DataSpec
    init: InitConfig = field(default_factory=InitConfig)
    meta: dict = field(default_factory=dict)
    lesson: dict | None = None
    #: a comparison saved with the project (see ``_comparison``): ``{"epochs": N,
    #: "runs": [{"name": ..., "set": {...}}, ...]}`` and, when the runs start from other
    #: weights than the network's, ``"start": {"weights": ..., "biases": ...}``
    comparison: dict | None = None
    #: what loading left out, one line each, naming the entry and the problem (a broken
    #: saved comparison never keeps the network from loading)
    left_out: list[str] = field(default_factory=list)

    def copy(self) -> Project:
        return Project(self.network.copy(), self.training, self.data, self.init,
                       copy.deepcopy(self.meta), copy.deepcopy(self.lesson),
                       copy.deepcopy(self.comparison), list(self.left_out))

    def to_dict(self) -> dict:
        net = self.network
        out: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        if self.meta:
            out["meta"] = copy.deepcopy(self.meta)
        out["network"] = {
            "layers": list(net.layers),
            "hidden_activation": net.hidden_activation,
            "output_activation": net.output_activation,
            "weights": [w.tolist() for w in net.weights],
            "biases": [b.tolist() for b in net.biases],
        }
        t = self.training
        out["training"] = {k: getattr(t, k) for k in TrainingConfig.__dataclass_fields__}
        out["initialization"] = {k: getattr(self.init, k) for k in InitConfig.__dataclass_fields__}
        out["data"] = data_mod.spec_to_dict(self.data)
        if self.lesson is not None:
            out["lesson"] = copy.deepcopy(self.lesson)
        if self.comparison is not None:
            out["comparison"] = copy.deepcopy(self.comparison)
        return out


# -- validation helpers ------------------------------------------------------------------
def _require_dict(obj: Any, where: str) -> dict:
    if not isinstance(obj, dict):
        raise ProjectError(f"{where} must be a JSON object")
    return obj


def _unknown(obj: dict, allowed: set, where: str) -> None:
    extra = sorted(map(str, set(obj) - allowed))
    if extra:
        key = extra[0] if len(extra[0]) <= 40 else short_repr(extra[0])
        raise ProjectError(f"unknown key {where}.{key}" if where else
                           f"unknown key {short_repr(extra[0])}")


def _matrix(value: Any, rows: int, cols: int, where: str) -> np.ndarray:
    if not isinstance(value, list) or len(value) != rows:
        raise ProjectError(f"{where} must be a list of {rows} rows")
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != cols:
            raise ProjectError(f"{where}[{i}] must be a list of {cols} numbers")
        for j, v in enumerate(row):
            _number(v, f"{where}[{i}][{j}]")
    return np.array(value, dtype=np.float64).reshape(rows, cols)


def _number(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProjectError(f"{where} must be a number, not {short_repr(v)}")
    try:
        f = float(v)
    except OverflowError:  # an integer with hundreds of digits
        raise ProjectError(f"{where} is too large: the number is too large for a "
                           f"floating-point number") from None
    if not math.isfinite(f):
        raise ProjectError(f"{where} is {v}: numbers must be finite")
    return f


def _depth_within(obj: Any, limit: int) -> bool:
    """True if lists and objects in ``obj`` nest at most ``limit`` deep (no recursion)."""
    stack = [(obj, 1)]
    while stack:
        o, depth = stack.pop()
        if isinstance(o, dict):
            children = o.values()
        elif isinstance(o, list):
            children = o
        else:
            continue
        if depth > limit:
            return False
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return True


def _network(d: dict, init: InitConfig) -> Network:
    d = _require_dict(d, "network")
    _unknown(d, NETWORK_KEYS, "network")
    if "layers" not in d:
        raise ProjectError("network.layers is missing")
    layers = d["layers"]
    if not isinstance(layers, list):
        raise ProjectError("network.layers must be a list of unit counts")
    try:
        net = Network(layers, d.get("hidden_activation", "tanh"),
                      d.get("output_activation", "identity"))
    except (ValueError, TypeError) as e:
        raise ProjectError(str(e)) from None
    has_w, has_b = "weights" in d, "biases" in d
    if has_w != has_b:
        raise ProjectError("network.weights and network.biases go together: give both or "
                           "neither")
    if not has_w:
        initialize(net, init)
        return net
    _read_weights(net, d["weights"], d["biases"], "network")
    return net


def _read_weights(net: Network, w: Any, b: Any, where: str) -> None:
    """Put ``weights`` and ``biases`` lists (as a project file holds them) into ``net``;
    ``ProjectError`` names ``where.weights[l][i][j]`` for a bad one."""
    layers = net.layers
    n = len(layers) - 1
    if not isinstance(w, list) or len(w) != n:
        raise ProjectError(f"{where}.weights must hold {n} matrices, one per layer after the "
                           "input")
    if not isinstance(b, list) or len(b) != n:
        raise ProjectError(f"{where}.biases must hold {n} lists, one per layer after the input")
    for l in range(n):
        net.weights[l][:] = _matrix(w[l], layers[l + 1], layers[l], f"{where}.weights[{l}]")
        if not isinstance(b[l], list) or len(b[l]) != layers[l + 1]:
            raise ProjectError(f"{where}.biases[{l}] must be a list of {layers[l + 1]} numbers")
        net.biases[l][:] = [_number(v, f"{where}.biases[{l}][{i}]") for i, v in
                            enumerate(b[l])]


def _dataclass_from(cls, d: Any, where: str, allowed: set):
    d = _require_dict(d, where)
    _unknown(d, allowed, where)
    kwargs = {}
    for k, v in d.items():
        default = cls.__dataclass_fields__[k].default
        if isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool):
            try:
                v = float(v)
            except OverflowError:  # an integer with hundreds of digits
                raise ProjectError(f"{where}.{k} is too large: the number is too large for a "
                                   f"floating-point number") from None
        kwargs[k] = v
    try:
        obj = cls(**kwargs)
        obj.validate()
    except (ValueError, TypeError, OverflowError) as e:
        msg = str(e)
        raise ProjectError(msg if f"{where}." in msg or msg.startswith(where)
                           else f"{where}: {msg}") from None
    return obj


MAX_DEPTH = 64  # lists and objects nested deeper than this are refused


def from_dict(d: Any, base_dir: str | os.PathLike | None = None) -> Project:
    """Validate a parsed project object and build a ``Project``.

    ``base_dir`` is the folder a relative ``data.csv`` path is resolved against (the
    project file's folder; the working folder if ``None``).
    Raises ``ProjectError`` (never ``TypeError``, ``OverflowError`` or ``RecursionError``)
    for anything wrong in it, whatever its types."""
    try:
        return _from_dict(d, base_dir)
    except ProjectError as e:
        raise ProjectError(one_line(str(e))) from None
    except RecursionError:
        raise ProjectError(f"lists or objects nested too deeply (at most {MAX_DEPTH} "
                           f"levels)") from None
    except OverflowError:
        raise ProjectError("a number is too large: the number is too large for a "
                           "floating-point number") from None
    except MemoryError:
        raise ProjectError("the project is too large to load (out of memory)") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
        raise ProjectError(one_line(f"a value has the wrong type ({e})")) from None


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` on one line, shortened in the middle to at most ``limit`` characters."""
    message = " ".join(message.split())
    if len(message) <= limit:
        return message
    half = (limit - 5) // 2
    return f"{message[:half]} ... {message[-half:]}"


def _from_dict(d: Any, base_dir: str | os.PathLike | None = None) -> Project:
    d = _require_dict(d, "the project")
    if not _depth_within(d, MAX_DEPTH):
        raise ProjectError(f"lists or objects nested too deeply (at most {MAX_DEPTH} levels)")
    if d.get("format") != FORMAT:
        raise ProjectError(f"not a Backprop Lab project (\"format\" must be \"{FORMAT}\")")
    version = d.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectError("\"version\" must be a whole number")
    if version > VERSION:
        raise ProjectError(f"this project was saved by a newer Backprop Lab (file version "
                           f"{short_repr(version)}; this version reads up to {VERSION}); "
                           f"please update")
    if version < 1:
        raise ProjectError(f"unsupported project version {short_repr(version)}")
    _unknown(d, TOP_KEYS, "")
    init = _dataclass_from(InitConfig, d.get("initialization", {}), "initialization", INIT_KEYS)
    if "network" not in d:
        raise ProjectError("network is missing")
    net = _network(d["network"], init)
    training = _dataclass_from(TrainingConfig, d.get("training", {}), "training", TRAINING_KEYS)
    try:
        spec = data_mod.spec_from_dict(_require_dict(d.get("data", {"dataset": "xor"}), "data"),
                                       base_dir)
        dataset = data_mod.build(spec)
    except ProjectError:
        raise
    except (ValueError, TypeError) as e:
        raise ProjectError(str(e)) from None
    except OverflowError:
        raise ProjectError("data: a number is too large: the number is too large for a "
                           "floating-point number") from None
    if dataset.normalization is not None and spec.norm_mean is None:
        # fitted now, stored from now on: edits and reloads keep these numbers
        norm = dataset.normalization
        spec = replace(spec, norm_mean=tuple(norm.mean.tolist()),
                       norm_std=tuple(norm.std.tolist()))
    if dataset.n_inputs != net.layers[0]:
        raise ProjectError(f"the data has {dataset.n_inputs} inputs but network.layers[0] is "
                           f"{net.layers[0]}")
    if dataset.n_targets != net.layers[-1]:
        raise ProjectError(f"the data has {dataset.n_targets} targets but the network has "
                           f"{net.layers[-1]} outputs")
    try:  # every target, the test part too: a loss must fit all of them
        check_compatible(net, training, dataset.n_targets,
                         np.vstack([dataset.y_train, dataset.y_test]))
    except ValueError as e:
        raise ProjectError(str(e)) from None
    meta = _require_dict(d.get("meta", {}), "meta")
    for key in ("title", "description"):
        if key in meta and not isinstance(meta[key], str):
            raise ProjectError(f"meta.{key} must be a string, not {short_repr(meta[key])}")
    lesson = d.get("lesson")
    if lesson is not None:
        lesson = _require_dict(lesson, "lesson")
    comparison, left_out = None, []
    if d.get("comparison") is not None:
        try:
            comparison = _comparison(d["comparison"], net)
        except ProjectError as e:  # the rest of the project is the user's work: it loads
            left_out.append(f"{one_line(str(e), 200)}; the saved comparison was left out")
    return Project(net, training, spec, init, meta, lesson, comparison, left_out)


def check_setting_key(key: Any, where: str) -> None:
    """Raise ``ProjectError`` unless ``key`` is a setting ``--set`` accepts
    (``training.learning_rate``, ``data.noise``, ...)."""
    if not isinstance(key, str):
        raise ProjectError(f"{where}: a key must be a string, not {short_repr(key)}")
    section, _, name = key.partition(".")
    if section not in SETTABLE_SECTIONS or not name:
        raise ProjectError(f"{where}: unknown key {short_repr(key)} (use network.*, "
                           "training.*, initialization.* or data.*)")
    allowed = SETTABLE_SECTIONS[section]
    if allowed is not None and name not in allowed:
        raise ProjectError(f"{where}: unknown key {short_repr(key)}")


def check_runs(runs: Any, where: str, allow_empty: bool = False) -> list[dict]:
    """A list of runs (``[{"name": ..., "set": {"section.key": value}}]``, ``name``
    optional) checked for its form and keys; the values are checked when a run is made
    (``runs.compare.variant_project``). Returns plain copies. Raises ``ProjectError``
    naming the entry (``comparison.runs[1].set: unknown key 'training.lr'``)."""
    if not isinstance(runs, list) or not (runs or allow_empty):
        raise ProjectError(f"{where} must be a list of runs (at least one)")
    out = []
    for i, r in enumerate(runs):
        at = f"{where}[{i}]"
        if not isinstance(r, dict):
            raise ProjectError(f"{at} must be a JSON object")
        _unknown(r, RUN_KEYS, at)
        settings = r.get("set", {})
        if not isinstance(settings, dict):
            raise ProjectError(f"{at}.set must be a JSON object of settings")
        for k in settings:
            check_setting_key(k, f"{at}.set")
        if "name" in r and (not isinstance(r["name"], str) or not r["name"].strip()):
            raise ProjectError(f"{at}.name must be a non-empty string")
        out.append(copy.deepcopy(r))
    return out


def _comparison(c: Any, net: Network) -> dict:
    """A saved comparison, checked: ``epochs`` (1 to ``MAX_COMPARE_EPOCHS``), ``runs``
    (``check_runs``) and optionally ``start``, the weights the runs start from (the
    network's shape). Raises ``ProjectError`` naming the entry."""
    c = _require_dict(c, "comparison")
    _unknown(c, COMPARISON_KEYS, "comparison")
    if "epochs" not in c:
        raise ProjectError("comparison.epochs is missing")
    epochs = c["epochs"]
    if isinstance(epochs, bool) or not isinstance(epochs, int) or \
            not 1 <= epochs <= MAX_COMPARE_EPOCHS:
        raise ProjectError(f"comparison.epochs must be a whole number from 1 to "
                           f"{MAX_COMPARE_EPOCHS:,}, not {short_repr(epochs)}")
    if "runs" not in c:
        raise ProjectError("comparison.runs is missing")
    out = {"epochs": epochs, "runs": check_runs(c["runs"], "comparison.runs")}
    if "start" in c:
        start = _require_dict(c["start"], "comparison.start")
        _unknown(start, {"weights", "biases"}, "comparison.start")
        if "weights" not in start or "biases" not in start:
            raise ProjectError("comparison.start needs both weights and biases")
        probe = net.copy()
        _read_weights(probe, start["weights"], start["biases"], "comparison.start")
        out["start"] = {"weights": [w.tolist() for w in probe.weights],
                        "biases": [b.tolist() for b in probe.biases]}
    return out


def comparison_start(project: Project) -> np.ndarray | None:
    """The parameters a saved comparison's runs start from (None: the network's own)."""
    c = project.comparison
    if not c or "start" not in c:
        return None
    probe = project.network.copy()
    _read_weights(probe, c["start"]["weights"], c["start"]["biases"], "comparison.start")
    return probe.params.copy()


def start_to_json(network: Network, params: np.ndarray) -> dict:
    """``comparison.start`` for ``params`` on ``network``'s shape."""
    probe = network.copy()
    probe.params[:] = params
    return {"weights": [w.tolist() for w in probe.weights],
            "biases": [b.tolist() for b in probe.biases]}


def _reject_constant(name: str):
    raise ProjectError(f"{name} is not allowed in a project file: numbers must be finite")


_MAX_DIGITS = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300
_LONG_NUMBER = re.compile(rf"\d{{{_MAX_DIGITS + 1},}}")


def _too_large_number(text: str) -> str:
    """Where the first integer too long for Python to read is: "line L, column C"."""
    m = _LONG_NUMBER.search(text)
    if m is None:
        return "a number is too large"
    line = text.count("\n", 0, m.start()) + 1
    col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
    return (f"the number on line {line}, column {col} is too large ({m.end() - m.start():,} "
            f"digits)")


def loads(text: str, source: str = "project",
          base_dir: str | os.PathLike | None = None) -> Project:
    """Parse and validate project JSON; errors name ``source``. A relative ``data.csv``
    path is resolved against ``base_dir``."""
    source = one_line(str(source), 120)
    if len(text) > MAX_FILE_BYTES:
        raise ProjectError(f"{source}: too large ({len(text):,} characters; at most "
                           f"{MAX_FILE_BYTES:,})")
    containers = text.count("[") + text.count("{")
    if containers > MAX_CONTAINERS:
        raise ProjectError(f"{source}: too many lists and objects ({containers:,}; at most "
                           f"{MAX_CONTAINERS:,})")
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except ProjectError as e:
        raise ProjectError(f"{source}: {e}") from None
    except json.JSONDecodeError as e:
        raise ProjectError(f"{source}: not valid JSON (line {e.lineno}, column {e.colno}: "
                           f"{e.msg})") from None
    except RecursionError:
        raise ProjectError(f"{source}: lists or objects nested too deeply (at most "
                           f"{MAX_DEPTH} levels)") from None
    except MemoryError:
        raise ProjectError(f"{source}: too large to load (out of memory)") from None
    except ValueError as e:  # an integer with more digits than Python reads
        if "digits" in str(e):
            raise ProjectError(f"{source}: {_too_large_number(text)}") from None
        raise ProjectError(one_line(f"{source}: not a readable project ({e})")) from None
    try:
        return from_dict(obj, base_dir)
    except ProjectError as e:
        raise ProjectError(one_line(f"{source}: {e}")) from None


def load(path: str | os.PathLike) -> Project:
    """Read and validate a project file. Raises ``ProjectError`` (one line, naming the
    file) for anything wrong: a missing file, a folder, a device or a pipe (refused without
    reading or waiting), a file over ``MAX_FILE_BYTES``, bad JSON or bad contents."""
    if os.fspath(path) == "":
        raise ProjectError("no file name given")
    p = Path(path)
    name = one_line(str(p), 120)
    try:
        raw = data_mod.read_input_file(p, MAX_FILE_BYTES)
    except data_mod.FileProblem as e:
        raise ProjectError(f"{name}: {e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProjectError(f"{name}: not a text file (expected JSON)") from None
    del raw
    return loads(text, name, p.absolute().parent)


def dumps(project: Project) -> str:
    return json.dumps(project.to_dict(), indent=1, allow_nan=False) + "\n"


class SaveError(OSError):
    """A file cannot be written there; ``str()`` is the reason alone, to follow the path
    ("PATH: is a folder, not a file")."""

    def __init__(self, message: str, err: int = errno.EINVAL):
        super().__init__(err, message)

    def __str__(self) -> str:
        return str(self.strerror)


#: a temporary file older than this, or left by a process that no longer runs, is stale
STALE_TEMP_SECONDS = 600


def _temp_pattern(name: str) -> re.Pattern:
    """Our temporary files for ``name``: ``.NAME.PID-XXXXXXXX.tmp``, and
    ``.NAME.XXXXXXXX.tmp`` from versions that did not record the process."""
    return re.compile(r"\." + re.escape(name) + r"\.(?:(?P<pid>\d{1,10})-)?[a-z0-9_]{8}\.tmp\Z")


def _pid_running(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would send Ctrl-C on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def remove_stale_temps(folder: str | os.PathLike, name: str) -> int:
    """Delete the temporary files a killed save of ``name`` left in ``folder``: ours only
    (by name pattern, regular files), and only when the process that made them no longer
    runs or they are older than ``STALE_TEMP_SECONDS``. Returns how many were removed."""
    pattern = _temp_pattern(name)
    now = time.time()
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        pid = m.group("pid")
        old = now - st.st_mtime > STALE_TEMP_SECONDS
        if pid is not None and int(pid) != os.getpid():
            stale = old or not _pid_running(int(pid))
        else:  # an old-style name, or a save of this process that may still run
            stale = old
        if stale:
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError:
                pass
    return removed


def _write_problem(e: OSError, folder: Path) -> str:
    """What went wrong writing into ``folder``, for a person."""
    where = str(folder) if str(folder) not in ("", ".") else "the current folder"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"the folder {where} is not writable (permission denied)"
    if e.errno == errno.EROFS:
        return f"the folder {where} is read-only (a read-only file system)"
    if e.errno == errno.ENOSPC:
        return "no space left on the device"
    if e.errno == errno.EDQUOT:
        return "the disk quota is used up"
    return f"cannot write ({e.strerror or e})"


def resolve_target(path: str | os.PathLike) -> tuple[Path, os.stat_result | None]:
    """The file a save of ``path`` writes (a symbolic link is followed to its target) and
    its current status (None if it does not exist yet).

    Raises ``SaveError`` for an empty name, a folder, anything that is not a regular file
    (a device such as /dev/null, a pipe, a socket), a read-only file, a folder that does not
    exist or cannot be written: checked before anything is written."""
    if os.fspath(path) == "":
        raise SaveError("no file name given")
    p = Path(path)
    target = Path(os.path.realpath(p)) if p.is_symlink() else p
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise SaveError(f"cannot save there ({e.strerror or e})", e.errno or errno.EINVAL) \
            from None
    except ValueError:  # a NUL character in the name
        raise SaveError("not a valid file name") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise SaveError("is a folder, not a file", errno.EISDIR)
        if not stat.S_ISREG(st.st_mode):
            raise SaveError("is not a regular file (a device, a pipe or a socket); it is "
                            "left alone: choose another name")
        if not os.access(target, os.W_OK):
            raise SaveError("is read-only: it is left alone (make it writable or choose "
                            "another name)", errno.EACCES)
    folder = target.parent
    if not folder.is_dir():
        raise SaveError(f"the folder {folder} does not exist", errno.ENOENT)
    if not os.access(folder, os.W_OK | os.X_OK):
        err = errno.EACCES
        try:
            if os.statvfs(folder).f_flag & os.ST_RDONLY:
                err = errno.EROFS
        except (AttributeError, OSError):
            pass
        raise SaveError(_write_problem(OSError(err, os.strerror(err)), folder), err)
    return target, st


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; best effort)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Write a file through ``write(temporary_path)`` beside ``path``, then replace ``path``
    with it: a crash or a failed write leaves the old file (or none), never half a file.

    The new file keeps the old one's mode (and, where allowed, owner); a new file gets the
    umask's mode, as any program's. A symbolic link is followed: its target is replaced
    and the link stays. Anything but a regular file is refused (``SaveError``, see
    ``resolve_target``); stale temporary files of earlier killed saves are removed.
    ``write`` raises ``OSError`` when it cannot write; every failure is an ``OSError``."""
    target, st = resolve_target(path)
    folder = target.parent
    remove_stale_temps(folder, target.name)
    while True:
        tmp = folder / f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | getattr(os, "O_BINARY", 0), 0o666)  # the umask applies
        except FileExistsError:
            continue
        except OSError as e:
            raise SaveError(_write_problem(e, folder), e.errno or errno.EIO) from None
        os.close(fd)
        break
    try:
        write(str(tmp))
        fd = os.open(tmp, os.O_RDWR | getattr(os, "O_BINARY", 0))
        try:
            os.fsync(fd)
        except OSError as e:  # a file system without fsync (some network or FUSE ones)
            if e.errno not in (errno.EINVAL, errno.ENOTSUP):
                raise
        finally:
            os.close(fd)
        if st is not None:  # best effort: some file systems keep no owner or mode
            if hasattr(os, "chown"):
                mine = os.stat(tmp)
                if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
                    try:
                        os.chown(tmp, st.st_uid, st.st_gid)
                    except OSError:
                        pass
            try:
                os.chmod(tmp, stat.S_IMODE(st.st_mode))
            except OSError:
                pass
        os.replace(tmp, target)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and not isinstance(e, SaveError) and e.errno in (
                errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT):
            raise SaveError(_write_problem(e, folder), e.errno) from None
        raise
    _fsync_folder(folder)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) atomically (see ``atomic_write``), flushed to disk first."""
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    atomic_write(path, write)


def check_save_target(path: str | os.PathLike) -> None:
    """Raise ``ProjectError`` (one line) if ``save`` could not write ``path``: an empty
    name, a folder, a device or pipe, a read-only file, a missing or read-only folder.
    The command line calls it before training, so that nobody waits for a failure."""
    try:
        resolve_target(path)
    except SaveError as e:
        raise ProjectError(_save_message(path, e)) from None


def _save_message(path, e: OSError) -> str:
    name = one_line(os.fspath(path), 120)
    if not name:
        return str(e)
    if isinstance(e, SaveError):
        return f"{name}: {e}"
    return f"{name}: cannot write ({e.strerror or e})"


def save(project: Project, path: str | os.PathLike) -> None:
    """Save atomically (see ``atomic_write``). Raises ``ProjectError`` (one line) for a
    project that cannot be written or a target that cannot be written to.

    A CSV file the data reads is referred to relative to the new file's folder when it
    can be (the file itself is not copied)."""
    spec = project.data
    if spec.csv is not None:
        target = data_mod.csv_path(spec).absolute()
        try:
            rel = Path(os.path.relpath(target, Path(path).absolute().parent)).as_posix()
        except ValueError:  # another drive on Windows
            rel = str(target)
        project = copy.copy(project)
        project.data = replace(spec, csv=rel)
    try:
        text = dumps(project)
    except ValueError as e:
        raise ProjectError(f"cannot save: {e} (the weights contain NaN or Inf)") from None
    try:
        atomic_write_text(path, text)
    except OSError as e:
        raise ProjectError(_save_message(path, e)) from None


# -- overrides (--set KEY=VALUE) -----------------------------------------------------------
SETTABLE_SECTIONS = {"network": NETWORK_KEYS - {"weights", "biases"},
                     "training": TRAINING_KEYS, "initialization": INIT_KEYS,
                     "data": None}  # data keys are checked by data.spec_from_dict


#: data keys that only a generated dataset (data.dataset = a generator) uses
GENERATOR_KEYS = ("samples", "noise", "classes")
#: data keys of an inline table, dropped when --set names a dataset instead
INLINE_KEYS = ("inputs", "targets", "input_names", "target_names", "test_inputs",
               "test_targets", "csv")


def parse_value(text: str) -> Any:
    """A --set value: JSON where it parses (numbers, true, lists), else the plain string.

    Raises ``ProjectError`` for JSON nested too deeply to read and for an integer with
    more digits than Python reads."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ProjectError):
        return text
    except RecursionError:
        raise ProjectError("the value is nested too deeply") from None
    except ValueError as e:  # an integer with more digits than Python reads
        if "digits" in str(e):
            raise ProjectError(f"the number is too large ({len(text.strip()):,} "
                               f"characters)") from None
        return text


def _follow_features(d: dict, features: Any) -> bool:
    """Make network.layers[0] the number of ``features``; True if it changed."""
    net = d.get("network")
    if not isinstance(net, dict) or not isinstance(net.get("layers"), list) or \
            not net["layers"]:
        return False
    if features is None:
        n = data_mod.features_mod.N_RAW
    elif isinstance(features, list) and features:
        n = len(features)
    else:
        return False  # spec_from_dict names the problem
    if net["layers"][0] == n:
        return False
    net["layers"][0] = n
    return True


def apply_overrides(d: dict, overrides: list[str]) -> dict:
    """Apply ``section.key=value`` overrides to a project dict (a new dict is returned).

    Changing the layers or the initialisation drops the stored weights, so
    the network is built afresh from the initialisation (same seed: same weights).
    Setting ``data.dataset`` drops an inline table (inputs, targets and their names)
    or a CSV reference; setting ``data.csv`` drops every key a CSV file cannot go with.
    ``data.samples``, ``data.noise`` and ``data.classes`` are refused unless the data
    is then generated (they would be ignored). Setting ``data.features`` makes the input
    layer as wide as the features (new weights). Setting any data key drops stored
    normalisation statistics (unless it sets them): they are fitted again on the
    training set.
    """
    d = copy.deepcopy(d)
    reinit = False
    data_keys_set: list[str] = []
    for item in overrides:
        if "=" not in item:
            raise ProjectError(f"--set {item!r}: expected KEY=VALUE, e.g. "
                               "training.learning_rate=0.5")
        key, _, raw = item.partition("=")
        key = key.strip()
        check_setting_key(key, "--set")
        section, _, name = key.partition(".")
        try:
            value = parse_value(raw)
        except ProjectError as e:
            raise ProjectError(f"--set {key}: {e}") from None
        if not isinstance(d.get(section, {}), dict):
            raise ProjectError(f"--set {key}: {section} must be a JSON object")
        d.setdefault(section, {})
        d[section][name] = value
        if section == "initialization" or (section == "network" and name == "layers"):
            reinit = True
        if section == "data":
            data_keys_set.append(name)
            if name == "dataset" and value is not None:
                for k in INLINE_KEYS:
                    d["data"].pop(k, None)
            if name == "csv" and value is not None:
                for k in list(d["data"]):
                    v = d["data"][k]
                    if k not in data_mod.CSV_KEYS or (
                            k == "targets" and isinstance(v, list) and v
                            and isinstance(v[0], list)):  # inline rows, not column names
                        del d["data"][k]
            if name == "features":
                reinit = _follow_features(d, value) or reinit
    if data_keys_set and "normalization" not in data_keys_set:
        d["data"].pop("normalization", None)  # fitted again on the (new) training set
    if data_keys_set:
        data = d["data"]
        dataset = data.get("dataset")
        for name in data_keys_set:
            if name in GENERATOR_KEYS and (dataset is None or dataset in data_mod.TABLES):
                what = ("this project has inline data" if dataset is None
                        else f"data.dataset {dataset!r} is a fixed truth table")
                raise ProjectError(f"data.{name} applies to a generated dataset; {what} "
                                   f"(set data.dataset=circle first)")
    if reinit and isinstance(d.get("network"), dict):
        d["network"].pop("weights", None)
        d["network"].pop("biases", None)
    return d

