import Foundation
import Synchronization
import Testing

@testable import SondeAlerts
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeDemoShop
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeRun
@testable import SondeSLO
@testable import SondeScript
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

/// A gate an evaluation waits at without looking at its stop flag: a computation that cannot be
/// interrupted, for the pool's worst case.
final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let entered = Atomic<Int>(0)

    /// Blocks the calling (pool) thread until `open` is called.
    func wait() {
        entered.add(1, ordering: .relaxed)
        semaphore.wait()
    }

    /// How many callers have reached the gate.
    var waiting: Int { entered.load(ordering: .relaxed) }

    /// Lets `count` waiters through.
    func open(_ count: Int) {
        for _ in 0..<count { semaphore.signal() }
    }
}

@Suite("Evaluation pool: deadlines, stuck threads, saturation, limits")
struct EvaluationPoolTests {
    /// The kernel's name of the calling thread.
    static func threadName() -> String {
        let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        return comm.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("an evaluation returns its value from a pool thread, not the caller's")
    func returnsValue() async {
        let pool = EvaluationPool(threads: 2)
        let result = await pool.run(until: .now + .seconds(60)) { _ in Self.threadName() }
        #expect(result == .success("sonde-eval"))
    }

    @Test("past its deadline an evaluation is a timeout at once, its stop flag is set, and the thread comes back")
    func deadlineStopsACooperativeEvaluation() async {
        let pool = EvaluationPool(threads: 1, spareThreads: 0)
        let stopped = Atomic<Bool>(false)
        let result = await pool.run(until: .now + .milliseconds(200)) { stop in
            // A long computation that polls its flag, as JSONPath and the regex engine do.
            while !stop.isSet { usleep(1_000) }
            stopped.store(true, ordering: .relaxed)
            return 1
        }
        #expect(result == .failure(.timedOut))
        #expect(await pollUntil { stopped.load(ordering: .relaxed) }, "the evaluation saw its stop flag")
        // The one thread is free again: the next evaluation runs.
        #expect(await pool.run(until: .now + .seconds(60)) { _ in 2 } == .success(2))
        #expect(pool.stuckThreads == 0)
    }

    @Test("a thread stuck past the deadline is written off and replaced, then retires when it comes back")
    func stuckThreadIsReplaced() async {
        let pool = EvaluationPool(threads: 1, spareThreads: 1)
        let gate = Gate()
        let stuck = await pool.run(until: .now + .milliseconds(200)) { _ in
            gate.wait()
            return 0
        }
        #expect(stuck == .failure(.timedOut))
        #expect(await pollUntil { pool.stuckThreads == 1 && pool.liveThreads == 2 }, "a spare thread replaces it")
        #expect(await pool.run(until: .now + .seconds(60)) { _ in 7 } == .success(7), "the spare evaluates")
        gate.open(1)
        #expect(await pollUntil { pool.stuckThreads == 0 && pool.liveThreads == 1 }, "the stuck one retires")
    }

    @Test(
        "with every thread stuck and no spare left, a queued evaluation times out waiting, and a full queue refuses at once"
    )
    func saturatedPoolNeverWaitsForever() async {
        let pool = EvaluationPool(threads: 1, spareThreads: 0, queueLimit: 2)
        let gate = Gate()
        let blocker = Task {
            await pool.run(until: .now + .seconds(120)) { _ in
                gate.wait()
                return 0
            }
        }
        #expect(await pollUntil { gate.waiting == 1 })
        // Two evaluations wait (the limit), the third is refused at once.
        let queued = (0..<2).map { _ in
            Task { await pool.run(until: .now + .milliseconds(300)) { _ in 1 } }
        }
        #expect(await pollUntil { pool.waiting == 2 })
        #expect(await pool.run(until: .now + .seconds(60)) { _ in 1 } == .failure(.saturated(waiting: 2)))
        for task in queued {
            #expect(await task.value == .failure(.timedOutWaiting(busy: 1)))
        }
        gate.open(1)
        #expect(await blocker.value == .success(0))
    }

    @Test("cancelling the waiting task ends the wait at once and stops the evaluation")
    func cancellationEndsTheWait() async {
        let pool = EvaluationPool(threads: 1)
        let saw = Atomic<Bool>(false)
        let started = Atomic<Bool>(false)
        let task = Task {
            await pool.run(until: .now + .seconds(120)) { stop in
                started.store(true, ordering: .relaxed)
                while !stop.isSet { usleep(1_000) }
                saw.store(true, ordering: .relaxed)
                return 0
            }
        }
        #expect(await pollUntil { started.load(ordering: .relaxed) })
        task.cancel()
        #expect(await task.value == .failure(.cancelled))
        #expect(await pollUntil { saw.load(ordering: .relaxed) })
    }

    @Test("the callback form delivers exactly one outcome")
    func callbackForm() async {
        let pool = EvaluationPool(threads: 1)
        let outcomes = Mutex<[Result<Int, EvaluationPool.Failure>]>([])
        let record: @Sendable (Result<Int, EvaluationPool.Failure>) -> Void = { result in
            outcomes.withLock { $0.append(result) }
        }
        pool.submit(until: .now + .seconds(60), work: { _ in 5 }, done: record)
        let spin: @Sendable (StopFlag) -> Int = { stop in
            while !stop.isSet { usleep(1_000) }
            return 6
        }
        pool.submit(until: .now + .milliseconds(100), work: spin, done: record)
        #expect(await pollUntil { outcomes.withLock { $0.count } == 2 })
        #expect(await pollUntil(timeout: .milliseconds(300)) { outcomes.withLock { $0.count } > 2 } == false)
        #expect(outcomes.withLock { $0 } == [.success(5), .failure(.timedOut)])
    }
}

@Suite("JSONPath and regex: bounded work", .cpuBound)
struct EvaluationLimitTests {
    /// `[{"id": 0, "v": "ab"}, …]`: `count` objects, three nodes each.
    static func document(_ count: Int) -> Value {
        .list((0..<count).map { .object([("id", .integer(Int64($0))), ("v", .string("ab"))]) })
    }

    @Test("a descendant query over a large document stops at the node limit with a message that says what to do")
    func descendantLimit() throws {
        let root = Self.document(400_000)
        let path = try JSONPath("$..id")
        // 1,200,001 nodes: under the standard limit, the query answers.
        #expect(try path.evaluate(root).count == 400_000)
        #expect(throws: JSONPathLimitError.tooManyNodes(expression: "$..id", limit: 1_000_000)) {
            try path.evaluate(root, limits: JSONPath.Limits(maxSteps: 1_000_000))
        }
        let error = JSONPathLimitError.tooManyNodes(expression: "$..id", limit: 2_000_000)
        #expect(error.description.contains("JSONPath $..id touched more than 2,000,000 nodes"))
        #expect(error.description.contains("$.items[*].id rather than $..id"))
    }

    @Test("nested descendant filters, quadratic in the document, are bounded too")
    func quadraticFilterIsBounded() throws {
        // Every node tested walks the whole document again from the root.
        let root = Self.document(5_000)
        let path = try JSONPath("$..[?$..v]")
        #expect(throws: JSONPathLimitError.tooManyNodes(expression: "$..[?$..v]", limit: 100_000)) {
            try path.evaluate(root, limits: JSONPath.Limits(maxSteps: 100_000))
        }
        // A small document gets its answer: the 3 objects, then each one's 2 members.
        #expect(try path.evaluate(Self.document(3)).count == 9)
    }

    @Test("descendants come in document order")
    func descendantOrder() throws {
        let root = try JSON.parse(#"{"a": {"x": 1, "b": [{"x": 2}, {"x": 3}]}, "x": 4, "c": [[{"x": 5}]]}"#)
        #expect(
            try JSONPath("$..x").evaluate(root) == [.integer(4), .integer(1), .integer(2), .integer(3), .integer(5)])
    }

    @Test("a set stop flag stops JSONPath and the regex engine")
    func stopFlag() throws {
        let stop = StopFlag()
        stop.set()
        #expect(throws: JSONPathLimitError.stopped) {
            try JSONPath("$..id").evaluate(Self.document(10_000), stop: stop)
        }
        let regex = try LinearRegex("(a*)*b")
        let text = String(repeating: "a", count: 1_000_000)
        #expect(regex.isMatch(text, stop: stop) == nil)
        #expect(regex.firstMatch(in: text, groups: 1, stop: stop).stopped)
        #expect(regex.isMatch(text, stop: StopFlag()) == false)
    }
}

@Suite("Runner: captures and asserts evaluated under the run's deadline")
struct EvaluationDeadlineTests {
    @Test(
        "asserts still evaluating at @timeout make the run a timeout then, saying so, while a light run beside it is unaffected"
    )
    func heavyAssertsTimeOut() async throws {
        let service = try TestService()
        // Each assert scans 8 MB of text: far more than 1 s of work on this machine.
        let heavy = """
            # @timeout 1s
            GET {{base_url}}/aaaa
            HTTP 200
            [Asserts]
            body matches "(a*)*b"
            body matches "(a|aa)*c"
            body matches "(a*)*b"

            """
        let started = ContinuousClock.now
        async let bad = runScript(heavy, baseURL: service.baseURL)
        async let light = runScript(
            "GET {{base_url}}/json\nHTTP 200\n[Asserts]\njsonpath \"$.count\" == 3\n", baseURL: service.baseURL)
        let (heavyResult, lightResult) = try await (bad, light)
        #expect(lightResult.ok, "\(String(describing: lightResult.failure))")
        let failure = try #require(heavyResult.failure)
        #expect(failure.kind == .timeout)
        #expect(failure.summary == "timed out after 1s while evaluating the asserts of entry 1", "\(failure.summary)")
        #expect(heavyResult.durationMs < 2_000, "recorded \(heavyResult.durationMs) ms for a 1 s timeout")
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("a JSONPath over a body too large for its node limit fails the assert with the limit's message")
    func jsonPathLimitFailsTheAssert() async throws {
        let service = try TestService()
        // A descendant filter that descends again from every node of /many's million: quadratic.
        let result = try await runScript(
            "GET {{base_url}}/many\nHTTP 200\n[Asserts]\njsonpath \"$..[?@..v]\" count > 0\n",
            baseURL: service.baseURL)
        let failure = try #require(result.failure)
        #expect(failure.kind == .assert)
        #expect(
            failure.summary.hasPrefix("JSONPath $..[?@..v] touched more than 2,000,000 nodes, the limit of one query"),
            "\(failure.summary)")
        #expect(failure.location.line == 4)
    }
}
