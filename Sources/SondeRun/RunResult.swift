import Foundation
import SondeProbe
import SondeScript
import SondeSupport

/// The outcome of one run of a check script: every entry that ran, and the first failure.
package struct RunResult: Sendable {
    /// Check name (file name without `.hurl`).
    package var check: String
    /// Path of the script as given.
    package var path: String
    /// Wall-clock start of the run.
    package var startedAt: Date
    /// Duration of the whole run in milliseconds.
    package var durationMs: Double
    /// Entries that ran, in order (a run stops at its first failing entry).
    package var entries: [EntryResult]
    /// The first failure, or `nil` when every entry passed.
    package var failure: RunFailure?

    /// True when every entry passed.
    package var ok: Bool { failure == nil }

    /// Days until the earliest leaf-certificate expiry seen in this run (HTTPS only), a
    /// certificate that failed verification included.
    package var certificateDaysLeft: Double? {
        guard let soonest = soonestCertificate?.expireDate else { return nil }
        return soonest.timeIntervalSince(startedAt) / 86_400
    }

    /// The leaf certificate of this run that expires first (a rejected one included); nil when no
    /// entry received one with an expiry date.
    package var soonestCertificate: CertificateInfo? {
        entries.compactMap(\.certificate).filter { $0.expireDate != nil }
            .min { ($0.expireDate ?? .distantFuture) < ($1.expireDate ?? .distantFuture) }
    }

    /// Values carried by `Authorization`, `Proxy-Authorization`, `Cookie` and `Set-Cookie` headers in
    /// this run (whole values, credentials after the scheme, cookie values), for the redactor: a token
    /// sent as `Bearer x` must not show up either when a response body echoes it.
    package var sensitiveValues: [String] {
        var out: Set<String> = []
        func add(_ value: String) {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if trimmed.count >= 4 { out.insert(trimmed) }
        }
        for entry in entries {
            for derived in entry.derivedSecrets { add(derived) }
            let headers = (entry.request?.headers ?? []) + (entry.response?.headers ?? [])
            for header in headers where Redactor.isSensitiveHeader(header.name) {
                add(header.value)
                switch header.name.lowercased() {
                case "authorization", "proxy-authorization":
                    if let space = header.value.firstIndex(of: " ") { add(String(header.value[space...])) }
                default:
                    for pair in header.value.split(separator: ";") {
                        guard let equals = pair.firstIndex(of: "=") else { continue }
                        let name = pair[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
                        if ["path", "domain", "expires", "max-age", "samesite"].contains(name) { continue }
                        add(String(pair[pair.index(after: equals)...]))
                    }
                }
            }
        }
        return Array(out)
    }
}

/// One entry (request) of a run.
package struct EntryResult: Sendable {
    /// 1-based index of the entry in the script.
    package var index: Int
    /// Line of the request in the script.
    package var line: Int
    /// The request as sent on the last attempt (secrets and sensitive headers still present: redact before printing).
    package var request: ProbeRequest?
    /// The response of the last attempt, when one arrived.
    package var response: ProbeResponse?
    /// Number of attempts (1 + retries used).
    package var attempts: Int
    /// True when `skip: true` left this entry out.
    package var skipped: Bool = false
    /// The failure of the last attempt, when the entry failed.
    package var failure: RunFailure?
    /// The certificate the server presented when it failed verification (no response then).
    package var rejectedCertificate: CertificateInfo? = nil
    /// Texts that filters made out of a secret (its base64, its hex, a decoded part…): redacted like
    /// the secret itself, since the run-of-8 rule cannot see through an encoding.
    package var derivedSecrets: [String] = []

    /// The leaf certificate of the last attempt: the response's, or the rejected one.
    package var certificate: CertificateInfo? { response?.certificate ?? rejectedCertificate }
}

/// Why a run failed: exactly one error kind, where, and a one-line message.
package struct RunFailure: Error, Sendable, Equatable, CustomStringConvertible {
    package var kind: ErrorKind
    /// 1-based index of the failing entry.
    package var entry: Int
    /// Position in the script of what failed (the assert, the placeholder, the request line...).
    package var location: SourceLocation
    /// What went wrong, without the position (e.g. `jsonpath "$.count" == 5`).
    package var summary: String
    /// Actual value description for asserts (`integer <4>`).
    package var actual: String?
    /// Expected value description for asserts (`integer <5>`).
    package var expected: String?
    /// Further failing asserts of the same entry, for display (each with its own location).
    package var others: [RunFailure] = []

    /// One line naming the entry's line and, for asserts, actual vs expected.
    package var message: String {
        var text = "entry \(entry) line \(location.line): \(summary)"
        if let actual, let expected {
            text += " (actual: \(actual), expected: \(expected))"
        }
        return text
    }

    package var description: String { message }

    /// Hurl-style title of the error block.
    package var title: String {
        switch kind {
        case .dns: return "Could not resolve host"
        case .connect: return "HTTP connection"
        case .tls: return "TLS"
        case .timeout: return "Timeout"
        case .protocol: return "Malformed HTTP response"
        case .tooLarge: return "Response too large"
        case .status: return "Assert status code"
        case .header: return "Assert header value"
        case .assert: return "Assert failure"
        case .capture: return "Capture failure"
        case .template: return "Undefined variable or template error"
        case .internal: return "Internal error"
        }
    }

    /// True for failures of the service's answer (exit 4); false for runtime errors (exit 3).
    package var isAssertion: Bool {
        switch kind {
        case .status, .header, .assert: return true
        default: return false
        }
    }
}
