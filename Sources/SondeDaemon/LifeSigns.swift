import Foundation
import SondeSupport
import Synchronization

/// The sign of life of `sonde run`: once a minute one log line (event `alive`) with what the
/// prober did since the previous one — runs, failed runs, runs that started late, slots skipped —
/// and the incidents open now, so that a prober without `--verbose` still shows it is working.
/// `--quiet` turns it off. The waits are on `time`: a test moves a manual clock instead of waiting
/// a minute. The first line comes one interval after `start`, the next ones on the same grid; after
/// a pause (the process stopped, the machine suspended) the next line covers the whole pause, and
/// the grid carries on from there.
package final class LifeSigns: Sendable {
    /// What the line counts, each a total since the prober started (the line shows differences).
    package struct Totals: Sendable, Equatable {
        /// Runs recorded.
        package var runs = 0
        /// Runs recorded that failed.
        package var failed = 0
        /// Runs that started `LifeSigns.lateThreshold` or more after their slot.
        package var late = 0
        /// Slots skipped: the previous run of the check was still going, or the process was paused.
        package var skipped: Int64 = 0
        /// Names of the checks with an incident open now, sorted.
        package var openIncidents: [String] = []

        /// Totals of nothing yet.
        package init(runs: Int = 0, failed: Int = 0, late: Int = 0, skipped: Int64 = 0, openIncidents: [String] = []) {
            self.runs = runs
            self.failed = failed
            self.late = late
            self.skipped = skipped
            self.openIncidents = openIncidents
        }
    }

    /// A run that starts this long or longer after its slot counts as late (the scheduler's goal
    /// is to start every run within it; `bench/README.md`).
    package static let lateThreshold = Duration.milliseconds(100)
    /// How often the line comes.
    package static let interval = Duration.seconds(60)
    /// How many open incidents the line names; the rest are counted.
    static let namesShown = 5

    private let interval: Duration
    private let time: any TimeSource
    private let log: EventLog
    private let totals: @Sendable () -> Totals
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Signs of life every `interval` on `time`, written to `log`; `totals` reads the prober's
    /// counts (`Prober.totals`) when a line is due.
    package init(
        interval: Duration = LifeSigns.interval, time: any TimeSource, log: EventLog,
        totals: @escaping @Sendable () -> Totals
    ) {
        self.interval = interval
        self.time = time
        self.log = log
        self.totals = totals
    }

    /// Starts the lines: the first one `interval` from now.
    package func start() {
        let (interval, time, log, totals) = (self.interval, self.time, self.log, self.totals)
        let started = time.now
        let first = totals()
        task.withLock { task in
            task?.cancel()
            task = Task.detached(priority: .utility) {
                var previous = (at: started, totals: first)
                var next = started + interval
                while true {
                    do { try await time.sleep(until: next) } catch { return }
                    let now = time.now
                    let current = totals()
                    let (text, fields) = Self.line(current, since: previous.totals, elapsed: now - previous.at)
                    log.info("alive", text, fields)
                    previous = (now, current)
                    // After a pause the grid resumes past it: one line, never a burst of them.
                    while next <= now { next += interval }
                }
            }
        }
    }

    /// Stops the lines (at shutdown: the `stopped` line has the totals).
    package func stop() {
        task.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// The text and the fields of the line for `current` after `previous`, `elapsed` apart:
    /// `alive: 118 runs in the last 1 min 0 s, 3 failed, 0 late, 0 slots skipped; 1 incident open: api`.
    /// A count that went down (a check removed by a reload takes its skipped slots along) shows 0.
    static func line(_ current: Totals, since previous: Totals, elapsed: Duration) -> (String, [(String, String)]) {
        let runs = max(0, current.runs - previous.runs)
        let failed = max(0, current.failed - previous.failed)
        let late = max(0, current.late - previous.late)
        let skipped = max(0, current.skipped - previous.skipped)
        let open = current.openIncidents
        var text = "\(runs) \(runs == 1 ? "run" : "runs") in the last \(DurationText.span(ms: elapsed.milliseconds)), "
        text += "\(failed) failed, \(late) late, \(skipped) \(skipped == 1 ? "slot" : "slots") skipped; "
        if open.isEmpty {
            text += "no incident open"
        } else {
            let names = open.prefix(namesShown).map { ControlText.escaped($0) }.joined(separator: ", ")
            let more = open.count > namesShown ? " and \(open.count - namesShown) more" : ""
            text += "\(open.count) \(open.count == 1 ? "incident" : "incidents") open: \(names)\(more)"
        }
        let fields = [
            ("runs", String(runs)), ("failed", String(failed)), ("late", String(late)), ("skipped", String(skipped)),
            ("open_incidents", String(open.count)),
        ]
        return (text, fields)
    }
}
