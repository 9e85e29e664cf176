import SondeProbe
import SondeScript
import SondeStore
import SondeSupport

/// What happened in one window of one check: counts that add up from hour rollups and raw runs,
/// and the SLO figures derived from them (README.md, "sonde report").
package struct WindowCounts: Sendable, Equatable {
    /// The window, `[from, to)`, epoch ms.
    var fromMs: Int64
    /// End of the window (not included), epoch ms.
    var toMs: Int64
    package var runs: Int64 = 0
    package var good: Int64 = 0
    /// Good runs under the latency threshold (all good runs without `@latency`).
    package var fast: Int64 = 0
    package var errors: [String: Int64] = [:]
    /// Distinct minutes in which a run started (at any location).
    package var minutesWithRuns: Int64 = 0
    package var histogram = LatencyHistogram()
    /// Sum of the run durations, ms.
    var sumMs: Double = 0
    package var phaseSums = PhaseSums()
    /// Runs in maintenance windows: in no other figure.
    package var maintenance: Int64 = 0

    package init(fromMs: Int64, toMs: Int64) {
        self.fromMs = fromMs
        self.toMs = toMs
    }

    /// Adds the pieces of one hour of the window (one per location: a whole hour, or the runs of a
    /// partial hour). A minute counts once however many locations or runs it holds.
    package mutating func add(hour pieces: some Sequence<HourRollup>) {
        var covered: UInt64 = 0
        for piece in pieces {
            add(piece, countingMinutes: false)
            covered |= piece.minutes
        }
        minutesWithRuns += Int64(covered.nonzeroBitCount)
    }

    /// Adds one piece of the window: one hour at one location (a whole hour, or the runs of a
    /// partial hour).
    package mutating func add(_ piece: HourRollup) {
        add(piece, countingMinutes: true)
    }

    private mutating func add(_ piece: HourRollup, countingMinutes: Bool) {
        runs += piece.runs
        maintenance += piece.maintenance
        good += piece.good
        fast += piece.fast
        for (kind, count) in piece.errors { errors[kind, default: 0] += count }
        if countingMinutes { minutesWithRuns += Int64(piece.minutes.nonzeroBitCount) }
        histogram.merge(piece.histogram)
        sumMs += piece.sumMs
        phaseSums.dns += piece.phaseSums.dns
        phaseSums.connect += piece.phaseSums.connect
        phaseSums.tls += piece.phaseSums.tls
        phaseSums.ttfb += piece.phaseSums.ttfb
        phaseSums.transfer += piece.phaseSums.transfer
    }

    /// Length of the window, ms.
    var spanMs: Int64 { max(0, toMs - fromMs) }

    /// Failed runs.
    package var bad: Int64 { runs - good }

    /// Good runs ÷ runs; nil without runs (no data is neither up nor down).
    package var availability: Double? { runs > 0 ? Double(good) / Double(runs) : nil }

    /// Good and fast runs ÷ runs; nil without runs.
    package var latencySLI: Double? { runs > 0 ? Double(fast) / Double(runs) : nil }

    /// Share of the window the prober watched: each minute with a run covers one interval (at least
    /// a minute), capped at the window.
    package func coverage(intervalMs: Int64) -> Double {
        guard spanMs > 0 else { return 0 }
        let step = max(60_000, intervalMs)
        return min(1, Double(minutesWithRuns) * Double(step) / Double(spanMs))
    }

    /// Failed runs ÷ runs; nil without runs.
    var errorRatio: Double? { runs > 0 ? Double(bad) / Double(runs) : nil }

    /// Error ratio ÷ error budget; nil below `minimumRuns` runs (insufficient data).
    func burnRate(budget: Double, minimumRuns: Int64 = 1) -> Double? {
        guard runs >= max(1, minimumRuns), budget > 0, let errorRatio else { return nil }
        return errorRatio / budget
    }

    /// Mean run duration, ms.
    package var meanMs: Double? { runs > 0 ? sumMs / Double(runs) : nil }
}
