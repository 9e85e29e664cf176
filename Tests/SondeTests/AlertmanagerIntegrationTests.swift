import Foundation
import Synchronization
import Testing

@testable import SondeProbe
@testable import SondeServe
@testable import SondeSupport

/// A real Alertmanager (`prometheus-alertmanager`, installed by `make test-deps`) on loopback,
/// configured with docs/fleet.md's alertmanager.yml, stopped by its own pid.
private final class RealAlertmanager: @unchecked Sendable {
    static let binary = "/usr/bin/prometheus-alertmanager"
    let process = Process()
    let port: UInt16
    let logPath: String

    init(config: String, in folder: TemporaryFolder) throws {
        port = try DaemonTests.freePort()
        let configPath = try folder.write("alertmanager.yml", config)
        try FileManager.default.createDirectory(atPath: folder.path + "/am-data", withIntermediateDirectories: true)
        logPath = folder.path + "/alertmanager.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [
            "--config.file=\(configPath)", "--storage.path=\(folder.path)/am-data",
            "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
        ]
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        try process.run()
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Stops this Alertmanager (its own pid) and waits for it.
    func stop() async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        _ = try? await offPool { self.process.waitUntilExit() }
    }
}

/// Alertmanager's notifications as the test's webhook receiver got them.
private final class Receiver: Sendable {
    let server: HTTPServer
    private let box: Box

    private final class Box: Sendable {
        let list = Mutex<[(path: String, body: Value)]>([])
    }

    init() throws {
        let box = Box()
        server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            if let body = try? JSON.parse(request.body) { box.list.withLock { $0.append((request.path, body)) } }
            return .text("ok")
        }
        self.box = box
    }

    var notifications: [(path: String, body: Value)] { box.list.withLock { $0 } }

    /// True when a notification to `path` with `status` carries an alert with these labels.
    func received(path: String, status: String, labels: [String: String]) -> Bool {
        notifications.contains { note in
            guard note.path == path, field(note.body, "status") == status,
                case .list(let alerts)? = member(note.body, "alerts")
            else { return false }
            return alerts.contains { alert in
                labels.allSatisfy { field(member(alert, "labels"), $0.key) == $0.value }
            }
        }
    }

    deinit { server.stop() }
}

private func member(_ value: Value?, _ key: String) -> Value? {
    guard case .object(let fields)? = value else { return nil }
    return fields.first { $0.key == key }?.value
}

private func field(_ value: Value?, _ key: String) -> String? {
    if case .string(let s)? = member(value, key) { return s }
    return nil
}

/// docs/fleet.md's alertmanager.yml, its receiver address replaced by `receiver`.
private func fleetAlertmanagerConfig(receiver: String) throws -> String {
    let doc = try String(contentsOfFile: packageRoot + "/docs/fleet.md", encoding: .utf8)
    let marker = try #require(doc.range(of: "<!-- alertmanager.yml: the test reads the block below -->"))
    let rest = doc[marker.upperBound...]
    let open = try #require(rest.range(of: "```yaml\n"))
    let close = try #require(rest[open.upperBound...].range(of: "```"))
    return String(rest[open.upperBound..<close.lowerBound]).replacingOccurrences(
        of: "http://127.0.0.1:9095", with: receiver)
}

@Suite("Alertmanager: a real one takes sonde's alerts")
struct AlertmanagerIntegrationTests {
    @Test(
        "a check failing at location a reaches the pager through Alertmanager as SondeCheckDown, then resolves",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: RealAlertmanager.binary),
            "prometheus-alertmanager is missing: run make test-deps"))
    func downThenResolved() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let receiver = try Receiver()
        let alertmanager = try RealAlertmanager(
            config: try fleetAlertmanagerConfig(receiver: receiver.server.baseURL),
            in: folder)
        let healthy = Mutex(false)
        let target = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
            healthy.withLock { $0 } ? .text("fine") : .text("broken", status: 503)
        }
        defer { target.stop() }
        try folder.write("checks/shop.hurl", "# @every 1s\n# @timeout 5s\nGET \(target.baseURL)/health\nHTTP 200\n")

        // Alertmanager is ready before the prober starts, so the first post is not a retry.
        let engine = ProbeEngine()
        let session = engine.makeSession()
        defer { session.close() }
        var ready = false
        let deadline = ContinuousClock.now + .seconds(60)
        while !ready && ContinuousClock.now < deadline {
            let result = await engine.perform(
                ProbeRequest(method: "GET", url: alertmanager.baseURL + "/-/ready"),
                in: session)
            ready = (try? result.get())?.status == 200
            if !ready { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(ready, "Alertmanager did not become ready: \(alertmanager.log)")

        let prober = try DaemonTests.Daemon(
            ["--alertmanager", alertmanager.baseURL, "--location", "a"], in: folder,
            tag: "prober")
        let down = ["alertname": "SondeCheckDown", "check": "shop", "location": "a", "severity": "page"]
        let fired = await pollUntil(timeout: .seconds(120)) {
            receiver.received(path: "/pager", status: "firing", labels: down)
        }
        #expect(
            fired,
            "no SondeCheckDown at the pager: \(receiver.notifications.map(\.path)); prober: \(prober.stderr); Alertmanager: \(alertmanager.log)"
        )

        healthy.withLock { $0 = true }
        let resolved = await pollUntil(timeout: .seconds(120)) {
            receiver.received(path: "/pager", status: "resolved", labels: down)
        }
        #expect(resolved, "no resolved notification: prober: \(prober.stderr); Alertmanager: \(alertmanager.log)")
        #expect(!receiver.notifications.contains { $0.path == "/chat" }, "a page went to chat")

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
