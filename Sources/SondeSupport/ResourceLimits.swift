import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why an open-files cap given in the environment was refused.
package enum ResourceLimitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `SONDE_NOFILE_LIMIT` is not a whole number of at least `ResourceLimits.minimumCap`.
    case invalidCap(String)

    /// A one-line message naming the variable and what it accepts.
    package var description: String {
        switch self {
        case .invalidCap(let text):
            return
                "SONDE_NOFILE_LIMIT '\(text)': expected a whole number of descriptors, at least \(ResourceLimits.minimumCap)"
        }
    }
}

/// The process's open-files limit (`RLIMIT_NOFILE`). Every day file the record writer keeps open,
/// every socket of a transfer in flight and every `/metrics` connection takes one descriptor; at
/// the limit `open`, `socket` and `accept` fail with `EMFILE`. The daemon raises its soft limit to
/// the hard one at start, optionally capped by `SONDE_NOFILE_LIMIT`.
package enum ResourceLimits {
    /// A soft and a hard limit; `Int.max` stands for "unlimited".
    package struct OpenFiles: Sendable, Equatable {
        /// The limit `open` and `socket` enforce.
        package var soft: Int
        /// The ceiling an unprivileged process may raise `soft` to.
        package var hard: Int
    }

    /// How a soft open-files limit is shared out: day files the record writer keeps open, runs the
    /// probe engine lets hold connections at once (two descriptors each: a run may keep an idle
    /// connection while it sends another request, a name lookup takes two more), and a reserve for
    /// the rest — the metrics server and its connections, the log, the runtime's own files. Work
    /// past a share waits its turn.
    package struct DescriptorBudget: Sendable, Equatable {
        /// Day files kept open: a quarter of the limit up to 4,096 descriptors (1,024 files), then
        /// half of it less 1,024 (8,976 of 20,000; 261,120 of 524,288, systemd's default hard
        /// limit), so that one file per check stays open wherever the limit allows.
        package var dayFiles: Int
        /// Runs (probe sessions) holding connections at once.
        package var sessions: Int
        /// Descriptors left for everything else: an eighth of the limit, between 32 and 1,024.
        package var reserve: Int
    }

    /// The shares of `soft` descriptors (each at least 1).
    package static func budget(softLimit soft: Int) -> DescriptorBudget {
        let soft = max(1, min(soft, 1 << 30))
        let dayFiles = max(1, soft <= 4096 ? soft / 4 : soft / 2 - 1024)
        let reserve = max(32, min(1024, soft / 8))
        let sessions = max(1, (soft - dayFiles - reserve) / 2)
        return DescriptorBudget(dayFiles: dayFiles, sessions: sessions, reserve: reserve)
    }

    /// The environment variable an operator sets to cap the descriptors sonde uses.
    package static let capVariable = "SONDE_NOFILE_LIMIT"

    /// The smallest cap accepted: below it the process's own threads and stdio leave nothing.
    package static let minimumCap = 64

    /// The current limits.
    package static func openFiles() -> OpenFiles {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return OpenFiles(soft: 1024, hard: 1024) }
        return OpenFiles(soft: number(limit.rlim_cur), hard: number(limit.rlim_max))
    }

    /// Reads `SONDE_NOFILE_LIMIT` from `environment`: nil when unset or empty.
    package static func cap(from environment: [String: String]) throws(ResourceLimitError) -> Int? {
        guard let text = environment[capVariable]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            return nil
        }
        guard let value = Int(text), value >= minimumCap else { throw .invalidCap(text) }
        return value
    }

    /// Sets the soft limit to the hard limit, or to `cap` when that is lower (a cap may also lower
    /// it), and returns the limits in force afterwards. Where the hard limit is unlimited or above
    /// the kernel's ceiling (`/proc/sys/fs/nr_open`), the ceiling is used. A refusal leaves the
    /// limits as they were; this never fails.
    @discardableResult
    package static func raiseOpenFiles(cap: Int? = nil) -> OpenFiles {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return openFiles() }
        var target = limit.rlim_max
        if let cap { target = min(target, rlim_t(max(cap, 1))) }
        if target != limit.rlim_cur {
            var wanted = limit
            wanted.rlim_cur = target
            if setrlimit(resource, &wanted) != 0, let ceiling = kernelCeiling(), ceiling < target {
                wanted.rlim_cur = ceiling
                _ = setrlimit(resource, &wanted)
            }
        }
        return openFiles()
    }

    private static var resource: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }

    private static func number(_ value: rlim_t) -> Int {
        value >= rlim_t(Int.max) ? Int.max : Int(value)
    }

    /// `/proc/sys/fs/nr_open`: the most descriptors a process may ever have.
    private static func kernelCeiling() -> rlim_t? {
        guard let text = try? String(contentsOfFile: "/proc/sys/fs/nr_open", encoding: .utf8),
            let value = rlim_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return value
    }
}
