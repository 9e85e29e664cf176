import Foundation
import Testing

@testable import SondeScript
@testable import SondeSupport

@Suite("Threshold rules: # @alert parses, and bad rules say where")
struct ThresholdRuleParserTests {
    static func settings(_ directives: String) throws -> MonitorSettings {
        try ScriptParser.parse(source: directives + "\nGET http://x/\nHTTP 200\n", path: "checks/t.hurl").settings
    }

    @Test("the three plans of the issue parse into rules with their metric, threshold, window and severity")
    func plans() throws {
        let fastAPI = try Self.settings("# @every 30s\n# @alert mean > 2000ms for 5m\n# @alert error-rate > 5% for 5m")
        #expect(fastAPI.alerts.count == 2)
        #expect(fastAPI.alerts[0].metric == .mean && fastAPI.alerts[0].threshold == 2000)
        #expect(fastAPI.alerts[0].severity == .warning, "warning is the default")
        #expect(fastAPI.alerts[1].metric == .errorRate && fastAPI.alerts[1].threshold == 5)
        #expect(fastAPI.alerts[1].windowMs == 300_000)

        let flask = try Self.settings(
            "# @alert p95 > 2s for 5m critical\n#   @alert   failures  >  10/1m  for 5m critical\n"
                + "# @alert p95 > 1s for 10m warning")
        #expect(
            flask.alerts.map(\.text) == [
                "p95 > 2s for 5m critical", "failures > 10/1m for 5m critical", "p95 > 1s for 10m warning",
            ])
        #expect(flask.alerts[0].threshold == 2000 && flask.alerts[0].severity == .critical)
        #expect(
            flask.alerts[1].metric == .failures && flask.alerts[1].threshold == 10 && flask.alerts[1].perMs == 60_000)
        #expect(flask.alerts[2].windowMs == 600_000)
    }

    @Test("every metric and comparison reads; values take ms, s or a decimal; failures may be a plain count")
    func metricsAndComparisons() throws {
        let s = try Self.settings(
            "# @every 1s\n# @alert p50 >= 1.5s for 5s\n# @alert p99 < 800ms for 1m\n# @alert ttfb-p95 <= 250ms for 30s\n"
                + "# @alert failures > 3 for 10m warning")
        #expect(s.alerts.map(\.metric) == [.p50, .p99, .ttfbP95, .failures])
        #expect(s.alerts.map(\.comparison) == [.atLeast, .below, .atMost, .above])
        #expect(s.alerts[0].threshold == 1500 && s.alerts[0].windowMs == 5_000)
        #expect(s.alerts[3].perMs == nil && s.alerts[3].threshold == 3)
    }

    @Test("an unknown metric is named at its column, with the closest known one")
    func unknownMetric() throws {
        let error = try #require(parseError("# @alert p59 > 2s for 5m\nGET http://x/\n"))
        #expect(error.location == loc(1, 10))
        #expect(
            error.message.contains("unknown metric 'p59'") || error.message.contains("unknown metric p59"), "\(error)")
        #expect(error.message.contains("did you mean p50?") || error.message.contains("did you mean p95?"), "\(error)")
        #expect(error.description.hasPrefix("checks/t.hurl:1:10: "))
    }

    @Test("a rule without for, or with another word there, points at where for belongs")
    func missingFor() throws {
        let missing = try #require(parseError("# @alert p95 > 2s\nGET http://x/\n"))
        #expect(missing.location == loc(1, 18))
        #expect(missing.message.contains("expected `for` and a window"), "\(missing)")
        let other = try #require(parseError("# @alert p95 > 2s over 5m\nGET http://x/\n"))
        #expect(other.location == loc(1, 19))
        let noWindow = try #require(parseError("# @alert p95 > 2s for\nGET http://x/\n"))
        #expect(noWindow.message.contains("expected a window such as 5m"), "\(noWindow)")
    }

    @Test("a window shorter than @every, or holding fewer than 3 runs, is refused at the window, whatever the order")
    func windowShorterThanInterval() throws {
        let shorter = try #require(parseError("# @alert p95 > 2s for 30s\n# @every 1m\nGET http://x/\n"))
        #expect(shorter.location == loc(1, 23))
        #expect(shorter.message.contains("is shorter than @every 1m"), "\(shorter)")
        #expect(shorter.message.contains("use for 3m or more"), "\(shorter)")
        let twoRuns = try #require(parseError("# @every 1m\n# @alert p95 > 2s for 2m\nGET http://x/\n"))
        #expect(twoRuns.location == loc(2, 23))
        #expect(twoRuns.message.contains("holds fewer than 3 runs"), "\(twoRuns)")
    }

    @Test("a window under 5 s is refused even when @every allows it")
    func windowUnderFiveSeconds() throws {
        let error = try #require(parseError("# @every 1s\n# @alert error-rate > 5% for 4s\nGET http://x/\n"))
        #expect(error.location == loc(2, 30))
        #expect(error.message.contains("at least 5s"), "\(error)")
    }

    @Test("an unknown severity, a bad comparison, a bad value and extra words are each refused at their column")
    func badParts() throws {
        let severity = try #require(parseError("# @alert p95 > 2s for 5m urgent\nGET http://x/\n"))
        #expect(severity.location == loc(1, 26))
        #expect(severity.message.contains("expected critical or warning"), "\(severity)")
        let comparison = try #require(parseError("# @alert p95 => 2s for 5m\nGET http://x/\n"))
        #expect(comparison.location == loc(1, 14))
        let unitless = try #require(parseError("# @alert p95 > 2 for 5m\nGET http://x/\n"))
        #expect(unitless.location == loc(1, 16))
        #expect(unitless.message.contains("2000ms"), "\(unitless)")
        let share = try #require(parseError("# @alert error-rate > 5 for 5m\nGET http://x/\n"))
        #expect(share.message.contains("such as 5%"), "\(share)")
        let rate = try #require(parseError("# @alert failures > 10/x for 5m\nGET http://x/\n"))
        #expect(rate.location == loc(1, 24))
        let extra = try #require(parseError("# @alert p95 > 2s for 5m critical now\nGET http://x/\n"))
        #expect(extra.location == loc(1, 35))
        let empty = try #require(parseError("# @alert\nGET http://x/\n"))
        #expect(empty.message.contains("expected a rule such as p95 > 2s for 5m critical"), "\(empty)")
        let twice = try #require(parseError("# @alert p95 > 2s for 5m\n# @alert p95 > 2s for 5m\nGET http://x/\n"))
        #expect(twice.location.line == 2 && twice.message.contains("given twice"), "\(twice)")
    }

    @Test("a value formats in the metric's unit")
    func formatting() throws {
        let s = try Self.settings(
            "# @alert p95 > 2s for 5m\n# @alert error-rate > 5% for 5m\n# @alert failures > 10/1m for 5m")
        #expect(s.alerts[0].format(2310) == "2.31 s" && s.alerts[0].format(412.34) == "412.3 ms")
        #expect(s.alerts[1].format(7.5) == "7.5%")
        #expect(s.alerts[2].format(10.4) == "10.4 failures/1m")
    }
}
