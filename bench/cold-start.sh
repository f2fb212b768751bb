#!/usr/bin/env bash
# Cold start of a release build: the time from exec to the first line
# `deskhost serve` prints (it prints once it is listening, every plugin
# loaded), five times with a fresh data dir (every component compiled) and
# five times with the same one (compiled code read from its cache).
# Results: BENCHMARKS.md.
#
#   bash bench/cold-start.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -q -p deskhost --bin deskhost
BIN=target/release/deskhost
# The test plugins the build laid out, next to the embedded ones.
plugins=$(ls -td target/release/build/deskhost-*/out/test-plugins | head -1)
count=$(( $(ls "$plugins" | wc -l) + 10 ))
echo "plugins: 10 embedded + $((count - 10)) from $plugins"

python3 - "$BIN" "$plugins" <<'EOF'
import subprocess, sys, tempfile, time, statistics

bin, plugins = sys.argv[1], sys.argv[2]

def start(data):
    t = time.perf_counter()
    p = subprocess.Popen(
        [bin, "--data-dir", data, "--plugins", plugins, "serve", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={"RUST_LOG": "warn", "NO_COLOR": "1"},
    )
    line = p.stdout.readline()
    ms = (time.perf_counter() - t) * 1000
    p.terminate()
    p.wait()
    if not line:
        sys.exit("the server printed nothing: it did not start")
    return ms

uncached = []
for _ in range(5):
    with tempfile.TemporaryDirectory() as d:
        uncached.append(start(d))
with tempfile.TemporaryDirectory() as d:
    start(d)
    cached = [start(d) for _ in range(5)]
for name, runs in (("uncached", uncached), ("cached", cached)):
    print(f"{name:9} runs (ms): {', '.join(f'{r:.0f}' for r in runs)}; median {statistics.median(runs):.0f} ms")
EOF
