#!/usr/bin/env python3
"""Compares the 30-day uptime per check found by sqlite3 or sonde with the truth in expected.json
(bench/report-gen.py). Prints one summary line on stdout ("100/100 checks match ...") and details of
the first mismatches on stderr; exits 0 when all match, 1 on a mismatch, 2 when nothing was readable.

  report-verify.py truth EXPECTED CUTOFF_MS                   the truth, one "check runs good" a line
  report-verify.py sqlite EXPECTED CUTOFF_MS FILE             FILE: sqlite3 list output check|runs|good|ratio
  report-verify.py sonde-json EXPECTED CUTOFF_MS FILE         FILE: `sonde report --json` output
  report-verify.py sonde-md EXPECTED CUTOFF_MS README.md      the report's Markdown table

The window is [CUTOFF_MS, end of data]. sonde may align its window to hours (it reads hour lines), so
for sonde a figure matches when it equals the truth of a window whose start is within WINDOW_SLACK_H
hours (default 2) of CUTOFF_MS; when sonde gives run counts, good must match the failure pattern of the
last `runs` runs exactly, whatever window it used.
"""
import json
import math
import os
import re
import sys
from datetime import datetime, timezone
from decimal import Decimal, ROUND_DOWN

MS_MIN = 60_000


def load(path):
    return json.load(open(path))


def truth_last(info, n):
    """(runs, good) of the last n runs of a check."""
    n = max(0, min(n, info["runs"]))
    k0 = info["runs"] - n
    bad = sum(1 for k in info["failed"] if k >= k0)
    return n, n - bad


def truth(info, cutoff):
    k0 = max(0, math.ceil((cutoff - info["first_ms"]) / MS_MIN))
    return truth_last(info, info["runs"] - k0)


def report(matched, total, what, problems):
    for p in problems[:10]:
        print(p, file=sys.stderr)
    if total == 0:
        print(f"could not read any uptime ({what})")
        sys.exit(2)
    print(f"{matched}/{total} checks match the truth ({what})")
    sys.exit(0 if matched == total else 1)


def sqlite_mode(expected, cutoff, path):
    seen, matched, problems = set(), 0, []
    for line in open(path):
        parts = line.strip().split("|")
        if len(parts) < 4 or parts[0] not in expected["per_check"]:
            continue
        check, runs, good, ratio = parts[0], int(parts[1]), int(parts[2]), float(parts[3])
        seen.add(check)
        want = truth(expected["per_check"][check], cutoff)
        if (runs, good) == want and abs(ratio - want[1] / want[0]) < 1e-12:
            matched += 1
        else:
            problems.append(f"sqlite3 {check}: runs {runs} good {good} ratio {ratio!r}; truth {want}")
    missing = sorted(set(expected["per_check"]) - seen)
    problems += [f"sqlite3: no row for {c}" for c in missing[:5]]
    report(matched, len(expected["per_check"]), "exact runs and good counts, same cutoff", problems)


def percent_candidates(info, cutoff, slack_h):
    """Truth ratios for window starts within slack of the cutoff (every minute: runs are a minute apart)."""
    out = set()
    for shift in range(-slack_h * 60, slack_h * 60 + 1):
        runs, good = truth(info, cutoff + shift * MS_MIN)
        if runs:
            out.add((runs, good))
    return out


def shown_matches(value, decimals, cands, scale):
    """value (as shown, `decimals` decimals, truncated or rounded) equals some candidate's ratio."""
    q = Decimal(1).scaleb(-decimals)
    for runs, good in cands:
        r = Decimal(good) / Decimal(runs) * scale
        if r.quantize(q, rounding=ROUND_DOWN) == value or r.quantize(q) == value:
            return True
    return False


WINDOW_KEY = re.compile(r"30\s*d|30d|month|30_?days", re.I)
UPTIME_KEY = re.compile(r"uptime|availability|avail|sli|ratio|good_ratio", re.I)


def walk(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, path + (str(k),))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (i,))
    else:
        yield path, node


def dicts(node):
    """Every dict in node, depth first, in document order."""
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from dicts(v)
    elif isinstance(node, list):
        for v in node:
            yield from dicts(v)


def check_objects(doc, names):
    """{check: the JSON object describing it}: a dict with a string field equal to the name, or a dict
    keyed by the name."""
    found = {}

    def visit(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in names and isinstance(v, (dict, list)) and k not in found:
                    found[k] = v
            for key in ("check", "name", "id"):
                v = node.get(key)
                if isinstance(v, str) and v in names and v not in found:
                    found[v] = node
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)
    visit(doc)
    return found


def sonde_json_mode(expected, cutoff, path, slack_h):
    text = open(path).read()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        docs = [json.loads(l) for l in text.splitlines() if l.strip().startswith("{")]   # JSON lines
        doc = docs
    names = set(expected["per_check"])
    objects = check_objects(doc, names)
    label = f"{expected['days']}d"
    # sonde's clock: its window of length W holds the runs started in (now - W, now].
    sonde_cut = None
    generated = doc.get("generated") if isinstance(doc, dict) else None
    if isinstance(generated, str):
        try:
            now = datetime.strptime(generated, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
            sonde_cut = round(now.timestamp() * 1000) - expected["days"] * 86_400_000 + 1
        except ValueError:
            pass
    matched, problems, how = 0, [], set()
    for check, obj in sorted(objects.items()):
        info = expected["per_check"][check]
        # 0. the shape of sonde 0.x: {"checks": [{"check", "windows": [{"window": "30d", "runs", "good", ...}]}]}
        window = next((d for d in dicts(obj) if d.get("window") == label and "runs" in d and "good" in d), None)
        if window is not None:
            if sonde_cut is not None:
                want = truth(info, sonde_cut)
                what = f'exact runs and good of "{label}" at sonde\'s clock ("generated"), uptime ratio'
            else:
                want = truth_last(info, int(window["runs"]))
                what = f'runs and good of "{label}" = the last `runs` runs, uptime ratio'
            up = window.get("uptime")
            if (int(window["runs"]), int(window["good"])) == want and (up is None or abs(up - want[1] / want[0]) < 1e-12):
                matched += 1
                how.add(what)
            else:
                problems.append(f"sonde {check}: window {label}: runs {window['runs']} good {window['good']} "
                                f"uptime {up!r}; truth {want} ({what})")
            continue
        leaves = list(walk(obj))
        in_window = [(p, v) for p, v in leaves if any(WINDOW_KEY.search(str(x)) for x in p)]
        # 1. run counts of the 30-day window: exact check.
        counts = {}
        for p, v in in_window:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and str(p[-1]) in ("runs", "good", "total"):
                counts.setdefault(str(p[-1]), v)
        runs = counts.get("runs", counts.get("total"))
        if runs is not None and "good" in counts:
            want = truth_last(info, int(runs))
            if (int(runs), int(counts["good"])) == want:
                matched += 1
                how.add("runs and good of the 30-day window vs the last `runs` runs")
            else:
                problems.append(f"sonde {check}: 30d runs {runs} good {counts['good']}; truth for the last "
                                f"{runs} runs {want}; for the cutoff {truth(info, cutoff)}")
            continue
        # 2. an uptime number of the window: ratio (0..1) or percent, shown or full precision.
        ups = [(p, v) for p, v in in_window if UPTIME_KEY.search(str(p[-1]) + " " + " ".join(map(str, p)))
               and isinstance(v, (int, float, str)) and not isinstance(v, bool)]
        ok = False
        cands = percent_candidates(info, cutoff, slack_h)
        for p, v in ups:
            s = str(v).strip().rstrip("%")
            try:
                value = Decimal(s)
            except Exception:
                continue
            decimals = max(0, -value.as_tuple().exponent)
            scale = Decimal(100) if (value > 1 or str(v).endswith("%") or "percent" in " ".join(map(str, p)).lower()
                                     or "pct" in str(p[-1]).lower()) else Decimal(1)
            if isinstance(v, float) and decimals > 6:   # full precision float
                if any(abs(float(value) - float(Decimal(g) / Decimal(r) * scale)) < 1e-9 * float(scale)
                       for r, g in cands):
                    ok = True
            elif shown_matches(value, decimals, cands, scale):
                ok = True
            if ok:
                how.add(f"uptime at {'/'.join(map(str, p))}")
                break
        if ok:
            matched += 1
        else:
            problems.append(f"sonde {check}: no 30-day uptime matching the truth {truth(info, cutoff)} among "
                            f"{[('/'.join(map(str, p)), v) for p, v in ups][:4] or [('/'.join(map(str, p)), v) for p, v in leaves][:8]}")
    missing = sorted(names - set(objects))
    problems += [f"sonde: no JSON object for {c}" for c in missing[:5]]
    report(matched, len(names) if objects else 0, "; ".join(sorted(how)) or "--json", problems)


def sonde_md_mode(expected, cutoff, path, slack_h):
    names = set(expected["per_check"])
    header, col, matched, problems, seen = None, None, 0, [], set()
    for line in open(path):
        if not line.startswith("|"):
            header = None if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            col = next((i for i, h in enumerate(cells) if WINDOW_KEY.search(h)), None)
            continue
        if col is None or set("".join(cells)) <= set("-: "):
            continue
        name = next((n for n in names if re.search(rf"(^|[^\w-]){re.escape(n)}([^\w-]|$)", cells[0])), None)
        if name is None or name in seen or col >= len(cells):
            continue
        seen.add(name)
        m = re.search(r"(\d+(?:\.\d+)?)\s*%", cells[col])
        if not m:
            problems.append(f"sonde {name}: no percentage in the 30-day column: {cells[col]!r}")
            continue
        value = Decimal(m.group(1))
        if shown_matches(value, max(0, -value.as_tuple().exponent),
                         percent_candidates(expected["per_check"][name], cutoff, slack_h), Decimal(100)):
            matched += 1
        else:
            problems.append(f"sonde {name}: {cells[col]!r}; truth {truth(expected['per_check'][name], cutoff)}")
    report(matched, len(names) if seen else 0, "README.md 30-day column, as shown", problems)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    mode, expected, cutoff = sys.argv[1], load(sys.argv[2]), int(sys.argv[3])
    slack_h = int(os.environ.get("WINDOW_SLACK_H", "2"))
    if mode == "truth":
        for check, info in sorted(expected["per_check"].items()):
            runs, good = truth(info, cutoff)
            print(check, runs, good)
    elif mode == "sqlite":
        sqlite_mode(expected, cutoff, sys.argv[4])
    elif mode == "sonde-json":
        sonde_json_mode(expected, cutoff, sys.argv[4], slack_h)
    elif mode == "sonde-md":
        sonde_md_mode(expected, cutoff, sys.argv[4], slack_h)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
