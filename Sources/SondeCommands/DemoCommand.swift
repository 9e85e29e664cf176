import Foundation
import SondeAlerts
import SondeDaemon
import SondeDemoShop
import SondeIncidents
import SondeProbe
import SondeRender
import SondeRun
import SondeSLO
import SondeScript
import SondeServe
import SondeStore
import SondeSupport
import Synchronization

/// `sonde demo`: the whole path on one machine with no network. The sample shop runs on loopback
/// with a real fault — a connection leak in `/search` that exhausts its pool until it "restarts" —
/// the example checks probe it every second, and the report and incident write-ups land in
/// `reports/`. `--once` runs the checks once against a healthy shop; `--serve` only serves the shop.
struct DemoCommand: Sendable {
    /// Folder of example checks (they use `{{base_url}}` and `{{password}}`).
    var checks: String = "checks"
    /// Where the report and the write-ups go.
    var out: String = "reports"
    /// How long the checks run against the faulty shop.
    var seconds: Int = 45
    /// Data folder; by default `data/demo`, emptied first (it belongs to the demo).
    var data: String?
    /// `--verbose`: every run on stderr as it finishes.
    var verbose = false
    /// Run each check once against a healthy shop and print the results (no report).
    var once = false
    /// Serve the shop until killed instead of running the checks.
    var serve = false
    /// Serve with the connection leak switched on (with `serve`).
    var faults = false
    /// Port for the shop; 0 picks a free one.
    var port: UInt16 = 0
    /// The shop's fault (the leak's timings; tests shorten them).
    var shopFaults = DemoShop.Faults()
    /// How often each check runs during the demo.
    var interval: Duration = .seconds(1)
    /// Checks whose incidents end the outage early (none: probe for `seconds`). With
    /// `shopFaults.restartDelay` nil the shop restarts once its pool is dry and each of these
    /// checks is in an incident whose opening alert the webhook sink got (the on-call restarting
    /// the service when paged); once each of them has had its resolution alerted after the
    /// restart, the demo stops probing. `seconds` stays the limit. With
    /// `shopFaults.leakingSearches` set as well, the whole outage follows from the order of
    /// events, not from the machine's speed: the tests use that.
    var untilIncidents: Set<String> = []
    /// The write-ups' grouping rule (`sonde incidents --group-within`): intervals between the
    /// starts of one outage's incidents.
    var groupWithin = IncidentGrouping.defaultIntervals

    /// Starts the shop, probes it, writes the report and the write-ups; returns the exit code.
    func run(console: Console) async -> Int32 {
        let cap: Int?
        do {
            cap = try ResourceLimits.cap(from: ProcessInfo.processInfo.environment)
        } catch {
            console.err("error: \(error)\n")
            return ExitCode.usage
        }
        let openFiles = ResourceLimits.raiseOpenFiles(cap: cap)
        let shop: DemoShop
        let server: HTTPServer
        let leaky = !once && (!serve || faults)
        do {
            (shop, server) = try DemoShop.start(host: "127.0.0.1", port: port, faults: leaky ? shopFaults : nil)
        } catch {
            console.err("error: cannot start the demo shop: \(error)\n")
            return ExitCode.runtime
        }
        defer {
            server.stop()
            withExtendedLifetime(shop) {}
        }
        console.err(
            "demo: sample shop API on \(server.baseURL) (user demo, password \(serve ? DemoShop.demoPassword : "***"))"
                + (leaky ? "; /search leaks a connection from a pool of 5 on its slow path\n" : "\n"))
        if serve {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return ExitCode.ok
        }
        let variables = VariableSources(
            vars: ["base_url=\(server.baseURL)"], secrets: ["password=\(DemoShop.demoPassword)"])
        if once {
            var command = CheckCommand(paths: [checks], variables: variables)
            command.verbose = verbose
            return await command.run(console: console)
        }
        return await outage(shop: shop, variables: variables, openFiles: openFiles, cap: cap, console: console)
    }

    /// Probes the leaky shop for `seconds`, then writes the report and the incident write-ups.
    private func outage(
        shop: DemoShop, variables: VariableSources, openFiles: ResourceLimits.OpenFiles, cap: Int?,
        console: Console
    ) async -> Int32 {
        let log = EventLog(format: .text, console: console)
        let resolved: Variables
        do { resolved = try variables.resolve() } catch {
            console.err("error: \(error)\n")
            return ExitCode.usage
        }
        var set: CheckSet
        do {
            let (loaded, problems) = try CheckSet.load(checks)
            guard problems.isEmpty else {
                for problem in problems { console.err("error: \(problem)\n") }
                return ExitCode.parse
            }
            set = loaded
        } catch {
            console.err("error: \(error) (run the demo from the repository's root, or give --checks DIR)\n")
            return ExitCode.usage
        }
        // A fast schedule so an outage fits in a minute; the files' objectives stay as written.
        for name in set.scripts.keys {
            set.scripts[name]?.settings.every = interval
            set.scripts[name]?.settings.timeout = .seconds(5)
        }
        let dataFolder = data ?? "data/demo"
        if data == nil { try? FileManager.default.removeItem(atPath: dataFolder) }
        let lock: DataFolderLock
        do {
            lock = try DataFolderLock(folder: DataFolder(dataFolder))
        } catch {
            console.err("error: \(error)\n")
            if case .held = error { return ExitCode.usage }
            return ExitCode.runtime
        }
        defer { withExtendedLifetime(lock) {} }
        let writer: RecordWriter
        do {
            writer = try RecordWriter(folder: DataFolder(dataFolder)) { event in
                RunCommand.logWriterEvent(event, log: log)
            }
        } catch {
            console.err("error: \(error)\n")
            return ExitCode.runtime
        }
        RunCommand.noteOpenFiles(openFiles, cap: cap, checks: set.scripts.count, writer: writer, log: log)

        // A webhook sink on loopback shows the alerts a real receiver would get.
        let received = Mutex(0)
        let sink: HTTPServer
        do {
            sink = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
                received.withLock { $0 += 1 }
                return .text("ok")
            }
        } catch {
            console.err("error: cannot start the webhook sink: \(error)\n")
            return ExitCode.runtime
        }
        defer { sink.stop() }
        let monitorBox = Mutex<IncidentMonitor?>(nil)
        let target: WebhookTarget
        do { target = try WebhookTarget(parsing: sink.baseURL + "/hook") } catch {
            console.err("error: \(error)\n")
            return ExitCode.runtime
        }
        // Alerts delivered, in order, as (check, event): what `untilIncidents` waits for.
        let alerts = Mutex<[(check: String, event: String)]>([])
        let sender = WebhookSender(
            targets: [target], policy: RetryPolicy(firstDelay: .milliseconds(200), maxAttempts: 3)
        ) { event in
            guard case .delivered(let target, let id, _) = event else { return }
            monitorBox.withLock { $0 }?.delivered(id: id, target: target)
            // The prober's alert ids are "check|incident|event" ("check||alert_started: rule" for @alert
            // rules, which are not incidents).
            let parts = id.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 3, !parts[2].hasPrefix("alert_") { alerts.withLock { $0.append((parts[0], parts[2])) } }
        }
        var configuration = Prober.Configuration(checksFolder: checks, location: "demo", variables: resolved)
        configuration.verbose = verbose
        let prober = Prober(configuration: configuration, checks: set, writer: writer, log: log, webhooks: sender)
        monitorBox.withLock { $0 = prober.incidents }

        console.err(
            "demo: probing \(set.scripts.keys.sorted().joined(separator: ", ")) every \(DurationText.setting(interval)) for \(seconds) s; data in \(dataFolder)\n"
        )
        prober.start()
        let clock = ContinuousClock()
        let end = clock.now + .seconds(seconds)
        var shown = 0
        var lastTick = 0
        var alertsBeforeRestart: Int?  // how many alerts had come when the shop restarted
        while clock.now < end {
            try? await Task.sleep(for: .milliseconds(250))
            if !untilIncidents.isEmpty {
                let delivered = alerts.withLock { $0 }
                func last(_ check: String, from start: Int) -> String? {
                    delivered[start...].last { $0.check == check }?.event
                }
                if alertsBeforeRestart == nil {
                    let paged =
                        shop.exhaustedSince != nil && untilIncidents.allSatisfy { last($0, from: 0) == "opened" }
                    if paged, shop.faults?.restartDelay == nil, shop.restart() {
                        console.err("demo: every incident has been alerted: restarting the shop\n")
                    }
                    if shop.restarts > 0 { alertsBeforeRestart = delivered.count }
                }
                if let start = alertsBeforeRestart, untilIncidents.allSatisfy({ last($0, from: start) == "resolved" }) {
                    for event in shop.faultLog.dropFirst(shown) { console.err("demo: shop: \(Self.describe(event))\n") }
                    console.err("demo: every incident has been opened and resolved, and alerted both times\n")
                    break
                }
            }
            let events = shop.faultLog
            for event in events.dropFirst(shown) { console.err("demo: shop: \(Self.describe(event))\n") }
            shown = events.count
            let elapsed = seconds - Int((end - clock.now).milliseconds / 1000)
            if elapsed / 15 > lastTick / 15, elapsed < seconds {
                let (runs, failed) = prober.recorded
                console.err(
                    "demo: \(elapsed) s of \(seconds): \(runs) runs, \(failed) failed; pool \(shop.pool.inUse)/\(shop.pool.size) in use\n"
                )
            }
            lastTick = elapsed
        }
        _ = await prober.stop(grace: .seconds(5))
        _ = await sender.flush(timeout: .seconds(3))
        await writer.finish()

        var report = ReportCommand()
        report.data = [dataFolder]
        report.out = out
        report.checks = checks
        // The pages count with the schedule the demo really ran, not the files' `@every`.
        report.settings = set.scripts.mapValues(\.settings)
        var incidents = IncidentsCommand()
        incidents.data = [dataFolder]
        incidents.out = out
        incidents.checks = checks
        incidents.settings = report.settings
        incidents.groupWithin = groupWithin
        // The data folder started empty: write-ups of earlier demos belong to no incident now.
        incidents.prune = true
        let incidentsCode = incidents.run(console: console)
        let reportCode = report.run(console: console)
        guard reportCode == ExitCode.ok, incidentsCode == ExitCode.ok else { return ExitCode.runtime }
        let found = prober.recorded
        console.out(
            """

            demo: \(found.runs) runs (\(found.failed) failed), \(shop.restarts) restart\(shop.restarts == 1 ? "" : "s") of the shop, \
            \(received.withLock { $0 }) webhook alerts received.
            Open \(out)/README.md (uptime, budgets, burn rates) and \(out)/incidents/README.md (the write-ups).

            """)
        return ExitCode.ok
    }

    static func describe(_ event: DemoShop.FaultEvent) -> String {
        switch event.kind {
        case .leak(let path): return "\(path) took the slow path and leaked a pool connection"
        case .exhausted: return "connection pool exhausted: DB-backed endpoints answer 503 until the restart"
        case .restarted: return "restarted: pool refilled, sessions dropped"
        }
    }
}
