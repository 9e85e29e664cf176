import Foundation
import SondeAlerts
import SondeIncidents
import SondeProbe
import SondeRender
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport
import Synchronization

/// Live incident detection in `sonde run`: one `IncidentDetector` per check fed every run; each
/// transition is appended to `data/incidents.jsonl`, logged, and sent to the webhooks. At start the
/// detectors replay the last two hours of runs and reconcile with the events file, so an incident
/// opened before a restart is resolved after it, once, and nothing is announced twice. The times it
/// reads itself (alerts sent, figures for a webhook) come from `time`. A detector counts the replay
/// in burn counts of its own and drops them after it; live, it reads the check's rings in the SLO
/// tracker (the prober counts each run there before it reaches the monitor): one set of counts per
/// check. Until the tracker has seeded a check from the files, its burn-rate alert keeps the state
/// the replay found.
package final class IncidentMonitor: Sendable {
    /// How far back the start-up replay reads runs.
    static let replayMs: Int64 = 2 * UTCTime.msPerHour

    private let location: String
    private let writer: RecordWriter
    private let sender: WebhookSender?
    private let alertmanager: AlertmanagerSender?
    private let log: EventLog
    private let slo: SLOTracker
    private let time: any TimeSource
    /// The detector of each check, each in a cell of its own: a dictionary of detectors stored in
    /// place would reserve a detector's size (about 600 bytes) for every empty bucket too.
    private let detectors = Mutex<[String: DetectorCell]>([:])

    /// One check's detector, changed in place. Unchecked: it is touched only under the monitor's
    /// lock, once `apply` has handed it over (built by the replay, before the lock, by one task).
    private final class DetectorCell: @unchecked Sendable {
        var detector: IncidentDetector

        init(_ detector: IncidentDetector) { self.detector = detector }
    }

    /// - Parameter alertmanager: where open incidents and burn alerts also go as Alertmanager alerts.
    init(
        location: String, writer: RecordWriter, sender: WebhookSender?, log: EventLog, slo: SLOTracker,
        time: any TimeSource = SystemTimeSource(), alertmanager: AlertmanagerSender? = nil
    ) {
        self.location = location
        self.writer = writer
        self.sender = sender
        self.alertmanager = alertmanager
        self.log = log
        self.slo = slo
        self.time = time
    }

    /// Detectors for `checks`: new ones replay their recent runs and reconcile with the events file;
    /// existing ones take changed directives; removed ones go.
    func apply(_ checks: CheckSet, nowMs: Int64) {
        let existing = detectors.withLock { Set($0.keys) }
        let fresh = checks.sorted.filter { !existing.contains($0.name) }
        var known: [String: (opened: IncidentEvent?, resolved: Bool)] = [:]
        if !fresh.isEmpty {
            var skipped = 0
            for event in IncidentEvent.readAll(writer.folder.incidentsFile, skipped: &skipped)
            where event.location == location {
                guard let id = event.incident else { continue }
                if event.kind == .opened { known[id, default: (nil, false)].opened = event }
                if event.kind == .resolved { known[id, default: (nil, false)].resolved = true }
            }
            if skipped > 0 {
                log.warn("incidents", "\(skipped) lines of \(writer.folder.incidentsFile) could not be read")
            }
        }
        let reader = RunReader(folder: writer.folder)
        var replayed: [String: DetectorCell] = [:]
        var late: [IncidentEvent] = []
        var resumed: [IncidentEvent] = []
        for script in fresh {
            var detector = IncidentDetector(
                check: script.name, location: location, settings: script.settings,
                startMs: nowMs - Self.replayMs, keepsSamples: false)
            // An incident still open in the events file continues.
            let stillOpen = known.filter { $0.value.opened?.check == script.name && !$0.value.resolved }
            var replayFrom = nowMs - Self.replayMs
            if let (id, entry) = stillOpen.max(by: { ($0.value.opened?.timeMs ?? 0) < ($1.value.opened?.timeMs ?? 0) }),
                let opened = entry.opened
            {
                let incident = Self.incident(from: opened, id: id, settings: script.settings)
                detector.resume(incident)
                resumed.append(opened)
                // Runs before the incident's detection are already in it; later ones may resolve it.
                replayFrom = max(replayFrom, incident.detectedMs + 1)
            }
            var stats = ReadStats()
            for run in reader.runs(check: script.name, from: replayFrom, to: nowMs + 1, stats: &stats)
            where run.location == location {
                for transition in detector.observe(run) {
                    guard let event = event(for: transition, check: script.name) else { continue }
                    let id = event.incident ?? ""
                    switch event.kind {
                    case .opened where known[id]?.opened == nil: late.append(event)
                    case .resolved where known[id]?.resolved != true: late.append(event)
                    default: break
                    }
                }
            }
            // Live runs are counted once, in the SLO tracker's rings, which the detector reads.
            detector.dropOwnCounts()
            replayed[script.name] = DetectorCell(detector)
        }
        detectors.withLock { all in
            for name in all.keys where checks.scripts[name] == nil { all[name] = nil }
            for (name, script) in checks.scripts {
                all[name]?.detector.update(settings: script.settings)
            }
            all.merge(replayed) { _, new in new }
        }
        // An incident still open from before a restart is active in Alertmanager again (not announced twice elsewhere).
        if let alertmanager {
            for event in resumed { IncidentAlerts.forward(event, to: alertmanager) }
        }
        for event in late { publish(event, note: "found when the prober started") }
    }

    /// Names of the checks with an incident open now, sorted.
    var openChecks: [String] {
        detectors.withLock { all in all.compactMap { $0.value.detector.open == nil ? nil : $0.key } }.sorted()
    }

    /// Feeds one live run, already counted in the SLO tracker (`SLOTracker.add`).
    func observe(_ record: RunRecord) {
        let ring = slo.counter(check: record.check)
        let transitions = detectors.withLock { all -> [IncidentDetector.Transition] in
            // In place: a detector taken out of the dictionary would copy its arrays on every run.
            all[record.check]?.detector.observe(record, countedIn: ring) ?? []
        }
        for transition in transitions {
            if let event = event(for: transition, check: record.check) { publish(event, note: nil) }
        }
    }

    /// Notes a delivered webhook as an `alert_sent` event (and a timeline row of the open incident).
    package func delivered(id: String, target: String) {
        let parts = id.split(separator: "|", maxSplits: 2).map(String.init)
        guard parts.count == 3 else { return }
        let (check, incident, about) = (parts[0], parts[1], parts[2])
        let now = time.wallMs
        detectors.withLock { all in all[check]?.detector.noteAlertSent(timeMs: now, evidence: "\(about) → \(target)") }
        writer.appendIncidentEvent(
            IncidentEvent(
                timeMs: now, kind: .alertSent, check: check, location: location,
                incident: incident.isEmpty ? nil : incident,
                fields: [("target", .string(target)), ("about", .string(about))]
            ).encode())
    }

    /// Open incidents now, by check.
    var openIncidents: [String: Incident] {
        detectors.withLock { all in all.compactMapValues { $0.detector.ongoing() } }
    }

    /// The open incident of one check, if any: the status page asks check by check, so the lock
    /// the runs take is held only briefly.
    func openIncident(check: String) -> Incident? {
        detectors.withLock { $0[check]?.detector.ongoing() }
    }

    // MARK: Events

    private func publish(_ event: IncidentEvent, note: String?) {
        writer.appendIncidentEvent(event.encode())
        let text = IncidentNotification.text(event) + (note.map { " (\($0))" } ?? "")
        let level: EventLog.Level = event.kind == .opened || event.kind == .burnAlertStarted ? .warn : .info
        log.log(
            level, "incident", text,
            [("check", event.check), ("event", event.kind.rawValue)]
                + (event.incident.map { [("incident", $0)] } ?? []))
        guard sender != nil || alertmanager != nil,
            [.opened, .resolved, .burnAlertStarted, .burnAlertEnded].contains(event.kind)
        else { return }
        // Budget left from the schedule's allowance (the same figure as the gauge and the report).
        let figures = slo.figures(check: event.check, nowMs: time.wallMs)
        if let alertmanager { IncidentAlerts.forward(event, to: alertmanager, budgetRemaining: figures?.remaining) }
        guard let sender else { return }
        let body = IncidentNotification.payload(event, burn: figures?.burn ?? [:], budgetRemaining: figures?.remaining)
        sender.send(body, id: "\(event.check)|\(event.incident ?? "")|\(event.kind.rawValue)")
    }

    private func event(for transition: IncidentDetector.Transition, check: String) -> IncidentEvent? {
        switch transition {
        case .opened(let incident):
            let kind = incident.mainKind ?? "internal"
            return IncidentEvent(
                timeMs: incident.detectedMs, kind: .opened, check: check, location: location,
                incident: incident.id,
                fields: [
                    ("started", .string(UTCTime.rfc3339(incident.startedMs))),
                    ("detected", .string(UTCTime.rfc3339(incident.detectedMs))),
                    ("kind", .string(kind)),
                    ("msg", .string(incident.kinds[kind]?.latestMessage ?? "")),
                    ("failed_runs", .integer(Int64(incident.failedRuns))),
                ])
        case .resolved(let incident):
            let resolved = incident.resolvedMs ?? incident.detectedMs
            return IncidentEvent(
                timeMs: resolved, kind: .resolved, check: check, location: location,
                incident: incident.id,
                fields: [
                    ("started", .string(UTCTime.rfc3339(incident.startedMs))),
                    ("detected", .string(UTCTime.rfc3339(incident.detectedMs))),
                    ("resolved", .string(UTCTime.rfc3339(resolved))),
                    ("duration_ms", .integer(resolved - incident.startedMs)),
                    ("kind", .string(incident.mainKind ?? "internal")),
                    ("failed_runs", .integer(Int64(incident.failedRuns))),
                    ("runs", .integer(Int64(incident.runs))),
                    // What the incident showed: a few sentences, from counts the detector kept.
                    ("findings", .list(FindingRules.live(incident).prefix(5).map { .string($0.text) })),
                ])
        case .burnAlertStarted(let time, let level, let rules):
            return IncidentEvent(
                timeMs: time, kind: .burnAlertStarted, check: check, location: location,
                fields: [("level", .string(level.rawValue)), ("rules", .list(rules.map(Value.string)))])
        case .burnAlertEnded(let time):
            return IncidentEvent(timeMs: time, kind: .burnAlertEnded, check: check, location: location)
        case .maintenanceStarted(let time, let window, let incident):
            return IncidentEvent(
                timeMs: time, kind: .maintenanceStarted, check: check, location: location, incident: incident,
                fields: [("window", .string(window))])
        case .flappingStarted(let time, let percent):
            return IncidentEvent(
                timeMs: time, kind: .flappingStarted, check: check, location: location,
                fields: [("percent", .float((percent * 10).rounded() / 10))])
        case .flappingEnded(let time, let percent):
            return IncidentEvent(
                timeMs: time, kind: .flappingEnded, check: check, location: location,
                fields: [("percent", .float((percent * 10).rounded() / 10))])
        }
    }

    static func incident(from opened: IncidentEvent, id: String, settings: MonitorSettings) -> Incident {
        func time(_ key: String) -> Int64? {
            guard case .string(let text)? = opened[key] else { return nil }
            return Array(text.utf8).withUnsafeBufferPointer(UTCTime.parseRFC3339)
        }
        var incident = Incident(
            id: id, check: opened.check, location: opened.location,
            startedMs: time("started") ?? opened.timeMs, detectedMs: time("detected") ?? opened.timeMs,
            downAfter: settings.downAfter, upAfter: settings.upAfter)
        if case .string(let kind)? = opened["kind"] {
            let message: String
            if case .string(let m)? = opened["msg"] { message = m } else { message = "" }
            var count = 1
            if case .integer(let n)? = opened["failed_runs"] { count = Int(n) }
            incident.kinds[kind] = KindSummary(
                count: count, firstMs: incident.startedMs, firstMessage: message, latestMessage: message)
            incident.failedRuns = count
            incident.runs = count  // the runs up to detection all failed
        }
        return incident
    }
}
