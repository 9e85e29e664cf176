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
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

@Suite("Maintenance in the running prober: an ad hoc window added while it runs")
struct MaintenanceDaemonTests {
    /// Runs `sonde` in process; returns the exit code and what it printed.
    static func sonde(_ arguments: [String]) async -> (code: Int32, console: CapturingConsole) {
        let console = CapturingConsole()
        let code = await SondeMain.run(arguments: arguments, environment: [:], console: console, isTerminal: false)
        return (code, console)
    }

    @Test("a target down during a window added with sonde maintenance: no incident, no webhook, report excludes it")
    func downDuringAdHocWindow() async throws {
        let fixture = try LiveIncidentTests.Fixture()
        let engine = ProbeEngine()
        // The wall clock starts at the real time, so the command's own checks (`--until` in the past)
        // agree with the prober's manual clock.
        let time = ManualTimeSource(wallMs: UTCTime.milliseconds(Date()))
        let (prober, sender) = try fixture.prober(engine: engine, time: time)
        let data = fixture.folder.path + "/data"
        // The prober holds the data folder, as `sonde run` does.
        let lock = try DataFolderLock(folder: DataFolder(data))
        prober.start()
        for _ in 0..<3 { try await LiveIncidentTests.tick(prober, time) }
        await prober.writer.flush()  // the check's folder exists: the command knows the name
        let loadsBefore = prober.maintenance.loads

        let from = UTCTime.rfc3339(time.wallMs)
        let added = await Self.sonde([
            "maintenance", "add", "svc", "--from", from, "--until", "+1h", "--reason", "database upgrade",
            "--data", data, "--checks", fixture.folder.path + "/none",
        ])
        #expect(added.code == 0, "\(added.console.all)")
        #expect(added.console.stdout.hasPrefix("added maintenance window m1: svc from "))
        // Picked up without a restart.
        #expect(await pollUntil { prober.maintenance.loads > loadsBefore })
        #expect(prober.maintenance.calendar.entries.map(\.id) == ["m1"])

        fixture.setHealthy(false)
        for _ in 0..<5 { try await LiveIncidentTests.tick(prober, time) }
        await prober.writer.flush()
        #expect(prober.recorded.failed == 5)
        #expect(prober.incidents.openIncidents.isEmpty)
        #expect(fixture.fileEvents().filter { $0.kind == .opened }.isEmpty)
        #expect(sender.pending == 0)
        #expect(fixture.shared.received.withLock { $0 }.isEmpty, "no webhook during maintenance")
        // The live SLO figures leave the window's runs out: three good runs, nothing spent.
        let figures = try #require(prober.slo.figures(check: "svc", nowMs: time.wallMs))
        #expect(figures.remaining == 1)
        #expect(
            prober.renderMetrics().contains("sonde_slo_error_budget_remaining_ratio{check=\"svc\",location=\"lab\"} 1"))

        // Ended while the prober runs: the next failures count again and open an incident.
        let loadsAdded = prober.maintenance.loads
        let ended = await Self.sonde(["maintenance", "end", "m1", "--data", data])
        #expect(ended.code == 0, "\(ended.console.all)")
        #expect(await pollUntil { prober.maintenance.loads > loadsAdded })
        // The command stamps the end with the real clock; the prober's clock moves only when the
        // test moves it, so its next run is taken past that end.
        let endMs = try #require(MaintenanceLog(folder: DataFolder(data)).read().entries.first?.endMs)
        try await time.waitForSleepers(1)
        let recordedBefore = prober.recorded.runs
        if time.wallMs <= endMs {
            time.advance(by: .milliseconds(endMs - time.wallMs + 1))
        } else {
            time.advanceToNextDeadline()
        }
        #expect(await pollUntil { prober.recorded.runs == recordedBefore + 1 })
        try await LiveIncidentTests.tick(prober, time)
        #expect(await pollUntil { fixture.events("opened").count == 1 })
        let reportTime = time.wallDate.addingTimeInterval(1)
        try await LiveIncidentTests.stop(prober, sender)
        _ = lock

        // Every run was recorded; the five in the window carry its id.
        var stats = ReadStats()
        let runs = RunReader(folder: DataFolder(data)).runs(
            check: "svc", from: 0, to: UTCTime.milliseconds(reportTime), stats: &stats)
        #expect(runs.count == 10)
        #expect(runs.filter { $0.maintenance == "m1" }.count == 5)
        #expect(runs.filter { $0.maintenance == "m1" }.allSatisfy { !$0.ok })

        // The report leaves them out and says so.
        var report = ReportCommand()
        report.data = [data]
        report.checks = fixture.folder.path + "/none"
        report.json = true
        let console = CapturingConsole()
        #expect(report.run(console: console, now: reportTime) == 0, "\(console.stderr)")
        let json = try JSON.parse(console.stdout)
        let check = try #require(Self.list(Self.member(json, "checks")).first)
        let day = try #require(Self.list(Self.member(check, "windows")).first)
        #expect(Self.member(day, "runs") == .integer(5))
        #expect(Self.member(day, "good") == .integer(3))
        let maintenance = try #require(Self.member(Self.member(json, "maintenance"), "svc"))
        #expect(Self.member(maintenance, "excluded_from_slo") == .bool(true))
        let window = try #require(Self.list(Self.member(maintenance, "windows")).first)
        #expect(Self.member(window, "runs_excluded") == .integer(5))
        let period = try #require(Self.list(Self.member(maintenance, "periods")).first)
        #expect(Self.member(period, "window") == .string("m1"))
        #expect(Self.member(period, "reason") == .string("database upgrade"))

        report.json = false
        report.out = fixture.folder.path + "/reports"
        #expect(report.run(console: CapturingConsole(), now: reportTime) == 0)
        let page = try String(contentsOfFile: report.out + "/checks/svc.md", encoding: .utf8)
        #expect(page.contains("## Maintenance"))
        #expect(page.contains("**excluded** from uptime, error budgets and burn rates"))
        #expect(page.contains("| `m1` |"))
        #expect(page.contains("database upgrade"))
        let index = try String(contentsOfFile: report.out + "/README.md", encoding: .utf8)
        #expect(index.contains("5 runs excluded"))
    }

    @Test("an incident open when a window starts notes it in its timeline, live and in sonde incidents")
    func openIncidentNotesWindow() async throws {
        let fixture = try LiveIncidentTests.Fixture()
        let engine = ProbeEngine()
        let time = ManualTimeSource(wallMs: UTCTime.milliseconds(Date()))
        let (prober, sender) = try fixture.prober(engine: engine, time: time)
        let data = fixture.folder.path + "/data"
        prober.start()
        try await LiveIncidentTests.tick(prober, time)
        fixture.setHealthy(false)
        for _ in 0..<3 { try await LiveIncidentTests.tick(prober, time) }
        #expect(await pollUntil { fixture.events("opened").count == 1 })
        let loads = prober.maintenance.loads
        let added = await Self.sonde([
            "maintenance", "add", "--all", "--from", UTCTime.rfc3339(time.wallMs), "--until", "+30m",
            "--reason", "failover drill", "--data", data,
        ])
        #expect(added.code == 0, "\(added.console.all)")
        #expect(await pollUntil { prober.maintenance.loads > loads })
        for _ in 0..<3 { try await LiveIncidentTests.tick(prober, time) }
        try await LiveIncidentTests.stop(prober, sender)

        let noted = fixture.fileEvents().filter { $0.kind == .maintenanceStarted }
        #expect(noted.count == 1)
        #expect(noted.first?["window"] == .string("m1"))
        #expect(noted.first?.incident == prober.incidents.openIncidents["svc"]?.id)
        #expect(fixture.events("resolved").isEmpty)
        #expect(fixture.events("maintenance_started").isEmpty, "a note, not a notification")

        let found = IncidentFinder.find(
            readers: [RunReader(folder: DataFolder(data))],
            settings: ["svc": try #require(try fixture.checks().scripts["svc"]).settings],
            nowMs: time.wallMs + 1)
        let incident = try #require(found.incidents.first)
        #expect(found.incidents.count == 1 && incident.resolvedMs == nil)
        #expect(incident.timeline.filter { $0.event == .maintenance }.count == 1)
        #expect(incident.timeline.contains { $0.event == .maintenance && $0.evidence.contains("m1") })
    }

    static func member(_ value: Value?, _ key: String?) -> Value? {
        guard let value else { return nil }
        guard let key else { return value }
        guard case .object(let pairs) = value else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    static func list(_ value: Value?) -> [Value] {
        guard case .list(let items)? = value else { return [] }
        return items
    }
}
