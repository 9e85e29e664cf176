import CCurl
import Foundation
import SondeSupport

/// Runs HTTP requests on libcurl's multi interface, driven by one dedicated thread. Thousands of
/// concurrent runs share that thread; no call blocks Swift's cooperative pool.
package final class ProbeEngine: Sendable {
    /// The process-wide engine.
    package static let shared = ProbeEngine()

    let core: EngineCore

    /// Starts an engine with its own thread and multi handle. At most `maxSessions` sessions hold
    /// connections at once (by default the sessions' share of the soft open-files limit); the
    /// first request of another session waits its turn.
    package init(maxSessions: Int? = nil) {
        core = EngineCore(maxInFlight: maxSessions)
    }

    /// A new session (one run): cold connection, empty DNS cache and cookie jar.
    package func makeSession() -> ProbeSession {
        ProbeSession(id: core.nextID(), engine: core)
    }

    /// Performs one request and resumes when it completes. Cancelling the task aborts the transfer.
    package func perform(_ request: ProbeRequest, in session: ProbeSession) async -> Result<ProbeResponse, ProbeError> {
        let id = core.nextID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                core.enqueue(.add(Transfer(id: id, session: session.id, request: request, continuation: continuation)))
            }
        } onCancel: {
            core.enqueue(.cancel(id))
        }
    }

    /// Calls `action` on the engine thread at `deadline` (monotonic clock; never early, late by the
    /// poll's millisecond rounding plus whatever the thread is doing). `action` must return quickly:
    /// start a `Task` for real work.
    package func schedule(at deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) {
        core.enqueue(.timer(deadline, action))
    }

    /// True while the engine loop goes round (it wakes at least once a second); `/healthz` uses it.
    package var isResponsive: Bool { core.sinceHeartbeat < .seconds(5) }

    /// Transfers in flight.
    var activeTransfers: Int { core.activeCount }

    /// The most sessions holding connections at once.
    var maxSessions: Int { core.maxInFlight }
}
