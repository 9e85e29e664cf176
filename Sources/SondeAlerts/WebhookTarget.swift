import Foundation
import SondeProbe
import SondeSupport

/// One webhook URL, checked once at start-up (`--webhook URL`, `SONDE_WEBHOOK`).
///
/// The full URL is kept for sending only; everything meant for people — `masked`, `description`,
/// error messages — hides the user-info, path and query, where webhook secrets live
/// (`https://hooks.slack.com/services/T0/B0/XXXX` logs as `https://hooks.slack.com/…`).
package struct WebhookTarget: Sendable, Hashable, CustomStringConvertible {
    /// The environment variable read by `fromEnvironment(_:)`.
    static let environmentVariable = "SONDE_WEBHOOK"

    /// The URL as given, credentials included. Send to it; never log it.
    package let url: String
    /// `scheme://host[:port]` followed by `/…` when the URL has a path or query, e.g.
    /// `https://hooks.slack.com/…` or `http://127.0.0.1:8080/…`. Safe for logs.
    package let masked: String

    /// Secret parts of `url` (user-info, path, query), longest first; `redact(_:)` hides them.
    private let secrets: [String]

    /// Parses and checks `text`: `http` or `https`, a host, a valid port.
    /// - Parameter source: where the URL came from, for messages (`--webhook`, `SONDE_WEBHOOK`).
    package init(parsing text: String, source: String = "--webhook") throws(WebhookTargetError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .empty(source: source) }
        guard let components = URLComponents(string: trimmed), let rawScheme = components.scheme,
            trimmed.contains("://")
        else {
            throw .notAURL(source: source, text: Self.roughMask(trimmed))
        }
        let scheme = rawScheme.lowercased()
        let host = (components.percentEncodedHost ?? "").lowercased()
        var masked = "\(scheme)://\(host)"
        if let port = components.port { masked += ":\(port)" }
        let path = components.percentEncodedPath
        if (!path.isEmpty && path != "/") || components.percentEncodedQuery != nil
            || components.percentEncodedFragment != nil
        {
            masked += "/…"
        }
        guard scheme == "http" || scheme == "https" else { throw .unsupportedScheme(source: source, masked: masked) }
        guard !host.isEmpty else { throw .missingHost(source: source, masked: masked) }
        if let port = components.port, !(1...65535).contains(port) {
            throw .invalidPort(source: source, masked: masked)
        }
        self.url = trimmed
        self.masked = masked
        // Parts shorter than 3 characters are left alone: hiding every "a" would garble messages.
        let parts = [
            components.percentEncodedUser, components.percentEncodedPassword, path,
            components.percentEncodedQuery,
        ].compactMap { $0 }.filter { $0.count >= 3 }
        self.secrets = parts.sorted { $0.count > $1.count }
    }

    /// Targets in a list separated by commas or whitespace (the form of `SONDE_WEBHOOK`).
    /// An empty or blank list gives no targets.
    static func parseList(_ text: String, source: String = environmentVariable) throws(WebhookTargetError)
        -> [WebhookTarget]
    {
        var targets: [WebhookTarget] = []
        let parts = text.split { $0 == "," || $0.isWhitespace }
        for part in parts {
            targets.append(try WebhookTarget(parsing: String(part), source: source))
        }
        return targets
    }

    /// Targets from `SONDE_WEBHOOK` (none when it is unset or blank).
    package static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(WebhookTargetError) -> [WebhookTarget]
    {
        guard let value = environment[environmentVariable] else { return [] }
        return try parseList(value, source: environmentVariable)
    }

    /// The masked URL, so that string interpolation never leaks the secret.
    package var description: String { masked }

    /// `text` with the URL, its user-info, path and query replaced by `…` (for messages that
    /// libcurl or the target wrote, which may quote the URL).
    func redact(_ text: String) -> String {
        var out = text.replacingOccurrences(of: url, with: masked)
        for secret in secrets {
            out = out.replacingOccurrences(of: secret, with: "…")
        }
        return out
    }

    /// For unparsable input in an error message: keeps what looks like scheme and host, drops
    /// user-info and everything from the first `/` after the host.
    private static func roughMask(_ text: String) -> String {
        let start = text.range(of: "://")?.upperBound ?? text.startIndex
        var authority = text[start...]
        var cut = false
        if let slash = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            authority = authority[..<slash]
            cut = true
        }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        return String(text[..<start]) + authority + (cut ? "/…" : "")
    }

    package static func == (a: WebhookTarget, b: WebhookTarget) -> Bool { a.url == b.url }
    package func hash(into hasher: inout Hasher) { hasher.combine(url) }
}
