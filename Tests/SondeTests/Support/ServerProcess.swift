import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real server the tests run as a child process (Prometheus, Alertmanager), on loopback, with its
/// output in a log file. It is stopped by its own pid only: `stop()` (SIGTERM, then SIGKILL after
/// 10 s) at the end of a test, `kill()` from a `defer`, so a test that fails halfway leaves no child.
final class ServerProcess: @unchecked Sendable {  // the Process is started in init and only signalled after
    let process = Process()
    /// The loopback port it listens on.
    let port: UInt16
    let logPath: String
    let name: String

    /// Starts `binary` with `arguments(port)` on a free port. A port found free can be taken before
    /// the child binds it, so a child that exits before `ready` answers is started again on another
    /// port (three tries).
    static func start(
        _ name: String, binary: String, in folder: String, ready path: String,
        arguments: (UInt16) throws -> [String]
    ) async throws -> ServerProcess {
        try await start(
            name, binary: binary, in: folder,
            ready: { port in (try? RawHTTPClient(port: port, timeoutSeconds: 2).request("GET", path).status) == 200 },
            arguments: arguments)
    }

    /// Starts `binary` as above, ready once `ready(port)` holds (a TLS server: it answers at all).
    static func start(
        _ name: String, binary: String, in folder: String, ready: (UInt16) -> Bool,
        arguments: (UInt16) throws -> [String]
    ) async throws -> ServerProcess {
        var log = ""
        for attempt in 1...3 {
            let server = try ServerProcess(
                name, binary: binary, in: folder, tag: "\(name)-\(attempt)", port: try DaemonTests.freePort(),
                arguments: arguments)
            if await server.awaitReady(ready) { return server }
            log = server.log
            server.kill()
        }
        throw ServerProcessError.notReady(name: name, log: log)
    }

    private init(
        _ name: String, binary: String, in folder: String, tag: String, port: UInt16,
        arguments: (UInt16) throws -> [String]
    ) throws {
        self.name = name
        self.port = port
        logPath = folder + "/\(tag).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = try arguments(port)
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardInput = FileHandle.nullDevice
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Polls `ready` until it holds, for at most 60 s; false when the child exits first.
    private func awaitReady(_ ready: (UInt16) -> Bool) async -> Bool {
        await pollUntil(timeout: .seconds(60)) {
            guard process.isRunning else { return true }
            return ready(port)
        } && process.isRunning
    }

    /// `GET path` (query included) as text; throws when it does not answer 200.
    func get(_ path: String) async throws -> String {
        let port = port
        let response = try await offPool { try RawHTTPClient(port: port, timeoutSeconds: 10).request("GET", path) }
        guard response.status == 200 else {
            throw ServerProcessError.status(name: name, path: path, status: response.status, body: response.text)
        }
        return response.text
    }

    /// SIGTERM, then waits (off the pool) up to 10 s before SIGKILL.
    func stop() async {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGTERM)
        let process = process
        _ = try? await offPool {
            let deadline = ContinuousClock.now + .seconds(10)
            while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// SIGKILL at once when it still runs; for a `defer`.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }
}
