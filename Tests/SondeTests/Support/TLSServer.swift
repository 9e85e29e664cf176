import Foundation
@testable import SondeSupport
@testable import SondeProbe
@testable import SondeScript
@testable import SondeRun
@testable import SondeStore
@testable import SondeSLO
@testable import SondeIncidents
@testable import SondeAlerts
@testable import SondeRender
@testable import SondeServe
@testable import SondeDemoShop
@testable import SondeDaemon
@testable import SondeCommands

/// `openssl s_server -www` with a self-signed certificate made at test time: a short-lived local
/// TLS server on loopback.
final class TLSServer: @unchecked Sendable {  // immutable after init; stop() is called once
    let port: UInt16
    private let process: Process
    private let folder: TemporaryFolder

    init(days: Int = 30) throws {
        folder = try TemporaryFolder()
        let key = folder.path + "/key.pem", cert = folder.path + "/cert.pem"
        try Self.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                          "-nodes", "-days", "\(days)", "-subj", "/CN=localhost",
                                          "-keyout", key, "-out", cert])
        // Take a free port from the kernel, then hand it to openssl.
        let probe = try HTTPServer(host: "127.0.0.1", port: 0) { _ in .text("") }
        port = probe.port
        probe.stop()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-www", "-quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !Self.canConnect(port) {
            guard Date() < deadline, process.isRunning else {
                stop()
                throw TLSServerError.didNotStart
            }
            usleep(20_000)
        }
    }

    var baseURL: String { "https://localhost:\(port)" }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        folder.cleanup()
    }

    enum TLSServerError: Error { case didNotStart, commandFailed(String) }

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

    static func canConnect(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
