import SondeSupport

/// A response for the embedded server to send.
///
/// The server adds `Date` (unless given), the framing header (`Content-Length` or
/// `Transfer-Encoding: chunked`; any given by the handler are replaced) and `Connection: close`
/// when it closes the connection afterwards. A handler header `Connection: close` makes the
/// server close after this response.
package struct HTTPResponse: Sendable {
    /// How the body is produced and framed.
    package enum Body: Sendable {
        /// A complete body, sent with `Content-Length`.
        case bytes([UInt8])
        /// Sent with `Transfer-Encoding: chunked`, one chunk per non-empty element.
        case chunked([[UInt8]])
        /// Produced by a closure on the connection thread; `write` returns false once the client is gone.
        /// length nil → chunked. Used for huge (200 MiB) or slow (dribbling) bodies.
        ///
        /// Each `write` is sent at once (one chunk when chunked). With a `length`, bytes past it are
        /// dropped (and `write` returns false); a producer that writes fewer makes the server close
        /// the connection, so the client sees a short body. `write` also returns false once the
        /// server is stopping: producers that loop or sleep should check it.
        case stream(length: Int?, producer: @Sendable (_ write: ([UInt8]) -> Bool) -> Void)
    }

    /// Special behaviours outside normal HTTP framing (`raw`, `noResponse`).
    enum Mode: Sendable {
        case normal
        case raw([UInt8])
        case noResponse
    }

    /// The status code, e.g. 200.
    package var status: Int
    /// Header fields in order; names as written.
    var headers: [HTTPField]
    /// The body.
    package var body: Body
    var mode: Mode = .normal

    /// A response with the given status, headers and body.
    init(status: Int, headers: [HTTPField] = [], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Write these bytes verbatim (no status line added) and close: malformed-HTTP tests.
    static func raw(_ bytes: [UInt8]) -> HTTPResponse {
        var r = HTTPResponse(status: 0)
        r.mode = .raw(bytes)
        return r
    }

    /// Never answer: hold the connection open until the client closes it or the server stops.
    static var noResponse: HTTPResponse {
        var r = HTTPResponse(status: 0)
        r.mode = .noResponse
        return r
    }

    /// A UTF-8 text body with `Content-Type: text/plain; charset=utf-8` (unless `headers` sets one).
    package static func text(_ s: String, status: Int = 200, headers: [HTTPField] = []) -> HTTPResponse {
        HTTPResponse(
            status: status,
            headers: withContentType("text/plain; charset=utf-8", headers),
            body: .bytes(Array(s.utf8)))
    }

    /// A body sent as `producer` writes it (chunked, or until the close for HTTP/1.0), for bodies
    /// too large to hold at once; `write` returns false once the client is gone.
    package static func streamed(
        contentType: String, headers: [HTTPField] = [],
        producer: @escaping @Sendable (_ write: ([UInt8]) -> Bool) -> Void
    ) -> HTTPResponse {
        HTTPResponse(
            status: 200, headers: withContentType(contentType, headers),
            body: .stream(length: nil, producer: producer))
    }

    /// A JSON body (sent as given) with `Content-Type: application/json; charset=utf-8`
    /// (unless `headers` sets one).
    package static func json(_ s: String, status: Int = 200, headers: [HTTPField] = []) -> HTTPResponse {
        HTTPResponse(
            status: status,
            headers: withContentType("application/json; charset=utf-8", headers),
            body: .bytes(Array(s.utf8)))
    }

    private static func withContentType(_ type: String, _ headers: [HTTPField]) -> [HTTPField] {
        if headers.first("Content-Type") != nil { return headers }
        return [HTTPField(name: "Content-Type", value: type)] + headers
    }

    /// The standard reason phrase for `status`, or `"Status"` for unknown codes.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status"
        }
    }
}
