import Foundation
import Synchronization
import Testing

@testable import SondeAlerts
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeRun
@testable import SondeSLO
@testable import SondeScript
@testable import SondeStore
@testable import SondeSupport

/// The figures an independent re-computation found wrong (issue "SLO truth, round 2"), each with its
/// numbers: the 24 h edge, coverage with unsorted lines, young checks, exact peaks, alert rules,
/// loud fallbacks, and runs that come after their hour line.
@Suite("SLO truth: one window, budgets from the schedule, exact peaks", .cpuBound)
struct SLOTruthTests {
    static let now = SLOTests.now
    static let nowDate = Date(timeIntervalSince1970: Double(now) / 1000)

    static func run(_ time: Int64, ok: Bool = true, location: String = "eu", check: String = "api") -> RunRecord {
        RunRecord(
            time: time, check: check, location: location, ok: ok, durationMs: 100, lateMs: 0,
            error: ok ? nil : RunError(kind: "status", entry: 1, line: 2, message: "entry 1 line 2: HTTP 503"),
            steps: [RunStep(status: ok ? 200 : 503, timings: PhaseTimings(ttfb: 50, total: 100))])
    }

    /// Writes `runs` in the given order (no sorting) into their day files under `root`.
    static func write(_ runs: [RunRecord], to root: String) throws {
        let folder = DataFolder(root)
        var files: [String: [UInt8]] = [:]
        var order: [String] = []
        for run in runs {
            let path = folder.runsFile(check: run.check, at: run.time)
            if files[path] == nil { order.append(path) }
            files[path, default: []] += RunLine.encode(run)
        }
        for path in order {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(files[path] ?? []).write(to: URL(fileURLWithPath: path))
        }
    }

    static func checkFile(_ folder: TemporaryFolder, _ name: String, _ directives: String) throws {
        try folder.write("checks/\(name).hurl", directives + "\nGET http://127.0.0.1:1/\nHTTP 200\n")
    }

    // MARK: 1. One window

    @Test("a run exactly at now − 24 h is in neither status nor report: both count 288 runs, 97.569%")
    func statusAndReportShareTheEdge() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // Every 5 minutes from now − 24 h to now: 289 start times, the first exactly on the edge.
        // Eight fail, the edge run among them: 7 failures in (now − 24 h, now].
        var runs: [RunRecord] = []
        for k in 0...288 {
            let t = Self.now - UTCTime.msPerDay + Int64(k) * 300_000
            runs.append(Self.run(t, ok: ![0, 10, 50, 90, 130, 170, 210, 250].contains(k)))
        }
        try Self.write(runs, to: folder.path + "/data")
        var stats = ReadStats()
        let status = CheckStatus.compute(
            check: "api", reader: RunReader(folder: DataFolder(folder.path + "/data")), now: Self.nowDate,
            stats: &stats)
        #expect(status.runs == 288 && status.good == 281)
        #expect(PercentText.ratio(Int64(status.good), Int64(status.runs)) == "97.569%")
        let slo = SLOTests.evaluate([folder.path + "/data"], policy: SLOPolicy(intervalMs: 300_000))
        #expect(slo.windows[0].counts.runs == 288 && slo.windows[0].counts.good == 281)
        #expect(PercentText.ratio(slo.windows[0].counts.good, slo.windows[0].counts.runs) == "97.569%")
        // The table prints the same figure.
        let table = StatusTable(colour: false).render([status])
        #expect(table.contains("97.569%"), "\(table)")
    }

    // MARK: 2. Coverage

    @Test("a line appended out of order in a minute that has a run adds no covered minute: 7 d coverage 0.178571")
    func unsortedLinesDoNotInflateCoverage() throws {
        for withHours in [false, true] {
            for otherLocation in [false, true] {
                let folder = try TemporaryFolder()
                defer { folder.cleanup() }
                // 1,800 minutes (30 hours) with one run each, ending at now.
                let start = Self.now - 1800 * 60_000 + 60_000
                var data = DataBuilder()
                data.every(60_000, from: start, to: Self.now + 1)
                // Appended after later lines: a second run 20 s into a minute that already has one,
                // from this location or another one in the same folder.
                let late = start + 600 * 60_000 + 20_000
                data.runs.append(Self.run(late, location: otherLocation ? "us" : "eu"))
                try data.write(to: folder.path, hoursBefore: withHours ? Self.now : nil)
                let slo = SLOTests.evaluate([folder.path])
                let week = try #require(slo.windows.first { $0.label == "7d" })
                #expect(week.counts.runs == 1801)
                #expect(week.counts.minutesWithRuns == 1800, "hours \(withHours), other location \(otherLocation)")
                #expect(abs(week.coverage - 1800.0 / 10_080) < 1e-12)
                #expect(String(format: "%.6f", week.coverage) == "0.178571")
            }
        }
    }

    // MARK: 3. Young checks

    @Test("a young check (20 runs, 3 failed, 99.9% / 30 d) has 93.05% of its budget left; its incident used 6.9%")
    func youngCheck() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let start = Self.now - 19 * 60_000
        let runs = (0..<20).map { k in Self.run(start + Int64(k) * 60_000, ok: !(5...7).contains(k)) }
        try Self.write(runs, to: folder.path + "/data")
        try Self.checkFile(folder, "api", "# @every 1m\n# @slo 99.9% 30d")

        // Report: 1 − 3 ÷ (0.001 × 43,200).
        var report = ReportTests.command([folder.path + "/data"], out: folder.path + "/reports")
        report.checks = folder.path + "/checks"
        let built = try report.build(now: Self.nowDate)
        let slo = try #require(built.checks.first)
        #expect(abs(slo.budget.allowedFailures - 43.2) < 1e-9)
        #expect(abs((slo.budgetRemaining ?? 0) - (1 - 3 / 43.2)) < 1e-12)
        #expect(PercentText.truncated(slo.budgetRemaining ?? 0, decimals: 2) == "93.05%")
        let page = built.page(slo)
        #expect(page.contains("| 99.9% | 20 | 43.2 | 3 | 93.0% |"), "\(page)")
        #expect(!page.contains("exhausted"))
        let json = ReportJSON.encode(built)
        #expect(json.contains("\"allowed_failures\":43.2"))
        #expect(json.contains("\"budget_remaining\":0.9305555555555556"), "\(json)")
        // The accounting note says so, with this example.
        #expect(built.readme().contains("1 − 3 ÷ 43.2 = 93.05%"))

        // Its incident: 3 failed runs of 43.2 allowed.
        var incidents = IncidentsCommand()
        incidents.data = [folder.path + "/data"]
        incidents.out = folder.path + "/reports"
        incidents.checks = folder.path + "/checks"
        let console = CapturingConsole()
        #expect(incidents.run(console: console, now: Self.nowDate) == ExitCode.ok)
        let found = IncidentFinder.find(
            readers: [RunReader(folder: DataFolder(folder.path + "/data"))],
            settings: ReportCommand.settings(folder.path + "/checks"), nowMs: Self.now)
        let incident = try #require(found.incidents.first)
        #expect(abs((incident.budgetShare ?? 0) - 3 / 43.2) < 1e-12)
        let writeUp = try String(
            contentsOfFile: folder.path + "/reports/incidents/\(incident.id).md", encoding: .utf8)
        #expect(writeUp.contains("used 6.9% of the error budget"), "\(writeUp)")
        #expect(writeUp.contains("3 failed runs ÷ the 43.2 failures"))

        // Live: the gauge, the webhook and Alertmanager carry the same figure.
        var counter = BurnCounter(policy: SLOPolicy(), nowMs: Self.now)
        for run in runs { counter.add(timeMs: run.time, ok: run.ok) }
        #expect(abs((counter.budgetRemaining() ?? 0) - (1 - 3 / 43.2)) < 1e-12)
        let tracker = SLOTracker()
        tracker.setPolicies(["api": SLOPolicy()], nowMs: Self.now)
        for run in runs { tracker.add(check: "api", timeMs: run.time, ok: run.ok) }
        let figures = try #require(tracker.figures(check: "api", nowMs: Self.now))
        let metrics = ProberMetrics(location: "eu")
        metrics.setChecks([try ScriptLoader.load(folder.path + "/checks/api.hurl")])
        let text = metrics.render(skipped: [:], dropped: 0, slo: ["api": figures])
        #expect(text.contains("sonde_slo_error_budget_remaining_ratio{check=\"api\""), "\(text)")
        #expect(text.contains("0.930555"))
        let event = IncidentEvent(
            timeMs: runs[7].time, kind: .opened, check: "api", location: "eu", incident: incident.id,
            fields: [("failed_runs", .integer(3))])
        let body = String(
            decoding: IncidentNotification.payload(event, burn: figures.burn, budgetRemaining: figures.remaining),
            as: UTF8.self)
        #expect(body.contains("\"budget_remaining\":0.9306"), "\(body)")
        guard case .fire(_, let alert)? = IncidentAlerts.action(for: event, budgetRemaining: figures.remaining) else {
            Issue.record("an opened incident fires an alert")
            return
        }
        #expect(alert.annotations["budget_remaining"] == "0.9306")
    }

    @Test("a 45-second trial probed every second has most of its budget, not '694× spent'")
    func shortTrialAtOneSecond() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // 45 runs a second apart, 25 of them failing: the demo's pool outage.
        let start = Self.now - 44_000
        let runs = (0..<45).map { k in Self.run(start + Int64(k) * 1000, ok: !(10..<35).contains(k)) }
        try Self.write(runs, to: folder.path + "/data")
        var settings = MonitorSettings()
        settings.every = .seconds(1)
        var report = ReportTests.command([folder.path + "/data"], out: folder.path + "/reports")
        report.settings = ["api": settings]
        let built = try report.build(now: Self.nowDate)
        let slo = try #require(built.checks.first)
        // 30 days at one run a second: 2,592,000 runs, 2,592 failures allowed.
        #expect(abs(slo.budget.allowedFailures - 2592) < 1e-9)
        #expect(abs((slo.budgetRemaining ?? 0) - (1 - 25 / 2592.0)) < 1e-12)
        let page = built.page(slo)
        #expect(page.contains("a run every 1s"))
        #expect(page.contains("**Coverage (30d):** 0.0% of the objective's window has runs."), "\(page)")
        #expect(!page.contains("× spent") && !built.readme().contains("× spent"))
        #expect(built.defaulted.isEmpty, "the demo's settings are the checks' settings")
    }

    // MARK: 4. Exact peaks

    @Test("an incident's peak 1-hour burn rate is the highest over every run in it, as the check page shows it")
    func exactPeak() throws {
        // Every 10 s for two hours; failures from 40 s into a minute for 25 runs (past the last run of
        // a minute): a peak sampled at the first run of each minute would miss the last ones.
        let start = Self.now - 2 * UTCTime.msPerHour + 10_000
        let failFrom = Self.now - 30 * 60_000 + 40_000
        var runs: [RunRecord] = []
        var t = start
        while t <= Self.now {
            runs.append(Self.run(t, ok: !(t >= failFrom && t < failFrom + 250_000)))
            t += 10_000
        }
        var detector = IncidentDetector(
            check: "api", location: "eu", settings: MonitorSettings(), startMs: start, keepsSamples: true)
        var resolved: Incident?
        for run in runs {
            for case .resolved(let incident) in detector.observe(run) { resolved = incident }
        }
        let incident = try #require(resolved)
        // The straightforward answer: the 1-hour burn rate at every run of the incident.
        var expected = 0.0
        for run in runs where run.time >= incident.startedMs && run.time < (incident.resolvedMs ?? .max) {
            let window = runs.filter { $0.time > run.time - UTCTime.msPerHour && $0.time <= run.time }
            let bad = window.filter { !$0.ok }.count
            expected = max(expected, Double(bad) / Double(window.count) / 0.001)
        }
        #expect(abs((incident.peakBurnRate ?? 0) - expected) < 1e-9, "peak \(incident.peakBurnRate ?? 0)")
        // The check page at the last failed run shows that same rate.
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try Self.write(runs, to: folder.path)
        let lastFailed = failFrom + 240_000
        let slo = SLOEvaluator.evaluate(
            check: "api", readers: [RunReader(folder: DataFolder(folder.path))],
            policy: SLOPolicy(intervalMs: 10_000), nowMs: lastFailed)
        #expect(abs((slo.burnRates[.h1] ?? 0) - expected) < 1e-9)
        let sampled = IncidentWriteUp(incidents: [incident], nowMs: Self.now, folders: ["data"]).page(incident)
        #expect(sampled.contains(String(format: "peak 1-hour burn rate %.1f", expected)))
    }

    // MARK: 6. Alerts name what fired

    @Test("a page names the page rules that fired, with their burn rates, in the log line, webhook and write-up")
    func alertsNameWhatFired() throws {
        var detector = IncidentDetector(
            check: "api", location: "eu", settings: MonitorSettings(), startMs: Self.now - UTCTime.msPerHour,
            keepsSamples: true)
        var started: [String] = []
        var level: AlertState.Level?
        // 30 good runs, then a hard outage of 30 runs, a minute apart: every rule fires, the page is
        // named by its page rules only.
        for k in 0..<60 {
            let run = Self.run(Self.now - UTCTime.msPerHour + Int64(k) * 60_000, ok: k < 30)
            for case .burnAlertStarted(_, let l, let rules) in detector.observe(run) where level == nil {
                level = l
                started = rules
            }
        }
        #expect(level == .page)
        #expect(!started.isEmpty && started.allSatisfy { $0.hasPrefix("page: ") }, "\(started)")
        #expect(started.first?.hasPrefix("page: 1h and 5m burn > 14.4 (1h ") == true, "\(started)")
        let event = IncidentEvent(
            timeMs: Self.now, kind: .burnAlertStarted, check: "api", location: "eu",
            fields: [("level", .string("page")), ("rules", .list(started.map(Value.string)))])
        let line = IncidentNotification.text(event)
        #expect(!line.contains("ticket"), "\(line)")
        #expect(line.contains("5m "), "the rates are named: \(line)")
        let ongoing = try #require(detector.ongoing())
        let row = try #require(ongoing.timeline.first { $0.event == .burnAlertStarted })
        #expect(row.evidence.hasPrefix("page already firing: page: 1h and 5m burn > 14.4 (1h "), "\(row.evidence)")
        #expect(!row.evidence.contains("ticket"))
    }

    // MARK: 7. Loud fallbacks

    @Test("checks without a file are named on stderr by report and incidents, and the footnote says so")
    func loudFallbacks() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // `weekly` is a 99.5% / 7 d check; `orphan` has no file.
        let start = Self.now - 99 * 60_000
        var runs: [RunRecord] = []
        for k in 0..<100 {
            runs.append(Self.run(start + Int64(k) * 60_000, ok: k % 10 != 0, check: "weekly"))
            runs.append(Self.run(start + Int64(k) * 60_000, ok: k < 95, check: "orphan"))
        }
        try Self.write(runs, to: folder.path + "/data")
        try Self.checkFile(folder, "weekly", "# @slo 99.5% 7d")
        var report = ReportTests.command([folder.path + "/data"], out: folder.path + "/reports")
        report.checks = folder.path + "/checks"
        let console = CapturingConsole()
        #expect(report.run(console: console, now: Self.nowDate) == ExitCode.ok)
        let note = console.stderr.split(separator: "\n").filter { $0.hasPrefix("note: no check file") }
        #expect(note.count == 1 && note[0].contains("for orphan:") && !note[0].contains("weekly"), "\(console.stderr)")
        #expect(note.first?.contains("99.9% over 30d") == true)
        let readme = try ReportTests.read(folder.path + "/reports/README.md")
        #expect(readme.contains("without a check file: `orphan`"))
        // The 7-day check counts against its own objective: 10 failures of 0.005 × 10,080 allowed.
        let weekly = try ReportTests.read(folder.path + "/reports/checks/weekly.md")
        #expect(weekly.contains("## Error budget (7d)"))
        #expect(weekly.contains("| 99.5% | 100 | 50.4 | 10 | 80.1% |"), "\(weekly)")
        var incidents = IncidentsCommand()
        incidents.data = [folder.path + "/data"]
        incidents.out = folder.path + "/reports"
        incidents.checks = folder.path + "/checks"
        let quiet = CapturingConsole()
        #expect(incidents.run(console: quiet, now: Self.nowDate) == ExitCode.ok)
        #expect(quiet.stderr.contains("note: no check file in \(folder.path)/checks for orphan:"), "\(quiet.stderr)")
        // With every file present, nothing is said.
        try Self.checkFile(folder, "orphan", "# @slo 99.9% 30d")
        let all = CapturingConsole()
        #expect(report.run(console: all, now: Self.nowDate) == ExitCode.ok)
        #expect(!all.stderr.contains("no check file"))
    }

    // MARK: 8. Rollups and raw runs

    @Test("an hour line wins over raw runs for its hour; a run written after its hour line gets a new line")
    func lateRunsAreCounted() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let hour = UTCTime.hourStart(Self.now) - UTCTime.msPerHour
        let clock = Mutex(hour + 30 * 60_000)
        let writer = try RecordWriter(
            folder: DataFolder(folder.path), now: { clock.withLock { $0 } }, report: { _ in })
        let policy = RecordWriter.Policy(fastMs: nil, graceMs: 20_000)
        writer.prepare(["api": policy], location: "eu")
        for k in 0..<10 { writer.append(Self.run(hour + Int64(k) * 60_000), policy: policy) }
        await writer.flush()
        // The hour closes (its end plus the grace), then a run of that hour finishes late.
        clock.withLock { $0 = hour + UTCTime.msPerHour + 30_000 }
        await writer.flush()
        writer.append(Self.run(hour + 59 * 60_000 + 30_000, ok: false), policy: policy)
        await writer.flush()
        await writer.finish()
        var stats = ReadStats()
        let lines = RunReader(folder: DataFolder(folder.path)).storedHours(check: "api", stats: &stats)
        #expect(lines.count == 1)
        #expect(lines.first?.runs == 11 && lines.first?.good == 10, "the last line counts the late run")
        let file = try ReportTests.read(DataFolder(folder.path).hoursFile(check: "api", at: hour))
        #expect(file.split(separator: "\n").count == 2, "the first line stays; the second wins")

        // Precedence: where an hour has a line, its raw runs are not counted again.
        let other = try TemporaryFolder()
        defer { other.cleanup() }
        var data = DataBuilder()
        data.every(60_000, from: hour, to: hour + UTCTime.msPerHour)
        try data.write(to: other.path, hoursBefore: Self.now)
        try Self.write([Self.run(hour + 90_000, ok: false)], to: other.path + "/extra")
        let extra = DataFolder(other.path + "/extra").runsFile(check: "api", at: hour)
        let day = DataFolder(other.path).runsFile(check: "api", at: hour)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: day))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(contentsOf: URL(fileURLWithPath: extra)))
        try handle.close()
        let slo = SLOTests.evaluate([other.path])
        #expect(slo.windows[0].counts.runs == 60 && slo.windows[0].counts.bad == 0, "the hour line counts")
    }
}
