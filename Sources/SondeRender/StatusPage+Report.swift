import SondeIncidents
import SondeSLO
import SondeSupport

extension StatusPage {
    /// The windows every page shows, shortest first.
    package static let windowLabels = ["24h", "7d", "30d"]

    /// The page of a report: the same figures as its README (uptime cells, daily strip, latency
    /// chart), with links to the Markdown pages beside it, and the maintenance windows in progress
    /// and coming at the report's time.
    package init(report: SLOReport) {
        let checks = report.checks.map { check -> Check in
            let uptime = Self.windowLabels.compactMap { label -> Uptime? in
                if let fleet = check.fleet {
                    guard let window = fleet.windows.first(where: { $0.label == label }) else { return nil }
                    let c = window.counts
                    return Uptime(label: label, good: c.up, total: c.slots, coverage: c.coverage)
                }
                guard let window = check.windows.first(where: { $0.label == label }) else { return nil }
                return Uptime(
                    label: label, good: window.counts.good, total: window.counts.runs, coverage: window.coverage)
            }
            let chart = report.sparkline(check)
            let failure =
                check.state == .down
                ? check.latest?.error.map { Failure(kind: $0.kind, message: $0.message) } : nil
            return Check(
                name: check.check, state: check.state, lastRunMs: check.latest?.time, failure: failure,
                objective: check.policy.objective, uptime: uptime,
                days: check.daily.suffix(SLOEvaluator.stripDays).map { day, counts in
                    Day(date: UTCTime.dayString(day), good: counts.good, runs: counts.runs)
                },
                latency: Latency(label: chart.label, points: chart.points, thresholdMs: chart.threshold),
                link: Markdown.link(report.pageName(check.check)),
                maintenance: report.maintenanceNow[check.check] ?? CheckMaintenance())
        }
        var links: [(text: String, href: String)] = [("Service levels (Markdown)", "README.md")]
        if !report.incidentPages.isEmpty { links.append(("Incident write-ups", "incidents/README.md")) }
        self.init(
            source: .report, generatedMs: report.nowMs, origin: report.folders.joined(separator: ", "),
            checks: checks, incidents: report.openIncidents, links: links)
    }

    /// The incidents `events` opened and did not resolve, oldest first, linked to their write-up
    /// when `pages` (file names in `incidents/`, by check) holds it.
    package static func openIncidents(_ events: [IncidentEvent], pages: [String: [String]]) -> [OpenIncident] {
        var resolved: Set<String> = []
        for event in events where event.kind == .resolved {
            if let id = event.incident { resolved.insert(id) }
        }
        var seen: Set<String> = []
        var out: [OpenIncident] = []
        for event in events where event.kind == .opened {
            guard let id = event.incident, !resolved.contains(id), seen.insert(id).inserted else { continue }
            func text(_ key: String) -> String {
                if case .string(let value)? = event[key] { return value }
                return ""
            }
            func time(_ key: String) -> Int64 {
                Array(text(key).utf8).withUnsafeBufferPointer(UTCTime.parseRFC3339) ?? event.timeMs
            }
            let page = id + ".md"
            out.append(
                OpenIncident(
                    id: id, check: event.check, location: event.location, startedMs: time("started"),
                    detectedMs: time("detected"), kind: text("kind"), message: text("msg"),
                    link: (pages[event.check] ?? []).contains(page) ? Markdown.link("incidents/" + page) : nil))
        }
        return out.sorted { ($0.startedMs, $0.id) < ($1.startedMs, $1.id) }
    }
}

extension SLOReport {
    /// `index.html`: the status page of this report (`StatusPageHTML`).
    package func statusPage() -> String {
        StatusPageHTML.render(StatusPage(report: self))
    }
}
