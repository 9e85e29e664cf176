import SondeScript
import SondeSupport

/// An error while rendering a template or evaluating a query, filter or predicate.
enum EvalError: Error, Sendable, Equatable, CustomStringConvertible {
    case undefinedVariable(name: String, location: SourceLocation)
    case invalidRegex(pattern: String, reason: String, location: SourceLocation)
    case invalidJSONPath(message: String, location: SourceLocation)
    /// An XPath expression libxml2 could not compile or evaluate.
    case invalidXPath(expression: String, location: SourceLocation)
    case bodyNotJSON(message: String, location: SourceLocation)
    case bodyNotText(charset: String, location: SourceLocation)
    case filterFailed(filter: String, message: String, location: SourceLocation)
    /// A query stopped before its result: over its work limit (a JSONPath that touches too many
    /// nodes), or its run's deadline passed.
    case evaluationLimit(message: String, location: SourceLocation)
    /// A `file,name;` whose contents were never read (a script parsed without `ScriptLoader`).
    case fileNotLoaded(name: String, location: SourceLocation)
    /// An option whose `{{template}}` value is not a valid value of the option.
    case badOption(name: String, message: String, location: SourceLocation)

    /// Where in the script the failing expression is.
    var location: SourceLocation {
        switch self {
        case .undefinedVariable(_, let l), .invalidRegex(_, _, let l), .invalidJSONPath(_, let l),
            .invalidXPath(_, let l),
            .bodyNotJSON(_, let l), .bodyNotText(_, let l), .filterFailed(_, _, let l), .evaluationLimit(_, let l):
            return l
        case .fileNotLoaded(_, let l), .badOption(_, _, let l):
            return l
        }
    }

    /// What went wrong, without the position.
    var message: String {
        switch self {
        case .undefinedVariable(let name, _):
            return "undefined variable '\(name)' (set it with --var, --secret, a capture or SONDE_VAR_\(name))"
        case .invalidRegex(let pattern, let reason, _): return "invalid regex <\(pattern)>: \(reason)"
        case .invalidJSONPath(let message, _): return message
        case .invalidXPath(let expression, _): return "invalid XPath expression <\(expression)>"
        case .bodyNotJSON(let message, _): return "the body is not valid JSON: \(message)"
        case .bodyNotText(let charset, _): return "the body cannot be decoded as \(charset) text"
        case .filterFailed(let filter, let message, _): return "filter \(filter): \(message)"
        case .evaluationLimit(let message, _): return message
        case .fileNotLoaded(let name, _): return "file,\(name); was not read: load the check from its file"
        case .badOption(let name, let message, _): return "option \(name) from its template: \(message)"
        }
    }

    /// True for errors of template rendering (error kind `template`).
    var isTemplateError: Bool {
        if case .undefinedVariable = self { return true }
        if case .badOption = self { return true }
        return false
    }

    /// `line:column: message`.
    var description: String { "\(location): \(message)" }
}
