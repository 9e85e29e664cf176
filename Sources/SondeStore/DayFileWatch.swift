#if canImport(Glibc)
    import Glibc
#endif

/// Tells the record writer which of its open day files may have been deleted, moved or replaced,
/// so that it checks (`stat`) only those before a line instead of every file before every line.
///
/// One inotify instance (non-blocking) watches each open day file for a change of its links or
/// attributes (`IN_ATTRIB`: an `unlink`, or a `rename` onto its path, drops its link count) and for
/// a move (`IN_MOVE_SELF`), and the check's folder and the data folder for a move or delete of the
/// folder (which takes the file away from its path too; a folder above the data folder is not
/// watched). `drain` reads what happened since the last call — one `read(2)`, which
/// normally finds nothing — once per batch of records, and marks those files suspect; a suspect
/// file gets the `stat` of its path against its device and inode before its next line, as every
/// file did before. A change is thus noticed by the first batch that starts after it.
///
/// Where inotify is not to be had (no instance, the watch limit reached, a watch that may not be on
/// the opened file), the file goes unwatched and is checked before every line: correctness never
/// depends on the watch. Used by the writer thread only (not thread-safe).
final class DayFileWatch {
    /// The inotify descriptor, or -1 when there is none.
    private let fd: Int32
    /// The watches of each watched day file's descriptor: the file's own, then its folders'.
    private var watches: [Int32: [Int32]] = [:]
    /// The day files' descriptors behind each watch (a folder's watch serves all of its files).
    private var users: [Int32: Set<Int32>] = [:]
    /// Day files (descriptors) whose watches saw a change since they were last checked.
    private var suspects: Set<Int32> = []
    private var buffer = [UInt8](repeating: 0, count: 4096)

    /// What a file's watch looks for: links or attributes changed (deleted, replaced by a rename),
    /// moved away, or its file system gone. A folder's watch looks for the same about the folder
    /// itself (renamed, deleted), which moves every file in it away from its path.
    private static let mask = UInt32(IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF | IN_UNMOUNT)

    /// Starts an inotify instance; without one every file is checked before every line.
    init() {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// True when the inotify instance could be made.
    var isAvailable: Bool { fd >= 0 }

    /// Watches `path`, just opened as `file` (the descriptor, with the device and inode `fstat`
    /// gave), and the `folders` it lies in (its check's folder, the data folder). Without every
    /// watch (none to be had, or the path names another file by now) the file is checked before
    /// every line.
    func watch(_ path: String, _ file: Int32, device: UInt64, inode: UInt64, folders: [String]) {
        guard fd >= 0 else { return }
        var added: [Int32] = []
        for target in [path] + folders {
            let wd = inotify_add_watch(fd, target, Self.mask)
            guard wd >= 0 else {
                release(added, of: file)
                return
            }
            added.append(wd)
            users[wd, default: []].insert(file)
        }
        // The watch is on whatever `path` named when it was added: make sure that is the opened file.
        var named = stat()
        guard stat(path, &named) == 0, UInt64(named.st_dev) == device, UInt64(named.st_ino) == inode else {
            release(added, of: file)
            return
        }
        watches[file] = added
    }

    /// Stops watching the day file of descriptor `file` (about to be closed).
    func closing(_ file: Int32) {
        suspects.remove(file)
        guard let wds = watches.removeValue(forKey: file) else { return }
        release(wds, of: file)
    }

    /// Drops `file` from the users of `wds`, removing the watches nobody uses any more.
    private func release(_ wds: [Int32], of file: Int32) {
        for wd in wds {
            users[wd]?.remove(file)
            if users[wd]?.isEmpty == true {
                users[wd] = nil
                _ = inotify_rm_watch(fd, wd)
            }
        }
    }

    /// True when the day file of descriptor `file` must be checked against its path before the
    /// next line: it is not watched, or one of its watches saw a change since it was last checked.
    func needsCheck(_ file: Int32) -> Bool {
        watches[file] == nil || suspects.contains(file)
    }

    /// The day file of descriptor `file` was checked and is still the one at its path.
    func checked(_ file: Int32) { suspects.remove(file) }

    /// Reads the events that came since the last call and marks their files suspect (all of them
    /// when the kernel's queue overflowed and events were lost).
    func drain() {
        guard fd >= 0, !users.isEmpty else { return }
        let fd = self.fd
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }
            var at = 0
            var overflowed = false
            var changed: [Int32] = []
            buffer.withUnsafeBytes { raw in
                while at + MemoryLayout<inotify_event>.size <= n {
                    let event = raw.loadUnaligned(fromByteOffset: at, as: inotify_event.self)
                    if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                        overflowed = true
                    } else if event.mask & Self.mask != 0 {
                        changed.append(event.wd)
                    }
                    at += MemoryLayout<inotify_event>.size + Int(event.len)
                }
            }
            for wd in changed { if let files = users[wd] { suspects.formUnion(files) } }
            if overflowed { suspects.formUnion(watches.keys) }
        }
    }
}
