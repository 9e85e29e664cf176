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

/// `sonde status` over real data files written with `RunLine.encode`, at a fixed `now`.
@Suite struct StatusTests {
    /// 2026-11-23T12:00:00Z.
    static let nowMs = UTCTime.days(year: 2026, month: 11, day: 23) * UTCTime.msPerDay + 12 * UTCTime.msPerHour
    static let now = UTCTime.date(nowMs)
    static let s: Int64 = 1000
    static let hour = UTCTime.msPerHour

    /// Day files built in memory, in append order, then written into a temporary folder.
    struct Fixture {
        var files: [(name: String, bytes: [UInt8])] = []

        mutating func append(_ name: String, _ bytes: [UInt8]) {
            if let index = files.firstIndex(where: { $0.name == name }) {
                files[index].bytes += bytes
            } else {
                files.append((name, bytes))
            }
        }

        mutating func add(_ record: RunRecord) {
            append(Self.dayFile(record.check, record.time), RunLine.encode(record))
        }

        mutating func raw(_ check: String, at ms: Int64, _ text: String) {
            append(Self.dayFile(check, ms), Array(text.utf8))
        }

        static func dayFile(_ check: String, _ ms: Int64) -> String {
            "\(check)/runs-\(UTCTime.dayString(ms)).jsonl"
        }

        func write(to folder: TemporaryFolder) throws {
            for file in files { try folder.write(file.name, bytes: file.bytes) }
        }
    }

    static func run(
        _ check: String, at ms: Int64, ok: Bool = true, ms duration: Double = 100, loc: String = "eu",
        kind: String = "status", message: String = "failed"
    ) -> RunRecord {
        RunRecord(
            time: ms, check: check, location: loc, ok: ok, durationMs: duration, lateMs: 0,
            error: ok ? nil : RunError(kind: kind, entry: 1, line: 3, message: message))
    }

    static let longMessage =
        "entry 2 (line 14): expected HTTP status 201 but got 503 Service Unavailable from POST /api/cart/items"

    /// Four checks: `api-health` up (3,000 runs in 24 h, one bad, plus old runs and garbage lines),
    /// `checkout` down (2 bad of 3, a torn final line), `search` stale, `nightly` up once a day.
    static func standardFolder() throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        var fixture = Fixture()
        // Older than 24 h (22 Nov 11:00-11:04, and 21 Nov): slow failures that must not count.
        for k in 0..<5 {
            fixture.add(run("api-health", at: nowMs - 25 * hour + Int64(k) * 60 * s, ok: false, ms: 9999))
        }
        fixture.add(run("api-health", at: nowMs - 40 * hour, ok: false, ms: 9999))
        fixture.raw("api-health", at: nowMs, "not json\n")
        for i in 0..<3000 {
            let time = nowMs - 10 * s - Int64(2999 - i) * 28 * s
            fixture.add(run("api-health", at: time, ok: i != 1500, ms: Double(i % 100 + 1)))
            if i == 2500 {
                fixture.raw(
                    "api-health", at: time,
                    #"{"v":2,"t":"2026-11-23T10:00:00.000Z","check":"api-health","ok":true}"# + "\n")
            }
        }

        fixture.add(run("checkout", at: nowMs - 150 * s, ms: 120))
        fixture.add(
            run(
                "checkout", at: nowMs - 90 * s, ok: false, ms: 250, kind: "timeout",
                message: "run deadline 10s exceeded"))
        fixture.add(run("checkout", at: nowMs - 30 * s, ok: false, ms: 1234, kind: "status", message: longMessage))
        fixture.raw("checkout", at: nowMs, #"{"v":1,"t":"2026-11-23T11:59:59"#)

        for k in 0...60 {
            fixture.add(
                run(
                    "search", at: nowMs - 3 * hour + Int64(k) * 60 * s, ok: k != 60, ms: 40,
                    kind: "connect", message: "connection refused"))
        }

        for days in [3, 2, 1] as [Int64] {
            fixture.add(run("nightly", at: nowMs - 6 * hour - days * 24 * hour, ms: 2500))
        }
        try fixture.write(to: folder)
        try FileManager.default.createDirectory(atPath: folder.path + "/not-a-check", withIntermediateDirectories: true)
        return folder
    }

    static func status(_ folder: TemporaryFolder, colour: Bool = false) -> (Int32, CapturingConsole) {
        let console = CapturingConsole()
        let code = StatusCommand(data: folder.path).run(console: console, now: now, colour: colour)
        return (code, console)
    }

    static func rows(_ folder: TemporaryFolder) -> ([String: CheckStatus], ReadStats) {
        let reader = RunReader(folder: DataFolder(folder.path))
        var stats = ReadStats()
        var rows: [String: CheckStatus] = [:]
        for check in reader.folder.checks() {
            rows[check] = CheckStatus.compute(check: check, reader: reader, now: now, stats: &stats)
        }
        return (rows, stats)
    }

    @Test func theTablePrintsOneAlignedRowPerCheckWithItsFigures() throws {
        let folder = try Self.standardFolder()
        defer { folder.cleanup() }
        let (code, console) = Self.status(folder)
        #expect(code == ExitCode.ok)
        #expect(console.stderr == "")
        let lines = console.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let table = lines.prefix(5).joined(separator: "\n")
        #expect(
            table == """
                check       state    last run (UTC)            age  runs 24h  uptime 24h  p95 24h  last error
                api-health  up       2026-11-23 11:59:50Z  10s ago      3000     99.966%    95 ms  -
                checkout    down     2026-11-23 11:59:30Z  30s ago         3     33.333%    1.2 s  status: entry 2 (line 14): expected HTTP status 201 but got…
                nightly     up       2026-11-22 06:00:00Z   1d ago         0           -        -  -
                search      no data  2026-11-23 10:00:00Z   2h ago        61     98.360%    40 ms  -
                """)
        #expect(lines[5] == "")
    }

    @Test func theFooterCountsSkippedAndTornLinesAndNamesTheDataFolder() throws {
        let folder = try Self.standardFolder()
        defer { folder.cleanup() }
        let (_, console) = Self.status(folder)
        let first = folder.path + "/api-health/runs-2026-11-23.jsonl:1: malformed line: expected '{' at byte 0\n"
        #expect(
            console.stdout.contains(
                "\n3 lines skipped (1 torn final line, 1 of an unknown format version); first: \(first)"))
        #expect(console.stdout.hasSuffix("\ndata: \(folder.path) (4 checks: 2 up, 1 down, 1 no data)\n"))
    }

    @Test func upDownAndStaleFollowTheLatestRunAndTheTypicalInterval() throws {
        let folder = try Self.standardFolder()
        defer { folder.cleanup() }
        let (rows, stats) = Self.rows(folder)
        #expect(rows.keys.sorted() == ["api-health", "checkout", "nightly", "search"])
        #expect(rows["api-health"]?.state == .up)
        #expect(rows["api-health"]?.typicalIntervalMs == 28_000)
        #expect(rows["checkout"]?.state == .down)
        #expect(rows["checkout"]?.typicalIntervalMs == 60_000)
        #expect(rows["checkout"]?.staleAfterMs == 180_000)
        #expect(rows["checkout"]?.lastError?.message == Self.longMessage)
        // 2 h without a run at one a minute: the prober is not running, whatever the last run said.
        #expect(rows["search"]?.state == .noData)
        #expect(rows["search"]?.lastRun?.ok == false)
        #expect(rows["search"]?.lastError == nil)
        // Once a day: 30 h since the last run is within 3 intervals, so the state stands.
        #expect(rows["nightly"]?.state == .up)
        #expect(rows["nightly"]?.typicalIntervalMs == 24 * Self.hour)
        #expect(rows["nightly"]?.ageMs == 30 * Self.hour)
        #expect(stats.skipped == 3)
        #expect(stats.tornFinalLines == 1)
        #expect(stats.unknownVersion == 1)
        #expect(stats.lines == 3000 + 5 + 3 + 61 + 1)
    }

    @Test func runsOlderThan24HoursAreNotCountedAndP95IsTheNearestRank() throws {
        let folder = try Self.standardFolder()
        defer { folder.cleanup() }
        let (rows, _) = Self.rows(folder)
        let api = try #require(rows["api-health"])
        // 3,000 runs with durations 1...100 ms, 30 of each: rank ⌈0.95 × 3000⌉ = 2850 is the last 95.
        #expect(api.runs == 3000)
        #expect(api.good == 2999)
        #expect(api.p95Ms == 95)
        // Durations 120, 250, 1234: rank ⌈0.95 × 3⌉ = 3.
        #expect(rows["checkout"]?.p95Ms == 1234)
        #expect(rows["nightly"]?.runs == 0)
        #expect(rows["nightly"]?.p95Ms == nil)
    }

    @Test func aCheckIsStaleOnlyPastThreeIntervalsAndAtLeastAMinute() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var fixture = Fixture()
        // Every 10 s: 3 intervals is 30 s, but the threshold is at least 60 s.
        for k in 0..<10 { fixture.add(Self.run("fast", at: Self.nowMs - 60 * Self.s - Int64(9 - k) * 10 * Self.s)) }
        for k in 0..<10 { fixture.add(Self.run("faster", at: Self.nowMs - 61 * Self.s - Int64(9 - k) * 10 * Self.s)) }
        // A single run: no interval, the default 60 s is assumed (stale after 180 s).
        fixture.add(Self.run("once", at: Self.nowMs - 179 * Self.s))
        fixture.add(Self.run("once-old", at: Self.nowMs - 181 * Self.s))
        try fixture.write(to: folder)
        let (rows, _) = Self.rows(folder)
        #expect(rows["fast"]?.state == .up)
        #expect(rows["fast"]?.staleAfterMs == 60_000)
        #expect(rows["faster"]?.state == .noData)
        #expect(rows["once"]?.state == .up)
        #expect(rows["once"]?.typicalIntervalMs == nil)
        #expect(rows["once-old"]?.state == .noData)
    }

    @Test func withSeveralLocationsTheStateIsTheLatestRunsAndFiguresMergeLocations() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var fixture = Fixture()
        for k in 0..<5 {
            let time = Self.nowMs - Self.hour - Int64(4 - k) * 60 * Self.s
            fixture.add(Self.run("shop", at: time, ok: k != 4, loc: "us-east"))
            fixture.add(Self.run("shop", at: time + 20 * Self.s, loc: "eu-west"))
        }
        fixture.add(Self.run("shop", at: Self.nowMs - 50 * Self.s, ok: false, loc: "eu-west"))
        try fixture.write(to: folder)
        let (rows, _) = Self.rows(folder)
        let shop = try #require(rows["shop"])
        // eu-west's latest run failed 50 s ago: down, though us-east's last one was 1 h earlier.
        #expect(shop.state == .down)
        #expect(shop.lastRun?.location == "eu-west")
        #expect(shop.runs == 11)
        #expect(shop.good == 9)
        // The interval is eu-west's own: gaps of 60 s and one long gap (median 60 s).
        #expect(shop.typicalIntervalMs == 60_000)
    }

    @Test func uptimeIsTruncatedNeverRoundedUp() {
        #expect(StatusTable.uptime(good: 2999, runs: 3000) == "99.966%")
        #expect(StatusTable.uptime(good: 1, runs: 3) == "33.333%")
        #expect(StatusTable.uptime(good: 2, runs: 3) == "66.666%")
        #expect(StatusTable.uptime(good: 999_996, runs: 1_000_000) == "99.999%")
        #expect(StatusTable.uptime(good: 3000, runs: 3000) == "100.000%")
        #expect(StatusTable.uptime(good: 0, runs: 7) == "0.000%")
        #expect(StatusTable.uptime(good: 0, runs: 0) == "-")
    }

    @Test func timesAndIntervalsReadAsInTheTable() {
        #expect(StatusTable.time(Self.nowMs + 7 * Self.s + 999) == "2026-11-23 12:00:07Z")
        #expect(CheckStatus.typicalInterval([0, 60, 180]) == 90)
        #expect(CheckStatus.typicalInterval([42]) == nil)
    }

    @Test func colourCodesAppearOnlyWhenAskedFor() throws {
        let folder = try Self.standardFolder()
        defer { folder.cleanup() }
        let (_, plain) = Self.status(folder, colour: false)
        #expect(!plain.stdout.contains("\u{1B}"))
        let (_, coloured) = Self.status(folder, colour: true)
        #expect(coloured.stdout.contains("\u{1B}[32mup\u{1B}[0m       2026-11-23 11:59:50Z"))
        #expect(coloured.stdout.contains("\u{1B}[31mdown\u{1B}[0m     2026-11-23 11:59:30Z"))
        #expect(coloured.stdout.contains("\u{1B}[33mno data\u{1B}[0m  2026-11-23 10:00:00Z"))
    }

    @Test func colourNeedsATerminalAndNoNO_COLOR() {
        #expect(StatusTable.shouldColour(isTerminal: true, environment: [:]))
        #expect(!StatusTable.shouldColour(isTerminal: false, environment: [:]))
        #expect(!StatusTable.shouldColour(isTerminal: true, environment: ["NO_COLOR": "1"]))
        #expect(StatusTable.shouldColour(isTerminal: true, environment: ["NO_COLOR": ""]))
    }

    @Test func longAndNonASCIINamesKeepColumnsAligned() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var fixture = Fixture()
        let names = ["a", "vérification-du-panier-après-connexion-très-longue", "\u{1B}[2Jevil"]
        for name in names { fixture.add(Self.run(name, at: Self.nowMs - 5 * Self.s)) }
        try fixture.write(to: folder)
        let (code, console) = Self.status(folder)
        #expect(code == ExitCode.ok)
        let lines = console.stdout.split(separator: "\n").map(String.init).prefix(4)
        let offsets = lines.map { line in
            (line.range(of: "  up ") ?? line.range(of: "  state")).map {
                line.distance(from: line.startIndex, to: $0.lowerBound)
            }
        }
        #expect(Set(offsets).count == 1, "\(lines)")
        // An escape in a name (a folder name is data) never reaches the terminal.
        #expect(!console.stdout.contains("\u{1B}"))
        #expect(console.stdout.contains(" [2Jevil"))
    }

    @Test func aMissingDataFolderExits1AndSaysHowToStartTheProber() {
        let path = NSTemporaryDirectory() + "sonde-test-missing-" + UUID().uuidString
        let console = CapturingConsole()
        let code = StatusCommand(data: path).run(console: console, now: Self.now, colour: false)
        #expect(code == 1)
        #expect(console.stdout == "")
        #expect(console.stderr == "error: no data folder \(path): start the prober with 'sonde run --data \(path)'\n")
    }

    @Test func anEmptyDataFolderExits1AndNamesTheFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try FileManager.default.createDirectory(atPath: folder.path + "/empty-check", withIntermediateDirectories: true)
        let (code, console) = Self.status(folder)
        #expect(code == 1)
        #expect(console.stdout == "")
        #expect(
            console.stderr
                == "error: no run data in \(folder.path): start the prober with 'sonde run --data \(folder.path)'\n")
    }

    @Test func theExecutableWiresStatusWithDataAndSuggestsMisspeltOptions() async throws {
        let folder = try Self.standardFolder()
        defer { folder.cleanup() }
        let misspelt = try await offPool { try CLITests.runSonde(["status", "--dta", folder.path]) }
        #expect(misspelt.code == 1)
        #expect(misspelt.err.hasPrefix("error: unknown option --dta for 'sonde status' (did you mean --data?)\n"))
        let result = try await offPool { try CLITests.runSonde(["status", "--data=" + folder.path]) }
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.hasPrefix("check       state"))
        // Standard output is a pipe here: no colour.
        #expect(!result.out.contains("\u{1B}"))
        let help = try await offPool { try CLITests.runSonde(["status", "--help"]) }
        #expect(help.out.contains("--data DIR"))
    }
}
