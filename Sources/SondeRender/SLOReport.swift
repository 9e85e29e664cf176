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
    /// Certificates by days left (`## Certificates`).
    package var certificates: [CertificateStatus] = []
    /// Keep-warm figures of the checks with `@keep-warm` (`## Keep-warm`).
    package var keepWarm: [String: KeepWarmFigures] = [:]
    /// `@alert` rules and their episodes over the objective window, by check (checks with rules only).
    package var thresholds: [String: ThresholdSummary] = [:]
    /// Incidents opened and not resolved in the folders' `incidents.jsonl` (the status page).
    package var openIncidents: [StatusPage.OpenIncident] = []
    /// Maintenance time and excluded runs, by check (checks with maintenance only; `## Maintenance`).
    package var maintenance: [String: MaintenanceFigures] = [:]
    /// The maintenance window each check is in at `nowMs` and its next ones (the status page).
    package var maintenanceNow: [String: StatusPage.CheckMaintenance] = [:]
    /// What each check's last 24 hours of runs show (`FindingRules.check`), by check.
    package var findings: [String: [Finding]] = [:]

    package init(
        checks: [CheckSLO], folders: [String], nowMs: Int64, defaulted: Set<String> = [],
        incidentPages: [String: [String]] = [:], thresholds: [String: ThresholdSummary] = [:]
    ) {
        self.checks = checks
        self.folders = folders
        self.nowMs = nowMs
        self.defaulted = defaulted
        self.incidentPages = incidentPages
        self.thresholds = thresholds
    }

    /// Write-ups in `folder` (`YYYY-MM-DDTHHMMZ-<check>[-N].md`) by check, newest first. A write-up
    /// whose first line is sonde's marker counts for every check it names (an outage's write-up).
    package static func incidentPages(in folder: String, checks: [String]) -> [String: [String]] {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [:] }
        var out: [String: [String]] = [:]
        let names = Set(checks)
        for file in files.sorted(by: >)
        where file.hasSuffix(".md") && file.count > 20 && file.dropFirst(16).hasPrefix("-") {
            if let marked = IncidentWriteUp.markedChecks(inFile: folder + "/" + file) {
                for check in Set(marked) where names.contains(check) { out[check, default: []].append(file) }
                continue
            }
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
        if folders.count > 1 {
            md += "With \(folders.count) locations, uptime, budget and alert are the fleet's: up time slots ÷ slots, "
            md += "a slot (one `@every`) down when the quorum of the locations that ran in it failed. "
        }
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
                if let fleet = check.fleet {
                    guard let window = fleet.windows.first(where: { $0.label == label }) else { return "-" }
                    return Self.slotCell(window.counts)
                }
                guard let window = check.windows.first(where: { $0.label == label }) else { return "-" }
                return Self.uptimeCell(window)
            }
            let name = Markdown.escape(check.check)
            let verdict = Verdict(check)
            let budget = verdict.remaining.map(Self.budgetText) ?? "-"
            md += Markdown.row([
                "[\(name)](\(Markdown.link(pageName(check.check))))", Self.stateCell(check.state),
                uptime("24h"), uptime("7d"), uptime("30d"), Self.percentiles(check),
                "\(budget) (\(DurationText.setting(.milliseconds(check.policy.windowMs))))",
                Self.alertCell(verdict.alert),
                "![uptime](\(Markdown.link("badges/\(check.check)-uptime.svg")))",
            ])
        }
        let multi = checks.filter { !$0.locations.isEmpty }
        if !multi.isEmpty {
            md += "\n## Per location\n\n"
            md += "Each location counts its own runs; **fleet** counts time slots (one `@every`): a slot is down when "
            md += "at least the quorum of the locations that ran in it failed.\n\n"
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
                guard let fleet = check.fleet else { continue }
                md += Markdown.row(
                    [Markdown.escape(check.check), "**fleet** (quorum \(fleet.quorum))"]
                        + ["24h", "7d", "30d"].map { label in
                            guard let c = fleet.windows.first(where: { $0.label == label })?.counts else { return "-" }
                            return c.slots > 0 ? Self.slotCell(c) + ", \(c.down) down" : "no data"
                        })
            }
        }
        md += certificatesSection() + keepWarmSection() + maintenanceSection()
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
        md += "43.2 for 99.9% over 30 days at one run a minute (with several locations, the fleet counts slots: "
        md += "see Locations). Budget left = 1 − failed runs ÷ allowed failures, over the objective's "
        md += "window: 30 failed runs of 43,200 leave 30.5%. A young check is measured against the same "
        md += "allowance: 3 failed runs in its first 20 minutes at 99.9% over 30 days leave 1 − 3 ÷ 43.2 = 93.05%, "
        md += "and the incident they make used 6.9% of the budget. Burn rate = error ratio over the runs in a "
        md += "window ÷ (1 − objective). Time to exhaustion = budget left × window ÷ the 1-hour burn rate.\n"
        md += "- **Alert rules** (SRE workbook, 30-day objective): page when the 1h **and** 5m burn rates are above "
        md += "14.4, or 6h and 30m above 6; ticket when 1d and 2h are above 3, or 3d and 6h above 1. "
        md += "A window needs at least 10 runs for its burn rate (5m and 30m: 1 run); otherwise it has "
        md += "*insufficient data* and its rules cannot fire. At one run a minute, one failed run in an hour is a "
        md += "burn rate of 16.7 at 99.9%.\n"
        md += Self.locationsRule()
        md += "- **Findings** (each check page's, over its last 24 hours of raw runs; `findings` in `--json`):\n"
        md += FindingsNote.markdown.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
        let capped = checks.compactMap { check -> String? in
            guard let quorum = check.fleet?.quorum, quorum.isCapped else { return nil }
            return "`\(Markdown.escape(check.check))` (`@quorum \(quorum.requested)`)"
        }
        if !capped.isEmpty {
            md +=
                "- **Quorum capped.** A quorum above the \(folders.count) locations given was lowered to \(folders.count) for "
            md += capped.joined(separator: ", ") + ".\n"
        }
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
        if stats.oversized > 0 { md += " (\(stats.oversized) over the \(LineReader.maxLineBytes)-byte line cap)" }
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
        md += findingsSection(check.check)

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

        if let fleet = check.fleet { md += fleetSection(fleet, policy: policy) }
        md += budgetSections(Verdict(check), policy: policy)
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

        if let summary = thresholds[check.check] { md += summary.markdown(nowMs: nowMs) }

        md += "\n## Daily uptime, last \(SLOEvaluator.stripDays) days\n\n"
        md += "![daily uptime](\(Markdown.link("../charts/\(check.check)-daily.svg")))\n"

        if let days = check.certDays {
            md += "\n## Certificate\n\nThe leaf certificate seen by the last HTTPS run expires in "
            md += String(format: "%.1f", days) + " days.\n"
        }
        md += keepWarmPage(check.check) + maintenancePage(check.check)
        return md
    }

    /// The check page's fleet section: slots per window under the quorum.
    func fleetSection(_ fleet: FleetSLO, policy: SLOPolicy) -> String {
        var md = "\n## Fleet (quorum \(fleet.quorum))\n\n"
        md +=
            "A time slot is one `@every` (\(DurationText.setting(.milliseconds(policy.intervalMs)))); it is down when "
        md += "at least the quorum of the locations that ran in it failed"
        if fleet.quorum.isCapped {
            md += " (`@quorum \(fleet.quorum.requested)` capped at the \(fleet.quorum.locations) locations given)"
        }
        md += ". The error budget and burn rates below count these slots.\n\n"
        md += Markdown.header(
            ["Window", "Slots", "Down", "Uptime", "Coverage", "All locations ran", "Fewer than the quorum ran"],
            right: [1, 2, 3, 4, 5, 6])
        for window in fleet.windows {
            let c = window.counts
            md += Markdown.row([
                window.label, String(c.slots), String(c.down), PercentText.ratio(c.up, c.slots),
                PercentText.truncated(c.coverage, decimals: 1), PercentText.truncated(c.fullCoverage, decimals: 1),
                String(c.short),
            ])
        }
        return md
    }

    /// The error budget, burn rates and rules of a check's verdict (the fleet's, or its runs').
    func budgetSections(_ verdict: Verdict, policy: SLOPolicy) -> String {
        var md = "\n## Error budget (\(DurationText.setting(.milliseconds(policy.windowMs))))\n\n"
        md += Markdown.header(
            ["Objective", verdict.unit, "Allowed failures", "Failures", "Budget left", "Time to exhaustion"],
            right: [1, 2, 3, 4])
        md += Markdown.row([
            Self.objectiveText(policy.objective), String(verdict.total), String(format: "%.1f", verdict.allowed),
            String(verdict.bad), verdict.remaining.map(Self.budgetText) ?? "-",
            verdict.exhaustionMs.map { DurationText.span(ms: $0) } ?? "-",
        ])

        md += "\n## Burn rates\n\n"
        md += Markdown.header(["Window", verdict.unit, "Failed", "Burn rate"], right: [1, 2, 3])
        for window in BurnWindow.allCases {
            let counts = verdict.burnCounts[window] ?? (0, 0)
            let rate = verdict.rates[window].map { String(format: "%.2f", $0) } ?? "insufficient data"
            md += Markdown.row([window.rawValue, String(counts.total), String(counts.bad), rate])
        }
        md += "\n**Alert:** \(Self.alertCell(verdict.alert))"
        if !verdict.alert.firing.isEmpty {
            md += " — " + verdict.alert.firing.map { "`\($0)`" }.joined(separator: ", ")
        }
        if !verdict.alert.undecided.isEmpty {
            md += ". Not decided for lack of \(verdict.unit.lowercased()): "
            md += verdict.alert.undecided.map { "`\($0)`" }.joined(separator: ", ")
        }
        md += ".\n\n"
        md += Markdown.header(["Rule", "Long window", "Short window", "Fires"])
        for rule in BurnRule.standard {
            let fires = rule.fires(verdict.rates)
            let long = verdict.rates[rule.long].map { String(format: "%.2f", $0) } ?? "insufficient"
            let short = verdict.rates[rule.short].map { String(format: "%.2f", $0) } ?? "insufficient"
            md += Markdown.row([
                "\(rule.severity.rawValue): burn > \(BurnRule.number(rule.threshold))",
                "\(rule.long.rawValue) = \(long)", "\(rule.short.rawValue) = \(short)",
                fires.map { $0 ? "**yes**" : "no" } ?? "undecided",
            ])
        }
        return md
    }

    /// The "Locations" rule of "How this report counts".
    static func locationsRule() -> String {
        var md = "- **Locations.** With several data folders, each location counts its own runs (the per-location "
        md += "table). The fleet counts **time slots** of one `@every`, aligned as `sonde run` schedules the check "
        md += "(the same instants at every location): a location ran in a slot when one of its runs was scheduled "
        md += "for it, and failed there when such a run failed. A slot is **down** when at least *N* of the "
        md += "locations that ran in it failed — *N* is the check's `@quorum`, else `--quorum`, else all (every "
        md += "location that ran in the slot failed). A location that did not run in a slot does not count toward "
        md += "*N*, and *N* is not lowered to the number that ran: a slot in which fewer than *N* locations ran "
        md += "is up, as for the `SondeCheckDown` rule of `sonde rules`, and is counted under \"fewer than the "
        md += "quorum ran\". A slot without any run is *no data*. Fleet uptime = up slots ÷ slots with a run; "
        md += "coverage = slots with a run ÷ slots in the window (and the share in which every location ran). "
        md += "The fleet's error budget, burn rates and burn-rate alert are the rules above with slots for runs: "
        md += "allowed failures = (1 − objective) × (window ÷ `@every`) slots (one location's schedule: the fleet "
        md += "has one verdict per slot), budget left = 1 − down slots ÷ allowed failures, burn rate = down "
        md += "share of the window's slots ÷ (1 − objective), a window needs "
        md += "10 slots (5m and 30m: 1). Runs older than the raw runs kept (a day) count from the hour lines' "
        md += "minute marks: a location that ran in a minute ran in the slot nearest the minute's middle, and "
        md += "failed there when a run of that minute failed. Latency, errors and the daily strip pool every "
        md += "location's runs.\n"
        return md
    }

    /// What the budget sections of a check show: the fleet's slots when there are several locations,
    /// else the runs.
    struct Verdict {
        /// `Runs` or `Slots`.
        var unit: String
        var total: Int64
        var bad: Int64
        /// The failures the objective allows over its window.
        var allowed: Double
        var remaining: Double?
        var exhaustionMs: Double?
        var burnCounts: [BurnWindow: (total: Int64, bad: Int64)]
        var rates: [BurnWindow: Double]
        var alert: AlertState

        init(_ check: CheckSLO) {
            if let fleet = check.fleet {
                unit = "Slots"
                total = fleet.objectiveWindow.counts.slots
                bad = fleet.objectiveWindow.counts.down
                allowed = fleet.budget.allowedFailures
                remaining = fleet.budgetRemaining
                exhaustionMs = fleet.timeToExhaustionMs
                burnCounts = fleet.burnCounts.mapValues { ($0.slots, $0.down) }
                rates = fleet.burnRates
                alert = fleet.alert
            } else {
                unit = "Runs"
                total = check.objectiveWindow.counts.runs
                bad = check.objectiveWindow.counts.bad
                allowed = check.budget.allowedFailures
                remaining = check.budgetRemaining
                exhaustionMs = check.timeToExhaustionMs
                burnCounts = check.burnCounts.mapValues { ($0.runs, $0.bad) }
                rates = check.burnRates
                alert = check.alert
            }
        }
    }

    // MARK: SVG

    func uptimeBadge(_ check: CheckSLO) -> Badge {
        let window = check.objectiveWindow
        var text = window.counts.runs > 0 ? PercentText.ratio(window.counts.good, window.counts.runs) : nil
        if let fleet = check.fleet?.objectiveWindow.counts {
            text = fleet.slots > 0 ? PercentText.ratio(fleet.up, fleet.slots) : nil
        }
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

    /// The fleet's uptime over a window and its coverage, as the README shows them.
    static func slotCell(_ counts: SlotCounts) -> String {
        guard counts.slots > 0 else { return "no data" }
        return PercentText.ratio(counts.up, counts.slots) + " (\(coverageText(counts.coverage)))"
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

    /// A check page's `## Findings`: what its last 24 hours of runs show.
    func findingsSection(_ check: String) -> String {
        var md =
            "## Findings\n\nOver the last 24 hours of runs ([how they are computed](../README.md#how-this-report-counts)):\n\n"
        let found = findings[check] ?? []
        if found.isEmpty { return md + "Nothing stands out: one latency mode, no error pattern, no cold start.\n\n" }
        for finding in found { md += "- " + Markdown.escape(finding.text) + "\n" }
        return md + "\n"
    }
}
