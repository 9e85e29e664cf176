import SondeProbe
import SondeScript
import SondeStore
import SondeSupport

/// One multi-window burn-rate rule: it fires when the burn rate is above `threshold` over both the
/// long and the short window (README.md, "sonde report", Alerts).
package struct BurnRule: Sendable, Equatable, CustomStringConvertible {
    package enum Severity: String, Sendable, Comparable {
        case ticket, page

        package static func < (a: Severity, b: Severity) -> Bool { a == .ticket && b == .page }
    }

    package var severity: Severity
    package var long: BurnWindow
    package var short: BurnWindow
    package var threshold: Double

    /// The workbook's rules for a 30-day objective: page at 14.4× over 1h and 5m, or 6× over 6h and
    /// 30m; ticket at 3× over 1d and 2h, or 1× over 3d and 6h.
    package static let standard: [BurnRule] = [
        BurnRule(severity: .page, long: .h1, short: .m5, threshold: 14.4),
        BurnRule(severity: .page, long: .h6, short: .m30, threshold: 6),
        BurnRule(severity: .ticket, long: .d1, short: .h2, threshold: 3),
        BurnRule(severity: .ticket, long: .d3, short: .h6, threshold: 1),
    ]

    /// `page: 1h and 5m burn > 14.4`.
    package var description: String {
        "\(severity.rawValue): \(long.rawValue) and \(short.rawValue) burn > \(BurnRule.number(threshold))"
    }

    /// The rule with the burn rates it saw: `page: 1h and 5m burn > 14.4 (1h 720.00, 5m 1000.00)`.
    package func evidence(_ burn: [BurnWindow: Double]) -> String {
        let rates = [long, short].map { window in
            "\(window.rawValue) " + (burn[window].map { String(format: "%.2f", $0) } ?? "insufficient data")
        }
        return description + " (" + rates.joined(separator: ", ") + ")"
    }

    /// True when both windows have a burn rate strictly above the threshold; nil (undecided) when
    /// either window has insufficient data (no rate) and the other does not rule the alert out.
    package func fires(_ burn: [BurnWindow: Double]) -> Bool? {
        let longRate = burn[long]
        let shortRate = burn[short]
        if let longRate, longRate <= threshold { return false }
        if let shortRate, shortRate <= threshold { return false }
        guard let longRate, let shortRate else { return nil }
        return longRate > threshold && shortRate > threshold
    }

    package static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// What the burn-rate rules say about a check.
package struct AlertState: Sendable, Equatable {
    package enum Level: String, Sendable {
        case page, ticket, ok
        /// No rule could be decided: every one lacks runs in a window.
        case insufficientData = "insufficient data"
    }

    package var level: Level
    /// The rules that fire, most severe first.
    package var firing: [BurnRule]
    /// The rules that could not be decided for lack of runs (shown beside an `ok`).
    package var undecided: [BurnRule] = []

    /// Applies `rules` to the burn rates (a window without a rate has insufficient data).
    package static func evaluate(_ burn: [BurnWindow: Double], rules: [BurnRule] = BurnRule.standard) -> AlertState {
        var firing: [BurnRule] = []
        var undecided: [BurnRule] = []
        for rule in rules {
            switch rule.fires(burn) {
            case true?: firing.append(rule)
            case nil: undecided.append(rule)
            case false?: break
            }
        }
        firing.sort { $0.severity > $1.severity }
        if firing.contains(where: { $0.severity == .page }) {
            return AlertState(level: .page, firing: firing, undecided: undecided)
        }
        if !firing.isEmpty { return AlertState(level: .ticket, firing: firing, undecided: undecided) }
        let level: Level = !rules.isEmpty && undecided.count == rules.count ? .insufficientData : .ok
        return AlertState(level: level, firing: [], undecided: undecided)
    }
}
