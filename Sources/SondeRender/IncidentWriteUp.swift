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
        [("README.md", index())] + incidents.map { ("\($0.id).md", page($0)) }
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
        for incident in incidents.sorted(by: { $0.startedMs > $1.startedMs }) {
            md += Markdown.row([
                Self.time(incident.startedMs), Markdown.escape(incident.check),
                incident.isResolved ? "resolved" : "**ongoing**",
                DurationText.span(incident.durationMs(nowMs: nowMs)), DurationText.span(incident.timeToDetectMs),
                incident.mainKind.map { "`\(Markdown.escape($0))`" } ?? "-",
                "[\(incident.id)](\(Markdown.link(incident.id + ".md")))",
            ])
        }
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
        return md + thresholdSection()
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

    /// The write-up of one incident: facts, impact, latency, timeline, charts, and sections to fill in.
    func page(_ incident: Incident) -> String {
        let check = Markdown.escape(incident.check)
        let kind = incident.mainKind.map { "`\(Markdown.escape($0))`" } ?? "failures"
        let status = incident.isResolved ? "resolved" : "ongoing"
        var md =
            "# \(check): \(incident.isResolved ? "down" : "down for") \(DurationText.span(incident.durationMs(nowMs: nowMs))) — \(kind)"
        if let summary = incident.mainKind.flatMap({ incident.kinds[$0] }) {
            md += " (\(Markdown.escape(Self.short(summary.latestMessage, 80))))"
        }
        md += "\n\n[← all incidents](README.md)\n\n"
        md += "**Status:** \(incident.isResolved ? "resolved" : "🔴 **ongoing**")"
        if !incident.location.isEmpty { md += " · **Location:** \(Markdown.escape(incident.location))" }
        md += "\n\n"
        md += Markdown.header(["", "UTC"])
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

        md += "\n## Impact\n\n"
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

        md += "\n## Also affected\n\n"
        let end = incident.resolvedMs ?? nowMs
        let others = incidents.filter {
            $0.id != incident.id && $0.startedMs < end && ($0.resolvedMs ?? nowMs) > incident.startedMs
        }
        if others.isEmpty {
            md += "No other check had an incident in this window.\n"
        } else {
            for other in others {
                md += "- [\(Markdown.escape(other.check))](\(Markdown.link(other.id + ".md"))): "
                md +=
                    "\(Self.time(other.startedMs, seconds: true)) → \(other.resolvedMs.map { Self.time($0, seconds: true) } ?? "ongoing"), "
                md +=
                    "\(other.mainKind.map { "`\(Markdown.escape($0))`" } ?? "failures") (\(other.failedRuns) failed runs)\n"
            }
        }

        md += "\n## Timeline\n\n"
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

        md += "\n## Chart\n\n" + gantt(incident) + "\n" + latencyChart(incident)

        md += "\n## Root cause\n\n_To be written._\n\n## Trigger\n\n_To be written._\n\n"
        md +=
            "## Resolution\n\n_To be written._\n\n## Action items\n\n| Action | Owner | Due |\n| --- | --- | --- |\n|  |  |  |\n"
        _ = status
        return md
    }

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

    func gantt(_ incident: Incident) -> String {
        let end = incident.resolvedMs ?? nowMs
        var text = "```mermaid\ngantt\n    title \(Self.mermaidText(incident.check)) outage (UTC)\n"
        text +=
            "    dateFormat YYYY-MM-DDTHH:mm:ss\n    axisFormat %H:%M:%S\n    section \(Self.mermaidText(incident.check))\n"
        let undetected = max(1, (incident.detectedMs - incident.startedMs + 999) / 1000)
        let down = max(1, (end - incident.detectedMs + 999) / 1000)
        text += "    Failing, not yet detected :crit, \(Self.mermaidTime(incident.startedMs)), \(undetected)s\n"
        text +=
            "    \(incident.isResolved ? "Down until resolved" : "Down (ongoing)") :crit, \(Self.mermaidTime(incident.detectedMs)), \(down)s\n"
        return text + "```\n"
    }

    /// Run duration over the incident (the slowest run of each slice, at most 60 slices of at least
    /// a second) and, as bars, the share of the slice's runs that failed (100% = top of the axis).
    func latencyChart(_ incident: Incident) -> String {
        let samples = Array(incident.before.suffix(10) + incident.samples)
        guard let first = samples.first?.timeMs, let last = samples.last?.timeMs else { return "" }
        let width = max(1000, (last - first) / 60 + 1)
        var buckets: [(label: String, maxMs: Double, failed: Int, runs: Int)] = []
        var index = 0
        var from = first
        while index < samples.count {
            let to = from + width
            var maxMs = 0.0
            var failed = 0
            var runs = 0
            while index < samples.count, samples[index].timeMs < to {
                maxMs = max(maxMs, samples[index].ms)
                if !samples[index].ok { failed += 1 }
                runs += 1
                index += 1
            }
            if runs > 0 { buckets.append((Self.clock(from), maxMs, failed, runs)) }
            from = to
        }
        let top = max(1, ((buckets.map(\.maxMs).max() ?? 1) * 1.1).rounded(.up))
        var text =
            "```mermaid\nxychart-beta\n    title \"Slowest run per slice (line, ms) and share of runs failed (bars, top = 100%)\"\n"
        text += "    x-axis [" + buckets.map { "\"\($0.label)\"" }.joined(separator: ", ") + "]\n"
        text += "    y-axis \"ms\" 0 --> \(Int(top))\n"
        text +=
            "    bar ["
            + buckets.map { String(format: "%.1f", Double($0.failed) / Double($0.runs) * top) }.joined(separator: ", ")
            + "]\n"
        text += "    line [" + buckets.map { String(format: "%.1f", $0.maxMs) }.joined(separator: ", ") + "]\n"
        return text + "```\n"
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

    static func mermaidTime(_ ms: Int64) -> String { String(UTCTime.rfc3339(ms).prefix(19)) }

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
