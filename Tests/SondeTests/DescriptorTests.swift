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

#if canImport(Glibc)
    import Glibc
#endif

/// Bounded descriptors: the record writer keeps a least-recently-used set of day files open, the
/// engine lets a bounded number of runs hold connections, a shortage of descriptors holds lines in memory
/// instead of losing them, and `sonde run` raises its soft limit at start.
@Suite("Descriptors: bounded open files, and no lost record at the open-files limit")
struct DescriptorTests {
    /// A run of `check` at `time`.
    static func record(_ check: String, _ time: Int64) -> RunRecord {
        RunRecord(
            time: time, check: check, location: "eu", ok: true, durationMs: 12, lateMs: 0, error: nil,
            steps: [
                RunStep(
                    status: 200,
                    timings: PhaseTimings(dns: 1, connect: 2, tls: 0, ttfb: 4, transfer: 5, total: 12, bytes: 10))
            ])
    }

    /// The paths under `root` that process `pid` has open (from `/proc/PID/fd`).
    static func openPaths(under root: String, pid: Int32 = getpid()) -> [String] {
        let folder = "/proc/\(pid)/fd"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/" + $0) }
            .filter { $0.hasPrefix(root + "/") }
            .sorted()
    }

    /// The file's text, empty when it does not exist.
    static func text(_ path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// An opener that refuses with `EMFILE` while `short` is set, or for the next `refusals` calls.
    final class ScarceOpener: Sendable {
        private let state = Mutex((short: false, refusals: 0, calls: 0))

        /// While true, every open is refused.
        var short: Bool {
            get { state.withLock { $0.short } }
            set { state.withLock { $0.short = newValue } }
        }

        /// Refuses the next `count` opens.
        func refuse(next count: Int) { state.withLock { $0.refusals = count } }

        /// Opens asked for so far.
        var calls: Int { state.withLock { $0.calls } }

        /// The writer's opener: a descriptor, or `-EMFILE` when refused.
        func open(_ path: String) -> Int32 {
            let refused = state.withLock { state -> Bool in
                state.calls += 1
                if state.short { return true }
                if state.refusals > 0 {
                    state.refusals -= 1
                    return true
                }
                return false
            }
            return refused ? -EMFILE : RecordWriter.systemOpener(path)
        }
    }

    // MARK: The cache

    @Test("the day-file cache closes the least recently used file when full, and a used file counts as recent")
    func cacheEvictionOrder() {
        final class Closed { var fds: [Int32] = [] }
        let closed = Closed()
        var cache = DayFileCache(capacity: 3) { closed.fds.append($0) }
        cache.insert("a", .init(day: 0, fd: 100), at: 0)
        cache.insert("b", .init(day: 0, fd: 101), at: 0)
        cache.insert("c", .init(day: 0, fd: 102), at: 0)
        #expect(cache.keysByRecency == ["c", "b", "a"])
        #expect(cache.use("a", at: 0) == .init(day: 0, fd: 100))
        #expect(cache.keysByRecency == ["a", "c", "b"])
        cache.insert("d", .init(day: 0, fd: 103), at: 0)
        #expect(closed.fds == [101], "b was the least recently used")
        #expect(cache.keysByRecency == ["d", "a", "c"])
        #expect(cache.use("b", at: 0) == nil)
        // A new day for a check replaces its file (the old one is closed), without evicting another.
        cache.insert("a", .init(day: 1, fd: 104), at: 0)
        #expect(closed.fds == [101, 100])
        #expect(cache.keysByRecency == ["a", "d", "c"])
        #expect(cache.closeLeastRecent(2) == 2)
        #expect(closed.fds == [101, 100, 102, 103])
        #expect(cache.keysByRecency == ["a"] && cache.count == 1)
        cache.remove("a")
        #expect(cache.isEmpty && closed.fds.last == 104)
        #expect(cache.closeLeastRecent(5) == 0)
    }

    @Test(
        "day files get a quarter of the soft limit up to 4,096, half less 1,024 above; an eighth is reserved; runs' connections get the rest"
    )
    func budget() {
        #expect(ResourceLimits.budget(softLimit: 256) == .init(dayFiles: 64, sessions: 80, reserve: 32))
        #expect(ResourceLimits.budget(softLimit: 1024) == .init(dayFiles: 256, sessions: 320, reserve: 128))
        #expect(ResourceLimits.budget(softLimit: 4096) == .init(dayFiles: 1024, sessions: 1280, reserve: 512))
        #expect(ResourceLimits.budget(softLimit: 20_000) == .init(dayFiles: 8976, sessions: 5000, reserve: 1024))
        #expect(ResourceLimits.budget(softLimit: 16) == .init(dayFiles: 4, sessions: 1, reserve: 32))
        #expect(DayFileCache.capacity(forSoftLimit: 256) == 64)
        #expect(DayFileCache.capacity(forSoftLimit: 1_048_576) == 523_264)
    }

    @Test("SONDE_NOFILE_LIMIT takes a whole number of at least 64 and names itself when it is wrong")
    func capVariable() throws {
        #expect(try ResourceLimits.cap(from: [:]) == nil)
        #expect(try ResourceLimits.cap(from: ["SONDE_NOFILE_LIMIT": ""]) == nil)
        #expect(try ResourceLimits.cap(from: ["SONDE_NOFILE_LIMIT": " 4096 "]) == 4096)
        for bad in ["12", "lots", "-1", "1e4"] {
            #expect(throws: ResourceLimitError.invalidCap(bad)) {
                try ResourceLimits.cap(from: ["SONDE_NOFILE_LIMIT": bad])
            }
        }
        #expect(
            ResourceLimitError.invalidCap("12").description
                == "SONDE_NOFILE_LIMIT '12': expected a whole number of descriptors, at least 64")
    }

    // MARK: The writer

    @Test("with two day files open at most, a check whose file was closed appends to the same file, whole lines only")
    func reopenAfterEviction() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let data = DataFolder(folder.path + "/data")
        let clock = TestClock(utc(2026, 11, 23, 7, 5))
        let writer = try RecordWriter(folder: data, openFiles: 2, now: { clock.now }, report: { _ in })
        #expect(writer.openFilesCapacity == 2)
        let t = utc(2026, 11, 23, 7)
        var written: [String: [RunRecord]] = [:]
        for round in 0..<4 {
            for check in ["a", "b", "c"] {
                let record = Self.record(check, t + Int64(round) * 1000)
                writer.append(record, policy: StoreWriterTests.policy)
                written[check, default: []].append(record)
            }
            await writer.flush()
            let open = Self.openPaths(under: data.root)
            #expect(open.count <= 2, "round \(round): \(open)")
        }
        for check in ["a", "b", "c"] {
            let path = data.runsFile(check: check, at: t)
            #expect(
                Self.text(path)
                    == (written[check] ?? []).map { String(decoding: RunLine.encode($0), as: UTF8.self) }.joined(),
                "\(check): every line, in order, in the one day file")
        }
        let files = try DataFiles(data.root)
        #expect(files.problems.isEmpty && files.records.count == 12)
        #expect(writer.counts == RecordWriter.Counts())
    }

    @Test(
        "200 checks through 16 descriptors lose no record; the 15 that have a file keep it and only the others open per line"
    )
    func manyChecksBeyondTheCache() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let data = DataFolder(folder.path + "/data")
        let opener = ScarceOpener()  // never refuses here: it counts the opens
        let clock = TestClock(utc(2026, 11, 23, 7, 5))
        let writer = try RecordWriter(
            folder: data, openFiles: 16, now: { clock.now }, opener: { opener.open($0) }, report: { _ in })
        let t = utc(2026, 11, 23, 7)
        let checks = (0..<200).map { String(format: "c%03d", $0) }
        var opens: [Int] = []
        for round in 0..<5 {
            let before = opener.calls
            for check in checks {
                writer.append(Self.record(check, t + Int64(round) * 60_000), policy: StoreWriterTests.policy)
            }
            await writer.flush()
            opens.append(opener.calls - before)
            #expect(Self.openPaths(under: data.root).count <= 16, "round \(round)")
        }
        #expect(opens == [200, 185, 185, 185, 185], "plain LRU would open all 200 every round")
        let kept = Self.openPaths(under: data.root)
        #expect(kept == checks.prefix(15).map { data.runsFile(check: $0, at: t) }, "the first 15 kept their files")
        let files = try DataFiles(data.root)
        #expect(files.problems.isEmpty && files.records.count == 1000)
        for check in checks {
            #expect(
                files.records.filter { $0.check == check }.map(\.time) == (0..<5).map { t + Int64($0) * 60_000 },
                "\(check): every run, in order")
        }
        #expect(writer.counts == RecordWriter.Counts())
        // Ten minutes later every kept file is idle: the next checks to write take their places.
        clock.set(utc(2026, 11, 23, 7, 16))
        for check in checks.suffix(15) {
            writer.append(Self.record(check, t + 600_000), policy: StoreWriterTests.policy)
        }
        await writer.flush()
        #expect(Self.openPaths(under: data.root) == checks.suffix(15).map { data.runsFile(check: $0, at: t) })
    }

    @Test("a day file deleted while open, or while out of the cache, is created again at its path")
    func deletedFileRecreated() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let data = DataFolder(folder.path + "/data")
        let clock = TestClock(utc(2026, 11, 23, 7, 5))
        let writer = try RecordWriter(folder: data, openFiles: 1, now: { clock.now }, report: { _ in })
        let t = utc(2026, 11, 23, 7)
        let a = data.runsFile(check: "a", at: t)
        let b = data.runsFile(check: "b", at: t)
        writer.append(Self.record("a", t), policy: StoreWriterTests.policy)
        await writer.flush()
        // Deleted while open: the next line notices and starts a new file.
        try FileManager.default.removeItem(atPath: a)
        let second = Self.record("a", t + 1000)
        writer.append(second, policy: StoreWriterTests.policy)
        await writer.flush()
        #expect(Self.text(a) == String(decoding: RunLine.encode(second), as: UTF8.self))
        #expect(Self.openPaths(under: data.root) == [a])
        // The one slot is in use: b writes through a descriptor of its own and a keeps its file.
        writer.append(Self.record("b", t + 2000), policy: StoreWriterTests.policy)
        await writer.flush()
        #expect(Self.openPaths(under: data.root) == [a])
        // Once a has been idle for 10 minutes, b takes the slot.
        clock.set(utc(2026, 11, 23, 7, 16))
        writer.append(Self.record("b", t + 2500), policy: StoreWriterTests.policy)
        await writer.flush()
        #expect(Self.openPaths(under: data.root) == [b])
        // Deleted while closed: reopened, it is created again.
        try FileManager.default.removeItem(atPath: a)
        let third = Self.record("a", t + 3000)
        writer.append(third, policy: StoreWriterTests.policy)
        await writer.flush()
        #expect(Self.text(a) == String(decoding: RunLine.encode(third), as: UTF8.self))
        #expect(Self.openPaths(under: data.root) == [b], "b was used just now: a wrote through its own descriptor")
        #expect(writer.dropped == 0)
    }

    @Test("an open refused for want of descriptors is retried after closing the least recently used day file")
    func shortageClosesIdleFiles() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let data = DataFolder(folder.path + "/data")
        let opener = ScarceOpener()
        let events = WriterEvents()
        let writer = try RecordWriter(
            folder: data, openFiles: 8, now: { utc(2026, 11, 23, 7, 5) },
            opener: { opener.open($0) }, report: { events.add($0) })
        let t = utc(2026, 11, 23, 7)
        for check in ["a", "b", "c"] { writer.append(Self.record(check, t), policy: StoreWriterTests.policy) }
        await writer.flush()
        opener.refuse(next: 1)
        let calls = opener.calls
        writer.append(Self.record("d", t), policy: StoreWriterTests.policy)
        await writer.flush()
        #expect(opener.calls - calls == 2, "refused once, then opened")
        #expect(
            Self.openPaths(under: data.root) == ["b", "c", "d"].map { data.runsFile(check: $0, at: t) },
            "a, the least recently used, was closed to make room")
        #expect(writer.counts.descriptorShortages == 1 && writer.counts.held == 0 && writer.dropped == 0)
        #expect(events.all.isEmpty, "nothing to report: the line was written")
        let files = try DataFiles(data.root)
        #expect(files.records.count == 4 && files.problems.isEmpty)
    }

    @Test(
        "out of descriptors, lines wait in memory, reported once a minute, and go to their files in order once one frees up"
    )
    func shortageHoldsLines() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let data = DataFolder(folder.path + "/data")
        let opener = ScarceOpener()
        let events = WriterEvents()
        let clock = TestClock(utc(2026, 11, 23, 7, 5))
        let writer = try RecordWriter(
            folder: data, now: { clock.now }, opener: { opener.open($0) },
            report: { events.add($0) })
        let t = utc(2026, 11, 23, 7)
        opener.short = true
        var sent: [RunRecord] = []
        for i in 0..<3 {
            for check in ["a", "b"] {
                let record = Self.record(check, t + Int64(i) * 1000)
                sent.append(record)
                writer.append(record, policy: StoreWriterTests.policy)
            }
            await writer.flush()
        }
        writer.appendIncidentEvent(Array("{\"event\":\"opened\"}\n".utf8))
        await writer.flush()
        #expect(writer.counts.held == 7 && writer.dropped == 0)
        #expect(!FileManager.default.fileExists(atPath: data.runsFile(check: "a", at: t)))
        let path = data.runsFile(check: "a", at: t)
        #expect(
            events.all == [
                .descriptorsExhausted(
                    path: path, reason: "too many open files",
                    limit: writer.openFilesLimit, held: 1, dropped: 0)
            ],
            "one line a minute at most")
        clock.set(clock.now + 60_000)
        await writer.flush()
        #expect(events.all.count == 2, "a minute later, one more line")

        opener.short = false
        await writer.flush()
        #expect(writer.counts.held == 0 && writer.dropped == 0)
        for check in ["a", "b"] {
            #expect(
                Self.text(data.runsFile(check: check, at: t))
                    == sent.filter { $0.check == check }.map { String(decoding: RunLine.encode($0), as: UTF8.self) }
                    .joined())
        }
        #expect(Self.text(data.incidentsFile) == "{\"event\":\"opened\"}\n")
        #expect(events.all.count == 2, "no line is lost, so no 'resumed' line either")
    }

    @Test("held lines beyond the memory for them are dropped and counted, and finish drops those still held")
    func shortageDrops() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let data = DataFolder(folder.path + "/data")
        let opener = ScarceOpener()
        let line = RunLine.encode(Self.record("a", 0)).count
        let writer = try RecordWriter(
            folder: data, now: { utc(2026, 11, 23, 7, 5) }, heldBytes: 3 * line,
            opener: { opener.open($0) }, report: { _ in })
        let t = utc(2026, 11, 23, 7)
        opener.short = true
        for i in 0..<5 { writer.append(Self.record("a", t + Int64(i) * 1000), policy: StoreWriterTests.policy) }
        await writer.flush()
        var counts = writer.counts
        #expect(counts.held == 3 && counts.dropped == 2 && counts.droppedForDescriptors == 2)
        await writer.finish()
        counts = writer.counts
        #expect(counts.held == 0 && counts.dropped == 5 && counts.droppedForDescriptors == 5)
        opener.short = false
        writer.append(Self.record("a", t + 10_000), policy: StoreWriterTests.policy)
        await writer.flush()
        #expect(try DataFiles(data.root).records.count == 1)
    }

    // MARK: The engine

    @Test(
        "the engine lets at most its share of runs hold connections; a first request that waits past its max-time fails unsent"
    )
    func engineBoundsTransfers() async throws {
        let service = try TestService()
        let silent = try SilentServer()
        defer { silent.stop() }
        let engine = ProbeEngine(maxSessions: 2)
        #expect(engine.maxSessions == 2)
        final class Peak: Sendable {
            let most = Mutex(0)
            let done = Atomic<Bool>(false)
        }
        let peak = Peak()
        let watcher = Thread {
            while !peak.done.load(ordering: .relaxed) {
                let now = engine.activeTransfers
                peak.most.withLock { $0 = max($0, now) }
                usleep(1000)
            }
        }
        watcher.start()
        let ok = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let session = engine.makeSession()
                    defer { session.close() }
                    var request = ProbeRequest(method: "GET", url: service.baseURL + "/slow")
                    request.maxTime = .seconds(30)
                    return (try? await engine.perform(request, in: session).get().status) == 200
                }
            }
            var all: [Bool] = []
            for await result in group { all.append(result) }
            return all
        }
        peak.done.store(true, ordering: .relaxed)
        #expect(ok == Array(repeating: true, count: 8), "every request waited its turn and passed")
        #expect(peak.most.withLock { $0 } <= 2)

        // Two requests hang on a silent server; a third cannot start and gives up at its max-time.
        let hanging = (0..<2).map { _ in engine.makeSession() }
        let blockers = hanging.map { session in
            Task {
                var request = ProbeRequest(method: "GET", url: silent.url + "/")
                request.maxTime = .seconds(20)
                return await engine.perform(request, in: session)
            }
        }
        let busy = ContinuousClock.now + .seconds(30)
        while engine.activeTransfers < 2, ContinuousClock.now < busy { try await Task.sleep(for: .milliseconds(10)) }
        try #require(engine.activeTransfers == 2, "the two hanging requests are in flight")
        let session = engine.makeSession()
        var request = ProbeRequest(method: "GET", url: service.baseURL + "/json")
        request.maxTime = .milliseconds(300)
        let result = await engine.perform(request, in: session)
        session.close()
        guard case .failure(.internal(let message)) = result else {
            Issue.record("expected an internal failure, got \(result)")
            return
        }
        #expect(
            message.contains("not sent: waited") && message.contains("connections of 2 runs open at once"), "\(message)"
        )
        for blocker in blockers { blocker.cancel() }
        for blocker in blockers { _ = await blocker.value }
        for session in hanging { session.close() }
    }

    @Test("a run that keeps its connection between two requests holds its turn until its session closes")
    func idleSessionHoldsItsTurn() async throws {
        let service = try TestService()
        let engine = ProbeEngine(maxSessions: 1)
        func get(_ session: ProbeSession, maxTime: Duration) async -> Result<ProbeResponse, ProbeError> {
            var request = ProbeRequest(method: "GET", url: service.baseURL + "/json")
            request.maxTime = maxTime
            return await engine.perform(request, in: session)
        }
        let first = engine.makeSession()
        #expect((try? await get(first, maxTime: .seconds(30)).get().status) == 200)
        // `first` is done with its request but still open (its connection idle): another run waits.
        let second = engine.makeSession()
        guard case .failure(.internal(let message)) = await get(second, maxTime: .milliseconds(300)) else {
            Issue.record("the second session should have waited for the first")
            return
        }
        #expect(message.contains("not sent"), "\(message)")
        #expect((try? await get(first, maxTime: .seconds(30)).get().status) == 200, "the open session goes on")
        first.close()
        #expect(
            (try? await get(second, maxTime: .seconds(30)).get().status) == 200, "its turn came once the first closed")
        second.close()
    }

    @Test("a session's last request gives its turn back as it completes, before the run closes the session")
    func lastRequestEndsSession() async throws {
        let service = try TestService()
        let engine = ProbeEngine(maxSessions: 1)
        var last = ProbeRequest(method: "GET", url: service.baseURL + "/json")
        last.maxTime = .seconds(30)
        last.endsSession = true
        let first = engine.makeSession()
        #expect((try? await engine.perform(last, in: first).get().status) == 200)
        // `first` is still open (its run is being checked), but it holds no connection any more.
        #expect(engine.sessionsHeld == 0)
        var next = ProbeRequest(method: "GET", url: service.baseURL + "/json")
        next.maxTime = .seconds(10)
        let second = engine.makeSession()
        #expect(
            (try? await engine.perform(next, in: second).get().status) == 200,
            "the second run did not wait for the first to close")
        first.close()
        second.close()
    }

    // MARK: sonde run

    /// `sonde run` started by `/bin/sh` after `ulimit` (the limit a service manager would set).
    final class LimitedDaemon: @unchecked Sendable {  // the Process is started in init, then only read
        let process = Process()
        let errPath: String

        /// Starts `sh -c 'ulimit ULIMIT && exec sonde run ARGUMENTS'` in `folder`.
        init(ulimit: String, arguments: [String], environment: [String: String] = [:], in folder: TemporaryFolder)
            throws
        {
            try #require(
                FileManager.default.isExecutableFile(atPath: SondeProcess.binary),
                "build the executable first: swift build")
            errPath = folder.path + "/run.err"
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SONDE_") }
            for (key, value) in environment { env[key] = value }
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments =
                ["-c", "ulimit \(ulimit) && exec \"$0\" \"$@\"", SondeProcess.binary, "run"] + arguments
            process.environment = env
            process.currentDirectoryURL = URL(fileURLWithPath: folder.path)
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            try process.run()
        }

        /// The daemon's pid (the shell's, which `exec` handed over).
        var pid: Int32 { process.processIdentifier }
        /// The log so far.
        var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

        /// The first log line containing `text`, polled until `timeout`.
        func awaitLog(_ text: String, timeout: Duration = .seconds(60)) async throws -> String? {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let line = stderr.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
                if !process.isRunning { return nil }
                try await Task.sleep(for: .milliseconds(50))
            }
            return nil
        }

        /// Soft and hard "Max open files" of the running process, from `/proc/PID/limits`.
        var openFiles: (soft: String, hard: String)? {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") })
            else { return nil }
            let fields = line.dropFirst("Max open files".count).split(separator: " ")
            return fields.count >= 2 ? (String(fields[0]), String(fields[1])) : nil
        }

        /// SIGTERM, then the outcome and the `stopped` line's fields.
        func stop() async throws -> (outcome: SondeProcess.Outcome, fields: [String: String]) {
            kill(pid, SIGTERM)
            let outcome = try await offPool { () -> SondeProcess.Outcome in
                let deadline = ContinuousClock.now + .seconds(30)
                while self.process.isRunning {
                    if ContinuousClock.now > deadline {
                        kill(self.process.processIdentifier, SIGKILL)
                        self.process.waitUntilExit()
                        return .timedOut
                    }
                    usleep(5_000)
                }
                return self.process.terminationReason == .uncaughtSignal
                    ? .signalled(self.process.terminationStatus)
                    : .exited(self.process.terminationStatus)
            }
            var fields: [String: String] = [:]
            if let line = stderr.split(separator: "\n").last(where: { $0.contains("\"event\":\"stopped\"") }),
                case .object(let members)? = try? JSON.parse(String(line))
            {
                for (key, value) in members { if case .string(let text) = value { fields[key] = text } }
            }
            return (outcome, fields)
        }
    }

    @Test("300 checks at 1 s under a soft limit of 256 descriptors: no crash, every run a whole line, none lost")
    func threeHundredChecksUnder256() async throws {
        try await Faults.FaultsDiskTests.awayFromMidnight()
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let names = (0..<300).map { String(format: "c%03d", $0) }
        for name in names {
            try folder.write("checks/\(name).hurl", "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n")
        }
        let port = try DaemonTests.freePort()
        // The soft limit starts at 128 and the hard one stays high: sonde raises the soft limit at
        // start, to 256 because SONDE_NOFILE_LIMIT caps it there.
        let daemon = try LimitedDaemon(
            ulimit: "-S -n 128", arguments: ["--metrics", "127.0.0.1:\(port)", "--log-format", "json"],
            environment: ["SONDE_NOFILE_LIMIT": "256"], in: folder)
        let started = try await daemon.awaitLog("\"event\":\"start\",\"msg\":\"300 checks")
        try #require(started != nil, "\(daemon.stderr.suffix(1000))")
        #expect(daemon.openFiles?.soft == "256", "limits: \(String(describing: daemon.openFiles))")
        #expect(daemon.stderr.contains("open-files limit 256"), "the low limit is logged at start")
        #expect(daemon.stderr.contains("\"day_files\":\"64\""))

        // Every check writes five runs (≈ 5 s; much longer on a loaded machine), and the writer
        // never holds more than its 64 day files open.
        let data = folder.path + "/data"
        let deadline = ContinuousClock.now + .seconds(120)
        var mostOpen = 0
        var counts: [String: Int] = [:]
        func lineCounts() -> [String: Int] {
            var out: [String: Int] = [:]
            let folder = DataFolder(data)
            for check in folder.checks() {
                out[check] = folder.runFiles(check: check).reduce(0) { total, file in
                    total + Self.text(file.path).split(separator: "\n").count
                }
            }
            return out
        }
        repeat {
            try await Task.sleep(for: .milliseconds(250))
            // The prober's lock (`data/.lock`) is held all along and is not a day file.
            let dayFiles = Self.openPaths(under: data, pid: daemon.pid).filter {
                !$0.hasSuffix("/" + DataFolderLock.fileName)
            }
            mostOpen = max(mostOpen, dayFiles.count)
            counts = lineCounts()
        } while ContinuousClock.now < deadline && daemon.process.isRunning
            && !(counts.count == 300 && counts.values.allSatisfy { $0 >= 5 })
        #expect(
            counts.count == 300 && counts.values.allSatisfy { $0 >= 5 },
            "checks with fewer than 5 lines: \(names.filter { (counts[$0] ?? 0) < 5 }.prefix(10))")
        #expect(mostOpen <= 64, "day files open at once: \(mostOpen)")
        let metrics = await fetchMetrics(port: port)
        #expect(metricValue(metrics, "sonde_records_dropped_total{location=\"local\"}") == 0, "\(metrics.suffix(800))")
        #expect(metricValue(metrics, "sonde_records_held{location=\"local\"}") != nil)

        let (outcome, fields) = try await daemon.stop()
        #expect(outcome == .exited(0), "\(daemon.stderr.suffix(1500))")
        let runs = try #require(fields["runs"].flatMap { Int($0) }, "no stopped line: \(daemon.stderr.suffix(1500))")
        #expect(fields["dropped"] == "0")
        let files = try DataFiles(data)
        #expect(files.problems.isEmpty, "torn or broken lines: \(files.problems.prefix(5))")
        // Lost: a run the daemon counted (its `stopped` line) with no line in the files.
        #expect(files.records.count == runs, "\(files.records.count) lines for \(runs) runs")
        let byCheck = Dictionary(grouping: files.records, by: \.check)
        #expect(Set(byCheck.keys) == Set(names))
        let starved = files.records.filter { ($0.error?.message ?? "").contains("open-files limit") }
        #expect(
            starved.isEmpty, "runs failed for want of descriptors: \(starved.prefix(3).map { $0.error?.message ?? "" })"
        )
    }

    @Test("sonde run raises its soft open-files limit to the hard limit, and says nothing when that is plenty")
    func raisesSoftLimit() async throws {
        let hard = ResourceLimits.openFiles().hard
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("checks/a.hurl", "# @every 1s\nGET http://127.0.0.1:9/\nHTTP 200\n")
        let daemon = try LimitedDaemon(ulimit: "-S -n 256", arguments: ["--log-format", "json"], in: folder)
        try #require(try await daemon.awaitLog("\"event\":\"start\",\"msg\":\"1 check") != nil, "\(daemon.stderr)")
        let limits = daemon.openFiles
        #expect(limits?.soft == limits?.hard, "\(String(describing: limits))")
        if hard != Int.max, hard <= 1_048_576 { #expect(limits?.soft == String(hard)) }
        #expect(!daemon.stderr.contains("open-files limit"))
        #expect(try await daemon.stop().outcome == .exited(0))
    }

    @Test("a SONDE_NOFILE_LIMIT that is not a number stops the start with one line and exit 1")
    func badCap() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("checks/a.hurl", "GET http://127.0.0.1:9/\nHTTP 200\n")
        let (outcome, _, err, _) = try await SondeProcess.run(
            ["run", "--once"], in: folder.path,
            environment: ["SONDE_NOFILE_LIMIT": "many"], tag: "cap",
            timeout: .seconds(30))
        #expect(outcome == .exited(1))
        #expect(
            err.contains("SONDE_NOFILE_LIMIT 'many': expected a whole number of descriptors, at least 64"), "\(err)")
    }
}
