#!/usr/bin/env bash
# Heap per check, by allocation site: `sonde run` under heaptrack with CHECKS checks every INTERVAL s
# against a private nginx for SECONDS_RUN s (every check runs at least twice), then SIGTERM; the
# heap still allocated at exit (heaptrack's "leaked": every per-check structure, none of the runs,
# which have ended) ÷ CHECKS, and the same by the innermost sonde frame that allocated it. Unlike
# RSS (memory.sh), the figure does not move with the load of the machine: runs that wait for a CPU
# end before the exit, and the allocator's free pages are not counted.
#
# Usage: bash bench/heap.sh            prints the table (RESULTS=FILE also writes it there)
# Env:   CHECKS (10000), INTERVAL (30, seconds), SECONDS_RUN (85), TOP (20 sites),
#        SONDE_BIN (.build/release/sonde)
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKS=${CHECKS:-10000}
INTERVAL=${INTERVAL:-30}
SECONDS_RUN=${SECONDS_RUN:-85}
TOP=${TOP:-20}
BIN=${SONDE_BIN:-.build/release/sonde}
RESULTS=${RESULTS:-}

BENCH_NAME=heap
# shellcheck source=bench/lib.sh
. bench/lib.sh

[ -x "$BIN" ] || die "no sonde binary at $BIN: build first (make build) or set SONDE_BIN"
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v heaptrack >/dev/null || missing+=(heaptrack)
install_missing "${missing[@]}"
BIN=$(readlink -f "$BIN")

T=$(mktemp -d /tmp/sonde-heap.XXXXXX)
HT_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$HT_PID" ] && kill -TERM "$HT_PID" 2>/dev/null || true
  stop_nginx
  rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_nginx "$T/nginx"
mkdir -p "$T/checks" "$T/data"
width=${#CHECKS}; ((width >= 4)) || width=4
for ((i = 1; i <= CHECKS; i++)); do
  printf '# @every %ss\n# @timeout 5s\nGET http://127.0.0.1:%s/health\nHTTP 200\n' "$INTERVAL" "$PORT" \
    > "$T/checks/$(printf "c%0${width}d" "$i").hurl"
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
heaptrack -o "$T/heap" "$BIN" run --checks "$T/checks" --data "$T/data" >"$T/out" 2>"$T/log" &
HT_PID=$!
sleep "$SECONDS_RUN"
# sonde is a descendant of the heaptrack script: find it by parent id and executable.
SONDE_PID=""
for child in $(children_of "$HT_PID"); do
  [ "$(readlink "/proc/$child/exe" 2>/dev/null)" = "$BIN" ] && SONDE_PID=$child
  for grandchild in $(children_of "$child"); do
    [ "$(readlink "/proc/$grandchild/exe" 2>/dev/null)" = "$BIN" ] && SONDE_PID=$grandchild
  done
done
[ -n "$SONDE_PID" ] || die "sonde did not start under heaptrack: $(tail -3 "$T/log")"
kill -TERM "$SONDE_PID"
wait "$HT_PID" || true
HT_PID=""
runs=$(find "$T/data" -name 'runs-*.jsonl' -print0 | xargs -0 -r cat | wc -l)
heaptrack_print -f "$T/heap.zst" --print-leaks 0 --print-peaks 0 --print-allocators 0 --print-temporary 0 \
  --print-flamegraph "$T/stacks" --flamegraph-cost-type leaked >/dev/null 2>&1
{
  echo "## sonde heap per check — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "\`CHECKS=$CHECKS INTERVAL=$INTERVAL SECONDS_RUN=$SECONDS_RUN bash bench/heap.sh\` — sonde \
$(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, load average before $load_before, \
after $(cut -d' ' -f1-3 /proc/loadavg); $runs runs recorded."
  echo
  python3 - "$T/stacks" "$CHECKS" "$TOP" <<'EOF'
import collections, re, sys
path, checks, top = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
total, sites = 0, collections.Counter()
for line in open(path):
    stack, cost = line.rsplit(" ", 1)
    cost = int(cost)
    total += cost
    frames = [f for f in stack.split(";") if "Sonde" in f]
    site = re.sub(r" \(.*\)$", "", frames[-1]) if frames else stack.split(";")[-1]
    sites[site[:110]] += cost
print(f"Heap at exit: {total} bytes, **{total / checks:.0f} bytes per check** ({checks} checks).")
print()
print("| bytes per check | innermost sonde frame (mangled) |")
print("| --- | --- |")
for site, cost in sites.most_common(top):
    print(f"| {cost / checks:.0f} | `{site}` |")
EOF
} | tee ${RESULTS:+"$RESULTS"}
