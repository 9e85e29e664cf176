/// One command, declared once: its options, what it takes besides them, and its help.
package struct CommandSpec: Sendable, Equatable {
    /// The word after the program's name (`check`).
    package var name: String
    /// One line for the global help and the top of the command's help.
    package var summary: String
    /// Its options, in help order; `--help` is added by the parser.
    package var options: [OptionSpec]
    /// What it takes besides options.
    package var positionals: PositionalRule
    /// Environment variables it reads.
    package var environment: [EnvironmentNote]
    /// Exit codes worth listing in its help.
    var exitCodes: [ExitCodeNote]
    /// Further lines at the end of its help (signals, …).
    var notes: [String]
    /// Its subcommands (`maintenance add`), in help order; empty for a plain command. A command
    /// with subcommands takes none of its own options: the word after it picks the subcommand.
    package var subcommands: [CommandSpec]

    /// Declares a command.
    package init(
        _ name: String, summary: String, options: [OptionSpec] = [],
        positionals: PositionalRule = .none(hint: nil), environment: [EnvironmentNote] = [],
        exitCodes: [ExitCodeNote] = [], notes: [String] = [], subcommands: [CommandSpec] = []
    ) {
        self.name = name
        self.summary = summary
        self.options = options
        self.positionals = positionals
        self.environment = environment
        self.exitCodes = exitCodes
        self.notes = notes
        self.subcommands = subcommands
    }

    /// The subcommand called `name`, named in full (`maintenance add`) as the parser and the help
    /// show it; nil when there is none.
    func subcommand(named name: String) -> CommandSpec? {
        guard var sub = subcommands.first(where: { $0.name == name }) else { return nil }
        sub.name = self.name + " " + sub.name
        return sub
    }

    /// Its options and `--help`, as the parser and the help see them.
    var allOptions: [OptionSpec] { options + [.help] }

    /// The option called `--name` (without dashes), if it has one.
    func option(named name: String) -> OptionSpec? {
        allOptions.first { $0.name == name }
    }

    /// The option whose one-letter alias is `short`, if any.
    func option(short: Character) -> OptionSpec? {
        allOptions.first { $0.short == short }
    }
}
