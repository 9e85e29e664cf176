import Foundation
import SondeStore
import SondeSupport
import Synchronization

/// The running prober's view of `data/maintenance.jsonl`: read at start, then re-read whenever the
/// file's size, modification time or inode changes, so `sonde maintenance add` and `end` take
/// effect without a restart. The file is checked with one `stat` every `interval` on a thread of
/// its own (`sonde-maintenance`), never on the engine thread or the cooperative pool; a run reads
/// the calendar from memory.
package final class MaintenanceWatcher: Sendable {
    /// How often the file is looked at by default.
    package static let defaultInterval: Duration = .milliseconds(500)

    /// The state the thread and the runs share.
    private final class Core: Sendable {
        struct State {
            var signature: [Int64]?
            var calendar = MaintenanceCalendar()
            var loads = 0
            var stopped = false
        }

        let file: MaintenanceLog
        let log: EventLog
        let state = Mutex(State())
        let wake = NSCondition()

        init(file: MaintenanceLog, log: EventLog) {
            self.file = file
            self.log = log
        }

        /// Re-reads the file when it changed since the last look.
        func refresh() {
            let signature = file.signature()
            guard state.withLock({ $0.signature != signature || $0.loads == 0 }) else { return }
            let contents = signature == nil ? MaintenanceLog.Contents() : file.read()
            state.withLock { state in
                state.signature = signature
                state.calendar = MaintenanceCalendar(entries: contents.entries)
                state.loads += 1
            }
            if contents.skipped > 0 {
                log.warn("maintenance", "\(contents.skipped) lines of \(file.path) could not be read")
            }
        }

        var stopped: Bool { state.withLock { $0.stopped } }
    }

    private let core: Core
    private let interval: Duration
    private let started = Mutex(false)

    /// A watcher of `folder`'s maintenance file, read once now.
    package init(folder: DataFolder, log: EventLog, interval: Duration = MaintenanceWatcher.defaultInterval) {
        core = Core(file: MaintenanceLog(folder: folder), log: log)
        self.interval = interval
        core.refresh()
    }

    deinit { stop() }

    /// The windows as last read.
    package var calendar: MaintenanceCalendar { core.state.withLock { $0.calendar } }

    /// How many times the file has been read (at start, then once per change).
    package var loads: Int { core.state.withLock { $0.loads } }

    /// Starts the thread that watches the file (once).
    func start() {
        guard
            started.withLock({ was in
                defer { was = true }
                return !was
            })
        else { return }
        let (core, seconds) = (core, Double(interval.milliseconds) / 1000)
        let thread = Thread {
            while !core.stopped {
                core.refresh()
                core.wake.lock()
                if !core.stopped { _ = core.wake.wait(until: Date(timeIntervalSinceNow: seconds)) }
                core.wake.unlock()
            }
        }
        thread.name = "sonde-maintenance"
        thread.start()
    }

    /// Stops the thread (it ends within a moment).
    func stop() {
        core.state.withLock { $0.stopped = true }
        core.wake.lock()
        core.wake.broadcast()
        core.wake.unlock()
    }

    /// Reads the file now if it changed (what the thread does every interval).
    package func refresh() { core.refresh() }
}
