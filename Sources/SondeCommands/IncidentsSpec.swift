import SondeCLI
import SondeScript
import SondeSupport

/// `sonde incidents`: its options, help and how its arguments make an `IncidentsCommand`.
enum IncidentsSpec {
    private static let defaults = IncidentsCommand()

    /// `--data DIR`, one per location.
    static let data = OptionSpec(
        "data", .repeatable, placeholder: "DIR",
        default: defaults.data.joined(separator: ", "),
        help: "data folder, one per location")
    /// `--out DIR`.
    static let out = OptionSpec(
        "out", .string, placeholder: "DIR", default: defaults.out,
        help: "write into DIR/incidents/")
    /// `--checks DIR`.
    static let checks = OptionSpec(
        "checks", .string, placeholder: "DIR", default: defaults.checks,
        help: "check files whose @down-after and @up-after apply")

    /// `--quorum N|all`.
    static let quorum = QuorumOption.spec(
        help: "locations that must fail in a slot, with several --data (@quorum wins)")

    /// `--group-within N`.
    static let groupWithin = OptionSpec(
        "group-within", .integer(0...1000), placeholder: "N", default: String(defaults.groupWithin),
        help: "one write-up for overlapping incidents that start within N intervals")

    /// The declaration.
    static let spec = CommandSpec(
        "incidents", summary: "find incidents in the data and write their timelines into reports/incidents/",
        options: [data, quorum, out, checks, groupWithin],
        positionals: .none(hint: "give data folders with --data DIR"),
        exitCodes: [
            ExitCodeNote(ExitCode.ok, "the write-ups are written"),
            ExitCodeNote(ExitCode.usage, "usage error, or a data folder is missing or holds no run data"),
            ExitCodeNote(ExitCode.runtime, "the write-ups cannot be written"),
        ])

    /// The command the arguments ask for.
    static func command(_ parsed: ParsedArguments) -> IncidentsCommand {
        var command = IncidentsCommand()
        let folders = parsed.strings(data)
        if !folders.isEmpty { command.data = folders }
        command.out = parsed.string(out) ?? command.out
        command.checks = parsed.string(checks) ?? command.checks
        command.quorum = QuorumOption.value(parsed, quorum) ?? command.quorum
        command.groupWithin = parsed.number(groupWithin) ?? command.groupWithin
        return command
    }
}
