#!/usr/bin/env python3
"""Generates the data folder of the report benchmark (bench/report.sh), in docs/data-format.md's format.

CHECKS checks (c000, c001, ...) x DAYS days x one run a minute, ending at the last complete UTC
minute (or --end-minute). Deterministic given --seed and the end minute. Writes into OUT:

  data/<check>/runs-YYYY-MM-DD.jsonl   run lines (loc "bench", one HTTPS step, failures as below)
  data/<check>/hours-YYYY-MM.jsonl     hour lines of every closed hour (every hour before the hour
                                       of the last run), computed from the same runs, fast_ms null
  checks/<check>.hurl                  a check script per check (@every 1m, no @latency)
  csv/<check>.csv                      check,t (epoch ms),ok (0/1),ms: the same runs, for sqlite3
  expected.json                        the truth: per check the first run's time and the indices of
                                       its failed runs (run k starts at first_ms + k * 60000)

Failures: check i fails i runs, one in each of i equal slices of the month at a seeded position;
c007 also has a 2-hour outage (120 consecutive failed runs, connection refused) in the middle of the
month, starting 17 minutes into an hour (so it touches three hour lines). Kinds of the scattered failures cycle through
status (503), timeout, assert, connect.

Python 3 standard library only; one worker process per core (--workers).
"""
import argparse
import json
import multiprocessing
import os
import random
import sys
import time

MS_MIN = 60_000
MS_HOUR = 3_600_000
MS_DAY = 86_400_000
BOUNDS_US = [int(b * 1000) for b in (
    0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300,
    400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10000, 12000,
    15000, 20000, 30000, 60000)]
OUTAGE_CHECK = 7
OUTAGE_RUNS = 120
POOL = 2048      # good-run bodies per check
FAIL_POOL = 64   # bodies per failure kind per check
KINDS = ("status", "timeout", "assert", "connect")
MINUTE_PREFIX = []  # "YYYY-MM-DDTHH:MM:" of every run's minute, set before the workers fork


def ms(us):
    """Milliseconds from integer microseconds as sonde writes them: at most 3 decimals, no trailing zeros."""
    q, r = divmod(us, 1000)
    if r == 0:
        return str(q)
    return f"{q}.{r:03d}".rstrip("0")


def bucket(us):
    """Histogram bucket of a duration: bound[i-1] < d <= bound[i]; 45 for d > 60 s."""
    for i, b in enumerate(BOUNDS_US):
        if us <= b:
            return i
    return len(BOUNDS_US)


def civil(ms_epoch):
    return time.gmtime(ms_epoch // 1000)


def day_name(ms_epoch):
    return time.strftime("%Y-%m-%d", civil(ms_epoch))


def month_name(ms_epoch):
    return time.strftime("%Y-%m", civil(ms_epoch))


class Body:
    """One pre-formatted run (everything after `"ok":`) with the figures an hour line needs."""
    __slots__ = ("text", "csv", "ok", "kind", "ms_us", "phases", "bucket", "tls", "msg")

    def __init__(self, text, ok, kind, ms_us, phases, tls, msg=None):
        self.text, self.ok, self.kind, self.ms_us, self.phases, self.tls = text, ok, kind, ms_us, phases, tls
        self.msg = msg                                      # the error message as a JSON string literal
        self.csv = ("1," if ok else "0,") + ms(ms_us) + "\n"
        self.bucket = bucket(ms_us)


def step_text(status, dns, connect, tls, ttfb, transfer, total, nbytes):
    return (f'{{"status":{status},"dns":{ms(dns)},"connect":{ms(connect)},"tls":{ms(tls)},"ttfb":{ms(ttfb)},'
            f'"transfer":{ms(transfer)},"total":{ms(total)},"bytes":{nbytes}}}')


def make_bodies(rng, index):
    """Good bodies and failure bodies of one check; its latency profile depends on its index."""
    ttfb_base = 15_000 + (index * 7919 % 100) * 2_500       # 15 .. 262.5 ms median server time
    good = []
    for _ in range(POOL):
        dns = rng.randint(300, 3_000)
        connect = rng.randint(500, 20_000)
        tls = rng.randint(3_000, 40_000)
        ttfb = int(ttfb_base * rng.lognormvariate(0, 0.35))
        if rng.random() < 0.01:
            ttfb += rng.randint(200_000, 3_000_000)         # a slow tail
        transfer = rng.randint(50, 5_000)
        total = dns + connect + tls + ttfb + transfer + rng.randint(10, 300)
        run_ms = total + rng.randint(100, 1_500)
        late = rng.randint(0, 2_000)
        text = (f'true,"ms":{ms(run_ms)},"late_ms":{ms(late)},"steps":['
                + step_text(200, dns, connect, tls, ttfb, transfer, total, rng.randint(400, 6_000)) + "]")
        good.append(Body(text, True, None, run_ms, (dns, connect, tls, ttfb, transfer), True))
    fails = {}
    for kind in KINDS:
        pool = []
        for _ in range(FAIL_POOL):
            late = rng.randint(0, 2_000)
            dns = rng.randint(300, 3_000)
            if kind in ("status", "assert"):
                connect = rng.randint(500, 20_000)
                tls = rng.randint(3_000, 40_000)
                ttfb = rng.randint(2_000, 900_000)
                transfer = rng.randint(0, 2_000)
                total = dns + connect + tls + ttfb + transfer + rng.randint(10, 300)
                run_ms = total + rng.randint(100, 1_500)
                if kind == "status":
                    status = rng.choice((500, 502, 503, 503, 503, 504))
                    err = ('{"kind":"status","entry":1,"line":5,"msg":"entry 1 line 5: HTTP status (actual: '
                           f'{status}, expected: 200)"}}')
                    nbytes = rng.randint(0, 300)
                else:
                    status = 200
                    n = rng.randint(0, 4)
                    err = ('{"kind":"assert","entry":1,"line":8,"msg":"entry 1 line 8: jsonpath \\"$.items\\" '
                           f'count == 5 (actual: integer <{n}>, expected: integer <5>)"}}')
                    nbytes = rng.randint(100, 6_000)
                steps = step_text(status, dns, connect, tls, ttfb, transfer, total, nbytes)
                phases, has_tls = (dns, connect, tls, ttfb, transfer), True
            elif kind == "timeout":
                run_ms = 10_000_000 + rng.randint(100, 5_000)
                err = ('{"kind":"timeout","entry":1,"line":5,"msg":"entry 1 line 5: timeout for GET '
                       'https://bench.invalid/health: Operation timed out after 10000 milliseconds with 0 '
                       'bytes received"}')
                steps, phases, has_tls = "", (0, 0, 0, 0, 0), False
            else:
                run_ms = dns + rng.randint(100, 2_000)
                err = ('{"kind":"connect","entry":1,"line":5,"msg":"entry 1 line 5: connect to '
                       'https://bench.invalid/health: Connection refused"}')
                steps, phases, has_tls = "", (0, 0, 0, 0, 0), False
            text = f'false,"ms":{ms(run_ms)},"late_ms":{ms(late)},"err":{err},"steps":[{steps}]'
            pool.append(Body(text, False, kind, run_ms, phases, has_tls, json.dumps(json.loads(err)["msg"])))
        fails[kind] = pool
    return good, fails


def failures(seed, index, n_runs, first_min):
    """{run index: kind} of check `index`: `index` runs spread over the month, plus c007's outage."""
    rng = random.Random(f"{seed}/fail/{index}")
    out = {}
    for k in range(index):
        low, high = k * n_runs // index, (k + 1) * n_runs // index
        out[low + int(rng.random() * (high - low))] = KINDS[k % len(KINDS)]
    if index == OUTAGE_CHECK:
        start = n_runs // 2                                # from minute 17 of an hour: three hour lines
        start += (17 - (first_min // MS_MIN + start)) % 60
        for k in range(start, min(n_runs, start + OUTAGE_RUNS)):
            out[k] = "connect"
    return out


def hour_line(check, hour_ms, bodies, minutes):
    """The hour line of one hour: `bodies` are its runs' Body objects, `minutes` their minute in the hour."""
    runs = len(bodies)
    good = sum(1 for b in bodies if b.ok)
    errors, msgs = {}, {}
    mins = bad = 0
    for b, m in zip(bodies, minutes):
        mins |= 1 << m
        if not b.ok:
            errors[b.kind] = errors.get(b.kind, 0) + 1
            msgs[b.kind] = b.msg                            # runs in time order: the latest wins
            bad |= 1 << m
    hist = [0] * (len(BOUNDS_US) + 1)
    for b in bodies:
        hist[b.bucket] += 1
    while len(hist) > 1 and hist[-1] == 0:
        hist.pop()
    sums = [sum(b.phases[p] for b in bodies) for p in range(5)]
    errs = ",".join(f'"{k}":{errors[k]}' for k in sorted(errors))
    # sonde writes the latest message of each kind after the counts (docs/data-format.md)
    last = (',"msgs":{' + ",".join(f'"{k}":{msgs[k]}' for k in sorted(msgs)) + "}") if msgs else ""
    hour = time.strftime("%Y-%m-%dT%H:00:00Z", civil(hour_ms))
    return (f'{{"v":1,"hour":"{hour}","check":"{check}","loc":"bench","runs":{runs},"good":{good},'
            f'"fast":{good},"fast_ms":null,"errors":{{{errs}}}{last},"sum_ms":{ms(sum(b.ms_us for b in bodies))},'
            f'"phase_ms":{{"dns":{ms(sums[0])},"connect":{ms(sums[1])},"tls":{ms(sums[2])},'
            f'"ttfb":{ms(sums[3])},"transfer":{ms(sums[4])}}},"hist":[{",".join(map(str, hist))}],'
            f'"mins":"{mins:015x}","bad_mins":"{bad:015x}"}}\n')


def generate_check(args):
    seed, index, out, first_min, n_runs = args
    minute_prefix = MINUTE_PREFIX
    check = f"c{index:03d}"
    rng = random.Random(f"{seed}/check/{index}")
    good, fails = make_bodies(rng, index)
    offset = rng.randrange(0, MS_MIN)                      # ms after the minute the check starts
    sec, milli = divmod(offset, 1000)
    t_suffix = f"{sec:02d}.{milli:03d}Z"
    expiry = first_min + n_runs * MS_MIN + (20 + index % 70) * MS_DAY + rng.randrange(MS_DAY)
    fail_at = failures(seed, index, n_runs, first_min)
    pick = [rng.getrandbits(11) for _ in range(n_runs)]
    fail_pick = {k: rng.randrange(FAIL_POOL) for k in fail_at}

    head = '{"v":1,"t":"'
    mid = f'","check":"{check}","loc":"bench","ok":'
    csv_head = f"{check},"
    folder = os.path.join(out, "data", check)
    os.makedirs(folder, exist_ok=True)
    csv = open(os.path.join(out, "csv", check + ".csv"), "w")
    last_hour = ((first_min + (n_runs - 1) * MS_MIN) // MS_HOUR) * MS_HOUR   # open: no hour line
    day_lines, csv_lines = [], []
    hour_bodies, hour_minutes = [], []
    hour_lines = {}                                        # month name -> lines
    day = first_min // MS_DAY * MS_DAY
    hour = first_min // MS_HOUR * MS_HOUR

    def flush_day():
        if day_lines:
            with open(os.path.join(folder, f"runs-{day_name(day)}.jsonl"), "w") as f:
                f.write("".join(day_lines))
            day_lines.clear()
        csv.write("".join(csv_lines))
        csv_lines.clear()

    def flush_hour():
        if hour_bodies and hour < last_hour:
            hour_lines.setdefault(month_name(hour), []).append(hour_line(check, hour, hour_bodies, hour_minutes))
        hour_bodies.clear()
        hour_minutes.clear()

    for k in range(n_runs):
        minute = first_min + k * MS_MIN
        if minute >= day + MS_DAY:
            flush_day()
            day = minute // MS_DAY * MS_DAY
        if minute >= hour + MS_HOUR:
            flush_hour()
            hour = minute // MS_HOUR * MS_HOUR
        kind = fail_at.get(k)
        b = good[pick[k]] if kind is None else fails[kind][fail_pick[k]]
        t = minute + offset
        if b.tls:
            cd = ((expiry - t) * 1000 + MS_DAY // 2) // MS_DAY  # days in thousandths, rounded
            tail = ',"cert_days":' + ms(cd) + "}\n"
        else:
            tail = "}\n"
        day_lines.append(head + minute_prefix[k] + t_suffix + mid + b.text + tail)
        csv_lines.append(csv_head + str(t) + "," + b.csv)
        hour_bodies.append(b)
        hour_minutes.append((minute % MS_HOUR) // MS_MIN)
    flush_day()
    flush_hour()
    csv.close()
    for month, lines in hour_lines.items():
        with open(os.path.join(folder, f"hours-{month}.jsonl"), "w") as f:
            f.write("".join(lines))
    with open(os.path.join(out, "checks", check + ".hurl"), "w") as f:
        f.write(f"# Report benchmark check {check} (generated data; never run).\n# @every 1m\n# @timeout 10s\n"
                "# @slo 99.9% 30d\n\nGET https://bench.invalid/health\nHTTP 200\n")
    return check, {"first_ms": first_min + offset, "runs": n_runs, "failed": sorted(fail_at)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--checks", type=int, default=100)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--end-minute", type=int, help="epoch ms of the last run's minute (default: the last "
                   "complete UTC minute)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    a = p.parse_args()
    if a.checks > 1000:
        sys.exit("report-gen: at most 1000 checks")
    started = time.time()
    end_min = a.end_minute if a.end_minute is not None else (int(time.time() * 1000) // MS_MIN - 1) * MS_MIN
    n_runs = a.days * 1440
    first_min = end_min - (n_runs - 1) * MS_MIN
    for sub in ("data", "checks", "csv"):
        os.makedirs(os.path.join(a.out, sub), exist_ok=True)
    global MINUTE_PREFIX
    MINUTE_PREFIX = [time.strftime("%Y-%m-%dT%H:%M:", civil(first_min + k * MS_MIN)) for k in range(n_runs)]
    jobs = [(a.seed, i, a.out, first_min, n_runs) for i in range(a.checks)]
    if a.workers > 1:
        with multiprocessing.Pool(a.workers) as pool:
            results = dict(pool.imap_unordered(generate_check, jobs))
    else:
        results = dict(map(generate_check, jobs))
    expected = {"seed": a.seed, "checks": a.checks, "days": a.days, "first_minute_ms": first_min,
                "end_minute_ms": end_min, "generated_at_ms": int(time.time() * 1000),
                "runs_per_check": n_runs, "outage_check": f"c{OUTAGE_CHECK:03d}" if a.checks > OUTAGE_CHECK else None,
                "per_check": {c: results[c] for c in sorted(results)}}
    with open(os.path.join(a.out, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
    print(f"report-gen: {a.checks} checks x {n_runs} runs = {a.checks * n_runs} runs in {time.time() - started:.1f} s "
          f"({a.workers} workers) into {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
