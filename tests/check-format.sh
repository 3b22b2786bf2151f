#!/usr/bin/env bash
# Fails when a tracked C file is not formatted with the project's
# .clang-format (STYLE.md rule 10). Usage: check-format.sh SOURCE_ROOT
set -euo pipefail
cd "$1"
if ! command -v clang-format >/dev/null; then
    echo "clang-format is not installed" >&2
    exit 77 # meson: skipped
fi
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files '*.c' '*.h')
else
    mapfile -t files < <(find libvid include signaling-server examples tests \
        bench -name '*.c' -o -name '*.h')
fi
bad=0
for f in "${files[@]}"; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not clang-formatted: $f (run: clang-format -i $f)"
        bad=1
    fi
done
exit $bad
