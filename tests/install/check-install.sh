#!/usr/bin/env bash
# check-install.sh — `meson install` of a build, checked from the outside
# (meson test suite "install"):
#  1. meson install --destdir into a temporary directory;
#  2. every file meson says it installs is there;
#  3. the header, the pkg-config file vid-1.0.pc, libvid.so.0 (its SONAME)
#     and the libvid.so development link; the library exports only vid_*;
#  4. the walkthrough at the top of the INSTALLED vid/vid.h compiles
#     (strict C99) and links against the INSTALLED library with
#     `pkg-config --cflags --libs vid-1.0`; a small program linked the same
#     way runs against it and reports the library's version;
#  5. no installed ELF file keeps a RUNPATH into the build directory;
#  6. every installed man page renders with `man --warnings` silently.
# Usage: check-install.sh BUILD_DIR PREFIX LIBDIR INCLUDEDIR MANDIR VERSION
#        [B_SANITIZE]
set -euo pipefail

build=$1 prefix=$2 libdir=$3 includedir=$4 mandir=$5 version=$6
sanitize=${7:-none}
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*" >&2; fail=1; }
# Options may be relative to the prefix.
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vid-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# 1. Install (meson test has already built everything).
if ! meson install -C "$build" --destdir "$root" --no-rebuild --quiet \
    >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    echo "FAIL: meson install --destdir failed" >&2
    exit 1
fi
ok "meson install --destdir $root"

lib=$root$(abs "$libdir")
inc=$root$(abs "$includedir")
man=$root$(abs "$mandir")

# 2. What meson means to install (JSON: build path -> install path).
meson introspect "$build" --installed >"$tmp/installed.json"
python3 - "$tmp/installed.json" "$root" >"$tmp/installed.txt" <<'PY'
import json, sys
for dst in sorted(json.load(open(sys.argv[1])).values()):
    print(sys.argv[2] + dst)
PY
n=0
while IFS= read -r f; do
    n=$((n + 1))
    [ -e "$f" ] || bad "meson lists $f, which is not installed"
done <"$tmp/installed.txt"
[ "$n" -gt 0 ] || bad "meson introspect --installed lists nothing"
ok "$n installed paths present"

# 3. Header, pkg-config file, library and its ABI.
[ -f "$inc/vid/vid.h" ] && ok "header vid/vid.h" || bad "no $inc/vid/vid.h"
pc=$lib/pkgconfig/vid-1.0.pc
[ -f "$pc" ] && ok "pkg-config file vid-1.0.pc" || bad "no $pc"
so=$lib/libvid.so.0
if [ -f "$so" ] || [ -L "$so" ]; then
    soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
    [ "$soname" = libvid.so.0 ] && ok "SONAME libvid.so.0" ||
        bad "SONAME of $so is '$soname', not libvid.so.0"
    # Dynamic symbols the library defines, less the version node (type A).
    nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' |
        sed 's/@.*//' | sort -u >"$tmp/exports.txt"
    nexp=$(wc -l <"$tmp/exports.txt")
    if grep -v '^vid_' "$tmp/exports.txt" >"$tmp/stray.txt"; then
        bad "libvid.so.0 exports symbols outside vid_*: $(tr '\n' ' ' <"$tmp/stray.txt")"
    elif [ "$nexp" -eq 0 ]; then
        bad "libvid.so.0 exports nothing"
    else
        ok "libvid.so.0 exports $nexp symbols, all vid_*"
    fi
else
    bad "no $so"
fi
[ -L "$lib/libvid.so" ] && ok "development link libvid.so" ||
    bad "no development link $lib/libvid.so"

# 4. Build against the installed tree only: pkg-config from the destdir,
# its -I/-L rebased by PKG_CONFIG_SYSROOT_DIR.
export PKG_CONFIG_PATH=$lib/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$root
if [ -f "$pc" ] && [ -f "$inc/vid/vid.h" ]; then
    got=$(pkg-config --modversion vid-1.0)
    [ "$got" = "$version" ] && ok "pkg-config --modversion vid-1.0: $got" ||
        bad "pkg-config --modversion vid-1.0 is '$got', not $version"
    read -r -a flags <<<"$(pkg-config --cflags --libs vid-1.0)"
    case " ${flags[*]} " in
    *" -I$inc "*) ;;
    *) bad "pkg-config --cflags does not point into the install: ${flags[*]}" ;;
    esac
    cc=${CC:-cc}
    # A sanitized libvid needs the sanitizer runtime in the program too.
    if [ "$sanitize" != none ]; then
        flags+=("-fsanitize=$sanitize")
    fi
    # The first @code block of the installed header, comment stars off.
    sed -n '/@code/,/@endcode/{/@code/d;/@endcode/q;s/^ [*] //;s/^ [*]$//;p}' \
        "$inc/vid/vid.h" >"$tmp/walkthrough.c"
    if [ ! -s "$tmp/walkthrough.c" ]; then
        bad "no @code walkthrough in the installed vid/vid.h"
    elif "$cc" -std=c99 -pedantic-errors -Wall -Wextra -Werror \
        -o "$tmp/walkthrough" "$tmp/walkthrough.c" "${flags[@]}" \
        -Wl,-rpath-link,"$lib" 2>"$tmp/cc.log"; then
        ok "walkthrough of vid/vid.h compiles and links against the install"
    else
        cat "$tmp/cc.log" >&2
        bad "the walkthrough does not build against the installed tree"
    fi
    cat >"$tmp/version.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <vid/vid.h>

int main(void)
{
    printf("%s\n", vid_version());
    return strcmp(vid_strerror(VID_OK), "success") != 0;
}
C
    if "$cc" -std=c99 -Wall -Werror -o "$tmp/version" "$tmp/version.c" \
        "${flags[@]}" 2>"$tmp/cc.log"; then
        # Resolve libvid.so.0 from the install, not from the build tree.
        if got=$(LD_LIBRARY_PATH=$lib "$tmp/version") &&
            LD_LIBRARY_PATH=$lib ldd "$tmp/version" >"$tmp/ldd.txt" &&
            grep -qF "$lib/libvid.so.0" "$tmp/ldd.txt"; then
            [ "$got" = "$version" ] &&
                ok "a program linked to the install runs: vid_version() = $got" ||
                bad "vid_version() of the installed library is '$got', not $version"
        else
            bad "a program linked against the installed libvid does not run"
        fi
    else
        cat "$tmp/cc.log" >&2
        bad "a program using vid_version() does not build against the install"
    fi
fi

# 5. Installed ELF files must not look into the build directory.
nelf=0
while IFS= read -r f; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    [ "$(head -c 4 "$f" | tail -c 3)" = ELF ] || continue
    nelf=$((nelf + 1))
    if readelf -d "$f" 2>/dev/null | grep -E 'R(UN)?PATH' | grep -F "$build" >/dev/null; then
        bad "$f keeps a RUNPATH into the build directory"
    fi
done <"$tmp/installed.txt"
ok "$nelf installed ELF files, none with a RUNPATH into $build"

# 6. Man pages: whatever meson installs under MANDIR.
nman=0
if [ -d "$man" ]; then
    while IFS= read -r page; do
        nman=$((nman + 1))
        out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 \
            >/dev/null) || bad "man -l $page failed: $out"
        [ -z "$out" ] && ok "man page ${page#"$man"/} renders without warnings" ||
            bad "man --warnings -l ${page#"$man"/}: $out"
    done < <(find "$man" -type f | sort)
fi
[ "$nman" -gt 0 ] || bad "no man page installed under $(abs "$mandir")"

exit $fail
