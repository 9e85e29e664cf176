import Foundation

/// Whether run durations fall into two clearly separated modes (README.md, "sonde incidents",
/// Findings): a fast path and a slow one, as when a share of requests takes a slow code path.
///
/// The rule, on the durations in log space (so 7 ms and 2 s are as far apart as 7 s and 2,000 s):
/// sort them and split at the widest gap between neighbours among the splits that leave at least
/// `minimumShare` of the runs (and at least 3) on each side. The two sides are the modes; each
/// mode's centre is its median. The durations are **bimodal** when the slow centre is at least
/// `minimumRatio` × the fast one, and the gap itself — the fastest slow run ÷ the slowest fast
/// run — is at least `minimumGap` × and at least half as wide (in log space) as the spread of
/// the larger mode from its 10th to its 90th percentile: two modes are clearly apart, not the two
/// ends of one wide mode. Fewer than `minimumRuns` durations: too few to say.
package struct LatencyModes: Sendable, Equatable {
    /// Durations needed before anything is said.
    package static let minimumRuns = 10
    /// Slow centre ÷ fast centre at least this.
    package static let minimumRatio = 10.0
    /// The smaller mode holds at least this share of the runs.
    package static let minimumShare = 0.05
    /// The fastest slow run ÷ the slowest fast run at least this.
    package static let minimumGap = 2.0

    /// What the rule says of a series.
    package enum Verdict: Sendable, Equatable {
        /// Fewer durations than `minimumRuns`.
        case tooFew(runs: Int)
        /// One mode (or two that are not clearly separated).
        case unimodal(runs: Int)
        /// Two modes.
        case bimodal(LatencyModes)
    }

    /// Durations the split was made on.
    package var runs: Int
    /// Runs in the slow mode.
    package var slowRuns: Int
    /// Median of each mode, ms.
    package var fastMs: Double
    package var slowMs: Double
    /// The slowest fast run and the fastest slow run, ms: a run at or above `slowFromMs` is slow.
    package var fastUpToMs: Double
    package var slowFromMs: Double

    /// Share of the runs in the slow mode (0…1).
    package var slowShare: Double { runs == 0 ? 0 : Double(slowRuns) / Double(runs) }

    /// The verdict on `durations` (ms, any order; values ≤ 0 and non-finite ones are left out).
    package static func classify(_ durations: [Double]) -> Verdict {
        let sorted = durations.filter { $0 > 0 && $0.isFinite }.sorted()
        let n = sorted.count
        guard n >= minimumRuns else { return .tooFew(runs: n) }
        let smallest = max(3, Int((minimumShare * Double(n)).rounded(.up)))
        guard n >= 2 * smallest else { return .unimodal(runs: n) }
        let logs = sorted.map { Foundation.log($0) }
        // Split after index i: fast = [0...i], slow = [i+1...].
        var best: (index: Int, gap: Double)?
        for i in (smallest - 1)...(n - smallest - 1) {
            let gap = logs[i + 1] - logs[i]
            if gap > (best?.gap ?? -1) { best = (i, gap) }
        }
        guard let best else { return .unimodal(runs: n) }
        let fast = Array(sorted[0...best.index])
        let slow = Array(sorted[(best.index + 1)...])
        let modes = LatencyModes(
            runs: n, slowRuns: slow.count, fastMs: median(fast), slowMs: median(slow),
            fastUpToMs: fast[fast.count - 1], slowFromMs: slow[0])
        let larger = fast.count >= slow.count ? Array(logs[0...best.index]) : Array(logs[(best.index + 1)...])
        let spread = larger[(larger.count - 1) * 9 / 10] - larger[(larger.count - 1) / 10]
        guard modes.slowMs >= minimumRatio * modes.fastMs, modes.slowFromMs >= minimumGap * modes.fastUpToMs,
            best.gap >= 0.5 * spread
        else {
            return .unimodal(runs: n)
        }
        return .bimodal(modes)
    }

    /// Whether a run of `ms` belongs to the slow mode: at or above the geometric middle of the gap.
    package func isSlow(_ ms: Double) -> Bool {
        ms >= (fastUpToMs * slowFromMs).squareRoot()
    }

    /// The median of a sorted, non-empty array (the mean of the middle two for an even count).
    static func median(_ sorted: [Double]) -> Double {
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
