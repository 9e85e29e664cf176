#!/usr/bin/env bash
# Instruction profile of the daemon's hot path: `sonde run` with CHECKS checks every second against a
# private nginx on loopback, under valgrind's callgrind (instruction counts are repeatable, unlike
# timings on a shared machine). Counting starts WARMUP s after launch (start-up left out) and lasts
# SECONDS_RUN s; prints instructions per run and the top functions by inclusive share.
#
# Usage: bash bench/profile.sh            (make profile)
# Env:   CHECKS (10), WARMUP (15), SECONDS_RUN (40), TOP (30), SONDE_BIN (.build/release/sonde),
#        KEEP=1 keeps the folder with the callgrind output (for kcachegrind or callgrind_annotate).
#
# valgrind 3.19 (Debian 12) crashes on Swift 6 programs: libdispatch hands rt_sigsuspend a signal
# mask in read-only memory and valgrind writes into it. A preloaded shim passes a copy instead; it
# is built here with cc and used only under valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_NAME=profile
# shellcheck source=bench/lib.sh
. bench/lib.sh

CHECKS=${CHECKS:-10}
WARMUP=${WARMUP:-15}
SECONDS_RUN=${SECONDS_RUN:-40}
TOP=${TOP:-30}
BIN=${SONDE_BIN:-.build/release/sonde}
[ -x "$BIN" ] || die "no sonde binary at $BIN: build first (make build) or set SONDE_BIN"
missing=()
command -v valgrind >/dev/null || missing+=(valgrind)
command -v cc >/dev/null || missing+=(gcc)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
install_missing "${missing[@]}"

T=$(mktemp -d /tmp/sonde-profile.XXXXXX)
SONDE_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$SONDE_PID" ] && kill -TERM "$SONDE_PID" 2>/dev/null || true
  stop_nginx
  if [ "${KEEP:-0}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat > "$T/sigsuspend.c" <<'EOF'
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
/* Same call, with the mask copied to writable memory first (see the comment in profile.sh). */
int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
EOF
cc -shared -fPIC -O2 -o "$T/sigsuspend.so" "$T/sigsuspend.c"

start_nginx "$T/nginx"
mkdir -p "$T/checks" "$T/data"
for ((i = 1; i <= CHECKS; i++)); do
  printf '# @every 1s\n# @timeout 5s\nGET http://127.0.0.1:%s/health\nHTTP 200\n' "$PORT" > "$T/checks/$(printf 'c%04d' "$i").hurl"
done

say "$CHECKS checks every 1 s under callgrind: $WARMUP s of start-up, then $SECONDS_RUN s counted"
LD_PRELOAD="$T/sigsuspend.so" valgrind --tool=callgrind --callgrind-out-file="$T/callgrind.%p" \
  "$BIN" run --checks "$T/checks" --data "$T/data" >"$T/sonde.out" 2>"$T/valgrind.log" &
SONDE_PID=$!
sleep "$WARMUP"
kill -0 "$SONDE_PID" 2>/dev/null || { tail -20 "$T/valgrind.log" >&2; die "sonde under valgrind exited early"; }
runs_before=$(cat "$T"/data/*/runs-*.jsonl 2>/dev/null | wc -l)
callgrind_control -z "$SONDE_PID" >/dev/null 2>&1
sleep "$SECONDS_RUN"
callgrind_control -d "$SONDE_PID" >/dev/null 2>&1
runs_after=$(cat "$T"/data/*/runs-*.jsonl 2>/dev/null | wc -l)
kill -TERM "$SONDE_PID"
wait "$SONDE_PID" 2>/dev/null || true
SONDE_PID=""

dump=$(ls -t "$T"/callgrind.*.1 2>/dev/null | head -1 || true)
[ -n "$dump" ] || die "no callgrind dump in $T"
runs=$((runs_after - runs_before))
total=$(awk '/^summary:/ { print $2 }' "$dump")
echo "callgrind: $runs runs in the counted $SECONDS_RUN s; $total instructions; $(awk -v t="$total" -v r="$runs" 'BEGIN { if (r > 0) printf "%.0f", t / r; else print "-" }') per run"
callgrind_annotate --inclusive=yes "$dump" 2>/dev/null > "$T/annotate.txt" || true
awk '/^-+$/ { dashes++; next } dashes >= 4 && NF { print; if (++n == top) exit }' top="$TOP" "$T/annotate.txt" | cut -c1-180
