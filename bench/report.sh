#!/usr/bin/env bash
# Report-speed benchmark: `sonde report` over CHECKS checks x DAYS days at one run a minute (100 x 30 d =
# 4.32 M runs, hour lines present) against sqlite3 computing only the DAYS-day uptime per check over
# the same runs, already loaded in a table. Goal (the issue): sonde faster. Reports both medians, their
# ratio and peak RSS, and checks both answers against the truth the generator knows.
#
# Usage: bash bench/report.sh [--regen]   prints the table and writes it to bench/results-report.md
# Env:   SEED (1), CHECKS (100), DAYS (30), ROUNDS (5), SONDE_BIN (.build/release/sonde),
#        BENCH_DIR (/tmp/sonde-bench-report-SEED, -SEED-CHECKSxDAYS when not 100 x 30),
#        MAX_AGE_MIN (120: cached data older than this is generated again, as the window moves),
#        WORKERS (generator processes, nproc), SONDE_REPORT_ARGS (extra arguments for sonde report).
#
# Data (bench/report-gen.py, Python standard library; cached in BENCH_DIR, --regen forces it):
#   data/<check>/runs-*.jsonl + hours-*.jsonl in docs/data-format.md's format, checks/*.hurl,
#   runs.db (sqlite3: table runs("check" TEXT, t INTEGER epoch ms, ok INTEGER, ms REAL) loaded with
#   .import from CSV the generator writes; index runs_check_t_ok ON runs("check", t, ok) - a covering
#   index, so the query reads the index only, in check order), expected.json (the failed runs).
# Timing: one untimed warm-up each (page cache), then ROUNDS interleaved rounds; medians.
#   sqlite3: the query's own time from `.timer on` (real), and the whole sqlite3 process (open the
#   DB on disk, query, exit: wall time and peak RSS from /usr/bin/time -v), with the covering index
#   and with `NOT INDEXED` (a full table scan).
#   sonde: the whole `sonde report --data DATA --out OUT` process (wall, peak RSS); OUT holds the previous
#   round's report, which is rewritten in place (as reports/ is by a cron job).
# Installs what is missing (python3, sqlite3, time, jq) with apt-get. No network use otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

SEED=${SEED:-1}
CHECKS=${CHECKS:-100}
DAYS=${DAYS:-30}
ROUNDS=${ROUNDS:-5}
BIN=${SONDE_BIN:-.build/release/sonde}
MAX_AGE_MIN=${MAX_AGE_MIN:-120}
WORKERS=${WORKERS:-$(nproc)}
if [ "$CHECKS" = 100 ] && [ "$DAYS" = 30 ]; then DEFAULT_DIR=/tmp/sonde-bench-report-$SEED
else DEFAULT_DIR=/tmp/sonde-bench-report-$SEED-${CHECKS}x$DAYS; fi
B=${BENCH_DIR:-$DEFAULT_DIR}
REGEN=0
for arg in "$@"; do
  case $arg in
    --regen) REGEN=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "report: unknown argument $arg (usage: bash bench/report.sh [--regen])" >&2; exit 2 ;;
  esac
done

say() { echo "report: $*" >&2; }
die() { echo "report: $*" >&2; exit 1; }

missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
[ -x /usr/bin/time ] || missing+=(time)
command -v jq >/dev/null || missing+=(jq)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- data (cached) -----------------------------------------------------------------------------
GEN_SUM=$(cat bench/report-gen.py | sha256sum | cut -c1-16)
WANT="seed=$SEED checks=$CHECKS days=$DAYS gen=$GEN_SUM"
fresh=0
if ((REGEN == 0)) && [ -f "$B/.complete" ] && [ "$(cat "$B/.complete")" = "$WANT" ]; then
  end_ms=$(jq -r .end_minute_ms "$B/expected.json")
  age_min=$(( ($(date +%s%3N) - end_ms) / 60000 ))
  if ((age_min <= MAX_AGE_MIN)); then fresh=1; say "using the data in $B (ends $age_min min ago)"
  else say "the data in $B ends $age_min min ago (> MAX_AGE_MIN=$MAX_AGE_MIN): generating again"; fi
fi
if ((fresh == 0)); then
  case $B in /tmp/*) ;; *) [ ! -e "$B" ] || [ -f "$B/.complete" ] || [ -f "$B/expected.json" ] \
    || die "BENCH_DIR $B exists and is not a benchmark folder: not deleting it" ;; esac
  rm -rf "$B"
  mkdir -p "$B"
  say "generating $CHECKS checks x $DAYS days at one run a minute into $B (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  gen_start=$EPOCHREALTIME
  python3 bench/report-gen.py "$B" --seed "$SEED" --checks "$CHECKS" --days "$DAYS" --workers "$WORKERS"
  GEN_S=$(awk -v a="$gen_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  say "loading the runs into sqlite3 ($B/runs.db)"
  load_start=$EPOCHREALTIME
  {
    echo 'PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;'
    echo 'CREATE TABLE runs("check" TEXT, t INTEGER, ok INTEGER, ms REAL);'
    echo '.mode csv'
    for f in "$B"/csv/*.csv; do echo ".import '$f' runs"; done
    echo 'CREATE INDEX runs_check_t_ok ON runs("check", t, ok);'
    echo 'ANALYZE;'
  } | sqlite3 "$B/runs.db" >/dev/null
  LOAD_S=$(awk -v a="$load_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  rm -rf "$B/csv"
  echo "generated in $GEN_S s ($WORKERS workers), sqlite3 load + index in $LOAD_S s" > "$B/.made"
  echo "$WANT" > "$B/.complete"
fi
DATA=$B/data
OUT=$B/out
T=$(mktemp -d /tmp/sonde-bench-report-run.XXXXXX)
trap 'rm -rf "$T"' EXIT

ROWS=$(sqlite3 "$B/runs.db" 'SELECT COUNT(*) FROM runs;')
RUN_FILES=$(find "$DATA" -name 'runs-*.jsonl' | wc -l)
HOUR_FILES=$(find "$DATA" -name 'hours-*.jsonl' | wc -l)
HOUR_LINES=$(cat "$DATA"/*/hours-*.jsonl | wc -l)
DATA_MB=$(du -sm "$DATA" | cut -f1)
DB_MB=$(du -sm "$B/runs.db" | cut -f1)

NOW_MS=$(date +%s%3N)
CUTOFF=$((NOW_MS - DAYS * 86400000))
QUERY="SELECT \"check\", SUM(ok)*1.0/COUNT(*) FROM runs WHERE t >= $CUTOFF GROUP BY \"check\";"
QUERY_SCAN="SELECT \"check\", SUM(ok)*1.0/COUNT(*) FROM runs NOT INDEXED WHERE t >= $CUTOFF GROUP BY \"check\";"
PLAN=$(sqlite3 "$B/runs.db" "EXPLAIN QUERY PLAN $QUERY" | grep -o 'SCAN.*\|SEARCH.*' | head -1)
PLAN_SCAN=$(sqlite3 "$B/runs.db" "EXPLAIN QUERY PLAN $QUERY_SCAN" | grep -o 'SCAN.*\|SEARCH.*\|USE TEMP.*' | paste -sd';' | sed 's/;/; /g')

# --- correctness -------------------------------------------------------------------------------
say "checking sqlite3's answer against the truth (cutoff $(date -u -d "@$((CUTOFF / 1000))" +%Y-%m-%dT%H:%M:%SZ))"
sqlite3 "$B/runs.db" "SELECT \"check\", COUNT(*), SUM(ok), SUM(ok)*1.0/COUNT(*) FROM runs WHERE t >= $CUTOFF GROUP BY \"check\";" > "$T/sqlite-verify.txt"
SQLITE_OK=$(python3 bench/report-verify.py sqlite "$B/expected.json" "$CUTOFF" "$T/sqlite-verify.txt" 2>"$T/sqlite-verify.err") \
  || SQLITE_OK="**no**: $SQLITE_OK ($(head -1 "$T/sqlite-verify.err"))"

HAVE_SONDE=0 SONDE_OK="- (not run)" SONDE_NOTE=""
if [ ! -x "$BIN" ]; then
  SONDE_NOTE="no sonde binary at $BIN (make build, or set SONDE_BIN): sonde side skipped"
elif ! "$BIN" --help 2>&1 | grep -qE '^ +report( |$)'; then
  SONDE_NOTE="\`$BIN report\` does not exist yet in this build: sonde side skipped"
else
  HAVE_SONDE=1
fi
REPORT_ARGS=(report --data "$DATA" --out "$OUT" --checks "$B/checks")   # @slo 99.9% 30d, no @latency
if ((HAVE_SONDE)); then
  "$BIN" validate "$B/checks" >/dev/null || die "sonde validate rejects the generated checks in $B/checks"
  # shellcheck disable=SC2206
  [ -n "${SONDE_REPORT_ARGS:-}" ] && REPORT_ARGS+=($SONDE_REPORT_ARGS)
  say "checking sonde's answer against the truth: ${REPORT_ARGS[*]} --json"
  rm -rf "$OUT"
  if "$BIN" "${REPORT_ARGS[@]}" --json >"$T/sonde.json" 2>"$T/sonde-json.err" && [ -s "$T/sonde.json" ]; then
    SONDE_OK=$(python3 bench/report-verify.py sonde-json "$B/expected.json" "$CUTOFF" "$T/sonde.json" 2>"$T/sonde-verify.err") || {
      say "--json: $SONDE_OK: $(head -3 "$T/sonde-verify.err" | tr '\n' ' ')"; SONDE_OK=""; }
    cp "$T/sonde.json" "$B/sonde-report.json"
  else
    say "sonde report --json failed or printed nothing: $(head -3 "$T/sonde-json.err" | tr '\n' ' ')"; SONDE_OK=""
  fi
  if [ -z "$SONDE_OK" ] || [[ $SONDE_OK == "could not"* ]]; then   # fall back to the Markdown table
    rm -rf "$OUT"
    "$BIN" "${REPORT_ARGS[@]}" >/dev/null 2>"$T/sonde-md.err" || die "sonde report failed: $(head -5 "$T/sonde-md.err")"
    readme=$(find "$OUT" -maxdepth 1 -iname 'README.md' | head -1)
    if [ -n "$readme" ]; then
      SONDE_OK=$(python3 bench/report-verify.py sonde-md "$B/expected.json" "$CUTOFF" "$readme" 2>"$T/sonde-verify.err") || true
    else SONDE_OK="could not read any uptime (no README.md in $OUT)"; fi
  fi
  case $SONDE_OK in "$CHECKS/$CHECKS "*) ;; *) SONDE_OK="**no**: $SONDE_OK ($(head -2 "$T/sonde-verify.err" 2>/dev/null | tr '\n' ' '))" ;; esac
fi

# --- timing ------------------------------------------------------------------------------------
# run_timed NAME INPUT CMD...: runs CMD <INPUT under /usr/bin/time -v; appends "wall_s rss_kb" to $T/NAME.
run_timed() {
  local name=$1 input=$2 start end; shift 2
  start=$EPOCHREALTIME
  /usr/bin/time -v -o "$T/$name.time" "$@" <"$input" >"$T/$name.out" 2>"$T/$name.err" \
    || die "$name failed: $(head -5 "$T/$name.err")"
  end=$EPOCHREALTIME
  # wall_s rss_kb cpu_s (user + system)
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')" \
       "$(awk -F': ' '/Maximum resident set size/ { r = $2 } /User time/ { u = $2 } /System time/ { s = $2 }
                      END { printf "%s %.2f", r, u + s }' "$T/$name.time")" >> "$T/$name"
}
sqlite_round() {  # sqlite_round NAME QUERY: whole process timed; the query's .timer real into $T/NAME.q
  printf '.timer on\n%s\n' "$2" > "$T/$1.sql"   # .timer reports only for statements read from stdin
  run_timed "$1" "$T/$1.sql" sqlite3 "$B/runs.db"
  grep -o 'Run Time: real [0-9.]*' "$T/$1.out" | awk '{ print $4 }' >> "$T/$1.q"
  [ "$(grep -vc 'Run Time' "$T/$1.out")" -eq "$CHECKS" ] || die "$1: expected $CHECKS rows: $(head -3 "$T/$1.out")"
}
sonde_round() {  # OUT kept between rounds, as reports/ is between two runs of sonde report: the files
  # are rewritten in place (emptying the folder first would time ext4 allocating 500 inodes instead)
  run_timed sonde /dev/null "$BIN" "${REPORT_ARGS[@]}"
}

say "warm-up, then $ROUNDS interleaved rounds (load average $(cut -d' ' -f1-3 /proc/loadavg))"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
sqlite_round sqlite-idx "$QUERY"; sqlite_round sqlite-scan "$QUERY_SCAN"
((HAVE_SONDE)) && sonde_round
rm -f "$T/sqlite-idx" "$T/sqlite-idx.q" "$T/sqlite-scan" "$T/sqlite-scan.q" "$T/sonde"
for ((r = 1; r <= ROUNDS; r++)); do
  sqlite_round sqlite-idx "$QUERY"
  sqlite_round sqlite-scan "$QUERY_SCAN"
  ((HAVE_SONDE)) && sonde_round
  say "round $r/$ROUNDS: sqlite3 (index) query $(tail -1 "$T/sqlite-idx.q") s, process $(tail -1 "$T/sqlite-idx" | cut -d' ' -f1) s;" \
      "table scan $(tail -1 "$T/sqlite-scan.q") s$( ((HAVE_SONDE)) && echo "; sonde $(tail -1 "$T/sonde" | cut -d' ' -f1) s")"
done

med() {  # med FILE COLUMN: median (lower of the two middle values for an even count)
  awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
range() { awk -v c="$2" '{ print $c }' "$1" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s–%s", lo, hi }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k * 1024 / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

QI=$(med "$T/sqlite-idx.q" 1); QS=$(med "$T/sqlite-scan.q" 1)
PI=$(med "$T/sqlite-idx" 1); PS=$(med "$T/sqlite-scan" 1)
RI=$(med "$T/sqlite-idx" 2); RS=$(med "$T/sqlite-scan" 2)
CI=$(med "$T/sqlite-idx" 3); CS=$(med "$T/sqlite-scan" 3)
if ((HAVE_SONDE)); then SW=$(med "$T/sonde" 1); SR=$(med "$T/sonde" 2); SC=$(med "$T/sonde" 3); fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM=$(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)
SWIFT_V=$(swift --version 2>/dev/null | grep -o 'Swift version [^ ]*' | head -1 || echo 'swift ?')
SQLITE_V=$(sqlite3 --version | cut -d' ' -f1)
REV=$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources 2>/dev/null || echo '+changes')
MADE=$(cat "$B/.made" 2>/dev/null || echo '?')
{
  echo "## sonde report benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "\`bash bench/report.sh\` (SEED=$SEED CHECKS=$CHECKS DAYS=$DAYS ROUNDS=$ROUNDS) — sonde $REV, $SWIFT_V, sqlite3 $SQLITE_V," \
       "$(nproc) × $CPU, $MEM RAM, Linux $(uname -r), load average before / after the rounds $LOAD_BEFORE / $LOAD_AFTER (a shared machine: other work shows as spread)."
  echo "Data: $CHECKS checks × $DAYS days × one run a minute = $ROWS runs ($RUN_FILES day files, $HOUR_LINES hour lines" \
       "in $HOUR_FILES month files, $DATA_MB MB; sqlite3 DB $DB_MB MB); $MADE. Window: the last $DAYS days (\`t >= $CUTOFF\`)."
  echo
  echo "| | sonde report | sqlite3, covering index | sqlite3, table scan |"
  echo "| --- | --- | --- | --- |"
  if ((HAVE_SONDE)); then
    echo "| what is timed | whole process: \`sonde ${REPORT_ARGS[*]/#$B/BENCH}\` (reads hour lines + recent raw runs, writes Markdown + SVG) | query only (\`.timer on\`, real): uptime per check | same query with \`NOT INDEXED\` |"
    echo "| median time ($ROUNDS runs) | **$(ms "$SW")** ($(range "$T/sonde" 1) s) | **$(ms "$QI")** ($(range "$T/sqlite-idx.q" 1) s) | $(ms "$QS") ($(range "$T/sqlite-scan.q" 1) s) |"
    echo "| whole process (open DB, query, exit) | $(ms "$SW") | $(ms "$PI") | $(ms "$PS") |"
    echo "| ratio sqlite3 / sonde (query time) | | **$(ratio "$QI" "$SW")** | $(ratio "$QS" "$SW") |"
    echo "| ratio sqlite3 / sonde (whole process) | | $(ratio "$PI" "$SW") | $(ratio "$PS" "$SW") |"
    echo "| whole-process CPU, user + system (median) | $SC s | $CI s | $CS s |"
    echo "| peak RSS (median) | $(mb "$SR") | $(mb "$RI") | $(mb "$RS") |"
    echo "| $DAYS-day uptime per check = truth | $SONDE_OK | $SQLITE_OK | (same query) |"
  else
    echo "| what is timed | — | query only (\`.timer on\`, real): uptime per check | same query with \`NOT INDEXED\` |"
    echo "| median time ($ROUNDS runs) | — | **$(ms "$QI")** ($(range "$T/sqlite-idx.q" 1) s) | $(ms "$QS") ($(range "$T/sqlite-scan.q" 1) s) |"
    echo "| whole process (open DB, query, exit) | — | $(ms "$PI") | $(ms "$PS") |"
    echo "| whole-process CPU, user + system (median) | — | $CI s | $CS s |"
    echo "| peak RSS (median) | — | $(mb "$RI") | $(mb "$RS") |"
    echo "| $DAYS-day uptime per check = truth | — | $SQLITE_OK | (same query) |"
  fi
  echo
  echo "- sqlite3 plans: index \`$PLAN\`; scan \`$PLAN_SCAN\`. Table \`runs(\"check\" TEXT, t INTEGER, ok INTEGER, ms REAL)\`," \
       "index \`runs_check_t_ok ON runs(\"check\", t, ok)\` (covering), \`ANALYZE\` run; loading is not timed. DB in the page cache (one warm-up run each)."
  echo "- Truth: check cNNN fails NNN runs spread over the month (kinds status, timeout, assert, connect); c007 also has a 2-hour outage" \
       "(120 runs). sqlite3 is checked on exact run and good counts at the same cutoff; sonde on its \`--json\` (or README.md) 30-day figure."
  [ -n "$SONDE_NOTE" ] && echo "- $SONDE_NOTE."
  true
} > "$T/results.md"
cat "$T/results.md"
cp "$T/results.md" bench/results-report.md
say "written to bench/results-report.md"
