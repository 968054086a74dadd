"""The project file: a versioned JSON document. Load, validate, save (atomically).

Nothing is ever loaded with pickle or eval: ``json`` with NaN and Infinity refused.
"""

from __future__ import annotations

import copy
import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import data as data_mod
from .init import InitConfig, initialize
from .network import Network
from .training import TrainingConfig, check_compatible

FORMAT = "backprop-lab"
VERSION = 1
TOP_KEYS = {"format", "version", "meta", "network", "training", "initialization", "data",
            "lesson"}
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

    def copy(self) -> Project:
        return Project(self.network.copy(), self.training, self.data, self.init,
                       copy.deepcopy(self.meta), copy.deepcopy(self.lesson))

    def initial_network(self) -> Network:
        """A fresh network of the same shape with the initial weights of ``init``."""
        net = Network(self.network.layers, list(self.network.hidden_activations),
                      self.network.output_activation)
        initialize(net, self.init)
        return net

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
        return out


# -- validation helpers ------------------------------------------------------------------
def _require_dict(obj: Any, where: str) -> dict:
    if not isinstance(obj, dict):
        raise ProjectError(f"{where} must be a JSON object")
    return obj


def _unknown(obj: dict, allowed: set, where: str) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise ProjectError(f"unknown key {where}.{extra[0]}" if where else
                           f"unknown key {extra[0]!r}")


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
        raise ProjectError(f"{where} must be a number, not {v!r}")
    if not math.isfinite(v):
        raise ProjectError(f"{where} is {v}: numbers must be finite")
    return float(v)


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
    w, b = d["weights"], d["biases"]
    n = len(layers) - 1
    if not isinstance(w, list) or len(w) != n:
        raise ProjectError(f"network.weights must hold {n} matrices, one per layer after the "
                           "input")
    if not isinstance(b, list) or len(b) != n:
        raise ProjectError(f"network.biases must hold {n} lists, one per layer after the input")
    for l in range(n):
        net.weights[l][:] = _matrix(w[l], layers[l + 1], layers[l], f"network.weights[{l}]")
        if not isinstance(b[l], list) or len(b[l]) != layers[l + 1]:
            raise ProjectError(f"network.biases[{l}] must be a list of {layers[l + 1]} numbers")
        net.biases[l][:] = [_number(v, f"network.biases[{l}][{i}]") for i, v in
                            enumerate(b[l])]
    return net


def _dataclass_from(cls, d: Any, where: str, allowed: set):
    d = _require_dict(d, where)
    _unknown(d, allowed, where)
    kwargs = {}
    for k, v in d.items():
        default = cls.__dataclass_fields__[k].default
        if isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        kwargs[k] = v
    try:
        obj = cls(**kwargs)
        obj.validate()
    except ValueError as e:
        msg = str(e)
        raise ProjectError(msg if msg.startswith(where) or "." in msg.split(" ")[0]
                           else f"{where}: {msg}") from None
    return obj


def from_dict(d: Any) -> Project:
    """Validate a parsed project object and build a ``Project``."""
    d = _require_dict(d, "the project")
    if d.get("format") != FORMAT:
        raise ProjectError(f"not a Backprop Lab project (\"format\" must be \"{FORMAT}\")")
    version = d.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectError("\"version\" must be a whole number")
    if version > VERSION:
        raise ProjectError(f"this project was saved by a newer Backprop Lab (file version "
                           f"{version}; this version reads up to {VERSION}); please update")
    if version < 1:
        raise ProjectError(f"unsupported project version {version}")
    _unknown(d, TOP_KEYS, "")
    init = _dataclass_from(InitConfig, d.get("initialization", {}), "initialization", INIT_KEYS)
    if "network" not in d:
        raise ProjectError("network is missing")
    net = _network(d["network"], init)
    training = _dataclass_from(TrainingConfig, d.get("training", {}), "training", TRAINING_KEYS)
    try:
        spec = data_mod.spec_from_dict(_require_dict(d.get("data", {"dataset": "xor"}), "data"))
        dataset = data_mod.build(spec)
        check_compatible(net, training)
    except ProjectError:
        raise
    except ValueError as e:
        raise ProjectError(str(e)) from None
    if dataset.n_inputs != net.layers[0]:
        raise ProjectError(f"the data has {dataset.n_inputs} inputs but network.layers[0] is "
                           f"{net.layers[0]}")
    if dataset.n_targets != net.layers[-1]:
        raise ProjectError(f"the data has {dataset.n_targets} targets but the network has "
                           f"{net.layers[-1]} outputs")
    meta = _require_dict(d.get("meta", {}), "meta")
    lesson = d.get("lesson")
    if lesson is not None:
        lesson = _require_dict(lesson, "lesson")
    return Project(net, training, spec, init, meta, lesson)


def _reject_constant(name: str):
    raise ProjectError(f"{name} is not allowed in a project file: numbers must be finite")


def loads(text: str, source: str = "project") -> Project:
    """Parse and validate project JSON; errors name ``source``."""
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except ProjectError as e:
        raise ProjectError(f"{source}: {e}") from None
    except json.JSONDecodeError as e:
        raise ProjectError(f"{source}: not valid JSON (line {e.lineno}, column {e.colno}: "
                           f"{e.msg})") from None
    try:
        return from_dict(obj)
    except ProjectError as e:
        raise ProjectError(f"{source}: {e}") from None


def load(path: str | os.PathLike) -> Project:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise ProjectError(f"{p}: is a folder, not a project file") from None
    except UnicodeDecodeError:
        raise ProjectError(f"{p}: not a text file (expected JSON)") from None
    except OSError as e:
        raise ProjectError(f"{p}: cannot read ({e.strerror})") from None
    return loads(text, str(p))


def dumps(project: Project) -> str:
    return json.dumps(project.to_dict(), indent=1, allow_nan=False) + "\n"


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Write a file through ``write(temporary_path)`` beside ``path``, then replace ``path``
    with it: a crash or a failed write leaves the old file (or none), never half a file.
    ``write`` raises ``OSError`` when it cannot write."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent or ".")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` atomically (see ``atomic_write``), flushed to disk first."""
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    atomic_write(path, write)


def save(project: Project, path: str | os.PathLike) -> None:
    """Save atomically. Raises ``ProjectError`` for a project that cannot be written."""
    try:
        text = dumps(project)
    except ValueError as e:
        raise ProjectError(f"cannot save: {e} (the weights contain NaN or Inf)") from None
    try:
        atomic_write_text(path, text)
    except OSError as e:
        raise ProjectError(f"{path}: cannot write ({e.strerror})") from None


# -- overrides (--set KEY=VALUE) -----------------------------------------------------------
SETTABLE_SECTIONS = {"network": NETWORK_KEYS - {"weights", "biases"},
                     "training": TRAINING_KEYS, "initialization": INIT_KEYS,
                     "data": None}  # data keys are checked by data.spec_from_dict


def parse_value(text: str) -> Any:
    """A --set value: JSON where it parses (numbers, true, lists), else the plain string."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ProjectError):
        return text


def apply_overrides(d: dict, overrides: list[str]) -> dict:
    """Apply ``section.key=value`` overrides to a project dict (a new dict is returned).

    Changing the layers or the initialisation drops the stored weights, so
    the network is built afresh from the initialisation (same seed: same weights).
    """
    d = copy.deepcopy(d)
    reinit = False
    for item in overrides:
        if "=" not in item:
            raise ProjectError(f"--set {item!r}: expected KEY=VALUE, e.g. "
                               "training.learning_rate=0.5")
        key, _, raw = item.partition("=")
        key = key.strip()
        section, _, name = key.partition(".")
        if section not in SETTABLE_SECTIONS or not name:
            raise ProjectError(f"--set: unknown key {key!r} (use network.*, training.*, "
                               "initialization.* or data.*)")
        allowed = SETTABLE_SECTIONS[section]
        if allowed is not None and name not in allowed:
            raise ProjectError(f"--set: unknown key {key!r}")
        d.setdefault(section, {})
        d[section][name] = parse_value(raw)
        if section == "initialization" or (section == "network" and name == "layers"):
            reinit = True
    if reinit and isinstance(d.get("network"), dict):
        d["network"].pop("weights", None)
        d["network"].pop("biases", None)
    return d


def with_network(project: Project, net: Network) -> Project:
    return replace(project, network=net)
