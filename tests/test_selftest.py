"""``backprop-lab --selftest``: passes on a good checkout, fails loudly on a broken one."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_lab import selftest
from backprop_lab.engine import presets

ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "app")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def test_selftest_passes_in_a_subprocess():
    r = subprocess.run([sys.executable, "-m", "backprop_lab", "--selftest"], cwd=ROOT,
                       env=_env(), capture_output=True, text=True, timeout=180)
    out = r.stdout
    assert r.returncode == 0, f"selftest failed:\n{out}\n{r.stderr}"
    lines = out.strip().splitlines()
    assert lines[-1].startswith("selftest passed")
    assert any(line.startswith("ok  presets: ") for line in lines)
    assert any(line.startswith("ok  window: ") for line in lines)
    assert not any(line.startswith("FAIL") for line in lines)


def _run_in_process(monkeypatch, folder: Path) -> tuple[int, str]:
    monkeypatch.setenv("QT_QPA_PLATFORM", os.environ.get("QT_QPA_PLATFORM") or "offscreen")
    monkeypatch.setattr(presets, "_dir", lambda: folder)
    buf = io.StringIO()
    rc = selftest.run_selftest(out=buf)
    return rc, buf.getvalue()


def test_selftest_fails_on_a_broken_preset(monkeypatch, tmp_path):
    good = json.loads((ROOT / "resources" / "presets" / "xor-tanh.json").read_text())
    (tmp_path / "xor-tanh.json").write_text(json.dumps(good))
    broken = dict(good)
    broken["network"] = dict(good["network"], layers=[2, "three", 1])
    (tmp_path / "broken-one.json").write_text(json.dumps(broken))
    rc, out = _run_in_process(monkeypatch, tmp_path)
    assert rc == 1, out
    assert "FAIL presets: preset 'broken-one'" in out
    assert out.strip().splitlines()[-1].startswith("selftest FAILED: ")


def test_selftest_fails_on_a_preset_that_is_not_json(monkeypatch, tmp_path):
    (tmp_path / "garbled.json").write_text("{ not json")
    rc, out = _run_in_process(monkeypatch, tmp_path)
    assert rc == 1, out
    assert "FAIL presets: " in out
    assert "selftest FAILED: " in out


def test_selftest_fails_when_the_presets_folder_is_missing(monkeypatch, tmp_path):
    rc, out = _run_in_process(monkeypatch, tmp_path / "nowhere")
    assert rc == 1, out
    assert "FAIL presets: no presets found" in out


def test_selftest_catches_any_exception(monkeypatch):
    def boom() -> str:
        raise RuntimeError("something odd\nsecond line")

    monkeypatch.setattr(selftest, "CHECKS", [("boom", boom), ("fine", lambda: "yes")])
    buf = io.StringIO()
    assert selftest.run_selftest(out=buf) == 1
    lines = buf.getvalue().splitlines()
    assert lines == ["FAIL boom: RuntimeError: something odd", "ok  fine: yes",
                     "selftest FAILED: boom: RuntimeError: something odd"]


@pytest.mark.parametrize("env, expected", [
    ({}, "offscreen"),
    ({"DISPLAY": ":0"}, None),
    ({"WAYLAND_DISPLAY": "wayland-0"}, None),
    ({"QT_QPA_PLATFORM": "xcb"}, "xcb"),
])
def test_platform_defaults_to_offscreen_without_a_screen(monkeypatch, env, expected):
    if sys.platform in ("win32", "darwin"):
        pytest.skip("always has a window system")
    for k in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    selftest._ensure_platform()
    assert os.environ.get("QT_QPA_PLATFORM") == expected
