"""Presets: project files shipped in ``resources/presets``, loaded by name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..resources import resource
from .project import Project, ProjectError, loads

#: The order presets are listed in (others follow alphabetically).
ORDER = ("article-xor", "xor-tanh", "xor-symmetric", "circle", "circle-features", "spiral",
         "three-class", "regression", "deep-sigmoid", "deep-relu")
DEFAULT = "article-xor"


@dataclass(frozen=True)
class PresetInfo:
    name: str
    title: str
    description: str
    path: Path


def _dir() -> Path:
    return resource("presets")


def list_presets() -> list[PresetInfo]:
    out = []
    for p in _dir().glob("*.json"):
        meta = json.loads(p.read_text(encoding="utf-8")).get("meta", {})
        out.append(PresetInfo(p.stem, meta.get("title", p.stem), meta.get("description", ""),
                              p))
    rank = {n: i for i, n in enumerate(ORDER)}
    out.sort(key=lambda i: (rank.get(i.name, len(rank)), i.name))
    return out


def preset_names() -> list[str]:
    return [i.name for i in list_presets()]


def load_preset(name: str) -> Project:
    p = _dir() / f"{name}.json"
    if not p.is_file():
        raise ProjectError(f"unknown preset {name!r} (available: "
                           f"{', '.join(preset_names())})")
    return loads(p.read_text(encoding="utf-8"), f"preset {name}", _dir())


def preset_dict(name: str) -> dict:
    p = _dir() / f"{name}.json"
    if not p.is_file():
        raise ProjectError(f"unknown preset {name!r} (available: "
                           f"{', '.join(preset_names())})")
    return json.loads(p.read_text(encoding="utf-8"))
