#!/usr/bin/env bash
# CPU per probe, side by side: sonde's daemon, the libcurl floor (bench/curl-floor.c),
# prometheus-blackbox-exporter and Nagios's check_http, all probing the same URL of one private
# nginx on loopback (GET /health, 200 "ok", a cold connection per probe for all of them). Goals:
# sonde <= 1.3 x the libcurl floor's CPU per probe at the same rate (issue 12); sonde <= 0.2 x
# blackbox's (issue 6). Also the context switches and syscalls per run of sonde and of the floor.
#
# Usage: bash bench/probe-cpu.sh        prints the tables and writes them to bench/results-probe-cpu.md
# Env:   ROUNDS (3), SONDE_BIN (.build/release/sonde), RESULTS (bench/results-probe-cpu.md),
#        CHECKS (200) checks every INTERVAL (1) s: the rate R = CHECKS / INTERVAL runs per second;
#        SECONDS_RUN (15) s measured after WARMUP (2) s, for sonde and for the floor (at R, at most
#        FLOOR_INFLIGHT (8) requests in flight); STRACE_SECONDS (5) s of `strace -c -f` on each of
#        the two after its measured window (0: no strace); BB_SECONDS (15) s of blackbox paced at
#        BB_RATE (R) probes/s, then BB_FLAT_SECONDS (10) s of wrk flat out over BB_CONNS (2)
#        connections; CHECK_HTTP_PROBES (300) sequential check_http processes.
#
# What is measured, per round (each round runs them one after the other, ROUNDS times):
#   sonde     `sonde run` on CHECKS generated checks (`@every INTERVAL`s). CPU = utime + stime of the
#             sonde process from /proc/PID/stat (all its threads), probes = run lines in its data
#             folder, counted at the same moments. Steady state: the CPU and lines added between
#             WARMUP s after the `start` log line and the end of the window (SECONDS_RUN). Raw: all
#             CPU since exec (start-up included) over all lines written by the same moment.
#             Start-up CPU (exec to the `start` log line) is shown on its own. Nothing is
#             subtracted from either figure. Context switches over the same window: voluntary and
#             involuntary, summed over /proc/PID/task/*/status. Then, before SIGTERM, STRACE_SECONDS
#             s of `strace -c -f -p PID`: syscalls per run line written meanwhile (lines counted
#             once strace has attached and again before it detaches).
#   floor     bench/out/curl-floor, built here from bench/curl-floor.c (cc -O2, -lcurl): one thread
#             on libcurl's multi interface, a new easy handle and a new connection per request
#             (FRESH_CONNECT, FORBID_REUSE, DNS cache 0), the options and callbacks sonde's
#             Transfer.swift sets, requests started at absolute deadlines (R per second, at most
#             FLOOR_INFLIGHT in flight) for WARMUP + SECONDS_RUN s. It measures its window itself:
#             getrusage user + system CPU, runs completed, context switches from
#             /proc/self/task/*/status. Then STRACE_SECONDS s of `strace -c -f -p PID`, runs counted
#             by the program (SIGUSR1 once strace has attached and again before it detaches).
#   blackbox  prometheus-blackbox-exporter started here on a free loopback port with its own config
#             (module http_2xx: `prober: http`), not the system service. Paced: curl-floor in -k
#             mode (connections kept alive, as a Prometheus server scraping it) requests
#             /probe?target=URL&module=http_2xx at absolute deadlines, BB_RATE per second for
#             BB_SECONDS s; probes = answers containing `probe_success 1` (others must be 0).
#             Flat out: wrk over BB_CONNS connections, no pause, BB_FLAT_SECONDS s; a Lua script
#             counts the answers with and without `probe_success 1`. CPU = the blackbox process's
#             utime + stime delta over each drive. It includes serving /probe and rendering the
#             metrics, as every blackbox probe scraped by Prometheus does.
#   check_http /usr/lib/nagios/plugins/check_http -I 127.0.0.1 -p PORT -u /health, one process per
#             probe, CHECK_HTTP_PROBES in a row from python3; CPU = user + system of the children
#             (getrusage(RUSAGE_CHILDREN) delta): exec, dynamic loading and the probe, not the fork
#             in python.
# CPU times of /proc come in clock ticks (1/CLK_TCK s, 10 ms here): keep SECONDS_RUN x R large enough.
# strace slows the traced process while attached: it is attached only after the CPU window, and
# what it gives is a count of calls, not their time. A results file taken while the load average
# is at least half the cores says so in its header.
# Installs what is missing (nginx-light, prometheus-blackbox-exporter, wrk, monitoring-plugins-basic,
# python3, curl, gcc, libcurl4-openssl-dev, strace) with apt-get; the system nginx and the blackbox
# service are not touched. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
CHECKS=${CHECKS:-200}
INTERVAL=${INTERVAL:-1}
SECONDS_RUN=${SECONDS_RUN:-15}
WARMUP=${WARMUP:-2}
RATE=$(awk -v c="$CHECKS" -v i="$INTERVAL" 'BEGIN { printf "%g", c / i }')
FLOOR_INFLIGHT=${FLOOR_INFLIGHT:-8}
STRACE_SECONDS=${STRACE_SECONDS:-5}
BB_SECONDS=${BB_SECONDS:-15}
BB_RATE=${BB_RATE:-$RATE}
BB_FLAT_SECONDS=${BB_FLAT_SECONDS:-10}
BB_CONNS=${BB_CONNS:-2}
CHECK_HTTP_PROBES=${CHECK_HTTP_PROBES:-300}
BIN=${SONDE_BIN:-.build/release/sonde}
RESULTS=${RESULTS:-bench/results-probe-cpu.md}
GOAL_FLOOR=1.3     # sonde / libcurl floor (issue 12)
GOAL_RATIO=0.2     # sonde / blackbox_exporter (issue 6)
CHECK_HTTP=/usr/lib/nagios/plugins/check_http
BLACKBOX=/usr/bin/prometheus-blackbox-exporter
FLOOR_SRC=bench/curl-floor.c
FLOOR=bench/out/curl-floor

BENCH_NAME=probe-cpu
# shellcheck source=bench/lib.sh
. bench/lib.sh

case ${1:-} in
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument $1 (usage: bash bench/probe-cpu.sh)" ;;
esac
[ -x "$BIN" ] || die "no sonde binary at $BIN: build first (make build) or set SONDE_BIN"
for v in ROUNDS CHECKS SECONDS_RUN FLOOR_INFLIGHT STRACE_SECONDS BB_SECONDS BB_FLAT_SECONDS BB_CONNS CHECK_HTTP_PROBES; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got ${!v})"
done
((ROUNDS >= 1 && SECONDS_RUN >= 1 && BB_SECONDS >= 1 && BB_FLAT_SECONDS >= 1)) || die "ROUNDS and the durations must be >= 1"
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x "$BLACKBOX" ] || missing+=(prometheus-blackbox-exporter)
command -v wrk >/dev/null || missing+=(wrk)
[ -x "$CHECK_HTTP" ] || missing+=(monitoring-plugins-basic)
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
command -v cc >/dev/null || missing+=(gcc)
[ -f /usr/include/curl/curl.h ] || ls /usr/include/*/curl/curl.h >/dev/null 2>&1 || missing+=(libcurl4-openssl-dev)
((STRACE_SECONDS == 0)) || command -v strace >/dev/null || missing+=(strace)
install_missing "${missing[@]}"

mkdir -p bench/out
cc -O2 -Wall -Wextra -o "$FLOOR" "$FLOOR_SRC" -lcurl -lm || die "cannot build $FLOOR from $FLOOR_SRC"

T=$(mktemp -d /tmp/sonde-probe-cpu.XXXXXX)
SONDE_PID="" BB_PID="" FLOOR_PID=""
stop_pid() {  # stop_pid PID: TERM, then KILL after 10 s
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "$STRACE_PID" ] || { kill -INT "$STRACE_PID" 2>/dev/null || true; wait "$STRACE_PID" 2>/dev/null || true; }
  stop_pid "$SONDE_PID"
  stop_pid "$FLOOR_PID"
  stop_pid "$BB_PID"
  stop_nginx
  if [ "${KEEP:-0}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

HZ=$(getconf CLK_TCK)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
start_nginx "$T/nginx"
URL="http://127.0.0.1:$PORT/health"
say "nginx $NGINX_PID (worker $NGINX_WORKER) on 127.0.0.1:$PORT; load average $LOAD_BEFORE"

# --- strace ----------------------------------------------------------------------------------------
STRACE_PID=""
strace_for() {  # strace_for PID FILE MARK: `strace -c -f -p PID` (summary in FILE) for STRACE_SECONDS s;
  # runs MARK once strace has attached and once more before it detaches, so that what MARK counts
  # happens while it is attached.
  local i
  strace -c -f -p "$1" -o "$2" 2> "$2.log" &
  STRACE_PID=$!
  for ((i = 0; i < 1000; i++)); do
    grep -q 'attached' "$2.log" 2>/dev/null && break
    kill -0 "$STRACE_PID" 2>/dev/null || die "strace -p $1 failed (is ptrace allowed here? STRACE_SECONDS=0 skips it): $(tail -3 "$2.log")"
    sleep 0.01
  done
  grep -q 'attached' "$2.log" || die "strace did not attach to $1 in 10 s"
  "$3"
  sleep "$STRACE_SECONDS"
  "$3"
  kill -INT "$STRACE_PID"
  wait "$STRACE_PID" || true
  STRACE_PID=""
  [ -s "$2" ] || die "strace -p $1 wrote no summary: $(tail -3 "$2.log")"
}
strace_calls() {  # strace_calls FILE: "syscall calls" lines of a `strace -c` summary, then "total N"
  awk '$4 ~ /^[0-9]+$/ && $NF ~ /^[a-z_0-9]+$/ { print $NF, $4 }' "$1"
}

# --- sonde: the checks ----------------------------------------------------------------------------
mkdir -p "$T/checks"
width=${#CHECKS}; ((width >= 4)) || width=4
for ((i = 1; i <= CHECKS; i++)); do
  printf '# @every %ss\n# @timeout 5s\nGET %s\nHTTP 200\n' "$INTERVAL" "$URL" > "$T/checks/$(printf "c%0${width}d" "$i").hurl"
done
"$BIN" check "$T/checks/$(printf "c%0${width}d" 1).hurl" >/dev/null || die "sonde check fails on the generated check"

run_lines() {  # run_lines DATA: "lines ok_lines" over every run file
  find "$1" -name 'runs-*.jsonl' -print0 | xargs -0 -r cat | awk '{ n++ } /"ok":true/ { ok++ } END { printf "%d %d\n", n, ok }'
}

sonde_mark() { run_lines "$SONDE_DATA" | cut -d' ' -f1 >> "$T/marks"; }

# Appends "steady_ms_per_probe raw_ms_per_probe startup_cpu_s steady_probes all_lines failed rate
# voluntary_per_run involuntary_per_run" to $T/sonde, and "runs syscalls connects" to $T/sonde-strace.
sonde_round() {
  local r=$1 data="$T/data-$r" log="$T/sonde-$r.log" c0 c1 c2 l1 l2 lf okf t1 t2 v1 iv1 v2 iv2 la lb rc=0
  mkdir -p "$data"
  "$BIN" run --checks "$T/checks" --data "$data" 2>"$log" &
  SONDE_PID=$!
  for _ in $(seq 1200); do
    grep -q ' start: ' "$log" 2>/dev/null && break
    kill -0 "$SONDE_PID" 2>/dev/null || { cat "$log" >&2; die "sonde run exited at start-up"; }
    sleep 0.05
  done
  grep -q ' start: ' "$log" || die "sonde run did not log its start in 60 s"
  c0=$(cpu_ticks "$SONDE_PID")
  sleep "$WARMUP"
  c1=$(cpu_ticks "$SONDE_PID"); read -r v1 iv1 < <(ctx_switches "$SONDE_PID"); t1=$EPOCHREALTIME
  read -r l1 _ < <(run_lines "$data")
  sleep "$SECONDS_RUN" & wait $!
  c2=$(cpu_ticks "$SONDE_PID"); read -r v2 iv2 < <(ctx_switches "$SONDE_PID"); t2=$EPOCHREALTIME
  read -r l2 _ < <(run_lines "$data")
  if ((STRACE_SECONDS > 0)); then
    SONDE_DATA=$data; : > "$T/marks"
    strace_for "$SONDE_PID" "$T/strace-sonde-$r" sonde_mark
    read -r la lb < <(paste -sd' ' "$T/marks")
    strace_calls "$T/strace-sonde-$r" | awk -v n="$((lb - la))" '$1 == "total" { t = $2 } $1 == "connect" { c = $2 }
      END { printf "%d %d %d\n", n, t, c }' >> "$T/sonde-strace"
  fi
  kill -TERM "$SONDE_PID"
  wait "$SONDE_PID" || rc=$?
  SONDE_PID=""
  ((rc == 0)) || die "sonde run exited with status $rc: $(tail -3 "$log")"
  read -r lf okf < <(run_lines "$data")
  ((l2 > l1)) || die "sonde wrote no run lines in ${SECONDS_RUN}s ($(tail -3 "$log"))"
  awk -v c0="$c0" -v c1="$c1" -v c2="$c2" -v l1="$l1" -v l2="$l2" -v lf="$lf" -v okf="$okf" -v hz="$HZ" \
      -v t1="$t1" -v t2="$t2" -v v="$((v2 - v1))" -v iv="$((iv2 - iv1))" 'BEGIN {
    n = l2 - l1
    printf "%.4f %.4f %.2f %d %d %d %.1f %.3f %.3f\n", 1000 * (c2 - c1) / hz / n, 1000 * c2 / hz / l2, c0 / hz,
      n, lf, lf - okf, n / (t2 - t1), v / n, iv / n }' >> "$T/sonde"
  rm -rf "$data"
}

# --- the libcurl floor -----------------------------------------------------------------------------
floor_value() {  # floor_value FILE KEY: KEY=value of the FLOOR line
  awk -v k="$2" '$1 == "FLOOR" { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$1"
}
wait_line() {  # wait_line FILE PATTERN PID SECONDS: until a line of FILE matches PATTERN (PID alive)
  local i
  for ((i = 0; i < $4 * 20; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { grep -q "$2" "$1" 2>/dev/null && return 0; die "curl-floor exited early: $(cat "$1" "$1.err" 2>/dev/null | tail -3)"; }
    sleep 0.05
  done
  die "no '$2' from curl-floor in $4 s"
}
stop_floor() {  # stop_floor OUT: SIGTERM, wait for its FLOOR line; dies if a request failed
  local rc=0
  kill -TERM "$FLOOR_PID"
  wait "$FLOOR_PID" || rc=$?
  FLOOR_PID=""
  grep -q '^FLOOR ' "$1" || die "curl-floor printed no FLOOR line (status $rc): $(tail -3 "$1.err")"
  ((rc == 0)) || die "curl-floor: failed requests ($(floor_value "$1" failed) failed, $(floor_value "$1" bad_status) bad answers): $(tail -3 "$1.err")"
}

# Appends "cpu_ms_per_run runs rate voluntary_per_run involuntary_per_run late_p99_ms late_max_ms" to
# $T/floor, and "runs syscalls connects" to $T/floor-strace.
floor_mark() {  # SIGUSR1: the floor prints "MARK runs=N"; waits for that line
  local before i
  before=$(grep -c '^MARK' "$FLOOR_OUT" || true)
  kill -USR1 "$FLOOR_PID"
  for ((i = 0; i < 500; i++)); do (($(grep -c '^MARK' "$FLOOR_OUT" || true) > before)) && return 0; sleep 0.01; done
  die "curl-floor did not answer SIGUSR1"
}
floor_round() {
  local r=$1 out="$T/floor-$r.out" ma mb
  "$FLOOR" "$URL" "$RATE" "$SECONDS_RUN" "$WARMUP" "$FLOOR_INFLIGHT" > "$out" 2> "$out.err" &
  FLOOR_PID=$!
  wait_line "$out" '^WINDOW-END' "$FLOOR_PID" $((WARMUP + SECONDS_RUN + 60))
  if ((STRACE_SECONDS > 0)); then
    FLOOR_OUT=$out
    strace_for "$FLOOR_PID" "$T/strace-floor-$r" floor_mark
    read -r ma mb < <(awk -F'runs=' '/^MARK/ { m[++n] = $2 } END { print m[1], m[2] }' "$out")
    [ -n "${mb:-}" ] || die "curl-floor: no second MARK line"
    strace_calls "$T/strace-floor-$r" | awk -v n="$((mb - ma))" '$1 == "total" { t = $2 } $1 == "connect" { c = $2 }
      END { printf "%d %d %d\n", n, t, c }' >> "$T/floor-strace"
  fi
  stop_floor "$out"
  echo "$(floor_value "$out" cpu_ms_per_run) $(floor_value "$out" runs) $(floor_value "$out" rate)" \
       "$(floor_value "$out" vcsw_per_run) $(floor_value "$out" ivcsw_per_run)" \
       "$(floor_value "$out" late_p99_ms) $(floor_value "$out" late_max_ms)" >> "$T/floor"
}
# A sample first: 20 requests must all answer 200.
"$FLOOR" "$URL" 20 1 0 "$FLOOR_INFLIGHT" > "$T/floor-sample.out" 2> "$T/floor-sample.out.err" &
FLOOR_PID=$!
wait_line "$T/floor-sample.out" '^WINDOW-END' "$FLOOR_PID" 30
stop_floor "$T/floor-sample.out"
FLOOR_SAMPLE_HEADERS=$(floor_value "$T/floor-sample.out" headers_per_run)

# --- blackbox ------------------------------------------------------------------------------------
BPORT=$(free_port)
cat > "$T/blackbox.yml" <<'EOF'
modules:
  http_2xx:
    prober: http
    timeout: 5s
EOF
"$BLACKBOX" --config.file="$T/blackbox.yml" --web.listen-address="127.0.0.1:$BPORT" --log.level=warn \
  >"$T/blackbox.log" 2>&1 &
BB_PID=$!
PROBE_URL="http://127.0.0.1:$BPORT/probe?target=$URL&module=http_2xx"
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$BPORT/-/healthy" 2>/dev/null && break
  kill -0 "$BB_PID" 2>/dev/null || { cat "$T/blackbox.log" >&2; die "blackbox exporter exited at start-up"; }
  sleep 0.1
done
for _ in 1 2 3; do   # a sample, with curl, before the rounds: every one must say probe_success 1
  sample=$(curl -fsS "$PROBE_URL") || die "blackbox /probe failed"
  grep -qx 'probe_success 1' <<<"$sample" || die "blackbox probe did not succeed: $(grep -v '^#' <<<"$sample" | head -20)"
done
BB_SAMPLE=$(grep -E '^probe_(success|http_status_code|http_version|ip_protocol) ' <<<"$sample" | paste -sd, | sed 's/,/, /g')
cat > "$T/probe.lua" <<'EOF'
-- Counts /probe answers with probe_success 1 (ok) and the others (bad).
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0 end
function response(status, headers, body)
  if status == 200 and string.find(body, "\nprobe_success 1\n", 1, true) then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format("PROBES %d %d %d %d\n", o, b, summary.requests, e.connect + e.read + e.write + e.status + e.timeout))
end
EOF

bb_paced_round() {  # appends "ms_per_probe probes rate" to $T/bbpaced: curl-floor -k at BB_RATE per second
  local r=$1 out="$T/bbpaced-$r.out" c0 c1 t0 t1 n
  c0=$(cpu_ticks "$BB_PID"); t0=$EPOCHREALTIME
  "$FLOOR" -k -e $'\nprobe_success 1\n' "$PROBE_URL" "$BB_RATE" "$BB_SECONDS" 0 "$FLOOR_INFLIGHT" > "$out" 2> "$out.err" &
  FLOOR_PID=$!
  wait_line "$out" '^WINDOW-END' "$FLOOR_PID" $((BB_SECONDS + 60))
  c1=$(cpu_ticks "$BB_PID"); t1=$EPOCHREALTIME
  kill -USR1 "$FLOOR_PID"; wait_line "$out" '^MARK' "$FLOOR_PID" 10
  n=$(awk -F'runs=' '/^MARK/ { print $2; exit }' "$out")
  stop_floor "$out"
  ((n > 0)) || die "blackbox paced round $r: no probes"
  awk -v c0="$c0" -v c1="$c1" -v n="$n" -v hz="$HZ" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.4f %d %.1f\n", 1000 * (c1 - c0) / hz / n, n, n / (t1 - t0) }' >> "$T/bbpaced"
}
bb_flat_round() {  # appends "ms_per_probe probes rate" to $T/bbflat: wrk, no pause
  local r=$1 c0 c1 t0 t1 ok bad requests errors
  c0=$(cpu_ticks "$BB_PID"); t0=$EPOCHREALTIME
  wrk -t1 -c"$BB_CONNS" -d"${BB_FLAT_SECONDS}s" -s "$T/probe.lua" "$PROBE_URL" > "$T/wrk-$r.txt" 2>&1 \
    || die "wrk failed: $(cat "$T/wrk-$r.txt")"
  c1=$(cpu_ticks "$BB_PID"); t1=$EPOCHREALTIME
  read -r ok bad requests errors < <(awk '$1 == "PROBES" { print $2, $3, $4, $5 }' "$T/wrk-$r.txt")
  [ -n "${ok:-}" ] || die "no PROBES line from wrk: $(cat "$T/wrk-$r.txt")"
  ((bad == 0 && errors == 0)) || die "blackbox round $r: $bad answers without probe_success 1, $errors wrk errors"
  ((ok > 0)) || die "blackbox round $r: no probes"
  awk -v c0="$c0" -v c1="$c1" -v n="$ok" -v hz="$HZ" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.4f %d %.1f\n", 1000 * (c1 - c0) / hz / n, n, n / (t1 - t0) }' >> "$T/bbflat"
}

# --- check_http ------------------------------------------------------------------------------------
CHECK_HTTP_CMD=("$CHECK_HTTP" -I 127.0.0.1 -p "$PORT" -u /health)
"${CHECK_HTTP_CMD[@]}" > "$T/check_http.sample" || die "check_http fails: $(cat "$T/check_http.sample")"
CHECK_HTTP_SAMPLE=$(cut -d'|' -f1 "$T/check_http.sample" | sed 's/ *$//')
cat > "$T/check_http.py" <<'EOF'
import resource, subprocess, sys, time
n, argv = int(sys.argv[1]), sys.argv[2:]
before = resource.getrusage(resource.RUSAGE_CHILDREN)
start = time.perf_counter()
for _ in range(n):
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if done.returncode != 0:
        sys.exit(f"check_http exited with {done.returncode}")
wall = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(f"{1000 * cpu / n:.4f} {n} {n / wall:.1f}")
EOF
check_http_round() {  # appends "ms_per_probe probes rate" to $T/check_http
  python3 "$T/check_http.py" "$CHECK_HTTP_PROBES" "${CHECK_HTTP_CMD[@]}" >> "$T/check_http" || die "check_http round failed"
}

# --- rounds ----------------------------------------------------------------------------------------
say "$ROUNDS rounds at $RATE/s: sonde $CHECKS checks every ${INTERVAL}s and the floor (${WARMUP}s + ${SECONDS_RUN}s," \
    "then ${STRACE_SECONDS}s of strace each), blackbox ${BB_SECONDS}s paced at $BB_RATE/s and ${BB_FLAT_SECONDS}s flat out," \
    "check_http x $CHECK_HTTP_PROBES"
for f in sonde sonde-strace floor floor-strace bbpaced bbflat check_http load; do : > "$T/$f"; done
for ((r = 1; r <= ROUNDS; r++)); do
  sonde_round "$r"
  floor_round "$r"
  bb_paced_round "$r"
  bb_flat_round "$r"
  check_http_round
  cut -d' ' -f1-3 /proc/loadavg >> "$T/load"
  say "round $r/$ROUNDS: sonde $(tail -1 "$T/sonde" | cut -d' ' -f1) ms/probe (raw $(tail -1 "$T/sonde" | cut -d' ' -f2))," \
      "floor $(tail -1 "$T/floor" | cut -d' ' -f1), blackbox $(tail -1 "$T/bbpaced" | cut -d' ' -f1) paced" \
      "/ $(tail -1 "$T/bbflat" | cut -d' ' -f1) flat out, check_http $(tail -1 "$T/check_http" | cut -d' ' -f1)" \
      "(load $(cut -d' ' -f1-3 /proc/loadavg))"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- table -----------------------------------------------------------------------------------------
med() {  # med FILE COLUMN: median (lower of the two middle values for an even count)
  awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
spread() {  # spread FILE COLUMN: "min–max"
  awk -v c="$2" '{ print $c }' "$1" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s–%s", lo, hi }'
}
f3() { awk -v v="$1" 'BEGIN { printf "%.3f", v }'; }
f1() { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
sum_col() { awk -v c="$2" '{ s += $c } END { print s + 0 }' "$1"; }
verdict() {  # verdict RATIO GOAL [bold]: met / not met (ratio <= goal)
  awk -v r="$1" -v g="$2" -v b="${3:-}" 'BEGIN { v = (r != "-" && r <= g) ? "met" : "not met"; print (b ? "**" v "**" : v) }'
}
per_run() {  # per_run FILE: per round "calls / runs" (strace files: "runs calls connects"), one a line
  awk '$1 > 0 { printf "%.2f %.3f\n", $2 / $1, $3 / $1 }' "$1"
}

S=$(med "$T/sonde" 1); SR=$(med "$T/sonde" 2); SU=$(med "$T/sonde" 3); SRATE=$(med "$T/sonde" 7)
SV=$(med "$T/sonde" 8); SIV=$(med "$T/sonde" 9)
F=$(med "$T/floor" 1); FRATE=$(med "$T/floor" 3); FV=$(med "$T/floor" 4); FIV=$(med "$T/floor" 5)
BP=$(med "$T/bbpaced" 1); BPRATE=$(med "$T/bbpaced" 3)
BF=$(med "$T/bbflat" 1); BFRATE=$(med "$T/bbflat" 3)
C=$(med "$T/check_http" 1); CRATE=$(med "$T/check_http" 3)
SF=$(ratio "$S" "$F"); SB=$(ratio "$S" "$BP"); SBF=$(ratio "$S" "$BF"); SBR=$(ratio "$SR" "$BP"); SC=$(ratio "$S" "$C")
GOAL_F=$(verdict "$SF" "$GOAL_FLOOR" bold)
GOAL=$(verdict "$SB" "$GOAL_RATIO" bold)
GOAL_RAW=$(verdict "$SBR" "$GOAL_RATIO")
FAILED=$(sum_col "$T/sonde" 6)
if ((STRACE_SECONDS > 0)); then
  per_run "$T/sonde-strace" > "$T/sonde-sys"; per_run "$T/floor-strace" > "$T/floor-sys"
  SSYS=$(med "$T/sonde-sys" 1); FSYS=$(med "$T/floor-sys" 1)
  SCONN=$(med "$T/sonde-sys" 2); FCONN=$(med "$T/floor-sys" 2)
  # Calls of each syscall per run over all rounds (sum of calls / sum of runs), sonde and floor.
  SRUNS=$(sum_col "$T/sonde-strace" 1); FRUNS=$(sum_col "$T/floor-strace" 1)
  for ((r = 1; r <= ROUNDS; r++)); do
    strace_calls "$T/strace-sonde-$r" | sed 's/^/s /'
    strace_calls "$T/strace-floor-$r" | sed 's/^/f /'
  done | awk -v sn="$SRUNS" -v fn="$FRUNS" '$2 != "total" { if ($1 == "s") s[$2] += $3; else f[$2] += $3; seen[$2] = 1 }
    END { for (k in seen) printf "%s %.2f %.2f\n", k, s[k] / sn, f[k] / fn }' | sort -k2,2gr -k3,3gr > "$T/syscalls"
fi
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
SWIFT_V=$(swift --version 2>/dev/null | grep -o 'Swift version [^ ]*' | head -1 || echo 'swift ?')
REV=$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources 2>/dev/null || echo '+changes')
BB_V=$("$BLACKBOX" --version 2>&1 | head -1 | awk '{ print $3 }')
CH_V=$({ "$CHECK_HTTP" -V || true; } | awk '{ print $2; exit }')   # -V exits with 3
WRK_V=$({ wrk --version 2>&1 || true; } | awk '{ print $2; exit }')   # --version exits with 1
LIBCURL_V=$(curl --version | head -1 | grep -o 'libcurl/[^ ]*' | cut -d/ -f2)
CC_V=$(cc --version | head -1)
STRACE_V=$({ strace -V 2>/dev/null || true; } | head -1 | awk '{ print $NF }')
LOADED=$(awk -v a="${LOAD_BEFORE%% *}" -v b="${LOAD_AFTER%% *}" -v n="$(nproc)" 'BEGIN { print (a >= n / 2 || b >= n / 2) ? 1 : 0 }')

{
  echo "## CPU per probe: sonde vs the libcurl floor vs blackbox_exporter vs check_http — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  if ((LOADED)); then
    echo "**Taken on a loaded machine** (load average ${LOAD_BEFORE%% *} before, ${LOAD_AFTER%% *} after, on $(nproc) cores):" \
         "other work competed for the CPU throughout, so these figures are indicative only; the ratios were still measured side by side."
    echo
  fi
  echo "\`bash bench/probe-cpu.sh\` (ROUNDS=$ROUNDS CHECKS=$CHECKS INTERVAL=$INTERVAL SECONDS_RUN=$SECONDS_RUN WARMUP=$WARMUP" \
       "FLOOR_INFLIGHT=$FLOOR_INFLIGHT STRACE_SECONDS=$STRACE_SECONDS BB_SECONDS=$BB_SECONDS BB_RATE=$BB_RATE" \
       "BB_FLAT_SECONDS=$BB_FLAT_SECONDS BB_CONNS=$BB_CONNS CHECK_HTTP_PROBES=$CHECK_HTTP_PROBES) — sonde $REV, $SWIFT_V," \
       "libcurl $LIBCURL_V, floor built with $CC_V, blackbox_exporter $BB_V, check_http $CH_V, wrk $WRK_V, strace $STRACE_V," \
       "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') (1 worker), $(nproc) × $CPU, Linux $(uname -r)," \
       "load average before / after $LOAD_BEFORE / $LOAD_AFTER (a shared machine: other work shows as spread)."
  echo "All of them fetch \`GET /health\` (200, 2 bytes) from the same nginx on loopback, a new TCP connection per probe." \
       "CPU is user + system of the prober's own process(es) only (not nginx, not the driver of blackbox); medians of $ROUNDS rounds, (min–max) beside."
  echo
  echo "| prober | how it was driven | probes per round | rate | CPU ms per probe (median) | spread |"
  echo "| --- | --- | --- | --- | --- | --- |"
  echo "| **sonde run**, steady state | $CHECKS checks × \`@every ${INTERVAL}s\`, ${SECONDS_RUN} s measured from ${WARMUP} s after start-up | $(med "$T/sonde" 4) | $SRATE/s | **$(f3 "$S")** | $(spread "$T/sonde" 1) |"
  echo "| sonde run, raw (since exec) | same run: all CPU since exec ÷ all run lines by the same moment | $(med "$T/sonde" 5) lines in all | | $(f3 "$SR") | $(spread "$T/sonde" 2) |"
  echo "| **libcurl floor** | \`bench/curl-floor.c\`: multi interface, new handle and connection per request, ≤ $FLOOR_INFLIGHT in flight, paced at $RATE/s, ${SECONDS_RUN} s from ${WARMUP} s after start | $(med "$T/floor" 2) | $FRATE/s | **$(f3 "$F")** | $(spread "$T/floor" 1) |"
  echo "| **blackbox_exporter, paced** | \`/probe?module=http_2xx\` at $BB_RATE/s (curl-floor -k: absolute deadlines, kept-alive connections), ${BB_SECONDS} s | $(med "$T/bbpaced" 2) | $BPRATE/s | **$(f3 "$BP")** | $(spread "$T/bbpaced" 1) |"
  echo "| blackbox_exporter, flat out | wrk, $BB_CONNS connections, no pause, ${BB_FLAT_SECONDS} s | $(med "$T/bbflat" 2) | $BFRATE/s | $(f3 "$BF") | $(spread "$T/bbflat" 1) |"
  echo "| **check_http** | one process per probe, $CHECK_HTTP_PROBES in a row | $CHECK_HTTP_PROBES | $CRATE/s | **$(f3 "$C")** | $(spread "$T/check_http" 1) |"
  echo
  echo "| ratio | value | goal |"
  echo "| --- | --- | --- |"
  echo "| **sonde (steady) ÷ libcurl floor, same rate** | **$SF** | ≤ $GOAL_FLOOR: $GOAL_F |"
  echo "| sonde (steady) / blackbox, paced at the same rate | **$SB** | ≤ $GOAL_RATIO: $GOAL |"
  echo "| sonde (raw, start-up included) / blackbox, paced | $SBR | ($GOAL_RATIO: $GOAL_RAW) |"
  echo "| sonde (steady) / blackbox, flat out | $SBF | |"
  echo "| libcurl floor / blackbox, paced | $(ratio "$F" "$BP") | |"
  echo "| sonde (steady) / check_http | $SC | |"
  echo "| blackbox paced / check_http | $(ratio "$BP" "$C") | |"
  echo
  echo "Per run, sonde against the floor at the same rate (medians of $ROUNDS rounds):"
  echo
  echo "| per run | sonde | libcurl floor | sonde ÷ floor |"
  echo "| --- | --- | --- | --- |"
  echo "| voluntary context switches | $(f1 "$SV") | $(f1 "$FV") | $(ratio "$SV" "$FV") |"
  echo "| involuntary context switches | $(f1 "$SIV") | $(f1 "$FIV") | $(ratio "$SIV" "$FIV") |"
  if ((STRACE_SECONDS > 0)); then
    echo "| syscalls (\`strace -c -f\`, ${STRACE_SECONDS} s a round) | $(f1 "$SSYS") | $(f1 "$FSYS") | $(ratio "$SSYS" "$FSYS") |"
    echo "| of which \`connect\` (a check on the count of runs: one new connection each) | $SCONN | $FCONN | |"
  else
    echo "| syscalls | not measured (STRACE_SECONDS=0) | | |"
  fi
  echo
  echo "- Context switches: voluntary and involuntary, summed over the threads of the process (/proc/PID/task/*/status) over" \
       "the CPU window, ÷ runs in it; the floor reads its own /proc/self/task the same way (one thread)."
  if ((STRACE_SECONDS > 0)); then
    echo "- Syscalls: \`strace -c -f -p PID\` attached for ${STRACE_SECONDS} s after the CPU window, ÷ the runs completed while it was" \
         "attached (counted once strace had attached and again before it detached: sonde's run lines, the floor's own count)." \
         "strace slows the process it traces; the counts, not the times, are what is reported."
  fi
  echo "- Floor: $FLOOR_SAMPLE_HEADERS header lines copied per response;" \
       "start lateness past its deadline, median of the rounds' p99 $(med "$T/floor" 6) ms (max $(sort -g <(cut -d' ' -f7 "$T/floor") | tail -1) ms):" \
       "with at most $FLOOR_INFLIGHT in flight, a late request waits for a free slot."
  echo "- sonde start-up (exec to the \`start\` log line): $(f3 "$SU") s of CPU (median), in the raw figure, not in the steady one." \
       "Failed sonde runs over all rounds: $FAILED. sonde CPU = utime + stime from /proc/PID/stat (every thread), probes = run lines written."
  echo "- blackbox: module \`http_2xx\` (\`prober: http\`, timeout 5s); sample probe before the rounds: $BB_SAMPLE." \
       "Probes = answers containing \`probe_success 1\` (answers without it: 0, else the script stops). Its CPU includes serving" \
       "\`/probe\` over HTTP and rendering the metrics, as each Prometheus scrape of a blackbox probe does."
  echo "- check_http: \`check_http -I 127.0.0.1 -p PORT -u /health\` → \`$CHECK_HTTP_SAMPLE\`; CPU = getrusage(RUSAGE_CHILDREN) of the" \
       "python3 that runs them in a row (exec and dynamic loading included, python's fork excluded)."
  if ((STRACE_SECONDS > 0)); then
    echo
    echo "Syscalls per run by name, over all rounds (the 14 most frequent in sonde; calls ÷ runs while traced):"
    echo
    echo "| syscall | sonde | libcurl floor |"
    echo "| --- | --- | --- |"
    head -14 "$T/syscalls" | awk '{ printf "| `%s` | %.2f | %.2f |\n", $1, $2, $3 }'
  fi
  echo
  echo "Per round (CPU ms per probe; probes; rate per second):"
  echo
  echo "| round | sonde steady | sonde raw | sonde start-up CPU | libcurl floor | blackbox paced | blackbox flat out | check_http | load average after |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  paste -d' ' "$T/sonde" "$T/floor" "$T/bbpaced" "$T/bbflat" "$T/check_http" "$T/load" | awk '{
    printf "| %d | %.3f (%d; %.0f/s) | %.3f (%d lines) | %.2f s | %.3f (%d; %.0f/s) | %.3f (%d; %.0f/s) | %.3f (%d; %.0f/s) | %.3f (%d; %.0f/s) | %s %s %s |\n",
      NR, $1, $4, $7, $2, $5, $3, $10, $11, $12, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28 }'
} > "$T/results.md"
cat "$T/results.md"
cp "$T/results.md" "$RESULTS"
say "written to $RESULTS"
