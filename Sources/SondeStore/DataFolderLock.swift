import Foundation
import SondeSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The prober's exclusive hold on a data folder: `flock(2)` on `<data>/.lock`, which holds the
/// holder's process id. Only one prober writes a folder at a time; the kernel releases the lock
/// when the process ends, however it ends, so a stale file never blocks a start. Readers
/// (`status`, `report`, `incidents`) never take it.
package final class DataFolderLock: Sendable {
    /// The lock file's name inside the data folder.
    package static let fileName = ".lock"

    /// The lock file's path.
    package let path: String
    private let fd: Int32

    /// Creates the folder when needed, then takes the lock without waiting and writes this
    /// process's id into the file. Throws `.held` naming the holder when another process has it.
    package init(folder: DataFolder) throws(LockError) {
        let root = folder.root
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw .unusable(path: root, reason: "cannot create it (\((error as NSError).localizedDescription))")
        }
        path = root + "/" + Self.fileName
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .unusable(path: root, reason: "cannot open \(Self.fileName) (\(errnoReason(errno)))")
        }
        var result: Int32
        repeat { result = flock(fd, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        if result != 0 {
            let code = errno
            let holder = Self.readPid(fd)
            close(fd)
            if code == EWOULDBLOCK { throw .held(path: root, pid: holder) }
            throw .unusable(path: root, reason: "cannot lock \(Self.fileName) (\(errnoReason(code)))")
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// The process id written in a lock file, if it holds one.
    private static func readPid(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Int32(text)
    }

    /// Why the lock could not be taken.
    package enum LockError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Another process holds the folder; `pid` is the one its lock file names, when readable.
        case held(path: String, pid: Int32?)
        /// The folder or its lock file cannot be created or locked; `path` is the folder.
        case unusable(path: String, reason: String)

        package var description: String {
            switch self {
            case .held(let path, let pid):
                let who = pid.map { "process \($0)" } ?? "another process"
                return
                    "data folder \(path) is in use by \(who) (it holds \(path)/\(DataFolderLock.fileName)): one prober writes a folder at a time; stop it, or give this one another --data"
            case .unusable(let path, let reason):
                return
                    "data folder \(path) is not writable: \(reason) (choose another with --data, or fix its permissions)"
            }
        }
    }
}
