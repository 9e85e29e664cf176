# sonde — build, test, demo. Each target installs libcurl's headers when they are missing.
SWIFT ?= swift
CURL_HEADER := /usr/include/x86_64-linux-gnu/curl/curl.h
BIN := .build/release/sonde
# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the systemd units and the docs (README.md,
# "Install"). SONDE_BIN installs another build of sonde instead of $(BIN) (the tests install the
# debug build, to check the layout without a release build).
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
BINDIR = $(PREFIX)/bin
UNITDIR = $(PREFIX)/lib/systemd/system
DOCDIR = $(PREFIX)/share/doc/sonde
SONDE_BIN ?= $(BIN)
UNITS := sonde.service sonde-once@.service sonde-once@.timer sonde@.service sonde-rules.service
# WERROR=1 (set by .ci/run): compiler warnings fail the build. -Xswiftc reaches only the Swift targets,
# so -Xcc -Werror covers the C target CCurl (and the ccurl.h import).
ifeq ($(WERROR),1)
SWIFT_BUILD_FLAGS := -Xswiftc -warnings-as-errors -Xcc -Werror
endif
# Files the formatter and the linter read; the rules are in .swift-format (docs/style.md).
FORMAT_PATHS := Sources Tests Package.swift

.PHONY: build test faults demo bench bench-scale bench-scale-100k bench-sweep bench-memory bench-report bench-probe-cpu bench-timing bench-timeouts profile deps \
	test-deps lint format clean install uninstall install-check toolchain

# sonde is built with SwiftPM from a Swift 6.3 toolchain (swift.org/install), nothing else.
toolchain:
	@command -v $(SWIFT) >/dev/null 2>&1 || { echo "sonde needs a Swift 6.3 toolchain (swift.org/install): '$(SWIFT)' is not on PATH"; exit 1; }

deps: toolchain
	@if [ ! -f /usr/include/curl/curl.h ] && [ ! -f $(CURL_HEADER) ] && \
	    ! ls /usr/include/*/curl/curl.h >/dev/null 2>&1; then \
	  echo "installing libcurl4-openssl-dev (curl/curl.h is missing)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcurl4-openssl-dev; \
	fi
	@[ -f /usr/include/libxml2/libxml/xpath.h ] && command -v pkg-config >/dev/null 2>&1 || { \
	  echo "installing libxml2-dev and pkg-config (the xpath query calls the libxml2 FoundationXML links)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxml2-dev pkg-config; }
	@command -v openssl >/dev/null 2>&1 || { echo "installing openssl (tests make a TLS certificate)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl; }

# The tests validate /metrics and the rules with promtool, run a real Prometheus server (both from the
# Debian package prometheus: /usr/bin/promtool, /usr/bin/prometheus), deliver alerts to a real
# Alertmanager (Debian package prometheus-alertmanager), open the status page in headless Chromium
# (Debian package chromium) and run HTTP/2 and Unix-socket checks against a private nginx (Debian
# package nginx; the tests start their own, never the system's service).
test-deps: deps
	@{ command -v promtool >/dev/null 2>&1 && [ -x /usr/bin/prometheus ]; } || { \
	  echo "installing prometheus (the tests check /metrics with promtool and run a Prometheus server)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; }
	@command -v prometheus-alertmanager >/dev/null 2>&1 || [ -x /usr/bin/prometheus-alertmanager ] || { \
	  echo "installing prometheus-alertmanager (the tests deliver alerts to a real Alertmanager)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager; }
	@command -v systemd-analyze >/dev/null 2>&1 || { \
	  echo "installing systemd (the tests check the units with systemd-analyze verify)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd; }
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (the tests open the status page in headless Chromium)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	@[ -x /usr/sbin/nginx ] || { \
	  echo "installing nginx (the tests run HTTP/2 and a Unix socket against a private nginx of their own)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx; }

# The release build links the Swift runtime and Foundation into the binary (--static-swift-stdlib):
# it needs only glibc, libstdc++, libcurl and what they pull in, so a copy runs on a machine without
# Swift. (FoundationXML, if a target imports it, links statically too with no extra flag on Swift
# 6.3.1, and loads the system's libxml2.so.2: libxml2-dev must be installed to build.)
build: deps
	@echo "building $(BIN): release, Swift runtime linked in; a first build compiles 15 targets with"
	@echo "optimisation, a few minutes on 2 cores (later builds only what changed)"
	$(SWIFT) build -c release --static-swift-stdlib $(SWIFT_BUILD_FLAGS)
	@echo "built $(BIN), $$(du -h $(BIN) | cut -f1)"

# DESTDIR stages the files for a package; PREFIX is where they will live. The units name the
# binary at $(BINDIR)/sonde and the checks under $(SYSCONFDIR)/sonde. The checks folder is made
# empty, and never removed with checks in it.
install: $(if $(filter $(BIN),$(SONDE_BIN)),build)
	@echo "installing sonde into $(DESTDIR)$(PREFIX): bin/sonde, lib/systemd/system/, share/doc/sonde/"
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/docs \
	  $(DESTDIR)$(DOCDIR)/contrib/systemd $(DESTDIR)$(DOCDIR)/contrib/fleet $(DESTDIR)$(SYSCONFDIR)/sonde/checks
	install -m 755 $(SONDE_BIN) $(DESTDIR)$(BINDIR)/sonde
	for unit in $(UNITS); do \
	  sed -e 's|/usr/local/bin/sonde|$(BINDIR)/sonde|g' -e 's|/usr/local/share/doc/sonde|$(DOCDIR)|g' \
	    -e 's|/etc/sonde|$(SYSCONFDIR)/sonde|g' contrib/systemd/$$unit > $(DESTDIR)$(UNITDIR)/$$unit || exit 1; \
	  chmod 644 $(DESTDIR)$(UNITDIR)/$$unit; \
	done
	install -m 644 README.md CHANGELOG.md LICENSE $(DESTDIR)$(DOCDIR)/
	install -m 644 docs/*.md $(DESTDIR)$(DOCDIR)/docs/
	install -m 644 contrib/systemd/* $(DESTDIR)$(DOCDIR)/contrib/systemd/
	install -m 644 contrib/fleet/* $(DESTDIR)$(DOCDIR)/contrib/fleet/

# Removes what install wrote; the checks folder only when empty, the data (/var/lib/sonde) never.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sonde
	for unit in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$unit; done
	rm -rf $(DESTDIR)$(DOCDIR)
	rmdir $(DESTDIR)$(SYSCONFDIR)/sonde/checks $(DESTDIR)$(SYSCONFDIR)/sonde 2>/dev/null || true

# The release binary as installed: no Swift library in ldd, runs with the toolchain hidden, the
# units pass systemd-analyze verify, uninstall leaves nothing (.ci/install-check.sh; .ci/run).
install-check: build
	bash .ci/install-check.sh $(BIN)

# The output is kept in .build/test.log; when the run fails, the failed tests are named after it
# (.ci/failed-tests.sh) and the exit status is swift test's.
test: test-deps
	@echo "building sonde and its tests (debug; a first build takes a few minutes on 2 cores)"
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	bash .ci/failed-tests.sh $(SWIFT) test --skip-build

# swift-format as bundled with the toolchain; lint fails on any finding, format rewrites in place.
lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMAT_PATHS)

format:
	$(SWIFT) format format --in-place --recursive --parallel $(FORMAT_PATHS)

# The fault-injection suites at full size (docs/faults.md): 1,000 mutated check files, 20 SIGKILLs,
# 50 hung checks, a 1 GiB body, full disks, the secrets sweep. `make test` runs them at fast size.
faults: test-deps
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	SONDE_FAULTS=full $(SWIFT) test --skip-build --filter 'SondeTests\.Faults'

demo: build
	$(BIN) demo

# Every scenario, one after another on this machine, then bench/results.md (about 14 minutes).
bench: build
	bash bench/startup.sh
	bash bench/probe-cpu.sh
	bash bench/timing.sh
	bash bench/scale.sh
	CHECKS=10000 INTERVAL=10 bash bench/scale.sh
	CHECKS=100000 INTERVAL=60 SECONDS_RUN=120 RSS_GOAL_MB=1000 bash bench/scale.sh
	bash bench/scale-sweep.sh
	OUTAGE=1 bash bench/scale.sh
	bash bench/memory.sh
	bash bench/report.sh
	python3 bench/results.py

# 2,000 checks every 2 s for 60 s against a local nginx (CHECKS, INTERVAL, SECONDS_RUN override;
# OUTAGE=1: every check down and the webhook receiver down).
bench-scale: build
	bash bench/scale.sh

# 100,000 checks every 60 s for 120 s (1,667 runs/s; peak RSS < 1 GB) at the default descriptor limit.
bench-scale-100k: build
	CHECKS=100000 INTERVAL=60 SECONDS_RUN=120 RSS_GOAL_MB=1000 bash bench/scale.sh

# Throughput sweep: 2,500 to 10,000 checks every second, 30 s each (STEPS, SECONDS_RUN override);
# writes bench/results-scale-sweep.md and bench/results-scale-10000x1s.md.
bench-sweep: build
	bash bench/scale-sweep.sh

# Memory per check at rest: RSS with 10,000 checks minus RSS with one, per check (CHECKS, INTERVAL
# override); writes bench/results-memory.md.
bench-memory: build
	bash bench/memory.sh

# sonde report vs sqlite3 over 100 checks x 30 days at one run a minute (4.32 M runs; data cached in
# /tmp/sonde-bench-report-SEED, regenerated with `bash bench/report.sh --regen`).
bench-report: build
	bash bench/report.sh

# CPU per probe: sonde's daemon vs the libcurl floor (bench/curl-floor.c) at the same rate vs
# blackbox_exporter (paced and flat out) vs check_http on one local nginx, with context switches and
# syscalls per run (ROUNDS, CHECKS, SECONDS_RUN, STRACE_SECONDS, BB_SECONDS, CHECK_HTTP_PROBES
# override); writes bench/results-probe-cpu.md.
bench-probe-cpu: build
	bash bench/probe-cpu.sh

# sonde check --json vs curl -w against a loopback server that waits 200 ms (ROUNDS, WAIT_MS override);
# writes bench/results-timing.md.
bench-timing: build
	bash bench/timing.sh

# How soon after its limit a run against a server that never answers ends: max-time, @timeout and
# connect-timeout (ROUNDS overrides); writes bench/results-timeouts.md.
bench-timeouts: build
	bash bench/timeouts.sh

# Instructions per run and the top functions of `sonde run` under callgrind (bench/profile.sh).
profile: build
	bash bench/profile.sh

clean:
	rm -rf .build
