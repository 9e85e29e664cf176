import SondeSupport

/// The directives about the target itself rather than its runs: `@cert-expiry` and `@keep-warm`
/// (docs/check-format.md, "Monitor directives").
extension Parser {
    /// The keys this file reads.
    static let targetDirectiveKeys = ["cert-expiry", "keep-warm"]

    /// The longest `@cert-expiry` accepted.
    static let maximumCertExpiry: Duration = .seconds(3650 * 86_400)

    /// Applies `@cert-expiry` or `@keep-warm`.
    func applyTargetDirective(_ d: Directive, to settings: inout MonitorSettings) throws(ParseError) {
        let line = current
        func fail(_ message: String) -> ParseError { error(message, line: line, column: d.valueColumn) }
        let words = d.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        switch d.key {
        case "cert-expiry":
            if words == ["off"] {
                settings.certExpiry = nil
                return
            }
            guard words.count == 1, let days = Self.duration(words[0], units: ["h", "d"]) else {
                throw fail("expected a duration such as 14d (days or hours), or off, after @cert-expiry")
            }
            guard days >= .seconds(3600), days <= Self.maximumCertExpiry else {
                throw fail("@cert-expiry must be from 1h to 3650d (or off)")
            }
            settings.certExpiry = days
        case "keep-warm":
            guard words.count == 1, let idle = Self.duration(words[0], units: ["s", "m", "h", "d"]) else {
                throw fail("expected the target's idle time such as 15m after @keep-warm")
            }
            guard idle >= KeepWarm.minimumIdle, idle <= KeepWarm.maximumIdle else {
                throw fail("@keep-warm must be from 1m to 7d (how long the target stays awake without a request)")
            }
            settings.keepWarm = KeepWarm(
                idle: idle, location: SourceLocation(line: line + 1, column: d.column + 1))
        default:
            throw fail("unknown directive @\(d.key)")
        }
    }
}
