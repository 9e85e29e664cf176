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

/// A run of check `shop` for the reader and writer tests.
func run(_ time: Int64, ok: Bool = true, ms: Double = 100, loc: String = "eu", kind: String? = nil) -> RunRecord {
    RunRecord(
        time: time, check: "shop", location: loc, ok: ok, durationMs: ms, lateMs: 0,
        error: ok ? nil : RunError(kind: kind ?? "status", entry: 1, line: 2, message: "boom"),
        steps: [
            RunStep(
                status: ok ? 200 : 503,
                timings: PhaseTimings(dns: 1, connect: 2, tls: 3, ttfb: 4, transfer: 5, total: 15, bytes: 10))
        ])
}

func lines(_ records: RunRecord...) -> String {
    records.map { String(decoding: RunLine.encode($0), as: UTF8.self) }.joined()
}

/// An hour line with the given counts (good and fast equal to runs unless given).
func hourLine(_ hour: Int64, loc: String = "eu", runs: Int64, good: Int64? = nil, fast: Int64? = nil) -> String {
    var rollup = HourRollup(hour: hour, check: "shop", location: loc, fastMs: nil)
    rollup.runs = runs
    rollup.good = good ?? runs
    rollup.fast = fast ?? good ?? runs
    return String(decoding: HourLine.encode(rollup), as: UTF8.self)
}

@Suite("Store: reading a data folder", .cpuBound)
struct StoreReaderTests {
    let folder: TemporaryFolder
    let reader: RunReader

    init() throws {
        folder = try TemporaryFolder()
        reader = RunReader(folder: DataFolder(folder.path + "/data/"))
    }

    var shop: String { folder.path + "/data/shop" }

    // D1 23:00 | D2 01:00 (failed), garbage, v 2, D2 12:00 | D3 00:30, torn line.
    let a = run(utc(2026, 11, 22, 23))
    let b = run(utc(2026, 11, 23, 1), ok: false)
    let c = run(utc(2026, 11, 23, 12))
    let d = run(utc(2026, 11, 24, 0, 30))

    func writeThreeDays() throws {
        try folder.write("data/shop/runs-2026-11-22.jsonl", lines(a))
        try folder.write(
            "data/shop/runs-2026-11-23.jsonl",
            lines(b) + "garbage\n"
                + #"{"v":2,"t":"2026-11-23T02:00:00Z","check":"shop","ok":true}"# + "\n" + lines(c))
        try folder.write("data/shop/runs-2026-11-24.jsonl", lines(d) + #"{"v":1,"t":"2026-11-24T00:31:00.000Z","ch"#)
        try folder.write("data/shop/notes.txt", "not a data file\n")
        try folder.write("data/shop/runs-2026-11-31.jsonl", lines(a))  // not a day: ignored
    }

    @Test("a range that cuts across day files returns only the runs inside it, and counts skipped lines")
    func rangeAcrossDays() throws {
        defer { folder.cleanup() }
        try writeThreeDays()
        var stats = ReadStats()
        let runs = reader.runs(check: "shop", from: utc(2026, 11, 22, 23, 30), to: utc(2026, 11, 24), stats: &stats)
        #expect(runs == [b, c])
        // Day files 22 and 23 were read (22 holds a run outside the range); 24 starts at `to` and was not.
        #expect(stats.lines == 3)
        #expect(stats.skipped == 2)
        #expect(stats.unknownVersion == 1)
        #expect(stats.tornFinalLines == 0)
        #expect(stats.firstProblem == "\(shop)/runs-2026-11-23.jsonl:2: malformed line: expected '{' at byte 0")
    }

    @Test("a torn final line is counted, reported with its line number and never returned")
    func tornFinalLine() throws {
        defer { folder.cleanup() }
        try writeThreeDays()
        var stats = ReadStats()
        let all = reader.runs(check: "shop", stats: &stats)
        #expect(all == [a, b, c, d])
        #expect(stats.lines == 4)
        #expect(stats.tornFinalLines == 1)
        #expect(stats.skipped == 3)
        var only = ReadStats()
        #expect(reader.runs(check: "shop", from: utc(2026, 11, 24), stats: &only) == [d])
        #expect(
            only.firstProblem
                == "\(shop)/runs-2026-11-24.jsonl:2: torn final line (no newline): the write was cut short")
    }

    @Test("a day file that cannot be read is counted as a skip with the system's reason")
    func unreadable() throws {
        defer { folder.cleanup() }
        try folder.write("data/shop/runs-2026-11-23.jsonl/inside", "")
        try folder.write("data/shop/runs-2026-11-24.jsonl", lines(d))
        var stats = ReadStats()
        #expect(reader.runs(check: "shop", stats: &stats) == [d])
        #expect(stats.skipped == 1 && stats.lines == 1)
        #expect(stats.firstProblem?.hasPrefix("\(shop)/runs-2026-11-23.jsonl:0: cannot read the file: ") == true)
    }

    @Test("the folder lists checks with data files, and day files in day order")
    func layout() throws {
        defer { folder.cleanup() }
        try writeThreeDays()
        try folder.write("data/empty/notes.txt", "")
        try folder.write("data/.hidden/runs-2026-11-22.jsonl", lines(a))
        try folder.write("data/other/hours-2026-11.jsonl", "")
        try folder.write("data/incidents.jsonl", "")
        #expect(reader.folder.checks() == ["other", "shop"])
        #expect(
            reader.folder.runFiles(check: "shop").map(\.day) == [
                utc(2026, 11, 22), utc(2026, 11, 23), utc(2026, 11, 24),
            ])
        #expect(
            reader.folder.runsFile(check: "shop", at: utc(2026, 11, 23, 23, 59, 59, 999))
                == "\(shop)/runs-2026-11-23.jsonl")
        #expect(reader.folder.hoursFile(check: "shop", at: utc(2026, 12, 31, 23)) == "\(shop)/hours-2026-12.jsonl")
        #expect(reader.folder.incidentsFile == folder.path + "/data/incidents.jsonl")
    }

    @Test("runs appended out of order come back sorted by start time")
    func outOfOrder() throws {
        defer { folder.cleanup() }
        try folder.write("data/shop/runs-2026-11-23.jsonl", lines(c, b))
        var stats = ReadStats()
        #expect(reader.runs(check: "shop", stats: &stats) == [b, c])
        #expect(reader.runs(check: "nothing", stats: &stats) == [])
        #expect(stats.skipped == 0)
    }

    @Test("the last run is the latest in the newest day file that has one")
    func lastRun() throws {
        defer { folder.cleanup() }
        var stats = ReadStats()
        #expect(reader.lastRun(check: "shop", stats: &stats) == nil)
        try writeThreeDays()
        #expect(reader.lastRun(check: "shop", stats: &stats) == d)
        // A newer file with nothing readable falls back to the day before.
        try folder.write("data/shop/runs-2026-11-25.jsonl", "garbage\n{\"v\":1}\n")
        stats = ReadStats()
        #expect(reader.lastRun(check: "shop", stats: &stats) == d)
        #expect(stats.skipped == 3)  // two bad lines in day 25, the torn line of day 24
        // Within a file the latest start wins, whatever the order of the lines.
        try folder.write("data/shop/runs-2026-11-25.jsonl", lines(run(utc(2026, 11, 25, 9)), run(utc(2026, 11, 25, 8))))
        #expect(reader.lastRun(check: "shop", stats: &stats) == run(utc(2026, 11, 25, 9)))
    }

    @Test("stored hours: the last line for the same hour and location wins; other locations stay")
    func storedHours() throws {
        defer { folder.cleanup() }
        let h7 = utc(2026, 11, 23, 7)
        let h8 = utc(2026, 11, 23, 8)
        let oct = utc(2026, 10, 31, 23)
        try folder.write(
            "data/shop/hours-2026-11.jsonl",
            hourLine(h7, runs: 1) + hourLine(h7, loc: "us", runs: 5) + "garbage\n"
                + hourLine(h8, runs: 3) + hourLine(h7, runs: 2, good: 1, fast: 0))
        try folder.write("data/shop/hours-2026-10.jsonl", hourLine(oct, runs: 4))
        var stats = ReadStats()
        let all = reader.storedHours(check: "shop", stats: &stats)
        #expect(all.map(\.hour) == [oct, h7, h7, h8])
        #expect(all.map(\.location) == ["eu", "eu", "us", "eu"])
        #expect(all.map(\.runs) == [4, 2, 5, 3])
        #expect(all[1].good == 1 && all[1].fast == 0)
        #expect(stats.skipped == 1)
        #expect(stats.firstProblem == "\(shop)/hours-2026-11.jsonl:3: malformed line: expected '{' at byte 0")
        stats = ReadStats()
        let range = reader.storedHours(check: "shop", from: h7, to: h8, stats: &stats)
        #expect(range.map(\.runs) == [2, 5])
    }

    @Test("hours keep stored lines and rebuild, from raw runs, hours that have no line")
    func hoursRebuilt() throws {
        defer { folder.cleanup() }
        let h7 = utc(2026, 11, 23, 7)
        let h8 = utc(2026, 11, 23, 8)
        try folder.write("data/shop/hours-2026-11.jsonl", hourLine(h7, runs: 99))
        try folder.write(
            "data/shop/runs-2026-11-23.jsonl",
            lines(
                run(h7 + 600_000), run(h7 + 1_200_000, ok: false),  // hour 7 eu: stored line wins
                run(h7 + 1_800_000, loc: "us"),  // hour 7 us: rebuilt
                run(h8 + 300_000, ms: 100), run(h8 + 360_000, ok: false, ms: 30, kind: "dns"),
                run(h8 + 420_000, ms: 49.999),  // hour 8 eu: rebuilt
                run(utc(2026, 11, 23, 9)),  // outside the range
            ))
        var stats = ReadStats()
        let hours = reader.hours(check: "shop", from: h7, to: h8 + UTCTime.msPerHour, fastMs: 50, stats: &stats)
        #expect(hours.map(\.hour) == [h7, h7, h8])
        #expect(hours.map(\.location) == ["eu", "us", "eu"])
        #expect(hours[0].runs == 99 && hours[0].fastMs == nil, "the stored line, untouched")
        #expect(hours[1].runs == 1 && hours[1].good == 1)
        let rebuilt = hours[2]
        #expect(rebuilt.runs == 3 && rebuilt.good == 2 && rebuilt.fast == 1 && rebuilt.fastMs == 50)
        #expect(rebuilt.errors == ["dns": 1])
        #expect(rebuilt.minutes == 1 << 5 | 1 << 6 | 1 << 7 && rebuilt.badMinutes == 1 << 6)
        #expect(rebuilt.phaseSums.dns == 3 && rebuilt.phaseSums.transfer == 15)
        #expect(stats.skipped == 0)
    }

    @Test("read stats merge their counts and keep the first problem")
    func statsMerge() {
        var a = ReadStats()
        var b = ReadStats()
        a.lines = 2
        b.lines = 3
        b.skip("f", line: 4, reason: "bad")
        b.skip("g", line: 1, reason: "worse")
        b.tornFinalLines = 1
        a.merge(b)
        #expect(a.lines == 5 && a.skipped == 2 && a.tornFinalLines == 1)
        #expect(a.firstProblem == "f:4: bad")
    }
}
