import Foundation
import Synchronization

@testable import SondeServe
@testable import SondeSupport

/// The loopback server of the request-side Hurl compatibility files (Tests/hurl-compat/requests):
/// each route checks what the request carried and answers 200 when it is right, 400 with the
/// reason when it is not, or echoes the request for the file's asserts.
final class HurlCompatRequestService: Sendable {
    let server: HTTPServer
    /// Requests counted per key (`/count?key=…`, `/loop`).
    let counts = Counts()

    /// Counters by key, shared with the server's handler.
    final class Counts: Sendable {
        private let value = Mutex<[String: Int]>([:])

        /// Adds one to `key`; returns the new count.
        @discardableResult
        func add(_ key: String) -> Int {
            value.withLock {
                $0[key, default: 0] += 1
                return $0[key] ?? 0
            }
        }

        /// The count of `key`.
        func get(_ key: String) -> Int { value.withLock { $0[key] ?? 0 } }
    }

    /// Listens on a free port of `host` (`::1` for the IPv6 files).
    init(host: String = "127.0.0.1") throws {
        let counts = self.counts
        server = try HTTPServer(host: host, port: 0) { request in
            HurlCompatRequestService.route(request, counts: counts)
        }
    }

    deinit { server.stop() }

    var baseURL: String { server.baseURL }
    var port: Int { Int(baseURL.split(separator: ":").last ?? "") ?? 0 }

    /// How many requests `key` has seen.
    func count(_ key: String) -> Int { counts.get(key) }

    /// "Hello, compressed world!" compressed with gzip.
    static let gzipHello: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51,
        0x48, 0xce, 0xcf, 0x2d, 0x28, 0x4a, 0x2d, 0x2e, 0x4e, 0x4d, 0x51, 0x28, 0xcf, 0x2f, 0xca, 0x49, 0x51,
        0x04, 0x00, 0x05, 0xbd, 0x53, 0x6e, 0x18, 0x00, 0x00, 0x00,
    ]

    static func check(_ ok: Bool, _ reason: @autoclosure () -> String) -> HTTPResponse {
        ok ? .text("ok") : .text(reason(), status: 400)
    }

    static func route(_ request: HTTPRequest, counts: Counts) -> HTTPResponse {
        if request.target.hasPrefix("http://sonde-proxy.test/") {
            return check(request.path == "/proxied", "proxied to \(request.path)")
        }
        let query = Dictionary(request.queryItems.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        switch request.path {
        case "/ok":
            return .text("ok")
        case "/header":
            // Every query item names a header and its expected value.
            for (name, value) in query where request.header(name) != value {
                return .text("header \(name) is \(request.header(name) ?? "missing"), expected \(value)", status: 400)
            }
            return .text("ok")
        case "/empty-header":
            let present = request.headers.contains { $0.name.lowercased() == "x-empty" && $0.value.isEmpty }
            return check(present, "no empty X-Empty header")
        case "/echo":
            var headers = [HTTPField(name: "X-Method", value: request.method)]
            if let type = request.header("Content-Type") {
                headers.append(HTTPField(name: "Content-Type", value: type))
            }
            return HTTPResponse(status: 200, headers: headers, body: .bytes(request.body))
        case "/echo-headers":
            var fields: [(key: String, value: Value)] = []
            for header in request.headers { fields.append((header.name.lowercased(), .string(header.value))) }
            fields.append(("query", .string(request.query ?? "")))
            return .json(JSON.encode(.object(fields)))
        case "/hello":
            return HTTPResponse(
                status: 200, headers: [HTTPField(name: "Content-Type", value: "application/octet-stream")],
                body: .bytes(Array("Hello".utf8)))
        case "/gzip":
            let accepts = request.header("Accept-Encoding")?.contains("gzip") ?? false
            guard accepts else { return .text("Hello, compressed world!") }
            return HTTPResponse(
                status: 200,
                headers: [
                    HTTPField(name: "Content-Type", value: "text/plain"),
                    HTTPField(name: "Content-Encoding", value: "gzip"),
                ],
                body: .bytes(gzipHello))
        case "/version":
            return .text(String(request.version.dropFirst(5)))
        case "/a/../path-as-is":
            return .text("kept")
        case "/path-as-is":
            return .text("squashed", status: 400)
        case "/basic-auth":
            let expected = "Basic " + Data("bob@email.com:secret".utf8).base64EncodedString()
            return check(
                request.header("Authorization") == expected,
                "Authorization: \(request.header("Authorization") ?? "none")")
        case "/digest":
            return HurlCompatAuth.digest(request, sha256: false, counts: counts)
        case "/digest-sha256":
            return HurlCompatAuth.digest(request, sha256: true, counts: counts)
        case "/ntlm":
            return HurlCompatAuth.ntlm(request, counts: counts)
        case "/aws":
            let auth = request.header("Authorization") ?? ""
            return check(
                auth.hasPrefix("AWS4-HMAC-SHA256 Credential=AKID/") && request.header("x-amz-date") != nil,
                "Authorization: \(auth)")
        case "/count":
            let key = query["key"] ?? ""
            return .text(String(counts.add(key)))
        case "/count-value":
            let key = query["key"] ?? ""
            return .text(String(counts.get(key)))
        case "/loop":
            counts.add("loop")
            return HTTPResponse(status: 302, headers: [HTTPField(name: "Location", value: "/loop")])
        case "/redirect":
            return HTTPResponse(status: 302, headers: [HTTPField(name: "Location", value: "/ok")])
        default:
            return .text("not found", status: 404)
        }
    }
}
