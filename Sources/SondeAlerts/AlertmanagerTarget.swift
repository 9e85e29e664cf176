import Foundation
import SondeProbe
import SondeSupport

/// One Alertmanager, checked once at start-up (`--alertmanager URL`, `SONDE_ALERTMANAGER`).
///
/// The URL is Alertmanager's base (`http://alertmanager:9093`, or with its route prefix
/// `http://host/alertmanager`); alerts go to `{URL}/api/v2/alerts`. The same rules as webhooks
/// apply: `http` or `https` only, and everything meant for people shows the URL masked, so
/// credentials in it (`https://user:pass@am.example.com`) never reach a log.
package struct AlertmanagerTarget: Sendable, Hashable, CustomStringConvertible {
    /// The environment variable read by `fromEnvironment(_:)`.
    static let environmentVariable = "SONDE_ALERTMANAGER"
    /// Where alerts are posted, after the base URL's path.
    static let apiPath = "/api/v2/alerts"

    /// The endpoint alerts are posted to (`{URL}/api/v2/alerts`), as a webhook target: the
    /// sender, its retries and its masking are the webhooks'.
    let endpoint: WebhookTarget
    /// The base URL masked for logs, e.g. `http://127.0.0.1:9093` or `https://am.example.com/…`.
    package let masked: String

    /// Parses and checks `text`: `http` or `https`, a host, a valid port, no query or fragment.
    /// - Parameter source: where the URL came from, for messages (`--alertmanager`, `SONDE_ALERTMANAGER`).
    package init(parsing text: String, source: String = "--alertmanager") throws(AlertmanagerTargetError) {
        let base: WebhookTarget
        do {
            base = try WebhookTarget(parsing: text, source: source)
        } catch {
            throw .invalid(error)
        }
        guard var components = URLComponents(string: base.url) else {
            throw .invalid(.notAURL(source: source, text: base.masked))
        }
        guard components.percentEncodedQuery == nil, components.percentEncodedFragment == nil else {
            throw .queryNotAllowed(source: source, masked: base.masked)
        }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        if path.hasSuffix(Self.apiPath) { path.removeLast(Self.apiPath.count) }
        components.percentEncodedPath = path + Self.apiPath
        guard let url = components.string else { throw .invalid(.notAURL(source: source, text: base.masked)) }
        do {
            endpoint = try WebhookTarget(parsing: url, source: source)
        } catch {
            throw .invalid(error)
        }
        var shown = base.masked
        if path.isEmpty, shown.hasSuffix("/…") { shown.removeLast(2) }
        masked = shown
    }

    /// Targets in a list separated by commas or whitespace (the form of `SONDE_ALERTMANAGER`).
    static func parseList(_ text: String, source: String = environmentVariable)
        throws(AlertmanagerTargetError) -> [AlertmanagerTarget]
    {
        var targets: [AlertmanagerTarget] = []
        for part in text.split(whereSeparator: { $0 == "," || $0.isWhitespace }) {
            targets.append(try AlertmanagerTarget(parsing: String(part), source: source))
        }
        return targets
    }

    /// Targets from `SONDE_ALERTMANAGER` (none when it is unset or blank).
    package static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(AlertmanagerTargetError) -> [AlertmanagerTarget]
    {
        guard let value = environment[environmentVariable] else { return [] }
        return try parseList(value, source: environmentVariable)
    }

    /// The masked base URL, so that string interpolation never leaks a secret.
    package var description: String { masked }
}

/// Why an Alertmanager URL was refused; messages show the URL masked.
package enum AlertmanagerTargetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL fails the webhook rules (empty, not a URL, not http(s), no host, bad port).
    case invalid(WebhookTargetError)
    /// A query or fragment: Alertmanager's base URL has neither.
    case queryNotAllowed(source: String, masked: String)

    /// A one-line, actionable message, e.g.
    /// `--alertmanager 'ftp://am:9093': only http and https URLs are supported`.
    package var description: String {
        switch self {
        case .invalid(let error):
            return error.description.replacingOccurrences(
                of: "https://hooks.example.com/…", with: "http://alertmanager:9093")
        case .queryNotAllowed(let source, let masked):
            return "\(source) '\(masked)': give Alertmanager's base URL without a query, e.g. http://alertmanager:9093"
        }
    }
}
