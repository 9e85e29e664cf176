import Foundation
import SondeSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `data/maintenance.jsonl`: the ad hoc maintenance windows, as append-only events (`added`,
/// `ended`; docs/data-format.md, "Maintenance windows"). Readers (the daemon, `report`,
/// `incidents`) read it without any lock; `sonde maintenance` appends under an exclusive `flock`
/// of the file itself (never the prober's `.lock`, so it works while a prober runs), one
/// `write(2)` per event on an `O_APPEND` descriptor, then `fsync`. A torn last line is skipped by
/// readers and closed with a newline by the next writer.
package struct MaintenanceLog: Sendable {
    /// The file's name in the data folder's root.
    package static let fileName = "maintenance.jsonl"
    /// The longest `--reason` kept (characters).
    package static let maximumReason = 500

    /// The file's path.
    package let path: String

    package init(folder: DataFolder) {
        path = folder.root + "/" + Self.fileName
    }

    /// What reading the file found: the windows in the order added, and the lines skipped.
    package struct Contents: Sendable, Equatable {
        package var entries: [MaintenanceEntry] = []
        /// Lines that are not events of this format (or a torn last line).
        package var skipped = 0

        package init() {}
    }

    /// Reads every event; a missing file is an empty log.
    package func read() -> Contents {
        var contents = Contents()
        var byID: [String: Int] = [:]
        let summary: LineReader.Summary
        do {
            summary = try LineReader().forEachLine(path) { bytes, _ in
                guard let event = Self.decode(String(decoding: bytes, as: UTF8.self)) else {
                    contents.skipped += 1
                    return
                }
                switch event {
                case .added(let entry):
                    guard byID[entry.id] == nil else {
                        contents.skipped += 1
                        return
                    }
                    byID[entry.id] = contents.entries.count
                    contents.entries.append(entry)
                case .ended(let id, let atMs):
                    guard let index = byID[id] else {
                        contents.skipped += 1
                        return
                    }
                    contents.entries[index].endedMs = min(contents.entries[index].endedMs ?? atMs, atMs)
                }
            }
        } catch {
            return contents
        }
        contents.skipped += summary.oversized + (summary.tornFinalLine != nil ? 1 : 0)
        return contents
    }

    /// The size, modification time and inode of the file (nil when it does not exist): what a
    /// watcher compares to notice a change without reading it.
    package func signature() -> [Int64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [
            Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec),
            Int64(bitPattern: UInt64(info.st_ino)),
        ]
    }

    /// One event of the file.
    package enum Event: Sendable, Equatable {
        /// A window was added.
        case added(MaintenanceEntry)
        /// Window `id` was ended at `atMs`.
        case ended(id: String, atMs: Int64)

        /// The line, ending in `\n`.
        package func encode() -> [UInt8] {
            let object: [(key: String, value: Value)]
            switch self {
            case .added(let entry):
                object = [
                    ("v", .integer(1)), ("t", .string(UTCTime.rfc3339(entry.addedMs))), ("event", .string("added")),
                    ("id", .string(entry.id)), ("check", entry.check.map(Value.string) ?? .null),
                    ("from", .string(UTCTime.rfc3339(entry.fromMs))),
                    ("until", .string(UTCTime.rfc3339(entry.untilMs))),
                    ("reason", .string(entry.reason)),
                ]
            case .ended(let id, let atMs):
                object = [
                    ("v", .integer(1)), ("t", .string(UTCTime.rfc3339(atMs))), ("event", .string("ended")),
                    ("id", .string(id)),
                ]
            }
            return Array((JSON.encode(.object(object)) + "\n").utf8)
        }
    }

    /// Decodes one line; nil for anything that is not a version-1 event.
    package static func decode(_ line: String) -> Event? {
        guard case .object(let pairs)? = try? JSON.parse(line) else { return nil }
        func member(_ key: String) -> Value? { pairs.first { $0.key == key }?.value }
        func string(_ key: String) -> String? {
            if case .string(let s)? = member(key) { return s }
            return nil
        }
        func time(_ key: String) -> Int64? {
            string(key).flatMap { Array($0.utf8).withUnsafeBufferPointer(UTCTime.parseRFC3339) }
        }
        guard case .integer(1)? = member("v"), let t = time("t"), let id = string("id"), !id.isEmpty else { return nil }
        switch string("event") {
        case "added":
            guard let from = time("from"), let until = time("until"), until > from else { return nil }
            let check: String?
            switch member("check") {
            case .string(let name)?: check = name
            case .null?, nil: check = nil
            default: return nil
            }
            return .added(
                MaintenanceEntry(
                    id: id, check: check, fromMs: from, untilMs: until, reason: string("reason") ?? "", addedMs: t))
        case "ended":
            return .ended(id: id, atMs: t)
        default:
            return nil
        }
    }

    /// Why the file could not be written.
    package enum WriteError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Opening, locking, writing or syncing failed.
        case failed(path: String, step: String, reason: String)

        package var description: String {
            switch self {
            case .failed(let path, let step, let reason):
                return "cannot \(step) \(path): \(reason) (check the data folder's permissions and free space)"
            }
        }
    }

    /// Takes an exclusive lock of the file (creating it, and the folder, when needed), reads it,
    /// and appends the events `body` returns for what it read, all under the lock: two commands
    /// at once never hand out the same id. `body` may throw to write nothing.
    package func update<E: Error>(
        _ body: (Contents) throws(E) -> [Event]
    ) throws(UpdateError<E>) {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .write(
                .failed(path: path, step: "create the folder of", reason: (error as NSError).localizedDescription))
        }
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .write(.failed(path: path, step: "open", reason: errnoReason(errno))) }
        defer { close(fd) }
        var result: Int32
        repeat { result = flock(fd, LOCK_EX) } while result != 0 && errno == EINTR
        guard result == 0 else { throw .write(.failed(path: path, step: "lock", reason: errnoReason(errno))) }
        let contents = read()
        let events: [Event]
        do { events = try body(contents) } catch { throw .refused(error) }
        guard !events.isEmpty else { return }
        var bytes: [UInt8] = []
        // A line torn by a crash is closed first, so the new events start on a line of their own.
        var info = stat()
        if fstat(fd, &info) == 0, info.st_size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, off_t(info.st_size - 1)) == 1, last != 0x0A { bytes.append(0x0A) }
        }
        for event in events { bytes += event.encode() }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw .write(.failed(path: path, step: "write", reason: written < 0 ? errnoReason(errno) : "short write"))
        }
        guard fsync(fd) == 0 else { throw .write(.failed(path: path, step: "sync", reason: errnoReason(errno))) }
    }

    /// Why `update` wrote nothing: `body` refused, or the file could not be written.
    package enum UpdateError<E: Error>: Error, CustomStringConvertible {
        /// `body` threw this.
        case refused(E)
        /// The file could not be written.
        case write(WriteError)

        package var description: String {
            switch self {
            case .refused(let error): return "\(error)"
            case .write(let error): return error.description
            }
        }
    }
}
