#!/usr/bin/env bash
# CPU per probe, side by side: sonde's daemon, prometheus-blackbox-exporter and Nagios's check_http,
# all probing the same URL of one private nginx on loopback (GET /health, 200 "ok", a cold
# connection per probe for all three). Goal (issue 6): sonde <= 0.2 x blackbox's CPU per probe.
#
# Usage: bash bench/probe-cpu.sh        prints the table and writes it to bench/results-probe-cpu.md
# Env:   ROUNDS (3), SONDE_BIN (.build/release/sonde), RESULTS (bench/results-probe-cpu.md),
#        CHECKS (200) checks every INTERVAL (1) s, measured for SECONDS_RUN (15) s after WARMUP (2) s;
#        BB_SECONDS (15) s of wrk against blackbox at about BB_RATE requests/s (CHECKS / INTERVAL)
#        over BB_CONNS (2) connections; CHECK_HTTP_PROBES (300) sequential check_http processes.
#
# What is measured, per round (rounds run the three one after the other, ROUNDS times):
#   sonde     `sonde run` on CHECKS generated checks (`@every INTERVAL`s). CPU = utime + stime of the
#             sonde process from /proc/PID/stat (all its threads), probes = run lines in its data
#             folder, counted at the same moments. Steady state: the CPU and lines added between
#             WARMUP s after the `start` log line and just before SIGTERM. Raw: all CPU since exec
#             (start-up included) over all lines written by the same moment. Start-up CPU (exec to
#             the `start` log line) is shown on its own. Nothing is subtracted from either figure.
#   blackbox  prometheus-blackbox-exporter started here on a free loopback port with its own config
#             (module http_2xx: `prober: http`), not the system service. wrk drives
#             /probe?target=URL&module=http_2xx; a Lua script counts the answers that contain
#             `probe_success 1` (the probes) and those that do not (must be 0). CPU = the blackbox
#             process's utime + stime delta over the wrk run. It includes serving /probe and
#             rendering the metrics, as every blackbox probe scraped by Prometheus does.
#   check_http /usr/lib/nagios/plugins/check_http -I 127.0.0.1 -p PORT -u /health, one process per
#             probe, CHECK_HTTP_PROBES in a row from python3; CPU = user + system of the children
#             (getrusage(RUSAGE_CHILDREN) delta): exec, dynamic loading and the probe, not the fork
#             in python.
# CPU times come in clock ticks (1/CLK_TCK s, 10 ms here): keep SECONDS_RUN x CHECKS large enough.
# Installs what is missing (nginx-light, prometheus-blackbox-exporter, wrk, monitoring-plugins-basic,
# python3, curl) with apt-get; the system nginx and the blackbox service are not touched.
# Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
CHECKS=${CHECKS:-200}
INTERVAL=${INTERVAL:-1}
SECONDS_RUN=${SECONDS_RUN:-15}
WARMUP=${WARMUP:-2}
BB_SECONDS=${BB_SECONDS:-15}
BB_RATE=${BB_RATE:-$(awk -v c="$CHECKS" -v i="$INTERVAL" 'BEGIN { printf "%d", c / i }')}
BB_CONNS=${BB_CONNS:-2}
CHECK_HTTP_PROBES=${CHECK_HTTP_PROBES:-300}
BIN=${SONDE_BIN:-.build/release/sonde}
RESULTS=${RESULTS:-bench/results-probe-cpu.md}
GOAL_RATIO=0.2
CHECK_HTTP=/usr/lib/nagios/plugins/check_http
BLACKBOX=/usr/bin/prometheus-blackbox-exporter

BENCH_NAME=probe-cpu
# shellcheck source=bench/lib.sh
. bench/lib.sh

case ${1:-} in
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument $1 (usage: bash bench/probe-cpu.sh)" ;;
esac
[ -x "$BIN" ] || die "no sonde binary at $BIN: build first (make build) or set SONDE_BIN"
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x "$BLACKBOX" ] || missing+=(prometheus-blackbox-exporter)
command -v wrk >/dev/null || missing+=(wrk)
[ -x "$CHECK_HTTP" ] || missing+=(monitoring-plugins-basic)
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
install_missing "${missing[@]}"

T=$(mktemp -d /tmp/sonde-probe-cpu.XXXXXX)
SONDE_PID="" BB_PID=""
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
  stop_pid "$SONDE_PID"
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

sonde_round() {  # sonde_round R: appends "steady_ms_per_probe raw_ms_per_probe startup_cpu_s steady_probes all_lines failed rate" to $T/sonde
  local r=$1 data="$T/data-$r" log="$T/sonde-$r.log" c0 c1 c2 l1 l2 ok2 lf okf t1 t2 rc=0
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
  c1=$(cpu_ticks "$SONDE_PID"); t1=$EPOCHREALTIME; read -r l1 _ < <(run_lines "$data")
  sleep "$SECONDS_RUN" & wait $!
  c2=$(cpu_ticks "$SONDE_PID"); t2=$EPOCHREALTIME; read -r l2 ok2 < <(run_lines "$data")
  kill -TERM "$SONDE_PID"
  wait "$SONDE_PID" || rc=$?
  SONDE_PID=""
  ((rc == 0)) || die "sonde run exited with status $rc: $(tail -3 "$log")"
  read -r lf okf < <(run_lines "$data")
  ((l2 > l1)) || die "sonde wrote no run lines in ${SECONDS_RUN}s ($(tail -3 "$log"))"
  awk -v c0="$c0" -v c1="$c1" -v c2="$c2" -v l1="$l1" -v l2="$l2" -v lf="$lf" -v okf="$okf" -v hz="$HZ" \
      -v t1="$t1" -v t2="$t2" 'BEGIN {
    printf "%.4f %.4f %.2f %d %d %d %.1f\n", 1000 * (c2 - c1) / hz / (l2 - l1), 1000 * c2 / hz / l2, c0 / hz,
      l2 - l1, lf, lf - okf, (l2 - l1) / (t2 - t1) }' >> "$T/sonde"
  rm -rf "$data"
}

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
for _ in 1 2 3; do   # a sample, with curl, before wrk: every one must say probe_success 1
  sample=$(curl -fsS "$PROBE_URL") || die "blackbox /probe failed"
  grep -qx 'probe_success 1' <<<"$sample" || die "blackbox probe did not succeed: $(grep -v '^#' <<<"$sample" | head -20)"
done
BB_SAMPLE=$(grep -E '^probe_(success|http_status_code|http_version|ip_protocol) ' <<<"$sample" | paste -sd, | sed 's/,/, /g')
cat > "$T/probe.lua" <<'EOF'
-- Counts /probe answers with probe_success 1 (ok) and the others (bad); waits `pause` ms between
-- requests on each connection so that the rate stays bounded.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0; pause = tonumber(args[1] or "0") end
function delay() return pause end
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
# The pause between requests on a connection: BB_CONNS / BB_RATE less the median time of a /probe
# request (from 5 timed with curl), whole milliseconds (wrk's unit); the rate reached is reported.
BB_LATENCY_MS=$(for _ in 1 2 3 4 5; do curl -fsS -o /dev/null -w '%{time_total}\n' "$PROBE_URL"; done \
  | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f", 1000 * v[3] }')
BB_PAUSE=$(awk -v c="$BB_CONNS" -v r="$BB_RATE" -v l="$BB_LATENCY_MS" 'BEGIN { d = c * 1000 / r - l; printf "%d", (d < 0 ? 0 : d + 0.5) }')

bb_round() {  # appends "ms_per_probe probes rate" to $T/blackbox
  local r=$1 c0 c1 t0 t1 ok bad requests errors
  c0=$(cpu_ticks "$BB_PID"); t0=$EPOCHREALTIME
  wrk -t1 -c"$BB_CONNS" -d"${BB_SECONDS}s" -s "$T/probe.lua" "$PROBE_URL" -- "$BB_PAUSE" > "$T/wrk-$r.txt" 2>&1 \
    || die "wrk failed: $(cat "$T/wrk-$r.txt")"
  c1=$(cpu_ticks "$BB_PID"); t1=$EPOCHREALTIME
  read -r ok bad requests errors < <(awk '$1 == "PROBES" { print $2, $3, $4, $5 }' "$T/wrk-$r.txt")
  [ -n "${ok:-}" ] || die "no PROBES line from wrk: $(cat "$T/wrk-$r.txt")"
  ((bad == 0 && errors == 0)) || die "blackbox round $r: $bad answers without probe_success 1, $errors wrk errors"
  ((ok > 0)) || die "blackbox round $r: no probes"
  awk -v c0="$c0" -v c1="$c1" -v n="$ok" -v hz="$HZ" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.4f %d %.1f\n", 1000 * (c1 - c0) / hz / n, n, n / (t1 - t0) }' >> "$T/blackbox"
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
say "$ROUNDS rounds: sonde $CHECKS checks every ${INTERVAL}s (${WARMUP}s + ${SECONDS_RUN}s), blackbox ${BB_SECONDS}s of wrk" \
    "(~$BB_RATE/s, $BB_CONNS connections, ${BB_PAUSE} ms pause), check_http x $CHECK_HTTP_PROBES"
: > "$T/sonde"; : > "$T/blackbox"; : > "$T/check_http"; : > "$T/load"
for ((r = 1; r <= ROUNDS; r++)); do
  sonde_round "$r"
  bb_round "$r"
  check_http_round
  cut -d' ' -f1-3 /proc/loadavg >> "$T/load"
  say "round $r/$ROUNDS: sonde $(tail -1 "$T/sonde" | cut -d' ' -f1) ms/probe (raw $(tail -1 "$T/sonde" | cut -d' ' -f2))," \
      "blackbox $(tail -1 "$T/blackbox" | cut -d' ' -f1), check_http $(tail -1 "$T/check_http" | cut -d' ' -f1)" \
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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
sum_col() { awk -v c="$2" '{ s += $c } END { print s + 0 }' "$1"; }

S=$(med "$T/sonde" 1); SR=$(med "$T/sonde" 2); SU=$(med "$T/sonde" 3); SRATE=$(med "$T/sonde" 7)
B=$(med "$T/blackbox" 1); BRATE=$(med "$T/blackbox" 3)
C=$(med "$T/check_http" 1); CRATE=$(med "$T/check_http" 3)
SB=$(ratio "$S" "$B"); SBR=$(ratio "$SR" "$B"); SC=$(ratio "$S" "$C")
GOAL=$(awk -v r="$SB" -v g="$GOAL_RATIO" 'BEGIN { print (r != "-" && r <= g ? "**met**" : "**not met**") }')
GOAL_RAW=$(awk -v r="$SBR" -v g="$GOAL_RATIO" 'BEGIN { print (r != "-" && r <= g ? "met" : "not met") }')
FAILED=$(sum_col "$T/sonde" 6)
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
SWIFT_V=$(swift --version 2>/dev/null | grep -o 'Swift version [^ ]*' | head -1 || echo 'swift ?')
REV=$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources 2>/dev/null || echo '+changes')
BB_V=$("$BLACKBOX" --version 2>&1 | head -1 | awk '{ print $3 }')
CH_V=$({ "$CHECK_HTTP" -V || true; } | awk '{ print $2; exit }')   # -V exits with 3
WRK_V=$({ wrk --version 2>&1 || true; } | awk '{ print $2; exit }')   # --version exits with 1
CURL_V=$(curl --version | head -1 | awk '{ print $2 }')

{
  echo "## CPU per probe: sonde vs blackbox_exporter vs check_http — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "\`bash bench/probe-cpu.sh\` (ROUNDS=$ROUNDS CHECKS=$CHECKS INTERVAL=$INTERVAL SECONDS_RUN=$SECONDS_RUN WARMUP=$WARMUP" \
       "BB_SECONDS=$BB_SECONDS BB_RATE=$BB_RATE BB_CONNS=$BB_CONNS CHECK_HTTP_PROBES=$CHECK_HTTP_PROBES) — sonde $REV, $SWIFT_V," \
       "libcurl $CURL_V, blackbox_exporter $BB_V, check_http $CH_V, wrk $WRK_V," \
       "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') (1 worker), $(nproc) × $CPU, Linux $(uname -r)," \
       "load average before / after $LOAD_BEFORE / $LOAD_AFTER (a shared machine: other work shows as spread)."
  echo "All three fetch \`GET /health\` (200, 2 bytes) from the same nginx on loopback, a new TCP connection per probe." \
       "CPU is user + system of the prober's own process(es) only (not nginx, not wrk); medians of $ROUNDS rounds, (min–max) beside."
  echo
  echo "| prober | how it was driven | probes per round | rate | CPU ms per probe (median) | spread |"
  echo "| --- | --- | --- | --- | --- | --- |"
  echo "| **sonde run**, steady state | $CHECKS checks × \`@every ${INTERVAL}s\`, ${SECONDS_RUN} s measured from ${WARMUP} s after start-up | $(med "$T/sonde" 4) | $SRATE/s | **$(f3 "$S")** | $(spread "$T/sonde" 1) |"
  echo "| sonde run, raw (since exec) | same run: all CPU since exec ÷ all run lines by the same moment | $(med "$T/sonde" 5) lines in all | | $(f3 "$SR") | $(spread "$T/sonde" 2) |"
  echo "| **blackbox_exporter** | wrk, $BB_CONNS connections, ${BB_PAUSE} ms pause, ${BB_SECONDS} s, \`/probe?module=http_2xx\` | $(med "$T/blackbox" 2) | $BRATE/s | **$(f3 "$B")** | $(spread "$T/blackbox" 1) |"
  echo "| **check_http** | one process per probe, $CHECK_HTTP_PROBES in a row | $CHECK_HTTP_PROBES | $CRATE/s | **$(f3 "$C")** | $(spread "$T/check_http" 1) |"
  echo
  echo "| ratio | value | goal |"
  echo "| --- | --- | --- |"
  echo "| sonde (steady) / blackbox | **$SB** | ≤ $GOAL_RATIO: $GOAL |"
  echo "| sonde (raw, start-up included) / blackbox | $SBR | ($GOAL_RATIO: $GOAL_RAW) |"
  echo "| sonde (steady) / check_http | $SC | |"
  echo "| blackbox / check_http | $(ratio "$B" "$C") | |"
  echo
  echo "- sonde start-up (exec to the \`start\` log line): $(f3 "$SU") s of CPU (median), in the raw figure, not in the steady one." \
       "Failed sonde runs over all rounds: $FAILED. sonde CPU = utime + stime from /proc/PID/stat (every thread), probes = run lines written."
  echo "- blackbox: module \`http_2xx\` (\`prober: http\`, timeout 5s); sample probe before the rounds: $BB_SAMPLE; a /probe request took $BB_LATENCY_MS ms (median of 5 with curl), whence the pause." \
       "Probes = wrk answers containing \`probe_success 1\` (answers without it: 0, else the script stops). Its CPU includes serving" \
       "\`/probe\` over HTTP and rendering the metrics, as each Prometheus scrape of a blackbox probe does."
  echo "- check_http: \`check_http -I 127.0.0.1 -p PORT -u /health\` → \`$CHECK_HTTP_SAMPLE\`; CPU = getrusage(RUSAGE_CHILDREN) of the" \
       "python3 that runs them in a row (exec and dynamic loading included, python's fork excluded)."
  echo
  echo "Per round (CPU ms per probe; probes; rate per second):"
  echo
  echo "| round | sonde steady | sonde raw | sonde start-up CPU | blackbox | check_http | load average after |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  paste -d' ' "$T/sonde" "$T/blackbox" "$T/check_http" "$T/load" | awk '{
    printf "| %d | %.3f (%d; %.0f/s) | %.3f (%d lines) | %.2f s | %.3f (%d; %.0f/s) | %.3f (%d; %.0f/s) | %s %s %s |\n",
      NR, $1, $4, $7, $2, $5, $3, $8, $9, $10, $11, $12, $13, $14, $15, $16 }'
} > "$T/results.md"
cat "$T/results.md"
cp "$T/results.md" "$RESULTS"
say "written to $RESULTS"
