import Foundation
import SondeSupport

/// What the probe engine observed for one request.
package struct ProbeResponse: Sendable {
    /// HTTP status of the last response (after redirects when followed).
    package var status: Int
    /// `"1.0"`, `"1.1"`, `"2"` or `"3"`.
    package var httpVersion: String
    /// Headers of the last response, in order.
    package var headers: [HTTPField]
    package var body: [UInt8]
    /// The final URL (after redirects when followed).
    package var effectiveURL: String
    package var timings: PhaseTimings
    /// Leaf certificate of an HTTPS connection.
    package var certificate: CertificateInfo?
    /// Number of redirects followed.
    var redirects: Int
    /// The redirects followed, in order: each redirect's status and the absolute URL it led to.
    package var redirectChain: [(status: Int, location: String)] = []
    /// The address of the server the last response came from (libcurl's primary IP).
    package var primaryIP: String = ""
}

/// Per-phase durations of one request, in milliseconds with microsecond precision, and its body
/// size: what the engine measures and what a run line's `steps` store (`docs/data-format.md`,
/// "Run lines"). dns = name lookup; connect = TCP connect; tls = handshake (0 for plain HTTP);
/// ttfb = start_transfer − pre_transfer; transfer = total − start_transfer.
package struct PhaseTimings: Sendable, Equatable {
    /// Name lookup, ms.
    package var dns: Double
    /// TCP connect, ms.
    package var connect: Double
    /// TLS handshake, ms; 0 for plain HTTP.
    package var tls: Double
    /// Server time: first byte − request ready, ms.
    package var ttfb: Double
    /// Total − first byte, ms.
    package var transfer: Double
    /// The whole request, ms.
    package var total: Double
    /// Bytes of the response body received.
    package var bytes: Int

    package init(
        dns: Double = 0, connect: Double = 0, tls: Double = 0, ttfb: Double = 0, transfer: Double = 0,
        total: Double = 0, bytes: Int = 0
    ) {
        self.dns = dns
        self.connect = connect
        self.tls = tls
        self.ttfb = ttfb
        self.transfer = transfer
        self.total = total
        self.bytes = bytes
    }

    /// Adds `other` field by field: the timings of several requests summed.
    package static func += (sum: inout PhaseTimings, other: PhaseTimings) {
        sum.dns += other.dns
        sum.connect += other.connect
        sum.tls += other.tls
        sum.ttfb += other.ttfb
        sum.transfer += other.transfer
        sum.total += other.total
        sum.bytes += other.bytes
    }
}

/// The leaf certificate of a TLS connection.
package struct CertificateInfo: Sendable, Equatable {
    package var subject: String
    package var issuer: String
    package var startDate: Date?
    package var expireDate: Date?
    package var serialNumber: String
    /// The subject alternative names as OpenSSL prints them (`DNS:example.org, IP Address:127.0.0.1`).
    package var subjectAltName: String = ""
}
