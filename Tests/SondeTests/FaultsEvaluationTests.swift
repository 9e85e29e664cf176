import Foundation
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

#if canImport(Glibc)
    import Glibc
#endif

extension Faults {
    /// Fault area 7: what a check's author writes can be expensive (a regex over 8 MB, descendant
    /// JSONPath over a million nodes), and the process can be paused. Neither may delay another
    /// check, hold up a shutdown, or make runs pile up.
    @Suite("Faults: heavy evaluations, SIGTERM while evaluating, SIGSTOP / SIGCONT")
    struct FaultsEvaluationTests {
        static let seconds = FaultSize.pick(fast: 6.0, full: 20.0)
        /// Largest `late_ms` accepted for the healthy check (see FaultsHungChecksTests).
        static let lateToleranceMs = 250.0

        /// A check that scans `/aaaa` (8 MB of `a`) with regexes, and one that walks `/many` (a
        /// million JSON nodes) with descendant queries: seconds of work each in a debug build.
        static func heavyChecks(_ base: String, timeout: String) -> [String: String] {
            var regex = "# @every 1s\n# @timeout \(timeout)\nGET \(base)/aaaa\nHTTP 200\n[Asserts]\n"
            for _ in 0..<4 { regex += "body matches \"(a*)*b\"\n" }
            var jsonpath = "# @every 1s\n# @timeout \(timeout)\nGET \(base)/many\nHTTP 200\n[Asserts]\n"
            for _ in 0..<8 { jsonpath += "jsonpath \"$..v\" count > 0\n" }
            return ["regex": regex, "jsonpath": jsonpath]
        }

        @Test(
            "a catastrophic regex and a huge JSONPath time out at @timeout, saying so, while a 1 s check stays on time")
        func heavyBesideHealthy() async throws {
            let service = try TestService()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            try folder.write("checks/healthy.hurl", "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n")
            for (name, source) in Self.heavyChecks(service.baseURL, timeout: "2s") {
                try folder.write("checks/\(name).hurl", source)
            }
            let daemon = try SondeProcess(["run", "--metrics", "127.0.0.1:0"], in: folder.path, tag: "run")
            let startLine = try #require(try await daemon.awaitLog(" start: "), "sonde run started: \(daemon.stderr)")
            let port = try #require(SondeProcess.metricsPort(in: startLine), "\(startLine)")
            let started = try #require(SondeProcess.logTime(startLine))

            try await Task.sleep(for: .seconds(Self.seconds / 2))
            let health = try await offPool {
                try RawHTTPClient(port: port, timeoutSeconds: 5).request("GET", "/healthz")
            }
            #expect(health.status == 200, "the scheduler keeps its heartbeat while evaluations run")
            try await Task.sleep(for: .seconds(Self.seconds / 2))

            let stopped = UTCTime.milliseconds(Date())
            daemon.signal(SIGTERM)
            #expect(try await daemon.finish(timeout: .seconds(20)) == .exited(0), "\(daemon.stderr.suffix(500))")

            let files = try DataFiles(folder.path + "/data")
            #expect(files.problems.isEmpty, "\(files.problems)")
            let byCheck = Dictionary(grouping: files.records, by: \.check)

            // The healthy check: a good run for every slot, each on time.
            let healthy = (byCheck["healthy"] ?? []).sorted { $0.time < $1.time }
            let missing = DataFiles.missingSlots(of: "healthy", in: healthy, startedMs: started, stoppedMs: stopped)
            #expect(missing.isEmpty, "healthy runs missing at \(missing)")
            let healthyFailures = healthy.filter { !$0.ok }.map { $0.error?.message ?? "" }
            #expect(healthyFailures.isEmpty, "healthy failures: \(healthyFailures)")
            let worst = healthy.map(\.lateMs).max() ?? .infinity
            #expect(worst < Self.lateToleranceMs, "healthy late_ms up to \(worst)")

            // The heavy checks: timeouts at their 2 s, recorded as evaluating.
            for name in ["regex", "jsonpath"] {
                let runs = byCheck[name] ?? []
                #expect(runs.count >= 2, "\(name): \(runs.count) runs")
                for run in runs {
                    #expect(run.error?.kind == "timeout", "\(name): \(String(describing: run.error))")
                    #expect(
                        run.error?.message.contains("timed out after 2s while evaluating the asserts of entry 1")
                            == true,
                        "\(name): \(run.error?.message ?? "")")
                    #expect(run.durationMs < 3_000, "\(name): a run took \(run.durationMs) ms for @timeout 2s")
                }
            }
        }

        @Test("SIGTERM while evaluations are still going exits within the 5 s grace, the runs cancelled")
        func sigtermWhileEvaluating() async throws {
            let service = try TestService()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            // A minute of @timeout: nothing but the shutdown ends these evaluations.
            for (name, source) in Self.heavyChecks(service.baseURL, timeout: "60s") {
                try folder.write("checks/\(name).hurl", source)
            }
            let daemon = try SondeProcess(["run"], in: folder.path, tag: "run")
            #expect(try await daemon.awaitLog(" start: ") != nil, "sonde run started: \(daemon.stderr)")
            // Both runs have their bodies and are evaluating once the service has answered twice
            // and a moment has passed.
            try await Task.sleep(for: .seconds(3))
            let signalled = ContinuousClock.now
            daemon.signal(SIGTERM)
            let outcome = try await daemon.finish(timeout: .seconds(30))
            let took = ContinuousClock.now - signalled
            #expect(outcome == .exited(0), "\(daemon.stderr.suffix(500))")
            // The grace is 5 s; the rest is flushing files on a busy machine.
            #expect(took < .seconds(7), "SIGTERM took \(took)")
            #expect(daemon.stderr.contains("cancelled in flight"), "\(daemon.stderr.suffix(500))")
        }

        @Test(
            "after SIGSTOP and SIGCONT each check runs once, at its current slot; the missed slots are skipped and counted"
        )
        func pauseRunsEachCheckOnce() async throws {
            let service = try TestService()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let names = ["one", "two", "three"]
            for name in names {
                try folder.write("checks/\(name).hurl", "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n")
            }
            let daemon = try SondeProcess(["run", "--metrics", "127.0.0.1:0"], in: folder.path, tag: "run")
            let startLine = try #require(try await daemon.awaitLog(" start: "), "sonde run started: \(daemon.stderr)")
            let port = try #require(SondeProcess.metricsPort(in: startLine), "\(startLine)")
            let data = folder.path + "/data"
            func counts() -> [String: Int] {
                let records = (try? DataFiles(data).records) ?? []
                return Dictionary(grouping: records, by: \.check).mapValues(\.count)
            }
            #expect(await pollUntil { names.allSatisfy { counts()[$0, default: 0] >= 2 } }, "\(counts())")

            // A pause of 4 s: four slots of every check pass while the process is stopped.
            daemon.signal(SIGSTOP)
            let pausedAt = UTCTime.milliseconds(Date())
            try await Task.sleep(for: .seconds(4))
            let resumedAt = UTCTime.milliseconds(Date())
            daemon.signal(SIGCONT)
            // Two more slots of each check after the resume.
            #expect(await pollUntil { names.allSatisfy { counts()[$0, default: 0] >= 5 } }, "\(counts())")
            try await Task.sleep(for: .seconds(2))
            let metrics = await fetchMetrics(port: port)
            daemon.signal(SIGTERM)
            #expect(try await daemon.finish(timeout: .seconds(20)) == .exited(0), "\(daemon.stderr.suffix(500))")

            let files = try DataFiles(data)
            for name in names {
                let runs = files.records.filter { $0.check == name }.sorted { $0.time < $1.time }
                let shown = "\(runs.map { ($0.time - pausedAt, $0.lateMs) }), resumed at \(resumedAt - pausedAt)"
                // No slot is replayed: every run is less than an interval late (a replayed slot from
                // before the pause would be seconds late), and no slot runs twice.
                #expect(runs.allSatisfy { $0.lateMs < 1_000 }, "\(name): \(shown)")
                for (previous, next) in zip(runs, runs.dropFirst()) {
                    let gap = (Double(next.time) - next.lateMs) - (Double(previous.time) - previous.lateMs)
                    #expect(gap > 990, "\(name): two runs for one slot: \(shown)")
                }
                // The first run after the pause is the current slot's, as soon as the process resumes.
                let firstAfter = try #require(runs.first { $0.time >= pausedAt + 900 }, "\(name): \(shown)")
                #expect(firstAfter.time >= resumedAt - 50, "\(name) ran during the pause: \(shown)")
                #expect(firstAfter.time < resumedAt + 1_000, "\(name): \(shown)")
                let skipped =
                    metricValue(metrics, "sonde_runs_skipped_total{check=\"\(name)\",location=\"local\"}") ?? 0
                #expect(skipped >= 2 && skipped <= 5, "\(name): \(skipped) slots skipped for a 4 s pause")
            }
        }
    }
}
