#!/usr/bin/env bash
# Start-up benchmark: `sonde check` on a one-entry script vs `curl` fetching the same loopback URL.
# Both are timed side by side, interleaved, ROUNDS times each; medians and their ratio are printed.
# Usage: bash bench/startup.sh [ROUNDS]   (make bench builds the release binary first); the table goes
#        to bench/results-startup.md
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-20}
BIN=${SONDE_BIN:-.build/release/sonde}
[ -x "$BIN" ] || { echo "build first: make build" >&2; exit 1; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }

WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$BIN" demo --serve --port 0 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do
  URL=$(grep -o 'http://127[.]0[.]0[.]1:[0-9]*' "$WORK/server.log" | head -1 || true)
  [ -n "$URL" ] && break
  sleep 0.05
done
[ -n "$URL" ] || { echo "demo server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }

printf 'GET %s/health\nHTTP 200\n' "$URL" > "$WORK/one.hurl"
"$BIN" check "$WORK/one.hurl" >/dev/null   # warm the page cache
curl -fsS -o /dev/null "$URL/health"

python3 - "$ROUNDS" "$BIN" "$WORK/one.hurl" "$URL/health" > "$WORK/table.md" <<'PY'
import os, platform, resource, statistics, subprocess, sys, time
rounds, binary, script, url = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
commands = {
    "sonde check": [binary, "check", script],
    "curl": ["curl", "-fsS", "-o", "/dev/null", url],
}
times = {name: [] for name in commands}
cpu = {name: [] for name in commands}
for _ in range(rounds):
    for name, argv in commands.items():
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[name].append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[name].append(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000)
med = {name: statistics.median(v) for name, v in times.items()}
mcpu = {name: statistics.median(v) for name, v in cpu.items()}
curl_v = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
load = open("/proc/loadavg").read().split()[:3]
print(f"## Start-up: `sonde check` on a one-entry script vs `curl` — {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}")
print()
print(f"`bash bench/startup.sh {rounds}` — {os.cpu_count()} CPUs, Linux {platform.release()}, {curl_v.split(' (')[0]}, "
      f"load average before {' '.join(load)}. Both fetch `/health` of the sample shop on loopback, "
      f"{rounds} interleaved rounds, each a new process; wall time from spawn to exit, CPU = user + system of the child.")
print()
print("| command | median wall ms | min | max | median CPU ms |")
print("| --- | --- | --- | --- | --- |")
for name, v in times.items():
    print(f"| {name} | {med[name]:.2f} | {min(v):.2f} | {max(v):.2f} | {mcpu[name]:.1f} |")
print(f"| **ratio sonde / curl** | **{med['sonde check'] / med['curl']:.2f}** | | | {mcpu['sonde check'] / max(mcpu['curl'], 0.001):.2f} |")
print()
print(f"No goal is set for start-up. sonde takes {med['sonde check'] - med['curl']:.1f} ms more than curl: loading "
      "Foundation and the Swift runtime and starting the engine thread before the first request, which the daemon pays once.")
PY
cat "$WORK/table.md"
cp "$WORK/table.md" bench/results-startup.md
echo "written to bench/results-startup.md" >&2
