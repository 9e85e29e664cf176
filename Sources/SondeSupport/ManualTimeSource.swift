import Foundation
import Synchronization

/// A `TimeSource` for tests: time stands still until the test moves it with `advance(by:)` or
/// `advance(to:)`; then every sleeper whose deadline has come resumes, earliest deadline first.
/// A test that waits with `waitForSleepers(_:)` until the code under test is asleep, then advances,
/// never races it, however busy the machine is.
///
/// - The monotonic clock starts at `start` (by default `ContinuousClock.now` at creation) and the
///   wall clock at `wallMs`; both move together by exactly what the test advances. The wall clock
///   alone can also step (`stepWall(by:)`), as NTP does, without moving `now`.
/// - `sleep(until:)` with a deadline already reached returns at once without counting as a sleeper.
/// - `isRealTime` is false: deadlines from this source must go through `sleep(until:)`.
/// - Thread-safe: all state sits in one `Mutex`; continuations are resumed outside it.
package final class ManualTimeSource: TimeSource {
    private struct Sleeper {
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Watcher {
        var count: Int
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var elapsed: Duration = .zero
        var wallStepMs: Int64 = 0
        var sleepers: [UInt64: Sleeper] = [:]
        var watchers: [UInt64: Watcher] = [:]
        var nextID: UInt64 = 0
    }

    private let start: ContinuousClock.Instant
    private let startWallMs: Int64
    private let state = Mutex(State())

    /// A clock standing at `wallMs` (default 2026-01-01T00:00:00Z) on the wall and at `start` on
    /// the monotonic clock.
    init(wallMs: Int64 = 1_767_225_600_000, start: ContinuousClock.Instant = .now) {
        self.startWallMs = wallMs
        self.start = start
    }

    // MARK: TimeSource

    package var wallMs: Int64 {
        state.withLock { startWallMs + $0.wallStepMs + Self.wholeMilliseconds($0.elapsed) }
    }

    /// A `Date` that `UTCTime.milliseconds` turns back into `wallMs` exactly (the nearest `Date`
    /// at or after the millisecond; a plain division can land a hair before it).
    package var wallDate: Date {
        let ms = wallMs
        var seconds = Double(ms) / 1000
        var date = Date(timeIntervalSince1970: seconds)
        for _ in 0..<16 where UTCTime.milliseconds(date) < ms {
            seconds = seconds.nextUp
            date = Date(timeIntervalSince1970: seconds)
        }
        return date
    }

    package var now: ContinuousClock.Instant { state.withLock { start + $0.elapsed } }

    package var isRealTime: Bool { false }

    package func sleep(until deadline: ContinuousClock.Instant) async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (outcome, watchers) = state.withLock { s -> (Result<Void, any Error>?, [Watcher]) in
                    // Checked under the lock: a cancellation after this finds the sleeper and resumes it.
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    if start + s.elapsed >= deadline { return (.success(()), []) }
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return (nil, Self.takeSatisfiedWatchers(&s))
                }
                for watcher in watchers { watcher.continuation.resume(returning: true) }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { s in s.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    // MARK: Moving time

    /// Moves both clocks forward by `duration` (a negative one counts as zero) and resumes the
    /// sleepers whose deadline has come, earliest first.
    func advance(by duration: Duration) {
        move { _ in max(.zero, duration) }
    }

    /// Moves both clocks forward to `instant` (nothing happens when it has passed already).
    func advance(to instant: ContinuousClock.Instant) {
        let start = self.start
        move { s in max(.zero, instant - (start + s.elapsed)) }
    }

    /// Moves both clocks to the earliest sleeper's deadline and resumes it (and any other due
    /// then). Returns that deadline, or nil when nobody sleeps (time does not move).
    @discardableResult
    func advanceToNextDeadline() -> ContinuousClock.Instant? {
        guard let next = nextDeadline else { return nil }
        advance(to: next)
        return next
    }

    /// Steps the wall clock alone by `ms` (negative goes back), as an NTP correction would; the
    /// monotonic clock and the sleepers do not notice.
    func stepWall(by ms: Int64) {
        state.withLock { $0.wallStepMs += ms }
    }

    // MARK: Watching the sleepers

    /// Tasks asleep on this source now.
    var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// The sleepers' deadlines, earliest first.
    var deadlines: [ContinuousClock.Instant] {
        state.withLock { $0.sleepers.values.map(\.deadline) }.sorted()
    }

    /// The earliest sleeper's deadline, if anyone sleeps.
    var nextDeadline: ContinuousClock.Instant? {
        state.withLock { $0.sleepers.values.map(\.deadline).min() }
    }

    /// Returns once at least `count` tasks are asleep on this source. Throws when that has not
    /// happened within `timeout` of real time: a guard against a test that would otherwise hang.
    func waitForSleepers(_ count: Int, timeout: Duration = .seconds(60)) async throws(ManualTimeSourceError) {
        let reached = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.untilSleepers(count) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !reached {
            throw .sleepersNotReached(wanted: count, asleep: sleepers, waited: timeout)
        }
    }

    /// True once `count` tasks sleep; false when the waiting task is cancelled first.
    private func untilSleepers(_ count: Int) async -> Bool {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let ready = state.withLock { s -> Bool? in
                    if s.sleepers.count >= count { return true }
                    if Task.isCancelled { return false }
                    s.watchers[id] = Watcher(count: count, continuation: continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let watcher = state.withLock { s in s.watchers.removeValue(forKey: id) }
            watcher?.continuation.resume(returning: false)
        }
    }

    // MARK: Helpers

    /// Adds `step(state)` to the elapsed time under the lock, then resumes the due sleepers outside it.
    private func move(_ step: (State) -> Duration) {
        let due = state.withLock { s -> [Sleeper] in
            s.elapsed += step(s)
            return Self.takeDue(&s, now: start + s.elapsed)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Removes and returns the sleepers due at `now`, earliest deadline first (ties: first asleep first).
    private static func takeDue(_ s: inout State, now: ContinuousClock.Instant) -> [Sleeper] {
        let due = s.sleepers.filter { $0.value.deadline <= now }.sorted {
            ($0.value.deadline, $0.key) < ($1.value.deadline, $1.key)
        }
        for (id, _) in due { s.sleepers[id] = nil }
        return due.map(\.value)
    }

    /// Removes and returns the watchers whose count of sleepers is reached.
    private static func takeSatisfiedWatchers(_ s: inout State) -> [Watcher] {
        let count = s.sleepers.count
        let ready = s.watchers.filter { $0.value.count <= count }
        for id in ready.keys { s.watchers[id] = nil }
        return Array(ready.values)
    }

    /// Whole milliseconds in a non-negative duration, rounded down.
    private static func wholeMilliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
