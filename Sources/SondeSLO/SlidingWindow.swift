import SondeSupport

/// Exact run and failure counts over a sliding window `(t − length, t]` of runs fed in time order:
/// the burn rate at every run, not once a bucket. Keeps the runs of one window (an hour at one run a
/// second is 3,600 entries), so it is for offline replays (`sonde incidents`), not the live prober.
package struct SlidingWindow: Sendable {
    /// The window's length, ms.
    package let lengthMs: Int64
    private var times: [Int64] = []
    private var failed: [Bool] = []
    private var head = 0
    /// Runs in the window.
    package private(set) var runs: Int64 = 0
    /// Failed runs in the window.
    package private(set) var bad: Int64 = 0

    /// An empty window of `lengthMs`.
    package init(lengthMs: Int64) {
        self.lengthMs = lengthMs
    }

    /// Adds a run that started at `timeMs` (not before the previous one) and drops the runs that
    /// fall out of `(timeMs − length, timeMs]`.
    package mutating func add(timeMs: Int64, ok: Bool) {
        times.append(timeMs)
        failed.append(!ok)
        runs += 1
        if !ok { bad += 1 }
        while head < times.count, times[head] <= timeMs - lengthMs {
            runs -= 1
            if failed[head] { bad -= 1 }
            head += 1
        }
        // Compacted in batches: amortised O(1) per run.
        if head >= 1024, head * 2 >= times.count {
            times.removeFirst(head)
            failed.removeFirst(head)
            head = 0
        }
    }

    /// Error ratio ÷ `budget` over the window; nil below `minimumRuns` runs (insufficient data).
    package func burnRate(budget: Double, minimumRuns: Int64) -> Double? {
        var counts = WindowCounts(fromMs: 0, toMs: lengthMs)
        counts.runs = runs
        counts.good = runs - bad
        return counts.burnRate(budget: budget, minimumRuns: minimumRuns)
    }
}
