import Foundation
import Synchronization
import Testing
@testable import SondeSupport
@testable import SondeProbe
@testable import SondeScript
@testable import SondeRun
@testable import SondeStore
@testable import SondeSLO
@testable import SondeIncidents
@testable import SondeAlerts
@testable import SondeRender
@testable import SondeServe
@testable import SondeDemoShop
@testable import SondeDaemon
@testable import SondeCommands

@Suite("Scheduler: absolute slots, stable offsets, no overlap")
struct SchedulerTests {
    static func script(_ name: String, every: Duration) throws -> CheckScript {
        var script = try ScriptParser.parse(source: "GET http://127.0.0.1:1/\n", path: "\(name).hurl")
        script.settings.every = every
        return script
    }

    /// Polls `condition` every 10 ms for up to 10 s (the pool may be busy with other suites).
    static func waitUntil(_ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            try #require(ContinuousClock.now < deadline, "condition not met within 10 s")
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test("offsets are stable per name, inside the interval, and spread 2,000 checks evenly")
    func offsetsSpread() {
        let interval = Duration.seconds(2)
        #expect(Scheduler.offset(of: "health", interval: interval) == Scheduler.offset(of: "health", interval: interval))
        var perTenth = [Int](repeating: 0, count: 20)
        for index in 0..<2000 {
            let offset = Scheduler.offset(of: "check-\(index)", interval: interval)
            #expect(offset >= .zero && offset < interval)
            perTenth[Int(offset.milliseconds / 100)] += 1
        }
        // 100 per 100 ms slice on average; a hash that clumps would put hundreds in one slice.
        #expect(perTenth.max()! < 160, "offsets clump: \(perTenth)")
        #expect(perTenth.min()! > 40, "offsets clump: \(perTenth)")
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
        let offset = Scheduler.offset(of: "health", interval: interval)
        let now = ContinuousClock.now
        let slot = Scheduler(engine: .shared) { _, _ in }.nextSlot(name: "health", interval: interval, after: now)
        // The slot's wall time, modulo the interval, is the check's offset.
        let wall = Date().timeIntervalSince1970 + (slot - now).milliseconds / 1000
        let phase = wall.truncatingRemainder(dividingBy: 60)
        #expect(abs(phase - offset.milliseconds / 1000) < 0.05 || abs(abs(phase - offset.milliseconds / 1000) - 60) < 0.05)
        #expect(slot >= now && slot < now + interval)
    }

    @Test("a run slower than its interval never overlaps the next one, which starts late and says so")
    func noOverlap() async throws {
        let log = Mutex<[(start: ContinuousClock.Instant, end: ContinuousClock.Instant, late: Duration)]>([])
        let scheduler = Scheduler(engine: .shared) { _, lateness in
            let start = ContinuousClock.now
            try? await Task.sleep(for: .milliseconds(250))
            let end = ContinuousClock.now
            log.withLock { $0.append((start, end, lateness)) }
        }
        scheduler.apply([try Self.script("slow", every: .milliseconds(100))])
        try await Self.waitUntil { log.withLock { $0.count } >= 3 }
        _ = await scheduler.stop(grace: .seconds(2))
        let runs = log.withLock { $0 }
        #expect(runs.count >= 2)
        for (previous, next) in zip(runs, runs.dropFirst()) {
            #expect(next.start >= previous.end, "runs overlap")
        }
        // Runs after the first waited for their predecessor and start late against the latest slot.
        #expect(runs.dropFirst().contains { $0.late >= .milliseconds(10) })
        #expect((scheduler.skipped["slow"] ?? 0) >= 1, "slots that came while running are counted as skipped")
    }

    @Test("removing a check stops its runs; adding one starts it")
    func applyAddsAndRemoves() async throws {
        let counts = Mutex<[String: Int]>([:])
        let scheduler = Scheduler(engine: .shared) { script, _ in
            counts.withLock { $0[script.name, default: 0] += 1 }
        }
        scheduler.apply([try Self.script("a", every: .milliseconds(50))])
        try await Self.waitUntil { counts.withLock { $0["a"] ?? 0 } >= 2 }
        scheduler.apply([try Self.script("b", every: .milliseconds(50))])
        let aAtSwitch = counts.withLock { $0["a"] ?? 0 }
        try await Self.waitUntil { counts.withLock { $0["b"] ?? 0 } >= 2 }
        try await Task.sleep(for: .milliseconds(200))
        _ = await scheduler.stop(grace: .seconds(1))
        let final = counts.withLock { $0 }
        #expect((final["a"] ?? 0) <= aAtSwitch + 1, "a kept running after it was removed")
        #expect((final["b"] ?? 0) >= 2)
        #expect(scheduler.checks == ["b"])
    }

    @Test("a run never starts more often than its slots allow")
    func runsFollowTheSchedule() async throws {
        let count = Counter()
        let scheduler = Scheduler(engine: .shared) { _, _ in _ = count.next() }
        scheduler.apply([try Self.script("tick", every: .milliseconds(100))])
        try await Task.sleep(for: .milliseconds(1050))
        _ = await scheduler.stop(grace: .seconds(1))
        // At most 11 slots fit in 1.05 s; a scheduler that drifted or fired twice would differ.
        #expect(count.current <= 11)
        #expect(count.current >= 2)
    }

    @Test("stop waits for runs in flight and cancels what outlives the grace")
    func stopCancelsStragglers() async throws {
        let finished = Counter()
        let scheduler = Scheduler(engine: .shared) { _, _ in
            try? await Task.sleep(for: .seconds(30))
            if !Task.isCancelled { _ = finished.next() }
        }
        scheduler.apply([try Self.script("stuck", every: .seconds(1))])
        while scheduler.running == 0 { try await Task.sleep(for: .milliseconds(20)) }
        let cancelled = await scheduler.stop(grace: .milliseconds(200))
        #expect(cancelled == 1)
        #expect(finished.current == 0)
        #expect(scheduler.running == 0)
    }
}
