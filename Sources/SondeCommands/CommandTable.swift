import SondeCLI
import SondeSupport

/// Every command of `sonde`, declared once: the table the parser, the help and the errors come from.
enum CommandTable {
    /// `sonde help [COMMAND]`.
    static let help = CommandSpec(
        "help", summary: "show help for sonde or for one command",
        positionals: .command)
    /// `sonde version`.
    static let version = CommandSpec("version", summary: "print the version")

    /// The program: its commands in help order, `--version`, and the exit codes they share.
    static let program = ProgramSpec(
        name: "sonde",
        summary: "synthetic monitoring: scripted HTTP checks, run files, SLO reports and incidents",
        commands: [
            CheckSpec.spec, ValidateSpec.spec, RunSpec.spec, StatusSpec.spec, ReportSpec.spec,
            IncidentsSpec.spec, RulesSpec.spec, MaintenanceSpec.spec, DemoSpec.spec, help, version,
        ],
        globalOptions: [OptionSpec("version", .flag, help: "print the version")],
        exitCodes: [
            ExitCodeNote(ExitCode.ok, "success"), ExitCodeNote(ExitCode.usage, "usage error"),
            ExitCodeNote(ExitCode.parse, "parse error"), ExitCodeNote(ExitCode.runtime, "runtime error"),
            ExitCodeNote(ExitCode.assertion, "assertion failure"),
        ])

    /// The help texts of the program and its commands.
    static let helpText = HelpText(program: program)

    /// Reads a command line (the arguments after `sonde`); `environment` feeds `SONDE_VAR_*`,
    /// `SONDE_SECRET_*`, `SONDE_WEBHOOK` and the options that name a variable (`SONDE_SHARD`).
    static func parse(_ arguments: [String], environment: [String: String]) throws(UsageError) -> Invocation {
        switch try program.resolve(arguments, environment: environment) {
        case .globalHelp(let requested):
            return requested ? .help(helpText.global()) : .missingCommand(helpText.global())
        case .commandHelp(let spec):
            return .help(helpText.command(spec))
        case .command(let parsed):
            return invocation(parsed, environment: environment)
        }
    }

    /// The command struct for parsed arguments.
    static func invocation(_ parsed: ParsedArguments, environment: [String: String]) -> Invocation {
        switch parsed.command {
        case CheckSpec.spec.name: return .check(CheckSpec.command(parsed, environment: environment))
        case ValidateSpec.spec.name: return .validate(ValidateSpec.command(parsed))
        case RunSpec.spec.name: return .run(RunSpec.command(parsed, environment: environment))
        case StatusSpec.spec.name: return .status(StatusSpec.command(parsed))
        case ReportSpec.spec.name: return .report(ReportSpec.command(parsed))
        case IncidentsSpec.spec.name: return .incidents(IncidentsSpec.command(parsed))
        case RulesSpec.spec.name: return .rules(RulesSpec.command(parsed))
        case DemoSpec.spec.name: return .demo(DemoSpec.command(parsed))
        case _ where parsed.command.hasPrefix(MaintenanceSpec.spec.name + " "):
            return .maintenance(MaintenanceSpec.command(parsed))
        case version.name: return .version
        default: return .help(helpText.global())  // not reached: every command of the table is above
        }
    }
}
