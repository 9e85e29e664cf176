#!/usr/bin/env python3
"""Assembles bench/results.md from the results-*.md files the bench scripts wrote: the machine, the
versions, one table with every goal of the benchmarks (figure, goal, met or not) and then each
scenario's own table. It reads what the scripts measured and invents nothing: a scenario whose file
is missing shows as "not run".

Usage: python3 bench/results.py [BENCH_DIR]   (make bench runs it last)
"""
import datetime
import os
import platform
import re
import subprocess
import sys

BENCH = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))


def read(name):
    path = os.path.join(BENCH, name)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def row(text, label):
    """The cells of the first table row whose first cell starts with `label` (None when absent)."""
    if text is None:
        return None
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0].startswith(label):
            return cells
    return None


def verdict(cell):
    """'met' / 'not met' from a goal cell such as '≥ 99.9%: met' or '< 200 MB: **not met**'."""
    if cell is None:
        return "?"
    low = cell.lower()
    if "not met" in low:
        return "**not met**"
    if "met" in low:
        return "met"
    return "?"


def command(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "not installed"


def dpkg_version(package):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "not installed"
    except (OSError, subprocess.SubprocessError):
        return "not installed"


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) / 1048576
    except OSError:
        mem = 0
    debian = read_first("/etc/debian_version")
    return f"{os.cpu_count()} × {cpu}, {mem:.0f} GiB RAM, Linux {platform.release()}, Debian {debian}"


def read_first(path):
    try:
        with open(path) as f:
            return f.readline().strip()
    except OSError:
        return "?"


def goals():
    """(scenario, goal, measured, verdict, where) rows."""
    out = []

    probe = read("results-probe-cpu.md")
    cpu = lambda r: r[4].strip("*") if r and len(r) > 4 else "?"
    loaded = " (taken on a loaded machine: indicative)" if probe and "**Taken on a loaded machine**" in probe else ""
    floor_ratio = row(probe, "**sonde (steady) ÷ libcurl floor")
    if probe is None or floor_ratio is None:
        out.append(("CPU per probe ÷ libcurl floor", "sonde ≤ 1.3× the libcurl floor at the same rate", "not run", "?",
                    "results-probe-cpu.md"))
    else:
        sonde = row(probe, "**sonde run**")
        floor = row(probe, "**libcurl floor**")
        vol = row(probe, "voluntary context switches")
        invol = row(probe, "involuntary context switches")
        calls = row(probe, "syscalls")
        pair = lambda r, i: r[i] if r and len(r) > i else "?"
        rate = sonde[3] if sonde and len(sonde) > 3 else "?"
        out.append(("CPU per probe ÷ libcurl floor (cold connection each, same rate)",
                    "sonde ≤ 1.3× the libcurl floor at the same rate",
                    f"sonde {cpu(sonde)} ms, floor {cpu(floor)} ms per probe at {rate}: "
                    f"**{floor_ratio[1].strip('*')}×**; per run, context switches (voluntary + involuntary) sonde "
                    f"{pair(vol, 1)} + {pair(invol, 1)}, floor {pair(vol, 2)} + {pair(invol, 2)}; syscalls sonde "
                    f"{pair(calls, 1)}, floor {pair(calls, 2)}{loaded}",
                    verdict(floor_ratio[2]), "results-probe-cpu.md"))

    ratio = row(probe, "sonde (steady) / blackbox, paced")
    if probe is None or ratio is None:
        out.append(("CPU per probe", "sonde ≤ 0.2× blackbox_exporter", "not run", "?", "results-probe-cpu.md"))
    else:
        sonde = row(probe, "**sonde run**")
        paced = row(probe, "**blackbox_exporter, paced**")
        flat = row(probe, "blackbox_exporter, flat out")
        check_http = row(probe, "**check_http**")
        out.append(("CPU per probe (cold connection each)", "sonde ≤ 0.2× blackbox_exporter",
                    f"sonde {cpu(sonde)} ms, blackbox_exporter {cpu(paced)} ms at the same rate ({cpu(flat)} ms flat out), "
                    f"check_http {cpu(check_http)} ms per probe: sonde / blackbox = {ratio[1].strip('*')}{loaded}",
                    verdict(ratio[2]), "results-probe-cpu.md"))

    for name, label in [("results-scale.md", "2,000 checks every 2 s for 60 s"),
                        ("results-scale-10000x10s.md", "10,000 checks every 10 s for 60 s"),
                        ("results-scale-outage.md", "2,000 checks every 2 s, all down, webhook receiver down")]:
        text = read(name)
        late = row(text, "runs starting < 100 ms late")
        rss = row(text, "sonde peak RSS")
        if text is None:
            out.append((label, "≥ 99.9% of runs start < 100 ms late", "not run", "?", name))
            continue
        out.append((label, "≥ 99.9% of runs start < 100 ms late", late[1] if late else "?",
                    verdict(late[2] if late else None), name))
        rss_goal = "peak RSS < 200 MB" if name != "results-scale-10000x10s.md" else "peak RSS (no goal set; < 200 MB shown)"
        out.append((label, rss_goal, rss[1] if rss else "?", verdict(rss[2] if rss else None)
                    if name != "results-scale-10000x10s.md" else f"({verdict(rss[2] if rss else None).strip('*')})", name))

    big = read("results-scale-100000x60s.md")
    label, name = "100,000 checks every 60 s for 120 s (1,667 runs/s)", "results-scale-100000x60s.md"
    if big is None:
        out.append((label, "≥ 99.9% of runs start < 100 ms late; peak RSS < 1 GB", "not run", "?", name))
    else:
        late = row(big, "runs starting < 100 ms late")
        rss = row(big, "sonde peak RSS")
        wall = row(big, "sonde wall time / exit status")
        out.append((label, "≥ 99.9% of runs start < 100 ms late", late[1] if late else "?",
                    verdict(late[2] if late else None), name))
        out.append((label, "peak RSS < 1 GB, no crash (exit 0)",
                    f"{rss[1] if rss else '?'}; wall time / exit {wall[1] if wall else '?'}",
                    verdict(rss[2] if rss else None) if wall and wall[1].endswith("/ 0") else "**not met**", name))

    fast = read("results-scale-10000x1s.md")
    sweep = read("results-scale-sweep.md")
    label, name = "10,000 checks every second for 30 s (10,000 runs/s)", "results-scale-10000x1s.md"
    late = row(fast, "runs starting < 100 ms late")
    steps = []
    for line in (sweep or "").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            steps.append(f"{cells[1]}/s: {cells[2]}")
    out.append((label, "≥ 99% of runs start < 100 ms late", (late[1] if late else "not run")
                + (f" (sweep: {'; '.join(steps)})" if steps else ""), verdict(late[2] if late else None), name))

    memory = read("results-memory.md")
    per = row(memory, "memory per check at rest")
    out.append(("Memory per check at rest (RSS with 10,000 checks − RSS with one)", "≤ 8 KB per check",
                per[1] if per else "not run", verdict(per[2] if per else None), "results-memory.md"))

    timing = read("results-timing.md")
    for label, title in (("first byte", "time to first byte"), ("total", "total time")):
        r = row(timing, label)
        if timing is None or r is None or len(r) < 6:
            out.append(("Timing truth", f"{title}: median difference to curl -w < 0.5 ms", "not run", "?", "results-timing.md"))
            continue
        out.append(("Timing truth, server waits 200 ms", f"{title}: median difference to curl -w < 0.5 ms",
                    f"sonde {r[1]} ms, curl {r[2]} ms: {r[3]} ms (paired: {r[4]})", verdict(r[5]), "results-timing.md"))

    report = read("results-report.md")
    ratio = row(report, "ratio sqlite3 / sonde (query time)")
    median = row(report, "median time")
    if report is None or ratio is None:
        out.append(("Report speed", "sonde report faster than sqlite3's 30-day uptime query", "not run", "?", "results-report.md"))
    else:
        value = ratio[2].strip("*")
        try:
            met = "met" if float(value) > 1 else "**not met**"
        except ValueError:
            met = "?"
        sonde = median[1] if median else "?"
        sqlite = median[2] if median else "?"
        out.append(("Report speed, 4.32 M runs", "sonde report faster than sqlite3's 30-day uptime query",
                    f"sonde {sonde} vs sqlite3 {sqlite}: sqlite3 / sonde = {value}", met, "results-report.md"))

    startup = read("results-startup.md")
    r = row(startup, "**ratio sonde / curl")
    out.append(("Start-up", "none (reported)", r[1].strip("*") + "× curl's wall time" if r else "not run", "—",
                "results-startup.md"))
    return out


def demote(text):
    """Headings one level down, so each scenario sits under this file's heading."""
    return re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", text, flags=re.M)


def main():
    rev = command(["git", "-C", BENCH, "rev-parse", "--short", "HEAD"])
    lines = [
        "# sonde benchmarks",
        "",
        f"Assembled {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%MZ')} by `make bench`"
        f" (`python3 bench/results.py`) from the scenario files beside it, each written by its script in the same run.",
        "",
        f"- Machine: {machine()}.",
        f"- sonde {rev}, {command(['swift', '--version'])}.",
        f"- Peers: nginx-light {dpkg_version('nginx-light')}, prometheus-blackbox-exporter "
        f"{dpkg_version('prometheus-blackbox-exporter')}, monitoring-plugins-basic {dpkg_version('monitoring-plugins-basic')} "
        f"(check_http), wrk {dpkg_version('wrk')}, curl {dpkg_version('curl')}, libcurl {dpkg_version('libcurl4')}"
        f" (sonde's and the floor's), strace {dpkg_version('strace')}, sqlite3 {dpkg_version('sqlite3')}.",
        "- Medians of several rounds where a scenario has rounds; every scenario states its own rounds, load average and"
        " method below. These are shared cloud machines: spreads are given with the medians.",
        "- Where a goal is not met, [distance.md](distance.md) says by how much and which profile explains it;"
        " figures taken between benches (under load, with heap and syscall counts) are in"
        " [between-benches.md](between-benches.md).",
        "",
        "## Goals",
        "",
        "| scenario | goal | measured | met | details |",
        "| --- | --- | --- | --- | --- |",
    ]
    for scenario, goal, measured, met, where in goals():
        lines.append(f"| {scenario} | {goal} | {measured} | {met} | [{where}]({where}) |")
    lines.append("")
    for name in ["results-probe-cpu.md", "results-scale.md", "results-scale-10000x10s.md",
                 "results-scale-100000x60s.md", "results-scale-sweep.md", "results-scale-10000x1s.md",
                 "results-memory.md", "results-scale-outage.md",
                 "results-timing.md", "results-report.md", "results-startup.md"]:
        text = read(name)
        if text is None:
            continue
        lines.append(demote(text.strip()))
        lines.append("")
    with open(os.path.join(BENCH, "results.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"wrote {os.path.join(BENCH, 'results.md')}", file=sys.stderr)


if __name__ == "__main__":
    main()
