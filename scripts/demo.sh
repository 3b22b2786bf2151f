#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run the
# main job on embedded defaults: a vid-signaling-server with a generated
# self-signed TLS certificate and an SQLite database in a state directory,
# two demo users, and two vidcall clients on loopback that log in and see
# each other online.
# Environment: VID_STATE_DIR (default ./state/demo), VID_PORT (8443),
# VID_ADMIN_PORT (9091).
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
cleanup() {
    if [ -n "$srv_pid" ] && kill -0 "$srv_pid" 2>/dev/null; then
        kill -TERM "$srv_pid"
        wait "$srv_pid" || true
    fi
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
common=(--server "$url" --ca-file "$state/cert.pem")
"$vidcall" "${common[@]}" --user bob --password-file "$state/bob.password" \
    --state-dir "$state/bob" --device desk --linger 3 online alice --timeout 20 &
bob_pid=$!
"$vidcall" "${common[@]}" --user alice --password-file "$state/alice.password" \
    --state-dir "$state/alice" --device laptop --linger 3 online bob --timeout 20
wait "$bob_pid"
echo "demo: both clients logged in and saw each other online."
echo "demo: metrics: $(curl -s "http://127.0.0.1:$admin_port/metrics" 2>/dev/null |
    grep -E '^vid_logins_total' | tr '\n' ' ')"
