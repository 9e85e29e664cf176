import Foundation
import Synchronization
import Testing

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

/// The size of the fault-injection suites: `fast` inside `make test`, `full` with `make faults`
/// (`SONDE_FAULTS=full`). One code path; only the counts and durations change.
enum FaultSize {
    static let isFull = ProcessInfo.processInfo.environment["SONDE_FAULTS"] == "full"

    static func pick<T>(fast: T, full: T) -> T { isFull ? full : fast }

    static var name: String { isFull ? "full" : "fast" }
}

/// A `sonde` child process of any command, with its output in files, an environment of its own and
/// a deadline: a crash shows as a signal, a hang as `timedOut` (the child is then killed).
final class SondeProcess: @unchecked Sendable {  // the Process is started in init; wait() is called once
    enum Outcome: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)
        case timedOut

        var description: String {
            switch self {
            case .exited(let code): return "exit \(code)"
            case .signalled(let number): return "killed by signal \(number)"
            case .timedOut: return "still running at the deadline (killed)"
            }
        }
    }

    let process = Process()
    let outPath: String
    let errPath: String
    let startedAt = Date()

    static var binary: String { packageRoot + "/.build/debug/sonde" }

    /// `environment` is added to this process's environment (minus any `SONDE_*` variables of ours).
    init(_ arguments: [String], in directory: String, environment: [String: String] = [:], tag: String) throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.binary), "build the executable first: swift build")
        outPath = directory + "/\(tag).out"
        errPath = directory + "/\(tag).err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SONDE_") }
        for (key, value) in environment { env[key] = value }
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = env
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Blocks until the child ends or `timeout` passes (then kills it). Call off the pool.
    func wait(timeout: Duration) -> Outcome {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return .timedOut
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
            ? .signalled(process.terminationStatus)
            : .exited(process.terminationStatus)
    }

    /// Waits off the cooperative pool.
    func finish(timeout: Duration) async throws -> Outcome {
        try await offPool { self.wait(timeout: timeout) }
    }

    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// Runs one command to its end: its outcome, output and wall time.
    static func run(
        _ arguments: [String], in directory: String, environment: [String: String] = [:], tag: String,
        timeout: Duration
    ) async throws -> (outcome: Outcome, out: String, err: String, seconds: Double) {
        let child = try SondeProcess(arguments, in: directory, environment: environment, tag: tag)
        let outcome = try await child.finish(timeout: timeout)
        return (outcome, child.stdout, child.stderr, Date().timeIntervalSince(child.startedAt))
    }

    /// Polls the child's standard error until `text` shows (or `timeout`); returns the log line.
    func awaitLog(_ text: String, timeout: Duration = .seconds(60)) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = stderr.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            if !process.isRunning { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// The port in `metrics on http://HOST:PORT/metrics` of `sonde run`'s start line (text or JSON
    /// log). Tests pass `--metrics 127.0.0.1:0` and read the port the kernel chose: a port picked
    /// before the child starts could be taken by another socket in the meantime.
    static func metricsPort(in startLine: String) -> UInt16? {
        guard let from = startLine.range(of: "metrics on http://")?.upperBound,
            let to = startLine.range(of: "/metrics", range: from..<startLine.endIndex)?.lowerBound,
            let colon = startLine[from..<to].lastIndex(of: ":")
        else { return nil }
        return UInt16(startLine[startLine.index(after: colon)..<to])
    }

    /// The time at the start of a text log line (`2026-11-23T07:00:00.123Z info start: ...`), epoch ms.
    static func logTime(_ line: String) -> Int64? {
        guard let stamp = line.split(separator: " ").first else { return nil }
        return Array(stamp.utf8).withUnsafeBufferPointer(UTCTime.parseRFC3339)
    }
}

/// A loopback TCP server that accepts connections and never says a word: a hung HTTP server, or a
/// TLS server whose handshake never starts. It reads and drops what clients send and closes a
/// connection when the client does, so a long test does not pile up descriptors.
final class SilentServer: @unchecked Sendable {  // fd is immutable; the connection list is the accept thread's own
    let port: UInt16
    private let fd: Int32
    private let stopped = Atomic<Bool>(false)
    private let accepted = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)

    init() throws {
        signal(SIGPIPE, SIG_IGN)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 512) == 0 else {
            close(fd)
            throw RawClientError.connect(errno)
        }
        self.fd = fd
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: addr.sin_port)
        let thread = Thread { [self] in loop() }
        thread.name = "silent-server"
        thread.start()
    }

    deinit { stop() }

    var url: String { "http://127.0.0.1:\(port)" }
    var tlsURL: String { "https://127.0.0.1:\(port)" }
    /// Connections accepted so far.
    var connections: Int { accepted.load(ordering: .relaxed) }

    func stop() {
        if stopped.exchange(true, ordering: .relaxed) { return }
        done.wait()
    }

    private func loop() {
        var clients: [Int32] = []
        var scratch = [UInt8](repeating: 0, count: 4096)
        while !stopped.load(ordering: .relaxed) {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            fds += clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 50)
            if fds[0].revents != 0 {
                let client = accept(fd, nil, nil)
                if client >= 0 {
                    clients.append(client)
                    accepted.add(1, ordering: .relaxed)
                }
            }
            var open: [Int32] = []
            for entry in fds.dropFirst() {
                if entry.revents == 0 {
                    open.append(entry.fd)
                    continue
                }
                let n = scratch.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                    open.append(entry.fd)
                } else {
                    close(entry.fd)
                }
            }
            clients = open
        }
        for client in clients { close(client) }
        close(fd)
        done.signal()
    }
}

/// Lines of the data files as `sonde run` left them, checked strictly: every line of every run file
/// and of `incidents.jsonl` must decode, except fragments left by a kill (`allowedFragments`: file
/// and byte offset of a final line that did not end in `\n` at the time of a kill).
struct DataFiles {
    struct Problem: CustomStringConvertible {
        var path: String
        var line: Int
        var text: String
        var description: String { "\(path):\(line): \(text)" }
    }

    var records: [RunRecord] = []
    var events = 0
    var problems: [Problem] = []
    /// Fragments that were found, repaired (a newline follows) or still final.
    var fragments: [(path: String, offset: Int, repaired: Bool)] = []

    /// The slots of a 1 s `check` from the first after `startedMs` to a second before `stoppedMs`
    /// that have no run within 500 ms of them, as RFC 3339 times.
    static func missingSlots(of check: String, in runs: [RunRecord], startedMs: Int64, stoppedMs: Int64) -> [String] {
        let offset = Int64(Scheduler.offset(of: check, interval: .seconds(1)).milliseconds)
        var slot = ((startedMs - offset) / 1000 + 1) * 1000 + offset
        var missing: [String] = []
        while slot <= stoppedMs - 1000 {
            if !runs.contains(where: { abs($0.time - slot) < 500 }) { missing.append(UTCTime.rfc3339(slot)) }
            slot += 1000
        }
        return missing
    }

    /// Every run file and the incidents file of `data`.
    static func paths(_ data: String) -> [String] {
        let folder = DataFolder(data)
        var out = folder.checks().flatMap { folder.runFiles(check: $0).map(\.path) }
        if FileManager.default.fileExists(atPath: folder.incidentsFile) { out.append(folder.incidentsFile) }
        return out
    }

    /// For each file, the offset of its unfinished final line (when the last byte is not `\n`).
    static func unfinishedTails(_ data: String) -> [String: Int] {
        var out: [String: Int] = [:]
        for path in paths(data) {
            guard let bytes = FileManager.default.contents(atPath: path).map([UInt8].init), let last = bytes.last,
                last != 0x0A
            else { continue }
            out[path] = (bytes.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
        }
        return out
    }

    /// `shortWrites`: also accept, anywhere in a file, a fragment that starts like a run line, as a
    /// short write on a full disk leaves it (the documented repair puts the next line on a line of its own).
    init(_ data: String, allowedFragments: [String: Set<Int>] = [:], shortWrites: Bool = false) throws {
        let incidents = DataFolder(data).incidentsFile
        for path in Self.paths(data) {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            var start = 0
            var number = 0
            while start < bytes.count {
                number += 1
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                let line = Array(bytes[start..<end])
                let complete = end < bytes.count
                var good = false
                if path == incidents {
                    good = IncidentEvent.decode(String(decoding: line, as: UTF8.self)) != nil
                    if good { events += 1 }
                } else if let record = try? RunLine.decode(line) {
                    records.append(record)
                    good = true
                }
                if !good {
                    let shortWrite = shortWrites && path != incidents && line.starts(with: Array(#"{"v":1,"t":""#.utf8))
                    if allowedFragments[path]?.contains(start) == true || shortWrite {
                        fragments.append((path, start, complete))
                    } else {
                        problems.append(
                            Problem(
                                path: path, line: number,
                                text: String(decoding: line.prefix(160), as: UTF8.self)))
                    }
                }
                start = end + 1
            }
        }
    }
}

/// `GET /metrics` of a running `sonde run --metrics`, as text (empty when it does not answer).
func fetchMetrics(port: UInt16) async -> String {
    (try? await offPool { try RawHTTPClient(port: port, timeoutSeconds: 5).request("GET", "/metrics").text }) ?? ""
}

/// The value of one sample of a Prometheus text (`name{labels} value`), matched by its full series text.
func metricValue(_ text: String, _ series: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}
