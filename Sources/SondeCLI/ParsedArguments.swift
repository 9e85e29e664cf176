import SondeSupport

/// The arguments of one command once parsed and checked: option values by name, and positionals.
package struct ParsedArguments: Sendable, Equatable {
    /// One checked option value.
    enum Value: Sendable, Equatable {
        /// A flag that was given.
        case flag
        /// Every string given, in order (one for a plain string option: the last).
        case strings([String])
        /// An integer or a number of days.
        case number(Int)
        /// A shard (`--shard 2/3`).
        case shard(Shard)
    }

    /// The command's name.
    package var command: String
    /// Values of the options that were given, by long name.
    var values: [String: Value] = [:]
    /// Arguments that are not options, in order.
    package var positionals: [String] = []

    /// Whether the flag was given.
    package func flag(_ option: OptionSpec) -> Bool {
        values[option.name] == .flag
    }

    /// The value of a string or choice option (the last one given), nil when absent; `all` for a
    /// count-or-all option given as `all`.
    package func string(_ option: OptionSpec) -> String? {
        strings(option).last
    }

    /// Every value of a repeatable option, in order; empty when absent.
    package func strings(_ option: OptionSpec) -> [String] {
        guard case .strings(let all) = values[option.name] else { return [] }
        return all
    }

    /// The value of an integer, days or count-or-all option given as a number, nil when absent.
    package func number(_ option: OptionSpec) -> Int? {
        guard case .number(let n) = values[option.name] else { return nil }
        return n
    }

    /// The value of a shard option, nil when absent.
    package func shard(_ option: OptionSpec) -> Shard? {
        guard case .shard(let shard) = values[option.name] else { return nil }
        return shard
    }
}
