import SondeCLI
import SondeSupport

/// `sonde status`: its options, help and how its arguments make a `StatusCommand`.
enum StatusSpec {
    /// `--data DIR`.
    static let data = OptionSpec(
        "data", .string, placeholder: "DIR", default: "data",
        help: "data folder to read")

    /// The declaration.
    static let spec = CommandSpec(
        "status", summary: "show every check's state, last run, uptime and p95 over 24 hours",
        options: [data],
        positionals: .none(hint: "give the data folder with --data DIR"),
        environment: [EnvironmentNote("NO_COLOR", "no colour in the state column (only a terminal gets colour)")],
        exitCodes: [
            ExitCodeNote(ExitCode.ok, "the table is printed"),
            ExitCodeNote(ExitCode.usage, "usage error, or the data folder is missing or holds no run data"),
        ])

    /// The command the arguments ask for.
    static func command(_ parsed: ParsedArguments) -> StatusCommand {
        StatusCommand(data: parsed.string(data) ?? "data")
    }
}
