import SondeSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The day files the record writer keeps open: at most `capacity` descriptors, one per check, the
/// least recently used closed first when a new one is needed. The cache owns its descriptors: it
/// closes what it evicts or removes. Used by the writer thread only (not thread-safe).
///
/// With more checks than room, plain LRU would thrash: checks write in a cycle, so the file evicted
/// is always the next one needed and every record opens and closes a file. The writer therefore
/// asks `mayEvict(idleBefore:)` first and only evicts a file idle for a while; otherwise it writes
/// through a descriptor of its own, closed after the line. `capacity` checks then keep their files
/// open and only the rest open one per record.
struct DayFileCache {
    /// An open day file: the UTC day it holds, its descriptor and which file that descriptor is.
    struct File: Equatable {
        /// Start of the UTC day (epoch ms).
        var day: Int64
        /// The descriptor, opened for appending.
        var fd: Int32
        /// Device and inode of the open file, read once when it was opened: a `stat` of the path
        /// that finds another file (or none) means it was deleted, moved or replaced meanwhile.
        var device: UInt64 = 0
        /// Inode of the open file (see `device`).
        var inode: UInt64 = 0
    }

    private struct Slot {
        var key: String
        var file: File
        var newer: Int
        var older: Int
        /// When the file was last used (the caller's clock, ms).
        var lastUse: Int64
    }

    /// The most descriptors kept open at once (at least 1).
    let capacity: Int
    private var slots: [Slot] = []
    private var unused: [Int] = []
    private var index: [String: Int] = [:]
    /// Most and least recently used slots, -1 when empty.
    private var newest = -1
    private var oldest = -1
    private let closer: (Int32) -> Void

    /// An empty cache; `close` closes an evicted descriptor (tests pass their own).
    init(capacity: Int, close: @escaping (Int32) -> Void = { _ = Glibc.close($0) }) {
        self.capacity = max(1, capacity)
        self.closer = close
    }

    /// The capacity for a soft open-files limit (`ResourceLimits.DescriptorBudget.dayFiles`): a
    /// quarter of it up to 4,096, half of it less 1,024 above — the rest is left to sockets
    /// (transfers in flight), the metrics server and the runtime's own files.
    static func capacity(forSoftLimit soft: Int) -> Int {
        ResourceLimits.budget(softLimit: soft).dayFiles
    }

    /// Descriptors open.
    var count: Int { index.count }

    /// True when the cache has room, or its least recently used file was last used before
    /// `cutoff`: then keeping a new file is worth evicting that one.
    func mayEvict(idleBefore cutoff: Int64) -> Bool {
        index.count < capacity || (oldest >= 0 && slots[oldest].lastUse < cutoff)
    }

    /// True when nothing is open.
    var isEmpty: Bool { index.isEmpty }

    /// Keys from the most to the least recently used.
    var keysByRecency: [String] {
        var out: [String] = []
        var at = newest
        while at >= 0 {
            out.append(slots[at].key)
            at = slots[at].older
        }
        return out
    }

    /// The open file of `key`, marked as the most recently used, at `now`.
    mutating func use(_ key: String, at now: Int64) -> File? {
        guard let at = index[key] else { return nil }
        detach(at)
        attach(at)
        slots[at].lastUse = now
        return slots[at].file
    }

    /// Keeps `file` open for `key` as the most recently used (at `now`), closing the file `key`
    /// had and, when the cache is full, the least recently used one.
    mutating func insert(_ key: String, _ file: File, at now: Int64) {
        remove(key)
        if index.count >= capacity { closeLeastRecent(1) }
        let slot = Slot(key: key, file: file, newer: -1, older: -1, lastUse: now)
        let at: Int
        if let free = unused.popLast() {
            slots[free] = slot
            at = free
        } else {
            slots.append(slot)
            at = slots.count - 1
        }
        index[key] = at
        attach(at)
    }

    /// Closes and forgets the file of `key`, if any.
    mutating func remove(_ key: String) {
        guard let at = index.removeValue(forKey: key) else { return }
        detach(at)
        closer(slots[at].file.fd)
        unused.append(at)
    }

    /// Closes up to `count` of the least recently used files; returns how many it closed.
    @discardableResult
    mutating func closeLeastRecent(_ count: Int) -> Int {
        var closed = 0
        while closed < count, oldest >= 0 {
            remove(slots[oldest].key)
            closed += 1
        }
        return closed
    }

    /// Closes every file.
    mutating func closeAll() {
        closeLeastRecent(index.count)
    }

    /// Puts slot `at` at the newest end of the list.
    private mutating func attach(_ at: Int) {
        slots[at].newer = -1
        slots[at].older = newest
        if newest >= 0 { slots[newest].newer = at }
        newest = at
        if oldest < 0 { oldest = at }
    }

    /// Takes slot `at` out of the list.
    private mutating func detach(_ at: Int) {
        let (newer, older) = (slots[at].newer, slots[at].older)
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        slots[at].newer = -1
        slots[at].older = -1
    }
}
