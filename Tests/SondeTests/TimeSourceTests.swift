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

@Suite("Time sources: the system clocks and the manual clock tests drive")
struct TimeSourceTests {
    /// Which sleepers woke, in order.
    final class Woke: Sendable {
        private let list = Mutex<[Int]>([])
        func add(_ index: Int) { list.withLock { $0.append(index) } }
        var all: [Int] { list.withLock { $0 } }
    }

    @Test("the system source reads the machine's clocks and sleeps until the deadline, never before")
    func system() async throws {
        let time = SystemTimeSource()
        #expect(time.isRealTime)
        let before = UTCTime.milliseconds(Date())
        let wall = time.wallMs
        #expect(wall >= before && wall <= UTCTime.milliseconds(Date()))
        #expect(UTCTime.milliseconds(time.wallDate) >= wall)
        let start = time.now
        try await time.sleep(for: .milliseconds(5))
        #expect(time.now - start >= .milliseconds(5))
        try await time.sleep(until: start)  // passed already: returns at once
        let task = Task { try await time.sleep(for: .seconds(3600)) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test("the manual clock stands still until advanced; wall and monotonic time move together")
    func manualClock() {
        let time = ManualTimeSource(wallMs: 1_767_225_600_123)
        #expect(!time.isRealTime)
        let start = time.now
        #expect(time.now == start && time.wallMs == 1_767_225_600_123)
        time.advance(by: .milliseconds(1500))
        #expect(time.now - start == .milliseconds(1500))
        #expect(time.wallMs == 1_767_225_601_623)
        time.advance(by: .microseconds(999))
        #expect(time.wallMs == 1_767_225_601_623, "wall milliseconds round down")
        time.advance(by: .milliseconds(-50))
        #expect(time.now - start == .milliseconds(1500) + .microseconds(999), "time never goes back")
        time.advance(to: start)
        #expect(time.now - start == .milliseconds(1500) + .microseconds(999))
        time.stepWall(by: -60_000)
        #expect(time.wallMs == 1_767_225_541_623 && time.now - start == .milliseconds(1500) + .microseconds(999))
    }

    @Test("the manual clock's Date turns back into the same millisecond, for every millisecond of a second")
    func manualDateRoundTrips() {
        let time = ManualTimeSource(wallMs: 1_767_225_600_000)
        for _ in 0..<1000 {
            #expect(UTCTime.milliseconds(time.wallDate) == time.wallMs)
            time.advance(by: .milliseconds(1))
        }
    }

    @Test("sleepers resume when their deadline is reached, earliest first, and not before")
    func sleepersResumeInOrder() async throws {
        let time = ManualTimeSource()
        let woke = Woke()
        let start = time.now
        var tasks: [Task<Void, any Error>] = []
        for (index, ms) in [30, 10, 20, 20].enumerated() {
            let deadline = start + .milliseconds(ms)
            let task = Task {
                try await time.sleep(until: deadline)
                woke.add(index)
            }
            tasks.append(task)
            try await time.waitForSleepers(index + 1)  // one at a time: ties resume in the order they slept
        }
        #expect(time.deadlines == [10, 20, 20, 30].map { start + .milliseconds($0) })
        time.advance(by: .milliseconds(9))
        #expect(time.sleepers == 4)
        time.advance(by: .milliseconds(1))
        #expect(time.sleepers == 3)
        #expect(time.advanceToNextDeadline() == start + .milliseconds(20))
        #expect(time.sleepers == 1)
        time.advance(by: .seconds(1))
        for task in tasks { try await task.value }
        #expect(woke.all.first == 1)
        #expect(Set(woke.all) == [0, 1, 2, 3])
        #expect(time.sleepers == 0 && time.advanceToNextDeadline() == nil)
        // A deadline already reached does not sleep at all.
        try await time.sleep(until: start)
        #expect(time.sleepers == 0)
    }

    @Test("a cancelled sleeper stops sleeping at once and throws CancellationError")
    func cancelledSleeper() async throws {
        let time = ManualTimeSource()
        let task = Task { try await time.sleep(for: .seconds(60)) }
        try await time.waitForSleepers(1)
        task.cancel()
        #expect(time.sleepers == 0)
        await #expect(throws: CancellationError.self) { try await task.value }
        // Cancelled before it sleeps: it never counts as a sleeper.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await time.sleep(for: .seconds(60))
        }
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(time.sleepers == 0)
    }

    @Test("waiting for more sleepers than come gives up after the real-time limit, with a clear error")
    func waitForSleepersTimesOut() async throws {
        let time = ManualTimeSource()
        let error = await #expect(throws: ManualTimeSourceError.self) {
            try await time.waitForSleepers(1, timeout: .milliseconds(20))
        }
        #expect(error == .sleepersNotReached(wanted: 1, asleep: 0, waited: .milliseconds(20)))
        #expect(error?.description.hasPrefix("0 of 1 expected tasks were asleep on the manual clock") == true)
    }
}
