import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The peak resident memory of a child process, read from `VmHWM` in `/proc/PID/status` on a thread
/// of its own every 2 ms while the child lives. `VmHWM` is the kernel's own high-water mark of the
/// process's resident set, so a sample misses nothing that happened before it; only the last 2 ms
/// before the child exits are unseen.
///
/// (`wait4`'s `ru_maxrss` is no use here: a child started with `posix_spawn` shares the parent's
/// memory until it execs, and the kernel then records the parent's high-water mark as the child's.)
final class PeakMemory: Sendable {
    private let peak = Atomic<Int>(0)
    private let samples = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)

    /// Starts sampling `pid`; sampling ends when its status no longer shows `VmHWM` (it exited).
    init(pid: Int32) {
        let thread = Thread { [self] in
            while let kilobytes = Self.highWaterKB(pid) {
                peak.store(max(peak.load(ordering: .relaxed), kilobytes), ordering: .relaxed)
                samples.add(1, ordering: .relaxed)
                usleep(2_000)
            }
            done.signal()
        }
        thread.name = "peak-memory"
        thread.start()
    }

    /// The highest `VmHWM` seen, in bytes, once the child is gone (call after it ended, off the pool).
    func bytes() -> Int {
        done.wait()
        done.signal()
        return peak.load(ordering: .relaxed) * 1024
    }

    /// How many samples were read (at least one: the child ran long enough to be seen).
    var sampleCount: Int { samples.load(ordering: .relaxed) }

    /// `VmHWM` of `pid` in kB, nil when the process is gone or a zombie (no memory left to show).
    static func highWaterKB(_ pid: Int32) -> Int? {
        let fd = open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        return line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
    }
}
