import Foundation
import SondeAlerts
import SondeDaemon
import SondeDemoShop
import SondeIncidents
import SondeProbe
import SondeRender
import SondeRun
import SondeSLO
import SondeScript
import SondeServe
import SondeStore
import SondeSupport
import Synchronization

/// `sonde report`: SLO figures of every check from one or more data folders, written as Markdown and
/// SVG into `reports/` (README.md, "sonde report"), or printed as JSON.
struct ReportCommand: Sendable {
    /// Data folders to read, one per location.
    var data: [String] = ["data"]
    /// Where the Markdown pages, badges and charts go.
    var out = "reports"
    /// Folder of check scripts whose `@slo`, `@latency` and `@every` set each check's objectives.
    var checks = "checks"
    /// Overrides every check's objective window (`--window 7d`).
    var windowMs: Int64?
    /// `--json`: print the figures as one JSON object instead of writing files.
    var json = false
    /// Monitor settings by check, used instead of reading `checks` (`sonde demo`: the schedule it
    /// really ran).
    var settings: [String: MonitorSettings]?
    /// `--quorum`: with several data folders, how many locations must fail in a time slot for the
    /// fleet to count it down, for checks whose file has no `@quorum`.
    var quorum: Quorum = .all

    /// Why a report cannot be made.
    enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case missingFolder(String)
        case noData([String])
        case cannotWrite(String, String)
        /// `--quorum N` above the number of `--data` folders.
        case quorumAboveLocations(Int, locations: Int)

        /// One line for the error message.
        var description: String {
            switch self {
            case .missingFolder(let path):
                return
                    "no data folder \(path): start the prober with 'sonde run --data \(path)', or point --data at one"
            case .noData(let paths):
                return
                    "no run data in \(paths.joined(separator: ", ")): nothing to report yet (sonde run writes <check>/runs-*.jsonl there)"
            case .cannotWrite(let path, let reason):
                return "cannot write \(path): \(reason)"
            case .quorumAboveLocations(let n, let locations):
                let given = locations == 1 ? "1 location is" : "\(locations) locations are"
                return
                    "--quorum \(n) is more than the number of locations: \(given) given with --data; give --quorum from 1 to \(locations), or all"
            }
        }
    }

    /// Computes the figures as of `now` and writes or prints them; returns the exit code.
    func run(console: Console, now: Date = Date()) -> Int32 {
        do {
            let report = try build(now: now)
            if json {
                console.out(ReportJSON.encode(report) + "\n")
            } else {
                try write(report)
                console.out("wrote \(out)/README.md, \(out)/index.html and \(report.checks.count) check pages\n")
            }
            if let note = Self.defaultsNote(report.defaulted, checks: checks) { console.err(note) }
            if let note = Self.cappedNote(
                report.checks.compactMap { check in
                    check.fleet.map { (check.check, $0.quorum) }
                })
            {
                console.err(note)
            }
            let skipped = report.checks.reduce(0) { $0 + $1.stats.skipped }
            if skipped > 0 {
                console.err("note: \(skipped) data lines could not be read (see the report's footnote)\n")
            }
            return ExitCode.ok
        } catch {
            console.err("error: \(error)\n")
            if case .cannotWrite = error { return ExitCode.runtime }
            return ExitCode.usage
        }
    }

    /// Reads every folder and computes each check's figures.
    func build(now: Date) throws(Failure) -> SLOReport {
        try Self.validate(quorum, folders: data)
        var isDirectory: ObjCBool = false
        for folder in data
        where !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw .missingFolder(folder)
        }
        let readers = data.map { RunReader(folder: DataFolder($0)) }
        let names = Set(readers.flatMap { $0.folder.checks() }).sorted()
        guard !names.isEmpty else { throw .noData(data) }
        let settings = self.settings ?? Self.settings(checks)
        let quorums = names.map { Self.quorum(of: settings[$0], default: quorum, folders: data.count) }
        let nowMs = UTCTime.milliseconds(now)
        let defaulted = Set(names.filter { settings[$0] == nil })
        let policies = names.map { name -> SLOPolicy in
            var policy = settings[name].map(SLOPolicy.init(settings:)) ?? SLOPolicy()
            if let windowMs { policy.windowMs = windowMs }
            return policy
        }
        // Checks are independent: evaluate them on every core (this is a command, not the prober:
        // no probe shares these threads).
        let results = Mutex([CheckSLO?](repeating: nil, count: names.count))
        DispatchQueue.concurrentPerform(iterations: names.count) { index in
            let figures = SLOEvaluator.evaluate(
                check: names[index], readers: readers, policy: policies[index], nowMs: nowMs,
                quorum: quorums[index])
            results.withLock { $0[index] = figures }
        }
        let thresholds = Mutex([String: ThresholdSummary]())
        let alerting = names.indices.filter { !(settings[names[$0]]?.alerts.isEmpty ?? true) }
        DispatchQueue.concurrentPerform(iterations: alerting.count) { i in
            let index = alerting[i]
            let rules = settings[names[index]]?.alerts ?? []
            let summary = Self.thresholds(
                check: names[index], rules: rules, readers: readers, fromMs: nowMs - policies[index].windowMs + 1,
                nowMs: nowMs)
            thresholds.withLock { $0[names[index]] = summary }
        }
        var report = SLOReport(
            checks: results.withLock { $0.compactMap { $0 } }, folders: data, nowMs: nowMs, defaulted: defaulted,
            incidentPages: SLOReport.incidentPages(in: out + "/incidents", checks: names))
        var skipped = 0
        let events = readers.flatMap { IncidentEvent.readAll($0.folder.incidentsFile, skipped: &skipped) }
        report.certificates = CertificateStatus.rows(
            names, readers: readers, settings: settings, events: events, nowMs: nowMs)
        report.keepWarm = KeepWarmFigures.forChecks(names, readers: readers, settings: settings, nowMs: nowMs)
        report.thresholds = thresholds.withLock { $0 }
        report.openIncidents = StatusPage.openIncidents(events, pages: report.incidentPages)
        let calendar = MaintenanceCalendar(folders: readers.map(\.folder))
        report.maintenance = MaintenanceFigures.forChecks(report.checks, settings: settings, calendar: calendar)
        for name in names {
            report.maintenanceNow[name] = StatusPage.CheckMaintenance(
                check: name, settings: settings[name] ?? MonitorSettings(), calendar: calendar, nowMs: nowMs)
        }
        report.findings = Self.findings(names, readers: readers, nowMs: nowMs)
        return report
    }

    /// The episodes of `rules` that overlap `[fromMs, nowMs]`: every location's raw runs from one
    /// longest window before `fromMs` (so a rule already on at the start is seen) replayed through the
    /// live prober's evaluator.
    static func thresholds(
        check: String, rules: [ThresholdRule], readers: [RunReader], fromMs: Int64, nowMs: Int64
    ) -> ThresholdSummary {
        var replay = ThresholdReplay(check: check, rules: rules)
        let longest = rules.map(\.windowMs).max() ?? 0
        var stats = ReadStats()
        for reader in readers {
            for run in reader.runs(check: check, from: fromMs - longest, to: nowMs + 1, stats: &stats) {
                replay.add(run)
            }
        }
        let episodes = replay.episodes.filter { $0.overlaps(fromMs: fromMs, toMs: nowMs + 1) }
        return ThresholdSummary(rules: rules, episodes: episodes, fromMs: fromMs)
    }

    /// Writes the report's files, replacing the previous ones it wrote: folders first, then the
    /// README and each check's files rendered and written on every core.
    func write(_ report: SLOReport) throws(Failure) {
        for folder in [out] + SLOReport.folders.map({ out + "/" + $0 }) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw .cannotWrite(folder, (error as NSError).localizedDescription)
            }
        }
        let failure = Mutex<Failure?>(nil)
        DispatchQueue.concurrentPerform(iterations: report.checks.count + 1) { index in
            let files =
                index == 0
                ? [("README.md", report.readme()), ("index.html", report.statusPage())]
                : report.files(of: report.checks[index - 1])
            for (name, contents) in files {
                let path = out + "/" + name
                if let reason = Self.writeFile(path, contents) {
                    failure.withLock { $0 = $0 ?? .cannotWrite(path, reason) }
                    return
                }
            }
        }
        if let failure = failure.withLock({ $0 }) { throw failure }
    }

    /// Replaces `path` with `contents`; the reason on failure.
    static func writeFile(_ path: String, _ contents: String) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var text = contents
        return text.withUTF8 { bytes -> String? in
            guard let base = bytes.baseAddress else { return nil }  // empty: nothing to write
            var offset = 0
            while offset < bytes.count {
                let n = Foundation.write(fd, base + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                offset += n
            }
            return nil
        }
    }

    /// The stderr line naming the checks without a check file (their objectives are defaults), or
    /// nil when every check has one.
    static func defaultsNote(_ defaulted: Set<String>, checks: String) -> String? {
        guard !defaulted.isEmpty else { return nil }
        let defaults = MonitorSettings()
        return "note: no check file in \(checks) for \(defaulted.sorted().joined(separator: ", ")): default "
            + "objectives apply (\(String(format: "%g", defaults.slo.target))% over "
            + "\(DurationText.setting(defaults.slo.window)), a run every \(DurationText.setting(defaults.every))); "
            + "give --checks DIR\n"
    }

    /// Refuses `--quorum N` above the number of data folders (a usage error).
    static func validate(_ quorum: Quorum, folders: [String]) throws(Failure) {
        if case .atLeast(let n) = quorum, n > folders.count {
            throw .quorumAboveLocations(n, locations: folders.count)
        }
    }

    /// The quorum of one check over `folders` locations: its file's `@quorum`, else `default`
    /// (`--quorum`), capped at the number of locations; nil with one folder (no fleet to count).
    static func quorum(of settings: MonitorSettings?, default fallback: Quorum, folders: Int) -> LocationQuorum? {
        guard folders > 1 else { return nil }
        return LocationQuorum(settings?.quorum ?? fallback, locations: folders)
    }

    /// The one line for standard error about checks whose `@quorum` was above the locations given.
    static func cappedNote(_ quorums: [(check: String, quorum: LocationQuorum)]) -> String? {
        let capped = quorums.filter { $0.quorum.isCapped }
        guard let first = capped.first else { return nil }
        let list = capped.map { "\($0.check) (@quorum \($0.quorum.requested))" }.joined(separator: ", ")
        return
            "note: @quorum is above the \(first.quorum.locations) locations given, so it counts as \(first.quorum.locations) for: \(list)\n"
    }

    /// Monitor settings by check name from the scripts in `folder`; files that do not parse are left
    /// out (their checks get the defaults, and the report says so).
    static func settings(_ folder: String) -> [String: MonitorSettings] {
        guard let files = try? ScriptLoader.expand([folder]) else { return [:] }
        var out: [String: MonitorSettings] = [:]
        for file in files {
            if let script = try? ScriptLoader.load(file) { out[script.name] = script.settings }
        }
        return out
    }
}
