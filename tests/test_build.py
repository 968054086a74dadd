"""Python packaging: `python -m build` makes an sdist and, from it, a wheel that holds the
resources and passes `backprop-lab --selftest` in a fresh virtual environment. The
selftest leaves no files behind.

The builds, the fresh environment and the install take about a minute (marked slow:
`pytest -m "not slow"` leaves them out; CI runs them). They need the `build` package
(the test extra) and a reachable package index, as `pip install` does.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import backprop_lab

ROOT = Path(__file__).resolve().parent.parent
VERSION = backprop_lab.__version__
SDIST = f"backprop_lab-{VERSION}.tar.gz"
WHEEL = f"backprop_lab-{VERSION}-py3-none-any.whl"
#: what copying the checkout for a build leaves out (caches, build output, environments)
IGNORE = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache",
                                ".ruff_cache", ".hypothesis", "*.egg-info", "build", "dist",
                                "out", "venv*", ".venv*")


def _files(folder: Path) -> set[str]:
    """Files under folder, relative, without caches."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def _clean_env(home: Path) -> dict[str, str]:
    """An environment whose home, configuration, cache and temporary folders are all
    under ``home``, with nothing that points Python at the checkout."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "XDG_", "QT_"))}
    dirs = {"HOME": "home", "XDG_CONFIG_HOME": "config", "XDG_CACHE_HOME": "cache",
            "XDG_DATA_HOME": "data", "XDG_STATE_HOME": "state", "TMPDIR": "tmp",
            "XDG_RUNTIME_DIR": "run"}
    for var, sub in dirs.items():
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    (home / "run").chmod(0o700)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _build(args: list[str], cwd: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "build", *args, "--outdir", str(out)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def _need_build() -> None:
    try:
        import build  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise  # CI installs the test extra, which has it
        pytest.skip("the `build` package is not installed (pip install build)")


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """The sdist built from a copy of the checkout, then the wheel built from the sdist
    (not from the checkout: that is how a wheel built from PyPI's sdist comes about)."""
    _need_build()
    tmp = tmp_path_factory.mktemp("build")
    src = tmp / "checkout"
    shutil.copytree(ROOT, src, ignore=IGNORE, symlinks=True)
    out = tmp / "dist"
    r = _build(["--sdist"], src, out)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    sdist = out / SDIST
    with tarfile.open(sdist) as tf:
        # the "data" filter exists from Python 3.12 and in 3.10.12+ / 3.11.4+
        kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tf.extractall(tmp / "unpacked", **kwargs)
    unpacked = tmp / "unpacked" / f"backprop_lab-{VERSION}"
    r = _build(["--wheel"], unpacked, out)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return {"sdist": sdist, "wheel": out / WHEEL, "unpacked": unpacked, "tmp": tmp}


# -- the sdist ---------------------------------------------------------------------------
@pytest.mark.slow
def test_sdist_holds_resources_tests_manifest_and_licence(dists):
    with tarfile.open(dists["sdist"]) as tf:
        prefix = f"backprop_lab-{VERSION}/"
        names = {n[len(prefix):] for n in tf.getnames() if n.startswith(prefix)}
    for f in ("LICENSE", "MANIFEST.in", "README.md", "pyproject.toml", "setup.py",
              "PKG-INFO"):
        assert f in names, f"{f} missing from the sdist"
    for sub in ("resources", "tests", "packaging", "app/backprop_lab"):
        want = {f"{sub}/{f}" for f in _files(ROOT / sub)
                if not f.startswith("out/")}
        missing = sorted(want - names)
        assert not missing, f"missing from the sdist: {missing[:10]}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith("packaging/out/")]
    assert not [n for n in names if n.startswith(".ci/")]


# -- the wheel (built from the sdist) ----------------------------------------------------
@pytest.mark.slow
def test_wheel_from_the_sdist_holds_every_resource_and_module(dists):
    with zipfile.ZipFile(dists["wheel"]) as zf:
        names = set(zf.namelist())
        meta = email.message_from_bytes(zf.read(f"backprop_lab-{VERSION}.dist-info/METADATA"))
    resources = {f"backprop_lab/resources/{f}" for f in _files(ROOT / "resources")}
    assert resources <= names, sorted(resources - names)[:10]
    modules = {f"backprop_lab/{f}" for f in _files(ROOT / "app" / "backprop_lab")}
    assert modules <= names, sorted(modules - names)[:10]
    assert f"backprop_lab-{VERSION}.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith("tests/")]
    assert meta["License-Expression"] == "MIT"
    assert meta["Version"] == VERSION

    try:
        import tomllib
    except ModuleNotFoundError:
        tomllib = pytest.importorskip("tomli")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {str(Requirement(d)) for d in project["dependencies"]}
    runtime = {str(Requirement(d)) for d in meta.get_all("Requires-Dist")
               if "extra ==" not in d}
    assert runtime == declared


@pytest.mark.slow
def test_a_build_without_resources_fails_loudly(dists, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(dists["unpacked"], broken)
    shutil.rmtree(broken / "resources" / "presets")
    r = _build(["--wheel"], broken, tmp_path / "out")
    assert r.returncode != 0
    assert "lacks presets/*.json" in r.stdout + r.stderr
    assert not list((tmp_path / "out").glob("*.whl"))


@pytest.mark.slow
def test_the_wheel_passes_the_selftest_in_a_fresh_venv_and_leaves_no_files(dists):
    tmp = dists["tmp"]
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    py = env_dir / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", str(dists["wheel"])],
                       cwd=tmp, capture_output=True, text=True, timeout=600,
                       env={k: v for k, v in os.environ.items()
                            if not k.startswith(("PYTHON", "VIRTUAL_ENV"))})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    home = tmp / "home"  # the selftest's own, empty home, configuration and temp folders
    env = _clean_env(home)

    exe = env_dir / "bin" / "backprop-lab"
    r = subprocess.run([str(exe), "--selftest"], cwd=home / "tmp", env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1].startswith("selftest passed")
    site = next(env_dir.glob("lib/python3*/site-packages"))
    assert f"ok  resources: found in {site / 'backprop_lab' / 'resources'}" in lines

    r = subprocess.run([str(exe), "presets"], cwd=home / "tmp", env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "article-xor" in r.stdout, r.stdout + r.stderr
    left = sorted(str(p.relative_to(home)) for p in home.rglob("*")
                  if p.is_file() or (p.is_dir() and not any(p.iterdir())
                                     and p.parent != home))
    assert left == [], f"the selftest left files behind: {left}"


# -- the selftest of the checkout leaves no files either (fast) ---------------------------
def test_the_selftest_leaves_no_files_behind(tmp_path):
    env = _clean_env(tmp_path)
    env["PYTHONPATH"] = str(ROOT / "app")
    r = subprocess.run([sys.executable, "-m", "backprop_lab", "--selftest"],
                       cwd=tmp_path / "tmp", env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                  if p.is_file() or (p.is_dir() and p.parent != tmp_path))
    assert left == [], f"the selftest left files behind: {left}"
