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

/// `openssl s_server -www` with a self-signed certificate made at test time: a short-lived local
/// TLS server on loopback. With `clientCA` it requires a client certificate issued by that CA
/// (`-Verify 1 -verify_return_error`): a handshake without one, or with another, fails; its page
/// then shows the client certificate (`Subject: CN=…`).
final class TLSServer: @unchecked Sendable {  // immutable after init; stop() is called once
    let port: UInt16
    private let process: Process
    private let folder: TemporaryFolder

    init(days: Int = 30, clientCA: String? = nil) throws {
        folder = try TemporaryFolder()
        let key = folder.path + "/key.pem"
        let cert = folder.path + "/cert.pem"
        try Self.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "\(days)", "-subj", "/CN=localhost",
                "-keyout", key, "-out", cert,
            ])
        // openssl takes a free port from the kernel itself and names it on its first line of output
        // ("ACCEPT 127.0.0.1:PORT"): a port picked here and handed over could be taken in between
        // by another test's server or by an outgoing connection.
        let output = Pipe()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments =
            ["s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key, "-www"]
            + (clientCA.map { ["-Verify", "1", "-verify_return_error", "-CAfile", $0] } ?? [])
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let reader = output.fileHandleForReading
        guard let port = Self.acceptedPort(reader.fileDescriptor, within: .seconds(30)) else {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            folder.cleanup()
            throw TLSServerError.didNotStart
        }
        self.port = port
        // Drain whatever else it prints so it can never block on a full pipe; ends with the process.
        Thread { _ = reader.readDataToEndOfFile() }.start()
    }

    var baseURL: String { "https://localhost:\(port)" }

    /// The server's self-signed certificate (PEM), usable as a CA bundle that trusts it.
    var certificatePath: String { folder.path + "/cert.pem" }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        folder.cleanup()
    }

    enum TLSServerError: Error {
        case didNotStart
        case commandFailed(String)
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TLSServerError.commandFailed(arguments.joined(separator: " ")) }
    }

    /// The port of the `ACCEPT HOST:PORT` line that `openssl s_server` prints once it listens;
    /// nil when the output ends or `limit` passes first.
    static func acceptedPort(_ fd: Int32, within limit: Duration) -> UInt16? {
        let deadline = ContinuousClock.now + limit
        var text = ""
        var buffer = [UInt8](repeating: 0, count: 512)
        while ContinuousClock.now < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) >= 0 || errno == EINTR else { return nil }
            guard pfd.revents != 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            text += String(decoding: buffer[0..<n], as: UTF8.self)
            // Whole lines only: the last piece may still be on its way.
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            where line.hasPrefix("ACCEPT ") {
                if let colon = line.lastIndex(of: ":"), let port = UInt16(line[line.index(after: colon)...]) {
                    return port
                }
            }
        }
        return nil
    }
}
