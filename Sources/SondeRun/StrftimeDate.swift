import Foundation

/// Dates as text with strftime-style patterns, the specifiers Hurl's `format` and `toDate` filters
/// take (`%Y-%m-%d`, `%a, %d %b %Y %H:%M:%S GMT`, `%+` for ISO 8601), always in UTC unless the text
/// gives an offset. A `-` after `%` drops the padding (`%-d`).
enum StrftimeDate {
    private static let months = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]
    private static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    private static let calendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0)!
        return c
    }()

    /// The specifiers this type knows, for messages.
    static let known =
        "%Y %C %y %m %b %B %h %d %e %j %a %A %u %w %H %I %M %S %p %f %.f %.3f %3f %Z %z %:z %s %F %T %D %R %+ %%"

    // MARK: formatting

    /// `date` as `pattern` says; nil for an unknown specifier (`what` then names it).
    static func format(_ date: Date, _ pattern: String) -> Result<String, PatternError> {
        let parts = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second, .nanosecond, .weekday], from: date)
        let year = parts.year ?? 1970
        let month = parts.month ?? 1
        let day = parts.day ?? 1
        let hour = parts.hour ?? 0
        let minute = parts.minute ?? 0
        let second = parts.second ?? 0
        let nanos = parts.nanosecond ?? 0
        let weekday = (parts.weekday ?? 1) - 1  // 0 = Sunday
        let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
        var out = ""
        var chars = Array(pattern)[...]
        while let ch = chars.popFirst() {
            guard ch == "%" else {
                out.append(ch)
                continue
            }
            var pad = true
            var spec = chars.popFirst()
            if spec == "-" {
                pad = false
                spec = chars.popFirst()
            }
            func n(_ v: Int, _ width: Int) -> String {
                let s = String(v)
                return pad && s.count < width ? String(repeating: "0", count: width - s.count) + s : s
            }
            func fraction(_ digits: Int) -> String {
                let s = String(nanos)
                let nine = String(repeating: "0", count: 9 - s.count) + s
                return String(nine.prefix(digits))
            }
            switch spec {
            case "Y": out += n(year, 4)
            case "C": out += n(year / 100, 2)
            case "y": out += n(year % 100, 2)
            case "m": out += n(month, 2)
            case "b", "h": out += String(months[month - 1].prefix(3))
            case "B": out += months[month - 1]
            case "d": out += n(day, 2)
            case "e": out += pad && day < 10 ? " \(day)" : String(day)
            case "j": out += n(dayOfYear, 3)
            case "a": out += String(weekdays[weekday].prefix(3))
            case "A": out += weekdays[weekday]
            case "u": out += String(weekday == 0 ? 7 : weekday)
            case "w": out += String(weekday)
            case "H": out += n(hour, 2)
            case "I": out += n(hour % 12 == 0 ? 12 : hour % 12, 2)
            case "M": out += n(minute, 2)
            case "S": out += n(second, 2)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "f": out += fraction(9)
            case "Z": out += "UTC"
            case "z": out += "+0000"
            case ":":
                guard chars.popFirst() == "z" else { return .failure(PatternError(specifier: "%:")) }
                out += "+00:00"
            case "s": out += String(Int64(date.timeIntervalSince1970.rounded(.down)))
            case "F": out += "\(n(year, 4))-\(n(month, 2))-\(n(day, 2))"
            case "T": out += "\(n(hour, 2)):\(n(minute, 2)):\(n(second, 2))"
            case "D": out += "\(n(month, 2))/\(n(day, 2))/\(n(year % 100, 2))"
            case "R": out += "\(n(hour, 2)):\(n(minute, 2))"
            case "+":
                out += "\(n(year, 4))-\(n(month, 2))-\(n(day, 2))T\(n(hour, 2)):\(n(minute, 2)):\(n(second, 2))"
                if nanos > 0 { out += "." + trimmedFraction(nanos) }
                out += "+00:00"
            case ".":
                // %.f (as many digits as needed), %.3f / %.6f / %.9f.
                var digits: Int?
                if let d = chars.first, let v = d.wholeNumberValue {
                    digits = v
                    chars.removeFirst()
                }
                guard chars.popFirst() == "f" else { return .failure(PatternError(specifier: "%.")) }
                if let digits {
                    out += "." + fraction(digits)
                } else if nanos > 0 {
                    out += "." + trimmedFraction(nanos)
                }
            case "3", "6", "9":
                guard chars.popFirst() == "f", let d = spec?.wholeNumberValue else {
                    return .failure(PatternError(specifier: "%\(spec.map(String.init) ?? "")"))
                }
                out += fraction(d)
            case "%": out += "%"
            case "n": out += "\n"
            case "t": out += "\t"
            default:
                return .failure(PatternError(specifier: "%" + (spec.map(String.init) ?? "")))
            }
        }
        return .success(out)
    }

    /// Nanoseconds as 3, 6 or 9 digits, whichever holds them exactly.
    private static func trimmedFraction(_ nanos: Int) -> String {
        let s = String(nanos)
        let nine = String(repeating: "0", count: 9 - s.count) + s
        if nine.hasSuffix("000000") { return String(nine.prefix(3)) }
        if nine.hasSuffix("000") { return String(nine.prefix(6)) }
        return nine
    }

    /// An unknown specifier in a pattern.
    struct PatternError: Error, Equatable, CustomStringConvertible {
        /// The specifier as written (`%Q`).
        var specifier: String
        var description: String { "unknown specifier \(specifier) (known: \(StrftimeDate.known))" }
    }

    // MARK: parsing

    /// The date `text` writes in `pattern`; nil when it does not follow it (or the pattern has an
    /// unknown specifier). Without an offset in the text the date is UTC.
    static func parse(_ text: String, _ pattern: String) -> Date? {
        var input = Array(text)[...]
        var chars = Array(pattern)[...]
        var year = 1970
        var month = 1
        var day = 1
        var hour = 0
        var minute = 0
        var second = 0
        var nanos = 0
        var offset = 0
        var pm: Bool?
        var epoch: Int64?

        func number(_ maxDigits: Int, signed: Bool = false) -> Int? {
            while input.first == " " { input.removeFirst() }
            var negative = false
            if signed, input.first == "-" || input.first == "+" {
                negative = input.removeFirst() == "-"
            }
            var digits = ""
            while digits.count < maxDigits, let c = input.first, c.isASCII, c.isNumber {
                digits.append(c)
                input.removeFirst()
            }
            guard let v = Int(digits) else { return nil }
            return negative ? -v : v
        }
        func name(_ names: [String]) -> Int? {
            for (i, full) in names.enumerated() {
                for candidate in [full, String(full.prefix(3))] {
                    let n = candidate.count
                    if input.count >= n, String(input.prefix(n)).lowercased() == candidate.lowercased() {
                        input.removeFirst(n)
                        return i
                    }
                }
            }
            return nil
        }
        func fraction() -> Int? {
            var digits = ""
            while let c = input.first, c.isASCII, c.isNumber {
                digits.append(c)
                input.removeFirst()
            }
            guard !digits.isEmpty else { return nil }
            let nine = String((digits + "000000000").prefix(9))
            return Int(nine)
        }
        func zone() -> Int? {
            guard let c = input.first else { return nil }
            if c == "Z" || c == "z" {
                input.removeFirst()
                return 0
            }
            guard c == "+" || c == "-" else { return nil }
            input.removeFirst()
            guard let h = number(2) else { return nil }
            if input.first == ":" { input.removeFirst() }
            let m = number(2) ?? 0
            return (c == "-" ? -1 : 1) * (h * 3600 + m * 60)
        }

        while let ch = chars.popFirst() {
            if ch == " " {
                while input.first?.isWhitespace == true { input.removeFirst() }
                continue
            }
            guard ch == "%" else {
                guard input.popFirst() == ch else { return nil }
                continue
            }
            var spec = chars.popFirst()
            if spec == "-" || spec == "_" || spec == "0" { spec = chars.popFirst() }
            switch spec {
            case "Y":
                guard let v = number(4, signed: true) else { return nil }
                year = v
            case "y":
                guard let v = number(2) else { return nil }
                year = v < 70 ? 2000 + v : 1900 + v
            case "m":
                guard let v = number(2) else { return nil }
                month = v
            case "b", "h", "B":
                guard let v = name(months) else { return nil }
                month = v + 1
            case "d", "e":
                guard let v = number(2) else { return nil }
                day = v
            case "a", "A": guard name(weekdays) != nil else { return nil }
            case "H":
                guard let v = number(2) else { return nil }
                hour = v
            case "I":
                guard let v = number(2) else { return nil }
                hour = v % 12
            case "M":
                guard let v = number(2) else { return nil }
                minute = v
            case "S":
                guard let v = number(2) else { return nil }
                second = v
            case "p":
                let word = String(input.prefix(2)).uppercased()
                guard word == "AM" || word == "PM" else { return nil }
                input.removeFirst(2)
                pm = word == "PM"
            case "f":
                guard let v = fraction() else { return nil }
                nanos = v
            case "3", "6", "9":
                guard chars.popFirst() == "f", let v = fraction() else { return nil }
                nanos = v
            case ".":
                if let d = chars.first, d.isNumber { chars.removeFirst() }
                guard chars.popFirst() == "f" else { return nil }
                if input.first == "." {
                    input.removeFirst()
                    guard let v = fraction() else { return nil }
                    nanos = v
                }
            case "z":
                guard let v = zone() else { return nil }
                offset = v
            case ":":
                guard chars.popFirst() == "z", let v = zone() else { return nil }
                offset = v
            case "Z":
                var letters = ""
                while let c = input.first, c.isLetter {
                    letters.append(c)
                    input.removeFirst()
                }
                guard ["UTC", "GMT", "Z", "UT"].contains(letters.uppercased()) else { return nil }
            case "s":
                guard let v = number(19, signed: true) else { return nil }
                epoch = Int64(v)
            case "F": chars = Array("%Y-%m-%d")[...] + chars
            case "T": chars = Array("%H:%M:%S")[...] + chars
            case "D": chars = Array("%m/%d/%y")[...] + chars
            case "R": chars = Array("%H:%M")[...] + chars
            case "+": chars = Array("%Y-%m-%dT%H:%M:%S%.f%:z")[...] + chars
            case "%": guard input.popFirst() == "%" else { return nil }
            default: return nil
            }
        }
        guard input.isEmpty else { return nil }
        if let epoch { return Date(timeIntervalSince1970: TimeInterval(epoch)) }
        if let pm, pm { hour += 12 }
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        var parts = DateComponents()
        parts.year = year
        parts.month = month
        parts.day = day
        parts.hour = hour
        parts.minute = minute
        parts.second = second
        guard let date = calendar.date(from: parts),
            calendar.component(.day, from: date) == day
        else { return nil }
        return date.addingTimeInterval(TimeInterval(nanos) / 1e9 - TimeInterval(offset))
    }

    /// An HTTP date (`Wed, 13 Jan 2021 22:23:01 GMT`, also the older `Wednesday, 13-Jan-21 …` and
    /// `13-Jan-2021` forms cookies use).
    static func httpDate(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for pattern in [
            "%a, %d %b %Y %H:%M:%S GMT", "%a, %d-%b-%Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
            "%a %b %e %H:%M:%S %Y",
        ] {
            if let date = parse(trimmed, pattern) { return date }
        }
        return nil
    }

    /// Whether `text` is an RFC 3339 date-time (`2023-01-23T18:25:43.511Z`, `…+02:00`), or an ISO
    /// 8601 calendar date (`2023-01-23`).
    static func isISODate(_ text: String) -> Bool {
        let chars = Array(text)
        func digits(_ range: Range<Int>) -> Bool {
            range.upperBound <= chars.count && chars[range].allSatisfy { $0.isASCII && $0.isNumber }
        }
        guard digits(0..<4), chars.count >= 10, chars[4] == "-", digits(5..<7), chars[7] == "-", digits(8..<10)
        else { return false }
        if chars.count == 10 { return parse(text, "%Y-%m-%d") != nil }
        return parse(text, "%Y-%m-%dT%H:%M:%S%.f%:z") != nil && (chars[10] == "T" || chars[10] == "t")
    }
}
