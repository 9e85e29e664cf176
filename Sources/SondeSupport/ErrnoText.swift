import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The reason for a failed system call, as a lower-case phrase (`address already in use`).
package func errnoReason(_ code: Int32) -> String {
    switch code {
    case EADDRINUSE: return "address already in use"
    case EACCES: return "permission denied"
    case EADDRNOTAVAIL: return "address not available"
    default:
        guard let c = strerror(code) else { return "error \(code)" }
        let s = String(cString: c)
        return s.prefix(1).lowercased() + s.dropFirst()
    }
}
