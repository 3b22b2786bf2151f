#!/bin/sh
# run-transport-bench.sh — the transport benchmarks of issue 3, as a table:
#   1. offer -> DTLS connected on loopback, two libvid transports versus
#      two GStreamer webrtcbin elements (bench/transport-setup.c);
#   2. SRTP protect + unprotect per packet, our path versus raw libsrtp2
#      (bench/srtp-cost.c).
# Usage: bench/run-transport-bench.sh [--quick] [--builddir DIR] [-n RUNS]
# Targets (issue 3): setup median <= 60 ms and <= 0.5x webrtcbin; SRTP
# <= 1.2x raw libsrtp2. Prints "target met"/"target MISSED" per line;
# the exit status only reflects whether the benchmarks ran.
set -eu

builddir=""
quick=0
runs=20
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1; runs=5 ;;
    --builddir) builddir="$2"; shift ;;
    -n) runs="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run-transport-bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "$builddir" ]; then
    here=$(cd "$(dirname "$0")/.." && pwd)
    builddir="$here/build"
fi
setup="$builddir/bench/transport-setup"
cost="$builddir/bench/srtp-cost"
for b in "$setup" "$cost"; do
    if [ ! -x "$b" ]; then
        echo "run-transport-bench.sh: $b not built (ninja -C $builddir)" >&2
        exit 2
    fi
done

out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(uname -srm)"

set +e
"$setup" -n "$runs" >"$out"
rc=$?
set -e
if [ $rc -eq 77 ]; then
    echo "transport-setup: skipped (GStreamer webrtcbin or its elements missing)"
elif [ $rc -ne 0 ]; then
    cat "$out"
    echo "run-transport-bench.sh: transport-setup failed ($rc)" >&2
    exit 1
else
    awk '
    function v(k,   i, a) { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) return a[2] } return "" }
    $1 == "setup" && $2 == "ours" { om = v("median_ms"); o90 = v("p90_ms"); oi = v("ice_median_ms"); n = v("n") }
    $1 == "setup" && $2 == "webrtcbin" { wm = v("median_ms"); w90 = v("p90_ms"); wi = v("ice_median_ms") }
    $1 == "setup" && $2 ~ /^ratio=/ { split($2, a, "="); ratio = a[2] }
    END {
        printf "\nOffer -> DTLS connected, loopback, %s runs each (ms)\n", n
        printf "%-24s %8s %8s %14s\n", "", "median", "p90", "ICE (median)"
        printf "%-24s %8s %8s %14s\n", "libvid transport", om, o90, oi
        printf "%-24s %8s %8s %14s\n", "webrtcbin <-> webrtcbin", wm, w90, wi
        printf "ours / webrtcbin: %s  (target: median <= 60 ms: %s; <= 0.5x: %s)\n",
            ratio, (om + 0 <= 60 ? "met" : "MISSED"), (ratio + 0 <= 0.5 ? "met" : "MISSED")
    }' "$out"
fi

if [ $quick -eq 1 ]; then
    "$cost" --quick >"$out"
else
    "$cost" >"$out"
fi
awk '
function v(k,   i, a) { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) return a[2] } return "" }
BEGIN {
    printf "\nSRTP protect + unprotect per RTP packet (thread CPU ns, min of per-rep medians)\n"
    printf "%-24s %6s %10s %10s %7s %s\n", "profile", "bytes", "ours", "libsrtp2", "ratio", "(<= 1.2x)"
}
$1 == "srtp" {
    r = v("ratio")
    printf "%-24s %6s %10s %10s %7s %s\n", $2, $3, v("ours_ns"), v("raw_ns"), r, (r + 0 <= 1.2 ? "met" : "MISSED")
}' "$out"
