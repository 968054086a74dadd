"""Lessons: short guided tours, written as data in ``resources/lessons/*.json``. No Qt.

A lesson names a preset and lists steps; each step has a caption, optional rows that put
the article's number beside the correct one, and actions (load a preset, go to a phase
of the phase stepper, change a setting, train some epochs ...). ``load_lesson`` reads
and validates a file.

The state at step k is a pure function of the lesson and k (``replay_step``): the
lesson's preset, then the actions of steps 1..k applied in order by the same edits, loop
and stepping rules the window uses. Back therefore returns to exactly the state the
earlier step had (weights, epoch, loss history), whatever the user did in between. The
window (``controller.lessons.LessonPlayer``) computes stages off the UI thread and applies
each in one go.
Play and pause are not actions (their timing is not reproducible); ``train`` trains an
exact number of epochs instead. The file format is described in
``resources/lessons/README.md``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import activations as act_mod
from ..engine import data as data_mod
from ..engine import losses, presets
from ..engine.init import INITS, InitConfig
from ..engine.names import unit_lookup, weight_lookup
from ..engine.network import Network
from ..engine.optimizers import OptimizerState
from ..engine.project import Project
from ..engine.trace import Trace, trace_step
from ..engine.training import Trainer, TrainingConfig
from ..resources import resource
from . import edits
from .loop import TrainingLoop
from .state import Load, Reset, RunState, SetConfig, SetState
from .stepping import SCOPES, batch_samples, phases_for

FORMAT = "backprop-lab-lesson"
VERSION = 1
#: the most epochs one ``train`` action may ask for (lessons must replay quickly)
MAX_TRAIN_EPOCHS = 20_000
#: the tags a caption may use; anything else that looks like a tag is an error
CAPTION_TAGS = ("b", "i", "em", "strong", "u", "br", "sub", "sup", "code", "p")
DEFAULT_COMPARE_HEADERS = ("", "Article says", "Correct")
PHASE_KINDS = ("start", "forward", "loss", "backward", "update")
#: the views a lesson may bring to the front with {"option": "show"}; the window decides
#: where each one lives
VIEWS = ("loss_plot", "gradient_plot", "formulas", "parameters", "data_view")
#: older lesson files named the window's docks; they still work
VIEW_ALIASES = {"loss_dock": "loss_plot", "gradient_dock": "gradient_plot",
                "formula_dock": "formulas", "parameter_dock": "parameters"}
VIEW_OPTIONS = {"color_by": ("gradient", "weight"), "weights": (True, False),
                "values": (True, False), "show": VIEWS + tuple(VIEW_ALIASES),
                "log": (True, False),
                # these take other values, checked by their own rules (_VIEW_VALUES)
                "pin": (), "x_range": (), "y_range": (), "highlight": ()}
#: what a step may say it needs on screen ("views"); the window gives these the room
STAGE_VIEWS = ("canvas", "caption", "table", "formulas", "loss_plot", "gradient_plot",
               "data_view")
#: what the window shows when a lesson has not (yet) changed a view option; when Back
#: returns to a step before the option was set, the player sends this value again
#: ("show" has none: a dock that was shown stays)
VIEW_DEFAULTS = {"color_by": "weight", "weights": True, "values": True, "show": None,
                 "log": False, "pin": None, "x_range": "auto", "y_range": "auto",
                 "highlight": ()}

TOP_KEYS = ("format", "version", "title", "summary", "preset", "steps", "compare_headers",
            "comment")
STEP_KEYS = ("title", "caption", "actions", "compare", "views", "comment")
COMPARE_KEYS = ("what", "article", "correct", "comment")
TRAINING_FIELDS = tuple(f.name for f in fields(TrainingConfig))


class LessonError(ValueError):
    """A lesson file is broken; the message names the file, the step and the action."""


# -- the lesson, as read from its file ------------------------------------------------
@dataclass(frozen=True)
class Action:
    """One thing a step does. ``args`` are the validated arguments as (key, value) pairs
    (lists become tuples, so the whole lesson is immutable)."""

    kind: str
    args: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in self.args:
            if k == key:
                return v
        return default

    def __getitem__(self, key: str) -> Any:
        for k, v in self.args:
            if k == key:
                return v
        raise KeyError(key)


@dataclass(frozen=True)
class CompareRow:
    what: str
    article: str
    correct: str


@dataclass(frozen=True)
class Step:
    caption: str  # as written: plain text, the allowed tags only, newlines between paragraphs
    title: str = ""
    actions: tuple[Action, ...] = ()
    compare: tuple[CompareRow, ...] = ()
    #: what the step needs on screen (``STAGE_VIEWS``); empty: ``needed_views`` decides
    views: tuple[str, ...] = ()

    @property
    def needed_views(self) -> tuple[str, ...]:
        """The views this step needs on screen: as written, else the canvas and the
        caption, the table when it has one, the formulas when it shows a phase."""
        if self.views:
            return self.views
        out = ["canvas", "caption"]
        if self.compare:
            out.append("table")
        if any(a.kind == "phase" for a in self.actions):
            out.append("formulas")
        return tuple(out)

    @property
    def caption_html(self) -> str:
        """The caption for a rich-text label: one paragraph per line of the source."""
        paras = [p.strip() for p in self.caption.split("\n") if p.strip()]
        return "".join(f'<p style="margin-top:0; margin-bottom:8px">{p}</p>' for p in paras)


@dataclass(frozen=True)
class Lesson:
    title: str
    summary: str
    preset: str
    steps: tuple[Step, ...]
    path: Path | None = None
    compare_headers: tuple[str, str, str] = DEFAULT_COMPARE_HEADERS

    @property
    def name(self) -> str:
        return self.path.stem if self.path is not None else self.title

    def __len__(self) -> int:
        return len(self.steps)


@dataclass(frozen=True)
class LessonInfo:
    """A lesson file in the lessons folder; ``error`` says why it cannot be played."""

    name: str
    title: str
    summary: str
    path: Path
    steps: int = 0
    error: str | None = None


# -- reading and validating -----------------------------------------------------------
def _frozen(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_frozen(e) for e in v)
    if isinstance(v, dict):
        return tuple((k, _frozen(e)) for k, e in v.items())
    return v


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Where:
    """Builds messages that say where in which file the problem is."""

    def __init__(self, source: str):
        self.source = source
        self.step: int | None = None  # counted from 1, as the dock shows it
        self.action: tuple[int, str] | None = None

    def error(self, message: str) -> LessonError:
        where = self.source
        if self.step is not None:
            where += f": step {self.step}"
        if self.action is not None:
            n, kind = self.action
            where += f", action {n} ({kind})" if kind else f", action {n}"
        return LessonError(f"{where}: {message}")


def _check_keys(obj: dict, allowed: tuple[str, ...], what: str, w: _Where) -> None:
    unknown = [k for k in obj if k not in allowed]
    if unknown:
        raise w.error(f"{what} has unknown key{'s' if len(unknown) > 1 else ''} "
                      f"{', '.join(map(repr, unknown))} (allowed: {', '.join(allowed)})")


def _text(v: Any, what: str, w: _Where, allow_empty: bool = False) -> str:
    if _is_number(v):
        return f"{v:g}" if isinstance(v, float) else str(v)
    if not isinstance(v, str) or (not allow_empty and not v.strip()):
        raise w.error(f"{what} must be {'a' if allow_empty else 'a non-empty'} text, "
                      f"not {v!r}")
    return v.strip()


_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9]*)\s*(/?)\s*>")


def _caption(v: Any, w: _Where) -> str:
    """Validate the caption's markup (newlines separate paragraphs)."""
    text = _text(v, "caption", w)
    pos = 0
    for m in re.finditer("<", text):
        if m.start() < pos:
            continue
        tag = _TAG.match(text, m.start())
        if tag is None or tag.group(2).lower() not in CAPTION_TAGS:
            snippet = text[m.start():m.start() + 12]
            raise w.error(f"caption: {snippet!r} is not an allowed tag (allowed: "
                          f"{', '.join('<' + t + '>' for t in CAPTION_TAGS)}); write "
                          "&lt; for a plain '<'")
        pos = tag.end()
    return text.replace("\r\n", "\n")


def _arg_keys(a: dict, required: tuple[str, ...], optional: tuple[str, ...],
              w: _Where) -> None:
    allowed = ("action", "comment") + required + optional
    unknown = [k for k in a if k not in allowed]
    if unknown:
        raise w.error(f"unknown argument{'s' if len(unknown) > 1 else ''} "
                      f"{', '.join(map(repr, unknown))} (this action takes "
                      f"{', '.join(required + optional) or 'no arguments'})")
    missing = [k for k in required if k not in a]
    if missing:
        raise w.error(f"missing {', '.join(map(repr, missing))}")


def _choice(v: Any, key: str, choices, w: _Where) -> Any:
    if v not in choices or isinstance(v, bool) != any(isinstance(c, bool) for c in choices):
        raise w.error(f"{key} must be one of {', '.join(map(repr, choices))}, not {v!r}")
    return v


def _validate_action(a: Any, w: _Where) -> Action:
    if not isinstance(a, dict):
        raise w.error(f"an action must be an object like {{\"action\": \"train\", "
                      f"\"epochs\": 10}}, not {a!r}")
    kind = a.get("action")
    w.action = (w.action[0], kind if isinstance(kind, str) else "")
    if kind in ("play", "pause"):
        raise w.error(f"{kind!r} is not allowed in a lesson: how far free-running training "
                      "gets depends on the computer's speed, so Back could not return to "
                      "the same state; use {\"action\": \"train\", \"epochs\": N}")
    if kind not in ACTIONS:
        raise w.error(f"unknown action {kind!r} (choose from {', '.join(ACTIONS)})")
    args = ACTIONS[kind](a, w)
    return Action(kind, _frozen(args) if args else ())


def _a_load_preset(a: dict, w: _Where) -> dict:
    _arg_keys(a, ("name",), (), w)
    names = presets.preset_names()
    if a["name"] not in names:
        raise w.error(f"unknown preset {a['name']!r} (available: {', '.join(names)})")
    return {"name": a["name"]}


def _a_select_sample(a: dict, w: _Where) -> dict:
    _arg_keys(a, ("index",), (), w)
    if not _is_int(a["index"]) or a["index"] < 0:
        raise w.error(f"index must be a whole number >= 0 (the first sample is 0), not "
                      f"{a['index']!r}")
    return {"index": a["index"]}


def _a_scope(a: dict, w: _Where) -> dict:
    _arg_keys(a, ("value",), (), w)
    return {"value": _choice(a["value"], "value", SCOPES, w)}


def _a_phase(a: dict, w: _Where) -> dict:
    _arg_keys(a, ("kind",), ("layer",), w)
    kind = _choice(a["kind"], "kind", PHASE_KINDS, w)
    out: dict = {"kind": kind}
    if "layer" in a:
        layer = a["layer"]
        if kind not in ("forward", "backward"):
            raise w.error(f"layer only goes with the forward and backward phases, not "
                          f"{kind!r}")
        if not (layer == "output" or (_is_int(layer) and layer >= 1)):
            raise w.error(f"layer must be a whole number >= 1 (1 is the first hidden "
                          f"layer) or \"output\", not {layer!r}")
        out["layer"] = layer
    return out


def _a_none(a: dict, w: _Where) -> dict:
    _arg_keys(a, (), (), w)
    return {}


def _a_set(a: dict, w: _Where) -> dict:
    _arg_keys(a, ("key", "value"), (), w)
    key, value = a["key"], a["value"]
    allowed = [f"training.{f}" for f in TRAINING_FIELDS]
    if key not in allowed:
        raise w.error(f"unknown key {key!r} (choose from {', '.join(allowed)})")
    field = key.split(".", 1)[1]
    default = getattr(TrainingConfig(), field)
    if isinstance(default, float) and _is_int(value):
        value = float(value)
    try:
        TrainingConfig(**{field: value}).validate()
    except (ValueError, TypeError) as e:
        raise w.error(str(e)) from None
    return {"key": key, "value": value}


def _a_activations(a: dict, w: _Where) -> dict:
    _arg_keys(a, (), ("hidden", "output", "loss"), w)
    if not any(k in a for k in ("hidden", "output", "loss")):
        raise w.error("give at least one of hidden, output, loss")
    out = {}
    for key, choices in (("hidden", act_mod.HIDDEN_ACTIVATIONS),
                         ("output", act_mod.OUTPUT_ACTIVATIONS), ("loss", losses.LOSSES)):
        if key in a:
            out[key] = _choice(a[key], key, choices, w)
    return out


def _init_config(a: dict, w: _Where) -> InitConfig:
    method = _choice(a["method"], "method", INITS, w)
    kw: dict = {"method": method}
    for key in ("seed", "range", "value"):
        if key in a:
            v = a[key]
            if key == "seed" and (not _is_int(v) or v < 0):
                raise w.error(f"seed must be a whole number >= 0, not {v!r}")
            if key != "seed" and not _is_number(v):
                raise w.error(f"{key} must be a finite number, not {v!r}")
            kw[key] = v if key == "seed" else float(v)
    cfg = InitConfig(**kw)
    try:
        cfg.validate()
    except ValueError as e:
        raise w.error(str(e)) from None
    return cfg


def _a_init(a: dict, w: _Where) -> dict:
    _arg_keys(a, ("method",), ("seed", "range", "value"), w)
    _init_config(a, w)
    return {k: a[k] for k in ("method", "seed", "range", "value") if k in a}


def _a_structure(a: dict, w: _Where) -> dict:
    _arg_keys(a, ("layers",), ("hidden", "output"), w)
    layers = a["layers"]
    if not isinstance(layers, list) or len(layers) < 2 or \
            not all(_is_int(n) and 1 <= n <= 64 for n in layers):
        raise w.error(f"layers must list at least two layer sizes from 1 to 64, inputs "
                      f"first and outputs last, e.g. [2, 3, 1], not {layers!r}")
    out: dict = {"layers": layers}
    if "hidden" in a:
        out["hidden"] = _choice(a["hidden"], "hidden", act_mod.HIDDEN_ACTIVATIONS, w)
    if "output" in a:
        out["output"] = _choice(a["output"], "output", act_mod.OUTPUT_ACTIVATIONS, w)
    return out


def _a_data(a: dict, w: _Where) -> dict:
    spec = {k: v for k, v in a.items() if k not in ("action", "comment")}
    try:
        data_mod.spec_from_dict(spec)
    except ValueError as e:
        raise w.error(str(e)) from None
    return spec


def _a_train(a: dict, w: _Where) -> dict:
    _arg_keys(a, ("epochs",), (), w)
    n = a["epochs"]
    if not _is_int(n) or not 1 <= n <= MAX_TRAIN_EPOCHS:
        raise w.error(f"epochs must be a whole number from 1 to {MAX_TRAIN_EPOCHS:,}, not "
                      f"{n!r}")
    return {"epochs": n}


def _range(v: Any, key: str, w: _Where):
    if v is None or v == "auto":
        return "auto"
    if not (isinstance(v, list) and len(v) == 2 and all(_is_number(e) for e in v)
            and v[0] < v[1]):
        raise w.error(f"{key} must be [low, high] with low < high, or \"auto\", not {v!r}")
    return [float(v[0]), float(v[1])]


def _name_or_none(v: Any, key: str, w: _Where):
    if v is None:
        return None
    if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", v):
        raise w.error(f"{key} must name a unit, a weight or \"loss\" (e.g. \"Z1\", "
                      f"\"W10\"), or be null, not {v!r}")
    return v


def _names(v: Any, key: str, w: _Where):
    if not isinstance(v, list) or not all(isinstance(e, str) for e in v):
        raise w.error(f"{key} must be a list of unit and weight names, e.g. [\"Z1\", "
                      f"\"W10\"], not {v!r}")
    for e in v:
        _name_or_none(e, key, w)
    return v


#: view options whose value is not one of a few choices
_VIEW_VALUES = {"pin": _name_or_none, "x_range": _range, "y_range": _range,
                "highlight": _names}


def _a_view(a: dict, w: _Where) -> dict:
    _arg_keys(a, ("option", "value"), (), w)
    option = _choice(a["option"], "option", tuple(VIEW_OPTIONS), w)
    if option in _VIEW_VALUES:
        value = _VIEW_VALUES[option](a["value"], option, w)
    else:
        value = _choice(a["value"], "value", VIEW_OPTIONS[option], w)
    value = VIEW_ALIASES.get(value, value) if option == "show" else value
    return {"option": option, "value": value}


#: action name -> validator (returns the arguments to keep)
ACTIONS = {
    "load_preset": _a_load_preset,
    "select_sample": _a_select_sample,
    "scope": _a_scope,
    "phase": _a_phase,
    "stop_stepping": _a_none,
    "set": _a_set,
    "activations": _a_activations,
    "init": _a_init,
    "structure": _a_structure,
    "data": _a_data,
    "train": _a_train,
    "reset": _a_none,
    "view": _a_view,
}


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed: numbers must be finite")


def parse_lesson(obj: Any, source: str = "lesson", path: Path | None = None) -> Lesson:
    """Validate a parsed lesson object. Raises ``LessonError`` naming ``source``."""
    w = _Where(source)
    if not isinstance(obj, dict):
        raise w.error("a lesson file must hold one JSON object")
    if obj.get("format") != FORMAT:
        raise w.error(f"not a Backprop Lab lesson (\"format\" must be \"{FORMAT}\")")
    version = obj.get("version")
    if not _is_int(version) or version < 1:
        raise w.error("\"version\" must be a whole number (1)")
    if version > VERSION:
        raise w.error(f"written for a newer Backprop Lab (lesson version {version}; this "
                      f"version reads up to {VERSION}); please update")
    _check_keys(obj, TOP_KEYS, "the lesson", w)
    for key in ("title", "preset", "steps"):
        if key not in obj:
            raise w.error(f"\"{key}\" is missing")
    title = _text(obj["title"], "title", w)
    summary = _text(obj.get("summary", ""), "summary", w, allow_empty=True)
    preset = obj["preset"]
    names = presets.preset_names()
    if preset not in names:
        raise w.error(f"unknown preset {preset!r} (available: {', '.join(names)})")
    headers = obj.get("compare_headers", list(DEFAULT_COMPARE_HEADERS))
    if not (isinstance(headers, list) and len(headers) == 3
            and all(isinstance(h, str) for h in headers)):
        raise w.error(f"compare_headers must be a list of three texts, e.g. "
                      f"{list(DEFAULT_COMPARE_HEADERS)!r}, not {headers!r}")
    steps_in = obj["steps"]
    if not isinstance(steps_in, list) or not steps_in:
        raise w.error("\"steps\" must be a non-empty list")
    steps = []
    for i, s in enumerate(steps_in):
        w.step, w.action = i + 1, None
        if not isinstance(s, dict):
            raise w.error(f"a step must be an object with a caption, not {s!r}")
        _check_keys(s, STEP_KEYS, "the step", w)
        if "caption" not in s:
            raise w.error("the caption is missing (every step needs one)")
        caption = _caption(s["caption"], w)
        step_title = _text(s.get("title", ""), "title", w, allow_empty=True)
        acts = s.get("actions", [])
        if not isinstance(acts, list):
            raise w.error(f"actions must be a list, not {acts!r}")
        actions = []
        for j, a in enumerate(acts):
            w.action = (j + 1, "")
            actions.append(_validate_action(a, w))
        w.action = None
        rows_in = s.get("compare", [])
        if not isinstance(rows_in, list):
            raise w.error(f"compare must be a list of rows, not {rows_in!r}")
        rows = []
        for r in rows_in:
            if not isinstance(r, dict):
                raise w.error(f"a compare row must be an object with what, article and "
                              f"correct, not {r!r}")
            _check_keys(r, COMPARE_KEYS, "a compare row", w)
            for key in ("what", "article", "correct"):
                if key not in r:
                    raise w.error(f"a compare row is missing {key!r}")
            rows.append(CompareRow(_text(r["what"], "what", w),
                                   _text(r["article"], "article", w, allow_empty=True),
                                   _text(r["correct"], "correct", w)))
        views_in = s.get("views", [])
        if not isinstance(views_in, list) or any(v not in STAGE_VIEWS for v in views_in):
            raise w.error(f"views must list some of {', '.join(STAGE_VIEWS)}, not "
                          f"{views_in!r}")
        steps.append(Step(caption, step_title, tuple(actions), tuple(rows),
                          tuple(views_in)))
    return Lesson(title, summary, preset, tuple(steps), path, tuple(headers))


def load_lesson(path: str | Path) -> Lesson:
    """Read and validate a lesson file.

    Raises
    ------
    LessonError
        The file cannot be read, is not JSON or breaks the format; the message names the
        file, and where it applies the step (counted from 1) and the action.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LessonError(f"{path.name}: cannot read the file ({e})") from None
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise LessonError(f"{path.name}: not valid JSON: {e.msg} at line {e.lineno}, "
                          f"column {e.colno}") from None
    except ValueError as e:
        raise LessonError(f"{path.name}: {e}") from None
    return parse_lesson(obj, path.name, path)


def lessons_dir() -> Path:
    return resource("lessons")


def list_lessons(folder: str | Path | None = None) -> list[LessonInfo]:
    """The lessons in ``folder`` (default: the shipped ones), sorted by file name.

    A broken file is listed too, with ``error`` set, so its author sees why.
    """
    folder = Path(folder) if folder is not None else lessons_dir()
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.glob("*.json"), key=lambda p: p.name):
        try:
            lesson = load_lesson(p)
        except LessonError as e:
            out.append(LessonInfo(p.stem, p.stem, "", p, 0, str(e)))
            continue
        out.append(LessonInfo(p.stem, lesson.title, lesson.summary, p, len(lesson.steps)))
    return out




# -- replay: a lesson step as a pure function of the lesson and the step index ----------
@dataclass(frozen=True)
class StepperSpec:
    """The phase stepper at a lesson step: the update on ``samples`` taken from the
    weights ``params`` (optimiser state ``optimizer``, ``updates`` updates so far), shown
    at phase ``index``."""

    scope: str
    samples: tuple[int, ...]
    index: int
    params: np.ndarray
    optimizer: OptimizerState
    updates: int


@dataclass(frozen=True)
class Stage:
    """Everything the window shows at a lesson step; ``message`` is what went wrong in the
    step ("" if nothing). Applying a stage is one ``load`` on the run: no replay in the
    window."""

    index: int
    project: Project
    dataset: data_mod.Dataset
    state: RunState
    rows: np.ndarray
    initial_params: np.ndarray
    selected: int
    scope: str
    stepper: StepperSpec | None
    view: tuple[tuple[str, Any], ...]
    message: str = ""
    failed: bool = False  # an action failed: later steps build on nothing
    #: the gradient norms of every epoch trained, ``(epoch, norms)``, for the plot
    grad_norms: tuple = ()

    @property
    def view_options(self) -> dict[str, Any]:
        return dict(self.view)


class _StepFailed(Exception):
    """An action could not be applied (the message is for the user)."""


class _Sim:
    """A session and phase stepper without Qt or a window, for the replay: the same
    edits (``runs.edits``), the same loop (``TrainingLoop``) and the same stepping rules
    (``runs.stepping``) as the window's."""

    def __init__(self, stage: Stage | None = None, preset: str | None = None):
        if stage is not None:
            self.project = stage.project.copy()
            self.dataset = stage.dataset
            self.loop = TrainingLoop(self.project.network, self.dataset, stage.state,
                                     record_start=False, pause_seconds=0.0)
            self.rows = [stage.rows]
            self.initial = stage.initial_params.copy()
            self.selected, self.scope = stage.selected, stage.scope
            self.stepper, self.view = stage.stepper, dict(stage.view)
            self.norms = list(stage.grad_norms)
        else:
            self.norms: list = []
            self.view: dict[str, Any] = {}
            self.selected, self.scope, self.stepper = 0, "sample", None
            self._new_run(presets.load_preset(preset))
        self.seq = self.loop.state().applied

    # -- the run -----------------------------------------------------------------------
    def _new_run(self, project: Project, dataset: data_mod.Dataset | None = None) -> None:
        self.dataset = dataset if dataset is not None else data_mod.build(project.data)
        edits.check(project, self.dataset)
        self.project = project
        self.initial = project.network.params.copy()
        self.loop = TrainingLoop(project.network, self.dataset,
                                 RunState.start(project.network.params, project.training),
                                 record_start=True, pause_seconds=0.0)
        self.rows = []
        self.norms = [(0, self.loop.grad_norms())]
        self.stepper = None
        self.selected = min(self.selected, len(self.dataset.x_train) - 1)

    def _apply(self, cmd) -> None:
        self.seq += 1
        self.loop.apply(cmd, self.seq)

    def _take_rows(self) -> None:
        self.rows.append(self.loop.take_rows())

    def state(self) -> RunState:
        return self.loop.state()

    def network(self) -> Network:
        net = self.project.network.copy()
        net.params[:] = self.state().params
        return net

    # -- the stepper -------------------------------------------------------------------
    def _trace(self, spec: StepperSpec) -> Trace:
        net = self.project.network.copy()
        net.params[:] = spec.params
        idx = list(spec.samples)
        return trace_step(net, self.project.training, self.dataset.x_train[idx],
                          self.dataset.y_train[idx], spec.optimizer)

    def _start_step(self) -> None:
        s = self.state()
        n = len(self.dataset.x_train)
        batches = []
        if self.scope == "minibatch":
            tr = Trainer(self.network(), self.project.training, self.dataset.x_train,
                         self.dataset.y_train)
            if s.rng is not None:
                tr.rng_state = s.rng
            batches = tr.next_batches()
        samples = batch_samples(self.scope, self.selected, n, batches)
        self.stepper = StepperSpec(self.scope, tuple(samples), 0, s.params.copy(),
                                   s.optimizer.copy(), s.updates)

    def go_to_phase(self, kind: str, layer: int | str | None) -> None:
        if self.stepper is None:
            self._start_step()
        L = len(self.project.network.layers) - 1
        if layer == "output":
            layer = L
        if layer is not None and not 1 <= layer <= L:
            raise _StepFailed(f"this network has layers 1 to {L} after the inputs (the "
                              f"output is {L}), not {layer}")
        phases = phases_for(tuple(self.project.network.layers))
        target = next((i for i, p in enumerate(phases)
                       if p.kind == kind and (layer is None or p.layer == layer)), None)
        if target is None:
            raise _StepFailed(f"the phase stepper has no {kind} phase"
                              + (f" for layer {layer}" if layer is not None else ""))
        spec = self.stepper
        upd = len(phases) - 1
        if target == upd and spec.index != upd:  # the update is applied
            t = self._trace(spec)
            self._apply(SetState(t.new_params, t.optimizer_after, None, spec.updates + 1,
                                 mark=True))
        elif target != upd and spec.index == upd:  # ... or taken back, exactly
            self._apply(SetState(spec.params, spec.optimizer, None, spec.updates))
        self.stepper = StepperSpec(spec.scope, spec.samples, target, spec.params,
                                   spec.optimizer, spec.updates)

    # -- actions -----------------------------------------------------------------------
    def act(self, a: Action) -> str:
        """Apply one action; returns a note for the user ("" if none). Raises
        ``_StepFailed`` or ``ValueError`` when the action cannot be applied."""
        k = a.kind
        p = self.project
        if k == "load_preset":
            self._take_rows()
            self._new_run(presets.load_preset(a["name"]))
        elif k == "select_sample":
            n = len(self.dataset.x_train)
            if a["index"] >= n:
                raise _StepFailed(f"sample {a['index']} does not exist: the training data "
                                  f"has {n} samples (0 to {n - 1})")
            self.selected = a["index"]
            if self.stepper is not None and self.selected not in self.stepper.samples:
                self._start_step()
        elif k == "scope":
            self.scope = a["value"]
            if self.stepper is not None:
                self._start_step()
        elif k == "phase":
            self.go_to_phase(a["kind"], a.get("layer"))
        elif k == "stop_stepping":
            self.stepper = None
        elif k == "set":
            field_name = a["key"].split(".", 1)[1]
            self.project = edits.with_config(p, self.dataset, **{field_name: a["value"]})
            self._apply(SetConfig(self.project.training))
            if self.stepper is not None:
                self._start_step()
        elif k == "activations":
            new = edits.with_activations(p, self.dataset, self.state().params,
                                         a.get("hidden"), a.get("output"), a.get("loss"))
            s = self.state()
            self.project = new
            # the run goes on: its history up to the epoch before, then this epoch measured
            # with the new activations (as the window does it)
            self._take_rows()
            rows = np.concatenate(self.rows) if self.rows else np.zeros((0, 5))
            self.rows = [rows[rows[:, 0] < s.epoch]]
            self._apply(Load(new.network, self.dataset, s.replace(config=new.training),
                             record_start=True))
            self.stepper = None
        elif k == "init":
            self._take_rows()
            self.rows = []
            self._new_run(edits.with_init(p, self.dataset,
                                          InitConfig(**{key: v for key, v in a.args})),
                          self.dataset)
        elif k == "structure":
            self._new_run(edits.with_structure(p, self.dataset, list(a["layers"]),
                                               a.get("hidden"), a.get("output")),
                          self.dataset)
        elif k == "data":
            change = edits.with_data(p, data_mod.spec_from_dict(
                {key: _thawed(v) for key, v in a.args}))
            self._new_run(change.project, change.dataset)
        elif k == "train":
            self.stepper = None
            return self.loop.run_epochs(a["epochs"], self.norms) or ""
        elif k == "reset":
            self.stepper = None
            self.rows = []
            self.loop.take_rows()
            self._apply(Reset(self.initial))
            self.norms = [(0, self.loop.grad_norms())]
        elif k == "view":
            option, value = a["option"], a["value"]
            names = (value,) if option == "pin" and value is not None else \
                tuple(value) if option == "highlight" else ()
            layers = self.project.network.layers
            known = set(unit_lookup(layers)) | set(weight_lookup(layers)) | {"loss"}
            unknown = [n for n in names if n not in known]
            if unknown:
                raise _StepFailed(f"{', '.join(unknown)}: no such unit or weight in this "
                                  f"network (units are named like Z1, weights like W10)")
            self.view[option] = value
        else:  # validated on load: cannot happen
            raise _StepFailed(f"unknown action {k!r}")
        return ""

    def stage(self, index: int, message: str, failed: bool = False) -> Stage:
        self._take_rows()
        rows = np.concatenate(self.rows) if self.rows else np.zeros((0, 5))
        self.rows = [rows]
        epoch = self.state().epoch
        norms = tuple(n for n in self.norms if n[0] <= epoch)
        return Stage(index, self.project.copy(), self.dataset, self.state(), rows,
                     self.initial.copy(), self.selected, self.scope, self.stepper,
                     tuple(sorted(self.view.items())), message, failed, norms)


TRAIN_CHUNK = 250  # a replay that trains yields this often, so it can be abandoned


def iter_replay(lesson: Lesson, k: int, before: Stage | None = None
                ) -> Iterator[Stage | None]:
    """Replay ``lesson`` up to step ``k`` (from 0): its preset, then the actions of steps
    0..k in order. Yields the ``Stage`` of every step on the way (and None now and then
    while it trains, so a caller can stop it). ``before`` (the stage of an earlier step,
    as made here) lets the replay start there instead of at the preset: the result is the
    same."""
    if not 0 <= k < len(lesson.steps):
        raise IndexError(f"step {k} is outside 0..{len(lesson.steps) - 1}")
    if before is not None and before.failed:
        for i in range(before.index + 1, k + 1):
            yield replace(before, index=i)
        return
    if before is not None and before.index < k:
        sim, first = _Sim(stage=before), before.index + 1
    else:
        try:
            sim = _Sim(preset=lesson.preset)
        except (ValueError, OSError) as e:
            raise LessonError(f"Cannot load the preset {lesson.preset!r}: {e}") from None
        first = 0
    for i in range(first, k + 1):
        message = ""
        for j, action in enumerate(lesson.steps[i].actions):
            try:
                if action.kind == "train":
                    sim.stepper = None
                    left = action["epochs"]
                    while left > 0 and not message:
                        n = min(TRAIN_CHUNK, left)
                        message = sim.loop.run_epochs(n, sim.norms) or ""
                        left -= n
                        yield None
                    continue
                note = sim.act(action)
            except (_StepFailed, ValueError, KeyError, IndexError) as e:
                # the rest of the lesson would build on a broken state
                text = str(e) or type(e).__name__
                failed = sim.stage(i, f"Step {i + 1}, action {j + 1} ({action.kind}): {text}",
                                   failed=True)
                for m in range(i, k + 1):
                    yield replace(failed, index=m)
                return
            if note:
                message = note
        yield sim.stage(i, message)


def replay_step(lesson: Lesson, k: int, before: Stage | None = None) -> Stage:
    """The ``Stage`` of ``lesson`` at step ``k`` (see ``iter_replay``)."""
    last = None
    for stage in iter_replay(lesson, k, before):
        if stage is not None:
            last = stage
    return last


def _thawed(v: Any) -> Any:
    """A validated argument back as JSON would give it (tuples to lists)."""
    if isinstance(v, tuple):
        return [_thawed(e) for e in v]
    return v
