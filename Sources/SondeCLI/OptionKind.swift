import SondeSupport

/// What an option takes after its name, and how its value is checked.
package enum OptionKind: Sendable, Equatable {
    /// No value: present or not (`--json`).
    case flag
    /// One string; given again, the last one wins (`--data DIR`, `--metrics HOST:PORT`).
    case string
    /// A string that may be given many times, every value kept in order (`--var k=v`).
    case repeatable
    /// A whole number within `range` (`--seconds 45`).
    case integer(ClosedRange<Int>)
    /// A number of days within `range`, written `35d` or `35` (`--keep-raw 35d`).
    case days(ClosedRange<Int>)
    /// One of fixed words (`--log-format text`).
    case choice([String])
    /// One part of a folder shared by N processes, written `I/N` (`--shard 2/3`).
    case shard
    /// A whole number within `range`, or the word `all` (`--quorum 2`, `--quorum all`).
    case countOrAll(ClosedRange<Int>)

    /// Whether the option is followed by a value.
    var takesValue: Bool { self != .flag }

    /// The placeholder to show when the option declares none.
    var defaultPlaceholder: String {
        switch self {
        case .flag: return ""
        case .string, .repeatable: return "VALUE"
        case .integer: return "N"
        case .days: return "DAYS"
        case .choice(let words): return words.joined(separator: "|")
        case .shard: return "I/N"
        case .countOrAll: return "N|all"
        }
    }

    /// What a valid value looks like, for error messages: "a whole number from 5 to 3600".
    var expected: String {
        switch self {
        case .flag: return "no value"
        case .string, .repeatable: return "a value"
        case .integer(let range): return "a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .days(let range):
            return "a number of days from \(range.lowerBound) to \(range.upperBound), such as 35d"
        case .choice(let words):
            guard let last = words.last else { return "no value" }
            return words.count == 1 ? last : words.dropLast().joined(separator: ", ") + " or " + last
        case .shard:
            return "I/N with N from 1 to \(Shard.maxCount) and I from 1 to N, such as 2/3"
        case .countOrAll(let range):
            return "a whole number from \(range.lowerBound) to \(range.upperBound), or all"
        }
    }
}
