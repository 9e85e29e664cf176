import SondeAlerts
import SondeIncidents
import SondeSupport

/// How incident events become Alertmanager alerts: an open incident is `SondeCheckDown`
/// (severity `page`), a firing burn-rate alert is `SondeErrorBudgetBurn` (severity `page` or
/// `ticket`, the level of the burn alert), a certificate within `@cert-expiry` is
/// `SondeCertExpiring` (severity `warning`), a firing `@alert` rule is `SondeThreshold` (labels
/// `rule`, the rule as written, and `severity`, `critical` or `warning`); all carry `check` and
/// `location`.
enum IncidentAlerts {
    /// The alert name of an open incident.
    static let checkDown = "SondeCheckDown"
    /// The alert name of a firing burn-rate alert.
    static let budgetBurn = "SondeErrorBudgetBurn"
    /// The alert name of a certificate that expires within `@cert-expiry`.
    static let certExpiring = "SondeCertExpiring"
    /// The alert name of a firing `@alert` threshold rule.
    static let threshold = "SondeThreshold"

    /// What `event` asks of Alertmanager.
    enum Action: Sendable, Equatable {
        /// Start (or replace) the alert known by `key`.
        case fire(key: String, alert: AlertmanagerAlert)
        /// End the alert known by `key` at `atMs`.
        case resolve(key: String, atMs: Int64)
    }

    /// The key of a check's alert of one name, unique within one prober.
    static func key(_ alertname: String, check: String) -> String { "\(alertname)|\(check)" }

    /// The action for `event`; nil for events Alertmanager does not hear about (flapping, alert sent).
    /// `budgetRemaining` (the check's share of its error budget left, as in webhooks) becomes the
    /// `budget_remaining` annotation of a firing alert.
    static func action(for event: IncidentEvent, budgetRemaining: Double? = nil) -> Action? {
        func field(_ name: String) -> String? {
            switch event[name] {
            case .string(let s)?: return s
            case .integer(let i)?: return String(i)
            default: return nil
            }
        }
        func time(_ name: String) -> Int64? {
            guard let text = field(name) else { return nil }
            return Array(text.utf8).withUnsafeBufferPointer(UTCTime.parseRFC3339)
        }
        switch event.kind {
        case .opened:
            var annotations = ["summary": IncidentNotification.text(event)]
            if let message = field("msg"), !message.isEmpty { annotations["error"] = message }
            if let kind = field("kind") { annotations["kind"] = kind }
            if let started = field("started") { annotations["started"] = started }
            if let detected = field("detected") { annotations["detected"] = detected }
            if let budgetRemaining { annotations["budget_remaining"] = budgetText(budgetRemaining) }
            if let incident = event.incident {
                annotations["incident"] = incident
                annotations["writeup"] = "reports/incidents/\(incident).md"
            }
            let alert = AlertmanagerAlert(
                labels: ["alertname": checkDown, "check": event.check, "location": event.location, "severity": "page"],
                annotations: annotations, startsAtMs: time("started") ?? event.timeMs)
            return .fire(key: key(checkDown, check: event.check), alert: alert)
        case .resolved:
            return .resolve(key: key(checkDown, check: event.check), atMs: time("resolved") ?? event.timeMs)
        case .burnAlertStarted:
            let severity = field("level") == "ticket" ? "ticket" : "page"
            var annotations = [
                "summary": IncidentNotification.text(event),
                "detected": UTCTime.rfc3339(event.timeMs),
            ]
            if case .list(let items)? = event["rules"] {
                let rules = items.compactMap { item -> String? in
                    if case .string(let s) = item { return s } else { return nil }
                }
                if !rules.isEmpty { annotations["rules"] = rules.joined(separator: "; ") }
            }
            if let budgetRemaining { annotations["budget_remaining"] = budgetText(budgetRemaining) }
            let alert = AlertmanagerAlert(
                labels: [
                    "alertname": budgetBurn, "check": event.check, "location": event.location,
                    "severity": severity,
                ],
                annotations: annotations, startsAtMs: event.timeMs)
            return .fire(key: key(budgetBurn, check: event.check), alert: alert)
        case .burnAlertEnded:
            return .resolve(key: key(budgetBurn, check: event.check), atMs: event.timeMs)
        case .certExpiring:
            var annotations = ["summary": IncidentNotification.text(event)]
            for name in ["subject", "issuer", "expires"] { annotations[name] = field(name) }
            if case .float(let days)? = event["days_left"] { annotations["days_left"] = String(format: "%.3f", days) }
            let alert = AlertmanagerAlert(
                labels: [
                    "alertname": certExpiring, "check": event.check, "location": event.location,
                    "severity": "warning",
                ],
                annotations: annotations.compactMapValues { $0 }, startsAtMs: event.timeMs)
            return .fire(key: key(certExpiring, check: event.check), alert: alert)
        case .certRenewed:
            return .resolve(key: key(certExpiring, check: event.check), atMs: event.timeMs)
        case .alertStarted:
            let rule = field("rule") ?? ""
            var annotations = ["summary": IncidentNotification.text(event), "detected": UTCTime.rfc3339(event.timeMs)]
            if case .float(let value)? = event["value"] { annotations["value"] = String(value) }
            if let text = field("value_text") { annotations["value_text"] = text }
            let alert = AlertmanagerAlert(
                labels: [
                    "alertname": threshold, "check": event.check, "location": event.location, "rule": rule,
                    "severity": field("severity") ?? "warning",
                ],
                annotations: annotations, startsAtMs: event.timeMs)
            return .fire(key: key(threshold, check: event.check + "|" + rule), alert: alert)
        case .alertEnded:
            return .resolve(key: key(threshold, check: event.check + "|" + (field("rule") ?? "")), atMs: event.timeMs)
        case .flappingStarted, .flappingEnded, .alertSent, .maintenanceStarted:
            return nil
        }
    }

    /// `0.9305` (the share of the error budget left, to 4 decimals, as webhooks carry it).
    static func budgetText(_ remaining: Double) -> String {
        String(format: "%.4f", (remaining * 10_000).rounded() / 10_000)
    }

    /// Applies `event` to `sender` (posts go out from its queue; this never waits).
    static func forward(_ event: IncidentEvent, to sender: AlertmanagerSender, budgetRemaining: Double? = nil) {
        let id = "\(event.check)|\(event.incident ?? "")|\(event.kind.rawValue)"
        switch action(for: event, budgetRemaining: budgetRemaining) {
        case .fire(let key, let alert)?: sender.fire(alert, key: key, id: id)
        case .resolve(let key, let atMs)?: sender.resolve(key: key, atMs: atMs, id: id)
        case nil: break
        }
    }
}
