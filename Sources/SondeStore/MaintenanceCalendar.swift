import SondeScript
import SondeSupport

/// Every maintenance window that applies to a check: its file's recurring `@maintenance` windows
/// and the ad hoc ones of `data/maintenance.jsonl`. Answers whether a run falls in one (the label
/// the run line carries) and which stretches of a report's range were maintenance.
package struct MaintenanceCalendar: Sendable, Equatable {
    /// The ad hoc windows, in the order added.
    package var entries: [MaintenanceEntry]

    package init(entries: [MaintenanceEntry] = []) {
        self.entries = entries
    }

    /// The calendar of the ad hoc windows of several data folders (each location's own file).
    package init(folders: [DataFolder]) {
        entries = folders.flatMap { MaintenanceLog(folder: $0).read().entries }
    }

    /// The label of the window `check` is in at `ms`: the id of an ad hoc window (the first added
    /// that is open), else the text of a recurring one; nil outside maintenance.
    package func window(check: String, settings: MonitorSettings, atMs ms: Int64) -> String? {
        if let entry = entries.first(where: { $0.covers(check) && $0.contains(ms) }) { return entry.id }
        return settings.maintenance.first { $0.occurrence(containing: ms) != nil }?.text
    }

    /// One stretch of maintenance within a range.
    package struct Period: Sendable, Equatable {
        /// The run lines' label: an ad hoc id or a recurring window's text.
        package var label: String
        /// Why, for an ad hoc window; nil for a recurring one.
        package var reason: String?
        /// `[from, until)`, clipped to the range asked for, epoch ms.
        package var fromMs: Int64
        package var untilMs: Int64

        /// Its length, ms.
        package var durationMs: Int64 { untilMs - fromMs }
    }

    /// The stretches of maintenance of `check` overlapping `[fromMs, toMs)`, clipped to it, by start.
    package func periods(check: String, settings: MonitorSettings, fromMs: Int64, toMs: Int64) -> [Period] {
        var out: [Period] = []
        for entry in entries where entry.covers(check) && entry.endMs > fromMs && entry.fromMs < toMs {
            out.append(
                Period(
                    label: entry.id, reason: entry.reason, fromMs: max(fromMs, entry.fromMs),
                    untilMs: min(toMs, entry.endMs)))
        }
        for window in settings.maintenance {
            for range in window.occurrences(fromMs: fromMs, toMs: toMs) {
                out.append(
                    Period(
                        label: window.text, reason: nil, fromMs: max(fromMs, range.lowerBound),
                        untilMs: min(toMs, range.upperBound)))
            }
        }
        return out.sorted { ($0.fromMs, $0.label) < ($1.fromMs, $1.label) }
    }

    /// The time in `[fromMs, toMs)` covered by at least one of `periods` (overlaps counted once), ms.
    package static func coveredMs(_ periods: [Period], fromMs: Int64, toMs: Int64) -> Int64 {
        var total: Int64 = 0
        var reach = fromMs
        for period in periods.sorted(by: { $0.fromMs < $1.fromMs }) {
            let start = max(reach, max(fromMs, period.fromMs))
            let end = min(toMs, period.untilMs)
            if end > start {
                total += end - start
                reach = end
            }
        }
        return total
    }
}
