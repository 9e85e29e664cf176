import SondeSupport
import Synchronization

/// One run of a check on the probe engine: its own connection pool, DNS cache, TLS session cache and
/// cookie jar. A new session therefore starts cold; requests inside it may reuse its connection.
package final class ProbeSession: Sendable {
    let id: UInt64
    private let engine: EngineCore
    private let closed = Atomic<Bool>(false)

    init(id: UInt64, engine: EngineCore) {
        self.id = id
        self.engine = engine
    }

    /// Releases the session's connections and caches on the engine thread. Idempotent: only the
    /// first call (or the deinit, when nobody called it) sends the command and wakes the engine.
    package func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        engine.enqueue(.closeSession(id))
    }

    deinit {
        close()
    }
}
