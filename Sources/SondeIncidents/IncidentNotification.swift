import SondeProbe
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// What a webhook receives for an incident event: JSON with the event's facts, budget figures and a
/// Slack-compatible `text` (README.md, "Incidents and webhooks").
package enum IncidentNotification {
    /// One line for people (the log and Slack's `text`).
    package static func text(_ event: IncidentEvent) -> String {
        func field(_ key: String) -> String {
            switch event[key] {
            case .string(let s)?: return s
            case .integer(let i)?: return String(i)
            case .float(let d)?: return String(d)
            default: return ""
            }
        }
        let check = event.check
        switch event.kind {
        case .opened:
            return "🔴 \(check) is DOWN since \(clock(field("started"))) UTC: \(field("kind")) — \(field("msg")) "
                + "(detected after \(field("failed_runs")) failed runs)"
        case .resolved:
            let duration = DurationText.span(Int64(field("duration_ms")) ?? 0)
            return "✅ \(check) is back UP at \(clock(field("resolved"))) UTC after \(duration) "
                + "(\(field("failed_runs")) failed runs, mostly \(field("kind")))"
        case .burnAlertStarted:
            var rules: [String] = []
            if case .list(let items)? = event["rules"] {
                rules = items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            }
            return "🔥 \(check): error budget burning — \(field("level")) (\(rules.joined(separator: "; ")))"
        case .burnAlertEnded:
            return "\(check): burn-rate alert over"
        case .flappingStarted:
            return "\(check) is flapping (\(field("percent"))% of the last 21 runs changed state)"
        case .flappingEnded:
            return "\(check) stopped flapping"
        case .alertSent:
            return "\(check): alert sent to \(field("target"))"
        case .certExpiring, .certRenewed:
            return CertificateWatch.text(event)
        case .alertStarted:
            let icon = field("severity") == "critical" ? "🔴" : "🟠"
            return "\(icon) \(check): \(field("severity")) alert \(field("rule")) — \(field("metric")) is "
                + "\(field("value_text")) over the last \(field("window")) (\(field("runs")) runs)"
        case .alertEnded:
            return "✅ \(check): alert \(field("rule")) over — \(field("metric")) is \(field("value_text")) "
                + "(held \(DurationText.span(Int64(field("duration_ms")) ?? 0)), at worst \(field("peak_text")))"
        case .maintenanceStarted:
            return "🔧 \(check): maintenance window \(field("window")) began during incident "
                + "\(event.incident ?? "-"); runs until it ends are left out"
        }
    }

    /// The JSON body: `event`, `check`, `location`, `incident`, `time`, the event's fields, budget
    /// figures, and `text` — the line of `text(_:)` with `&`, `<` and `>` escaped as Slack's incoming
    /// webhooks ask (`slackEscaped`), so that a message quoting `<html>` is not read as a link.
    package static func payload(_ event: IncidentEvent, burn: [BurnWindow: Double], budgetRemaining: Double?) -> [UInt8]
    {
        var object: [(key: String, value: Value)] = [
            ("event", .string(event.kind.rawValue)), ("check", .string(event.check)),
            ("location", .string(event.location)),
            ("time", .string(UTCTime.rfc3339(event.timeMs))),
        ]
        if let incident = event.incident { object.append(("incident", .string(incident))) }
        object += event.fields
        object.append(("budget_remaining", budgetRemaining.map { .float(($0 * 10_000).rounded() / 10_000) } ?? .null))
        object.append(
            (
                "burn_rates",
                .object(
                    BurnWindow.allCases.compactMap { window in
                        burn[window].map { (window.rawValue, Value.float(($0 * 100).rounded() / 100)) }
                    })
            ))
        object.append(("text", .string(slackEscaped(text(event)))))
        return Array(JSON.encode(.object(object)).utf8)
    }

    /// `text` with the three characters Slack's message text reserves written as entities: `&` as
    /// `&amp;`, `<` as `&lt;`, `>` as `&gt;` (and nothing else).
    package static func slackEscaped(_ text: String) -> String {
        guard text.contains(where: { $0 == "&" || $0 == "<" || $0 == ">" }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(character)
            }
        }
        return out
    }

    static func clock(_ rfc3339: String) -> String {
        String(rfc3339.dropFirst(11).prefix(8))
    }
}
