import SondeProbe
import SondeScript
import SondeStore
import SondeSupport

/// Run and failure counts of one check in one-minute buckets (the last 6 hours) and one-hour
/// buckets (the objective's window, at least 3 days): burn rates and the budget at any moment
/// without keeping runs. Windows up to 6 h are exact to the minute, longer ones to the hour (the
/// current partial minute or hour included).
///
/// The live prober keeps one per check, shared by the SLO tracker (`/metrics`, webhook figures) and
/// the check's incident detector (burn-rate alerts); `sonde incidents` keeps one per replayed
/// detector. Both rings live in one flat byte buffer, about 2.2 KB for a 30-day objective: a
/// minute bucket is two bytes (runs, failures: a check runs at most 60 times a minute), an hour
/// bucket two for a check every 20 s or slower (runs and failures a byte each: its schedule gives
/// it at most 180 runs an hour, `narrowHourLimit` 255) and three for a faster one (12 bits each:
/// at most 3,600 an hour, `hourLimit` 4,095), so 2.9 KB. Additions saturate (an hour read from the
/// files of a check that ran faster before), and a bucket never holds more failures than runs.
package struct BurnCounter: Sendable {
    /// Minutes the minute ring holds (6 hours).
    package static let minuteBuckets = 360
    /// The most runs (and failures) a minute bucket counts: one byte each.
    package static let minuteLimit = 255
    /// The most runs (and failures) an hour bucket counts: 12 bits each (a check runs at most
    /// 3,600 times an hour).
    package static let hourLimit = 4095
    /// The most runs (and failures) a two-byte hour bucket counts, one byte each: a check every
    /// `narrowFromMs` or slower runs at most 180 times an hour.
    package static let narrowHourLimit = 255
    /// The shortest interval whose hour buckets are two bytes (20 s).
    package static let narrowFromMs: Int64 = 20_000
    /// Bytes of a minute bucket.
    private static let minuteBytes = 2

    /// Bytes of an hour bucket for `policy`: two for a check every 20 s or slower, else three.
    package static func hourBytes(_ policy: SLOPolicy) -> Int {
        policy.intervalMs >= narrowFromMs ? 2 : 3
    }

    /// Whether the rings of `policy` have the layout of these (as many hour buckets, as wide):
    /// then the policy can change in place, else the counts move to new rings (`init(resizing:to:)`).
    package func hasLayout(of policy: SLOPolicy) -> Bool {
        Self.hourBuckets(policy) == hourCount && Self.hourBytes(policy) == Int(hourBytes)
    }

    /// Hours the hour ring holds for `policy`: its window, at least 3 days.
    package static func hourBuckets(_ policy: SLOPolicy) -> Int {
        Int(max(72, (policy.windowMs + UTCTime.msPerHour - 1) / UTCTime.msPerHour))
    }

    /// The objective the burn rates and the budget are measured against.
    package var policy: SLOPolicy
    /// `minuteBuckets` minute buckets of two bytes (runs, failures), then the hour buckets of three
    /// (runs in the low 12 bits of the little-endian 24-bit value, failures in the high 12).
    private var buckets: ContiguousArray<UInt8>
    /// Bytes of each hour bucket: 2 or 3 (`hourBytes(_:)` of the policy the rings were made for).
    private let hourBytes: UInt8
    /// The newest minute and hour the rings hold (ring index = minute or hour mod ring size).
    private(set) var lastMinute: Int64
    /// The newest hour the hour ring holds.
    private(set) var lastHour: Int64

    /// Empty rings whose newest minute and hour are those of `nowMs`.
    package init(policy: SLOPolicy, nowMs: Int64) {
        self.policy = policy
        hourBytes = UInt8(Self.hourBytes(policy))
        let bytes = Self.minuteBytes * Self.minuteBuckets + Self.hourBytes(policy) * Self.hourBuckets(policy)
        buckets = ContiguousArray(repeating: 0, count: bytes)
        lastMinute = Self.floorDiv(nowMs, 60_000)
        lastHour = Self.floorDiv(nowMs, UTCTime.msPerHour)
    }

    /// The counts of `old` under a new objective whose window needs another number of hour
    /// buckets, or buckets of another width: every minute, and as many of the newest hours as
    /// both rings hold (saturating in narrower buckets).
    package init(resizing old: BurnCounter, to policy: SLOPolicy) {
        self.init(policy: policy, nowMs: 0)
        lastMinute = old.lastMinute
        lastHour = old.lastHour
        for k in 0..<(Self.minuteBytes * Self.minuteBuckets) { buckets[k] = old.buckets[k] }
        for hour in (lastHour - Int64(min(hourCount, old.hourCount)) + 1)...lastHour {
            let (runs, bad) = old.hour(old.hourSlot(hour))
            setHour(hourSlot(hour), runs: min(runs, limit), bad: min(bad, limit))
        }
    }

    /// Bytes the rings take.
    var byteCount: Int { buckets.count }

    /// Hour buckets in the ring.
    var hourCount: Int { (buckets.count - Self.minuteBytes * Self.minuteBuckets) / Int(hourBytes) }

    /// The most runs (and failures) one of these hour buckets counts.
    var limit: Int { hourBytes == 2 ? Self.narrowHourLimit : Self.hourLimit }

    /// Moves the rings forward to `nowMs`, clearing the buckets that fall out (never backwards).
    package mutating func advance(to nowMs: Int64) {
        let minute = Self.floorDiv(nowMs, 60_000)
        if minute > lastMinute {
            let steps = min(Int64(Self.minuteBuckets), minute - lastMinute)
            for k in 1...steps { setMinute(minuteSlot(lastMinute + k), runs: 0, bad: 0) }
            lastMinute = minute
        }
        let hour = Self.floorDiv(nowMs, UTCTime.msPerHour)
        if hour > lastHour {
            let steps = min(Int64(hourCount), hour - lastHour)
            for k in 1...steps { setHour(hourSlot(lastHour + k), runs: 0, bad: 0) }
            lastHour = hour
        }
    }

    /// Counts a run that started at `timeMs`, moving the rings forward to it when it is newer than
    /// their newest minute; an older run still in the rings goes to its buckets.
    package mutating func add(timeMs: Int64, ok: Bool) {
        advance(to: timeMs)
        let minute = Self.floorDiv(timeMs, 60_000)
        if minute <= lastMinute, lastMinute - minute < Int64(Self.minuteBuckets) {
            let at = minuteSlot(minute)
            let (oldRuns, oldBad) = self.minute(at)
            let runs = min(Self.minuteLimit, oldRuns + 1)
            setMinute(at, runs: runs, bad: min(runs, oldBad + (ok ? 0 : 1)))
        }
        addHour(timeMs: timeMs, runs: 1, bad: ok ? 0 : 1)
    }

    /// Adds counts to the hour bucket holding `timeMs` (seeding from hour lines); an hour newer
    /// than the ring's newest or older than the ring is ignored.
    package mutating func addHour(timeMs: Int64, runs: UInt32, bad: UInt32) {
        let hour = Self.floorDiv(timeMs, UTCTime.msPerHour)
        guard hour <= lastHour, lastHour - hour < Int64(hourCount) else { return }
        let at = hourSlot(hour)
        let (oldRuns, oldBad) = self.hour(at)
        let limit = UInt32(self.limit)
        let total = min(limit, UInt32(oldRuns) + min(runs, limit))
        setHour(at, runs: Int(total), bad: Int(min(total, UInt32(oldBad) + min(bad, limit))))
    }

    /// Runs and failures over the `ms` before the end of the minute (or hour) of `atMs` — by default
    /// the rings' newest — in whole buckets. Buckets newer than the rings' newest count as empty, so
    /// reading at a later time is the same as moving the rings forward first, without writing.
    func sum(_ ms: Int64, atMs: Int64? = nil) -> (runs: Int64, bad: Int64) {
        var runs: Int64 = 0
        var bad: Int64 = 0
        if ms <= Int64(Self.minuteBuckets) * 60_000 {
            let end = min(lastMinute, atMs.map { Self.floorDiv($0, 60_000) } ?? lastMinute)
            let start = max(
                lastMinute - Int64(Self.minuteBuckets) + 1,
                (atMs.map { Self.floorDiv($0, 60_000) } ?? lastMinute) - (ms + 59_999) / 60_000 + 1)
            guard start <= end else { return (0, 0) }
            for minute in start...end {
                let bucket = self.minute(minuteSlot(minute))
                runs += Int64(bucket.runs)
                bad += Int64(bucket.bad)
            }
        } else {
            let at = atMs.map { Self.floorDiv($0, UTCTime.msPerHour) } ?? lastHour
            let end = min(lastHour, at)
            let wanted = min(Int64(hourCount), (ms + UTCTime.msPerHour - 1) / UTCTime.msPerHour)
            let start = max(lastHour - Int64(hourCount) + 1, at - wanted + 1)
            guard start <= end else { return (0, 0) }
            for hour in start...end {
                let bucket = self.hour(hourSlot(hour))
                runs += Int64(bucket.runs)
                bad += Int64(bucket.bad)
            }
        }
        return (runs, bad)
    }

    /// Counts of the window of `ms` ending with the minute (or hour) of `atMs`, by default the
    /// rings' newest.
    package func counts(_ ms: Int64, atMs: Int64? = nil) -> WindowCounts {
        let (runs, bad) = sum(ms, atMs: atMs)
        var counts = WindowCounts(fromMs: 0, toMs: ms)
        counts.runs = runs
        counts.good = runs - bad
        return counts
    }

    /// Burn rate per window at `atMs` (by default the rings' newest minute); windows with too few
    /// runs are absent.
    package func burnRates(atMs: Int64? = nil) -> [BurnWindow: Double] {
        var out: [BurnWindow: Double] = [:]
        for window in BurnWindow.allCases {
            if let rate = counts(window.milliseconds, atMs: atMs).burnRate(
                budget: policy.budget, minimumRuns: window.minimumRuns)
            {
                out[window] = rate
            }
        }
        return out
    }

    /// Share of the budget left over the objective's window at `atMs` (by default the rings'
    /// newest): 1 − failed runs ÷ the failures the objective allows over it (from the schedule,
    /// `ErrorBudget`); nil without runs.
    package func budgetRemaining(atMs: Int64? = nil) -> Double? {
        let window = counts(policy.windowMs, atMs: atMs)
        return window.runs > 0 ? ErrorBudget(policy: policy).remaining(failed: window.bad) : nil
    }

    /// Byte offset of a minute's bucket.
    private func minuteSlot(_ minute: Int64) -> Int {
        Self.minuteBytes * Int(Self.floorMod(minute, Int64(Self.minuteBuckets)))
    }

    /// Byte offset of an hour's bucket.
    private func hourSlot(_ hour: Int64) -> Int {
        Self.minuteBytes * Self.minuteBuckets + Int(hourBytes) * Int(Self.floorMod(hour, Int64(hourCount)))
    }

    private func minute(_ at: Int) -> (runs: Int, bad: Int) {
        (Int(buckets[at]), Int(buckets[at + 1]))
    }

    private mutating func setMinute(_ at: Int, runs: Int, bad: Int) {
        buckets[at] = UInt8(truncatingIfNeeded: runs)
        buckets[at + 1] = UInt8(truncatingIfNeeded: bad)
    }

    private func hour(_ at: Int) -> (runs: Int, bad: Int) {
        if hourBytes == 2 { return (Int(buckets[at]), Int(buckets[at + 1])) }
        let value = Int(buckets[at]) | Int(buckets[at + 1]) << 8 | Int(buckets[at + 2]) << 16
        return (value & 0xFFF, value >> 12)
    }

    private mutating func setHour(_ at: Int, runs: Int, bad: Int) {
        if hourBytes == 2 {
            buckets[at] = UInt8(truncatingIfNeeded: runs)
            buckets[at + 1] = UInt8(truncatingIfNeeded: bad)
            return
        }
        let value = (runs & 0xFFF) | (bad & 0xFFF) << 12
        buckets[at] = UInt8(truncatingIfNeeded: value)
        buckets[at + 1] = UInt8(truncatingIfNeeded: value >> 8)
        buckets[at + 2] = UInt8(truncatingIfNeeded: value >> 16)
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    private static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
        let r = a % b
        return r < 0 ? r + b : r
    }
}
