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

#if canImport(Glibc)
    import Glibc
#endif

/// Echoes the request back as text: method, path, query items, body.
private func echo(_ req: HTTPRequest) -> HTTPResponse {
    var s = "\(req.method) \(req.path)"
    if let q = req.query { s += " ?\(q)" }
    for item in req.queryItems { s += " [\(item.name)=\(item.value)]" }
    s += " body=\(String(decoding: req.body, as: UTF8.self))"
    return .text(s)
}

@Suite("Embedded HTTP server", .offPool)
struct HTTPServerTests {
    @Test("two requests on one connection are both answered over keep-alive")
    func keepAlive() throws {
        let server = try HTTPServer(handler: echo)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let a = try client.request("GET", "/one")
        let b = try client.request("GET", "/two?x=1")
        #expect(a.status == 200)
        #expect(a.text == "GET /one body=")
        #expect(b.text == "GET /two ?x=1 [x=1] body=")
        #expect(a.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(a.header("Date")?.hasSuffix(" GMT") == true)
        #expect(a.header("Connection") == nil)
        #expect(server.connectionsAccepted == 1)
        #expect(server.requestsServed == 2)
    }

    @Test("Connection: close is honoured and the server closes after answering")
    func connectionClose() throws {
        let server = try HTTPServer(handler: echo)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let r = try client.request("GET", "/bye", headers: ["Connection: close"])
        #expect(r.status == 200)
        #expect(r.header("Connection") == "close")
        #expect(client.isClosedByPeer())
    }

    @Test("HTTP/1.0 closes unless keep-alive is asked for")
    func http10() throws {
        let server = try HTTPServer(handler: echo)
        defer { server.stop() }
        let plain = try RawHTTPClient(port: server.port)
        plain.send("GET /a HTTP/1.0\r\n\r\n")
        let r = try plain.readResponse()
        #expect(r.text == "GET /a body=")
        #expect(plain.isClosedByPeer())

        let kept = try RawHTTPClient(port: server.port)
        kept.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let k = try kept.readResponse()
        #expect(k.header("Connection") == "keep-alive")
        kept.send("GET /c HTTP/1.0\r\n\r\n")
        #expect(try kept.readResponse().text == "GET /c body=")
    }

    @Test("pipelined requests are answered in order")
    func pipelining() throws {
        let server = try HTTPServer(handler: echo)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        client.send(
            "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\n\r\n")
        #expect(try client.readResponse().text == "GET /1 body=")
        #expect(try client.readResponse().text == "POST /2 body=hi")
        #expect(try client.readResponse().text == "GET /3 body=")
    }

    @Test("a chunked response arrives as chunks and reassembles")
    func chunkedResponse() throws {
        let server = try HTTPServer { _ in
            HTTPResponse(
                status: 200, headers: [HTTPField(name: "Content-Type", value: "text/plain")],
                body: .chunked([Array("hello ".utf8), [], Array("chunked ".utf8), Array("world".utf8)]))
        }
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let r = try client.request("GET", "/")
        #expect(r.header("Transfer-Encoding") == "chunked")
        #expect(r.header("Content-Length") == nil)
        #expect(r.text == "hello chunked world")
        // The connection is still usable afterwards.
        #expect(try client.request("GET", "/").text == "hello chunked world")
    }

    @Test("a chunked request body is de-chunked, trailers dropped")
    func chunkedRequest() throws {
        let server = try HTTPServer(handler: echo)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        client.send(
            "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"
        )
        #expect(try client.readResponse().text == "POST /up body=hello, world")
        #expect(try client.request("GET", "/after").text == "GET /after body=")
    }

    @Test("Expect: 100-continue gets an interim 100 before the body is sent")
    func expectContinue() throws {
        let server = try HTTPServer(handler: echo)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        client.send("PUT /x HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        let interim = String(decoding: client.readSome(), as: UTF8.self)
        #expect(interim.hasPrefix("HTTP/1.1 100 Continue\r\n"))
        client.send("abc")
        #expect(try client.readResponse().text == "PUT /x body=abc")
        let other = try RawHTTPClient(port: server.port)
        other.send("PUT /x HTTP/1.1\r\nContent-Length: 3\r\nExpect: something-else\r\n\r\n")
        #expect(try other.readResponse().status == 417)
    }

    @Test("HEAD gets the headers and Content-Length but no body")
    func head() throws {
        let server = try HTTPServer { _ in .text("twelve bytes") }
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let r = try client.request("HEAD", "/")
        #expect(r.status == 200)
        #expect(r.header("Content-Length") == "12")
        #expect(r.body.isEmpty)
        // No stray body bytes: the next response parses cleanly.
        #expect(try client.request("GET", "/").text == "twelve bytes")
    }

    @Test("a malformed request line gets 400 and the connection is closed")
    func malformed() throws {
        let server = try HTTPServer(handler: echo)
        defer { server.stop() }
        for bad in [
            "GARBAGE\r\n\r\n", "GET /x HTTP/1.1 extra\r\n\r\n", "GET /x HTTP/1.1\r\nNo colon here\r\n\r\n",
            "GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n", "GET /x HTTP/1.1\r\n folded: v\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "GET /x HTTP/9\r\n\r\n",
            "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ] {
            let client = try RawHTTPClient(port: server.port)
            client.send(bad)
            let r = try client.readResponse()
            #expect(r.status == 400, "\(bad.debugDescription)")
            #expect(r.header("Connection") == "close")
            #expect(client.isClosedByPeer())
        }
        #expect(server.requestsServed == 0)
        let version = try RawHTTPClient(port: server.port)
        version.send("GET / HTTP/2.0\r\n\r\n")
        #expect(try version.readResponse().status == 505)
    }

    @Test("a request head over 64 KiB gets 431")
    func oversizeHead() throws {
        let server = try HTTPServer(handler: echo)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        client.send("GET / HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 70_000))\r\n\r\n")
        let r = try client.readResponse()
        #expect(r.status == 431)
        #expect(client.isClosedByPeer())
    }

    @Test("a request body over the limit gets 413 without being read")
    func oversizeBody() throws {
        let server = try HTTPServer(handler: echo)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        client.send("POST / HTTP/1.1\r\nContent-Length: 17000000\r\n\r\n")
        #expect(try client.readResponse().status == 413)

        var limits = HTTPServerLimits()
        limits.maxBodyBytes = 10
        let small = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits, handler: echo)
        defer { small.stop() }
        let chunked = try RawHTTPClient(port: small.port)
        chunked.send("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
        #expect(try chunked.readResponse().status == 413)
    }

    @Test("a 50 MiB streamed body is read in full")
    func bigStream() throws {
        let size = 50 * 1024 * 1024
        let server = try HTTPServer { _ in
            HTTPResponse(
                status: 200,
                body: .stream(length: size) { write in
                    let block = [UInt8](repeating: 0x61, count: 256 * 1024)
                    var left = size
                    while left > 0 {
                        let n = min(left, block.count)
                        guard write(n == block.count ? block : Array(block[0..<n])) else { return }
                        left -= n
                    }
                })
        }
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let r = try client.request("GET", "/big")
        #expect(r.header("Content-Length") == String(size))
        #expect(r.body.count == size)
        #expect(r.body.last == 0x61)
    }

    @Test("a stream without a length is sent chunked, one chunk per write")
    func chunkedStream() throws {
        let server = try HTTPServer { _ in
            HTTPResponse(
                status: 200,
                body: .stream(length: nil) { write in
                    for i in 0..<5 { _ = write(Array("part\(i);".utf8)) }
                })
        }
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let r = try client.request("GET", "/")
        #expect(r.header("Transfer-Encoding") == "chunked")
        #expect(r.text == "part0;part1;part2;part3;part4;")
    }

    @Test("raw bytes are written verbatim and the connection closed")
    func raw() throws {
        let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort".utf8)
        let server = try HTTPServer { _ in .raw(bytes) }
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        client.send("GET / HTTP/1.1\r\n\r\n")
        #expect(client.readToEnd() == bytes)
    }

    @Test("stop() returns promptly while a handler holds a connection with noResponse")
    func noResponseAndStop() throws {
        // stop() gives up waiting for connection threads after `stopWait`: made long, so that only
        // threads that really end at once make it return within the bound below.
        var limits = HTTPServerLimits()
        limits.stopWait = .seconds(60)
        let server = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits) { req in
            req.path == "/hang" ? .noResponse : .text("ok")
        }
        let client = try RawHTTPClient(port: server.port)
        client.send("GET /hang HTTP/1.1\r\n\r\n")
        // Wait until the server has the request (a minute at most).
        for _ in 0..<12_000 where server.requestsServed == 0 { usleep(5_000) }
        #expect(server.requestsServed == 1)
        let start = ContinuousClock.now
        server.stop()
        // Promptly: the connection thread ends at once rather than at the 60 s stop wait; the margin
        // is for a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(client.readToEnd().isEmpty)
        #expect(throws: RawClientError.self) { _ = try RawHTTPClient(port: server.port) }
    }

    @Test("stop() ends a dribbling stream: write returns false")
    func stopDuringStream() throws {
        let sawFalse = ServerTestFlag()
        var limits = HTTPServerLimits()
        limits.stopWait = .seconds(60)  // as above: only a thread that ends at once passes
        let server = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits) { _ in
            HTTPResponse(
                status: 200,
                body: .stream(length: nil) { write in
                    while write(Array("x".utf8)) { usleep(10_000) }
                    sawFalse.set()
                })
        }
        let client = try RawHTTPClient(port: server.port)
        client.send("GET / HTTP/1.1\r\n\r\n")
        _ = client.readSome()
        let start = ContinuousClock.now
        server.stop()
        // Promptly: the stream's thread sees write fail and ends at once, not at the 60 s stop wait.
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(sawFalse.value)
    }

    @Test("connectionsAccepted counts cold connections, not reused ones")
    func connectionCount() throws {
        let server = try HTTPServer(handler: echo)
        defer { server.stop() }
        for _ in 0..<3 {
            let c = try RawHTTPClient(port: server.port)
            _ = try c.request("GET", "/", headers: ["Connection: close"])
        }
        let reused = try RawHTTPClient(port: server.port)
        for _ in 0..<4 { _ = try reused.request("GET", "/") }
        #expect(server.connectionsAccepted == 4)
        #expect(server.requestsServed == 7)
    }

    @Test("query, path decoding, cookies and form items are parsed")
    func requestHelpers() {
        let req = HTTPRequest(
            method: "POST", target: "/a%20b/c?q=zelda+breath&x=%26y&flag",
            headers: [
                HTTPField(name: "cookie", value: "a=1; b=\"two\""),
                HTTPField(name: "Cookie", value: "c=3; a=9"),
            ],
            body: Array("username=demo&password=p%40ss+word".utf8))
        #expect(req.path == "/a b/c")
        #expect(req.query == "q=zelda+breath&x=%26y&flag")
        #expect(req.queryItems.map { "\($0.name)=\($0.value)" } == ["q=zelda breath", "x=&y", "flag="])
        #expect(req.cookies == ["a": "1", "b": "two", "c": "3"])
        #expect(req.header("COOKIE") == "a=1; b=\"two\"")
        #expect(req.formItems.map { "\($0.name)=\($0.value)" } == ["username=demo", "password=p@ss word"])
        let absolute = HTTPRequest(method: "GET", target: "http://example.com:8080/p?q=1")
        #expect(absolute.path == "/p")
        #expect(absolute.query == "q=1")
    }

    @Test("a port in use is reported as address already in use")
    func portInUse() throws {
        let server = try HTTPServer { _ in .text("") }
        defer { server.stop() }
        #expect(
            throws: HTTPServerError.cannotListen(address: "127.0.0.1:\(server.port)", reason: "address already in use")
        ) {
            _ = try HTTPServer(port: server.port) { _ in .text("") }
        }
        let error = HTTPServerError.cannotListen(address: "127.0.0.1:8080", reason: "address already in use")
        #expect(error.description == "cannot listen on 127.0.0.1:8080: address already in use")
        #expect(throws: HTTPServerError.invalidHost("not a host")) {
            _ = try HTTPServer(host: "not a host") { _ in .text("") }
        }
    }

    @Test("the server listens on IPv6 loopback")
    func ipv6() throws {
        let server: HTTPServer
        do {
            server = try HTTPServer(host: "::1") { _ in .text("six") }
        } catch {
            return  // no IPv6 on this machine
        }
        defer { server.stop() }
        #expect(server.baseURL == "http://[::1]:\(server.port)")
        let client = try RawHTTPClient(port: server.port, ipv6: true)
        #expect(try client.request("GET", "/").text == "six")
    }

    @Test("a client that stalls mid-head gets 408 and an idle client is dropped")
    func timeouts() throws {
        var limits = HTTPServerLimits()
        limits.headTimeout = .milliseconds(300)
        limits.idleTimeout = .milliseconds(300)
        let server = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits, handler: echo)
        defer { server.stop() }
        let slow = try RawHTTPClient(port: server.port)
        slow.send("GET / HTTP/1.1\r\nX-Slow: ")
        #expect(try slow.readResponse().status == 408)
        let idle = try RawHTTPClient(port: server.port)
        #expect(idle.readToEnd().isEmpty)
    }

    @Test("connections over the cap are answered 503 and closed")
    func connectionCap() throws {
        var limits = HTTPServerLimits()
        limits.maxConnections = 1
        let server = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits, handler: echo)
        defer { server.stop() }
        let first = try RawHTTPClient(port: server.port)
        _ = try first.request("GET", "/")
        let second = try RawHTTPClient(port: server.port)
        second.send("GET / HTTP/1.1\r\n\r\n")
        #expect(try second.readResponse().status == 503)
        #expect(server.connectionsAccepted == 1)
    }

    @Test("a slow handler does not hold up other connections")
    func slowHandler() throws {
        // The slow handler waits until the fast one has run: only possible if they run concurrently.
        let fastServed = DispatchSemaphore(value: 0)
        let server = try HTTPServer { req in
            if req.path == "/slow" {
                let overlapped = fastServed.wait(timeout: .now() + 60) == .success
                return .text(overlapped ? "overlapped" : "serialized")
            }
            fastServed.signal()
            return .text(req.path)
        }
        defer { server.stop() }
        let slow = try RawHTTPClient(port: server.port)
        slow.send("GET /slow HTTP/1.1\r\n\r\n")
        for _ in 0..<12_000 where server.requestsServed == 0 && server.connectionsAccepted == 0 { usleep(5_000) }
        let fast = try RawHTTPClient(port: server.port)
        #expect(try fast.request("GET", "/fast").text == "/fast")
        #expect(try slow.readResponse().text == "overlapped")
    }

    @Test("garbage input never crashes the server")
    func garbage() throws {
        var limits = HTTPServerLimits()
        limits.headTimeout = .milliseconds(100)
        limits.idleTimeout = .milliseconds(100)
        limits.readTimeout = .milliseconds(100)
        let server = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits, handler: echo)
        defer { server.stop() }
        var rng = SystemRandomNumberGenerator()
        for round in 0..<30 {
            let c = try RawHTTPClient(port: server.port, timeoutSeconds: 2)
            var bytes = (0..<Int.random(in: 1...3000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if round % 3 == 0 { bytes = Array("GET / HTTP/1.1\r\n".utf8) + bytes + Array("\r\n\r\n".utf8) }
            c.send(bytes)
            _ = c.readToEnd()
        }
        let ok = try RawHTTPClient(port: server.port)
        #expect(try ok.request("GET", "/alive").text == "GET /alive body=")
    }

    @Test("abrupt disconnects mid-request do not disturb the server")
    func abruptDisconnects() throws {
        let server = try HTTPServer(handler: echo)
        defer { server.stop() }
        for partial in [
            "GET / HT", "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nab",
        ] {
            let c = try RawHTTPClient(port: server.port)
            c.send(partial)
        }
        let ok = try RawHTTPClient(port: server.port)
        #expect(try ok.request("GET", "/still").text == "GET /still body=")
    }
}

/// A thread-safe boolean for observing handler threads. `@unchecked Sendable`: guarded by `lock`.
final class ServerTestFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var isSet = false
    func set() { lock.withLock { isSet = true } }
    var value: Bool { lock.withLock { isSet } }
}

extension RawHTTPClient {
    /// Whatever arrives in one read (empty on close or timeout).
    func readSome() -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(chunk[0..<n]) : []
    }
}
