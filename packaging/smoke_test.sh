#!/usr/bin/env bash
# CI smoke test of the Linux packages: build the .deb and the .run (unless they exist),
# install the .deb with apt (so its Depends are resolved), run the installed app's
# --selftest offscreen, check the desktop integration files, the man page and the licence
# texts, measure start-up, then remove it and check nothing is left. Then the .run: our
# --help, a first start (unpacks into the cache) and a second one (reuses it), a start
# killed while unpacking (nothing left in /tmp, the next start cleans up), and
# --install PREFIX with its desktop entry and uninstaller. Needs root (apt-get / dpkg).
# Prints the artifact sizes and the start-up times.
#
#   bash packaging/smoke_test.sh            # reuse packaging/out/*.deb and *.run if present
#   REBUILD=1 bash packaging/smoke_test.sh  # always build them first
#   MAX_DEB_MB=70                           # fail if the .deb is larger (default 70)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$here/out"
name=backprop-lab
t_start=$(date +%s)
say() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f\n", b - a }'; }
mb() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1048576 }'; }
fail() { echo "smoke_test: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (apt-get install / remove)"

shopt -s nullglob
debs=("$out/${name}"_*_amd64.deb)
runs=("$out/${name}"-*-x86_64.run)
if [ "${REBUILD:-0}" = 1 ] || [ ${#debs[@]} -eq 0 ] || [ ${#runs[@]} -eq 0 ]; then
    say "building the .deb and the .run"
    bash "$here/build.sh" all
    debs=("$out/${name}"_*_amd64.deb)
    runs=("$out/${name}"-*-x86_64.run)
fi
[ ${#debs[@]} -eq 1 ] || fail "expected one .deb in $out, found ${#debs[@]}"
[ ${#runs[@]} -eq 1 ] || fail "expected one .run in $out, found ${#runs[@]}"
deb=${debs[0]}
run=${runs[0]}
echo "packages: $deb $run"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# first_window LOG CMD...: seconds from launch to the first visible window under Xvfb
# (polled every 20 ms: xdotool's own --sync polls only every 0.5 s), appended to LOG
xvfb=
start_xvfb() {
    command -v Xvfb >/dev/null && command -v xdotool >/dev/null || return 1
    disp=:$((90 + RANDOM % 400))
    Xvfb "$disp" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
    xvfb=$!
    # wait until the server answers (a launch before that aborts: "could not connect")
    for _ in $(seq 200); do
        DISPLAY=$disp xdotool getdisplaygeometry >/dev/null 2>&1 && return 0
        kill -0 "$xvfb" 2>/dev/null || break
        sleep 0.05
    done
    echo "smoke_test: Xvfb on $disp did not start" >&2
    return 1
}
stop_xvfb() { [ -z "$xvfb" ] || { kill "$xvfb" 2>/dev/null || true; wait "$xvfb" 2>/dev/null || true; xvfb=; }; }
first_window() {
    local log=$1; shift
    local t0 pid found=
    t0=$(now)
    echo "== $*" >> "$out/window-launch.log"
    DISPLAY=$disp QT_QPA_PLATFORM=xcb "$@" >> "$out/window-launch.log" 2>&1 &
    pid=$!
    for _ in $(seq 1500); do
        if DISPLAY=$disp xdotool search --onlyvisible --pid "$pid" >/dev/null 2>&1; then
            found=$(since "$t0"); break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [ -n "$found" ] || { echo "smoke_test: no window within 30 s ($*); its output:" >&2
                         tail -20 "$out/window-launch.log" >&2; return 1; }
    echo "$found" >> "$log"
}

cleanup() {
    if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed"; then
        echo "smoke_test: removing $name after a failure" >&2
        DEBIAN_FRONTEND=noninteractive apt-get remove -y "$name" >/dev/null 2>&1 || dpkg -r "$name" || true
    fi
}
trap cleanup EXIT

say "package metadata"
dpkg-deb --field "$deb" Package Version Architecture Installed-Size Depends
for f in Maintainer Description Section Priority Installed-Size Depends; do
    [ -n "$(dpkg-deb --field "$deb" "$f")" ] || fail "control field $f is empty"
done
if dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -qE '(pre|post)(inst|rm)$'; then
    fail "the package has maintainer scripts; none are needed"
fi

say "install"
export DEBIAN_FRONTEND=noninteractive
if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed"; then
    apt-get remove -y "$name" >/dev/null
fi
t0=$(now)
if ! apt-get install -y "$deb" >"$out/apt-install.log" 2>&1; then
    apt-get update >/dev/null 2>&1 || true   # a fresh machine may have no package lists
    apt-get install -y "$deb" >"$out/apt-install.log" 2>&1 \
        || { tail -20 "$out/apt-install.log" >&2; fail "apt-get install $deb"; }
fi
printf 'installed in %.1f s\n' "$(since "$t0")"

say "installed files"
for f in /usr/bin/$name /opt/$name/$name \
         /usr/share/applications/$name.desktop \
         /usr/share/metainfo/io.github.backprop_lab.BackpropLab.metainfo.xml \
         /usr/share/icons/hicolor/scalable/apps/$name.svg \
         /usr/share/icons/hicolor/48x48/apps/$name.png \
         /usr/share/icons/hicolor/256x256/apps/$name.png; do
    [ -e "$f" ] || fail "$f is not installed"
    echo "ok  $f"
done
[ "$(readlink -f /usr/bin/$name)" = "/opt/$name/$name" ] || fail "/usr/bin/$name does not point to /opt/$name/$name"
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate /usr/share/applications/$name.desktop || fail "installed .desktop file is invalid"
fi
grep -q "^Exec=$name" /usr/share/applications/$name.desktop || fail ".desktop Exec is not $name"
grep -q "^Icon=$name\$" /usr/share/applications/$name.desktop || fail ".desktop Icon is not $name"

say "selftest of the installed app (offscreen)"
t0=$(now)
env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen /usr/bin/$name --selftest \
    || fail "/usr/bin/$name --selftest"
selftest_s=$(since "$t0")
/usr/bin/$name --version

# Start-up: the median of 5 runs of --selftest (imports, every preset, one window), and
# if Xvfb and xdotool are here, the median of 5 launches until the first window is mapped.
say "start-up time"
: > "$out/window-launch.log"
for i in 1 2 3 4 5; do
    t0=$(now)
    env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen /usr/bin/$name --selftest >/dev/null 2>&1
    since "$t0"
done > "$out/selftest-times.txt"
selftest_med=$(median < "$out/selftest-times.txt")
printf 'selftest wall time: median %.2f s of 5 (first run %.2f s)\n' "$selftest_med" "$selftest_s"
window_med=
if start_xvfb; then
    : > "$out/window-times.txt"
    for i in 1 2 3 4 5; do first_window "$out/window-times.txt" /usr/bin/$name || true; done
    stop_xvfb
    [ -s "$out/window-times.txt" ] || fail "the installed app showed no window under Xvfb"
    window_med=$(median < "$out/window-times.txt")
    printf 'launch to first visible window (Xvfb, xcb): median %.2f s of %d\n' \
        "$window_med" "$(wc -l < "$out/window-times.txt")"
else
    echo "(Xvfb or xdotool missing: time to first window not measured)"
fi

say "man page, copyright and licence texts"
[ -f /usr/share/man/man1/$name.1.gz ] || fail "no man page"
zcat /usr/share/man/man1/$name.1.gz | grep -q '^\.TH BACKPROP-LAB 1' || fail "the man page has no .TH"
grep -q "^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" \
    /usr/share/doc/$name/copyright || fail "copyright is not machine-readable"
lic=/opt/$name/_internal/licenses
[ -f "$lic/README.txt" ] || fail "no $lic/README.txt"
for c in backprop-lab python pyside6-essentials shiboken6 numpy pyqtgraph pyinstaller; do
    [ -n "$(ls -A "$lic/$c" 2>/dev/null)" ] || fail "no licence text for $c in $lic"
    [ "$c" = backprop-lab ] || grep -q "$lic/$c/" /usr/share/doc/$name/copyright \
        || fail "copyright does not list $c"
done
# every shared library in the bundle is covered by a licence entry
n_libs=$(find /opt/$name/_internal -maxdepth 1 -name 'lib*.so*' ! -type l | wc -l)
missing_lic=$(cd /opt/$name/_internal && for f in lib*.so*; do
    [ -L "$f" ] && continue
    grep -q "_internal/$f\b" /usr/share/doc/$name/copyright || echo "$f"; done)
[ -z "$missing_lic" ] || fail "libraries without a copyright entry: $missing_lic"
echo "ok  $n_libs bundled libraries, each listed in /usr/share/doc/$name/copyright"
! find /opt/$name -name 'libreadline*' | grep -q . || fail "libreadline (GPL-3) is bundled"

say "remove"
apt-get purge -y "$name" >/dev/null
for f in /opt/$name /usr/bin/$name /usr/share/applications/$name.desktop \
         /usr/share/icons/hicolor/48x48/apps/$name.png \
         /usr/share/metainfo/io.github.backprop_lab.BackpropLab.metainfo.xml; do
    [ ! -e "$f" ] && [ ! -L "$f" ] || fail "$f is still there after removal"
done
echo "ok  removed cleanly"
trap - EXIT

# -- the .run ------------------------------------------------------------------------------
say ".run"
scratch=$(mktemp -d)
cleanup_run() { stop_xvfb; rm -rf "$scratch"; }
trap cleanup_run EXIT
mkdir -p "$scratch/tmp" "$scratch/cache" "$scratch/home"
# a home, cache and TMPDIR of their own, to see what the .run leaves behind
xenv=(env HOME="$scratch/home" TMPDIR="$scratch/tmp" XDG_CACHE_HOME="$scratch/cache"
      XDG_CONFIG_HOME="$scratch/home/.config")
runenv=(env -u DISPLAY -u WAYLAND_DISPLAY "${xenv[@]:1}")
help=$("$run" --help)
grep -q "^Backprop Lab .*: a desktop simulator" <<<"$help" || fail ".run --help is not ours"
grep -q -- "--install \[PREFIX\]" <<<"$help" || fail ".run --help does not offer --install"
! grep -qi makeself <<<"$help" || fail ".run --help shows makeself's help"
echo "ok  --help is ours"

t0=$(now)
"${runenv[@]}" QT_QPA_PLATFORM=offscreen "$run" --selftest >/dev/null || fail ".run --selftest (first start)"
run_first=$(since "$t0")
t0=$(now)
"${runenv[@]}" QT_QPA_PLATFORM=offscreen "$run" --selftest >/dev/null || fail ".run --selftest (second start)"
run_second=$(since "$t0")
for i in 1 2 3; do t0=$(now); "${runenv[@]}" "$run" --version >/dev/null; since "$t0"; done \
    > "$out/run-version-times.txt"
run_version=$(median < "$out/run-version-times.txt")
printf 'selftest through the .run: first start %.2f s (unpacks), second %.2f s; --version from the cache %.2f s\n' \
    "$run_first" "$run_second" "$run_version"
[ -z "$(ls -A "$scratch/tmp")" ] || fail "the .run left files in TMPDIR: $(ls "$scratch/tmp")"
[ -z "$(find "$scratch/home" -mindepth 1 | head -3)" ] \
    || fail "--selftest left files in HOME: $(find "$scratch/home" -mindepth 1 | head -3)"
[ "$(ls "$scratch/cache/$name" | wc -l)" = 1 ] || fail "expected one unpacked copy in the cache"

# a start killed while it unpacks leaves nothing in /tmp, and the next start cleans up
rm -rf "${scratch:?}/cache/$name"
"${runenv[@]}" "$run" --version >/dev/null 2>&1 &
pid=$!
sleep 0.7
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
# the killed start's unpacking pipeline (tail | xz | tar) runs on until it is done:
# wait until its folder stops growing
prev=-1
for _ in $(seq 60); do
    now_kb=$(du -sk "$scratch/cache/$name" 2>/dev/null | cut -f1)
    [ "$now_kb" = "$prev" ] && break
    prev=$now_kb
    sleep 0.5
done
[ -z "$(ls -A "$scratch/tmp")" ] || fail "a killed .run left files in TMPDIR"
left=$(find "$scratch/cache/$name" -maxdepth 1 -name '.unpack-*' 2>/dev/null | wc -l)
"${runenv[@]}" "$run" --version >/dev/null || fail ".run after a killed start"
[ -z "$(find "$scratch/cache/$name" -maxdepth 1 -name '.unpack-*')" ] \
    || fail "the next start did not remove what the killed one left"
echo "ok  killed while unpacking: nothing in TMPDIR, $left partial copy in the cache, removed by the next start"

window_run=
if start_xvfb; then
    rm -rf "${scratch:?}/cache/$name"
    : > "$out/run-window-times.txt"
    first_window "$out/run-window-times.txt" "${xenv[@]}" "$run" || fail ".run showed no window (first start)"
    for i in 1 2 3; do first_window "$out/run-window-times.txt" "${xenv[@]}" "$run" || true; done
    stop_xvfb
    run_win_first=$(head -1 "$out/run-window-times.txt")
    run_win_cached=$(tail -n +2 "$out/run-window-times.txt" | median)
    printf '.run launch to first visible window: first start %.2f s, cached median %.2f s\n' \
        "$run_win_first" "$run_win_cached"
    window_run=", .run first window $(printf '%.2f' "$run_win_first") s / cached $(printf '%.2f' "$run_win_cached") s"
fi
"${runenv[@]}" "$run" --clear-cache >/dev/null
[ ! -e "$scratch/cache/$name" ] || fail "--clear-cache left $scratch/cache/$name"

# install to a prefix: program, desktop entry, icons, man page; then the uninstaller
prefix="$scratch/prefix"
"${runenv[@]}" "$run" --install "$prefix" || fail ".run --install $prefix"
for f in bin/$name bin/$name-uninstall lib/$name/$name share/applications/$name.desktop \
         share/icons/hicolor/48x48/apps/$name.png share/man/man1/$name.1.gz \
         lib/$name/_internal/licenses/README.txt; do
    [ -e "$prefix/$f" ] || fail ".run --install did not install $f"
done
grep -q "^Exec=$prefix/bin/$name" "$prefix/share/applications/$name.desktop" \
    || fail "the installed desktop entry does not run $prefix/bin/$name"
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$prefix/share/applications/$name.desktop" || fail "installed .desktop is invalid"
fi
"${runenv[@]}" QT_QPA_PLATFORM=offscreen "$prefix/bin/$name" --selftest >/dev/null \
    || fail "$prefix/bin/$name --selftest"
"$prefix/bin/$name-uninstall" || fail "the uninstaller failed"
[ ! -e "$prefix" ] || fail "the uninstaller left: $(find "$prefix" | head -5)"
echo "ok  --install PREFIX: runs, desktop entry valid; the uninstaller removed everything"
trap - EXIT
cleanup_run

say "sizes"
max_mb=${MAX_DEB_MB:-70}
deb_bytes=$(stat -c %s "$deb")
printf '%-60s %6s MB\n' "$(basename "$deb")" "$(mb "$deb_bytes")"
printf '%-60s %6s MB\n' "$(basename "$run")" "$(mb "$(stat -c %s "$run")")"
[ -d "$out/$name" ] && printf '%-60s %6s\n' "$name/ (unpacked folder)" "$(du -sh "$out/$name" | cut -f1)"
[ "$deb_bytes" -le $((max_mb * 1048576)) ] || fail "the .deb is larger than $max_mb MB"

printf '\nsmoke test passed in %d s (selftest %.2f s%s, .run selftest %.2f s first / %.2f s cached%s)\n' \
    "$(( $(date +%s) - t_start ))" "$selftest_med" \
    "${window_med:+, .deb first window $(printf '%.2f' "$window_med") s}" \
    "$run_first" "$run_second" "$window_run"
