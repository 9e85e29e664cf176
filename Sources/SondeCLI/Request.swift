/// What a command line asks the program for.
package enum Request: Sendable, Equatable {
    /// The program's help; `requested` is false when no command was given at all.
    case globalHelp(requested: Bool)
    /// One command's help (`sonde run --help`, `sonde help run`).
    case commandHelp(CommandSpec)
    /// Run a command with its parsed arguments.
    case command(ParsedArguments)
}
