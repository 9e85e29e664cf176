import Foundation
import SondeProbe
import SondeScript
import SondeSupport

/// Evaluates a query against a response. `nil` means "no value" (so `not exists` holds).
enum QueryEvaluator {
    /// The value `query` selects from the response; `nil` when there is none.
    static func evaluate(
        _ query: Query, in context: ResponseContext,
        variables: Variables
    ) throws(EvalError) -> Value? {
        let response = context.response
        switch query.kind {
        case .status:
            return .integer(Int64(response.status))
        case .version:
            return .string(response.httpVersion)
        case .header(let template):
            let values = response.headers.values(for: try TemplateRenderer.render(template, variables))
            if values.isEmpty { return nil }
            return values.count == 1 ? .string(values[0]) : .list(values.map(Value.string))
        case .body:
            return .string(try context.text(at: query.location))
        case .jsonpath(let template):
            let expression = try TemplateRenderer.render(template, variables)
            let path: JSONPath
            do { path = try JSONPath(expression) } catch {
                throw .invalidJSONPath(message: error.description, location: template.location)
            }
            let nodes = path.evaluate(try context.json(at: query.location))
            switch nodes.count {
            case 0: return nil
            case 1: return nodes[0]
            default: return .list(nodes)
            }
        case .regex(let template):
            let pattern = try TemplateRenderer.render(template, variables)
            return try firstMatch(pattern, in: try context.text(at: query.location), location: template.location)
                .map(Value.string)
        case .variable(let name):
            return variables[name]
        case .duration:
            return .integer(Int64(response.timings.total.rounded(.down)))
        case .url:
            return .string(response.effectiveURL)
        case .certificate(let field):
            guard let cert = response.certificate else { return nil }
            switch field {
            case .subject: return .string(cert.subject)
            case .issuer: return .string(cert.issuer)
            case .serialNumber: return .string(cert.serialNumber)
            case .startDate: return cert.startDate.map(Value.date)
            case .expireDate: return cert.expireDate.map(Value.date)
            }
        }
    }

    /// Group 1 of the first match (the whole match when the pattern has no group); `nil` without a
    /// match or when group 1 did not take part.
    static func firstMatch(_ pattern: String, in text: String, location: SourceLocation) throws(EvalError) -> String? {
        let regex = try compiled(pattern, location: location)
        let group = regex.captureCount > 0 ? 1 : 0
        return regex.firstMatch(in: text, groups: group)?[group].map(String.init)
    }

    /// True when `pattern` matches somewhere in `text`.
    static func matches(_ pattern: String, _ text: String, location: SourceLocation) throws(EvalError) -> Bool {
        try compiled(pattern, location: location).isMatch(text)
    }

    /// The compiled pattern (from the process-wide cache: a literal pattern was compiled when the
    /// check was parsed).
    static func compiled(_ pattern: String, location: SourceLocation) throws(EvalError) -> LinearRegex {
        do { return try LinearRegex.cached(pattern) } catch {
            throw .invalidRegex(pattern: pattern, reason: error.description, location: location)
        }
    }
}
