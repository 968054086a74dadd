#!/usr/bin/env bash
# Build "Backprop Lab.app" and a .dmg on macOS (a Mac or the GitHub Actions macos runner;
# it cannot run on the Linux development machines). From the repository root:
#
#   python3 -m pip install -e ".[package]"
#   bash packaging/macos/build_macos.sh
#
# Output in packaging/out/: "Backprop Lab.app" and backprop-lab-<version>-macos-<arch>.dmg.
# The .app is built by the BUNDLE step of packaging/backprop-lab.spec (darwin only) and
# ad-hoc signed by PyInstaller; it is not notarized (see packaging/macos/README.md).
set -euo pipefail

[ "$(uname -s)" = Darwin ] || { echo "build_macos.sh: run this on macOS" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/packaging/out"
python=${PYTHON:-python3}
version=$(cd "$root" && "$python" -c 'import sys; sys.path.insert(0, "app"); import backprop_lab; print(backprop_lab.__version__)')
arch=$(uname -m)
app="$out/Backprop Lab.app"
dmg="$out/backprop-lab-$version-macos-$arch.dmg"

mkdir -p "$out"
rm -rf "$app" "$out/backprop-lab"
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$out" --workpath "$out/.work/pyinstaller" "$root/packaging/backprop-lab.spec"
[ -d "$app" ] || { echo "build_macos.sh: PyInstaller made no $app" >&2; exit 1; }

# the windowed program still prints to a terminal when started from one
QT_QPA_PLATFORM=offscreen "$app/Contents/MacOS/backprop-lab" --selftest

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "Backprop Lab $version" -srcfolder "$staging" -ov -format UDZO "$dmg"
hdiutil verify "$dmg"
du -sh "$app" "$dmg"
