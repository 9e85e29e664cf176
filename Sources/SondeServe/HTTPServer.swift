import Foundation
import SondeSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Why the embedded server could not start.
package enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The host is neither an IPv4 nor an IPv6 literal (nor `localhost`).
    case invalidHost(String)
    /// Creating, binding or listening on the socket failed; `address` reads `127.0.0.1:8080`
    /// or `[::1]:8080`, `reason` e.g. `address already in use`.
    case cannotListen(address: String, reason: String)

    /// A one-line message, e.g. `cannot listen on 127.0.0.1:8080: address already in use`.
    package var description: String {
        switch self {
        case .invalidHost(let host):
            return "cannot listen on '\(host)': not an IPv4 or IPv6 address"
        case .cannotListen(let address, let reason):
            return "cannot listen on \(address): \(reason)"
        }
    }
}

/// Limits and timeouts of an `HTTPServer`. The defaults suit tests, the demo and `/metrics`.
package struct HTTPServerLimits: Sendable {
    /// Connections served at once; more are answered 503 and closed (but see `reservedConnections`).
    package var maxConnections = 512
    /// Connections beyond `maxConnections` kept for requests to `reservedPaths` (a liveness probe
    /// that must not fail because scrapers hold every connection): one request each, then closed;
    /// any other path on them gets 503.
    package var reservedConnections = 0
    /// The paths a reserved connection serves.
    package var reservedPaths: Set<String> = []
    /// Request line plus headers; larger → 431 and close.
    var maxHeadBytes = 64 * 1024
    /// Request body (after de-chunking); larger → 413 and close.
    var maxBodyBytes = 16 * 1024 * 1024
    /// How long a connection may wait for the first byte of its next request.
    var idleTimeout: Duration = .seconds(30)
    /// How long a request head may take from its first byte (slowloris guard) → 408 and close.
    var headTimeout: Duration = .seconds(10)
    /// Longest silence while reading a request body → 408 and close.
    var readTimeout: Duration = .seconds(10)
    /// Longest a single blocked send may wait on a client that does not read.
    var sendTimeout: Duration = .seconds(30)
    /// How long `stop()` waits for connection threads (a handler may be sleeping).
    var stopWait: Duration = .seconds(3)

    /// The defaults.
    package init() {}
}

/// A small embedded HTTP/1.1 server: one accept thread plus one thread per connection, blocking
/// sockets, never Swift's cooperative pool. The handler runs on the connection thread and may block.
///
/// Keep-alive by default (HTTP/1.1), `Connection: close` honoured, HTTP/1.0 closes unless it asks
/// for keep-alive; request bodies by `Content-Length` or chunked; `Expect: 100-continue` answered;
/// HEAD gets headers only. Malformed requests get 400, oversize heads 431, oversize bodies 413,
/// slow heads 408; each of those closes the connection.
package final class HTTPServer: Sendable {
    /// The bound port (the chosen one when 0 was asked).
    package let port: UInt16
    /// `http://HOST:PORT`, with IPv6 hosts in brackets.
    package let baseURL: String
    private let state: ServerState
    private let wakeWrite: Int32
    private let wakeRead: Int32

    /// Binds, listens and starts serving before returning. Port 0 picks a free port.
    package convenience init(
        host: String = "127.0.0.1", port: UInt16 = 0,
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) throws(HTTPServerError) {
        try self.init(host: host, port: port, limits: HTTPServerLimits(), handler: handler)
    }

    /// Binds, listens and starts serving before returning, with custom limits.
    package init(
        host: String, port: UInt16, limits: HTTPServerLimits,
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) throws(HTTPServerError) {
        ignoreSIGPIPE()
        let listener = try Listener.open(host: host, port: port)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            let reason = errnoReason(errno)
            close(listener.fd)
            throw .cannotListen(address: listener.display(port: port), reason: reason)
        }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        self.wakeRead = fds[0]
        self.wakeWrite = fds[1]
        self.port = listener.port
        self.baseURL = "http://\(listener.display(port: listener.port))"
        let state = ServerState(limits: limits, handler: handler)
        self.state = state
        state.cond.lock()
        state.liveThreads += 1
        state.cond.unlock()
        let listenFD = listener.fd
        let wake = fds[0]
        let thread = Thread {
            acceptLoop(listenFD: listenFD, wakeFD: wake, state: state)
        }
        thread.name = "sonde-http-accept"
        thread.start()
    }

    deinit {
        stop()
    }

    /// Total TCP connections accepted (and served) so far.
    var connectionsAccepted: Int {
        state.cond.lock()
        defer { state.cond.unlock() }
        return state.accepted
    }

    /// Requests handed to the handler so far (counted before the response is sent).
    var requestsServed: Int {
        state.cond.lock()
        defer { state.cond.unlock() }
        return state.served
    }

    /// Closes the listener and every connection, then waits (at most `limits.stopWait`) for the
    /// threads to finish. Streaming producers see `write` return false; `noResponse` waits end.
    /// A handler that sleeps keeps its thread until it returns. Safe to call more than once.
    package func stop() {
        state.cond.lock()
        let first = !state.stopping
        state.stopping = true
        for fd in state.connections {
            _ = shutdown(fd, Int32(SHUT_RDWR))
        }
        state.cond.unlock()
        if first {
            var one: UInt8 = 1
            _ = write(wakeWrite, &one, 1)
        }
        let deadline = Date().addingTimeInterval(state.limits.stopWait.seconds)
        state.cond.lock()
        while (state.liveThreads > 0 || !state.acceptDone) && Date() < deadline {
            _ = state.cond.wait(until: deadline)
        }
        let acceptDone = state.acceptDone
        state.cond.unlock()
        if first && acceptDone {
            close(wakeRead)
            close(wakeWrite)
        }
    }
}

// MARK: - Shared state

/// State shared by the server object, its accept thread and connection threads.
/// `@unchecked Sendable`: every mutable field is read and written only with `cond` locked.
final class ServerState: @unchecked Sendable {
    let cond = NSCondition()
    let limits: HTTPServerLimits
    let handler: @Sendable (HTTPRequest) -> HTTPResponse
    var stopping = false
    var acceptDone = false
    var connections: Set<Int32> = []
    var liveThreads = 0
    var accepted = 0
    var served = 0

    init(limits: HTTPServerLimits, handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.limits = limits
        self.handler = handler
    }

    var isStopping: Bool {
        cond.lock()
        defer { cond.unlock() }
        return stopping
    }

    func countServed() {
        cond.lock()
        served += 1
        cond.unlock()
    }

    /// Deregisters and closes a connection socket under the lock, so that `stop()` never shuts
    /// down a descriptor number that has been reused.
    func finish(connection fd: Int32) {
        cond.lock()
        connections.remove(fd)
        close(fd)
        liveThreads -= 1
        cond.broadcast()
        cond.unlock()
    }
}

private let sigpipeIgnored: Bool = {
    signal(SIGPIPE, SIG_IGN)
    return true
}()

private func ignoreSIGPIPE() {
    _ = sigpipeIgnored
}

// MARK: - Listening socket

private struct Listener {
    var fd: Int32
    var port: UInt16
    var isV6: Bool
    var host: String

    func display(port: UInt16) -> String {
        isV6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func open(host rawHost: String, port: UInt16) throws(HTTPServerError) -> Listener {
        var host = rawHost
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { host = "127.0.0.1" }
        var v4 = in_addr()
        var v6 = in6_addr()
        let isV6: Bool
        if inet_pton(AF_INET, host, &v4) == 1 {
            isV6 = false
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            isV6 = true
        } else {
            throw .invalidHost(rawHost)
        }
        var listener = Listener(fd: -1, port: port, isV6: isV6, host: host)
        let fail: (Int32) -> HTTPServerError = { code in
            .cannotListen(address: listener.display(port: port), reason: errnoReason(code))
        }
        let fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw fail(errno) }
        var on: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var bindResult: Int32
        if isV6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            addr.sin6_addr = v6
            bindResult = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            addr.sin_addr = v4
            bindResult = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if bindResult != 0 {
            let code = errno
            close(fd)
            throw fail(code)
        }
        if listen(fd, 128) != 0 {
            let code = errno
            close(fd)
            throw fail(code)
        }
        // Non-blocking so that a connection reset between poll and accept cannot block the loop.
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let got = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        if got != 0 {
            let code = errno
            close(fd)
            throw fail(code)
        }
        let bound: UInt16 = withUnsafePointer(to: &storage) { p in
            if isV6 {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    UInt16(bigEndian: $0.pointee.sin6_port)
                }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        listener.fd = fd
        listener.port = bound
        return listener
    }
}

// MARK: - Accept loop

private func acceptLoop(listenFD: Int32, wakeFD: Int32, state: ServerState) {
    defer {
        state.cond.lock()
        close(listenFD)
        state.acceptDone = true
        state.liveThreads -= 1
        state.cond.broadcast()
        state.cond.unlock()
    }
    var fds = [
        pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0),
        pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
    ]
    // A descriptor kept in reserve: when the process is out of descriptors (EMFILE), it is given
    // up for a moment to accept the waiting connection and close it at once. Otherwise that
    // connection would stay queued, poll would report it again at once, and the loop would spin.
    var spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer { if spare >= 0 { close(spare) } }
    var backoff: UInt32 = 10_000
    while true {
        fds[0].revents = 0
        fds[1].revents = 0
        let n = poll(&fds, 2, -1)
        if n < 0 {
            if errno == EINTR { continue }
            return
        }
        if fds[1].revents != 0 || state.isStopping { return }
        if fds[0].revents & Int16(POLLIN) == 0 {
            if fds[0].revents & Int16(POLLERR | POLLNVAL) != 0 { return }
            continue
        }
        let fd = accept(listenFD, nil, nil)
        if fd < 0 {
            switch errno {
            case EINTR, EAGAIN, EWOULDBLOCK, ECONNABORTED, EPROTO:
                continue
            case EBADF, EINVAL, ENOTSOCK:
                return
            case EMFILE where spare >= 0, ENFILE where spare >= 0:
                close(spare)
                let refused = accept(listenFD, nil, nil)
                if refused >= 0 {
                    let busy = Array(
                        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
                    _ = busy.withUnsafeBytes {
                        send(refused, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                    }
                    close(refused)
                }
                spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
                continue
            default:
                // ENOBUFS, ENOMEM, or out of descriptors with no spare: back off (up to half a
                // second) and retry.
                usleep(backoff)
                backoff = min(backoff * 2, 500_000)
                if spare < 0 { spare = open("/dev/null", O_RDONLY | O_CLOEXEC) }
                continue
            }
        }
        backoff = 10_000
        // accept() does not pass O_NONBLOCK on to the new socket on Linux: it stays blocking.
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var on: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        let sendSeconds = state.limits.sendTimeout.seconds
        var tv = timeval(tv_sec: Int(sendSeconds), tv_usec: Int((sendSeconds - Double(Int(sendSeconds))) * 1e6))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))

        state.cond.lock()
        if state.stopping {
            state.cond.unlock()
            close(fd)
            return
        }
        if state.connections.count >= state.limits.maxConnections + state.limits.reservedConnections {
            state.cond.unlock()
            let busy = Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            _ = busy.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            close(fd)
            continue
        }
        let reserved = state.connections.count >= state.limits.maxConnections
        state.connections.insert(fd)
        state.accepted += 1
        state.liveThreads += 1
        state.cond.unlock()

        let thread = Thread {
            let connection = Connection(fd: fd, state: state, reserved: reserved)
            connection.run()
            state.finish(connection: fd)
        }
        thread.name = "sonde-http-conn"
        thread.start()
    }
}
