import SondeSupport

/// One ad hoc maintenance window of `data/maintenance.jsonl` (`sonde maintenance add`), as its
/// events leave it: added, and perhaps ended early (docs/data-format.md, "Maintenance windows").
package struct MaintenanceEntry: Sendable, Equatable {
    /// Its id (`m1`, `m2`, …), given in order by `sonde maintenance add`.
    package var id: String
    /// The check it covers; nil for every check (`--all`).
    package var check: String?
    /// Start, epoch ms UTC.
    package var fromMs: Int64
    /// End as added (not included), epoch ms UTC.
    package var untilMs: Int64
    /// Why (`--reason`).
    package var reason: String
    /// When it was added, epoch ms UTC.
    package var addedMs: Int64
    /// When `sonde maintenance end` ended it, if it did.
    package var endedMs: Int64?

    package init(
        id: String, check: String?, fromMs: Int64, untilMs: Int64, reason: String, addedMs: Int64,
        endedMs: Int64? = nil
    ) {
        self.id = id
        self.check = check
        self.fromMs = fromMs
        self.untilMs = untilMs
        self.reason = reason
        self.addedMs = addedMs
        self.endedMs = endedMs
    }

    /// Where it really ends: its `until`, or when it was ended if that is sooner (never before its start).
    package var endMs: Int64 { max(fromMs, min(untilMs, endedMs ?? untilMs)) }

    /// Whether it covers `check`.
    package func covers(_ check: String) -> Bool { self.check == nil || self.check == check }

    /// Whether it is open at `ms`.
    package func contains(_ ms: Int64) -> Bool { ms >= fromMs && ms < endMs }

    /// `svc` or `every check`.
    package var scope: String { check ?? "every check" }
}
