#!/usr/bin/env bash
# Timeout precision: how soon after its limit does a run against a server that never answers end?
# A loopback server (python3, standard library) accepts connections and never says a word. ROUNDS
# (10) processes of `sonde check --json` run four checks side by side against it: `max-time: 500ms`
# and `@timeout 400ms` over HTTP, `connect-timeout: 1200ms` and `max-time: 1s` over HTTPS (the TLS
# handshake never starts). Each run's `ms` (sonde's monotonic clock) against its limit gives the
# lateness. Goal: never before the limit, and at most 250 ms after it on an idle machine.
#
# The tests (CLITests, FaultsHostileTargetTests) check that such a run fails as `timeout`, not
# before its limit and long before the 10 s default deadline; how closely it follows the limit is
# a property of an idle machine, measured here.
#
# Usage: bash bench/timeouts.sh           prints the table and writes it to bench/results-timeouts.md
# Env:   ROUNDS (10), SONDE_BIN (.build/release/sonde), RESULTS (bench/results-timeouts.md)
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-10}
BIN=${SONDE_BIN:-.build/release/sonde}
RESULTS=${RESULTS:-bench/results-timeouts.md}
GOAL_MS=250

BENCH_NAME=timeouts
# shellcheck source=bench/lib.sh
. bench/lib.sh

case ${1:-} in
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument $1 (usage: bash bench/timeouts.sh)" ;;
esac
[ -x "$BIN" ] || die "no sonde binary at $BIN: build first (make build) or set SONDE_BIN"
command -v python3 >/dev/null || install_missing python3

WORK=$(mktemp -d)
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT

# The silent server: port 0, the kernel's pick, written to a file once it listens.
python3 - "$WORK/port" <<'PY' &
import socket, sys, threading
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(512)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
def drain(conn):
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass
    conn.close()
while True:
    conn, _ = server.accept()
    held.append(conn)
    threading.Thread(target=drain, args=(conn,), daemon=True).start()
PY
SERVER=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
[ -s "$WORK/port" ] || die "the silent server did not start"
PORT=$(cat "$WORK/port")

printf 'GET http://127.0.0.1:%s/max-time\n[Options]\nmax-time: 500ms\nHTTP 200\n' "$PORT" > "$WORK/max-time.hurl"
printf '# @timeout 400ms\nGET http://127.0.0.1:%s/deadline\nHTTP 200\n' "$PORT" > "$WORK/deadline.hurl"
printf 'GET https://127.0.0.1:%s/\n[Options]\nconnect-timeout: 1200ms\nHTTP 200\n' "$PORT" > "$WORK/tls-connect-timeout.hurl"
printf 'GET https://127.0.0.1:%s/\n[Options]\nmax-time: 1s\nHTTP 200\n' "$PORT" > "$WORK/tls-max-time.hurl"

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 - "$ROUNDS" "$BIN" "$WORK" "$GOAL_MS" "$COMMIT" > "$WORK/table.md" <<'PY'
import json, os, platform, statistics, subprocess, sys, time
rounds, binary, work, goal, commit = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
cases = {"max-time.hurl": ("`max-time: 500ms`, HTTP", 500.0), "deadline.hurl": ("`@timeout 400ms`, HTTP", 400.0),
         "tls-connect-timeout.hurl": ("`connect-timeout: 1200ms`, TLS handshake", 1200.0),
         "tls-max-time.hurl": ("`max-time: 1s`, TLS handshake", 1000.0)}
files = [os.path.join(work, name) for name in cases]
late = {name: [] for name in cases}
wrong = []
load = open("/proc/loadavg").read().split()[:3]
for _ in range(rounds):
    out = subprocess.run([binary, "check", "--json"] + files, capture_output=True, text=True, timeout=60).stdout
    for line in out.splitlines():
        run = json.loads(line)
        name = os.path.basename(run["file"])
        if (run.get("err") or {}).get("kind") != "timeout":
            wrong.append(f"{name}: {run.get('err')}")
        late[name].append(run["ms"] - cases[name][1])
worst = max(max(v) for v in late.values())
earliest = min(min(v) for v in late.values())
met = worst < goal and earliest >= 0 and not wrong
print(f"## Timeout precision: runs against a server that never answers — {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}")
print()
after = open("/proc/loadavg").read().split()[:3]
print(f"`bash bench/timeouts.sh` — sonde {commit} ({binary}), {os.cpu_count()} CPUs, Linux {platform.release()}, "
      f"load average before {' '.join(load)}, after {' '.join(after)}. {rounds} processes of `sonde check --json`, "
      "the four checks side by side in each; lateness = the run's `ms` (sonde's monotonic clock) minus its limit.")
print()
print("| check | limit ms | median late ms | max late ms | min late ms |")
print("| --- | --- | --- | --- | --- |")
for name, (label, limit) in cases.items():
    v = late[name]
    print(f"| {label} | {limit:.0f} | {statistics.median(v):.1f} | {max(v):.1f} | {min(v):.1f} |")
print()
print(f"Goal: every run fails as `timeout`, never before its limit, at most {goal:.0f} ms after it: "
      f"**{'met' if met else 'not met'}** (latest {worst:.1f} ms, earliest {earliest:.1f} ms"
      + (f"; not a timeout: {'; '.join(wrong[:3])}" if wrong else "") + ").")
PY
cat "$WORK/table.md"
cp "$WORK/table.md" "$RESULTS"
say "written to $RESULTS"
