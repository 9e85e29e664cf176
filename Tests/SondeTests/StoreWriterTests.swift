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

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let ms: Mutex<Int64>
    init(_ start: Int64) { ms = Mutex(start) }
    var now: Int64 { ms.withLock { $0 } }
    func set(_ value: Int64) { ms.withLock { $0 = value } }
}

/// Collects what a writer reports.
final class WriterEvents: Sendable {
    private let events = Mutex<[RecordWriter.Event]>([])
    func add(_ event: RecordWriter.Event) { events.withLock { $0.append(event) } }
    var all: [RecordWriter.Event] { events.withLock { $0 } }
}

@Suite("Store: the record writer")
struct StoreWriterTests {
    let folder: TemporaryFolder
    let data: DataFolder
    let events = WriterEvents()

    init() throws {
        folder = try TemporaryFolder()
        data = DataFolder(folder.path + "/data")
    }

    static let policy = RecordWriter.Policy(fastMs: 500, graceMs: 20_000)

    func writer(_ clock: TestClock, retention: RecordWriter.Retention = .init()) throws -> RecordWriter {
        let events = events
        return try RecordWriter(folder: data, retention: retention, now: { clock.now }, report: { events.add($0) })
    }

    func text(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// The hour lines of the file, decoded.
    func hourLines(_ path: String) throws -> [HourRollup] {
        try (text(path) ?? "").split(separator: "\n").map { try decodeHour(String($0)) }
    }

    @Test("lines go to the file of the record's UTC start day: two sides of midnight, two files")
    func midnight() async throws {
        defer { folder.cleanup() }
        let clock = TestClock(utc(2026, 11, 23, 0, 0, 1))
        let w = try writer(clock)
        let before = run(utc(2026, 11, 22, 23, 59, 59, 999))
        let after = run(utc(2026, 11, 23))
        let late = run(utc(2026, 11, 22, 23, 59, 59), ok: false)
        w.append(before, policy: Self.policy)
        w.append(after, policy: Self.policy)
        w.append(late, policy: Self.policy)
        await w.flush()
        #expect(text(data.root + "/shop/runs-2026-11-22.jsonl") == lines(before, late))
        #expect(text(data.root + "/shop/runs-2026-11-23.jsonl") == lines(after))
        #expect(!exists(data.root + "/shop/hours-2026-11.jsonl"), "no hour has closed yet")
        #expect(w.dropped == 0)
        #expect(events.all.isEmpty)
        #expect(!exists(data.root + "/.sonde-write-test-\(getpid())"), "the write probe is removed")
    }

    @Test("a run line over the readers' 1 MiB cap is dropped and reported, never written; its hour counts it")
    func lineOverTheCap() async throws {
        defer { folder.cleanup() }
        let clock = TestClock(utc(2026, 11, 23, 7, 30))
        let w = try writer(clock)
        var huge = run(utc(2026, 11, 23, 7, 1), ok: false)
        huge.error?.message = String(repeating: "m", count: LineReader.maxLineBytes)
        let small = run(utc(2026, 11, 23, 7, 2))
        w.append(huge, policy: Self.policy)
        w.append(small, policy: Self.policy)
        await w.flush()
        #expect(text(data.root + "/shop/runs-2026-11-23.jsonl") == lines(small))
        #expect(w.dropped == 1)
        #expect(
            events.all.contains {
                if case .writeFailed(_, let reason, 1, _) = $0 { return reason.contains("over the 1048576-byte cap") }
                return false
            }, "\(events.all)")
    }

    @Test("a file whose last line was torn gets a newline first, so every complete line reads")
    func tornTail() async throws {
        defer { folder.cleanup() }
        let first = run(utc(2026, 11, 23, 7))
        let second = run(utc(2026, 11, 23, 7, 1))
        let torn = #"{"v":1,"t":"2026-11-23T07:00:3"#
        try folder.write("data/shop/runs-2026-11-23.jsonl", lines(first) + torn)
        let w = try writer(TestClock(utc(2026, 11, 23, 7, 2)))
        w.append(second, policy: Self.policy)
        await w.flush()
        #expect(text(data.root + "/shop/runs-2026-11-23.jsonl") == lines(first) + torn + "\n" + lines(second))
        var stats = ReadStats()
        #expect(RunReader(folder: data).runs(check: "shop", stats: &stats) == [first, second])
        #expect(stats.skipped == 1 && stats.tornFinalLines == 0)
        #expect(stats.firstProblem?.hasPrefix(data.root + "/shop/runs-2026-11-23.jsonl:2: malformed line") == true)
    }

    @Test(
        "a day file replaced, moved away or deleted while open is noticed by the next batch; an unchanged one is not stat-ed per line"
    )
    func replacedWhileOpen() async throws {
        defer { folder.cleanup() }
        let w = try writer(TestClock(utc(2026, 11, 23, 7, 30)))
        let path = data.root + "/shop/runs-2026-11-23.jsonl"
        let first = (0..<5).map { run(utc(2026, 11, 23, 7, 0, $0)) }
        for record in first {
            w.append(record, policy: Self.policy)
            await w.flush()
        }
        #expect(text(path) == first.map { lines($0) }.joined())
        let checked = w.pathChecks
        if w.watchesDayFiles {
            #expect(checked == 0, "five lines to an unchanged, watched file: no stat of its path")
        } else {
            #expect(checked == 4, "no inotify here: every line after the first checks its path")
        }

        // Replaced by a rename onto its path (a rotation tool): the next line goes to the new file.
        let foreign = lines(run(utc(2026, 11, 22, 23)))
        try folder.write("data/shop/new.jsonl", foreign)
        #expect(rename(data.root + "/shop/new.jsonl", path) == 0)
        let second = run(utc(2026, 11, 23, 7, 1))
        w.append(second, policy: Self.policy)
        await w.flush()
        #expect(text(path) == foreign + lines(second))

        // Moved away: a new file at the path; the moved one keeps what it had.
        #expect(rename(path, path + ".old") == 0)
        let third = run(utc(2026, 11, 23, 7, 2))
        w.append(third, policy: Self.policy)
        await w.flush()
        #expect(text(path) == lines(third))
        #expect(text(path + ".old") == foreign + lines(second))

        // Its attributes changed (a chmod): checked, still the same file, kept open.
        #expect(chmod(path, 0o600) == 0)
        let fourth = run(utc(2026, 11, 23, 7, 3))
        w.append(fourth, policy: Self.policy)
        await w.flush()
        #expect(text(path) == lines(third, fourth))

        // Deleted: created again by the next line.
        try FileManager.default.removeItem(atPath: path)
        let fifth = run(utc(2026, 11, 23, 7, 4))
        w.append(fifth, policy: Self.policy)
        await w.flush()
        #expect(text(path) == lines(fifth))

        // The check's folder renamed: the file is no longer at its path, and a new folder takes the line.
        #expect(rename(data.root + "/shop", data.root + "/shop.moved") == 0)
        let sixth = run(utc(2026, 11, 23, 7, 5))
        w.append(sixth, policy: Self.policy)
        await w.flush()
        #expect(text(path) == lines(sixth))
        #expect(text(data.root + "/shop.moved/runs-2026-11-23.jsonl") == lines(fifth))
        if w.watchesDayFiles {
            #expect(w.pathChecks - checked == 5, "one check for each change, none for the lines between")
        }
        #expect(w.dropped == 0)
    }

    @Test("on a full disk the record is dropped and reported; writing resumes when the disk accepts it")
    func diskFull() async throws {
        defer { folder.cleanup() }
        let path = data.root + "/shop/runs-2026-11-23.jsonl"
        try FileManager.default.createDirectory(atPath: data.root + "/shop", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/full")
        let clock = TestClock(utc(2026, 11, 23, 7, 5))
        let w = try writer(clock)
        w.append(run(utc(2026, 11, 23, 7)), policy: Self.policy)
        w.append(run(utc(2026, 11, 23, 7, 0, 30)), policy: Self.policy)
        await w.flush()
        #expect(w.dropped == 2)
        // Reported once a minute at most.
        #expect(events.all == [.writeFailed(path: path, reason: "no space left on device", dropped: 1)])
        clock.set(utc(2026, 11, 23, 7, 6))
        w.append(run(utc(2026, 11, 23, 7, 0, 40)), policy: Self.policy)
        await w.flush()
        #expect(w.dropped == 3)
        #expect(
            events.all.last == .writeFailed(path: path, reason: "no space left on device", dropped: 3, suppressed: 1))

        try FileManager.default.removeItem(atPath: path)
        try folder.write("data/shop/runs-2026-11-23.jsonl", "")
        let next = run(utc(2026, 11, 23, 7, 1))
        w.append(next, policy: Self.policy)
        await w.flush()
        #expect(text(path) == lines(next))
        #expect(w.dropped == 3)
        #expect(events.all.last == .resumed(dropped: 3))
        #expect(events.all.count == 3)
    }

    @Test(
        "one file that cannot be created while others can: one line a minute for it, with a count, and no resumed lines"
    )
    func oneFileFailing() async throws {
        defer { folder.cleanup() }
        // A directory where the day file of "shop" goes: opening it fails (EISDIR) every time.
        let path = data.root + "/shop/runs-2026-11-23.jsonl"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let clock = TestClock(utc(2026, 11, 23, 7, 5))
        let w = try writer(clock)
        var other = run(utc(2026, 11, 23, 7))
        other.check = "api"
        for second in 0..<30 {
            clock.set(utc(2026, 11, 23, 7, 5, Int64(second)))
            w.append(run(utc(2026, 11, 23, 7, 5, Int64(second))), policy: Self.policy)
            other.time = utc(2026, 11, 23, 7, 5, Int64(second))
            w.append(other, policy: Self.policy)
            await w.flush()
        }
        #expect(w.dropped == 30)
        #expect(text(data.root + "/api/runs-2026-11-23.jsonl")?.split(separator: "\n").count == 30)
        let reason = "is a directory"
        #expect(events.all == [.writeFailed(path: path, reason: reason, dropped: 1)], "\(events.all)")

        // A minute after its line, the next failure is reported with the count left out meanwhile.
        clock.set(utc(2026, 11, 23, 7, 6))
        w.append(run(utc(2026, 11, 23, 7, 6)), policy: Self.policy)
        await w.flush()
        #expect(events.all.last == .writeFailed(path: path, reason: reason, dropped: 31, suppressed: 29))
        #expect(events.all.count == 2)

        // The file works again: one "resumed" line, with the records it lost.
        try FileManager.default.removeItem(atPath: path)
        w.append(run(utc(2026, 11, 23, 7, 6, 1)), policy: Self.policy)
        await w.flush()
        #expect(events.all.last == .resumed(dropped: 31))
        #expect(events.all.count == 3)
    }

    @Test("an hour line that cannot be written stays pending and is written once when the disk accepts it")
    func hourLineRetried() async throws {
        defer { folder.cleanup() }
        let h = utc(2026, 11, 23, 7)
        let hours = data.root + "/shop/hours-2026-11.jsonl"
        try FileManager.default.createDirectory(atPath: data.root + "/shop", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: hours, withDestinationPath: "/dev/full")
        let clock = TestClock(h + 60_000)
        let w = try writer(clock)
        w.append(run(h), policy: Self.policy)
        await w.flush()
        clock.set(h + UTCTime.msPerHour + 20_000)
        await w.flush()
        #expect(events.all == [.writeFailed(path: hours, reason: "no space left on device", dropped: 0)])
        #expect(w.dropped == 0, "raw runs were written")
        try FileManager.default.removeItem(atPath: hours)
        await w.flush()
        await w.flush()
        #expect(try hourLines(hours).map(\.runs) == [1])
    }

    @Test("a data path under a regular file is not writable")
    func notWritable() throws {
        defer { folder.cleanup() }
        let file = try folder.write("file", "x")
        for root in [file + "/data", file] {
            do {
                _ = try RecordWriter(folder: DataFolder(root), report: { _ in })
                Issue.record("\(root) was accepted")
            } catch {
                guard case .notWritable(let path, let reason) = error else { return }
                #expect(path == root)
                #expect(!reason.isEmpty)
                #expect(error.description.hasPrefix("data folder \(root) is not writable: "))
            }
        }
    }

    @Test("an hour line is written once the hour's end plus grace has passed, with its counts")
    func hourCloses() async throws {
        defer { folder.cleanup() }
        let h = utc(2026, 11, 23, 7)
        let clock = TestClock(h + 600_000)
        let w = try writer(clock)
        let inHour = [
            run(h + 60_000, ms: 120), run(h + 120_000, ms: 700),
            run(h + 180_000, ok: false, ms: 50, kind: "status"),
            run(h + 3_599_999, ok: false, ms: 10_000, kind: "timeout"),
        ]
        for record in inHour { w.append(record, policy: Self.policy) }
        w.append(run(h + 3_601_000), policy: Self.policy)
        await w.flush()
        let hours = data.root + "/shop/hours-2026-11.jsonl"
        #expect(!exists(hours))
        clock.set(h + UTCTime.msPerHour + 19_999)
        await w.flush()
        #expect(!exists(hours), "one millisecond of grace is left")
        clock.set(h + UTCTime.msPerHour + 20_000)
        await w.flush()
        let written = try hourLines(hours)
        #expect(written.count == 1)
        let first = try #require(written.first)
        #expect(first.hour == h && first.location == "eu" && first.check == "shop")
        #expect(first.runs == 4 && first.good == 2 && first.fast == 1 && first.fastMs == 500)
        #expect(first.errors == ["status": 1, "timeout": 1])
        #expect(first.minutes == 1 << 1 | 1 << 2 | 1 << 3 | 1 << 59 && first.badMinutes == 1 << 3 | 1 << 59)
        let expected = HourRollup.build(inHour, check: "shop", location: "eu", fastMs: 500)
        #expect(text(hours) == String(decoding: HourLine.encode(expected[0]), as: UTF8.self))

        // A run of the written hour that arrives late is counted: a new line for its hour (the
        // stored counts plus the late run) follows the first, and wins.
        w.append(run(h + 1_800_000), policy: Self.policy)
        clock.set(h + 2 * UTCTime.msPerHour + 20_000)
        await w.flush()
        #expect(try hourLines(hours).map(\.hour) == [h, h, h + UTCTime.msPerHour])
        #expect(try hourLines(hours).map(\.runs) == [4, 5, 1])
        var stats = ReadStats()
        #expect(RunReader(folder: data).storedHours(check: "shop", stats: &stats).map(\.runs) == [5, 1])
        #expect(text(data.root + "/shop/runs-2026-11-23.jsonl")?.split(separator: "\n").count == 6)
    }

    @Test("prepare rebuilds closed hours missing since the last hour line, and never duplicates one")
    func prepareRebuilds() async throws {
        defer { folder.cleanup() }
        let h = utc(2026, 11, 23, 7)
        let before = [run(h - 3_000_000), run(h - 2_000_000, ok: false)]
        let hourH = [run(h + 100_000, ms: 100), run(h + 200_000, ok: false, ms: 20, kind: "dns")]
        let hourH1 = [run(h + 3_700_000, ms: 900)]
        let open = [run(h + 3 * UTCTime.msPerHour + 300_000)]
        let elsewhere = run(h + 1_800_000, loc: "us")
        try folder.write(
            "data/shop/runs-2026-11-23.jsonl",
            lines(before[0], before[1], hourH[0], elsewhere, hourH[1], hourH1[0], open[0]))
        let stored = String(
            decoding: HourLine.encode(
                HourRollup.build(before, check: "shop", location: "eu", fastMs: 500)[0]), as: UTF8.self)
        try folder.write("data/shop/hours-2026-11.jsonl", stored)

        let clock = TestClock(h + 3 * UTCTime.msPerHour + 1_800_000)
        let w = try writer(clock)
        w.prepare(["shop": Self.policy], location: "eu")
        w.prepare(["shop": Self.policy], location: "eu")
        await w.flush()
        let hours = data.root + "/shop/hours-2026-11.jsonl"
        let expected = [before, hourH, hourH1].map {
            String(
                decoding: HourLine.encode(HourRollup.build($0, check: "shop", location: "eu", fastMs: 500)[0]),
                as: UTF8.self)
        }
        #expect(text(hours) == expected.joined())
        #expect(events.all == [.rebuiltHours(check: "shop", hours: 2)])

        // The open hour was loaded from disk: its line counts the run before the restart too.
        let more = run(h + 3 * UTCTime.msPerHour + 1_900_000, ok: false, kind: "timeout")
        w.append(more, policy: Self.policy)
        clock.set(h + 4 * UTCTime.msPerHour + 20_000)
        await w.flush()
        let written = try hourLines(hours)
        #expect(written.map(\.hour) == [h - UTCTime.msPerHour, h, h + UTCTime.msPerHour, h + 3 * UTCTime.msPerHour])
        #expect(written.last?.runs == 2 && written.last?.errors == ["timeout": 1])

        // A restart finds every closed hour written and adds nothing.
        let again = try writer(clock)
        again.prepare(["shop": Self.policy], location: "eu")
        await again.flush()
        #expect(try hourLines(hours).count == 4)
        #expect(events.all.filter { if case .rebuiltHours = $0 { true } else { false } }.count == 1)
    }

    @Test("prepare rebuilds every hour of the raw days retention keeps, the oldest hour whole")
    func prepareWindowStart() async throws {
        defer { folder.cleanup() }
        let now = utc(2026, 11, 23, 10, 30)
        // 35 days before `now` is 2026-10-19 10:30, in the middle of an hour that has two runs; the
        // whole day of 2026-10-19 is kept by retention, so its 03:00 hour is rebuilt too.
        let oldest = [run(utc(2026, 10, 19, 3, 5)), run(utc(2026, 10, 19, 10, 10)), run(utc(2026, 10, 19, 10, 40))]
        try folder.write("data/shop/runs-2026-10-18.jsonl", lines(run(utc(2026, 10, 18, 23))))
        try folder.write("data/shop/runs-2026-10-19.jsonl", lines(oldest[0], oldest[1], oldest[2]))
        let w = try writer(TestClock(now))
        w.prepare(["shop": Self.policy], location: "eu")
        await w.flush()
        let written = try hourLines(data.root + "/shop/hours-2026-10.jsonl")
        #expect(written.map(\.hour) == [utc(2026, 10, 19, 3), utc(2026, 10, 19, 10)])
        #expect(written.map(\.runs) == [1, 2])
        #expect(!exists(data.root + "/shop/runs-2026-10-18.jsonl"), "deleted by retention")
    }

    @Test("retention deletes raw days older than 35 days and hour months ended over 400 days ago, nothing else")
    func retention() async throws {
        defer { folder.cleanup() }
        let keep = [
            "data/shop/runs-2026-10-19.jsonl", "data/shop/runs-2026-11-23.jsonl", "data/shop/hours-2025-10.jsonl",
            "data/shop/hours-2026-11.jsonl", "data/shop/notes.txt", "data/shop/runs-latest.jsonl",
            "data/shop/hours-2025-01.txt", "data/incidents.jsonl", "data/.git/runs-2020-01-01.jsonl", "data/README",
        ]
        let delete = [
            "data/shop/runs-2026-10-18.jsonl", "data/shop/runs-2020-01-01.jsonl", "data/shop/hours-2025-09.jsonl",
            "data/shop/hours-2025-08.jsonl", "data/other/runs-2026-01-01.jsonl",
        ]
        for name in keep + delete { try folder.write(name, "") }
        // 400 days before 2026-11-23 12:00 is 2025-10-19 12:00: September 2025 ended before it, October after.
        let w = try writer(TestClock(utc(2026, 11, 23, 12)))
        w.prepare(["shop": Self.policy], location: "eu")
        await w.flush()
        for name in keep { #expect(exists(folder.path + "/" + name), "\(name) kept") }
        for name in delete { #expect(!exists(folder.path + "/" + name), "\(name) deleted") }
        let deleted = Set(events.all.compactMap { if case .deleted(let path) = $0 { path } else { nil } })
        #expect(deleted == Set(delete.map { folder.path + "/" + $0 }))
    }

    @Test("records reach the disk without a flush, taken off the queue a batch at a time")
    func batches() async throws {
        defer { folder.cleanup() }
        let w = try writer(TestClock(utc(2026, 11, 23, 8)))
        let records = (0..<200).map { run(utc(2026, 11, 23, 7) + Int64($0) * 1000) }
        for record in records { w.append(record, policy: Self.policy) }
        let path = data.root + "/shop/runs-2026-11-23.jsonl"
        let all = records.map { lines($0) }.joined()
        // No flush: the writer takes the queue by itself, within its batch window.
        #expect(await pollUntil { text(path) == all }, "written without a flush")
        // The first record wakes the idle writer; the others gather while it writes and waits.
        #expect(w.batches <= 10, "\(w.batches) batches for \(records.count) records")
        #expect(w.dropped == 0)
    }

    @Test("finish writes every record still gathering for its batch, at once")
    func finishWritesTheBatch() async throws {
        defer { folder.cleanup() }
        let w = try writer(TestClock(utc(2026, 11, 23, 8)))
        let path = data.root + "/shop/runs-2026-11-23.jsonl"
        let first = run(utc(2026, 11, 23, 7))
        w.append(first, policy: Self.policy)
        #expect(await pollUntil { text(path) == lines(first) })
        // The writer now lets the next batch gather; these wait in its queue.
        let rest = (1...50).map { run(utc(2026, 11, 23, 7) + Int64($0) * 1000) }
        for record in rest { w.append(record, policy: Self.policy) }
        await w.finish()
        #expect(text(path) == ([first] + rest).map { lines($0) }.joined())
        #expect(w.dropped == 0)
    }

    @Test("retention follows --keep-raw and --keep-hours")
    func customRetention() async throws {
        defer { folder.cleanup() }
        for name in ["runs-2026-11-20.jsonl", "runs-2026-11-21.jsonl", "hours-2026-09.jsonl", "hours-2026-10.jsonl"] {
            try folder.write("data/shop/" + name, "")
        }
        let w = try writer(TestClock(utc(2026, 11, 23, 12)), retention: .init(rawDays: 2, hourDays: 40))
        w.prepare([:], location: "eu")
        await w.flush()
        #expect(!exists(data.root + "/shop/runs-2026-11-20.jsonl"))
        #expect(exists(data.root + "/shop/runs-2026-11-21.jsonl"))
        #expect(!exists(data.root + "/shop/hours-2026-09.jsonl"))
        #expect(exists(data.root + "/shop/hours-2026-10.jsonl"))
    }
}
