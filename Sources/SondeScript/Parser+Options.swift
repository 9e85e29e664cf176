import SondeSupport

/// `[Options]` lines: Hurl's per-entry options (docs/check-format.md, "Options").
extension Parser {
    /// Every option sonde reads, by its Hurl name.
    static let options =
        [
            "retry", "retry-interval", "max-time", "connect-timeout", "location", "max-redirs",
            "insecure", "delay", "variable", "skip", "repeat", "limit-rate",
        ] + EntryOption.FlagOption.allCases.map(\.rawValue) + EntryOption.TextOption.allCases.map(\.rawValue)
    /// The largest `repeat`: Hurl's own documentation repeats a request 100,000 times for a load
    /// test; a run's deadline still bounds how long the repeats take.
    static let maxRepeat = 1_000_000
    /// Hurl options sonde does not read yet.
    static let unsupportedOptions = ["pinnedpubkey", "negotiate"]

    func option(_ c: inout LineCursor) throws(ParseError) -> EntryOption {
        let start = c.location
        let name = c.word()
        c.skipSpaces()
        guard !name.isEmpty, c.peek == ":" else {
            throw c.error("expected an option line such as retry: 3", at: start)
        }
        c.index += 1
        c.skipSpaces()
        let valueStart = c.location
        if Self.unsupportedOptions.contains(name) {
            throw c.error("option '\(name)' is not supported by sonde yet", at: start)
        }
        guard Self.options.contains(name) else {
            var message = "unknown option '\(Self.shown(name))'"
            if let guess = Suggestion.closest(to: name, in: Self.options) {
                message += "; did you mean \(guess)?"
            } else {
                message += "; supported options: " + Self.options.joined(separator: ", ")
            }
            throw c.error(message, at: start)
        }
        if c.hasPrefix("{{"), name != "variable", EntryOption.TextOption(rawValue: name) == nil {
            let placeholder = try c.placeholder(encoding: .plain)
            try c.expectLineEnd("the option value")
            return EntryOption(kind: .deferred(name: name, value: placeholder), location: start)
        }
        func integer(_ range: ClosedRange<Int>) throws(ParseError) -> Int {
            let text = c.token()
            guard let n = Int(text), range.contains(n) else {
                throw c.error(
                    "expected an integer from \(range.lowerBound) to \(range.upperBound) for \(name)", at: valueStart)
            }
            return n
        }
        func boolean() throws(ParseError) -> Bool {
            switch c.token() {
            case "true": return true
            case "false": return false
            default: throw c.error("expected true or false for \(name)", at: valueStart)
            }
        }
        func duration() throws(ParseError) -> Duration {
            let text = c.token()
            if let n = Int64(text), n >= 0 { return .milliseconds(n) }
            guard let d = Self.duration(text, units: ["ms", "s", "m"]) else {
                throw c.error("expected a duration such as 500ms, 2s or 1m for \(name)", at: valueStart)
            }
            return d
        }
        let kind: EntryOption.Kind
        switch name {
        case "retry": kind = .retry(try integer(0...100))
        case "retry-interval": kind = .retryInterval(try duration())
        case "max-time":
            let d = try duration()
            guard d > .zero else { throw c.error("max-time must be more than 0", at: valueStart) }
            kind = .maxTime(d)
        case "connect-timeout":
            let d = try duration()
            guard d > .zero else { throw c.error("connect-timeout must be more than 0", at: valueStart) }
            kind = .connectTimeout(d)
        case "delay": kind = .delay(try duration())
        case "location": kind = .location(try boolean())
        case "insecure": kind = .insecure(try boolean())
        case "skip": kind = .skip(try boolean())
        case "max-redirs": kind = .maxRedirs(try integer(-1...1000))
        case "repeat": kind = .repeat(try integer(0...Self.maxRepeat))
        case "limit-rate": kind = .limitRate(try integer(1...Int(Int32.max)))
        case "variable":
            var variable = ""
            while let s = c.peek, s.isASCII,
                s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "_" || s == "-"
            {
                variable.unicodeScalars.append(s)
                c.index += 1
            }
            guard let first = variable.unicodeScalars.first, first == "_" || first.properties.isAlphabetic,
                c.peek == "="
            else {
                throw c.error("expected variable: name=value", at: valueStart)
            }
            c.index += 1
            let value: PredicateValue
            if let s = c.peek,
                s == "\"" || s == "`" || s == "-" || ("0"..."9").contains(s) || c.hasPrefix("{{")
                    || c.hasPrefix("true") || c.hasPrefix("false") || c.hasPrefix("null")
            {
                let save = c.index
                if let v = try? predicateValue(&c, after: "="), c.atLineEnd() {
                    value = v
                } else {
                    c.index = save
                    value = .string(try c.valueTemplate())
                }
            } else {
                value = .string(try c.valueTemplate())
            }
            kind = .variable(name: variable, value: value)
        default:
            if let flag = EntryOption.FlagOption(rawValue: name) {
                kind = .flag(flag, try boolean())
            } else if let text = EntryOption.TextOption(rawValue: name) {
                let value = try c.valueTemplate()
                guard !value.parts.isEmpty else { throw c.error("expected a value for \(name)", at: valueStart) }
                kind = .text(text, value)
            } else {
                throw c.error("unknown option '\(Self.shown(name))'", at: start)
            }
        }
        try c.expectLineEnd("the option value")
        return EntryOption(kind: kind, location: start)
    }
}

extension EntryOption {
    /// The option a `deferred` one stands for once its template gave `text` (`retry: {{n}}` with
    /// n = 3 is `retry: 3`); the same checks as in a file, so `retry: {{n}}` with n = many fails as
    /// `retry: many` would.
    package static func resolving(name: String, text: String, location: SourceLocation) throws(ParseError)
        -> EntryOption
    {
        let parser = Parser(source: name + ": " + text, path: "")
        var cursor = parser.cursor(0)
        var option = try parser.option(&cursor)
        option.location = location
        return option
    }
}
