import SondeScript
import SondeSupport

/// One stretch of time an `@alert` rule held at one location, from the run it started at to the
/// run it ended at (README.md, "Threshold alerts"); what `sonde incidents` and `sonde report` list.
package struct ThresholdEpisode: Sendable, Equatable {
    package var check: String
    package var location: String
    package var rule: ThresholdRule
    package var startedMs: Int64
    /// Nil while the rule still holds.
    package var endedMs: Int64?
    /// The value that crossed the threshold at the start, in the metric's unit.
    package var value: Double
    /// The worst value while it held.
    package var peak: Double

    /// An episode from its parts.
    package init(
        check: String, location: String, rule: ThresholdRule, startedMs: Int64, endedMs: Int64?, value: Double,
        peak: Double
    ) {
        self.check = check
        self.location = location
        self.rule = rule
        self.startedMs = startedMs
        self.endedMs = endedMs
        self.value = value
        self.peak = peak
    }

    /// End minus start; while ongoing, `nowMs` minus start.
    package func durationMs(nowMs: Int64) -> Int64 { (endedMs ?? nowMs) - startedMs }

    /// Whether the episode overlaps `[fromMs, toMs)`.
    package func overlaps(fromMs: Int64, toMs: Int64) -> Bool {
        startedMs < toMs && (endedMs ?? Int64.max) > fromMs
    }
}
