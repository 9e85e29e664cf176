#!/usr/bin/env bash
# The release binary as `make install` lays it out (make install-check; .ci/run after make test):
#   1. ldd names no Swift library (runtime, Foundation, dispatch) and no path into the toolchain;
#   2. the installed copy runs with the toolchain's folder hidden (a mount namespace with an empty
#      tmpfs over it), as on a machine without Swift: --version and a demo round on loopback;
#   3. systemd-analyze verify accepts every installed unit (installed under a PREFIX in a temporary
#      folder, so each ExecStart names the real copy);
#   4. make install DESTDIR=... PREFIX=/usr lays out the files, and make uninstall removes them.
# Usage: bash .ci/install-check.sh [BINARY]   (default .build/release/sonde)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/sonde}
tmp=$(mktemp -d /tmp/sonde-install-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "install-check: FAILED: $*" >&2
  exit 1
}
[ -x "$bin" ] || fail "$bin is missing: make build"
# An absolute path: make install then copies this file and does not build it again.
bin=$(readlink -f "$bin")

echo "== ldd $bin"
libs=$(ldd "$bin")
echo "$libs"
if grep -Ei 'swift|Foundation|libdispatch|BlocksRuntime|_FoundationICU' <<<"$libs"; then
  fail "the binary loads Swift libraries: build it with --static-swift-stdlib (make build)"
fi
if readelf -d "$bin" | grep -E 'R(UN)?PATH' | grep -i swift; then
  fail "the binary has a run path into the Swift toolchain"
fi
size=$(stat -c %s "$bin")
echo "size: $((size / 1024 / 1024)) MiB ($size bytes)"

echo "== make install DESTDIR=$tmp/stage PREFIX=/usr"
make -s install DESTDIR="$tmp/stage" PREFIX=/usr SONDE_BIN="$bin" >/dev/null
for file in usr/bin/sonde usr/lib/systemd/system/sonde.service usr/lib/systemd/system/sonde-once@.service \
  usr/lib/systemd/system/sonde-once@.timer usr/lib/systemd/system/sonde@.service \
  usr/lib/systemd/system/sonde-rules.service usr/share/doc/sonde/README.md usr/share/doc/sonde/LICENSE \
  usr/share/doc/sonde/docs/fleet.md; do
  [ -f "$tmp/stage/$file" ] || fail "make install did not write $file"
done
[ -d "$tmp/stage/etc/sonde/checks" ] || fail "make install did not make etc/sonde/checks"
grep -q '^ExecStart=/usr/bin/sonde run ' "$tmp/stage/usr/lib/systemd/system/sonde.service" ||
  fail "sonde.service does not start /usr/bin/sonde"
cmp -s "$bin" "$tmp/stage/usr/bin/sonde" || fail "the installed binary is not $bin"

echo "== the installed copy with the toolchain hidden"
swift_bin=$(command -v swift || true)
if [ -n "$swift_bin" ]; then
  # /opt/swift/usr/bin/swift -> /opt/swift: the folder a toolchain install adds.
  toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$swift_bin")")")")
else
  toolchain=""
fi
run_hidden() {
  if [ -n "$toolchain" ] && [ "$toolchain" != "/" ] && unshare -m true 2>/dev/null; then
    unshare -m bash -c "mount -t tmpfs none '$toolchain' && $*"
  else
    echo "note: cannot hide ${toolchain:-the toolchain} (no mount namespace here); running it as it is" >&2
    bash -c "$*"
  fi
}
run_hidden "test ! -e '$toolchain/usr/bin/swift' && '$tmp/stage/usr/bin/sonde' --version" ||
  fail "the installed sonde does not run without the toolchain"
run_hidden "'$tmp/stage/usr/bin/sonde' demo --once --checks checks --data '$tmp/demo-data'" >"$tmp/demo.out" ||
  fail "sonde demo --once failed without the toolchain: $(cat "$tmp/demo.out")"
grep -q 'Success' "$tmp/demo.out" || fail "no check passed in the demo round: $(cat "$tmp/demo.out")"
echo "demo --once: $(grep -c Success "$tmp/demo.out") checks passed"

echo "== systemd-analyze verify"
if command -v systemd-analyze >/dev/null 2>&1; then
  make -s install PREFIX="$tmp/prefix" SYSCONFDIR="$tmp/etc" SONDE_BIN="$bin" >/dev/null
  (
    cd "$tmp/prefix/lib/systemd/system"
    out=$(systemd-analyze verify ./*.service ./*.timer 2>&1) || fail "systemd-analyze verify: $out"
    [ -z "$out" ] || fail "systemd-analyze verify warns: $out"
  )
  echo "verified: $(cd "$tmp/prefix/lib/systemd/system" && echo ./*)"
else
  fail "systemd-analyze is missing (apt-get install systemd)"
fi

echo "== make uninstall"
make -s uninstall DESTDIR="$tmp/stage" PREFIX=/usr >/dev/null
left=$(find "$tmp/stage" -type f)
[ -z "$left" ] || fail "make uninstall left $left"
echo "install-check: ok"
