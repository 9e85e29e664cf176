import Foundation
import Synchronization
import Testing

@testable import SondeServe
@testable import SondeSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Where the Debian package `prometheus` puts the Prometheus server.
let prometheusBinary = "/usr/bin/prometheus"

/// One location's target: a loopback server whose paths (`/one`, `/two`) answer 503 while they are
/// in `failing`, 200 otherwise.
private final class LocationTarget: Sendable {
    let server: HTTPServer
    private let failing: Box

    private final class Box: Sendable {
        let paths: Mutex<Set<String>>
        init(_ paths: Set<String>) { self.paths = Mutex(paths) }
    }

    init(failing paths: Set<String>) throws {
        let failing = Box(paths)
        server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            failing.paths.withLock { $0.contains(request.path) } ? .text("broken", status: 503) : .text("fine")
        }
        self.failing = failing
    }

    deinit { server.stop() }

    /// Makes `path` answer 200 from now on.
    func recover(_ path: String) { _ = failing.paths.withLock { $0.remove(path) } }
}

/// A Prometheus instant query's result: each series' labels and value.
private func instantQuery(_ prometheus: ServerProcess, _ query: String) async throws -> [([String: String], Double)] {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    let encoded = try #require(query.addingPercentEncoding(withAllowedCharacters: allowed))
    let body = try JSON.parse(Array(try await prometheus.get("/api/v1/query?query=" + encoded).utf8))
    guard case .list(let series)? = AlertReceiver.member(AlertReceiver.member(body, "data"), "result") else {
        return []
    }
    return series.compactMap { sample in
        guard case .object(let fields)? = AlertReceiver.member(sample, "metric"),
            case .list(let pair)? = AlertReceiver.member(sample, "value"), pair.count == 2,
            case .string(let text) = pair[1], let value = Double(text)
        else { return nil }
        var labels: [String: String] = [:]
        for (key, value) in fields { if case .string(let s) = value { labels[key] = s } }
        return (labels, value)
    }
}

/// The one value of a query that yields a single series, nil when it yields none.
private func scalar(_ prometheus: ServerProcess, _ query: String) async throws -> Double? {
    try await instantQuery(prometheus, query).first?.1
}

/// Three `sonde run` probers (locations a, b, c) started from contrib/systemd/sonde@.service, a real
/// Prometheus with contrib/fleet/prometheus.yml and the rules `sonde rules` writes (from
/// contrib/systemd/sonde-rules.service, so `--quorum 2`), a real Alertmanager with
/// contrib/fleet/alertmanager.yml, and a webhook receiver — everything on loopback, every child
/// stopped by its own pid (killed by a `defer` when the test fails halfway). The configs are those
/// docs/fleet.md shows (FleetDocTests pins that); only the placeholders it lists are replaced.
@Suite("Fleet: three probers, a real Prometheus and Alertmanager, a quorum of 2")
struct FleetIntegrationTests {
    static let componentsInstalled =
        FileManager.default.isExecutableFile(atPath: prometheusBinary)
        && FileManager.default.isExecutableFile(atPath: alertmanagerBinary)

    @Test(
        "a check down at 2 of 3 locations pages through Prometheus and Alertmanager, then resolves; one down at 1 of 3 does not page, while each prober's own alert reaches chat with its location"
    )
    func quorumOfTwo() async throws {
        try #require(
            Self.componentsInstalled,
            "\(prometheusBinary) or \(alertmanagerBinary) is missing: run make test-deps (Debian packages prometheus, prometheus-alertmanager)"
        )
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // `two` fails at a and b, `one` at a only; c sees both up.
        let failing: [String: Set<String>] = ["a": ["/one", "/two"], "b": ["/two"], "c": []]
        let locations = ["a", "b", "c"]
        var targets: [String: LocationTarget] = [:]
        for location in locations { targets[location] = try LocationTarget(failing: failing[location] ?? []) }
        let checks = folder.path + "/checks"
        for name in ["one", "two"] {
            try folder.write(
                "checks/\(name).hurl", "# @every 1s\n# @timeout 10s\nGET {{target}}/\(name)\nHTTP 200\n")
        }

        let receiver = try AlertReceiver()
        let alertmanager = try await startAlertmanager(receiver: receiver.baseURL, in: folder)
        defer { alertmanager.kill() }

        // The probers: the unit's ExecStart, with the test's folders, a kernel-chosen metrics port and
        // this Alertmanager; `--var target=` points each at its own location's server.
        var probers: [String: SondeProcess] = [:]
        defer { for prober in probers.values where prober.process.isRunning { prober.signal(SIGKILL) } }
        var metricsPorts: [String: UInt16] = [:]
        for location in locations {
            let words = try FleetConfig.execStart(FleetConfig.proberUnit, instance: location)
            let line = try FleetConfig.substitute(
                words.dropFirst().joined(separator: " "),
                [
                    ("/etc/sonde/checks", checks),
                    ("/var/lib/sonde/", folder.path + "/data-"),
                    ("0.0.0.0:9115", "127.0.0.1:0"),
                    ("http://alertmanager.example.net:9093", alertmanager.baseURL),
                ], in: FleetConfig.proberUnit)
            let target = try #require(targets[location]).server.baseURL
            let arguments = line.split(separator: " ").map(String.init) + ["--var", "target=\(target)"]
            let prober = try SondeProcess(arguments, in: folder.path, tag: "prober-\(location)")
            probers[location] = prober
            let start = try #require(try await prober.awaitLog("metrics on"), "prober \(location): \(prober.stderr)")
            let port: UInt16 = try #require(SondeProcess.metricsPort(in: start), "\(start)")
            metricsPorts[location] = port
        }

        // The rules: the sonde-rules unit's ExecStart.
        let rulesPath = folder.path + "/sonde-rules.yml"
        let rulesLine = try FleetConfig.substitute(
            try FleetConfig.execStart(FleetConfig.rulesUnit).dropFirst().joined(separator: " "),
            [("/etc/sonde/checks", checks), ("/etc/prometheus/sonde-rules.yml", rulesPath)],
            in: FleetConfig.rulesUnit)
        let rules = try await SondeProcess.run(
            rulesLine.split(separator: " ").map(String.init), in: folder.path, tag: "rules", timeout: .seconds(60))
        try #require(rules.outcome == .exited(0), "sonde rules: \(rules.err)")
        #expect(try String(contentsOfFile: rulesPath, encoding: .utf8).contains(">= bool 2"))

        // Prometheus, scraping and evaluating every second.
        var prometheusSubstitutions: [(from: String, to: String)] = [
            ("scrape_interval: 15s", "scrape_interval: 1s"),
            ("evaluation_interval: 15s", "evaluation_interval: 1s"),
            ("/etc/prometheus/sonde-rules.yml", rulesPath),
            ("alertmanager.example.net:9093", "127.0.0.1:\(alertmanager.port)"),
        ]
        for location in locations {
            let port = try #require(metricsPorts[location])
            prometheusSubstitutions.append(("prober-\(location).example.net:9115", "127.0.0.1:\(port)"))
        }
        let prometheusConfig = try folder.write(
            "prometheus.yml",
            try FleetConfig.substitute(
                try FleetConfig.text(FleetConfig.prometheus), prometheusSubstitutions, in: FleetConfig.prometheus))
        let prometheus = try await ServerProcess.start(
            "prometheus", binary: prometheusBinary, in: folder.path, ready: "/-/ready"
        ) { port in
            [
                "--config.file=\(prometheusConfig)", "--storage.tsdb.path=\(folder.path)/prom-data",
                "--web.listen-address=127.0.0.1:\(port)",
            ]
        }
        defer { prometheus.kill() }
        func diagnostics() async -> String {
            let alerts = (try? await prometheus.get("/api/v1/alerts")) ?? "(no answer)"
            let logs = probers.sorted { $0.key < $1.key }.map { "prober \($0.key):\n\($0.value.stderr)" }
            return "receiver:\n\(receiver.summary)\nPrometheus alerts: \(alerts)\n"
                + logs.joined(separator: "\n")
                + "\nAlertmanager:\n\(alertmanager.log.suffix(3000))\nPrometheus:\n\(prometheus.log.suffix(3000))"
        }

        // 2 of 3 down: the fleet's SondeCheckDown, with no location, pages.
        let fleetTwo = ["alertname": "SondeCheckDown", "check": "two", "severity": "page"]
        let paged = await pollUntil(timeout: .seconds(90)) {
            receiver.received(path: "/pager", status: "firing", labels: fleetTwo, exactly: true)
        }
        let whyNotPaged = paged ? "" : await diagnostics()
        try #require(paged, "no fleet SondeCheckDown for 'two' at the pager: \(whyNotPaged)")
        let page = try #require(
            receiver.notifications.first { $0.path == "/pager" && $0.alertLabels.contains(fleetTwo) })
        guard case .list(let pageAlerts)? = AlertReceiver.member(page.body, "alerts") else {
            Issue.record("the notification has no alerts: \(page.body)")
            return
        }
        #expect(
            pageAlerts.contains {
                AlertReceiver.string(AlertReceiver.member($0, "annotations"), "summary") == "two is down at a, b"
            }, "\(page.body)")

        // 1 of 3 down: each prober posts its own verdict, with its location, and it goes to chat.
        let ownOne = ["alertname": "SondeCheckDown", "check": "one", "location": "a", "severity": "page"]
        let chatted = await pollUntil(timeout: .seconds(60)) {
            receiver.received(path: "/chat", status: "firing", labels: ownOne, exactly: true)
        }
        let whyNotChatted = chatted ? "" : await diagnostics()
        #expect(chatted, "prober a's own alert for 'one' did not reach chat: \(whyNotChatted)")

        // The fleet never saw `one` down: over eight more evaluations after `two` paged (its `for:`
        // is three), location a reported it down at every sample while b and c reported it up, the
        // quorum record stayed 0, and no ALERTS series (pending or firing) ever existed for it.
        let evaluations = "count_over_time(sonde:check_down_quorum{check=\"one\"}[10m])"
        let before = try await scalar(prometheus, evaluations) ?? 0
        var now = before
        let deadline = ContinuousClock.now + .seconds(60)
        while now < before + 8 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            now = try await scalar(prometheus, evaluations) ?? 0
        }
        #expect(now >= before + 8, "Prometheus evaluated the rules of 'one' \(now - before) times in 60 s")
        #expect(
            try await scalar(prometheus, "max_over_time(sonde_check_up{check=\"one\",location=\"a\"}[10m])") == 0)
        let upElsewhere = try await instantQuery(
            prometheus, "min_over_time(sonde_check_up{check=\"one\",location=~\"b|c\"}[10m])")
        #expect(upElsewhere.count == 2 && upElsewhere.allSatisfy { $0.1 == 1 }, "\(upElsewhere)")
        #expect(try await scalar(prometheus, "max_over_time(sonde:check_down_quorum{check=\"one\"}[10m])") == 0)
        let alertsOfOne = try await instantQuery(prometheus, "count_over_time(ALERTS{check=\"one\"}[10m])")
        #expect(alertsOfOne.isEmpty, "\(alertsOfOne)")

        // Recovery: `two` answers again at a and b, and the page resolves.
        for location in ["a", "b"] { targets[location]?.recover("/two") }
        let resolved = await pollUntil(timeout: .seconds(90)) {
            receiver.received(path: "/pager", status: "resolved", labels: fleetTwo, exactly: true)
        }
        let whyNotResolved = resolved ? "" : await diagnostics()
        #expect(resolved, "the page for 'two' did not resolve: \(whyNotResolved)")
        #expect(
            !receiver.notifications.contains {
                $0.path == "/pager" && $0.alertLabels.contains { $0["check"] == "one" }
            },
            "'one', down at 1 of 3, paged: \(receiver.summary)")
        #expect(
            !receiver.notifications.contains {
                $0.path == "/pager" && $0.alertLabels.contains { $0["location"] != nil }
            },
            "one location's own alert paged: \(receiver.summary)")

        for prober in probers.values { prober.signal(SIGTERM) }
        for (location, prober) in probers {
            #expect(try await prober.finish(timeout: .seconds(30)) == .exited(0), "prober \(location)")
        }
        await prometheus.stop()
        await alertmanager.stop()
    }
}
