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

@Suite("Probe engine over libcurl")
struct ProbeEngineTests {
    let service: TestService
    let engine = ProbeEngine.shared

    init() throws {
        service = try TestService()
    }

    func get(_ path: String, in session: ProbeSession, configure: (inout ProbeRequest) -> Void = { _ in })
        async -> Result<ProbeResponse, ProbeError>
    {
        var request = ProbeRequest(method: "GET", url: service.baseURL + path)
        configure(&request)
        return await engine.perform(request, in: session)
    }

    @Test("a GET returns status, headers, body and non-negative phases that add up")
    func getWithTimings() async throws {
        let session = engine.makeSession()
        defer { session.close() }
        let response = try await get("/text", in: session).get()
        #expect(response.status == 200)
        #expect(response.httpVersion == "1.1")
        #expect(response.headers.first("x-trace") == "abc-123")
        #expect(String(decoding: response.body, as: UTF8.self).hasPrefix("hello sonde"))
        let t = response.timings
        #expect([t.dns, t.connect, t.tls, t.ttfb, t.transfer, t.total].allSatisfy { $0 >= 0 })
        #expect(t.tls == 0)
        #expect(t.total > 0)
        #expect(t.dns + t.connect + t.ttfb + t.transfer <= t.total + 0.001)
        #expect(t.bytes == response.body.count)
    }

    @Test("two requests of one session share one connection; two sessions open two")
    func coldPerSessionReuseInside() async throws {
        let before = service.server.connectionsAccepted
        let session = engine.makeSession()
        _ = try await get("/json", in: session).get()
        _ = try await get("/json", in: session).get()
        session.close()
        #expect(service.server.connectionsAccepted - before == 1)

        let other = engine.makeSession()
        _ = try await get("/json", in: other).get()
        other.close()
        #expect(service.server.connectionsAccepted - before == 2)
    }

    @Test("cookies live in the session's jar only")
    func cookieJar() async throws {
        let session = engine.makeSession()
        _ = try await get("/set-cookie", in: session).get()
        let echoed = try await get("/cookies", in: session).get()
        session.close()
        #expect(String(decoding: echoed.body, as: UTF8.self) == "session=s3cr3t")

        let fresh = engine.makeSession()
        defer { fresh.close() }
        let none = try await get("/cookies", in: fresh).get()
        #expect(none.body.isEmpty)
    }

    @Test("method, headers and body reach the server")
    func postBody() async throws {
        let session = engine.makeSession()
        defer { session.close() }
        var request = ProbeRequest(
            method: "PATCH", url: service.baseURL + "/echo",
            headers: [HTTPField(name: "X-One", value: "1"), HTTPField(name: "User-Agent", value: "probe-test")],
            body: Array("payload".utf8))
        request.maxTime = .seconds(5)
        let response = try await engine.perform(request, in: session).get()
        let echo = try JSON.parse(response.body)
        #expect(try JSONPath("$.method").evaluate(echo) == [.string("PATCH")])
        #expect(try JSONPath("$.body").evaluate(echo) == [.string("payload")])
        #expect(try JSONPath("$.headers['x-one']").evaluate(echo) == [.string("1")])
        #expect(try JSONPath("$.headers['user-agent']").evaluate(echo) == [.string("probe-test")])
        #expect(try JSONPath("$.headers.expect").evaluate(echo) == [])
    }

    @Test("HEAD gets headers and no body")
    func head() async throws {
        let session = engine.makeSession()
        defer { session.close() }
        var request = ProbeRequest(method: "HEAD", url: service.baseURL + "/text")
        request.maxTime = .seconds(5)
        let response = try await engine.perform(request, in: session).get()
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
    }

    @Test("redirects are reported, and followed only when asked")
    func redirects() async throws {
        let session = engine.makeSession()
        defer { session.close() }
        let plain = try await get("/redirect", in: session).get()
        #expect(plain.status == 302)
        #expect(plain.redirects == 0)
        let followed = try await get("/redirect", in: session) { $0.followRedirects = true }.get()
        #expect(followed.status == 200)
        #expect(followed.redirects == 1)
        #expect(followed.effectiveURL.hasSuffix("/json"))
        #expect(followed.headers.first("Location") == nil)
    }

    @Test("a body exactly at the cap passes, one byte more is too-large")
    func bodyCap() async throws {
        let session = engine.makeSession()
        defer { session.close() }
        let size = try await get("/json", in: session).get().body.count
        let exact = await get("/json", in: session) { $0.bodyLimit = size }
        #expect((try? exact.get()) != nil)
        let over = await get("/json", in: session) { $0.bodyLimit = size - 1 }
        #expect(over.failureKind == .tooLarge)
    }

    @Test("a 200 MiB body is aborted at the cap without holding it in memory")
    func hugeBodyMemory() async throws {
        let session = engine.makeSession()
        defer { session.close() }
        let result = await get("/big", in: session)
        #expect(result.failureKind == .tooLarge)
        // Memory is measured in a process of its own: this one runs every other suite at once.
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let file = try folder.write("big.hurl", "GET \(service.baseURL)/big\nHTTP 200\n")
        let (status, peakKB) = try await offPool {
            try ChildProcess.run(packageRoot + "/.build/debug/sonde", ["check", file])
        }
        #expect(status == ExitCode.runtime, "too-large is a runtime error")
        #expect(peakKB > 0 && peakKB < 100 * 1024, "peak RSS \(peakKB / 1024) MB for a 200 MiB body")
    }

    @Test("a refused connection, an unknown host and malformed HTTP get their own kinds")
    func faults() async throws {
        let session = engine.makeSession()
        defer { session.close() }
        let closed = try HTTPServer(host: "127.0.0.1", port: 0) { _ in .text("") }
        let url = closed.baseURL
        closed.stop()
        let refused = await engine.perform(ProbeRequest(method: "GET", url: url + "/"), in: session)
        #expect(refused.failureKind == .connect)

        var unknown = ProbeRequest(method: "GET", url: "http://sonde-probe-test.invalid/")
        unknown.maxTime = .seconds(5)
        #expect(await engine.perform(unknown, in: session).failureKind == .dns)

        #expect(await get("/malformed", in: session) { $0.maxTime = .seconds(5) }.failureKind == .protocol)

        let bad = await engine.perform(ProbeRequest(method: "GET", url: "nosuch://host/"), in: session)
        #expect(bad.failureKind == .internal)
    }

    @Test("max-time stops a request to a server that never answers")
    func maxTime() async throws {
        let session = engine.makeSession()
        defer { session.close() }
        let result = await get("/hang", in: session) { $0.maxTime = .milliseconds(300) }
        #expect(result.failureKind == .timeout)
        if case .failure(let error) = result { #expect(error.description.contains("max-time 300 ms")) }
    }

    @Test("cancelling the task aborts a hung transfer")
    func cancellation() async throws {
        let session = engine.makeSession()
        defer { session.close() }
        let task = Task { await get("/hang", in: session) { $0.maxTime = .seconds(30) } }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = await task.value
        #expect(result.failureKind == .timeout)
    }

    /// What a run started by a timer action saw, set once.
    final class HandOff: Sendable {
        struct Seen: Sendable {
            var startedOnEngine: Bool
            var resumedOnEngine: Bool
            var status: Int
            var wakeups: Int
        }
        let seen = Mutex<Seen?>(nil)
    }

    @Test("a request sent from the engine thread needs no wakeup, and its caller resumes off that thread")
    func engineThreadHandOff() async throws {
        let engine = ProbeEngine()  // its own: no other test's commands count in its wakeups
        let url = service.baseURL + "/json"
        let handOff = HandOff()
        engine.schedule(at: .now) {
            let before = engine.wakeups
            Task.immediate {
                let onEngine = engine.isCurrentThread
                let session = engine.makeSession()
                defer { session.close() }
                var request = ProbeRequest(method: "GET", url: url)
                request.maxTime = .seconds(30)
                let result = await engine.perform(request, in: session)
                let seen = HandOff.Seen(
                    startedOnEngine: onEngine, resumedOnEngine: engine.isCurrentThread,
                    status: (try? result.get().status) ?? 0, wakeups: engine.wakeups - before)
                handOff.seen.withLock { $0 = seen }
            }
        }
        #expect(await pollUntil { handOff.seen.withLock { $0 } != nil })
        let seen = try #require(handOff.seen.withLock { $0 })
        #expect(seen.startedOnEngine, "a timer action runs on the engine thread")
        #expect(seen.status == 200)
        #expect(seen.wakeups == 0, "the request was added from the engine thread itself")
        #expect(!seen.resumedOnEngine, "the caller goes on on the cooperative pool")
        // The session was closed from the pool without a wakeup; the loop releases it next time round.
        let wakeups = engine.wakeups
        #expect(await pollUntil { engine.sessionsHeld == 0 }, "the closed session is released")
        #expect(engine.wakeups == wakeups)
    }

    @Test("leaving the engine thread moves a task onto the pool, and costs nothing elsewhere")
    func leaveEngineThread() async throws {
        let engine = ProbeEngine()
        let handOff = HandOff()
        engine.schedule(at: .now) {
            Task.immediate {
                let onEngine = engine.isCurrentThread
                await engine.leaveEngineThread()
                let seen = HandOff.Seen(
                    startedOnEngine: onEngine, resumedOnEngine: engine.isCurrentThread, status: 0, wakeups: 0)
                handOff.seen.withLock { $0 = seen }
            }
        }
        #expect(await pollUntil { handOff.seen.withLock { $0 } != nil })
        let seen = try #require(handOff.seen.withLock { $0 })
        #expect(seen.startedOnEngine && !seen.resumedOnEngine)
        #expect(!engine.isCurrentThread)
        await engine.leaveEngineThread()
        #expect(!engine.isCurrentThread)
    }

    @Test("requests from the pool wake a sleeping engine at most once each; closing their sessions wakes it not at all")
    func wakeupsPerRequest() async throws {
        let engine = ProbeEngine()
        let before = engine.wakeups
        for _ in 0..<20 {
            let session = engine.makeSession()
            var request = ProbeRequest(method: "GET", url: service.baseURL + "/json")
            request.maxTime = .seconds(30)
            #expect(try await engine.perform(request, in: session).get().status == 200)
            session.close()
        }
        #expect(engine.wakeups - before <= 20, "\(engine.wakeups - before) wakeups for 20 requests and 20 closes")
        #expect(await pollUntil { engine.sessionsHeld == 0 })
    }

    @Test("scheme, host and port are read from the URL's bytes")
    func urlTargets() {
        let cases: [(String, String, String, Int)] = [
            ("http://127.0.0.1:8080/health", "http", "127.0.0.1", 8080),
            ("HTTPS://Example.com/a?b=c", "https", "Example.com", 0),
            ("https://user:pw@host.test:8443/x", "https", "host.test", 8443),
            ("https://a@b@host.test/x", "https", "host.test", 0),
            ("http://[::1]:9000/p", "http", "::1", 9000),
            ("http://[::1]/p", "http", "::1", 0),
            ("https://host.test?q=1", "https", "host.test", 0),
            ("https://host.test#frag", "https", "host.test", 0),
            ("http://host.test:/x", "http", "host.test", 0),
            ("http://host.test:99999/", "http", "host.test", 0),
            ("http://host.test:8a/", "http", "host.test", 0),
            ("not a url", "", "", 0),
            ("mailto:x@y", "", "", 0),
        ]
        for (url, scheme, host, port) in cases {
            let target = URLTarget(url)
            #expect(
                target.scheme == scheme && target.host == host && target.port == port,
                "\(url): \(target.scheme) \(target.host) \(target.port)")
        }
        // Where Foundation reads them the same way, the two agree.
        for url in ["http://127.0.0.1:8080/health", "HTTPS://Example.com/a?b=c", "https://user:pw@host.test:8443/x"] {
            let components = URLComponents(string: url)
            let target = URLTarget(url)
            #expect(target.scheme == components?.scheme?.lowercased())
            #expect(target.host == components?.host)
            #expect(target.port == components?.port ?? 0)
        }
    }

    @Test("two hundred concurrent requests all complete on the one engine thread")
    func concurrency() async throws {
        let codes = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    let session = engine.makeSession()
                    defer { session.close() }
                    var request = ProbeRequest(method: "GET", url: service.baseURL + "/json")
                    request.maxTime = .seconds(20)
                    return (try? await engine.perform(request, in: session).get().status) ?? 0
                }
            }
            var out: [Int] = []
            for await code in group { out.append(code) }
            return out
        }
        #expect(codes.count == 200)
        #expect(codes.allSatisfy { $0 == 200 })
    }

    @Test("OpenSSL certificate dates parse, day padded or not")
    func certificateDates() {
        let padded = Transfer.parseCertificateDate("Mar  2 23:59:59 2027 GMT")
        let plain = Transfer.parseCertificateDate("Mar 12 23:59:59 2027 GMT")
        #expect(padded != nil && plain != nil)
        if let padded, let plain { #expect(plain.timeIntervalSince(padded) == 10 * 86_400) }
        #expect(Transfer.parseCertificateDate("garbage") == nil)
    }
}

extension Result where Failure == ProbeError {
    var failureKind: ErrorKind? {
        if case .failure(let error) = self { return error.kind }
        return nil
    }
}

/// Runs a program with its output discarded and reports its exit status and peak RSS (KiB).
/// The child is started by a small Python process and measured there: a child spawned straight
/// from this test process (vfork) inherits this process's peak RSS in its own figure.
enum ChildProcess {
    static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, peakKB: Int) {
        let script = """
            import resource, subprocess, sys
            code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let fields = output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard fields.count == 2 else { return (-1, 0) }
        return (Int32(fields[0]), fields[1])
    }
}

/// Memory figures of this process from /proc/self/status.
enum MemoryUsage {
    static func residentMegabytes() -> Double { field("VmRSS:") }
    static func peakMegabytes() -> Double { field("VmHWM:") }

    private static func field(_ name: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }
}
