import Foundation
import Testing

@testable import SondeCommands
@testable import SondeProbe
@testable import SondeRender
@testable import SondeSLO
@testable import SondeScript
@testable import SondeStore
@testable import SondeSupport

@Suite("Target directives: @keep-warm and @cert-expiry, their errors, validate's warning, the keep-warm figures")
struct KeepWarmTests {
    static func parse(_ source: String) throws -> CheckScript {
        try ScriptParser.parse(source: source, path: "svc.hurl")
    }

    /// The `file:line:col: message` of a source that must not parse.
    static func failure(_ source: String) -> String {
        do {
            _ = try ScriptParser.parse(source: source, path: "svc.hurl")
            return "parsed"
        } catch {
            return error.description
        }
    }

    @Test("defaults: certificates are watched 14 days ahead, no keep-warm")
    func defaults() throws {
        let script = try Self.parse("GET https://example.com\n")
        #expect(script.settings.certExpiry == .seconds(14 * 86_400))
        #expect(script.settings.keepWarm == nil)
    }

    @Test("@cert-expiry takes days, hours or off; @keep-warm takes the idle time and its position")
    func accepted() throws {
        let a = try Self.parse("# @cert-expiry 30d\n# @keep-warm 15m\n# @every 5m\nGET https://example.com\n")
        #expect(a.settings.certExpiry == .seconds(30 * 86_400))
        #expect(a.settings.keepWarm == KeepWarm(idle: .seconds(900), location: SourceLocation(line: 2, column: 3)))
        #expect(a.keepWarmWarning == nil)
        #expect(try Self.parse("# @cert-expiry 12h\nGET https://example.com\n").settings.certExpiry == .seconds(43_200))
        #expect(try Self.parse("# @cert-expiry off\nGET https://example.com\n").settings.certExpiry == nil)
    }

    @Test("bad values are errors with file:line:col")
    func errors() {
        #expect(
            Self.failure("# @cert-expiry 14\nGET https://example.com\n")
                == "svc.hurl:1:16: expected a duration such as 14d (days or hours), or off, after @cert-expiry")
        #expect(
            Self.failure("# @cert-expiry 30m\nGET https://example.com\n")
                == "svc.hurl:1:16: expected a duration such as 14d (days or hours), or off, after @cert-expiry")
        #expect(
            Self.failure("# @cert-expiry 0d\nGET https://example.com\n")
                == "svc.hurl:1:16: @cert-expiry must be from 1h to 3650d (or off)")
        #expect(
            Self.failure("\n# @keep-warm soon\nGET https://example.com\n")
                == "svc.hurl:2:14: expected the target's idle time such as 15m after @keep-warm")
        #expect(
            Self.failure("# @keep-warm 30s\nGET https://example.com\n")
                == "svc.hurl:1:14: @keep-warm must be from 1m to 7d (how long the target stays awake without a request)"
        )
        #expect(Self.failure("# @keep-warm 15m 5m\nGET https://example.com\n").hasPrefix("svc.hurl:1:14: expected"))
        #expect(
            Self.failure("# @keep-warm 15m\n# @keep-warm 10m\nGET https://example.com\n")
                == "svc.hurl:2:3: directive @keep-warm is given twice")
        #expect(
            Self.failure("# @keepwarm 15m\nGET https://example.com\n")
                == "svc.hurl:1:3: unknown directive @keepwarm; did you mean @keep-warm?")
    }

    @Test("sonde validate warns, with file:line:col, when @every is not shorter than @keep-warm, and exits 0")
    func validateWarns() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let slow = try folder.write("slow.hurl", "# @every 15m\n# @keep-warm 15m\nGET https://example.com\n")
        let fine = try folder.write("fine.hurl", "# @every 5m\n# @keep-warm 15m\nGET https://example.com\n")
        let console = CapturingConsole()
        #expect(ValidateCommand(paths: [slow, fine]).run(console: console) == ExitCode.ok)
        #expect(
            console.stderr
                == "\(slow):2:3: warning: @every 15m is not shorter than @keep-warm 15m: the target may fall asleep "
                + "between runs; run it more often, e.g. @every 5m\n")
        #expect(console.stdout.contains("\(slow): valid"))
        #expect(console.stdout.contains("\(fine): valid"))
    }

    static func run(_ time: Int64, ttfb: Double) -> RunRecord {
        RunRecord(
            time: time, check: "svc", location: "lab", ok: true, durationMs: ttfb + 5, lateMs: 0,
            steps: [RunStep(status: 200, timings: PhaseTimings(ttfb: ttfb, total: ttfb + 5))])
    }

    @Test("figures: cold starts above 1 s and 10 × the median, gaps longer than the idle time, the share kept warm")
    func figures() throws {
        let minute: Int64 = 60_000
        // Runs every 5 minutes for an hour, then a 40-minute hole, a cold start, then every 5 minutes again.
        var runs = (0..<12).map { Self.run(Int64($0) * 5 * minute, ttfb: 40) }
        runs.append(Self.run(95 * minute, ttfb: 31_000))
        runs += (1...5).map { Self.run(95 * minute + Int64($0) * 5 * minute, ttfb: 45) }
        // A slow run that is under 1 s is not a cold start, however slow against the median.
        runs.append(Self.run(125 * minute, ttfb: 900))
        let end = 130 * minute
        let figures = try #require(
            KeepWarmFigures.compute(runs: runs.shuffled(), idle: .seconds(900), windowFrom: 0, toMs: end))
        #expect(figures.runs == 19)
        #expect(figures.medianTTFBMs == 40)
        #expect(figures.coldStarts == [KeepWarmFigures.ColdStart(timeMs: 95 * minute, ttfbMs: 31_000)])
        #expect(figures.gaps == [KeepWarmFigures.Gap(fromMs: 55 * minute, toMs: 95 * minute)])
        #expect(abs(figures.warmShare - 90.0 / 130.0) < 1e-9)
        // The prober stopped: the time since the last run is a gap too.
        let later = try #require(
            KeepWarmFigures.compute(runs: runs, idle: .seconds(900), windowFrom: 0, toMs: 200 * minute))
        #expect(later.gaps.last == KeepWarmFigures.Gap(fromMs: 125 * minute, toMs: 200 * minute))
        #expect(KeepWarmFigures.compute(runs: runs, idle: .seconds(900), windowFrom: end, toMs: end + minute) == nil)
    }

    @Test("sonde report shows the keep-warm figures on the index, the check's page and in --json")
    func report() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let now = Date()
        let nowMs = UTCTime.milliseconds(now)
        let minute: Int64 = 60_000
        var days: [String: String] = [:]
        // Runs every 5 minutes over the last 2 hours but for a 30-minute hole ending 40 minutes ago;
        // each line goes into the file of its own UTC day.
        for k in stride(from: Int64(120), through: 1, by: -5) where !(k < 70 && k > 40) {
            let ttfb: Double = k == 40 ? 20_000 : 50
            let time = nowMs - k * minute
            days[String(UTCTime.rfc3339(time).prefix(10)), default: ""] +=
                String(decoding: RunLine.encode(Self.run(time, ttfb: ttfb)), as: UTF8.self)
        }
        for (day, lines) in days { try folder.write("data/svc/runs-\(day).jsonl", lines) }
        try folder.write("checks/svc.hurl", "# @every 5m\n# @keep-warm 15m\nGET http://127.0.0.1:1/\n")
        var command = ReportCommand()
        command.data = [folder.path + "/data"]
        command.checks = folder.path + "/checks"
        command.out = folder.path + "/reports"
        let console = CapturingConsole()
        #expect(command.run(console: console, now: now) == ExitCode.ok, "\(console.all)")
        let index = try String(contentsOfFile: folder.path + "/reports/README.md", encoding: .utf8)
        #expect(index.contains("## Keep-warm"))
        #expect(index.contains("| 15m | 19 | 75.0% | 1 | 1 |"), "\(index)")
        let page = try String(contentsOfFile: folder.path + "/reports/checks/svc.md", encoding: .utf8)
        #expect(page.contains("1 gaps were longer"), "\(page)")
        #expect(page.contains("1 of 19 runs were cold starts"))
        command.json = true
        let json = CapturingConsole()
        #expect(command.run(console: json, now: now) == ExitCode.ok)
        #expect(json.stdout.contains("\"keep_warm\":[{\"check\":\"svc\",\"idle\":\"15m\""), "\(json.stdout)")
        #expect(json.stdout.contains("\"length_s\":1800"))
    }
}
