#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run the
# main job on embedded defaults: a vid-signaling-server with a generated
# self-signed TLS certificate and an SQLite database in a state directory,
# two demo users, and a real call between two vidcall processes on
# loopback: bob answers, alice calls, both send the synthetic camera and
# microphone for about ten seconds, show their live status lines and the
# short authentication string (the same on both sides), and record what
# they receive to WebM files. Needs no camera, display or sound card.
# Environment: VID_STATE_DIR (default ./state/demo), VID_PORT (8443),
# VID_ADMIN_PORT (9091), VID_DEMO_SECONDS (10).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=setup.sh
. "$top/scripts/setup.sh"

install_packages "${VID_PACKAGES[@]}"
build_dir=${VID_BUILD_DIR:-$top/build}
build "$build_dir"

server="$build_dir/signaling-server/vid-signaling-server"
vidcall="$build_dir/examples/vidcall"
state=${VID_STATE_DIR:-$top/state/demo}
port=${VID_PORT:-8443}
admin_port=${VID_ADMIN_PORT:-9091}
mkdir -p "$state"
chmod 700 "$state"
conf="$state/demo.conf"
cat >"$conf" <<CONF
# Written by scripts/demo.sh; see signaling-server/vid-signaling-server.conf.example
[server]
listen = 127.0.0.1
port = $port
state_dir = $state
[admin]
port = $admin_port
CONF

srv_pid=
bob_pid=
cleanup() {
    for pid in $bob_pid $srv_pid; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
}
trap cleanup EXIT INT TERM

# Demo accounts: random passwords kept in the state dir (mode 0600).
for u in alice bob; do
    pwfile="$state/$u.password"
    if [ ! -s "$pwfile" ]; then
        (umask 077 && head -c 18 /dev/urandom | base64 >"$pwfile")
    fi
    if "$server" --config "$conf" user list 2>/dev/null | cut -f1 | grep -qx "$u"; then
        "$server" --config "$conf" user passwd "$u" <"$pwfile" >/dev/null
    else
        "$server" --config "$conf" user add "$u" <"$pwfile" >/dev/null
    fi
done
echo "demo: users alice and bob (passwords in $state/*.password)"

log="$state/server.log"
"$server" --config "$conf" >"$log" 2>&1 &
srv_pid=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$log" && break
    if ! kill -0 "$srv_pid" 2>/dev/null; then
        echo "demo: the server did not start:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
grep -m1 'listening on' "$log"

url="wss://localhost:$port/"
seconds=${VID_DEMO_SECONDS:-10}
# Media on loopback only (--local-addresses): the demo needs no network.
common=(--server "$url" --ca-file "$state/cert.pem" --synthetic --no-window
    --local-addresses 127.0.0.1)
rm -f "$state"/alice-received.webm "$state"/bob-received.webm \
    "$state"/alice.log "$state"/bob.log

# vidcall's options for user $1; its output is kept in $state/$1.log and
# shown with the user's name in front of each line (see show).
args_for() {
    args=("${common[@]}" --user "$1" --password-file "$state/$1.password"
        --state-dir "$state/$1" --record "$state/$1-received.webm")
}
show() { tee "$state/$1.log" | sed -u "s/^/[$1] /"; }

# bob answers the next call; his --duration is a safety net: alice hangs
# up first and bob sees her hang up.
args_for bob
"$vidcall" "${args[@]}" --device-name desk --duration $((seconds + 5)) \
    answer > >(show bob) 2>&1 &
bob_pid=$!
for _ in $(seq 200); do
    grep -q 'waiting for a call' "$state/bob.log" 2>/dev/null && break
    if ! kill -0 "$bob_pid" 2>/dev/null; then
        echo "demo: bob's vidcall stopped early" >&2
        exit 1
    fi
    sleep 0.1
done

alice_status=0
args_for alice
"$vidcall" "${args[@]}" --device-name laptop --duration "$seconds" \
    call bob > >(show alice) 2>&1 || alice_status=$?
bob_status=0
wait "$bob_pid" || bob_status=$?
bob_pid=
sleep 0.3 # let the last prefixed lines through

echo
if [ "$alice_status" -ne 0 ] || [ "$bob_status" -ne 0 ]; then
    echo "demo: the call failed (alice exit $alice_status, bob exit $bob_status;" \
        "see 'vidcall --help' for the exit codes and $state/*.log)" >&2
    exit 1
fi
sas() { grep -o 'Compare with your peer: [0-9]\{3\} [0-9]\{3\}' "$1" | head -n1 | cut -d: -f2; }
alice_sas=$(sas "$state/alice.log")
bob_sas=$(sas "$state/bob.log")
echo "demo: short authentication string: alice saw$alice_sas, bob saw$bob_sas"
if [ -n "$alice_sas" ] && [ "$alice_sas" = "$bob_sas" ]; then
    echo "demo: they match: nobody sat between alice and bob."
else
    echo "demo: they DO NOT match" >&2
    exit 1
fi
for u in alice bob; do
    f="$state/$u-received.webm"
    echo "demo: $u received $(stat -c %s "$f" 2>/dev/null || echo 0) bytes: $f"
done
echo "demo: play one with: gst-play-1.0 $state/alice-received.webm"
