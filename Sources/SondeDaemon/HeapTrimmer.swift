import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Gives back to the system the memory the C allocator holds but no longer uses (glibc's
/// `malloc_trim`). A prober's heap is mostly small long-lived blocks per check between short-lived
/// blocks of runs; glibc returns freed pages inside its heaps only when asked, so without this the
/// resident size stays at its highest point (the start-up, a burst of late runs) long after.
/// The prober trims once every `interval`, from a background task.
enum HeapTrimmer {
    /// How often the prober trims.
    static let interval: Duration = .seconds(60)

    /// Trims now; true when memory went back to the system. Nothing happens on a C library
    /// without `malloc_trim`.
    @discardableResult
    static func trimNow() -> Bool {
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(nil, "malloc_trim") else { return false }
        return unsafeBitCast(symbol, to: Trim.self)(0) == 1
    }
}
