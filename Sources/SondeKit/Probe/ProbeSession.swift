/// One run of a check on the probe engine: its own connection pool, DNS cache, TLS session cache and
/// cookie jar. A new session therefore starts cold; requests inside it may reuse its connection.
public final class ProbeSession: Sendable {
    let id: UInt64
    private let engine: EngineCore

    init(id: UInt64, engine: EngineCore) {
        self.id = id
        self.engine = engine
    }

    /// Releases the session's connections and caches on the engine thread. Idempotent.
    public func close() {
        engine.enqueue(.closeSession(id))
    }

    deinit {
        engine.enqueue(.closeSession(id))
    }
}
