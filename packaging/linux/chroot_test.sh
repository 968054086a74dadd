#!/usr/bin/env bash
# Run the .run in a minimal chroot of a Debian release (debootstrap --variant=minbase):
# the claim "runs on Debian 12" tested on a system that has only what the .run's --help
# says it needs. On an older release (glibc below the bundle's) it must refuse with one
# line instead. Needs root, debootstrap and the Debian mirror. Not part of .ci/run (about
# 2 minutes per release); see packaging/README.md for the results.
#
#   bash packaging/linux/chroot_test.sh bookworm [RUN]   # must pass the selftest
#   bash packaging/linux/chroot_test.sh bullseye [RUN]   # must refuse: glibc too old
#
#   CHROOT_DIR=/var/tmp/bpl     where the chroots live (kept and reused between runs)
#   MIRROR=http://deb.debian.org/debian
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
suite=${1:?usage: chroot_test.sh SUITE [RUN]}
run=${2:-$(ls "$here"/../out/backprop-lab-*-x86_64.run 2>/dev/null | head -1)}
[ -f "$run" ] || { echo "chroot_test: no .run (build it: bash packaging/build.sh run)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "chroot_test: needs root" >&2; exit 2; }
root=${CHROOT_DIR:-/var/tmp/bpl}/$suite
mirror=${MIRROR:-http://deb.debian.org/debian}
say() { printf '\n== %s\n' "$*"; }

if [ ! -x "$root/bin/sh" ] || [ -d "$root/debootstrap" ]; then  # (debootstrap/ = unfinished)
    command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
    say "debootstrap --variant=minbase $suite"
    debootstrap --variant=minbase "$suite" "$root" "$mirror" >/dev/null
fi
mounted=()
cleanup() {
    local m
    for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done
}
trap cleanup EXIT
for m in proc dev dev/pts sys; do
    mountpoint -q "$root/$m" || { mount --bind "/$m" "$root/$m"; mounted=("$root/$m" "${mounted[@]}"); }
done
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

say "$suite: $(in_root sh -c '. /etc/os-release; echo $PRETTY_NAME'), $(in_root getconf GNU_LIBC_VERSION)"
# exactly what the .run's --help names: OpenGL/EGL, libxcb, Wayland client, fontconfig,
# a font, xz (tar is essential)
pkgs=(libgl1 libegl1 libxcb1 libwayland-client0 libwayland-cursor0 libwayland-egl1
      fontconfig fonts-dejavu-core xz-utils)
in_root sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${pkgs[*]} >/dev/null" \
    || { in_root apt-get update -qq >/dev/null; in_root sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${pkgs[*]} >/dev/null"; }
install -m 755 "$run" "$root/opt/bundle.run"

say ".run --help"
in_root /opt/bundle.run --help | head -3
say ".run --selftest (offscreen, as a user with an empty home)"
in_root sh -c 'id tester >/dev/null 2>&1 || useradd -m tester'
rm -rf "$root/home/tester/.cache"
set +e
chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/home/tester LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
    setpriv --reuid=tester --regid=tester --init-groups /opt/bundle.run --selftest \
    > "$root/tmp/selftest.out" 2>&1
rc=$?
set -e
cat "$root/tmp/selftest.out"
echo "exit status $rc"
need=$(grep -a -m1 "^GLIBC_MIN=" "$run" | cut -d"'" -f2)
have=$(in_root getconf GNU_LIBC_VERSION | awk '{print $2}')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -t. -k1,1n -k2,2n | head -1)" != "$need" ]; then
    # older than the bundle needs: one clear line and exit 1, not a loader error
    if [ "$rc" = 1 ] && [ "$(wc -l < "$root/tmp/selftest.out")" = 1 ] \
            && grep -q "needs glibc $need or newer" "$root/tmp/selftest.out"; then
        echo "ok  glibc $have < $need: refused with one line"
        exit 0
    fi
    echo "chroot_test: FAILED: expected one line refusing glibc $have" >&2
    exit 1
fi
if [ "$rc" = 0 ]; then
    say ".run --install /opt/bpl, run the installed copy, uninstall"
    in_root /opt/bundle.run --install /opt/bpl >/dev/null
    in_root env QT_QPA_PLATFORM=offscreen /opt/bpl/bin/backprop-lab --selftest | tail -1
    in_root /opt/bpl/bin/backprop-lab-uninstall
    [ ! -e "$root/opt/bpl" ] && echo "ok  uninstalled, /opt/bpl is gone"
fi
exit "$rc"
