import Foundation

/// UTC calendar arithmetic on epoch milliseconds, without Foundation's calendars or formatters
/// (they cost microseconds per call; a report reads millions of timestamps).
package enum UTCTime {
    package static let msPerHour: Int64 = 3_600_000
    package static let msPerDay: Int64 = 86_400_000

    /// Milliseconds since 1970-01-01T00:00:00Z of a `Date`, rounded down.
    package static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The `Date` of epoch milliseconds.
    static func date(_ ms: Int64) -> Date {
        Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    /// Start of the UTC hour holding `ms`.
    package static func hourStart(_ ms: Int64) -> Int64 { floorDiv(ms, msPerHour) * msPerHour }

    /// Start of the UTC day holding `ms`.
    package static func dayStart(_ ms: Int64) -> Int64 { floorDiv(ms, msPerDay) * msPerDay }

    /// Days since 1970-01-01 of a civil date (proleptic Gregorian).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Civil date of days since 1970-01-01.
    static func civil(days z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `2026-11-23T07:10:00.123Z`.
    package static func rfc3339(_ ms: Int64) -> String {
        var out = [UInt8]()
        out.reserveCapacity(24)
        appendRFC3339(ms, to: &out, milliseconds: true)
        return String(decoding: out, as: UTF8.self)
    }

    /// `2026-11-23T07:00:00Z` (no fraction), for hour keys.
    package static func rfc3339Seconds(_ ms: Int64) -> String {
        var out = [UInt8]()
        appendRFC3339(ms, to: &out, milliseconds: false)
        return String(decoding: out, as: UTF8.self)
    }

    /// `2026-11-23`: the day part of file names.
    package static func dayString(_ ms: Int64) -> String {
        let (y, m, d) = civil(days: floorDiv(ms, msPerDay))
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// `2026-11`: the month part of file names.
    package static func monthString(_ ms: Int64) -> String {
        let (y, m, _) = civil(days: floorDiv(ms, msPerDay))
        return "\(pad(y, 4))-\(pad(m, 2))"
    }

    /// Start of the UTC month holding `ms`.
    static func monthStart(_ ms: Int64) -> Int64 {
        let (y, m, _) = civil(days: floorDiv(ms, msPerDay))
        return days(year: y, month: m, day: 1) * msPerDay
    }

    /// Start of the month after the one holding `ms`.
    package static func nextMonthStart(_ ms: Int64) -> Int64 {
        let (y, m, _) = civil(days: floorDiv(ms, msPerDay))
        return m == 12 ? days(year: y + 1, month: 1, day: 1) * msPerDay : days(year: y, month: m + 1, day: 1) * msPerDay
    }

    /// Parses `YYYY-MM-DD` (a file name's day) into the day's start.
    package static func parseDay(_ text: Substring) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let y = digits(bytes, 0, 4), let m = digits(bytes, 5, 2), let d = digits(bytes, 8, 2),
            (1...12).contains(m), d >= 1, d <= daysInMonth(year: y, month: m)
        else { return nil }
        return days(year: y, month: m, day: d) * msPerDay
    }

    /// Parses `YYYY-MM` (a file name's month) into the month's start.
    package static func parseMonth(_ text: Substring) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 7, bytes[4] == UInt8(ascii: "-"),
            let y = digits(bytes, 0, 4), let m = digits(bytes, 5, 2), (1...12).contains(m)
        else { return nil }
        return days(year: y, month: m, day: 1) * msPerDay
    }

    /// Parses RFC 3339 (`2026-11-23T07:10:00.123Z`, `…+02:00`, any number of fraction digits,
    /// `t`/space separator) into epoch milliseconds; `nil` when malformed.
    package static func parseRFC3339(_ p: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = p.count
        guard n >= 20, p[4] == 0x2D, p[7] == 0x2D, p[13] == 0x3A, p[16] == 0x3A,
            p[10] == 0x54 || p[10] == 0x74 || p[10] == 0x20,
            let y = digits(p, 0, 4), let mo = digits(p, 5, 2), let d = digits(p, 8, 2),
            let h = digits(p, 11, 2), let mi = digits(p, 14, 2), let s = digits(p, 17, 2),
            (1...12).contains(mo), d >= 1, d <= daysInMonth(year: y, month: mo), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var fractionMs: Int64 = 0
        if i < n, p[i] == 0x2E {
            i += 1
            var scale: Int64 = 100
            let start = i
            while i < n, p[i] >= 0x30, p[i] <= 0x39 {
                fractionMs += Int64(p[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < n else { return nil }
        var offsetMinutes: Int64 = 0
        if p[i] == 0x5A || p[i] == 0x7A {
            i += 1
        } else if p[i] == 0x2B || p[i] == 0x2D {
            guard i + 6 == n, p[i + 3] == 0x3A, let oh = digits(p, i + 1, 2), let om = digits(p, i + 4, 2),
                oh < 24, om < 60
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (p[i] == 0x2B ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == n else { return nil }
        let day = days(year: y, month: mo, day: d)
        let seconds = day * 86_400 + h * 3600 + mi * 60 + min(s, 59) - offsetMinutes * 60
        return seconds * 1000 + fractionMs
    }

    /// Days in a month of the proleptic Gregorian calendar.
    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    package static func appendRFC3339(_ ms: Int64, to out: inout [UInt8], milliseconds: Bool) {
        let day = floorDiv(ms, msPerDay)
        let rest = ms - day * msPerDay
        let (y, mo, d) = civil(days: day)
        appendDigits(y, 4, &out)
        out.append(0x2D)
        appendDigits(mo, 2, &out)
        out.append(0x2D)
        appendDigits(d, 2, &out)
        out.append(0x54)
        appendDigits(rest / 3_600_000, 2, &out)
        out.append(0x3A)
        appendDigits(rest / 60_000 % 60, 2, &out)
        out.append(0x3A)
        appendDigits(rest / 1000 % 60, 2, &out)
        if milliseconds {
            out.append(0x2E)
            appendDigits(rest % 1000, 3, &out)
        }
        out.append(0x5A)
    }

    private static func appendDigits(_ value: Int64, _ width: Int, _ out: inout [UInt8]) {
        var v = value
        var buffer = [UInt8](repeating: 0x30, count: width)
        var i = width - 1
        while i >= 0 {
            buffer[i] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
            v /= 10
            i -= 1
        }
        out.append(contentsOf: buffer)
    }

    private static func digits<C: RandomAccessCollection>(_ p: C, _ start: Int, _ count: Int) -> Int64?
    where C.Element == UInt8, C.Index == Int {
        guard start + count <= p.count else { return nil }
        var v: Int64 = 0
        for i in start..<(start + count) {
            let c = p[p.startIndex + i]
            guard c >= 0x30, c <= 0x39 else { return nil }
            v = v * 10 + Int64(c - 0x30)
        }
        return v
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
