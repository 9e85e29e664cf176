import Foundation
import SondeProbe
import SondeScript
import SondeSupport

/// Applies Hurl filters left to right. A filter on a missing value is an error, not a silent pass.
enum FilterEvaluator {
    /// `value` through `filter`; `now` is the time date filters compare with; a regex gives up
    /// once `stop` is set.
    static func apply(
        _ filter: Filter, to value: Value?, variables: Variables,
        now: Date = Date(), stop: StopFlag? = nil
    ) throws(EvalError) -> Value? {
        let name = Self.name(filter.kind)
        guard let value else {
            throw .filterFailed(filter: name, message: "there is no value to filter", location: filter.location)
        }
        func fail(_ message: String) -> EvalError {
            .filterFailed(filter: name, message: message, location: filter.location)
        }
        switch filter.kind {
        case .count:
            switch value {
            case .list(let items): return .integer(Int64(items.count))
            case .bytes(let b): return .integer(Int64(b.count))
            case .object(let pairs): return .integer(Int64(pairs.count))
            default: throw fail("expected a list, got \(ValueText.typed(value))")
            }
        case .nth(let n):
            guard case .list(let items) = value else { throw fail("expected a list, got \(ValueText.typed(value))") }
            let i = n < 0 ? items.count + n : n
            guard i >= 0, i < items.count else { throw fail("index \(n) is out of range for a list of \(items.count)") }
            return items[i]
        case .first, .last:
            guard case .list(let items) = value else { throw fail("expected a list, got \(ValueText.typed(value))") }
            guard let item = filter.kind == .first ? items.first : items.last else { throw fail("the list is empty") }
            return item
        case .regex(let template):
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            let pattern = try TemplateRenderer.render(template, variables)
            return try QueryEvaluator.firstMatch(pattern, in: text, location: template.location, stop: stop)
                .map(Value.string)
        case .split(let template):
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            let separator = try TemplateRenderer.render(template, variables)
            guard !separator.isEmpty else { throw fail("the separator is empty") }
            return .list(text.components(separatedBy: separator).map(Value.string))
        case .replace(let old, let new):
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            let from = try TemplateRenderer.render(old, variables)
            let to = try TemplateRenderer.render(new, variables)
            guard !from.isEmpty else { return .string(text) }
            return .string(text.replacingOccurrences(of: from, with: to))
        case .toInt:
            switch value {
            case .integer: return value
            case .float(let d):
                guard d.isFinite, abs(d) < 9.2e18 else { throw fail("\(JSON.formatFloat(d)) does not fit an integer") }
                return .integer(Int64(d))
            case .string(let s):
                guard let i = Int64(s.trimmingCharacters(in: .whitespaces)) else {
                    throw fail("<\(s)> is not an integer")
                }
                return .integer(i)
            default: throw fail("cannot convert \(ValueText.typed(value)) to an integer")
            }
        case .toFloat:
            switch value {
            case .float: return value
            case .integer(let i): return .float(Double(i))
            case .string(let s):
                guard let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite else {
                    throw fail("<\(s)> is not a number")
                }
                return .float(d)
            default: throw fail("cannot convert \(ValueText.typed(value)) to a float")
            }
        case .toString:
            return .string(ValueText.plain(value))
        case .daysAfterNow:
            guard case .date(let date) = value else { throw fail("expected a date, got \(ValueText.typed(value))") }
            return .integer(Int64((date.timeIntervalSince(now) / 86_400).rounded(.towardZero)))
        }
    }

    static func name(_ kind: Filter.Kind) -> String {
        switch kind {
        case .count: return "count"
        case .nth: return "nth"
        case .first: return "first"
        case .last: return "last"
        case .regex: return "regex"
        case .split: return "split"
        case .replace: return "replace"
        case .toInt: return "toInt"
        case .toFloat: return "toFloat"
        case .toString: return "toString"
        case .daysAfterNow: return "daysAfterNow"
        }
    }
}
