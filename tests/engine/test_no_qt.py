"""The engine and the run modules must import without Qt: they run headless (CLI, tests,
the training process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
GUI_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph")

SCRIPT = r"""
import importlib, json, pkgutil, sys
import backprop_lab.engine as engine
import backprop_lab.runs as runs
loaded = []
for pkg in (engine, runs):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(info.name)
        loaded.append(info.name)
print(json.dumps({"submodules": loaded, "modules": sorted(sys.modules)}))
"""


def test_engine_and_runs_import_without_qt():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(APP)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.pop("QT_API", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    expected = {f"backprop_lab.engine.{m}" for m in (
        "activations", "losses", "network", "regularization", "optimizers", "init",
        "training", "names", "landscape")}
    expected |= {f"backprop_lab.runs.{m}" for m in (
        "state", "wire", "loop", "server", "edits", "lessons", "stepping", "history",
        "timeline", "compare")}
    assert expected <= set(report["submodules"])
    gui = [m for m in report["modules"] if m.split(".")[0].startswith(GUI_PREFIXES)]
    assert gui == [], f"the engine or the runs pulled in GUI modules: {gui}"
