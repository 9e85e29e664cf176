import SondeSupport

/// One HTTP request for the probe engine, fully rendered (no templates left).
package struct ProbeRequest: Sendable {
    package var method: String
    package var url: String
    /// Header lines in order; names as written.
    package var headers: [HTTPField]
    package var body: [UInt8]?
    /// Follow redirects (`location: true`); off by default as in Hurl.
    package var followRedirects: Bool = false
    /// `max-redirs`; nil is Hurl's default, 50 (-1: no limit).
    package var maxRedirects: Int? = nil
    /// `insecure: true`: skip peer and host verification.
    package var insecure: Bool = false
    /// Limit on the whole transfer (`max-time`, capped by the run deadline).
    package var maxTime: Duration? = nil
    /// Limit on connecting (`connect-timeout`).
    package var connectTimeout: Duration? = nil
    /// Connect (and handshake) only, sending no request: how the engine reads the certificate of a
    /// server whose certificate failed verification.
    package var connectOnly: Bool = false
    /// The other libcurl settings of `[Options]`.
    package var transport = TransportOptions()
    /// Body cap: the transfer is aborted as soon as more bytes arrive.
    package var bodyLimit: Int = 8 * 1024 * 1024
    /// The last request of its session (the last attempt of a run's last entry): the engine
    /// releases the session's connections, caches and cookie jar as soon as it completes, instead
    /// of when the run closes the session — which comes only after the run has been checked, once a
    /// pool thread takes it. A run waiting for a thread then holds no socket and no turn.
    package var endsSession: Bool = false

    package init(method: String, url: String, headers: [HTTPField] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}
