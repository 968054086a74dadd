"""The Debian ``Depends:`` of the frozen app, checked against what its binaries need.

    python packaging/linux/deb_depends.py APP_DIR          # print the Depends value
    python packaging/linux/deb_depends.py APP_DIR --report # also explain it on stderr
    python packaging/linux/deb_depends.py APP_DIR --glibc  # only the glibc it needs (2.36)

PyInstaller bundles most libraries but, on purpose, not glibc, the OpenGL/EGL stack,
libxcb and the Wayland client libraries: those must match the user's system and come
from Depends. This script reads every ELF file of the bundle (``readelf``), collects the
shared libraries they need that the bundle does not contain, maps each to its Debian
package (``ldconfig`` + ``dpkg -S`` on this machine, or the table below) and checks that
the package is in ``DEPENDS``. It also computes the newest glibc symbol version used, for
``libc6 (>= ...)``. Exit 1 (and name the library) if something is not covered.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

#: What the bundle needs from the system, beyond glibc (computed below). Fonts and
#: fontconfig's configuration are not ELF dependencies: Qt needs them to draw text.
DEPENDS = [
    "libgl1",
    "libegl1",
    "libxcb1",
    "libwayland-client0",
    "libwayland-cursor0",
    "libwayland-egl1",
    "fontconfig",
    "fonts-dejavu-core | fonts-liberation2",
]

#: soname -> Debian package, for libraries that may not be installed on the build machine
KNOWN = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libxcb.so.1": "libxcb1",
    "libdrm.so.2": "libdrm2",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libwayland-server.so.0": "libwayland-server0",
}
GLIBC = {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
         "libutil.so.1", "libresolv.so.2", "ld-linux-x86-64.so.2", "libcrypt.so.1"}


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_files(root: Path):
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if not p.is_symlink() and is_elf(p):
                yield p


def needed(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True,
                         check=False).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def glibc_versions(path: Path) -> set[tuple[int, ...]]:
    out = subprocess.run(["readelf", "-V", "--wide", str(path)], capture_output=True,
                         text=True, check=False).stdout
    return {tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)",
                                                                       out)}


def ldconfig_paths() -> dict[str, str]:
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                             check=False).stdout
    except FileNotFoundError:
        return {}
    paths = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) \((libc6,x86-64[^)]*)\) => (\S+)", line)
        if m and m.group(1) not in paths:
            paths[m.group(1)] = m.group(3)
    return paths


def package_of(path: str) -> str | None:
    real = os.path.realpath(path)
    candidates = [path, real]
    for p in list(candidates):  # merged /usr: dpkg knows the /lib path or the /usr/lib one
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/"):
            candidates.append("/usr" + p)
    for c in candidates:
        r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True, check=False)
        if r.returncode == 0 and r.stdout:
            return r.stdout.split(":", 1)[0].strip()
    return None


def analyse(app_dir: Path):
    provided, wanted, glibc = set(), {}, set()
    for f in elf_files(app_dir):
        provided.add(f.name)
        for so in needed(f):
            wanted.setdefault(so, []).append(f)
        glibc |= glibc_versions(f)
    # symlinked names inside the bundle count as provided too
    for dirpath, _dirs, files in os.walk(app_dir):
        provided.update(n for n in files if os.path.islink(os.path.join(dirpath, n)))
    external = {so: users for so, users in wanted.items() if so not in provided}
    return external, max(glibc) if glibc else None


def depends_line(app_dir: Path, report: bool = False) -> tuple[str, list[str]]:
    external, glibc = analyse(app_dir)
    ld = ldconfig_paths()
    declared = {alt.strip().split(" ")[0] for d in DEPENDS for alt in d.split("|")}
    problems = []
    for so in sorted(external):
        if so in GLIBC:
            continue
        pkg = KNOWN.get(so)
        if pkg is None and so in ld:
            pkg = package_of(ld[so])
        users = ", ".join(sorted({str(u.relative_to(app_dir)) for u in external[so]})[:3])
        if pkg is None:
            problems.append(f"{so} (needed by {users}) is neither bundled nor known")
        elif pkg not in declared:
            problems.append(f"{so} (needed by {users}) comes from {pkg}, which is not in "
                            f"Depends")
        if report:
            print(f"  {so:28s} -> {pkg or '?'}", file=sys.stderr)
    libc = f"libc6 (>= {'.'.join(map(str, glibc))})" if glibc else "libc6"
    if report:
        print(f"  newest glibc symbol version: {'.'.join(map(str, glibc or ()))}",
              file=sys.stderr)
    return ", ".join([libc] + DEPENDS), problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("app_dir", type=Path)
    ap.add_argument("--report", action="store_true", help="explain on stderr")
    ap.add_argument("--glibc", action="store_true",
                    help="print the newest glibc symbol version the bundle needs")
    args = ap.parse_args(argv)
    if args.glibc:
        _external, glibc = analyse(args.app_dir)
        print(".".join(map(str, glibc)) if glibc else "")
        return 0 if glibc else 1
    line, problems = depends_line(args.app_dir, args.report)
    for p in problems:
        print(f"deb_depends: {p}", file=sys.stderr)
    print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
