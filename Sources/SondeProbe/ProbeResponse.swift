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
    package var redirects: Int

    package init(status: Int, httpVersion: String, headers: [HTTPField], body: [UInt8], effectiveURL: String,
                timings: PhaseTimings, certificate: CertificateInfo?, redirects: Int) {
        self.status = status
        self.httpVersion = httpVersion
        self.headers = headers
        self.body = body
        self.effectiveURL = effectiveURL
        self.timings = timings
        self.certificate = certificate
        self.redirects = redirects
    }
}

/// Per-phase durations of one request, in milliseconds with microsecond precision
/// (docs/data-format.md, "Run lines"). dns = name lookup; connect = TCP connect; tls = handshake (0
/// for plain HTTP); ttfb = start_transfer − pre_transfer; transfer = total − start_transfer.
package struct PhaseTimings: Sendable, Equatable {
    package var dns: Double
    package var connect: Double
    package var tls: Double
    package var ttfb: Double
    package var transfer: Double
    package var total: Double
    /// Bytes of the response body received.
    package var bytes: Int

    package init(dns: Double = 0, connect: Double = 0, tls: Double = 0, ttfb: Double = 0, transfer: Double = 0,
                total: Double = 0, bytes: Int = 0) {
        self.dns = dns
        self.connect = connect
        self.tls = tls
        self.ttfb = ttfb
        self.transfer = transfer
        self.total = total
        self.bytes = bytes
    }
}

/// The leaf certificate of a TLS connection.
package struct CertificateInfo: Sendable, Equatable {
    package var subject: String
    package var issuer: String
    package var startDate: Date?
    package var expireDate: Date?
    package var serialNumber: String

    package init(subject: String, issuer: String, startDate: Date?, expireDate: Date?, serialNumber: String) {
        self.subject = subject
        self.issuer = issuer
        self.startDate = startDate
        self.expireDate = expireDate
        self.serialNumber = serialNumber
    }
}
