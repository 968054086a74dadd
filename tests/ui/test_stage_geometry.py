"""The lecture stage at projector sizes: every view a lesson step needs is on screen,
inside the window and whole (measured from widget geometry, not pixels).

Each screen size needs a Qt of its own (the screen is fixed when Qt starts), so
``stage_probe.py`` runs once per screen in a subprocess; the four start together (two
cores share them) and the tests read their reports:

* 1280x720: every step of the four shipped lessons, normal and presentation mode;
* 1366x768, 1920x1080 and 3840x2160 at scale 2 (HiDPI): a sample of steps, both modes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("stage_probe.py")
SAMPLE = "1:1,1:4,1:7,1:10,1:16,2:5,2:7,3:3,3:6,4:5"
SCREENS = {  # name: (width, height, QT_SCALE_FACTOR, steps)
    "1280x720": (1280, 720, 1, "all"),
    "1366x768": (1366, 768, 1, SAMPLE),
    "1920x1080": (1920, 1080, 1, SAMPLE),
    "3840x2160@2": (3840, 2160, 2, SAMPLE),
}


def _start(tmp: Path, name: str) -> subprocess.Popen:
    w, h, factor, steps = SCREENS[name]
    config = tmp / f"{name.replace('@', '_')}.json"
    config.write_text(json.dumps({"screens": [{
        "name": name, "x": 0, "y": 0, "width": w, "height": h, "logicalDpi": 96,
        "logicalBaseDpi": 96, "dpr": 1}]}))
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    env["QT_SCALE_FACTOR"] = str(factor)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "app"), str(ROOT)]
                                        + env.get("PYTHONPATH", "").split(os.pathsep))
    env["XDG_CONFIG_HOME"] = str(tmp / f"config-{w}")
    return subprocess.Popen([sys.executable, str(PROBE), "--steps", steps], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stage")
    procs = {name: _start(tmp, name) for name in SCREENS}
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"{name}: the probe failed:\n{stderr[-3000:]}"
        lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        out[name] = {"opened": lines[0], "steps": lines[1:]}
    return out


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_view_a_step_needs_is_on_screen_and_whole(reports, screen):
    steps = reports[screen]["steps"]
    assert steps, "the probe measured no step"
    if screen == "1280x720":  # every step of every lesson, in both modes
        assert len(steps) == 2 * (16 + 7 + 6 + 6)
    problems = [f"{r['lesson']} step {r['step']} ({r['mode']}): {p}"
                for r in steps for p in r["problems"]]
    assert not problems, "\n".join(problems)
    for r in steps:
        # the lesson's needs were what the layout served; an empty plot took no room
        assert r["stage"]["lesson"], r
        served = set(r["stage"]["bottom"])
        for view, dock in (("formulas", "formula_dock"), ("loss_plot", "loss_dock"),
                           ("gradient_plot", "gradient_dock")):
            assert (view in r["needed"]) == (dock in served), (r["lesson"], r["step"])


@pytest.mark.parametrize("screen", list(SCREENS))
def test_presentation_text_is_large(reports, screen):
    """Presentation mode makes the caption larger than normal wherever it fits, and at
    1080p (and 4K at scale 2) the canvas writes its digits at least 24 px tall."""
    for r in reports[screen]["steps"]:
        if r["mode"] != "present":
            continue
        assert r["presenting"]
        assert r["lesson_text"]["caption_px"] >= 18, r
        values = r["canvas"]["text_px"].get("value")
        if screen in ("1920x1080", "3840x2160@2") and values and "canvas" in r["needed"]:
            # device-independent pixels: at 4K scale 2 that is 48 screen pixels
            assert values >= 24, (r["lesson"], r["step"], values)


def test_the_window_opens_inside_the_screen(reports):
    for screen in SCREENS:
        opened = reports[screen]["opened"]
        x, y, w, h = opened["opened"]
        ax, ay, aw, ah = opened["available"]
        assert ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah, (screen, opened)
    # a 1280x720 projector: the window fills it instead of running off its edge
    x, y, w, h = reports["1280x720"]["opened"]["opened"]
    assert (w, h) == (1280, 720)
