import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on its own threads (one accept thread, one thread per connection,
/// blocking sockets): keep-alive, Content-Length and chunked bodies both ways. It serves the tests,
/// the demo shop and, later, `/metrics`; it never runs on Swift's cooperative pool.
public final class HTTPServer: Sendable {
    /// Largest request head accepted (431 beyond).
    public static let maxHeadBytes = 64 * 1024
    /// Largest request body accepted (413 beyond).
    public static let maxBodyBytes = 16 * 1024 * 1024
    /// Most connections served at once; more wait in the listen backlog.
    public static let maxConnections = 512
    /// Idle time after which a keep-alive connection is closed.
    public static let idleTimeout: Double = 30

    private struct State {
        var stopped = false
        var connections: Set<Int32> = []
        var threads = 0
        var accepted = 0
        var served = 0
    }

    private let listener: Int32
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse
    private let state = Mutex(State())
    public let port: UInt16
    private let host: String

    /// Binds, listens and starts serving before returning. Port 0 picks a free port.
    public init(host: String = "127.0.0.1", port: UInt16 = 0,
                handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) throws(HTTPServerError) {
        signal(SIGPIPE, SIG_IGN)
        self.handler = handler
        let (fd, bound) = try Self.listen(host: host, port: port)
        listener = fd
        self.port = bound
        self.host = host
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "sonde-http-accept"
        state.withLock { $0.threads += 1 }
        thread.start()
    }

    deinit {
        close(listener)
    }

    /// `http://HOST:PORT` (IPv6 hosts in brackets).
    public var baseURL: String {
        host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }

    /// TCP connections accepted since start.
    public var connectionsAccepted: Int { state.withLock { $0.accepted } }
    /// Requests answered since start.
    public var requestsServed: Int { state.withLock { $0.served } }

    /// Closes the listener and every connection; returns when the threads are done (at most ~3 s).
    public func stop() {
        let fds = state.withLock { s -> Set<Int32> in
            s.stopped = true
            return s.connections
        }
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
        let deadline = Date().addingTimeInterval(3)
        while state.withLock({ $0.threads }) > 0 && Date() < deadline {
            usleep(2_000)
        }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private static func listen(host: String, port: UInt16) throws(HTTPServerError) -> (Int32, UInt16) {
        let ipv6 = host.contains(":")
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .socket(String(cString: strerror(errno))) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var result: Int32
        if ipv6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &addr.sin6_addr) == 1 else { close(fd); throw .badHost(host) }
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            let name = host == "localhost" ? "127.0.0.1" : host
            guard inet_pton(AF_INET, name, &addr.sin_addr) == 1 else { close(fd); throw .badHost(host) }
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .cannotListen(host: host, port: port, reason: reason)
        }
        guard Glibc.listen(fd, 1024) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .cannotListen(host: host, port: port, reason: reason)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let bound: UInt16 = withUnsafePointer(to: &storage) { pointer in
            if ipv6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        return (fd, bound)
    }

    private func acceptLoop() {
        defer { state.withLock { $0.threads -= 1 } }
        while !isStopped {
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 200)
            if ready <= 0 { continue }
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == EAGAIN || errno == ECONNABORTED { continue }
                if isStopped { return }
                usleep(10_000)
                continue
            }
            let admitted = state.withLock { s -> Bool in
                guard !s.stopped, s.connections.count < Self.maxConnections else { return false }
                s.connections.insert(fd)
                s.threads += 1
                s.accepted += 1
                return true
            }
            guard admitted else { close(fd); continue }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in
                serve(Connection(fd: fd))
                state.withLock {
                    $0.connections.remove(fd)
                    $0.threads -= 1
                }
                close(fd)
            }
            thread.name = "sonde-http-conn"
            thread.start()
        }
    }

    /// Reads from and writes to one client socket.
    private struct Connection {
        let fd: Int32
        var buffer: [UInt8] = []

        init(fd: Int32) { self.fd = fd }

        /// Waits for data up to `timeout` seconds (in short ticks so a stop is noticed). False on close/timeout.
        mutating func fill(timeout: Double, stopped: () -> Bool) -> Bool {
            var waited = 0.0
            while true {
                if stopped() { return false }
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&pfd, 1, 250)
                if ready < 0 && errno == EINTR { continue }
                if ready == 0 {
                    waited += 0.25
                    if waited >= timeout { return false }
                    continue
                }
                var chunk = [UInt8](repeating: 0, count: 65_536)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                buffer.append(contentsOf: chunk[0..<n])
                return true
            }
        }

        func send(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
                }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    private enum ReadOutcome {
        case request(HTTPRequest)
        case closed
        case reject(Int, String)
    }

    private func serve(_ initial: Connection) {
        var connection = initial
        while !isStopped {
            switch readRequest(&connection) {
            case .closed:
                return
            case .reject(let status, let message):
                _ = connection.send(Self.head(status: status, headers: [
                    HTTPField(name: "Content-Type", value: "text/plain; charset=utf-8"),
                    HTTPField(name: "Content-Length", value: "\(message.utf8.count)"),
                    HTTPField(name: "Connection", value: "close"),
                ]) + Array(message.utf8))
                return
            case .request(let request):
                let response = handler(request)
                state.withLock { $0.served += 1 }
                switch response.mode {
                case .raw(let bytes):
                    _ = connection.send(bytes)
                    return
                case .silent:
                    var pending = connection
                    while pending.fill(timeout: .infinity, stopped: { isStopped }) { pending.buffer.removeAll() }
                    return
                case .normal:
                    let keepAlive = Self.keepAlive(request)
                    guard write(response, for: request, keepAlive: keepAlive, on: connection), keepAlive else { return }
                }
            }
        }
    }

    private static func keepAlive(_ request: HTTPRequest) -> Bool {
        let connection = request.header("Connection")?.lowercased() ?? ""
        if request.version == "HTTP/1.0" { return connection.contains("keep-alive") }
        return !connection.contains("close")
    }

    private func readRequest(_ connection: inout Connection) -> ReadOutcome {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = Self.find([13, 10, 13, 10], in: connection.buffer)
            if headEnd != nil { break }
            if connection.buffer.count > Self.maxHeadBytes { return .reject(431, "request head too large\n") }
            let timeout = connection.buffer.isEmpty ? Self.idleTimeout : 10
            if !connection.fill(timeout: timeout, stopped: { isStopped }) { return .closed }
        }
        guard let end = headEnd else { return .closed }
        if end > Self.maxHeadBytes { return .reject(431, "request head too large\n") }
        let head = String(decoding: connection.buffer[0..<end], as: UTF8.self)
        connection.buffer.removeFirst(end + 4)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, !requestLine[0].isEmpty,
              requestLine[0].allSatisfy({ $0.isASCII && $0.isLetter }),
              requestLine[1].hasPrefix("/") || requestLine[1] == "*",
              requestLine[2] == "HTTP/1.1" || requestLine[2] == "HTTP/1.0" else {
            return .reject(400, "malformed request line\n")
        }
        var headers: [HTTPField] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  !line[..<colon].contains(" ") else { return .reject(400, "malformed header line\n") }
            headers.append(HTTPField(name: String(line[..<colon]),
                                     value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let version = String(requestLine[2])
        if headers.first("Expect")?.lowercased() == "100-continue", version == "HTTP/1.1" {
            _ = connection.send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        var body: [UInt8] = []
        if headers.first("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            switch readChunked(&connection) {
            case .success(let bytes): body = bytes
            case .failure(let reject): return reject.outcome
            }
        } else if let lengthText = headers.first("Content-Length") {
            guard let length = Int(lengthText), length >= 0 else { return .reject(400, "invalid Content-Length\n") }
            if length > Self.maxBodyBytes { return .reject(413, "request body too large\n") }
            while connection.buffer.count < length {
                if !connection.fill(timeout: 10, stopped: { isStopped }) { return .closed }
            }
            body = Array(connection.buffer[0..<length])
            connection.buffer.removeFirst(length)
        }
        return .request(HTTPRequest(method: String(requestLine[0]), target: String(requestLine[1]),
                                    version: version, headers: headers, body: body))
    }

    private struct Reject: Error {
        var outcome: ReadOutcome
    }

    private func readChunked(_ connection: inout Connection) -> Result<[UInt8], Reject> {
        var body: [UInt8] = []
        while true {
            var lineEnd = Self.find([13, 10], in: connection.buffer)
            while lineEnd == nil {
                if connection.buffer.count > 1024 { return .failure(Reject(outcome: .reject(400, "malformed chunk\n"))) }
                if !connection.fill(timeout: 10, stopped: { isStopped }) { return .failure(Reject(outcome: .closed)) }
                lineEnd = Self.find([13, 10], in: connection.buffer)
            }
            guard let end = lineEnd else { return .failure(Reject(outcome: .closed)) }
            let sizeText = String(decoding: connection.buffer[0..<end], as: UTF8.self)
                .split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else {
                return .failure(Reject(outcome: .reject(400, "malformed chunk size\n")))
            }
            connection.buffer.removeFirst(end + 2)
            if body.count + size > Self.maxBodyBytes { return .failure(Reject(outcome: .reject(413, "request body too large\n"))) }
            if size == 0 {
                // Skip trailers up to the empty line.
                while Self.find([13, 10], in: connection.buffer) == nil {
                    if !connection.fill(timeout: 10, stopped: { isStopped }) { return .failure(Reject(outcome: .closed)) }
                }
                while let e = Self.find([13, 10], in: connection.buffer) {
                    connection.buffer.removeFirst(e + 2)
                    if e == 0 { return .success(body) }
                    while Self.find([13, 10], in: connection.buffer) == nil {
                        if !connection.fill(timeout: 10, stopped: { isStopped }) { return .failure(Reject(outcome: .closed)) }
                    }
                }
                return .success(body)
            }
            while connection.buffer.count < size + 2 {
                if !connection.fill(timeout: 10, stopped: { isStopped }) { return .failure(Reject(outcome: .closed)) }
            }
            body.append(contentsOf: connection.buffer[0..<size])
            connection.buffer.removeFirst(size + 2)
        }
    }

    private func write(_ response: HTTPResponse, for request: HTTPRequest, keepAlive: Bool,
                       on connection: Connection) -> Bool {
        var headers = response.headers
        let isHead = request.method == "HEAD"
        if headers.first("Date") == nil { headers.append(HTTPField(name: "Date", value: Self.httpDate())) }
        if !keepAlive { headers.append(HTTPField(name: "Connection", value: "close")) }
        switch response.body {
        case .bytes(let bytes):
            headers.append(HTTPField(name: "Content-Length", value: "\(bytes.count)"))
            return connection.send(Self.head(status: response.status, headers: headers) + (isHead ? [] : bytes))
        case .chunked(let chunks):
            headers.append(HTTPField(name: "Transfer-Encoding", value: "chunked"))
            guard connection.send(Self.head(status: response.status, headers: headers)) else { return false }
            if isHead { return true }
            for chunk in chunks where !chunk.isEmpty {
                guard connection.send(Self.chunk(chunk)) else { return false }
            }
            return connection.send(Array("0\r\n\r\n".utf8))
        case .stream(let length, let producer):
            if let length {
                headers.append(HTTPField(name: "Content-Length", value: "\(length)"))
            } else {
                headers.append(HTTPField(name: "Transfer-Encoding", value: "chunked"))
            }
            guard connection.send(Self.head(status: response.status, headers: headers)) else { return false }
            if isHead { return true }
            let alive = Mutex(true)
            producer { bytes in
                guard alive.withLock({ $0 }), !self.isStopped else { return false }
                if bytes.isEmpty { return true }
                let ok = connection.send(length == nil ? Self.chunk(bytes) : bytes)
                if !ok { alive.withLock { $0 = false } }
                return ok
            }
            guard alive.withLock({ $0 }) else { return false }
            return length == nil ? connection.send(Array("0\r\n\r\n".utf8)) : true
        }
    }

    private static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]
    }

    private static func head(status: Int, headers: [HTTPField]) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(HTTPResponse.reason(status))\r\n"
        for header in headers { text += "\(header.name): \(header.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == needle[0] {
                var match = true
                for j in 1..<needle.count where haystack[i + j] != needle[j] { match = false; break }
                if match { return i }
            }
            i += 1
        }
        return nil
    }

    static func httpDate(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}

/// The server could not start.
public enum HTTPServerError: Error, Sendable, CustomStringConvertible {
    case socket(String)
    case badHost(String)
    case cannotListen(host: String, port: UInt16, reason: String)

    public var description: String {
        switch self {
        case .socket(let reason): return "cannot create a socket: \(reason)"
        case .badHost(let host): return "cannot listen on \(host): expected an IP address such as 127.0.0.1 or ::1"
        case .cannotListen(let host, let port, let reason): return "cannot listen on \(host):\(port): \(reason.lowercased())"
        }
    }
}
