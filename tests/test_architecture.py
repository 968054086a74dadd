"""The layers are contracts: ui > controller > runs > engine (import-linter, configured in
pyproject.toml), and the controller uses QtCore only (no widgets, no painting)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTROLLER = ROOT / "app" / "backprop_lab" / "controller"
WIDGET_MODULES = ("PySide6.QtWidgets", "PySide6.QtGui", "PySide6.QtSvg", "pyqtgraph")


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out += [f"{node.module}.{a.name}" for a in node.names]
    return out


def test_the_controller_uses_qtcore_only():
    bad = {f"{p.name}: {m}" for p in CONTROLLER.glob("*.py") for m in _imports(p)
           if m.startswith(WIDGET_MODULES)}
    assert not bad, f"widgets or painting in the controller: {sorted(bad)}"


def test_import_contracts_hold():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    done = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT / "app"), "PATH": str(Path(
                              sys.executable).parent)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" in done.stdout and " 0 broken" in done.stdout
