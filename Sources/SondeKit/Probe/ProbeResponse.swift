import Foundation

/// What the probe engine observed for one request.
public struct ProbeResponse: Sendable {
    /// HTTP status of the last response (after redirects when followed).
    public var status: Int
    /// `"1.0"`, `"1.1"`, `"2"` or `"3"`.
    public var httpVersion: String
    /// Headers of the last response, in order.
    public var headers: [HTTPField]
    public var body: [UInt8]
    /// The final URL (after redirects when followed).
    public var effectiveURL: String
    public var timings: PhaseTimings
    /// Leaf certificate of an HTTPS connection.
    public var certificate: CertificateInfo?
    /// Number of redirects followed.
    public var redirects: Int

    public init(status: Int, httpVersion: String, headers: [HTTPField], body: [UInt8], effectiveURL: String,
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

/// Per-phase durations of one request, in milliseconds with microsecond precision (design §5).
/// dns = name lookup; connect = TCP connect; tls = handshake (0 for plain HTTP);
/// ttfb = start_transfer − pre_transfer; transfer = total − start_transfer.
public struct PhaseTimings: Sendable, Equatable {
    public var dns: Double
    public var connect: Double
    public var tls: Double
    public var ttfb: Double
    public var transfer: Double
    public var total: Double
    /// Bytes of the response body received.
    public var bytes: Int

    public init(dns: Double = 0, connect: Double = 0, tls: Double = 0, ttfb: Double = 0, transfer: Double = 0,
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
public struct CertificateInfo: Sendable, Equatable {
    public var subject: String
    public var issuer: String
    public var startDate: Date?
    public var expireDate: Date?
    public var serialNumber: String

    public init(subject: String, issuer: String, startDate: Date?, expireDate: Date?, serialNumber: String) {
        self.subject = subject
        self.issuer = issuer
        self.startDate = startDate
        self.expireDate = expireDate
        self.serialNumber = serialNumber
    }
}
