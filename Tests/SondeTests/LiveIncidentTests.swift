import Foundation
import Synchronization
import Testing

@testable import SondeAlerts
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeDemoShop
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeRun
@testable import SondeSLO
@testable import SondeScript
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

@Suite("Live incidents: events file, webhooks, restart, same answer as sonde incidents")
struct LiveIncidentTests {
    /// A service whose health the test switches, and a webhook sink that keeps what it receives.
    final class Shared: Sendable {
        let healthy = Mutex(true)
        let received = Mutex<[String]>([])
    }

    final class Fixture: Sendable {
        let shared = Shared()
        func setHealthy(_ up: Bool) { shared.healthy.withLock { $0 = up } }
        let service: HTTPServer
        let sink: HTTPServer
        let folder: TemporaryFolder

        init() throws {
            let shared = self.shared
            service = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
                shared.healthy.withLock { $0 }
                    ? .json(#"{"status": "UP"}"#) : .json(#"{"status": "DOWN"}"#, status: 503)
            }
            sink = try HTTPServer(host: "127.0.0.1", port: 0) { request in
                shared.received.withLock { $0.append(String(decoding: request.body, as: UTF8.self)) }
                return .text("ok")
            }
            folder = try TemporaryFolder()
        }

        deinit {
            service.stop()
            sink.stop()
            folder.cleanup()
        }

        func checks() throws -> CheckSet {
            var script = try ScriptParser.parse(source: "GET \(service.baseURL)/health\nHTTP 200\n", path: "svc.hurl")
            script.settings.every = .milliseconds(200)
            script.settings.downAfter = 2
            script.settings.upAfter = 2
            var set = CheckSet()
            set.scripts["svc"] = script
            return set
        }

        /// A prober wired like `sonde run --webhook`, everything on `time`.
        func prober(engine: ProbeEngine, time: ManualTimeSource) throws -> (Prober, WebhookSender) {
            let writer = try RecordWriter(
                folder: DataFolder(folder.path + "/data"), now: { time.wallMs }, report: { _ in })
            let box = Mutex<IncidentMonitor?>(nil)
            let sender = WebhookSender(
                targets: [try WebhookTarget(parsing: sink.baseURL + "/hook")],
                policy: RetryPolicy(firstDelay: .milliseconds(20), maxAttempts: 3, attemptTimeout: .seconds(30)),
                engine: engine, time: time
            ) { event in
                if case .delivered(let target, let id, _) = event {
                    box.withLock { $0 }?.delivered(id: id, target: target)
                }
            }
            var configuration = Prober.Configuration(checksFolder: folder.path, location: "lab", variables: Variables())
            // Only the scheduler's timer sleeps on the manual clock: no heartbeat.
            configuration.heartbeat = nil
            let prober = Prober(
                configuration: configuration,
                checks: try checks(), writer: writer, log: EventLog(format: .text, console: CapturingConsole()),
                webhooks: sender, time: time)
            box.withLock { $0 = prober.incidents }
            return (prober, sender)
        }

        func events(_ kind: String) -> [String] {
            shared.received.withLock { $0 }.filter { $0.contains("\"event\":\"\(kind)\"") }
        }

        func fileEvents() -> [IncidentEvent] {
            var skipped = 0
            return IncidentEvent.readAll(DataFolder(folder.path + "/data").incidentsFile, skipped: &skipped)
        }
    }

    /// Moves the clock to the next slot and waits until its run (real HTTP) is recorded and the
    /// slot after it is armed. Returns the run's wall time.
    @discardableResult
    static func tick(_ prober: Prober, _ time: ManualTimeSource) async throws -> Int64 {
        let before = prober.recorded.runs
        try await time.waitForSleepers(1)
        try #require(time.sleepers == 1, "only the scheduler's timer sleeps between runs")
        time.advanceToNextDeadline()
        let wall = time.wallMs
        try #require(await pollUntil { prober.recorded.runs == before + 1 }, "the run was not recorded")
        return wall
    }

    /// Stops the prober and waits (60 s at most) for the webhooks and the files.
    static func stop(_ prober: Prober, _ sender: WebhookSender) async throws {
        _ = await prober.stop(grace: .seconds(2))
        try #require(await pollUntil { sender.pending == 0 }, "webhooks still pending")
        _ = await sender.flush(timeout: .seconds(3))
        await prober.writer.flush()
    }

    @Test("up, down for a moment, up: one incident, opened and resolved once each, and sonde incidents agrees")
    func oneOutage() async throws {
        let fixture = try Fixture()
        let engine = ProbeEngine()
        let time = ManualTimeSource()
        let (prober, sender) = try fixture.prober(engine: engine, time: time)
        prober.start()
        for _ in 0..<3 { try await Self.tick(prober, time) }
        fixture.setHealthy(false)
        let firstFailure = try await Self.tick(prober, time)
        let detection = try await Self.tick(prober, time)
        #expect(await pollUntil { fixture.events("opened").count == 1 })
        for _ in 0..<2 { try await Self.tick(prober, time) }
        fixture.setHealthy(true)
        let recovery = try await Self.tick(prober, time)
        try await Self.tick(prober, time)
        #expect(await pollUntil { fixture.events("resolved").count == 1 })
        for _ in 0..<2 { try await Self.tick(prober, time) }
        try await Self.stop(prober, sender)

        #expect(prober.recorded.runs == 11 && prober.recorded.failed == 4)
        #expect(fixture.events("opened").count == 1 && fixture.events("resolved").count == 1)
        let opened = try #require(fixture.events("opened").first)
        #expect(opened.contains("\"text\":\"🔴 svc is DOWN since"))
        #expect(opened.contains("\"budget_remaining\":"))
        // `resolved` carries a short list of findings: here the one error pattern of the 4 failures.
        let resolved = try #require(fixture.events("resolved").first)
        #expect(resolved.contains("\"findings\":[\"4 × status: "), "\(resolved)")
        let file = fixture.fileEvents()
        #expect(file.filter { $0.kind == .opened }.count == 1)
        #expect(file.filter { $0.kind == .resolved }.count == 1)
        #expect(file.filter { $0.kind == .alertSent }.count == 2)

        // The incident's times are the runs' times on the manual clock: it started with the first
        // failed run, was detected at the second and resolved as of the first of two good ones.
        let live = try #require(file.first { $0.kind == .resolved })
        #expect(live["started"] == .string(UTCTime.rfc3339(firstFailure)))
        #expect(live["detected"] == .string(UTCTime.rfc3339(detection)))
        #expect(live["resolved"] == .string(UTCTime.rfc3339(recovery)))
        guard case .list(let findings)? = live["findings"] else {
            Issue.record("no findings in the resolved event")
            return
        }
        #expect(findings.count == 1)

        // The offline replay finds the same incident with the same times.
        var settings = MonitorSettings()
        settings.downAfter = 2
        settings.upAfter = 2
        let found = IncidentFinder.find(
            readers: [RunReader(folder: DataFolder(fixture.folder.path + "/data"))],
            settings: ["svc": settings], nowMs: time.wallMs)
        #expect(found.incidents.count == 1)
        let incident = try #require(found.incidents.first)
        #expect(live.incident == incident.id)
        #expect(live["started"] == .string(UTCTime.rfc3339(incident.startedMs)))
        #expect(live["detected"] == .string(UTCTime.rfc3339(incident.detectedMs)))
        #expect(live["resolved"] == .string(UTCTime.rfc3339(incident.resolvedMs ?? 0)))
        #expect(incident.timeline.contains { $0.event == .alertSent }, "the alert rows come from incidents.jsonl")
    }

    @Test("an incident open when the prober stops is resolved after the restart, once, and not announced again")
    func restartMidIncident() async throws {
        let fixture = try Fixture()
        let engine = ProbeEngine()
        let before = ManualTimeSource()
        do {
            let (prober, sender) = try fixture.prober(engine: engine, time: before)
            prober.start()
            for _ in 0..<2 { try await Self.tick(prober, before) }
            fixture.setHealthy(false)
            for _ in 0..<2 { try await Self.tick(prober, before) }
            #expect(await pollUntil { fixture.events("opened").count == 1 })
            try await Self.stop(prober, sender)
        }
        fixture.setHealthy(true)
        // Restarted a second later on the wall clock.
        let after = ManualTimeSource(wallMs: before.wallMs + 1000)
        let (prober, sender) = try fixture.prober(engine: engine, time: after)
        prober.start()
        for _ in 0..<2 { try await Self.tick(prober, after) }
        #expect(await pollUntil { fixture.events("resolved").count == 1 })
        for _ in 0..<2 { try await Self.tick(prober, after) }
        try await Self.stop(prober, sender)
        #expect(fixture.events("opened").count == 1, "not announced again after the restart")
        #expect(fixture.events("resolved").count == 1)
        let file = fixture.fileEvents()
        #expect(file.filter { $0.kind == .opened }.count == 1 && file.filter { $0.kind == .resolved }.count == 1)
        #expect(file.first { $0.kind == .opened }?.incident == file.first { $0.kind == .resolved }?.incident)
    }
}
