import Foundation

@testable import SondeAlerts
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeDemoShop
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeRun
@testable import SondeSLO
@testable import SondeScript
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A response as read off the wire by `RawHTTPClient`.
struct RawHTTPResponse {
    var status: Int
    var headers: [HTTPField]
    var body: [UInt8]
    /// Bytes of body received (also counted when `discardBody` was asked).
    var bodyCount: Int
    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first(name) }
    /// The body parsed as a JSON object (nil when it is not one).
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
}

enum RawClientError: Error, CustomStringConvertible {
    case connect(Int32)
    case closed
    case malformed(String)

    var description: String {
        switch self {
        case .connect(let e): return "connect failed: errno \(e)"
        case .closed: return "connection closed before a complete response"
        case .malformed(let m): return "malformed response: \(m)"
        }
    }
}

/// A tiny blocking HTTP/1.1 client over a raw socket, for testing the server byte by byte.
/// Used by one test at a time (not shared across threads).
final class RawHTTPClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16, ipv6: Bool = false, timeoutSeconds: Int = 10) throws {
        signal(SIGPIPE, SIG_IGN)
        fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawClientError.connect(errno) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var result: Int32
        if ipv6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, "::1", &addr.sin6_addr)
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if result != 0 {
            let e = errno
            close(fd)
            throw RawClientError.connect(e)
        }
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.send(fd, raw.baseAddress.map { $0 + off }, raw.count - off, Int32(MSG_NOSIGNAL))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                off += n
            }
        }
    }

    /// Reads more bytes into the buffer; false on close, error or timeout. A signal (SIGCHLD of the
    /// processes other tests start) interrupts `recv` on a socket with `SO_RCVTIMEO` even under
    /// SA_RESTART: that is retried, not taken for a close.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        var n = -1
        repeat {
            n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        } while n < 0 && errno == EINTR
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func readLine() throws -> String {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                var end = nl
                if end > 0, buffer[end - 1] == 13 { end -= 1 }
                let line = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(nl + 1)
                return line
            }
            guard fill() else { throw RawClientError.closed }
        }
    }

    private func take(_ n: Int, discard: Bool, into body: inout [UInt8]) throws {
        var left = n
        while left > 0 {
            if buffer.isEmpty, !fill() { throw RawClientError.closed }
            let k = min(left, buffer.count)
            if !discard { body.append(contentsOf: buffer[0..<k]) }
            buffer.removeFirst(k)
            left -= k
        }
    }

    /// Reads one response. `head`: the request was HEAD (no body follows).
    func readResponse(head: Bool = false, discardBody: Bool = false) throws -> RawHTTPResponse {
        var statusLine = try readLine()
        var status = 0
        var headers: [HTTPField] = []
        while true {
            let parts = statusLine.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else {
                throw RawClientError.malformed(statusLine)
            }
            status = code
            headers = []
            while true {
                let line = try readLine()
                if line.isEmpty { break }
                guard let colon = line.firstIndex(of: ":") else { throw RawClientError.malformed(line) }
                headers.append(
                    HTTPField(
                        name: String(line[..<colon]),
                        value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            if (100..<200).contains(status) {
                statusLine = try readLine()
                continue
            }
            break
        }
        var body: [UInt8] = []
        var count = 0
        if head || status == 204 || status == 304 {
            return RawHTTPResponse(status: status, headers: headers, body: [], bodyCount: 0)
        }
        if headers.first("Transfer-Encoding")?.lowercased() == "chunked" {
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine.split(separator: ";").first.map(String.init) ?? "", radix: 16) else {
                    throw RawClientError.malformed("chunk size \(sizeLine)")
                }
                if size == 0 {
                    while try !readLine().isEmpty {}
                    break
                }
                try take(size, discard: discardBody, into: &body)
                count += size
                guard try readLine().isEmpty else { throw RawClientError.malformed("chunk terminator") }
            }
        } else if let lengthText = headers.first("Content-Length"), let length = Int(lengthText) {
            try take(length, discard: discardBody, into: &body)
            count = length
        } else {
            body = readToEnd()
            count = body.count
        }
        return RawHTTPResponse(status: status, headers: headers, body: body, bodyCount: count)
    }

    /// Everything until the peer closes (or the receive timeout).
    func readToEnd() -> [UInt8] {
        while fill() {}
        defer { buffer.removeAll() }
        return buffer
    }

    /// True when the server has closed the connection (EOF or reset) with no further bytes.
    func isClosedByPeer() -> Bool {
        if !buffer.isEmpty { return false }
        var byte: UInt8 = 0
        var n = -1
        repeat { n = recv(fd, &byte, 1, 0) } while n < 0 && errno == EINTR
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Sends a request and reads its response.
    func request(_ method: String, _ target: String, headers: [String] = [], body: String? = nil) throws
        -> RawHTTPResponse
    {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\n"
        for h in headers { text += h + "\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n"
        if let body { text += body }
        send(text)
        return try readResponse(head: method == "HEAD")
    }
}
