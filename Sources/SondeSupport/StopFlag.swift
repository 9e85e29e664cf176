import Synchronization

/// A flag that a long synchronous computation (a JSONPath query over a large document, a regex over a
/// large body) polls to stop early. Whoever stops waiting for the result sets it: the evaluation pool
/// when a run's deadline passes, or a cancelled run. Once set it stays set.
package final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    /// A flag not set yet.
    package init() {}

    /// Asks the computation to stop at its next check.
    package func set() {
        flag.store(true, ordering: .relaxed)
    }

    /// True once `set()` was called.
    package var isSet: Bool {
        flag.load(ordering: .relaxed)
    }
}
