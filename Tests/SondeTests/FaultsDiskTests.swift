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

#if canImport(Glibc)
    import Glibc
#endif

extension Faults {
    /// Fault area 5: the disk fills up and the data folder becomes unwritable while `sonde run` is
    /// running. The daemon must keep probing, count what it drops (`sonde_records_dropped_total`), log
    /// it, resume writing by itself when the disk takes lines again, and leave no broken line.
    ///
    /// Root ignores permission bits, so "unwritable" is made with files: the day file replaced by a
    /// symbolic link to /dev/full (every write fails with ENOSPC), and the check's folder replaced by a
    /// regular file (ENOTDIR). Where the test may mount (root), a size-limited tmpfs really fills up.
    @Suite("Faults: a full disk and an unwritable data folder while sonde run runs")
    struct FaultsDiskTests {
        /// How long each fault lasts at full size; the fast size lifts it as soon as it has shown.
        static let phase: Duration = .seconds(6)
        static let cycles = FaultSize.pick(fast: 1, full: 3)

        /// A running `sonde run --metrics --log-format json` over two 1 s checks.
        struct Prober {
            let daemon: SondeProcess
            let port: UInt16
            let data: String

            init(_ folder: TemporaryFolder, service: TestService, data: String = "data", entries: Int = 1) async throws
            {
                let entry = "GET \(service.baseURL)/json\nHTTP 200\n"
                for name in ["a", "b"] {
                    try folder.write("checks/\(name).hurl", "# @every 1s\n" + String(repeating: entry, count: entries))
                }
                self.data = data.hasPrefix("/") ? data : folder.path + "/" + data
                daemon = try SondeProcess(
                    ["run", "--data", data, "--metrics", "127.0.0.1:0", "--log-format", "json"],
                    in: folder.path, tag: "run")
                let startLine = try #require(try await daemon.awaitLog("\"event\":\"start\""), "\(daemon.stderr)")
                port = try #require(SondeProcess.metricsPort(in: startLine), "\(startLine)")
            }

            func metric(_ series: String) async -> Double {
                metricValue(await fetchMetrics(port: port), series) ?? -1
            }

            var dropped: Double { get async { await metric("sonde_records_dropped_total{location=\"local\"}") } }

            func runs(_ check: String) async -> Double {
                await metric("sonde_runs_total{check=\"\(check)\",location=\"local\",result=\"success\"}")
            }

            /// Log lines of the daemon that contain `text`.
            func logged(_ text: String) -> Int {
                daemon.stderr.split(separator: "\n").filter { $0.contains(text) }.count
            }

            func lines(_ check: String) -> Int {
                DataFolder(data).runFiles(check: check).reduce(0) { total, file in
                    total
                        + ((try? String(contentsOfFile: file.path, encoding: .utf8))?.split(separator: "\n").count ?? 0)
                }
            }

            /// Polls until `condition` holds (true) or `timeout` passes (false). The default is generous:
            /// the conditions wait for a few 1 s runs, which a loaded machine can hold up for a while.
            func wait(_ timeout: Duration = .seconds(60), until condition: () async -> Bool) async throws -> Bool {
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline {
                    if await condition() { return true }
                    try await Task.sleep(for: .milliseconds(100))
                }
                return await condition()
            }

            /// SIGTERM, then the figures of the `stopped` log line.
            func stop() async throws -> (runs: Int, dropped: Int) {
                daemon.signal(SIGTERM)
                #expect(try await daemon.finish(timeout: .seconds(20)) == .exited(0), "\(daemon.stderr.suffix(500))")
                let line = daemon.stderr.split(separator: "\n").last { $0.contains("\"event\":\"stopped\"") }
                guard let line, case .object(let fields)? = try? JSON.parse(String(line)) else {
                    Issue.record("no stopped line: \(daemon.stderr.suffix(500))")
                    return (-1, -1)
                }
                func int(_ key: String) -> Int {
                    if case .string(let text)? = fields.first(where: { $0.key == key })?.value {
                        return Int(text) ?? -1
                    }
                    return -1
                }
                return (int("runs"), int("dropped"))
            }
        }

        /// Keeps a fault until `shown` holds (at most 60 s), and at full size for `phase` at least.
        static func hold(_ prober: Prober, until shown: () async -> Bool) async throws {
            let start = ContinuousClock.now
            _ = try await prober.wait(.seconds(60), until: shown)
            if FaultSize.isFull, ContinuousClock.now - start < phase {
                try await Task.sleep(for: phase - (ContinuousClock.now - start))
            }
        }

        /// Close to midnight UTC the day file changes under the test: wait for the new day.
        static func awayFromMidnight() async throws {
            let now = UTCTime.milliseconds(Date())
            let left = UTCTime.dayStart(now) + UTCTime.msPerDay - now
            if left < 60_000 { try await Task.sleep(for: .milliseconds(left + 1000)) }
        }

        @Test(
            "day file swapped for /dev/full, then the check's folder for a file: probing goes on, drops counted and logged, writing resumes"
        )
        func swappedFiles() async throws {
            try await Self.awayFromMidnight()
            let service = try TestService()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let prober = try await Prober(folder, service: service)
            #expect(try await prober.wait { prober.lines("a") >= 1 && prober.lines("b") >= 1 }, "both checks wrote")
            let dayFile = DataFolder(prober.data).runsFile(check: "a", at: UTCTime.milliseconds(Date()))
            let checkFolder = DataFolder(prober.data).directory(of: "a")
            let logged = "data/a/" + (dayFile as NSString).lastPathComponent  // as sonde names it: --data data
            let fm = FileManager.default

            var deleted = 0
            for cycle in 0..<Self.cycles {
                // The disk is full for `a`'s day file.
                let droppedBefore = await prober.dropped
                let runsBefore = await prober.runs("a")
                let linesBefore = prober.lines("a")
                try fm.moveItem(atPath: dayFile, toPath: dayFile + ".saved")
                try fm.createSymbolicLink(atPath: dayFile, withDestinationPath: "/dev/full")
                try await Self.hold(prober) { await prober.dropped >= droppedBefore + 2 }
                let droppedFull = await prober.dropped
                #expect(
                    droppedFull >= droppedBefore + 2,
                    "cycle \(cycle): dropped \(droppedBefore) → \(droppedFull) while the disk was full")
                #expect(await prober.runs("a") >= runsBefore + 2, "cycle \(cycle): a kept probing")
                #expect(
                    prober.daemon.stderr.contains("cannot write \(logged): no space left on device"),
                    "cycle \(cycle): logged: \(prober.daemon.stderr.suffix(600))")
                try fm.removeItem(atPath: dayFile)
                try fm.moveItem(atPath: dayFile + ".saved", toPath: dayFile)
                #expect(
                    try await prober.wait { prober.lines("a") >= linesBefore + 1 }, "cycle \(cycle): a writes again")
                #expect(
                    try await prober.wait { prober.logged("writing resumed after") >= 2 * cycle + 1 },
                    "cycle \(cycle): resumption logged")

                // The check's folder cannot exist: a regular file has its name.
                let droppedBeforeFolder = await prober.dropped
                let linesBeforeFolder = prober.lines("a")
                try fm.moveItem(atPath: checkFolder, toPath: checkFolder + ".moved")
                try folder.write("data/a", "not a folder")
                try await Self.hold(prober) { await prober.dropped >= droppedBeforeFolder + 2 }
                let droppedFolder = await prober.dropped
                #expect(
                    droppedFolder >= droppedBeforeFolder + 2,
                    "cycle \(cycle): dropped \(droppedBeforeFolder) → \(droppedFolder) while the folder was a file")
                #expect(
                    prober.daemon.stderr.contains("cannot write \(logged): not a directory"),
                    "cycle \(cycle): logged: \(prober.daemon.stderr.suffix(600))")
                try fm.removeItem(atPath: checkFolder)
                try fm.moveItem(atPath: checkFolder + ".moved", toPath: checkFolder)
                #expect(
                    try await prober.wait { prober.lines("a") >= linesBeforeFolder + 1 },
                    "cycle \(cycle): a writes again")
                #expect(
                    try await prober.wait { prober.logged("writing resumed after") >= 2 * cycle + 2 },
                    "cycle \(cycle): resumption logged")

                // The day file is deleted (a clean-up job): the next lines start a new file at its path.
                let gone = prober.lines("a")
                try fm.removeItem(atPath: dayFile)
                #expect(
                    try await prober.wait { prober.lines("a") >= 1 }, "cycle \(cycle): a new day file after the delete")
                deleted += gone
            }
            #expect(prober.lines("b") >= 4, "b was never disturbed")
            let (runs, dropped) = try await prober.stop()
            let files = try DataFiles(prober.data)
            #expect(files.problems.isEmpty, "\(files.problems)")
            #expect(dropped >= 4 * Self.cycles)
            // Every run is either a line or a dropped record: nothing vanished unseen.
            #expect(
                files.records.count + deleted + dropped == runs,
                "\(files.records.count) lines + \(deleted) deleted by the test + \(dropped) dropped ≠ \(runs) runs")
        }

        @Test(
            "a day file replaced by a rename, then deleted, while sonde run writes: the next lines land in the new file"
        )
        func replacedDayFile() async throws {
            try await Self.awayFromMidnight()
            let service = try TestService()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let prober = try await Prober(folder, service: service)
            #expect(try await prober.wait { prober.lines("a") >= 2 }, "a wrote")
            let dayFile = DataFolder(prober.data).runsFile(check: "a", at: UTCTime.milliseconds(Date()))
            func inode(_ path: String) -> UInt64? {
                var info = stat()
                return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
            }
            func text(_ path: String) -> String {
                (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            }

            // Replaced (a rotation tool renames a new file onto the path): lines go on in the new file.
            let old = try #require(inode(dayFile))
            let kept = "{\"kept\":true}\n"
            try folder.write("replacement", kept)
            #expect(rename(folder.path + "/replacement", dayFile) == 0)
            let new = try #require(inode(dayFile))
            #expect(new != old)
            #expect(
                try await prober.wait { text(dayFile).split(separator: "\n").count >= 3 },
                "two lines after the kept one: \(text(dayFile))")
            #expect(inode(dayFile) == new, "written into the replacement, not replaced again")
            #expect(text(dayFile).hasPrefix(kept), "appended after what the replacement held")

            // Deleted: a new file at the path takes the next lines.
            try FileManager.default.removeItem(atPath: dayFile)
            #expect(try await prober.wait { prober.lines("a") >= 1 }, "a new day file after the delete")
            #expect(!text(dayFile).contains("kept"))
            _ = try await prober.stop()
        }

        /// Root may mount a tmpfs here (a container may forbid it: then the test is skipped, not passed).
        static let canMountTmpfs: Bool = {
            guard geteuid() == 0, let folder = try? TemporaryFolder() else { return false }
            defer { folder.cleanup() }
            guard tool(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", folder.path]) == 0 else { return false }
            return tool(["umount", folder.path]) == 0
        }()

        @discardableResult
        static func tool(_ arguments: [String]) -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return -1 }
            process.waitUntilExit()
            return process.terminationStatus
        }

        @Test(
            "a real tmpfs fills up under sonde run: drops counted and logged, probing goes on, writing resumes when space returns",
            .enabled(if: FaultsDiskTests.canMountTmpfs, "needs root and permission to mount a tmpfs"))
        func tmpfsFills() async throws {
            try await Self.awayFromMidnight()
            let service = try TestService()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let data = folder.path + "/data"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            try #require(
                try await offPool { Self.tool(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", data]) } == 0)
            defer { Self.tool(["umount", "-l", data]) }
            // Eight requests a run make lines of ~1 KB: the free tail of a file's last page fills fast.
            let prober = try await Prober(folder, service: service, entries: 8)
            #expect(try await prober.wait { prober.lines("a") >= 2 && prober.lines("b") >= 2 }, "both checks wrote")

            for cycle in 0..<Self.cycles {
                let runsBefore = await prober.runs("a")
                let droppedBefore = await prober.dropped
                // Fill the file system to the last byte.
                let filler = data + "/filler-\(cycle)"
                let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                try #require(fd >= 0)
                let chunk = [UInt8](repeating: 0x7A, count: 4096)
                var size = 4096
                while size > 0 {
                    let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, size) }
                    if n <= 0 { size /= 2 }
                }
                close(fd)
                let filled = try await prober.wait(.seconds(60)) { await prober.dropped >= droppedBefore + 4 }
                let droppedFull = await prober.dropped
                #expect(
                    filled, "cycle \(cycle): records dropped once the disk is full: \(droppedBefore) → \(droppedFull)")
                #expect(await prober.runs("a") >= runsBefore + 2, "cycle \(cycle): a kept probing")
                #expect(
                    prober.daemon.stderr.contains("no space left on device")
                        || prober.daemon.stderr.contains("short write"),
                    "cycle \(cycle): logged: \(prober.daemon.stderr.suffix(600))")
                let linesFull = prober.lines("a")
                try FileManager.default.removeItem(atPath: filler)
                #expect(try await prober.wait { prober.lines("a") >= linesFull + 2 }, "cycle \(cycle): a writes again")
                #expect(
                    try await prober.wait { prober.logged("writing resumed after") >= cycle + 1 },
                    "cycle \(cycle): resumption logged")
            }
            let (runs, dropped) = try await prober.stop()
            let files = try DataFiles(data, shortWrites: true)
            #expect(files.problems.isEmpty, "\(files.problems)")
            for fragment in files.fragments {
                #expect(
                    fragment.repaired,
                    "\(fragment.path) at byte \(fragment.offset): a short write with no newline after it")
            }
            #expect(
                files.fragments.count <= 2 * Self.cycles,
                "at most one short write per file per full disk: \(files.fragments.count)")
            #expect(
                files.records.count + dropped == runs,
                "\(files.records.count) lines + \(dropped) dropped ≠ \(runs) runs")
        }
    }
}
