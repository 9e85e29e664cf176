import Foundation
import SondeIncidents
import SondeStore
import SondeSupport

/// The write-up of an outage of several checks (one page for the incidents `IncidentGrouping` puts
/// together), the Findings section, and the first line by which sonde knows the write-ups it wrote.
extension IncidentWriteUp {
    /// The first line of every write-up: an HTML comment (GitHub shows nothing) naming its checks,
    /// each percent-encoded as in a link, so that `sonde report` links a grouped write-up from each
    /// check's page and `sonde demo` removes only the write-ups sonde wrote.
    static func marker(_ checks: [String]) -> String {
        markerPrefix + checks.map(Markdown.link).joined(separator: " ") + " -->\n"
    }

    /// How the marker line starts.
    package static let markerPrefix = "<!-- sonde incident write-up: "

    /// The checks a write-up's first line names; nil when the line is not sonde's marker.
    package static func markedChecks(firstLine: String) -> [String]? {
        guard firstLine.hasPrefix(markerPrefix), firstLine.hasSuffix(" -->") else { return nil }
        let names = firstLine.dropFirst(markerPrefix.count).dropLast(4).split(separator: " ")
        return names.map { $0.removingPercentEncoding ?? String($0) }
    }

    /// The checks named by the marker on the first line of the file at `path`; nil when the file
    /// cannot be read or its first line is not the marker.
    package static func markedChecks(inFile path: String) -> [String]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = String(decoding: handle.readData(ofLength: 4096), as: UTF8.self)
        return markedChecks(firstLine: String(head.prefix { $0 != "\n" }))
    }

    /// The anchor GitHub gives a heading: lower case, letters, digits, `-` and `_` kept, spaces to
    /// `-`, the rest dropped.
    static func anchor(_ heading: String) -> String {
        var out = ""
        for character in heading.lowercased() {
            if character == " " {
                out += "-"
            } else if character.isLetter || character.isNumber || character == "-" || character == "_" {
                out.append(character)
            }
        }
        return out
    }

    /// `## Findings`: one bullet a finding, the check named when the write-up has several.
    static func findingsSection(_ findings: [Finding], checks: Int) -> String {
        var md = "## Findings\n\n"
        if findings.isEmpty {
            return md + "Nothing stands out in the runs: no second latency mode, no leading signal, no error "
                + "pattern worth naming.\n\n"
        }
        for finding in findings {
            md += "- " + (checks > 1 ? "**\(Markdown.escape(finding.check))** — " : "")
            md += Markdown.escape(finding.text) + "\n"
        }
        return md
            + "\nHow each finding is computed: [How findings are computed](README.md#how-findings-are-computed).\n\n"
    }

    /// The index's note on outages written up together.
    func outagesNote(_ groups: [IncidentGroup]) -> String {
        var md = ""
        let shared = groups.filter { $0.incidents.count > 1 }
        if !shared.isEmpty {
            md += "\n\(shared.count) outage\(shared.count == 1 ? "" : "s") of several checks "
            md += shared.count == 1 ? "is" : "are"
            md += " written up once: incidents that started within \(grouping.intervals) intervals (`@every`) "
            md += "of the outage's first start and overlap it share one write-up (`--group-within`); the rows "
            md += "above link each check's section of it.\n"
        }
        return md
    }

    /// The index's last section: how each finding is computed.
    static var findingsNote: String { "\n## How findings are computed\n\n" + FindingsNote.markdown }

    /// One write-up for the incidents of an outage: findings, the checks, the shared timeline, the
    /// Gantt chart, then each check's section.
    func groupPage(_ group: IncidentGroup) -> String {
        let checks = group.checks
        var md = Self.marker(checks)
        let end = group.resolvedMs ?? nowMs
        md += "# Outage of \(checks.count) checks: \(checks.map(Markdown.escape).joined(separator: ", ")) — "
        md += "\(group.isResolved ? "down" : "down for") \(DurationText.span(end - group.startedMs))\n\n"
        md += "[← all incidents](README.md)\n\n"
        md += "**Status:** \(group.isResolved ? "resolved" : "🔴 **ongoing**")"
        let locations = Set(group.incidents.map(\.location)).filter { !$0.isEmpty }.sorted()
        if !locations.isEmpty { md += " · **Location:** \(locations.map(Markdown.escape).joined(separator: ", "))" }
        md += " · incidents that started within \(grouping.intervals) intervals of the first and overlap "
        md += "(`--group-within \(grouping.intervals)`)\n\n"
        md += Self.findingsSection(FindingRules.group(group), checks: checks.count)

        md += "## Checks\n\n"
        md += Markdown.header(
            [
                "Check", "Started (UTC)", "Detected", "Resolved", "Duration", "Time to detect", "Main error",
                "Failed runs",
            ],
            right: [4, 5, 7])
        for incident in group.incidents {
            md += Markdown.row([
                "[\(Markdown.escape(incident.check))](#\(Self.anchor("Check: " + incident.check)))",
                Self.time(incident.startedMs, seconds: true), Self.clock(incident.detectedMs),
                incident.resolvedMs.map(Self.clock) ?? "**ongoing**",
                DurationText.span(incident.durationMs(nowMs: nowMs)), DurationText.span(incident.timeToDetectMs),
                incident.mainKind.map { "`\(Markdown.escape($0))`" } ?? "-",
                "\(incident.failedRuns) of \(incident.runs)",
            ])
        }

        md += "\n## Shared timeline\n\n"
        md += Markdown.header(["Time (UTC)", "Check", "Event", "Evidence"])
        let rows = group.incidents.flatMap { incident in incident.timeline.map { (incident.check, $0) } }
            .enumerated().sorted { ($0.element.1.timeMs, $0.offset) < ($1.element.1.timeMs, $1.offset) }.map(\.element)
        for (check, row) in rows {
            var event = row.event.rawValue
            var evidence = Markdown.escape(Self.short(row.evidence, 160))
            if row.event == .flapping, let until = row.untilMs, row.count >= 1 {
                event = "flapping"
                evidence =
                    "\(row.count) more change\(row.count == 1 ? "" : "s") between success and failure until \(Self.clock(until))"
            }
            if [.detected, .resolved].contains(row.event) { event = "**\(event)**" }
            md += Markdown.row([Self.clock(row.timeMs), Markdown.escape(check), event, evidence])
        }

        md += "\n## Chart\n\n" + gantt(group.incidents)
        for incident in group.incidents {
            md += "\n## Check: \(Markdown.escape(incident.check))\n\n"
            md += sections(incident, level: 3)
            md += "\n### Latency chart\n\n" + latencyChart(incident)
        }
        return md + Self.peopleSections
    }
}
