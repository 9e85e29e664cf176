import Synchronization

/// Live burn rates and error budget for `/metrics`: per check, run and failure counts in one-minute
/// buckets for the last 6 hours and one-hour buckets for the objective's window, seeded from the data
/// folder at start and fed by every run. Windows up to 6 h are exact to the minute, longer ones to
/// the hour (the current partial minute or hour is included).
public final class SLOTracker: Sendable {
    struct Counts {
        var runs: UInt32 = 0
        var bad: UInt32 = 0
    }

    struct Check {
        var policy: SLOPolicy
        var minutes: [Counts]
        var hours: [Counts]
        /// The minute and hour that bucket 0 of each ring stands for (ring index = t mod size).
        var lastMinute: Int64
        var lastHour: Int64

        init(policy: SLOPolicy, nowMs: Int64) {
            self.policy = policy
            minutes = Array(repeating: Counts(), count: SLOTracker.minuteBuckets)
            hours = Array(repeating: Counts(), count: SLOTracker.hourBuckets(policy))
            lastMinute = nowMs / 60_000
            lastHour = nowMs / UTCTime.msPerHour
        }

        mutating func advance(to nowMs: Int64) {
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

        mutating func add(timeMs: Int64, ok: Bool) {
            let minute = timeMs / 60_000
            if minute <= lastMinute, lastMinute - minute < Int64(minutes.count) {
                let index = Int(minute % Int64(minutes.count))
                minutes[index].runs += 1
                if !ok { minutes[index].bad += 1 }
            }
            let hour = timeMs / UTCTime.msPerHour
            if hour <= lastHour, lastHour - hour < Int64(hours.count) {
                let index = Int(hour % Int64(hours.count))
                hours[index].runs += 1
                if !ok { hours[index].bad += 1 }
            }
        }

        /// Runs and failures over the last `ms` (rounded up to whole buckets).
        func sum(_ ms: Int64) -> (runs: Int64, bad: Int64) {
            var runs: Int64 = 0, bad: Int64 = 0
            if ms <= Int64(SLOTracker.minuteBuckets) * 60_000 {
                let count = Int64((ms + 59_999) / 60_000)
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
    }

    static let minuteBuckets = 360

    static func hourBuckets(_ policy: SLOPolicy) -> Int {
        Int(max(72, (policy.windowMs + UTCTime.msPerHour - 1) / UTCTime.msPerHour))
    }

    private let state = Mutex<[String: Check]>([:])

    public init() {}

    /// Tracks these checks (new ones start empty; removed ones are dropped; a changed objective
    /// keeps the counts when the ring sizes allow).
    public func setPolicies(_ policies: [String: SLOPolicy], nowMs: Int64) {
        state.withLock { checks in
            for name in checks.keys where policies[name] == nil { checks[name] = nil }
            for (name, policy) in policies {
                if var existing = checks[name] {
                    if Self.hourBuckets(existing.policy) == Self.hourBuckets(policy) {
                        existing.policy = policy
                        checks[name] = existing
                        continue
                    }
                }
                checks[name] = Check(policy: policy, nowMs: nowMs)
            }
        }
    }

    /// Counts one run (live, or from the files when seeding).
    public func add(check: String, timeMs: Int64, ok: Bool, nowMs: Int64) {
        state.withLock { checks in
            guard var entry = checks[check] else { return }
            entry.advance(to: nowMs)
            entry.add(timeMs: timeMs, ok: ok)
            checks[check] = entry
        }
    }

    /// Seeds a check from its files: hour lines for whole hours older than 6 h, raw runs after.
    /// Only runs started before `beforeMs` (the daemon's start) are taken, so live runs count once.
    public func seed(check: String, reader: RunReader, location: String, beforeMs: Int64, nowMs: Int64) {
        guard let policy = state.withLock({ $0[check]?.policy }) else { return }
        let rawFrom = UTCTime.hourStart(nowMs - Int64(Self.minuteBuckets) * 60_000)
        let history = CheckHistory(check: check, readers: [reader], nowMs: beforeMs,
                                   hoursFromMs: nowMs - policy.windowMs, rawFromMs: rawFrom, edgesMs: [],
                                   fastMs: policy.latencyThresholdMs)
        state.withLock { checks in
            guard var entry = checks[check] else { return }
            entry.advance(to: nowMs)
            for (hour, byLocation) in history.hours where hour < rawFrom {
                guard let rollup = byLocation[location] else { continue }
                let index = hour / UTCTime.msPerHour
                guard index <= entry.lastHour, entry.lastHour - index < Int64(entry.hours.count) else { continue }
                let slot = Int(index % Int64(entry.hours.count))
                entry.hours[slot].runs += UInt32(clamping: rollup.runs)
                entry.hours[slot].bad += UInt32(clamping: rollup.runs - rollup.good)
            }
            for run in history.rawRuns(fromMs: rawFrom, toMs: beforeMs) where run.location == location {
                entry.add(timeMs: run.time, ok: run.ok)
            }
            checks[check] = entry
        }
    }

    /// Burn rates per window (absent: insufficient data) and the budget left over the objective's
    /// window, per check.
    public func snapshot(nowMs: Int64) -> [String: (policy: SLOPolicy, burn: [BurnWindow: Double], remaining: Double?)] {
        state.withLock { checks in
            var out: [String: (policy: SLOPolicy, burn: [BurnWindow: Double], remaining: Double?)] = [:]
            for (name, var entry) in checks {
                entry.advance(to: nowMs)
                checks[name] = entry
                var burn: [BurnWindow: Double] = [:]
                for window in BurnWindow.allCases {
                    let (runs, bad) = entry.sum(window.milliseconds)
                    var counts = WindowCounts(fromMs: 0, toMs: window.milliseconds)
                    counts.runs = runs
                    counts.good = runs - bad
                    if let rate = counts.burnRate(budget: entry.policy.budget, minimumRuns: window.minimumRuns) {
                        burn[window] = rate
                    }
                }
                let (runs, bad) = entry.sum(entry.policy.windowMs)
                var counts = WindowCounts(fromMs: 0, toMs: entry.policy.windowMs)
                counts.runs = runs
                counts.good = runs - bad
                out[name] = (entry.policy, burn, counts.budgetRemaining(budget: entry.policy.budget))
            }
            return out
        }
    }
}
