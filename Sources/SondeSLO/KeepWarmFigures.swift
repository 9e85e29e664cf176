import SondeScript
import SondeStore
import SondeSupport

/// How well a check with `@keep-warm` kept its target awake over a window (README.md, "Keeping a
/// sleeping service warm"): its cold starts, the gaps in the prober's own coverage longer than the
/// target's idle time, and the share of time covered by gaps shorter than it. Runs of every location
/// count: any request keeps the target awake.
package struct KeepWarmFigures: Sendable, Equatable {
    /// A stretch without a run longer than the idle time: the target may have slept.
    package struct Gap: Sendable, Equatable {
        /// The run before the gap (epoch ms).
        package var fromMs: Int64
        /// The next run, or the end of the window when none came (epoch ms).
        package var toMs: Int64
        /// Length of the gap, ms.
        package var lengthMs: Int64 { toMs - fromMs }
    }

    /// A run whose time to first byte is above both 1 s and 10 × the median.
    package struct ColdStart: Sendable, Equatable {
        /// When the run started, epoch ms.
        package var timeMs: Int64
        /// Its time to first byte, ms.
        package var ttfbMs: Double
    }

    /// The window the report looks back over.
    package static let windowMs: Int64 = 7 * UTCTime.msPerDay
    /// A cold start's time to first byte is above this, ms…
    package static let coldFloorMs: Double = 1000
    /// …and above this many times the check's median.
    package static let coldFactor: Double = 10

    /// `@keep-warm`, ms.
    package var idleMs: Int64
    /// The first run in the window (epoch ms): coverage is counted from it.
    package var fromMs: Int64
    /// The end of the window (epoch ms).
    package var toMs: Int64
    /// Runs in the window.
    package var runs: Int
    /// Median time to first byte of the runs' first request, ms; nil when no run got a byte.
    package var medianTTFBMs: Double?
    /// The cold starts, oldest first.
    package var coldStarts: [ColdStart]
    /// The gaps longer than the idle time, oldest first (the last one may run to the window's end).
    package var gaps: [Gap]
    /// Share of `[fromMs, toMs)` covered by gaps between runs shorter than the idle time (0…1).
    package var warmShare: Double

    /// The figures for `runs` (any order) over `[windowFrom, toMs)`; nil when no run fell in it.
    package static func compute(
        runs all: [RunRecord], idle: Duration, windowFrom: Int64, toMs: Int64
    ) -> KeepWarmFigures? {
        let runs = all.filter { $0.time >= windowFrom && $0.time < toMs }.sorted { $0.time < $1.time }
        guard let first = runs.first else { return nil }
        let idleMs = idle.components.seconds * 1000
        let ttfbs = runs.compactMap { run -> (Int64, Double)? in
            guard let step = run.steps.first, step.timings.ttfb > 0 else { return nil }
            return (run.time, step.timings.ttfb)
        }
        let median = Percentile.nearestRank(0.5, sorted: ttfbs.map(\.1).sorted())
        var cold: [ColdStart] = []
        if let median {
            for (time, ttfb) in ttfbs where ttfb > coldFloorMs && ttfb > coldFactor * median {
                cold.append(ColdStart(timeMs: time, ttfbMs: ttfb))
            }
        }
        var gaps: [Gap] = []
        var warm: Int64 = 0
        let times = runs.map(\.time) + [toMs]
        for (a, b) in zip(times, times.dropFirst()) {
            if b - a < idleMs { warm += b - a } else if b - a > idleMs { gaps.append(Gap(fromMs: a, toMs: b)) }
        }
        let span = toMs - first.time
        return KeepWarmFigures(
            idleMs: idleMs, fromMs: first.time, toMs: toMs, runs: runs.count, medianTTFBMs: median,
            coldStarts: cold, gaps: gaps, warmShare: span > 0 ? Double(warm) / Double(span) : 1)
    }

    /// The figures of every check in `settings` with `@keep-warm`, from the raw runs of the last
    /// `windowMs` before `nowMs` in `readers`.
    package static func forChecks(
        _ names: [String], readers: [RunReader], settings: [String: MonitorSettings], nowMs: Int64
    ) -> [String: KeepWarmFigures] {
        var out: [String: KeepWarmFigures] = [:]
        for name in names {
            guard let warm = settings[name]?.keepWarm else { continue }
            var stats = ReadStats()
            let runs = readers.flatMap { $0.runs(check: name, from: nowMs - windowMs, to: nowMs + 1, stats: &stats) }
            out[name] = compute(runs: runs, idle: warm.idle, windowFrom: nowMs - windowMs, toMs: nowMs)
        }
        return out
    }
}
