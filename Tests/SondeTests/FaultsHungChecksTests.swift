import Foundation
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

extension Faults {
    /// Fault area 3: many checks whose target accepts the connection and never answers, beside one
    /// healthy check at 1 s, in one `sonde run` process. The hung runs share the one engine thread with
    /// the healthy check; they must fail as `timeout` at their limit and must not delay it.
    @Suite("Faults: hung checks do not delay a healthy one")
    struct FaultsHungChecksTests {
        static let hungCount = FaultSize.pick(fast: 10, full: 50)
        static let seconds = FaultSize.pick(fast: 4.0, full: 20.0)
        /// Largest `late_ms` accepted for the healthy check. Typically a few ms; the margin covers the
        /// other suites that `swift test` runs at the same time on two cores.
        static let lateToleranceMs = 250.0

        @Test("hung checks fail as timeout at their limit while a 1 s check keeps every slot and stays on time")
        func hungBesideHealthy() async throws {
            let service = try TestService()
            let silent = try SilentServer()
            defer { silent.stop() }
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            try folder.write("checks/healthy.hurl", "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n")
            var limits: [String: Double] = [:]
            for index in 0..<Self.hungCount {
                let name = String(format: "hung%02d", index)
                if index.isMultiple(of: 2) {
                    try folder.write(
                        "checks/\(name).hurl", "# @every 1s\n# @timeout 2s\nGET \(silent.url)/\(name)\nHTTP 200\n")
                    limits[name] = 2000
                } else {
                    try folder.write(
                        "checks/\(name).hurl",
                        "# @every 1s\nGET \(silent.url)/\(name)\n[Options]\nmax-time: 1500ms\nHTTP 200\n")
                    limits[name] = 1500
                }
            }
            let daemon = try SondeProcess(["run", "--metrics", "127.0.0.1:0"], in: folder.path, tag: "run")
            let startLine = try #require(try await daemon.awaitLog(" start: "), "sonde run started: \(daemon.stderr)")
            let port = try #require(SondeProcess.metricsPort(in: startLine), "\(startLine)")
            let started = try #require(SondeProcess.logTime(startLine))

            try await Task.sleep(for: .seconds(Self.seconds / 2))
            let health = try await offPool {
                try RawHTTPClient(port: port, timeoutSeconds: 5).request("GET", "/healthz")
            }
            #expect(health.status == 200, "the engine loop answers while the hung transfers wait")
            try await Task.sleep(for: .seconds(Self.seconds / 2))
            let metrics = await fetchMetrics(port: port)

            let stopped = UTCTime.milliseconds(Date())
            daemon.signal(SIGTERM)
            #expect(try await daemon.finish(timeout: .seconds(20)) == .exited(0), "\(daemon.stderr.suffix(500))")

            let files = try DataFiles(folder.path + "/data")
            #expect(files.problems.isEmpty, "\(files.problems)")
            let byCheck = Dictionary(grouping: files.records, by: \.check)

            // The healthy check: one good run for every slot from start to a second before the stop.
            let healthy = (byCheck["healthy"] ?? []).sorted { $0.time < $1.time }
            let missing = DataFiles.missingSlots(of: "healthy", in: healthy, startedMs: started, stoppedMs: stopped)
            #expect(missing.isEmpty, "healthy runs missing at \(missing)")
            #expect(healthy.count >= Int(Self.seconds) - 2, "healthy: \(healthy.count) runs in \(Self.seconds) s")
            let healthyFailures = healthy.filter { !$0.ok }.map { $0.error?.message ?? "" }
            #expect(healthyFailures.isEmpty, "healthy failures: \(healthyFailures)")
            let worst = healthy.map(\.lateMs).max() ?? .infinity
            #expect(worst < Self.lateToleranceMs, "healthy late_ms up to \(worst)")
            #expect(Set(healthy.map(\.time)).count == healthy.count, "no slot runs twice")

            // Every hung check: timeouts only, each at its limit.
            for (name, limit) in limits.sorted(by: { $0.key < $1.key }) {
                let runs = byCheck[name] ?? []
                // Runs last `limit` and never overlap: about seconds / limit of them.
                #expect(runs.count >= Int(Self.seconds * 1000 / limit) - 2, "\(name): \(runs.count) runs")
                for run in runs {
                    #expect(!run.ok && run.error?.kind == "timeout", "\(name): \(String(describing: run.error))")
                    #expect(
                        run.durationMs >= limit - 5 && run.durationMs < limit + 500,
                        "\(name): a run took \(run.durationMs) ms")
                }
                #expect(
                    metricValue(metrics, "sonde_runs_total{check=\"\(name)\",location=\"local\",result=\"timeout\"}")
                        ?? 0 >= 1,
                    "\(name) counted as timeout in /metrics")
            }
            #expect(silent.connections >= Self.hungCount, "each hung check connected: \(silent.connections)")
            #expect(metricValue(metrics, "sonde_check_up{check=\"healthy\",location=\"local\"}") == 1)
        }
    }
}
