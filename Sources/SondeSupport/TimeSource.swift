import Foundation

/// Where the daemon reads the time and waits for it. `SystemTimeSource` is the machine's clocks;
/// `ManualTimeSource` is a clock a test moves by hand. Named apart from the standard library's
/// `Clock`: it carries a wall clock as well as a monotonic one.
///
/// The contract every source keeps:
/// - `wallMs` is the wall clock in UTC milliseconds since 1970-01-01T00:00:00Z, rounded down. It
///   may step (NTP, an operator): use it for timestamps, never to measure an interval.
/// - `wallDate` is the same wall clock as a `Date`: `UTCTime.milliseconds(wallDate)` equals
///   `wallMs` read at the same moment.
/// - `now` is monotonic: it never goes back and does not follow wall-clock steps. Intervals,
///   deadlines and lateness are measured on it.
/// - `sleep(until:)` returns once `now` has reached the deadline (at once when it already has),
///   never before. It suspends the calling task and never blocks a thread; when the task is
///   cancelled it throws `CancellationError` promptly.
/// - `isRealTime` is true when `now` is `ContinuousClock.now`: a deadline from this source may
///   then be handed to any timer on the continuous clock (the probe engine's thread) instead of
///   `sleep(until:)`. When false, only `sleep(until:)` knows when a deadline comes.
/// - Every member is safe to use from any thread or task at once.
package protocol TimeSource: Sendable {
    /// Wall-clock time: UTC milliseconds since the Unix epoch, rounded down.
    var wallMs: Int64 { get }
    /// Wall-clock time as a `Date`, for APIs that take one.
    var wallDate: Date { get }
    /// The monotonic instant now.
    var now: ContinuousClock.Instant { get }
    /// True when `now` is `ContinuousClock.now`, so other continuous-clock timers agree with it.
    var isRealTime: Bool { get }
    /// Suspends the calling task until `now >= deadline`; throws `CancellationError` on cancellation.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

extension TimeSource {
    /// Suspends the calling task for `duration` from `now` (see `sleep(until:)`).
    package func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration)
    }
}
