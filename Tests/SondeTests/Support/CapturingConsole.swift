import Foundation
import Synchronization

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

/// A console that keeps what commands print.
final class CapturingConsole: Console {
    private let buffers = Mutex((out: "", err: ""))

    func out(_ text: String) { buffers.withLock { $0.out += text } }
    func err(_ text: String) { buffers.withLock { $0.err += text } }

    var stdout: String { buffers.withLock { $0.out } }
    var stderr: String { buffers.withLock { $0.err } }
    var all: String { stdout + stderr }
}

/// A fresh temporary folder, removed by `cleanup()`.
struct TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "sonde-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        let folder = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
