"""Lessons: short guided tours, written as data in ``resources/lessons/*.json``.

A lesson names a preset and lists steps; each step has a caption, optional rows that put
the article's number beside the correct one, and actions (load a preset, go to a phase
of the phase stepper, change a setting, train some epochs ...). ``load_lesson`` reads
and validates a file; ``LessonPlayer`` plays it on a ``Session`` and a ``PhaseStepper``.

Going to step k is a deterministic replay: the lesson's preset is loaded fresh and the
actions of steps 1..k are applied in order. Back therefore returns to exactly the state
the earlier step had (weights, epoch, loss history), whatever the user did in between.
Play and pause are not actions (their timing is not reproducible); ``train`` trains an
exact number of epochs instead. The file format is described in
``resources/lessons/README.md``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from PySide6 import QtCore

from ..engine import activations as act_mod
from ..engine import data as data_mod
from ..engine import losses, presets
from ..engine.init import INITS, InitConfig
from ..engine.training import TrainingConfig
from ..resources import resource
from .session import Session
from .teaching import SCOPES, PhaseStepper

FORMAT = "backprop-lab-lesson"
VERSION = 1
#: the most epochs one ``train`` action may ask for (lessons must replay quickly)
MAX_TRAIN_EPOCHS = 20_000
#: the tags a caption may use; anything else that looks like a tag is an error
CAPTION_TAGS = ("b", "i", "em", "strong", "u", "br", "sub", "sup", "code", "p")
DEFAULT_COMPARE_HEADERS = ("", "Article says", "Correct")
PHASE_KINDS = ("start", "forward", "loss", "backward", "update")
#: the docks a lesson may bring to the front with {"option": "show"} (object names)
DOCKS = ("loss_dock", "gradient_dock", "formula_dock", "parameter_dock")
VIEW_OPTIONS = {"color_by": ("gradient", "weight"), "weights": (True, False),
                "values": (True, False), "show": DOCKS}
#: what the window shows when a lesson has not (yet) changed a view option; when Back
#: returns to a step before the option was set, the player sends this value again
#: ("show" has none: a dock that was shown stays)
VIEW_DEFAULTS = {"color_by": "weight", "weights": True, "values": True, "show": None}
#: actions after which earlier training no longer matters (they replace the weights,
#: the epoch count and the trainer's state); a replay skips training they undo
_SUPERSEDES_TRAINING = ("load_preset", "init", "structure", "reset")

TOP_KEYS = ("format", "version", "title", "summary", "preset", "steps", "compare_headers",
            "comment")
STEP_KEYS = ("title", "caption", "actions", "compare", "comment")
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


def _a_view(a: dict, w: _Where) -> dict:
    _arg_keys(a, ("option", "value"), (), w)
    option = _choice(a["option"], "option", tuple(VIEW_OPTIONS), w)
    value = _choice(a["value"], "value", VIEW_OPTIONS[option], w)
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
        steps.append(Step(caption, step_title, tuple(actions), tuple(rows)))
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


# -- playing --------------------------------------------------------------------------
class _StepFailed(Exception):
    """An action could not be applied while replaying (the message is for the user)."""


class _ReplayEnded(Exception):
    """The replay cannot go on and is no failure of the lesson: the session was shut down
    (the window closed) or the lesson was stopped while the replay waited for training."""


class LessonPlayer(QtCore.QObject):
    """Plays a lesson on a session and its phase stepper, one step at a time.

    Every move (``next``, ``back``, ``go``) replays the lesson from its preset up to the
    target step, so the state of step k is always the same. A problem in the current
    step (training diverged, a setting the network refuses) does not raise: it is kept
    in ``message`` for the dock to show, and the steps stay navigable.
    """

    #: the lesson, the step or the message changed
    changed = QtCore.Signal()
    #: a view setting the window should apply: ("color_by", "gradient"|"weight"),
    #: ("weights", bool), ("values", bool) or ("show", dock object name)
    view_option = QtCore.Signal(str, object)
    #: Next was pressed on the last step; the lesson has ended (its state stays)
    finished = QtCore.Signal()

    def __init__(self, session: Session, stepper: PhaseStepper,
                 parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.stepper = stepper
        self._lesson: Lesson | None = None
        self._index = 0
        self._message = ""
        self._replaying = False
        self._errors: list[str] = []
        self._view: dict[str, Any] = {}
        session.error.connect(self._on_session_error)

    # -- state --------------------------------------------------------------------------
    @property
    def lesson(self) -> Lesson | None:
        return self._lesson

    @property
    def active(self) -> bool:
        return self._lesson is not None

    @property
    def index(self) -> int:
        """The current step, counted from 0."""
        return self._index

    @property
    def count(self) -> int:
        return len(self._lesson.steps) if self._lesson is not None else 0

    @property
    def step(self) -> Step | None:
        return self._lesson.steps[self._index] if self._lesson is not None else None

    @property
    def message(self) -> str:
        """What went wrong in the current step ("" if nothing): show it in red."""
        return self._message

    @property
    def replaying(self) -> bool:
        """True while a step is being replayed (the window should not pop up dialogs
        for session errors then: the player shows them in the dock)."""
        return self._replaying

    @property
    def view_options(self) -> dict[str, Any]:
        """The view settings the lesson has chosen up to the current step."""
        return dict(self._view)

    @property
    def at_end(self) -> bool:
        return self.active and self._index == self.count - 1

    # -- moving -------------------------------------------------------------------------
    def start(self, lesson: Lesson) -> None:
        """Begin ``lesson`` at its first step."""
        self._lesson = lesson
        self._index = 0
        self.go(0)

    def next(self) -> None:
        """The next step; on the last step, end the lesson (``finished``)."""
        if not self.active:
            return
        if self._index >= self.count - 1:
            self.finished.emit()
            self.stop()
            return
        self.go(self._index + 1)

    def back(self) -> None:
        if self.active and self._index > 0:
            self.go(self._index - 1)

    def go(self, k: int) -> None:
        """Replay the lesson up to step ``k`` (counted from 0)."""
        if not self.active:
            raise RuntimeError("no lesson is playing")
        if not 0 <= k < self.count:
            raise IndexError(f"step {k} is outside 0..{self.count - 1}")
        self._index = k
        message = self._replay(k)
        if message is None:  # ended while replaying (the window closed, or stop())
            self._end()
            return
        self._message = message
        self.changed.emit()

    def stop(self) -> None:
        """Leave the lesson; the session keeps the state of the last step shown.

        Called while a step is being replayed (the window closes during a long ``train``),
        the replay ends at its next wait instead of carrying on: the training it waits
        for is paused (the network stays where that training got to)."""
        if self._lesson is None:
            return
        if self._replaying and self.session.training_backend != "none":  # not shut down
            self.session.pause()
        self._end()

    def _end(self) -> None:
        was_active = self._lesson is not None
        self._lesson = None
        self._index = 0
        self._message = ""
        if was_active:
            self.changed.emit()

    # -- replay -------------------------------------------------------------------------
    def _plan(self, k: int) -> list[tuple[int, int, Action]]:
        """(step, action number, action) for steps 0..k, leaving out training whose
        result a later action throws away anyway (same end state, much faster)."""
        plan = [(i, j, a) for i, st in enumerate(self._lesson.steps[:k + 1])
                for j, a in enumerate(st.actions)]
        keep = []
        superseded = False
        for i, j, a in reversed(plan):
            if a.kind in _SUPERSEDES_TRAINING:
                superseded = True
            if a.kind == "train" and superseded:
                continue
            keep.append((i, j, a))
        keep.reverse()
        return keep

    def _replay(self, k: int) -> str | None:
        """Replay steps 0..k; returns the message for step k ("" if none), or None if
        the replay ended early because the session was shut down or the lesson stopped."""
        s, st = self.session, self.stepper
        lesson = self._lesson
        self._replaying = True
        self._view = {}
        ended = False
        try:
            try:
                st.stop()
                if s.running:
                    s.pause()
                s.load_preset(self._lesson.preset)
                s.select_sample(0)
                st.set_scope("sample")
            except (ValueError, OSError) as e:
                return f"Cannot load the preset {self._lesson.preset!r}: {e}"
            message = ""
            for i, j, action in self._plan(k):
                if self._lesson is not lesson:
                    raise _ReplayEnded
                self._errors = []
                try:
                    note = self._apply(action)
                except _ReplayEnded:
                    raise
                except _StepFailed as e:
                    note = str(e)
                    failed = True
                except (ValueError, RuntimeError, TimeoutError, KeyError,
                        IndexError) as e:
                    note = str(e) or type(e).__name__
                    failed = True
                else:
                    failed = False
                if failed:  # the rest of the replay would build on a broken state
                    return f"Step {i + 1}, action {j + 1} ({action.kind}): {note}"
                if note and i == k:
                    message = note
            try:
                self._wait_idle()
            except TimeoutError as e:
                message = str(e)
            return message
        except _ReplayEnded:
            ended = True
            return None
        finally:
            self._replaying = False
            if not ended and self._lesson is lesson:  # else nothing is left to show them
                for option in self._view_options_used():
                    value = self._view.get(option, VIEW_DEFAULTS[option])
                    if value is not None:
                        self.view_option.emit(option, value)

    def _view_options_used(self) -> list[str]:
        used = []
        for step in self._lesson.steps:
            for a in step.actions:
                if a.kind == "view" and a["option"] not in used:
                    used.append(a["option"])
        return used

    def _on_session_error(self, message: str) -> None:
        if self._replaying:
            self._errors.append(message)

    def _apply(self, a: Action) -> str:
        """Apply one action; returns a note for the user ("" if none)."""
        s, st = self.session, self.stepper
        k = a.kind
        if k == "load_preset":
            st.stop()
            s.load_preset(a["name"])
        elif k == "select_sample":
            n = len(s.dataset.x_train)
            if a["index"] >= n:
                raise _StepFailed(f"sample {a['index']} does not exist: the training data "
                                  f"has {n} samples (0 to {n - 1})")
            s.select_sample(a["index"])
        elif k == "scope":
            st.set_scope(a["value"])
        elif k == "phase":
            self._go_to_phase(a["kind"], a.get("layer"))
        elif k == "stop_stepping":
            st.stop()
        elif k == "set":
            s.set_config(**{a["key"].split(".", 1)[1]: a["value"]})
        elif k == "activations":
            s.set_activations(a.get("hidden"), a.get("output"), a.get("loss"))
        elif k == "init":
            s.set_init(InitConfig(**{key: v for key, v in a.args}))
        elif k == "structure":
            s.set_structure(list(a["layers"]), a.get("hidden"), a.get("output"))
        elif k == "data":
            s.set_data(data_mod.spec_from_dict({key: _thawed(v) for key, v in a.args}))
        elif k == "train":
            return self._train(a["epochs"])
        elif k == "reset":
            st.stop()
            s.reset()
        elif k == "view":
            self._view[a["option"]] = a["value"]
        else:  # validated on load: cannot happen
            raise _StepFailed(f"unknown action {k!r}")
        return ""

    def _go_to_phase(self, kind: str, layer: int | str | None) -> None:
        st = self.stepper
        if not st.active:
            st.start()
        L = len(self.session.layers) - 1
        if layer == "output":
            layer = L
        if layer is not None and not 1 <= layer <= L:
            raise _StepFailed(f"this network has layers 1 to {L} after the inputs (the "
                              f"output is {L}), not {layer}")
        if not any(p.kind == kind and (layer is None or p.layer == layer)
                   for p in st.phases):
            raise _StepFailed(f"the phase stepper has no {kind} phase"
                              + (f" for layer {layer}" if layer is not None else ""))
        st.go_to(kind, layer)

    def _wait_idle(self, timeout_ms: int = 5000) -> None:
        """``Session.wait_idle``, but a session shut down meanwhile (the window closed
        while the replay waited) or a lesson stopped meanwhile ends the replay."""
        lesson = self._lesson
        try:
            self.session.wait_idle(timeout_ms=timeout_ms)
        except RuntimeError:  # raised at once once the session has been shut down
            raise _ReplayEnded from None
        if self._lesson is not lesson:
            raise _ReplayEnded

    def _train(self, epochs: int) -> str:
        s = self.session
        self.stepper.stop()
        self._wait_idle()
        target = s.epoch + epochs
        s.step_epochs(epochs)
        self._wait_idle(timeout_ms=120_000)
        if s.epoch >= target:
            return ""
        # Training stopped early: it diverged. The session reports why through its error
        # signal, which crosses from the training thread; give it a moment to arrive.
        deadline = QtCore.QDeadlineTimer(2000)
        while not self._errors and not deadline.hasExpired():
            QtCore.QCoreApplication.processEvents(QtCore.QEventLoop.AllEvents, 20)
        if self._errors:
            return self._errors[-1]
        return (f"Training stopped after epoch {s.epoch} of {target}: the numbers became "
                "too large (it diverged).")


def _thawed(v: Any) -> Any:
    """A validated argument back as JSON would give it (tuples to lists)."""
    if isinstance(v, tuple):
        return [_thawed(e) for e in v]
    return v
