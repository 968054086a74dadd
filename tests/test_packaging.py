"""Cheap static checks of the packaging files (no PyInstaller build; that is the smoke
test, packaging/smoke_test.sh)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import backprop_lab

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "packaging"
ICONS = ROOT / "resources" / "icons"
DESKTOP = PKG / "linux" / "backprop-lab.desktop"
APP_ID = "io.github.backprop_lab.BackpropLab"
METAINFO = PKG / "linux" / f"{APP_ID}.metainfo.xml"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def desktop_entries() -> dict[str, str]:
    out = {}
    for line in DESKTOP.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


# -- icons --------------------------------------------------------------------------------
def test_svg_master_is_square_svg():
    root = ET.parse(ICONS / "backprop-lab.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    x, y, w, h = (float(v) for v in root.get("viewBox").split())
    assert w == h > 0


@pytest.mark.parametrize("size", SIZES)
def test_png_icons_exist_square_at_their_size(size):
    path = ICONS / f"backprop-lab-{size}.png"
    assert path.is_file(), f"{path} missing: run python packaging/make_icons.py"
    assert png_size(path) == (size, size)


def test_windows_ico_and_macos_icns_hold_png_entries():
    ico = (PKG / "windows" / "backprop-lab.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count >= 5
    icns = (PKG / "macos" / "backprop-lab.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    assert b"ic10" in icns and b"icp4" in icns


# -- desktop entry and AppStream ----------------------------------------------------------
def test_desktop_entry_fields():
    e = desktop_entries()
    assert e["Type"] == "Application"
    assert e["Name"] == "Backprop Lab"
    assert e["Exec"].split()[0] == "backprop-lab"
    assert e["Icon"] == "backprop-lab"
    assert e["Terminal"] == "false"
    assert "Education" in e["Categories"].split(";")


def test_desktop_entry_validates():
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    r = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "error" not in (r.stdout + r.stderr).lower()


def test_metainfo_is_valid_xml_with_the_right_id():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert root.findtext("project_license") == "MIT"
    assert root.findtext("name") == "Backprop Lab"
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    assert root.findtext("icon") == desktop_entries()["Icon"]
    assert root.find("provides/binary").text == "backprop-lab"
    releases = [r.get("version") for r in root.iter("release")]
    assert backprop_lab.__version__ in releases, "add a <release> for the current version"


def test_metainfo_validates_with_appstreamcli():
    tool = shutil.which("appstreamcli")
    if tool is None:
        pytest.skip("appstreamcli is not installed (apt-get install appstream)")
    r = subprocess.run([tool, "validate", "--no-net", "--no-color", str(METAINFO)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr  # warnings allowed, errors not


# -- PyInstaller spec and scripts ---------------------------------------------------------
def test_spec_is_python_and_bundles_resources_and_launcher():
    text = (PKG / "backprop-lab.spec").read_text(encoding="utf-8")
    ast.parse(text)
    assert re.search(r'ROOT / "resources"\), "resources"\)', text)
    assert '"launcher.py"' in text
    assert "BUNDLE(" in text  # the macOS .app
    launcher = (PKG / "launcher.py").read_text(encoding="utf-8")
    assert "from backprop_lab.cli import main" in launcher


def test_spec_keeps_what_the_app_needs():
    """Exclusions must not drop the modules and plugins the window needs (pyqtgraph
    imports QtOpenGL for its curves; SVG icons need the svg plugins)."""
    text = (PKG / "backprop-lab.spec").read_text(encoding="utf-8")
    tree = ast.parse(text)
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in ("EXCLUDES", "KEEP_PLUGINS"):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    excludes = set(values["EXCLUDES"])
    for needed in ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg",
                   "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "numpy", "pyqtgraph",
                   "colorama"):
        assert needed not in excludes
    plugins = values["KEEP_PLUGINS"]
    assert {"qxcb", "qwayland", "qoffscreen"} <= plugins["platforms"]
    assert "qsvgicon" in plugins["iconengines"]
    assert "qsvg" in plugins["imageformats"]


@pytest.mark.parametrize("script", ["build.sh", "smoke_test.sh", "macos/build_macos.sh",
                                    "linux/chroot_test.sh", "../.ci/run"])
def test_shell_scripts_parse(script):
    r = subprocess.run(["bash", "-n", str(PKG / script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_run_header_is_posix_sh_and_fully_substituted_by_build_sh():
    header = PKG / "linux" / "run-header.sh"
    r = subprocess.run(["sh", "-n", str(header)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = header.read_text(encoding="utf-8")
    build = (PKG / "build.sh").read_text(encoding="utf-8")
    for placeholder in set(re.findall(r"@[A-Z_0-9]+@", text)):
        assert f'"{placeholder}"' in build, f"build.sh does not fill in {placeholder}"
    for option in ("--help", "--install", "--extract", "--clear-cache", "--bundle-info"):
        assert f"    {option}" in text or f"{option})" in text or f"{option}|" in text


def test_man_page_and_known_lintian_tags_are_documented():
    man = (PKG / "linux" / "backprop-lab.1").read_text(encoding="utf-8")
    assert re.search(r"^\.TH BACKPROP-LAB 1 ", man, re.M)
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS"):
        assert f".SH {section}" in man
    readme = (PKG / "README.md").read_text(encoding="utf-8")
    tags = [line.strip() for line in
            (PKG / "linux" / "lintian-known.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert tags
    for tag in tags:
        assert f"`{tag}`" in readme, f"lintian tag {tag} is not explained in packaging/README.md"


def test_build_script_names_the_artifacts():
    text = (PKG / "build.sh").read_text(encoding="utf-8")
    assert "${name}_${version}_amd64.deb" in text
    assert "${name}-${version}-x86_64.run" in text
    assert "--root-owner-group" in text
    assert "desktop-file-validate" in text and "appstreamcli validate" in text


def test_inno_setup_script_wraps_the_folder():
    text = (PKG / "windows" / "backprop-lab.iss").read_text(encoding="utf-8")
    assert "AppVersion={#AppVersion}" in text
    assert "recursesubdirs" in text
    assert "backprop-lab.exe" in text


def test_workflow_builds_on_three_pinned_systems_and_checks_the_tag():
    import yaml  # the test extra has PyYAML

    text = (PKG / "github-actions-build.yml").read_text(encoding="utf-8")
    wf = yaml.safe_load(text)
    jobs = wf["jobs"]
    oses = {os_ for job in jobs.values()
            for os_ in job.get("strategy", {}).get("matrix", {}).get("os", [])}
    assert {o.split("-")[0] for o in oses} >= {"ubuntu", "windows", "macos"}
    assert not [o for o in oses if o.endswith("-latest")], f"unpinned runner images: {oses}"
    steps = [s for job in jobs.values() for s in job["steps"]]
    tag_steps = [s for s in steps if "GITHUB_REF_NAME" in s.get("run", "")]
    assert tag_steps and "refs/tags/" in tag_steps[0]["if"]
    linux_tools = next(s["run"] for s in steps if s.get("name") == "Linux build tools")
    for tool in ("xauth", "xvfb", "patchelf", "lintian"):
        assert tool in linux_tools.split(), f"{tool} missing from the Linux job"


def test_deb_depends_cover_the_libraries_pyinstaller_leaves_out():
    sys.path.insert(0, str(PKG / "linux"))
    try:
        import deb_depends
    finally:
        sys.path.pop(0)
    declared = {alt.strip().split(" ")[0] for d in deb_depends.DEPENDS for alt in d.split("|")}
    # PyInstaller never bundles these (its exclusion list): they must come from Depends
    for so in ("libGL.so.1", "libEGL.so.1", "libxcb.so.1", "libwayland-client.so.0",
               "libwayland-cursor.so.0", "libwayland-egl.so.1"):
        assert deb_depends.KNOWN[so] in declared
    assert "fontconfig" in declared and "fonts-dejavu-core" in declared


# -- Python dependencies -------------------------------------------------------------------
#: declared because a part of the app is adopting it (the controller's throttling and
#: thread workers): allowed to be declared before the first import lands
ADOPTING: set[str] = set()  # declared before their first import (none now)


def _pyproject() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _third_party_imports() -> set[str]:
    """Top-level modules the package imports that are neither stdlib nor its own."""
    found = set()
    for path in (ROOT / "app" / "backprop_lab").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "backprop_lab"}


def test_declared_dependencies_are_exactly_what_the_package_imports():
    from packaging.requirements import Requirement

    declared = {_norm(Requirement(d).name) for d in _pyproject()["project"]["dependencies"]}
    providers = importlib.metadata.packages_distributions()
    imported = set()
    for module in _third_party_imports():
        dists = {_norm(d) for d in providers.get(module, [])}
        assert dists, f"the package imports {module}, which no installed distribution provides"
        # PySide6-Essentials or the PySide6 meta package; shiboken6 comes with either
        imported.add(next(iter(sorted(dists & declared) or sorted(dists))))
    # shiboken6 is PySide6's own binding layer, pinned to the same release by it
    if "shiboken6" in imported:
        requires = importlib.metadata.requires("PySide6-Essentials") or []
        assert any(_norm(Requirement(r).name) == "shiboken6" for r in requires)
        imported.discard("shiboken6")
    assert imported - declared == set(), "imported but not declared"
    assert declared - imported - ADOPTING == set(), "declared but never imported"


def test_test_extra_covers_what_the_tests_import_and_pins_ruff():
    from packaging.requirements import Requirement

    extra = {_norm(Requirement(d).name): Requirement(d)
             for d in _pyproject()["project"]["optional-dependencies"]["test"]}
    for needed in ("pytest", "pytest-qt", "hypothesis", "pyyaml", "packaging", "build"):
        assert needed in extra, f"{needed} is missing from the test extra"
    ruff = extra["ruff"]
    assert len(ruff.specifier) == 1 and next(iter(ruff.specifier)).operator == "==", ruff


def _lowest(python: str) -> dict[str, str]:
    """packaging/constraints-lowest.txt as {name: version} for a Python version."""
    from packaging.requirements import Requirement

    env = {"python_version": python, "python_full_version": f"{python}.0"}
    lows = {}
    for line in (PKG / "constraints-lowest.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        r = Requirement(line)
        (spec,) = r.specifier
        assert spec.operator == "==", line
        if r.marker is None or r.marker.evaluate(env):
            assert _norm(r.name) not in lows, f"two constraints for {r.name} on {python}"
            lows[_norm(r.name)] = spec.version
    return lows


def test_lowest_constraints_match_the_lower_bounds():
    """packaging/constraints-lowest.txt pins each dependency to its declared lower bound on
    CI's Python (3.11), and to something allowed on every other (CI's lower-bounds job
    installs it and runs the suite)."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    project = _pyproject()["project"]
    reqs = [Requirement(d) for d in
            list(project["dependencies"]) + list(project["optional-dependencies"]["test"])]
    lows = _lowest("3.11")
    for r in reqs:
        low = [s.version for s in r.specifier if s.operator in (">=", "==")]
        assert low, f"{r}: no lower bound"
        have = lows.get(_norm(r.name))
        assert have is not None and Version(have) == Version(low[0]), \
            f"{r.name}: constraints-lowest.txt has {have}, the lower bound is {low[0]}"
    for python in ("3.10", "3.12", "3.13"):
        other = _lowest(python)
        for r in reqs:
            assert _norm(r.name) in other, f"no constraint for {r.name} on Python {python}"
            assert r.specifier.contains(other[_norm(r.name)]), (r, python)
    assert set(lows) == {_norm(r.name) for r in reqs}, "constraints for undeclared packages"


def test_superqt_utilities_the_controller_adopts_work_with_our_qt(qtbot):
    """superqt is declared for the controller's throttling and thread workers: they must
    import and run with the PySide6 in use (CI runs this on the lowest versions too)."""
    from superqt.utils import create_worker, qthrottled

    calls = []
    throttled = qthrottled(lambda v: calls.append(v), timeout=10)
    for v in range(5):
        throttled(v)
    qtbot.waitUntil(lambda: calls and calls[-1] == 4, timeout=2000)
    assert len(calls) < 5

    results = []
    worker = create_worker(lambda: 6 * 7, _start_thread=False)
    worker.returned.connect(results.append)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    assert results == [42]


def test_project_metadata_for_an_index():
    project = _pyproject()["project"]
    assert project["license"] == "MIT"  # an SPDX expression, not the deprecated table
    assert project["license-files"] == ["LICENSE"]
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "Backprop Lab developers" in licence
    assert any(c.startswith("Programming Language :: Python :: 3.1")
               for c in project["classifiers"])
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # PEP 639
    urls = project["urls"]
    assert urls["Homepage"] == "https://github.com/backprop-lab/backprop-lab"
    assert all(u.startswith("https://github.com/backprop-lab/backprop-lab")
               for u in urls.values())


def test_readme_images_work_outside_the_repository():
    """PyPI and other hosts show the README without the repository: no relative images."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)", readme)
    assert images
    for url in images:
        assert url.startswith("https://"), f"relative image link {url}"
        if "raw.githubusercontent.com/backprop-lab/backprop-lab/main/" in url:
            local = url.split("/main/", 1)[1]
            assert (ROOT / local).is_file(), f"{url}: no {local} in the repository"
