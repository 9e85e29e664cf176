#!/usr/bin/env bash
# Runs a test command (make test: swift test --skip-build), shows its output and keeps it in
# .build/test.log (TEST_LOG overrides), and when it fails names the failed tests after it:
#
#   Failed tests:
#     a failing second entry stops the run and names its line, actual and expected
#     SondeTests.SomeXCTestCase/testSomething
#
# Swift Testing's lines `✘ Test "NAME" failed after …` and XCTest's `Test Case '…' failed` give the
# names. When the run fails without naming any (a crash), the tests that started and never ended
# are listed instead. The exit status is the test command's.
#
# Usage: bash .ci/failed-tests.sh COMMAND [ARGUMENT...]
set -uo pipefail

(($#)) || { echo "usage: bash .ci/failed-tests.sh COMMAND [ARGUMENT...]" >&2; exit 2; }
log=${TEST_LOG:-.build/test.log}
mkdir -p "$(dirname "$log")"

"$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
((status == 0)) && exit 0

# Plain text: no colour codes, whatever the terminal was.
plain() { sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log"; }
# A Swift Testing name as printed: "display name" or function(), and " with N test cases" for a
# parameterised test; the closing `Test run with N tests …` line is not a test.
swift_testing_name() {
  sed -E 's/ with [0-9]+ test cases?$//; s/^"(.*)"$/\1/' | grep -Ev '^run with [0-9]+ tests?( in [0-9]+ suites?)?$'
}

failed=$(
  {
    plain | sed -n -E 's/^✘ Test (.*) failed after [0-9.]+ seconds.*/\1/p' | swift_testing_name
    plain | sed -n -E "s/^Test Case '(.*)' failed \(.*/\1/p"
  } | awk 'NF && !seen[$0]++'
)

echo
if [ -n "$failed" ]; then
  echo "Failed tests:"
  printf '%s\n' "$failed" | sed 's/^/  /'
else
  unfinished=$(
    plain | awk '
      /^◇ Test .* started\.$/ { name = $0; sub(/^◇ Test /, "", name); sub(/ started\.$/, "", name); started[name] = NR; next }
      /^(✔|✘) Test .* (passed|failed) after / {
        name = $0; sub(/^(✔|✘) Test /, "", name); sub(/ (passed|failed) after .*$/, "", name); delete started[name]; next
      }
      END { for (name in started) print started[name] "\t" name }' | sort -n | cut -f2- | swift_testing_name
  )
  if [ -n "$unfinished" ]; then
    echo "Failed tests: none named; these started and did not finish (exit status $status):"
    printf '%s\n' "$unfinished" | sed 's/^/  /'
  else
    echo "Failed tests: none named (exit status $status); see $log"
  fi
fi
exit "$status"
