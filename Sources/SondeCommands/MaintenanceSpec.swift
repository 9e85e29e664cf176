import SondeCLI
import SondeSupport

/// `sonde maintenance add|list|end`: the subcommands' options, help and how their arguments make a
/// `MaintenanceCommand`.
enum MaintenanceSpec {
    /// `--data DIR`.
    static let data = OptionSpec(
        "data", .string, placeholder: "DIR", default: "data",
        help: "data folder (its maintenance.jsonl)")
    /// `--checks DIR`.
    static let checks = OptionSpec(
        "checks", .string, placeholder: "DIR", default: "checks",
        help: "check files: the names to cover, their @maintenance")
    /// `--all`.
    static let all = OptionSpec("all", .flag, help: "cover every check instead of one")
    /// `--from TIME|now`.
    static let from = OptionSpec(
        "from", .string, placeholder: "TIME|now", default: "now",
        help: "start: an RFC 3339 time such as 2026-12-06T02:00:00Z, or now")
    /// `--until TIME|+DURATION`.
    static let until = OptionSpec(
        "until", .string, placeholder: "TIME|+DURATION",
        help: "end (required): an RFC 3339 time, or a length such as +2h or +1h30m")
    /// `--reason TEXT`.
    static let reason = OptionSpec(
        "reason", .string, placeholder: "TEXT",
        help: "why (required; at most \(MaintenanceCommand.maximumReason) characters), shown in reports")

    private static let exitCodes = [
        ExitCodeNote(ExitCode.ok, "done"),
        ExitCodeNote(ExitCode.usage, "usage error: a bad time, an unknown check or id; nothing is written"),
        ExitCodeNote(ExitCode.runtime, "maintenance.jsonl cannot be written"),
    ]

    /// `sonde maintenance add`.
    static let add = CommandSpec(
        "add", summary: "add an ad hoc maintenance window for one check or every check",
        options: [all, from, until, reason, data, checks],
        positionals: .one(
            placeholder: "CHECK", help: "CHECK is the check's name (its file name without .hurl); or give --all.",
            required: false),
        exitCodes: exitCodes,
        notes: [
            "A running prober picks the window up within a second, without a restart. Runs in the window",
            "are recorded but left out of uptime, budgets and burn rates, and open no incident or alert.",
        ])
    /// `sonde maintenance list`.
    static let list = CommandSpec(
        "list", summary: "list the ad hoc windows and the check files' @maintenance windows",
        options: [data, checks], positionals: .none(hint: "give the data folder with --data DIR"),
        exitCodes: exitCodes)
    /// `sonde maintenance end`.
    static let end = CommandSpec(
        "end", summary: "end an ad hoc maintenance window now",
        options: [data],
        positionals: .one(
            placeholder: "ID", help: "ID is the window's id, as 'sonde maintenance list' shows it.", required: true),
        exitCodes: exitCodes)

    /// The declaration.
    static let spec = CommandSpec(
        "maintenance", summary: "add, list and end maintenance windows (left out of SLOs, no alerts)",
        notes: [
            "Ad hoc windows live in DIR/maintenance.jsonl; recurring ones are # @maintenance lines in check files.",
            "Both work while a prober holds the data folder.",
        ],
        subcommands: [add, list, end])

    /// The command the arguments ask for.
    static func command(_ parsed: ParsedArguments) -> MaintenanceCommand {
        let action: MaintenanceCommand.Action
        switch parsed.command {
        case spec.name + " " + add.name:
            action = .add(
                check: parsed.positionals.first, all: parsed.flag(all), from: parsed.string(from) ?? "now",
                until: parsed.string(until), reason: parsed.string(reason))
        case spec.name + " " + end.name:
            action = .end(id: parsed.positionals.first ?? "")
        default:
            action = .list
        }
        return MaintenanceCommand(
            action: action, data: parsed.string(data) ?? "data", checks: parsed.string(checks) ?? "checks")
    }
}
