import SondeSupport

/// The error budget of a check as the number of failures its objective allows over the objective's
/// window, from the schedule: a probe's window holds a known number of runs (window ÷ `@every`), and
/// the objective allows `1 − objective` of them to fail. Budget left, an incident's share and the
/// live gauge all divide failed runs by this allowance, so a young check (20 runs so far) has spent
/// 3 ÷ 43.2 of a 99.9% / 30-day budget for 3 failures, not 3 ÷ (0.001 × 20).
///
/// The one place the budget formula lives: the report (`CheckSLO`), incidents (`IncidentDetector`),
/// the live tracker (`BurnCounter`) and slot-based (quorum) views build one from what they count.
package struct ErrorBudget: Sendable, Equatable {
    /// Failures the objective allows over its window (`(1 − objective) × slots`).
    package var allowedFailures: Double

    /// A budget of `allowedFailures` failures.
    package init(allowedFailures: Double) {
        self.allowedFailures = allowedFailures
    }

    /// The allowance over `slots` scheduled runs (or time slots) at `budget` (1 − objective).
    package init(budget: Double, slots: Double) {
        allowedFailures = max(0, budget * slots)
    }

    /// The allowance of `policy` over its window: `(1 − objective) × (window ÷ @every)` runs for each
    /// of `locations` (several locations each run the schedule, and their runs pool).
    package init(policy: SLOPolicy, locations: Int = 1) {
        self.init(budget: policy.budget, slots: Self.scheduledRuns(policy) * Double(max(1, locations)))
    }

    /// Runs the schedule puts in the objective's window at one location: window ÷ `@every`.
    package static func scheduledRuns(_ policy: SLOPolicy) -> Double {
        Double(policy.windowMs) / Double(max(1, policy.intervalMs))
    }

    /// Share of the budget left after `failed` failures: `1 − failed ÷ allowed`; negative once
    /// overspent; nil when nothing is allowed (an objective of 100%).
    package func remaining(failed: Int64) -> Double? {
        share(failed: failed).map { 1 - $0 }
    }

    /// Share of the budget `failed` failures use: `failed ÷ allowed`; nil when nothing is allowed.
    package func share(failed: Int64) -> Double? {
        guard allowedFailures > 0 else { return nil }
        return Double(failed) / allowedFailures
    }

    /// Time until the budget is gone at `burnRate`: remaining × window ÷ burn rate (a burn rate of 1
    /// spends the whole budget in one window). Nil when nothing burns (rate 0) or nothing is left.
    package static func timeToExhaustionMs(remaining: Double, windowMs: Int64, burnRate: Double) -> Double? {
        guard burnRate > 0, remaining > 0 else { return nil }
        return remaining * Double(windowMs) / burnRate
    }

    /// Share of a window's budget spent by burning at `burnRate` for `durationMs`.
    static func consumed(burnRate: Double, durationMs: Int64, windowMs: Int64) -> Double {
        burnRate * Double(durationMs) / Double(windowMs)
    }
}
