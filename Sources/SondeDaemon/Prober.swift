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

/// The daemon's core: the checks of a folder on the scheduler, each run recorded by the writer and
/// counted in the metrics. `sonde run` wires it to signals, the log and the metrics server.
/// Every time it reads (slots, lateness, run timestamps, SLO and incident times) comes from `time`.
package final class Prober: Sendable {
    /// Where and how runs are made and recorded.
    package struct Configuration: Sendable {
        /// Folder the checks were loaded from.
        var checksFolder: String
        package var location: String
        package var variables: Variables
        /// One log line per run.
        package var verbose = false
        /// The part of the folder this prober runs (`--shard`); reloads load the same part.
        package var shard: Shard = .whole
        /// How often the scheduler's heartbeat runs (`/healthz`); nil for none (liveness then stays
        /// green), for a test that counts what sleeps on its manual clock.
        package var heartbeat: Duration? = .seconds(1)
        /// How long without a heartbeat makes the prober stalled (`/healthz` 503).
        package var stallThreshold: Duration = .seconds(5)
        /// Keep what the live status page shows (`StatusBoard`): on with `sonde run --listen`.
        package var statusPage = false

        package init(checksFolder: String, location: String, variables: Variables) {
            self.checksFolder = checksFolder
            self.location = location
            self.variables = variables
        }
    }

    /// Where and how runs are made and recorded.
    let configuration: Configuration
    /// Writes every finished run and the hour lines.
    let writer: RecordWriter
    package let metrics: ProberMetrics
    package let engine: ProbeEngine
    /// Live burn rates and budgets for `/metrics`.
    let slo = SLOTracker()
    /// Live incident detection (events file, log, webhooks).
    package let incidents: IncidentMonitor
    /// Live certificate expiry (`@cert-expiry`: events file, log, webhooks, Alertmanager).
    package let certificates: CertificateMonitor
    /// Live `@alert` threshold rules (events file, log, webhooks, Alertmanager).
    let thresholds: ThresholdMonitor
    /// Last runs for the live status page (`statusPage()`).
    let status: StatusBoard
    /// The ad hoc maintenance windows of `data/maintenance.jsonl`, re-read when the file changes.
    package let maintenance: MaintenanceWatcher
    /// The clocks the schedule, the records and the live figures follow.
    let time: any TimeSource
    private let startedMs: Int64
    private let log: EventLog
    private let runner: CheckRunner
    private let current: Mutex<CheckSet>
    private let counters = Mutex((recorded: 0, failed: 0, late: 0))
    private let scheduler: Mutex<Scheduler?> = Mutex(nil)
    /// Trims the heap once a minute while the schedule runs (`HeapTrimmer`).
    private let housekeeping: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// A prober over an already loaded set of checks; incidents and burn alerts go to `webhooks`
    /// and to `alertmanager` when given; captures and asserts are evaluated on `evaluation`.
    package init(
        configuration: Configuration, checks: CheckSet, writer: RecordWriter, engine: ProbeEngine = .shared,
        log: EventLog, webhooks: WebhookSender? = nil, alertmanager: AlertmanagerSender? = nil,
        time: any TimeSource = SystemTimeSource(), evaluation: EvaluationPool = .shared
    ) {
        self.configuration = configuration
        self.writer = writer
        self.engine = engine
        self.log = log
        self.time = time
        self.startedMs = time.wallMs
        self.runner = CheckRunner(engine: engine, time: time, evaluation: evaluation)
        self.metrics = ProberMetrics(location: configuration.location, shard: configuration.shard)
        self.status = StatusBoard(enabled: configuration.statusPage)
        self.current = Mutex(checks)
        self.incidents = IncidentMonitor(
            location: configuration.location, writer: writer, sender: webhooks, log: log,
            slo: slo, time: time, alertmanager: alertmanager)
        self.certificates = CertificateMonitor(
            location: configuration.location, writer: writer, sender: webhooks, log: log,
            alertmanager: alertmanager)
        self.thresholds = ThresholdMonitor(
            location: configuration.location, writer: writer, sender: webhooks, alertmanager: alertmanager, log: log,
            slo: slo, time: time)
        self.maintenance = MaintenanceWatcher(folder: writer.folder, log: log)
        metrics.setChecks(checks.sorted)
        writer.prepare(Self.policies(checks), location: configuration.location)
        trackSLOs(checks, seed: checks.sorted.map(\.name))
        incidents.apply(checks, nowMs: time.wallMs)
        certificates.apply(checks)
        thresholds.apply(checks, nowMs: time.wallMs)
    }

    /// Sets the tracker's objectives and seeds new checks from the files, in the background.
    private func trackSLOs(_ set: CheckSet, seed names: [String]) {
        slo.setPolicies(set.scripts.mapValues { SLOPolicy(settings: $0.settings) }, nowMs: time.wallMs)
        guard !names.isEmpty else { return }
        let reader = RunReader(folder: writer.folder)
        let (tracker, location, before, time, log) = (slo, configuration.location, startedMs, time, log)
        Task.detached(priority: .utility) {
            var stats = ReadStats()
            for name in names {
                stats.merge(
                    tracker.seed(check: name, reader: reader, location: location, beforeMs: before, nowMs: time.wallMs))
            }
            if stats.skipped > 0 { log.warn("slo", Self.skippedNote(stats, checks: names.count)) }
        }
    }

    /// The log line for data lines skipped while the SLO counts were read from the files.
    static func skippedNote(_ stats: ReadStats, checks: Int) -> String {
        var text =
            "counts of \(checks) \(checks == 1 ? "check" : "checks") read from the files; \(stats.skipped) "
            + "data \(stats.skipped == 1 ? "line" : "lines") could not be read and were skipped"
        if stats.oversized > 0 { text += " (\(stats.oversized) over the \(LineReader.maxLineBytes)-byte line cap)" }
        if let first = stats.firstProblem { text += "; first: \(first)" }
        return text
    }

    /// Checks currently loaded.
    package var checks: CheckSet { current.withLock { $0 } }

    /// Runs recorded since start, and how many of them failed.
    package var recorded: (runs: Int, failed: Int) {
        counters.withLock { ($0.recorded, $0.failed) }
    }

    /// What the once-a-minute sign of life counts (`LifeSigns`): runs, failed and late runs, skipped
    /// slots, and the checks with an incident open now.
    package var totals: LifeSigns.Totals {
        let (runs, failed, late) = counters.withLock { ($0.recorded, $0.failed, $0.late) }
        let skipped = scheduler.withLock { $0 }?.skipped.values.reduce(0, +) ?? 0
        return LifeSigns.Totals(
            runs: runs, failed: failed, late: late, skipped: skipped, openIncidents: incidents.openChecks)
    }

    /// Runs every check once, all at once; returns the results in name order (`--once`).
    package func runOnce() async -> [RunResult] {
        let scripts = checks.sorted
        return await withTaskGroup(of: (Int, RunResult).self) { group in
            for (index, script) in scripts.enumerated() {
                group.addTask { (index, await self.execute(script, lateness: .zero)) }
            }
            var results = [RunResult?](repeating: nil, count: scripts.count)
            for await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
    }

    /// Starts the schedule.
    package func start() {
        let scheduler = Scheduler(engine: engine, time: time) { [self] script, lateness in
            _ = await execute(script, lateness: lateness)
        }
        self.scheduler.withLock { $0 = scheduler }
        if let heartbeat = configuration.heartbeat { scheduler.startHeartbeat(every: heartbeat) }
        // What loading, the writer's rebuild and the incident replay freed goes back to the system
        // before the first runs allocate: else it stays resident, the peak, until the first trim.
        HeapTrimmer.trimNow()
        scheduler.apply(checks.scripts)
        maintenance.start()
        let time = self.time
        guard time.isRealTime else { return }  // tests on a manual clock: no extra sleeper
        housekeeping.withLock { task in
            task?.cancel()
            task = Task.detached(priority: .background) {
                while true {
                    do { try await time.sleep(until: time.now + HeapTrimmer.interval) } catch { return }
                    HeapTrimmer.trimNow()
                }
            }
        }
    }

    /// Whether runs can start on time: the scheduler's heartbeat against `stallThreshold`. Live
    /// before `start`.
    package var liveness: Scheduler.Liveness {
        scheduler.withLock { $0 }?.liveness(threshold: configuration.stallThreshold)
            ?? Scheduler.Liveness(sinceBeat: .zero, threshold: configuration.stallThreshold)
    }

    /// Stops scheduling, waits up to `grace` for runs in flight, cancels the rest (not recorded),
    /// and flushes the files. Returns the number of runs cancelled.
    package func stop(grace: Duration) async -> Int {
        var cancelled = 0
        housekeeping.withLock { $0?.cancel() }
        maintenance.stop()
        if let scheduler = scheduler.withLock({ $0 }) {
            cancelled = await scheduler.stop(grace: grace)
        }
        await writer.flush()
        return cancelled
    }

    /// Runs in flight.
    package var running: Int { scheduler.withLock { $0 }?.running ?? 0 }

    /// Loads the folder again: new, changed and removed checks take effect; a file that no longer
    /// parses keeps its previous version. Problems are logged, one line each.
    @discardableResult
    package func reload() -> CheckSet.Changes {
        let old = checks
        let loaded: CheckSet
        do {
            let (set, problems) = try CheckSet.load(
                configuration.checksFolder, previous: old,
                shard: configuration.shard)
            for problem in problems { log.error("reload", problem.description) }
            loaded = set
        } catch {
            log.error("reload", "\(error); keeping the \(old.scripts.count) checks already running")
            return CheckSet.Changes()
        }
        let changes = loaded.changes(from: old)
        current.withLock { $0 = loaded }
        metrics.setChecks(loaded.sorted)
        status.keep(Set(loaded.scripts.keys))
        writer.prepare(Self.policies(loaded), location: configuration.location)
        trackSLOs(loaded, seed: changes.added)
        incidents.apply(loaded, nowMs: time.wallMs)
        certificates.apply(loaded)
        thresholds.apply(loaded, nowMs: time.wallMs)
        scheduler.withLock { $0 }?.apply(loaded.scripts)
        var parts: [String] = []
        if !changes.added.isEmpty { parts.append("added \(changes.added.joined(separator: ", "))") }
        if !changes.changed.isEmpty { parts.append("changed \(changes.changed.joined(separator: ", "))") }
        if !changes.removed.isEmpty { parts.append("removed \(changes.removed.joined(separator: ", "))") }
        var fields = [("checks", String(loaded.scripts.count))]
        if !loaded.shard.isWhole {
            fields += [("in_folder", String(loaded.inFolder)), ("shard", loaded.shard.description)]
        }
        log.info(
            "reload", "\(loaded.summary); " + (parts.isEmpty ? "nothing changed" : parts.joined(separator: "; ")),
            fields)
        return changes
    }

    /// The `/metrics` text.
    package func renderMetrics() -> String {
        var out = PrometheusText()
        writeMetrics(to: &out)
        return out.text
    }

    /// The `/metrics` text, handed to `out`'s sink in pieces: with 100,000 checks the text is
    /// about 230 MB, which `/metrics` streams rather than holds.
    package func writeMetrics(to out: inout PrometheusText) {
        let store = writer.counts
        metrics.write(
            to: &out, skipped: scheduler.withLock { $0 }?.skipped ?? [:], dropped: store.dropped,
            store: store, slo: slo.snapshot(nowMs: time.wallMs))
    }

    /// One run: made, recorded (secrets redacted), counted. A run cancelled at shutdown is not recorded.
    private func execute(_ script: CheckScript, lateness: Duration) async -> RunResult {
        let result = await runner.run(script, variables: configuration.variables)
        if Task.isCancelled { return result }
        let redactor = Redactor(secrets: configuration.variables.secretValues + result.sensitiveValues)
        var record = RunRecord(
            result, location: configuration.location, lateMs: lateness.milliseconds,
            redactor: redactor)
        record.maintenance = maintenance.calendar.window(
            check: record.check, settings: script.settings, atMs: record.time)
        writer.append(record, policy: RecordWriter.Policy(settings: script.settings))
        metrics.record(record, lateness: lateness)
        status.record(record)
        // A run in a maintenance window is recorded, but counts in no SLO figure and raises no alert.
        if record.maintenance == nil {
            slo.add(check: record.check, timeMs: record.time, ok: record.ok)
        }
        incidents.observe(record)
        if record.maintenance == nil { certificates.observe(result, timeMs: record.time) }
        thresholds.observe(record)
        counters.withLock {
            $0.recorded += 1
            if !record.ok { $0.failed += 1 }
            if lateness >= LifeSigns.lateThreshold { $0.late += 1 }
        }
        if configuration.verbose {
            var text =
                "\(record.check): \(record.ok ? "ok" : "failed") in \(DurationText.latency(record.durationMs)), late \(DurationText.latency(record.lateMs))"
            if let error = record.error { text += " — \(error.kind): \(error.message)" }
            if let window = record.maintenance { text += " (maintenance \(window))" }
            log.info("run", text, [("check", record.check), ("ok", String(record.ok))])
        }
        return result
    }

    static func policies(_ set: CheckSet) -> [String: RecordWriter.Policy] {
        set.scripts.mapValues { RecordWriter.Policy(settings: $0.settings) }
    }
}
