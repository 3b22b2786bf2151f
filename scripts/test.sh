#!/usr/bin/env bash
# The README's second command: install what is missing, build, run every
# test (unit, integration against a real TLS server on loopback, ...).
# Usage: scripts/test.sh [meson test options, e.g. --suite unit]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=setup.sh
. "$top/scripts/setup.sh"

install_packages "${VID_PACKAGES[@]}"
build_dir=${VID_BUILD_DIR:-$top/build}
# -Ddocs=true: the API reference is built and checked (suite docs).
build "$build_dir" -Ddocs=true

# Services: each integration test starts its own vid-signaling-server (TLS,
# SQLite in a temporary state dir, free loopback ports) and stops it.
rc=0
meson test -C "$build_dir" --print-errorlogs --num-processes 2 "$@" || rc=$?
python3 "$top/scripts/test-summary.py" "$build_dir/meson-logs/testlog.json" ||
    rc=1
exit $rc
