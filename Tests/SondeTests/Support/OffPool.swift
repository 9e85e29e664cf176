import Foundation

/// Runs blocking work (waiting for a child process, key generation) on a thread of its own, so
/// the test does not starve Swift's cooperative pool, which other tests' timings rely on.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result { try body() })
        }.start()
    }
}
