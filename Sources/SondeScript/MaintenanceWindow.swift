import Foundation
import SondeSupport

/// `# @maintenance Sun 02:00-04:00 UTC`: a recurring maintenance window, on one weekday or every
/// day, between two wall-clock times of a time zone (UTC or an IANA name such as `Europe/Berlin`,
/// whose daylight-saving rules apply). Runs that start inside it are marked and left out of
/// uptime, budgets, burn rates, incidents and alerts (docs/check-format.md, "Maintenance windows").
package struct MaintenanceWindow: Sendable, Equatable {
    /// Which days the window recurs on.
    package enum Days: Sendable, Equatable {
        /// Every day.
        case daily
        /// One weekday: 1 is Sunday, 7 Saturday (`Calendar`'s numbering).
        case weekday(Int)
    }

    /// The days it recurs on.
    package var days: Days
    /// Start, minutes after local midnight (0 to 1439).
    package var startMinute: Int
    /// End, minutes after local midnight (1 to 1440; 1440 is the next midnight), after the start.
    package var endMinute: Int
    /// The zone its times are read in.
    package var timeZone: TimeZone
    /// The directive's value as written (`Sun 02:00-04:00 UTC`): the window's label in run lines
    /// and reports.
    package var text: String
    /// Where the directive is written (its `@`).
    package var location: SourceLocation

    /// The weekday names the directive accepts, Sunday first (`Calendar`'s numbering minus one).
    package static let weekdayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    package init(
        days: Days, startMinute: Int, endMinute: Int, timeZone: TimeZone, text: String, location: SourceLocation
    ) {
        self.days = days
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.timeZone = timeZone
        self.text = text
        self.location = location
    }

    /// The occurrences overlapping `[fromMs, toMs)`, as `[start, end)` in epoch milliseconds, in
    /// time order.
    package func occurrences(fromMs: Int64, toMs: Int64) -> [Range<Int64>] {
        guard toMs > fromMs else { return [] }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var day = calendar.startOfDay(for: Date(timeIntervalSince1970: Double(fromMs) / 1000 - 86_400))
        let limit = Date(timeIntervalSince1970: Double(toMs) / 1000)
        var out: [Range<Int64>] = []
        while day < limit {
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { break }
            if matches(calendar.component(.weekday, from: day)), let range = occurrence(on: day, next: next, calendar) {
                if range.upperBound > fromMs, range.lowerBound < toMs { out.append(range) }
            }
            day = next
        }
        return out
    }

    /// The occurrence holding `ms`, if any.
    package func occurrence(containing ms: Int64) -> Range<Int64>? {
        occurrences(fromMs: ms, toMs: ms + 1).first { $0.contains(ms) }
    }

    private func matches(_ weekday: Int) -> Bool {
        switch days {
        case .daily: return true
        case .weekday(let wanted): return weekday == wanted
        }
    }

    /// The window on the local day starting at `day` (`next` is the following midnight).
    private func occurrence(on day: Date, next: Date, _ calendar: Calendar) -> Range<Int64>? {
        func at(_ minute: Int) -> Date? {
            if minute >= 1440 { return next }
            var parts = calendar.dateComponents([.year, .month, .day], from: day)
            parts.hour = minute / 60
            parts.minute = minute % 60
            guard let date = calendar.date(from: parts) else { return nil }
            // A time the clocks skip (spring forward) opens or closes the window when they jump.
            let local = calendar.dateComponents([.hour, .minute], from: date)
            if (local.hour ?? 0) * 60 + (local.minute ?? 0) != minute,
                let jump = timeZone.nextDaylightSavingTimeTransition(after: day), jump <= date
            {
                return jump
            }
            return date
        }
        guard let start = at(startMinute), let end = at(endMinute) else { return nil }
        let (a, b) = (UTCTime.milliseconds(start), UTCTime.milliseconds(end))
        return b > a ? a..<b : nil
    }

    /// The first moment in the year from `fromMs` when this window and `other` are both open, if any
    /// (checked occurrence by occurrence, so zones and daylight-saving changes are taken into account).
    package func firstOverlap(with other: MaintenanceWindow, fromMs: Int64) -> Int64? {
        let toMs = fromMs + 366 * UTCTime.msPerDay
        let mine = occurrences(fromMs: fromMs, toMs: toMs)
        let theirs = other.occurrences(fromMs: fromMs, toMs: toMs)
        var (i, j) = (0, 0)
        while i < mine.count, j < theirs.count {
            if mine[i].overlaps(theirs[j]) { return max(mine[i].lowerBound, theirs[j].lowerBound) }
            if mine[i].upperBound <= theirs[j].upperBound { i += 1 } else { j += 1 }
        }
        return nil
    }
}
