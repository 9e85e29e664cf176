#!/usr/bin/env bash
# Memory per check at rest: `sonde run` with CHECKS checks every INTERVAL s against a private nginx,
# once every check has run at least SETTLE_RUNS times (so every per-check structure exists: the SLO
# and incident rings, the metrics, the open hour rollup, the scheduler slot, the parsed script),
# against the same process with one check (`sonde run` refuses an empty folder). Figure:
# (RSS with CHECKS − RSS with one) ÷ (CHECKS − 1).
# RSS is sampled SAMPLES times, one second apart, from /proc/PID/status (VmRSS); the median is used.
# Sampling starts SETTLE_SECONDS after the start at the earliest, so that the prober has trimmed its
# heap once (it gives freed memory back every 60 s): the figure is the steady state, not the start-up.
#
# Usage: bash bench/memory.sh            writes the table to bench/results-memory.md (RESULTS overrides)
# Env:   CHECKS (10000), INTERVAL (10, seconds), SETTLE_RUNS (2), SETTLE_SECONDS (75), SAMPLES (5),
#        SONDE_BIN (.build/release/sonde), GOAL_KB (8, KB of 1,000 bytes per check)
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKS=${CHECKS:-10000}
INTERVAL=${INTERVAL:-10}
SETTLE_RUNS=${SETTLE_RUNS:-2}
SETTLE_SECONDS=${SETTLE_SECONDS:-75}
SAMPLES=${SAMPLES:-5}
BIN=${SONDE_BIN:-.build/release/sonde}
GOAL_KB=${GOAL_KB:-8}
RESULTS=${RESULTS:-bench/results-memory.md}

BENCH_NAME=memory
# shellcheck source=bench/lib.sh
. bench/lib.sh

[ -x "$BIN" ] || die "no sonde binary at $BIN: build first (make build) or set SONDE_BIN"
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
install_missing "${missing[@]}"

T=$(mktemp -d /tmp/sonde-memory.XXXXXX)
SONDE_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$SONDE_PID" ] && kill -0 "$SONDE_PID" 2>/dev/null; then
    kill -TERM "$SONDE_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SONDE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SONDE_PID" 2>/dev/null || true
  fi
  stop_nginx
  rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_nginx "$T/nginx"
say "nginx $NGINX_PID on 127.0.0.1:$PORT"

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# measure N: prints "RSS_KiB RUNS SECONDS_TO_SETTLE" for a sonde with N checks, settled.
measure() {
  local n=$1 dir="$T/n$1" i width runs start want samples=()
  mkdir -p "$dir/checks" "$dir/data"
  width=${#n}; ((width >= 4)) || width=4
  for ((i = 1; i <= n; i++)); do
    printf '# @every %ss\n# @timeout 5s\nGET http://127.0.0.1:%s/health\nHTTP 200\n' "$INTERVAL" "$PORT" \
      > "$dir/checks/$(printf "c%0${width}d" "$i").hurl"
  done
  "$BIN" run --checks "$dir/checks" --data "$dir/data" >"$dir/out" 2>"$dir/log" &
  SONDE_PID=$!
  for _ in $(seq 1200); do
    grep -q ' start: ' "$dir/log" 2>/dev/null && break
    kill -0 "$SONDE_PID" 2>/dev/null || { cat "$dir/log" >&2; die "sonde run exited at start-up"; }
    sleep 0.05
  done
  start=$(date +%s)
  # Settled: every check has SETTLE_RUNS runs on disk (each run is one line of its day file).
  want=$((n * SETTLE_RUNS))
  runs=0
  if true; then
    for _ in $(seq $((INTERVAL * (SETTLE_RUNS + 6) * 2))); do
      runs=$(find "$dir/data" -name 'runs-*.jsonl' -print0 | xargs -0 -r cat | wc -l)
      ((runs >= want)) && break
      sleep 0.5
    done
    ((runs >= want)) || die "only $runs of $want runs after $(($(date +%s) - start)) s"
  fi
  while (($(date +%s) - start < SETTLE_SECONDS)); do sleep 1; done
  for ((i = 0; i < SAMPLES; i++)); do samples+=("$(rss_kb "$SONDE_PID")"); sleep 1; done
  runs=$(find "$dir/data" -name 'runs-*.jsonl' -print0 | xargs -0 -r cat | wc -l)
  late=$(find "$dir/data" -name 'runs-*.jsonl' -print0 | xargs -0 -r cat \
    | grep -Eo '"late_ms":[0-9.]+' | awk -F: '$2 >= 100 { n++ } END { print n + 0 }')
  kill -TERM "$SONDE_PID"
  wait "$SONDE_PID" || true
  SONDE_PID=""
  echo "$(printf '%s\n' "${samples[@]}" | median) $runs $(($(date +%s) - start)) $late"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "baseline: one check"
read -r base_kb _ _ < <(measure 1)
say "baseline RSS $base_kb KiB; now $CHECKS checks every ${INTERVAL}s"
read -r full_kb runs settle late < <(measure "$CHECKS")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
per_check=$(awk -v f="$full_kb" -v b="$base_kb" -v n="$CHECKS" 'BEGIN { printf "%.2f", (f - b) * 1024 / (n - 1) / 1000 }')
verdict=$(awk -v p="$per_check" -v g="$GOAL_KB" 'BEGIN { print (p <= g ? "met" : "**not met**") }')
{
  echo "## sonde memory per check — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "\`CHECKS=$CHECKS INTERVAL=$INTERVAL bash bench/memory.sh\` — sonde $(git rev-parse --short HEAD 2>/dev/null || echo '?'), \
$(nproc) CPUs, Linux $(uname -r), load average before $load_before, after $load_after."
  echo
  echo "| figure | value | goal |"
  echo "| --- | --- | --- |"
  echo "| RSS with one check (median of $SAMPLES samples) | $base_kb KiB | |"
  echo "| RSS with $CHECKS checks every $INTERVAL s, $settle s after the start, $runs runs by then (each check ≥ $SETTLE_RUNS) | $full_kb KiB | |"
  echo "| runs ≥ 100 ms late by then (runs waiting for a CPU hold their memory: on a busy machine this figure grows) | $late of $runs | |"
  echo "| memory per check at rest: (RSS with $CHECKS − RSS with one) ÷ $((CHECKS - 1)) | $per_check KB | ≤ $GOAL_KB KB: $verdict |"
} | tee "$RESULTS"
say "written to $RESULTS"
