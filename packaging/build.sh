#!/usr/bin/env bash
# Build Backprop Lab for Linux (x86_64) into packaging/out/:
#   backprop-lab/                          the PyInstaller one-folder app
#   backprop-lab_<version>_amd64.deb       installs to /opt/backprop-lab, /usr/bin/backprop-lab
#   backprop-lab-<version>-x86_64.run      self-extracting (makeself); args pass through
#
#   bash packaging/build.sh              # all of the above
#   bash packaging/build.sh deb          # the folder and the .deb only (CI smoke test)
#   bash packaging/build.sh folder|run   # the folder only / the folder and the .run
#
# Environment:
#   DEB_COMPRESS=zstd|xz   .deb compression (default zstd: ~1 s; xz: smaller, ~1 min)
#   RUN_COMPRESS=xz|zstd|gzip  .run compression (default xz: every system can unpack it)
#   PYTHON=python3         the interpreter whose site-packages are frozen
#   SKIP_APT=1             never apt-get install missing build tools (just fail)
#   SKIP_SELFTEST=1        do not run the frozen app's --selftest before packaging
# Needs (installed with apt-get when missing and run as root): binutils, dpkg, zstd,
# xz-utils, desktop-file-utils, appstream, makeself, and the X11/xcb libraries that
# PyInstaller must find to bundle (libxcb-icccm4, libxcb-keysyms1, ...); PyInstaller and
# the app's Python dependencies (pip-installed when missing).
# Build on the oldest distribution you target: the bundle needs this machine's glibc.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out="$here/out"
work="$out/.work"
name=backprop-lab
python=${PYTHON:-python3}
target=${1:-all}
case "$target" in all|folder|deb|run) ;; *)
    echo "usage: bash packaging/build.sh [all|folder|deb|run]" >&2; exit 2 ;;
esac

say() { printf '\n== %s\n' "$*"; }
die() { echo "build.sh: $*" >&2; exit 1; }
t_start=$(date +%s)

# -- version -----------------------------------------------------------------------------
version=$(cd "$root" && "$python" -c 'import sys; sys.path.insert(0, "app"); import backprop_lab; print(backprop_lab.__version__)')
pyproject_version=$("$python" - "$root/pyproject.toml" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
try:
    import tomllib
    print(tomllib.loads(text)["project"]["version"])
except ImportError:
    print(re.search(r'^version\s*=\s*"([^"]+)"', text, re.M).group(1))
EOF
)
[ "$version" = "$pyproject_version" ] || die "version mismatch: backprop_lab.__version__ is $version, pyproject.toml says $pyproject_version"
grep -q "<release version=\"$version\"" "$here/linux/io.github.backprop_lab.BackpropLab.metainfo.xml" \
    || die "packaging/linux/*.metainfo.xml has no <release version=\"$version\">: add one"
echo "Backprop Lab $version ($target)"

# -- build tools -------------------------------------------------------------------------
apt_pkgs=(binutils dpkg zstd xz-utils desktop-file-utils appstream makeself
          libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0
          libxcb-shape0 libxcb-randr0 libxcb-xkb1 libxkbcommon-x11-0 libxkbcommon0
          libx11-xcb1 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 libegl1 libgl1)
missing=()
for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "${SKIP_APT:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing build tools: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
            apt-get update >/dev/null
            apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
        }
    else
        die "missing build packages: ${missing[*]} (apt-get install -y ${missing[*]})"
    fi
fi
if ! "$python" -c 'import PySide6, pyqtgraph, numpy, superqt' 2>/dev/null; then
    say "installing the app's Python dependencies"
    deps=$("$python" - "$root/pyproject.toml" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.M | re.S).group(1)
print("\n".join(re.findall(r'"([^"]+)"', block)))
EOF
)
    mapfile -t deps_arr <<<"$deps"
    "$python" -m pip install -q "${deps_arr[@]}"
fi
if ! "$python" -c 'import PyInstaller' 2>/dev/null; then
    say "installing PyInstaller"
    "$python" -m pip install -q "pyinstaller>=6.10"
fi

# -- the one-folder app --------------------------------------------------------------------
say "PyInstaller"
mkdir -p "$out" "$work"
rm -rf "${out:?}/$name"
t0=$(date +%s)
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$out" --workpath "$work/pyinstaller" "$here/backprop-lab.spec" \
    > "$work/pyinstaller.log" 2>&1 || { tail -40 "$work/pyinstaller.log" >&2; die "PyInstaller failed (log: $work/pyinstaller.log)"; }
grep -E "pruned" "$work/pyinstaller.log" | cut -c1-200 || true
app="$out/$name"
[ -x "$app/$name" ] || die "PyInstaller produced no $app/$name"
echo "built $app in $(( $(date +%s) - t0 )) s: $(du -sh "$app" | cut -f1)"

if [ "${SKIP_SELFTEST:-0}" != 1 ]; then
    say "frozen --selftest (offscreen)"
    QT_QPA_PLATFORM=offscreen "$app/$name" --selftest || die "the frozen app failed its selftest offscreen"
    if command -v xvfb-run >/dev/null; then
        say "frozen --selftest (xcb under Xvfb)"
        env -u QT_QPA_PLATFORM -u WAYLAND_DISPLAY xvfb-run -a -s "-screen 0 1600x1000x24" \
            "$app/$name" --selftest || die "the frozen app failed its selftest under Xvfb (xcb)"
    fi
fi
[ "$target" = folder ] && exit 0

# -- .deb ------------------------------------------------------------------------------------
build_deb() {
    say ".deb"
    local droot="$work/deb" deb="$out/${name}_${version}_amd64.deb" comp=${DEB_COMPRESS:-zstd}
    rm -rf "$droot" && mkdir -p "$droot/DEBIAN" "$droot/opt" "$droot/usr/bin" \
        "$droot/usr/share/applications" "$droot/usr/share/metainfo" \
        "$droot/usr/share/icons/hicolor/scalable/apps" "$droot/usr/share/doc/$name"
    cp -a "$app" "$droot/opt/$name"
    ln -s "/opt/$name/$name" "$droot/usr/bin/$name"
    install -m 644 "$here/linux/$name.desktop" "$droot/usr/share/applications/$name.desktop"
    install -m 644 "$here/linux/io.github.backprop_lab.BackpropLab.metainfo.xml" \
        "$droot/usr/share/metainfo/io.github.backprop_lab.BackpropLab.metainfo.xml"
    install -m 644 "$root/resources/icons/$name.svg" \
        "$droot/usr/share/icons/hicolor/scalable/apps/$name.svg"
    local s
    for s in 16 24 32 48 64 128 256 512; do
        mkdir -p "$droot/usr/share/icons/hicolor/${s}x${s}/apps"
        install -m 644 "$root/resources/icons/$name-$s.png" \
            "$droot/usr/share/icons/hicolor/${s}x${s}/apps/$name.png"
    done
    install -m 644 "$here/linux/copyright" "$droot/usr/share/doc/$name/copyright"
    printf '%s (%s) unstable; urgency=medium\n\n  * Backprop Lab %s.\n\n -- %s  %s\n' \
        "$name" "$version" "$version" "${DEB_MAINTAINER:-Backprop Lab developers <maintainers@backprop-lab.invalid>}" \
        "$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")" \
        | gzip -9n > "$droot/usr/share/doc/$name/changelog.gz"
    chmod -R u+rwX,go+rX,go-w "$droot"
    # shared libraries need no execute bit (lintian: shared-library-is-executable)
    find "$droot/opt" -type f -name '*.so*' -exec chmod 644 {} +

    desktop-file-validate "$droot/usr/share/applications/$name.desktop" \
        || die "desktop-file-validate failed"
    if command -v appstreamcli >/dev/null; then
        # errors fail the build; warnings and hints are shown and tolerated
        appstreamcli validate --no-net --no-color \
            "$droot/usr/share/metainfo/io.github.backprop_lab.BackpropLab.metainfo.xml" \
            || die "appstreamcli validate found errors"
    fi

    local depends
    depends=$("$python" "$here/linux/deb_depends.py" "$droot/opt/$name") \
        || die "the Depends line does not cover what the bundle needs (see above)"
    local size
    size=$(du -sk --exclude=DEBIAN "$droot" | cut -f1)
    cat > "$droot/DEBIAN/control" <<EOF
Package: $name
Version: $version
Architecture: amd64
Maintainer: ${DEB_MAINTAINER:-Backprop Lab developers <maintainers@backprop-lab.invalid>}
Installed-Size: $size
Depends: $depends
Section: education
Priority: optional
Description: desktop simulator that makes backpropagation visible
 Backprop Lab lets lecturers and students build a small neural network, pick
 a data set and watch it learn: the forward pass, the error, the backward
 pass and every weight update, number by number, or many epochs at a time
 with the loss curve and the decision boundary.
 .
 This package is self-contained: it bundles Python, Qt (PySide6), pyqtgraph
 and NumPy in /opt/$name.
EOF
    rm -f "$out/${name}"_*_amd64.deb
    local t0; t0=$(date +%s)
    dpkg-deb --root-owner-group "-Z$comp" --build "$droot" "$deb" >/dev/null
    echo "built $deb ($comp, $(( $(date +%s) - t0 )) s): $(du -h "$deb" | cut -f1)"
    echo "Depends: $depends"
}

# -- .run ------------------------------------------------------------------------------------
build_run() {
    say ".run (makeself)"
    local run="$out/${name}-${version}-x86_64.run" comp=${RUN_COMPRESS:-xz} header
    # makeself's header rejects options it does not know (`x.run --selftest`); this copy
    # passes them on to the app instead, so `x.run --selftest` works like `x.run -- --selftest`.
    header="$work/makeself-header.sh"
    "$python" - /usr/share/makeself/makeself-header.sh "$header" <<'EOF' || header=
import sys
src = open(sys.argv[1]).read()
old = '    -*)\n\techo Unrecognized flag : "\\$1" >&2\n\tMS_Help\n\texit 1\n\t;;\n'
if old not in src:
    sys.exit("build.sh: makeself header layout changed; use `x.run -- ARGS`")
open(sys.argv[2], "w").write(src.replace(old, "    -*)\n\tbreak ;;\n"))
EOF
    rm -f "$out/${name}"-*-x86_64.run
    local t0; t0=$(date +%s)
    local opts=(--quiet --nox11 "--$comp")
    case "$comp" in xz) opts+=(--complevel "${RUN_LEVEL:-6}" --threads 0) ;;
                    zstd) opts+=(--complevel "${RUN_LEVEL:-19}" --threads 0) ;; esac
    makeself "${opts[@]}" ${header:+--header "$header"} \
        "$app" "$run" "Backprop Lab $version" "./$name" >/dev/null
    echo "built $run ($comp, $(( $(date +%s) - t0 )) s): $(du -h "$run" | cut -f1)"
    if [ "${SKIP_SELFTEST:-0}" != 1 ]; then
        say ".run --selftest"
        QT_QPA_PLATFORM=offscreen "$run" --quiet -- --selftest || die "the .run failed its selftest"
    fi
}

case "$target" in
    deb) build_deb ;;
    run) build_run ;;
    all) build_deb; build_run ;;
esac

say "artifacts ($(( $(date +%s) - t_start )) s)"
du -sh "$app"
shopt -s nullglob
for f in "$out"/*.deb "$out"/*.run; do
    awk -v f="$f" -v n="$(stat -c %s "$f")" 'BEGIN { printf "%s  %.1f MB\n", f, n / 1048576 }'
done
