import SondeCLI
import SondeScript
import SondeSupport

/// `sonde rules`: its options, help and how its arguments make a `RulesCommand`.
enum RulesSpec {
    private static let defaults = RulesCommand()

    /// `--checks DIR`.
    static let checks = OptionSpec(
        "checks", .string, placeholder: "DIR", default: defaults.checks,
        help: "check files whose @every, @slo, @down-after and @quorum apply")
    /// `--quorum N`.
    static let quorum = QuorumOption.spec(help: "locations that must see a check down (a file's @quorum wins)")
    /// `--out FILE`.
    static let out = OptionSpec(
        "out", .string, placeholder: "FILE", default: "standard output",
        help: "write the rule file there (replaced atomically)")

    /// The declaration.
    static let spec = CommandSpec(
        "rules", summary: "print Prometheus recording and alerting rules for the checks (quorum, burn rates)",
        options: [checks, quorum, out],
        positionals: .none(hint: "give the folder of checks with --checks DIR"),
        exitCodes: [
            ExitCodeNote(ExitCode.ok, "the rules are printed or written"),
            ExitCodeNote(ExitCode.usage, "usage error: bad option, no checks, two checks of one name"),
            ExitCodeNote(ExitCode.parse, "a check file does not parse"),
            ExitCodeNote(ExitCode.runtime, "the rule file cannot be written"),
        ],
        notes: ["load the file in prometheus.yml under rule_files: (docs/rules.md)"])

    /// The command the arguments ask for.
    static func command(_ parsed: ParsedArguments) -> RulesCommand {
        var command = RulesCommand()
        command.checks = parsed.string(checks) ?? command.checks
        command.quorum = QuorumOption.value(parsed, quorum) ?? command.quorum
        command.out = parsed.string(out)
        return command
    }
}
