#!/usr/bin/env bash
# Scale benchmark: CHECKS checks every INTERVAL s for SECONDS_RUN s against a local nginx (loopback only).
# Goal (the issue): 2,000 checks every 2 s for 60 s, >= 99.9% of runs starting < 100 ms late,
# peak RSS < 200 MB; also reported: CPU seconds per 1,000 runs, failures, unparsable lines.
#
# Usage: bash bench/scale.sh                              run the scenario, print the table and write
#                                                         it to bench/results-scale.md
#        bash bench/scale.sh --analyse DIR [TIME [LOG]]   print the table for an existing data folder
#                                                         (TIME: `/usr/bin/time -v -o` output, LOG: sonde's stderr)
# Env:   CHECKS (2000), INTERVAL (2, seconds), SECONDS_RUN (60), SONDE_BIN (.build/release/sonde),
#        LATE_GOAL_SHARE (99.9, percent of runs < 100 ms late), RSS_GOAL_MB (200),
#        STARTUP_TIMEOUT (300, seconds sonde may take to load its checks and log `start`),
#        KEEP=1 keeps the temporary folder (checks, data, logs) and prints where it is,
#        OUTAGE=1: every check probes a closed loopback port (all fail: 2,000 incidents open at once)
#        and sonde posts them to a webhook receiver that is down (retries, full queue); results in
#        bench/results-scale-outage.md unless RESULTS says otherwise.
#        RESULTS (bench/results-scale.md, or bench/results-scale-CHECKSxINTERVALs.md when CHECKS or
#        INTERVAL is not the default) is where the table goes.
#        STARTUP_ONLY=N: measure the start-up only: peak RSS (VmHWM) when the `start` line is logged
#        (loading, the writer's rebuild, the SLO rings, the incident replay) and N s later (the first
#        runs added), RSS at both, then SIGTERM; prints a short table (to RESULTS only when given).
# Installs what is missing (nginx-light, time, jq) with apt-get; the system nginx is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKS=${CHECKS:-2000}
INTERVAL=${INTERVAL:-2}
SECONDS_RUN=${SECONDS_RUN:-60}
BIN=${SONDE_BIN:-.build/release/sonde}
OUTAGE=${OUTAGE:-0}
RESULTS_GIVEN=${RESULTS:-}
if [ "$OUTAGE" = 1 ]; then RESULTS=${RESULTS:-bench/results-scale-outage.md}
elif [ "$CHECKS" = 2000 ] && [ "$INTERVAL" = 2 ]; then RESULTS=${RESULTS:-bench/results-scale.md}
else RESULTS=${RESULTS:-bench/results-scale-${CHECKS}x${INTERVAL}s.md}; fi
LATE_GOAL_MS=100                          # a run counts as on time when late_ms < this
LATE_GOAL_SHARE=${LATE_GOAL_SHARE:-99.9}  # percent of runs on time
RSS_GOAL_MB=${RSS_GOAL_MB:-200}           # peak RSS, MB (10^6 bytes)
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-300}

BENCH_NAME=scale
# shellcheck source=bench/lib.sh
. bench/lib.sh   # say, die, install_missing, children_of, cpu_seconds, free_port, start_nginx, stop_nginx

# --- analysis ----------------------------------------------------------------------------------
# Globals it reads when set: TIME_FILE (time -v output), SONDE_LOG (sonde's stderr), NGINX_CPU (s),
# SKIPPED / DROPPED (from /metrics), STARTUP_S, SONDE_RC, HEADER (lines printed above the table).

pcts() {  # pcts FILE: "p50 p99 p99.9 max" (nearest rank) of the numbers in FILE, "- - - -" if none
  sort -g "$1" | awk '{ v[NR] = $1 }
    function rank(q,  i) { i = int(q * NR); if (i < q * NR) i++; if (i < 1) i = 1; return v[i] }
    END { if (NR == 0) { print "- - - -"; exit }
          printf "%.3f %.3f %.3f %.3f\n", rank(0.50), rank(0.99), rank(0.999), v[NR] }'
}

time_field() {  # time_field NAME: the value of "NAME: value" in TIME_FILE, empty when absent
  [ -n "${TIME_FILE:-}" ] && [ -f "$TIME_FILE" ] || return 0
  awk -v k="$1" 'index($0, k ": ") { print substr($0, index($0, k ": ") + length(k) + 2); exit }' "$TIME_FILE"
}

analyse() {  # analyse DATA_DIR: prints the Markdown report on stdout
  local data=$1 w
  [ -d "$data" ] || die "no data folder: $data"
  w=$(mktemp -d)
  # One record per line, files kept apart (a torn last line must not join the next file's first
  # line), prefixed with file:line; jq decides what parses; awk adds up.
  find "$data" -type f -name 'runs-*.jsonl' -print0 | sort -z \
    | xargs -0 -r awk '{ n = split(FILENAME, p, "/"); print p[n-1] "/" p[n] ":" FNR "\t" $0 }' \
    | jq -R -r '
        . as $raw | (index("\t")) as $i | $raw[:$i] as $where | $raw[$i+1:] as $line
        | (try ($line | fromjson) catch null) as $o
        | if ($o | type) == "object" and ($o.ok | type) == "boolean"
             and ($o.late_ms | type) == "number" and ($o.ms | type) == "number"
          then ["R", ($o.check | tostring), ($o.ok | tostring), $o.late_ms, $o.ms,
                (($o.err | if type == "object" then .kind else null end) // "-" | tostring)]
          else ["B", $where, ($line[:70])] end
        | @tsv' \
    | awk -F'\t' -v w="$w" -v goal="$LATE_GOAL_MS" '
        $1 == "B" { bad++; if (bad <= 3) print $2 ": " $3 > (w "/bad"); next }
        { runs++; per[$2]++; print $4 > (w "/late"); print $5 > (w "/ms")
          if ($4 < goal) ontime++
          if ($3 != "true") { failed++; k = $6; gsub(/[^A-Za-z0-9_.-]/, "?", k); kinds[k]++ } }
        END { for (c in per) { n = per[c]; checks++
                if (min == "" || n < min) min = n; if (max == "" || n > max) max = n }
              k = ""; for (x in kinds) k = k (k == "" ? "" : ", ") x " " kinds[x]
              printf "runs=%d\nontime=%d\nfailed=%d\nkinds=\"%s\"\nbad=%d\nseen=%d\nmin=%s\nmax=%s\n",
                runs, ontime, failed, k, bad, checks, (min == "" ? 0 : min), (max == "" ? 0 : max) }' \
    > "$w/sum"
  local runs ontime failed kinds bad seen min max
  # shellcheck disable=SC1091
  . "$w/sum"
  touch "$w/late" "$w/ms"
  local l50 l99 l999 lmax m50 m99 m999 mmax
  read -r l50 l99 l999 lmax < <(pcts "$w/late")
  read -r m50 m99 m999 mmax < <(pcts "$w/ms")

  local expected per_check share share_s late_ok cpu_u cpu_s cpu per1k rss_kb rss_mb rss_ok wall
  expected=$(awk -v c="$CHECKS" -v s="$SECONDS_RUN" -v i="$INTERVAL" 'BEGIN { printf "%d", c * s / i }')
  per_check=$(awk -v s="$SECONDS_RUN" -v i="$INTERVAL" 'BEGIN { printf "%g", s / i }')
  if ((runs > 0)); then
    share=$(awk -v a="$ontime" -v n="$runs" 'BEGIN { printf "%.3f", 100 * a / n }')
    share_s="$share% ($ontime of $runs; $((runs - ontime)) late)"
    late_ok=$(awk -v s="$share" -v g="$LATE_GOAL_SHARE" 'BEGIN { print (s >= g ? "met" : "**not met**") }')
  else
    share_s="-"; late_ok="**not met** (no runs)"
  fi
  cpu_u=$(time_field "User time (seconds)"); cpu_s=$(time_field "System time (seconds)")
  if [ -n "$cpu_u" ] && [ -n "$cpu_s" ]; then
    cpu=$(awk -v u="$cpu_u" -v s="$cpu_s" 'BEGIN { printf "%.2f", u + s }')
    per1k=$(awk -v c="$cpu" -v n="$runs" 'BEGIN { if (n > 0) printf "%.3f s", 1000 * c / n; else print "-" }')
    cpu="$cpu s (user $cpu_u + sys $cpu_s)"
  else cpu="-"; per1k="-"; fi
  rss_kb=$(time_field "Maximum resident set size (kbytes)")
  if [ -n "$rss_kb" ]; then
    rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
    rss_ok=$(awk -v m="$rss_mb" -v g="$RSS_GOAL_MB" 'BEGIN { print (m < g ? "met" : "**not met**") }')
    rss_mb="$rss_mb MB ($rss_kb KiB)"
  else rss_mb="-"; rss_ok="-"; fi
  wall=$(time_field "Elapsed (wall clock) time (h:mm:ss or m:ss)")

  local log_lines=0 log_other=0 stop_line=""
  if [ -n "${SONDE_LOG:-}" ] && [ -f "$SONDE_LOG" ]; then
    log_lines=$(wc -l < "$SONDE_LOG")
    log_other=$(awk '$2 != "info"' "$SONDE_LOG" | wc -l)
    stop_line=$(grep -o 'stopped: .*' "$SONDE_LOG" | tail -1 || true)
  fi

  [ -n "${HEADER:-}" ] && printf '%s\n\n' "$HEADER"
  echo "| figure | value | goal |"
  echo "| --- | --- | --- |"
  echo "| checks × interval × duration | $CHECKS × ${INTERVAL} s × ${SECONDS_RUN} s | |"
  echo "| runs recorded | $runs (expected ≈ $expected; $seen checks with runs, $min–$max runs each, ≈ $per_check expected) | |"
  [ -n "${SKIPPED:-}" ] && echo "| slots skipped (sonde_runs_skipped_total) / records dropped | $SKIPPED / ${DROPPED:--} | 0 / 0 |"
  if [ "${OUTAGE:-0}" = 1 ]; then
    echo "| failed runs (outage: all should fail) | $failed${kinds:+ ($kinds)} | all: $( ((failed == runs)) && echo met || echo '**not met**') |"
  else
    echo "| failed runs | $failed${kinds:+ ($kinds)} | 0: $( ((failed == 0)) && echo met || echo '**not met**') |"
  fi
  echo "| runs starting < ${LATE_GOAL_MS} ms late | $share_s | ≥ ${LATE_GOAL_SHARE}%: $late_ok |"
  echo "| late_ms p50 / p99 / p99.9 / max | $l50 / $l99 / $l999 / $lmax | |"
  echo "| run duration ms p50 / p99 / p99.9 / max | $m50 / $m99 / $m999 / $mmax | |"
  echo "| sonde CPU | $cpu | |"
  echo "| sonde CPU per 1,000 runs | $per1k | |"
  [ -n "${NGINX_CPU:-}" ] && echo "| nginx worker CPU during the run (not sonde's) | $NGINX_CPU s | |"
  echo "| sonde peak RSS | $rss_mb | < ${RSS_GOAL_MB} MB: $rss_ok |"
  [ -n "${RSS_END_KB:-}" ] && echo "| sonde RSS at the end / descriptors open at the end | $(awk -v k="$RSS_END_KB" 'BEGIN { printf "%.1f MB", k * 1024 / 1e6 }') / ${FDS:-?} (\`ulimit -n\` $(ulimit -n)) | |"
  [ -n "${LOAD_AFTER:-}" ] && echo "| load average at the end of the run | $LOAD_AFTER ($(nproc) CPUs) | |"
  echo "| lines that do not parse as run JSON | $bad | 0: $( ((bad == 0)) && echo met || echo '**not met**') |"
  [ -n "${STARTUP_S:-}" ] && echo "| start-up (launch to the \`start\` log line) | $STARTUP_S s | |"
  [ -n "$wall" ] && echo "| sonde wall time / exit status | $wall / ${SONDE_RC:-$(time_field "Exit status")} | exit 0 |"
  [ -n "${SONDE_LOG:-}" ] && echo "| sonde stderr lines (not \`info\`) | $log_lines ($log_other) | |"
  if [ -s "$w/bad" ] || ((log_other > 0)) || [ -n "$stop_line" ]; then
    echo
    [ -n "$stop_line" ] && echo "- sonde's own count: \`$stop_line\`"
    if [ -s "$w/bad" ]; then
      echo "- lines that do not parse (first 3):"
      sed 's/^/  - `/; s/$/`/' "$w/bad"
    fi
    if ((log_other > 0)); then
      echo "- sonde stderr, first lines not at \`info\` level:"
      # awk stops by itself: `| head` would end it with SIGPIPE on a long log, and pipefail with it
      awk '$2 != "info" { print substr($0, 1, 200); if (++n == 5) exit }' "$SONDE_LOG" | sed 's/^/  - `/; s/$/`/'
    fi
  fi
  rm -rf "$w"
}

if [ "${1:-}" = "--analyse" ] || [ "${1:-}" = "--analyze" ]; then
  [ $# -ge 2 ] || die "usage: bash bench/scale.sh --analyse DATA_DIR [TIME_FILE [SONDE_LOG]]"
  command -v jq >/dev/null || install_missing jq
  TIME_FILE=${3:-} SONDE_LOG=${4:-} analyse "$2"
  exit 0
fi
[ $# -eq 0 ] || die "usage: bash bench/scale.sh | bash bench/scale.sh --analyse DATA_DIR [TIME_FILE [SONDE_LOG]]"

# --- scenario ----------------------------------------------------------------------------------
[ -x "$BIN" ] || die "no sonde binary at $BIN: build first (make build) or set SONDE_BIN"
missing=()
[ -x /usr/bin/time ] || missing+=(time)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v jq >/dev/null || missing+=(jq)
install_missing "${missing[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

T=$(mktemp -d /tmp/sonde-scale.XXXXXX)
TIME_PID="" NGINX_PID=""
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  if [ -n "$TIME_PID" ] && kill -0 "$TIME_PID" 2>/dev/null; then
    for pid in $(children_of "$TIME_PID"); do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 100); do kill -0 "$TIME_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$TIME_PID" 2>/dev/null || true
  fi
  stop_nginx
  if [ "${KEEP:-0}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$T/checks" "$T/data"
start_nginx "$T/nginx"   # sets PORT, NGINX_PID, NGINX_WORKER (bench/lib.sh)
say "nginx $NGINX_PID (worker $NGINX_WORKER) on 127.0.0.1:$PORT"

TARGET_PORT=$PORT EXTRA=()
if [ "$OUTAGE" = 1 ]; then
  TARGET_PORT=$(free_port)                              # nobody listens: connection refused
  EXTRA=(--webhook "http://127.0.0.1:$(free_port)/hook")  # a receiver that is down
  say "outage: checks probe closed port $TARGET_PORT; webhooks go to a closed port"
fi
width=${#CHECKS}; ((width >= 4)) || width=4
# awk writes the files: a shell loop takes minutes for 100,000 of them.
awk -v n="$CHECKS" -v w="$width" -v every="$INTERVAL" -v port="$TARGET_PORT" -v dir="$T/checks" 'BEGIN {
  for (i = 1; i <= n; i++) {
    f = sprintf("%s/c%0" w "d.hurl", dir, i)
    printf "# @every %ss\n# @timeout 5s\nGET http://127.0.0.1:%s/health\nHTTP 200\n", every, port > f
    close(f)
  } }'
[ "$OUTAGE" = 1 ] || "$BIN" check "$T/checks/$(printf "c%0${width}d" 1).hurl" >/dev/null \
  || die "sonde check fails on the generated check"

MPORT=$(free_port)
HEADER="## sonde scale benchmark$([ "$OUTAGE" = 1 ] && echo ': every check down at once, webhook receiver down') — $(date -u +%Y-%m-%dT%H:%MZ)

\`$([ "$OUTAGE" = 1 ] && echo 'OUTAGE=1 ')CHECKS=$CHECKS INTERVAL=$INTERVAL SECONDS_RUN=$SECONDS_RUN bash bench/scale.sh\` — sonde $(git rev-parse --short HEAD 2>/dev/null || echo '?'), \
$(nproc) CPUs, Linux $(uname -r), load average before $(cut -d' ' -f1-3 /proc/loadavg), \
nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') (1 worker, loopback), \`ulimit -n\` $(ulimit -n), tcp_tw_reuse $(cat /proc/sys/net/ipv4/tcp_tw_reuse 2>/dev/null || echo '?')."
say "$CHECKS checks every ${INTERVAL}s for ${SECONDS_RUN}s (load average $(cut -d' ' -f1-3 /proc/loadavg))"

HEADER_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
launch=$(date +%s.%N)
/usr/bin/time -v -o "$T/time.txt" "$BIN" run --checks "$T/checks" --data "$T/data" \
  --metrics "127.0.0.1:$MPORT" "${EXTRA[@]}" >"$T/sonde.out" 2>"$T/sonde.log" &
TIME_PID=$!
for _ in $(seq $((STARTUP_TIMEOUT * 20))); do
  grep -q ' start: ' "$T/sonde.log" 2>/dev/null && break
  kill -0 "$TIME_PID" 2>/dev/null || { cat "$T/sonde.log" >&2; die "sonde run exited at start-up"; }
  sleep 0.05
done
grep -q ' start: ' "$T/sonde.log" || { cat "$T/sonde.log" >&2; die "sonde run did not log its start in $STARTUP_TIMEOUT s"; }
STARTUP_S=$(awk -v a="$launch" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
SONDE_PID=$(children_of "$TIME_PID" | head -1)
nginx_before=$(cpu_seconds "$NGINX_WORKER")
say "sonde $SONDE_PID started in ${STARTUP_S}s; running ${SECONDS_RUN}s"

if [ -n "${STARTUP_ONLY:-}" ]; then
  status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SONDE_PID/status"; }
  hwm_start=$(status_kb VmHWM) rss_start=$(status_kb VmRSS)
  sleep "$STARTUP_ONLY" & wait $!
  hwm_after=$(status_kb VmHWM) rss_after=$(status_kb VmRSS)
  runs_after=$(find "$T/data" -name 'runs-*.jsonl' -print0 | xargs -0 -r cat | wc -l)
  kill -TERM "$SONDE_PID"
  wait "$TIME_PID" || true
  TIME_PID=""
  mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k * 1024 / 1e6 }'; }
  {
    echo "## sonde start-up memory — $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "\`STARTUP_ONLY=$STARTUP_ONLY CHECKS=$CHECKS INTERVAL=$INTERVAL bash bench/scale.sh\` — sonde \
$(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, load average before ${HEADER_LOAD}, after \
$(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| figure | value |"
    echo "| --- | --- |"
    echo "| start-up (launch to the \`start\` log line) | $STARTUP_S s |"
    echo "| peak RSS (VmHWM) at the \`start\` line / RSS then | $(mb "$hwm_start") / $(mb "$rss_start") |"
    echo "| peak RSS $STARTUP_ONLY s later / RSS then ($runs_after runs recorded by then) | $(mb "$hwm_after") / $(mb "$rss_after") |"
  } | tee ${RESULTS_GIVEN:+"$RESULTS"}
  exit 0
fi

sleep "$SECONDS_RUN" & wait $!   # in the background so that Ctrl-C / SIGTERM reach the trap at once

FDS=$(find "/proc/$SONDE_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
RSS_END_KB=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$SONDE_PID/status" 2>/dev/null || true)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
metrics=$(timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT; printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3; cat <&3" 2>/dev/null || true)
SKIPPED=$(awk '/^sonde_runs_skipped_total[{ ]/ { s += $NF; n++ } END { print (n ? s : "?") }' <<<"$metrics")
DROPPED=$(awk '/^sonde_records_dropped_total[{ ]/ { s += $NF; n++ } END { print (n ? s : "?") }' <<<"$metrics")
NGINX_CPU=$(awk -v a="$nginx_before" -v b="$(cpu_seconds "$NGINX_WORKER")" 'BEGIN { printf "%.2f", b - a }')
say "SIGTERM to sonde"
kill -TERM "$SONDE_PID"
SONDE_RC=0
wait "$TIME_PID" || SONDE_RC=$?
TIME_PID=""
# GNU time reports the command's own status in its file; ours is time's.
if grep -q 'Command terminated by signal' "$T/time.txt"; then SONDE_RC="$(grep -o 'signal [0-9]*' "$T/time.txt")"; fi

say "analysing $(find "$T/data" -name 'runs-*.jsonl' | wc -l) run files"
TIME_FILE="$T/time.txt" SONDE_LOG="$T/sonde.log" analyse "$T/data" | tee "$RESULTS"
say "written to $RESULTS"
