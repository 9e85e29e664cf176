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

extension Faults {
    /// Fault area 4: hostile targets on loopback, through the `sonde check` executable. A body that
    /// dribbles, a body of a gigabyte, malformed HTTP of many shapes, and a TLS handshake that never
    /// starts: each run fails with its one error kind within its limit, and the process neither hangs
    /// nor crashes nor holds the body in memory.
    @Suite("Faults: hostile targets fail with the right kind, in time, in bounded memory")
    struct FaultsHostileTargetTests {
        /// Bytes a streaming route managed to hand to the socket, by route.
        final class Sent: Sendable {
            private let bytes = Mutex<[String: Int]>([:])
            func add(_ route: String, _ n: Int) { bytes.withLock { $0[route, default: 0] += n } }
            subscript(_ route: String) -> Int { bytes.withLock { $0[route] ?? 0 } }
        }

        static let megabyte = [UInt8](repeating: 0x61, count: 1 << 20)

        /// The hostile routes. Streaming producers stop when the client goes (write returns false).
        static func server(_ sent: Sent) throws -> HTTPServer {
            try HTTPServer(host: "127.0.0.1", port: 0) { request in
                switch request.path {
                case "/dribble":
                    // One byte a second of a 1,000-byte body.
                    return HTTPResponse(
                        status: 200,
                        body: .stream(length: 1000) { write in
                            for _ in 0..<1000 {
                                guard write([0x61]) else { return }
                                sent.add("/dribble", 1)
                                Thread.sleep(forTimeInterval: 1)
                            }
                        })
                case "/gib":
                    return HTTPResponse(
                        status: 200,
                        body: .stream(length: 1 << 30) { write in
                            for _ in 0..<1024 {
                                guard write(megabyte) else { return }
                                sent.add("/gib", 1 << 20)
                            }
                        })
                case "/endless":
                    // Chunked, no length; stops at 4 GiB should the client never give up.
                    return HTTPResponse(
                        status: 200,
                        body: .stream(length: nil) { write in
                            for _ in 0..<4096 {
                                guard write(megabyte) else { return }
                                sent.add("/endless", 1 << 20)
                            }
                        })
                default:
                    guard let raw = malformed[request.path] else { return .text("not found", status: 404) }
                    return .raw(raw)
                }
            }
        }

        /// Malformed answers, written verbatim and followed by a close.
        static let malformed: [String: [UInt8]] = [
            "/garbage-status": Array("HTTX/9 banana\r\n\r\n".utf8),
            "/cut-short": Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this".utf8),
            "/bad-chunk": Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n".utf8),
            "/nothing": [],
            "/not-http": Array("hello, I am not a web server\n".utf8),
            "/binary": (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) },
            "/status-2000": Array("HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok".utf8),
            "/huge-headers": Array(
                ("HTTP/1.1 200 OK\r\n"
                    + String(repeating: "X-Junk: " + String(repeating: "j", count: 990) + "\r\n", count: 400)
                    + "Content-Length: 2\r\n\r\nok").utf8),
            "/nul-in-status": Array("HTTP/1.1 200 O\0K\r\nContent-Length: 2\r\n\r\nok".utf8),
            "/chunk-cut": Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc".utf8),
        ]

        /// `sonde check --json` over some files: the JSON line of each file, by file name.
        static func check(_ files: [String], in folder: TemporaryFolder, timeout: Duration, tag: String) async throws
            -> (
                outcome: SondeProcess.Outcome, lines: [String: [(key: String, value: Value)]], seconds: Double,
                err: String
            )
        {
            let result = try await SondeProcess.run(
                ["check", "--json"] + files, in: folder.path, tag: tag, timeout: timeout)
            var lines: [String: [(key: String, value: Value)]] = [:]
            for line in result.out.split(separator: "\n") {
                guard case .object(let fields)? = try? JSON.parse(String(line)),
                    case .string(let file)? = fields.first(where: { $0.key == "file" })?.value
                else { continue }
                lines[file] = fields
            }
            return (result.outcome, lines, result.seconds, result.err)
        }

        static func field(_ fields: [(key: String, value: Value)]?, _ path: String...) -> Value? {
            var current: Value? = fields.map { .object($0) }
            for key in path {
                guard case .object(let inner)? = current else { return nil }
                current = inner.first { $0.key == key }?.value
            }
            return current
        }

        static func kind(_ fields: [(key: String, value: Value)]?) -> String? {
            if case .string(let kind)? = field(fields, "err", "kind") { return kind }
            return nil
        }

        /// How long after its limit a run may end, in ms. A run is never early (sonde's monotonic
        /// clock), and this margin keeps it well clear of the 10 s default deadline that a run
        /// ignoring its limit would take, while a loaded machine may not schedule the process for
        /// a while after the limit. How closely a run follows its limit on an idle machine is
        /// measured by bench/timeouts.sh.
        static let lateness = 4000.0

        static func ms(_ fields: [(key: String, value: Value)]?) -> Double {
            switch field(fields, "ms") {
            case .float(let d)?: return d
            case .integer(let i)?: return Double(i)
            default: return .nan
            }
        }

        @Test("a body dribbled one byte a second fails as timeout at max-time and at @timeout, and the process ends")
        func dribble() async throws {
            let sent = Sent()
            let server = try Self.server(sent)
            defer { server.stop() }
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let limit = FaultSize.pick(fast: 2.0, full: 5.0)
            let maxTime = try folder.write(
                "max-time.hurl",
                "GET \(server.baseURL)/dribble\n[Options]\nmax-time: \(Int(limit * 1000))ms\nHTTP 200\n")
            let deadline = try folder.write(
                "deadline.hurl", "# @timeout \(Int(limit * 750))ms\nGET \(server.baseURL)/dribble\nHTTP 200\n")
            let result = try await Self.check(
                [maxTime, deadline], in: folder, timeout: .seconds(Int(limit) + 20), tag: "dribble")
            #expect(result.outcome == .exited(ExitCode.runtime), "\(result.outcome): \(result.err.suffix(300))")
            var ran = 0.0  // bytes the server can have sent while the runs lasted
            for (file, expected) in [(maxTime, limit * 1000), (deadline, limit * 750)] {
                let line = result.lines[file]
                #expect(Self.kind(line) == "timeout", "\(file): \(String(describing: Self.field(line, "err")))")
                let ms = Self.ms(line)
                #expect(
                    ms >= expected - 5 && ms < expected + Self.lateness,
                    "\(file): the run took \(ms) ms against a limit of \(expected) ms")
                ran += (ms / 1000).rounded(.up) + 1  // a byte at the start, then one a second
            }
            #expect(result.seconds < limit + 15, "the process took \(result.seconds) s")
            // No more bytes than fit in the time the two runs lasted: the transfers ended with the runs.
            #expect(
                sent["/dribble"] >= 2 && sent["/dribble"] <= Int(ran),
                "bytes dribbled: \(sent["/dribble"]), at most \(Int(ran))")
        }

        @Test(
            "a 1 GiB body and an endless chunked body are aborted at the 8 MiB cap as too-large, streamed, in bounded memory"
        )
        func gigabyte() async throws {
            let sent = Sent()
            let server = try Self.server(sent)
            defer { server.stop() }
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let gib = try folder.write("gib.hurl", "GET \(server.baseURL)/gib\nHTTP 200\n")
            let endless = try folder.write(
                "endless.hurl", "GET \(server.baseURL)/endless\n[Options]\nmax-time: 60s\nHTTP 200\n")
            let result = try await Self.check([gib, endless], in: folder, timeout: .seconds(60), tag: "gib")
            #expect(result.outcome == .exited(ExitCode.runtime), "\(result.outcome): \(result.err.suffix(300))")
            for file in [gib, endless] {
                #expect(
                    Self.kind(result.lines[file]) == "too-large",
                    "\(file): \(String(describing: Self.field(result.lines[file], "err")))")
            }
            // The server could hand the socket little more than the cap plus loopback buffers: the
            // transfer was cut, not read to its end.
            for route in ["/gib", "/endless"] {
                #expect(
                    sent[route] >= 8 << 20 && sent[route] < 64 << 20,
                    "\(route): \(sent[route] >> 20) MiB left the server")
            }
            // Peak memory of the sonde process alone (measured by a parent of its own, see ChildProcess).
            let (status, peakKB) = try await offPool { try ChildProcess.run(SondeProcess.binary, ["check", gib]) }
            #expect(status == ExitCode.runtime)
            #expect(peakKB > 0 && peakKB < 100 * 1024, "peak RSS \(peakKB / 1024) MiB for a 1 GiB body")
        }

        @Test("malformed HTTP of ten shapes fails as protocol, one process, no hang, no crash")
        func malformedHTTP() async throws {
            let server = try Self.server(Sent())
            defer { server.stop() }
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            var files: [String: String] = [:]
            for route in Self.malformed.keys.sorted() {
                files[route] = try folder.write(
                    String(route.dropFirst()) + ".hurl",
                    "GET \(server.baseURL)\(route)\n[Options]\nmax-time: 5s\nHTTP 200\n")
            }
            let result = try await Self.check(
                files.values.sorted(), in: folder, timeout: .seconds(30), tag: "malformed")
            #expect(result.outcome == .exited(ExitCode.runtime), "\(result.outcome): \(result.err.suffix(300))")
            for (route, file) in files.sorted(by: { $0.key < $1.key }) {
                let line = result.lines[file]
                #expect(Self.kind(line) == "protocol", "\(route): \(String(describing: Self.field(line, "err")))")
                #expect(Self.ms(line) < 5000, "\(route): \(Self.ms(line)) ms")
            }
            #expect(result.seconds < 20, "the process took \(result.seconds) s")
        }

        @Test("a 10 MB response header line fails as protocol and says the line is too long, not out of memory")
        func hugeHeaderLine() async throws {
            let line = Array("HTTP/1.1 200 OK\r\nX-Huge: ".utf8) + [UInt8](repeating: 0x68, count: 10_000_000)
            let server = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
                .raw(line + Array("\r\nContent-Length: 2\r\n\r\nok".utf8))
            }
            defer { server.stop() }
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let file = try folder.write("huge.hurl", "GET \(server.baseURL)/\n[Options]\nmax-time: 20s\nHTTP 200\n")
            let result = try await Self.check([file], in: folder, timeout: .seconds(60), tag: "huge-header")
            #expect(result.outcome == .exited(ExitCode.runtime), "\(result.outcome): \(result.err.suffix(300))")
            let fields = result.lines[file]
            #expect(Self.kind(fields) == "protocol", "\(String(describing: Self.field(fields, "err")))")
            guard case .string(let message)? = Self.field(fields, "err", "msg") else {
                Issue.record("no message: \(String(describing: fields))")
                return
            }
            #expect(message.contains("a response header line longer than libcurl's limit of 100 KB"), "\(message)")
        }

        @Test(
            "a TLS server that accepts and never speaks fails as timeout within max-time, connect-timeout and @timeout")
        func stalledHandshake() async throws {
            let silent = try SilentServer()
            defer { silent.stop() }
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let cases: [(name: String, text: String, limit: Double)] = [
                ("max-time", "GET \(silent.tlsURL)/\n[Options]\nmax-time: 1s\nHTTP 200\n", 1000),
                ("connect-timeout", "GET \(silent.tlsURL)/\n[Options]\nconnect-timeout: 1200ms\nHTTP 200\n", 1200),
                ("deadline", "# @timeout 1500ms\nGET \(silent.tlsURL)/\nHTTP 200\n", 1500),
            ]
            var files: [String] = []
            for c in cases { files.append(try folder.write(c.name + ".hurl", c.text)) }
            let result = try await Self.check(files, in: folder, timeout: .seconds(20), tag: "tls")
            #expect(result.outcome == .exited(ExitCode.runtime), "\(result.outcome): \(result.err.suffix(300))")
            for (c, file) in zip(cases, files) {
                let line = result.lines[file]
                #expect(Self.kind(line) == "timeout", "\(c.name): \(String(describing: Self.field(line, "err")))")
                let ms = Self.ms(line)
                #expect(ms >= c.limit - 5 && ms < c.limit + Self.lateness, "\(c.name): \(ms) ms against \(c.limit) ms")
            }
            #expect(silent.connections >= 3, "every check reached the TCP server: \(silent.connections)")
            #expect(result.seconds < 15, "the process took \(result.seconds) s")
        }
    }
}
