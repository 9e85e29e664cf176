/// A response for `HTTPServer` to send.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        /// Sent with `Content-Length`.
        case bytes([UInt8])
        /// Sent with `Transfer-Encoding: chunked`, one chunk per element.
        case chunked([[UInt8]])
        /// Produced on the connection thread; `write` returns false once the client is gone or the
        /// server stops. A nil length sends chunks.
        case stream(length: Int?, producer: @Sendable (_ write: ([UInt8]) -> Bool) -> Void)
    }

    /// Special behaviours for fault tests.
    enum Mode: Sendable {
        case normal
        /// Write bytes verbatim, then close.
        case raw([UInt8])
        /// Never answer; hold the connection until the client closes it or the server stops.
        case silent
    }

    public var status: Int
    public var headers: [HTTPField]
    public var body: Body
    var mode: Mode = .normal

    public init(status: Int, headers: [HTTPField] = [], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Writes these bytes verbatim (no status line added) and closes: malformed-HTTP tests.
    public static func raw(_ bytes: [UInt8]) -> HTTPResponse {
        var r = HTTPResponse(status: 0)
        r.mode = .raw(bytes)
        return r
    }

    /// Never answers.
    public static var noResponse: HTTPResponse {
        var r = HTTPResponse(status: 0)
        r.mode = .silent
        return r
    }

    public static func text(_ s: String, status: Int = 200, headers: [HTTPField] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [HTTPField(name: "Content-Type", value: "text/plain; charset=utf-8")] + headers,
                     body: .bytes(Array(s.utf8)))
    }

    public static func json(_ s: String, status: Int = 200, headers: [HTTPField] = []) -> HTTPResponse {
        HTTPResponse(status: status,
                     headers: [HTTPField(name: "Content-Type", value: "application/json; charset=utf-8")] + headers,
                     body: .bytes(Array(s.utf8)))
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 413: return "Content Too Large"
        case 418: return "I'm a teapot"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status \(status)"
        }
    }
}
