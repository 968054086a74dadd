"""The PySide6 known-bad guard: the pin in pyproject.toml, the start-up check, and the
bug itself (void Qt calls must not drop references to None)."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from backprop_lab import qtcheck, selftest

ROOT = Path(__file__).resolve().parent.parent
QT_DISTRIBUTIONS = {"pyside6", "pyside6-essentials"}


def _pyproject() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _pythons(requires_python: str, below: tuple[int, int]) -> list[str]:
    """The Python versions (3.N) that requires-python admits and that are older than below."""
    spec = SpecifierSet(requires_python)
    return [f"3.{minor}" for minor in range(0, 30)
            if (3, minor) < below and Version(f"3.{minor}") in spec]


def offending(requirements: list[str], requires_python: str) -> list[str]:
    """Each (requirement, Python, release) where a PySide6 requirement admits a known-bad
    release on a Python that release affects."""
    found = []
    for text in requirements:
        req = Requirement(text)
        if req.name.lower() not in QT_DISTRIBUTIONS:
            continue
        for bad in qtcheck.KNOWN_BAD:
            for py in _pythons(requires_python, bad.below_python):
                env = {"python_version": py, "python_full_version": f"{py}.0"}
                if req.marker is not None and not req.marker.evaluate(env):
                    continue
                if req.specifier.contains(bad.version, prereleases=True):
                    found.append(f"{text!r} admits PySide6 {bad.version} on Python {py}")
    return found


# -- the pin -----------------------------------------------------------------------------
def test_the_pin_admits_no_known_bad_pyside_on_a_python_it_affects():
    project = _pyproject()["project"]
    deps = project["dependencies"]
    assert any(Requirement(d).name.lower() in QT_DISTRIBUTIONS for d in deps)
    problems = offending(deps, project["requires-python"])
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize("requirement, bad", [
    ("PySide6-Essentials>=6.10", True),              # the pin lifted
    ("PySide6-Essentials>=6.10,<6.13", True),
    ("PySide6-Essentials>=6.10,!=6.12.*; python_version >= '3.12'", False),
    ("PySide6-Essentials>=6.10,<6.12", False),
    ("PySide6-Essentials>=6.10,!=6.12.0", False),
    ("PySide6>=6.10", True),                          # the meta package, same release
])
def test_the_pin_check_itself_can_fail(requirement, bad):
    assert bool(offending([requirement], ">=3.10")) is bad


def test_known_bad_list_covers_the_documented_release():
    assert any(b.version == "6.12.0" and b.below_python == (3, 12) for b in qtcheck.KNOWN_BAD)
    assert Marker("python_version < '3.12'").evaluate({"python_version": "3.11"})


# -- the start-up check ------------------------------------------------------------------
@pytest.mark.parametrize("version, python, refused", [
    ("6.12.0", (3, 11), True),
    ("6.12.0", (3, 10), True),
    ("6.12", (3, 11), True),
    ("6.12.0", (3, 12), False),
    ("6.12.0", (3, 13), False),
    ("6.11.3", (3, 11), False),
    ("6.12.1", (3, 11), False),
    ("6.10.0", (3, 10), False),
])
def test_problem_names_a_known_bad_release_on_an_affected_python(version, python, refused):
    reason = qtcheck.problem(version, python)
    assert (reason is not None) is refused
    if refused:
        assert "\n" not in reason
        assert f"PySide6 {version}" in reason
        assert f"Python {python[0]}.{python[1]}" in reason
        assert "PySide6-Essentials>=6.10,<6.12" in reason  # says what to install


def test_the_installed_pyside_passes_the_check():
    assert qtcheck.check() is None, qtcheck.check()


@pytest.fixture
def bad_pyside(monkeypatch):
    """Pretend the installed PySide6 is known-bad on this Python (whatever it is)."""
    monkeypatch.setattr(qtcheck, "installed_pyside_version", lambda: "6.12.0")
    monkeypatch.setattr(qtcheck, "KNOWN_BAD",
                        (qtcheck.KnownBad("6.12.0", (99, 0), "it is broken"),))


def test_the_window_refuses_a_known_bad_pyside_with_one_line(bad_pyside, monkeypatch,
                                                                 capsys, tmp_path):
    from backprop_lab.ui import app

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    out = tmp_path / "shot.png"
    assert app.run_app(screenshot=str(out)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert re.match(r"backprop-lab: error: PySide6 6\.12\.0 cannot run Backprop Lab on "
                    r"Python \d+\.\d+: it is broken; pip install ", err)
    assert not out.exists()


def test_the_selftest_refuses_a_known_bad_pyside_and_runs_no_qt_check(bad_pyside):
    buf = io.StringIO()
    assert selftest.run_selftest(out=buf) == 1
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("FAIL qt: PySide6 6.12.0 cannot run Backprop Lab")
    for name in selftest.NEEDS_QT:
        assert f"skip {name}: needs a PySide6 that passed the qt check" in lines
    assert lines[-1].startswith("selftest FAILED: qt: PySide6 6.12.0")


# -- the bug itself ----------------------------------------------------------------------
@pytest.mark.skipif(sys.version_info >= (3, 12),
                    reason="None is immortal from Python 3.12: its count never changes")
def test_void_qt_calls_leave_the_reference_count_of_none_alone(qtbot):
    """PySide6 6.12.0 drops a reference to None on every void call (fatal on 3.10/3.11).
    This fails on such a release whatever the pin says (e.g. a distribution's PySide6)."""
    from PySide6 import QtCore, QtGui, QtWidgets

    image = QtGui.QImage(64, 64, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    pen = QtGui.QPen(QtGui.QColor("black"))
    brush = QtGui.QBrush(QtGui.QColor("red"))
    widget = QtWidgets.QWidget()
    qtbot.addWidget(widget)
    line = QtCore.QLineF(0, 0, 10, 10)
    try:
        calls = [lambda: painter.drawLine(line), lambda: painter.setPen(pen),
                 lambda: painter.setBrush(brush), lambda: painter.drawEllipse(1, 1, 5, 5),
                 lambda: widget.update(), lambda: widget.resize(50, 40)]
        for call in calls:  # warm up caches that may hold None once
            call()
        before = sys.getrefcount(None)
        for _ in range(1000):
            for call in calls:
                call()
        after = sys.getrefcount(None)
    finally:
        painter.end()
    # a few references may come and go with the interpreter's own caches; the bug loses
    # one per call, 6,000 here
    assert abs(after - before) < 50, f"None lost {before - after} references in 6,000 calls"
