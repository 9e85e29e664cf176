import SondeProbe
import SondeSupport

/// How one webhook attempt ended, and whether another is worth it.
enum WebhookVerdict: Equatable {
    /// 2xx.
    case delivered
    /// Worth another try (5xx, 408, 429, network failures); `retryAfter` from the answer.
    case retry(reason: String, retryAfter: Duration?)
    /// Retrying will not help (3xx, other 4xx, a URL libcurl refuses, an oversized answer).
    case final(reason: String)

    /// Judges one attempt; reasons are one line and never quote the full URL of `target`.
    init(_ result: Result<ProbeResponse, ProbeError>, target: WebhookTarget) {
        switch result {
        case .success(let response):
            self = WebhookVerdict(response: response, target: target)
        case .failure(let error):
            let reason = WebhookVerdict.reason(for: error, target: target)
            switch error {
            case .dns, .connect, .tls, .untrusted, .timeout, .protocol:
                self = .retry(reason: reason, retryAfter: nil)
            case .tooLarge, .internal:
                self = .final(reason: reason)
            }
        }
    }

    private init(response: ProbeResponse, target: WebhookTarget) {
        let status = response.status
        if (200..<300).contains(status) {
            self = .delivered
            return
        }
        var reason = "HTTP \(status)"
        let snippet = WebhookVerdict.snippet(response.body, target: target)
        if !snippet.isEmpty { reason += " \(snippet)" }
        switch status {
        case 408, 429, 500..<600:
            let retryAfter = response.headers.first("Retry-After")
                .flatMap { Int($0.trimmingHTTPWhitespace()) }
                .flatMap { $0 >= 0 ? Duration.seconds($0) : nil }
            self = .retry(reason: reason, retryAfter: retryAfter)
        case 300..<400:
            self = .final(reason: reason + "; redirects are not followed: give the final URL")
        default:
            self = .final(
                reason: reason + "; retrying will not change this answer: check the URL and the target's settings")
        }
    }

    /// The start of an answer body on one line (at most 100 characters), e.g. Slack's
    /// `invalid_token`; empty when there is none.
    private static func snippet(_ body: [UInt8], target: WebhookTarget) -> String {
        guard !body.isEmpty else { return "" }
        let text = String(decoding: body.prefix(400), as: UTF8.self)
        let oneLine = text.split(whereSeparator: { $0.isNewline || $0 == "\t" }).joined(separator: " ")
            .trimmingHTTPWhitespace()
        guard !oneLine.isEmpty else { return "" }
        let short = oneLine.count > 100 ? String(oneLine.prefix(100)) + "…" : oneLine
        return "'" + target.redact(short) + "'"
    }

    /// The engine's message without the URL it names (the event names the target already),
    /// e.g. `cannot connect: Failed to connect to 127.0.0.1 port 9 after 0 ms: Connection refused`.
    static func reason(for error: ProbeError, target: WebhookTarget) -> String {
        var text = error.description.replacingOccurrences(of: target.url, with: "\u{0}")
        for joiner in [" to ", " for ", " of ", " with ", " from "] {
            text = text.replacingOccurrences(of: joiner + "\u{0}", with: "")
        }
        text = text.replacingOccurrences(of: "\u{0}", with: target.masked)
        return target.redact(text)
    }
}
