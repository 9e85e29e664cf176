import SondeProbe
import SondeSupport

/// Delivers webhook events (JSON bodies) to every target from a queue of its own, with retries
/// and exponential backoff, so that a slow or dead target never delays a probe.
///
/// - `send` only enqueues: it never waits, and is safe from any thread or task.
/// - Each target has one worker task. It sends that target's events one at a time, in order: an
///   event goes out only once the previous one was delivered or given up. Targets are
///   independent; a dead one does not hold up the others.
/// - Requests run on `engine` (libcurl on its own thread; pass a separate engine from the
///   probes'). Backoff waits and `flush`'s time limit sleep on `time` (by default the system
///   clock); an attempt's own time limit is libcurl's, in real time. Nothing blocks Swift's
///   cooperative pool.
/// - A 2xx answer is delivered. 5xx, 408, 429 (honouring `Retry-After` up to `maxDelay`),
///   timeouts and DNS, connect, TLS or protocol failures are retried per `RetryPolicy`; other
///   answers (3xx, 4xx) are given up at once, as retrying will not change them.
/// - At most `queueLimit` events wait per target besides the one in delivery; when full, the
///   oldest waiting one is dropped and reported.
/// - Everything it reports names the target by its masked URL.
package final class WebhookSender: Sendable {
    /// The targets, in the order given, duplicates (same URL) removed.
    let targets: [WebhookTarget]
    /// The retry policy.
    package let policy: RetryPolicy
    /// Events that may wait per target besides the one in delivery (at least 1).
    let queueLimit: Int

    private let queue: WebhookQueue
    private let time: any TimeSource
    private let workers: [Task<Void, Never>]
    private let report: @Sendable (Event) -> Void

    /// Largest answer body read from a target; webhook answers are short (`ok`).
    static let answerLimit = 64 * 1024

    /// Starts one worker per target.
    /// - Parameters:
    ///   - engine: where requests run. The default is a new engine with its own thread, apart
    ///     from the probes'. Create a sender only when there are targets.
    ///   - time: what backoff waits and `flush` sleep on.
    ///   - report: called for every delivery, retry, give-up and drop, from a worker task (or,
    ///     for drops, from the caller of `send`); it should return quickly (write a log line).
    package init(
        targets: [WebhookTarget], policy: RetryPolicy = .init(), queueLimit: Int = 1000,
        engine: ProbeEngine = ProbeEngine(), time: any TimeSource = SystemTimeSource(),
        report: @escaping @Sendable (WebhookSender.Event) -> Void
    ) {
        var seen = Set<WebhookTarget>()
        let unique = targets.filter { seen.insert($0).inserted }
        self.targets = unique
        self.policy = policy
        self.queueLimit = max(1, queueLimit)
        self.report = report
        let queue = WebhookQueue(lanes: unique.count, limit: queueLimit)
        self.queue = queue
        self.time = time
        workers = unique.enumerated().map { lane, target in
            Task.detached {
                await Self.work(
                    lane: lane, target: target, queue: queue, engine: engine, policy: policy, time: time,
                    report: report)
            }
        }
    }

    deinit {
        for worker in workers { worker.cancel() }
        queue.close()
    }

    /// Queues `body` (a JSON document) for every target and returns at once. `id` names the
    /// event in reports (e.g. `incident-opened api 2026-01-01T10:00:00Z`).
    package func send(_ body: [UInt8], id: String) {
        let item = WebhookQueue.Item(body: body, id: id)
        for (lane, target) in targets.enumerated() {
            if let evicted = queue.push(item, lane: lane) {
                report(.dropped(target: target.masked, id: evicted.id))
            }
        }
    }

    /// Waits until every queued event is delivered or given up, or until `timeout` passes on
    /// `time`; returns how many are still pending (0 when all are done). For shutdown.
    package func flush(timeout: Duration) async -> Int {
        let (queue, time) = (self.queue, self.time)
        guard queue.pending > 0 else { return 0 }
        let deadline = time.now + timeout
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.waitUntilIdle() }
            group.addTask { try? await time.sleep(until: deadline) }
            _ = await group.next()
            group.cancelAll()
        }
        return queue.pending
    }

    /// Events waiting or in delivery, over all targets.
    var pending: Int { queue.pending }

    /// Events dropped so far because a target's queue was full.
    package var dropped: Int { queue.dropped }

    // MARK: - Worker

    /// One target's loop: its events in order, each to the end, on one session (connections
    /// to the target are reused between events).
    private static func work(
        lane: Int, target: WebhookTarget, queue: WebhookQueue, engine: ProbeEngine,
        policy: RetryPolicy, time: any TimeSource, report: @Sendable (Event) -> Void
    ) async {
        let session = engine.makeSession()
        defer { session.close() }
        while let item = await queue.next(lane: lane) {
            await deliver(
                item, to: target, session: session, engine: engine, policy: policy, time: time,
                report: report)
            queue.finish(lane: lane)
        }
    }

    private static func deliver(
        _ item: WebhookQueue.Item, to target: WebhookTarget, session: ProbeSession,
        engine: ProbeEngine, policy: RetryPolicy, time: any TimeSource,
        report: @Sendable (Event) -> Void
    ) async {
        var request = ProbeRequest(
            method: "POST", url: target.url,
            headers: [
                HTTPField(name: "Content-Type", value: "application/json"),
                HTTPField(name: "User-Agent", value: "sonde/\(Sonde.version)"),
            ], body: item.body)
        request.maxTime = policy.attemptTimeout
        request.bodyLimit = answerLimit
        let attempts = policy.attempts
        for attempt in 1...attempts {
            let result = await engine.perform(request, in: session)
            if Task.isCancelled { return }
            switch WebhookVerdict(result, target: target) {
            case .delivered:
                report(.delivered(target: target.masked, id: item.id, attempts: attempt))
                return
            case .final(let reason):
                report(.gaveUp(target: target.masked, id: item.id, attempts: attempt, reason: reason))
                return
            case .retry(let reason, let retryAfter):
                guard attempt < attempts else {
                    report(.gaveUp(target: target.masked, id: item.id, attempts: attempt, reason: reason))
                    return
                }
                let delay = policy.delay(afterAttempt: attempt, retryAfter: retryAfter)
                report(.retrying(target: target.masked, id: item.id, attempt: attempt, reason: reason, delay: delay))
                do {
                    try await time.sleep(for: delay)
                } catch {
                    return
                }
            }
        }
    }
}
