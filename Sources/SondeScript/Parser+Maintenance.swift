import Foundation
import SondeSupport

/// `# @maintenance DAY HH:MM-HH:MM [ZONE]` (docs/check-format.md, "Maintenance windows").
extension Parser {
    /// Where the overlap check between two windows starts: 2026-01-01T00:00:00Z; a year of
    /// occurrences from there is compared, so daylight-saving changes are met.
    static let maintenanceOverlapFromMs: Int64 = 1_767_225_600_000

    /// Reads one `@maintenance` window and adds it, refusing one that overlaps a window already read.
    func addMaintenance(_ d: Directive, to settings: inout MonitorSettings) throws(ParseError) {
        let line = current
        let words = Self.words(of: d)
        let example = "such as Sun 02:00-04:00 UTC"
        func fail(_ message: String, at column: Int) -> ParseError { error(message, line: line, column: column) }
        let end = d.valueColumn + d.value.unicodeScalars.count
        guard let dayWord = words.first else {
            throw fail("expected a day and a time range \(example) after @maintenance", at: d.valueColumn)
        }
        let days: MaintenanceWindow.Days
        if dayWord.text.lowercased() == "daily" {
            days = .daily
        } else if let index = Self.weekdayIndex(dayWord.text) {
            days = .weekday(index + 1)
        } else {
            var message = "unknown weekday \(Self.shown(dayWord.text)) in @maintenance"
            let names = MaintenanceWindow.weekdayNames + ["daily"]
            if let guess = Suggestion.closest(to: dayWord.text, in: names) { message += "; did you mean \(guess)?" }
            throw fail(message + " (days: Mon, Tue, Wed, Thu, Fri, Sat, Sun, or daily)", at: dayWord.column)
        }
        guard words.count > 1 else {
            throw fail("expected a time range \(example) after the day", at: end)
        }
        let range = words[1]
        let parts = range.text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Self.clockMinute(parts[0], allowMidnightEnd: false),
            let stop = Self.clockMinute(parts[1], allowMidnightEnd: true)
        else {
            throw fail("expected a time range HH:MM-HH:MM (24-hour clock) \(example)", at: range.column)
        }
        guard stop > start else {
            throw fail(
                "the window ends (\(parts[1])) before it starts (\(parts[0])); a window across midnight is "
                    + "written as two, ending at 24:00 and starting at 00:00", at: range.column)
        }
        var zone = TimeZone(identifier: "UTC") ?? TimeZone.gmt
        if words.count > 2 {
            let name = words[2].text
            guard let found = Self.timeZone(named: name) else {
                throw fail(
                    "unknown time zone \(Self.shown(name)) in @maintenance; use UTC or an IANA name such as "
                        + "Europe/Berlin", at: words[2].column)
            }
            zone = found
        }
        guard words.count <= 3 else {
            throw fail("unexpected \(Self.shown(words[3].text)) after the time zone \(example)", at: words[3].column)
        }
        let window = MaintenanceWindow(
            days: days, startMinute: start, endMinute: stop, timeZone: zone,
            text: words.map(\.text).joined(separator: " "),
            location: SourceLocation(line: line + 1, column: d.column + 1))
        for other in settings.maintenance {
            if let at = window.firstOverlap(with: other, fromMs: Self.maintenanceOverlapFromMs) {
                throw fail(
                    "this window overlaps @maintenance \(other.text) on line \(other.location.line) (both open at "
                        + "\(UTCTime.rfc3339(at))); merge them into one window", at: d.valueColumn)
            }
        }
        settings.maintenance.append(window)
    }

    /// 0 for Sunday … 6 for Saturday, from a three-letter or full English name in any case.
    static func weekdayIndex(_ text: String) -> Int? {
        let full = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
        let lower = text.lowercased()
        if let index = full.firstIndex(of: lower) { return index }
        return MaintenanceWindow.weekdayNames.firstIndex { $0.lowercased() == lower }
    }

    /// `02:00` → 120; `24:00` only as an end.
    static func clockMinute(_ text: Substring, allowMidnightEnd: Bool) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), minute < 60
        else { return nil }
        if hour == 24 && minute == 0 && allowMidnightEnd { return 1440 }
        guard hour < 24 else { return nil }
        return hour * 60 + minute
    }

    /// UTC, or a zone of the system's IANA database; nil for anything else (an abbreviation such as
    /// `CET` or an offset such as `+01:00` is not accepted: they do not follow daylight saving).
    static func timeZone(named name: String) -> TimeZone? {
        if name == "UTC" || name == "Etc/UTC" { return TimeZone(identifier: "UTC") }
        guard name.contains("/"), TimeZone.knownTimeZoneIdentifiers.contains(name) else { return nil }
        return TimeZone(identifier: name)
    }
}
