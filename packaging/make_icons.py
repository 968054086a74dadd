"""Regenerate the application icon's PNGs (and the Windows .ico / macOS .icns) from the
SVG master ``resources/icons/backprop-lab.svg``.

    python packaging/make_icons.py          # rewrite the files
    python packaging/make_icons.py --check  # exit 1 if a committed PNG is missing/stale size

Renders with QtSvg's ``QSvgRenderer`` on the offscreen platform, so it needs no display.
Outputs:
    resources/icons/backprop-lab-<N>.png         N in SIZES (committed, shipped, hicolor)
    packaging/windows/backprop-lab.ico           16..256, PNG-compressed entries
    packaging/macos/backprop-lab.icns            16..512 (+1024 rendered for ic10)
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore, QtGui, QtSvg  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "backprop-lab.svg"
ICON_DIR = ROOT / "resources" / "icons"
ICO = ROOT / "packaging" / "windows" / "backprop-lab.ico"
ICNS = ROOT / "packaging" / "macos" / "backprop-lab.icns"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns element types that hold PNG data, by pixel size
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08",
              512: b"ic09", 1024: b"ic10"}


def png_path(size: int) -> Path:
    return ICON_DIR / f"backprop-lab-{size}.png"


def render(size: int) -> QtGui.QImage:
    renderer = QtSvg.QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: cannot read {SVG}")
    img = QtGui.QImage(size, size, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QtCore.Qt.GlobalColor.transparent)
    p = QtGui.QPainter(img)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(p, QtCore.QRectF(0, 0, size, size))
    p.end()
    return img


def png_bytes(img: QtGui.QImage) -> bytes:
    buf = QtCore.QBuffer()
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not img.save(buf, "PNG"):
        raise SystemExit("make_icons: PNG encoding failed")
    return bytes(buf.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico whose entries are PNG streams (valid since Windows Vista)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for s in sizes:
        data = pngs[s]
        dim = 0 if s >= 256 else s  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    body = b""
    for s in sorted(pngs):
        data = pngs[s]
        body += ICNS_TYPES[s] + struct.pack(">I", 8 + len(data)) + data
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="only check that every PNG exists with the right size")
    args = ap.parse_args(argv)
    app = QtGui.QGuiApplication.instance() or QtGui.QGuiApplication(sys.argv[:1])  # noqa: F841

    if args.check:
        bad = []
        for s in SIZES:
            img = QtGui.QImage(str(png_path(s)))
            if img.isNull() or img.width() != s or img.height() != s:
                bad.append(png_path(s).name)
        if bad:
            print("make_icons: missing or wrong size: " + ", ".join(bad), file=sys.stderr)
            return 1
        print(f"make_icons: {len(SIZES)} PNGs present")
        return 0

    pngs = {}
    for s in sorted(set(SIZES) | set(ICO_SIZES) | set(ICNS_TYPES)):
        pngs[s] = png_bytes(render(s))
    for s in SIZES:
        png_path(s).write_bytes(pngs[s])
        print(f"wrote {png_path(s).relative_to(ROOT)}")
    ICO.parent.mkdir(parents=True, exist_ok=True)
    ICO.write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    print(f"wrote {ICO.relative_to(ROOT)}")
    ICNS.parent.mkdir(parents=True, exist_ok=True)
    ICNS.write_bytes(icns_bytes({s: pngs[s] for s in ICNS_TYPES}))
    print(f"wrote {ICNS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
