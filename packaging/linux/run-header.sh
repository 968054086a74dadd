#!/bin/sh
# Backprop Lab @VERSION@ for Linux x86_64: a self-extracting bundle (a shell script
# followed by an xz-compressed tar archive). Run it with --help for the options.
# Made by packaging/build.sh from packaging/linux/run-header.sh.
set -eu
NAME=backprop-lab
VERSION='@VERSION@'
PAYLOAD_SHA256='@SHA256@'
PAYLOAD_SIZE=@PAYLOAD_SIZE@
HEADER_SIZE=@HEADER_SIZE@
GLIBC_MIN='@GLIBC@'
BUILT_ON='@BUILT_ON@'
SELF=$0

say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$NAME" "$*" >&2; exit 1; }

usage() {
    cat <<EOF
Backprop Lab $VERSION: a desktop simulator that makes backpropagation visible.

Usage: $(basename "$SELF") [BACKPROP-LAB ARGUMENTS...]
       $(basename "$SELF") --install [PREFIX]
       $(basename "$SELF") --extract DIR | --clear-cache | --bundle-info | --help

Without a bundle option this runs Backprop Lab. The first start unpacks it into
\$XDG_CACHE_HOME/backprop-lab (~/.cache/backprop-lab, about 170 MB) and later starts
reuse that copy; every argument goes to the program, for example:
  $(basename "$SELF") --preset spiral     open the window on a preset
  $(basename "$SELF") --selftest          check that it works here (no window needed)
  $(basename "$SELF") -- --help           the program's own options and sub-commands

Bundle options:
  --install [PREFIX]  install into PREFIX (default ~/.local, or /usr/local as root):
                      PREFIX/lib/backprop-lab, PREFIX/bin/backprop-lab, a desktop entry,
                      icons and a manual page; remove it with
                      PREFIX/bin/backprop-lab-uninstall
  --extract DIR       only unpack the bundle into DIR
  --clear-cache       delete the unpacked copies in the cache and exit
  --bundle-info       print the version, the cache folder and what this system needs
  --help              this text

Needs: x86_64 Linux with glibc $GLIBC_MIN or newer (built on $BUILT_ON), OpenGL/EGL
(libgl1, libegl1), libxcb, the Wayland client libraries, fontconfig and a font; xz and
tar to unpack. packaging/README.md lists the distributions it was tested on.
EOF
}

# -- helpers -------------------------------------------------------------------------------
glibc_ok() {
    have=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}') || have=
    [ -n "$have" ] || return 0  # not glibc-based, or no getconf: let the loader decide
    # version compare: is have >= GLIBC_MIN ?
    [ "$(printf '%s\n%s\n' "$GLIBC_MIN" "$have" | sort -t. -k1,1n -k2,2n | head -n1)" = "$GLIBC_MIN" ]
}

check_system() {
    [ "$(uname -m)" = x86_64 ] || die "this bundle is for x86_64 Linux, not $(uname -m)"
    glibc_ok || die "this bundle needs glibc $GLIBC_MIN or newer (it was built on $BUILT_ON); this system has $(getconf GNU_LIBC_VERSION 2>/dev/null)"
    command -v xz >/dev/null 2>&1 || die "needs xz to unpack (install xz-utils or xz)"
    command -v tar >/dev/null 2>&1 || die "needs tar to unpack"
}

payload() {  # the archive after the header, on stdout
    tail -c +$((HEADER_SIZE + 1)) "$SELF"
}

verify() {
    size=$(wc -c < "$SELF")
    [ "$size" -eq $((HEADER_SIZE + PAYLOAD_SIZE)) ] \
        || die "$SELF is damaged or incomplete ($size bytes, expected $((HEADER_SIZE + PAYLOAD_SIZE))): download it again"
    if command -v sha256sum >/dev/null 2>&1; then
        sum=$(payload | sha256sum | cut -d' ' -f1)
        [ "$sum" = "$PAYLOAD_SHA256" ] || die "$SELF is damaged (checksum mismatch): download it again"
    fi
}

unpack_to() {  # unpack into the existing, empty folder $1
    payload | xz -dc | tar -x -C "$1" -f - || return 1
}

cache_root() {
    base=${XDG_CACHE_HOME:-}
    [ -n "$base" ] || base=${HOME:-}/.cache
    [ -n "${HOME:-}${XDG_CACHE_HOME:-}" ] || die "neither HOME nor XDG_CACHE_HOME is set: use --extract DIR"
    printf '%s/%s\n' "$base" "$NAME"
}

# Remove unpack folders left by a start that was killed (their process is gone).
clean_stale() {
    for d in "$1"/.unpack-*; do
        [ -d "$d" ] || continue
        pid=${d##*.unpack-}
        # best effort: the killed start's tar may still be writing; a later start retries
        kill -0 "$pid" 2>/dev/null || rm -rf "$d" 2>/dev/null || true
    done
}

# The unpacked copy in the cache (sets DIR): unpack once, into a folder named after this
# process, then rename it into place, so a killed start never leaves a half copy in use;
# the next start removes what a killed one left.
cached_copy() {
    root=$(cache_root)
    DIR="$root/$VERSION-$(printf '%s' "$PAYLOAD_SHA256" | cut -c1-12)"
    [ -f "$DIR/.complete" ] && return 0
    check_system
    mkdir -p "$root" || die "cannot create the cache folder $root"
    clean_stale "$root"
    tmp="$root/.unpack-$$"
    rm -rf "$tmp"
    mkdir "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    trap 'rm -rf "$tmp"; exit 130' INT
    trap 'rm -rf "$tmp"; exit 143' TERM HUP
    [ -t 2 ] && printf '%s: unpacking into %s (once) ...\n' "$NAME" "$DIR" >&2
    verify
    unpack_to "$tmp" || die "unpacking failed (is $root full?)"
    : > "$tmp/.complete"
    rm -rf "$DIR"
    if ! mv "$tmp" "$DIR" 2>/dev/null; then
        rm -rf "$tmp"  # another start won the race: use its copy
        [ -f "$DIR/.complete" ] || die "cannot move the unpacked copy to $DIR"
    fi
    trap - EXIT INT TERM HUP
}

CREATED=
mkd() {  # mkdir -p that remembers each folder it creates (the uninstaller removes them)
    [ -d "$1" ] && return 0
    mkd "$(dirname "$1")"
    mkdir "$1" || die "cannot create $1"
    CREATED="$1
$CREATED"
}

install_to() {
    prefix=$1
    case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
    check_system
    lib="$prefix/lib/$NAME"
    [ ! -e "$lib" ] || [ -f "$lib/installed-files.txt" ] \
        || die "$lib exists and is not an earlier installation: not touching it"
    if [ -x "$prefix/bin/$NAME-uninstall" ]; then
        "$prefix/bin/$NAME-uninstall" --quiet || true
    fi
    verify
    mkd "$prefix/lib"
    clean_stale "$prefix/lib"
    tmp="$prefix/lib/.unpack-$$"
    rm -rf "$tmp"; mkdir "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    trap 'rm -rf "$tmp"; exit 130' INT
    trap 'rm -rf "$tmp"; exit 143' TERM HUP
    unpack_to "$tmp" || die "unpacking failed (is $prefix full?)"
    files=
    mv "$tmp/$NAME" "$lib"
    mkd "$prefix/bin"
    ln -sf "$lib/$NAME" "$prefix/bin/$NAME"
    files="$files$prefix/bin/$NAME
"
    mkd "$prefix/share/applications"
    sed "s|^Exec=$NAME|Exec=$prefix/bin/$NAME|" "$tmp/share/applications/$NAME.desktop" \
        > "$prefix/share/applications/$NAME.desktop"
    files="$files$prefix/share/applications/$NAME.desktop
"
    for f in $(cd "$tmp/share" && find icons man metainfo -type f); do
        mkd "$prefix/share/$(dirname "$f")"
        cp "$tmp/share/$f" "$prefix/share/$f"
        files="$files$prefix/share/$f
"
    done
    rm -rf "$tmp"
    trap - EXIT INT TERM HUP
    printf '%s' "$files" > "$lib/installed-files.txt"
    printf '%s' "$CREATED" > "$lib/installed-folders.txt"
    cat > "$prefix/bin/$NAME-uninstall" <<EOF
#!/bin/sh
# Remove Backprop Lab $VERSION, installed into $prefix by $(basename "$SELF").
set -eu
lib='$lib'
[ "\${1:-}" = --quiet ] || echo "removing Backprop Lab $VERSION from $prefix"
files=\$(cat "\$lib/installed-files.txt")
folders=\$(cat "\$lib/installed-folders.txt")
printf '%s\n' "\$files" | while IFS= read -r f; do [ -z "\$f" ] || rm -f "\$f"; done
rm -rf "\$lib"
rm -f "\$0"
# the folders the installation created, deepest first, if nothing else is in them
printf '%s\n' "\$folders" | while IFS= read -r d; do [ -z "\$d" ] || rmdir "\$d" 2>/dev/null || true; done
EOF
    chmod 755 "$prefix/bin/$NAME-uninstall"
    # no update-desktop-database: the entry declares no MimeType, and desktops watch
    # the applications folder themselves
    say "installed Backprop Lab $VERSION into $prefix"
    say "  run:       $prefix/bin/$NAME   (also in the desktop's application menu)"
    say "  uninstall: $prefix/bin/$NAME-uninstall"
    case ":${PATH:-}:" in *":$prefix/bin:"*) ;; *) say "  ($prefix/bin is not on your PATH)" ;; esac
}

# -- main ----------------------------------------------------------------------------------
case "${1:-}" in
    --help|-h)
        usage; exit 0 ;;
    --bundle-info)
        say "Backprop Lab $VERSION (payload sha256 $PAYLOAD_SHA256)"
        say "cache: $(cache_root)"
        say "needs: x86_64, glibc >= $GLIBC_MIN (this system: $(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown))"
        exit 0 ;;
    --clear-cache)
        root=$(cache_root)
        rm -rf "$root"
        say "removed $root"; exit 0 ;;
    --extract)
        [ $# -ge 2 ] || die "--extract needs a folder"
        check_system; verify
        mkdir -p "$2"; unpack_to "$2" || die "unpacking failed"
        say "unpacked into $2 (run $2/$NAME/$NAME)"; exit 0 ;;
    --install)
        if [ $# -ge 2 ]; then prefix=$2
        elif [ "$(id -u)" = 0 ]; then prefix=/usr/local
        else prefix=${HOME:?HOME is not set}/.local
        fi
        install_to "$prefix"; exit 0 ;;
    --)
        shift ;;
esac
cached_copy
exec "$DIR/$NAME/$NAME" "$@"
