import Foundation
import Synchronization
import Testing

@testable import SondeAlerts
@testable import SondeDaemon
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeServe
@testable import SondeSupport

/// One engine (one libcurl thread) for the suite's senders.
private let alertEngine = ProbeEngine()

/// Small real-time retry delays; the per-attempt limit is generous for a busy machine.
private func quickPolicy(attempts: Int = 4) -> RetryPolicy {
    RetryPolicy(
        firstDelay: .milliseconds(20), factor: 2, maxDelay: .seconds(1), maxAttempts: attempts,
        attemptTimeout: .seconds(30))
}

/// A loopback stand-in for Alertmanager (or a webhook receiver): keeps every request, answers
/// with `answer(request, index)`.
private final class FakeAlertmanager: Sendable {
    let server: HTTPServer

    init(_ answer: @escaping @Sendable (HTTPRequest, Int) -> HTTPResponse = { _, _ in .text("") }) throws {
        let box = RequestBox()
        server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            answer(request, box.append(request))
        }
        self.box = box
    }

    private let box: RequestBox
    var requests: [HTTPRequest] { box.items }
    /// Each request's body parsed as JSON (nil when it is not JSON).
    var documents: [Value?] { requests.map { try? JSON.parse($0.body) } }

    deinit { server.stop() }
}

/// Requests received, apart from the server so its handler need not capture the owner.
private final class RequestBox: Sendable {
    private let list = Mutex<[HTTPRequest]>([])
    func append(_ request: HTTPRequest) -> Int {
        list.withLock {
            $0.append(request)
            return $0.count - 1
        }
    }
    var items: [HTTPRequest] { list.withLock { $0 } }
}

/// What a sender reports.
private final class Reports: Sendable {
    private let list = Mutex<[WebhookSender.Event]>([])
    var report: @Sendable (WebhookSender.Event) -> Void { { event in self.list.withLock { $0.append(event) } } }
    var events: [WebhookSender.Event] { list.withLock { $0 } }
}

/// `value` at `path` (object keys), as a string.
private func string(_ value: Value?, _ path: String...) -> String? {
    var current = value
    for key in path {
        guard case .object(let fields)? = current else { return nil }
        current = fields.first { $0.key == key }?.value
    }
    if case .string(let s)? = current { return s }
    return nil
}

/// The alerts of one posted body (a JSON array).
private func alerts(_ document: Value?) -> [Value] {
    if case .list(let items)? = document { return items }
    return []
}

private func openedEvent(check: String = "api", location: String = "a") -> IncidentEvent {
    IncidentEvent(
        timeMs: 1_767_225_660_000, kind: .opened, check: check, location: location,
        incident: "2026-01-01T0000Z-\(check)",
        fields: [
            ("started", .string("2026-01-01T00:00:00.000Z")),
            ("detected", .string("2026-01-01T00:01:00.000Z")),
            ("kind", .string("status")),
            ("msg", .string("expected 200, got 503")),
            ("failed_runs", .integer(3)),
        ])
}

@Suite("Alertmanager: alerts, posts, retries and URLs")
struct AlertmanagerTests {
    @Test("an open incident becomes SondeCheckDown with check, location, severity page and RFC 3339 times")
    func openedIncidentPayload() throws {
        let action = try #require(IncidentAlerts.action(for: openedEvent()))
        guard case .fire(let key, var alert) = action else {
            Issue.record("expected a fired alert, got \(action)")
            return
        }
        #expect(key == "SondeCheckDown|api")
        alert.endsAtMs = 1_767_225_900_000
        let body = try JSON.parse(AlertmanagerAlert.body([alert]))
        let first = try #require(alerts(body).first)
        #expect(string(first, "labels", "alertname") == "SondeCheckDown")
        #expect(string(first, "labels", "check") == "api")
        #expect(string(first, "labels", "location") == "a")
        #expect(string(first, "labels", "severity") == "page")
        #expect(string(first, "annotations", "error") == "expected 200, got 503")
        #expect(string(first, "annotations", "started") == "2026-01-01T00:00:00.000Z")
        #expect(string(first, "annotations", "detected") == "2026-01-01T00:01:00.000Z")
        #expect(string(first, "annotations", "writeup") == "reports/incidents/2026-01-01T0000Z-api.md")
        #expect(string(first, "annotations", "summary")?.contains("api is DOWN") == true)
        #expect(string(first, "startsAt") == "2026-01-01T00:00:00.000Z")
        #expect(string(first, "endsAt") == "2026-01-01T00:05:00.000Z")
    }

    @Test("a resolved incident ends SondeCheckDown at its resolution time")
    func resolvedIncident() {
        let event = IncidentEvent(
            timeMs: 1_767_225_720_000, kind: .resolved, check: "api", location: "a",
            incident: "x", fields: [("resolved", .string("2026-01-01T00:02:00.000Z"))])
        #expect(IncidentAlerts.action(for: event) == .resolve(key: "SondeCheckDown|api", atMs: 1_767_225_720_000))
    }

    @Test("burn alerts become SondeErrorBudgetBurn with severity ticket or page; flapping sends nothing")
    func burnAlertPayload() throws {
        for level in ["ticket", "page"] {
            let event = IncidentEvent(
                timeMs: 1_767_225_600_000, kind: .burnAlertStarted, check: "api", location: "b",
                fields: [("level", .string(level)), ("rules", .list([.string("1h and 5m burn > 14.4")]))])
            guard case .fire(let key, let alert)? = IncidentAlerts.action(for: event) else {
                Issue.record("no alert for a \(level) burn")
                continue
            }
            #expect(key == "SondeErrorBudgetBurn|api")
            #expect(
                alert.labels == [
                    "alertname": "SondeErrorBudgetBurn", "check": "api", "location": "b",
                    "severity": level,
                ])
            #expect(alert.annotations["rules"] == "1h and 5m burn > 14.4")
        }
        let ended = IncidentEvent(timeMs: 1_767_225_700_000, kind: .burnAlertEnded, check: "api", location: "b")
        #expect(IncidentAlerts.action(for: ended) == .resolve(key: "SondeErrorBudgetBurn|api", atMs: 1_767_225_700_000))
        let flapping = IncidentEvent(timeMs: 0, kind: .flappingStarted, check: "api", location: "b")
        #expect(IncidentAlerts.action(for: flapping) == nil)
    }

    @Test("a fired alert is posted at once, re-posted on the timer with endsAt moved ahead, and ended at resolution")
    func fireRepostResolve() async throws {
        let time = ManualTimeSource()
        let fake = try FakeAlertmanager()
        let target = try AlertmanagerTarget(parsing: fake.server.baseURL)
        let reports = Reports()
        let sender = AlertmanagerSender(
            targets: [target], policy: quickPolicy(), repeatInterval: .seconds(60),
            engine: alertEngine, time: time, report: reports.report)
        guard case .fire(let key, let alert)? = IncidentAlerts.action(for: openedEvent()) else {
            Issue.record("no alert")
            return
        }
        let start = time.wallMs
        sender.fire(alert, key: key, id: "api|x|opened")
        #expect(await pollUntil { fake.requests.count == 1 })
        #expect(fake.requests.first?.path == "/api/v2/alerts")
        #expect(fake.requests.first?.method == "POST")
        #expect(string(alerts(fake.documents.first ?? nil).first, "endsAt") == UTCTime.rfc3339(start + 240_000))

        try await time.waitForSleepers(1)  // the re-post timer
        time.advance(by: .seconds(60))
        #expect(await pollUntil { fake.requests.count == 2 })
        let repost = alerts(fake.documents.last ?? nil)
        #expect(repost.count == 1)
        #expect(string(repost.first, "labels", "alertname") == "SondeCheckDown")
        #expect(string(repost.first, "endsAt") == UTCTime.rfc3339(start + 60_000 + 240_000))

        sender.resolve(key: key, atMs: start + 61_000, id: "api|x|resolved")
        #expect(await pollUntil { fake.requests.count == 3 })
        #expect(string(alerts(fake.documents.last ?? nil).first, "endsAt") == UTCTime.rfc3339(start + 61_000))
        #expect(sender.active.isEmpty)
        #expect(await sender.flush(timeout: .seconds(60)) == 0)
        // The re-post's delivery is routine and not reported; the first post and the resolution are.
        let delivered = reports.events.compactMap { event -> String? in
            if case .delivered(_, let id, _) = event { return id } else { return nil }
        }
        #expect(delivered == ["api|x|opened", "api|x|resolved"])
    }

    @Test("an Alertmanager answering 400 gets each post once and the give-up is logged once with its answer")
    func badRequestGivesUpOnce() async throws {
        let fake = try FakeAlertmanager { _, _ in
            .text("{\"code\":400,\"message\":\"start time must be before end time\"}", status: 400)
        }
        let target = try AlertmanagerTarget(parsing: fake.server.baseURL)
        let reports = Reports()
        let sender = AlertmanagerSender(
            targets: [target], policy: quickPolicy(), engine: alertEngine,
            report: reports.report)
        guard case .fire(let key, let alert)? = IncidentAlerts.action(for: openedEvent()) else {
            Issue.record("no alert")
            return
        }
        sender.fire(alert, key: key, id: "api|x|opened")
        sender.repostNow()
        sender.repostNow()
        #expect(await sender.flush(timeout: .seconds(60)) == 0)
        #expect(fake.requests.count == 3, "one attempt per post, no retries")
        let gaveUp = reports.events.compactMap { event -> String? in
            if case .gaveUp(_, _, let attempts, let reason) = event, attempts == 1 { return reason } else { return nil }
        }
        #expect(gaveUp.count == 1, "\(reports.events)")
        #expect(gaveUp.first?.contains("HTTP 400") == true)
        #expect(gaveUp.first?.contains("start time must be before end time") == true)
        #expect(!reports.events.contains { if case .retrying = $0 { return true } else { return false } })
    }

    @Test("an Alertmanager answering 503 is retried with backoff until it takes the alert")
    func serverErrorIsRetried() async throws {
        let fake = try FakeAlertmanager { _, index in index < 2 ? .text("overloaded", status: 503) : .text("") }
        let target = try AlertmanagerTarget(parsing: fake.server.baseURL)
        let reports = Reports()
        let sender = AlertmanagerSender(
            targets: [target], policy: quickPolicy(), engine: alertEngine,
            report: reports.report)
        guard case .fire(let key, let alert)? = IncidentAlerts.action(for: openedEvent()) else {
            Issue.record("no alert")
            return
        }
        sender.fire(alert, key: key, id: "api|x|opened")
        #expect(await sender.flush(timeout: .seconds(60)) == 0)
        #expect(fake.requests.count == 3)
        let retries = reports.events.filter { if case .retrying = $0 { return true } else { return false } }
        #expect(retries.count == 2)
        #expect(reports.events.last == .delivered(target: target.endpoint.masked, id: "api|x|opened", attempts: 3))
    }

    @Test("a refused connection is retried, and the credentials in the URL never reach a report")
    func refusedConnectionRetriedAndMasked() async throws {
        let refused = try RefusedPort()
        let port = refused.port
        let target = try AlertmanagerTarget(parsing: "http://sonde:hunter22@127.0.0.1:\(port)")
        #expect(target.masked == "http://127.0.0.1:\(port)")
        let reports = Reports()
        let sender = AlertmanagerSender(
            targets: [target], policy: quickPolicy(attempts: 3), engine: alertEngine,
            report: reports.report)
        guard case .fire(let key, let alert)? = IncidentAlerts.action(for: openedEvent()) else {
            Issue.record("no alert")
            return
        }
        sender.fire(alert, key: key, id: "api|x|opened")
        #expect(await sender.flush(timeout: .seconds(60)) == 0)
        let events = reports.events
        #expect(events.filter { if case .retrying = $0 { return true } else { return false } }.count == 2)
        #expect(events.contains { if case .gaveUp(_, _, 3, _) = $0 { return true } else { return false } })
        for event in events {
            let text = event.description + event.fields.map(\.1).joined()
            #expect(!text.contains("hunter22"), "\(text)")
        }
        withExtendedLifetime(refused) {}
    }

    @Test(
        "Alertmanager URLs: http(s) base URLs post to /api/v2/alerts; other schemes, no host or a query are refused in one line"
    )
    func urlValidation() throws {
        let plain = try AlertmanagerTarget(parsing: "http://127.0.0.1:9093")
        #expect(plain.endpoint.url == "http://127.0.0.1:9093/api/v2/alerts")
        #expect(plain.masked == "http://127.0.0.1:9093")
        let prefixed = try AlertmanagerTarget(parsing: "https://am.example.com/alertmanager/")
        #expect(prefixed.endpoint.url == "https://am.example.com/alertmanager/api/v2/alerts")
        let full = try AlertmanagerTarget(parsing: "http://am:9093/api/v2/alerts")
        #expect(full.endpoint.url == "http://am:9093/api/v2/alerts")
        let list = try AlertmanagerTarget.fromEnvironment([
            "SONDE_ALERTMANAGER": "http://a:9093, http://b:9093 http://c:9093"
        ])
        #expect(list.map(\.masked) == ["http://a:9093", "http://b:9093", "http://c:9093"])

        let refused: [(String, String)] = [
            ("ftp://user:secret@am:9093", "only http and https URLs are supported"),
            ("am:9093", "not a URL"),
            ("http:///x", "no host"),
            ("http://am:99999", "http://am"),
            ("http://am:9093/?token=secret", "without a query"),
            ("", "empty URL"),
        ]
        for (text, expected) in refused {
            do {
                _ = try AlertmanagerTarget(parsing: text)
                Issue.record("'\(text)' was accepted")
            } catch {
                #expect(error.description.contains(expected), "'\(text)': \(error)")
                #expect(error.description.hasPrefix("--alertmanager"), "\(error)")
                #expect(!error.description.contains("secret"), "\(error)")
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test("sonde run refuses an Alertmanager URL that is not http(s) with one line and exit code 1")
    func runRefusesBadURL() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("checks/a.hurl", "GET http://127.0.0.1:9/\nHTTP 200\n")
        let daemon = try DaemonTests.Daemon(["--alertmanager", "ftp://user:s3cret@am:9093"], in: folder, tag: "bad")
        #expect(try await daemon.wait() == 1)
        let lines = daemon.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(daemon.stderr)")
        #expect(daemon.stderr.contains("--alertmanager 'ftp://am:9093': only http and https URLs are supported"))
        #expect(!daemon.stderr.contains("s3cret"))
    }
}
