import SondeSupport

/// The whole command line of a program: its commands, global options and exit codes. Resolves the
/// arguments into a request and writes every help text.
package struct ProgramSpec: Sendable, Equatable {
    /// The program's name (`sonde`).
    package var name: String
    /// One line on what it is.
    package var summary: String
    /// Its commands, in help order.
    var commands: [CommandSpec]
    /// Options before any command; `--help` is added. One named like a command (`--version`) runs it.
    var globalOptions: [OptionSpec]
    /// The exit codes every command shares.
    var exitCodes: [ExitCodeNote]

    /// Declares a program.
    package init(
        name: String, summary: String, commands: [CommandSpec], globalOptions: [OptionSpec] = [],
        exitCodes: [ExitCodeNote] = []
    ) {
        self.name = name
        self.summary = summary
        self.commands = commands
        self.globalOptions = globalOptions
        self.exitCodes = exitCodes
    }

    /// Global options as help shows them, `--help` first.
    var allGlobalOptions: [OptionSpec] { [.help] + globalOptions }

    /// The command called `name`, if there is one.
    package func command(named name: String) -> CommandSpec? {
        commands.first { $0.name == name }
    }

    /// Reads the arguments after the program's name; the first mistake throws. `environment` gives
    /// the options that name a variable their value when the arguments do not (`ArgumentParser.parse`).
    package func resolve(_ arguments: [String], environment: [String: String] = [:]) throws(UsageError) -> Request {
        guard let first = arguments.first else { return .globalHelp(requested: false) }
        var rest = Array(arguments.dropFirst())
        var spec: CommandSpec
        if first == "--help" || first == "-h" {
            guard let helpCommand = commands.first(where: { $0.positionals == .command }) else {
                return .globalHelp(requested: true)
            }
            spec = helpCommand
        } else if first.hasPrefix("-") && first != "-" {
            spec = try globalCommand(first)
        } else if let named = command(named: first) {
            spec = named
        } else {
            throw unknownCommand(first)
        }
        if !spec.subcommands.isEmpty {
            let path = name + " " + spec.name
            guard let word = rest.first else {
                throw .missingSubcommand(command: path, names: spec.subcommands.map(\.name))
            }
            if word == "--help" || word == "-h" { return .commandHelp(spec) }
            guard let sub = spec.subcommand(named: word) else {
                throw .unknownSubcommand(
                    word, command: path, suggestion: Suggestion.closest(to: word, in: spec.subcommands.map(\.name)))
            }
            spec = sub
            rest.removeFirst()
        }
        let parser = ArgumentParser(spec: spec, commandPath: name + " " + spec.name)
        switch try parser.parse(rest, environment: environment) {
        case .help:
            return .commandHelp(spec)
        case .arguments(let parsed):
            guard spec.positionals == .command else { return .command(parsed) }
            rest = parsed.positionals
            guard let topic = rest.first else { return .globalHelp(requested: true) }
            guard let asked = command(named: topic) else {
                throw unknownCommand(topic)
            }
            return .commandHelp(asked)
        }
    }

    /// The error for a command the program does not have, with the closest name.
    private func unknownCommand(_ word: String) -> UsageError {
        .unknownCommand(word, program: name, suggestion: Suggestion.closest(to: word, in: commands.map(\.name)))
    }

    /// The command a global option such as `--version` stands for.
    private func globalCommand(_ written: String) throws(UsageError) -> CommandSpec {
        let (optionName, inline) = ArgumentParser.split(written)
        let names = allGlobalOptions.map(\.flagName)
        guard names.contains(optionName), let spec = command(named: String(optionName.dropFirst(2))) else {
            throw .unknownOption(written, command: name, suggestion: Suggestion.closest(to: optionName, in: names))
        }
        if let inline { throw .flagWithValue(option: optionName, command: name, value: inline) }
        return spec
    }
}
