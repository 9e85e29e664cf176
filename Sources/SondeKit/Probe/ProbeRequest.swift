/// One HTTP request for the probe engine, fully rendered (no templates left).
public struct ProbeRequest: Sendable {
    public var method: String
    public var url: String
    /// Header lines in order; names as written.
    public var headers: [HTTPField]
    public var body: [UInt8]?
    /// Follow redirects (`location: true`); off by default as in Hurl.
    public var followRedirects: Bool = false
    /// `max-redirs`; nil leaves libcurl's default (Hurl: 50).
    public var maxRedirects: Int? = nil
    /// `insecure: true`: skip peer and host verification.
    public var insecure: Bool = false
    /// Limit on the whole transfer (`max-time`, capped by the run deadline).
    public var maxTime: Duration? = nil
    /// Limit on connecting (`connect-timeout`).
    public var connectTimeout: Duration? = nil
    /// Body cap: the transfer is aborted as soon as more bytes arrive.
    public var bodyLimit: Int = 8 * 1024 * 1024

    public init(method: String, url: String, headers: [HTTPField] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// A header name and value.
public struct HTTPField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HTTPField {
    /// Values of the headers named `name` (case-insensitive), in order.
    public func values(for name: String) -> [String] {
        let lower = name.lowercased()
        return filter { $0.name.lowercased() == lower }.map(\.value)
    }

    /// The first value of the header named `name` (case-insensitive).
    public func first(_ name: String) -> String? {
        let lower = name.lowercased()
        return first { $0.name.lowercased() == lower }?.value
    }
}
