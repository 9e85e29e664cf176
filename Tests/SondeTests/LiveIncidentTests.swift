import Foundation
import Synchronization
import Testing
@testable import SondeSupport
@testable import SondeProbe
@testable import SondeScript
@testable import SondeRun
@testable import SondeStore
@testable import SondeSLO
@testable import SondeIncidents
@testable import SondeAlerts
@testable import SondeRender
@testable import SondeServe
@testable import SondeDemoShop
@testable import SondeDaemon
@testable import SondeCommands

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
                shared.healthy.withLock { $0 } ? .json(#"{"status": "UP"}"#) : .json(#"{"status": "DOWN"}"#, status: 503)
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

        /// A prober wired like `sonde run --webhook`.
        func prober(engine: ProbeEngine) throws -> (Prober, WebhookSender) {
            let writer = try RecordWriter(folder: DataFolder(folder.path + "/data")) { _ in }
            let box = Mutex<IncidentMonitor?>(nil)
            let sender = WebhookSender(targets: [try WebhookTarget(parsing: sink.baseURL + "/hook")],
                                       policy: RetryPolicy(firstDelay: .milliseconds(20), maxAttempts: 3, attemptTimeout: .seconds(2)),
                                       engine: engine) { event in
                if case .delivered(let target, let id, _) = event { box.withLock { $0 }?.delivered(id: id, target: target) }
            }
            let prober = Prober(configuration: Prober.Configuration(checksFolder: folder.path, location: "lab", variables: Variables()),
                                checks: try checks(), writer: writer, log: EventLog(format: .text, console: CapturingConsole()),
                                webhooks: sender)
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

    static func waitUntil(_ seconds: Double = 10, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            try #require(ContinuousClock.now < deadline, "condition not met in \(seconds) s")
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("up, down for a moment, up: one incident, opened and resolved once each, and sonde incidents agrees")
    func oneOutage() async throws {
        let fixture = try Fixture()
        let engine = ProbeEngine()
        let (prober, sender) = try fixture.prober(engine: engine)
        prober.start()
        try await Task.sleep(for: .milliseconds(600))
        fixture.setHealthy(false)
        try await Self.waitUntil { fixture.events("opened").count == 1 }
        try await Task.sleep(for: .milliseconds(400))
        fixture.setHealthy(true)
        try await Self.waitUntil { fixture.events("resolved").count == 1 }
        try await Task.sleep(for: .milliseconds(400))
        _ = await prober.stop(grace: .seconds(2))
        _ = await sender.flush(timeout: .seconds(3))
        await prober.writer.flush()

        #expect(fixture.events("opened").count == 1 && fixture.events("resolved").count == 1)
        let opened = try #require(fixture.events("opened").first)
        #expect(opened.contains("\"text\":\"🔴 svc is DOWN since"))
        #expect(opened.contains("\"budget_remaining\":"))
        let file = fixture.fileEvents()
        #expect(file.filter { $0.kind == .opened }.count == 1)
        #expect(file.filter { $0.kind == .resolved }.count == 1)
        #expect(file.filter { $0.kind == .alertSent }.count >= 2)

        // The offline replay finds the same incident with the same times.
        var settings = MonitorSettings()
        settings.downAfter = 2
        settings.upAfter = 2
        let found = IncidentFinder.find(readers: [RunReader(folder: DataFolder(fixture.folder.path + "/data"))],
                                        settings: ["svc": settings], nowMs: UTCTime.milliseconds(Date()))
        #expect(found.incidents.count == 1)
        let incident = try #require(found.incidents.first)
        let live = try #require(file.first { $0.kind == .resolved })
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
        do {
            let (prober, sender) = try fixture.prober(engine: engine)
            prober.start()
            try await Task.sleep(for: .milliseconds(400))
            fixture.setHealthy(false)
            try await Self.waitUntil { fixture.events("opened").count == 1 }
            _ = await prober.stop(grace: .seconds(2))
            _ = await sender.flush(timeout: .seconds(3))
            await prober.writer.flush()
        }
        fixture.setHealthy(true)
        let (prober, sender) = try fixture.prober(engine: engine)
        prober.start()
        try await Self.waitUntil { fixture.events("resolved").count == 1 }
        try await Task.sleep(for: .milliseconds(500))
        _ = await prober.stop(grace: .seconds(2))
        _ = await sender.flush(timeout: .seconds(3))
        await prober.writer.flush()
        #expect(fixture.events("opened").count == 1, "not announced again after the restart")
        #expect(fixture.events("resolved").count == 1)
        let file = fixture.fileEvents()
        #expect(file.filter { $0.kind == .opened }.count == 1 && file.filter { $0.kind == .resolved }.count == 1)
        #expect(file.first { $0.kind == .opened }?.incident == file.first { $0.kind == .resolved }?.incident)
    }
}
