import Foundation
import SondeProbe
import SondeScript
import SondeSupport

/// Checks a response against an entry's `ResponseSpec` in Hurl's order:
/// version and status, headers, captures, `[Asserts]`, then the implicit body.
enum ResponseChecker {
    /// Placeholder summary of a failed assert, replaced by the assert's source text by the runner.
    static let assertSummary = "assert failed"

    struct Outcome: Sendable {
        var captures: [(name: String, value: Value, secret: Bool)] = []
        var failure: RunFailure?
        /// Values filters derived from a secret, as text, for the redactor.
        var derivedSecrets: [String] = []
    }

    /// Applies `filters` to `value` left to right. When the run has secrets, a value that holds one
    /// (or derives from one) taints what the filters make of it: each result's text joins
    /// `derived`, so an encoded secret (`base64Encode`, `toHex`, `urlEncode`…) is redacted too.
    static func filtered(
        _ value: Value?, _ filters: [Filter], scope: Variables, query: Query, redactor: Redactor?,
        stop: StopFlag?, derived: inout [String]
    ) throws(EvalError) -> Value? {
        var value = value
        var tainted = false
        // An XPath node set that selected nothing has no value (`not exists` holds), but Hurl
        // counts it: `xpath "//comment" count == 0`.
        var emptyNodeSet: Bool = {
            guard value == nil, case .xpath = query.kind else { return false }
            return true
        }()
        if let redactor, !filters.isEmpty {
            if case .variable(let name) = query.kind, scope.isSecret(name) { tainted = true }
            if !tainted, let v = value { tainted = Self.holdsSecret(v, redactor) }
        }
        for filter in filters {
            if emptyNodeSet, case .count = filter.kind {
                value = .integer(0)
                emptyNodeSet = false
                continue
            }
            value = try FilterEvaluator.apply(filter, to: value, variables: scope, stop: stop)
            if case .xpath = filter.kind { emptyNodeSet = value == nil } else { emptyNodeSet = false }
            if let redactor, let v = value {
                if !tainted { tainted = Self.holdsSecret(v, redactor) }
                if tainted { derived.append(ValueText.plain(v)) }
            }
        }
        return value
    }

    /// Whether the text of `value` shows a secret (or 8 characters of one in a row).
    private static func holdsSecret(_ value: Value, _ redactor: Redactor) -> Bool {
        let text: String
        switch value {
        case .bytes(let b): text = String(decoding: b, as: UTF8.self)
        default: text = ValueText.plain(value)
        }
        return redactor.redact(text) != text
    }

    /// Path and query of a URL (`/api/search?q=zelda`), or the URL when it has no path.
    static func target(_ url: String) -> String {
        guard let scheme = url.range(of: "://"),
            let slash = url[scheme.upperBound...].firstIndex(of: "/")
        else { return url }
        return String(url[slash...])
    }

    /// ` — {"error": "connection pool exhausted"…}`: the start of a text body, on one line, so a
    /// status failure says what the server said.
    static func bodySnippet(_ body: [UInt8]) -> String {
        guard !body.isEmpty else { return "" }
        let text = String(decoding: body.prefix(400), as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        guard !line.isEmpty else { return "" }
        return " — " + (line.count > 120 ? String(line.prefix(119)) + "…" : line)
    }

    static func check(
        _ spec: ResponseSpec, context: ResponseContext, variables: Variables,
        entry: Int
    ) -> Outcome {
        var outcome = Outcome()
        let response = context.response

        if let failure = checkVersion(spec, response: response, entry: entry) {
            outcome.failure = failure
            return outcome
        }
        if case .code(let expected) = spec.status, expected != response.status {
            outcome.failure = RunFailure(
                kind: .status, entry: entry, location: spec.statusLocation,
                summary: "HTTP status of \(Self.target(response.effectiveURL))",
                actual: "\(response.status)" + Self.bodySnippet(response.body),
                expected: "\(expected)")
            return outcome
        }

        var failures: [RunFailure] = []
        for header in spec.headers {
            do {
                let name = try TemplateRenderer.render(header.key, variables)
                let expected = try TemplateRenderer.render(header.value, variables)
                let actual = response.headers.values(for: name)
                if !actual.contains(expected) {
                    let shown = actual.isEmpty ? "none" : actual.map { "<\($0)>" }.joined(separator: ", ")
                    failures.append(
                        RunFailure(
                            kind: .header, entry: entry, location: header.location,
                            summary: "header \(name)", actual: shown,
                            expected: "<\(expected)>"))
                }
            } catch {
                failures.append(failure(from: error, entry: entry, kind: .header))
            }
        }
        if let first = failures.first {
            outcome.failure = first.withOthers(Array(failures.dropFirst()))
            return outcome
        }

        var scope = variables
        // Only filters can turn a secret into text the redactor would not know: without them, or
        // without secrets, no redactor is built.
        let filtering = spec.captures.contains { !$0.filters.isEmpty } || spec.asserts.contains { !$0.filters.isEmpty }
        let secrets = filtering ? variables.secretValues : []
        let redactor = secrets.isEmpty ? nil : Redactor(secrets: secrets)
        for capture in spec.captures {
            do {
                let value = try filtered(
                    try QueryEvaluator.evaluate(capture.query, in: context, variables: scope), capture.filters,
                    scope: scope, query: capture.query, redactor: redactor, stop: context.stop,
                    derived: &outcome.derivedSecrets)
                guard let value else {
                    outcome.failure = RunFailure(
                        kind: .capture, entry: entry, location: capture.query.location,
                        summary: "capture \(capture.name): the query returned no value")
                    return outcome
                }
                scope.set(capture.name, value, secret: capture.redact)
                // `redact`: the value is masked in every message and report, as a --secret is.
                if capture.redact { outcome.derivedSecrets.append(ValueText.plain(value)) }
                outcome.captures.append((capture.name, value, capture.redact))
            } catch {
                outcome.failure = failure(
                    from: error, entry: entry, kind: .capture,
                    prefix: "capture \(capture.name): ")
                return outcome
            }
        }

        for assert in spec.asserts {
            do {
                let value = try filtered(
                    try QueryEvaluator.evaluate(assert.query, in: context, variables: scope), assert.filters,
                    scope: scope, query: assert.query, redactor: redactor, stop: context.stop,
                    derived: &outcome.derivedSecrets)
                let result = try PredicateEvaluator.evaluate(
                    assert.predicate, actual: value, variables: scope, stop: context.stop)
                if !result.passed {
                    failures.append(
                        RunFailure(
                            kind: .assert, entry: entry, location: assert.location,
                            summary: assertSummary, actual: result.actual,
                            expected: result.expected))
                }
            } catch {
                failures.append(failure(from: error, entry: entry, kind: .assert))
            }
        }

        if let body = spec.body {
            do {
                if let failure = try checkBody(body, context: context, variables: scope, entry: entry) {
                    failures.append(failure)
                }
            } catch {
                failures.append(failure(from: error, entry: entry, kind: .assert))
            }
        }

        if let first = failures.first {
            outcome.failure = first.withOthers(Array(failures.dropFirst()))
        }
        return outcome
    }

    private static func checkVersion(_ spec: ResponseSpec, response: ProbeResponse, entry: Int) -> RunFailure? {
        let expected: String
        switch spec.version {
        case .any: return nil
        case .http1_0: expected = "1.0"
        case .http1_1: expected = "1.1"
        case .http2: expected = "2"
        case .http3: expected = "3"
        }
        guard response.httpVersion != expected else { return nil }
        return RunFailure(
            kind: .assert, entry: entry, location: spec.location, summary: "HTTP version",
            actual: "HTTP/\(response.httpVersion)", expected: "HTTP/\(expected)")
    }

    /// The implicit body assert: JSON compared as values, text compared exactly.
    private static func checkBody(
        _ body: Body, context: ResponseContext, variables: Variables,
        entry: Int
    ) throws(EvalError) -> RunFailure? {
        switch body.kind {
        case .bytes(let expected):
            return compareBytes(expected, context.response.body, body: body, entry: entry)
        case .file(let file):
            return compareBytes(file.contents ?? [], context.response.body, body: body, entry: entry)
        default: break
        }
        let bodyQuery = Query(kind: .body, location: body.location)
        guard case .string(let actualText)? = try QueryEvaluator.evaluate(bodyQuery, in: context, variables: variables)
        else {
            return RunFailure(
                kind: .assert, entry: entry, location: body.location, summary: "body",
                actual: "none", expected: "a body")
        }
        switch body.kind {
        case .json(let template):
            let expectedText = try TemplateRenderer.render(template, variables)
            let expected = try? JSON.parse(expectedText)
            let actual = try? JSON.parse(actualText)
            if let expected, let actual, jsonEqual(expected, actual) { return nil }
            return RunFailure(
                kind: .assert, entry: entry, location: body.location, summary: "JSON body",
                actual: abbreviate(actualText), expected: abbreviate(expectedText))
        case .multiline(let template, _), .oneline(let template), .graphql(let template, _):
            let expectedText = try TemplateRenderer.render(template, variables)
            if expectedText == actualText { return nil }
            return RunFailure(
                kind: .assert, entry: entry, location: body.location, summary: "body",
                actual: abbreviate(actualText), expected: abbreviate(expectedText))
        case .xml(let expectedText):
            if expectedText == actualText || expectedText + "\n" == actualText { return nil }
            return RunFailure(
                kind: .assert, entry: entry, location: body.location, summary: "XML body",
                actual: abbreviate(actualText), expected: abbreviate(expectedText))
        case .bytes, .file:
            return nil
        }
    }

    /// `base64,`, `hex,` and `file,` bodies: the response's bytes, exactly.
    private static func compareBytes(_ expected: [UInt8], _ actual: [UInt8], body: Body, entry: Int) -> RunFailure? {
        if expected == actual { return nil }
        func shown(_ bytes: [UInt8]) -> String {
            let hex = bytes.prefix(32).map { String(format: "%02x", $0) }.joined()
            return "hex,\(hex)\(bytes.count > 32 ? "…" : ""); (\(bytes.count) bytes)"
        }
        return RunFailure(
            kind: .assert, entry: entry, location: body.location, summary: "body bytes",
            actual: shown(actual), expected: shown(expected))
    }

    /// JSON equality where object key order does not matter.
    static func jsonEqual(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            var remaining: [String: Value] = [:]
            for pair in y { remaining[pair.key] = pair.value }
            for pair in x {
                guard let other = remaining[pair.key], jsonEqual(pair.value, other) else { return false }
            }
            return true
        case (.list(let x), .list(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { jsonEqual($0, $1) }
        default:
            return a == b
        }
    }

    static func abbreviate(_ text: String, limit: Int = 200) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: "\\n")
        return flat.count <= limit ? "<\(flat)>" : "<\(flat.prefix(limit))…> (\(text.utf8.count) bytes)"
    }

    static func failure(from error: Error, entry: Int, kind: ErrorKind, prefix: String = "") -> RunFailure {
        if let evalError = error as? EvalError {
            return RunFailure(
                kind: evalError.isTemplateError ? .template : kind, entry: entry,
                location: evalError.location, summary: prefix + evalError.message)
        }
        return RunFailure(
            kind: .internal, entry: entry, location: SourceLocation(line: 0, column: 0),
            summary: prefix + "\(error)")
    }
}

extension RunFailure {
    func withOthers(_ others: [RunFailure]) -> RunFailure {
        var copy = self
        copy.others = others
        return copy
    }
}
