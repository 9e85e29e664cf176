import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SondeProbe
import SondeRun
import SondeScript
import SondeSupport

/// Appends run lines and hour rollups to a data folder from a thread of its own, so a slow or full
/// disk never delays a probe. Each line is one `write(2)` on an `O_APPEND` descriptor; a file whose
/// last line was torn (crash, full disk) gets a newline before the next line. When a write fails
/// the record is dropped and counted, probing goes on, and writing resumes when the disk accepts it.
///
/// Hour lines are written once an hour has closed (its end plus the check's grace); the open hour
/// lives in memory and is rebuilt from raw runs by `prepare` after a restart.
package final class RecordWriter: @unchecked Sendable {
    /// How a check's records roll up.
    package struct Policy: Sendable, Equatable {
        /// The `@latency` threshold (ms) behind the `fast` count, if any.
        package var fastMs: Double?
        /// How long after an hour's end its last runs may still arrive (the run timeout plus margin).
        package var graceMs: Int64

        package init(fastMs: Double?, graceMs: Int64) {
            self.fastMs = fastMs
            self.graceMs = graceMs
        }

        package init(settings: MonitorSettings) {
            fastMs = settings.latency.map { $0.threshold.milliseconds }
            graceMs = Int64(settings.timeout.milliseconds) + 10_000
        }
    }

    /// Retention of the files.
    package struct Retention: Sendable, Equatable {
        /// Raw-run day files older than this many days are deleted.
        package var rawDays: Int = 35
        /// Hour files whose month ended more than this many days ago are deleted.
        package var hourDays: Int = 400

        package init(rawDays: Int = 35, hourDays: Int = 400) {
            self.rawDays = rawDays
            self.hourDays = hourDays
        }
    }

    /// Something the writer wants the operator to know (one log line each).
    package enum Event: Sendable, Equatable {
        case writeFailed(path: String, reason: String, dropped: Int)
        case resumed(dropped: Int)
        case rebuiltHours(check: String, hours: Int)
        case deleted(path: String)
    }

    private enum Command {
        case record(RunRecord, Policy)
        case prepare([String: Policy], location: String)
        case flush(CheckedContinuation<Void, Never>)
        case event([UInt8])
    }

    package let folder: DataFolder
    package let retention: Retention
    private let report: @Sendable (Event) -> Void
    private let now: @Sendable () -> Int64

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Command] = []
    private var droppedTotal = 0

    // Writer-thread state.
    private var runFiles: [String: (day: Int64, fd: Int32)] = [:]
    private var open: [String: [Int64: HourRollup]] = [:]
    private var policies: [String: Policy] = [:]
    private var lastWrittenHour: [String: Int64] = [:]
    private var pendingHours: [HourRollup] = []
    private var failing = false
    private var droppedSinceReport = 0
    private var lastFailureReport: Int64?
    private var lastRetention: Int64?
    private var location = ""

    /// Checks that the folder can be written (creating it), then starts the writer thread.
    package init(folder: DataFolder, retention: Retention = Retention(),
                now: @escaping @Sendable () -> Int64 = { UTCTime.milliseconds(Date()) },
                report: @escaping @Sendable (Event) -> Void) throws(StoreError) {
        self.folder = folder
        self.retention = retention
        self.report = report
        self.now = now
        try Self.checkWritable(folder.root)
        let thread = Thread { [self] in loop() }
        thread.name = "sonde-writer"
        thread.start()
    }

    /// Records dropped because a write failed, since start.
    package var dropped: Int {
        condition.lock()
        defer { condition.unlock() }
        return droppedTotal
    }

    /// Queues a run line (and its share of the hour rollup).
    package func append(_ record: RunRecord, policy: Policy) {
        send(.record(record, policy))
    }

    /// Rebuilds, for each check, the hour lines missing since its last one from raw runs, loads the
    /// open hour into memory, and applies retention. Call before the first `append` of a check.
    package func prepare(_ checks: [String: Policy], location: String) {
        send(.prepare(checks, location: location))
    }

    /// Queues a line for `incidents.jsonl` (an incident event, already encoded).
    package func appendIncidentEvent(_ line: [UInt8]) {
        send(.event(line))
    }

    /// Returns when every queued record has been written (or dropped).
    package func flush() async {
        await withCheckedContinuation { continuation in send(.flush(continuation)) }
    }

    private func send(_ command: Command) {
        condition.lock()
        queue.append(command)
        condition.unlock()
        // Signalled after unlocking: a writer woken while the lock is still held would only block
        // on it again (two more futex calls per record). No wakeup is lost: the writer checks the
        // queue under the lock before it waits.
        condition.signal()
    }

    private func loop() {
        var batch: [Command] = []
        var lastCloseCheck: Int64?
        while true {
            condition.lock()
            while queue.isEmpty {
                if !condition.wait(until: Date(timeIntervalSinceNow: 1)) { break }
            }
            // Take the queue's buffer instead of copying it.
            swap(&batch, &queue)
            condition.unlock()

            for command in batch {
                switch command {
                case .record(let record, let policy): write(record, policy: policy)
                case .prepare(let checks, let location): rebuild(checks, location: location)
                case .event(let line): writeEvent(line)
                case .flush(let continuation):
                    closeHours(force: false)
                    continuation.resume()
                }
            }
            batch.removeAll(keepingCapacity: true)
            // Hours close on a one-second tick, not after every record: with thousands of checks a
            // pass over every open hour per record costs more than the record itself.
            let current = now()
            if lastCloseCheck.map({ current - $0 >= 1000 }) ?? true {
                lastCloseCheck = current
                closeHours(force: false)
            }
            if lastRetention.map({ current - $0 >= UTCTime.msPerHour }) ?? true { applyRetention() }
        }
    }

    // MARK: Raw runs

    private func write(_ record: RunRecord, policy: Policy) {
        policies[record.check] = policy
        let hour = UTCTime.hourStart(record.time)
        if hour > (lastWrittenHour[record.check] ?? .min) {
            open[record.check, default: [:]][hour, default: HourRollup(
                hour: hour, check: record.check, location: record.location, fastMs: policy.fastMs)].add(record)
        }
        let day = UTCTime.dayStart(record.time)
        let path = folder.runsFile(check: record.check, at: record.time)
        let fd: Int32
        if let current = runFiles[record.check], current.day == day, Self.names(path, current.fd) {
            fd = current.fd
        } else {
            if let current = runFiles.removeValue(forKey: record.check) { close(current.fd) }
            guard let opened = openForAppend(path, check: record.check) else {
                dropped(path: path, reason: errnoReason(errno))
                return
            }
            fd = opened
            runFiles[record.check] = (day, fd)
        }
        let line = RunLine.encode(record)
        if let reason = writeLine(fd, line) {
            // Reopen next time: the reopen repairs a torn tail.
            close(fd)
            runFiles[record.check] = nil
            dropped(path: path, reason: reason)
        } else {
            succeeded()
        }
    }

    /// True when `path` still names the file open on `fd`. A day file deleted, moved or replaced
    /// while open (a clean-up job, an operator, a full disk simulated with a link to /dev/full) is
    /// reopened at its path: lines never go on into a file that nobody can find any more.
    private static func names(_ path: String, _ fd: Int32) -> Bool {
        var open = stat(), named = stat()
        guard fstat(fd, &open) == 0, stat(path, &named) == 0 else { return false }
        return open.st_dev == named.st_dev && open.st_ino == named.st_ino
    }

    /// Appends to `incidents.jsonl`; a failure is reported like a dropped record.
    private func writeEvent(_ line: [UInt8]) {
        let path = folder.incidentsFile
        guard let fd = openForAppend(path, check: nil) else {
            dropped(path: path, reason: errnoReason(errno))
            return
        }
        if let reason = writeLine(fd, line) { dropped(path: path, reason: reason) } else { succeeded() }
        close(fd)
    }

    // MARK: Hours

    private func closeHours(force: Bool) {
        let current = now()
        for (check, hours) in open {
            let grace = policies[check]?.graceMs ?? 20_000
            for (hour, rollup) in hours where force || current >= hour + UTCTime.msPerHour + grace {
                open[check]?[hour] = nil
                lastWrittenHour[check] = max(lastWrittenHour[check] ?? .min, hour)
                pendingHours.append(rollup)
            }
            if open[check]?.isEmpty == true { open[check] = nil }
        }
        guard !pendingHours.isEmpty else { return }
        var stillPending: [HourRollup] = []
        for rollup in pendingHours.sorted(by: { $0.hour < $1.hour }) {
            let path = folder.hoursFile(check: rollup.check, at: rollup.hour)
            guard let fd = openForAppend(path, check: rollup.check) else {
                stillPending.append(rollup)
                reportFailure(path: path, reason: errnoReason(errno))
                continue
            }
            if let reason = writeLine(fd, HourLine.encode(rollup)) {
                stillPending.append(rollup)
                reportFailure(path: path, reason: reason)
            }
            close(fd)
        }
        pendingHours = stillPending
    }

    private func rebuild(_ checks: [String: Policy], location: String) {
        self.location = location
        let current = now()
        let currentHour = UTCTime.hourStart(current)
        let reader = RunReader(folder: folder)
        // The first day retention keeps: whole days, so the oldest hour is never rebuilt from half its runs.
        let rawStart = rawCutoff(current)
        for (check, policy) in checks.sorted(by: { $0.key < $1.key }) {
            policies[check] = policy
            guard open[check] == nil, lastWrittenHour[check] == nil else { continue }
            var stats = ReadStats()
            let stored = reader.storedHours(check: check, from: rawStart, stats: &stats).filter { $0.location == location }
            let last = stored.map(\.hour).max() ?? .min
            let from = max(last == .min ? .min : last + UTCTime.msPerHour, rawStart)
            var rebuilt: [Int64: HourRollup] = [:]
            reader.forEachRun(check: check, from: from, to: .max, stats: &stats) { record in
                guard record.location == location else { return }
                let hour = UTCTime.hourStart(record.time)
                rebuilt[hour, default: HourRollup(hour: hour, check: check, location: location,
                                                  fastMs: policy.fastMs)].add(record)
            }
            if last != .min { lastWrittenHour[check] = last }
            var closed = 0
            for (hour, rollup) in rebuilt {
                if hour < currentHour {
                    pendingHours.append(rollup)
                    lastWrittenHour[check] = max(lastWrittenHour[check] ?? .min, hour)
                    closed += 1
                } else {
                    open[check, default: [:]][hour] = rollup
                }
            }
            if closed > 0 { report(.rebuiltHours(check: check, hours: closed)) }
        }
        closeHours(force: false)
        applyRetention()
    }

    // MARK: Retention

    private func applyRetention() {
        let current = now()
        lastRetention = current
        let rawCutoff = rawCutoff(current)
        let hourCutoff = current - Int64(retention.hourDays) * UTCTime.msPerDay
        for check in folder.checks() {
            for file in folder.runFiles(check: check) where file.day < rawCutoff {
                if unlink(file.path) == 0 { report(.deleted(path: file.path)) }
            }
            for file in folder.hourFiles(check: check) where UTCTime.nextMonthStart(file.month) <= hourCutoff {
                if unlink(file.path) == 0 { report(.deleted(path: file.path)) }
            }
        }
    }

    /// Start of the oldest raw-run day that retention keeps at `current`.
    private func rawCutoff(_ current: Int64) -> Int64 {
        UTCTime.dayStart(current) - Int64(retention.rawDays) * UTCTime.msPerDay
    }

    // MARK: Files

    /// Opens `path` for appending (creating the check's folder), and ends a torn last line.
    private func openForAppend(_ path: String, check: String?) -> Int32? {
        if let check {
            let directory = folder.directory(of: check)
            if mkdir(directory, 0o755) != 0, errno != EEXIST { return nil }
        }
        // Read-write: the torn-tail check reads the last byte (pread on a write-only descriptor fails).
        let fd = Glibc.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, info.st_size - 1) == 1, last != 0x0A {
                var newline: UInt8 = 0x0A
                if Glibc.write(fd, &newline, 1) != 1 {
                    let saved = errno
                    close(fd)
                    errno = saved
                    return nil
                }
            }
        }
        return fd
    }

    /// One `write(2)` of the whole line; returns the failure reason, or nil.
    private func writeLine(_ fd: Int32, _ line: [UInt8]) -> String? {
        while true {
            let n = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n == line.count { return nil }
            if n < 0, errno == EINTR { continue }
            if n < 0 { return errnoReason(errno) }
            return "short write (\(n) of \(line.count) bytes): the disk is probably full"
        }
    }

    private func dropped(path: String, reason: String) {
        condition.lock()
        droppedTotal += 1
        condition.unlock()
        droppedSinceReport += 1
        reportFailure(path: path, reason: reason)
    }

    /// Reports a failing write at most once a minute.
    private func reportFailure(path: String, reason: String) {
        failing = true
        let current = now()
        if let last = lastFailureReport, current - last < 60_000 { return }
        lastFailureReport = current
        report(.writeFailed(path: path, reason: reason, dropped: dropped))
    }

    private func succeeded() {
        guard failing else { return }
        failing = false
        report(.resumed(dropped: droppedSinceReport))
        droppedSinceReport = 0
        lastFailureReport = nil
    }

    private static func checkWritable(_ root: String) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw .notWritable(path: root, reason: "cannot create it (\((error as NSError).localizedDescription))")
        }
        let probe = root + "/.sonde-write-test-\(getpid())"
        let fd = Glibc.open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .notWritable(path: root, reason: errnoReason(errno)) }
        close(fd)
        unlink(probe)
    }
}
