import SondeProbe
import SondeScript
import SondeSupport

/// The objectives a check is measured against (docs/check-format.md, "Monitor directives";
/// README.md, "sonde report"): `@slo` and `@latency`, and the interval that tells how much of a
/// window its runs cover.
package struct SLOPolicy: Sendable, Equatable {
    /// Availability objective as a ratio (99.9% → 0.999).
    package var objective: Double
    /// The objective's rolling window.
    package var windowMs: Int64
    /// Latency SLI threshold in ms (`@latency 500ms 99%` → 500), nil without `@latency`.
    package var latencyThresholdMs: Double?
    /// Latency objective as a ratio (0.99), nil without `@latency`.
    package var latencyObjective: Double?
    /// How often the check runs (`@every`), ms.
    package var intervalMs: Int64

    package init(
        objective: Double = 0.999, windowMs: Int64 = 30 * UTCTime.msPerDay, latencyThresholdMs: Double? = nil,
        latencyObjective: Double? = nil, intervalMs: Int64 = 60_000
    ) {
        self.objective = objective
        self.windowMs = windowMs
        self.latencyThresholdMs = latencyThresholdMs
        self.latencyObjective = latencyObjective
        self.intervalMs = intervalMs
    }

    /// The policy of a check script's directives.
    package init(settings: MonitorSettings) {
        // 99.9 / 100 is 0.9990000000000001 in binary; round to 10 digits so figures print cleanly.
        self.init(
            objective: (settings.slo.target * 1e8).rounded() / 1e10, windowMs: Int64(settings.slo.window.milliseconds),
            latencyThresholdMs: settings.latency.map { $0.threshold.milliseconds },
            latencyObjective: settings.latency.map { ($0.target * 1e8).rounded() / 1e10 },
            intervalMs: Int64(settings.every.milliseconds))
    }

    /// The error budget: the share of runs allowed to fail (1 − objective, to 12 digits: 1 − 0.999
    /// is 0.0010000000000000009 in binary).
    package var budget: Double { ((1 - objective) * 1e12).rounded() / 1e12 }
}
