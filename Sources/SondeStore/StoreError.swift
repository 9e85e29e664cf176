import SondeRun
import SondeSupport

/// Why the data folder cannot be used.
package enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The folder cannot be created or written; `reason` is the system's.
    case notWritable(path: String, reason: String)

    package var description: String {
        switch self {
        case .notWritable(let path, let reason):
            return "data folder \(path) is not writable: \(reason) (choose another with --data, or fix its permissions)"
        }
    }
}
