import SondeCLI
import SondeSupport

/// `sonde run`: its options, help and how its arguments make a `RunCommand`.
enum RunSpec {
    private static let defaults = RunCommand()

    /// `--checks DIR`.
    static let checks = OptionSpec(
        "checks", .string, placeholder: "DIR", default: defaults.checks,
        help: "folder of checks")
    /// `--data DIR`.
    static let data = OptionSpec(
        "data", .string, placeholder: "DIR", default: defaults.data,
        help: "folder of run files")
    /// `--location NAME`.
    static let location = OptionSpec(
        "location", .string, placeholder: "NAME", default: defaults.location,
        help: "name of this prober in the records: letters, digits, '.', '_', '-'")
    /// `--once`.
    static let once = OptionSpec(
        "once", .flag,
        help: "run every check once, record, exit (0 all passed, 4 any failed)")
    /// `--listen HOST:PORT`.
    static let listen = OptionSpec(
        "listen", .string, placeholder: "HOST:PORT",
        help: "serve the status page at /, /api/status, /metrics, /healthz (:PORT or PORT: 127.0.0.1)")
    /// `--metrics HOST:PORT`, the earlier name of `--listen`.
    static let metrics = OptionSpec(
        "metrics", .string, placeholder: "HOST:PORT",
        help: "the same as --listen (its earlier name)")
    /// `--log-format text|json`.
    static let logFormat = OptionSpec(
        "log-format", .choice(EventLog.Format.allCases.map(\.rawValue)),
        default: defaults.logFormat.rawValue,
        help: "one line per event on stderr")
    /// `--keep-raw DAYS`.
    static let keepRaw = OptionSpec(
        "keep-raw", .days(1...100_000), default: "\(defaults.retention.rawDays)d",
        help: "keep raw run files this long")
    /// `--keep-hours DAYS`.
    static let keepHours = OptionSpec(
        "keep-hours", .days(1...100_000),
        default: "\(defaults.retention.hourDays)d",
        help: "keep hour rollups this long")
    /// `--webhook URL`.
    static let webhook = OptionSpec(
        "webhook", .repeatable, placeholder: "URL", environment: "SONDE_WEBHOOK",
        help: "POST incident events there")
    /// `--alertmanager URL`.
    static let alertmanager = OptionSpec(
        "alertmanager", .repeatable, placeholder: "URL",
        environment: "SONDE_ALERTMANAGER",
        help: "alerts to this Alertmanager's v2 API")
    /// `--shard I/N`.
    static let shard = OptionSpec(
        "shard", .shard, environment: "SONDE_SHARD",
        help: "run only part I of N of the checks, picked by a hash of each name")
    /// `--verbose`, `-v`.
    static let verbose = OptionSpec("verbose", short: "v", .flag, help: "log one line per run")
    /// `--quiet`, `-q`.
    static let quiet = OptionSpec(
        "quiet", short: "q", .flag, help: "no summary line once a minute (runs, failures, open incidents, late runs)")

    /// The declaration.
    static let spec = CommandSpec(
        "run", summary: "the prober: run every check of a folder on its schedule, record each run",
        options: [
            checks, data, location, shard, once, listen, metrics, logFormat, keepRaw, keepHours, webhook,
            alertmanager, verbose, quiet,
        ]
            + VariableOptions.options,
        positionals: .none(hint: "give the folder of checks with --checks DIR"),
        environment: VariableOptions.environment + [
            EnvironmentNote("SONDE_WEBHOOK", "more webhook URLs, separated by commas or spaces"),
            EnvironmentNote("SONDE_ALERTMANAGER", "more Alertmanager URLs, separated by commas or spaces"),
            EnvironmentNote(
                ResourceLimits.capVariable,
                "cap on the open-files limit sonde raises itself to at start (at least \(ResourceLimits.minimumCap))"),
            EnvironmentNote("SONDE_SHARD", "the shard I/N when --shard is not given"),
        ],
        exitCodes: [
            ExitCodeNote(ExitCode.ok, "stopped by SIGTERM or SIGINT; with --once: every check passed"),
            ExitCodeNote(
                ExitCode.usage,
                "usage error: bad option, no checks, two checks of one name, bad --listen, a bad URL or SONDE_NOFILE_LIMIT"
            ),
            ExitCodeNote(ExitCode.parse, "a check file does not parse"),
            ExitCodeNote(
                ExitCode.runtime,
                "cannot start: the metrics address is taken, the data folder is not writable"),
            ExitCodeNote(ExitCode.assertion, "with --once: a check failed"),
        ],
        notes: ["signals: SIGHUP reloads the checks, SIGTERM / SIGINT stop after in-flight runs (up to 5 s)"])

    /// The command the arguments ask for.
    static func command(_ parsed: ParsedArguments, environment: [String: String]) -> RunCommand {
        var command = RunCommand()
        command.variables = VariableOptions.sources(parsed, environment: environment)
        command.checks = parsed.string(checks) ?? command.checks
        command.data = parsed.string(data) ?? command.data
        command.location = parsed.string(location) ?? command.location
        command.shard = parsed.shard(shard) ?? command.shard
        command.once = parsed.flag(once)
        command.metrics = parsed.string(listen) ?? parsed.string(metrics)
        if parsed.string(listen) == nil, parsed.string(metrics) != nil { command.listenOption = "--metrics" }
        if let text = parsed.string(logFormat), let format = EventLog.Format(rawValue: text) {
            command.logFormat = format
        }
        command.retention.rawDays = parsed.number(keepRaw) ?? command.retention.rawDays
        command.retention.hourDays = parsed.number(keepHours) ?? command.retention.hourDays
        command.webhooks = parsed.strings(webhook)
        command.alertmanagers = parsed.strings(alertmanager)
        command.verbose = parsed.flag(verbose)
        command.quiet = parsed.flag(quiet)
        return command
    }
}
