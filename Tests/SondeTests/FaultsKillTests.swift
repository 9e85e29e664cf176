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

extension Faults {
    /// Fault area 2: `sonde run` killed with SIGKILL at seeded random moments and started again, then
    /// stopped with SIGTERM. Afterwards every line of every data file must decode, except torn final
    /// fragments present at a kill, which the next start must have ended with a newline (docs/data-format.md,
    /// "torn last line"); and nothing may be missing but runs in flight at a kill.
    ///
    /// Tolerance, from the schedule (slots at wall times offset + k·interval, `Scheduler`): every slot
    /// that came after the start log line and more than 1.5 s before a kill has its line (a run here takes
    /// at most 300 ms and the writer follows within its 100 ms batch window; the rest is margin for a loaded machine); over all
    /// kills at most one slot per check per kill is missing (the run in flight); no slot has two lines;
    /// no line falls outside the time the prober was alive.
    @Suite("Faults: sonde run killed with SIGKILL at random moments")
    struct FaultsKillTests {
        static let kills = FaultSize.pick(fast: 3, full: 20)
        static let inFlightMarginMs: Int64 = 1500

        static let checks: [(name: String, every: Int64, body: String)] = [
            ("json", 1000, "GET {{base}}/json\nHTTP 200\n"),
            ("text", 1000, "GET {{base}}/text\nHTTP 200\n"),
            ("slow", 1000, "GET {{base}}/slow\nHTTP 200\n"),
            ("down", 1000, "# @down-after 1\nGET {{base}}/status?code=503\nHTTP 200\n"),
            ("two", 2000, "GET {{base}}/json\nHTTP 200\n"),
        ]

        struct Life {
            var spawned: Int64
            var started: Int64
            var ended: Int64
            var killed: Bool
        }

        @Test(
            "killed at seeded random moments and restarted: every line whole, a torn tail repaired, only runs in flight lost"
        )
        func killAndRestart() async throws {
            let service = try TestService()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            for check in Self.checks {
                try folder.write(
                    "checks/\(check.name).hurl",
                    "# @every \(check.every / 1000)s\n"
                        + check.body.replacingOccurrences(of: "{{base}}", with: service.baseURL))
            }
            let data = folder.path + "/data"
            var rng = SplitMix64(state: 0x5161_0C11)
            var lives: [Life] = []
            var fragments: [String: Set<Int>] = [:]
            var injected: String?

            for index in 0...Self.kills {
                let last = index == Self.kills
                let spawned = UTCTime.milliseconds(Date())
                let daemon = try SondeProcess(["run"], in: folder.path, tag: "life-\(index)")
                let startLine = try #require(try await daemon.awaitLog(" start: "), "life \(index): \(daemon.stderr)")
                let started = try #require(SondeProcess.logTime(startLine))
                let alive = last ? 2.0 : Double.random(in: 0.3...2.5, using: &rng)
                try await Task.sleep(for: .milliseconds(Int(alive * 1000)))
                let ended = UTCTime.milliseconds(Date())
                if last {
                    daemon.signal(SIGTERM)
                    #expect(
                        try await daemon.finish(timeout: .seconds(15)) == .exited(0), "\(daemon.stderr.suffix(400))")
                } else {
                    daemon.signal(SIGKILL)
                    #expect(try await daemon.finish(timeout: .seconds(15)) == .signalled(SIGKILL))
                }
                lives.append(Life(spawned: spawned, started: started, ended: ended, killed: !last))
                if last { break }
                if index == 0 {
                    // A torn write, as a crash mid-line would leave it: the next start must end it with a newline.
                    let file = try #require(
                        DataFolder(data).runFiles(check: "json").last?.path, "json wrote in the first life")
                    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
                    handle.seekToEndOfFile()
                    handle.write(Data(#"{"v":1,"t":"2026-11-23T07:00:3"#.utf8))
                    try handle.close()
                    injected = file
                }
                for (path, offset) in DataFiles.unfinishedTails(data) { fragments[path, default: []].insert(offset) }
            }

            let files = try DataFiles(data, allowedFragments: fragments)
            #expect(files.problems.isEmpty, "lines that do not decode: \(files.problems)")
            for fragment in files.fragments where !fragment.path.hasSuffix("incidents.jsonl") {
                #expect(fragment.repaired, "\(fragment.path) at byte \(fragment.offset): torn, and no newline after it")
            }
            #expect(
                files.fragments.contains { $0.path == injected && $0.repaired }, "the injected torn tail was repaired")
            #expect(files.events >= 1, "the failing check opened an incident in incidents.jsonl")

            var lost = 0
            var expected = 0
            for check in Self.checks {
                let runs = files.records.filter { $0.check == check.name }
                let offset = Int64(Scheduler.offset(of: check.name, interval: .milliseconds(check.every)).milliseconds)
                func slot(of time: Int64) -> Int64 {
                    let k = ((Double(time - offset) / Double(check.every))).rounded()
                    return offset + Int64(k) * check.every
                }
                var seen: Set<Int64> = []
                for run in runs {
                    let s = slot(of: run.time)
                    #expect(seen.insert(s).inserted, "\(check.name): two runs for the slot at \(UTCTime.rfc3339(s))")
                    #expect(
                        abs(run.time - s) < check.every / 2,
                        "\(check.name): run at \(UTCTime.rfc3339(run.time)) far from its slot")
                    #expect(
                        lives.contains { run.time >= $0.spawned && run.time <= $0.ended + 100 },
                        "\(check.name): run at \(UTCTime.rfc3339(run.time)) when no prober was alive")
                }
                for life in lives {
                    var s = slot(of: life.started)
                    if s <= life.started { s += check.every }
                    while s <= life.ended {
                        let sure = s <= life.ended - (life.killed ? Self.inFlightMarginMs : 200)
                        expected += 1
                        if !seen.contains(s) {
                            lost += 1
                            #expect(
                                !sure,
                                "\(check.name): the slot at \(UTCTime.rfc3339(s)) came \(life.ended - s) ms before the \(life.killed ? "kill" : "stop") and has no line"
                            )
                        }
                        s += check.every
                    }
                }
            }
            #expect(
                lost <= Self.kills * Self.checks.count, "\(lost) of \(expected) slots lost over \(Self.kills) kills")
            #expect(expected >= Self.checks.count, "the prober was alive long enough to run: \(expected) slots")
        }

        @Test("stopped with SIGTERM while the writer gathers a batch: every run it counted is a line on disk")
        func sigtermKeepsEveryRecord() async throws {
            let service = try TestService()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let prober = try await FaultsDiskTests.Prober(folder, service: service)
            #expect(try await prober.wait { prober.lines("a") >= 2 && prober.lines("b") >= 2 }, "both checks wrote")
            let (runs, dropped) = try await prober.stop()
            #expect(dropped == 0)
            let files = try DataFiles(prober.data)
            #expect(files.problems.isEmpty, "\(files.problems)")
            #expect(runs >= 4)
            #expect(files.records.count == runs, "\(files.records.count) lines for \(runs) runs recorded")
        }
    }
}
