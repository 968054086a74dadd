#!/usr/bin/env bash
# Build Backprop Lab for Linux (x86_64) into packaging/out/:
#   backprop-lab/                          the PyInstaller one-folder app
#   backprop-lab_<version>_amd64.deb       installs to /opt/backprop-lab, /usr/bin/backprop-lab
#   backprop-lab-<version>-x86_64.run      self-extracting (linux/run-header.sh + tar.xz):
#                                          runs from a cache, or --install PREFIX
#
#   bash packaging/build.sh              # all of the above
#   bash packaging/build.sh deb          # the folder and the .deb only (CI smoke test)
#   bash packaging/build.sh folder|run   # the folder only / the folder and the .run
#
# Environment:
#   DEB_COMPRESS=zstd|xz   .deb compression (default zstd: ~1 s; xz: smaller, ~1 min;
#                          see packaging/README.md, "Lintian")
#   RUN_LEVEL=6            xz level of the .run (xz: every system can unpack it)
#   PYTHON=python3         the interpreter whose site-packages are frozen
#   SKIP_APT=1             never apt-get install missing build tools (just fail)
#   SKIP_SELFTEST=1        do not run the frozen app's --selftest before packaging
#   REUSE_FOLDER=1         package the existing packaging/out/backprop-lab (no PyInstaller)
#   SKIP_LINTIAN=1         do not run lintian on the .deb
# Needs (installed with apt-get when missing and run as root): binutils, dpkg, zstd,
# xz-utils, patchelf, desktop-file-utils, appstream, and the X11/xcb libraries that
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
apt_pkgs=(binutils dpkg zstd xz-utils patchelf desktop-file-utils appstream
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
mkdir -p "$out" "$work"
t0=$(date +%s)
if [ "${REUSE_FOLDER:-0}" = 1 ] && [ -x "$out/$name/$name" ]; then
    say "PyInstaller: reusing $out/$name (REUSE_FOLDER=1)"
else
    say "PyInstaller"
    rm -rf "${out:?}/$name"
    "$python" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath "$out" --workpath "$work/pyinstaller" "$here/backprop-lab.spec" \
        > "$work/pyinstaller.log" 2>&1 || { tail -40 "$work/pyinstaller.log" >&2; die "PyInstaller failed (log: $work/pyinstaller.log)"; }
fi
grep -E "pruned" "$work/pyinstaller.log" | cut -c1-200 || true
app="$out/$name"
[ -x "$app/$name" ] || die "PyInstaller produced no $app/$name"
echo "built $app in $(( $(date +%s) - t0 )) s: $(du -sh "$app" | cut -f1)"
grep -E "licence texts|removed build paths" "$work/pyinstaller.log" | cut -c1-200 || true

# no file may keep the build machine's library paths (lintian: custom-library-search-path)
bad_rpath=
while IFS= read -r -d '' f; do
    r=$(readelf -d "$f" 2>/dev/null | sed -n 's/.*(R[UN]*PATH).*\[\(.*\)\]/\1/p')
    for e in ${r//:/ }; do
        case "$e" in '$ORIGIN'*) ;; *) bad_rpath+="$f: $r"$'\n'; break ;; esac
    done
done < <(find "$app" -type f \( -name '*.so*' -o -name "$name" \) -print0)
[ -z "$bad_rpath" ] || die "RUNPATH/RPATH outside the bundle left in:"$'\n'"$bad_rpath"
[ -f "$app/_internal/licenses/README.txt" ] || die "the bundle has no licenses/README.txt"
! find "$app" -name 'libreadline*' | grep -q . || die "libreadline (GPL-3) is bundled again"
glibc=$("$python" "$here/linux/deb_depends.py" "$app" --glibc) || die "cannot tell the glibc the bundle needs"
echo "needs glibc >= $glibc"

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
    # the copyright file lists every bundled component (from the bundle's licenses/)
    "$python" "$here/licenses.py" copyright "$app" > "$droot/usr/share/doc/$name/copyright" \
        || die "cannot write the copyright file"
    mkdir -p "$droot/usr/share/man/man1"
    sed "s/@VERSION@/$version/" "$here/linux/$name.1" | gzip -9n \
        > "$droot/usr/share/man/man1/$name.1.gz"
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
 and NumPy in /opt/$name. Their licences are listed in
 /usr/share/doc/$name/copyright, with the texts in
 /opt/$name/_internal/licenses.
EOF
    rm -f "$out/${name}"_*_amd64.deb
    local t0; t0=$(date +%s)
    dpkg-deb --root-owner-group "-Z$comp" --build "$droot" "$deb" >/dev/null
    echo "built $deb ($comp, $(( $(date +%s) - t0 )) s): $(du -h "$deb" | cut -f1)"
    echo "Depends: $depends"
    if command -v lintian >/dev/null && [ "${SKIP_LINTIAN:-0}" != 1 ]; then
        # the known tags are listed with their reasons in packaging/README.md
        lintian --tag-display-limit 0 --suppress-tags-from-file "$here/linux/lintian-known.txt" \
            "$deb" > "$work/lintian.txt" 2>&1 || true
        if grep -E '^[EW]: ' "$work/lintian.txt"; then
            die "lintian found errors or warnings that packaging/README.md does not list"
        fi
        echo "lintian: no errors or warnings beyond the known ones"
    fi
}

# -- .run ------------------------------------------------------------------------------------
# A shell header (linux/run-header.sh: our --help, --install PREFIX, a cache in
# ~/.cache/backprop-lab, a glibc check) followed by a tar.xz of the app and its desktop files.
build_run() {
    say ".run"
    local run="$out/${name}-${version}-x86_64.run" stage="$work/run" s
    rm -rf "$stage" && mkdir -p "$stage/share/applications" "$stage/share/metainfo" \
        "$stage/share/man/man1" "$stage/share/icons/hicolor/scalable/apps"
    cp -a "$app" "$stage/$name"
    install -m 644 "$here/linux/$name.desktop" "$stage/share/applications/$name.desktop"
    install -m 644 "$here/linux/io.github.backprop_lab.BackpropLab.metainfo.xml" "$stage/share/metainfo/"
    sed "s/@VERSION@/$version/" "$here/linux/$name.1" | gzip -9n > "$stage/share/man/man1/$name.1.gz"
    install -m 644 "$root/resources/icons/$name.svg" "$stage/share/icons/hicolor/scalable/apps/$name.svg"
    for s in 16 24 32 48 64 128 256 512; do
        mkdir -p "$stage/share/icons/hicolor/${s}x${s}/apps"
        install -m 644 "$root/resources/icons/$name-$s.png" "$stage/share/icons/hicolor/${s}x${s}/apps/$name.png"
    done
    rm -f "$out/${name}"-*-x86_64.run
    local t0; t0=$(date +%s)
    tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name \
        ${SOURCE_DATE_EPOCH:+--mtime="@$SOURCE_DATE_EPOCH"} -cf - "$name" share \
        | xz -T0 "-${RUN_LEVEL:-6}" > "$work/payload.tar.xz"
    local built_on; built_on=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-$ID}") || built_on=Linux
    "$python" - "$here/linux/run-header.sh" "$work/payload.tar.xz" "$run" "$version" "$glibc" \
        "$built_on" <<'EOF'
import hashlib, os, sys
header_src, payload, run, version, glibc, built_on = sys.argv[1:]
data = open(payload, "rb").read()
text = open(header_src, encoding="utf-8").read()
text = (text.replace("@VERSION@", version).replace("@GLIBC@", glibc)
        .replace("@BUILT_ON@", built_on.replace("'", ""))
        .replace("@SHA256@", hashlib.sha256(data).hexdigest())
        .replace("@PAYLOAD_SIZE@", str(len(data))))
size = 0
while True:  # the header states its own size: iterate until the number fits
    head = text.replace("@HEADER_SIZE@", str(size)).encode()
    if len(head) == size:
        break
    size = len(head)
with open(run, "wb") as f:
    f.write(head)
    f.write(data)
os.chmod(run, 0o755)
EOF
    echo "built $run (xz -${RUN_LEVEL:-6}, $(( $(date +%s) - t0 )) s): $(du -h "$run" | cut -f1)"
    if [ "${SKIP_SELFTEST:-0}" != 1 ]; then
        say ".run --selftest (a throw-away cache)"
        local cache; cache=$(mktemp -d)
        XDG_CACHE_HOME="$cache" QT_QPA_PLATFORM=offscreen "$run" --selftest \
            || { rm -rf "$cache"; die "the .run failed its selftest"; }
        rm -rf "$cache"
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
