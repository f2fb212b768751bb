#!/usr/bin/env bash
# Load, live pages and soak against a release build of deskhost, signed in.
# Results and how to read them: BENCHMARKS.md.
#
#   bash bench/load.sh load    # wrk at 50 and 200 connections on the home page
#   bash bench/load.sh live    # 1,000 supervisors' live pages held 60 s: memory per page
#   bash bench/load.sh soak    # 10 minutes of load with 200 live pages open
#
# Needs wrk (Debian: apt-get install wrk) and curl. Starts its own server
# on 127.0.0.1:$PORT with a fresh data dir and the embedded defaults, signs
# in as supervisor@example.com like a browser does (CSRF token from each
# form, the station step with desktop telephony), and checks that the
# cookie really gets the home page before measuring.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-load}
PORT=${PORT:-18181}
BASE="http://127.0.0.1:$PORT"
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }

cargo build --release -q -p deskhost --bin deskhost
cargo build --release -q -p deskhost-e2e --example live_pages
BIN=target/release/deskhost
LIVE=target/release/examples/live_pages

case "$mode" in
  live) pages=1000 ;;
  soak) pages=200 ;;
  *) pages=0 ;;
esac
data=$(mktemp -d)
# The test accounts (the demo ones among them), plus one supervisor per
# live page (load1@example.com...).
"$LIVE" accounts "$pages" > "$data/host.toml"
ulimit -n 16384
RUST_LOG=warn "$BIN" --config "$data/host.toml" --data-dir "$data" serve --listen "127.0.0.1:$PORT" > "$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2> /dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -fs "$BASE/healthz" > /dev/null && break
  sleep 0.1
done
curl -fs "$BASE/healthz" > /dev/null || { echo "the server did not start:" >&2; cat "$data/server.log" >&2; exit 1; }

jar="$data/cookies"
# The CSRF token of the form on the page at $1.
csrf() { curl -fs -b "$jar" -c "$jar" "$BASE$1" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1; }
post() { curl -fs -o /dev/null -w '%{redirect_url}' -b "$jar" -c "$jar" "$BASE$1" "${@:2}"; }

token=$(csrf /sign-in)
post /sign-in/email --data-urlencode "csrf=$token" --data-urlencode email=supervisor@example.com > /dev/null
token=$(csrf /sign-in)
post /sign-in/password --data-urlencode "csrf=$token" --data-urlencode password=deskhost-demo > /dev/null
token=$(csrf /station)
next=$(post /station --data-urlencode "csrf=$token" -d telephony=desktop -d microphone=granted -d e911=on)
[ "$next" = "$BASE/" ] || { echo "sign-in did not reach the desktop (station answered $next)" >&2; exit 1; }
cookie=$(awk '$6 ~ /deskhost_session$/ { print $6 "=" $7 }' "$jar")
home=$(curl -fs -H "Cookie: $cookie" "$BASE/")
grep -q 'class="tile' <<< "$home" || { echo "the cookie does not get the home page" >&2; exit 1; }
echo "signed in; home page: $(wc -c <<< "$home") bytes"

# Requests to the home page by status, from the host's own metrics.
home_statuses() { curl -fs "$BASE/metrics" | grep '^deskhost_http_requests_total{' | grep 'route="/"' || true; }
rss() { awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$pid/status"; }

case "$mode" in
  load)
    for c in 50 200; do
      echo "--- wrk, $c connections, signed-in home page"
      wrk -t2 -c"$c" -d10s --latency -H "Cookie: $cookie" "$BASE/"
    done
    echo "--- home page requests by status (host metrics)"
    home_statuses
    echo "server RSS after load: $(rss)"
    ;;
  live)
    "$LIVE" run "127.0.0.1:$PORT" "$pid" "$pages" 60 20
    ;;
  soak)
    echo "server RSS at start: $(rss)"
    "$LIVE" run "127.0.0.1:$PORT" "$pid" "$pages" 620 60 &
    live=$!
    # Load starts once the pages are open (sign-ins take a while).
    until [ "$(curl -fs "$BASE/metrics" | awk '/^deskhost_live_connections / { print $2 }')" = "$pages" ]; do
      kill -0 "$live" 2> /dev/null || { echo "live_pages stopped before its pages were open" >&2; exit 1; }
      sleep 1
    done
    wrk -t1 -c20 -d600s --latency -H "Cookie: $cookie" "$BASE/"
    wait "$live"
    echo "--- home page requests by status (host metrics)"
    home_statuses
    ;;
  *)
    echo "usage: bench/load.sh load|live|soak" >&2
    exit 2
    ;;
esac
