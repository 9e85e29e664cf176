import Foundation
import Synchronization
import Testing

@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeProbe
@testable import SondeRun
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

/// A prober on its own engine serving the live status page as `sonde run --listen` does (the same
/// handler, limits and reserved `/healthz` connections), against a loopback target with three
/// routes: `/ok` (200), `/down` (503) and `/markup` (500 with a body of hostile markup, which the
/// failure message echoes). Every path the server is asked for is recorded.
final class LiveStatusFixture: Sendable {
    /// The body `/markup` answers with.
    static let markup = "<script>alert(1)</script><img src=x onerror=alert(2)> \"q\" & 'a' <b>bold</b>"

    let folder: TemporaryFolder
    let target: HTTPServer
    let engine = ProbeEngine()
    let prober: Prober
    let server: HTTPServer
    private let requested = Requests()

    /// The paths the server was asked for.
    final class Requests: Sendable {
        let paths = Mutex<[String]>([])
    }

    /// `files` gives each check's file text (name → text) from the target's base URL.
    init(files: (String) -> [String: String]) throws {
        folder = try TemporaryFolder()
        target = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            switch request.path {
            case "/ok": return .text("fine")
            case "/down": return .text("unavailable", status: 503)
            case "/markup":
                return HTTPResponse(
                    status: 500, headers: [HTTPField(name: "Content-Type", value: "text/html")],
                    body: .bytes(Array(LiveStatusFixture.markup.utf8)))
            default: return .text("not found", status: 404)
            }
        }
        for (name, text) in files(target.baseURL) { try folder.write("checks/\(name).hurl", text) }
        let (set, problems) = try CheckSet.load(folder.path + "/checks")
        #expect(problems.isEmpty, "\(problems)")
        let writer = try RecordWriter(folder: DataFolder(folder.path + "/data"), report: { _ in })
        var configuration = Prober.Configuration(
            checksFolder: folder.path + "/checks", location: "loopback", variables: Variables())
        configuration.statusPage = true
        let prober = Prober(
            configuration: configuration, checks: set, writer: writer, engine: engine,
            log: EventLog(format: .text, console: CapturingConsole()))
        self.prober = prober
        var limits = HTTPServerLimits()
        limits.maxConnections = 8
        limits.reservedConnections = 2
        limits.reservedPaths = ["/healthz"]
        let requested = self.requested
        server = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits) { request in
            requested.paths.withLock { $0.append(request.path) }
            return RunCommand.serveMetrics(request, prober: prober)
        }
        prober.start()
    }

    var baseURL: String { server.baseURL }

    /// The paths asked for since the last call, in order.
    func takeRequested() -> [String] {
        requested.paths.withLock { paths in
            defer { paths = [] }
            return paths
        }
    }

    func get(_ path: String) async throws -> RawHTTPResponse {
        let port = server.port
        return try await offPool { try RawHTTPClient(port: port).request("GET", path) }
    }

    /// `/api/status` parsed, nil when it does not parse.
    func status() async throws -> [String: Any]? { try await get("/api/status").json }

    /// Waits until every check of `/api/status` has run and `condition` holds of the document.
    func waitFor(_ condition: @escaping @Sendable ([String: Any]) -> Bool = { _ in true }) async throws -> Bool {
        let port = server.port
        return await pollUntil(timeout: .seconds(90)) {
            guard let body = try? RawHTTPClient(port: port).request("GET", "/api/status").json,
                let checks = body["checks"] as? [[String: Any]], !checks.isEmpty
            else { return false }
            return checks.allSatisfy { ($0["state"] as? String) != "no data" } && condition(body)
        }
    }

    func stop() async {
        _ = await prober.stop(grace: .seconds(5))
        await prober.writer.finish()
        server.stop()
        target.stop()
    }
}

/// `text` as a DOM serializer writes a text node: `&`, `<`, `>` and no-break spaces as entities.
func domText(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\u{A0}", with: "&nbsp;")
}
