#!/usr/bin/env bash
# Timing truth: does sonde time a request as curl does? A loopback server (python3, standard library)
# reads each request, waits exactly WAIT_MS (200) ms, then answers a small 200 (Content-Length,
# Connection: close) and records its own wait. ROUNDS (30) interleaved rounds of
# `sonde check --json` on a one-entry script and `curl -w` on the same URL; the order alternates.
# Goal (issue 6): median difference sonde - curl < 0.5 ms for time to first byte and for total.
#
# Usage: bash bench/timing.sh           prints the table and writes it to bench/results-timing.md
# Env:   ROUNDS (30), WAIT_MS (200), SONDE_BIN (.build/release/sonde), RESULTS (bench/results-timing.md)
#
# Like with like. Both are libcurl timers from the start of the transfer. curl: time_starttransfer
# (first byte, cumulative) and time_total. sonde's steps are phases (docs/data-format.md):
# dns, connect, tls, ttfb = first byte - request ready (pretransfer), transfer = total - first byte,
# total. So sonde's cumulative first byte = total - transfer (exact, both rounded to the µs); the
# sum dns + connect + tls + ttfb leaves out the small connect-to-pretransfer gap and is shown apart.
# sonde's `ttfb` phase (the server's time) is compared with the wait the server measured itself.
# Installs what is missing (python3, curl, jq) with apt-get. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-30}
WAIT_MS=${WAIT_MS:-200}
BIN=${SONDE_BIN:-.build/release/sonde}
RESULTS=${RESULTS:-bench/results-timing.md}
GOAL_MS=0.5

BENCH_NAME=timing
# shellcheck source=bench/lib.sh
. bench/lib.sh

case ${1:-} in
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument $1 (usage: bash bench/timing.sh)" ;;
esac
[ -x "$BIN" ] || die "no sonde binary at $BIN: build first (make build) or set SONDE_BIN"
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
install_missing "${missing[@]}"

T=$(mktemp -d /tmp/sonde-timing.XXXXXX)
SERVER_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The server: one connection at a time. The wait runs from the end of the request's header (the
# last byte read) to the first byte of the answer handed to send(): a sleep to 1 ms before the
# target, then a spin on the monotonic clock. Each wait goes to waits.txt in ms.
cat > "$T/server.py" <<'EOF'
import os, socket, sys, time
wait_s = float(sys.argv[1]) / 1000
port_file, waits_file = sys.argv[2], sys.argv[3]
body = b"ok\n"
answer = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
          % len(body)) + body
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
log = open(waits_file, "a", buffering=1)
while True:
    conn, _ = server.accept()
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        if b"\r\n\r\n" not in data:
            continue
        start = time.perf_counter()
        until = start + wait_s
        if wait_s > 0.002:
            time.sleep(wait_s - 0.001)
        while time.perf_counter() < until:
            pass
        waited = time.perf_counter() - start
        conn.sendall(answer)
        log.write("%.3f\n" % (waited * 1000))
        conn.shutdown(socket.SHUT_WR)
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass
    finally:
        conn.close()
EOF
python3 "$T/server.py" "$WAIT_MS" "$T/port" "$T/waits.txt" 2>"$T/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { cat "$T/server.log" >&2; die "the server did not start"; }
URL="http://127.0.0.1:$(cat "$T/port")/slow"
printf 'GET %s\nHTTP 200\n' "$URL" > "$T/one.hurl"
say "server $SERVER_PID on $URL (waits $WAIT_MS ms); load average $(cut -d' ' -f1-3 /proc/loadavg)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

sonde_once() {  # prints "first_byte total ttfb_phase phase_sum" in ms
  "$BIN" check --json "$T/one.hurl" > "$T/sonde.json" || die "sonde check failed: $(cat "$T/sonde.json")"
  jq -r 'select(.ok == true) | .steps[0] | select(.status == 200)
         | "\(.total - .transfer) \(.total) \(.ttfb) \(.dns + .connect + .tls + .ttfb)"' "$T/sonde.json" \
    | grep . || die "sonde: no good step in $(cat "$T/sonde.json")"
}
curl_once() {  # prints "first_byte total connect pretransfer" in ms
  curl -sS -o /dev/null -w '%{http_code} %{time_starttransfer} %{time_total} %{time_connect} %{time_pretransfer}\n' "$URL" \
    | awk '$1 != 200 { exit 1 } { printf "%.3f %.3f %.3f %.3f\n", 1000 * $2, 1000 * $3, 1000 * $4, 1000 * $5 }' || die "curl failed"
}

sonde_once >/dev/null; curl_once >/dev/null   # warm-up (page cache, first connection), not counted
: > "$T/waits.txt"
: > "$T/rounds"
say "$ROUNDS interleaved rounds (each ≥ $WAIT_MS ms)"
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then s=$(sonde_once); c=$(curl_once)
  else c=$(curl_once); s=$(sonde_once); fi
  echo "$s $c" >> "$T/rounds"   # s_fb s_total s_ttfb s_sum c_fb c_total c_connect c_pretransfer
done
[ "$(wc -l < "$T/waits.txt")" -eq $((2 * ROUNDS)) ] \
  || die "the server saw $(wc -l < "$T/waits.txt") requests, expected $((2 * ROUNDS))"
# Not in the goal: the first request of a `sonde check` process against the later ones. The same
# URL three times in one script (a new connection each: the server closes it), EXTRA_RUNS times.
EXTRA_RUNS=${EXTRA_RUNS:-5}
printf 'GET %s\nHTTP 200\n' "$URL" "$URL" "$URL" > "$T/three.hurl"
: > "$T/three"
for ((r = 1; r <= EXTRA_RUNS; r++)); do
  "$BIN" check --json "$T/three.hurl" > "$T/three.json" || die "sonde check (three entries) failed"
  jq -r '[.steps[] | .transfer, .total] | map(tostring) | join(" ")' "$T/three.json" >> "$T/three"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$T/rounds" "$T/waits.txt" "$ROUNDS" "$WAIT_MS" "$GOAL_MS" "$T/three" > "$T/table.md" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
waits = [float(x) for x in open(sys.argv[2]) if x.strip()]
rounds, wait_ms, goal = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
three = [list(map(float, line.split())) for line in open(sys.argv[6]) if line.strip()]
med = statistics.median
col = lambda i: [r[i] for r in rows]
s_fb, s_total, s_ttfb, s_sum, c_fb, c_total, c_connect, c_pre = (col(i) for i in range(8))
c_ttfb = [a - b for a, b in zip(c_fb, c_pre)]
c_transfer = [a - b for a, b in zip(c_total, c_fb)]
s_transfer = [a - b for a, b in zip(s_total, s_fb)]
def line(name, s, c):
    d = [a - b for a, b in zip(s, c)]
    dm, pm = med(s) - med(c), med(d)
    ok = abs(dm) < goal and abs(pm) < goal
    print(f"| {name} | {med(s):.3f} | {med(c):.3f} | {dm:+.3f} | {pm:+.3f} ({min(d):+.3f} to {max(d):+.3f}) | "
          f"< {goal} ms: {'**met**' if ok else '**not met**'} |")
    return ok
print("| figure (ms) | sonde median | curl median | difference of medians | paired difference per round: median (min to max) | goal |")
print("| --- | --- | --- | --- | --- | --- |")
ok1 = line("first byte, cumulative (sonde `total − transfer`, curl `time_starttransfer`)", s_fb, c_fb)
ok2 = line("total (sonde `total`, curl `time_total`)", s_total, c_total)
print()
print("| other figures (ms) | median | min | max |")
print("| --- | --- | --- | --- |")
for name, v in [(f"server's own wait, request read → answer sent ({len(waits)} requests)", waits),
                ("sonde `ttfb` phase (first byte − request ready)", s_ttfb),
                ("sonde dns + connect + tls + ttfb (phase sum)", s_sum),
                ("sonde (total − transfer) − phase sum: connect → request ready, in no phase", [a - b for a, b in zip(s_fb, s_sum)]),
                ("curl `time_connect`", c_connect)]:
    print(f"| {name} | {med(v):.3f} | {min(v):.3f} | {max(v):.3f} |")
print(f"| sonde `ttfb` median − server wait median (loopback, send and receive) | {med(s_ttfb) - med(waits):+.3f} | | |")
print(f"| curl's same phase: time_starttransfer − time_pretransfer | {med(c_ttfb):.3f} | {min(c_ttfb):.3f} | {max(c_ttfb):.3f} |")
print(f"| sonde `transfer` (total − first byte) | {med(s_transfer):.3f} | {min(s_transfer):.3f} | {max(s_transfer):.3f} |")
print(f"| curl time_total − time_starttransfer | {med(c_transfer):.3f} | {min(c_transfer):.3f} | {max(c_transfer):.3f} |")
if three:
    t1, t2, t3 = ([r[2 * i] for r in three] for i in range(3))
    print(f"| sonde `transfer` in a three-entry script ({len(three)} processes): entry 1 / 2 / 3 medians | "
          f"{med(t1):.3f} / {med(t2):.3f} / {med(t3):.3f} | | |")
print()
verdict = "met" if ok1 and ok2 else "not met"
print(f"Goal (|median difference| < {goal} ms for first byte and total, both as a difference of medians and as the "
      f"median of paired differences): **{verdict}**.")
if three:
    print()
    text = (f"`transfer` (last byte − first byte): sonde {med(s_transfer):.3f} ms in a one-entry `sonde check`, curl "
            f"{med(c_transfer):.3f} ms; in a three-entry script sonde's is {med(t1):.3f} ms for the first request of the "
            f"process and {med(t2):.3f} / {med(t3):.3f} ms for the next ones (each on a new connection).")
    if med(t1) - med(t2) > 0.1:
        text += (" The first request of a fresh process pays one-time costs inside libcurl's timed window (the first "
                 "calls of sonde's header and body callbacks: lazy symbol binding, Swift runtime metadata, first "
                 "allocations), which the daemon pays once, at its first run.")
    print(text)
PY

{
  echo "## Timing truth: \`sonde check\` vs \`curl\` against a server that waits ${WAIT_MS} ms — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "\`bash bench/timing.sh\` (ROUNDS=$ROUNDS WAIT_MS=$WAIT_MS) — sonde $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources 2>/dev/null || echo '+changes')," \
       "$(curl --version | head -1 | cut -d' ' -f1-2), $(python3 --version), $(nproc) CPUs, Linux $(uname -r)," \
       "load average before / after $LOAD_BEFORE / $LOAD_AFTER (a shared machine)."
  echo "Server: python3 standard library on loopback, one connection at a time; it reads the request, waits ${WAIT_MS} ms" \
       "(sleep, then a spin on the monotonic clock), answers \`200\` with \`Content-Length: 3\` and \`Connection: close\`." \
       "Each round runs \`sonde check --json\` on a one-entry script and \`curl -s -o /dev/null -w '%{time_connect} %{time_starttransfer} %{time_total}'\`" \
       "on the same URL, in alternating order; one warm-up of each is not counted. Both time with libcurl's timers from the start of the transfer" \
       "(process start-up is outside). sonde's steps hold phases: its cumulative first byte is \`total − transfer\`."
  echo
  cat "$T/table.md"
} > "$T/results.md"
cat "$T/results.md"
cp "$T/results.md" "$RESULTS"
say "written to $RESULTS"
