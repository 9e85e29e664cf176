import Foundation
import Testing

/// Runs blocking work (waiting for a child process, key generation) on a thread of its own, so
/// the test does not starve Swift's cooperative pool, which other tests' timings rely on.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result { try body() })
        }.start()
    }
}

/// `@Suite(.offPool)`: every test of the suite runs on threads of its own instead of Swift's
/// cooperative pool.
///
/// The pool has one thread per core (two on a small CI machine), and a synchronous test holds
/// its thread until it ends: two CPU-bound tests (a month of runs, a fuzz loop) or two blocked on
/// a socket stall every other test of the process, and with them the runs, schedulers and
/// deadlines those tests measure. Under this trait a test's code runs on a fresh thread per job
/// (the span between two suspension points), which the kernel schedules with everything else.
/// For suites of synchronous tests; a suite about sonde's own concurrency (the scheduler, the
/// prober) keeps running on the pool it runs on in production.
///
/// `@Suite(.cpuBound)` does the same at a lower priority (nice 10) for suites that only compute:
/// when a test that measures time (a run's deadline, a schedule, a latency assert) needs a core,
/// the kernel gives it one first, while the computing suites still get every idle cycle.
struct OffPoolTrait: SuiteTrait, TestTrait, TestScoping {
    let executor: ThreadPerJobExecutor

    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(executor) { try await function() }
    }
}

extension Trait where Self == OffPoolTrait {
    /// Runs the suite's tests on threads of their own (see `OffPoolTrait`).
    static var offPool: Self { OffPoolTrait(executor: .normal) }
    /// Runs the suite's tests on threads of their own at a lower priority (see `OffPoolTrait`).
    static var cpuBound: Self { OffPoolTrait(executor: .low) }
}

/// A task executor that runs each job on a new thread, optionally at a lower priority.
final class ThreadPerJobExecutor: TaskExecutor {
    static let normal = ThreadPerJobExecutor(lowerBy: 0)
    static let low = ThreadPerJobExecutor(lowerBy: 10)

    /// The nice value of the job threads, nil to keep the one they inherit. Linux keeps a nice
    /// value per thread; threads and processes that a test starts from its thread inherit it.
    let nice: Int32?

    /// `lowerBy` is added to the nice value the process runs at (at most 19).
    init(lowerBy: Int32) {
        // On Linux PRIO_PROCESS with `who` 0 names the calling thread, not the whole process.
        let base = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        nice = lowerBy > 0 ? min(19, base + lowerBy) : nil
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        let nice = nice
        Thread {
            if let nice { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) }
            job.runSynchronously(on: executor)
        }.start()
    }
}
