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

/// `sonde run` as a user runs it: the built binary, real signals, real files.
@Suite("sonde run: the daemon under signals, kills and bad input")
struct DaemonTests {
    /// A `sonde run` child process with its output in files.
    final class Daemon: @unchecked Sendable {
        let process = Process()
        let errPath: String
        let outPath: String

        init(_ arguments: [String], in folder: TemporaryFolder, tag: String) throws {
            let binary = packageRoot + "/.build/debug/sonde"
            try #require(
                FileManager.default.isExecutableFile(atPath: binary), "build the executable first: swift build")
            errPath = folder.path + "/\(tag).err"
            outPath = folder.path + "/\(tag).out"
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            _ = FileManager.default.createFile(atPath: outPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["run"] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: folder.path)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
            try process.run()
        }

        func signal(_ number: Int32) { kill(process.processIdentifier, number) }

        func wait() async throws -> Int32 {
            try await offPool {
                self.process.waitUntilExit()
                return self.process.terminationStatus
            }
        }

        var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    }

    /// Every line of every run file: complete lines must decode; only a file's final line may be torn.
    static func readAll(_ data: String) throws -> (records: [RunRecord], torn: Int) {
        var records: [RunRecord] = []
        var torn = 0
        let folder = DataFolder(data)
        for check in folder.checks() {
            for file in folder.runFiles(check: check) {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file.path)))
                let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                for (index, line) in lines.enumerated() where !line.isEmpty {
                    do {
                        records.append(try RunLine.decode(Array(line)))
                    } catch {
                        let last = index == lines.count - 1
                        #expect(last, "\(file.path) line \(index + 1) does not parse: \(error)")
                        torn += 1
                    }
                }
            }
        }
        return (records, torn)
    }

    /// Complete runs recorded so far, by check (the daemon may be writing: a torn last line is skipped).
    static func runCounts(_ data: String) -> [String: Int] {
        let records = (try? readAll(data))?.records ?? []
        return Dictionary(grouping: records, by: \.check).mapValues(\.count)
    }

    static func freePort() throws -> UInt16 {
        let probe = try HTTPServer(host: "127.0.0.1", port: 0) { _ in .text("") }
        let port = probe.port
        probe.stop()
        return port
    }

    @Test(
        "killed with SIGKILL, restarted, reloaded and stopped with SIGTERM, it keeps every line whole and on schedule")
    func killRestartReloadStop() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("checks/health.hurl", "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n")
        try folder.write("checks/text.hurl", "# @every 1s\nGET \(service.baseURL)/text\nHTTP 200\n")
        try folder.write(
            "checks/down.hurl", "# @every 1s\n# @timeout 2s\nGET \(service.baseURL)/status?code=503\nHTTP 200\n")

        // Each step waits for what it needs (runs in the files, lines in the log), never for a fixed
        // time: a busy machine only makes it slower.
        let data = folder.path + "/data"
        let checks = ["down", "health", "text"]
        let began = Date()
        let first = try Daemon([], in: folder, tag: "first")
        #expect(
            await pollUntil {
                let n = Self.runCounts(data)
                return checks.allSatisfy { n[$0, default: 0] >= 2 }
            },
            "the first daemon did not run each check twice: \(Self.runCounts(data))")
        first.signal(SIGKILL)
        #expect(try await first.wait() == SIGKILL)
        let afterKill = Self.runCounts(data)
        #expect(checks.allSatisfy { afterKill[$0, default: 0] >= 2 }, "\(afterKill)")

        let port = try Self.freePort()
        let second = try Daemon(["--metrics", "127.0.0.1:\(port)", "--log-format", "json"], in: folder, tag: "second")
        #expect(
            await pollUntil {
                let n = Self.runCounts(data)
                return checks.allSatisfy { n[$0, default: 0] > afterKill[$0, default: 0] }
            },
            "the second daemon did not run each check: \(Self.runCounts(data))")
        // A file that stops parsing keeps its previous version; a new file starts.
        try folder.write("checks/text.hurl", "# @every 1s\nGET \(service.baseURL)/text\nHTTP 200 junk\n")
        try folder.write("checks/added.hurl", "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n")
        second.signal(SIGHUP)
        #expect(await pollUntil { second.stderr.contains("keeping the previous version of 'text'") }, "no reload line")
        #expect(
            await pollUntil {
                let n = Self.runCounts(data)
                return n["added", default: 0] >= 1 && checks.allSatisfy { n[$0, default: 0] >= 4 }
            },
            "too few runs after the reload: \(Self.runCounts(data))")

        let metrics = try await offPool { try RawHTTPClient(port: port).request("GET", "/metrics") }
        #expect(metrics.status == 200)
        let metricsText = String(decoding: metrics.body, as: UTF8.self)
        #expect(metricsText.contains("sonde_check_up{check=\"down\",location=\"local\"} 0"))
        #expect(metricsText.contains("sonde_check_up{check=\"health\",location=\"local\"} 1"))
        let file = try folder.write("metrics.txt", metricsText)
        let (code, output) = try await offPool { try ProberTests.promtool(["check", "metrics"], stdin: file) }
        #expect(code == 0, "promtool: \(output)")
        let health = try await offPool { try RawHTTPClient(port: port).request("GET", "/healthz") }
        #expect(health.status == 200)

        let ran = Date().timeIntervalSince(began)
        second.signal(SIGTERM)
        #expect(try await second.wait() == 0)
        let log = second.stderr
        #expect(log.contains("\"event\":\"start\""))
        #expect(log.contains("text.hurl:3:10:"), "reload error names file:line:col: \(log)")
        #expect(log.contains("keeping the previous version of 'text'"))
        #expect(log.contains("\"event\":\"stopped\""))
        for line in log.split(separator: "\n") {
            #expect((try? JSON.parse(String(line))) != nil, "log line is not JSON: \(line)")
        }

        let all = try Self.readAll(folder.path + "/data")
        #expect(all.torn <= 3, "at most one torn final line per file")
        let byCheck = Dictionary(grouping: all.records, by: \.check)
        #expect(Set(byCheck.keys) == ["added", "down", "health", "text"])
        // At least the runs waited for above; never more than the slots of the time the two daemons
        // ran allow (one more at each start).
        for check in checks {
            let count = byCheck[check]?.count ?? 0
            #expect(count >= 4 && count <= Int(ran) + 2, "\(check): \(count) runs in \(ran) s")
        }
        let textFailures = (byCheck["text"] ?? []).filter { !$0.ok }.count
        #expect(textFailures == 0, "the previous version of text kept running")
        let downKinds = Set((byCheck["down"] ?? []).map { $0.error?.kind ?? "none" })
        #expect(downKinds == ["status"])
        let healthFailures = (byCheck["health"] ?? []).filter { !$0.ok }.count
        #expect(healthFailures == 0)
        // Runs of one check keep their one-second rhythm: their slots (start time less lateness; a
        // run started late on a busy machine still belongs to its slot) are a second apart or more.
        // Across the restart the phase is the same (stable offset), so no pair is closer.
        for (check, records) in byCheck {
            let slots = records.map { Double($0.time) - $0.lateMs }.sorted()
            for (a, b) in zip(slots, slots.dropFirst()) where b - a < 900 {
                Issue.record("\(check): slots \(b - a) ms apart")
            }
            // And never overlap: each run starts after the previous one ended.
            let runs = records.sorted { $0.time < $1.time }
            for (a, b) in zip(runs, runs.dropFirst()) where Double(b.time) < Double(a.time) + a.durationMs - 1 {
                Issue.record("\(check): a run at \(b.time) started before the one at \(a.time) ended")
            }
        }
    }

    @Test("--once runs each check once and exits 0 when all pass, 4 when any fails")
    func onceExitCodes() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("checks/ok.hurl", "GET \(service.baseURL)/json\nHTTP 200\n")
        let passing = try Daemon(["--once"], in: folder, tag: "once-ok")
        #expect(try await passing.wait() == 0)
        #expect(passing.stdout.contains("checks/ok.hurl: Success"))
        try folder.write("checks/bad.hurl", "GET \(service.baseURL)/status?code=500\nHTTP 200\n")
        let failing = try Daemon(["--once"], in: folder, tag: "once-bad")
        #expect(try await failing.wait() == 4)
        let records = try Self.readAll(folder.path + "/data").records
        #expect(records.filter { $0.check == "ok" }.count == 2)
        #expect(records.filter { $0.check == "bad" }.map(\.error?.kind) == ["status"])
    }

    @Test("bad start-up input gets one clear line and the right exit code")
    func badStartupInput() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // No checks.
        try FileManager.default.createDirectory(atPath: folder.path + "/empty", withIntermediateDirectories: true)
        let none = try Daemon(["--checks", "empty"], in: folder, tag: "none")
        #expect(try await none.wait() == 1)
        #expect(none.stderr.contains("no checks found: empty: no .hurl files in this folder"))

        // Data folder not writable (its parent is a file): the system refuses, a runtime error.
        try folder.write("checks/a.hurl", "GET http://127.0.0.1:9/\nHTTP 200\n")
        try folder.write("afile", "x")
        let unwritable = try Daemon(["--data", "afile/data"], in: folder, tag: "unwritable")
        #expect(try await unwritable.wait() == 3)
        #expect(unwritable.stderr.contains("data folder afile/data is not writable"))

        // Two files with the same check name.
        try folder.write("checks/sub/a.hurl", "GET http://127.0.0.1:9/\nHTTP 200\n")
        let duplicate = try Daemon([], in: folder, tag: "duplicate")
        #expect(try await duplicate.wait() == 1)
        #expect(duplicate.stderr.contains("a check named 'a' is already loaded from checks/a.hurl"))
        try FileManager.default.removeItem(atPath: folder.path + "/checks/sub")

        // A file that does not parse: exit 2 with its position.
        try folder.write("checks/b.hurl", "GET http://127.0.0.1:9/\nHTTP banana\n")
        let parse = try Daemon([], in: folder, tag: "parse")
        #expect(try await parse.wait() == 2)
        #expect(parse.stderr.contains("checks/b.hurl:2:6:"))

        // A bad --metrics address.
        try FileManager.default.removeItem(atPath: folder.path + "/checks/b.hurl")
        let metrics = try Daemon(["--metrics", "localhost:notaport"], in: folder, tag: "metrics")
        #expect(try await metrics.wait() == 1)
        #expect(metrics.stderr.contains("--metrics 'localhost:notaport': expected HOST:PORT"))

        // A metrics address that is taken: the listener cannot bind, a runtime error (3), not usage.
        let taken = try HTTPServer { _ in .text("") }
        defer { taken.stop() }
        let bind = try Daemon(["--metrics", "127.0.0.1:\(taken.port)"], in: folder, tag: "bind")
        #expect(try await bind.wait() == 3)
        #expect(bind.stderr.contains("--metrics: cannot listen on 127.0.0.1:\(taken.port): address already in use"))
    }
}
