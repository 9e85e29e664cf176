import Foundation
import SondeIncidents
import SondeProbe
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// Renders `reports/incidents/`: one Markdown write-up per incident and a `README.md` index with MTTD
/// and MTTR (README.md, "sonde incidents"). Pure: returns file names and contents.
package struct IncidentWriteUp: Sendable {
    package var incidents: [Incident]
    /// When the pages are written, epoch ms: ongoing incidents last until then.
    var nowMs: Int64
    package var folders: [String]
    package var stats: ReadStats
    /// Each location's own incidents when `incidents` are the fleet's (several locations).
    package var locationIncidents: [Incident] = []
    /// The quorum of each check, when the incidents are the fleet's.
    package var quorums: [String: LocationQuorum] = [:]
    /// Episodes of the checks' `@alert` threshold rules (listed in the index).
    package var episodes: [ThresholdEpisode]
    /// Which incidents are one outage, with one write-up (`--group-within`).
    package var grouping = IncidentGrouping()
    /// Each check's `@every`, ms (for the grouping rule; a minute when missing).
    package var intervals: [String: Int64] = [:]

    package init(
        incidents: [Incident], nowMs: Int64, folders: [String], stats: ReadStats = ReadStats(),
        episodes: [ThresholdEpisode] = []
    ) {
        self.incidents = incidents
        self.nowMs = nowMs
        self.folders = folders
        self.stats = stats
        self.episodes = episodes
    }

    package func files() -> [(path: String, contents: String)] {
        [("README.md", index())]
            + groups.map { group in
                (group.id + ".md", group.incidents.count == 1 ? page(group.incidents[0]) : groupPage(group))
            }
    }

    /// The incidents in write-ups: one per outage (`grouping`).
    package var groups: [IncidentGroup] {
        grouping.groups(incidents, nowMs: nowMs) { intervals[$0] ?? 60_000 }
    }

    /// The link to an incident's write-up: its own page, or its section of its outage's page.
    func link(_ incident: Incident, in groups: [IncidentGroup]) -> String {
        guard let group = groups.first(where: { $0.incidents.contains { $0.id == incident.id } }),
            group.incidents.count > 1
        else { return Markdown.link(incident.id + ".md") }
        return Markdown.link(group.id + ".md") + "#" + Self.anchor("Check: " + incident.check)
    }

    // MARK: Index

    package func index() -> String {
        var md = "# Incidents\n\n"
        let resolved = incidents.filter(\.isResolved)
        md += "\(incidents.count) incident\(incidents.count == 1 ? "" : "s")"
        md += " (\(incidents.count - resolved.count) ongoing)"
        md +=
            " found in \(folders.map { "`\(Markdown.escape($0))`" }.joined(separator: ", ")), as of \(Self.time(nowMs)). "
        md += "MTTD = mean time from the first failed run to detection; MTTR = mean time from the first failed run to "
        md += "resolution (resolved incidents only).\n\n"
        if !quorums.isEmpty {
            md += "With \(folders.count) locations these are the **fleet's** incidents, found on time slots (one "
            md += "`@every`): a slot is down when at least the quorum of the locations that ran in it failed (as in "
            md += "`sonde report`), an incident opens after `@down-after` slots down in a row and resolves after "
            md += "`@up-after` up. Each location's own outages are counted under [Per location](#per-location).\n\n"
        }
        if incidents.isEmpty {
            md += "No incident: no check failed `@down-after` times in a row.\n"
            return md + perLocation() + thresholdSection()
        }
        md +=
            "**Overall:** MTTD \(Self.mean(incidents.map(\.timeToDetectMs))), MTTR \(Self.mean(resolved.compactMap(\.resolvedDurationMs))).\n\n"
        md += Markdown.header(
            ["Started (UTC)", "Check", "Status", "Duration", "Time to detect", "Main error", "Write-up"],
            right: [3, 4])
        let groups = self.groups
        for incident in incidents.sorted(by: { $0.startedMs > $1.startedMs }) {
            md += Markdown.row([
                Self.time(incident.startedMs), Markdown.escape(incident.check),
                incident.isResolved ? "resolved" : "**ongoing**",
                DurationText.span(incident.durationMs(nowMs: nowMs)), DurationText.span(incident.timeToDetectMs),
                incident.mainKind.map { "`\(Markdown.escape($0))`" } ?? "-",
                "[\(incident.id)](\(link(incident, in: groups)))",
            ])
        }
        md += outagesNote(groups)
        md += "\n## Per check\n\n"
        md += Markdown.header(
            ["Check", "Incidents", "Ongoing", "MTTD", "MTTR", "Down in total"], right: [1, 2, 3, 4, 5])
        for (check, group) in Dictionary(grouping: incidents, by: \.check).sorted(by: { $0.key < $1.key }) {
            let done = group.filter(\.isResolved)
            md += Markdown.row([
                Markdown.escape(check), String(group.count), String(group.count - done.count),
                Self.mean(group.map(\.timeToDetectMs)),
                Self.mean(done.compactMap(\.resolvedDurationMs)),
                DurationText.span(group.reduce(0) { $0 + $1.durationMs(nowMs: nowMs) }),
            ])
        }
        md += perLocation()
        if stats.skipped > 0 {
            md += "\n\(stats.skipped) data lines could not be read and were skipped"
            if let first = stats.firstProblem { md += " (first: `\(Markdown.escape(first))`)" }
            md += ".\n"
        }
        return md + thresholdSection() + Self.findingsNote
    }

    /// `## Threshold alerts`: every episode of an `@alert` rule, newest first; empty without episodes.
    func thresholdSection() -> String {
        guard !episodes.isEmpty else { return "" }
        var md = "\n## Threshold alerts\n\n"
        md += "Episodes of the checks' `@alert` rules, replayed from the runs with the live prober's evaluator: "
        md +=
            "a rule starts at the first run its window crosses the threshold and ends at the first run it no longer does.\n\n"
        md += Markdown.header(
            [
                "Started (UTC)", "Check", "Location", "Rule", "Severity", "Status", "Duration", "Value at start",
                "Worst",
            ],
            right: [6, 7, 8])
        for episode in episodes.sorted(by: { $0.startedMs > $1.startedMs }) {
            md += Markdown.row([
                Self.time(episode.startedMs), Markdown.escape(episode.check), Markdown.escape(episode.location),
                Markdown.escape(episode.rule.text), episode.rule.severity.rawValue,
                episode.endedMs == nil ? "**ongoing**" : "ended", DurationText.span(episode.durationMs(nowMs: nowMs)),
                episode.rule.format(episode.value), episode.rule.format(episode.peak),
            ])
        }
        return md
    }

    /// The index's per-location section when the incidents are the fleet's: each location's own
    /// incidents per check, beside the fleet's quorum.
    func perLocation() -> String {
        guard !quorums.isEmpty else { return "" }
        var md = "\n## Per location\n\n"
        md += "Each location's own incidents (its runs alone, no quorum); they are not written up.\n\n"
        guard !locationIncidents.isEmpty else { return md + "No location had an incident of its own.\n" }
        md += Markdown.header(
            ["Check", "Quorum", "Location", "Incidents", "Ongoing", "Down in total"], right: [3, 4, 5])
        let grouped = Dictionary(grouping: locationIncidents) { "\($0.check)\u{0}\($0.location)" }
        for key in grouped.keys.sorted() {
            guard let group = grouped[key], let first = group.first else { continue }
            md += Markdown.row([
                Markdown.escape(first.check), quorums[first.check].map { "\($0)" } ?? "-",
                Markdown.escape(first.location.isEmpty ? "(none)" : first.location), String(group.count),
                String(group.filter { !$0.isResolved }.count),
                DurationText.span(group.reduce(0) { $0 + $1.durationMs(nowMs: nowMs) }),
            ])
        }
        return md
    }

    // MARK: Write-up

    /// The write-up of one incident: findings, facts, impact, latency, timeline, charts, and sections
    /// to fill in.
    func page(_ incident: Incident) -> String {
        let check = Markdown.escape(incident.check)
        let kind = incident.mainKind.map { "`\(Markdown.escape($0))`" } ?? "failures"
        var md = Self.marker([incident.check])
        md +=
            "# \(check): \(incident.isResolved ? "down" : "down for") \(DurationText.span(incident.durationMs(nowMs: nowMs))) — \(kind)"
        if let summary = incident.mainKind.flatMap({ incident.kinds[$0] }) {
            md += " (\(Markdown.escape(Self.short(summary.latestMessage, 80))))"
        }
        md += "\n\n[← all incidents](README.md)\n\n"
        md += "**Status:** \(incident.isResolved ? "resolved" : "🔴 **ongoing**")"
        if !incident.location.isEmpty { md += " · **Location:** \(Markdown.escape(incident.location))" }
        md += "\n\n"
        md += Self.findingsSection(FindingRules.incident(incident), checks: 1)
        md += sections(incident, level: 2)
        md += "\n## Chart\n\n" + gantt([incident]) + "\n" + latencyChart(incident)
        return md + Self.peopleSections
    }

    /// The sections of one incident — facts, impact, latency, also affected (on its own page),
    /// timeline — under headings of `level`.
    func sections(_ incident: Incident, level: Int) -> String {
        let h = String(repeating: "#", count: level)
        var md = Markdown.header(["", "UTC"])
        md += Markdown.row(["Started (first failed run)", Self.time(incident.startedMs, seconds: true)])
        md += Markdown.row([
            "Detected (\(incident.downAfter) failed in a row)",
            Self.time(incident.detectedMs, seconds: true)
                + " — time to detect \(DurationText.span(incident.timeToDetectMs))",
        ])
        if let resolved = incident.resolvedMs {
            md += Markdown.row(["Resolved (\(incident.upAfter) good in a row)", Self.time(resolved, seconds: true)])
        } else {
            md += Markdown.row([
                "Resolved",
                "not yet — latest run \(incident.lastRunMs.map { Self.time($0, seconds: true) } ?? "-") failed; report made \(Self.time(nowMs, seconds: true))",
            ])
        }
        md += Markdown.row([
            "Duration", DurationText.span(incident.durationMs(nowMs: nowMs)) + (incident.isResolved ? "" : " so far"),
        ])

        md += "\n\(h) Impact\n\n"
        md += "- **\(incident.failedRuns) of \(incident.runs) runs failed** between the first failure and "
        md += incident.isResolved ? "the resolution.\n" : "now.\n"
        if let share = incident.budgetShare {
            md += "- **Error budget:** this incident used "
            md +=
                share <= 1
                ? PercentText.truncated(share, decimals: 1) + " of the error budget"
                : String(format: "%.1f× the whole error budget", share)
            md += " (its \(incident.failedRuns) failed runs ÷ "
            md += incident.allowedFailures.map { String(format: "the %.1f failures", $0) } ?? "the failures"
            md += " the objective allows over its window from the schedule, counted to the resolution)"
            if let peak = incident.peakBurnRate { md += String(format: "; peak 1-hour burn rate %.1f", peak) }
            md += ".\n"
        }
        md += "\n" + Markdown.header(["Error kind", "Runs", "First message", "Latest message"], right: [1])
        for (name, summary) in incident.kinds.sorted(by: {
            ($1.value.count, $0.value.firstMs) < ($0.value.count, $1.value.firstMs)
        }) {
            md += Markdown.row([
                "`\(Markdown.escape(name))`", String(summary.count),
                Markdown.escape(Self.short(summary.firstMessage, 160)),
                summary.latestMessage == summary.firstMessage
                    ? "(same)" : Markdown.escape(Self.short(summary.latestMessage, 160)),
            ])
        }
        md += "\n**Latency** (run duration and server time to first byte):\n\n"
        md += Markdown.header(["", "Runs", "p50", "p95", "TTFB p50", "TTFB p95"], right: [1, 2, 3, 4, 5])
        md += latencyRow("30 min before", incident.before)
        md += latencyRow("during", incident.samples)
        md += latencyRow("during, good runs only", incident.samples.filter(\.ok))

        let end = incident.resolvedMs ?? nowMs
        let others = incidents.filter {
            $0.id != incident.id && $0.startedMs < end && ($0.resolvedMs ?? nowMs) > incident.startedMs
        }
        if level > 2 {
            // In an outage's write-up the others have their own sections.
        } else if others.isEmpty {
            md += "\n## Also affected\n\n"
            md += "No other check had an incident in this window.\n"
        } else {
            md += "\n## Also affected\n\n"
            let groups = self.groups
            for other in others {
                md += "- [\(Markdown.escape(other.check))](\(link(other, in: groups))): "
                md +=
                    "\(Self.time(other.startedMs, seconds: true)) → \(other.resolvedMs.map { Self.time($0, seconds: true) } ?? "ongoing"), "
                md +=
                    "\(other.mainKind.map { "`\(Markdown.escape($0))`" } ?? "failures") (\(other.failedRuns) failed runs)\n"
            }
        }

        md += "\n\(h) Timeline\n\n"
        md += Markdown.header(["Time (UTC)", "Event", "Evidence"])
        for row in incident.timeline {
            var event = row.event.rawValue
            var evidence = Markdown.escape(Self.short(row.evidence, 200))
            if row.event == .flapping, let until = row.untilMs, row.count >= 1 {
                event = "flapping"
                evidence =
                    "\(row.count) more change\(row.count == 1 ? "" : "s") between success and failure until \(Self.clock(until))"
            }
            if [.detected, .resolved].contains(row.event) { event = "**\(event)**" }
            md += Markdown.row([Self.clock(row.timeMs), event, evidence])
        }
        return md
    }

    /// The sections for people to fill in.
    static let peopleSections =
        "\n## Root cause\n\n_To be written._\n\n## Trigger\n\n_To be written._\n\n"
        + "## Resolution\n\n_To be written._\n\n## Action items\n\n| Action | Owner | Due |\n| --- | --- | --- |\n|  |  |  |\n"

    func latencyRow(_ title: String, _ samples: [Sample]) -> String {
        guard !samples.isEmpty else { return Markdown.row([title, "0", "-", "-", "-", "-"]) }
        let ms = samples.map(\.ms).sorted()
        let ttfb = samples.map(\.ttfb).sorted()
        return Markdown.row([
            title, String(samples.count),
            DurationText.latency(Percentile.nearestRank(0.5, sorted: ms)),
            DurationText.latency(Percentile.nearestRank(0.95, sorted: ms)),
            DurationText.latency(Percentile.nearestRank(0.5, sorted: ttfb)),
            DurationText.latency(Percentile.nearestRank(0.95, sorted: ttfb)),
        ])
    }

    // MARK: Text

    static func mean(_ values: [Int64]) -> String {
        guard !values.isEmpty else { return "-" }
        return DurationText.span(values.reduce(0, +) / Int64(values.count))
    }

    static func time(_ ms: Int64, seconds: Bool = false) -> String {
        let text = UTCTime.rfc3339(ms)  // 2026-11-23T09:10:02.123Z
        return String(text.prefix(seconds ? 19 : 16)).replacingOccurrences(of: "T", with: " ")
    }

    static func clock(_ ms: Int64) -> String { String(UTCTime.rfc3339(ms).dropFirst(11).prefix(8)) }

    /// `2026-12-01T15:54:42.123`: Mermaid's Gantt `dateFormat YYYY-MM-DDTHH:mm:ss.SSS`.
    static func mermaidTime(_ ms: Int64) -> String { String(UTCTime.rfc3339(ms).prefix(23)) }

    static func mermaidText(_ text: String) -> String {
        String(
            text.unicodeScalars.filter {
                $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_. ".unicodeScalars.contains($0)
            }
            .map(Character.init))
    }

    static func short(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
