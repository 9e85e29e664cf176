import SondeSupport

/// Parses the arguments of one command by its declaration: `--name value`, `--name=value`, `-v`,
/// `--` ends the options, `-` alone is an argument; `--help` / `-h` asks for the command's help.
struct ArgumentParser: Sendable {
    /// What the arguments ask for.
    enum Outcome: Sendable, Equatable {
        /// Run the command with these arguments.
        case arguments(ParsedArguments)
        /// Show the command's help.
        case help
    }

    /// The command being parsed.
    var spec: CommandSpec
    /// How the command is called in messages: `sonde check`.
    var commandPath: String

    /// Parses `arguments` (those after the command's name); the first mistake throws. An option that
    /// takes one value and names an environment variable takes the variable's value from
    /// `environment` when the arguments do not give it, checked the same way (a repeatable option's
    /// variable adds to its list, so the command reads that one itself).
    func parse(_ arguments: [String], environment: [String: String] = [:]) throws(UsageError) -> Outcome {
        var parsed = ParsedArguments(command: spec.name)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                for rest in arguments[index...] { try take(positional: rest, into: &parsed) }
                break
            }
            guard argument.hasPrefix("-"), argument != "-" else {
                try take(positional: argument, into: &parsed)
                continue
            }
            let (written, inline) = Self.split(argument)
            let option = try find(written)
            if option == .help {
                if let inline { throw .flagWithValue(option: written, command: commandPath, value: inline) }
                return .help
            }
            guard option.kind.takesValue else {
                if let inline { throw .flagWithValue(option: written, command: commandPath, value: inline) }
                parsed.values[option.name] = .flag
                continue
            }
            let text: String
            if let inline {
                guard !inline.isEmpty else { throw missingValue(option, got: nil) }
                text = inline
            } else {
                guard index < arguments.count else { throw missingValue(option, got: nil) }
                let next = arguments[index]
                if next.hasPrefix("-") && next != "-" { throw missingValue(option, got: next) }
                text = next
                index += 1
            }
            try store(text, for: option, into: &parsed)
        }
        try fill(from: environment, into: &parsed)
        if case .one(let placeholder, _, true) = spec.positionals, parsed.positionals.isEmpty {
            throw .missingArgument(placeholder, command: commandPath)
        }
        return .arguments(parsed)
    }

    /// Gives each single-value option that was not on the command line its environment variable's
    /// value, when the variable is set and not blank.
    private func fill(from environment: [String: String], into parsed: inout ParsedArguments) throws(UsageError) {
        for option in spec.options where option.kind.takesValue && option.kind != .repeatable {
            guard parsed.values[option.name] == nil, let variable = option.environment,
                let raw = environment[variable]
            else { continue }
            var trimmed = Substring(raw)
            while trimmed.first?.isWhitespace == true { trimmed.removeFirst() }
            while trimmed.last?.isWhitespace == true { trimmed.removeLast() }
            guard !trimmed.isEmpty else { continue }
            let text = String(trimmed)
            let invalid = UsageError.invalidEnvironment(
                variable: variable, option: option.flagName,
                command: commandPath, value: text,
                expected: option.kind.expected)
            try store(text, for: option, into: &parsed, invalid: invalid)
        }
    }

    /// Splits `--name=value` into the name and the value; other arguments have no inline value.
    static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    /// The option `written` names (`--json`, `-v`), or the error with the closest long name.
    private func find(_ written: String) throws(UsageError) -> OptionSpec {
        if written.hasPrefix("--") {
            if let option = spec.option(named: String(written.dropFirst(2))) { return option }
        } else if written.count == 2, let letter = written.last, let option = spec.option(short: letter) {
            return option
        }
        let names = spec.allOptions.map(\.flagName)
        let guess = Suggestion.closest(to: written.hasPrefix("--") ? written : "-" + written, in: names)
        throw .unknownOption(written, command: commandPath, suggestion: guess)
    }

    private func missingValue(_ option: OptionSpec, got: String?) -> UsageError {
        .missingValue(option: option.flagName, command: commandPath, synopsis: option.synopsis, got: got)
    }

    /// Checks `text` against the option's kind and records it; `invalid` is the error when it does
    /// not fit (by default, the one for a value on the command line).
    private func store(
        _ text: String, for option: OptionSpec, into parsed: inout ParsedArguments,
        invalid: UsageError? = nil
    ) throws(UsageError) {
        let invalid =
            invalid
            ?? UsageError.invalidValue(
                option: option.flagName, command: commandPath, value: text,
                expected: option.kind.expected)
        switch option.kind {
        case .flag:
            parsed.values[option.name] = .flag
        case .string:
            parsed.values[option.name] = .strings([text])
        case .repeatable:
            parsed.values[option.name] = .strings(parsed.strings(option) + [text])
        case .integer(let range):
            guard let n = Int(text), range.contains(n) else { throw invalid }
            parsed.values[option.name] = .number(n)
        case .days(let range):
            let digits = text.hasSuffix("d") ? String(text.dropLast()) : text
            guard let n = Int(digits), range.contains(n) else { throw invalid }
            parsed.values[option.name] = .number(n)
        case .choice(let words):
            guard words.contains(text) else { throw invalid }
            parsed.values[option.name] = .strings([text])
        case .shard:
            guard let shard = try? Shard(parsing: text) else { throw invalid }
            parsed.values[option.name] = .shard(shard)
        case .countOrAll(let range):
            if text == "all" {
                parsed.values[option.name] = .strings([text])
            } else {
                guard let n = Int(text), range.contains(n) else { throw invalid }
                parsed.values[option.name] = .number(n)
            }
        }
    }

    /// Records an argument that is not an option, when the command takes one more.
    private func take(positional: String, into parsed: inout ParsedArguments) throws(UsageError) {
        switch spec.positionals {
        case .none(let hint):
            throw .unexpectedArgument(positional, command: commandPath, allowed: 0, hint: hint)
        case .paths:
            parsed.positionals.append(positional)
        case .one:
            guard parsed.positionals.isEmpty else {
                throw .unexpectedArgument(positional, command: commandPath, allowed: 1, hint: nil)
            }
            parsed.positionals.append(positional)
        case .command:
            guard parsed.positionals.isEmpty else {
                throw .unexpectedArgument(
                    positional, command: commandPath, allowed: 1,
                    hint: "give one command, as in '\(commandPath) run'")
            }
            parsed.positionals.append(positional)
        }
    }
}
