import SondeProbe
import SondeSupport

/// Why a webhook URL was refused. Messages name where the URL came from (`--webhook` or
/// `SONDE_WEBHOOK`) and show it masked, so that a secret in it never reaches a log.
package enum WebhookTargetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing was given, e.g. `--webhook ''`.
    case empty(source: String)
    /// The text does not parse as a URL (spaces, no scheme, …); `text` is shown without user-info.
    case notAURL(source: String, text: String)
    /// A scheme other than `http` or `https`; `masked` is the URL as logs show it.
    case unsupportedScheme(source: String, masked: String)
    /// No host, e.g. `http:///hook`.
    case missingHost(source: String, masked: String)
    /// A port outside 1…65535.
    case invalidPort(source: String, masked: String)

    /// A one-line, actionable message, e.g.
    /// `--webhook 'ftp://x': only http and https URLs are supported`.
    package var description: String {
        switch self {
        case .empty(let source):
            return "\(source): empty URL; give a full URL such as https://hooks.example.com/…"
        case .notAURL(let source, let text):
            return "\(source) '\(text)': not a URL; give a full URL such as https://hooks.example.com/…"
        case .unsupportedScheme(let source, let masked):
            return "\(source) '\(masked)': only http and https URLs are supported"
        case .missingHost(let source, let masked):
            return "\(source) '\(masked)': the URL has no host; give one, e.g. https://hooks.example.com/…"
        case .invalidPort(let source, let masked):
            return "\(source) '\(masked)': the port must be between 1 and 65535"
        }
    }
}
