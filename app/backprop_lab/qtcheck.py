"""Refuse a PySide6 release that is known to crash this app on the running Python.

PySide6 (and PySide6-Essentials) 6.12.0 drops one reference to ``None`` on every call
to a Qt method that returns nothing (``drawLine``, ``setPen``, ``update``, ``resize``
...). Python 3.12 made ``None`` immortal, so there it costs nothing; on Python 3.10 and
3.11 the count reaches zero after a few thousand such calls and the process dies with
``Fatal Python error: none_dealloc: deallocating None`` (pyqtgraph's axis painting gets
there within seconds). pyproject.toml pins ``PySide6-Essentials<6.12``; this check
catches an installation that ignored the pin (a distribution's PySide6, a hand-made
environment), with one clear line instead of a crash some seconds later.

Only the standard library is imported here; PySide6's version is read from its
package (``PySide6.__version__``), which loads none of Qt's libraries.
"""

from __future__ import annotations

import re
import sys
from typing import NamedTuple


class KnownBad(NamedTuple):
    version: str  #: the PySide6 release, exactly as PySide6.__version__ spells it
    below_python: tuple[int, int]  #: affected on every Python older than this
    why: str  #: what goes wrong, in a few words


#: Releases this app must not run on. tests/test_qtcheck.py fails if pyproject.toml's
#: requirement admits one of them on a Python it affects.
KNOWN_BAD: tuple[KnownBad, ...] = (
    KnownBad("6.12.0", (3, 12),
             "it drops a reference to None on every void Qt call and crashes "
             "(none_dealloc)"),
)

#: what to install instead (the pin of pyproject.toml)
ADVICE = "pip install 'PySide6-Essentials>=6.10,<6.12'"


def _version_tuple(text: str) -> tuple[int, ...]:
    """(6, 12, 0) from "6.12.0", "6.12.0a1" or "6.12.0.dev3": the release numbers only."""
    m = re.match(r"\d+(?:\.\d+)*", text.strip())
    parts = [int(v) for v in m.group(0).split(".")] if m else []
    return tuple(parts + [0] * (3 - len(parts)))  # "6.12" is 6.12.0


def problem(pyside_version: str, python: tuple[int, ...]) -> str | None:
    """The one-line reason why this PySide6 cannot run on this Python, or None."""
    have = _version_tuple(pyside_version)
    for bad in KNOWN_BAD:
        if have == _version_tuple(bad.version) and tuple(python[:2]) < bad.below_python:
            py = ".".join(str(v) for v in python[:2])
            return (f"PySide6 {pyside_version} cannot run Backprop Lab on Python {py}: "
                    f"{bad.why}; {ADVICE}")
    return None


def installed_pyside_version() -> str | None:
    """PySide6's version, without loading Qt (None if PySide6 is not installed)."""
    try:
        import PySide6
    except ImportError:
        return None
    return getattr(PySide6, "__version__", None)


def check() -> str | None:
    """The reason to refuse the installed PySide6 on this Python, or None if it is fine."""
    version = installed_pyside_version()
    if version is None:
        return None  # the import that needs it reports its absence
    return problem(version, sys.version_info[:2])
