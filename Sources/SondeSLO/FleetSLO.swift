import SondeSupport

/// The fleet's SLO figures of one check, computed on time slots under a location quorum
/// (`QuorumSlots`) when a report reads several locations: uptime, error budget, burn rates and the
/// burn-rate alert, each the slot-based counterpart of `CheckSLO`'s run-based figure.
package struct FleetSLO: Sendable {
    /// Slot counts over one named window (`24h`, `7d`, `30d`...).
    package struct Window: Sendable {
        package var label: String
        package var counts: SlotCounts
    }

    /// The quorum applied (and asked for).
    package var quorum: LocationQuorum
    /// The report windows, shortest first (the same labels as `CheckSLO.windows`).
    package var windows: [Window]
    /// The objective's window.
    package var objectiveWindow: Window
    /// Slot counts and burn rates per burn window (no rate = insufficient data: fewer covered slots
    /// than the window's minimum of runs).
    package var burnCounts: [BurnWindow: SlotCounts]
    package var burnRates: [BurnWindow: Double]
    package var alert: AlertState
    /// The failures the objective allows over its window: one per slot the schedule holds
    /// (`(1 − objective) × window ÷ @every`), since the fleet has one verdict per slot.
    package var budget: ErrorBudget
    /// Share of the error budget left over the objective's window (1 − down slots ÷ allowed
    /// failures); nil without covered slots.
    package var budgetRemaining: Double?
    /// At the 1-hour burn rate; nil when nothing burns or the 1-hour window lacks slots.
    package var timeToExhaustionMs: Double?
    /// The fleet's verdict in the latest covered slot, and when that slot started.
    package var latest: (down: Bool, startMs: Int64)?

    /// The figures of `slots` at `nowMs` over `windowSpecs`, for `policy`'s budget and window.
    package static func evaluate(
        _ slots: QuorumSlots, policy: SLOPolicy, windowSpecs: [(label: String, ms: Int64)], nowMs: Int64
    ) -> FleetSLO {
        func window(_ label: String, _ ms: Int64) -> Window {
            Window(label: label, counts: slots.counts(fromMs: nowMs - ms + 1, toMs: nowMs + 1))
        }
        let windows = windowSpecs.map { window($0.label, $0.ms) }
        let objectiveWindow =
            zip(windowSpecs, windows).first { $0.0.ms == policy.windowMs }?.1
            ?? window(DurationText.setting(.milliseconds(policy.windowMs)), policy.windowMs)
        var burnCounts: [BurnWindow: SlotCounts] = [:]
        var burnRates: [BurnWindow: Double] = [:]
        for burn in BurnWindow.allCases {
            let counts = slots.counts(fromMs: nowMs - burn.milliseconds + 1, toMs: nowMs + 1)
            burnCounts[burn] = counts
            burnRates[burn] = counts.burnRate(budget: policy.budget, minimumRuns: burn.minimumRuns)
        }
        let budget = ErrorBudget(policy: policy)
        let remaining =
            objectiveWindow.counts.slots > 0 ? budget.remaining(failed: objectiveWindow.counts.down) : nil
        var exhaustion: Double?
        if let remaining, let rate = burnRates[.h1] {
            exhaustion = ErrorBudget.timeToExhaustionMs(remaining: remaining, windowMs: policy.windowMs, burnRate: rate)
        }
        let last = slots.latest(before: nowMs + 1)
        return FleetSLO(
            quorum: slots.quorum, windows: windows, objectiveWindow: objectiveWindow, burnCounts: burnCounts,
            burnRates: burnRates, alert: AlertState.evaluate(burnRates), budget: budget, budgetRemaining: remaining,
            timeToExhaustionMs: exhaustion, latest: last.map { ($0.down, slots.grid.startMs($0.slot)) })
    }
}
