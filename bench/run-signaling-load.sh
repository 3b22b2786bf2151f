#!/usr/bin/env bash
# run-signaling-load.sh — the signaling benchmark of docs/performance.md.
#
# Runs bench/signaling-load against vid-signaling-server and then against the
# minimal Node.js `ws` relay in bench/reference/ (same routing, same TLS
# certificate, same users), three scenarios each, every scenario on a fresh
# server process:
#
#   idle      N authenticated idle TLS connections: server RSS
#   rate      N connections in N/2 calls, R call.candidate messages/s in
#             total: relay latency p50/p99, server CPU
#   saturate  M connections, every connection keeps a window of candidates
#             in flight: server CPU time per relayed message
#
# and prints one table: ours, Node, ratio (ours/Node), target.
#
# Usage: bench/run-signaling-load.sh [--quick] [--builddir DIR]
#            [--no-reference] [--write-docs] [--connections N] [--rate R]
#            [--sat-connections M] [--duration S] [--hold S]
#
#   --quick          200 connections, short phases (a smoke check: seconds)
#   --builddir DIR   meson build dir (default: $VID_BUILD_DIR or ./build)
#   --no-reference   do not run the Node.js relay
#   --write-docs     put the table into docs/performance.md
#   --duration S     message phases (default 10 s); --hold S: idle hold
#                    (default 40 s, longer than the 30 s ping interval)
#
# Only 127.0.0.1 is used. The bench users get cheap password hashing
# ([auth] pwhash = min) so that 10,000 logins take seconds, and the
# per-connection and per-address limits are raised; see
# docs/performance.md.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${VID_BUILD_DIR:-$top/build}
quick=0
reference=1
write_docs=0
conns=10000
rate=2000
sat_conns=1000
duration=10
hold=40
settle=2

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --builddir)
        builddir=${2:?--builddir needs a directory}
        shift
        ;;
    --no-reference) reference=0 ;;
    --write-docs) write_docs=1 ;;
    --connections)
        conns=${2:?}
        shift
        ;;
    --rate)
        rate=${2:?}
        shift
        ;;
    --sat-connections)
        sat_conns=${2:?}
        shift
        ;;
    --duration)
        duration=${2:?}
        shift
        ;;
    --hold)
        hold=${2:?}
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "run-signaling-load: unknown option $1 (see --help)" >&2
        exit 2
        ;;
    esac
    shift
done

for v in conns rate sat_conns duration hold; do
    if ! [[ ${!v} =~ ^[0-9]+$ ]] || [ "${!v}" -lt 1 ]; then
        echo "run-signaling-load: --${v//_/-} must be a positive integer" >&2
        exit 2
    fi
done

if [ "$quick" = 1 ]; then
    conns=200
    rate=500
    sat_conns=200
    duration=1
    hold=0.5
    settle=0.5
fi

load="$builddir/bench/signaling-load"
server="$builddir/signaling-server/vid-signaling-server"
relay="$top/bench/reference/relay.js"
for f in "$load" "$server"; do
    if [ ! -x "$f" ]; then
        echo "run-signaling-load: $f is missing; build first" \
            "(meson setup $builddir && ninja -C $builddir)" >&2
        exit 2
    fi
done

# File descriptors: the server and the load generator each hold one per
# connection (plus a few). Raise the soft limit as far as we may.
need=$((conns + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    echo "run-signaling-load: $conns connections need $need file" \
        "descriptors per process; ulimit -n is $(ulimit -n) (hard" \
        "$(ulimit -Hn)). Raise it or use --connections." >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vid-bench.XXXXXX")
srv_pid=
cleanup() {
    if [ -n "$srv_pid" ] && kill -0 "$srv_pid" 2>/dev/null; then
        kill -TERM "$srv_pid" 2>/dev/null || true
        wait "$srv_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "run-signaling-load: $*" >&2; }

# Ports below the ephemeral range (32768-60999) so that the load
# generator's own source ports never collide with them.
port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
pick_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 12000))
        if port_free "$p"; then
            echo "$p"
            return 0
        fi
    done
    echo "run-signaling-load: no free port found" >&2
    return 1
}

# One certificate for both servers: ECDSA P-256 like the server's own
# generated one, valid for localhost and 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
    -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
chmod 600 "$work/key.pem"

# Users bench0..bench<N-1>, one password (plain file for the Node relay,
# imported with cheap hashing into our server's SQLite database).
password=bench-password
maxn=$((conns > sat_conns ? conns : sat_conns))
awk -v n="$maxn" -v pw="$password" \
    'BEGIN { for (i = 0; i < n; i++) printf "bench%d %s\n", i, pw }' \
    >"$work/users.txt"

state="$work/state"
mkdir -m 700 "$state"
cat >"$work/bench.conf" <<EOF
# vid-signaling-server settings for the benchmark only.
[server]
listen = 127.0.0.1
state_dir = $state
cert = $work/cert.pem
key = $work/key.pem
max_connections = $((maxn + 1000))
max_connections_per_address = $((maxn + 1000))
login_timeout = 60
max_queue_kib = 4096
# ping_interval and idle_timeout keep their defaults (30 s / 90 s): the
# idle hold lasts longer than one ping interval, so keepalive work counts.

[admin]
port = 0

[auth]
# Cheap Argon2id parameters (crypto_pwhash OPSLIMIT_MIN/MEMLIMIT_MIN) so
# that thousands of logins do not take minutes. Never in production.
pwhash = min
address_max_failures = 1000000

[limits]
# The saturate scenario sends as fast as the server relays.
rate = 10000000
burst = 10000000
EOF

say "importing $maxn users (pwhash = min)"
t0=$(date +%s.%N)
if ! "$server" --config "$work/bench.conf" user import \
    <"$work/users.txt" >"$work/import.log" 2>&1; then
    say "user import failed:"
    cat "$work/import.log" >&2
    exit 1
fi
say "import took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

failures=0
node_ok=0
if [ "$reference" = 1 ]; then
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        say "node/npm not found: skipping the Node.js reference"
    else
        if [ ! -f "$top/bench/reference/node_modules/ws/package.json" ]; then
            say "installing ws from the npm registry into bench/reference"
            (cd "$top/bench/reference" && npm ci --no-audit --no-fund \
                --loglevel=error >&2) || true
        fi
        if [ -f "$top/bench/reference/node_modules/ws/package.json" ]; then
            node_ok=1
        else
            say "npm could not install ws: skipping the Node.js reference"
            failures=$((failures + 1))
        fi
    fi
fi

# start_server ours|node PORT: sets srv_pid once the server is listening.
start_server() {
    local kind=$1 port=$2 log="$work/$1-$2.log"
    if [ "$kind" = ours ]; then
        "$server" --config "$work/bench.conf" --port "$port" >"$log" 2>&1 &
    else
        node "$relay" --port "$port" --cert "$work/cert.pem" \
            --key "$work/key.pem" --users "$work/users.txt" >"$log" 2>&1 &
    fi
    srv_pid=$!
    for _ in $(seq 300); do
        grep -q 'listening on' "$log" && return 0
        if ! kill -0 "$srv_pid" 2>/dev/null; then
            say "$kind server did not start:"
            cat "$log" >&2
            srv_pid=
            return 1
        fi
        sleep 0.1
    done
    say "$kind server not listening after 30 s"
    cat "$log" >&2
    return 1
}

stop_server() {
    if [ -n "$srv_pid" ]; then
        kill -TERM "$srv_pid" 2>/dev/null || true
        wait "$srv_pid" 2>/dev/null || true
        srv_pid=
    fi
}

declare -A R

# run_scenario KIND SCENARIO ARGS...: results into R[KIND.SCENARIO.key].
run_scenario() {
    local kind=$1 sc=$2 port out rc
    shift 2
    port=$(pick_port)
    start_server "$kind" "$port" || {
        failures=$((failures + 1))
        return 0
    }
    say "$kind: $sc: $*"
    out="$work/$kind-$sc.out"
    rc=0
    timeout 900 "$load" --port "$port" --ca "$work/cert.pem" \
        --server-pid "$srv_pid" --settle "$settle" "$@" >"$out" 2>"$work/$kind-$sc.err" ||
        rc=$?
    sed 's/^/    /' "$work/$kind-$sc.err" >&2
    stop_server
    if [ "$rc" != 0 ]; then
        say "$kind: $sc: signaling-load exited with status $rc"
        failures=$((failures + 1))
    fi
    while IFS='=' read -r k v; do
        [ -n "$k" ] && R[$kind.$sc.$k]=$v
    done <"$out"
}

loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
kinds=(ours)
[ "$node_ok" = 1 ] && kinds+=(node)
for kind in "${kinds[@]}"; do
    run_scenario "$kind" idle --mode idle -n "$conns" --duration "$hold"
    run_scenario "$kind" rate --mode rate -n "$conns" --rate "$rate" \
        --duration "$duration"
    run_scenario "$kind" sat --mode saturate -n "$sat_conns" \
        --duration "$duration" --window 8
done
loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- table ----
get() { echo "${R[$1]:-}"; }
ratio() {
    if ! [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]]; then
        echo "-"
        return
    fi
    awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-";
        else printf "%.2f", a / b }'
}
mib() {
    if [ -n "$1" ]; then awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; fi
}
cpu_pct() {
    if [ -n "$1" ] && [ -n "$2" ]; then
        awk -v c="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", 100 * c / s }'
    fi
}

metric() { # kind scenario key -> value
    get "$1.$2.$3"
}

o_rss=$(mib "$(metric ours idle server_rss_after_kib)")
n_rss=$(mib "$(metric node idle server_rss_after_kib)")
o_sat=$(metric ours sat server_cpu_us_per_msg)
n_sat=$(metric node sat server_cpu_us_per_msg)
o_p99=$(metric ours rate latency_p99_ms)

rows=()
add() { # label ours node target
    local label=$1 o=$2 n=$3 t=$4
    rows+=("| $label | ${o:--} | ${n:--} | $(ratio "$o" "$n") | $t |")
}
o() { metric ours "$1" "$2"; }
nd() { metric node "$1" "$2"; }

add "idle: connections held (of $conns)" "$(o idle connections_held)" \
    "$(nd idle connections_held)" ""
add "idle: server RSS, MiB" "$o_rss" "$n_rss" "< 200"
add "idle: server RSS per connection, KiB" \
    "$(o idle server_rss_per_conn_kib)" "$(nd idle server_rss_per_conn_kib)" \
    "Node ~37"
add "idle: server CPU while holding ${hold} s, % of one core" \
    "$(cpu_pct "$(o idle server_cpu_s)" "$(o idle hold_s)")" \
    "$(cpu_pct "$(nd idle server_cpu_s)" "$(nd idle hold_s)")" ""
add "rate: connections / calls" \
    "$(o rate connections_held) / $(o rate calls)" \
    "$(nd rate connections_held) / $(nd rate calls)" ""
add "rate: messages relayed per s (asked $rate)" "$(o rate messages_per_s)" \
    "$(nd rate messages_per_s)" ""
add "rate: relay latency p50, ms" "$(o rate latency_p50_ms)" \
    "$(nd rate latency_p50_ms)" ""
add "rate: relay latency p99, ms" "$o_p99" "$(nd rate latency_p99_ms)" "< 10"
add "rate: server CPU, % of one core" \
    "$(cpu_pct "$(o rate server_cpu_s)" "$(o rate message_phase_s)")" \
    "$(cpu_pct "$(nd rate server_cpu_s)" "$(nd rate message_phase_s)")" ""
add "rate: server CPU per message, µs" "$(o rate server_cpu_us_per_msg)" \
    "$(nd rate server_cpu_us_per_msg)" ""
add "saturate ($sat_conns conns): messages relayed per s" \
    "$(o sat messages_per_s)" "$(nd sat messages_per_s)" ""
add "saturate: server CPU per message, µs" "$o_sat" "$n_sat" "≤ Node"
add "saturate: server CPU, % of one core" \
    "$(cpu_pct "$(o sat server_cpu_s)" "$(o sat message_phase_s)")" \
    "$(cpu_pct "$(nd sat server_cpu_s)" "$(nd sat message_phase_s)")" ""
add "saturate: load generator CPU, % of one core" \
    "$(cpu_pct "$(o sat client_cpu_s)" "$(o sat message_phase_s)")" \
    "$(cpu_pct "$(nd sat client_cpu_s)" "$(nd sat message_phase_s)")" ""
add "saturate: relay latency p50 / p99, ms (queueing)" \
    "$(o sat latency_p50_ms) / $(o sat latency_p99_ms)" \
    "$(nd sat latency_p50_ms) / $(nd sat latency_p99_ms)" ""

problems=0
for kind in "${kinds[@]}"; do
    for sc in idle rate sat; do
        for k in messages_lost errors misrouted unexpected \
            connections_failed connections_dropped; do
            v=$(metric "$kind" "$sc" "$k")
            if [ -n "$v" ] && [ "$v" != 0 ]; then
                say "$kind $sc: $k=$v"
                problems=$((problems + 1))
            fi
        done
    done
done

verdict() { # name ok?
    if [ "$2" = 1 ]; then echo "- $1: **met**"; else echo "- $1: **missed**"; fi
}
lt() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
le() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

held=$(o idle connections_held)
t1=0; t2=0; t3=0
[ "${held:-0}" = "$conns" ] && lt "$o_rss" 200 && t1=1
[ "$(o rate connections_held)" = "$conns" ] && lt "$o_p99" 10 && t2=1
le "$o_sat" "$n_sat" && t3=1

cores=$(nproc)
{
    echo "Measured $started on $(uname -m), $cores cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(uname -sr)."
    echo "Load average before / after the run: $loadavg_before / $loadavg_after."
    echo
    echo "| metric | vid-signaling-server | Node.js ws relay | ratio ours/Node | target |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    if [ "$quick" = 0 ]; then
        verdict "$conns idle authenticated TLS connections under 200 MiB server RSS" $t1
        verdict "p99 relay latency under 10 ms at $conns connections and $rate messages/s" $t2
        if [ "$node_ok" = 1 ]; then
            verdict "server CPU per message at $sat_conns saturated connections no higher than Node's" $t3
        fi
    fi
} >"$work/table.md"

echo
cat "$work/table.md"

if [ "$write_docs" = 1 ]; then
    doc="$top/docs/performance.md"
    if ! grep -q '<!-- bench:begin -->' "$doc" 2>/dev/null; then
        say "$doc has no <!-- bench:begin --> marker; not written"
    else
        awk -v f="$work/table.md" '
            /<!-- bench:begin -->/ { print; while ((getline l < f) > 0) print l;
                                     skip = 1; next }
            /<!-- bench:end -->/ { skip = 0 }
            !skip { print }' "$doc" >"$work/doc.md"
        cat "$work/doc.md" >"$doc"
        say "wrote the table into $doc"
    fi
fi

if [ "$failures" -gt 0 ] || [ "$problems" -gt 0 ]; then
    say "$failures scenario(s) failed, $problems problem counter(s) non-zero"
    exit 1
fi
