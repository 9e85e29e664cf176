import SondeSupport

/// One parsed HTTP/1.x request as the embedded server hands it to a handler.
///
/// `target` is the request target exactly as sent; `path` and `query` are derived from it
/// (absolute-form targets such as `http://host/p?q` are reduced to their path and query).
package struct HTTPRequest: Sendable {
    /// The method token as sent, e.g. `"GET"` (case-sensitive, as HTTP says).
    package var method: String
    /// The request target as sent, e.g. `"/api/search?q=zelda"`.
    var target: String
    /// The path of the target, percent-decoded, e.g. `"/api/search"`.
    package var path: String
    /// The raw query string after `?` (not decoded), or nil when the target has no `?`.
    var query: String?
    /// The protocol version, e.g. `"HTTP/1.1"`.
    package var version: String
    /// Header fields in the order received; names as written.
    var headers: [HTTPField]
    /// The request body, already de-chunked when it was sent with chunked transfer encoding.
    package var body: [UInt8]

    /// Builds a request from its parts, deriving `path` and `query` from `target`.
    /// Handy for calling a handler directly in unit tests.
    init(
        method: String, target: String, version: String = "HTTP/1.1",
        headers: [HTTPField] = [], body: [UInt8] = []
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        let (rawPath, query) = HTTPRequest.splitTarget(target)
        self.path = URLEncoding.percentDecode(rawPath, plusAsSpace: false)
        self.query = query
    }

    /// Query items of `query`, in order, percent-decoded with `+` read as a space.
    /// An item without `=` has an empty value; empty items (`a=1&&b=2`) are skipped.
    package var queryItems: [(name: String, value: String)] {
        guard let query else { return [] }
        return URLEncoding.parseForm(query)
    }

    /// The first value of the header `name`, compared case-insensitively.
    package func header(_ name: String) -> String? {
        headers.first(name)
    }

    /// Cookies from every `Cookie` header (`a=1; b=2`). When a name repeats, the first wins.
    package var cookies: [String: String] {
        var result: [String: String] = [:]
        for line in headers.values(for: "Cookie") {
            for part in line.split(separator: ";") {
                let pair = part.trimmingHTTPWhitespace()
                guard let eq = pair.firstIndex(of: "=") else { continue }
                let name = String(pair[..<eq]).trimmingHTTPWhitespace()
                var value = String(pair[pair.index(after: eq)...]).trimmingHTTPWhitespace()
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                    value = String(value.dropFirst().dropLast())
                }
                if !name.isEmpty, result[name] == nil { result[name] = value }
            }
        }
        return result
    }

    /// The body read as `application/x-www-form-urlencoded` (whatever the Content-Type says),
    /// decoded as `queryItems` is.
    package var formItems: [(name: String, value: String)] {
        URLEncoding.parseForm(String(decoding: body, as: UTF8.self))
    }

    /// Splits a request target into raw path and raw query. Absolute-form targets
    /// (`http://host:1/p?q`) lose their scheme and authority; a fragment is dropped.
    static func splitTarget(_ target: String) -> (path: String, query: String?) {
        var rest = Substring(target)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        if !rest.hasPrefix("/"), let schemeEnd = rest.range(of: "://") {
            let afterScheme = rest[schemeEnd.upperBound...]
            if let slash = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                rest = afterScheme[slash...]
                if rest.hasPrefix("?") { rest = "/" + rest }
            } else {
                rest = "/"
            }
        }
        if let q = rest.firstIndex(of: "?") {
            return (String(rest[..<q]), String(rest[rest.index(after: q)...]))
        }
        return (String(rest), nil)
    }
}

/// Percent-encoding helpers shared by the server and the demo shop.
enum URLEncoding {
    /// Decodes `%XX` escapes (and `+` as a space when asked). Malformed escapes stay literal;
    /// invalid UTF-8 is repaired with U+FFFD rather than rejected.
    static func percentDecode(_ s: String, plusAsSpace: Bool) -> String {
        let utf8 = Array(s.utf8)
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) else {
            return s
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            let c = utf8[i]
            if c == UInt8(ascii: "%"), i + 2 < utf8.count,
                let hi = hexValue(utf8[i + 1]), let lo = hexValue(utf8[i + 2])
            {
                out.append(hi << 4 | lo)
                i += 3
            } else if plusAsSpace, c == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
                i += 1
            } else {
                out.append(c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `a=1&b=x+y` into decoded pairs, skipping empty items.
    static func parseForm(_ s: String) -> [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        for part in s.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = part.firstIndex(of: "=") {
                items.append(
                    (
                        percentDecode(String(part[..<eq]), plusAsSpace: true),
                        percentDecode(String(part[part.index(after: eq)...]), plusAsSpace: true)
                    ))
            } else {
                items.append((percentDecode(String(part), plusAsSpace: true), ""))
            }
        }
        return items
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
