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

@Suite("sonde report: files, figures, escaping, bad input", .cpuBound)
struct ReportTests {
    static let now = Date(timeIntervalSince1970: Double(SLOTests.now) / 1000)

    static func command(_ folders: [String], out: String, checks: String = "/nonexistent") -> ReportCommand {
        var command = ReportCommand()
        command.data = folders
        command.out = out
        command.checks = checks
        return command
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test("a month of runs gives the README row, the check page, badges and charts with the right figures")
    func writesTheReport() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        let start = SLOTests.now - 30 * UTCTime.msPerDay + 60_000
        data.every(60_000, from: start, to: SLOTests.now + 1) { t in (t - start) / 60_000 % 1440 == 7 }
        try data.write(to: folder.path + "/data", hoursBefore: SLOTests.now)
        try folder.write(
            "checks/api.hurl", "# @every 1m\n# @slo 99.9% 30d\n# @latency 200ms 99%\nGET http://x/\nHTTP 200\n")
        let console = CapturingConsole()
        let code = Self.command([folder.path + "/data"], out: folder.path + "/reports", checks: folder.path + "/checks")
            .run(console: console, now: Self.now)
        #expect(code == 0, "\(console.all)")
        let readme = try Self.read(folder.path + "/reports/README.md")
        #expect(
            readme.contains("| [api](checks/api.md) | 🟢 up | 99.930% (100%) | 99.930% (100%) | 99.930% (100%) |"),
            "\(readme)")
        #expect(readme.contains("| 30.5% (30d) | ok |"))
        #expect(readme.contains("## How this report counts"))
        #expect(readme.contains("0 data lines could not be read"))
        let page = try Self.read(folder.path + "/reports/checks/api.md")
        #expect(page.contains("| 30d | 43200 | 30 | 99.930% | 100.0% |"))
        #expect(page.contains("| 99.9% | 43200 | 43.2 | 30 | 30.5% |"))
        #expect(page.contains("Latency SLI (< 200 ms)"))
        #expect(page.contains("| `status` | 30 | entry 1 line 2: HTTP 503 |"))
        for svg in [
            "badges/api-uptime.svg", "badges/api-latency.svg", "charts/api-daily.svg", "charts/api-latency.svg",
        ] {
            let text = try Self.read(folder.path + "/reports/" + svg)
            #expect(text.hasPrefix("<svg") && text.contains("xmlns=\"http://www.w3.org/2000/svg\""), "\(svg)")
        }
        #expect(try Self.read(folder.path + "/reports/badges/api-uptime.svg").contains("99.930%"))
    }

    @Test("hostile messages and check names cannot break the tables or inject HTML")
    func escapesHostileText() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        data.every(60_000, from: SLOTests.now - 600_000, to: SLOTests.now + 1, check: "a|b") { _ in true }
        data.runs = data.runs.map { run in
            var run = run
            run.error?.message = "got `<script>alert(1)</script>` | col | *bold* [link](x)\nnext"
            return run
        }
        try data.write(to: folder.path + "/data")
        #expect(
            Self.command([folder.path + "/data"], out: folder.path + "/r").run(
                console: CapturingConsole(), now: Self.now) == 0)
        let page = try Self.read(folder.path + "/r/checks/a|b.md")
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;"))
        #expect(page.contains("\\| col \\|"))
        #expect(page.contains("\\`"))
        #expect(!page.contains("\nnext"))
        let readme = try Self.read(folder.path + "/r/README.md")
        #expect(readme.contains("[a\\|b](checks/a%7Cb.md)"))
        #expect(readme.contains("Default objectives"), "a check without a check file says its objectives are defaults")
    }

    @Test("incident write-ups are matched to their check even when one check's name ends another's")
    func incidentLinks() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        for name in [
            "2026-11-23T0910Z-login-cart.md", "2026-11-23T0910Z-cart.md", "2026-11-23T0910Z-cart-2.md",
            "2026-11-22T0100Z-cart.md", "README.md", "notes.txt",
        ] {
            try folder.write(name, "x")
        }
        let pages = SLOReport.incidentPages(in: folder.path, checks: ["cart", "login-cart"])
        #expect(
            pages["cart"] == ["2026-11-23T0910Z-cart.md", "2026-11-23T0910Z-cart-2.md", "2026-11-22T0100Z-cart.md"])
        #expect(pages["login-cart"] == ["2026-11-23T0910Z-login-cart.md"])
    }

    @Test("a missing or empty data folder is a clear error with exit 1")
    func badFolders() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let missing = CapturingConsole()
        #expect(
            Self.command([folder.path + "/nope"], out: folder.path + "/r").run(console: missing, now: Self.now) == 1)
        #expect(missing.stderr.contains("no data folder \(folder.path)/nope"))
        try FileManager.default.createDirectory(atPath: folder.path + "/empty", withIntermediateDirectories: true)
        let empty = CapturingConsole()
        #expect(Self.command([folder.path + "/empty"], out: folder.path + "/r").run(console: empty, now: Self.now) == 1)
        #expect(empty.stderr.contains("no run data in \(folder.path)/empty"))
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/r/README.md"))
    }

    @Test("an output folder that cannot be written is a runtime error (3) naming the path; the other files are written")
    func unwritableOutput() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        data.every(60_000, from: SLOTests.now - UTCTime.msPerHour, to: SLOTests.now + 1) { _ in false }
        try data.write(to: folder.path + "/data", hoursBefore: SLOTests.now)
        // A folder the report needs is a plain file.
        try folder.write("r1/charts", "not a folder")
        let first = CapturingConsole()
        #expect(Self.command([folder.path + "/data"], out: folder.path + "/r1").run(console: first, now: Self.now) == 3)
        #expect(first.stderr.contains("cannot write \(folder.path)/r1/charts"), "\(first.stderr)")
        // One file the report writes is a folder: that file fails, the others are written.
        try FileManager.default.createDirectory(
            atPath: folder.path + "/r2/badges/api-uptime.svg", withIntermediateDirectories: true)
        let second = CapturingConsole()
        #expect(
            Self.command([folder.path + "/data"], out: folder.path + "/r2").run(console: second, now: Self.now) == 3)
        #expect(
            second.stderr.contains("cannot write \(folder.path)/r2/badges/api-uptime.svg: Is a directory"),
            "\(second.stderr)")
        #expect(try Self.read(folder.path + "/r2/README.md").contains("[api](checks/api.md)"))
        #expect(try Self.read(folder.path + "/r2/checks/api.md").contains("# api"))
    }

    @Test("garbage lines, unknown versions and runs from the future are skipped and counted in the footnote")
    func footnoteCounts() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        data.every(60_000, from: SLOTests.now - 600_000, to: SLOTests.now + 180_001)
        try data.write(to: folder.path + "/data")
        let file = DataFolder(folder.path + "/data").runsFile(check: "api", at: SLOTests.now)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        handle.seekToEndOfFile()
        handle.write(
            Data("not json\n{\"v\":2,\"t\":\"2026-11-23T11:00:00Z\",\"check\":\"api\",\"ok\":true}\n{\"v\":1".utf8))
        try handle.close()
        let console = CapturingConsole()
        #expect(
            Self.command([folder.path + "/data"], out: folder.path + "/r").run(console: console, now: Self.now) == 0)
        let readme = try Self.read(folder.path + "/r/README.md")
        #expect(
            readme.contains("3 data lines could not be read (1 torn final lines) (1 of an unknown format version)"),
            "\(readme)")
        #expect(readme.contains("3 runs stamped in the future were ignored"))
        #expect(console.stderr.contains("3 data lines could not be read"))
    }

    @Test("--json carries the same figures, and two data folders give per-location and fleet views")
    func jsonAndLocations() throws {
        let a = try TemporaryFolder()
        let b = try TemporaryFolder()
        defer {
            a.cleanup()
            b.cleanup()
        }
        var dataA = DataBuilder()
        var dataB = DataBuilder()
        let hour = SLOTests.now - UTCTime.msPerHour + 1
        dataA.every(60_000, from: hour, to: SLOTests.now + 1, location: "eu") { t in (t - hour) / 60_000 < 10 }
        dataB.every(60_000, from: hour, to: SLOTests.now + 1, location: "us") { t in
            (t - hour) / 60_000 >= 5 && (t - hour) / 60_000 < 15
        }
        try dataA.write(to: a.path)
        try dataB.write(to: b.path)
        var command = Self.command([a.path, b.path], out: a.path + "/r")
        command.json = true
        let console = CapturingConsole()
        #expect(command.run(console: console, now: Self.now) == 0)
        guard case .object(let root) = try JSON.parse(console.stdout),
            case .list(let checks)? = root.first(where: { $0.key == "checks" })?.value,
            case .object(let check)? = checks.first
        else {
            Issue.record("unexpected JSON: \(console.stdout)")
            return
        }
        let value = { (key: String) in check.first { $0.key == key }?.value }
        #expect(value("check") == .string("api"))
        guard case .list(let windows)? = value("windows"), case .object(let day)? = windows.first else {
            Issue.record("no windows")
            return
        }
        #expect(day.first { $0.key == "runs" }?.value == .integer(120))
        #expect(day.first { $0.key == "good" }?.value == .integer(100))
        guard case .object(let fleet)? = value("fleet"),
            case .list(let fleetWindows)? = fleet.first(where: { $0.key == "windows" })?.value,
            case .object(let first)? = fleetWindows.first
        else {
            Issue.record("no fleet view")
            return
        }
        #expect(fleet.first { $0.key == "quorum" }?.value == .string("all"))
        #expect(first.first { $0.key == "slots" }?.value == .integer(60))
        #expect(first.first { $0.key == "down" }?.value == .integer(5), "minutes 5–9 failed at both")
        command.json = false
        #expect(command.run(console: CapturingConsole(), now: Self.now) == 0)
        let readme = try Self.read(a.path + "/r/README.md")
        #expect(readme.contains("## Per location"))
        #expect(readme.contains("| api | **fleet** (quorum all of 2 locations) |"))
    }
}
