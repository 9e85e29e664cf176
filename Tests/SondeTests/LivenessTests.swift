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

@Suite("Liveness: /healthz follows the scheduler's heartbeat, not the HTTP server")
struct LivenessTests {
    /// A prober on its own engine, real time, a heartbeat every 100 ms and stalled after 1 s without
    /// one, serving `/metrics` and `/healthz` as `sonde run` does.
    struct Fixture {
        let service: TestService
        let folder: TemporaryFolder
        let engine = ProbeEngine()
        let prober: Prober
        let server: HTTPServer

        init(maxConnections: Int = 16) throws {
            service = try TestService()
            folder = try TemporaryFolder()
            try folder.write("checks/health.hurl", "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n")
            let (set, problems) = try CheckSet.load(folder.path + "/checks")
            #expect(problems.isEmpty)
            let writer = try RecordWriter(folder: DataFolder(folder.path + "/data"), report: { _ in })
            var configuration = Prober.Configuration(
                checksFolder: folder.path + "/checks", location: "test", variables: Variables())
            configuration.heartbeat = .milliseconds(100)
            configuration.stallThreshold = .seconds(1)
            let prober = Prober(
                configuration: configuration, checks: set, writer: writer, engine: engine,
                log: EventLog(format: .text, console: CapturingConsole()))
            self.prober = prober
            var limits = HTTPServerLimits()
            limits.maxConnections = maxConnections
            limits.reservedConnections = 2
            limits.reservedPaths = ["/healthz"]
            server = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits) { request in
                RunCommand.serveMetrics(request, prober: prober)
            }
        }

        func get(_ path: String) async throws -> RawHTTPResponse {
            let port = server.port
            return try await offPool { try RawHTTPClient(port: port).request("GET", path) }
        }

        func stop() async {
            _ = await prober.stop(grace: .seconds(5))
            server.stop()
            folder.cleanup()
        }
    }

    @Test("a blocked engine thread (no slot can fire) turns /healthz 503, and it turns 200 again once unblocked")
    func blockedSchedulerIsNotLive() async throws {
        let fixture = try Fixture()
        fixture.prober.start()
        #expect(try await fixture.get("/healthz").status == 200)

        // Hold the engine's thread, which fires every slot and the heartbeat, from one of its own timers.
        let gate = Gate()
        fixture.engine.schedule(at: .now) { gate.wait() }
        #expect(await pollUntil { gate.waiting == 1 })
        var stalled: RawHTTPResponse?
        _ = await pollUntil {
            let response = try? RawHTTPClient(port: fixture.server.port).request("GET", "/healthz")
            if response?.status == 503 { stalled = response }
            return stalled != nil
        }
        let body = String(decoding: stalled?.body ?? [], as: UTF8.self)
        #expect(stalled?.status == 503, "/healthz stayed green while no slot could start")
        #expect(body.contains("stalled: the scheduler's heartbeat last ran"), "\(body)")
        #expect(body.contains("(limit 1s)"), "\(body)")
        #expect(!fixture.prober.liveness.isLive)

        gate.open(1)
        #expect(
            await pollUntil {
                (try? RawHTTPClient(port: fixture.server.port).request("GET", "/healthz"))?.status == 200
            })
        #expect(fixture.prober.liveness.isLive)
        await fixture.stop()
    }

    @Test(
        "a metrics server whose connections are all taken still answers /healthz 200, for longer than the stall limit")
    func busyServerStaysLive() async throws {
        let fixture = try Fixture(maxConnections: 2)
        fixture.prober.start()
        // Two clients take both connections and send nothing: the server holds a thread for each.
        let held = try (0..<2).map { _ in try RawHTTPClient(port: fixture.server.port) }
        #expect(await pollUntil { fixture.server.connectionsAccepted == 2 })

        let metrics = try await fixture.get("/metrics")
        #expect(metrics.status == 503, "a scrape beyond the limit is refused")
        // For 2 s (twice the stall limit) every liveness probe, one every 100 ms as a kubelet would
        // send them (but faster), is answered, and green.
        let began = ContinuousClock.now
        var answers: [Int] = []
        while ContinuousClock.now - began < .seconds(2) {
            answers.append(try await fixture.get("/healthz").status)
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(
            !answers.isEmpty && answers.allSatisfy { $0 == 200 }, "\(answers) \(fixture.server.connectionsAccepted)")
        #expect(fixture.prober.liveness.isLive)
        withExtendedLifetime(held) {}
        await fixture.stop()
    }
}
