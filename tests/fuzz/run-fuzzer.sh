#!/bin/sh
# Runs one libFuzzer target for a while over its seed corpus without
# writing into the source tree: new inputs go to a scratch directory,
# crash reproducers next to the build (fuzz-<target>-crash-*).
#   run-fuzzer.sh <fuzzer binary> <seed corpus dir> <seconds> <artifact dir>
set -eu
bin=$1
seeds=$2
secs=$3
artifacts=$4
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 \
    -artifact_prefix="$artifacts/$(basename "$bin")-" \
    "$scratch" "$seeds"
