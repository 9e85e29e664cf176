# sonde — build, test, demo. Each target installs libcurl's headers when they are missing.
SWIFT ?= swift
CURL_HEADER := /usr/include/x86_64-linux-gnu/curl/curl.h
BIN := .build/release/sonde
# WERROR=1 (set by .ci/run): compiler warnings fail the build. -Xswiftc reaches only the Swift targets,
# so -Xcc -Werror covers the C target CCurl (and the ccurl.h import).
ifeq ($(WERROR),1)
SWIFT_BUILD_FLAGS := -Xswiftc -warnings-as-errors -Xcc -Werror
endif
# Files the formatter and the linter read; the rules are in .swift-format (docs/style.md).
FORMAT_PATHS := Sources Tests Package.swift

.PHONY: build test faults demo bench bench-scale bench-scale-100k bench-sweep bench-memory bench-report bench-probe-cpu bench-timing bench-timeouts profile deps \
	test-deps lint format clean

deps:
	@if [ ! -f /usr/include/curl/curl.h ] && [ ! -f $(CURL_HEADER) ] && \
	    ! ls /usr/include/*/curl/curl.h >/dev/null 2>&1; then \
	  echo "installing libcurl4-openssl-dev (curl/curl.h is missing)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcurl4-openssl-dev; \
	fi
	@command -v openssl >/dev/null 2>&1 || { echo "installing openssl (tests make a TLS certificate)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl; }

# The tests validate /metrics and the rules with promtool, run a real Prometheus server (both from the
# Debian package prometheus: /usr/bin/promtool, /usr/bin/prometheus), deliver alerts to a real
# Alertmanager (Debian package prometheus-alertmanager) and open the status page in headless Chromium
# (Debian package chromium).
test-deps: deps
	@{ command -v promtool >/dev/null 2>&1 && [ -x /usr/bin/prometheus ]; } || { \
	  echo "installing prometheus (the tests check /metrics with promtool and run a Prometheus server)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; }
	@command -v prometheus-alertmanager >/dev/null 2>&1 || [ -x /usr/bin/prometheus-alertmanager ] || { \
	  echo "installing prometheus-alertmanager (the tests deliver alerts to a real Alertmanager)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager; }
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (the tests open the status page in headless Chromium)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

build: deps
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS)

# The output is kept in .build/test.log; when the run fails, the failed tests are named after it
# (.ci/failed-tests.sh) and the exit status is swift test's.
test: test-deps
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
