#!/usr/bin/env bash
# Install what libvid needs from Debian 12 (idempotent, non-interactive)
# and build it. Sourced or run by scripts/demo.sh, scripts/test.sh and
# .ci/run. Usage: scripts/setup.sh [BUILD_DIR] [extra meson options...]
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian 12 packages: build, libraries, runtime helpers, test tools.
VID_PACKAGES=(
    build-essential meson ninja-build pkg-config python3
    libglib2.0-dev glib-networking libsoup-3.0-dev libjansson-dev
    libsqlite3-dev sqlite3 libsodium-dev libssl-dev openssl
    libwebsockets-dev libwebsockets-evlib-uv libuv1-dev
    libnice-dev libsrtp2-dev
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
    libgstreamer-plugins-bad1.0-dev gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice
    gstreamer1.0-tools libvpx-dev libopus-dev
    coturn nftables iproute2
    valgrind clang clang-format libclang-rt-14-dev curl
    doxygen man-db
)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        echo "setup: need root (or sudo) to install: $*" >&2
        exit 1
    fi
}

install_packages() {
    local missing=()
    for p in "$@"; do
        # ${Status} is "install ok installed" for an installed package.
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q 'ok installed'; then
            missing+=("$p")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    echo "setup: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}

# Run a command quietly; on failure show what it printed.
quiet() {
    local out
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out" | tail -n 40 >&2
        echo "setup: failed: $*" >&2
        return 1
    fi
}

build() {
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        quiet meson setup "$dir" "$top" "$@"
    elif [ $# -gt 0 ]; then
        quiet meson configure "$dir" "$@"
    fi
    quiet ninja -C "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    install_packages "${VID_PACKAGES[@]}"
    dir=${1:-$top/build}
    [ $# -gt 0 ] && shift
    build "$dir" "$@"
    echo "setup: built in $dir"
fi
