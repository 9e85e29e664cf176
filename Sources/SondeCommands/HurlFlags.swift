import SondeScript

/// `sonde check`'s Hurl-compatible request flags (`--user`, `--location`, `--insecure`,
/// `--max-time`, `--connect-timeout`, `--retry`): options every entry starts from, before its own
/// `[Options]`.
struct HurlFlags: Sendable, Equatable {
    /// `--user USER:PASSWORD`.
    var user: String? = nil
    /// `--location`.
    var location = false
    /// `--insecure`.
    var insecure = false
    /// `--max-time`, as given.
    var maxTime: String? = nil
    /// `--connect-timeout`, as given.
    var connectTimeout: String? = nil
    /// `--retry N`.
    var retry: Int? = nil

    /// A flag whose value is not a duration.
    struct BadDuration: Error, CustomStringConvertible {
        var option: String
        var text: String
        var description: String {
            "--\(option) '\(text)': expected seconds (such as 5 or 2.5) or a duration such as 500ms, 2s or 1m"
        }
    }

    /// The entry options the flags stand for.
    func options() throws(BadDuration) -> [EntryOption] {
        let here = SourceLocation(line: 0, column: 0)
        var kinds: [EntryOption.Kind] = []
        if let user { kinds.append(.text(.user, Template(literal: user, location: here))) }
        if location { kinds.append(.location(true)) }
        if insecure { kinds.append(.insecure(true)) }
        if let maxTime { kinds.append(.maxTime(try Self.duration(maxTime, option: "max-time"))) }
        if let connectTimeout {
            kinds.append(.connectTimeout(try Self.duration(connectTimeout, option: "connect-timeout")))
        }
        if let retry { kinds.append(.retry(retry)) }
        return kinds.map { EntryOption(kind: $0, location: here) }
    }

    /// Hurl's durations: a number of seconds (`5`, `2.5`), or with a unit (`500ms`, `2s`, `1m`).
    static func duration(_ text: String, option: String) throws(BadDuration) -> Duration {
        if let seconds = Double(text), seconds.isFinite, seconds > 0, seconds <= 86_400 {
            return .milliseconds(Int64((seconds * 1000).rounded(.up)))
        }
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
        for (unit, scale) in units where text.hasSuffix(unit) {
            let digits = text.dropLast(unit.count)
            if let n = Int64(digits), n > 0, n <= 86_400_000 / scale { return .milliseconds(n * scale) }
        }
        throw BadDuration(option: option, text: text)
    }
}
