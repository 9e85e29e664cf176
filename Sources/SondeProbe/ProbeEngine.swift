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

    /// Performs one request and resumes when it completes, on the cooperative pool. Called on the
    /// engine thread (from a timer action), the transfer is added there without a wakeup.
    /// Cancelling the task aborts the transfer. When the server's certificate fails verification,
    /// the failure carries that certificate (`ProbeError.untrusted`), read on a second,
    /// connect-only handshake that does not verify.
    package func perform(_ request: ProbeRequest, in session: ProbeSession) async -> Result<ProbeResponse, ProbeError> {
        let result = await transfer(request, in: session)
        guard case .failure(.untrusted(let message, nil)) = result, !request.connectOnly, !Task.isCancelled else {
            return result
        }
        var probe = ProbeRequest(method: "GET", url: request.url)
        probe.insecure = true
        probe.connectOnly = true
        probe.maxTime = min(request.maxTime ?? Self.certificateReadLimit, Self.certificateReadLimit)
        probe.connectTimeout = request.connectTimeout
        probe.endsSession = request.endsSession
        let certificate = try? await transfer(probe, in: session).get().certificate
        return .failure(.untrusted(message, certificate: certificate))
    }

    /// The longest the second handshake of `perform` (reading a rejected certificate) may take.
    static let certificateReadLimit: Duration = .seconds(5)

    private func transfer(_ request: ProbeRequest, in session: ProbeSession) async -> Result<
        ProbeResponse, ProbeError
    > {
        let id = core.nextID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                core.enqueue(.add(Transfer(id: id, session: session.id, request: request, continuation: continuation)))
            }
        } onCancel: {
            core.enqueue(.cancel(id))
        }
    }

    /// True on this engine's thread: a run started by a timer action is there until its first
    /// request is on its way.
    package var isCurrentThread: Bool { core.isEngineThread }

    /// Returns on the cooperative pool: when called on the engine thread (a run started by a timer
    /// action that has not yet waited for a transfer), the task suspends and the engine resumes it
    /// once that action has returned, which puts it on the pool; anywhere else it returns at once.
    /// Evaluation and record keeping call it first, so that they never hold the engine thread.
    ///
    /// Not `Task.yield()`: a task started with `Task.immediate` that is resumed before the call
    /// that started it has returned may go on inline, on the same thread.
    package func leaveEngineThread() async {
        guard core.isEngineThread else { return }
        await withCheckedContinuation { continuation in core.enqueue(.resume(continuation)) }
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

    /// Times another thread has woken the engine (a request added, a timer set, a cancel).
    var wakeups: Int { core.wakeups }

    /// Sessions holding connections: a closed one counts until the engine loop next goes round.
    var sessionsHeld: Int { core.sessionsHeld }

    /// The most sessions holding connections at once.
    var maxSessions: Int { core.maxInFlight }
}
