#!/usr/bin/env bash
# Start-up benchmark: `sonde check` on a one-entry script vs `curl` fetching the same loopback URL.
# Both are timed side by side, interleaved, ROUNDS times each; medians and their ratio are printed.
# Usage: bash bench/startup.sh [ROUNDS]   (make bench builds the release binary first)
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
  URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$WORK/server.log" | head -1)
  [ -n "$URL" ] && break
  sleep 0.05
done
[ -n "$URL" ] || { echo "demo server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }

printf 'GET %s/health\nHTTP 200\n' "$URL" > "$WORK/one.hurl"
"$BIN" check "$WORK/one.hurl" >/dev/null   # warm the page cache
curl -fsS -o /dev/null "$URL/health"

python3 - "$ROUNDS" "$BIN" "$WORK/one.hurl" "$URL/health" <<'PY'
import statistics, subprocess, sys, time
rounds, binary, script, url = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
commands = {
    "sonde check": [binary, "check", script],
    "curl": ["curl", "-fsS", "-o", "/dev/null", url],
}
times = {name: [] for name in commands}
for _ in range(rounds):
    for name, argv in commands.items():
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[name].append((time.perf_counter() - start) * 1000)
med = {name: statistics.median(v) for name, v in times.items()}
print(f"start-up, {rounds} runs each, interleaved (wall time, ms)")
print(f"{'command':<14} {'median':>8} {'min':>8} {'max':>8}")
for name, v in times.items():
    print(f"{name:<14} {med[name]:8.2f} {min(v):8.2f} {max(v):8.2f}")
print(f"ratio sonde/curl (medians): {med['sonde check'] / med['curl']:.2f}")
PY
