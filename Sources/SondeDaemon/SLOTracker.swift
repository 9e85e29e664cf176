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
/// buckets for the last 6 hours and one-hour buckets for the objective's window, seeded from the data
/// folder at start and fed by every run. Windows up to 6 h are exact to the minute, longer ones to
/// the hour (the current partial minute or hour is included).
final class SLOTracker: Sendable {
    private let state = Mutex<[String: BurnCounter]>([:])

    /// Tracks these checks (new ones start empty; removed ones are dropped; a changed objective
    /// keeps the counts when the ring sizes allow).
    func setPolicies(_ policies: [String: SLOPolicy], nowMs: Int64) {
        state.withLock { checks in
            for name in checks.keys where policies[name] == nil { checks[name] = nil }
            for (name, policy) in policies {
                if var existing = checks[name] {
                    if BurnCounter.hourBuckets(existing.policy) == BurnCounter.hourBuckets(policy) {
                        existing.policy = policy
                        checks[name] = existing
                        continue
                    }
                }
                checks[name] = BurnCounter(policy: policy, nowMs: nowMs)
            }
        }
    }

    /// Counts one run (live, or from the files when seeding).
    func add(check: String, timeMs: Int64, ok: Bool, nowMs: Int64) {
        state.withLock { checks in
            guard var entry = checks[check] else { return }
            entry.advance(to: nowMs)
            entry.add(timeMs: timeMs, ok: ok)
            checks[check] = entry
        }
    }

    /// Seeds a check from its files: hour lines for whole hours older than 6 h, raw runs after.
    /// Only runs started before `beforeMs` (the daemon's start) are taken, so live runs count once.
    func seed(check: String, reader: RunReader, location: String, beforeMs: Int64, nowMs: Int64) {
        guard let policy = state.withLock({ $0[check]?.policy }) else { return }
        let rawFrom = UTCTime.hourStart(nowMs - Int64(BurnCounter.minuteBuckets) * 60_000)
        let history = CheckHistory(
            check: check, readers: [reader], nowMs: beforeMs,
            hoursFromMs: nowMs - policy.windowMs, rawFromMs: rawFrom, edgesMs: [],
            fastMs: policy.latencyThresholdMs)
        state.withLock { checks in
            guard var entry = checks[check] else { return }
            entry.advance(to: nowMs)
            for (hour, byLocation) in history.hours where hour < rawFrom {
                guard let rollup = byLocation[location] else { continue }
                entry.addHour(
                    timeMs: hour, runs: UInt32(clamping: rollup.runs), bad: UInt32(clamping: rollup.runs - rollup.good))
            }
            for run in history.rawRuns(fromMs: rawFrom, toMs: beforeMs) where run.location == location {
                entry.add(timeMs: run.time, ok: run.ok)
            }
            checks[check] = entry
        }
    }

    /// One check's policy, burn rates per window (absent: insufficient data) and budget left over
    /// the objective's window.
    typealias Figures = (policy: SLOPolicy, burn: [BurnWindow: Double], remaining: Double?)

    /// The figures of one check (nil when it is not tracked): what a webhook payload carries.
    func figures(check: String, nowMs: Int64) -> Figures? {
        state.withLock { checks in
            guard var entry = checks[check] else { return nil }
            defer { checks[check] = entry }
            return Self.figures(of: &entry, nowMs: nowMs)
        }
    }

    /// The figures of every check, for `/metrics`.
    func snapshot(nowMs: Int64) -> [String: Figures] {
        state.withLock { checks in
            var out: [String: Figures] = [:]
            for (name, var entry) in checks {
                out[name] = Self.figures(of: &entry, nowMs: nowMs)
                checks[name] = entry
            }
            return out
        }
    }

    /// Moves the rings to `nowMs` (in place) and reads the figures.
    private static func figures(of entry: inout BurnCounter, nowMs: Int64) -> Figures {
        entry.advance(to: nowMs)
        return (entry.policy, entry.burnRates(), entry.budgetRemaining())
    }
}
