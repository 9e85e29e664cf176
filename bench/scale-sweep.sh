#!/usr/bin/env bash
# Throughput sweep: bench/scale.sh at rising rates (CHECKS checks every INTERVAL s), to find where
# sonde stops starting its runs on time. Each step is one scale.sh run of SECONDS_RUN s; the last
# step is the goal (10,000 runs/s: 10,000 checks every second, >= 99% of runs < 100 ms late) and
# its full table goes to bench/results-scale-10000x1s.md. The sweep's own table (one row a rate)
# goes to bench/results-scale-sweep.md.
#
# Usage: bash bench/scale-sweep.sh
# Env:   STEPS ("2500 5000 7500 10000": checks at INTERVAL), INTERVAL (1), SECONDS_RUN (30),
#        LATE_GOAL_SHARE (99), SONDE_BIN; RESULTS (bench/results-scale-sweep.md)
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=${STEPS:-2500 5000 7500 10000}
INTERVAL=${INTERVAL:-1}
SECONDS_RUN=${SECONDS_RUN:-30}
LATE_GOAL_SHARE=${LATE_GOAL_SHARE:-99}
RESULTS=${RESULTS:-bench/results-scale-sweep.md}
BENCH_NAME=scale-sweep
# shellcheck source=bench/lib.sh
. bench/lib.sh

mkdir -p bench/out
rows=()
last=""
for checks in $STEPS; do
  out=bench/out/scale-sweep-${checks}x${INTERVAL}s.md
  last=$checks
  say "$checks checks every ${INTERVAL}s for ${SECONDS_RUN}s"
  if ! CHECKS=$checks INTERVAL=$INTERVAL SECONDS_RUN=$SECONDS_RUN LATE_GOAL_SHARE=$LATE_GOAL_SHARE \
    RSS_GOAL_MB=1000 RESULTS="$out" bash bench/scale.sh >/dev/null; then
    rows+=("| $checks | $(awk -v c="$checks" -v i="$INTERVAL" 'BEGIN { printf "%d", c / i }') | scale.sh failed | | | | | |")
    continue
  fi
  # cell FIGURE: the value cell of the row whose first cell starts with FIGURE
  cell() { awk -F'|' -v k="$1" 'index($2, " " k) == 1 { gsub(/^ +| +$/, "", $3); print $3; exit }' "$out"; }
  share=$(cell "runs starting <" | sed 's/ (.*//')
  late=$(cell "late_ms p50")
  skipped=$(cell "slots skipped")
  cpu=$(cell "sonde CPU per 1,000 runs")
  rss=$(cell "sonde peak RSS" | sed 's/ (.*//')
  load=$(cell "load average at the end" | sed 's/ (.*//')
  rate=$(awk -v c="$checks" -v i="$INTERVAL" 'BEGIN { printf "%d", c / i }')
  rows+=("| $checks | $rate | $share | $late | $skipped | $cpu | $rss | $load |")
done
[ -n "$last" ] && [ -f "bench/out/scale-sweep-${last}x${INTERVAL}s.md" ] \
  && cp "bench/out/scale-sweep-${last}x${INTERVAL}s.md" "bench/results-scale-${last}x${INTERVAL}s.md"
{
  echo "## sonde throughput sweep — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "\`STEPS=\"$STEPS\" INTERVAL=$INTERVAL SECONDS_RUN=$SECONDS_RUN bash bench/scale-sweep.sh\` — sonde $(git rev-parse --short HEAD 2>/dev/null || echo '?'), \
$(nproc) CPUs, one private nginx on loopback, \`ulimit -n\` $(ulimit -n). Each row is one \`bench/scale.sh\` run; \
the last is the goal (≥ ${LATE_GOAL_SHARE}% of runs < 100 ms late), its full table in results-scale-${last}x${INTERVAL}s.md."
  echo
  echo "| checks every ${INTERVAL} s | runs/s | runs < 100 ms late | late_ms p50 / p99 / p99.9 / max | skipped / dropped | CPU per 1,000 runs | peak RSS | load at the end |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
} | tee "$RESULTS"
say "written to $RESULTS"
