import SondeCLI
import SondeSupport

/// `sonde check`: its options, help and how its arguments make a `CheckCommand`.
enum CheckSpec {
    /// `--json`.
    static let json = OptionSpec(
        "json", .flag,
        help: "print one JSON object per file instead of the text report")
    /// `--verbose`, `-v`.
    static let verbose = OptionSpec(
        "verbose", short: "v", .flag,
        help: "print requests and responses on stderr (sensitive values as ***)")

    /// Files and folders of checks, as `check` and `validate` take them.
    static let paths = PositionalRule.paths(
        placeholder: "PATH",
        help: "PATH is a .hurl file or a folder (every *.hurl inside, recursively); default: checks")

    /// The declaration.
    static let spec = CommandSpec(
        "check", summary: "run each check file once and report, like hurl --test",
        options: VariableOptions.options + [json, verbose],
        positionals: paths,
        environment: VariableOptions.environment,
        exitCodes: [
            ExitCodeNote(ExitCode.ok, "every file passed"),
            ExitCodeNote(ExitCode.usage, "usage error: bad option, missing file, folder without .hurl files"),
            ExitCodeNote(ExitCode.parse, "a file does not parse (nothing is run)"),
            ExitCodeNote(ExitCode.runtime, "runtime error: dns, connect, tls, timeout, protocol, template, …"),
            ExitCodeNote(ExitCode.assertion, "assertion failure: status, header, assert"),
        ])

    /// The command the arguments ask for.
    static func command(_ parsed: ParsedArguments, environment: [String: String]) -> CheckCommand {
        var command = CheckCommand(
            paths: parsed.positionals,
            variables: VariableOptions.sources(parsed, environment: environment))
        command.json = parsed.flag(json)
        command.verbose = parsed.flag(verbose)
        return command
    }
}
