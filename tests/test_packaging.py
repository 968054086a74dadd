"""Cheap static checks of the packaging files (no PyInstaller build; that is the smoke
test, packaging/smoke_test.sh)."""

from __future__ import annotations

import ast
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


@pytest.mark.parametrize("script", ["build.sh", "smoke_test.sh", "macos/build_macos.sh"])
def test_shell_scripts_parse(script):
    r = subprocess.run(["bash", "-n", str(PKG / script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


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


def test_workflow_builds_on_three_systems():
    yaml = pytest.importorskip("yaml")
    wf = yaml.safe_load((PKG / "github-actions-build.yml").read_text(encoding="utf-8"))
    jobs = wf["jobs"]
    oses = {os_ for job in jobs.values()
            for os_ in job.get("strategy", {}).get("matrix", {}).get("os", [])}
    assert {"ubuntu-22.04", "windows-latest", "macos-latest"} <= oses


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
