import SondeIncidents
import SondeRender
import SondeSLO
import SondeStore
import SondeSupport

extension Prober {
    /// The live status page (`sonde run --listen`: `/` and `/api/status`), from memory only: each
    /// check's last run and recent durations (`StatusBoard`), its SLO counts (the hour ring of
    /// `SLOTracker`, seeded from the files at start), the open incidents of its detector, and the
    /// maintenance windows the watcher last read with the check's `@maintenance`. Meant for
    /// the HTTP server's threads: it takes each lock briefly, one check at a time, and never touches
    /// the engine, the pool or the disk. Pages built within the last second are reused.
    package func statusPage() -> StatusPage {
        let nowMs = time.wallMs
        return status.page(nowMs: nowMs) { buildStatusPage(nowMs: nowMs) }
    }

    private func buildStatusPage(nowMs: Int64) -> StatusPage {
        let windows = StatusPage.windowLabels.map { label -> Int64 in
            switch label {
            case "24h": return UTCTime.msPerDay
            case "7d": return 7 * UTCTime.msPerDay
            default: return 30 * UTCTime.msPerDay
            }
        }
        let scripts = checks.sorted
        let calendar = maintenance.calendar
        let pages = scripts.map { script -> StatusPage.Check in
            let name = script.name
            let entry = status.entry(name)
            let counts = slo.statusCounts(
                check: name, nowMs: nowMs, windowsMs: windows, maxDays: SLOEvaluator.stripDays)
            let policy = counts?.policy ?? SLOPolicy(settings: script.settings)
            let state: CheckSLO.State = entry.map { $0.ok ? .up : .down } ?? .noData
            let uptime = zip(StatusPage.windowLabels, counts?.windows ?? []).compactMap { label, window in
                window.map { StatusPage.Uptime(label: label, good: $0.good, total: $0.runs, coverage: nil) }
            }
            let days = (counts?.days ?? []).map { day in
                StatusPage.Day(date: UTCTime.dayString(day.dayMs), good: day.counts.good, runs: day.counts.runs)
            }
            return StatusPage.Check(
                name: name, state: state, lastRunMs: entry?.lastRunMs, failure: entry?.failure,
                objective: policy.objective, uptime: uptime, days: days,
                latency: StatusPage.Latency(
                    label: "run time of passed runs, last \(StatusBoard.recentRuns) runs",
                    points: entry?.durations ?? [], thresholdMs: policy.latencyThresholdMs),
                link: nil,
                maintenance: StatusPage.CheckMaintenance(
                    check: name, settings: script.settings, calendar: calendar, nowMs: nowMs))
        }
        let open = scripts.compactMap { incidents.openIncident(check: $0.name) }.map { incident in
            let kind = incident.mainKind ?? ""
            return StatusPage.OpenIncident(
                id: incident.id, check: incident.check, location: incident.location, startedMs: incident.startedMs,
                detectedMs: incident.detectedMs, kind: kind, message: incident.kinds[kind]?.latestMessage ?? "",
                link: nil)
        }.sorted { ($0.startedMs, $0.id) < ($1.startedMs, $1.id) }
        return StatusPage(
            source: .live, generatedMs: nowMs, origin: configuration.location, checks: pages, incidents: open,
            links: [("Status as JSON", "/api/status"), ("Prometheus metrics", "/metrics")])
    }
}
