import Foundation
import SondeProbe
import SondeScript
import SondeStore
import SondeSupport

/// The figures of one check for `sonde status`: its state by the latest run, and counts over the
/// last 24 hours, `(now − 24 h, now]`, computed from the raw runs (exact, not from hour histograms).
///
/// Runs of several locations in one data folder are merged: the state is the latest run's,
/// whatever its location; counts and the p95 cover every location.
package struct CheckStatus: Sendable, Equatable {
    /// What the latest run says about a check.
    package enum State: String, Sendable, Equatable {
        /// The latest run passed.
        case up
        /// The latest run failed.
        case down
        /// No run at all, or the latest run is stale: the prober is not running.
        case noData = "no data"
    }

    /// The window of the counts: 24 hours.
    package static let windowMs: Int64 = UTCTime.msPerDay
    /// A latest run older than this many typical intervals is stale.
    static let staleIntervals: Int64 = 3
    /// The smallest stale threshold, whatever the interval.
    static let minimumStaleMs: Int64 = 60_000
    /// The interval assumed when a check has fewer than two recent runs (`@every`'s default).
    static let defaultIntervalMs: Int64 = 60_000
    /// How many of the latest runs (of the latest run's location) the typical interval looks at.
    static let intervalSample = 21

    /// The check's name (its folder in the data folder).
    package var check: String
    /// Up, down or no data, by the latest run.
    package var state: State
    /// The latest run (any location), `nil` when the check has none.
    package var lastRun: RunRecord?
    /// Milliseconds from the latest run's start to `now` (never negative).
    package var ageMs: Int64?
    /// Median gap between the recent runs of the latest run's location, `nil` when under two runs.
    var typicalIntervalMs: Int64?
    /// Age past which the latest run is stale: `max(3 × interval, 60 s)`.
    var staleAfterMs: Int64 = CheckStatus.staleIntervals * CheckStatus.defaultIntervalMs
    /// Runs started in `(now − 24 h, now]`: the window of `sonde report`.
    package var runs: Int = 0
    /// Good runs among `runs`.
    package var good: Int = 0
    /// 95th percentile of the run durations in the window (nearest rank), ms; `nil` without runs.
    package var p95Ms: Double?

    /// The failure to show: the latest run's, only when the check is down.
    package var lastError: RunError? {
        state == .down ? lastRun?.error : nil
    }

    /// The status of `check` at `now`. Lines the reader skipped are added to `stats`, each file
    /// counted once.
    package static func compute(check: String, reader: RunReader, now: Date, stats: inout ReadStats) -> CheckStatus {
        let nowMs = UTCTime.milliseconds(now)
        let from = nowMs - windowMs + 1  // (now − 24 h, now], as in `sonde report`
        // One streaming pass over the window: counts, durations and recent start times per
        // location (a day file may hold millions of lines; no records are kept).
        var windowStats = ReadStats()
        var runs = 0
        var good = 0
        var durations: [Double] = []
        var latest: RunRecord?
        var recentTimes: [String: [Int64]] = [:]
        reader.forEachRun(check: check, from: from, to: nowMs + 1, stats: &windowStats) { record in
            if record.maintenance == nil {  // maintenance runs are not in the uptime
                runs += 1
                if record.ok { good += 1 }
            }
            durations.append(record.durationMs)
            if latest == nil || record.time >= latest!.time { latest = record }
            Self.keepRecent(record, in: &recentTimes)
        }
        var lastStats = ReadStats()
        let last = latest ?? reader.lastRun(check: check, stats: &lastStats)
        stats.merge(latest == nil ? lastStats : windowStats)

        var status = CheckStatus(
            check: check, state: .noData, runs: runs, good: good,
            p95Ms: Percentile.nearestRank(0.95, sorted: durations.sorted()))
        guard let last else { return status }

        if latest == nil {
            var ignored = ReadStats()  // older files: not part of what the table counts
            recentTimes = [:]
            reader.forEachRun(check: check, from: last.time - windowMs, to: last.time + 1, stats: &ignored) { record in
                Self.keepRecent(record, in: &recentTimes)
            }
        }
        let interval = typicalInterval(recentTimes[last.location] ?? [])
        let age = max(0, nowMs - last.time)
        status.lastRun = last
        status.ageMs = age
        status.typicalIntervalMs = interval
        status.staleAfterMs = max(staleIntervals * (interval ?? defaultIntervalMs), minimumStaleMs)
        if age > status.staleAfterMs {
            status.state = .noData
        } else {
            status.state = last.ok ? .up : .down
        }
        return status
    }

    /// Median of the gaps between the last `intervalSample` start times (sorted), ignoring
    /// zero gaps; `nil` with fewer than two distinct times.
    /// Keeps the latest start times per location, enough for `typicalInterval`.
    static func keepRecent(_ record: RunRecord, in times: inout [String: [Int64]]) {
        times[record.location, default: []].append(record.time)
        if let count = times[record.location]?.count, count > 4 * intervalSample {
            let kept = times[record.location, default: []].sorted().suffix(intervalSample)
            times[record.location] = Array(kept)
        }
    }

    /// The median gap between the last 21 run start times (ms); `nil` with fewer than two distinct times.
    static func typicalInterval(_ times: [Int64]) -> Int64? {
        let sorted = times.sorted().suffix(intervalSample)
        let gaps = zip(sorted, sorted.dropFirst()).map { $1 - $0 }.filter { $0 > 0 }.sorted()
        guard !gaps.isEmpty else { return nil }
        let middle = gaps.count / 2
        return gaps.count % 2 == 1 ? gaps[middle] : (gaps[middle - 1] + gaps[middle]) / 2
    }
}
