import SondeSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a JSON-lines file line by line through one bounded buffer, whatever the file's size: memory
/// stays at `maxLineBytes` plus one read chunk, and time is linear in the file (each byte is read
/// once and scanned once with `memchr`). A line longer than `maxLineBytes` is skipped unread and
/// counted; a final line without its newline (torn by a crash) is reported, never decoded as if whole.
///
/// Every reader of the data folder goes through it: run and hour files, `incidents.jsonl` and any
/// other `*.jsonl` sonde keeps. Wrap it with `RunReader.decodeLines` to decode lines and count what
/// was skipped in `ReadStats`.
package struct LineReader: Sendable {
    /// The longest line read, in bytes without its newline (1 MiB). sonde's own lines stay far below
    /// it (a run line is a few KB, and the writer drops one over the cap rather than write it); a
    /// longer line is not one of them and is skipped.
    package static let maxLineBytes = 1 << 20
    /// Bytes asked of each `read(2)`.
    static let chunkBytes = 1 << 20
    /// Linux's `SEEK_DATA` (Glibc declares it only under `_GNU_SOURCE`): the next offset holding data.
    /// File systems without holes answer with the offset given.
    static let seekData: Int32 = 3

    /// What one pass over a file found besides the lines it handed over.
    package struct Summary: Sendable, Equatable {
        /// Lines longer than the cap, skipped unread.
        package var oversized = 0
        /// The 1-based number of the first such line.
        package var firstOversized: Int?
        /// The 1-based number of the final line when it is torn (non-empty, no newline).
        package var tornFinalLine: Int?
        /// Complete lines seen (empty ones and skipped ones included).
        package var lines = 0
    }

    /// Why a file could not be read.
    package enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// `open` or `fstat` failed: the path and the system's reason.
        case cannotOpen(String, String)
        /// A `read` failed part way: the path, the system's reason and the lines handed over before.
        case cannotRead(String, String, Summary)

        package var description: String {
            switch self {
            case .cannotOpen(let path, let reason): return "\(path): cannot open the file: \(reason)"
            case .cannotRead(let path, let reason, let summary):
                return "\(path): reading stopped after line \(summary.lines): \(reason)"
            }
        }
    }

    /// The cap this reader applies (`LineReader.maxLineBytes` unless a test asks for less).
    package var maxLineBytes: Int

    /// A reader with the given line cap (at least 1 byte).
    package init(maxLineBytes: Int = LineReader.maxLineBytes) {
        self.maxLineBytes = max(1, maxLineBytes)
    }

    /// Calls `line` with the bytes of each complete line of `path` (without `\n`, empty lines left
    /// out) and its 1-based number. The bytes are valid only during the call.
    @discardableResult
    package func forEachLine(
        _ path: String, _ line: (UnsafeBufferPointer<UInt8>, Int) -> Void
    ) throws(Failure) -> Summary {
        // O_NONBLOCK: a FIFO in place of a data file must not hang the open (no effect on a file).
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .cannotOpen(path, errnoReason(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path, errnoReason(errno)) }
        guard (info.st_mode & S_IFMT) != S_IFDIR else { throw .cannotOpen(path, errnoReason(EISDIR)) }
        // A device such as /dev/zero or /dev/full put in a file's place reads without end.
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .cannotOpen(path, "not a regular file") }
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        let capacity = maxLineBytes + Self.chunkBytes
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var summary = Summary()
        // buffer[start..<end] is the line being gathered; bytes before `scanned` hold no newline.
        var start = 0
        var end = 0
        var scanned = 0
        // Inside a line over the cap: its bytes are dropped as they come, until its newline.
        var skipping = false
        while true {
            if skipping {
                // A hole in a sparse file is zeros, so no newline: go straight to the next data.
                let here = lseek(fd, 0, SEEK_CUR)
                let data = lseek(fd, here, Self.seekData)
                if data < 0, errno == ENXIO {
                    summary.tornFinalLine = summary.lines + 1
                    return summary
                }
                start = 0
                end = 0
                scanned = 0
            } else if start > 0 && capacity - end < Self.chunkBytes {
                // Move the partial line to the front; it is at most the cap, so a chunk fits after it.
                memmove(buffer, buffer + start, end - start)
                end -= start
                scanned -= start
                start = 0
            }
            let count = read(fd, buffer + end, min(Self.chunkBytes, capacity - end))
            if count < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(path, errnoReason(errno), summary)
            }
            if count == 0 {
                if skipping || end > start { summary.tornFinalLine = summary.lines + 1 }
                return summary
            }
            end += count
            while let found = memchr(buffer + scanned, 0x0A, end - scanned) {
                let newline = UnsafeMutableRawPointer(found).assumingMemoryBound(to: UInt8.self) - buffer
                summary.lines += 1
                if skipping {
                    skipping = false
                    summary.oversized += 1
                    if summary.firstOversized == nil { summary.firstOversized = summary.lines }
                } else if newline - start > maxLineBytes {
                    summary.oversized += 1
                    if summary.firstOversized == nil { summary.firstOversized = summary.lines }
                } else if newline > start {
                    line(UnsafeBufferPointer(start: buffer + start, count: newline - start), summary.lines)
                }
                start = newline + 1
                scanned = start
            }
            scanned = end
            if !skipping && end - start > maxLineBytes { skipping = true }
        }
    }
}
