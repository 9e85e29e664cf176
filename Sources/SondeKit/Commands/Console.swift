import Foundation

/// Where a command writes: standard output for results, standard error for diagnostics.
public protocol Console: Sendable {
    func out(_ text: String)
    func err(_ text: String)
}

/// The process's standard output and error, written with `write(2)` (no buffering surprises).
public struct StandardConsole: Console {
    public init() {}
    public func out(_ text: String) { Self.write(text, to: 1) }
    public func err(_ text: String) { Self.write(text, to: 2) }

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
public enum ExitCode {
    public static let ok: Int32 = 0
    public static let usage: Int32 = 1
    public static let parse: Int32 = 2
    public static let runtime: Int32 = 3
    public static let assertion: Int32 = 4
}
