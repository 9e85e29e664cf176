import Foundation

/// Where a command writes: standard output for results, standard error for diagnostics.
package protocol Console: Sendable {
    func out(_ text: String)
    func err(_ text: String)
}

/// The process's standard output and error, written with `write(2)` (no buffering surprises).
package struct StandardConsole: Console {
    package init() {}
    package func out(_ text: String) { Self.write(text, to: 1) }
    package func err(_ text: String) { Self.write(text, to: 2) }

    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return
            }
            offset += n
        }
        bytes.removeAll()
    }
}

/// Exit codes shared by the commands (Hurl's for `check`).
package enum ExitCode {
    package static let ok: Int32 = 0
    package static let usage: Int32 = 1
    package static let parse: Int32 = 2
    package static let runtime: Int32 = 3
    package static let assertion: Int32 = 4
}
