import SondeSLO
import SondeScript

extension PrometheusRules {
    /// The alert of a check's `@alert` rule.
    static let thresholdAlert = "SondeThreshold"

    /// Whether a rule has an expression on the exported metrics (`ttfb-p95` has no histogram).
    static func expressible(_ rule: ThresholdRule) -> Bool { rule.metric != .ttfbP95 }

    /// `SondeThreshold` for one `@alert` rule, per location: the metric over the rule's window compared
    /// with its threshold, when the window counted at least `ThresholdRule.minimumRuns` runs (passed
    /// runs for the latency metrics). It fires at once (no `for`): the window is the rule's duration.
    /// Percentiles come from the duration histogram's buckets (interpolated, where `sonde run` ranks
    /// the runs themselves), so the two may differ by up to a bucket's width.
    func thresholdAlert(_ check: Check, rule: ThresholdRule, selector: String) -> YAMLNode {
        let window = Self.duration(ms: rule.windowMs)
        let by = "sum by (check, location)"
        let passed = "\(by) (increase(sonde_run_duration_seconds_count{\(selector)}[\(window)]))"
        let all = "\(by) (increase(sonde_runs_total{\(selector)}[\(window)]))"
        let failed = "\(by) (increase(sonde_runs_total{\(selector),result!=\"success\"}[\(window)]))"
        let op = rule.comparison.rawValue
        var value: String
        var guardRuns = all
        switch rule.metric {
        case .p50, .p95, .p99, .ttfbP95:
            let q = PrometheusText.format(rule.metric.quantile ?? 0.95)
            value =
                "histogram_quantile(\(q), sum by (check, location, le) (rate(sonde_run_duration_seconds_bucket{\(selector)}[\(window)])))"
            guardRuns = passed
        case .mean:
            value =
                "\(by) (rate(sonde_run_duration_seconds_sum{\(selector)}[\(window)]))\n/ \(by) (rate(sonde_run_duration_seconds_count{\(selector)}[\(window)]))"
            guardRuns = passed
        case .errorRate:
            value = "(\n  \(failed)\n  or \(all) * 0\n)\n/ (\(all) > 0)"
        case .failures:
            value = "(\n  \(failed)\n  or \(all) * 0\n)"
            if let per = rule.perMs { value += " * \(PrometheusText.format(Double(per) / Double(rule.windowMs)))" }
        }
        let threshold: Double
        switch rule.metric {
        case .p50, .p95, .p99, .mean, .ttfbP95: threshold = rule.threshold / 1000
        case .errorRate: threshold = rule.threshold / 100
        case .failures: threshold = rule.threshold
        }
        let expression =
            "(\n\(value)\n) \(op) \(PrometheusText.format(threshold))\n"
            + "and on (check, location) \(guardRuns) >= \(ThresholdRule.minimumRuns)"
        let unit: String
        switch rule.metric {
        case .p50, .p95, .p99, .mean, .ttfbP95: unit = "{{ humanizeDuration $value }}"
        case .errorRate: unit = "{{ humanizePercentage $value }}"
        case .failures: unit = "{{ printf \"%.1f\" $value }}"
        }
        return .mapping([
            ("alert", .scalar(Self.thresholdAlert)),
            ("expr", .scalar(expression)),
            (
                "labels",
                .mapping([
                    ("check", .scalar(check.name)), ("rule", .scalar(rule.text)),
                    ("severity", .scalar(rule.severity.rawValue)),
                ])
            ),
            (
                "annotations",
                .mapping([
                    (
                        "summary",
                        .scalar("{{ $labels.check }} at {{ $labels.location }}: \(rule.metric.rawValue) is \(unit)")
                    ),
                    (
                        "description",
                        .scalar(
                            "@alert \(rule.text): \(rule.metric.rawValue) over the last \(window) of runs "
                                + "(at least \(ThresholdRule.minimumRuns) runs counted).")
                    ),
                ])
            ),
        ])
    }

    /// Rules no expression can carry, as `check: rule` (named in the file's header).
    var inexpressible: [String] {
        checks.flatMap { check in check.alerts.filter { !Self.expressible($0) }.map { "\(check.name): \($0.text)" } }
    }
}
