import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a JSON-lines file through `mmap` and hands each complete line to a closure. A final line
/// without its newline (torn by a crash) is reported separately, never decoded as if whole.
package enum LineFile {
    package enum Failure: Error {
        case cannotOpen(String, String)
    }

    /// Calls `line` with the bytes of each complete line (without `\n`) and its 1-based number.
    /// Returns the 1-based number of the final line when it is torn (non-empty, no newline), else nil.
    @discardableResult
    package static func forEachLine(
        _ path: String,
        _ line: (UnsafeBufferPointer<UInt8>, Int) -> Void
    ) throws(Failure) -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path, errnoReason(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path, errnoReason(errno)) }
        let size = Int(info.st_size)
        guard size > 0 else { return nil }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .cannotOpen(path, errnoReason(errno))
        }
        defer { munmap(base, size) }
        let bytes = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: size)
        var start = 0
        var number = 0
        while start < size {
            let rest = UnsafeRawPointer(bytes.baseAddress! + start)
            guard let found = memchr(rest, 0x0A, size - start) else {
                return number + 1
            }
            let end = start + (UnsafeRawPointer(found) - rest)
            number += 1
            if end > start { line(UnsafeBufferPointer(rebasing: bytes[start..<end]), number) }
            start = end + 1
        }
        return nil
    }
}
