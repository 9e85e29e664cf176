import Foundation
import SondeSupport

/// `# @alert METRIC OP VALUE for DURATION [SEVERITY]` (docs/check-format.md, "Threshold alerts").
extension Parser {
    /// A word of a directive's value and the 0-based column it starts at.
    struct Word {
        var text: String
        var column: Int
    }

    /// The words of `d`'s value with their columns.
    static func words(of d: Directive) -> [Word] {
        var out: [Word] = []
        var column = d.valueColumn
        var current: Word?
        for scalar in d.value.unicodeScalars {
            if scalar == " " || scalar == "\t" {
                if let word = current { out.append(word) }
                current = nil
            } else if current == nil {
                current = Word(text: String(scalar), column: column)
            } else {
                current?.text.unicodeScalars.append(scalar)
            }
            column += 1
        }
        if let word = current { out.append(word) }
        return out
    }

    /// Reads one `@alert` rule (its window is checked against `@every` once every directive is read,
    /// by `checkAlerts`).
    func alertRule(_ d: Directive) throws(ParseError) -> ThresholdRule {
        let line = current
        let words = Self.words(of: d)
        let example = "such as p95 > 2s for 5m critical"
        func fail(_ message: String, at column: Int) -> ParseError { error(message, line: line, column: column) }
        let end = d.valueColumn + d.value.unicodeScalars.count
        guard let first = words.first else {
            throw fail("expected a rule \(example) after @alert", at: d.valueColumn)
        }
        let names = ThresholdRule.Metric.allCases.map(\.rawValue)
        guard let metric = ThresholdRule.Metric(rawValue: first.text) else {
            var message = "unknown metric \(Self.shown(first.text)) in @alert"
            if let guess = Suggestion.closest(to: first.text, in: names) { message += "; did you mean \(guess)?" }
            message += " (metrics: " + names.joined(separator: ", ") + ")"
            throw fail(message, at: first.column)
        }
        guard words.count > 1, let comparison = ThresholdRule.Comparison(rawValue: words[1].text) else {
            throw fail(
                "expected a comparison >, >=, < or <= after \(metric.rawValue), \(example)",
                at: words.count > 1 ? words[1].column : end)
        }
        guard words.count > 2 else {
            throw fail("expected a value after \(metric.rawValue) \(comparison.rawValue), \(example)", at: end)
        }
        let valueWord = words[2]
        var threshold: Double
        var perMs: Int64?
        switch metric {
        case .p50, .p95, .p99, .mean, .ttfbP95:
            guard let ms = Self.milliseconds(valueWord.text) else {
                throw fail(
                    "expected a duration such as 2s, 1.5s or 2000ms for \(metric.rawValue)", at: valueWord.column)
            }
            threshold = ms
        case .errorRate:
            guard let share = Self.percent(valueWord.text), share >= 0, share <= 100 else {
                throw fail("expected a share of runs from 0% to 100%, such as 5%, for error-rate", at: valueWord.column)
            }
            threshold = share
        case .failures:
            let parts = valueWord.text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, let count = Double(parts[0]), count.isFinite, count >= 0,
                parts[0].allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") })
            else {
                throw fail(
                    "expected a number of failed runs such as 10, or a rate such as 10/1m, for failures",
                    at: valueWord.column)
            }
            threshold = count
            if parts.count == 2 {
                guard let per = Self.duration(parts[1], units: ["s", "m", "h"]), per >= .seconds(1) else {
                    throw fail(
                        "expected a rate such as 10/1m (failed runs per second, minute or hour) for failures",
                        at: valueWord.column + parts[0].unicodeScalars.count + 1)
                }
                perMs = Int64(per.milliseconds)
            }
        }
        guard words.count > 3, words[3].text == "for" else {
            throw fail(
                "expected `for` and a window after the value, \(example)", at: words.count > 3 ? words[3].column : end)
        }
        guard words.count > 4 else { throw fail("expected a window such as 5m after `for`", at: end) }
        let windowWord = words[4]
        guard let window = Self.duration(windowWord.text, units: ["ms", "s", "m", "h", "d"]) else {
            throw fail("expected a window such as 30s, 5m or 1h after `for`", at: windowWord.column)
        }
        let windowMs = Int64(window.milliseconds)
        guard windowMs >= ThresholdRule.minimumWindowMs else {
            throw fail("the window of an @alert must be at least 5s", at: windowWord.column)
        }
        guard windowMs <= 7 * 86_400_000 else {
            throw fail("the window of an @alert must be at most 7d", at: windowWord.column)
        }
        var severity = ThresholdRule.Severity.warning
        if words.count > 5 {
            guard let s = ThresholdRule.Severity(rawValue: words[5].text) else {
                throw fail(
                    "unknown severity \(Self.shown(words[5].text)) in @alert: expected critical or warning",
                    at: words[5].column)
            }
            severity = s
        }
        guard words.count <= 6 else {
            throw fail("unexpected \(Self.shown(words[6].text)) at the end of @alert, \(example)", at: words[6].column)
        }
        return ThresholdRule(
            metric: metric, comparison: comparison, threshold: threshold, perMs: perMs, windowMs: windowMs,
            severity: severity, text: words.map(\.text).joined(separator: " "),
            windowLocation: SourceLocation(line: line + 1, column: windowWord.column + 1))
    }

    /// Adds a rule read by `alertRule`; the same rule twice is refused.
    func addAlert(_ d: Directive, to settings: inout MonitorSettings) throws(ParseError) {
        let rule = try alertRule(d)
        guard !settings.alerts.contains(rule) else {
            throw error("the rule \(rule.text) is given twice", line: current, column: d.valueColumn)
        }
        settings.alerts.append(rule)
    }

    /// Once every directive is read: each window must hold at least `ThresholdRule.minimumRuns` runs
    /// at the check's `@every`.
    func checkAlerts(_ settings: MonitorSettings) throws(ParseError) {
        for rule in settings.alerts {
            let everyMs = Int64(settings.every.milliseconds)
            let needed = everyMs * Int64(ThresholdRule.minimumRuns)
            guard rule.windowMs >= needed else {
                let shorter = rule.windowMs < everyMs ? "is shorter than @every" : "holds fewer than 3 runs at @every"
                throw .syntax(
                    path: path, location: rule.windowLocation,
                    message:
                        "the window \(ThresholdRule.durationText(rule.windowMs)) \(shorter) "
                        + "\(ThresholdRule.durationText(everyMs)); an @alert needs at least \(ThresholdRule.minimumRuns) runs: "
                        + "use for \(ThresholdRule.durationText(needed)) or more")
            }
        }
    }

    /// `2s`, `1.5s`, `2000ms`, `1m` → milliseconds (more than 0).
    static func milliseconds(_ text: String) -> Double? {
        let number = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = text.dropFirst(number.count)
        guard !number.isEmpty, number.count <= 15, let value = Double(number), value.isFinite, value > 0 else {
            return nil
        }
        switch unit {
        case "ms": return value
        case "s": return value * 1000
        case "m": return value * 60_000
        default: return nil
        }
    }
}
