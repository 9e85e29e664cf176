import Foundation

/// The outcome of one run of a check script: every entry that ran, and the first failure.
public struct RunResult: Sendable {
    /// Check name (file name without `.hurl`).
    public var check: String
    /// Path of the script as given.
    public var path: String
    /// Wall-clock start of the run.
    public var startedAt: Date
    /// Duration of the whole run in milliseconds.
    public var durationMs: Double
    /// Entries that ran, in order (a run stops at its first failing entry).
    public var entries: [EntryResult]
    /// The first failure, or `nil` when every entry passed.
    public var failure: RunFailure?

    /// True when every entry passed.
    public var ok: Bool { failure == nil }

    /// Days until the earliest leaf-certificate expiry seen in this run (HTTPS only).
    public var certificateDaysLeft: Double? {
        let dates = entries.compactMap { $0.response?.certificate?.expireDate }
        guard let soonest = dates.min() else { return nil }
        return soonest.timeIntervalSince(startedAt) / 86_400
    }

    /// Values carried by `Authorization`, `Proxy-Authorization`, `Cookie` and `Set-Cookie` headers in
    /// this run (whole values, credentials after the scheme, cookie values), for the redactor: a token
    /// sent as `Bearer x` must not show up either when a response body echoes it.
    public var sensitiveValues: [String] {
        var out: Set<String> = []
        func add(_ value: String) {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if trimmed.count >= 4 { out.insert(trimmed) }
        }
        for entry in entries {
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

    public init(check: String, path: String, startedAt: Date, durationMs: Double, entries: [EntryResult],
                failure: RunFailure?) {
        self.check = check
        self.path = path
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.entries = entries
        self.failure = failure
    }
}

/// One entry (request) of a run.
public struct EntryResult: Sendable {
    /// 1-based index of the entry in the script.
    public var index: Int
    /// Line of the request in the script.
    public var line: Int
    /// The request as sent on the last attempt (secrets and sensitive headers still present: redact before printing).
    public var request: ProbeRequest?
    /// The response of the last attempt, when one arrived.
    public var response: ProbeResponse?
    /// Number of attempts (1 + retries used).
    public var attempts: Int
    /// True when `skip: true` left this entry out.
    public var skipped: Bool
    /// The failure of the last attempt, when the entry failed.
    public var failure: RunFailure?

    public init(index: Int, line: Int, request: ProbeRequest?, response: ProbeResponse?, attempts: Int,
                skipped: Bool = false, failure: RunFailure? = nil) {
        self.index = index
        self.line = line
        self.request = request
        self.response = response
        self.attempts = attempts
        self.skipped = skipped
        self.failure = failure
    }
}

/// Why a run failed: exactly one error kind, where, and a one-line message.
public struct RunFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var kind: ErrorKind
    /// 1-based index of the failing entry.
    public var entry: Int
    /// Position in the script of what failed (the assert, the placeholder, the request line...).
    public var location: SourceLocation
    /// What went wrong, without the position (e.g. `jsonpath "$.count" == 5`).
    public var summary: String
    /// Actual value description for asserts (`integer <4>`).
    public var actual: String?
    /// Expected value description for asserts (`integer <5>`).
    public var expected: String?
    /// Further failing asserts of the same entry, for display (each with its own location).
    public var others: [RunFailure]

    public init(kind: ErrorKind, entry: Int, location: SourceLocation, summary: String,
                actual: String? = nil, expected: String? = nil, others: [RunFailure] = []) {
        self.kind = kind
        self.entry = entry
        self.location = location
        self.summary = summary
        self.actual = actual
        self.expected = expected
        self.others = others
    }

    /// One line naming the entry's line and, for asserts, actual vs expected.
    public var message: String {
        var text = "entry \(entry) line \(location.line): \(summary)"
        if let actual, let expected {
            text += " (actual: \(actual), expected: \(expected))"
        }
        return text
    }

    public var description: String { message }

    /// Hurl-style title of the error block.
    public var title: String {
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
    public var isAssertion: Bool {
        switch kind {
        case .status, .header, .assert: return true
        default: return false
        }
    }
}
