import SondeProbe
import SondeSupport
import Synchronization

/// The pending events of a `WebhookSender`: one lane per target, each with a bounded list of
/// waiting events and at most one in delivery. Sendable without `@unchecked`: all state sits in a `Mutex`.
///
/// A lane's worker takes events with `next(lane:)` and reports each one done with
/// `finish(lane:)`; `WebhookSender.flush` waits with `waitUntilIdle()` until no lane has work.
final class WebhookQueue: Sendable {
    /// One event as queued.
    struct Item: Sendable {
        var body: [UInt8]
        var id: String
    }

    private struct Lane {
        var waiting: [Item] = []
        var busy = false
        var consumer: CheckedContinuation<Item?, Never>?
    }

    private struct State {
        var lanes: [Lane]
        var closed = false
        var dropped = 0
        /// Idle waiters: a nil value is a waiter registered but not yet suspended.
        var idleWaiters: [UInt64: CheckedContinuation<Void, Never>?] = [:]
        var nextWaiter: UInt64 = 0

        var pending: Int {
            lanes.reduce(0) { $0 + $1.waiting.count + ($1.busy ? 1 : 0) }
        }
    }

    /// Events that may wait per lane, besides the one in delivery.
    let limit: Int
    private let state: Mutex<State>

    init(lanes: Int, limit: Int) {
        self.limit = max(1, limit)
        state = Mutex(State(lanes: Array(repeating: Lane(), count: lanes)))
    }

    /// Events waiting or in delivery, over all lanes.
    var pending: Int { state.withLock { $0.pending } }

    /// Events dropped because a lane was full.
    var dropped: Int { state.withLock { $0.dropped } }

    /// Queues `item` on `lane`; returns the oldest waiting event when the lane was full and it
    /// had to make room. Never waits.
    func push(_ item: Item, lane: Int) -> Item? {
        let (consumer, evicted) = state.withLock { s -> (CheckedContinuation<Item?, Never>?, Item?) in
            guard !s.closed else { return (nil, nil) }
            if let consumer = s.lanes[lane].consumer {
                s.lanes[lane].consumer = nil
                s.lanes[lane].busy = true
                return (consumer, nil)
            }
            var evicted: Item?
            if s.lanes[lane].waiting.count >= limit {
                evicted = s.lanes[lane].waiting.removeFirst()
                s.dropped += 1
            }
            s.lanes[lane].waiting.append(item)
            return (nil, evicted)
        }
        consumer?.resume(returning: item)
        return evicted
    }

    /// The next event of `lane`, waiting for one; nil once the queue is closed.
    /// The lane counts as busy until `finish(lane:)`.
    func next(lane: Int) async -> Item? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Item?? in
                if s.closed { return .some(nil) }
                if !s.lanes[lane].waiting.isEmpty {
                    s.lanes[lane].busy = true
                    return .some(s.lanes[lane].waiting.removeFirst())
                }
                s.lanes[lane].consumer = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Marks the event taken from `lane` as delivered or given up.
    func finish(lane: Int) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.lanes[lane].busy = false
            return s.pending == 0 ? Self.takeIdleWaiters(&s, placeholders: false) : []
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when nothing is pending, or when the calling task is cancelled.
    func waitUntilIdle() async {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1
            s.idleWaiters[s.nextWaiter] = .some(nil)
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    // Gone: cancelled or closed before we got here.
                    guard s.idleWaiters[id] != nil, s.pending > 0, !s.closed else {
                        s.idleWaiters[id] = nil
                        return true
                    }
                    s.idleWaiters[id] = .some(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s in s.idleWaiters.removeValue(forKey: id) }
            if let waiter = waiter ?? nil { waiter.resume() }
        }
    }

    /// Stops the lanes: waiting workers get nil, waiting events are discarded, idle waiters return.
    func close() {
        let (consumers, waiters) = state.withLock {
            s -> ([CheckedContinuation<Item?, Never>], [CheckedContinuation<Void, Never>]) in
            s.closed = true
            var consumers: [CheckedContinuation<Item?, Never>] = []
            for index in s.lanes.indices {
                if let consumer = s.lanes[index].consumer { consumers.append(consumer) }
                s.lanes[index] = Lane()
            }
            return (consumers, Self.takeIdleWaiters(&s, placeholders: true))
        }
        for consumer in consumers { consumer.resume(returning: nil) }
        for waiter in waiters { waiter.resume() }
    }

    /// Removes and returns the suspended idle waiters. Registered ones that have not suspended yet
    /// check `pending` themselves; they are removed too when `placeholders` (closing).
    private static func takeIdleWaiters(_ s: inout State, placeholders: Bool) -> [CheckedContinuation<Void, Never>] {
        let waiters = s.idleWaiters.values.compactMap { $0 }
        if placeholders {
            s.idleWaiters.removeAll()
        } else {
            s.idleWaiters = s.idleWaiters.filter { $0.value == nil }
        }
        return waiters
    }
}
