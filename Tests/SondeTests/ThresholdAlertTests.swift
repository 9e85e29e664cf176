import Foundation
import Synchronization
import Testing

@testable import SondeAlerts
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeRun
@testable import SondeScript
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

@Suite("Threshold alerts: evaluation over the window, live events, and the same episodes offline")
struct ThresholdAlertTests {
    static func rules(_ directives: String) throws -> [ThresholdRule] {
        try ScriptParser.parse(source: directives + "\nGET http://x/\nHTTP 200\n", path: "t.hurl").settings.alerts
    }

    static func run(_ s: Int64, ms: Double, ok: Bool = true, ttfb: Double = 0) -> ThresholdEvaluator.Run {
        ThresholdEvaluator.Run(timeMs: s * 1000, durationMs: ms, ttfbMs: ttfb, ok: ok)
    }

    @Test("p95 starts at the first run its window crosses the threshold and ends at the first it no longer does")
    func p95StartsAndEnds() throws {
        var evaluator = ThresholdEvaluator(
            check: "api", location: "a", rules: try Self.rules("# @every 10s\n# @alert p95 > 2s for 30s critical"))
        var out: [ThresholdEvaluator.Transition] = []
        for (s, ms) in [(0, 100.0), (10, 120), (20, 110), (30, 2500), (40, 150), (50, 140), (60, 130), (70, 120)] {
            out += evaluator.observe(Self.run(Int64(s), ms: ms))
        }
        #expect(out.count == 2)
        guard case .started(let rule, let at, let value, let runs) = out.first else {
            Issue.record("no start: \(out)")
            return
        }
        #expect(rule.text == "p95 > 2s for 30s critical" && at == 30_000 && value == 2500 && runs == 3)
        // (30 s, 60 s] no longer holds the slow run of 30 s.
        guard case .ended(_, let endAt, let endValue, _, let startedMs, let peak) = out.last else {
            Issue.record("no end: \(out)")
            return
        }
        #expect(endAt == 60_000 && endValue == 150 && startedMs == 30_000 && peak == 2500)
        #expect(evaluator.firing.isEmpty)
    }

    @Test("with fewer than 3 runs in the window nothing starts, and a firing latency rule does not end on failed runs")
    func insufficientData() throws {
        var evaluator = ThresholdEvaluator(
            check: "api", location: "a",
            rules: try Self.rules("# @every 10s\n# @alert p95 > 1s for 30s\n# @alert error-rate > 50% for 30s"))
        // Two slow runs: too few to start anything.
        #expect(evaluator.observe(Self.run(0, ms: 5000)).isEmpty)
        #expect(evaluator.observe(Self.run(10, ms: 5000)).isEmpty)
        let third = evaluator.observe(Self.run(20, ms: 5000))
        #expect(third.count == 1, "the third run gives the window enough runs: \(third)")
        // Then every run fails: the latency rule has no passed runs to measure and stays on; the error
        // rate starts once two of the three runs failed.
        #expect(evaluator.observe(Self.run(30, ms: 10, ok: false)).isEmpty)
        let failing = evaluator.observe(Self.run(40, ms: 10, ok: false))
        guard case .started(let rule, _, let value, _)? = failing.first, failing.count == 1 else {
            Issue.record("\(failing)")
            return
        }
        #expect(rule.metric == .errorRate && abs(value - 200.0 / 3) < 1e-9)
        #expect(evaluator.observe(Self.run(50, ms: 10, ok: false)).isEmpty)
        #expect(evaluator.firing.keys.sorted() == ["error-rate > 50% for 30s", "p95 > 1s for 30s"])
    }

    @Test("failures per minute scale the window's count; ttfb-p95 reads time to first byte; mean averages")
    func otherMetrics() throws {
        let rules = try Self.rules(
            "# @every 1s\n# @alert failures > 10/1m for 30s\n# @alert ttfb-p95 > 500ms for 10s\n# @alert mean >= 300ms for 10s"
        )
        var window: [ThresholdEvaluator.Run] = []
        for s in 0..<30 { window.append(Self.run(Int64(s), ms: 300, ok: s % 5 != 0, ttfb: s >= 25 ? 800 : 100)) }
        let failures = try #require(ThresholdEvaluator.value(rules[0], runs: window[...], at: 29_000))
        // 6 of 30 runs failed over 30 s: 12 a minute.
        #expect(failures.0 == 12 && failures.1 == 30)
        let ttfb = try #require(ThresholdEvaluator.value(rules[1], runs: window[...], at: 29_000))
        // (19 s, 29 s]: 10 runs, 8 passed; 4 of them (25…29 but 25) at 800 ms: nearest rank 8 of 8.
        #expect(ttfb.0 == 800 && ttfb.1 == 8)
        let mean = try #require(ThresholdEvaluator.value(rules[2], runs: window[...], at: 29_000))
        #expect(mean.0 == 300 && rules[2].comparison.holds(mean.0, rules[2].threshold))
    }

    @Test("the ring keeps only the runs the longest window reaches")
    func ringIsBounded() throws {
        var evaluator = ThresholdEvaluator(
            check: "api", location: "a", rules: try Self.rules("# @every 1s\n# @alert p95 > 2s for 10s"))
        for s in 0..<1000 { _ = evaluator.observe(Self.run(Int64(s), ms: 100)) }
        #expect(evaluator.runs.count == 10)
        #expect(evaluator.runs.first?.timeMs == 990_000)
    }

    @Test("Alertmanager hears SondeThreshold with check, rule, severity and location; the end resolves it")
    func alertmanagerLabels() throws {
        let rule = try #require(try Self.rules("# @alert p95 > 2s for 5m critical").first)
        let started = IncidentEvent.threshold(
            .started(rule: rule, timeMs: 1_767_225_600_000, value: 2310, runs: 5), check: "api", location: "lab")
        guard case .fire(let key, let alert)? = IncidentAlerts.action(for: started) else {
            Issue.record("no alert")
            return
        }
        #expect(alert.labels["alertname"] == "SondeThreshold")
        #expect(alert.labels["check"] == "api" && alert.labels["location"] == "lab")
        #expect(alert.labels["rule"] == "p95 > 2s for 5m critical" && alert.labels["severity"] == "critical")
        #expect(alert.annotations["value_text"] == "2.31 s")
        let ended = IncidentEvent.threshold(
            .ended(
                rule: rule, timeMs: 1_767_225_900_000, value: 900, runs: 5, startedMs: 1_767_225_600_000, peak: 2310),
            check: "api", location: "lab")
        #expect(IncidentAlerts.action(for: ended) == .resolve(key: key, atMs: 1_767_225_900_000))
        #expect(IncidentNotification.text(started).contains("critical alert p95 > 2s for 5m critical — p95 is 2.31 s"))
    }

    // MARK: Live

    /// What the target does: answer fast, answer slowly, or fail.
    enum Mode: Sendable { case fast, slow, failing }

    /// The target's mode and what the webhook sink received.
    final class Shared: Sendable {
        let mode = Mutex(Mode.fast)
        let received = Mutex<[String]>([])
    }

    final class Fixture: Sendable {
        let shared = Shared()
        let service: HTTPServer
        let sink: HTTPServer
        let folder: TemporaryFolder
        static let source = """
            # @every 2s
            # @down-after 5
            # @alert p95 > 2s for 6s critical
            # @alert error-rate > 40% for 6s

            """

        init() throws {
            let shared = self.shared
            service = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
                switch shared.mode.withLock({ $0 }) {
                case .fast: return .json(#"{"status": "UP"}"#)
                case .slow:
                    // The slowness under test, on the test server's own connection thread.
                    Thread.sleep(forTimeInterval: 2.5)
                    return .json(#"{"status": "UP"}"#)
                case .failing: return .json(#"{"status": "DOWN"}"#, status: 503)
                }
            }
            sink = try HTTPServer(host: "127.0.0.1", port: 0) { request in
                shared.received.withLock { $0.append(String(decoding: request.body, as: UTF8.self)) }
                return .text("ok")
            }
            folder = try TemporaryFolder()
        }

        deinit {
            service.stop()
            sink.stop()
            folder.cleanup()
        }

        func script() throws -> CheckScript {
            try ScriptParser.parse(source: Self.source + "GET \(service.baseURL)/health\nHTTP 200\n", path: "svc.hurl")
        }

        func prober(engine: ProbeEngine, time: ManualTimeSource, console: CapturingConsole) throws -> (
            Prober, WebhookSender
        ) {
            let writer = try RecordWriter(
                folder: DataFolder(folder.path + "/data"), now: { time.wallMs }, report: { _ in })
            let box = Mutex<IncidentMonitor?>(nil)
            let sender = WebhookSender(
                targets: [try WebhookTarget(parsing: sink.baseURL + "/hook")],
                policy: RetryPolicy(firstDelay: .milliseconds(20), maxAttempts: 3, attemptTimeout: .seconds(30)),
                engine: engine, time: time
            ) { event in
                if case .delivered(let target, let id, _) = event {
                    box.withLock { $0 }?.delivered(id: id, target: target)
                }
            }
            var set = CheckSet()
            set.scripts["svc"] = try script()
            var configuration = Prober.Configuration(
                checksFolder: folder.path, location: "lab", variables: Variables())
            // Only the scheduler's timer sleeps on the manual clock: no heartbeat.
            configuration.heartbeat = nil
            let prober = Prober(
                configuration: configuration,
                checks: set, writer: writer, log: EventLog(format: .text, console: console), webhooks: sender,
                time: time)
            box.withLock { $0 = prober.incidents }
            return (prober, sender)
        }

        func fileEvents() -> [IncidentEvent] {
            var skipped = 0
            return IncidentEvent.readAll(DataFolder(folder.path + "/data").incidentsFile, skipped: &skipped)
                .filter { $0.kind == .alertStarted || $0.kind == .alertEnded }
        }
    }

    @Test("a target that turns slow then fails: alert_started and alert_ended live, and sonde incidents finds the same")
    func liveMatchesReplay() async throws {
        let fixture = try Fixture()
        let engine = ProbeEngine()
        let time = ManualTimeSource()
        let console = CapturingConsole()
        let (prober, sender) = try fixture.prober(engine: engine, time: time, console: console)
        prober.start()
        var times: [Int64] = []
        let plan: [Mode] = [.fast, .fast, .fast, .slow, .fast, .fast, .fast, .failing, .failing, .fast, .fast, .fast]
        for mode in plan {
            fixture.shared.mode.withLock { $0 = mode }
            times.append(try await LiveIncidentTests.tick(prober, time))
        }
        #expect(await pollUntil { fixture.shared.received.withLock { $0 }.count >= 4 })
        try await LiveIncidentTests.stop(prober, sender)

        // p95 over (t − 6 s, t] crossed at the slow run (4th) and cleared when it left the window (7th);
        // the error rate held from the second failure (9th: 2 of 3) to the 11th.
        let events = fixture.fileEvents()
        let summary = events.map { "\($0.kind.rawValue) \($0.ruleText ?? "") @\($0.timeMs)" }
        #expect(
            summary == [
                "alert_started p95 > 2s for 6s critical @\(times[3])",
                "alert_ended p95 > 2s for 6s critical @\(times[6])",
                "alert_started error-rate > 40% for 6s @\(times[8])",
                "alert_ended error-rate > 40% for 6s @\(times[10])",
            ], "\(summary)")
        if case .float(let value)? = events.first?["value"] { #expect(value >= 2500) } else { Issue.record("no value") }
        #expect(events[2]["value_text"] == .string("66.67%"))
        #expect(events[2]["severity"] == .string("warning") && events[0]["severity"] == .string("critical"))

        // Webhooks and log lines carry the rule as written.
        let hooks = fixture.shared.received.withLock { $0 }
        #expect(hooks.filter { $0.contains(#""event":"alert_started""#) }.count == 2)
        #expect(hooks.filter { $0.contains(#""event":"alert_ended""#) }.count == 2)
        #expect(hooks.contains { $0.contains(#""rule":"p95 > 2s for 6s critical""#) })
        #expect(console.all.contains("critical alert p95 > 2s for 6s critical"), "\(console.all)")

        // The offline replay of the same files finds the same episodes at the same runs.
        let found = IncidentFinder.find(
            readers: [RunReader(folder: DataFolder(fixture.folder.path + "/data"))],
            settings: ["svc": try fixture.script().settings], nowMs: time.wallMs)
        let episodes = found.episodes.map { "\($0.rule.text) \($0.startedMs)-\($0.endedMs ?? 0)" }
        #expect(
            episodes == [
                "p95 > 2s for 6s critical \(times[3])-\(times[6])",
                "error-rate > 40% for 6s \(times[8])-\(times[10])",
            ], "\(episodes)")
        let index = IncidentWriteUp(
            incidents: found.incidents, nowMs: time.wallMs, folders: ["data"], episodes: found.episodes
        ).index()
        #expect(index.contains("## Threshold alerts") && index.contains("p95 &gt; 2s for 6s critical"), "\(index)")

        // sonde report shows each rule's episodes: a table on the check page, and in --json.
        let now = Date(timeIntervalSince1970: Double(time.wallMs) / 1000)
        let data = fixture.folder.path + "/data"
        let settings = ["svc": try fixture.script().settings]
        let printed = CapturingConsole()
        #expect(ReportCommand(data: [data], json: true, settings: settings).run(console: printed, now: now) == 0)
        let json = try JSON.parse(Array(printed.stdout.utf8))
        guard case .object(let top) = json, case .list(let checks)? = top.first(where: { $0.key == "checks" })?.value,
            case .object(let svc)? = checks.first,
            case .list(let rules)? = svc.first(where: { $0.key == "threshold_alerts" })?.value
        else {
            Issue.record("no threshold_alerts in \(printed.stdout)")
            return
        }
        #expect(rules.count == 2)
        let text = JSON.encode(.list(rules))
        #expect(
            text.contains(#""started":"\#(UTCTime.rfc3339(times[3]))","ended":"\#(UTCTime.rfc3339(times[6]))""#),
            "\(text)")
        #expect(text.contains(#""alert_ms":4000"#), "\(text)")
        let out = fixture.folder.path + "/reports"
        #expect(
            ReportCommand(data: [data], out: out, settings: settings).run(console: CapturingConsole(), now: now) == 0)
        let page = try String(contentsOfFile: out + "/checks/svc.md", encoding: .utf8)
        #expect(
            page.contains("## Threshold alerts")
                && page.contains("| p95 &gt; 2s for 6s critical | critical | 1 | no | 6 s |"), "\(page)")
    }
}
