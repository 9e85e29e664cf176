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
            let document = try context.json(at: query.location)
            let nodes: [Value]
            do { nodes = try path.evaluate(document, stop: context.stop) } catch {
                throw .evaluationLimit(message: error.description, location: template.location)
            }
            switch nodes.count {
            case 0: return nil
            case 1: return nodes[0]
            default: return .list(nodes)
            }
        case .regex(let template):
            let pattern = try TemplateRenderer.render(template, variables)
            let text = try context.text(at: query.location)
            return try firstMatch(pattern, in: text, location: template.location, stop: context.stop)
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
            // As Hurl writes names: `CN=localhost, O=Example`, where OpenSSL prints `CN = localhost`.
            case .subject: return .string(cert.subject.replacingOccurrences(of: " = ", with: "="))
            case .issuer: return .string(cert.issuer.replacingOccurrences(of: " = ", with: "="))
            case .serialNumber: return .string(cert.serialNumber)
            case .startDate: return cert.startDate.map(Value.date)
            case .expireDate: return cert.expireDate.map(Value.date)
            case .subjectAltName: return cert.subjectAltName.isEmpty ? nil : .string(cert.subjectAltName)
            }
        case .cookie(let template):
            let text = try TemplateRenderer.render(template, variables)
            guard let (name, attribute) = CookieAttribute.split(text) else {
                throw .filterFailed(
                    filter: "cookie", message: "unknown cookie attribute in <\(text)>", location: template.location)
            }
            return SetCookie.find(name, in: response.headers)?.value(of: attribute)
        case .bytes:
            return .bytes(response.body)
        case .sha256:
            return .bytes(Digest.sha256(response.body))
        case .md5:
            return .bytes(Digest.md5(response.body))
        case .ip:
            return response.primaryIP.isEmpty ? nil : .string(response.primaryIP)
        case .redirects:
            return .list(
                response.redirectChain.map { hop in
                    .object([("location", .string(hop.location)), ("status", .integer(Int64(hop.status)))])
                })
        case .xpath(let template):
            let expression = try TemplateRenderer.render(template, variables)
            return try XPathEvaluator.evaluate(
                expression, in: try context.xmlTree(at: query.location), location: template.location)
        }
    }

    /// Group 1 of the first match (the whole match when the pattern has no group); `nil` without a
    /// match or when group 1 did not take part. Throws `evaluationLimit` when `stop` is set first.
    static func firstMatch(
        _ pattern: String, in text: String, location: SourceLocation, stop: StopFlag? = nil
    ) throws(EvalError) -> String? {
        let regex = try compiled(pattern, location: location)
        let group = regex.captureCount > 0 ? 1 : 0
        let (match, stopped) = regex.firstMatch(in: text, groups: group, stop: stop)
        if stopped { throw .evaluationLimit(message: Self.regexStopped, location: location) }
        return match?[group].map(String.init)
    }

    /// True when `pattern` matches somewhere in `text`. Throws `evaluationLimit` when `stop` is set
    /// first.
    static func matches(
        _ pattern: String, _ text: String, location: SourceLocation, stop: StopFlag? = nil
    ) throws(EvalError) -> Bool {
        guard let found = try compiled(pattern, location: location).isMatch(text, stop: stop) else {
            throw .evaluationLimit(message: Self.regexStopped, location: location)
        }
        return found
    }

    /// Why a regex gave up: its evaluation was stopped (the run's deadline passed).
    static let regexStopped = "regex evaluation stopped: the run's deadline passed"

    /// The compiled pattern (from the process-wide cache: a literal pattern was compiled when the
    /// check was parsed).
    static func compiled(_ pattern: String, location: SourceLocation) throws(EvalError) -> LinearRegex {
        do { return try LinearRegex.cached(pattern) } catch {
            throw .invalidRegex(pattern: pattern, reason: error.description, location: location)
        }
    }
}
