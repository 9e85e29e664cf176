import Foundation
import SondeSupport

/// Monitor directives: `# @key value` comment lines before the first request (docs/check-format.md,
/// "Monitor directives").
extension Parser {
    struct Directive {
        var key: String
        var value: String
        /// 0-based column of `@`.
        var column: Int
        /// 0-based column of the value.
        var valueColumn: Int
    }

    static let directiveKeys =
        ["every", "timeout", "slo", "latency", "down-after", "up-after", "quorum", "tags", "alert", "maintenance"]
        + targetDirectiveKeys
    /// Directives a file may give more than once.
    static let repeatableKeys: Set<String> = ["alert", "maintenance"]

    /// A `# @key value` line, or nil for an ordinary comment. `#@` without a key is a comment, and
    /// so is `# @word` when the word is neither a directive nor close to one.
    func directiveLine(_ index: Int) throws(ParseError) -> Directive? {
        var c = cursor(index, at: indent(index))
        guard c.peek == "#" else { return nil }
        c.index += 1
        c.skipSpaces()
        guard c.peek == "@" else { return nil }
        let column = c.index
        c.index += 1
        let key = c.word()
        guard !key.isEmpty else { return nil }
        guard Self.directiveKeys.contains(key) else {
            // A near miss of a directive is a typo; any other `# @word` is an ordinary comment
            // (Hurl files use some, such as `# @cookie_storage_set: …`).
            guard let guess = Suggestion.closest(to: key, in: Self.directiveKeys) else { return nil }
            throw error("unknown directive @\(Self.shown(key)); did you mean @\(guess)?", line: index, column: column)
        }
        c.skipSpaces()
        let valueColumn = c.index
        var value = String(String.UnicodeScalarView(c.scalars[c.index...]))
        while let last = value.unicodeScalars.last, last == " " || last == "\t" { value.unicodeScalars.removeLast() }
        return Directive(key: key, value: value, column: column, valueColumn: valueColumn)
    }

    func apply(_ d: Directive, to settings: inout MonitorSettings) throws(ParseError) {
        let line = current
        func fail(_ message: String) -> ParseError { error(message, line: line, column: d.valueColumn) }
        let words = d.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        switch d.key {
        case "every", "timeout":
            guard words.count == 1, let duration = Self.duration(words[0], units: ["ms", "s", "m", "h", "d"]) else {
                throw fail("expected a duration such as 30s or 5m after @\(d.key)")
            }
            if d.key == "every" {
                guard duration >= .seconds(1) else { throw fail("@every must be at least 1s") }
                settings.every = duration
            } else {
                guard duration > .zero else { throw fail("@timeout must be more than 0") }
                settings.timeout = duration
            }
        case "slo":
            guard words.count == 2, let target = Self.percent(words[0]),
                let window = Self.duration(words[1], units: ["h", "d"])
            else {
                throw fail("expected an objective and a window such as 99.9% 30d after @slo")
            }
            guard target > 0, target < 100 else {
                throw fail("the objective must be between 0% and 100% (exclusive), such as 99.9%")
            }
            guard window >= .seconds(3600) else { throw fail("the SLO window must be at least 1h") }
            settings.slo = AvailabilityObjective(target: target, window: window)
        case "latency":
            guard words.count == 2, let threshold = Self.duration(words[0], units: ["ms", "s"]),
                let target = Self.percent(words[1])
            else {
                throw fail("expected a threshold and a share such as 500ms 99% after @latency")
            }
            guard threshold > .zero else { throw fail("the latency threshold must be more than 0") }
            guard target > 0, target < 100 else {
                throw fail("the latency objective must be between 0% and 100% (exclusive)")
            }
            settings.latency = LatencyObjective(threshold: threshold, target: target)
        case "down-after", "up-after":
            guard words.count == 1, let n = Int(words[0]), n >= 1, n <= 1000 else {
                throw fail("expected a number of runs from 1 to 1000 after @\(d.key)")
            }
            if d.key == "down-after" { settings.downAfter = n } else { settings.upAfter = n }
        case "quorum":
            if words == ["all"] {
                settings.quorum = .all
            } else {
                guard words.count == 1, let n = Int(words[0]), n >= 1, n <= Quorum.maximum else {
                    throw fail("expected a number of locations from 1 to \(Quorum.maximum), or all, after @quorum")
                }
                settings.quorum = .atLeast(n)
            }
        case "tags":
            let tags = d.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !tags.isEmpty, tags.allSatisfy({ !$0.isEmpty }) else {
                throw fail("expected tags separated by commas such as shop, api after @tags")
            }
            settings.tags = tags
        case "cert-expiry", "keep-warm":
            try applyTargetDirective(d, to: &settings)
        case "alert":
            try addAlert(d, to: &settings)
        case "maintenance":
            try addMaintenance(d, to: &settings)
        default:
            throw fail("unknown directive @\(d.key)")
        }
    }

    /// `500ms`, `30s`, `5m`, `1h`, `2d` (the unit is required and must be one of `units`).
    static func duration(_ text: String, units: [String]) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = String(text.dropFirst(digits.count))
        guard !digits.isEmpty, digits.count <= 12, let n = Int64(digits), units.contains(unit) else { return nil }
        switch unit {
        case "ms": return .milliseconds(n)
        case "s": return .seconds(n)
        case "m": return .seconds(n * 60)
        case "h": return .seconds(n * 3600)
        case "d": return .seconds(n * 86_400)
        default: return nil
        }
    }

    /// `99.9%` → 99.9.
    static func percent(_ text: String) -> Double? {
        guard text.hasSuffix("%"), let value = Double(text.dropLast()), value.isFinite else { return nil }
        return value
    }
}
