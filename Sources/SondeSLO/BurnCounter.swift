import SondeProbe
import SondeScript
import SondeStore
import SondeSupport

/// Run and failure counts of one check in one-minute buckets (the last 6 hours) and one-hour
/// buckets (the objective's window, at least 3 days), fed in time order: burn rates and the budget
/// at any moment without keeping runs. Windows up to 6 h are exact to the minute, longer ones to the
/// hour (the current partial minute or hour included). Used live for `/metrics` and when replaying
/// runs for incidents.
package struct BurnCounter: Sendable {
    /// 16 bits are plenty (one check runs at most 3,600 times an hour) and halve the rings: with
    /// 10,000 checks the two counters per check weigh 86 MB instead of 173 MB. Additions saturate.
    struct Counts: Sendable {
        var runs: UInt16 = 0
        var bad: UInt16 = 0

        mutating func add(runs more: UInt32, bad moreBad: UInt32) {
            runs = UInt16(min(UInt32(UInt16.max), UInt32(runs) + more))
            bad = min(runs, UInt16(min(UInt32(UInt16.max), UInt32(bad) + moreBad)))
        }
    }

    package static let minuteBuckets = 360

    package static func hourBuckets(_ policy: SLOPolicy) -> Int {
        Int(max(72, (policy.windowMs + UTCTime.msPerHour - 1) / UTCTime.msPerHour))
    }

    package var policy: SLOPolicy
    var minutes: [Counts]
    var hours: [Counts]
    /// The newest minute and hour the rings hold (ring index = minute or hour mod ring size).
    var lastMinute: Int64
    var lastHour: Int64

    package init(policy: SLOPolicy, nowMs: Int64) {
        self.policy = policy
        minutes = Array(repeating: Counts(), count: Self.minuteBuckets)
        hours = Array(repeating: Counts(), count: Self.hourBuckets(policy))
        lastMinute = nowMs / 60_000
        lastHour = nowMs / UTCTime.msPerHour
    }

    /// Moves the rings forward to `nowMs`, clearing the buckets that fall out.
    package mutating func advance(to nowMs: Int64) {
        let minute = nowMs / 60_000
        if minute > lastMinute {
            let steps = min(Int64(minutes.count), minute - lastMinute)
            for k in 1...steps { minutes[Int((lastMinute + k) % Int64(minutes.count))] = Counts() }
            lastMinute = minute
        }
        let hour = nowMs / UTCTime.msPerHour
        if hour > lastHour {
            let steps = min(Int64(hours.count), hour - lastHour)
            for k in 1...steps { hours[Int((lastHour + k) % Int64(hours.count))] = Counts() }
            lastHour = hour
        }
    }

    /// Counts a run that started at `timeMs` (not after the rings' newest minute).
    package mutating func add(timeMs: Int64, ok: Bool) {
        let minute = timeMs / 60_000
        if minute <= lastMinute, lastMinute - minute < Int64(minutes.count) {
            minutes[Int(minute % Int64(minutes.count))].add(runs: 1, bad: ok ? 0 : 1)
        }
        addHour(timeMs: timeMs, runs: 1, bad: ok ? 0 : 1)
    }

    /// Adds counts to the hour bucket holding `timeMs` (seeding from hour lines).
    package mutating func addHour(timeMs: Int64, runs: UInt32, bad: UInt32) {
        let hour = timeMs / UTCTime.msPerHour
        guard hour <= lastHour, lastHour - hour < Int64(hours.count) else { return }
        hours[Int(hour % Int64(hours.count))].add(runs: runs, bad: bad)
    }

    /// Runs and failures over the last `ms` (whole buckets).
    func sum(_ ms: Int64) -> (runs: Int64, bad: Int64) {
        var runs: Int64 = 0
        var bad: Int64 = 0
        if ms <= Int64(Self.minuteBuckets) * 60_000 {
            let count = (ms + 59_999) / 60_000
            for k in 0..<count {
                let bucket = minutes[Int((lastMinute - k) % Int64(minutes.count))]
                runs += Int64(bucket.runs)
                bad += Int64(bucket.bad)
            }
        } else {
            let count = min(Int64(hours.count), (ms + UTCTime.msPerHour - 1) / UTCTime.msPerHour)
            for k in 0..<count {
                let bucket = hours[Int((lastHour - k) % Int64(hours.count))]
                runs += Int64(bucket.runs)
                bad += Int64(bucket.bad)
            }
        }
        return (runs, bad)
    }

    package func counts(_ ms: Int64) -> WindowCounts {
        let (runs, bad) = sum(ms)
        var counts = WindowCounts(fromMs: 0, toMs: ms)
        counts.runs = runs
        counts.good = runs - bad
        return counts
    }

    /// Burn rate per window; windows with too few runs are absent.
    package func burnRates() -> [BurnWindow: Double] {
        var out: [BurnWindow: Double] = [:]
        for window in BurnWindow.allCases {
            if let rate = counts(window.milliseconds).burnRate(budget: policy.budget, minimumRuns: window.minimumRuns) {
                out[window] = rate
            }
        }
        return out
    }

    /// Share of the budget left over the objective's window: 1 − failed runs ÷ the failures the
    /// objective allows over it (from the schedule, `ErrorBudget`); nil without runs.
    package func budgetRemaining() -> Double? {
        let window = counts(policy.windowMs)
        return window.runs > 0 ? ErrorBudget(policy: policy).remaining(failed: window.bad) : nil
    }
}
