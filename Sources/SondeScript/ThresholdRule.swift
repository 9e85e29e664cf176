import SondeSupport

/// `# @alert METRIC OP VALUE for DURATION [SEVERITY]`: a threshold over the runs of a trailing
/// window (docs/check-format.md, "Threshold alerts"). The rule holds at a run when the metric,
/// computed over the runs of `(t − window, t]`, compares to the threshold as `comparison` says.
package struct ThresholdRule: Sendable, Equatable, CustomStringConvertible {
    /// What a rule measures over its window.
    package enum Metric: String, Sendable, CaseIterable {
        /// Median run duration of the passed runs.
        case p50
        /// 95th percentile of the passed runs' durations.
        case p95
        /// 99th percentile of the passed runs' durations.
        case p99
        /// Mean run duration of the passed runs.
        case mean
        /// 95th percentile of the passed runs' time to first byte (summed over the run's requests).
        case ttfbP95 = "ttfb-p95"
        /// Share of failed runs, percent.
        case errorRate = "error-rate"
        /// Failed runs: over the window, or per `per` (`10/1m`).
        case failures

        /// Whether the metric is a duration of passed runs (milliseconds) rather than a count of runs.
        package var isLatency: Bool {
            switch self {
            case .p50, .p95, .p99, .mean, .ttfbP95: return true
            case .errorRate, .failures: return false
            }
        }

        /// The quantile of a percentile metric (0.95 for `p95` and `ttfb-p95`); nil for the others.
        package var quantile: Double? {
            switch self {
            case .p50: return 0.5
            case .p95, .ttfbP95: return 0.95
            case .p99: return 0.99
            case .mean, .errorRate, .failures: return nil
            }
        }
    }

    /// How the metric is compared with the threshold.
    package enum Comparison: String, Sendable, CaseIterable {
        case above = ">"
        case atLeast = ">="
        case below = "<"
        case atMost = "<="

        /// Whether `value` compared with `threshold` holds.
        package func holds(_ value: Double, _ threshold: Double) -> Bool {
            switch self {
            case .above: return value > threshold
            case .atLeast: return value >= threshold
            case .below: return value < threshold
            case .atMost: return value <= threshold
            }
        }

        /// Whether `a` is further past the threshold than `b` (the worse of two values).
        package func worse(_ a: Double, than b: Double) -> Bool {
            switch self {
            case .above, .atLeast: return a > b
            case .below, .atMost: return a < b
            }
        }
    }

    /// How urgent a firing rule is.
    package enum Severity: String, Sendable, CaseIterable {
        case critical
        case warning
    }

    package var metric: Metric
    package var comparison: Comparison
    /// Milliseconds for latency metrics, percent for `error-rate`, failed runs (per `perMs`, or over
    /// the window) for `failures`.
    package var threshold: Double
    /// For `failures` written as a rate (`10/1m`): the length the count is per; nil for a count over
    /// the window and for the other metrics.
    package var perMs: Int64?
    /// The trailing window, milliseconds (`for 5m`).
    package var windowMs: Int64
    package var severity: Severity
    /// The rule as written, words separated by one space: `p95 > 2s for 5m critical`. It names the
    /// rule in events, logs, webhooks and Alertmanager's `rule` label.
    package var text: String
    /// Where the rule's window is written (for errors found once every directive is read); not part
    /// of the rule's identity.
    package var windowLocation: SourceLocation

    /// A rule from its parts; `text` is the rule as written.
    package init(
        metric: Metric, comparison: Comparison, threshold: Double, perMs: Int64? = nil, windowMs: Int64,
        severity: Severity = .warning, text: String, windowLocation: SourceLocation = SourceLocation(line: 0, column: 0)
    ) {
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.perMs = perMs
        self.windowMs = windowMs
        self.severity = severity
        self.text = text
        self.windowLocation = windowLocation
    }

    /// The fewest runs a window must hold for the rule to be evaluated (passed runs for latency
    /// metrics); with fewer, the rule has insufficient data and its state does not change.
    package static let minimumRuns = 3
    /// The shortest window a rule may have.
    package static let minimumWindowMs: Int64 = 5_000

    /// The rule as written.
    package var description: String { text }

    /// Equal rules measure the same thing the same way; where they are written does not matter.
    package static func == (a: ThresholdRule, b: ThresholdRule) -> Bool {
        a.metric == b.metric && a.comparison == b.comparison && a.threshold == b.threshold && a.perMs == b.perMs
            && a.windowMs == b.windowMs && a.severity == b.severity && a.text == b.text
    }

    /// `value` in the metric's unit, for people: `2.31 s`, `412 ms`, `7.5%`, `12 failures`,
    /// `10.4 failures/1m`.
    package func format(_ value: Double) -> String {
        func trimmed(_ v: Double, _ decimals: Int) -> String {
            var scale = 1.0
            for _ in 0..<decimals { scale *= 10 }
            let rounded = (v * scale).rounded() / scale
            if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int64(rounded)) }
            return String(rounded)
        }
        switch metric {
        case .p50, .p95, .p99, .mean, .ttfbP95:
            return value >= 1000 ? trimmed(value / 1000, 2) + " s" : trimmed(value, 1) + " ms"
        case .errorRate:
            return trimmed(value, 2) + "%"
        case .failures:
            if let perMs { return trimmed(value, 2) + " failures/" + Self.durationText(perMs) }
            return trimmed(value, 2) + (value == 1 ? " failure" : " failures")
        }
    }

    /// `5m`, `90s`, `1h30m`, `500ms`: a length of time as the directives write it.
    package static func durationText(_ ms: Int64) -> String { DurationText.compound(ms) }
}
