import SondeAlerts
import SondeIncidents
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport
import Synchronization

/// Live `@alert` threshold rules in `sonde run`: one `ThresholdEvaluator` per check with rules, fed
/// every recorded run on the run's task (cooperative pool — never the engine thread: the evaluation
/// is arithmetic over at most `ThresholdEvaluator.capacity` numbers a rule). Each transition is an
/// `alert_started` / `alert_ended` line of `data/incidents.jsonl`, a log line, a webhook and an
/// Alertmanager `SondeThreshold` alert. At start an evaluator is primed with its window's runs from
/// the files and resumes the rules the events file left firing, so nothing is announced twice.
final class ThresholdMonitor: Sendable {
    private let location: String
    private let writer: RecordWriter
    private let sender: WebhookSender?
    private let alertmanager: AlertmanagerSender?
    private let log: EventLog
    private let slo: SLOTracker
    private let time: any TimeSource
    private let evaluators = Mutex<[String: ThresholdEvaluator]>([:])

    /// A monitor that writes through `writer` and tells `sender` and `alertmanager` when given.
    init(
        location: String, writer: RecordWriter, sender: WebhookSender?, alertmanager: AlertmanagerSender?,
        log: EventLog, slo: SLOTracker, time: any TimeSource
    ) {
        self.location = location
        self.writer = writer
        self.sender = sender
        self.alertmanager = alertmanager
        self.log = log
        self.slo = slo
        self.time = time
    }

    /// Evaluators for the checks with rules: new ones are primed from the files and resume what the
    /// events file left firing; existing ones take changed rules; checks without rules go.
    func apply(_ checks: CheckSet, nowMs: Int64) {
        let existing = evaluators.withLock { Set($0.keys) }
        let fresh = checks.sorted.filter { !$0.settings.alerts.isEmpty && !existing.contains($0.name) }
        var fireState: [String: [String: IncidentEvent]] = [:]  // check → rule → last started, if still on
        if !fresh.isEmpty {
            var skipped = 0
            for event in IncidentEvent.readAll(writer.folder.incidentsFile, skipped: &skipped)
            where event.location == location && (event.kind == .alertStarted || event.kind == .alertEnded) {
                guard let rule = event.ruleText else { continue }
                fireState[event.check, default: [:]][rule] = event.kind == .alertStarted ? event : nil
            }
        }
        let reader = RunReader(folder: writer.folder)
        var primed: [String: ThresholdEvaluator] = [:]
        var resumed: [IncidentEvent] = []
        for script in fresh {
            var evaluator = ThresholdEvaluator(check: script.name, location: location, rules: script.settings.alerts)
            let longest = script.settings.alerts.map(\.windowMs).max() ?? 0
            var stats = ReadStats()
            for run in reader.runs(check: script.name, from: nowMs - longest, to: nowMs + 1, stats: &stats)
            where run.location == location && run.maintenance == nil {
                evaluator.prime(ThresholdEvaluator.Run(run))
            }
            for (rule, event) in fireState[script.name] ?? [:] {
                var value = 0.0
                if case .float(let v)? = event["value"] { value = v }
                evaluator.resume(rule: rule, .init(startedMs: event.timeMs, value: value, peak: value))
                if evaluator.firing[rule] != nil { resumed.append(event) }
            }
            primed[script.name] = evaluator
        }
        evaluators.withLock { all in
            for name in all.keys where checks.scripts[name]?.settings.alerts.isEmpty ?? true { all[name] = nil }
            for (name, script) in checks.scripts where all[name] != nil {
                all[name]?.update(rules: script.settings.alerts)
            }
            for (name, evaluator) in primed { all[name] = evaluator }
        }
        // A rule still firing from before a restart is active in Alertmanager again (not announced twice elsewhere).
        if let alertmanager {
            for event in resumed { IncidentAlerts.forward(event, to: alertmanager) }
        }
    }

    /// Feeds one live run.
    func observe(_ record: RunRecord) {
        guard record.maintenance == nil else { return }  // maintenance: no threshold alerts
        let run = ThresholdEvaluator.Run(record)
        let transitions = evaluators.withLock { all -> [ThresholdEvaluator.Transition] in
            guard var evaluator = all[record.check] else { return [] }
            let out = evaluator.observe(run)
            all[record.check] = evaluator
            return out
        }
        for transition in transitions {
            publish(IncidentEvent.threshold(transition, check: record.check, location: location))
        }
    }

    /// The rules firing now, by check, then rule text.
    var firing: [String: [String: ThresholdEvaluator.Firing]] {
        evaluators.withLock { all in all.mapValues(\.firing).filter { !$0.value.isEmpty } }
    }

    private func publish(_ event: IncidentEvent) {
        writer.appendIncidentEvent(event.encode())
        let level: EventLog.Level = event.kind == .alertStarted ? .warn : .info
        log.log(
            level, "alert", IncidentNotification.text(event),
            [("check", event.check), ("event", event.kind.rawValue), ("rule", event.ruleText ?? "")])
        guard sender != nil || alertmanager != nil else { return }
        let figures = slo.figures(check: event.check, nowMs: time.wallMs)
        if let alertmanager { IncidentAlerts.forward(event, to: alertmanager) }
        guard let sender else { return }
        let body = IncidentNotification.payload(event, burn: figures?.burn ?? [:], budgetRemaining: figures?.remaining)
        sender.send(body, id: "\(event.check)||\(event.kind.rawValue): \(event.ruleText ?? "")")
    }
}
