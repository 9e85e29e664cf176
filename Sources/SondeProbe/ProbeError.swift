import SondeSupport

/// A transfer that did not produce a response. Each maps to one error kind (docs/data-format.md,
/// "Error kinds").
package enum ProbeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Name resolution failed.
    case dns(String)
    /// TCP connection failed (refused, unreachable).
    case connect(String)
    /// TLS handshake failed.
    case tls(String)
    /// The server's certificate failed verification (kind `tls`). `certificate` is the leaf
    /// certificate it presented, read on a second handshake that does not verify (libcurl keeps no
    /// certificate information for a handshake that failed verification); nil when that failed too.
    case untrusted(String, certificate: CertificateInfo?)
    /// `max-time`, `connect-timeout` or the run deadline expired.
    case timeout(String)
    /// Malformed HTTP from the server, or a transfer cut short.
    case `protocol`(String)
    /// The body exceeded the cap (bytes).
    case tooLarge(limit: Int)
    /// Anything else (bad URL, out of memory, libcurl misuse).
    case `internal`(String)

    /// The error kind name (docs/data-format.md, "Error kinds").
    package var kind: ErrorKind {
        switch self {
        case .dns: return .dns
        case .connect: return .connect
        case .tls, .untrusted: return .tls
        case .timeout: return .timeout
        case .protocol: return .protocol
        case .tooLarge: return .tooLarge
        case .internal: return .internal
        }
    }

    package var description: String {
        switch self {
        case .dns(let m), .connect(let m), .tls(let m), .timeout(let m), .protocol(let m), .internal(let m):
            return m
        case .untrusted(let m, _):
            return m
        case .tooLarge(let limit):
            return "response body larger than \(limit) bytes; aborted"
        }
    }
}

/// The one error kind every failed run carries (docs/data-format.md, "Error kinds").
package enum ErrorKind: String, Sendable, Equatable, CaseIterable, Codable {
    case dns, connect, tls, timeout, `protocol`
    case tooLarge = "too-large"
    case status, header, assert, capture, template, `internal`
}
