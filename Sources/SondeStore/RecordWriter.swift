import Foundation
import SondeProbe
import SondeRun
import SondeScript
import SondeSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Appends run lines and hour rollups to a data folder from a thread of its own, so a slow or full
/// disk never delays a probe. Each line is one `write(2)` on an `O_APPEND` descriptor; a file whose
/// last line was torn (crash, full disk) gets a newline before the next line. When a write fails
/// the record is dropped and counted, probing goes on, and writing resumes when the disk accepts it.
///
/// Records are taken in batches: `append` only queues, and wakes the writer only when it is idle
/// (nothing queued when it last looked) or `batchLimit` records are waiting. Once it has written a
/// batch the writer lets the next one gather for `batchWindow` before it looks again, so under a
/// steady stream of runs it wakes a few times a second, not once a record; a record is on disk at
/// most `batchWindow` (plus the time to write what came before it) after `append`. `flush` and
/// `finish` wake it at once, and `finish` (the daemon's last call before it exits) returns once
/// every queued record is on disk.
///
/// Descriptors are bounded: day files stay open in a least-recently-used cache of `openFilesCapacity`
/// (`ResourceLimits.DescriptorBudget.dayFiles`: 1,024 of a soft limit of 4,096, 8,976 of 20,000), so
/// 100,000 checks need no more than that; when more checks write than the cache holds, the ones
/// without room open and close their file per line instead of evicting one in use (`DayFileCache`). When an open fails because the process is out of descriptors (`EMFILE`, `ENFILE`), idle
/// day files are closed and the open retried; if it still fails, the line is held in memory
/// (`heldLimitBytes` at most) and written, in order, once a descriptor can be had. Only a line that
/// finds that memory full, or is still held when the writer finishes, is dropped.
///
/// Hour lines are written once an hour has closed (its end plus the check's grace); the open hour
/// lives in memory and is rebuilt from raw runs by `prepare` after a restart.
package final class RecordWriter: @unchecked Sendable {
    /// How a check's records roll up.
    package struct Policy: Sendable, Equatable {
        /// The `@latency` threshold (ms) behind the `fast` count, if any.
        package var fastMs: Double?
        /// How long after an hour's end its last runs may still arrive (the run timeout plus margin).
        var graceMs: Int64

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
        /// A write failed (`reason`); `dropped` records are lost so far. Reported at most once a
        /// minute per file and reason; `suppressed` failures of it went unreported since the last.
        case writeFailed(path: String, reason: String, dropped: Int, suppressed: Int = 0)
        /// A file could not be opened for want of descriptors even after closing idle day files
        /// (`reason`: too many open files); `held` records wait in memory, `dropped` are lost so far.
        case descriptorsExhausted(path: String, reason: String, limit: Int, held: Int, dropped: Int)
        /// Writing a file that failed works again, after `dropped` records of it were lost.
        case resumed(dropped: Int)
        /// Hour lines rebuilt from raw runs at `prepare`.
        case rebuiltHours(check: String, hours: Int)
        /// A file deleted by retention.
        case deleted(path: String)
    }

    /// The writer's counters since start.
    package struct Counts: Sendable, Equatable {
        /// Records that could not be written, for any reason.
        package var dropped = 0
        /// Of those, the records dropped for want of a descriptor.
        package var droppedForDescriptors = 0
        /// Opens refused because the process (`EMFILE`) or the system (`ENFILE`) was out of descriptors.
        package var descriptorShortages = 0
        /// Records held in memory, waiting for a descriptor.
        package var held = 0

        /// No counts.
        package init() {}
    }

    /// How the writer opens a file for appending: a descriptor, or minus `errno`. Tests replace
    /// it to make a process that is out of descriptors.
    package typealias Opener = @Sendable (String) -> Int32

    /// `open(2)` read-write, appending, creating: the torn-tail check reads the last byte (a
    /// `pread` on a write-only descriptor fails).
    package static let systemOpener: Opener = { path in
        let fd = Glibc.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        return fd >= 0 ? fd : -errno
    }

    /// The most bytes of lines held in memory while no descriptor can be had.
    package static let heldLimitBytes = 8 << 20

    /// How long records gather after a batch before the writer takes the next one.
    package static let batchWindow: Duration = .milliseconds(100)

    /// Records queued that wake the writer before its batch window is over.
    static let batchLimit = 1024

    /// A cached day file unused for this long may give its descriptor to another check when the
    /// cache is full (a check removed, or one that runs less often than this).
    static let evictIdleMs: Int64 = 10 * 60_000

    private enum Command {
        case record(RunRecord, Policy)
        case prepare([String: Policy], location: String)
        case flush(CheckedContinuation<Void, Never>, final: Bool)
        case event([UInt8])
    }

    /// Where a line goes.
    private enum Target {
        case run(check: String, day: Int64, path: String)
        case event(path: String)

        var path: String {
            switch self {
            case .run(_, _, let path), .event(let path): return path
            }
        }

        /// Lines of one key are written in the order they came.
        var key: String {
            switch self {
            case .run(let check, _, _): return check
            case .event: return "/incidents"
            }
        }
    }

    /// What became of a line.
    private enum Outcome {
        case written
        case dropped
        /// No descriptor could be had: `reason` is the system's.
        case noDescriptor(String)
    }

    /// A line waiting for a descriptor.
    private struct Held {
        var line: [UInt8]
        var target: Target
    }

    /// An `errno` value as an error.
    private struct SystemError: Error {
        var code: Int32
    }

    /// A file opened for appending: its descriptor, device and inode.
    private struct Opened {
        var fd: Int32
        var device: UInt64
        var inode: UInt64
    }

    package let folder: DataFolder
    package let retention: Retention
    /// The most day files kept open at once.
    package let openFilesCapacity: Int
    /// The soft open-files limit when the writer started.
    let openFilesLimit: Int
    private let report: @Sendable (Event) -> Void
    private let now: @Sendable () -> Int64
    private let opener: Opener
    private let heldLimit: Int

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Command] = []
    private var totals = Counts()
    /// The writer waits with nothing queued: the next command wakes it.
    private var idle = false
    /// A flush or prepare is queued: the writer takes it without waiting out its batch window.
    private var urgent = false
    private var batchCount = 0
    private var checks = 0

    // Writer-thread state.
    private var files: DayFileCache
    /// Which open day files may have been deleted or replaced since they were last checked.
    private let watch: DayFileWatch
    private var held: [Held] = []
    private var heldStart = 0
    private var heldBytes = 0
    private var heldByKey: [String: Int] = [:]
    private var lastHeldRetry: Int64?
    /// The hours of each check whose lines are not written yet: one, or two at an hour's turn while
    /// the previous one waits out its grace. An array, not a dictionary per check: a dictionary's
    /// storage costs twice the one rollup it holds.
    private var open: [String: [HourRollup]] = [:]
    private var policies: [String: Policy] = [:]
    private var lastWrittenHour: [String: Int64] = [:]
    private var pendingHours: [HourRollup] = []
    /// Runs that came for an hour whose line was already written (a run finishing after the grace,
    /// a clock step): folded into a new line for that hour at the next tick.
    private var late: [String: [Int64: HourRollup]] = [:]
    /// Files whose last write failed, with what their log lines have said (`FailureReports`).
    private var failures = FailureReports()
    private var lastShortageReport: Int64?
    private var lastRetention: Int64?
    private var location = ""

    /// Checks that the folder can be written (creating it), then starts the writer thread.
    /// `openFiles` caps the day files kept open (by default `DayFileCache.capacity(forSoftLimit:)`
    /// of the soft open-files limit); `heldBytes` caps the lines held while no descriptor can be had;
    /// `opener` opens a file for appending (tests replace it).
    package init(
        folder: DataFolder, retention: Retention = Retention(), openFiles: Int? = nil,
        now: @escaping @Sendable () -> Int64 = { UTCTime.milliseconds(Date()) },
        heldBytes: Int = RecordWriter.heldLimitBytes,
        opener: @escaping Opener = RecordWriter.systemOpener,
        report: @escaping @Sendable (Event) -> Void
    ) throws(StoreError) {
        self.folder = folder
        self.retention = retention
        self.report = report
        self.now = now
        self.opener = opener
        heldLimit = max(0, heldBytes)
        let limit = ResourceLimits.openFiles().soft
        openFilesLimit = limit
        openFilesCapacity = max(1, openFiles ?? DayFileCache.capacity(forSoftLimit: limit))
        let watch = DayFileWatch()
        self.watch = watch
        // One descriptor of the share is kept for a line written through its own (a full cache).
        files = DayFileCache(capacity: max(1, openFilesCapacity - 1)) { fd in
            watch.closing(fd)
            _ = Glibc.close(fd)
        }
        try Self.checkWritable(folder.root)
        let thread = Thread { [self] in loop() }
        thread.name = "sonde-writer"
        thread.start()
    }

    /// Records dropped since start: a write failed, or no descriptor could be had.
    package var dropped: Int { counts.dropped }

    /// Batches taken off the queue since start (each a wake-up of the writer with work to do).
    package var batches: Int {
        condition.lock()
        defer { condition.unlock() }
        return batchCount
    }

    /// `stat`s of an open day file's path before a line since start: made only when the file's
    /// inotify watch saw a change, or it has no watch (`DayFileWatch`), so not one a line.
    package var pathChecks: Int {
        condition.lock()
        defer { condition.unlock() }
        return checks
    }

    /// Whether the writer's open day files are watched with inotify (else each is checked before
    /// every line).
    package var watchesDayFiles: Bool { watch.isAvailable }

    /// The counters since start.
    package var counts: Counts {
        condition.lock()
        defer { condition.unlock() }
        return totals
    }

    /// Queues a run line (and its share of the hour rollup). The writer takes it with the next
    /// batch, within `batchWindow`.
    package func append(_ record: RunRecord, policy: Policy) {
        send(.record(record, policy), urgent: false)
    }

    /// Rebuilds, for each check, the hour lines missing since its last one from raw runs, loads the
    /// open hour into memory, and applies retention. Call before the first `append` of a check.
    package func prepare(_ checks: [String: Policy], location: String) {
        send(.prepare(checks, location: location), urgent: true)
    }

    /// Queues a line for `incidents.jsonl` (an incident event, already encoded).
    package func appendIncidentEvent(_ line: [UInt8]) {
        send(.event(line), urgent: false)
    }

    /// Returns when every queued record has been written, dropped, or held for want of a
    /// descriptor (held records are retried first).
    package func flush() async {
        await withCheckedContinuation { continuation in send(.flush(continuation, final: false), urgent: true) }
    }

    /// The last flush before the process ends: held records get a last try, and those that still
    /// cannot be written are counted as dropped.
    package func finish() async {
        await withCheckedContinuation { continuation in send(.flush(continuation, final: true), urgent: true) }
    }

    /// Queues `command`; wakes the writer when it is idle, when `urgent`, or when the batch is full.
    private func send(_ command: Command, urgent: Bool) {
        condition.lock()
        queue.append(command)
        let wake = idle || urgent || queue.count == Self.batchLimit
        if wake { idle = false }
        if urgent { self.urgent = true }
        condition.unlock()
        // Signalled after unlocking: a writer woken while the lock is still held would only block
        // on it again. No wakeup is lost: the writer checks the queue and `urgent` under the lock
        // before it waits.
        if wake { condition.signal() }
    }

    /// Waits for the next batch: lets records gather for `batchWindow` after a batch (unless a
    /// flush comes or the batch fills), then, with nothing queued, until a command comes or a
    /// second has passed (the tick that closes hours). Called and returns with the lock held.
    private func awaitBatch(afterWork: Bool) {
        if afterWork {
            let end = Date(timeIntervalSinceNow: Self.batchWindow.seconds)
            while !urgent, queue.count < Self.batchLimit {
                if !condition.wait(until: end) { break }
            }
        }
        while queue.isEmpty {
            idle = true
            let signalled = condition.wait(until: Date(timeIntervalSinceNow: 1))
            idle = false
            if !signalled { break }
        }
        urgent = false
    }

    private func loop() {
        var batch: [Command] = []
        var lastCloseCheck: Int64?
        var worked = false
        while true {
            condition.lock()
            awaitBatch(afterWork: worked)
            // Take the queue's buffer instead of copying it.
            swap(&batch, &queue)
            worked = !batch.isEmpty
            if worked { batchCount += 1 }
            condition.unlock()

            // Deleted or replaced day files since the last batch: one read, normally of nothing.
            if worked { watch.drain() }
            // Held lines go first, a few times a second, so that each key's lines stay in order.
            if heldStart < held.count, lastHeldRetry.map({ now() - $0 >= 200 }) ?? true { retryHeld() }
            for command in batch {
                switch command {
                case .record(let record, let policy): write(record, policy: policy)
                case .prepare(let checks, let location): rebuild(checks, location: location)
                case .event(let line): writeEvent(line)
                case .flush(let continuation, let final):
                    retryHeld()
                    if final { dropHeld() }
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
            // In place: the array is not copied out of the dictionary.
            Self.add(record, hour: hour, fastMs: policy.fastMs, to: &open[record.check, default: []])
        } else {
            late[record.check, default: [:]][
                hour,
                default: HourRollup(
                    hour: hour, check: record.check, location: record.location, fastMs: policy.fastMs)
            ].add(record)
        }
        let target = Target.run(
            check: record.check, day: UTCTime.dayStart(record.time),
            path: folder.runsFile(check: record.check, at: record.time))
        let line = RunLine.encode(record)
        // A line readers would skip is not written: dropped and counted (its hour still counts the run).
        guard line.count <= LineReader.maxLineBytes + 1 else {
            dropped(
                path: target.path,
                reason:
                    "a run line of \(line.count) bytes is over the \(LineReader.maxLineBytes)-byte cap on a data line")
            return
        }
        deliver(line, to: target)
    }

    /// Counts `record` in the open rollup of its hour among `hours`, starting one when there is none.
    private static func add(_ record: RunRecord, hour: Int64, fastMs: Double?, to hours: inout [HourRollup]) {
        if let index = hours.firstIndex(where: { $0.hour == hour }) {
            hours[index].add(record)
            return
        }
        var rollup = HourRollup(hour: hour, check: record.check, location: record.location, fastMs: fastMs)
        rollup.add(record)
        hours.append(rollup)
    }

    /// Writes a line, or holds it when no descriptor can be had or older lines of its key are held.
    private func deliver(_ line: [UInt8], to target: Target) {
        if heldByKey[target.key] != nil {
            hold(line, target, reason: nil)
        } else if case .noDescriptor(let reason) = put(line, target) {
            hold(line, target, reason: reason)
        }
    }

    /// One attempt at one line. A failure other than a shortage of descriptors drops the line
    /// (counted and reported); a shortage leaves it to the caller.
    private func put(_ line: [UInt8], _ target: Target) -> Outcome {
        switch target {
        case .run(let check, let day, let path):
            let fd: Int32
            let current = now()
            var transient = false
            if let file = files.use(check, at: current), file.day == day, isCurrent(path, file) {
                fd = file.fd
            } else {
                files.remove(check)
                // Room first: the cache never holds more than its capacity, not even for a moment.
                // Full of files in use (more checks than room): this line gets a descriptor of its
                // own rather than evicting the file the next record needs (no LRU thrash).
                transient = !files.mayEvict(idleBefore: current - Self.evictIdleMs)
                if !transient, files.count >= files.capacity { files.closeLeastRecent(1) }
                switch openFile(path, check: check) {
                case .success(let opened):
                    fd = opened.fd
                    if !transient {
                        files.insert(
                            check, DayFileCache.File(day: day, fd: fd, device: opened.device, inode: opened.inode),
                            at: current)
                        watch.watch(
                            path, fd, device: opened.device, inode: opened.inode,
                            folders: [folder.directory(of: check), folder.root])
                    }
                case .failure(let error) where Self.isShortage(error.code):
                    return .noDescriptor(errnoReason(error.code))
                case .failure(let error):
                    dropped(path: path, reason: errnoReason(error.code))
                    return .dropped
                }
            }
            defer { if transient { close(fd) } }
            if let reason = writeLine(fd, line) {
                // Reopen next time: the reopen repairs a torn tail.
                files.remove(check)
                dropped(path: path, reason: reason)
                return .dropped
            }
            succeeded(path: path)
            return .written
        case .event(let path):
            let fd: Int32
            switch openFile(path, check: nil) {
            case .success(let opened): fd = opened.fd
            case .failure(let error) where Self.isShortage(error.code):
                return .noDescriptor(errnoReason(error.code))
            case .failure(let error):
                dropped(path: path, reason: errnoReason(error.code))
                return .dropped
            }
            defer { close(fd) }
            if let reason = writeLine(fd, line) {
                dropped(path: path, reason: reason)
                return .dropped
            }
            succeeded(path: path)
            return .written
        }
    }

    // MARK: Held lines

    /// Keeps a line until a descriptor can be had; drops it when the memory for held lines is full.
    /// `reason` is set when this line's own open was refused (then the shortage is reported).
    private func hold(_ line: [UInt8], _ target: Target, reason: String?) {
        guard heldBytes + line.count <= heldLimit else {
            dropped(
                path: target.path,
                reason: (reason ?? errnoReason(EMFILE))
                    + ", and the memory for held records (\(heldLimit / 1024) KiB) is full", descriptors: true)
            return
        }
        held.append(Held(line: line, target: target))
        heldBytes += line.count
        heldByKey[target.key, default: 0] += 1
        condition.lock()
        totals.held += 1
        condition.unlock()
        if let reason { reportShortage(path: target.path, reason: reason) }
    }

    /// Writes held lines in the order they came, until one still finds no descriptor.
    private func retryHeld() {
        lastHeldRetry = now()
        while heldStart < held.count {
            let item = held[heldStart]
            if case .noDescriptor(let reason) = put(item.line, item.target) {
                reportShortage(path: item.target.path, reason: reason)
                break
            }
            release(heldStart)
            heldStart += 1
        }
        compactHeld()
    }

    /// Counts every line still held as dropped (the process is about to end).
    private func dropHeld() {
        while heldStart < held.count {
            let item = held[heldStart]
            release(heldStart)
            heldStart += 1
            dropped(
                path: item.target.path, reason: "still no descriptor at exit (too many open files)", descriptors: true)
        }
        compactHeld()
    }

    private func release(_ at: Int) {
        let item = held[at]
        heldBytes -= item.line.count
        let left = (heldByKey[item.target.key] ?? 1) - 1
        heldByKey[item.target.key] = left > 0 ? left : nil
        condition.lock()
        totals.held -= 1
        condition.unlock()
    }

    private func compactHeld() {
        if heldStart == held.count {
            held.removeAll()
            heldStart = 0
        } else if heldStart >= 1024, heldStart * 2 >= held.count {
            held.removeFirst(heldStart)
            heldStart = 0
        }
    }

    /// True when `path` still names the open `file`. A day file deleted, moved or replaced while
    /// open (a clean-up job, an operator, a full disk simulated with a link to /dev/full) is
    /// reopened at its path: lines never go on into a file that nobody can find any more. The
    /// `stat` is made only when the file's inotify watch saw a change since it was last checked,
    /// or it has no watch (`DayFileWatch`); the watch's events are read at the start of each batch.
    private func isCurrent(_ path: String, _ file: DayFileCache.File) -> Bool {
        guard watch.needsCheck(file.fd) else { return true }
        condition.lock()
        checks += 1
        condition.unlock()
        guard Self.names(path, file) else { return false }
        watch.checked(file.fd)
        return true
    }

    /// True when `path` still names `file` (its device and inode, read when it was opened): one
    /// `stat`, no `fstat`.
    private static func names(_ path: String, _ file: DayFileCache.File) -> Bool {
        var named = stat()
        guard stat(path, &named) == 0 else { return false }
        return UInt64(named.st_dev) == file.device && UInt64(named.st_ino) == file.inode
    }

    /// Appends to `incidents.jsonl`; a failure is reported like a dropped record, a shortage of
    /// descriptors holds the line like a run line.
    private func writeEvent(_ line: [UInt8]) {
        deliver(line, to: .event(path: folder.incidentsFile))
    }

    // MARK: Hours

    private func closeHours(force: Bool) {
        let current = now()
        for (check, hours) in open {
            let grace = policies[check]?.graceMs ?? 20_000
            let due = { (rollup: HourRollup) in force || current >= rollup.hour + UTCTime.msPerHour + grace }
            guard hours.contains(where: due) else { continue }
            for rollup in hours where due(rollup) {
                lastWrittenHour[check] = max(lastWrittenHour[check] ?? .min, rollup.hour)
                pendingHours.append(rollup)
            }
            let left = hours.filter { !due($0) }
            open[check] = left.isEmpty ? nil : left
        }
        foldLateRuns()
        guard !pendingHours.isEmpty else { return }
        var stillPending: [HourRollup] = []
        for rollup in pendingHours.sorted(by: { $0.hour < $1.hour }) {
            let path = folder.hoursFile(check: rollup.check, at: rollup.hour)
            let fd: Int32
            switch openFile(path, check: rollup.check) {
            case .success(let opened): fd = opened.fd
            case .failure(let error):
                stillPending.append(rollup)
                if Self.isShortage(error.code) {
                    reportShortage(path: path, reason: errnoReason(error.code))
                } else {
                    reportFailure(path: path, reason: errnoReason(error.code))
                }
                continue
            }
            if let reason = writeLine(fd, HourLine.encode(rollup)) {
                stillPending.append(rollup)
                reportFailure(path: path, reason: reason)
            } else {
                succeeded(path: path)
            }
            close(fd)
        }
        pendingHours = stillPending
    }

    /// Turns the late runs into hour lines: each hour's line still waiting to be written takes them;
    /// otherwise the hour's stored line (the last one for its location) plus the late runs is
    /// appended as a new line, which then wins. An hour without a line gets one of its late runs.
    private func foldLateRuns() {
        guard !late.isEmpty else { return }
        let reader = RunReader(folder: folder)
        for (check, hours) in late.sorted(by: { $0.key < $1.key }) {
            for (hour, rollup) in hours.sorted(by: { $0.key < $1.key }) {
                if let index = pendingHours.firstIndex(where: {
                    $0.check == check && $0.hour == hour && $0.location == rollup.location
                }) {
                    pendingHours[index].merge(rollup)
                    continue
                }
                var stats = ReadStats()
                var line = reader.storedHours(check: check, from: hour, to: hour + 1, stats: &stats)
                    .last { $0.location == rollup.location }
                if line == nil {
                    line = rollup
                } else {
                    line?.merge(rollup)
                }
                if let line { pendingHours.append(line) }
            }
        }
        late = [:]
    }

    private func rebuild(_ checks: [String: Policy], location: String) {
        self.location = location
        // The readers below open files and folders: idle day files make room for them (they are
        // reopened by the next line).
        files.closeAll()
        let current = now()
        let currentHour = UTCTime.hourStart(current)
        let reader = RunReader(folder: folder)
        // The first day retention keeps: whole days, so the oldest hour is never rebuilt from half its runs.
        let rawStart = rawCutoff(current)
        for (check, policy) in checks.sorted(by: { $0.key < $1.key }) {
            policies[check] = policy
            guard open[check] == nil, lastWrittenHour[check] == nil else { continue }
            var stats = ReadStats()
            let stored = reader.storedHours(check: check, from: rawStart, stats: &stats).filter {
                $0.location == location
            }
            let last = stored.map(\.hour).max() ?? .min
            let from = max(last == .min ? .min : last + UTCTime.msPerHour, rawStart)
            var rebuilt: [Int64: HourRollup] = [:]
            reader.forEachRun(check: check, from: from, to: .max, stats: &stats) { record in
                guard record.location == location else { return }
                let hour = UTCTime.hourStart(record.time)
                rebuilt[
                    hour,
                    default: HourRollup(
                        hour: hour, check: check, location: location,
                        fastMs: policy.fastMs)
                ].add(record)
            }
            if last != .min { lastWrittenHour[check] = last }
            var closed = 0
            for (hour, rollup) in rebuilt {
                if hour < currentHour {
                    pendingHours.append(rollup)
                    lastWrittenHour[check] = max(lastWrittenHour[check] ?? .min, hour)
                    closed += 1
                } else {
                    open[check, default: []].append(rollup)
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

    /// True for the `errno` values of a process (`EMFILE`) or system (`ENFILE`) out of descriptors.
    private static func isShortage(_ code: Int32) -> Bool { code == EMFILE || code == ENFILE }

    /// Opens `path` for appending; when the process is out of descriptors, closes the least
    /// recently used day files (a quarter at a time) and tries again until none is left open.
    private func openFile(_ path: String, check: String?) -> Result<Opened, SystemError> {
        var result = openForAppend(path, check: check)
        guard case .failure(let first) = result, Self.isShortage(first.code) else { return result }
        condition.lock()
        totals.descriptorShortages += 1
        condition.unlock()
        while case .failure(let error) = result, Self.isShortage(error.code), !files.isEmpty {
            files.closeLeastRecent(max(1, files.count / 4))
            result = openForAppend(path, check: check)
        }
        return result
    }

    /// Opens `path` for appending (creating the check's folder), and ends a torn last line.
    private func openForAppend(_ path: String, check: String?) -> Result<Opened, SystemError> {
        if let check {
            let directory = folder.directory(of: check)
            if mkdir(directory, 0o755) != 0, errno != EEXIST { return .failure(SystemError(code: errno)) }
        }
        let fd = opener(path)
        guard fd >= 0 else { return .failure(SystemError(code: -fd)) }
        var info = stat()
        let known = fstat(fd, &info) == 0
        if known, info.st_size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, info.st_size - 1) == 1, last != 0x0A {
                var newline: UInt8 = 0x0A
                if Glibc.write(fd, &newline, 1) != 1 {
                    let saved = errno
                    close(fd)
                    return .failure(SystemError(code: saved))
                }
            }
        }
        return .success(
            Opened(fd: fd, device: known ? UInt64(info.st_dev) : 0, inode: known ? UInt64(info.st_ino) : 0))
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

    private func dropped(path: String, reason: String, descriptors: Bool = false) {
        condition.lock()
        totals.dropped += 1
        if descriptors { totals.droppedForDescriptors += 1 }
        condition.unlock()
        reportFailure(path: path, reason: reason, dropped: true)
    }

    /// Reports a failing write at most once a minute per file and reason, with the count of
    /// failures left unreported since: one file that cannot be written while others can gives one
    /// line a minute, not an error and a "resumed" line every second.
    private func reportFailure(path: String, reason: String, dropped isDrop: Bool = false) {
        if let suppressed = failures.failed(path: path, reason: reason, at: now(), dropped: isDrop) {
            report(.writeFailed(path: path, reason: reason, dropped: dropped, suppressed: suppressed))
        }
    }

    /// Reports a shortage of descriptors at most once a minute. Shortages come and go with the
    /// sockets in flight, and a held line is not lost: writing a line does not reset this limit,
    /// and no "resumed" line follows.
    private func reportShortage(path: String, reason: String) {
        let current = now()
        if let last = lastShortageReport, current - last < 60_000 { return }
        lastShortageReport = current
        let figures = counts
        report(
            .descriptorsExhausted(
                path: path, reason: reason, limit: openFilesLimit, held: figures.held,
                dropped: figures.dropped))
    }

    /// A write to `path` worked: when the file was failing, that is reported once.
    private func succeeded(path: String) {
        if let lost = failures.succeeded(path: path) { report(.resumed(dropped: lost)) }
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
