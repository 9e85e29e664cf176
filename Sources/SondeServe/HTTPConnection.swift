import Foundation
import SondeSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Why reading a request stopped.
enum RequestReadFailure: Error {
    /// The client closed (or the server is stopping); nothing to answer.
    case closed
    /// The client went quiet mid-request → 408.
    case timeout
    /// Unparseable request line or headers → 400.
    case malformed(String)
    /// Head over the limit → 431.
    case headTooLarge
    /// Body over the limit → 413.
    case bodyTooLarge
    /// Not HTTP/1.x → 505.
    case badVersion
    /// A transfer coding other than chunked → 501.
    case unsupportedCoding
    /// An `Expect` other than `100-continue` → 417.
    case expectationFailed
}

/// One client connection. Owned by exactly one thread (its connection thread), so not Sendable.
final class Connection {
    private let fd: Int32
    private let state: ServerState
    private let limits: HTTPServerLimits
    /// Received bytes not yet consumed.
    private var buffer: [UInt8] = []
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    /// A connection over `maxConnections`: serves one request to a reserved path, else 503.
    private let reserved: Bool

    init(fd: Int32, state: ServerState, reserved: Bool = false) {
        self.fd = fd
        self.state = state
        self.limits = state.limits
        self.reserved = reserved
    }

    /// Serves requests until the connection should close.
    func run() {
        while !state.isStopping {
            let request: HTTPRequest
            var mustClose = false
            do {
                (request, mustClose) = try readRequest()
            } catch {
                answerFailure(error)
                return
            }
            if reserved {
                let response =
                    limits.reservedPaths.contains(request.path)
                    ? state.handler(request) : .text("busy: too many connections\n", status: 503)
                state.countServed()
                _ = write(response, for: request, mustClose: true)
                return
            }
            let response = state.handler(request)
            state.countServed()
            if !write(response, for: request, mustClose: mustClose) { return }
        }
    }

    // MARK: Reading

    private enum Fill { case data, closed, timeout }

    /// Appends whatever arrives before `deadline` to `buffer`.
    private func fill(until deadline: ContinuousClock.Instant) -> Fill {
        while true {
            let remaining = deadline - .now
            if remaining <= .zero { return .timeout }
            let ms = Int32(min(remaining.seconds * 1000 + 1, 3_600_000))
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&p, 1, ms)
            if n < 0 {
                if errno == EINTR { continue }
                return .closed
            }
            if n == 0 { continue }  // loop re-checks the deadline
            let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: scratch[0..<count])
                return .data
            }
            if count == 0 { return .closed }
            if errno == EINTR || errno == EAGAIN { continue }
            return .closed
        }
    }

    /// Reads one request head and body. `mustClose` is set when the framing was ambiguous.
    private func readRequest() throws(RequestReadFailure) -> (HTTPRequest, Bool) {
        // Wait for the first byte of the request (idle keep-alive).
        var headDeadline = ContinuousClock.now + limits.headTimeout
        var sawByte = false
        var scanned = 0
        var headEnd = 0  // index just past the head's final empty line
        while true {
            // Ignore empty lines before a request line (RFC 9112 §2.2).
            var skip = 0
            while skip < buffer.count, buffer[skip] == 13 || buffer[skip] == 10 { skip += 1 }
            if skip > 0 {
                buffer.removeFirst(skip)
                scanned = 0
            }
            if !buffer.isEmpty {
                if !sawByte {
                    sawByte = true
                    headDeadline = ContinuousClock.now + limits.headTimeout
                }
                if let end = Connection.findHeadEnd(buffer, from: max(0, scanned - 3)) {
                    headEnd = end
                    break
                }
                scanned = buffer.count
                if buffer.count > limits.maxHeadBytes { throw .headTooLarge }
            }
            let deadline = sawByte ? headDeadline : ContinuousClock.now + limits.idleTimeout
            switch fill(until: deadline) {
            case .data: continue
            case .closed: throw .closed
            case .timeout: throw sawByte ? .timeout : .closed
            }
        }
        if headEnd > limits.maxHeadBytes + 4 { throw .headTooLarge }
        let head = Array(buffer[0..<headEnd])
        buffer.removeFirst(headEnd)
        var (request, framing) = try Connection.parseHead(head)

        // Body framing.
        var mustClose = false
        let expectContinue: Bool
        if let expect = request.header("Expect") {
            guard expect.lowercased() == "100-continue" else { throw .expectationFailed }
            expectContinue = request.version == "HTTP/1.1"
        } else {
            expectContinue = false
        }
        switch framing {
        case .none:
            break
        case .length(let n):
            if n > limits.maxBodyBytes { throw .bodyTooLarge }
            if n > 0 {
                if expectContinue && buffer.isEmpty { sendInterim() }
                request.body = try readFixedBody(n)
            }
        case .chunked(let withLength):
            mustClose = withLength
            if expectContinue && buffer.isEmpty { sendInterim() }
            request.body = try readChunkedBody()
        }
        return (request, mustClose)
    }

    private func sendInterim() {
        _ = sendAll(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
    }

    private func readFixedBody(_ n: Int) throws(RequestReadFailure) -> [UInt8] {
        while buffer.count < n {
            switch fill(until: .now + limits.readTimeout) {
            case .data: continue
            case .closed: throw .closed
            case .timeout: throw .timeout
            }
        }
        let body = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return body
    }

    /// Reads a line (without CRLF) starting at `pos`, waiting for more bytes as needed.
    private func readLine(at pos: inout Int, limit: Int) throws(RequestReadFailure) -> [UInt8] {
        var searchFrom = pos
        while true {
            if let nl = buffer[searchFrom...].firstIndex(of: 10) {
                var end = nl
                if end > pos, buffer[end - 1] == 13 { end -= 1 }
                let line = Array(buffer[pos..<end])
                pos = nl + 1
                return line
            }
            searchFrom = buffer.count
            if buffer.count - pos > limit { throw .malformed("chunk line too long") }
            switch fill(until: .now + limits.readTimeout) {
            case .data: continue
            case .closed: throw .closed
            case .timeout: throw .timeout
            }
        }
    }

    private func readChunkedBody() throws(RequestReadFailure) -> [UInt8] {
        var body: [UInt8] = []
        var pos = 0
        while true {
            let line = try readLine(at: &pos, limit: 4096)
            var size = 0
            var digits = 0
            for byte in line {
                if byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ") || byte == 9 { break }
                guard let v = URLEncoding.hexValue(byte) else { throw .malformed("bad chunk size") }
                digits += 1
                if digits > 15 { throw .bodyTooLarge }
                size = size << 4 | Int(v)
            }
            if digits == 0 { throw .malformed("bad chunk size") }
            if size == 0 { break }
            if body.count + size > limits.maxBodyBytes { throw .bodyTooLarge }
            while buffer.count < pos + size + 1 {
                switch fill(until: .now + limits.readTimeout) {
                case .data: continue
                case .closed: throw .closed
                case .timeout: throw .timeout
                }
            }
            body.append(contentsOf: buffer[pos..<(pos + size)])
            pos += size
            let terminator = try readLine(at: &pos, limit: 2)
            if !terminator.isEmpty { throw .malformed("chunk data longer than its size") }
            if pos > 1 << 20 {
                buffer.removeFirst(pos)
                pos = 0
            }
        }
        // Trailer fields, up to an empty line; they are read and dropped.
        var trailerBytes = 0
        while true {
            let line = try readLine(at: &pos, limit: limits.maxHeadBytes)
            if line.isEmpty { break }
            trailerBytes += line.count
            if trailerBytes > limits.maxHeadBytes { throw .headTooLarge }
        }
        buffer.removeFirst(pos)
        return body
    }

    /// Index just past the blank line ending a head (`\r\n\r\n` or `\n\n`), if present.
    static func findHeadEnd(_ buf: [UInt8], from start: Int) -> Int? {
        var i = start
        while i < buf.count {
            if buf[i] == 10 {
                if i + 1 < buf.count, buf[i + 1] == 10 { return i + 2 }
                if i + 2 < buf.count, buf[i + 1] == 13, buf[i + 2] == 10 { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    enum Framing: Equatable {
        case none
        case length(Int)
        /// `withLength`: a Content-Length was also sent (ignored, connection closed afterwards).
        case chunked(withLength: Bool)
    }

    private static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }

    /// Parses a request head (request line and header lines, ending in a blank line).
    static func parseHead(_ head: [UInt8]) throws(RequestReadFailure) -> (HTTPRequest, Framing) {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for i in 0..<head.count where head[i] == 10 {
            var end = i
            if end > start, head[end - 1] == 13 { end -= 1 }
            lines.append(head[start..<end])
            start = i + 1
        }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let requestLine = lines.first else { throw .malformed("empty request") }

        let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("bad request line") }
        let methodBytes = parts[0]
        let targetBytes = parts[1]
        let versionBytes = parts[2]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(isTokenByte) else { throw .malformed("bad method") }
        guard !targetBytes.isEmpty, targetBytes.allSatisfy({ $0 > 32 && $0 != 127 }) else {
            throw .malformed("bad request target")
        }
        let v = Array(versionBytes)
        guard v.count == 8, v.starts(with: Array("HTTP/".utf8)), v[6] == UInt8(ascii: "."),
            (48...57).contains(v[5]), (48...57).contains(v[7])
        else {
            throw .malformed("bad HTTP version")
        }
        guard v[5] == UInt8(ascii: "1") else { throw .badVersion }

        var headers: [HTTPField] = []
        for line in lines.dropFirst() {
            guard let first = line.first else { throw .malformed("empty header line") }
            if first == 32 || first == 9 { throw .malformed("obsolete header line folding") }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformed("header without colon") }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else { throw .malformed("bad header name") }
            let value = line[(colon + 1)...]
            guard value.allSatisfy({ $0 >= 32 && $0 != 127 || $0 == 9 }) else {
                throw .malformed("control character in header value")
            }
            headers.append(
                HTTPField(
                    name: String(decoding: name, as: UTF8.self),
                    value: String(decoding: value, as: UTF8.self).trimmingHTTPWhitespace()))
        }

        let request = HTTPRequest(
            method: String(decoding: methodBytes, as: UTF8.self),
            target: String(decoding: targetBytes, as: UTF8.self),
            version: String(decoding: versionBytes, as: UTF8.self),
            headers: headers)

        let lengths = headers.values(for: "Content-Length")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingHTTPWhitespace() }
        var length: Int?
        for text in lengths {
            guard !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }) else {
                throw .malformed("bad Content-Length")
            }
            let n = text.count > 15 ? Int.max : (Int(text) ?? Int.max)
            if let length, length != n { throw .malformed("conflicting Content-Length") }
            length = n
        }
        let codings = headers.values(for: "Transfer-Encoding")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingHTTPWhitespace().lowercased() }
            .filter { !$0.isEmpty }
        if !codings.isEmpty {
            guard codings == ["chunked"] else { throw .unsupportedCoding }
            return (request, .chunked(withLength: length != nil))
        }
        if let length { return (request, .length(length)) }
        return (request, .none)
    }

    private func answerFailure(_ failure: RequestReadFailure) {
        let status: Int
        let message: String
        switch failure {
        case .closed: return
        case .timeout: (status, message) = (408, "request timeout")
        case .malformed(let why): (status, message) = (400, "bad request: \(why)")
        case .headTooLarge: (status, message) = (431, "request head larger than \(limits.maxHeadBytes) bytes")
        case .bodyTooLarge: (status, message) = (413, "request body larger than \(limits.maxBodyBytes) bytes")
        case .badVersion: (status, message) = (505, "only HTTP/1.x is supported")
        case .unsupportedCoding: (status, message) = (501, "only chunked transfer coding is supported")
        case .expectationFailed: (status, message) = (417, "only Expect: 100-continue is supported")
        }
        let body = Array((message + "\n").utf8)
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reasonPhrase(status))\r\n"
        head += "Date: \(httpDate())\r\n"
        head += "Content-Type: text/plain; charset=utf-8\r\n"
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        _ = sendAll(Array(head.utf8) + body)
        // Let the client read the answer before the close resets unread request bytes.
        _ = shutdown(fd, Int32(SHUT_WR))
        drain(for: .milliseconds(200))
    }

    /// Reads and drops input for a short while (or until the client closes).
    private func drain(for duration: Duration) {
        let deadline = ContinuousClock.now + duration
        var total = 0
        while total < 1 << 20 {
            buffer.removeAll(keepingCapacity: true)
            guard fill(until: deadline) == .data else { return }
            total += buffer.count
        }
    }

    // MARK: Writing

    /// Sends every byte; false when the client is gone, the send timed out or the server stopped.
    private func sendAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return false
                }
            }
            return true
        }
    }

    /// Writes `response`; returns whether the connection stays open for another request.
    private func write(_ response: HTTPResponse, for request: HTTPRequest, mustClose: Bool) -> Bool {
        switch response.mode {
        case .raw(let bytes):
            _ = sendAll(bytes)
            _ = shutdown(fd, Int32(SHUT_WR))
            drain(for: .milliseconds(200))
            return false
        case .noResponse:
            holdUntilClosed()
            return false
        case .normal:
            break
        }

        let isHTTP10 = request.version == "HTTP/1.0"
        let tokens = request.headers.values(for: "Connection")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingHTTPWhitespace().lowercased() }
        var keepAlive = isHTTP10 ? tokens.contains("keep-alive") : !tokens.contains("close")
        let handlerTokens = response.headers.values(for: "Connection")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingHTTPWhitespace().lowercased() }
        if handlerTokens.contains("close") || mustClose || state.isStopping { keepAlive = false }

        let isHead = request.method == "HEAD"
        let status = response.status
        let bodyless = (100..<200).contains(status) || status == 204 || status == 304
        enum Plan {
            case none
            case bytes([UInt8])
            case chunks([[UInt8]])
            case stream(Int?, @Sendable (([UInt8]) -> Bool) -> Void)
        }
        var plan: Plan
        var framing: [HTTPField] = []
        switch response.body {
        case .bytes(let b):
            plan = .bytes(b)
            if !bodyless { framing.append(HTTPField(name: "Content-Length", value: String(b.count))) }
        case .chunked(let chunks):
            plan = .chunks(chunks)
            if !bodyless {
                if isHTTP10 {
                    keepAlive = false
                } else {
                    framing.append(HTTPField(name: "Transfer-Encoding", value: "chunked"))
                }
            }
        case .stream(let length, let producer):
            plan = .stream(length, producer)
            if !bodyless {
                if let length {
                    framing.append(HTTPField(name: "Content-Length", value: String(max(0, length))))
                } else if isHTTP10 {
                    keepAlive = false
                } else {
                    framing.append(HTTPField(name: "Transfer-Encoding", value: "chunked"))
                }
            }
        }
        if bodyless || isHead { plan = .none }

        var head = "HTTP/1.1 \(status) \(HTTPResponse.reasonPhrase(status))\r\n"
        var hasDate = false
        for field in response.headers {
            let lower = field.name.lowercased()
            if lower == "content-length" || lower == "transfer-encoding" || lower == "connection" { continue }
            if lower == "date" { hasDate = true }
            head += "\(Connection.clean(field.name)): \(Connection.clean(field.value))\r\n"
        }
        if !hasDate { head += "Date: \(httpDate())\r\n" }
        for field in framing { head += "\(field.name): \(field.value)\r\n" }
        if !keepAlive {
            head += "Connection: close\r\n"
        } else if isHTTP10 {
            head += "Connection: keep-alive\r\n"
        }
        head += "\r\n"
        let chunkedWire = framing.contains { $0.name == "Transfer-Encoding" }

        switch plan {
        case .none:
            guard sendAll(Array(head.utf8)) else { return false }
        case .bytes(let b):
            guard sendAll(Array(head.utf8) + b) else { return false }
        case .chunks(let chunks):
            var out = Array(head.utf8)
            for chunk in chunks where !chunk.isEmpty {
                if chunkedWire {
                    out += Array((String(chunk.count, radix: 16) + "\r\n").utf8)
                    out += chunk
                    out += [13, 10]
                } else {
                    out += chunk
                }
                if out.count >= 1 << 16 {
                    guard sendAll(out) else { return false }
                    out.removeAll(keepingCapacity: true)
                }
            }
            if chunkedWire { out += Array("0\r\n\r\n".utf8) }
            guard sendAll(out) else { return false }
        case .stream(let length, let producer):
            guard sendAll(Array(head.utf8)) else { return false }
            var ok = true
            var sent = 0
            producer { bytes in
                guard ok else { return false }
                if self.state.isStopping {
                    ok = false
                    return false
                }
                if bytes.isEmpty { return true }
                if let length {
                    let room = length - sent
                    let part = bytes.count <= room ? bytes : Array(bytes.prefix(max(0, room)))
                    if !part.isEmpty, !self.sendAll(part) {
                        ok = false
                        return false
                    }
                    sent += part.count
                    return part.count == bytes.count
                }
                if chunkedWire {
                    var framed = Array((String(bytes.count, radix: 16) + "\r\n").utf8)
                    framed += bytes
                    framed += [13, 10]
                    if !self.sendAll(framed) { ok = false }
                } else if !self.sendAll(bytes) {
                    ok = false
                }
                return ok
            }
            if !ok { return false }
            if let length, sent != length { return false }
            if chunkedWire, !sendAll(Array("0\r\n\r\n".utf8)) { return false }
        }
        return keepAlive
    }

    /// `noResponse`: read and drop input until the client closes or the server stops.
    private func holdUntilClosed() {
        while true {
            buffer.removeAll(keepingCapacity: true)
            switch fill(until: .now + .seconds(3600)) {
            case .data, .timeout: continue
            case .closed: return
            }
        }
    }

    /// Removes CR and LF so a handler's header cannot split the response.
    private static func clean(_ s: String) -> String {
        guard s.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return s }
        return String(s.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }
}

/// The current time as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
func httpDate(_ time: time_t = time(nil)) -> String {
    var t = time
    var parts = tm()
    gmtime_r(&t, &parts)
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
    let day = days[Int(parts.tm_wday) % 7]
    let month = months[Int(parts.tm_mon) % 12]
    return
        "\(day), \(two(parts.tm_mday)) \(month) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
}
