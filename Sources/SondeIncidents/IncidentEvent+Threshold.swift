import SondeScript
import SondeSupport

extension IncidentEvent {
    /// The `alert_started` / `alert_ended` event of a threshold rule's transition (docs/data-format.md,
    /// "Incident events"): the rule as written, its severity, and the value that crossed it (or no
    /// longer did) over how many runs.
    package static func threshold(
        _ transition: ThresholdEvaluator.Transition, check: String, location: String
    ) -> IncidentEvent {
        func rounded(_ v: Double) -> Value { .float((v * 1000).rounded() / 1000) }
        func common(_ rule: ThresholdRule, _ value: Double, _ runs: Int) -> [(key: String, value: Value)] {
            [
                ("rule", .string(rule.text)), ("metric", .string(rule.metric.rawValue)),
                ("severity", .string(rule.severity.rawValue)), ("value", rounded(value)),
                ("value_text", .string(rule.format(value))), ("threshold", rounded(rule.threshold)),
                ("window", .string(ThresholdRule.durationText(rule.windowMs))), ("runs", .integer(Int64(runs))),
            ]
        }
        switch transition {
        case .started(let rule, let timeMs, let value, let runs):
            return IncidentEvent(
                timeMs: timeMs, kind: .alertStarted, check: check, location: location,
                fields: common(rule, value, runs))
        case .ended(let rule, let timeMs, let value, let runs, let startedMs, let peak):
            return IncidentEvent(
                timeMs: timeMs, kind: .alertEnded, check: check, location: location,
                fields: common(rule, value, runs) + [
                    ("started", .string(UTCTime.rfc3339(startedMs))), ("duration_ms", .integer(timeMs - startedMs)),
                    ("peak", rounded(peak)), ("peak_text", .string(rule.format(peak))),
                ])
        }
    }

    /// The rule text of an `alert_started` / `alert_ended` event.
    package var ruleText: String? {
        if case .string(let s)? = self["rule"] { return s }
        return nil
    }
}
