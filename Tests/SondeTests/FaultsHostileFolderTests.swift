import Foundation
import Testing

@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeScript
@testable import SondeStore
@testable import SondeSupport

#if canImport(Glibc)
    import Glibc
#endif

extension Faults {
    /// Fault area 8: hostile files and folders (docs/faults.md). Two probers on one data folder,
    /// check names that collide with sonde's own files or break the file system's limits, and
    /// control characters headed for the log.
    @Suite("Faults: hostile files and folders")
    struct FaultsHostileFolderTests {
        @Test("a second sonde run on the same data folder exits 1 naming the holder; readers still read")
        func secondProberIsRefused() async throws {
            let service = try TestService()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            try folder.write("checks/a.hurl", "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n")
            let first = try SondeProcess(["run"], in: folder.path, tag: "first")
            _ = try #require(try await first.awaitLog(" start: "), "\(first.stderr)")
            #expect(
                try String(contentsOfFile: folder.path + "/data/.lock", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines) == String(first.pid))

            let second = try await SondeProcess.run(["run"], in: folder.path, tag: "second", timeout: .seconds(60))
            #expect(second.outcome == .exited(1), "\(second.err)")
            #expect(second.err.contains("in use by process \(first.pid)"), "\(second.err)")
            #expect(!second.err.contains(" info start: "), "\(second.err)")
            let once = try await SondeProcess.run(
                ["run", "--once"], in: folder.path, tag: "once", timeout: .seconds(60))
            #expect(once.outcome == .exited(1), "\(once.err)")

            // Readers never take the lock.
            let ran = await pollUntil(timeout: .seconds(60)) {
                !DataFolder(folder.path + "/data").runFiles(check: "a").isEmpty
            }
            #expect(ran)
            for command in [["status"], ["report", "--out", "reports"], ["incidents"]] {
                let reader = try await SondeProcess.run(
                    command, in: folder.path, tag: command[0], timeout: .seconds(60))
                #expect(reader.outcome == .exited(0), "\(command): \(reader.err)")
            }

            // The kernel releases the lock however the holder ends: SIGKILL leaves no stale lock.
            first.signal(SIGKILL)
            #expect(try await first.finish(timeout: .seconds(15)) == .signalled(SIGKILL))
            let third = try SondeProcess(["run"], in: folder.path, tag: "third")
            _ = try #require(try await third.awaitLog(" start: "), "\(third.stderr)")
            third.signal(SIGTERM)
            #expect(try await third.finish(timeout: .seconds(15)) == .exited(0), "\(third.stderr)")
        }

        /// File names no check may have: one of sonde's own files, 250 bytes, ESC and a newline.
        static let hostileNames = [
            "incidents.jsonl", String(repeating: "n", count: 250), "esc\u{1B}[31mred", "new\nline",
        ]

        @Test(
            "names that collide with sonde's files, are too long or hold control characters are refused; the rest runs"
        )
        func hostileNamesAreRefused() async throws {
            let service = try TestService()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let failing = "# @every 1s\n# @down-after 1\nGET \(service.baseURL)/status?code=503\nHTTP 200\n"
            try folder.write("checks/good.hurl", failing)
            for name in Self.hostileNames { try folder.write("checks/\(name).hurl", failing) }

            let validate = try await SondeProcess.run(
                ["validate", "checks"], in: folder.path, tag: "validate", timeout: .seconds(60))
            #expect(validate.outcome == .exited(2), "\(validate.err)")
            #expect(validate.err.contains("incidents.jsonl.hurl: not a check's name"), "\(validate.err)")
            #expect(validate.err.contains("250 bytes long"), "\(validate.err)")
            #expect(validate.err.contains("esc\\u{1B}[31mred.hurl"), "\(validate.err)")
            #expect(validate.err.contains("new\\nline.hurl"), "\(validate.err)")
            #expect(!validate.err.contains("\u{1B}"), "raw ESC on the terminal")
            #expect(validate.err.split(separator: "\n").count == 4, "\(validate.err)")

            let daemon = try SondeProcess(["run"], in: folder.path, tag: "run")
            _ = try #require(try await daemon.awaitLog(" start: "), "\(daemon.stderr)")
            let incidents = folder.path + "/data/incidents.jsonl"
            let opened = await pollUntil(timeout: .seconds(60)) {
                ((try? String(contentsOfFile: incidents, encoding: .utf8)) ?? "").contains("\"opened\"")
            }
            #expect(opened, "\(daemon.stderr)")
            daemon.signal(SIGTERM)
            #expect(try await daemon.finish(timeout: .seconds(15)) == .exited(0), "\(daemon.stderr)")
            let log = daemon.stderr
            #expect(!log.contains("\u{1B}"), "raw ESC in the log")
            #expect(
                log.split(separator: "\n").allSatisfy { $0.first?.isNumber == true }, "a raw newline split a log line")
            #expect(log.components(separatedBy: "not loaded").count - 1 == Self.hostileNames.count, "\(log)")
            #expect(log.contains("1 check from checks"), "\(log)")
            #expect(DataFolder(folder.path + "/data").checks() == ["good"])
            let entries = try FileManager.default.contentsOfDirectory(atPath: folder.path + "/data")
            #expect(Set(entries) == ["good", "incidents.jsonl", ".lock"], "\(entries)")

            for command in [["status"], ["report", "--out", "reports"], ["incidents"]] {
                let reader = try await SondeProcess.run(
                    command, in: folder.path, tag: command[0], timeout: .seconds(60))
                #expect(reader.outcome == .exited(0), "\(command): \(reader.err)")
            }
        }

        @Test("a check file over 1 MiB is refused unread with a clear error; the other files still load")
        func oversizedCheckFile() async throws {
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            try folder.write("checks/good.hurl", "GET http://127.0.0.1:9/\nHTTP 200\n")
            let big = try folder.write("checks/big.hurl", "GET http://127.0.0.1:9/\nHTTP 200\n")
            // Sparse: 50 MB on paper, nothing on disk.
            #expect(truncate(big, 50_000_000) == 0)
            let validate = try await SondeProcess.run(
                ["validate", "checks"], in: folder.path, tag: "validate", timeout: .seconds(60))
            #expect(validate.outcome == .exited(2), "\(validate.err)")
            #expect(
                validate.err.contains("big.hurl: the file is 50000000 bytes; a check file is at most 1048576 bytes"),
                "\(validate.err)")
            let (set, problems) = try CheckSet.load(folder.path + "/checks")
            #expect(Array(set.scripts.keys) == ["good"])
            #expect(problems.count == 1 && problems[0].description.contains("at most 1048576 bytes"))
        }
    }
}
