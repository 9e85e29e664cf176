import SondeAlerts
import SondeIncidents
import SondeProbe
import SondeRender
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport
import Synchronization

/// Live burn rates and error budget for `/metrics`: per check, run and failure counts in one-minute
/// buckets for the last 6 hours and one-hour buckets for the objective's window (one `BurnCounter`,
/// about 2.2 KB for a 30-day objective, 2.9 KB for a check faster than every 20 s), seeded from the
/// data folder at start and fed by every run.
/// Windows up to 6 h are exact to the minute, longer ones to the hour (the current partial minute or
/// hour is included). The same rings serve the check's incident detector (`counter(check:)`), so a
/// check has one set of counts, not two. Reading never writes: the figures at a later time treat
/// the minutes since the last run as empty.
final class SLOTracker: Sendable {
    private struct State {
        var checks: [String: BurnCounter] = [:]
        /// Checks added but not seeded from the files yet (their rings are not lent out).
        var pending: Set<String> = []
    }

    private let state = Mutex(State())

    /// Tracks these checks: new ones start empty and wait for `seed`; removed ones are dropped; a
    /// changed objective keeps the counts (a longer window starts with the hours the ring had; a
    /// shorter interval widens the hour buckets).
    func setPolicies(_ policies: [String: SLOPolicy], nowMs: Int64) {
        state.withLock { state in
            for name in state.checks.keys where policies[name] == nil {
                state.checks[name] = nil
                state.pending.remove(name)
            }
            for (name, policy) in policies {
                guard let existing = state.checks[name] else {
                    state.checks[name] = BurnCounter(policy: policy, nowMs: nowMs)
                    state.pending.insert(name)
                    continue
                }
                if existing.hasLayout(of: policy) {
                    state.checks[name]?.policy = policy  // in place: no copy of the rings
                } else {
                    state.checks[name] = BurnCounter(resizing: existing, to: policy)
                }
            }
        }
    }

    /// Counts one run (live, or from the files when seeding); the rings move forward to its start.
    func add(check: String, timeMs: Int64, ok: Bool) {
        state.withLock { state in
            // In place: a copy taken out of the dictionary would copy the rings on every run.
            state.checks[check]?.add(timeMs: timeMs, ok: ok)
        }
    }

    /// The rings of `check` with every run added so far: what its incident detector reads its
    /// burn rates from. Nil when the check is not tracked or not seeded yet (the detector counts
    /// on its own until then). A copy shares the storage until the tracker next writes, so a
    /// caller should not keep it.
    func counter(check: String) -> BurnCounter? {
        state.withLock { state in state.pending.contains(check) ? nil : state.checks[check] }
    }

    /// Seeds a check from its files: hour lines for whole hours older than 6 h, raw runs after.
    /// Only runs started before `beforeMs` (the daemon's start) are taken, so live runs count once.
    /// Returns what the reader skipped.
    @discardableResult
    func seed(check: String, reader: RunReader, location: String, beforeMs: Int64, nowMs: Int64) -> ReadStats {
        guard let policy = state.withLock({ $0.checks[check]?.policy }) else { return ReadStats() }
        let rawFrom = UTCTime.hourStart(nowMs - Int64(BurnCounter.minuteBuckets) * 60_000)
        let history = CheckHistory(
            check: check, readers: [reader], nowMs: beforeMs,
            hoursFromMs: nowMs - policy.windowMs, rawFromMs: rawFrom, edgesMs: [],
            fastMs: policy.latencyThresholdMs)
        let runs = history.rawRuns(fromMs: rawFrom, toMs: beforeMs).filter {
            $0.location == location && $0.maintenance == nil
        }
        state.withLock { state in
            state.pending.remove(check)
            guard state.checks[check] != nil else { return }
            for (hour, byLocation) in history.hours where hour < rawFrom {
                guard let rollup = byLocation[location] else { continue }
                state.checks[check]?.addHour(
                    timeMs: hour, runs: UInt32(clamping: rollup.runs), bad: UInt32(clamping: rollup.runs - rollup.good))
            }
            for run in runs { state.checks[check]?.add(timeMs: run.time, ok: run.ok) }
        }
        return history.stats
    }

    /// One check's policy, burn rates per window (absent: insufficient data) and budget left over
    /// the objective's window.
    typealias Figures = (policy: SLOPolicy, burn: [BurnWindow: Double], remaining: Double?)

    /// The figures of one check (nil when it is not tracked): what a webhook payload carries.
    func figures(check: String, nowMs: Int64) -> Figures? {
        state.withLock { state in state.checks[check].map { Self.figures(of: $0, nowMs: nowMs) } }
    }

    /// The figures of every check, for `/metrics`.
    func snapshot(nowMs: Int64) -> [String: Figures] {
        state.withLock { state in state.checks.mapValues { Self.figures(of: $0, nowMs: nowMs) } }
    }

    /// What the live status page shows of one check (nil when it is not tracked): its policy, the
    /// counts of each window in `windowsMs` (nil for a window longer than the hour ring), and the
    /// counts of each whole UTC day the hour ring holds plus today, oldest first (at most `maxDays`).
    /// Read in place under the lock: no copy of the rings.
    func statusCounts(check: String, nowMs: Int64, windowsMs: [Int64], maxDays: Int) -> (
        policy: SLOPolicy, windows: [WindowCounts?], days: [(dayMs: Int64, counts: WindowCounts)]
    )? {
        state.withLock { state in
            guard let counter = state.checks[check] else { return nil }
            let ringMs = Int64(BurnCounter.hourBuckets(counter.policy)) * UTCTime.msPerHour
            let windows = windowsMs.map { $0 <= ringMs ? counter.counts($0, atMs: nowMs) : nil }
            let today = UTCTime.dayStart(nowMs)
            let ringStart = UTCTime.hourStart(nowMs) - ringMs + UTCTime.msPerHour
            let first = max(
                UTCTime.dayStart(ringStart + UTCTime.msPerDay - 1), today - Int64(maxDays - 1) * UTCTime.msPerDay)
            var days: [(dayMs: Int64, counts: WindowCounts)] = []
            var day = first
            while day <= today {
                let counts =
                    day == today
                    ? counter.counts(nowMs - day + 1, atMs: nowMs)
                    : counter.counts(UTCTime.msPerDay, atMs: day + UTCTime.msPerDay - 1)
                days.append((day, counts))
                day += UTCTime.msPerDay
            }
            return (counter.policy, windows, days)
        }
    }

    /// The figures of the rings as of `nowMs` (the minutes since the last run count as empty).
    private static func figures(of entry: BurnCounter, nowMs: Int64) -> Figures {
        (entry.policy, entry.burnRates(atMs: nowMs), entry.budgetRemaining(atMs: nowMs))
    }
}
