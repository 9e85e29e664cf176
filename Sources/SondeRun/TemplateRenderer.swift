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
                guard let value = variables[p.name] else {
                    throw .undefinedVariable(name: p.name, location: p.location)
                }
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
        case .string(let t): return .string(try render(t, variables))
        case .placeholder(let p):
            guard let v = variables[p.name] else { throw .undefinedVariable(name: p.name, location: p.location) }
            return v
        }
    }
}
