import Foundation

/// The machine's clocks: the wall clock from `Date` (`clock_gettime(CLOCK_REALTIME)`), the
/// monotonic one from `ContinuousClock`, which keeps counting while the machine sleeps. Sleeping
/// is `Task.sleep` with no tolerance, so a wake-up is not deferred to batch it with others.
/// What the daemon uses unless a test passes another `TimeSource`.
package struct SystemTimeSource: TimeSource {
    package init() {}

    package var wallMs: Int64 { UTCTime.milliseconds(Date()) }

    package var wallDate: Date { Date() }

    package var now: ContinuousClock.Instant { ContinuousClock.now }

    package var isRealTime: Bool { true }

    package func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: deadline, tolerance: .zero, clock: .continuous)
    }
}
