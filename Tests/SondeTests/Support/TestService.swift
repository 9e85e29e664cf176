import Foundation
import Synchronization

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

/// A loopback service with one route per behaviour the runner tests need.
final class TestService: Sendable {
    let server: HTTPServer

    init() throws {
        let flaky = Counter()
        let barrier = Counter()
        server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            if request.path == "/barrier" {
                // Answers 200 only when two requests are in flight at once (5 s at most).
                _ = barrier.next()
                let deadline = Date().addingTimeInterval(5)
                while barrier.current < 2 && Date() < deadline { usleep(2_000) }
                return barrier.current >= 2 ? .text("together") : .text("alone", status: 504)
            }
            return TestService.route(request, flaky: flaky)
        }
    }

    deinit { server.stop() }

    var baseURL: String { server.baseURL }

    static let document = """
        {"name": "sonde", "count": 3, "price": 19.99, "ratio": 5.0, "ok": true, "none": null,
         "tags": ["a", "b", "c"], "items": [{"id": 1, "price": 5}, {"id": 2, "price": 15}, {"id": 3, "price": 25}],
         "empty": [], "blank": "", "csv": "x,y,z", "when": "2031-01-01T00:00:00Z", "num": "42", "fnum": "2.5"}
        """

    /// Just under the 8 MiB body cap: a JSON array of 340,000 small objects (about a million
    /// nodes) for `/many`.
    static let manyJSON: [UInt8] = {
        var text = "["
        text.reserveCapacity(8_000_000)
        for index in 0..<340_000 {
            if index > 0 { text += "," }
            text += #"{"id":\#(index),"v":"ab"}"#
        }
        text += "]"
        return Array(text.utf8)
    }()

    /// Just under the body cap: 8,000,000 × `a` and no `b`, for `/aaaa`.
    static let manyA = [UInt8](repeating: 0x61, count: 8_000_000)

    static func route(_ request: HTTPRequest, flaky: Counter) -> HTTPResponse {
        switch request.path {
        case "/many":
            return HTTPResponse(
                status: 200, headers: [HTTPField(name: "Content-Type", value: "application/json")],
                body: .bytes(manyJSON))
        case "/aaaa":
            return HTTPResponse(
                status: 200, headers: [HTTPField(name: "Content-Type", value: "text/plain")], body: .bytes(manyA))
        case "/json":
            return .json(document)
        case "/text":
            return .text(
                "hello sonde, version 1.2.3\nsecond line", headers: [HTTPField(name: "X-Trace", value: "abc-123")])
        case "/multi-header":
            return HTTPResponse(
                status: 200,
                headers: [
                    HTTPField(name: "X-Dup", value: "one"),
                    HTTPField(name: "X-Dup", value: "two"),
                ],
                body: .bytes(Array("ok".utf8)))
        case "/echo":
            var fields: [(key: String, value: Value)] = [
                ("method", .string(request.method)),
                ("query", .string(request.query ?? "")),
                ("body", .string(String(decoding: request.body, as: UTF8.self))),
            ]
            var headers: [(key: String, value: Value)] = []
            for header in request.headers { headers.append((header.name.lowercased(), .string(header.value))) }
            fields.append(("headers", .object(headers)))
            return .json(JSON.encode(.object(fields)))
        case "/redirect":
            return HTTPResponse(status: 302, headers: [HTTPField(name: "Location", value: "/json")])
        case "/status":
            let code = request.queryItems.first { $0.name == "code" }.flatMap { Int($0.value) } ?? 200
            return .text("status \(code)", status: code)
        case "/flaky":
            // Fails twice, then succeeds, then fails twice again...
            let n = flaky.next()
            return n % 3 == 0 ? .text("fine") : .text("not yet", status: 503)
        case "/set-cookie":
            return HTTPResponse(
                status: 200, headers: [HTTPField(name: "Set-Cookie", value: "session=s3cr3t; Path=/")],
                body: .bytes(Array("set".utf8)))
        case "/cookies":
            return .text(request.header("Cookie") ?? "")
        case "/slow":
            Thread.sleep(forTimeInterval: 0.3)
            return .text("slow")
        case "/hang":
            return .noResponse
        case "/malformed":
            return .raw(Array("HTTX/9 banana\r\n\r\n".utf8))
        case "/big":
            let chunk = [UInt8](repeating: 0x61, count: 1 << 20)
            return HTTPResponse(
                status: 200,
                body: .stream(length: 200 << 20) { write in
                    for _ in 0..<200 where write(chunk) {}
                })
        case "/latin1":
            return HTTPResponse(
                status: 200, headers: [HTTPField(name: "Content-Type", value: "text/plain; charset=ISO-8859-1")],
                body: .bytes([0x63, 0x61, 0x66, 0xE9]))
        default:
            return .text("not found", status: 404)
        }
    }
}

/// Parses and runs a script against a base URL.
///
/// The run's deadline is wall-clock time, so a script that does not set `@timeout` gets a minute
/// instead of the default 10 s: a loaded machine can hold a run's task that long between two
/// entries, and such a test is about what the run does, not how fast. A script that sets
/// `@timeout` keeps it (the tests of the deadline do).
func runScript(
    _ source: String, baseURL: String, variables: [String: Value] = [:],
    limits: CheckRunner.Limits = CheckRunner.Limits()
) async throws -> RunResult {
    var script = try ScriptParser.parse(source: source, path: "test.hurl")
    if !source.contains("# @timeout") { script.settings.timeout = .seconds(60) }
    var vars = Variables()
    vars.set("base_url", .string(baseURL))
    for (name, value) in variables { vars.set(name, value) }
    return await CheckRunner(limits: limits).run(script, variables: vars)
}

/// A thread-safe counter.
final class Counter: Sendable {
    private let value = Mutex(0)

    /// Increments and returns the new value.
    func next() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }

    var current: Int { value.withLock { $0 } }
}
