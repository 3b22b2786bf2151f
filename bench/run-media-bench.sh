#!/bin/sh
# run-media-bench.sh — the media benchmarks of issue 4, as a table
# (bench/media-call.c):
#   1. capture-to-render delay p50/p95 of our two-session call, 640x480@30
#      on loopback, measured at the decoded-frame callback;
#   2. CPU seconds per minute of call per side, ours versus a
#      webrtcbin<->webrtcbin call with the same sources and settings;
#   3. VP8 1280x720@30 encoding on one core.
# Usage: bench/run-media-bench.sh [--quick] [--builddir DIR] [-t SECONDS]
# Targets (issue 4): p50 <= 40 ms, p95 <= 70 ms; CPU <= 0.6x webrtcbin;
# 720p30 encode >= 30 fps of CPU. Prints "target met"/"target MISSED";
# the exit status only reflects whether the benchmarks ran.
set -eu

builddir=""
secs=10
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) secs=3 ;;
    --builddir) builddir="$2"; shift ;;
    -t) secs="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run-media-bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "$builddir" ]; then
    here=$(cd "$(dirname "$0")/.." && pwd)
    builddir="$here/build"
fi
call="$builddir/bench/media-call"
if [ ! -x "$call" ]; then
    echo "run-media-bench.sh: $call not built (ninja -C $builddir)" >&2
    exit 2
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(uname -srm); each call ${secs} s after a 1 s warm-up"

set +e
"$call" -t "$secs" --threads >"$out"
grep "^# threads" "$out" || true
rc=$?
set -e
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    cat "$out"
    echo "run-media-bench.sh: media-call failed ($rc)" >&2
    exit 1
fi
[ $rc -eq 77 ] && echo "# webrtcbin or one of its elements missing: no comparison"

awk '
function v(k,   i, a) { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) return a[2] } return "" }
function verdict(ok) { return ok ? "target met" : "target MISSED" }
$1 == "delay" { p50[$2] = v("p50_ms"); p95[$2] = v("p95_ms"); n[$2] = v("frames"); bad[$2] = v("unreadable") }
$1 == "cpu" && $2 == "ours" { oc = v("per_side_s_per_min"); kbps = v("kbps") }
$1 == "cpu" && $2 == "webrtcbin" { wc = v("per_side_s_per_min") }
$1 == "cpu" && $2 ~ /^ratio=/ { split($2, a, "="); ratio = a[2] }
$1 == "floor" { fl = v("per_side_s_per_min"); flv = v("video_s_per_min"); fla = v("audio_s_per_min"); flms = v("vp8_ms_per_frame") }
$1 == "encode720" { ms = v("ms_per_frame"); fps = v("fps_cpu"); worst = v("worst_ms"); rt = v("realtime"); cu = v("cpu_used") }
END {
    printf "%-52s %-22s %-22s %s\n", "benchmark", "ours", "webrtcbin", "verdict"
    if ("ours" in p50) {
        printf "%-52s %-22s %-22s %s\n", "capture->decoded p50, 640x480@30 loopback (ms)", p50["ours"], ("webrtcbin" in p50) ? p50["webrtcbin"] : "-", verdict(p50["ours"] <= 40)
        printf "%-52s %-22s %-22s %s\n", "capture->decoded p95 (ms)", p95["ours"], ("webrtcbin" in p95) ? p95["webrtcbin"] : "-", verdict(p95["ours"] <= 70)
        printf "%-52s %-22s %-22s\n", "frames measured (stamp unreadable)", n["ours"] " (" bad["ours"] ")", ("webrtcbin" in n) ? n["webrtcbin"] " (" bad["webrtcbin"] ")" : "-"
    }
    if (oc != "")
        printf "%-52s %-22s %-22s %s\n", "CPU s per minute per side (VP8 " kbps " kbit/s)", oc, (wc != "") ? wc : "-", (ratio != "") ? "ratio " ratio ", " verdict(ratio <= 0.6) : "-"
    if (fl != "") {
        printf "%-52s %-22s %-22s %s\n", "  codec work alone per side (same for both)", fl, fl, "VP8 " flv " + Opus " fla "; " flms " ms/frame"
        printf "%-52s %-22s %-22s %s\n", "  CPU above the codec work", sprintf("%.2f", oc - fl), (wc != "") ? sprintf("%.2f", wc - fl) : "-", (wc != "" && wc - fl > 0) ? sprintf("ratio %.3f", (oc - fl) / (wc - fl)) : ""
    }
    if (ms != "")
        printf "%-52s %-22s %-22s %s\n", "VP8 1280x720 encode, one core (cpu-used " cu ")", ms " ms/frame = " fps " fps", "-", "worst " worst " ms; " verdict(rt == "yes")
}' "$out"
