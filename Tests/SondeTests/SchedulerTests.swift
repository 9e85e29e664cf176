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

@Suite("Scheduler: absolute slots, stable offsets, no overlap")
struct SchedulerTests {
    static func script(_ name: String, every: Duration) throws -> CheckScript {
        var script = try ScriptParser.parse(source: "GET http://127.0.0.1:1/\n", path: "\(name).hurl")
        script.settings.every = every
        return script
    }

    /// Runs as the scheduler started them: the manual clock's instant and the lateness it reported.
    final class Starts: Sendable {
        private let list = Mutex<[(at: ContinuousClock.Instant, late: Duration)]>([])
        func add(_ at: ContinuousClock.Instant, _ late: Duration) { list.withLock { $0.append((at, late)) } }
        var all: [(at: ContinuousClock.Instant, late: Duration)] { list.withLock { $0 } }
        var count: Int { list.withLock { $0.count } }
    }

    @Test("offsets are stable per name, inside the interval, and spread 2,000 checks evenly")
    func offsetsSpread() {
        let interval = Duration.seconds(2)
        #expect(
            Scheduler.offset(of: "health", interval: interval) == Scheduler.offset(of: "health", interval: interval))
        var perTenth = [Int](repeating: 0, count: 20)
        for index in 0..<2000 {
            let offset = Scheduler.offset(of: "check-\(index)", interval: interval)
            #expect(offset >= .zero && offset < interval)
            perTenth[Int(offset.milliseconds / 100)] += 1
        }
        // 100 per 100 ms slice on average; a hash that clumps would put hundreds in one slice.
        #expect((perTenth.max() ?? 0) < 160, "offsets clump: \(perTenth)")
        #expect((perTenth.min() ?? 0) > 40, "offsets clump: \(perTenth)")
    }

    @Test("the next slot is first + k·interval, never before now")
    func nextSlotArithmetic() {
        let origin = ContinuousClock.now
        let scheduler = Scheduler(engine: .shared, origin: origin) { _, _ in }
        let interval = Duration.seconds(10)
        let first = origin + Scheduler.offset(of: "a", interval: interval)
        #expect(scheduler.nextSlot(name: "a", interval: interval, after: origin) == first)
        #expect(scheduler.nextSlot(name: "a", interval: interval, after: first) == first)
        #expect(scheduler.nextSlot(name: "a", interval: interval, after: first + .milliseconds(1)) == first + interval)
        #expect(scheduler.nextSlot(name: "a", interval: interval, after: first + .seconds(35)) == first + .seconds(40))
    }

    @Test("slots sit at the same wall-clock phase whenever the scheduler starts")
    func phaseSurvivesRestart() {
        let interval = Duration.seconds(60)
        let offsetMs = Scheduler.offset(of: "health", interval: interval).milliseconds
        // Three starts at unrelated wall times, one of them mid-millisecond of the minute.
        for wallMs: Int64 in [1_767_225_600_000, 1_767_225_612_345, 1_800_000_000_999] {
            let time = ManualTimeSource(wallMs: wallMs)
            let now = time.now
            let slot = Scheduler(engine: .shared, time: time) { _, _ in }.nextSlot(
                name: "health", interval: interval, after: now)
            #expect(slot >= now && slot < now + interval)
            // The slot's wall time, modulo the interval, is the check's offset.
            let phase = (Double(wallMs % 60_000) + (slot - now).milliseconds).truncatingRemainder(dividingBy: 60_000)
            #expect(abs(phase - offsetMs) < 0.01 || abs(abs(phase - offsetMs) - 60_000) < 0.01, "phase \(phase) ms")
        }
    }

    @Test("slots are anchored once: a later wall-clock step moves none of them")
    func wallStepMovesNoSlot() async throws {
        let time = ManualTimeSource()
        let scheduler = Scheduler(engine: .shared, time: time) { _, _ in }
        let expected = scheduler.nextSlot(name: "a", interval: .seconds(10), after: time.now)
        time.stepWall(by: -3_600_000)
        time.stepWall(by: 1_234)
        scheduler.apply([try Self.script("a", every: .seconds(10))])
        try await time.waitForSleepers(1)
        #expect(time.deadlines == [expected])
        #expect(await scheduler.stop(grace: .seconds(1)) == 0)
        #expect(time.sleepers == 0, "stop cancels the timer")
    }

    @Test("a run slower than its interval never overlaps the next one, which starts late and says so")
    func noOverlap() async throws {
        let time = ManualTimeSource()
        let starts = Starts()
        let ends = Mutex<[ContinuousClock.Instant]>([])
        // Each run takes 230 ms of the manual clock; the check is due every 100 ms.
        let scheduler = Scheduler(engine: .shared, time: time) { _, lateness in
            starts.add(time.now, lateness)
            try? await time.sleep(for: .milliseconds(230))
            ends.withLock { $0.append(time.now) }
        }
        scheduler.apply([try Self.script("slow", every: .milliseconds(100))])
        try await time.waitForSleepers(1)
        let first = try #require(time.nextDeadline)
        // Once the first run is going, two tasks sleep: the timer of the next slot and the run in
        // flight. Step from one deadline to the next, letting both settle each time.
        while time.now < first + .milliseconds(1000) {
            time.advanceToNextDeadline()
            try await time.waitForSleepers(2)
        }
        let ms = { (d: Duration) in Int(d.milliseconds.rounded()) }
        let runs = starts.all
        // Runs start when the previous one ends (0, 230, 460, …), against the latest slot that
        // came meanwhile (0, 200, 400, 600, 900): 30, 60, 90 and 20 ms late.
        #expect(runs.map { ms($0.at - first) } == [0, 230, 460, 690, 920])
        #expect(runs.map { ms($0.late) } == [0, 30, 60, 90, 20])
        #expect(ends.withLock { $0 }.map { ms($0 - first) } == [230, 460, 690, 920])
        for (previous, next) in zip(ends.withLock { $0 }, runs.dropFirst()) {
            #expect(next.at >= previous, "runs overlap")
        }
        // Slots 100, 300, 500, 700 and 800 were overtaken by a later one while the check ran.
        #expect(scheduler.skipped["slow"] == 5)

        // Stopping lets the run in flight (it ends at 1150) finish, and starts nothing more.
        let stopping = Task { await scheduler.stop(grace: .seconds(1)) }
        try await time.waitForSleepers(3)  // the run, the timer and stop's grace
        time.advance(by: .milliseconds(150))
        #expect(await stopping.value == 0)
        #expect(starts.count == 5)
        #expect(time.sleepers == 0)
    }

    @Test("removing a check stops its runs; adding one starts it")
    func applyAddsAndRemoves() async throws {
        let time = ManualTimeSource()
        let counts = Mutex<[String: Int]>([:])
        let scheduler = Scheduler(engine: .shared, time: time) { script, _ in
            counts.withLock { $0[script.name, default: 0] += 1 }
        }
        scheduler.apply([try Self.script("a", every: .milliseconds(50))])
        try await time.waitForSleepers(1)
        for _ in 0..<3 {
            time.advanceToNextDeadline()
            try await time.waitForSleepers(1)
        }
        #expect(await pollUntil { counts.withLock { $0["a"] } == 3 })
        scheduler.apply([try Self.script("b", every: .milliseconds(50))])
        try await time.waitForSleepers(1)
        #expect(time.sleepers == 1, "a's timer went with a")
        for _ in 0..<3 {
            time.advanceToNextDeadline()
            try await time.waitForSleepers(1)
        }
        #expect(await pollUntil { counts.withLock { $0["b"] } == 3 })
        #expect(await scheduler.stop(grace: .seconds(1)) == 0)
        #expect(counts.withLock { $0 } == ["a": 3, "b": 3], "a ran after it was removed, or b missed a slot")
        #expect(scheduler.checks == ["b"])
    }

    @Test("runs start on the absolute slots first + k·interval, without drift, however the clock steps")
    func absoluteSlotsWithoutDrift() async throws {
        let interval = Duration.milliseconds(100)
        // Exactly on each deadline: every run on its slot, none late, the 100th exactly 99 intervals on.
        do {
            let time = ManualTimeSource()
            let starts = Starts()
            let scheduler = Scheduler(engine: .shared, time: time) { _, lateness in starts.add(time.now, lateness) }
            scheduler.apply([try Self.script("tick", every: interval)])
            try await time.waitForSleepers(1)
            let first = try #require(time.nextDeadline)
            for k in 1...100 {
                time.advanceToNextDeadline()
                try await time.waitForSleepers(1)
                #expect(await pollUntil { starts.count == k })
            }
            #expect(await scheduler.stop(grace: .seconds(1)) == 0)
            let runs = starts.all
            #expect(runs.count == 100)
            #expect(runs.enumerated().allSatisfy { k, run in run.at == first + interval * k && run.late == .zero })
            #expect(scheduler.skipped["tick"] == 0)
        }
        // In 37 ms steps: each run starts at the first step past its slot and says how late it is;
        // its slot (start − lateness) stays on the grid, one per interval, none skipped.
        do {
            let time = ManualTimeSource()
            let starts = Starts()
            let scheduler = Scheduler(engine: .shared, time: time) { _, lateness in starts.add(time.now, lateness) }
            scheduler.apply([try Self.script("tick", every: interval)])
            try await time.waitForSleepers(1)
            let first = try #require(time.nextDeadline)
            time.advance(to: first - .milliseconds(1))
            let end = first + .seconds(5)
            while time.now < end {
                let due = time.nextDeadline
                let before = starts.count
                time.advance(by: .milliseconds(37))
                if let due, due <= time.now {
                    try await time.waitForSleepers(1)
                    #expect(await pollUntil { starts.count == before + 1 })
                }
            }
            #expect(await scheduler.stop(grace: .seconds(1)) == 0)
            let runs = starts.all
            // Slots first … first + 50·interval lie in the window (first − 1 ms, first + 5.031 s].
            #expect(runs.count == 51)
            for (k, run) in runs.enumerated() {
                #expect(run.at - run.late == first + interval * k, "run \(k) is off its slot")
                #expect(run.late >= .zero && run.late < .milliseconds(37))
            }
            #expect(scheduler.skipped["tick"] == 0)
        }
    }

    @Test(
        "a clock that jumps past whole intervals runs each check once, at its latest due slot, and counts the rest as skipped"
    )
    func jumpSkipsMissedSlots() async throws {
        let time = ManualTimeSource()
        let starts = Mutex<[String: [(at: ContinuousClock.Instant, late: Duration)]]>([:])
        let scheduler = Scheduler(engine: .shared, time: time) { script, lateness in
            starts.withLock { $0[script.name, default: []].append((time.now, lateness)) }
        }
        let tick = try Self.script("tick", every: .milliseconds(100))
        let slow = try Self.script("slow", every: .milliseconds(250))
        scheduler.apply([tick, slow])
        try await time.waitForSleepers(2)
        let firstTick = scheduler.nextSlot(name: "tick", interval: .milliseconds(100), after: time.now)
        let firstSlow = scheduler.nextSlot(name: "slow", interval: .milliseconds(250), after: time.now)
        // A pause: the clock jumps 1.05 s past the later of the two first slots in one step.
        let jumpTo = max(firstTick, firstSlow) + .milliseconds(1050)
        time.advance(to: jumpTo)
        #expect(await pollUntil { starts.withLock { $0.count == 2 } })
        try await time.waitForSleepers(2)
        let after = starts.withLock { $0 }
        for (name, first, interval) in [("tick", firstTick, 100), ("slow", firstSlow, 250)] {
            let runs = after[name] ?? []
            let step = Duration.milliseconds(interval)
            // One run, at the latest slot at or before the jump: late by less than an interval.
            #expect(runs.count == 1, "\(name): \(runs.count) runs after the jump")
            let late = try #require(runs.first?.late)
            #expect(late < step, "\(name) ran \(late) late: an old slot was replayed")
            let slot = jumpTo - late
            let k = Int((((slot - first) / step)).rounded())
            #expect(first + step * k == slot, "\(name) ran off its grid")
            #expect(scheduler.skipped[name] == Int64(k), "\(name): the \(k) slots before it are skipped")
        }
        // The next slots are the following ones on each grid, after the jump.
        #expect(time.deadlines.allSatisfy { $0 > jumpTo && $0 <= jumpTo + .milliseconds(250) })

        // Time goes on normally again: one run per slot, none skipped.
        let skippedBefore = scheduler.skipped
        while let next = time.nextDeadline, next <= jumpTo + .milliseconds(500) {
            time.advance(to: next)
            try await time.waitForSleepers(2)
        }
        // tick's slots every 100 ms and slow's every 250 ms in those 500 ms, after the one run each.
        #expect(
            await pollUntil {
                starts.withLock { ($0["tick"]?.count ?? 0) == 6 && ($0["slow"]?.count ?? 0) == 3 }
            }, "\(starts.withLock { $0.mapValues(\.count) })")
        #expect(scheduler.skipped == skippedBefore)
        #expect(await scheduler.stop(grace: .seconds(1)) == 0)
    }

    @Test("latestDue: the slot itself when less than an interval late, else the last one due")
    func latestDueArithmetic() {
        let at = ContinuousClock.now
        let second = Duration.seconds(1)
        #expect(Scheduler.latestDue(at, interval: second, now: at).at == at)
        #expect(Scheduler.latestDue(at, interval: second, now: at + .milliseconds(999)) == (at, 0))
        #expect(Scheduler.latestDue(at, interval: second, now: at + second) == (at + second, 1))
        #expect(Scheduler.latestDue(at, interval: second, now: at + .milliseconds(29_500)) == (at + .seconds(29), 29))
    }

    @Test("stop waits for runs in flight and cancels what outlives the grace")
    func stopCancelsStragglers() async throws {
        let time = ManualTimeSource()
        let finished = Counter()
        let scheduler = Scheduler(engine: .shared, time: time) { _, _ in
            try? await time.sleep(for: .seconds(30))
            if !Task.isCancelled { _ = finished.next() }
        }
        scheduler.apply([try Self.script("stuck", every: .seconds(1))])
        try await time.waitForSleepers(1)
        time.advanceToNextDeadline()
        try await time.waitForSleepers(2)  // the run and the next slot's timer
        #expect(scheduler.running == 1)
        let stopping = Task { await scheduler.stop(grace: .milliseconds(200)) }
        try await time.waitForSleepers(3)  // and stop's grace
        time.advance(by: .milliseconds(199))
        #expect(scheduler.running == 1, "the grace is not over")
        time.advance(by: .milliseconds(1))
        #expect(await stopping.value == 1)
        #expect(finished.current == 0)
        #expect(scheduler.running == 0)
        #expect(time.sleepers == 0)
    }

    /// Per check: for each run, whether it began on the engine thread and, after leaving it, whether
    /// it was still there (nil: the run ended at once).
    final class Threads: Sendable {
        private let list = Mutex<[String: [(began: Bool, after: Bool?)]]>([:])
        func add(_ name: String, began: Bool, after: Bool?) {
            list.withLock { $0[name, default: []].append((began, after)) }
        }
        func runs(_ name: String) -> [(began: Bool, after: Bool?)] { list.withLock { $0[name] ?? [] } }
    }

    @Test("on real time a run begins on the engine thread; one that ends there at once leaves the scheduler free")
    func runsBeginOnTheEngineThread() async throws {
        let engine = ProbeEngine()
        let threads = Threads()
        let scheduler = Scheduler(engine: engine) { script, _ in
            let began = engine.isCurrentThread
            if script.name == "quick" {
                // Ends before any suspension: `finished` runs on the engine thread, inside the slot's timer.
                threads.add(script.name, began: began, after: nil)
                return
            }
            await engine.leaveEngineThread()
            threads.add(script.name, began: began, after: engine.isCurrentThread)
        }
        scheduler.apply([
            try Self.script("quick", every: .milliseconds(50)), try Self.script("hops", every: .milliseconds(50)),
        ])
        #expect(await pollUntil { threads.runs("quick").count >= 5 && threads.runs("hops").count >= 5 })
        #expect(await scheduler.stop(grace: .seconds(10)) == 0)
        #expect(scheduler.running == 0)
        // A run that ends at once can never be overtaken by its next slot: every one began in its timer.
        #expect(threads.runs("quick").allSatisfy { $0.began })
        // One that outlives its interval on a busy machine starts when the previous run ends, on the
        // pool; but the slot timer starts the others, and none stays on the engine thread.
        #expect(threads.runs("hops").contains { $0.began }, "\(threads.runs("hops"))")
        #expect(threads.runs("hops").allSatisfy { $0.after == false }, "\(threads.runs("hops"))")
    }

    @Test("stop returns as soon as the runs in flight end, before the grace is over")
    func stopReturnsWhenIdle() async throws {
        let time = ManualTimeSource()
        let finished = Counter()
        let scheduler = Scheduler(engine: .shared, time: time) { _, _ in
            try? await time.sleep(for: .milliseconds(30))
            if !Task.isCancelled { _ = finished.next() }
        }
        scheduler.apply([try Self.script("quick", every: .seconds(1))])
        try await time.waitForSleepers(1)
        time.advanceToNextDeadline()
        try await time.waitForSleepers(2)
        let stopping = Task { await scheduler.stop(grace: .seconds(10)) }
        try await time.waitForSleepers(3)
        let stopAt = time.now
        time.advance(by: .milliseconds(30))
        #expect(await stopping.value == 0)
        #expect(finished.current == 1)
        #expect(time.now - stopAt == .milliseconds(30))
    }
}
