"""Training data: truth tables, 2-D generators, inline tables, CSV files, splits, z-scores.

A project file's ``"data"`` object becomes a ``DataSpec`` (``spec_from_dict``) and a
``DataSpec`` becomes a ``Dataset`` (``build``), deterministically. Every array handed out
is float64 and C-contiguous, with one row per sample.

Generators draw points roughly in [-1, 1]^2 (shapes after the TensorFlow Playground);
``noise`` is always the standard deviation of Gaussian noise, added to both input
coordinates for the classifiers and to the target for ``plane``:

- circle: class 1 inside radius 0.5, class 0 on the ring 0.7 .. 1.0.
- xor-2d: |x1|, |x2| uniform in 0.05 .. 1; class 1 where x1 * x2 > 0 (quadrants I, III).
- gaussian: one blob (std 0.15) per class; two classes at (0.5, 0.5) and (-0.5, -0.5),
  more on a circle of radius 0.6.
- spiral: one arm per class, 1.75 turns from the centre to radius 1.
- moons: two interleaved half moons (upper one class 0, lower one class 1).
- plane: regression, x uniform in [-1, 1]^2, y = 0.5 * x1 - 0.3 * x2 + noise.
- blobs: one blob (std 0.18) per class, centres on a circle of radius 0.55, the first at
  the top; three classes unless ``classes`` says otherwise.
- sine: regression, x uniform in [-1, 1]^2, y = sin(pi x1) * cos(pi x2) + noise.

Classes are balanced (sizes differ by at most one) and the samples are shuffled.

Beyond the source of the points, a spec says (see ``spec_from_dict`` for the file keys):

- ``features``: the input columns computed from the two raw inputs (``features.py``);
  ``None`` means the raw inputs themselves.
- ``normalize`` with ``norm_mean``/``norm_std``: z-scores applied after the features,
  with the statistics stored so that a reloaded project gives bit-identical inputs
  (``set_normalize`` fits them on the training set).
- ``test_inputs``/``test_targets``: an explicit test part for inline data. Points edited
  by hand (``add_point``, ``move_point``, ``delete_point``) turn any spec into inline
  rows with an explicit split (``to_inline``), so that an edit moves no other point
  between the training and the test part.
- ``csv``/``csv_targets``: a CSV file read when the dataset is built, a relative path
  resolved against ``base_dir`` (the project file's folder).

A ``Dataset`` keeps the raw points (``raw_train``, ``raw_test``) beside the network's
inputs, and ``Dataset.inputs_from_raw`` maps any raw points (a heatmap grid) through the
same features and normalisation.
"""

from __future__ import annotations

import csv
import io
import math
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from . import features as features_mod
from .network import MAX_INPUTS, MAX_OUTPUTS
from .training import short_repr

TABLES = ("xor", "and", "or", "xnor")
GENERATORS = ("circle", "xor-2d", "gaussian", "spiral", "moons", "plane", "blobs", "sine")
DATASETS = TABLES + GENERATORS
MULTICLASS = ("gaussian", "spiral", "blobs")
#: generators whose targets are continuous
REGRESSION = ("plane", "sine")
#: the number of classes a generator makes when the project file does not say
DEFAULT_CLASSES = {"blobs": 3}
BLOBS_RADIUS, BLOBS_STD = 0.55, 0.18
TASKS = ("classification", "regression")
MIN_SAMPLES, MAX_SAMPLES = 4, 100_000
MAX_CLASSES = 10
PLANE_A, PLANE_B = 0.5, -0.3
#: Data values (inputs and targets, before and after normalisation) must lie within
#: +-MAX_MAGNITUDE: training squares and multiplies them, and squares of numbers beyond
#: about 1e154 overflow double precision; this bound leaves room for the network's sums.
MAX_MAGNITUDE = 1e100
#: An inline table or a CSV file holds at most this many numbers (inputs and targets
#: together, e.g. 100,000 rows of 3 inputs and 1 target), so that a project holding it
#: stays well below ``MAX_FILE_BYTES`` when saved.
MAX_DATA_VALUES = 400_000
#: Project and CSV files larger than this are refused before they are read.
MAX_FILE_BYTES = 32 * 1024 * 1024
#: A CSV file has at most this many columns (inputs and targets).
MAX_COLUMNS = MAX_INPUTS + MAX_OUTPUTS

_TABLE_X = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
_TABLE_Y = {"xor": (0, 1, 1, 0), "and": (0, 0, 0, 1), "or": (0, 1, 1, 1), "xnor": (1, 0, 0, 1)}


def default_classes(dataset: str | None) -> int:
    """How many classes ``dataset`` makes when ``classes`` is not given (2, blobs 3)."""
    return DEFAULT_CLASSES.get(dataset, 2)


def _array(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _is_int(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


def _is_number(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating))


def _whole(v, key: str, lo: int, hi: int) -> int:
    if not _is_int(v) or not lo <= v <= hi:
        raise ValueError(f"{key} must be a whole number from {lo} to {hi}, not {short_repr(v)}")
    return int(v)


def _finite(v, key: str, limit: float | None = None) -> float:
    """``v`` as a float; ``key`` names it if it is not a finite number (or, with ``limit``,
    if it lies beyond +-``limit``)."""
    if not _is_number(v):
        raise ValueError(f"{key} must be a number, not {short_repr(v)}")
    try:
        f = float(v)
    except OverflowError:  # an integer with hundreds of digits
        raise ValueError(f"{key}: the number is too large") from None
    if math.isnan(f):
        raise ValueError(f"{key} is NaN")
    if not math.isfinite(f):
        raise ValueError(f"{key} is infinite")
    if limit is not None and abs(f) > limit:
        raise DataError(f"{key} is {f!r}: too large for training (data values must lie "
                        f"within +-{limit:.0e}); scale the data down")
    return f


class DataError(ValueError):
    """Data that cannot be trained on (values too large, a normalisation that overflows);
    the message says what is wrong with the data."""


def _twice(names) -> str:
    """The first name that appears twice in ``names``."""
    seen = set()
    for n in names:
        if n in seen:
            return n
        seen.add(n)
    return ""


def _shorten(text: str, limit: int = 80) -> str:
    """``text`` on one line, shortened in the middle to about ``limit`` characters."""
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= limit else f"{text[:limit // 2]}...{text[-limit // 2:]}"


def _column_list(header: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(_shorten(h, 30) for h in header[:limit])
    return shown + (f", ... ({len(header)} columns)" if len(header) > limit else "")


# -- reading files ----------------------------------------------------------------------
class FileProblem(ValueError):
    """A file that cannot be read as input; the message says why, without the file name."""


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f} MB"


def read_input_file(path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; ``FileProblem`` otherwise.

    Devices (``/dev/zero``), pipes, sockets and folders are refused before anything is
    read, and a pipe is never waited on; a file that grows past the limit while it is read
    is refused too."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise FileProblem("no such file") from None
    except OSError as e:
        raise FileProblem(f"cannot read ({e.strerror or e})") from None
    except ValueError:  # a NUL character in the name
        raise FileProblem("not a valid file name") from None
    _check_input_stat(st, max_bytes)
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileProblem("no such file") from None
    except OSError as e:
        raise FileProblem(f"cannot read ({e.strerror or e})") from None
    try:
        _check_input_stat(os.fstat(fd), max_bytes)  # the file opened is the file checked
        if hasattr(os, "set_blocking"):  # a regular file: plain reads from here on
            os.set_blocking(fd, True)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise FileProblem(f"too large (more than {_megabytes(max_bytes)})")
        return b"".join(chunks)
    except OSError as e:
        raise FileProblem(f"cannot read ({e.strerror or e})") from None
    finally:
        os.close(fd)


def _check_input_stat(st: os.stat_result, max_bytes: int) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise FileProblem("a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise FileProblem("not a regular file (a device, a pipe or a socket)")
    if st.st_size > max_bytes:
        raise FileProblem(f"too large ({_megabytes(st.st_size)}; at most "
                          f"{_megabytes(max_bytes)})")


def _and(names) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _generator_args(name, samples, noise, seed, classes, p: str = ""):
    """Validated (samples, noise, seed, classes); ``p`` prefixes the names in messages."""
    samples = _whole(samples, f"{p}samples", MIN_SAMPLES, MAX_SAMPLES)
    if not _is_number(noise) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"{p}noise must be a number >= 0, not {short_repr(noise)}")
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"{p}seed must be a whole number >= 0, not {short_repr(seed)}")
    classes = _whole(classes, f"{p}classes", 2, MAX_CLASSES)
    if classes != 2 and name not in MULTICLASS:
        raise ValueError(f"{p}classes: only {_and(MULTICLASS)} make more than 2 "
                         f"classes, not {short_repr(name)}")
    if samples < classes:
        raise ValueError(f"{p}samples ({samples}) must be at least {p}classes ({classes})")
    return samples, float(noise), int(seed), classes


# -- normalisation --------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Normalization:
    """Z-score statistics per input column, taken from the training set."""

    mean: np.ndarray
    std: np.ndarray

    @staticmethod
    def fit(x: np.ndarray) -> Normalization:
        """Statistics of ``x``; a constant column gets std 1.0 (no division by zero)."""
        x = _array(x)
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        std[std <= 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
        return Normalization(_array(mean), _array(std))

    def apply(self, x: np.ndarray) -> np.ndarray:
        x = _array(x)
        if x.ndim != 2 or x.shape[1] != len(self.mean):
            raise ValueError(f"normalization is for {len(self.mean)} input columns, the data "
                             f"has shape {x.shape}")
        return _array((x - self.mean) / self.std)

    def to_dict(self) -> dict:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @staticmethod
    def from_dict(d) -> Normalization:
        if not isinstance(d, dict) or set(d) != {"mean", "std"}:
            raise ValueError("normalization must be an object with exactly 'mean' and 'std'")
        mean, std = (_numbers(d[k], f"normalization.{k}") for k in ("mean", "std"))
        if len(mean) != len(std):
            raise ValueError(f"normalization.mean has {len(mean)} values but "
                             f"normalization.std has {len(std)}")
        if min(std) <= 0:
            raise ValueError(f"normalization.std values must be > 0, not {short_repr(min(std))}")
        return Normalization(_array(mean), _array(std))


# -- datasets -------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Dataset:
    """Training and test samples with their names; inputs already normalised if
    ``normalization`` is set. The test part may have zero rows."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    input_names: tuple[str, ...]
    target_names: tuple[str, ...]
    task: str
    normalization: Normalization | None = None
    #: the raw points before features and normalisation (default: x_train / x_test)
    raw_train: np.ndarray | None = None
    raw_test: np.ndarray | None = None
    #: names of the raw input columns (default: input_names)
    raw_names: tuple[str, ...] | None = None
    #: the features the inputs were computed with, or None for the raw inputs
    features: tuple[str, ...] | None = None

    def __post_init__(self):
        for f in ("x_train", "y_train", "x_test", "y_test"):
            object.__setattr__(self, f, _array(getattr(self, f)))
        object.__setattr__(self, "input_names", tuple(self.input_names))
        object.__setattr__(self, "target_names", tuple(self.target_names))
        xt, yt, xs, ys = self.x_train, self.y_train, self.x_test, self.y_test
        if not (xt.ndim == yt.ndim == xs.ndim == ys.ndim == 2 and 0 < len(xt) == len(yt)
                and len(xs) == len(ys) and xs.shape[1] == len(self.input_names) == xt.shape[1]
                and ys.shape[1] == len(self.target_names) == yt.shape[1]):
            raise ValueError("Dataset: the arrays must be 2-D with matching rows and columns, "
                             "one name per column and at least one training sample")
        if self.task not in TASKS:
            raise ValueError(f"unknown Dataset.task {short_repr(self.task)} (choose from "
                             f"{', '.join(TASKS)})")
        self._fill_raw()

    def _fill_raw(self) -> None:
        raw = {"raw_train": self.x_train, "raw_test": self.x_test,
               "raw_names": self.input_names}
        for f, default in raw.items():
            v = getattr(self, f)
            object.__setattr__(self, f, default if v is None else
                               tuple(v) if f == "raw_names" else _array(v))
        rt, rs = self.raw_train, self.raw_test
        if not (rt.ndim == rs.ndim == 2 and len(rt) == len(self.x_train)
                and len(rs) == len(self.x_test) and rt.shape[1] == rs.shape[1]
                == len(self.raw_names)):
            raise ValueError("Dataset: the raw arrays must be 2-D with one row per sample "
                             "and one name per column")
        if self.features is not None:
            object.__setattr__(self, "features", tuple(self.features))

    def inputs_from_raw(self, raw: np.ndarray) -> np.ndarray:
        """The network's inputs for raw points ``raw`` (n, raw columns): the dataset's
        features, then its normalisation, exactly as its own samples were made."""
        raw = _array(raw)
        if raw.ndim != 2 or raw.shape[1] != len(self.raw_names):
            raise ValueError(f"expected raw points of shape (n, {len(self.raw_names)}), not "
                             f"{raw.shape}")
        x = raw if self.features is None else features_mod.apply(self.features, raw)
        return x if self.normalization is None else self.normalization.apply(x)

    @property
    def n_raw(self) -> int:
        """The number of raw input columns (2 for every generated set)."""
        return len(self.raw_names)

    @property
    def n_inputs(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_targets(self) -> int:
        return self.y_train.shape[1]

    @property
    def has_test(self) -> bool:
        return len(self.x_test) > 0


@dataclass(frozen=True)
class DataSpec:
    """What a project file's "data" object says: a named dataset or inline arrays.

    ``samples``, ``noise`` and ``classes`` only matter for generators; ``classes`` > 2
    (gaussian, spiral and blobs only) gives one-hot targets with that many columns.
    The fields after ``classes`` are described in the module docstring; ``base_dir`` is
    not written to the file (it is where the file was read from).
    """

    dataset: str | None = None
    samples: int = 200
    noise: float = 0.0
    seed: int = 0
    test_fraction: float = 0.0
    normalize: bool = False
    inputs: tuple | None = None
    targets: tuple | None = None
    input_names: tuple[str, ...] | None = None
    target_names: tuple[str, ...] | None = None
    classes: int | None = None  # None: default_classes(dataset), 3 for blobs, else 2
    features: tuple[str, ...] | None = None
    norm_mean: tuple[float, ...] | None = None
    norm_std: tuple[float, ...] | None = None
    test_inputs: tuple | None = None
    test_targets: tuple | None = None
    csv: str | None = None
    csv_targets: tuple[str, ...] | None = None
    base_dir: str | None = None

    def __post_init__(self):
        if self.classes is None:
            object.__setattr__(self, "classes", default_classes(self.dataset))


_DEFAULT_SPEC = DataSpec()
#: the fields that are written under their own name (the others: see spec_to_dict)
_SPEC_KEYS = tuple(f.name for f in fields(DataSpec))[:11]
#: the keys a project file's "data" object may hold
FILE_KEYS = _SPEC_KEYS + ("features", "normalization", "test_inputs", "test_targets", "csv")
#: the keys that may go with "csv" (its "targets" are column names)
CSV_KEYS = ("csv", "targets", "seed", "test_fraction", "normalize", "normalization",
            "features")


def _numbers(v, key: str, limit: float | None = None) -> tuple[float, ...]:
    if not isinstance(v, (list, tuple)) or not v:
        raise ValueError(f"{key} must be a non-empty list of numbers, not {short_repr(v)}")
    return tuple(_finite(e, f"{key}[{j}]", limit) for j, e in enumerate(v))


def _rows(v, key: str) -> tuple[tuple[float, ...], ...]:
    """Validate a rectangular, non-empty list of lists of finite numbers within
    +-``MAX_MAGNITUDE``, at most ``MAX_DATA_VALUES`` of them."""
    if not isinstance(v, (list, tuple)) or not v:
        raise ValueError(f"data.{key} must be a non-empty list of rows")
    width = len(v[0]) if isinstance(v[0], (list, tuple)) else 1
    if len(v) * width > MAX_DATA_VALUES:
        raise DataError(f"data.{key} holds {len(v):,} rows of {width} values; at most "
                        f"{MAX_DATA_VALUES:,} data values are supported")
    rows = []
    for i, row in enumerate(v):  # the length first: a long row is not converted for nothing
        if i and isinstance(row, (list, tuple)) and row and len(row) != width:
            raise ValueError(f"data.{key} row {i} has {len(row)} values, expected {width}")
        rows.append(_numbers(row, f"data.{key}[{i}]", MAX_MAGNITUDE))
    rows = tuple(rows)
    return rows


def _names(v, key: str, expected: int) -> tuple[str, ...]:
    if not isinstance(v, (list, tuple)) or not all(isinstance(s, str) and s.strip() for s in v):
        raise ValueError(f"data.{key} must be a list of non-empty strings, not {short_repr(v)}")
    if len(v) != expected:
        raise ValueError(f"data.{key} has {len(v)} names for {expected} columns")
    if len(set(v)) != len(v):
        raise ValueError(f"data.{key} has a name twice: {short_repr(_twice(v))}")
    return tuple(v)


def _base_spec_from_dict(d: dict) -> DataSpec:
    """Validate a project file's "data" object; ``ValueError`` names the bad key.

    Row and column indices in messages count from 0 (``data.targets[2][0] is NaN``).
    """
    if not isinstance(d, dict):
        raise ValueError(f"data must be an object, not {type(d).__name__}")
    unknown = [k for k in d if k not in _SPEC_KEYS]
    if unknown:
        shown = ", ".join(short_repr(k) for k in unknown[:3]) + (", ..." if len(unknown) > 3
                                                                  else "")
        raise ValueError(f"data has unknown keys: {shown} (allowed: {', '.join(_SPEC_KEYS)})")
    g = {k: v for k, v in d.items() if v is not None}.get
    dataset = g("dataset")
    if dataset is not None and dataset not in DATASETS:
        raise ValueError(f"unknown data.dataset {short_repr(dataset)} (choose from "
                         f"{', '.join(DATASETS)})")
    samples, noise, seed, classes = _generator_args(
        dataset, g("samples", 200), g("noise", 0.0), g("seed", 0),
        g("classes", default_classes(dataset)), "data.")
    f = g("test_fraction", 0.0)
    if not _is_number(f) or not 0 <= f < 1:
        raise ValueError(f"data.test_fraction must be a number from 0 to below 1, not "
                         f"{short_repr(f)}")
    normalize = g("normalize", False)
    if not isinstance(normalize, bool):
        raise ValueError(f"data.normalize must be true or false, not {short_repr(normalize)}")
    inputs, targets = g("inputs"), g("targets")
    if dataset is None:
        if inputs is None or targets is None:
            raise ValueError("data needs either 'dataset' or both 'inputs' and 'targets'")
        inputs, targets = _rows(inputs, "inputs"), _rows(targets, "targets")
        if len(inputs) != len(targets):
            raise ValueError(f"data.inputs has {len(inputs)} rows but data.targets has "
                             f"{len(targets)}")
        n_in, n_out = len(inputs[0]), len(targets[0])
        if len(inputs) * (n_in + n_out) > MAX_DATA_VALUES:
            raise DataError(f"data holds {len(inputs) * (n_in + n_out):,} values; at most "
                            f"{MAX_DATA_VALUES:,} are supported")
    else:
        if inputs is not None or targets is not None:
            raise ValueError("data gives both 'dataset' and inline 'inputs'/'targets'; "
                             "choose one")
        n_in, n_out = 2, classes if classes > 2 else 1
    in_names, out_names = g("input_names"), g("target_names")
    return DataSpec(
        dataset=dataset, samples=samples, noise=noise, seed=seed, test_fraction=float(f),
        normalize=normalize, inputs=inputs, targets=targets, classes=classes,
        input_names=None if in_names is None else _names(in_names, "input_names", n_in),
        target_names=None if out_names is None else _names(out_names, "target_names", n_out))


def _base_spec_to_dict(spec: DataSpec) -> dict:
    """The "data" object for a project file; ``spec_from_dict`` gives ``spec`` back.

    Defaults are left out, except the dataset name or the inline rows."""
    out = {}
    for key in _SPEC_KEYS:
        v = getattr(spec, key)
        if v is None or v == getattr(_DEFAULT_SPEC, key):
            continue
        if key in ("inputs", "targets"):
            v = [[float(e) for e in row] for row in v]
        elif key in ("input_names", "target_names"):
            v = list(v)
        out[key] = v
    return out


def spec_from_dict(d: dict, base_dir: str | os.PathLike | None = None) -> DataSpec:
    """Validate a project file's "data" object; ``ValueError`` names the bad key.

    Besides the keys named like ``DataSpec`` fields, the object may hold:

    - ``"features": ["x1", "x2", "x1*x2"]``: the network's input columns (``features.py``);
    - ``"normalization": {"mean": [...], "std": [...]}`` with ``"normalize": true``: the
      stored z-score statistics, one value per input column (after the features);
    - ``"test_inputs"``, ``"test_targets"``: inline rows of an explicit test part (then
      ``test_fraction`` must be 0);
    - ``"csv": "points.csv"`` with ``"targets": ["label"]`` (column names; by default the
      last column): a CSV file, a relative path resolved against ``base_dir``. It goes
      only with ``seed``, ``test_fraction``, ``normalize``, ``normalization`` and
      ``features``: the names come from the file's header.

    Row and column indices in messages count from 0 (``data.targets[2][0] is NaN``).
    """
    if not isinstance(d, dict):
        return _base_spec_from_dict(d)  # raises with the usual message
    unknown = [k for k in d if k not in FILE_KEYS]
    if unknown:
        shown = ", ".join(short_repr(k) for k in unknown[:3]) + (", ..." if len(unknown) > 3
                                                                  else "")
        raise ValueError(f"data has unknown keys: {shown} (allowed: {', '.join(FILE_KEYS)})")
    given = {k: v for k, v in d.items() if v is not None}
    if "csv" in given:
        spec = _csv_spec_from_dict(given, base_dir)
    else:
        spec = _base_spec_from_dict({k: v for k, v in given.items() if k in _SPEC_KEYS})
        spec = _with_test_part(spec, given.get("test_inputs"), given.get("test_targets"))
    features = given.get("features")
    if features is not None:
        features = features_mod.validate(features)
        n_raw = (None if spec.csv is not None else 2 if spec.dataset is not None
                 else len(spec.inputs[0]))
        if n_raw is not None and n_raw != features_mod.N_RAW:
            raise ValueError(f"data.features are computed from {features_mod.N_RAW} raw "
                             f"inputs, but data.inputs has {n_raw} columns")
    norm = given.get("normalization")
    mean = std = None
    if norm is not None:
        if not spec.normalize:
            raise ValueError("data.normalization is given but data.normalize is not true")
        try:
            n = Normalization.from_dict(norm)
        except ValueError as e:
            raise ValueError(f"data.{e}" if str(e).startswith("normalization") else str(e)
                             ) from None
        mean, std = tuple(n.mean.tolist()), tuple(n.std.tolist())
    return _replace(spec, features=features, norm_mean=mean, norm_std=std)


def _replace(spec: DataSpec, **changes) -> DataSpec:
    return DataSpec(**{**{f.name: getattr(spec, f.name) for f in fields(DataSpec)}, **changes})


def _with_test_part(spec: DataSpec, test_inputs, test_targets) -> DataSpec:
    if test_inputs is None and test_targets is None:
        return spec
    if spec.dataset is not None:
        raise ValueError("data.test_inputs and data.test_targets go with inline "
                         "'inputs' and 'targets', not with a named dataset")
    if test_inputs is None or test_targets is None:
        raise ValueError("data.test_inputs and data.test_targets go together: give both or "
                         "neither")
    if spec.test_fraction != 0:
        raise ValueError("data.test_inputs gives the test part itself; data.test_fraction "
                         "must then be 0")
    xs, ys = _rows(test_inputs, "test_inputs"), _rows(test_targets, "test_targets")
    if len(xs) != len(ys):
        raise ValueError(f"data.test_inputs has {len(xs)} rows but data.test_targets has "
                         f"{len(ys)}")
    for key, rows, train in (("test_inputs", xs, spec.inputs),
                             ("test_targets", ys, spec.targets)):
        if len(rows[0]) != len(train[0]):
            name = key.removeprefix("test_")
            raise ValueError(f"data.{key} rows have {len(rows[0])} values, data.{name} rows "
                             f"{len(train[0])}")
    return _replace(spec, test_inputs=xs, test_targets=ys)


def _csv_spec_from_dict(d: dict, base_dir) -> DataSpec:
    other = [k for k in d if k not in CSV_KEYS]
    if other:
        raise ValueError(f"data.csv cannot go with data.{other[0]} (with a CSV file the data "
                         f"may only set {', '.join(CSV_KEYS[1:])})")
    path = d["csv"]
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"data.csv must be the path of a CSV file, not {path!r}"[:200])
    targets = d.get("targets")
    if targets is not None:
        if isinstance(targets, str):
            targets = [targets]
        if (not isinstance(targets, (list, tuple)) or not targets
                or not all(isinstance(t, str) and t.strip() for t in targets)):
            raise ValueError(f"data.targets (with data.csv) must be a list of column names, "
                             f"not {targets!r}"[:200])
        if len(set(targets)) != len(targets):
            raise ValueError(f"data.targets names a column twice: {list(targets)!r}")
        targets = tuple(targets)
    # seed, test_fraction and normalize are checked as for any other data
    base = _base_spec_from_dict({"dataset": "xor", **{k: d[k] for k in
                                 ("seed", "test_fraction", "normalize") if k in d}})
    return DataSpec(seed=base.seed, test_fraction=base.test_fraction, normalize=base.normalize,
                    csv=path, csv_targets=targets,
                    base_dir=None if base_dir is None else str(base_dir))


def spec_to_dict(spec: DataSpec) -> dict:
    """The "data" object for a project file; ``spec_from_dict`` gives ``spec`` back.

    Defaults are left out, except the dataset name, the inline rows or the CSV path."""
    out = _base_spec_to_dict(spec)
    if spec.dataset in DEFAULT_CLASSES:
        if spec.classes == default_classes(spec.dataset):
            out.pop("classes", None)
        else:
            out["classes"] = spec.classes
    if spec.csv is not None:
        head = {"csv": spec.csv}
        if spec.csv_targets is not None:
            head["targets"] = list(spec.csv_targets)
        out = {**head, **out}
    if spec.test_inputs is not None:
        out["test_inputs"] = [[float(e) for e in row] for row in spec.test_inputs]
        out["test_targets"] = [[float(e) for e in row] for row in spec.test_targets]
    if spec.features is not None:
        out["features"] = list(spec.features)
    if spec.norm_mean is not None:
        out["normalization"] = {"mean": [float(v) for v in spec.norm_mean],
                                "std": [float(v) for v in spec.norm_std]}
    return out


def _file_dict(spec: DataSpec) -> dict:
    """Every field of ``spec`` under its file key, defaults included (for validation)."""
    d = {k: getattr(spec, k) for k in _SPEC_KEYS}
    d.update(features=spec.features, test_inputs=spec.test_inputs,
             test_targets=spec.test_targets, csv=spec.csv)
    if spec.norm_mean is not None or spec.norm_std is not None:
        d["normalization"] = {"mean": spec.norm_mean, "std": spec.norm_std}
    if spec.csv is not None:
        d = {k: v for k, v in d.items() if k in CSV_KEYS and v is not None}
        d["targets"] = spec.csv_targets
    return d


def validate_spec(spec: DataSpec) -> DataSpec:
    """``spec`` checked as if it were read from a file (``ValueError`` names the field)."""
    if not isinstance(spec, DataSpec):
        raise ValueError(f"expected a DataSpec, not {type(spec).__name__}")
    return spec_from_dict(_file_dict(spec), spec.base_dir)


def csv_path(spec: DataSpec) -> Path:
    """The CSV file a spec reads: ``spec.csv``, resolved against ``spec.base_dir``."""
    if spec.csv is None:
        raise ValueError("this data does not come from a CSV file")
    p = Path(spec.csv)
    return p if p.is_absolute() or spec.base_dir is None else Path(spec.base_dir) / p


def infer_task(y: np.ndarray) -> str:
    """"classification" if every target is 0 or 1, else "regression"."""
    y = np.asarray(y)
    return "classification" if np.isin(y, (0.0, 1.0)).all() else "regression"


def _default_names(prefix: str, n: int, start: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i + start}" for i in range(n))


def build(spec: DataSpec) -> Dataset:
    """The dataset a spec describes; the same spec always gives the same arrays.

    Raw points come from the table, generator, inline rows or CSV file; they are split
    (by ``test_fraction`` or as given), then turned into the network's inputs: features,
    then normalisation. ``CsvError`` (a ``ValueError``) names a bad CSV line and column.
    """
    spec = validate_spec(spec)
    in_names = out_names = None
    if spec.csv is not None:
        x, y, in_names, out_names = read_csv(csv_path(spec), spec.csv_targets)
        task = infer_task(y)
    elif spec.dataset in TABLES:
        x, y = truth_table(spec.dataset)
        task = "classification"
    elif spec.dataset in GENERATORS:
        x, y = generate(spec.dataset, spec.samples, spec.noise, spec.seed, spec.classes)
        task = "regression" if spec.dataset in REGRESSION else "classification"
    else:
        x, y = _array(spec.inputs), _array(spec.targets)
        task = infer_task(y if spec.test_targets is None
                          else np.vstack([y, _array(spec.test_targets)]))
    if spec.test_inputs is not None:
        raw_train, y_train = x, y
        raw_test, y_test = _array(spec.test_inputs), _array(spec.test_targets)
    else:
        raw_train, y_train, raw_test, y_test = split(x, y, spec.test_fraction, spec.seed)
    raw_names = spec.input_names or in_names or _default_names("X", x.shape[1], 1)
    target_names = spec.target_names or out_names or _default_names("D", y.shape[1], 0)
    hint = ("; lower data.noise" if spec.dataset in GENERATORS and spec.noise > 1.0 else
            "; scale the data down")
    for part_x, part_y in ((raw_train, y_train), (raw_test, y_test)):
        _check_values(part_x, raw_names, "input", hint)
        _check_values(part_y, target_names, "target", hint)
    input_names = raw_names
    x_train, x_test = raw_train, raw_test
    if spec.features is not None:
        if x.shape[1] != features_mod.N_RAW:
            raise ValueError(f"data.features are computed from {features_mod.N_RAW} raw "
                             f"inputs, but the data has {x.shape[1]} input columns")
        x_train = features_mod.apply(spec.features, raw_train)
        x_test = features_mod.apply(spec.features, raw_test)
        input_names = features_mod.labels(spec.features, raw_names)
    norm = None
    if spec.normalize:
        if spec.norm_mean is None:
            with np.errstate(all="ignore"):  # an overflow is reported by check_finite
                norm = Normalization.fit(x_train)
        else:
            if len(spec.norm_mean) != x_train.shape[1]:
                raise ValueError(f"data.normalization has {len(spec.norm_mean)} values for "
                                 f"{x_train.shape[1]} input columns")
            norm = Normalization(_array(spec.norm_mean), _array(spec.norm_std))
        with np.errstate(all="ignore"):
            x_train, x_test = norm.apply(x_train), norm.apply(x_test)
    ds = Dataset(x_train, y_train, x_test, y_test, input_names=input_names,
                 target_names=target_names, task=task, normalization=norm,
                 raw_train=raw_train, raw_test=raw_test, raw_names=raw_names,
                 features=spec.features)
    check_finite(ds)
    return ds


def _check_values(a: np.ndarray, names: Sequence[str], what: str, hint: str = "") -> None:
    """``DataError`` naming the column if ``a`` holds NaN, Inf or values beyond
    +-``MAX_MAGNITUDE``."""
    if a.size == 0:
        return
    with np.errstate(all="ignore"):
        big = np.abs(a)
        worst = big.max(axis=0)
    bad = ~(worst <= MAX_MAGNITUDE)  # NaN compares False
    if not bad.any():
        return
    j = int(np.argmax(bad))
    col = short_repr(names[j], 30) if j < len(names) else str(j)
    if not np.isfinite(a[:, j]).all():
        raise DataError(f"data: {what} {col} holds NaN or infinite values{hint}")
    raise DataError(f"data: {what} {col} holds values up to {float(worst[j]):.3g}, too large "
                    f"for training (data values must lie within +-{MAX_MAGNITUDE:.0e})"
                    f"{hint}")


def check_finite(dataset: Dataset) -> None:
    """Raise ``DataError`` if the data a network would see holds NaN, Inf or values
    beyond +-``MAX_MAGNITUDE`` (for example after a normalisation that overflowed); the
    message names the column and says what is wrong with the data. ``build`` calls it;
    call it for a ``Dataset`` made another way before training on it."""
    norm = dataset.normalization
    if norm is not None and not (np.isfinite(norm.mean).all() and np.isfinite(norm.std).all()):
        j = int(np.argmin(np.isfinite(norm.mean) & np.isfinite(norm.std)))
        name = short_repr(dataset.input_names[j], 30)
        raise DataError(f"data: normalising input {name} overflows (its values are too large "
                        f"to take their mean and standard deviation); scale it down")
    for a, names, what in ((dataset.x_train, dataset.input_names, "input"),
                           (dataset.x_test, dataset.input_names, "input"),
                           (dataset.y_train, dataset.target_names, "target"),
                           (dataset.y_test, dataset.target_names, "target")):
        _check_values(a, names, what + (" (normalised)" if norm is not None and what ==
                                        "input" else ""))


# -- settings and hand edits: pure functions from spec to spec ---------------------------
def set_features(spec: DataSpec, names: Sequence[str] | None) -> DataSpec:
    """``spec`` with the network's inputs computed as ``names`` (``None`` or the raw
    inputs x1, x2 give the raw inputs). With normalisation on, its statistics are fitted
    again to the new columns. The network's input layer must follow (``len(names)``)."""
    names = None if features_mod.is_raw(names) else features_mod.validate(names)
    out = validate_spec(_replace(spec, features=names, norm_mean=None, norm_std=None))
    return set_normalize(out, True) if spec.normalize else out


def set_normalize(spec: DataSpec, on: bool) -> DataSpec:
    """``spec`` with normalisation on, its mean and std fitted on the training set (after
    the features) and stored in the spec; or off, with no statistics. Call it again
    (``refit_normalization``) when the points come from a new source; hand edits keep
    the stored statistics, so the network's inputs for the other points do not move."""
    if not on:
        return validate_spec(_replace(spec, normalize=False, norm_mean=None, norm_std=None))
    plain = build(_replace(spec, normalize=False, norm_mean=None, norm_std=None))
    norm = Normalization.fit(plain.x_train)
    return _replace(spec, normalize=True, norm_mean=tuple(norm.mean.tolist()),
                    norm_std=tuple(norm.std.tolist()))


def refit_normalization(spec: DataSpec) -> DataSpec:
    """``spec`` with its normalisation statistics fitted again (no change when off)."""
    return set_normalize(spec, True) if spec.normalize else spec


def _rows_of(a: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(map(tuple, a.tolist()))


def is_inline(spec: DataSpec) -> bool:
    """True if ``spec`` holds its points as rows with an explicit split (what hand edits
    need): inline rows, and a test part given as rows or none at all."""
    return (spec.dataset is None and spec.csv is None
            and (spec.test_inputs is not None or spec.test_fraction == 0)
            and (not spec.normalize or spec.norm_mean is not None))


def to_inline(spec: DataSpec) -> DataSpec:
    """The same dataset as inline rows with an explicit split: ``build`` gives
    bit-identical arrays, names and task.

    Training rows keep their order (``spec.inputs[i]`` is ``Dataset.raw_train[i]``),
    test rows likewise. Features and names are kept; normalisation statistics are stored
    if they were not. A CSV file's rows are copied (the file is left alone)."""
    if is_inline(validate_spec(spec)):
        return spec
    ds = build(spec)
    task = infer_task(np.vstack([ds.y_train, ds.y_test]))
    if task != ds.task:
        raise ValueError(f"these {ds.task} targets would be read as {task} targets as inline "
                         f"rows")
    norm = ds.normalization
    raw_default = _default_names("X", ds.n_raw, 1)
    target_default = _default_names("D", ds.n_targets, 0)
    return DataSpec(
        inputs=_rows_of(ds.raw_train), targets=_rows_of(ds.y_train),
        test_inputs=_rows_of(ds.raw_test) if ds.has_test else None,
        test_targets=_rows_of(ds.y_test) if ds.has_test else None,
        input_names=None if ds.raw_names == raw_default else ds.raw_names,
        target_names=None if ds.target_names == target_default else ds.target_names,
        features=spec.features, normalize=spec.normalize,
        norm_mean=None if norm is None else tuple(norm.mean.tolist()),
        norm_std=None if norm is None else tuple(norm.std.tolist()))


PARTS = ("train", "test")


def _part(spec: DataSpec, part: str) -> tuple[str, str]:
    if part not in PARTS:
        raise ValueError(f"part must be 'train' or 'test', not {part!r}")
    return ("inputs", "targets") if part == "train" else ("test_inputs", "test_targets")


def _point(spec: DataSpec, x) -> tuple[float, ...]:
    n = len(spec.inputs[0])
    row = _numbers(list(np.ravel(x)) if isinstance(x, np.ndarray) else x, "point")
    if len(row) != n:
        raise ValueError(f"a point has {n} raw inputs, not {len(row)}")
    return row


def _target(spec: DataSpec, y) -> tuple[float, ...]:
    """A target row: the values themselves, or for one-hot targets a class number."""
    n = len(spec.targets[0])
    if isinstance(y, np.ndarray):
        y = y.tolist() if y.ndim else y.item()
    if not isinstance(y, (list, tuple)):
        if n == 1:
            return (_finite(y, "target"),)
        if not _is_int(y) or not 0 <= y < n:
            raise ValueError(f"target: a class number from 0 to {n - 1}, not {y!r}")
        return tuple(float(c == y) for c in range(n))
    row = _numbers(y, "target")
    if len(row) != n:
        raise ValueError(f"a target row has {n} values, not {len(row)}")
    return row


def _index(rows, index, part: str) -> int:
    n = 0 if rows is None else len(rows)
    if not _is_int(index) or not 0 <= index < n:
        raise ValueError(f"no {part} point {index!r} (the {part} part has {n} points)")
    return int(index)


def _with_rows(spec: DataSpec, part: str, xs: tuple, ys: tuple) -> DataSpec:
    kx, ky = _part(spec, part)
    if part == "test" and not xs:
        xs = ys = None  # no test part at all
    return _replace(spec, **{kx: xs, ky: ys})


def add_point(spec: DataSpec, x, y, part: str = "train") -> DataSpec:
    """A new spec with the raw point ``x`` and target ``y`` appended to ``part``.

    ``y`` is a target row, a single number for one target column, or a class number for
    one-hot targets (``add_point(spec, (0.2, -0.4), 2)`` on three classes). The spec
    becomes inline first (``to_inline``); ``spec`` itself is not changed."""
    spec = to_inline(spec)
    kx, ky = _part(spec, part)
    xs, ys = getattr(spec, kx) or (), getattr(spec, ky) or ()
    return _with_rows(spec, part, xs + (_point(spec, x),), ys + (_target(spec, y),))


def move_point(spec: DataSpec, index: int, x, part: str = "train", y=None) -> DataSpec:
    """A new spec with point ``index`` of ``part`` moved to ``x`` (and its target set to
    ``y`` if given); the other points and their order stay."""
    spec = to_inline(spec)
    kx, ky = _part(spec, part)
    xs, ys = getattr(spec, kx), getattr(spec, ky)
    i = _index(xs, index, part)
    new_y = ys[i] if y is None else _target(spec, y)
    return _with_rows(spec, part, xs[:i] + (_point(spec, x),) + xs[i + 1:],
                      ys[:i] + (new_y,) + ys[i + 1:])


def delete_point(spec: DataSpec, index: int, part: str = "train") -> DataSpec:
    """A new spec without point ``index`` of ``part``; later points move up by one.
    The last training point cannot be deleted."""
    spec = to_inline(spec)
    kx, ky = _part(spec, part)
    xs, ys = getattr(spec, kx), getattr(spec, ky)
    i = _index(xs, index, part)
    if part == "train" and len(xs) == 1:
        raise ValueError("the last training point cannot be deleted")
    return _with_rows(spec, part, xs[:i] + xs[i + 1:], ys[:i] + ys[i + 1:])


def split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded random split into (x_train, y_train, x_test, y_test).

    ``round(n * test_fraction)`` samples go to the test part, but at least one sample
    stays for training. Both parts keep the original sample order.
    """
    x, y = _array(x), _array(y)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"split needs two 2-D arrays with the same number of rows, not "
                         f"{x.shape} and {y.shape}")
    if not _is_number(test_fraction) or not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be a number from 0 to below 1, not "
                         f"{short_repr(test_fraction)}")
    n = len(x)
    n_test = min(round(n * test_fraction), n - 1)
    is_test = np.zeros(n, dtype=bool)
    is_test[np.random.default_rng((seed, 1)).permutation(n)[:n_test]] = True
    return _array(x[~is_test]), _array(y[~is_test]), _array(x[is_test]), _array(y[is_test])


# -- tables and generators ------------------------------------------------------------
def truth_table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (0,0), (0,1), (1,0), (1,1) and the one target column of ``name``."""
    if name not in TABLES:
        raise ValueError(f"unknown truth table {short_repr(name)} (choose from "
                         f"{', '.join(TABLES)})")
    return _array(_TABLE_X), _array(_TABLE_Y[name]).reshape(4, 1)


# Each shape draws the n points of class c (of k classes) before noise.
def _circle(rng, c, n, k):
    r = rng.uniform(0.0, 0.5, n) if c == 1 else rng.uniform(0.7, 1.0, n)
    t = rng.uniform(0.0, 2 * np.pi, n)
    return np.column_stack([r * np.cos(t), r * np.sin(t)])


def _xor(rng, c, n, k):
    s1 = rng.choice((-1.0, 1.0), n)
    return rng.uniform(0.05, 1.0, (n, 2)) * np.column_stack([s1, s1 if c == 1 else -s1])


def _gaussian(rng, c, n, k):
    if k == 2:
        centre = (0.5, 0.5) if c == 0 else (-0.5, -0.5)
    else:
        t = 2 * np.pi * c / k + np.pi / 4
        centre = (0.6 * np.cos(t), 0.6 * np.sin(t))
    return rng.normal(centre, 0.15, (n, 2))


def _spiral(rng, c, n, k):
    r = (np.arange(n) + 0.5) / n
    t = 1.75 * 2 * np.pi * r + 2 * np.pi * c / k
    return np.column_stack([r * np.sin(t), r * np.cos(t)])


def _moons(rng, c, n, k):
    t = rng.uniform(0.0, np.pi, n)
    moon = np.column_stack([np.cos(t), np.sin(t)] if c == 0 else
                           [1.0 - np.cos(t), 0.5 - np.sin(t)])
    return (moon - (0.5, 0.25)) / 1.5


def _blobs(rng, c, n, k):
    t = np.pi / 2 + 2 * np.pi * c / k
    return rng.normal((BLOBS_RADIUS * np.cos(t), BLOBS_RADIUS * np.sin(t)), BLOBS_STD, (n, 2))


_SHAPES = {"circle": _circle, "xor-2d": _xor, "gaussian": _gaussian, "spiral": _spiral,
           "moons": _moons, "blobs": _blobs}


def generate(name: str, samples: int, noise: float, seed: int, classes: int = 2
             ) -> tuple[np.ndarray, np.ndarray]:
    """Points of generator ``name``: x (samples, 2) and y (samples, 1), or one-hot y
    (samples, classes) for gaussian, spiral and blobs with more than two classes."""
    if name not in GENERATORS:
        raise ValueError(f"unknown generator {short_repr(name)} (choose from "
                         f"{', '.join(GENERATORS)})")
    samples, noise, seed, classes = _generator_args(name, samples, noise, seed, classes)
    rng = np.random.default_rng(seed)
    if name == "plane":
        x = rng.uniform(-1.0, 1.0, (samples, 2))
        y = PLANE_A * x[:, 0] + PLANE_B * x[:, 1] + rng.normal(0.0, noise, samples)
        return _array(x), _array(y.reshape(-1, 1))
    if name == "sine":
        x = rng.uniform(-1.0, 1.0, (samples, 2))
        y = np.sin(np.pi * x[:, 0]) * np.cos(np.pi * x[:, 1]) + rng.normal(0.0, noise, samples)
        return _array(x), _array(y.reshape(-1, 1))
    sizes = [samples // classes + (c < samples % classes) for c in range(classes)]
    x = np.concatenate([_SHAPES[name](rng, c, n, classes) for c, n in enumerate(sizes)])
    x += rng.normal(0.0, noise, x.shape)
    labels = np.repeat(np.arange(classes), sizes)
    order = rng.permutation(samples)
    x, labels = x[order], labels[order]
    y = labels.reshape(-1, 1) if classes == 2 else np.eye(classes)[labels]
    return _array(x), _array(y)


# -- CSV ------------------------------------------------------------------------------
class CsvError(ValueError):
    """A CSV file that cannot be used; the message names file, line and column."""


def read_csv(path, target_columns: Sequence[str] | None = None
             ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Read a numeric CSV file with a header row: (x, y, input_names, target_names).

    Comma separated, or ';' when the header has semicolons and no commas. Targets are
    the columns named in ``target_columns`` (in that order), by default the last column;
    the other columns are inputs, in file order. Blank lines are allowed only at the end.

    Only a regular file of at most ``MAX_FILE_BYTES`` is read, with at most
    ``MAX_COLUMNS`` columns and ``MAX_DATA_VALUES`` numbers; values beyond
    +-``MAX_MAGNITUDE`` are refused with their line and column.
    """
    name = _shorten(Path(path).name)
    try:
        raw = read_input_file(path, MAX_FILE_BYTES)
    except FileProblem as e:
        raise CsvError(f"{name}: cannot read the file ({e})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CsvError(f"{name}: cannot read the file (not UTF-8 text: byte {e.start + 1})") \
            from None
    del raw
    # every line break splitlines knows, counted before splitting: a file of a million
    # form feeds must not become a million strings
    breaks = sum(text.count(c) for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
    if breaks > 2 * MAX_DATA_VALUES + 1000:
        raise CsvError(f"{name} has too many lines (at most {MAX_DATA_VALUES:,} data values "
                       f"are supported)")
    lines = text.splitlines()
    del text
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise CsvError(f"{name} is empty")
    delimiter = ";" if ";" in lines[0] and "," not in lines[0] else ","
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
        if len(header) > MAX_COLUMNS:
            raise CsvError(f"{name}, line 1 has {len(header):,} columns; at most "
                           f"{MAX_COLUMNS:,} are supported")
        if len(header) < 2:
            raise CsvError(f"{name}, line 1: the header needs at least two columns (inputs "
                           f"and a target), found {len(header)}")
        seen = set()
        for j, h in enumerate(header):
            if not h:
                raise CsvError(f"{name}, line 1, column {j + 1} has no name")
            if h in seen:
                raise CsvError(f"{name}, line 1: column {short_repr(h)} appears twice")
            seen.add(h)
        if all(_parses(h) for h in header):
            raise CsvError(f"{name}, line 1 must be a header with column names, not numbers")
        targets = _target_indices(name, header, target_columns)
        rows = []
        for row in reader:
            ln = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                raise CsvError(f"{name}, line {ln} is blank (blank lines are only allowed at "
                               f"the end)")
            if len(row) != len(header):
                raise CsvError(f"{name}, line {ln} has {len(row)} values, the header has "
                               f"{len(header)}")
            if (len(rows) + 1) * len(header) > MAX_DATA_VALUES:
                raise CsvError(f"{name}, line {ln}: too many values (at most "
                               f"{MAX_DATA_VALUES:,} data values are supported)")
            rows.append([_cell(name, ln, col, cell) for col, cell in zip(header, row)])
    except csv.Error as e:
        raise CsvError(f"{name}, line {reader.line_num}: {e}") from e
    if not rows:
        raise CsvError(f"{name} has a header but no data rows")
    data = np.array(rows, dtype=np.float64)
    inputs = [j for j in range(len(header)) if j not in targets]
    return (_array(data[:, inputs]), _array(data[:, targets]),
            tuple(header[j] for j in inputs), tuple(header[j] for j in targets))


def _parses(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _cell(name: str, line: int, col: str, cell: str) -> float:
    s = cell.strip()
    where = f"{name}, line {line}, column {short_repr(col)}"
    if not s:
        raise CsvError(f"{where} is empty")
    try:
        v = float(s)
    except ValueError:
        raise CsvError(f"{where}: {short_repr(s)} is not a number") from None
    if not math.isfinite(v):
        raise CsvError(f"{where}: {short_repr(s)} is not a finite number")
    if abs(v) > MAX_MAGNITUDE:
        raise CsvError(f"{where}: {short_repr(s)} is too large for training (data values "
                       f"must lie within +-{MAX_MAGNITUDE:.0e}); scale the data down")
    return v


def _target_indices(name: str, header: list[str], chosen: Sequence[str] | None) -> list[int]:
    if chosen is None:
        return [len(header) - 1]
    if isinstance(chosen, str):
        chosen = [chosen]
    if not chosen:
        raise CsvError(f"{name}: choose at least one target column")
    out = []
    for c in chosen:
        if c not in header:
            raise CsvError(f"{name} has no column {short_repr(c)} (columns: "
                           f"{_column_list(header)})")
        if header.index(c) in out:
            raise CsvError(f"{name}: target column {short_repr(c)} is chosen twice")
        out.append(header.index(c))
    if len(out) == len(header):
        raise CsvError(f"{name}: every column is a target; at least one input column is needed")
    return out


def csv_spec(path: str | os.PathLike, targets: Sequence[str] | str | None = None,
             base_dir: str | os.PathLike | None = None, **settings) -> DataSpec:
    """A spec that reads the CSV file ``path`` (targets: column names, by default the
    last column), checked by reading the file now: ``CsvError`` names a bad line and
    column. ``settings`` are other spec fields (``test_fraction``, ``seed``, ...)."""
    d = {"csv": str(path), "targets": targets, **settings}
    spec = spec_from_dict({k: v for k, v in d.items() if v is not None}, base_dir)
    build(spec)
    return spec


def write_csv(path: str | os.PathLike, dataset: Dataset, part: str = "all") -> None:
    """Write the raw inputs and the targets of ``dataset`` as CSV, atomically.

    The header holds the raw input names, then the target names; the rows are the
    training samples then the test samples (``part`` "train" or "test": only those).
    Numbers are written so that ``read_csv`` gives back the same float64 values; reading
    it with the target names as targets gives the same points."""
    if part not in ("all",) + PARTS:
        raise ValueError(f"part must be 'all', 'train' or 'test', not {part!r}")
    header = list(dataset.raw_names) + list(dataset.target_names)
    if len(set(header)) != len(header):
        raise ValueError(f"the columns would repeat a name: {header!r}")
    blocks = []
    if part in ("all", "train"):
        blocks.append((dataset.raw_train, dataset.y_train))
    if part in ("all", "test"):
        blocks.append((dataset.raw_test, dataset.y_test))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for x, y in blocks:
        for row in np.hstack([x, y]).tolist():
            w.writerow([repr(v) for v in row])
    from .project import atomic_write_text  # project imports this module

    atomic_write_text(path, buf.getvalue())
