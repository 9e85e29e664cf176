import Foundation
import Testing

@testable import SondeDaemon
@testable import SondeScript
@testable import SondeStore
@testable import SondeSupport

@Suite("Metrics: the run duration histogram, check info and shard info")
struct RunMetricsTests {
    /// A parsed check called `name` with these directives.
    static func script(_ name: String, _ directives: String) throws -> CheckScript {
        try ScriptParser.parse(source: directives + "GET http://127.0.0.1:9/\nHTTP 200\n", path: "checks/\(name).hurl")
    }

    /// A finished run of `check` that took `ms`.
    static func run(_ check: String, ms: Double, ok: Bool = true) -> RunRecord {
        RunRecord(
            time: 1_790_000_000_000, check: check, location: "a", ok: ok, durationMs: ms, lateMs: 0,
            error: ok ? nil : RunError(kind: "status", entry: 1, line: 2, message: "500"))
    }

    @Test("the histogram counts passed runs in buckets that include the check's @latency threshold")
    func histogramHasThresholdBucket() throws {
        let metrics = ProberMetrics(location: "a")
        metrics.setChecks([try Self.script("shop", "# @every 30s\n# @latency 300ms 99%\n")])
        for ms in [200.0, 350, 3] { metrics.record(Self.run("shop", ms: ms), lateness: .zero) }
        metrics.record(Self.run("shop", ms: 100, ok: false), lateness: .zero)
        let text = metrics.render(skipped: [:], dropped: 0)
        let series = "sonde_run_duration_seconds_bucket{check=\"shop\",location=\"a\","
        #expect(text.contains("# TYPE sonde_run_duration_seconds histogram\n"))
        #expect(text.contains(series + "le=\"0.005\"} 1\n"))
        #expect(text.contains(series + "le=\"0.25\"} 2\n"))
        #expect(text.contains(series + "le=\"0.3\"} 2\n"), "the @latency bucket: \(text)")
        #expect(text.contains(series + "le=\"0.5\"} 3\n"))
        #expect(text.contains(series + "le=\"+Inf\"} 3\n"))
        #expect(
            text.contains("sonde_run_duration_seconds_count{check=\"shop\",location=\"a\"} 3\n"),
            "failed runs are left out")
        #expect(text.contains("sonde_run_duration_seconds_sum{check=\"shop\",location=\"a\"} 0.553\n"))
        #expect(text.contains("sonde_runs_total{check=\"shop\",location=\"a\",result=\"status\"} 1\n"))
    }

    @Test("a threshold already among the default bounds is not repeated, and no threshold adds none")
    func boundsWithoutDuplicates() throws {
        let half = ProberMetrics.CheckInfo(settings: try Self.script("x", "# @latency 500ms 99%\n").settings)
        #expect(half.durationBounds == ProberMetrics.durationBounds)
        let none = ProberMetrics.CheckInfo(settings: try Self.script("y", "").settings)
        #expect(none.durationBounds == ProberMetrics.durationBounds && none.latencyThreshold == nil)
        let slow = ProberMetrics.CheckInfo(settings: try Self.script("z", "# @latency 30s 90%\n").settings)
        #expect(slow.durationBounds.last == 30 && slow.durationBounds == slow.durationBounds.sorted())
    }

    @Test("sonde_check_info carries interval, objective and latency threshold; sonde_shard_info the shard")
    func infoMetrics() throws {
        let metrics = ProberMetrics(location: "a", shard: try Shard(index: 2, count: 3))
        metrics.setChecks([
            try Self.script("fast", "# @every 1500ms\n# @slo 99.95% 7d\n# @latency 250ms 95%\n"),
            try Self.script("plain", ""),
        ])
        let text = metrics.render(skipped: [:], dropped: 0)
        #expect(
            text.contains(
                "sonde_check_info{check=\"fast\",location=\"a\",interval=\"1.5\",objective=\"0.9995\",latency_threshold=\"0.25\"} 1\n"
            ))
        #expect(
            text.contains(
                "sonde_check_info{check=\"plain\",location=\"a\",interval=\"60\",objective=\"0.999\",latency_threshold=\"\"} 1\n"
            ))
        #expect(text.contains("sonde_shard_info{location=\"a\",shard=\"2/3\"} 1\n"))
        #expect(text.components(separatedBy: "# TYPE sonde_check_info gauge").count == 2)
    }

    @Test("a reload that changes the threshold starts the check's histogram again with the new bucket")
    func reloadChangesBuckets() throws {
        let metrics = ProberMetrics(location: "a")
        metrics.setChecks([try Self.script("shop", "# @latency 300ms 99%\n")])
        metrics.record(Self.run("shop", ms: 200), lateness: .zero)
        metrics.setChecks([try Self.script("shop", "# @latency 300ms 99%\n# @every 10s\n")])
        #expect(metrics.render(skipped: [:], dropped: 0).contains("le=\"0.3\"} 1\n"), "same bounds: counts kept")
        metrics.setChecks([try Self.script("shop", "# @latency 400ms 99%\n")])
        let text = metrics.render(skipped: [:], dropped: 0)
        #expect(!text.contains("le=\"0.3\""))
        #expect(text.contains("sonde_run_duration_seconds_bucket{check=\"shop\",location=\"a\",le=\"0.4\"} 0\n"))
        #expect(
            text.contains(
                "sonde_check_info{check=\"shop\",location=\"a\",interval=\"60\",objective=\"0.999\",latency_threshold=\"0.4\"} 1\n"
            ))
    }

    @Test("the whole text with the new families passes promtool check metrics")
    func promtoolAccepts() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let metrics = ProberMetrics(location: "a", shard: try Shard(index: 1, count: 2))
        metrics.setChecks([
            try Self.script("shop", "# @latency 300ms 99%\n"), try Self.script("other", "# @latency 2s 99%\n"),
            try Self.script("plain", ""),
        ])
        for ms in [12.5, 280, 420, 1900] {
            metrics.record(Self.run("shop", ms: ms), lateness: .zero)
            metrics.record(Self.run("other", ms: ms), lateness: .zero)
        }
        metrics.record(Self.run("plain", ms: 5, ok: false), lateness: .zero)
        let text = metrics.render(skipped: [:], dropped: 0)
        #expect(text.contains("sonde_last_run_phase_seconds{check=\"shop\",location=\"a\",phase=\"total\"} 1.9\n"))
        #expect(text.contains("sonde_run_duration_seconds_bucket{check=\"other\",location=\"a\",le=\"2\"} 4\n"))
        #expect(text.contains("sonde_run_duration_seconds_count{check=\"plain\",location=\"a\"} 0\n"))
        let file = try folder.write("metrics.txt", text)
        let (code, output) = try await offPool { try ProberTests.promtool(["check", "metrics"], stdin: file) }
        #expect(code == 0, "promtool check metrics: \(output)\n\(text)")
    }
}
