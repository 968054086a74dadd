"""Find the ``resources/`` folder from a checkout, an installed wheel or a frozen bundle."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resources_dir() -> Path:
    """The folder that holds presets, lessons and icons.

    Order: a PyInstaller bundle (``sys._MEIPASS/resources``), the copy packed into the
    installed package (``backprop_lab/resources``), the checkout's top-level ``resources``.
    """
    here = Path(__file__).resolve().parent
    candidates = []
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        candidates.append(Path(sys._MEIPASS) / "resources")
    candidates += [here / "resources", here.parent.parent / "resources"]
    for c in candidates:
        if (c / "presets").is_dir():
            return c
    raise FileNotFoundError("Backprop Lab's resources folder is missing; looked in "
                            + ", ".join(str(c) for c in candidates))


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
