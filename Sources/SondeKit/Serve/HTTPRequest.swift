import Foundation

/// A request received by `HTTPServer`.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target as sent: `/api/search?q=zelda`.
    public var target: String
    /// The path, percent-decoded: `/api/search`.
    public var path: String
    /// The raw query string without `?`, when present.
    public var query: String?
    public var version: String
    public var headers: [HTTPField]
    public var body: [UInt8]

    public init(method: String, target: String, version: String, headers: [HTTPField], body: [UInt8]) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q]).removingPercentEncoding ?? String(target[..<q])
            query = String(target[target.index(after: q)...])
        } else {
            path = target.removingPercentEncoding ?? target
            query = nil
        }
    }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? { headers.first(name) }

    /// Decoded query parameters (`+` is a space).
    public var queryItems: [(name: String, value: String)] { Self.decodeForm(query ?? "") }

    /// Decoded `application/x-www-form-urlencoded` body fields.
    public var formItems: [(name: String, value: String)] { Self.decodeForm(String(decoding: body, as: UTF8.self)) }

    /// Cookies from the `Cookie` header(s).
    public var cookies: [String: String] {
        var out: [String: String] = [:]
        for header in headers.values(for: "Cookie") {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard let name = parts.first else { continue }
                out[name.trimmingCharacters(in: .whitespaces)] = parts.count > 1 ? String(parts[1]) : ""
            }
        }
        return out
    }

    static func decodeForm(_ text: String) -> [(name: String, value: String)] {
        text.split(separator: "&").map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let plus = s.replacingOccurrences(of: "+", with: " ")
                return plus.removingPercentEncoding ?? plus
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}
