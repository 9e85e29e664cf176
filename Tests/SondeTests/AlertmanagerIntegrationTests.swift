import Foundation
import Synchronization
import Testing

@testable import SondeServe
@testable import SondeSupport

/// A real Alertmanager (`prometheus-alertmanager`, installed by `make test-deps`) on loopback with
/// contrib/fleet/alertmanager.yml (docs/fleet.md), its receivers on `receiver`.
func startAlertmanager(receiver: String, in folder: TemporaryFolder) async throws -> ServerProcess {
    let config = try folder.write("alertmanager.yml", try FleetConfig.alertmanager(receiver: receiver))
    try FileManager.default.createDirectory(atPath: folder.path + "/am-data", withIntermediateDirectories: true)
    return try await ServerProcess.start(
        "alertmanager", binary: alertmanagerBinary, in: folder.path, ready: "/-/ready"
    ) { port in
        [
            "--config.file=\(config)", "--storage.path=\(folder.path)/am-data",
            "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
        ]
    }
}

/// Where the Debian package `prometheus-alertmanager` puts Alertmanager.
let alertmanagerBinary = "/usr/bin/prometheus-alertmanager"

@Suite("Alertmanager: a real one takes sonde's alerts")
struct AlertmanagerIntegrationTests {
    @Test(
        "a check failing at location a reaches chat through Alertmanager as SondeCheckDown with its location, then resolves",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: alertmanagerBinary),
            "prometheus-alertmanager is missing: run make test-deps"))
    func downThenResolved() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let receiver = try AlertReceiver()
        // Alertmanager is ready before the prober starts, so the first post is not a retry.
        let alertmanager = try await startAlertmanager(receiver: receiver.baseURL, in: folder)
        defer { alertmanager.kill() }
        let healthy = Mutex(false)
        let target = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
            healthy.withLock { $0 } ? .text("fine") : .text("broken", status: 503)
        }
        defer { target.stop() }
        try folder.write("checks/shop.hurl", "# @every 1s\n# @timeout 5s\nGET \(target.baseURL)/health\nHTTP 200\n")

        let prober = try DaemonTests.Daemon(
            ["--alertmanager", alertmanager.baseURL, "--location", "a"], in: folder,
            tag: "prober")
        defer { if prober.process.isRunning { prober.signal(SIGKILL) } }
        // One location's own verdict carries its location label; the fleet's alertmanager.yml pages
        // only on the fleet's verdict (no location), so this one goes to chat.
        let down = ["alertname": "SondeCheckDown", "check": "shop", "location": "a", "severity": "page"]
        let fired = await pollUntil(timeout: .seconds(120)) {
            receiver.received(path: "/chat", status: "firing", labels: down)
        }
        #expect(
            fired,
            "no SondeCheckDown in chat: \(receiver.summary); prober: \(prober.stderr); Alertmanager: \(alertmanager.log)"
        )

        healthy.withLock { $0 = true }
        let resolved = await pollUntil(timeout: .seconds(120)) {
            receiver.received(path: "/chat", status: "resolved", labels: down)
        }
        #expect(resolved, "no resolved notification: prober: \(prober.stderr); Alertmanager: \(alertmanager.log)")
        #expect(!receiver.notifications.contains { $0.path == "/pager" }, "one location's alert paged")

        prober.signal(SIGTERM)
        #expect(try await prober.wait() == 0)
        await alertmanager.stop()
        #expect(prober.stderr.contains("alertmanager"), "\(prober.stderr)")
    }

    @Test("an Alertmanager that never answers does not delay a probe: runs go on while its post hangs")
    func hungAlertmanagerDelaysNoProbe() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let posts = Counter()
        let hung = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
            _ = posts.next()
            return .noResponse
        }
        defer { hung.stop() }
        let target = try HTTPServer(host: "127.0.0.1", port: 0) { _ in .text("broken", status: 503) }
        defer { target.stop() }
        try folder.write("checks/shop.hurl", "# @every 1s\n# @timeout 5s\nGET \(target.baseURL)/health\nHTTP 200\n")
        let data = folder.path + "/data"
        let prober = try DaemonTests.Daemon(
            ["--alertmanager", hung.baseURL, "--location", "a"], in: folder,
            tag: "prober")
        #expect(
            await pollUntil(timeout: .seconds(120)) { posts.current >= 1 },
            "the incident was not posted: \(prober.stderr)")
        let before = DaemonTests.runCounts(data)["shop", default: 0]
        #expect(
            await pollUntil(timeout: .seconds(120)) { DaemonTests.runCounts(data)["shop", default: 0] >= before + 4 },
            "runs stopped while the post hung: \(DaemonTests.runCounts(data)); \(prober.stderr)")
        prober.signal(SIGTERM)
        #expect(try await prober.wait() == 0)
    }
}
