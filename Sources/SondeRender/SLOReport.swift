import Foundation
import SondeIncidents
import SondeProbe
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// Renders `sonde report`: `README.md` (every check), one page per check, and the SVG badges and
/// charts they show (README.md, "sonde report"). Pure: returns file names and contents; the command
/// writes them.
package struct SLOReport: Sendable {
    package var checks: [CheckSLO]
    /// The data folders read, as given.
    package var folders: [String]
    /// When the figures were computed, epoch ms.
    var nowMs: Int64
    /// Checks whose objectives are defaults because no check file was found.
    package var defaulted: Set<String>
    /// Incident write-ups per check (file names in `incidents/`, newest first).
    package var incidentPages: [String: [String]]

    package init(
        checks: [CheckSLO], folders: [String], nowMs: Int64, defaulted: Set<String> = [],
        incidentPages: [String: [String]] = [:]
    ) {
        self.checks = checks
        self.folders = folders
        self.nowMs = nowMs
        self.defaulted = defaulted
        self.incidentPages = incidentPages
    }

    /// Write-ups in `folder` (`YYYY-MM-DDTHHMMZ-<check>[-N].md`) by check, newest first.
    package static func incidentPages(in folder: String, checks: [String]) -> [String: [String]] {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [:] }
        var out: [String: [String]] = [:]
        let names = Set(checks)
        for file in files.sorted(by: >)
        where file.hasSuffix(".md") && file.count > 20 && file.dropFirst(16).hasPrefix("-") {
            var name = String(file.dropFirst(17).dropLast(3))
            if !names.contains(name), let dash = name.lastIndex(of: "-"), Int(name[name.index(after: dash)...]) != nil {
                name = String(name[..<dash])
            }
            if names.contains(name) { out[name, default: []].append(file) }
        }
        return out
    }

    /// Every file of the report: relative path → contents.
    package func files() -> [(path: String, contents: String)] {
        [("README.md", readme())] + checks.flatMap(files(of:))
    }

    /// The folders the report's files go into, relative to its root.
    package static let folders = ["checks", "badges", "charts"]

    /// The files of one check: its page, its two badges and its two charts.
    package func files(of check: CheckSLO) -> [(path: String, contents: String)] {
        let name = check.check
        return [
            (pageName(name), page(check)),
            ("badges/\(name)-uptime.svg", uptimeBadge(check).svg),
            ("badges/\(name)-latency.svg", latencyBadge(check).svg),
            ("charts/\(name)-daily.svg", dailyStrip(check).svg),
            ("charts/\(name)-latency.svg", sparkline(check).svg),
        ]
    }

    func pageName(_ check: String) -> String { "checks/\(check).md" }

    // MARK: README

    package func readme() -> String {
        var md = "# Service levels\n\n"
        md +=
            "Generated \(Self.time(nowMs)) from \(folders.map { "`\(Markdown.escape($0))`" }.joined(separator: ", ")). "
        md +=
            "Uptime is good runs ÷ runs, truncated; coverage (in brackets) is the share of the window the prober was running. "
        md += "See [How this report counts](#how-this-report-counts).\n\n"
        if checks.isEmpty {
            md += "No checks have data.\n"
            return md + howItCounts()
        }
        if !incidentPages.isEmpty { md += "Incident write-ups: [incidents/README.md](incidents/README.md).\n\n" }
        md += Markdown.header(
            [
                "Check", "State", "Uptime 24h", "Uptime 7d", "Uptime 30d", "p50 / p95 / p99 (24h)",
                "Budget left", "Burn-rate alert", "Badge",
            ], right: [2, 3, 4, 5, 6])
        for check in checks {
            let uptime = { (label: String) -> String in
                guard let window = check.windows.first(where: { $0.label == label }) else { return "-" }
                return Self.uptimeCell(window)
            }
            let name = Markdown.escape(check.check)
            let budget = check.budgetRemaining.map(Self.budgetText) ?? "-"
            md += Markdown.row([
                "[\(name)](\(Markdown.link(pageName(check.check))))", Self.stateCell(check.state),
                uptime("24h"), uptime("7d"), uptime("30d"), Self.percentiles(check),
                "\(budget) (\(DurationText.setting(.milliseconds(check.policy.windowMs))))",
                Self.alertCell(check.alert),
                "![uptime](\(Markdown.link("badges/\(check.check)-uptime.svg")))",
            ])
        }
        let multi = checks.filter { !$0.locations.isEmpty }
        if !multi.isEmpty {
            md += "\n## Per location\n\n"
            md += "Each location counts its own runs; **combined** counts minutes: a minute is down only when every "
            md += "location that ran in it failed.\n\n"
            md += Markdown.header(["Check", "Location", "Uptime 24h", "Uptime 7d", "Uptime 30d"], right: [2, 3, 4])
            for check in multi {
                for location in check.locations {
                    md += Markdown.row(
                        [
                            Markdown.escape(check.check),
                            Markdown.escape(location.name.isEmpty ? "(none)" : location.name),
                        ]
                            + ["24h", "7d", "30d"].map { label in
                                location.windows.first { $0.label == label }.map(Self.uptimeCell) ?? "-"
                            })
                }
                md += Markdown.row(
                    [Markdown.escape(check.check), "**combined**"]
                        + ["24h", "7d", "30d"].map { label in
                            guard let c = check.combined.first(where: { $0.label == label }) else { return "-" }
                            return c.minutesCovered > 0
                                ? PercentText.ratio(c.minutesCovered - c.minutesDown, c.minutesCovered)
                                    + " (\(c.minutesDown) min down)" : "no data"
                        })
            }
        }
        return md + "\n" + howItCounts()
    }

    func howItCounts() -> String {
        var md = "## How this report counts\n\n"
        md += "- **Occurrences.** Every run counts once: uptime = good runs ÷ runs. A run is good when every request "
        md += "of the check passed. Latency SLI = good runs faster than the `@latency` threshold ÷ runs; "
        md += "percentiles are shown beside it, never used as the SLI.\n"
        md +=
            "- **Coverage.** A window's coverage is the share of it the prober watched: each minute with a run covers "
        md += "one interval of the check (at least a minute); a minute counts once however many runs or locations "
        md += "it holds. Time without runs is *no data*: neither up nor down.\n"
        md += "- **Truncation.** Percentages are truncated, never rounded up: 99.9996% shows as 99.999%.\n"
        md += "- **Windows.** A window of length W holds the runs started in (now − W, now], here as in "
        md += "`sonde status` and `sonde incidents`. Whole hours come from the hour rollups (`hours-*.jsonl`): "
        md += "where an hour has a line, the line is what counts for that hour and location, not the raw runs "
        md += "(where it has none, the raw runs are rolled up). Partial hours come from the raw runs, so every "
        md += "count is exact."
        md +=
            " p50/p95/p99 over 24 h are exact (nearest rank over the raw runs); "
        md += "over longer windows they are read from the rollups' fixed histogram buckets.\n"
        md += "- **Error budget.** A check's window holds a known number of runs: window ÷ `@every`. The objective "
        md += "allows (1 − objective) of them to fail: allowed failures = (1 − objective) × (window ÷ `@every`), "
        md += "43.2 for 99.9% over 30 days at one run a minute (with several locations, that many per location "
        md += "that ran in the window). Budget left = 1 − failed runs ÷ allowed failures, over the objective's "
        md += "window: 30 failed runs of 43,200 leave 30.5%. A young check is measured against the same "
        md += "allowance: 3 failed runs in its first 20 minutes at 99.9% over 30 days leave 1 − 3 ÷ 43.2 = 93.05%, "
        md += "and the incident they make used 6.9% of the budget. Burn rate = error ratio over the runs in a "
        md += "window ÷ (1 − objective). Time to exhaustion = budget left × window ÷ the 1-hour burn rate.\n"
        md += "- **Alert rules** (SRE workbook, 30-day objective): page when the 1h **and** 5m burn rates are above "
        md += "14.4, or 6h and 30m above 6; ticket when 1d and 2h are above 3, or 3d and 6h above 1. "
        md += "A window needs at least 10 runs for its burn rate (5m and 30m: 1 run); otherwise it has "
        md += "*insufficient data* and its rules cannot fire. At one run a minute, one failed run in an hour is a "
        md += "burn rate of 16.7 at 99.9%.\n"
        md += "- **Locations.** With several data folders, each location counts its own runs; the combined view "
        md += "counts minutes, and a minute is down only when every location that ran in it failed.\n"
        let defaults = checks.filter { defaulted.contains($0.check) }.map { "`\(Markdown.escape($0.check))`" }
        if !defaults.isEmpty {
            md += "- **Default objectives** (99.9% over 30 days, no latency objective, one run a minute) for checks "
            md += "without a check file: \(defaults.joined(separator: ", ")).\n"
        }
        var stats = ReadStats()
        var future = 0
        var first: Int64?
        var last: Int64?
        for check in checks {
            stats.merge(check.stats)
            future += check.futureRuns
            for (day, counts) in check.daily where counts.runs > 0 {
                first = min(first ?? day, day)
                last = max(last ?? day, day)
            }
        }
        if let first, let last {
            md +=
                "- **Data range.** Runs from \(UTCTime.dayString(first)) to \(UTCTime.dayString(last)) (UTC) in the last "
            md += "\(SLOEvaluator.stripDays) days; report generated \(Self.time(nowMs)).\n"
        }
        md += "- **Skipped lines.** \(stats.skipped) data lines could not be read"
        if stats.tornFinalLines > 0 { md += " (\(stats.tornFinalLines) torn final lines)" }
        if stats.unknownVersion > 0 { md += " (\(stats.unknownVersion) of an unknown format version)" }
        if let problem = stats.firstProblem { md += "; first: `\(Markdown.escape(problem))`" }
        md += ". \(future) runs stamped in the future were ignored.\n"
        return md
    }

    // MARK: Check page

    /// The page of one check: uptime, latency, phases, errors, budget, burn rates, incidents, strip.
    func page(_ check: CheckSLO) -> String {
        let name = Markdown.escape(check.check)
        let policy = check.policy
        var md = "# \(name)\n\n[← all checks](../README.md)\n\n"
        md += "![uptime](\(Markdown.link("../badges/\(check.check)-uptime.svg"))) "
        md += "![latency](\(Markdown.link("../badges/\(check.check)-latency.svg")))\n\n"
        md += "**State:** \(Self.stateCell(check.state))"
        if let latest = check.latest {
            md += " — last run \(Self.time(latest.time))"
            if let error = latest.error {
                md += ", failed: `\(Markdown.escape(error.kind))` \(Markdown.escape(error.message))"
            }
        }
        md +=
            "  \n**Objective:** \(Self.objectiveText(policy.objective)) of runs good over \(DurationText.setting(.milliseconds(policy.windowMs)))"
        if let threshold = policy.latencyThresholdMs, let target = policy.latencyObjective {
            md += "; \(Self.objectiveText(target)) of runs good and under \(DurationText.latency(threshold))"
        }
        md += "; a run every \(DurationText.setting(.milliseconds(policy.intervalMs)))"
        if defaulted.contains(check.check) { md += " (defaults: no check file found)" }
        md += ".\n\n"
        md += "**Coverage (\(check.objectiveWindow.label)):** \(Self.coverageText(check.objectiveWindow.coverage)) "
        md += "of the objective's window has runs.\n\n"

        md += "## Uptime\n\n"
        md += Markdown.header(["Window", "Runs", "Failed", "Uptime", "Coverage"], right: [1, 2, 3, 4])
        for window in check.windows {
            md += Markdown.row([
                window.label, String(window.counts.runs), String(window.counts.bad),
                PercentText.ratio(window.counts.good, window.counts.runs),
                PercentText.truncated(window.coverage, decimals: 1),
            ])
        }

        md += "\n## Latency\n\n"
        let sliTitle = policy.latencyThresholdMs.map { "Latency SLI (< \(DurationText.latency($0)))" } ?? "Latency SLI"
        md += Markdown.header(["Window", "p50", "p95", "p99", "Mean", sliTitle], right: [1, 2, 3, 4, 5])
        for window in check.windows {
            let exact = window.label == "24h"
            let p =
                exact
                ? (check.p50, check.p95, check.p99)
                : (
                    window.counts.histogram.quantile(0.5), window.counts.histogram.quantile(0.95),
                    window.counts.histogram.quantile(0.99)
                )
            let mark = exact ? "" : " ≈"
            let sli =
                policy.latencyThresholdMs == nil
                ? "no objective" : PercentText.ratio(window.counts.fast, window.counts.runs)
            md += Markdown.row([
                window.label + mark, DurationText.latency(p.0), DurationText.latency(p.1), DurationText.latency(p.2),
                DurationText.latency(window.counts.meanMs), sli,
            ])
        }
        md += "\n≈ read from the hour rollups' histogram buckets (within a bucket, about 25%).\n\n"
        md += "![p95 latency per hour, last 7 days](\(Markdown.link("../charts/\(check.check)-latency.svg")))\n\n"

        let objective = check.objectiveWindow.counts
        md += "## Where the time goes (\(check.objectiveWindow.label), mean per run)\n\n"
        md += Markdown.header(
            ["DNS", "Connect", "TLS", "Server (TTFB)", "Transfer", "Run"], right: [0, 1, 2, 3, 4, 5])
        let runs = Double(max(1, objective.runs))
        md += Markdown.row(
            objective.runs == 0
                ? Array(repeating: "-", count: 6)
                : [
                    DurationText.latency(objective.phaseSums.dns / runs),
                    DurationText.latency(objective.phaseSums.connect / runs),
                    DurationText.latency(objective.phaseSums.tls / runs),
                    DurationText.latency(objective.phaseSums.ttfb / runs),
                    DurationText.latency(objective.phaseSums.transfer / runs), DurationText.latency(objective.meanMs),
                ])

        md += "\n## Errors (\(check.objectiveWindow.label))\n\n"
        if objective.errors.isEmpty {
            md += "No failed runs.\n"
        } else {
            md += Markdown.header(["Kind", "Runs", "Latest message"], right: [1])
            for (kind, count) in objective.errors.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                md += Markdown.row([
                    "`\(Markdown.escape(kind))`", String(count),
                    Markdown.escape(check.latestMessages[kind] ?? "(not in the raw runs kept)"),
                ])
            }
        }

        md += "\n## Error budget (\(DurationText.setting(.milliseconds(policy.windowMs))))\n\n"
        md += Markdown.header(
            ["Objective", "Runs", "Allowed failures", "Failures", "Budget left", "Time to exhaustion"],
            right: [1, 2, 3, 4])
        md += Markdown.row([
            Self.objectiveText(policy.objective), String(objective.runs),
            String(format: "%.1f", check.budget.allowedFailures),
            String(objective.bad), check.budgetRemaining.map(Self.budgetText) ?? "-",
            check.timeToExhaustionMs.map { DurationText.span(ms: $0) } ?? "-",
        ])

        md += "\n## Burn rates\n\n"
        md += Markdown.header(["Window", "Runs", "Failed", "Burn rate"], right: [1, 2, 3])
        for window in BurnWindow.allCases {
            let counts = check.burnCounts[window] ?? WindowCounts(fromMs: 0, toMs: 0)
            let rate = check.burnRates[window].map { String(format: "%.2f", $0) } ?? "insufficient data"
            md += Markdown.row([window.rawValue, String(counts.runs), String(counts.bad), rate])
        }
        md += "\n**Alert:** \(Self.alertCell(check.alert))"
        if !check.alert.firing.isEmpty { md += " — " + check.alert.firing.map { "`\($0)`" }.joined(separator: ", ") }
        if !check.alert.undecided.isEmpty {
            md += ". Not decided for lack of runs: " + check.alert.undecided.map { "`\($0)`" }.joined(separator: ", ")
        }
        md += ".\n\n"
        md += Markdown.header(["Rule", "Long window", "Short window", "Fires"])
        for rule in BurnRule.standard {
            let fires = rule.fires(check.burnRates)
            let long = check.burnRates[rule.long].map { String(format: "%.2f", $0) } ?? "insufficient"
            let short = check.burnRates[rule.short].map { String(format: "%.2f", $0) } ?? "insufficient"
            md += Markdown.row([
                "\(rule.severity.rawValue): burn > \(BurnRule.number(rule.threshold))",
                "\(rule.long.rawValue) = \(long)", "\(rule.short.rawValue) = \(short)",
                fires.map { $0 ? "**yes**" : "no" } ?? "undecided",
            ])
        }

        md += "\n## Incidents\n\n"
        let pages = incidentPages[check.check] ?? []
        if pages.isEmpty {
            md += "No incident write-up (run `sonde incidents` to find and write them).\n"
        } else {
            for page in pages.prefix(20) {
                md += "- [\(Markdown.escape(String(page.dropLast(3))))](\(Markdown.link("../incidents/" + page)))\n"
            }
            if pages.count > 20 { md += "- … \(pages.count - 20) older: see [all incidents](../incidents/README.md)\n" }
        }

        md += "\n## Daily uptime, last \(SLOEvaluator.stripDays) days\n\n"
        md += "![daily uptime](\(Markdown.link("../charts/\(check.check)-daily.svg")))\n"

        if let days = check.certDays {
            md += "\n## Certificate\n\nThe leaf certificate seen by the last HTTPS run expires in "
            md += String(format: "%.1f", days) + " days.\n"
        }
        return md
    }

    // MARK: SVG

    func uptimeBadge(_ check: CheckSLO) -> Badge {
        let window = check.objectiveWindow
        let text = window.counts.runs > 0 ? PercentText.ratio(window.counts.good, window.counts.runs) : nil
        var badge = Badge.uptime(percentText: text, objective: check.policy.objective * 100)
        badge.label = "uptime \(window.label)"
        return badge
    }

    func latencyBadge(_ check: CheckSLO) -> Badge {
        Badge.latency(p95Ms: check.p95, thresholdMs: check.policy.latencyThresholdMs)
    }

    func dailyStrip(_ check: CheckSLO) -> UptimeStrip {
        UptimeStrip(
            days: check.daily.map { day, counts in
                UptimeStrip.Day(date: UTCTime.dayString(day), uptime: counts.availability, runs: Int(counts.runs))
            }, objective: check.policy.objective)
    }

    func sparkline(_ check: CheckSLO) -> Sparkline {
        Sparkline(
            points: check.hourlyP95, label: "p95 per hour, last 7 days", threshold: check.policy.latencyThresholdMs)
    }

    // MARK: Cells

    static func uptimeCell(_ window: CheckSLO.Window) -> String {
        guard window.counts.runs > 0 else { return "no data" }
        return PercentText.ratio(window.counts.good, window.counts.runs) + " (\(coverageText(window.coverage)))"
    }

    /// Coverage to the percent, or to a tenth below 10% (a minute of data in a day is 0.0%, not 0%).
    static func coverageText(_ coverage: Double) -> String {
        PercentText.truncated(coverage, decimals: coverage < 0.1 ? 1 : 0)
    }

    /// `30.5%`, or `exhausted (12.0× spent)` once the failures exceed the budget.
    static func budgetText(_ remaining: Double) -> String {
        remaining >= 0
            ? PercentText.truncated(remaining, decimals: 1)
            : "exhausted, " + String(format: "%.1f", 1 - remaining) + "× spent"
    }

    static func stateCell(_ state: CheckSLO.State) -> String {
        switch state {
        case .up: return "🟢 up"
        case .down: return "🔴 down"
        case .noData: return "⚪ no data"
        }
    }

    static func alertCell(_ alert: AlertState) -> String {
        switch alert.level {
        case .page: return "🚨 page"
        case .ticket: return "🎫 ticket"
        case .ok: return "ok"
        case .insufficientData: return "insufficient data"
        }
    }

    static func percentiles(_ check: CheckSLO) -> String {
        guard check.p50 != nil else { return "-" }
        return
            "\(DurationText.latency(check.p50)) / \(DurationText.latency(check.p95)) / \(DurationText.latency(check.p99))"
    }

    static func objectiveText(_ ratio: Double) -> String {
        var text = String(format: "%.4f", ratio * 100)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + "%"
    }

    static func time(_ ms: Int64) -> String {
        let text = UTCTime.rfc3339Seconds(ms)
        return String(text.prefix(16)).replacingOccurrences(of: "T", with: " ") + " UTC"
    }
}
