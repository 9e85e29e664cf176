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

/// One engine (one libcurl thread) for the whole suite rather than one per sender.
private let webhookEngine = ProbeEngine()

/// Small delays: 20 ms, 40 ms, 80 ms, … per retry (on the manual clock where a test passes one).
/// The per-attempt limit is real time and generous: a loaded machine may answer slowly.
private func fastPolicy(
    attempts: Int = 4, first: Duration = .milliseconds(20),
    timeout: Duration = .seconds(30)
) -> RetryPolicy {
    RetryPolicy(firstDelay: first, factor: 2, maxDelay: .seconds(2), maxAttempts: attempts, attemptTimeout: timeout)
}

/// A loopback webhook receiver: keeps every request with its arrival time on `time`; `answer`
/// gets the request and its 0-based index and may sleep or hang.
private final class Sink: Sendable {
    let server: HTTPServer
    private let box: SinkBox

    init(
        time: any TimeSource = SystemTimeSource(),
        _ answer: @escaping @Sendable (HTTPRequest, Int) -> HTTPResponse = { _, _ in .text("ok") }
    ) throws {
        let box = SinkBox(time: time)
        server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            let index = box.append(request)
            return answer(request, index)
        }
        self.box = box
    }

    var url: String { server.baseURL + "/hooks/T0/B0/secret" }
    var requests: [HTTPRequest] { box.items.map(\.request) }
    var times: [ContinuousClock.Instant] { box.items.map(\.at) }
    var bodies: [String] { requests.map { String(decoding: $0.body, as: UTF8.self) } }

    deinit { server.stop() }
}

/// The requests a sink received (a separate object so the handler need not capture the sink).
private final class SinkBox: Sendable {
    private let time: any TimeSource
    private let list = Mutex<[(at: ContinuousClock.Instant, request: HTTPRequest)]>([])
    init(time: any TimeSource) { self.time = time }
    func append(_ request: HTTPRequest) -> Int {
        let now = time.now
        return list.withLock {
            $0.append((now, request))
            return $0.count - 1
        }
    }
    var items: [(at: ContinuousClock.Instant, request: HTTPRequest)] { list.withLock { $0 } }
}

/// Collects what a sender reports, with the time of each event on `time`.
private final class Recorder: Sendable {
    private let time: any TimeSource
    private let list = Mutex<[(at: ContinuousClock.Instant, event: WebhookSender.Event)]>([])

    init(time: any TimeSource = SystemTimeSource()) { self.time = time }

    var report: @Sendable (WebhookSender.Event) -> Void {
        { event in
            let now = self.time.now
            self.list.withLock { $0.append((now, event)) }
        }
    }
    var events: [WebhookSender.Event] { list.withLock { $0.map(\.event) } }
    var timed: [(at: ContinuousClock.Instant, event: WebhookSender.Event)] { list.withLock { $0 } }

    /// Polls (without blocking the pool) until `done` holds or `timeout` passes; returns `done`.
    @discardableResult
    func wait(timeout: Duration = .seconds(60), until done: ([WebhookSender.Event]) -> Bool) async -> Bool {
        await pollUntil(timeout: timeout) { done(events) }
    }

    func finished(_ id: String, at target: String? = nil) -> Bool {
        events.contains { event in
            guard event.id == id, target == nil || event.target == target else { return false }
            switch event {
            case .delivered, .gaveUp: return true
            case .retrying, .dropped: return false
            }
        }
    }
}

/// A loopback port where nothing listens: a socket bound but never listening holds the port (no
/// other test's server can take it) and connections to it are refused.
private final class DeadPort: Sendable {
    let port: UInt16
    private let fd: Int32

    init() throws {
        let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard sock >= 0 else { throw DeadPortError.cannotBind }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(sock, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 && getsockname(sock, $0, &len) == 0
            }
        }
        guard bound else {
            close(sock)
            throw DeadPortError.cannotBind
        }
        fd = sock
        port = UInt16(bigEndian: addr.sin_port)
    }

    func url(_ path: String = "/hook") -> String { "http://127.0.0.1:\(port)\(path)" }

    deinit { close(fd) }

    enum DeadPortError: Error { case cannotBind }
}

/// Until `done` holds (60 s of real time at most): whenever a task sleeps on `time` (a backoff
/// wait), moves the clock to its deadline; meanwhile polls, as the requests are real I/O.
private func drive(_ time: ManualTimeSource, until done: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(60)
    while !done() {
        if ContinuousClock.now > deadline { return false }
        if time.advanceToNextDeadline() == nil { try? await Task.sleep(for: .milliseconds(2)) }
    }
    return true
}

@Suite("Webhooks: targets, delivery, retries and the queue")
struct WebhookTests {
    // MARK: Targets

    @Test("a URL with credentials is masked to scheme, host and port; the secret never shows")
    func masking() throws {
        let target = try WebhookTarget(parsing: "https://user:pa55@hooks.example.com/services/T0/B0/secret?x=1")
        #expect(target.masked == "https://hooks.example.com/…")
        #expect("\(target)" == "https://hooks.example.com/…")
        #expect(target.url == "https://user:pa55@hooks.example.com/services/T0/B0/secret?x=1")
        #expect(try WebhookTarget(parsing: "http://127.0.0.1:8080/x").masked == "http://127.0.0.1:8080/…")
        #expect(try WebhookTarget(parsing: "HTTPS://Hooks.Slack.com").masked == "https://hooks.slack.com")
        #expect(try WebhookTarget(parsing: "http://[::1]:9/hook").masked == "http://[::1]:9/…")
        #expect(try WebhookTarget(parsing: "http://h/?token=abc").masked == "http://h/…")
    }

    @Test("bad URLs are refused with a message that names the flag and hides the secret")
    func badURLs() {
        func message(_ text: String, source: String = "--webhook") -> String {
            do {
                _ = try WebhookTarget(parsing: text, source: source)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(message("ftp://x") == "--webhook 'ftp://x': only http and https URLs are supported")
        #expect(message("ftp://u:pw@x/secret") == "--webhook 'ftp://x/…': only http and https URLs are supported")
        #expect(message("http:///hook").hasPrefix("--webhook 'http:///…': the URL has no host"))
        #expect(message("hooks.slack.com/services/secret").hasPrefix("--webhook 'hooks.slack.com/…': not a URL"))
        #expect(
            message("https://u:pw@exa mple.com/secret", source: "SONDE_WEBHOOK")
                == "SONDE_WEBHOOK 'https://exa mple.com/…': not a URL; give a full URL such as https://hooks.example.com/…"
        )
        #expect(message("http://h:70000/x") == "--webhook 'http://h:70000/…': the port must be between 1 and 65535")
        #expect(message("  ").hasPrefix("--webhook: empty URL"))
    }

    @Test("SONDE_WEBHOOK holds one or more URLs separated by commas or whitespace")
    func environment() throws {
        let targets = try WebhookTarget.fromEnvironment(["SONDE_WEBHOOK": " http://a/x, https://b/y\n http://c:81 ,,"])
        #expect(targets.map(\.url) == ["http://a/x", "https://b/y", "http://c:81"])
        #expect(try WebhookTarget.fromEnvironment([:]).isEmpty)
        #expect(try WebhookTarget.fromEnvironment(["SONDE_WEBHOOK": "  "]).isEmpty)
        #expect(throws: WebhookTargetError.unsupportedScheme(source: "SONDE_WEBHOOK", masked: "file:///…")) {
            try WebhookTarget.fromEnvironment(["SONDE_WEBHOOK": "http://a/x file:///etc/passwd"])
        }
    }

    @Test("the backoff doubles from the first delay, stops at the cap and honours Retry-After up to it")
    func backoffSchedule() {
        let policy = RetryPolicy()
        #expect(
            (1...8).map { policy.delay(afterAttempt: $0) }
                == [1, 2, 4, 8, 16, 32, 60, 60].map { Duration.seconds($0) })
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(30)) == .seconds(30))
        #expect(policy.delay(afterAttempt: 3, retryAfter: .seconds(1)) == .seconds(4))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(3600)) == .seconds(60))
        #expect(policy.maxAttempts == 6 && policy.attemptTimeout == .seconds(10))
    }

    // MARK: Delivery

    @Test("an event is delivered once as a JSON POST with sonde's User-Agent")
    func deliveredOnce() async throws {
        let sink = try Sink()
        let recorder = Recorder()
        let target = try WebhookTarget(parsing: sink.url)
        let sender = WebhookSender(
            targets: [target], policy: fastPolicy(), engine: webhookEngine, report: recorder.report)
        let body = #"{"event":"incident-opened","check":"api","text":"api is down"}"#
        sender.send(Array(body.utf8), id: "e1")
        #expect(await recorder.wait { $0.count == 1 })
        #expect(recorder.events == [.delivered(target: target.masked, id: "e1", attempts: 1)])
        let request = try #require(sink.requests.first)
        #expect(sink.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.path == "/hooks/T0/B0/secret")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("User-Agent") == "sonde/\(Sonde.version)")
        #expect(String(decoding: request.body, as: UTF8.self) == body)
        #expect(await pollUntil { sender.pending == 0 }, "the lane is freed just after the report")
    }

    @Test("a target answering 500 twice then 200 gets it on attempt 3, after two growing waits")
    func retriesOn500() async throws {
        let time = ManualTimeSource()
        let sink = try Sink(time: time) { _, index in index < 2 ? .text("oops", status: 500) : .text("ok") }
        let recorder = Recorder(time: time)
        let target = try WebhookTarget(parsing: sink.url)
        let sender = WebhookSender(
            targets: [target], policy: fastPolicy(first: .milliseconds(30)),
            engine: webhookEngine, time: time, report: recorder.report)
        sender.send(Array("{}".utf8), id: "e1")
        // The first retry waits on the clock: a millisecond short of its delay, nothing is sent again.
        try await time.waitForSleepers(1)
        time.advance(by: .milliseconds(29))
        #expect(time.sleepers == 1 && sink.requests.count == 1)
        time.advance(by: .milliseconds(1))
        #expect(await drive(time) { recorder.finished("e1") })
        let events = recorder.events
        #expect(
            events == [
                .retrying(
                    target: target.masked, id: "e1", attempt: 1, reason: "HTTP 500 'oops'", delay: .milliseconds(30)),
                .retrying(
                    target: target.masked, id: "e1", attempt: 2, reason: "HTTP 500 'oops'", delay: .milliseconds(60)),
                .delivered(target: target.masked, id: "e1", attempts: 3),
            ])
        // On the manual clock each try comes exactly its wait after the previous one.
        let times = sink.times
        #expect(times.count == 3)
        if times.count == 3 {
            #expect(times[1] - times[0] == .milliseconds(30))
            #expect(times[2] - times[1] == .milliseconds(60))
        }
        #expect(
            events.first?.description
                == "\(target.masked): attempt 1 for e1 failed (HTTP 500 'oops'); retrying in 30ms")
    }

    @Test("a target that is down is tried max-attempts times on the backoff schedule, then given up")
    func downTarget() async throws {
        let dead = try DeadPort()
        let target = try WebhookTarget(parsing: dead.url())
        let time = ManualTimeSource()
        let recorder = Recorder(time: time)
        let sender = WebhookSender(
            targets: [target], policy: fastPolicy(attempts: 4), engine: webhookEngine,
            time: time, report: recorder.report)
        let start = time.now
        sender.send(Array("{}".utf8), id: "e1")
        #expect(await drive(time) { recorder.finished("e1") })
        let elapsed = time.now - start
        let events = recorder.events
        let times = recorder.timed.map(\.at)
        #expect(events.count == 4)
        guard events.count == 4, case .gaveUp(_, "e1", 4, let reason) = events[3] else {
            Issue.record("expected three retries and a give-up, got \(events)")
            return
        }
        #expect(reason.hasPrefix("cannot connect: "))
        #expect(!reason.contains("/hook"))
        let delays = events.prefix(3).compactMap { event -> Duration? in
            if case .retrying(_, _, _, _, let delay) = event { return delay }
            return nil
        }
        #expect(delays == [.milliseconds(20), .milliseconds(40), .milliseconds(80)])
        // Each report comes exactly its wait after the previous one: 140 ms of waits in all.
        for (index, delay) in delays.enumerated() {
            #expect(times[index + 1] - times[index] == delay)
        }
        #expect(elapsed == .milliseconds(140))
        #expect(events[3].description.hasPrefix("\(target.masked): gave up on e1 after 4 attempts: cannot connect"))
    }

    @Test("a slow target is cut at the per-attempt timeout, counted as a timeout and retried")
    func slowTarget() async throws {
        // The attempt's limit is libcurl's, in real time; the backoff after it is on the manual clock.
        // The first answer is held until the test lets it go, long after the limit.
        let held = DispatchSemaphore(value: 0)
        let sink = try Sink { _, index in
            if index == 0 { _ = held.wait(timeout: .now() + 30) }
            return .text("ok")
        }
        defer { held.signal() }
        let time = ManualTimeSource()
        let recorder = Recorder(time: time)
        let target = try WebhookTarget(parsing: sink.url)
        let sender = WebhookSender(
            targets: [target], policy: fastPolicy(timeout: .seconds(2)),
            engine: webhookEngine, time: time, report: recorder.report)
        sender.send(Array("{}".utf8), id: "slow")
        #expect(await drive(time) { recorder.finished("slow") })
        let events = recorder.events
        #expect(events.count == 2)
        guard events.count == 2, case .retrying(_, "slow", 1, let reason, _) = events[0] else {
            Issue.record("expected a retry then a delivery, got \(events)")
            return
        }
        // Cut by the engine at 2 s, while the handler still held the answer.
        #expect(reason.hasPrefix("timeout (max-time 2000 ms): Operation timed out after "))
        #expect(events[1] == .delivered(target: target.masked, id: "slow", attempts: 2))
        #expect(sink.requests.count == 2)
    }

    @Test("a 400 is given up after one attempt, with the answer quoted")
    func clientErrorGivesUp() async throws {
        let sink = try Sink { _, _ in .text("invalid_payload", status: 400) }
        let recorder = Recorder()
        let target = try WebhookTarget(parsing: sink.url)
        let sender = WebhookSender(
            targets: [target], policy: fastPolicy(), engine: webhookEngine, report: recorder.report)
        sender.send(Array("{}".utf8), id: "e1")
        #expect(await recorder.wait { _ in recorder.finished("e1") })
        guard case .gaveUp(_, "e1", 1, let reason) = try #require(recorder.events.first) else {
            Issue.record("expected a give-up, got \(recorder.events)")
            return
        }
        #expect(reason.hasPrefix("HTTP 400 'invalid_payload'; retrying will not change this answer"))
        #expect(recorder.events.count == 1)
        #expect(sink.requests.count == 1)
        #expect(await pollUntil { sender.pending == 0 }, "the lane is freed just after the report")
    }

    @Test("429 waits at least Retry-After (capped by the maximum delay) before the next try")
    func retryAfter() async throws {
        let time = ManualTimeSource()
        let sink = try Sink(time: time) { _, index in
            index == 0
                ? .text("slow down", status: 429, headers: [HTTPField(name: "Retry-After", value: "1")]) : .text("ok")
        }
        let recorder = Recorder(time: time)
        let target = try WebhookTarget(parsing: sink.url)
        let policy = RetryPolicy(
            firstDelay: .milliseconds(10), maxDelay: .milliseconds(80), maxAttempts: 3,
            attemptTimeout: .seconds(5))
        let sender = WebhookSender(
            targets: [target], policy: policy, engine: webhookEngine, time: time,
            report: recorder.report)
        sender.send(Array("{}".utf8), id: "e1")
        #expect(await drive(time) { recorder.finished("e1") })
        #expect(
            recorder.events == [
                .retrying(
                    target: target.masked, id: "e1", attempt: 1, reason: "HTTP 429 'slow down'",
                    delay: .milliseconds(80)),
                .delivered(target: target.masked, id: "e1", attempts: 2),
            ])
        let times = sink.times
        #expect(times.count == 2 && times.last.map { $0 - times[0] } == .milliseconds(80))
    }

    // MARK: The queue

    @Test("send returns at once while the target hangs")
    func sendNeverWaits() async throws {
        let sink = try Sink { _, _ in .noResponse }
        let recorder = Recorder()
        let sender = WebhookSender(
            targets: [try WebhookTarget(parsing: sink.url)],
            policy: fastPolicy(timeout: .seconds(30)), engine: webhookEngine,
            time: ManualTimeSource(), report: recorder.report)
        sender.send(Array("{}".utf8), id: "first")
        #expect(await pollUntil { sink.requests.count == 1 })
        // The first event hangs in delivery for 30 s: a send that waited for the lane would not
        // return before that, nor leave all 50 queued behind it.
        let sent = try await offPool { () -> Int in
            for n in 0..<50 { sender.send(Array("{\"n\":\(n)}".utf8), id: "e\(n)") }
            return sender.pending
        }
        #expect(sent == 51)
        #expect(sink.requests.count == 1)
        #expect(recorder.events.isEmpty)
    }

    @Test("events reach a target in the order sent, even when one of them needs a retry")
    func orderPerTarget() async throws {
        let failedOnce = Mutex(false)
        let sink = try Sink { request, _ in
            if String(decoding: request.body, as: UTF8.self) == "e3",
                failedOnce.withLock({ f in
                    defer { f = true }
                    return !f
                })
            {
                return .text("busy", status: 503)
            }
            return .text("ok")
        }
        let time = ManualTimeSource()
        let recorder = Recorder(time: time)
        let sender = WebhookSender(
            targets: [try WebhookTarget(parsing: sink.url)], policy: fastPolicy(),
            engine: webhookEngine, time: time, report: recorder.report)
        let ids = (0..<12).map { "e\($0)" }
        for id in ids { sender.send(Array(id.utf8), id: id) }
        #expect(await drive(time) { ids.allSatisfy { recorder.finished($0) } })
        #expect(sink.bodies == ["e0", "e1", "e2", "e3", "e3"] + ids.dropFirst(4))
        let delivered = recorder.events.compactMap { event -> String? in
            if case .delivered(_, let id, _) = event { return id }
            return nil
        }
        #expect(delivered == ids)
    }

    @Test("a dead target does not delay a healthy one")
    func targetsAreIndependent() async throws {
        let sink = try Sink()
        let deadPort = try DeadPort()
        let dead = try WebhookTarget(parsing: deadPort.url())
        let healthy = try WebhookTarget(parsing: sink.url)
        let time = ManualTimeSource()
        let recorder = Recorder(time: time)
        // The dead target waits 1 s on the manual clock before its second try: time never moves
        // here, so it is still waiting when the healthy target has both events.
        let sender = WebhookSender(
            targets: [dead, healthy], policy: fastPolicy(attempts: 4, first: .seconds(1)),
            engine: webhookEngine, time: time, report: recorder.report)
        sender.send(Array("one".utf8), id: "one")
        sender.send(Array("two".utf8), id: "two")
        #expect(await recorder.wait { _ in recorder.finished("two", at: healthy.masked) })
        try await time.waitForSleepers(1)
        #expect(sink.bodies == ["one", "two"])
        #expect(!recorder.finished("one", at: dead.masked))
        #expect(
            recorder.events.contains { if case .retrying(dead.masked, "one", _, _, _) = $0 { true } else { false } })
        #expect(await pollUntil { sender.pending == 2 }, "the dead target still holds both")
    }

    @Test("a full queue drops the oldest waiting event and reports it")
    func queueBound() async throws {
        let sink = try Sink { _, _ in .noResponse }
        let recorder = Recorder()
        let target = try WebhookTarget(parsing: sink.url)
        let sender = WebhookSender(
            targets: [target], policy: fastPolicy(timeout: .seconds(30)), queueLimit: 2,
            engine: webhookEngine, report: recorder.report)
        sender.send(Array("{}".utf8), id: "e0")
        #expect(await pollUntil { sink.requests.count == 1 })  // e0 is in delivery, not waiting
        for id in ["e1", "e2", "e3", "e4"] { sender.send(Array("{}".utf8), id: id) }
        #expect(
            recorder.events == [.dropped(target: target.masked, id: "e1"), .dropped(target: target.masked, id: "e2")])
        #expect(sender.dropped == 2)
        #expect(sender.pending == 3)
        #expect(
            recorder.events.first?.description.hasPrefix("\(target.masked): dropped e1: too many events waiting")
                == true)
    }

    @Test("flush returns 0 once everything is delivered, and the number pending when time runs out")
    func flush() async throws {
        // On a manual clock that never moves the limit cannot pass: flush returns because all five
        // were delivered (one attempt each, so a failure gives up instead of waiting on the clock).
        let sink = try Sink()
        let recorder = Recorder()
        let good = WebhookSender(
            targets: [try WebhookTarget(parsing: sink.url)], policy: fastPolicy(attempts: 1),
            engine: webhookEngine, time: ManualTimeSource(), report: recorder.report)
        for n in 0..<5 { good.send(Array("{}".utf8), id: "e\(n)") }
        #expect(await good.flush(timeout: .seconds(10)) == 0)
        #expect(sink.requests.count == 5)
        #expect(await good.flush(timeout: .seconds(1)) == 0)

        // The time limit is on the manual clock: flush gives up when it has passed, not before.
        let hanging = try Sink { _, _ in .noResponse }
        let time = ManualTimeSource()
        let stuck = WebhookSender(
            targets: [try WebhookTarget(parsing: hanging.url)],
            policy: fastPolicy(timeout: .seconds(30)), engine: webhookEngine, time: time,
            report: { _ in })
        stuck.send(Array("{}".utf8), id: "a")
        stuck.send(Array("{}".utf8), id: "b")
        let flushing = Task { await stuck.flush(timeout: .milliseconds(150)) }
        try await time.waitForSleepers(1)
        time.advance(by: .milliseconds(149))
        #expect(time.sleepers == 1, "flush gave up early")
        time.advance(by: .milliseconds(1))
        #expect(await flushing.value == 2)
    }

    @Test("no report shows the password or the secret path, even when the target echoes its URL")
    func reportsStayMasked() async throws {
        let sink = try Sink { request, index in
            index == 0
                ? .text("no route for \(request.target)", status: 503) : .text("bad \(request.target)", status: 404)
        }
        let withSecret = sink.url.replacingOccurrences(of: "http://", with: "http://user:pa55@") + "?x=1"
        let deadPort = try DeadPort()
        let dead = deadPort.url("/services/T0/B0/secret?x=1").replacingOccurrences(
            of: "http://", with: "http://user:pa55@")
        let targets = [try WebhookTarget(parsing: withSecret), try WebhookTarget(parsing: dead)]
        let time = ManualTimeSource()
        let recorder = Recorder(time: time)
        let sender = WebhookSender(
            targets: targets, policy: fastPolicy(attempts: 2), engine: webhookEngine,
            time: time, report: recorder.report)
        sender.send(Array("{}".utf8), id: "e1")
        #expect(await drive(time) { targets.allSatisfy { recorder.finished("e1", at: $0.masked) } })
        // The credentials went out as Basic auth.
        #expect(sink.requests.first?.header("Authorization") == "Basic " + Data("user:pa55".utf8).base64EncodedString())
        let events = recorder.events
        #expect(events.count == 4)
        for event in events {
            let texts = [event.description, String(reflecting: event)] + event.fields.map(\.1)
            for text in texts {
                #expect(!text.contains("pa55"), "\(text)")
                #expect(!text.contains("secret"), "\(text)")
            }
        }
    }

    @Test("a flood of drops gives one log line, then one summary a minute per target, and the rest at shutdown")
    func dropsAreSummarised() {
        let console = CapturingConsole()
        let log = WebhookLog(log: EventLog(format: .text, console: console))
        let t0: Int64 = 1_000_000
        for k in 0..<1_000 {
            log.write(.dropped(target: "https://a.example/…", id: "c\(k)|x|opened"), nowMs: t0 + Int64(k) * 10)
        }
        log.write(.dropped(target: "https://b.example/…", id: "other"), nowMs: t0)
        log.write(
            .retrying(
                target: "https://a.example/…", id: "c1|x|opened", attempt: 1, reason: "HTTP 503", delay: .seconds(1)),
            nowMs: t0)
        var lines = console.stderr.split(separator: "\n")
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.filter { $0.contains("a.example") && $0.contains("dropped c0|x|opened") }.count == 1)
        #expect(lines.contains { $0.contains("b.example") && $0.contains("dropped other") })
        // 999 more drops of a.example were counted; a minute after the first line, the next drop sums them up.
        log.write(.dropped(target: "https://a.example/…", id: "late"), nowMs: t0 + WebhookLog.dropSummaryMs)
        lines = console.stderr.split(separator: "\n")
        #expect(
            lines.last?.contains("https://a.example/…: dropped 1000 events in the last minute") == true,
            "\(lines.last ?? "")")
        log.write(.dropped(target: "https://a.example/…", id: "later"), nowMs: t0 + WebhookLog.dropSummaryMs + 1)
        log.flush()
        lines = console.stderr.split(separator: "\n")
        #expect(lines.last?.contains("https://a.example/…: dropped 1 more events") == true, "\(lines.last ?? "")")
        #expect(lines.count == 5)
    }

}
