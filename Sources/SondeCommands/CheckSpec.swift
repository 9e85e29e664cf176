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

    /// `--variable NAME=VALUE`: Hurl's name for `--var`.
    static let variable = OptionSpec(
        "variable", .repeatable, placeholder: "NAME=VALUE", help: "set a variable (Hurl's name for --var)")
    /// `--variables-file FILE`: Hurl's name for `--vars-file`.
    static let variablesFile = OptionSpec(
        "variables-file", .repeatable, placeholder: "FILE", help: "read NAME=VALUE lines (Hurl's --vars-file)")
    /// `--user USER:PASSWORD`.
    static let user = OptionSpec(
        "user", .string, placeholder: "USER:PASSWORD", help: "credentials for every request (basic auth)")
    /// `--location`.
    static let location = OptionSpec("location", .flag, help: "follow redirects (at most 50, as Hurl)")
    /// `--insecure`.
    static let insecure = OptionSpec("insecure", .flag, help: "do not verify TLS certificates")
    /// `--max-time DURATION`.
    static let maxTime = OptionSpec(
        "max-time", .string, placeholder: "DURATION", help: "limit each request: seconds, or 500ms, 2s, 1m")
    /// `--connect-timeout DURATION`.
    static let connectTimeout = OptionSpec(
        "connect-timeout", .string, placeholder: "DURATION", help: "limit each connection: seconds, or 500ms, 2s")
    /// `--retry N`.
    static let retry = OptionSpec("retry", .integer(0...100), help: "retry a failing entry N times")
    /// `--test`: accepted for Hurl's command lines; sonde check always reports as a test run.
    static let test = OptionSpec("test", .flag, help: "accepted as in Hurl (sonde check always runs as a test)")
    /// `--file-root DIR`.
    static let fileRoot = OptionSpec(
        "file-root", .string, placeholder: "DIR",
        help: "let file,name; read files under DIR (default: the check file's folder)")
    /// The Hurl-compatible options, in help order.
    static let hurlOptions = [
        variable, variablesFile, user, location, insecure, maxTime, connectTimeout, retry, test, fileRoot,
    ]

    /// Files and folders of checks, as `check` and `validate` take them.
    static let paths = PositionalRule.paths(
        placeholder: "PATH",
        help: "PATH is a .hurl file or a folder (every *.hurl inside, recursively); default: checks")

    /// The declaration.
    static let spec = CommandSpec(
        "check", summary: "run each check file once and report, like hurl --test",
        options: VariableOptions.options + [json, verbose] + hurlOptions,
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
        var sources = VariableOptions.sources(parsed, environment: environment)
        sources.vars += parsed.strings(variable)
        sources.varsFiles += parsed.strings(variablesFile)
        var command = CheckCommand(paths: parsed.positionals, variables: sources)
        command.json = parsed.flag(json)
        command.verbose = parsed.flag(verbose)
        command.hurl = HurlFlags(
            user: parsed.string(user), location: parsed.flag(location), insecure: parsed.flag(insecure),
            maxTime: parsed.string(maxTime), connectTimeout: parsed.string(connectTimeout),
            retry: parsed.number(retry))
        command.fileRoot = parsed.string(fileRoot)
        return command
    }
}
