import Foundation
import Testing

@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeProbe
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

        /// A run file of 2 GiB on paper: valid lines around lines over the 1 MiB cap (random bytes,
        /// written), short garbage lines, 8 MiB of written NULs and a 2 GiB hole of zeros (sparse:
        /// nothing on disk) — one line each, as neither holds a newline. 9 valid runs (7 good, then
        /// 2 failed and 1 good at the end: one incident with `@down-after 2`).
        struct GarbageRunFile {
            static let longLines = 24
            static let shortLines = 100
            /// Lines over the cap: the long ones, the NULs and the hole.
            static let oversized = longLines + 2
            static let skipped = oversized + shortLines
            static let runs = 9
            static let goodRuns = 7

            /// Writes the file for `check` at `data` and returns its path, with the time of its last run.
            static func write(data: String, check: String, nowMs: Int64) throws -> String {
                let dayStart = nowMs - nowMs % UTCTime.msPerDay
                let first = max(dayStart, nowMs - 50 * 60_000)
                let step = max(1, (nowMs - first) / 12)
                var time = first
                func run(_ ok: Bool) -> [UInt8] {
                    time += step
                    return RunLine.encode(
                        RunRecord(
                            time: time, check: check, location: "", ok: ok, durationMs: 12.5, lateMs: 0,
                            error: ok ? nil : RunError(kind: "status", entry: 1, line: 2, message: "status 503"),
                            steps: [
                                RunStep(
                                    status: ok ? 200 : 503,
                                    timings: PhaseTimings(
                                        dns: 0, connect: 1, tls: 0, ttfb: 5, transfer: 1, total: 7, bytes: 10))
                            ]))
                }
                let path = data + "/\(check)/runs-\(UTCTime.dayString(nowMs)).jsonl"
                try FileManager.default.createDirectory(
                    atPath: data + "/\(check)", withIntermediateDirectories: true)
                let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                try #require(fd >= 0, "open \(path): \(errnoReason(errno))")
                defer { close(fd) }
                func put(_ bytes: [UInt8]) throws {
                    let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                    try #require(written == bytes.count, "write \(path): \(errnoReason(errno))")
                }
                for _ in 0..<3 { try put(run(true)) }
                // 2 MiB of random printable bytes (no newline), varied per line.
                var state: UInt64 = 0x9E37_79B9_7F4A_7C15
                var block = [UInt8](repeating: 0, count: 2 << 20)
                for k in block.indices {
                    state ^= state << 13
                    state ^= state >> 7
                    state ^= state << 17
                    block[k] = UInt8(33 + state % 94)
                }
                for k in 0..<longLines {
                    block[0] = UInt8(33 + k)
                    try put(block + [0x0A])
                }
                try put(run(true))
                for k in 0..<shortLines { try put(Array(block[(k * 5_000)..<(k * 5_000 + 4_000)]) + [0x0A]) }
                try put(run(true))
                try put([UInt8](repeating: 0, count: 8 << 20) + [0x0A])
                try put(run(true))
                try put(Array("the start of a line that a 2 GiB hole continues".utf8))
                let end = lseek(fd, 0, SEEK_END)
                try #require(ftruncate(fd, end + (2 << 30)) == 0, "ftruncate: \(errnoReason(errno))")
                _ = lseek(fd, 0, SEEK_END)
                try put(Array(" and its end\n".utf8))
                try put(run(false))
                try put(run(false))
                try put(run(true))
                return path
            }
        }

        /// Runs `sonde` with `arguments` to its end, sampling its peak memory.
        static func measured(
            _ arguments: [String], in directory: String, tag: String
        ) async throws -> (outcome: SondeProcess.Outcome, out: String, err: String, peak: Int) {
            let child = try SondeProcess(arguments, in: directory, tag: tag)
            let memory = PeakMemory(pid: child.pid)
            let outcome = try await child.finish(timeout: .seconds(120))
            let peak = try await offPool { memory.bytes() }
            // Seen at least once, with the few MB any process has: the bound is not met by silence.
            #expect(memory.sampleCount > 0 && peak > 4 << 20, "\(tag): \(memory.sampleCount) samples, \(peak) bytes")
            return (outcome, child.stdout, child.stderr, peak)
        }

        static let peakLimit = 150 * 1024 * 1024

        @Test(
            "a 2 GiB garbage run file: status, report, incidents and run's start-up read it in bounded memory and count its valid lines",
            .timeLimit(.minutes(5)))
        func garbageRunFile() async throws {
            let service = try TestService()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let data = folder.path + "/data"
            try folder.write(
                "checks/a.hurl", "# @every 1s\n# @down-after 2\n# @up-after 1\nGET \(service.baseURL)/json\nHTTP 200\n")
            let runFile = try GarbageRunFile.write(
                data: data, check: "a", nowMs: Int64(Date().timeIntervalSince1970 * 1000))
            // incidents.jsonl: a 1 GiB hole, one line over the cap.
            let events = data + "/incidents.jsonl"
            #expect(FileManager.default.createFile(atPath: events, contents: nil))
            #expect(truncate(events, 1 << 30) == 0)
            let appendEnd = try FileHandle(forWritingTo: URL(fileURLWithPath: events))
            try appendEnd.seekToEnd()
            try appendEnd.write(contentsOf: Data("\n".utf8))
            try appendEnd.close()
            var info = stat()
            #expect(stat(runFile, &info) == 0 && info.st_size > 2 << 30)
            let skipped = "\(GarbageRunFile.skipped) data lines could not be read"

            let status = try await Self.measured(["status"], in: folder.path, tag: "status")
            #expect(status.outcome == .exited(0), "\(status.err)")
            #expect(status.peak < Self.peakLimit, "status peaked at \(status.peak) bytes")
            #expect(
                status.out.contains(
                    "\(GarbageRunFile.skipped) lines skipped (\(GarbageRunFile.oversized) over the 1048576-byte line cap)"
                ),
                "\(status.out)")
            let row = status.out.split(separator: "\n").first { $0.hasPrefix("a ") } ?? ""
            #expect(row.split(separator: " ").contains("\(GarbageRunFile.runs)"), "\(status.out)")

            let report = try await Self.measured(["report", "--json"], in: folder.path, tag: "report")
            #expect(report.outcome == .exited(0), "\(report.err)")
            #expect(report.peak < Self.peakLimit, "report peaked at \(report.peak) bytes")
            #expect(
                report.out.contains(
                    "\"window\":\"24h\",\"runs\":\(GarbageRunFile.runs),\"good\":\(GarbageRunFile.goodRuns),"),
                "\(report.out.prefix(2000))")
            #expect(report.out.contains("\"skipped_lines\":\(GarbageRunFile.skipped)"), "\(report.out.prefix(2000))")

            let incidents = try await Self.measured(["incidents"], in: folder.path, tag: "incidents")
            #expect(incidents.outcome == .exited(0), "\(incidents.err)")
            #expect(incidents.peak < Self.peakLimit, "incidents peaked at \(incidents.peak) bytes")
            #expect(incidents.out.contains("and 1 write-up\n"), "\(incidents.out)")
            #expect(
                incidents.err.contains("note: \(GarbageRunFile.skipped) data lines could not be read"),
                "\(incidents.err)")

            // The prober's start: the writer's hour rebuild, the incident and threshold replays and
            // the SLO seeding all read the file; the first live run is appended after the rebuild.
            let daemon = try SondeProcess(["run"], in: folder.path, tag: "run")
            let memory = PeakMemory(pid: daemon.pid)
            let seeded = try await daemon.awaitLog(
                " warn slo: counts of 1 check read from the files", timeout: .seconds(120))
            #expect(seeded?.contains(skipped) == true, "\(daemon.stderr)")
            #expect(daemon.stderr.contains("1 lines of data/incidents.jsonl could not be read"), "\(daemon.stderr)")
            let appended = await pollUntil(timeout: .seconds(120)) {
                var now = stat()
                return stat(runFile, &now) == 0 && now.st_size > info.st_size
            }
            #expect(appended, "\(daemon.stderr)")
            daemon.signal(SIGTERM)
            #expect(try await daemon.finish(timeout: .seconds(30)) == .exited(0), "\(daemon.stderr)")
            let peak = try await offPool { memory.bytes() }
            #expect(peak < Self.peakLimit && peak > 4 << 20, "run peaked at \(peak) bytes while starting")
        }
    }
}
