"""Saves killed part-way (issue 12): the target is always a whole project, and the hidden
temporary files that killed saves leave are removed by the next save.

A child process saves a 116,000-weight project (about 3 MB of JSON) over and over and is
killed with SIGKILL ``KILLS`` times, half of them at a random moment and half while it
writes its temporary file (``BACKPROP_LAB_STRESS_KILLS``
sets another number). After every kill the target must load; the temporary files left
behind are counted (the figure in the README's reliability table) and must be gone after
the next save.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backprop_lab.engine import presets
from backprop_lab.engine.network import Network
from backprop_lab.engine.project import load, save

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("BACKPROP_LAB_STRESS_KILLS") or 20)

CHILD = """
import sys
from backprop_lab.engine.project import load, save
p = load(sys.argv[1])
target = sys.argv[2]
print("ready", flush=True)
n = 0
while True:
    p.network.params[0] = n  # every save differs
    save(p, target)
    n += 1
"""

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _temps(folder: Path, name: str) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(f".{name}.")
            and p.name.endswith(".tmp")]


def test_killed_saves_leave_a_whole_file_and_no_temporary_files(tmp_path):
    p = presets.load_preset("spiral")
    p.network = Network([2] + [128] * 8 + [1], "tanh", "sigmoid")
    p.network.params[:] = 0.123456789012345  # long numbers: a slow, large save
    source = tmp_path / "source.json"
    save(p, source)
    target = tmp_path / "project.json"
    rng = random.Random(12)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "app"))
    left_behind = 0
    for k in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(source), str(target)],
                                 stdout=subprocess.PIPE, env=env)
        try:
            assert child.stdout.readline().strip() == b"ready"
            if k % 2:  # at a random moment
                time.sleep(rng.uniform(0.0, 0.6))
            else:  # while it writes its temporary file
                before = set(_temps(tmp_path, "project.json"))
                deadline = time.monotonic() + 10
                while (set(_temps(tmp_path, "project.json")) <= before
                       and time.monotonic() < deadline):
                    time.sleep(0.001)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            child.stdout.close()
        if target.exists():
            assert load(target).network.layers == p.network.layers  # never half a file
        temps = _temps(tmp_path, "project.json")
        assert len(temps) <= 1, temps  # the child's own save removed the earlier ones
        left_behind += len(temps)
    print(f"\n{KILLS} killed saves left {left_behind} temporary files before the next save")
    save(p, target)  # the next save cleans up after the last killed one
    assert _temps(tmp_path, "project.json") == []
    assert load(target).to_dict() == p.to_dict()
