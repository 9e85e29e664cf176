import Foundation
import Synchronization
import Testing

@testable import SondeCLI
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeRun
@testable import SondeStore
@testable import SondeSupport

@Suite("Signs of life: sonde run's line once a minute")
struct LifeSignsTests {
    /// A prober over `files` on the manual clock `time`, without the scheduler's heartbeat (so the
    /// only sleepers are the schedule's and the sign of life's).
    static func prober(
        _ folder: TemporaryFolder, _ files: [String: String], time: ManualTimeSource, console: CapturingConsole
    ) throws -> Prober {
        for (name, source) in files { try folder.write("checks/\(name).hurl", source) }
        let (set, problems) = try CheckSet.load(folder.path + "/checks")
        #expect(problems.isEmpty)
        let writer = try RecordWriter(folder: DataFolder(folder.path + "/data"), now: { time.wallMs }, report: { _ in })
        var configuration = Prober.Configuration(
            checksFolder: folder.path + "/checks", location: "test-loc", variables: Variables())
        configuration.heartbeat = nil
        return Prober(
            configuration: configuration, checks: set, writer: writer,
            log: EventLog(format: .text, console: console), time: time)
    }

    /// The `alive` lines logged so far.
    static func lines(_ console: CapturingConsole) -> [String] {
        console.stderr.split(separator: "\n").map(String.init).filter { $0.contains(" info alive: ") }
    }

    @Test("each minute on the injected clock one line counts the runs, failures and open incidents since the last")
    func countsSinceTheLastLine() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let time = ManualTimeSource()
        let console = CapturingConsole()
        let prober = try Self.prober(
            folder,
            [
                "shop": "GET \(service.baseURL)/json\nHTTP 200\n",
                "search": "# @down-after 1\nGET \(service.baseURL)/status?code=503\nHTTP 200\n",
            ], time: time, console: console)
        let signs = LifeSigns(time: time, log: EventLog(format: .text, console: console)) { prober.totals }
        signs.start()
        defer { signs.stop() }
        try await time.waitForSleepers(1)
        #expect(time.nextDeadline == time.now + .seconds(60))

        _ = await prober.runOnce()
        #expect(Self.lines(console).isEmpty, "no line before the minute is up")
        time.advance(by: .seconds(60))
        #expect(await pollUntil { Self.lines(console).count == 1 }, "\(console.stderr)")
        #expect(
            Self.lines(console).last?.hasSuffix(
                "alive: 2 runs in the last 1 min 0 s, 1 failed, 0 late, 0 slots skipped; 1 incident open: search")
                == true, "\(Self.lines(console))")

        // The next line counts only what happened since this one; the incident is still open.
        try await time.waitForSleepers(1)
        _ = await prober.runOnce()
        _ = await prober.runOnce()
        time.advance(by: .seconds(60))
        #expect(await pollUntil { Self.lines(console).count == 2 }, "\(console.stderr)")
        #expect(
            Self.lines(console).last?.hasSuffix(
                "alive: 4 runs in the last 1 min 0 s, 2 failed, 0 late, 0 slots skipped; 1 incident open: search")
                == true, "\(Self.lines(console))")

        // A pause of 3 minutes gives one line that covers it, not three; then the minute grid again.
        try await time.waitForSleepers(1)
        time.advance(by: .seconds(200))
        #expect(await pollUntil { Self.lines(console).count == 3 }, "\(console.stderr)")
        #expect(
            Self.lines(console).last?.hasSuffix(
                "alive: 0 runs in the last 3 min 20 s, 0 failed, 0 late, 0 slots skipped; 1 incident open: search")
                == true, "\(Self.lines(console))")
        try await time.waitForSleepers(1)
        #expect(time.nextDeadline.map { $0 - time.now } == .seconds(40))
    }

    @Test("a run of the schedule that starts late counts as late, and the slots it skipped are counted")
    func lateRunsAndSkippedSlots() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let time = ManualTimeSource()
        let console = CapturingConsole()
        let prober = try Self.prober(
            folder, ["tick": "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n"], time: time, console: console)
        let signs = LifeSigns(time: time, log: EventLog(format: .text, console: console)) { prober.totals }
        signs.start()
        defer { signs.stop() }
        prober.start()
        try await time.waitForSleepers(2)
        // The earlier deadline is the check's first slot; the clock jumps 2.3 s past it: the run
        // starts at the latest due slot, 300 ms late, and the two slots before it are skipped.
        let slot = try #require(time.nextDeadline)
        #expect(slot < time.now + .seconds(2))
        time.advance(to: slot + .milliseconds(2300))
        #expect(await pollUntil { prober.recorded.runs == 1 }, "the run did not happen")
        #expect(await prober.stop(grace: .seconds(5)) == 0)
        #expect(prober.totals == LifeSigns.Totals(runs: 1, failed: 0, late: 1, skipped: 2))
        try await time.waitForSleepers(1)
        time.advance(to: try #require(time.nextDeadline))
        #expect(await pollUntil { Self.lines(console).count == 1 }, "\(console.stderr)")
        #expect(
            Self.lines(console).last?.contains(
                "alive: 1 run in the last 1 min 0 s, 0 failed, 1 late, 2 slots skipped; no incident open")
                == true, "\(Self.lines(console))")
    }

    @Test("the line's text and JSON fields; a count that went down shows 0; at most five names")
    func lineText() throws {
        let names = (1...7).map { "check-\($0)" }
        let (text, fields) = LifeSigns.line(
            LifeSigns.Totals(runs: 10, failed: 3, late: 1, skipped: 4, openIncidents: names),
            since: LifeSigns.Totals(runs: 9, failed: 3, late: 0, skipped: 6), elapsed: .seconds(61))
        #expect(
            text
                == "1 run in the last 1 min 1 s, 0 failed, 1 late, 0 slots skipped; 7 incidents open: check-1, check-2, check-3, check-4, check-5 and 2 more"
        )
        #expect(fields.map(\.0) == ["runs", "failed", "late", "skipped", "open_incidents"])
        #expect(fields.map(\.1) == ["1", "0", "1", "0", "7"])
        let console = CapturingConsole()
        EventLog(format: .json, console: console).info("alive", text, fields)
        guard case .object(let json) = try JSON.parse(console.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            Issue.record("not a JSON object: \(console.stderr)")
            return
        }
        let values = Dictionary(json.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(values["event"] == .string("alive"))
        #expect(values["runs"] == .string("1"))
        #expect(values["open_incidents"] == .string("7"))
    }

    @Test("sonde run logs the line unless --quiet (-q) is given")
    func quietOption() throws {
        for (arguments, quiet) in [([String](), false), (["--quiet"], true), (["-q"], true)] {
            guard case .run(let command) = try parseLine(["run"] + arguments) else {
                Issue.record("\(arguments) is not a run")
                continue
            }
            #expect(command.quiet == quiet, "\(arguments)")
        }
        #expect(CommandTable.helpText.command(RunSpec.spec).contains("--quiet"))
    }
}
