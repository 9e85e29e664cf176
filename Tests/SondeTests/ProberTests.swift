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

@Suite("Prober: runs recorded, secrets kept out, metrics valid")
struct ProberTests {
    /// A prober over `files` (name → source) writing into a temporary data folder, on `time`.
    static func prober(
        _ folder: TemporaryFolder, _ files: [String: String], secrets: [String: String] = [:],
        console: CapturingConsole = CapturingConsole(),
        time: any TimeSource = ManualTimeSource()
    ) throws -> Prober {
        for (name, source) in files { try folder.write("checks/\(name).hurl", source) }
        let (set, problems) = try CheckSet.load(folder.path + "/checks")
        #expect(problems.isEmpty)
        var variables = Variables()
        for (name, value) in secrets { variables.set(name, .string(value), secret: true) }
        let writer = try RecordWriter(folder: DataFolder(folder.path + "/data"), now: { time.wallMs }, report: { _ in })
        let configuration = Prober.Configuration(
            checksFolder: folder.path + "/checks", location: "test-loc",
            variables: variables)
        return Prober(
            configuration: configuration, checks: set, writer: writer,
            log: EventLog(format: .text, console: console), time: time)
    }

    static func lines(_ folder: TemporaryFolder, check: String) throws -> [String] {
        let files = DataFolder(folder.path + "/data").runFiles(check: check)
        return try files.flatMap { file in
            try String(contentsOfFile: file.path, encoding: .utf8).split(separator: "\n").map(String.init)
        }
    }

    @Test("each run becomes one line with the right error kind, and the line reads back")
    func runsAreRecorded() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let prober = try Self.prober(
            folder,
            [
                "good": "GET \(service.baseURL)/json\nHTTP 200\n",
                "bad": "GET \(service.baseURL)/status?code=503\nHTTP 200\n",
                "refused": "GET http://127.0.0.1:9/\nHTTP 200\n",
            ])
        let results = await prober.runOnce()
        await prober.writer.flush()
        #expect(results.map(\.check) == ["bad", "good", "refused"])
        let good = try Self.lines(folder, check: "good")
        #expect(good.count == 1)
        let record = try RunLine.decode(Array(good[0].utf8))
        #expect(record.ok && record.check == "good" && record.location == "test-loc")
        #expect(record.steps.first?.status == 200)
        #expect(record.steps.first.map { $0.timings.total > 0 && $0.timings.bytes > 0 } == true)
        let bad = try RunLine.decode(Array(try Self.lines(folder, check: "bad")[0].utf8))
        #expect(bad.error?.kind == "status" && bad.error?.line == 2 && bad.error?.entry == 1)
        #expect(bad.error?.message.contains("503") == true)
        let refused = try RunLine.decode(Array(try Self.lines(folder, check: "refused")[0].utf8))
        #expect(refused.error?.kind == "connect" && refused.steps.isEmpty)
        #expect(prober.recorded.runs == 3 && prober.recorded.failed == 2)
    }

    @Test("secrets and authorization values never reach the run files, even echoed in a failing assert")
    func secretsStayOut() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let prober = try Self.prober(
            folder,
            [
                "echo": """
                GET \(service.baseURL)/echo?key={{api_key}}
                Authorization: Bearer tok-98765-abcdef
                HTTP 200
                [Asserts]
                jsonpath "$.headers.authorization" == "nope"
                jsonpath "$.query" == "nope"

                """
            ], secrets: ["api_key": "sekret-42-value"])
        _ = await prober.runOnce()
        await prober.writer.flush()
        let text = try Self.lines(folder, check: "echo").joined(separator: "\n")
        #expect(!text.isEmpty)
        #expect(text.contains("\"kind\":\"assert\""))
        #expect(!text.contains("sekret-42-value"))
        #expect(!text.contains("tok-98765-abcdef"))
        #expect(text.contains("***"))
        let metrics = prober.renderMetrics()
        #expect(!metrics.contains("sekret-42-value") && !metrics.contains("tok-98765-abcdef"))
    }

    @Test("/metrics text holds the documented families with the right values and passes promtool")
    func metricsPassPromtool() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let prober = try Self.prober(
            folder,
            [
                "good": "GET \(service.baseURL)/json\nHTTP 200\n",
                "bad": "GET \(service.baseURL)/status?code=500\nHTTP 200\n",
                "with\"quote": "GET \(service.baseURL)/json\nHTTP 200\n",
            ])
        _ = await prober.runOnce()
        _ = await prober.runOnce()
        let text = prober.renderMetrics()
        #expect(text.contains("sonde_check_up{check=\"good\",location=\"test-loc\"} 1\n"))
        #expect(text.contains("sonde_check_up{check=\"bad\",location=\"test-loc\"} 0\n"))
        #expect(text.contains("sonde_check_up{check=\"with\\\"quote\",location=\"test-loc\"} 1\n"))
        #expect(text.contains("sonde_runs_total{check=\"bad\",location=\"test-loc\",result=\"status\"} 2\n"))
        #expect(text.contains("sonde_runs_total{check=\"good\",location=\"test-loc\",result=\"success\"} 2\n"))
        #expect(text.contains("sonde_last_run_phase_seconds{check=\"good\",location=\"test-loc\",phase=\"ttfb\"}"))
        #expect(text.contains("sonde_run_duration_seconds_count{check=\"good\",location=\"test-loc\"} 2\n"))
        #expect(
            text.contains(
                "sonde_check_info{check=\"good\",location=\"test-loc\",interval=\"60\",objective=\"0.999\",latency_threshold=\"\"} 1\n"
            ))
        #expect(text.contains("sonde_schedule_lateness_seconds_count{location=\"test-loc\"} 6\n"))
        #expect(text.contains("sonde_checks{location=\"test-loc\"} 3\n"))
        // Two failed runs of two: error ratio 1 over a 0.001 budget.
        #expect(text.contains("sonde_slo_burn_rate{check=\"bad\",location=\"test-loc\",window=\"5m\"} 1000\n"))
        #expect(text.contains("sonde_slo_burn_rate{check=\"good\",location=\"test-loc\",window=\"30m\"} 0\n"))
        #expect(!text.contains("window=\"1h\""), "under 10 runs the 1-hour window has insufficient data")
        // Two failures of the 43.2 that 99.9% allows over 30 days at one run a minute: 1 − 2 ÷ 43.2.
        #expect(text.contains("sonde_slo_error_budget_remaining_ratio{check=\"bad\",location=\"test-loc\"} 0.9537"))
        #expect(text.contains("sonde_slo_objective_ratio{check=\"good\",location=\"test-loc\"} 0.999\n"))
        let file = try folder.write("metrics.txt", text)
        let (code, output) = try await offPool { try Self.promtool(["check", "metrics"], stdin: file) }
        #expect(code == 0, "promtool check metrics: \(output)")
    }

    @Test("/metrics handed on in pieces is the same text, cut only at line ends")
    func metricsInPieces() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let prober = try Self.prober(
            folder,
            [
                "good": "GET \(service.baseURL)/json\nHTTP 200\n",
                "bad": "GET \(service.baseURL)/status?code=500\nHTTP 200\n",
            ])
        _ = await prober.runOnce()
        let whole = prober.renderMetrics()
        var pieces: [String] = []
        var out = PrometheusText(pieceBytes: 200) { pieces.append($0) }
        prober.writeMetrics(to: &out)
        #expect(pieces.count > 10, "a 200-byte piece size cuts \(whole.utf8.count) bytes into many pieces")
        #expect(pieces.joined() == whole)
        #expect(pieces.allSatisfy { $0.hasSuffix("\n") && !$0.isEmpty })
        #expect(out.text.isEmpty, "finish() hands on the last piece")
    }

    @Test("a reload applies new, changed and removed checks and keeps a check whose file stopped parsing")
    func reloadKeepsPreviousVersion() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let console = CapturingConsole()
        let prober = try Self.prober(
            folder,
            [
                "keep": "GET \(service.baseURL)/json\nHTTP 200\n",
                "gone": "GET \(service.baseURL)/json\nHTTP 200\n",
            ], console: console)
        try folder.write("checks/keep.hurl", "GET \(service.baseURL)/json\nHTTP 200 trailing-junk\n")
        try FileManager.default.removeItem(atPath: folder.path + "/checks/gone.hurl")
        try folder.write("checks/new.hurl", "GET \(service.baseURL)/text\nHTTP 200\n")
        let changes = prober.reload()
        #expect(changes.added == ["new"] && changes.removed == ["gone"] && changes.changed.isEmpty)
        #expect(prober.checks.scripts.keys.sorted() == ["keep", "new"])
        #expect(prober.checks.scripts["keep"]?.source.contains("trailing-junk") == false)
        #expect(console.stderr.contains("keep.hurl:2:10:"), "the error names file:line:col: \(console.stderr)")
        #expect(console.stderr.contains("keeping the previous version of 'keep'"))
        #expect(console.stderr.contains("added new; removed gone"))
    }

    @Test("with the disk full, probing goes on, records are counted as dropped, and writing resumes")
    func diskFullThenSpace() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let time = ManualTimeSource()
        let prober = try Self.prober(folder, ["health": "GET \(service.baseURL)/json\nHTTP 200\n"], time: time)
        let day = DataFolder(folder.path + "/data").runsFile(check: "health", at: time.wallMs)
        try FileManager.default.createDirectory(atPath: folder.path + "/data/health", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: day, withDestinationPath: "/dev/full")
        let full = await prober.runOnce()
        await prober.writer.flush()
        #expect(full.count == 1 && full[0].ok, "the probe itself still ran")
        #expect(prober.writer.dropped == 1)
        #expect(prober.renderMetrics().contains("sonde_records_dropped_total{location=\"test-loc\"} 1\n"))
        try FileManager.default.removeItem(atPath: day)
        _ = await prober.runOnce()
        await prober.writer.flush()
        #expect(try Self.lines(folder, check: "health").count == 1)
        #expect(prober.writer.dropped == 1)
    }

    @Test("burn rates and the budget are seeded from the data folder at start")
    func sloSeededFromFiles() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let time = ManualTimeSource()
        let now = time.wallMs
        var data = DataBuilder()
        // The last 3 hours at one run a minute, the last 10 minutes failing, at this prober's location.
        data.every(60_000, from: now - 3 * UTCTime.msPerHour, to: now - 1000, check: "seeded", location: "test-loc") {
            t in
            t > now - 10 * 60_000
        }
        try data.write(to: folder.path + "/data", hoursBefore: now)
        let prober = try Self.prober(folder, ["seeded": "GET http://127.0.0.1:9/\nHTTP 200\n"], time: time)
        // Seeding reads the files in the background: poll for it (time itself stands still).
        #expect(await pollUntil { prober.slo.snapshot(nowMs: time.wallMs)["seeded"]?.burn[.h1] != nil })
        let figures = prober.slo.snapshot(nowMs: time.wallMs)["seeded"]
        // 1 h window: 60 or 61 minute buckets hold ~60 runs, 10 of them failed → burn ≈ 166.
        let hour = try #require(figures?.burn[.h1])
        #expect(hour > 150 && hour < 175, "burn 1h \(hour)")
        let threeHours = try #require(figures?.remaining)
        // 10 failed runs (9 when the oldest failing minute is on a bucket edge) of the 43.2 allowed.
        #expect(threeHours >= 1 - 10 / 43.2 - 1e-9 && threeHours <= 1 - 9 / 43.2 + 1e-9, "budget left \(threeHours)")
    }

    /// Runs promtool (installed by `make test`) with a file on standard input.
    static func promtool(_ arguments: [String], stdin path: String) throws -> (Int32, String) {
        let candidates = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("promtool is missing: `make test` installs it (apt-get install prometheus)")
            return (-1, "")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
