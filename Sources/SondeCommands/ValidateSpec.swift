import SondeCLI
import SondeSupport

/// `sonde validate`: its help and how its arguments make a `ValidateCommand`.
enum ValidateSpec {
    /// The declaration.
    static let spec = CommandSpec(
        "validate", summary: "parse check files only",
        options: [CheckSpec.fileRoot],
        positionals: CheckSpec.paths,
        exitCodes: [
            ExitCodeNote(ExitCode.ok, "every file parses"),
            ExitCodeNote(ExitCode.usage, "usage error: bad option, missing file, folder without .hurl files"),
            ExitCodeNote(ExitCode.parse, "a file does not parse"),
        ])

    /// The command the arguments ask for.
    static func command(_ parsed: ParsedArguments) -> ValidateCommand {
        var command = ValidateCommand(paths: parsed.positionals)
        command.fileRoot = parsed.string(CheckSpec.fileRoot)
        return command
    }
}
