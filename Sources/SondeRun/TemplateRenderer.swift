import Foundation
import SondeProbe
import SondeScript
import SondeSupport

/// Renders templates with variables: as text, as a typed JSON value, or as JSON string content.
enum TemplateRenderer {
    /// `template` as text, each placeholder replaced by its variable; an undefined one throws.
    static func render(_ template: Template, _ variables: Variables) throws(EvalError) -> String {
        var out = ""
        for part in template.parts {
            switch part {
            case .literal(let text): out += text
            case .placeholder(let p):
                let value = try Self.value(of: p, variables)
                switch p.encoding {
                case .plain: out += ValueText.plain(value)
                case .jsonValue: out += JSON.encode(value)
                case .jsonString: out += JSON.escape(ValueText.plain(value))
                }
            }
        }
        return out
    }

    /// The typed value of a predicate or option value.
    static func value(of value: PredicateValue, _ variables: Variables) throws(EvalError) -> Value {
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .integer(let i): return .integer(i)
        case .float(let d, _): return .float(d)
        case .bytes(let b): return .bytes(b)
        case .file(let file):
            guard let contents = file.contents else { throw .fileNotLoaded(name: file.name, location: file.location) }
            return .bytes(contents)
        case .string(let t): return .string(try render(t, variables))
        case .placeholder(let p):
            return try Self.value(of: p, variables)
        }
    }

    /// The value of one placeholder: its variable's, or a new one from its function.
    static func value(of placeholder: Placeholder, _ variables: Variables) throws(EvalError) -> Value {
        if let function = placeholder.function { return .string(evaluate(function)) }
        guard let value = variables[placeholder.name] else {
            throw .undefinedVariable(name: placeholder.name, location: placeholder.location)
        }
        return value
    }

    /// A template function's new value: `newUuid` a random UUID v4 in lower case, `newDate` the
    /// current time as an RFC 3339 UTC date with microseconds (`2026-12-01T10:35:44.461731Z`).
    static func evaluate(_ function: Placeholder.Function) -> String {
        switch function {
        case .newUuid:
            return UUID().uuidString.lowercased()
        case .newDate:
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            var seconds = now.tv_sec
            var parts = tm()
            gmtime_r(&seconds, &parts)
            func pad(_ n: Int, _ width: Int) -> String {
                let text = String(n)
                return String(repeating: "0", count: max(0, width - text.count)) + text
            }
            return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-"
                + pad(Int(parts.tm_mday), 2) + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2)
                + ":" + pad(Int(parts.tm_sec), 2) + "." + pad(now.tv_nsec / 1000, 6) + "Z"
        }
    }
}
