import Foundation
import SondeProbe
import SondeSupport

/// How webhook deliveries are retried: exponential backoff without jitter (one prober, so there
/// is no herd to spread), a bound on attempts, and a time limit per attempt.
///
/// With the defaults an event that never gets through is tried 6 times over about 31 s of waits
/// (1, 2, 4, 8, 16 s) plus up to 10 s per attempt, then given up.
package struct RetryPolicy: Sendable, Equatable {
    /// The wait after the first failed attempt.
    var firstDelay: Duration
    /// Each further wait is the previous one times this (values below 1 count as 1).
    var factor: Double
    /// No wait is longer than this, `Retry-After` included.
    var maxDelay: Duration
    /// Attempts per event and target, the first included (at least 1).
    var maxAttempts: Int
    /// Limit on one attempt, from connecting to the last byte of the answer.
    var attemptTimeout: Duration

    /// The defaults: 1 s, ×2, at most 60 s, 6 attempts, 10 s per attempt.
    package init(
        firstDelay: Duration = .seconds(1), factor: Double = 2, maxDelay: Duration = .seconds(60),
        maxAttempts: Int = 6, attemptTimeout: Duration = .seconds(10)
    ) {
        self.firstDelay = firstDelay
        self.factor = factor
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
        self.attemptTimeout = attemptTimeout
    }

    /// The wait after failed attempt `attempt` (1-based): `firstDelay × factor^(attempt−1)`, at
    /// least `retryAfter` when the target sent one, never more than `maxDelay`.
    func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil) -> Duration {
        let first = max(0, firstDelay.seconds)
        let cap = max(0, maxDelay.seconds)
        let growth = pow(max(1, factor.isNaN ? 1 : factor), Double(max(0, attempt - 1)))
        var seconds = min(cap, first * growth)
        if let retryAfter { seconds = max(seconds, min(cap, retryAfter.seconds)) }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// `maxAttempts`, at least 1.
    var attempts: Int { max(1, maxAttempts) }
}
