#!/usr/bin/env bash
# CI smoke test of the Linux package: build the .deb (unless one exists), install it with
# apt (so its Depends are resolved), run the installed app's --selftest offscreen, check
# the desktop integration files, measure start-up, then remove it and check nothing is
# left. Needs root (apt-get / dpkg). Prints the artifact sizes and the start-up times.
#
#   bash packaging/smoke_test.sh            # reuse packaging/out/*.deb if present
#   REBUILD=1 bash packaging/smoke_test.sh  # always build a fresh .deb first
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
if [ "${REBUILD:-0}" = 1 ] || [ ${#debs[@]} -eq 0 ]; then
    say "building the .deb"
    bash "$here/build.sh" deb
    debs=("$out/${name}"_*_amd64.deb)
fi
[ ${#debs[@]} -eq 1 ] || fail "expected one .deb in $out, found ${#debs[@]}"
deb=${debs[0]}
echo "package: $deb"

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
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for i in 1 2 3 4 5; do
    t0=$(now)
    env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen /usr/bin/$name --selftest >/dev/null 2>&1
    since "$t0"
done > "$out/selftest-times.txt"
selftest_med=$(median < "$out/selftest-times.txt")
printf 'selftest wall time: median %.2f s of 5 (first run %.2f s)\n' "$selftest_med" "$selftest_s"
window_med=
if command -v Xvfb >/dev/null && command -v xdotool >/dev/null; then
    disp=:$((90 + RANDOM % 400))
    Xvfb "$disp" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
    xvfb=$!
    sleep 0.5
    : > "$out/window-times.txt"
    for i in 1 2 3 4 5; do
        t0=$(now)
        DISPLAY=$disp QT_QPA_PLATFORM=xcb /usr/bin/$name >/dev/null 2>&1 &
        pid=$!
        # poll every 20 ms (xdotool's own --sync polls only every 0.5 s)
        found=
        for _ in $(seq 1500); do
            if DISPLAY=$disp xdotool search --onlyvisible --pid "$pid" >/dev/null 2>&1; then
                found=$(since "$t0"); break
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.02
        done
        if [ -n "$found" ]; then
            echo "$found" >> "$out/window-times.txt"
        else
            echo "smoke_test: no window within 30 s (launch $i)" >&2
        fi
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    kill "$xvfb" 2>/dev/null || true
    wait "$xvfb" 2>/dev/null || true
    [ -s "$out/window-times.txt" ] || fail "the installed app showed no window under Xvfb"
    window_med=$(median < "$out/window-times.txt")
    printf 'launch to first visible window (Xvfb, xcb): median %.2f s of %d\n' \
        "$window_med" "$(wc -l < "$out/window-times.txt")"
else
    echo "(Xvfb or xdotool missing: time to first window not measured)"
fi

say "remove"
apt-get remove -y "$name" >/dev/null
for f in /opt/$name /usr/bin/$name /usr/share/applications/$name.desktop \
         /usr/share/icons/hicolor/48x48/apps/$name.png \
         /usr/share/metainfo/io.github.backprop_lab.BackpropLab.metainfo.xml; do
    [ ! -e "$f" ] && [ ! -L "$f" ] || fail "$f is still there after removal"
done
echo "ok  removed cleanly"
trap - EXIT

say "sizes"
max_mb=${MAX_DEB_MB:-70}
deb_bytes=$(stat -c %s "$deb")
printf '%-60s %6s MB\n' "$(basename "$deb")" "$(mb "$deb_bytes")"
for f in "$out/${name}"-*-x86_64.run; do
    printf '%-60s %6s MB\n' "$(basename "$f")" "$(mb "$(stat -c %s "$f")")"
done
[ -d "$out/$name" ] && printf '%-60s %6s\n' "$name/ (unpacked folder)" "$(du -sh "$out/$name" | cut -f1)"
[ "$deb_bytes" -le $((max_mb * 1048576)) ] || fail "the .deb is larger than $max_mb MB"

printf '\nsmoke test passed in %d s (selftest %.2f s%s)\n' "$(( $(date +%s) - t_start ))" \
    "$selftest_med" "${window_med:+, first window $(printf '%.2f' "$window_med") s}"
