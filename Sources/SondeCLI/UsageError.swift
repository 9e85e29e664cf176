/// A mistake on the command line. Shown as `error: …`, perhaps a `hint: …`, and where to look
/// (`See 'sonde check --help'.`); the program exits 1.
package enum UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A command the program does not have.
    case unknownCommand(String, program: String, suggestion: String?)
    /// An option `command` (`sonde check`) does not have; `suggestion` is the closest one.
    case unknownOption(String, command: String, suggestion: String?)
    /// An option that takes a value came last, or was followed by another option (`got`).
    case missingValue(option: String, command: String, synopsis: String, got: String?)
    /// A value the option does not accept; `expected` says what it does.
    case invalidValue(option: String, command: String, value: String, expected: String)
    /// An argument that is not an option, beyond the `allowed` number the command takes.
    case unexpectedArgument(String, command: String, allowed: Int, hint: String?)
    /// A flag written with a value (`--json=yes`).
    case flagWithValue(option: String, command: String, value: String)
    /// An environment variable standing in for `option` whose value the option does not accept.
    case invalidEnvironment(variable: String, option: String, command: String, value: String, expected: String)
    /// A command with subcommands given none; `names` are its subcommands.
    case missingSubcommand(command: String, names: [String])
    /// A word after a command with subcommands that names none of them.
    case unknownSubcommand(String, command: String, suggestion: String?)
    /// A required argument (`ID`) that was not given.
    case missingArgument(String, command: String)

    /// The first line, without `error: `.
    package var description: String {
        switch self {
        case .unknownCommand(let name, let program, let suggestion):
            return "unknown command '\(name)' for '\(program)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
        case .unknownOption(let option, let command, let suggestion):
            return "unknown option \(option) for '\(command)'" + (suggestion.map { " (did you mean \($0)?)" } ?? "")
        case .missingValue(let option, _, _, let got):
            return "option \(option) needs a value" + (got.map { " (got \($0))" } ?? "")
        case .invalidValue(let option, _, let value, let expected):
            return "invalid value '\(value)' for \(option): expected \(expected)"
        case .unexpectedArgument(let argument, let command, let allowed, _):
            let takes = allowed == 0 ? "no arguments" : "at most \(allowed) argument\(allowed == 1 ? "" : "s")"
            return "'\(command)' takes \(takes) (got '\(argument)')"
        case .flagWithValue(let option, _, let value):
            return "option \(option) takes no value (got \(option)=\(value))"
        case .invalidEnvironment(let variable, let option, _, let value, let expected):
            return "invalid value '\(value)' in \(variable) (for \(option)): expected \(expected)"
        case .missingSubcommand(let command, let names):
            return "'\(command)' needs a subcommand: " + names.joined(separator: ", ")
        case .unknownSubcommand(let word, let command, let suggestion):
            return "unknown subcommand '\(word)' for '\(command)'"
                + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
        case .missingArgument(let placeholder, let command):
            return "'\(command)' needs \(placeholder)"
        }
    }

    /// A second line on how to fix it, when the first does not say.
    var hint: String? {
        switch self {
        case .missingValue(let option, _, let synopsis, let got):
            guard let got else { return "give it as \(synopsis)" }
            return "give it as \(synopsis); a value that starts with '-' goes as \(option)=\(got)"
        case .unexpectedArgument(_, _, _, let hint):
            return hint
        case .flagWithValue(let option, _, _):
            return "write \(option) alone"
        case .unknownCommand, .unknownOption, .invalidValue, .invalidEnvironment, .missingSubcommand,
            .unknownSubcommand, .missingArgument:
            return nil
        }
    }

    /// The help to read: `sonde check --help`, or the program's for an unknown command.
    var seeAlso: String {
        switch self {
        case .unknownCommand(_, let program, _):
            return program + " --help"
        case .unknownOption(_, let command, _), .missingValue(_, let command, _, _),
            .invalidValue(_, let command, _, _), .unexpectedArgument(_, let command, _, _),
            .flagWithValue(_, let command, _), .invalidEnvironment(_, _, let command, _, _),
            .missingSubcommand(let command, _), .unknownSubcommand(_, let command, _),
            .missingArgument(_, let command):
            return command + " --help"
        }
    }

    /// The whole message for standard error: two or three lines, each ending in a newline.
    package var text: String {
        var lines = ["error: " + description]
        if let hint { lines.append("hint: " + hint) }
        lines.append("See '\(seeAlso)'.")
        return lines.map { $0 + "\n" }.joined()
    }
}
