import Foundation
import Testing

@testable import SondeCLI
@testable import SondeCommands
@testable import SondeIncidents
@testable import SondeSLO
@testable import SondeScript
@testable import SondeStore
@testable import SondeSupport

@Suite("Maintenance windows: the directive, the file, the command, what they leave out")
struct MaintenanceTests {
    static func parse(_ directives: String) throws(ParseError) -> CheckScript {
        try ScriptParser.parse(source: directives + "GET http://127.0.0.1:1/\nHTTP 200\n", path: "web.hurl")
    }

    /// The `path:line:col: message` of a file that does not parse, or nil when it parses.
    static func failure(_ directives: String) -> String? {
        do {
            _ = try parse(directives)
            return nil
        } catch {
            return error.description
        }
    }

    /// An RFC 3339 time in epoch ms (0 for a typo, which no expectation then meets).
    static func at(_ text: String) -> Int64 {
        Array(text.utf8).withUnsafeBufferPointer(UTCTime.parseRFC3339) ?? 0
    }

    // MARK: The directive

    @Test("@maintenance reads a weekday or daily, a time range and a zone, repeatably")
    func directive() throws {
        let script = try Self.parse(
            "# @maintenance Sun 02:00-04:00 UTC\n# @maintenance daily 23:30-24:00 Europe/Berlin\n"
                + "# @maintenance saturday 10:00-11:00\n")
        let windows = script.settings.maintenance
        #expect(windows.count == 3)
        #expect(windows[0].days == .weekday(1) && windows[0].startMinute == 120 && windows[0].endMinute == 240)
        #expect(windows[0].text == "Sun 02:00-04:00 UTC" && windows[0].location == SourceLocation(line: 1, column: 3))
        #expect(windows[1].days == .daily && windows[1].endMinute == 1440)
        #expect(windows[1].timeZone.identifier == "Europe/Berlin")
        #expect(windows[2].days == .weekday(7) && windows[2].timeZone.secondsFromGMT() == 0)
        // 2026-12-06 is a Sunday.
        let sunday = Self.at("2026-12-06T03:00:00Z")
        let expected = Self.at("2026-12-06T02:00:00Z")..<Self.at("2026-12-06T04:00:00Z")
        #expect(windows[0].occurrence(containing: sunday) == expected)
        #expect(windows[0].occurrence(containing: sunday + UTCTime.msPerDay) == nil)
        #expect(windows[0].occurrence(containing: Self.at("2026-12-06T04:00:00Z")) == nil, "the end is not in it")
    }

    @Test("a zone's daylight saving moves the window in UTC")
    func daylightSaving() throws {
        let window = try #require(
            try Self.parse("# @maintenance daily 02:30-03:30 Europe/Berlin\n").settings.maintenance.first)
        // Winter: UTC+1.
        #expect(
            window.occurrence(containing: Self.at("2026-01-15T01:45:00Z"))?.lowerBound
                == (Self.at("2026-01-15T01:30:00Z")))
        // Summer: UTC+2.
        #expect(
            window.occurrence(containing: Self.at("2026-07-15T00:45:00Z"))?.lowerBound
                == (Self.at("2026-07-15T00:30:00Z")))
        // 2026-03-29: the clocks skip 02:00-03:00; the window opens when they read 03:00 (01:00Z) and
        // closes at 03:30 local (01:30Z).
        let spring = window.occurrences(
            fromMs: Self.at("2026-03-29T00:00:00Z"), toMs: Self.at("2026-03-29T12:00:00Z"))
        #expect(spring == [(Self.at("2026-03-29T01:00:00Z"))..<(Self.at("2026-03-29T01:30:00Z"))])
    }

    @Test("a window that ends before it starts is refused at its position")
    func endsBeforeStart() {
        #expect(
            Self.failure("# @maintenance Sun 04:00-02:00 UTC\n")
                == "web.hurl:1:20: the window ends (02:00) before it starts (04:00); a window across midnight is "
                + "written as two, ending at 24:00 and starting at 00:00")
        #expect(
            Self.failure("# @maintenance Sun 02:00-02:00 UTC\n")?.hasPrefix("web.hurl:1:20: the window ends") == true)
        #expect(
            Self.failure("# @maintenance Sun 2-4 UTC\n")?.hasPrefix("web.hurl:1:20: expected a time range HH:MM-HH:MM")
                == true)
    }

    @Test("overlapping windows in one file are refused at the second")
    func overlapping() {
        let message = Self.failure(
            "# @maintenance daily 01:00-03:00 UTC\n# @every 1m\n# @maintenance Sun 02:00-04:00 UTC\n")
        #expect(
            message?.hasPrefix("web.hurl:3:16: this window overlaps @maintenance daily 01:00-03:00 UTC on line 1")
                == true)
        // Touching windows do not overlap.
        #expect(Self.failure("# @maintenance daily 01:00-02:00 UTC\n# @maintenance daily 02:00-03:00 UTC\n") == nil)
        // Different zones are compared in UTC: 03:00 Berlin is 02:00 UTC in winter.
        #expect(
            Self.failure("# @maintenance Mon 02:00-02:30 UTC\n# @maintenance Mon 03:00-03:15 Europe/Berlin\n")?
                .hasPrefix("web.hurl:2:16: this window overlaps @maintenance Mon 02:00-02:30 UTC on line 1") == true)
    }

    @Test("an unknown time zone or weekday is refused at the word")
    func unknownZoneAndDay() {
        #expect(
            Self.failure("# @maintenance Sun 02:00-04:00 Mars/Olympus\n")
                == "web.hurl:1:32: unknown time zone Mars/Olympus in @maintenance; use UTC or an IANA name such as "
                + "Europe/Berlin")
        #expect(
            Self.failure("# @maintenance Sun 02:00-04:00 CET\n")?.hasPrefix("web.hurl:1:32: unknown time zone CET in")
                == true)
        #expect(
            Self.failure("# @maintenance Sonday 02:00-04:00 UTC\n")
                == "web.hurl:1:16: unknown weekday Sonday in @maintenance "
                + "(days: Mon, Tue, Wed, Thu, Fri, Sat, Sun, or daily)")
    }

    // MARK: The file and the record

    @Test("a run line carries its window; lines without one still read; hour lines count it apart")
    func runAndHourLines() throws {
        var record = RunRecord(
            time: 1_767_225_600_000, check: "svc", location: "lab", ok: false, durationMs: 12, lateMs: 0)
        let plain = RunLine.encode(record)
        #expect(!String(decoding: plain, as: UTF8.self).contains("maintenance"))
        #expect(try RunLine.decode(Array(plain.dropLast())).maintenance == nil)
        record.maintenance = "m2"
        let marked = RunLine.encode(record)
        #expect(String(decoding: marked, as: UTF8.self).hasSuffix(",\"steps\":[],\"maintenance\":\"m2\"}\n"))
        #expect(try RunLine.decode(Array(marked.dropLast())) == record)

        var rollup = HourRollup(hour: 1_767_225_600_000, check: "svc", location: "lab", fastMs: nil)
        rollup.add(record)
        var good = record
        good.ok = true
        good.maintenance = nil
        rollup.add(good)
        #expect(rollup.runs == 1 && rollup.good == 1 && rollup.maintenance == 1 && rollup.errors.isEmpty)
        let line = HourLine.encode(rollup)
        #expect(String(decoding: line, as: UTF8.self).hasSuffix(",\"maint\":1}\n"))
        #expect(try Array(line.dropLast()).withUnsafeBufferPointer { try HourLine.decode($0) } == rollup)
        var windowCounts = WindowCounts(fromMs: 0, toMs: .max)
        windowCounts.add(rollup)
        #expect(windowCounts.runs == 1 && windowCounts.maintenance == 1 && windowCounts.availability == 1)
    }

    @Test("maintenance.jsonl: a torn last line is skipped and closed by the next writer")
    func tornLine() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let log = MaintenanceLog(folder: DataFolder(folder.path))
        let entry = MaintenanceEntry(
            id: "m1", check: nil, fromMs: 1000, untilMs: 5000, reason: "freeze", addedMs: 900)
        try folder.write(
            "maintenance.jsonl",
            String(decoding: MaintenanceLog.Event.added(entry).encode(), as: UTF8.self) + "{\"v\":1,\"t\":")
        #expect(log.read().entries == [entry] && log.read().skipped == 1)
        try log.update { (_: MaintenanceLog.Contents) throws(MaintenanceCommand.Failure) in
            [.ended(id: "m1", atMs: 2000)]
        }
        let contents = log.read()
        #expect(contents.entries.first?.endMs == 2000 && contents.skipped == 1)
        #expect(contents.entries.first?.contains(1999) == true && contents.entries.first?.contains(2000) == false)
    }

    // MARK: The command

    /// A data folder with runs of `svc` and `api`, and a checks folder with `web.hurl`.
    struct Folders {
        let root: TemporaryFolder
        var data: String { root.path + "/data" }
        var checks: String { root.path + "/checks" }

        init() throws {
            root = try TemporaryFolder()
            try root.write("checks/web.hurl", "GET http://127.0.0.1:1/\nHTTP 200\n")
            for check in ["svc", "api"] {
                let run = RunRecord(
                    time: 1_767_225_600_000, check: check, location: "", ok: true, durationMs: 5, lateMs: 0)
                try root.write("data/\(check)/runs-2026-01-01.jsonl", bytes: RunLine.encode(run))
            }
        }

        func run(_ arguments: [String], now: String = "2026-12-01T12:00:00Z") throws -> (Int32, CapturingConsole) {
            let console = CapturingConsole()
            let parsed = try CommandTable.parse(["maintenance"] + arguments + ["--data", data], environment: [:])
            guard case .maintenance(var command) = parsed else {
                Issue.record("not a maintenance command: \(parsed)")
                return (-1, console)
            }
            if arguments.first == "add" || arguments.first == "list" { command.checks = checks }
            let code = command.run(
                console: console, now: Date(timeIntervalSince1970: Double(MaintenanceTests.at(now)) / 1000))
            return (code, console)
        }

        var file: String? { try? String(contentsOfFile: data + "/maintenance.jsonl", encoding: .utf8) }
    }

    @Test("add, list and end; while a prober holds the folder")
    func addListEnd() throws {
        let folders = try Folders()
        defer { folders.root.cleanup() }
        let lock = try DataFolderLock(folder: DataFolder(folders.data))
        let (code, console) = try folders.run(["add", "svc", "--until", "+2h", "--reason", "db upgrade"])
        #expect(code == 0, "\(console.all)")
        #expect(
            console.stdout
                == "added maintenance window m1: svc from 2026-12-01T12:00:00.000Z until 2026-12-01T14:00:00.000Z (db upgrade)\n"
        )
        #expect(
            try folders.run([
                "add", "web", "--from", "2026-12-02T00:00:00Z", "--until", "2026-12-02T01:30:00Z", "--reason", "x",
            ]).0 == 0)
        #expect(try folders.run(["add", "--all", "--until", "+1h30m", "--reason", "freeze"]).0 == 0)
        let (listed, table) = try folders.run(["list"], now: "2026-12-01T13:00:00Z")
        #expect(listed == 0)
        #expect(table.stdout.contains("m1  svc    2026-12-01T12:00:00Z  2026-12-01T14:00:00Z  active     db upgrade"))
        #expect(table.stdout.contains("m2  web    2026-12-02T00:00:00Z  2026-12-02T01:30:00Z  scheduled  x"))
        let (ended, note) = try folders.run(["end", "m1"], now: "2026-12-01T13:00:00Z")
        #expect(ended == 0 && note.stdout == "maintenance window m1 (svc) ended at 2026-12-01T13:00:00.000Z\n")
        let entries = MaintenanceLog(folder: DataFolder(folders.data)).read().entries
        #expect(entries.map(\.id) == ["m1", "m2", "m3"])
        #expect(entries[0].endMs == (Self.at("2026-12-01T13:00:00Z")) && entries[2].check == nil)
        _ = lock
    }

    @Test(
        "bad command lines are one-line usage errors, exit 1, nothing written",
        arguments: [
            (
                ["add", "svc", "--until", "2026-12-01T11:00:00Z", "--reason", "late"],
                "error: --until 2026-12-01T11:00:00.000Z is in the past (now is 2026-12-01T12:00:00.000Z): nothing to add\n"
            ),
            (
                ["add", "svx", "--until", "+1h", "--reason", "typo"],
                "error: unknown check 'svx': no svx.hurl in CHECKS and no runs of it in DATA (did you mean 'svc'?)\n"
            ),
            (
                ["add", "svc", "--from", "2026-12-03T00:00:00Z", "--until", "2026-12-02T00:00:00Z", "--reason", "x"],
                "error: the window ends (2026-12-02T00:00:00.000Z) before it starts (2026-12-03T00:00:00.000Z)\n"
            ),
            (
                ["add", "svc", "--all", "--until", "+1h", "--reason", "x"],
                "error: give a check name or --all, not both (got 'svc' and --all)\n"
            ),
            (
                ["add", "svc", "--until", "tomorrow", "--reason", "x"],
                "error: --until 'tomorrow' is not a time: give an RFC 3339 time such as 2026-12-06T02:00:00Z, or a length such as +2h or +1h30m\n"
            ),
            (["add", "svc", "--until", "+1h"], "error: give the reason with --reason TEXT (reports show it)\n"),
            (["end", "m9"], "error: no maintenance window 'm9' in DATA/maintenance.jsonl (it holds none)\n"),
        ])
    func badInput(arguments: [String], expected: String) throws {
        let folders = try Folders()
        defer { folders.root.cleanup() }
        let (code, console) = try folders.run(arguments)
        #expect(code == 1)
        #expect(console.stdout.isEmpty)
        #expect(
            console.stderr
                == expected.replacingOccurrences(of: "CHECKS", with: folders.checks)
                .replacingOccurrences(of: "DATA", with: folders.data))
        #expect(folders.file == nil || folders.file == "", "nothing written")
    }

    @Test("end with an unknown id names the ids there are; a missing subcommand or ID is a usage error")
    func unknownID() async throws {
        let folders = try Folders()
        defer { folders.root.cleanup() }
        #expect(try folders.run(["add", "api", "--until", "+1h", "--reason", "x"]).0 == 0)
        let before = folders.file
        let (code, console) = try folders.run(["end", "m4"])
        #expect(
            code == 1
                && console.stderr
                    == "error: no maintenance window 'm4' in \(folders.data)/maintenance.jsonl (ids: m1)\n"
        )
        #expect(folders.file == before)
        #expect(throws: UsageError.missingArgument("ID", command: "sonde maintenance end")) {
            try CommandTable.parse(["maintenance", "end"], environment: [:])
        }
        #expect(throws: UsageError.missingSubcommand(command: "sonde maintenance", names: ["add", "list", "end"])) {
            try CommandTable.parse(["maintenance"], environment: [:])
        }
        let console2 = CapturingConsole()
        #expect(await SondeMain.run(arguments: ["maintenance", "stop"], environment: [:], console: console2) == 1)
        #expect(console2.stderr.hasPrefix("error: unknown subcommand 'stop' for 'sonde maintenance'"))
    }

    // MARK: The calendar

    @Test("the calendar names the ad hoc window first, then a recurring one, and clips periods")
    func calendar() throws {
        let script = try Self.parse("# @maintenance daily 02:00-03:00 UTC\n")
        let day = Self.at("2026-12-01T00:00:00Z")
        let calendar = MaintenanceCalendar(entries: [
            MaintenanceEntry(
                id: "m1", check: "web", fromMs: day + 2 * UTCTime.msPerHour + 1_800_000,
                untilMs: day + 4 * UTCTime.msPerHour, reason: "deploy", addedMs: day)
        ])
        #expect(
            calendar.window(check: "web", settings: script.settings, atMs: day + 2 * UTCTime.msPerHour)
                == "daily 02:00-03:00 UTC")
        #expect(calendar.window(check: "web", settings: script.settings, atMs: day + 9_000_000) == "m1")
        #expect(calendar.window(check: "other", settings: MonitorSettings(), atMs: day + 9_000_000) == nil)
        let periods = calendar.periods(
            check: "web", settings: script.settings, fromMs: day, toMs: day + UTCTime.msPerDay)
        #expect(periods.map(\.label) == ["daily 02:00-03:00 UTC", "m1"])
        #expect(
            MaintenanceCalendar.coveredMs(periods, fromMs: day, toMs: day + UTCTime.msPerDay) == 2 * UTCTime.msPerHour)
    }
}
