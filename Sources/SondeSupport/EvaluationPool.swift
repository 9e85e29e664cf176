import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A small fixed set of dedicated threads that evaluate what a check's author wrote (captures,
/// asserts, JSONPath, regex, filters) against a response, each evaluation under a deadline. Never the
/// probe engine's thread, the scheduler's timers or Swift's cooperative pool: a slow evaluation holds
/// one of these threads and nothing else.
///
/// - An evaluation that passes its deadline gets `.timedOut` at the deadline (within one watchdog
///   tick, 50 ms): the waiting run goes on at once. Its `StopFlag` is set, and the JSONPath and regex
///   engines poll that flag, so the thread is normally free again within a millisecond. A computation
///   that ignores the flag cannot be killed: its thread is written off and, up to `spareThreads`
///   times, replaced, so the pool keeps `threads` threads working; a written-off thread that comes
///   back afterwards retires.
/// - An evaluation still queued at its deadline (every thread busy) gets `.timedOutWaiting`; one
///   submitted while `queueLimit` evaluations wait gets `.saturated` at once. Nothing waits forever.
/// - The watchdog that enforces deadlines is one more thread: it ticks every 50 ms while evaluations
///   are queued or running and sleeps while the pool is idle, so an evaluation costs a wake-up of a
///   worker at most, and none when a worker is already awake.
package final class EvaluationPool: Sendable {
    /// Why an evaluation returned no result.
    package enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The deadline passed while the evaluation ran; it was asked to stop.
        case timedOut
        /// The deadline passed before a thread was free: all `busy` threads were taken.
        case timedOutWaiting(busy: Int)
        /// Refused at once: `waiting` evaluations were queued already, the pool's limit.
        case saturated(waiting: Int)
        /// The task waiting for the evaluation was cancelled (shutdown).
        case cancelled

        /// What happened, for a run's message: `while evaluating`, `waiting for an evaluation thread
        /// (all 2 busy)`...
        package var description: String {
            switch self {
            case .timedOut: return "while evaluating"
            case .timedOutWaiting(let busy): return "waiting for an evaluation thread (all \(busy) busy)"
            case .saturated(let waiting):
                return "the evaluation pool is saturated (\(waiting) evaluations waiting)"
            case .cancelled: return "cancelled"
            }
        }
    }

    /// The pool of the process: `defaultThreads` threads, as many spares, 4,096 evaluations queued at most.
    package static let shared = EvaluationPool()

    /// Threads of the shared pool: 2, or 4 on a machine with 4 cores or more.
    package static var defaultThreads: Int { ProcessInfo.processInfo.activeProcessorCount >= 4 ? 4 : 2 }

    private let state: PoolState

    /// Starts `threads` worker threads and the watchdog. At most `spareThreads` more are started to
    /// replace threads written off on a stuck evaluation; at most `queueLimit` evaluations wait.
    package init(
        threads: Int = EvaluationPool.defaultThreads, spareThreads: Int? = nil, queueLimit: Int = 4_096,
        tick: Duration = .milliseconds(50)
    ) {
        let count = max(1, threads)
        state = PoolState(
            threads: count, spareThreads: max(0, spareThreads ?? count), queueLimit: max(1, queueLimit), tick: tick)
        for _ in 0..<count { state.startWorker() }
        let state = self.state
        let watchdog = Thread {
            EvaluationPool.name("sonde-eval-watch")
            state.watch()
        }
        watchdog.start()
    }

    /// Names the calling thread, for Foundation and for the kernel. Foundation's setter alone may
    /// not reach the kernel when a new thread runs before `Thread.start` has recorded it, and the
    /// thread then keeps the name of the one that started it (`oot.default-qos`); so the name is
    /// also written to `/proc/thread-self/comm` (what `pthread_setname_np` does, which Swift's
    /// Glibc module does not export).
    static func name(_ text: String) {
        Thread.current.name = text
        #if canImport(Glibc)
            let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            defer { close(fd) }
            let bytes = Array(text.utf8.prefix(15))
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        #endif
    }

    /// Threads evaluating or waiting for work now (written-off ones included).
    package var liveThreads: Int { state.locked { $0.liveThreads } }

    /// Threads written off on an evaluation that passed its deadline and has not returned yet.
    package var stuckThreads: Int { state.locked { $0.abandoned.count } }

    /// Evaluations queued, waiting for a thread.
    package var waiting: Int { state.locked { $0.queue.count - $0.head } }

    /// Runs `work` on a pool thread and returns its value, or why there is none: the deadline passed
    /// (while it ran, or before a thread was free), the pool is saturated, or the calling task was
    /// cancelled. `work` receives the evaluation's stop flag: set at the deadline or on cancellation,
    /// and it should stop soon after (the JSONPath and regex engines poll it). Never blocks the
    /// calling thread.
    package func run<T: Sendable>(
        until deadline: ContinuousClock.Instant, _ work: @escaping @Sendable (StopFlag) -> T
    ) async -> Result<T, Failure> {
        let delivery = Delivery<T>()
        let job = Job(
            deadline: deadline,
            body: { stop in delivery.deliver(.success(work(stop))) },
            expire: { failure in delivery.deliver(.failure(failure)) })
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, Failure>, Never>) in
                delivery.attach(continuation)
                state.submit(job)
            }
        } onCancel: {
            job.stop.set()
            delivery.deliver(.failure(.cancelled))
        }
    }

    /// Runs `work` on a pool thread and calls `done` with its value or why there is none, on a pool
    /// thread (the watchdog's for a failure); for a caller that is not in a task. `done` must return
    /// quickly.
    package func submit<T: Sendable>(
        until deadline: ContinuousClock.Instant, work: @escaping @Sendable (StopFlag) -> T,
        done: @escaping @Sendable (Result<T, Failure>) -> Void
    ) {
        let once = Delivery<T>(callback: done)
        state.submit(
            Job(
                deadline: deadline,
                body: { stop in once.deliver(.success(work(stop))) },
                expire: { failure in once.deliver(.failure(failure)) }))
    }
}

/// One evaluation: its deadline, its stop flag, and how to run it or report that it expired.
private final class Job: Sendable {
    let deadline: ContinuousClock.Instant
    let stop = StopFlag()
    let body: @Sendable (StopFlag) -> Void
    let expire: @Sendable (EvaluationPool.Failure) -> Void

    init(
        deadline: ContinuousClock.Instant, body: @escaping @Sendable (StopFlag) -> Void,
        expire: @escaping @Sendable (EvaluationPool.Failure) -> Void
    ) {
        self.deadline = deadline
        self.body = body
        self.expire = expire
    }
}

/// Hands exactly one result to a continuation (or a callback): the first of the value, the
/// deadline and the cancellation wins; the others are dropped.
private final class Delivery<T: Sendable>: Sendable {
    private enum Stage {
        case pending(CheckedContinuation<Result<T, EvaluationPool.Failure>, Never>?)
        /// Delivered before the continuation was attached.
        case early(Result<T, EvaluationPool.Failure>)
        case done
    }

    private let stage = Mutex<Stage>(.pending(nil))
    private let callback: (@Sendable (Result<T, EvaluationPool.Failure>) -> Void)?

    init(callback: (@Sendable (Result<T, EvaluationPool.Failure>) -> Void)? = nil) {
        self.callback = callback
    }

    func attach(_ continuation: CheckedContinuation<Result<T, EvaluationPool.Failure>, Never>) {
        let early = stage.withLock { stage -> Result<T, EvaluationPool.Failure>? in
            guard case .early(let result) = stage else {
                stage = .pending(continuation)
                return nil
            }
            stage = .done
            return result
        }
        if let early { continuation.resume(returning: early) }
    }

    func deliver(_ result: Result<T, EvaluationPool.Failure>) {
        if let callback {
            let first = stage.withLock { stage -> Bool in
                guard case .pending = stage else { return false }
                stage = .done
                return true
            }
            if first { callback(result) }
            return
        }
        let continuation = stage.withLock { stage -> CheckedContinuation<Result<T, EvaluationPool.Failure>, Never>? in
            switch stage {
            case .pending(let continuation?):
                stage = .done
                return continuation
            case .pending(nil):
                stage = .early(result)
                return nil
            case .early, .done:
                return nil
            }
        }
        continuation?.resume(returning: result)
    }
}

/// The pool's queue and threads. `@unchecked Sendable`: every mutable field is read and written
/// only with `cond` locked, except `poked`, which `watchCond` guards.
private final class PoolState: @unchecked Sendable {
    let cond = NSCondition()
    let watchCond = NSCondition()
    let threads: Int
    let spareThreads: Int
    let queueLimit: Int
    let tick: Duration

    struct Fields {
        /// Jobs waiting, from `head` on (the array is compacted as it drains).
        var queue: [Job] = []
        var head = 0
        /// The job each busy worker runs, by worker number.
        var running: [Int: Job] = [:]
        /// Workers whose job passed its deadline while running: written off until they return.
        var abandoned: Set<Int> = []
        var idle = 0
        var liveThreads = 0
        var nextWorker = 0
        /// True while the watchdog sleeps without a tick (nothing queued or running).
        var watchdogAsleep = false
    }

    var fields = Fields()
    /// Set (under `watchCond`) to wake a watchdog that sleeps without a tick.
    var poked = false

    init(threads: Int, spareThreads: Int, queueLimit: Int, tick: Duration) {
        self.threads = threads
        self.spareThreads = spareThreads
        self.queueLimit = queueLimit
        self.tick = tick
    }

    func locked<R>(_ body: (inout Fields) -> R) -> R {
        cond.lock()
        defer { cond.unlock() }
        return body(&fields)
    }

    /// Starts one more worker thread.
    func startWorker() {
        let id = locked { f -> Int in
            f.liveThreads += 1
            f.nextWorker += 1
            return f.nextWorker
        }
        let thread = Thread { [self] in
            // Named from inside: only the running thread's own name reaches the kernel (`top -H`).
            EvaluationPool.name("sonde-eval")
            work(as: id)
        }
        thread.start()
    }

    func submit(_ job: Job) {
        if job.deadline <= .now {
            job.stop.set()
            job.expire(.timedOut)
            return
        }
        cond.lock()
        let waiting = fields.queue.count - fields.head
        if waiting >= queueLimit {
            cond.unlock()
            job.stop.set()
            job.expire(.saturated(waiting: waiting))
            return
        }
        fields.queue.append(job)
        if fields.idle > 0 { cond.signal() }
        let wake = fields.watchdogAsleep
        fields.watchdogAsleep = false
        cond.unlock()
        if wake {
            watchCond.lock()
            poked = true
            watchCond.signal()
            watchCond.unlock()
        }
    }

    /// A worker: takes jobs in order, skips those already expired or cancelled, and retires when it
    /// comes back from a written-off job to a pool that has replaced it.
    private func work(as id: Int) {
        cond.lock()
        while true {
            while fields.head == fields.queue.count {
                fields.idle += 1
                cond.wait()
                fields.idle -= 1
            }
            let job = fields.queue[fields.head]
            fields.head += 1
            compact()
            if job.stop.isSet { continue }
            fields.running[id] = job
            cond.unlock()
            job.body(job.stop)
            cond.lock()
            fields.running[id] = nil
            if fields.abandoned.remove(id) != nil, fields.liveThreads - fields.abandoned.count > threads {
                fields.liveThreads -= 1
                cond.unlock()
                return
            }
        }
    }

    /// Drops the drained front of the queue once it is half the array.
    private func compact() {
        if fields.head == fields.queue.count {
            fields.queue.removeAll(keepingCapacity: true)
            fields.head = 0
        } else if fields.head > 1_024, fields.head * 2 > fields.queue.count {
            fields.queue.removeFirst(fields.head)
            fields.head = 0
        }
    }

    /// The watchdog: expires queued and running jobs past their deadline, writes off (and replaces)
    /// the threads of the running ones, then sleeps a tick, or until poked when the pool is idle.
    func watch() {
        while true {
            var expired: [(Job, EvaluationPool.Failure)] = []
            var spawn = 0
            cond.lock()
            let now = ContinuousClock.now
            if fields.head < fields.queue.count {
                let busy = fields.running.count
                var kept: [Job] = []
                for job in fields.queue[fields.head...] {
                    if job.stop.isSet { continue }
                    if job.deadline <= now {
                        expired.append((job, .timedOutWaiting(busy: busy)))
                    } else {
                        kept.append(job)
                    }
                }
                if kept.count != fields.queue.count - fields.head {
                    fields.queue = kept
                    fields.head = 0
                }
            }
            for (worker, job) in fields.running where job.deadline <= now && !fields.abandoned.contains(worker) {
                fields.abandoned.insert(worker)
                expired.append((job, .timedOut))
            }
            while fields.liveThreads - fields.abandoned.count + spawn < threads,
                fields.liveThreads + spawn < threads + spareThreads
            {
                spawn += 1
            }
            let active = fields.head < fields.queue.count || fields.running.count > fields.abandoned.count
            if !active { fields.watchdogAsleep = true }
            cond.unlock()

            for (job, failure) in expired {
                job.stop.set()
                job.expire(failure)
            }
            for _ in 0..<spawn { startWorker() }

            watchCond.lock()
            if active {
                _ = watchCond.wait(until: Date(timeIntervalSinceNow: tick.seconds))
            } else {
                while !poked { watchCond.wait() }
            }
            poked = false
            watchCond.unlock()
        }
    }
}
