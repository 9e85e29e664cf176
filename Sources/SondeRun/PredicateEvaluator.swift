import Foundation
import SondeProbe
import SondeScript
import SondeSupport

/// Whether a predicate held, with Hurl-style descriptions of both sides.
struct PredicateOutcome: Sendable, Equatable {
    /// Whether the predicate held.
    var passed: Bool
    /// `integer <4>`, `none` for a missing value.
    var actual: String
    /// `integer <5>`, `greater than integer <5>`, `not contains string <x>`...
    var expected: String
}

/// Evaluates predicates with Hurl's strict typing: `"1"` is not `1`, `5 == 5.0` holds,
/// comparing values of different types fails (it is not an error).
enum PredicateEvaluator {
    /// Tests `predicate` (negated when written with `not`) on `actual`; a regex match gives up
    /// once `stop` is set.
    static func evaluate(
        _ predicate: SondeScript.Predicate, actual: Value?,
        variables: Variables, stop: StopFlag? = nil
    ) throws(EvalError) -> PredicateOutcome {
        let (held, expectation) = try test(
            predicate.function, actual, variables: variables, location: predicate.location, stop: stop)
        let passed = predicate.negated ? !held : held
        return PredicateOutcome(
            passed: passed, actual: ValueText.typed(actual),
            expected: predicate.negated ? "not " + expectation : expectation)
    }

    /// `actual == expected`; a text compared with a `file,name;` value is compared as its UTF-8
    /// bytes (Hurl's `body == file,page.html;`).
    private static func equal(_ actual: Value, _ expected: Value, file: PredicateValue) -> Bool {
        if case .file = file, case .string(let text) = actual, case .bytes(let bytes) = expected {
            return Array(text.utf8) == bytes
        }
        return actual == expected
    }

    private static func test(
        _ function: SondeScript.Predicate.Function, _ actual: Value?, variables: Variables,
        location: SourceLocation, stop: StopFlag?
    ) throws(EvalError) -> (Bool, String) {
        func expected(_ v: PredicateValue) throws(EvalError) -> Value { try TemplateRenderer.value(of: v, variables) }
        switch function {
        case .equal(let v):
            let e = try expected(v)
            return (actual.map { equal($0, e, file: v) } ?? false, ValueText.typed(e))
        case .notEqual(let v):
            let e = try expected(v)
            return (actual.map { !equal($0, e, file: v) } ?? false, "not equal to " + ValueText.typed(e))
        case .greater(let v):
            let e = try expected(v)
            return (order(actual, e).map { $0 > 0 } ?? false, "greater than " + ValueText.typed(e))
        case .greaterOrEqual(let v):
            let e = try expected(v)
            return (order(actual, e).map { $0 >= 0 } ?? false, "greater than or equal to " + ValueText.typed(e))
        case .less(let v):
            let e = try expected(v)
            return (order(actual, e).map { $0 < 0 } ?? false, "less than " + ValueText.typed(e))
        case .lessOrEqual(let v):
            let e = try expected(v)
            return (order(actual, e).map { $0 <= 0 } ?? false, "less than or equal to " + ValueText.typed(e))
        case .contains(let v):
            let e = try expected(v)
            let held: Bool
            switch (actual, e) {
            case (.string(let a)?, .string(let b)): held = a.contains(b)
            case (.list(let items)?, _): held = items.contains(e)
            case (.bytes(let a)?, .bytes(let b)): held = b.isEmpty || a.firstRange(of: b) != nil
            default: held = false
            }
            return (held, "contains " + ValueText.typed(e))
        case .startsWith(let v):
            let e = try expected(v)
            let held: Bool
            switch (actual, e) {
            case (.string(let a)?, .string(let b)): held = a.hasPrefix(b)
            case (.bytes(let a)?, .bytes(let b)): held = a.starts(with: b)
            default: held = false
            }
            return (held, "starts with " + ValueText.typed(e))
        case .endsWith(let v):
            let e = try expected(v)
            let held: Bool
            switch (actual, e) {
            case (.string(let a)?, .string(let b)): held = a.hasSuffix(b)
            case (.bytes(let a)?, .bytes(let b)): held = a.count >= b.count && Array(a.suffix(b.count)) == b
            default: held = false
            }
            return (held, "ends with " + ValueText.typed(e))
        case .matches(let template):
            let pattern = try TemplateRenderer.render(template, variables)
            guard case .string(let text)? = actual else {
                // Validate the regex even when there is nothing to match.
                _ = try QueryEvaluator.matches(pattern, "", location: template.location)
                return (false, "matches regex <\(pattern)>")
            }
            return (
                try QueryEvaluator.matches(pattern, text, location: template.location, stop: stop),
                "matches regex <\(pattern)>"
            )
        case .exists:
            return (actual != nil, "something")
        case .isString:
            if case .string? = actual { return (true, "string") }
            return (false, "string")
        case .isInteger:
            if case .integer? = actual { return (true, "integer") }
            return (false, "integer")
        case .isFloat:
            if case .float? = actual { return (true, "float") }
            return (false, "float")
        case .isNumber:
            switch actual {
            case .integer?, .float?: return (true, "number")
            default: return (false, "number")
            }
        case .isBoolean:
            if case .bool? = actual { return (true, "boolean") }
            return (false, "boolean")
        case .isList:
            if case .list? = actual { return (true, "list") }
            return (false, "list")
        case .includes(let v):
            let e = try expected(v)
            if case .list(let items)? = actual { return (items.contains(e), "includes " + ValueText.typed(e)) }
            return (false, "includes " + ValueText.typed(e))
        case .isCollection:
            switch actual {
            case .list?, .object?, .bytes?: return (true, "collection")
            default: return (false, "collection")
            }
        case .isObject:
            if case .object? = actual { return (true, "object") }
            return (false, "object")
        case .isDate:
            if case .date? = actual { return (true, "date") }
            return (false, "date")
        case .isIsoDate:
            if case .string(let s)? = actual { return (StrftimeDate.isISODate(s), "string with format ISO 8601") }
            return (false, "string with format ISO 8601")
        case .isUuid:
            if case .string(let s)? = actual { return (Self.isUUID(s), "UUID v4") }
            return (false, "UUID v4")
        case .isIpv4:
            if case .string(let s)? = actual { return (Self.isIP(s, family: AF_INET), "IPv4 address") }
            return (false, "IPv4 address")
        case .isIpv6:
            if case .string(let s)? = actual { return (Self.isIP(s, family: AF_INET6), "IPv6 address") }
            return (false, "IPv6 address")
        case .isEmpty:
            switch actual {
            case .string(let s)?: return (s.isEmpty, "empty")
            case .list(let l)?: return (l.isEmpty, "empty")
            case .object(let o)?: return (o.isEmpty, "empty")
            case .bytes(let b)?: return (b.isEmpty, "empty")
            default: return (false, "empty")
            }
        }
    }

    /// `8-4-4-4-12` hex digits (any version, either case), as Hurl's `isUuid` takes them.
    static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.allSatisfy { $0.isASCII && $0.isHexDigit } }
    }

    /// Whether `text` is an address of `family` (`AF_INET` or `AF_INET6`) in its usual text form.
    static func isIP(_ text: String, family: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(family, text, &buffer) == 1
    }

    /// Ordering between two values of comparable types: -1, 0, 1; nil when not comparable.
    static func order(_ a: Value?, _ b: Value) -> Int? {
        func sign<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x > y ? 1 : 0) }
        switch (a, b) {
        case (.integer(let x)?, .integer(let y)): return sign(x, y)
        case (.integer(let x)?, .float(let y)): return sign(Double(x), y)
        case (.float(let x)?, .integer(let y)): return sign(x, Double(y))
        case (.float(let x)?, .float(let y)): return sign(x, y)
        case (.string(let x)?, .string(let y)): return sign(x, y)
        case (.date(let x)?, .date(let y)): return sign(x, y)
        default: return nil
        }
    }
}
