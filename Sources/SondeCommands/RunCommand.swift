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

/// `sonde run`: the prober daemon (README.md, "sonde run"; docs/architecture.md). Schedules every
/// check of a folder, records each run, serves `/metrics` when asked; SIGHUP reloads, SIGTERM /
/// SIGINT stop cleanly.
struct RunCommand: Sendable {
    /// Folder of check files to run (reloaded on SIGHUP).
    var checks = "checks"
    /// Data folder the runs and hour lines are written to.
    var data = "data"
    /// Name of this prober's location, written into every run (`loc`).
    var location = "local"
    /// The part of the checks folder to run (`--shard I/N`, `SONDE_SHARD`).
    var shard: Shard = .whole
    /// `--once`: run every check once, print the results and exit.
    var once = false
    /// `--listen` (or `--metrics`): `HOST:PORT`, `:PORT` or `PORT` (loopback then); nil = no server.
    var metrics: String?
    /// The option `metrics` came from, for error messages.
    var listenOption = "--listen"
    /// How log lines are written: text or JSON.
    var logFormat: EventLog.Format = .text
    /// `--verbose`: one log line per run.
    var verbose = false
    /// `--quiet`: no sign-of-life line once a minute (`LifeSigns`).
    var quiet = false
    /// Where template variables and secrets come from.
    var variables = VariableSources()
    /// How long raw runs and hour lines are kept.
    var retention = RecordWriter.Retention()
    /// `--webhook URL` values (plus `SONDE_WEBHOOK` from `variables.environment`).
    var webhooks: [String] = []
    /// `--alertmanager URL` values (plus `SONDE_ALERTMANAGER` from `variables.environment`).
    var alertmanagers: [String] = []
    /// How often active alerts are posted to Alertmanager again.
    var alertmanagerRepeat: Duration = AlertmanagerSender.defaultRepeatInterval
    /// Retry policy of webhook (and Alertmanager) deliveries.
    var webhookPolicy = RetryPolicy()
    /// How long in-flight runs get at shutdown.
    var shutdownGrace: Duration = .seconds(5)

    /// Runs the prober until SIGTERM or SIGINT (or one round with `once`); returns the exit code.
    func run(console: Console) async -> Int32 {
        let log = EventLog(format: logFormat, console: console)
        let openFilesCap: Int?
        do {
            openFilesCap = try ResourceLimits.cap(from: variables.environment)
        } catch {
            log.error("start", error.description)
            return ExitCode.usage
        }
        let openFiles = ResourceLimits.raiseOpenFiles(cap: openFilesCap)
        let resolved: Variables
        do {
            resolved = try variables.resolve()
        } catch {
            log.error("start", "\(error)")
            return ExitCode.usage
        }
        guard Self.isValidLocation(location) else {
            log.error("start", "--location '\(location)': use letters, digits, '.', '_' or '-' (at most 64)")
            return ExitCode.usage
        }
        var listen: (host: String, port: UInt16)?
        if let metrics {
            guard let parsed = Self.parseListen(metrics) else {
                log.error(
                    "start", "\(listenOption) '\(metrics)': expected HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:9115)")
                return ExitCode.usage
            }
            listen = parsed
        }

        var targets: [WebhookTarget] = []
        do {
            for url in webhooks { targets.append(try WebhookTarget(parsing: url)) }
            targets += try WebhookTarget.fromEnvironment(variables.environment)
        } catch {
            log.error("start", error.description)
            return ExitCode.usage
        }

        var managers: [AlertmanagerTarget] = []
        do {
            for url in alertmanagers { managers.append(try AlertmanagerTarget(parsing: url)) }
            managers += try AlertmanagerTarget.fromEnvironment(variables.environment)
        } catch {
            log.error("start", error.description)
            return ExitCode.usage
        }

        let set: CheckSet
        do {
            let (loaded, problems) = try CheckSet.load(checks, shard: shard)
            for problem in problems { log.error("start", problem.description) }
            // A refused name leaves its file out and the rest runs; any other problem stops the start.
            let fatal = problems.filter { !$0.isRefusedName }
            if !fatal.isEmpty {
                return fatal.contains(where: \.isDuplicate) ? ExitCode.usage : ExitCode.parse
            }
            set = loaded
            for script in set.scripts.values.sorted(by: { $0.path < $1.path }) {
                for note in script.daemonNotes { log.info("start", note) }
            }
        } catch {
            switch error {
            case .noScripts, .notFound:
                log.error(
                    "start", "no checks found: \(error) (put NAME.hurl files there, or point --checks at the folder)")
            default:
                log.error("start", "\(error)")
            }
            return ExitCode.usage
        }

        // One prober a data folder: a second one would write every slot and incident twice.
        let lock: DataFolderLock
        do {
            lock = try DataFolderLock(folder: DataFolder(data))
        } catch {
            log.error("start", error.description, [("data", data)])
            if case .held = error { return ExitCode.usage }
            return ExitCode.runtime
        }
        defer { withExtendedLifetime(lock) {} }

        let writer: RecordWriter
        do {
            writer = try RecordWriter(folder: DataFolder(data), retention: retention) { event in
                Self.logWriterEvent(event, log: log)
            }
        } catch {
            // The folder exists or was named fine; the system refuses it: a runtime error.
            log.error("start", error.description)
            return ExitCode.runtime
        }
        Self.noteOpenFiles(openFiles, cap: openFilesCap, checks: set.scripts.count, writer: writer, log: log)

        var configuration = Prober.Configuration(checksFolder: checks, location: location, variables: resolved)
        configuration.verbose = verbose
        configuration.shard = shard
        configuration.statusPage = listen != nil
        let monitorBox = Mutex<IncidentMonitor?>(nil)
        let webhookLog = WebhookLog(log: log)
        let sender =
            targets.isEmpty
            ? nil
            : WebhookSender(targets: targets, policy: webhookPolicy) { event in
                webhookLog.write(event, nowMs: UTCTime.milliseconds(Date()))
                if case .delivered(let target, let id, _) = event {
                    monitorBox.withLock { $0 }?.delivered(id: id, target: target)
                }
            }
        let alertmanager =
            managers.isEmpty
            ? nil
            : AlertmanagerSender(
                targets: managers, policy: webhookPolicy, repeatInterval: alertmanagerRepeat
            ) { event in
                log.log(event.level, "alertmanager", event.description, event.fields)
                if case .delivered(let target, let id, _) = event {
                    monitorBox.withLock { $0 }?.delivered(id: id, target: target)
                }
            }
        let prober = Prober(
            configuration: configuration, checks: set, writer: writer, log: log, webhooks: sender,
            alertmanager: alertmanager)
        monitorBox.withLock { $0 = prober.incidents }

        if set.scripts.isEmpty {
            let next = once ? "" : "; it waits for a reload"
            log.warn(
                "start", "shard \(shard) runs none of the \(set.inFolder) checks in \(checks)\(next)",
                [("shard", shard.description), ("in_folder", String(set.inFolder))])
        }

        if once {
            if !shard.isWhole {
                log.info(
                    "start", "\(set.summary) from \(checks), once",
                    [
                        ("checks", String(set.scripts.count)), ("in_folder", String(set.inFolder)),
                        ("shard", shard.description),
                    ])
            }
            let results = await prober.runOnce()
            // The incidents of this one round go out before the process ends.
            if let sender {
                _ = await sender.flush(timeout: shutdownGrace)
                webhookLog.flush()
            }
            if let alertmanager { _ = await alertmanager.flush(timeout: shutdownGrace) }
            await writer.finish()
            for result in results {
                let report = CheckReport(redactor: Redactor(secrets: resolved.secretValues + result.sensitiveValues))
                console.out(report.fileLine(result) + "\n")
            }
            if writer.dropped > 0 {
                log.error("once", "\(writer.dropped) of \(results.count) run records could not be written to \(data)")
            }
            return results.allSatisfy(\.ok) ? ExitCode.ok : ExitCode.assertion
        }

        var server: HTTPServer?
        if let listen {
            do {
                // A scraper needs a connection or two: the rest of the reserve stays free.
                var limits = HTTPServerLimits()
                limits.maxConnections = max(4, min(64, ResourceLimits.budget(softLimit: openFiles.soft).reserve / 2))
                // Scrapers holding every connection must not fail the liveness probe.
                limits.reservedConnections = 2
                limits.reservedPaths = ["/healthz"]
                server = try HTTPServer(host: listen.host, port: listen.port, limits: limits) { request in
                    Self.serveMetrics(request, prober: prober)
                }
            } catch {
                // A taken port or a refused address is the system's answer, not a usage error.
                log.error("start", "\(listenOption): \(error)")
                return ExitCode.runtime
            }
        }
        defer { server?.stop() }

        let watcher = SignalWatcher([SIGTERM, SIGINT, SIGHUP])
        defer { watcher.cancel() }
        prober.start()
        let intervals = set.sorted.map(\.settings.every)
        var summary = "\(set.summary) from \(checks)"
        if let shortest = intervals.min(), let longest = intervals.max() {
            summary +=
                shortest == longest
                ? " every \(DurationText.setting(shortest))"
                : " every \(DurationText.setting(shortest))–\(DurationText.setting(longest))"
        }
        summary += ", data in \(data), location \(location)"
        if let server { summary += ", status page on \(server.baseURL)/, metrics on \(server.baseURL)/metrics" }
        if !targets.isEmpty { summary += ", webhooks to \(targets.map(\.masked).joined(separator: ", "))" }
        if !managers.isEmpty { summary += ", alerts to Alertmanager \(managers.map(\.masked).joined(separator: ", "))" }
        var fields = [
            ("checks", String(set.scripts.count)), ("data", data), ("location", location),
            ("version", Sonde.version),
        ]
        if !shard.isWhole { fields += [("in_folder", String(set.inFolder)), ("shard", shard.description)] }
        log.info("start", summary, fields)
        let signs = quiet ? nil : LifeSigns(time: SystemTimeSource(), log: log) { prober.totals }
        signs?.start()

        for await number in watcher.signals {
            if number == SIGHUP {
                log.info("reload", "SIGHUP received: loading \(checks) again")
                prober.reload()
                continue
            }
            log.info(
                "stop",
                "\(SignalWatcher.name(number)) received: no new runs; waiting up to \(DurationText.setting(shutdownGrace)) for \(prober.running) in flight"
            )
            break
        }
        signs?.stop()
        let cancelled = await prober.stop(grace: shutdownGrace)
        if let sender {
            let pending = await sender.flush(timeout: shutdownGrace)
            webhookLog.flush()
            if pending > 0 { log.warn("webhook", "\(pending) webhook deliveries still pending at exit were abandoned") }
            if sender.dropped > 0 {
                log.warn("webhook", "\(sender.dropped) webhook events were dropped in all (queues full)")
            }
        }
        if let alertmanager {
            let pending = await alertmanager.flush(timeout: shutdownGrace)
            if pending > 0 {
                log.warn("alertmanager", "\(pending) Alertmanager posts still pending at exit were abandoned")
            }
            if alertmanager.dropped > 0 {
                log.warn("alertmanager", "\(alertmanager.dropped) Alertmanager posts were dropped in all (queues full)")
            }
        }
        await writer.finish()
        let (runs, failed) = prober.recorded
        var text = "\(runs) runs (\(failed) failed)"
        if cancelled > 0 { text += ", \(cancelled) cancelled in flight and not recorded" }
        let counts = writer.counts
        if counts.dropped > counts.droppedForDescriptors {
            text += ", \(counts.dropped - counts.droppedForDescriptors) records dropped (disk)"
        }
        if counts.droppedForDescriptors > 0 {
            text += ", \(counts.droppedForDescriptors) records dropped (too many open files)"
        }
        log.info(
            "stopped", text,
            [
                ("runs", String(runs)), ("cancelled", String(cancelled)),
                ("dropped", String(writer.dropped)),
            ])
        return ExitCode.ok
    }

    static func serveMetrics(_ request: HTTPRequest, prober: Prober) -> HTTPResponse {
        switch request.path {
        case "/metrics":
            // Streamed in pieces of 256 KiB: the text grows with the checks (≈2.3 KB each).
            return .streamed(contentType: "text/plain; version=0.0.4; charset=utf-8") { write in
                withoutActuallyEscaping(write) { write in
                    var open = true
                    var out = PrometheusText(pieceBytes: 256 * 1024) { piece in
                        if open { open = write(Array(piece.utf8)) }
                    }
                    prober.writeMetrics(to: &out)
                }
            }
        case "/healthz":
            let liveness = prober.liveness
            guard liveness.isLive else {
                let since = DurationText.latency(liveness.sinceBeat.milliseconds)
                return .text(
                    "stalled: the scheduler's heartbeat last ran \(since) ago (limit \(DurationText.setting(liveness.threshold))); runs are not starting on time\n",
                    status: 503)
            }
            return .text("ok\n")
        case "/", "/index.html":
            return .text(
                StatusPageHTML.render(prober.statusPage()),
                headers: [
                    HTTPField(name: "Content-Type", value: "text/html; charset=utf-8"),
                    HTTPField(name: "Cache-Control", value: "no-store"),
                ])
        case "/api/status":
            return .json(
                StatusPageJSON.encode(prober.statusPage()) + "\n",
                headers: [HTTPField(name: "Cache-Control", value: "no-store")])
        default:
            return .text("not found: try /, /api/status, /metrics or /healthz\n", status: 404)
        }
    }

    static func logWriterEvent(_ event: RecordWriter.Event, log: EventLog) {
        switch event {
        case .writeFailed(let path, let reason, let dropped, let suppressed):
            let since = suppressed > 0 ? "; \(suppressed) more failures of this file since its last line" : ""
            log.error(
                "store",
                "cannot write \(path): \(reason); \(dropped) records dropped so far\(since); probing goes on (repeated at most once a minute per file)",
                [("path", path), ("dropped", String(dropped)), ("suppressed", String(suppressed))])
        case .descriptorsExhausted(let path, let reason, let limit, let held, let dropped):
            log.error(
                "store",
                "cannot open \(path): \(reason) (open-files limit \(limit)); \(held) records held in memory to write later, \(dropped) dropped so far; probing goes on (repeated at most once a minute)",
                [("path", path), ("limit", String(limit)), ("held", String(held)), ("dropped", String(dropped))])
        case .resumed(let dropped):
            log.info("store", "writing resumed after \(dropped) dropped records", [("dropped", String(dropped))])
        case .rebuiltHours(let check, let hours):
            log.info("store", "\(check): rebuilt \(hours) hour rollups from raw runs", [("check", check)])
        case .deleted(let path):
            log.info("retention", "deleted \(path)", [("path", path)])
        }
    }

    /// Logs the open-files limit at start when it is low for the number of checks (below four
    /// descriptors per check): day files then take turns in the writer's cache, and sockets of
    /// slow targets may run short.
    static func noteOpenFiles(
        _ limits: ResourceLimits.OpenFiles, cap: Int?, checks: Int, writer: RecordWriter,
        log: EventLog
    ) {
        guard limits.soft < 4 * checks else { return }
        let hard = limits.hard == Int.max ? "unlimited" : String(limits.hard)
        let how =
            cap != nil && limits.soft == cap
            ? "it is capped by \(ResourceLimits.capVariable)"
            : "raise the hard limit (ulimit -Hn, LimitNOFILE= under systemd)"
        let sessions = ResourceLimits.budget(softLimit: limits.soft).sessions
        log.warn(
            "start",
            "open-files limit \(limits.soft) (hard \(hard)) is low for \(checks) checks: at most \(writer.openFilesCapacity) day files stay open and \(sessions) runs hold connections at a time; \(how)",
            [
                ("open_files", String(limits.soft)), ("open_files_hard", hard),
                ("day_files", String(writer.openFilesCapacity)), ("sessions", String(sessions)),
            ])
    }

    /// Parses `HOST:PORT`, `[v6]:PORT`, `:PORT` or `PORT`; the host defaults to 127.0.0.1.
    static func parseListen(_ text: String) -> (host: String, port: UInt16)? {
        var host = "127.0.0.1"
        var portText = text
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = String(rest.dropFirst())
        } else if let colon = text.lastIndex(of: ":") {
            let given = String(text[..<colon])
            if !given.isEmpty { host = given }
            portText = String(text[text.index(after: colon)...])
        }
        guard let port = UInt16(portText), !host.isEmpty else { return nil }
        return (host, port)
    }

    static func isValidLocation(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0))
            }
    }
}
