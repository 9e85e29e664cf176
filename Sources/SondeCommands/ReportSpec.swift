import SondeCLI
import SondeScript
import SondeSupport

/// `sonde report`: its options, help and how its arguments make a `ReportCommand`.
enum ReportSpec {
    private static let defaults = ReportCommand()

    /// `--data DIR`, one per location.
    static let data = OptionSpec(
        "data", .repeatable, placeholder: "DIR",
        default: defaults.data.joined(separator: ", "),
        help: "data folder, one per location")
    /// `--out DIR`.
    static let out = OptionSpec(
        "out", .string, placeholder: "DIR", default: defaults.out,
        help: "where README.md, checks/, badges/ and charts/ go")
    /// `--checks DIR`.
    static let checks = OptionSpec(
        "checks", .string, placeholder: "DIR", default: defaults.checks,
        help: "check files whose @slo, @latency and @every apply")
    /// `--window DAYS`.
    static let window = OptionSpec(
        "window", .days(1...100_000), default: "each check's @slo window",
        help: "objective window of every check, e.g. 7d")
    /// `--json`.
    static let json = OptionSpec("json", .flag, help: "print the figures as JSON instead of writing files")

    /// `--quorum N|all`.
    static let quorum = QuorumOption.spec(
        help: "locations that must fail in a slot, with several --data (@quorum wins)")

    /// The declaration.
    static let spec = CommandSpec(
        "report", summary: "write SLO reports (uptime, latency, error budget, burn rates) into reports/",
        options: [data, quorum, out, checks, window, json],
        positionals: .none(hint: "give data folders with --data DIR"),
        exitCodes: [
            ExitCodeNote(ExitCode.ok, "the report is written (or printed with --json)"),
            ExitCodeNote(ExitCode.usage, "usage error, or a data folder is missing or holds no run data"),
            ExitCodeNote(ExitCode.runtime, "the report cannot be written"),
        ])

    /// The command the arguments ask for.
    static func command(_ parsed: ParsedArguments) -> ReportCommand {
        var command = ReportCommand()
        let folders = parsed.strings(data)
        if !folders.isEmpty { command.data = folders }
        command.out = parsed.string(out) ?? command.out
        command.checks = parsed.string(checks) ?? command.checks
        command.quorum = QuorumOption.value(parsed, quorum) ?? command.quorum
        if let days = parsed.number(window) { command.windowMs = Int64(days) * 86_400_000 }
        command.json = parsed.flag(json)
        return command
    }
}
