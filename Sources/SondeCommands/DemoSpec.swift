import SondeCLI
import SondeSupport

/// `sonde demo`: its options, help and how its arguments make a `DemoCommand`.
enum DemoSpec {
    private static let defaults = DemoCommand()

    /// `--seconds N`.
    static let seconds = OptionSpec(
        "seconds", .integer(5...3600), default: "\(defaults.seconds)",
        help: "how long to probe the leaky shop")
    /// `--out DIR`.
    static let out = OptionSpec(
        "out", .string, placeholder: "DIR", default: defaults.out,
        help: "where the report and the write-ups go")
    /// `--checks DIR`.
    static let checks = OptionSpec(
        "checks", .string, placeholder: "DIR", default: defaults.checks,
        help: "folder of example checks")
    /// `--data DIR`.
    static let data = OptionSpec(
        "data", .string, placeholder: "DIR", default: "data/demo, emptied first",
        help: "keep the run files there")
    /// `--once`.
    static let once = OptionSpec(
        "once", .flag,
        help: "run each check once against a healthy shop and print the results")
    /// `--serve`.
    static let serve = OptionSpec("serve", .flag, help: "only serve the sample shop until stopped")
    /// `--faults`.
    static let faults = OptionSpec("faults", .flag, help: "with --serve: switch the shop's connection leak on")
    /// `--port N`.
    static let port = OptionSpec(
        "port", .integer(0...65535), default: "a free one",
        help: "port of the sample shop")
    /// `--verbose`, `-v`.
    static let verbose = OptionSpec("verbose", short: "v", .flag, help: "log every run")

    /// The declaration.
    static let spec = CommandSpec(
        "demo", summary: "a minute of the whole path: a leaky sample shop, the checks, report and write-ups",
        options: [seconds, out, checks, data, once, serve, faults, port, verbose],
        positionals: .none(hint: nil),
        exitCodes: [
            ExitCodeNote(ExitCode.ok, "the report and the write-ups are written (with --once: every check passed)"),
            ExitCodeNote(ExitCode.usage, "usage error, or no checks folder (run it from the repository's root)"),
            ExitCodeNote(ExitCode.parse, "a check file does not parse"),
            ExitCodeNote(ExitCode.runtime, "runtime error: the shop cannot listen, a folder cannot be written"),
            ExitCodeNote(ExitCode.assertion, "with --once: a check failed"),
        ])

    /// The command the arguments ask for.
    static func command(_ parsed: ParsedArguments) -> DemoCommand {
        var command = DemoCommand()
        command.seconds = parsed.number(seconds) ?? command.seconds
        command.out = parsed.string(out) ?? command.out
        command.checks = parsed.string(checks) ?? command.checks
        command.data = parsed.string(data)
        command.once = parsed.flag(once)
        command.serve = parsed.flag(serve)
        command.faults = parsed.flag(faults)
        if let number = parsed.number(port), let value = UInt16(exactly: number) { command.port = value }
        command.verbose = parsed.flag(verbose)
        return command
    }
}
