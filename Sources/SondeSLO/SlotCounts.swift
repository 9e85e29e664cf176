/// The fleet's time slots over one window (README.md, "sonde report", Locations): how many had a run
/// at some location, how many of those the quorum counted down, and how complete they were. Counts
/// are slots (one `@every` each); the figures derived from them mirror `WindowCounts`' for runs.
package struct SlotCounts: Sendable, Equatable {
    /// Slots the window holds: its length ÷ `@every`.
    package var possible: Int64 = 0
    /// Slots in which at least one location ran: the fleet's runs.
    package var slots: Int64 = 0
    /// Covered slots the quorum counted down.
    package var down: Int64 = 0
    /// Covered slots in which every location given ran.
    package var full: Int64 = 0
    /// Covered slots in which fewer locations ran than the quorum needs (up by definition).
    package var short: Int64 = 0

    package init() {}

    /// Covered slots that were up.
    package var up: Int64 { slots - down }

    /// Up slots ÷ covered slots; nil without any (no data is neither up nor down).
    package var uptime: Double? { slots > 0 ? Double(up) / Double(slots) : nil }

    /// Down slots ÷ covered slots; nil without any.
    var errorRatio: Double? { slots > 0 ? Double(down) / Double(slots) : nil }

    /// Share of the window's slots with at least one location.
    package var coverage: Double { possible > 0 ? min(1, Double(slots) / Double(possible)) : 0 }

    /// Share of the window's slots in which every location ran.
    package var fullCoverage: Double { possible > 0 ? min(1, Double(full) / Double(possible)) : 0 }

    /// Error ratio ÷ error budget; nil below `minimumRuns` covered slots (insufficient data).
    package func burnRate(budget: Double, minimumRuns: Int64 = 1) -> Double? {
        guard slots >= max(1, minimumRuns), budget > 0, let errorRatio else { return nil }
        return errorRatio / budget
    }
}
