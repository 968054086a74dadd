"""Comparisons: variants of one setup that differ in a setting, trained side by side. No Qt.

A ``Variant`` is a name and the settings it changes (``{"training.learning_rate": 0.01}``,
the keys of ``backprop-lab train --set``). Every variant starts from the same project:
the same initial weights (unless it changes the layers or the initialisation), data and
shuffling seed (unless it changes them). Its project is made exactly as ``train --set``
makes one (``apply_overrides`` on the base project's dict, then ``from_dict``) and it
trains in the window's own ``TrainingLoop``, so its losses equal ``train --set KEY=V``'s
to the last bit.

``Comparison`` trains the variants in turn, ``chunk`` epochs at a time, and yields a
``Progress`` after each chunk (the variant's new rows and its state: enough to feed a
``Timeline``), so a worker thread can run it with progress and stop it between chunks.

A project file carries a comparison (the window's Compare saves the last one it ran)
under ``"comparison"``: the runs and the epochs, and the weights they start from when
those are not the network's own (``engine.project`` checks it)::

    "comparison": {"epochs": 300,
                   "runs": [{"name": "lr 0.01", "set": {"training.learning_rate": 0.01}},
                            {"name": "Adam", "set": {"training.optimizer": "adam",
                                                     "training.learning_rate": 0.01}},
                            {"name": "seed 2", "set": {"initialization.seed": 2}}],
                   "start": {"weights": [...], "biases": [...]}}

``name`` is optional (default: the settings written as ``key=value``); ``set`` may be
empty (the base setup itself). Seeds are settings like any other, so the runs replay to
the same numbers from the file. ``runs_from_json``/``runs_to_json`` read and write the
list; a list under a top-level ``"runs"`` (older files of the command line) is read too.

``backprop-lab compare`` is ``main`` here (``cli`` only registers it); like ``train`` it
takes ``--preset`` or ``--project``, ``--set`` for the base and ``--csv``/``--targets``.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import data as data_mod
from ..engine import presets
from ..engine.data import Dataset
from ..engine.project import (
    Project,
    ProjectError,
    apply_overrides,
    check_runs,
    check_setting_key,
    from_dict,
    loads,
    parse_value,
)
from ..engine.training import Trainer
from . import edits
from .loop import TrainingLoop
from .state import RunState

CHUNK_EPOCHS = 25
#: ``compare`` trains this many epochs when neither --epochs nor a saved comparison says
DEFAULT_EPOCHS = 100
SPARK = "▁▂▃▄▅▆▇█"


class CompareError(ValueError):
    """Bad input for a comparison; the message is one line naming the problem."""


# -- variants ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """A name and the settings it changes (``"section.key"`` -> a JSON value)."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict)

    def overrides(self) -> list[str]:
        """The settings as ``--set`` items (``key=JSON``; parsed back to the same value)."""
        return [f"{k}={json.dumps(v)}" for k, v in self.settings.items()]


def default_name(settings: dict[str, Any]) -> str:
    if not settings:
        return "base"
    return ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}"
                     for k, v in settings.items())


def check_key(key: str, where: str = "--vary") -> None:
    """Raise ``CompareError`` unless ``key`` is a setting ``--set`` accepts."""
    try:
        check_setting_key(key, where)
    except ProjectError as e:
        raise CompareError(str(e)) from None


def split_values(text: str) -> list[str]:
    """``V1,V2,...`` split at the commas outside brackets and quotes (so ``[2,8,1]`` and
    ``"a,b"`` stay whole)."""
    out, depth, quote, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if quote:
            if ch == '"' and text[i - 1] != "\\":
                quote = False
        elif ch == '"':
            quote = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [v.strip() for v in out]


def parse_vary(item: str) -> list[Variant]:
    """The variants of one ``--vary KEY=V1,V2,...``: one per value, each changing KEY.
    Raises ``CompareError``."""
    if "=" not in item:
        raise CompareError(f"--vary {item!r}: expected KEY=V1,V2,..., e.g. "
                           "training.learning_rate=0.01,0.1,1")
    key, _, text = item.partition("=")
    key = key.strip()
    check_key(key)
    values = split_values(text)
    if not text.strip() or any(v == "" for v in values):
        raise CompareError(f"--vary {key}: give the values separated by commas, e.g. "
                           f"{key}=V1,V2")
    try:
        return [Variant(f"{key}={v}", {key: parse_value(v)}) for v in values]
    except ProjectError as e:
        raise CompareError(f"--vary {key}: {e}") from None


def runs_from_json(obj: Any, where: str = "runs") -> list[Variant]:
    """Variants from a list of runs (a saved comparison's ``"runs"``). Raises
    ``CompareError`` naming the problem (``runs[1].set: unknown key 'training.lr'``)."""
    try:
        runs = check_runs(obj, where, allow_empty=True)
    except ProjectError as e:
        raise CompareError(str(e)) from None
    return [Variant(r.get("name", default_name(r.get("set", {}))), dict(r.get("set", {})))
            for r in runs]


def runs_to_json(variants: Iterable[Variant]) -> list[dict]:
    """The ``"runs"`` list of a project file."""
    return [{"name": v.name, "set": dict(v.settings)} for v in variants]


# -- the base project ------------------------------------------------------------------------
@dataclass
class Base:
    """The setup the variants change: its project as a dict (``--set`` already applied
    in the same call as each variant's settings, as ``train`` does), its folder and the
    runs a project file lists."""

    source: str
    project: dict
    base_sets: list[str] = field(default_factory=list)
    base_dir: str | None = None
    runs: list[Variant] = field(default_factory=list)
    #: the epochs of the saved comparison (None: none saved)
    epochs: int | None = None
    #: why the file's saved comparison was left out (one line), if it was
    problem: str | None = None
    #: train on this CSV file's rows instead (``train --csv``), with these target columns
    csv: str | None = None
    targets: list[str] | None = None


def load_base(preset: str | None = None, project: str | os.PathLike | None = None,
              sets: Sequence[str] = (), csv: str | os.PathLike | None = None,
              targets: str | None = None) -> Base:
    """The base of a comparison from a preset or a project file (with ``runs`` if it has
    them), and optionally a CSV file's rows as the data, as ``train --csv`` takes them.
    Raises ``CompareError``."""
    if targets and not csv:
        raise CompareError("--targets goes with --csv")
    base = _load_base(preset, project, sets)
    if csv:
        base.csv = str(Path(csv).absolute())
        base.targets = [t.strip() for t in targets.split(",")] if targets else None
    return base


def _load_base(preset: str | None, project: str | os.PathLike | None,
               sets: Sequence[str]) -> Base:
    try:
        if preset is not None:
            d = presets.preset_dict(preset)
            from_dict(d)  # a broken preset is named here, not in every variant
            return Base(preset, d, list(sets))
        p = Path(project)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CompareError(f"{p}: no such file") from None
        except IsADirectoryError:
            raise CompareError(f"{p}: is a folder, not a project file") from None
        except UnicodeDecodeError:
            raise CompareError(f"{p}: not a text file (expected JSON)") from None
        except OSError as e:
            raise CompareError(f"{p}: cannot read ({e.strerror})") from None
        folder = p.absolute().parent
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None  # let the project reader name the problem
        runs: list[Variant] = []
        if isinstance(obj, dict) and "runs" in obj:  # an older file's top-level list
            runs = runs_from_json(obj.pop("runs"), f"{p}: runs")
            text = json.dumps(obj)
        proj = loads(text, str(p), folder)
        return project_base(str(p), proj, list(sets), str(folder), runs)
    except ProjectError as e:
        raise CompareError(str(e)) from None


def project_base(source: str, proj: Project, sets: Sequence[str] = (),
                 folder: str | None = None, runs: Sequence[Variant] = ()) -> Base:
    """The base of a comparison on ``proj``: with its saved comparison's runs and epochs
    (unless ``runs`` are given) and starting from its saved start weights, if any."""
    d = proj.to_dict()
    d.pop("comparison", None)
    saved = proj.comparison
    base = Base(source, d, list(sets), folder, list(runs))
    if proj.left_out:
        base.problem = f"{source}: {proj.left_out[0]}"
    if saved is not None:
        if "start" in saved:
            d["network"].update(saved["start"])
        if not base.runs:
            base.runs = runs_from_json(saved["runs"], "comparison.runs")
            base.epochs = saved["epochs"]
    return base


def variant_project(base: Base, variant: Variant) -> tuple[Project, Dataset]:
    """The variant's project and data, made as ``train --set`` makes them. Raises
    ``CompareError`` naming the variant."""
    try:
        d = apply_overrides(base.project, base.base_sets + variant.overrides())
        proj = from_dict(d, base.base_dir)
        if base.csv is not None:  # as train --csv: the file's rows, a new run from the seed
            spec = data_mod.csv_spec(base.csv, base.targets,
                                     test_fraction=proj.data.test_fraction or None)
            change = edits.with_data(proj, spec)
            proj, ds = change.project, change.dataset
        else:
            ds = data_mod.build(proj.data)
        Trainer(proj.network, proj.training, ds.x_train, ds.y_train)  # loss fits targets
    except (ProjectError, ValueError) as e:
        raise CompareError(f"{variant.name}: {e}") from None
    return proj, ds


def check_variants(base: Base, variants: Sequence[Variant], where: str = "runs") -> None:
    """Raise ``CompareError`` naming the first variant that cannot be made on ``base``
    (a bad value: ``runs[1]: lr x: training.learning_rate must be a positive number
    ...``)."""
    for i, v in enumerate(variants):
        try:
            variant_project(base, v)
        except CompareError as e:
            raise CompareError(f"{where}[{i}]: {e}") from None


# -- running -------------------------------------------------------------------------------
@dataclass
class VariantRun:
    """One variant's run. ``rows`` is every epoch's row from epoch 0 (epoch, train loss,
    test loss, train accuracy, test accuracy; NaN where not measured) unless the
    comparison was made with ``keep_rows=False``; ``path`` the weights every
    ``path_every`` epochs (for a loss landscape)."""

    variant: Variant
    project: Project
    dataset: Dataset
    initial: RunState
    state: RunState
    rows: list[np.ndarray] = field(default_factory=list)
    path_epochs: list[int] = field(default_factory=list)
    path: list[np.ndarray] = field(default_factory=list)
    error: str | None = None
    done: bool = False

    @property
    def name(self) -> str:
        return self.variant.name

    @property
    def epoch(self) -> int:
        return self.state.epoch

    def history(self) -> np.ndarray:
        """All rows as one (n, 5) array."""
        return np.concatenate(self.rows) if self.rows else np.empty((0, 5))


@dataclass(frozen=True)
class Progress:
    """After a chunk: which variant (``index``), its new ``rows`` and its ``state`` now,
    and how far the whole comparison is (``done`` of ``total`` epochs)."""

    index: int
    name: str
    rows: np.ndarray
    state: RunState
    done: int
    total: int
    finished: bool
    error: str | None = None


class Comparison:
    """Variants of ``base`` trained ``epochs`` epochs each (see the module's docstring).

    Every variant is checked when the comparison is made (``CompareError`` names the
    first bad one); nothing trains until it is iterated (``Progress`` after each chunk;
    ``interleave`` takes the variants in turn, else one after the other) or ``run()``.
    ``cancel()`` (any thread) stops it before the next chunk. A variant that diverges
    stops there with ``error`` set; the others go on."""

    def __init__(self, base: Base, variants: Sequence[Variant], epochs: int, *,
                 chunk: int = CHUNK_EPOCHS, interleave: bool = True,
                 keep_rows: bool = True, path_points: int = 200):
        if int(epochs) < 0:
            raise CompareError(f"--epochs must be >= 0, not {epochs}")
        if not variants:
            raise CompareError("nothing to compare: give at least one variant")
        self.epochs = int(epochs)
        self.chunk = max(1, int(chunk))
        self.interleave = interleave
        self.keep_rows = keep_rows
        self.path_every = max(1, math.ceil(self.epochs / max(1, path_points)))
        self.cancelled = False
        self.runs: list[VariantRun] = []
        self._loops: list[TrainingLoop] = []
        self._first_rows: list[np.ndarray] = []
        for v in variants:
            proj, ds = variant_project(base, v)
            state = RunState.start(proj.network.params, proj.training)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loop = TrainingLoop(proj.network, ds, state, record_start=True,
                                    pause_seconds=0.0)
            run = VariantRun(v, proj, ds, loop.state(), loop.state())
            first = loop.take_rows()
            if keep_rows:
                run.rows.append(first)
            run.path_epochs.append(0)
            run.path.append(proj.network.params.copy())
            self._first_rows.append(first)
            self.runs.append(run)
            self._loops.append(loop)

    @property
    def total(self) -> int:
        return self.epochs * len(self.runs)

    def first_rows(self, index: int) -> np.ndarray:
        """Variant ``index``'s epoch-0 row (measured before training)."""
        return self._first_rows[index]

    def cancel(self) -> None:
        self.cancelled = True

    def run(self) -> list[VariantRun]:
        for _ in self:
            pass
        return self.runs

    def __iter__(self) -> Iterator[Progress]:
        return self._steps()

    def _steps(self) -> Iterator[Progress]:
        order = list(range(len(self.runs)))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while not self.cancelled:
                pending = [i for i in order if not self.runs[i].done]
                if not pending:
                    return
                for i in (pending if self.interleave else pending[:1]):
                    if self.cancelled:
                        return
                    yield self._advance(i)

    def _advance(self, i: int) -> Progress:
        run, loop = self.runs[i], self._loops[i]
        n = min(self.chunk, self.epochs - loop.epoch)
        rows_out = []
        problem = None
        while n > 0 and problem is None:
            # stop at the next path point so the path has the weights of that epoch
            step = min(n, self.path_every - loop.epoch % self.path_every)
            problem = loop.run_epochs(step)
            rows_out.append(loop.take_rows())
            n -= step
            if loop.epoch % self.path_every == 0 or loop.epoch == self.epochs:
                run.path_epochs.append(loop.epoch)
                run.path.append(loop.state().params)
        rows = np.concatenate(rows_out) if rows_out else np.empty((0, 5))
        if self.keep_rows and len(rows):
            run.rows.append(rows)
        run.state = loop.state()
        if problem is not None:
            run.error = problem
        run.done = problem is not None or loop.epoch >= self.epochs
        done = sum(r.epoch if not r.done else self.epochs for r in self.runs)
        return Progress(i, run.name, rows, run.state, done, self.total, run.done, run.error)


# -- summaries and export ----------------------------------------------------------------------
def curve_summary(train_loss: np.ndarray) -> dict:
    """A loss curve in a few numbers: ``initial`` (epoch 0), ``final``, ``min`` and
    ``min_epoch``, ``half_epoch`` (the first epoch at or below half the initial loss;
    None if never) and the losses at a quarter, half and three quarters of the run."""
    y = np.asarray(train_loss, dtype=np.float64)
    if not len(y):
        return {}
    n = len(y) - 1
    half = np.flatnonzero(y <= y[0] / 2)
    return {"initial": float(y[0]), "final": float(y[-1]), "min": float(np.min(y)),
            "min_epoch": int(np.argmin(y)),
            "half_epoch": int(half[0]) if len(half) else None,
            "quarter": float(y[n // 4]), "middle": float(y[n // 2]),
            "three_quarters": float(y[3 * n // 4])}


def sparkline(y: np.ndarray, lo: float, hi: float, width: int = 24) -> str:
    """The curve in ``width`` block characters (bucket means, log scale from lo to hi)."""
    y = np.asarray(y, dtype=np.float64)
    if not len(y):
        return ""
    edges = np.linspace(0, len(y), min(width, len(y)) + 1).astype(int)
    means = np.array([y[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])
    lo, hi = math.log(max(lo, 1e-300)), math.log(max(hi, 1e-300))
    span = hi - lo if hi > lo else 1.0
    level = (np.log(np.maximum(means, 1e-300)) - lo) / span
    idx = np.clip(np.round(level * (len(SPARK) - 1)), 0, len(SPARK) - 1).astype(int)
    return "".join(SPARK[k] if np.isfinite(m) else " " for k, m in zip(idx, means))


def csv_chunks(runs: Sequence[tuple[str, np.ndarray]], rows_per_chunk: int = 20_000
               ) -> Iterator[str]:
    """The histories of several runs as one CSV, a chunk at a time: ``epoch`` then, for
    each run, ``<name>: train_loss`` and ``<name>: test_loss`` (empty where a run has no
    such epoch or no test set). ``runs``: (name, rows (n, 5)) pairs."""
    def quote(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') \
            else text

    head = ["epoch"]
    for name, _ in runs:
        head += [quote(f"{name}: train_loss"), quote(f"{name}: test_loss")]
    yield ",".join(head) + "\n"
    tables = []
    for _, rows in runs:
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
        tables.append({int(e): i for i, e in enumerate(rows[:, 0])})
    epochs = sorted(set().union(*tables)) if tables else []
    per = max(1, int(rows_per_chunk))
    arrays = [np.asarray(r, dtype=np.float64).reshape(-1, 5) for _, r in runs]
    for s in range(0, len(epochs), per):
        lines = []
        for e in epochs[s:s + per]:
            cells = [str(e)]
            for table, rows in zip(tables, arrays):
                i = table.get(e)
                for c in (1, 2):
                    v = rows[i, c] if i is not None else math.nan
                    cells.append("" if math.isnan(v) else repr(float(v)))
            lines.append(",".join(cells))
        yield "\n".join(lines) + "\n"


def to_json(base: Base, runs: Sequence[VariantRun], epochs: int) -> dict:
    """What ``compare --json`` prints: per variant its settings, the losses of every epoch
    after the first (as ``train --json`` lists them), final losses and a summary."""
    out = []
    for r in runs:
        h = r.history()
        has_test = r.dataset.has_test
        train = h[1:, 1].tolist()
        item = {"name": r.name, "set": dict(r.variant.settings), "epochs": len(train),
                "train_loss": train}
        if has_test:
            item["test_loss"] = h[1:, 2].tolist()
        item["final_train_loss"] = float(h[-1, 1]) if len(h) else None
        item["final_test_loss"] = float(h[-1, 2]) if len(h) and has_test else None
        item["summary"] = curve_summary(h[:, 1])
        item["error"] = r.error
        out.append(item)
    return {"base": base.source, "epochs": epochs, "variants": out}


# -- the command line ----------------------------------------------------------------------
def main(args) -> int:
    """``backprop-lab compare``: ``args`` has ``preset``, ``project``, ``set``, ``vary``,
    ``epochs`` and ``json``. Raises ``CompareError`` for bad input (the caller prints
    it on one line and exits with 2); returns 1 if a variant diverged, else 0."""
    if args.epochs is not None and args.epochs < 0:
        raise CompareError(f"--epochs must be >= 0, not {args.epochs}")
    base = load_base(args.preset, args.project, args.set, getattr(args, "csv", None),
                     getattr(args, "targets", None))
    variants: list[Variant] = []
    for item in args.vary:
        variants += parse_vary(item)
    epochs = args.epochs
    if not variants:  # the runs the project file saved, for their epochs unless given
        if base.problem:
            raise CompareError(base.problem)
        variants = base.runs
        if epochs is None:
            epochs = base.epochs
        try:  # a bad saved run is named by its entry in the file
            check_variants(base, variants, "comparison.runs" if base.epochs else "runs")
        except CompareError as e:
            raise CompareError(f"{base.source}: {e}") from None
    if not variants:
        raise CompareError("give --vary KEY=V1,V2,... (or a project file with a saved "
                           "comparison)")
    if epochs is None:
        epochs = DEFAULT_EPOCHS
    args.epochs = epochs
    comparison = Comparison(base, variants, epochs)
    show = not args.json and sys.stderr.isatty()
    t0 = last = time.perf_counter()
    for p in comparison:
        if show and time.perf_counter() - last > 0.1:
            sys.stderr.write(f"\r{p.done}/{p.total} epochs  ({p.name}: epoch {p.state.epoch})"
                             + " " * 10)
            sys.stderr.flush()
            last = time.perf_counter()
    if show:
        sys.stderr.write("\r" + " " * 70 + "\r")
    runs = comparison.runs
    failed = [r for r in runs if r.error]
    if args.json:  # strict JSON, as train --json writes it: a number that is not finite
        print(json.dumps(_json_safe(to_json(base, runs, args.epochs)), allow_nan=False))
    else:
        print(_table(base, runs, args.epochs, time.perf_counter() - t0))
    for r in failed:
        print(f"backprop-lab: {r.name}: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def _json_safe(obj):
    """``obj`` with every float that is not finite written as None (JSON's null)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _table(base: Base, runs: Sequence[VariantRun], epochs: int, seconds: float) -> str:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _table_text(base, runs, epochs, seconds)


def _table_text(base: Base, runs: Sequence[VariantRun], epochs: int, seconds: float) -> str:
    hist = [r.history() for r in runs]
    losses = np.concatenate([h[:, 1] for h in hist if len(h)])
    finite = losses[np.isfinite(losses) & (losses > 0)]
    lo = float(finite.min()) if len(finite) else 1.0
    # the scale tops out at the highest starting loss: a run that blows up shows as a
    # full bar instead of flattening every other curve
    starts = [h[0, 1] for h in hist if len(h) and np.isfinite(h[0, 1])]
    hi = max(starts) if starts else lo
    width = max(len("variant"), *(len(r.name) for r in runs))
    has_test = any(r.dataset.has_test for r in runs)
    head = f"{'variant':<{width}}  {'train loss':>11}" + (f"  {'test loss':>11}"
                                                          if has_test else "")
    head += f"  {'lowest (epoch)':>20}  train loss, epoch 0 to {epochs} (log scale)"
    lines = [f"{base.source}: {len(runs)} variants, {epochs} epochs each, from the same "
             f"initial weights, data and shuffling ({seconds:.1f} s)", head]
    for r, h in zip(runs, hist):
        s = curve_summary(h[:, 1])
        line = f"{r.name:<{width}}  {s.get('final', math.nan):>11.6g}"
        if has_test:
            line += f"  {h[-1, 2]:>11.6g}" if r.dataset.has_test else f"  {'':>11}"
        low = f"{s.get('min', math.nan):.6g} ({s.get('min_epoch', 0)})"
        line += f"  {low:>20}  {sparkline(h[:, 1], lo, hi)}"
        if r.error:
            line += "  (diverged)"
        lines.append(line)
    return "\n".join(lines)


__all__ = ["Base", "CompareError", "Comparison", "Progress", "Variant", "VariantRun",
           "check_variants", "csv_chunks", "curve_summary", "load_base", "main", "parse_vary",
           "project_base", "runs_from_json", "runs_to_json", "variant_project"]
