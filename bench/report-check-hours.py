#!/usr/bin/env python3
"""Independent check of generated data (bench/report-gen.py): re-reads the raw run lines of the given
checks with the json module, rebuilds every hour line from docs/data-format.md, and compares them with
the stored hour lines field by field. Also checks the run lines' key order, the expected failures and
that the last (open) hour has no line.

Usage: report-check-hours.py BENCH_DIR [CHECK...]   (default: c000, c007 and the last check)
"""
import glob
import json
import os
import re
import sys
from datetime import datetime, timezone
from decimal import Decimal

BOUNDS = [Decimal(x) for x in (
    "0.5 1 1.5 2 3 4 5 6 8 10 12 15 20 25 30 40 50 60 80 100 120 150 200 250 300 400 500 600 800 1000 "
    "1200 1500 2000 2500 3000 4000 5000 6000 8000 10000 12000 15000 20000 30000 60000").split()]
RUN_KEYS = ["v", "t", "check", "loc", "ok", "ms", "late_ms", "err", "steps", "cert_days"]
HOUR_KEYS = ["v", "hour", "check", "loc", "runs", "good", "fast", "fast_ms", "errors", "sum_ms", "phase_ms",
             "hist", "mins", "bad_mins"]


def epoch_ms(t):
    d = datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return int(d.timestamp() * 1000 + 0.5)


def main():
    bench = sys.argv[1]
    expected = json.load(open(os.path.join(bench, "expected.json")))
    checks = sys.argv[2:] or sorted({"c000", "c007", f"c{expected['checks'] - 1:03d}"} & set(expected["per_check"]))
    problems = 0
    for check in checks:
        hours = {}
        failed = []
        runs = 0
        last_t = None
        for path in sorted(glob.glob(os.path.join(bench, "data", check, "runs-*.jsonl"))):
            day = os.path.basename(path)[5:15]
            with open(path) as f:
                for raw in f:
                    run = json.loads(raw, parse_float=Decimal)
                    keys = [k for k in RUN_KEYS if k in run]
                    assert list(run) == keys, (path, list(run))
                    assert run["t"].startswith(day), (path, run["t"])
                    assert ("err" in run) == (not run["ok"]), run
                    if run["steps"]:
                        s = run["steps"][0]
                        assert list(s) == ["status", "dns", "connect", "tls", "ttfb", "transfer", "total", "bytes"]
                        assert s["total"] >= s["dns"] + s["connect"] + s["tls"] + s["ttfb"] + s["transfer"]
                        assert run["ms"] >= s["total"]
                    t = epoch_ms(run["t"])
                    assert last_t is None or t == last_t + 60_000, (path, run["t"])
                    last_t = t
                    if not run["ok"]:
                        failed.append(runs)
                    runs += 1
                    hour = t // 3_600_000 * 3_600_000
                    h = hours.setdefault(hour, {"runs": 0, "good": 0, "errors": {}, "msgs": {}, "sum_ms": Decimal(0),
                                                "phase_ms": {p: Decimal(0) for p in
                                                             ("dns", "connect", "tls", "ttfb", "transfer")},
                                                "hist": [0] * 46, "mins": 0, "bad_mins": 0})
                    minute = (t - hour) // 60_000
                    h["runs"] += 1
                    h["mins"] |= 1 << minute
                    if run["ok"]:
                        h["good"] += 1
                    else:
                        kind = run.get("err", {}).get("kind", "internal")
                        h["errors"][kind] = h["errors"].get(kind, 0) + 1
                        if "msg" in run.get("err", {}):
                            h["msgs"][kind] = run["err"]["msg"]    # runs in time order: the latest wins
                        h["bad_mins"] |= 1 << minute
                    h["sum_ms"] += run["ms"]
                    for s in run["steps"]:
                        for p in h["phase_ms"]:
                            h["phase_ms"][p] += s[p]
                    b = next((i for i, bound in enumerate(BOUNDS) if run["ms"] <= bound), 45)
                    h["hist"][b] += 1
        truth = expected["per_check"][check]
        if runs != truth["runs"] or failed != truth["failed"]:
            print(f"{check}: runs {runs} / failed {len(failed)} differ from expected.json "
                  f"({truth['runs']} / {len(truth['failed'])})")
            problems += 1
        stored = {}
        for path in sorted(glob.glob(os.path.join(bench, "data", check, "hours-*.jsonl"))):
            with open(path) as f:
                for raw in f:
                    line = json.loads(raw, parse_float=Decimal)
                    assert [k for k in line if k != "msgs"] == HOUR_KEYS, list(line)
                    assert "msgs" not in line or list(line).index("msgs") == HOUR_KEYS.index("errors") + 1, list(line)
                    # no spaces between tokens (messages in "msgs" have their own)
                    assert re.sub(r'"(?:[^"\\]|\\.)*"', '""', raw).count(" ") == 0, raw
                    assert path.endswith(line["hour"][:7] + ".jsonl")
                    hour = int(datetime.strptime(line["hour"], "%Y-%m-%dT%H:%M:%SZ")
                               .replace(tzinfo=timezone.utc).timestamp()) * 1000
                    stored[hour] = line
        open_hour = max(hours)
        if open_hour in stored:
            print(f"{check}: the open hour has a line")
            problems += 1
        for hour, h in sorted(hours.items()):
            if hour == open_hour:
                continue
            line = stored.get(hour)
            if line is None:
                print(f"{check}: no line for hour {hour}")
                problems += 1
                continue
            hist = h["hist"]
            while len(hist) > 1 and hist[-1] == 0:
                hist = hist[:-1]
            want = {"v": 1, "check": check, "loc": "bench", "runs": h["runs"], "good": h["good"], "fast": h["good"],
                    "fast_ms": None, "errors": dict(sorted(h["errors"].items())), "sum_ms": h["sum_ms"],
                    "msgs": dict(sorted(h["msgs"].items())),
                    "phase_ms": h["phase_ms"], "hist": hist, "mins": f"{h['mins']:015x}",
                    "bad_mins": f"{h['bad_mins']:015x}"}
            for k, v in want.items():
                got = line.get(k, {}) if k == "msgs" else line[k]
                if k == "errors" and list(got) != sorted(got):
                    print(f"{check} {line['hour']}: error kinds not sorted")
                    problems += 1
                if got != v:
                    print(f"{check} {line['hour']}: {k} = {got!r}, rebuilt {v!r}")
                    problems += 1
        extra = set(stored) - set(hours)
        if extra:
            print(f"{check}: {len(extra)} hour lines without runs")
            problems += 1
        print(f"{check}: {runs} runs, {len(failed)} failed, {len(stored)} hour lines checked"
              f"{'' if not problems else ' — PROBLEMS'}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
