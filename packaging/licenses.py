"""The licence texts of everything the frozen app ships, collected at build time.

``backprop-lab.spec`` calls :func:`collect` with PyInstaller's lists of bundled files.
Every bundled file (shared library, extension module, Python module, data file) is
traced to where it came from:

- a Python distribution (a wheel): its own licence files (``License-File`` entries or
  ``LICENSE``/``COPYING``/``NOTICE`` in its dist-info); PySide6-Essentials and
  shiboken6 ship none, so the LGPL-3.0 and GPL-3.0 texts (and ICU's licence, which
  their Qt libraries bundle) come from ``packaging/licenses/``;
- the Python interpreter (libpython, the standard library, lib-dynload): Python's
  ``LICENSE.txt``;
- on Debian and Ubuntu, a system library: its package's ``/usr/share/doc/PKG/copyright``
  (found with ``dpkg -S``);
- the program itself, PyInstaller's bootloader: PyInstaller's licence (GPL-2.0 with the
  bootloader exception).

The texts go to ``licenses/`` in the app folder (``_internal/licenses``), with
``licenses/README.txt`` (who, which version, which licence, which files) and
``licenses/index.json`` (the same for scripts: ``build.sh`` writes the .deb's copyright
file from it). On Linux a bundled file that cannot be traced fails the build.

    python packaging/licenses.py copyright APP_DIR   # Debian copyright file on stdout
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TEXTS = HERE / "licenses"
#: distributions whose wheels carry no licence file: what to ship instead
FALLBACK = {
    "pyside6-essentials": ["LGPL-3.0-only.txt", "GPL-3.0-only.txt", "ICU.txt"],
    "pyside6": ["LGPL-3.0-only.txt", "GPL-3.0-only.txt", "ICU.txt"],
    "shiboken6": ["LGPL-3.0-only.txt", "GPL-3.0-only.txt"],
}
#: under which of its licences we ship a dual- or triple-licensed distribution
CHOSEN = {"pyside6-essentials": "LGPL-3.0-only", "pyside6": "LGPL-3.0-only",
          "shiboken6": "LGPL-3.0-only"}
LICENCE_NAME = re.compile(r"(^|/)(LICEN[CS]E|COPYING|NOTICE|AUTHORS)[^/]*$", re.IGNORECASE)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _real(path: str | os.PathLike) -> str:
    return os.path.realpath(os.fspath(path))


class _Owners:
    """Which installed distribution (or Python, or Debian package) a file came from."""

    def __init__(self) -> None:
        self.by_file: dict[str, md.Distribution] = {}
        for dist in md.distributions():
            for f in dist.files or []:
                self.by_file.setdefault(_real(dist.locate_file(f)), dist)
        paths = sysconfig.get_paths()
        self.stdlib = [_real(paths["stdlib"]), _real(paths["platstdlib"])]
        self.python_prefixes = {_real(sys.base_prefix), _real(sys.base_exec_prefix)}
        self.dpkg = shutil.which("dpkg") is not None

    def owner(self, src: str) -> tuple[str, str]:
        """(kind, name): ("dist", name), ("python", ""), ("debian", package) or
        ("unknown", "")."""
        real = _real(src)
        dist = self.by_file.get(real)
        if dist is not None:
            return "dist", dist.metadata["Name"]
        base = os.path.basename(real)
        if any(real.startswith(s + os.sep) for s in self.stdlib) or \
                re.match(r"(lib)?python3[\d.]*\.(so|dll|dylib)", base) or \
                (any(real.startswith(p + os.sep) for p in self.python_prefixes)
                 and "site-packages" not in real):
            return "python", ""
        if self.dpkg:
            for cand in {src, real} | {p[4:] for p in (src, real) if p.startswith("/usr/")}:
                r = subprocess.run(["dpkg", "-S", cand], capture_output=True, text=True,
                                   check=False)
                if r.returncode == 0 and r.stdout:
                    return "debian", r.stdout.split(":", 1)[0].strip()
        return "unknown", ""


def _dist_licence_files(dist: md.Distribution) -> list[tuple[Path, str]]:
    """(file, name to ship it as) for each licence file of a distribution: everything in
    its dist-info's licenses/ folder (PEP 639) or named LICENSE*, COPYING*, NOTICE*."""
    files = []
    for f in dist.files or []:
        parts = str(f).replace("\\", "/").split("/")
        if not parts[0].endswith(".dist-info"):
            continue
        rel = "/".join(parts[2:]) if len(parts) > 2 and parts[1] == "licenses" else None
        if rel is None and LICENCE_NAME.search("/".join(parts[1:])):
            rel = "/".join(parts[1:])
        p = Path(dist.locate_file(f))
        if rel and p.is_file():
            files.append((p, rel))
    if not files:
        files = [(TEXTS / n, n) for n in FALLBACK.get(_norm(dist.metadata["Name"]), [])]
    return files


def _dist_licence(dist: md.Distribution) -> str:
    name = _norm(dist.metadata["Name"])
    if name in CHOSEN:
        return CHOSEN[name]
    meta = dist.metadata
    if meta.get("License-Expression"):
        return meta["License-Expression"]
    lic = (meta.get("License") or "").strip()
    if lic and "\n" not in lic and len(lic) < 80:
        return lic
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::")]
    return " / ".join(classifiers) or "see the licence files"


def _debian_licences(pkg: str) -> str:
    """The licence names of a Debian package's machine-readable copyright file."""
    try:
        text = Path(f"/usr/share/doc/{pkg}/copyright").read_text(encoding="utf-8",
                                                                 errors="replace")
    except OSError:
        return "see copyright"
    names = []
    for m in re.finditer(r"^License:[ \t]*(\S[^\n]*)$", text, re.M):
        if m.group(1).strip() not in names:
            names.append(m.group(1).strip())
    return " and ".join(names[:6]) if names else "see copyright"


def _debian_version(pkg: str) -> str:
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                       text=True, check=False)
    return r.stdout.strip()


def collect(entries, out: Path, strict: bool | None = None):
    """Copy the licence texts for PyInstaller TOC ``entries`` (dest, src, kind) into
    ``out`` and return PyInstaller data entries ``(dest, src, "DATA")`` placing them
    under ``licenses/``. ``strict`` (default: on Linux) fails on an untraceable file."""
    strict = sys.platform.startswith("linux") if strict is None else strict
    owners = _Owners()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    components: dict[str, dict] = {}
    unknown = []

    def component(key: str, **info) -> dict:
        c = components.setdefault(key, {"files": [], **info})
        return c

    for dest, src, _kind in entries:
        if not src or not os.path.exists(src):
            continue
        kind, name = owners.owner(src)
        dest = dest.replace("\\", "/")
        if kind == "dist":
            dist = md.distribution(name)
            c = component(f"{_norm(name)}", name=name, version=dist.version,
                          licence=_dist_licence(dist), source="Python package (PyPI)",
                          texts=_dist_licence_files(dist))
        elif kind == "python":
            c = component("python", name="Python", version=sysconfig.get_python_version()
                          + f" ({sys.version.split()[0]})", licence="PSF-2.0",
                          source="the Python interpreter and standard library",
                          texts=[(Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt",
                                  "LICENSE.txt")])
        elif kind == "debian":
            c = component(f"debian-{name}", name=name, version=_debian_version(name),
                          licence=_debian_licences(name), source="Debian package",
                          texts=[(Path(f"/usr/share/doc/{name}/copyright"), "copyright")])
        else:
            unknown.append(f"{dest} ({src})")
            continue
        c["files"].append(dest)

    # the program itself: PyInstaller's bootloader
    try:
        pyi = md.distribution("pyinstaller")
        component("pyinstaller", name="PyInstaller (the bootloader: the program file)",
                  version=pyi.version, licence="GPL-2.0-or-later WITH Bootloader-exception",
                  source="Python package (PyPI)",
                  texts=_dist_licence_files(pyi))["files"].append(
            "backprop-lab")
    except md.PackageNotFoundError:
        unknown.append("the bootloader (PyInstaller is not installed?)")
    components["backprop-lab"] = {"name": "Backprop Lab", "version": _version(),
                                  "licence": "MIT", "source": "this project",
                                  "texts": [(ROOT / "LICENSE", "LICENSE")], "files": ["*"]}

    if unknown and strict:
        raise SystemExit("licenses.py: cannot tell where these bundled files come from, so "
                         "their licence is unknown:\n  " + "\n  ".join(unknown[:20]))
    datas = []
    index = []
    for key in sorted(components):
        c = components[key]
        folder = out / key
        folder.mkdir()
        copied = []
        for p, rel in c["texts"]:
            if not p.is_file():
                raise SystemExit(f"licenses.py: licence text {p} of {c['name']} is missing")
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, target)
            copied.append(rel)
        if not copied:
            raise SystemExit(f"licenses.py: no licence text for {c['name']} {c['version']}")
        files = sorted(set(c["files"]))
        index.append({"key": key, "name": c["name"], "version": c["version"],
                      "licence": c["licence"], "source": c["source"],
                      "texts": [f"{key}/{n}" for n in copied], "files": files})
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    (out / "README.txt").write_text(_readme(index, unknown), encoding="utf-8")
    for p in sorted(out.rglob("*")):
        if p.is_file():
            datas.append((str(Path("licenses") / p.relative_to(out)), str(p), "DATA"))
    return datas, index, unknown


def _version() -> str:
    text = (ROOT / "app" / "backprop_lab" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'__version__ = "([^"]+)"', text).group(1)


def _readme(index: list[dict], unknown: list[str]) -> str:
    lines = ["Backprop Lab bundles the following software. Each folder here holds the",
             "licence texts of one component; the list says which bundled files it covers.",
             "Qt and PySide6 are used under the GNU LGPL version 3: they are separate shared",
             "libraries in this folder's parent and may be replaced by the user.", ""]
    for c in index:
        shown = ", ".join(c["files"][:6]) + (f" and {len(c['files']) - 6} more"
                                             if len(c["files"]) > 6 else "")
        lines += [f"{c['name']} {c['version']}", f"  licence: {c['licence']}",
                  f"  from:    {c['source']}", f"  texts:   {', '.join(c['texts'])}",
                  f"  files:   {shown}", ""]
    if unknown:
        lines += ["Not traced (the build ran where their origin cannot be looked up):"]
        lines += [f"  {u}" for u in unknown] + [""]
    return "\n".join(lines)


def debian_copyright(app_dir: Path, prefix: str = "opt/backprop-lab") -> str:
    """/usr/share/doc/backprop-lab/copyright (machine-readable format 1.0) from the
    bundle's licenses/index.json."""
    index_path = next(app_dir.glob("**/licenses/index.json"))
    lic_dir = "/" + prefix + "/" + str(index_path.parent.relative_to(app_dir))
    index = json.loads(index_path.read_text(encoding="utf-8"))
    internal = str(index_path.parent.parent.relative_to(app_dir))
    out = ["Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
           "Upstream-Name: Backprop Lab",
           "Source: https://github.com/backprop-lab/backprop-lab",
           "Comment: This package bundles a Python interpreter, Qt (PySide6) and the Python",
           f" packages and shared libraries the application needs, in /{prefix}. The",
           f" licence texts of every bundled component are in {lic_dir}/,",
           f" listed in {lic_dir}/README.txt.", ""]
    mit = (ROOT / "LICENSE").read_text(encoding="utf-8").split("\n\n", 2)[2]
    for c in index:
        if c["key"] == "backprop-lab":
            files = ["*"]
        elif c["key"] == "pyinstaller":
            files = [f"{prefix}/backprop-lab"]
        else:
            files = [f"{prefix}/{internal}/{f}".replace("/./", "/") for f in c["files"]]
        licence = {"backprop-lab": "MIT"}.get(c["key"], _dep5_name(c["licence"]))
        out.append("Files: " + "\n ".join(files))
        out.append("Copyright: " + ("2026 Backprop Lab developers" if c["key"] == "backprop-lab"
                                    else f"the authors of {c['name']} {c['version']}; see "
                                         f"{lic_dir}/{c['texts'][0]}"))
        out.append(f"License: {licence}")
        if c["key"] != "backprop-lab":
            out.append(f" The full licence text: {', '.join(f'{lic_dir}/{t}' for t in c['texts'])}"
                       f" ({c['source']}).")
            common = [f"/usr/share/common-licenses/{n}" for n in _common(c["licence"])]
            if common:
                out.append(f" On Debian systems also in {' and '.join(common)}.")
        out.append("")
    out.append("License: MIT")
    for para in mit.strip().split("\n\n"):
        out.extend(" " + line for line in para.splitlines())
        out.append(" .")
    out.pop()
    return "\n".join(out) + "\n"


def _common(licence: str) -> list[str]:
    """The /usr/share/common-licenses names a licence expression refers to."""
    found = []
    for pattern, name in ((r"\bLGPL-?3", "LGPL-3"), (r"\bLGPL-?2\.1", "LGPL-2.1"),
                          (r"(?<!L)GPL-?3", "GPL-3"), (r"(?<!L)GPL-?2", "GPL-2"),
                          (r"Apache-2", "Apache-2.0")):
        if re.search(pattern, licence) and name not in found:
            found.append(name)
    return found


def _dep5_name(licence: str) -> str:
    name = re.sub(r"\s+", " ", licence).strip()
    if name == "see copyright":
        return "other"
    if len(name) > 60:
        name = name[:60].rsplit(" and ", 1)[0] + " and others"
    return re.sub(r"[^A-Za-z0-9.+\-() ]", "", name)[:60] or "other"


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "copyright":
        sys.stdout.write(debian_copyright(Path(argv[1])))
        return 0
    print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
