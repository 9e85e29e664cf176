import Foundation
import SondeProbe
import SondeScript
import SondeSupport

/// Evaluates a query against a response. `nil` means "no value" (so `not exists` holds).
package enum QueryEvaluator {
    package static func evaluate(_ query: Query, in context: ResponseContext,
                                variables: Variables) throws(EvalError) -> Value? {
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

    /// Group 1 of the first match (the whole match when the pattern has no group).
    static func firstMatch(_ pattern: String, in text: String, location: SourceLocation) throws(EvalError) -> String? {
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: pattern) } catch {
            throw .invalidRegex(pattern: pattern, location: location)
        }
        let range = NSRange(text.startIndex..., in: text)
        guard let match = regex.firstMatch(in: text, range: range) else { return nil }
        let group = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
        guard let r = Range(group, in: text) else { return nil }
        return String(text[r])
    }

    /// True when `pattern` matches somewhere in `text`.
    static func matches(_ pattern: String, _ text: String, location: SourceLocation) throws(EvalError) -> Bool {
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: pattern) } catch {
            throw .invalidRegex(pattern: pattern, location: location)
        }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
