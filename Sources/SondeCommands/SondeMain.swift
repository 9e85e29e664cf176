import Foundation
import SondeDaemon
import SondeRender
import SondeRun
import SondeSupport

private let console = StandardConsole()

private let usage = """
usage: sonde <command> [options]

commands:
  check    [PATH...]  run each check file once and report (default PATH: checks/)
  validate [PATH...]  parse check files only
  run                 the prober: run every check of a folder on its schedule, record each run
  status              show every check's state, last run, uptime and p95 over 24 hours
  report              write SLO reports (uptime, latency, error budget, burn rates) into reports/
  incidents           find incidents in the data and write their timelines into reports/incidents/
  demo                a minute of the whole path: a leaky sample shop, the checks, report and write-ups
  help                show this help

options of check:
  --var NAME=VALUE     set a variable (repeatable; also SONDE_VAR_NAME in the environment)
  --vars-file FILE     read NAME=VALUE lines (repeatable)
  --secret NAME=VALUE  set a secret variable, printed as *** (also SONDE_SECRET_NAME)
  --json               print one JSON object per file instead of the text report
  --verbose, -v        print requests and responses (sensitive values as ***)

options of run:
  --checks DIR         folder of checks (default: checks)
  --data DIR           folder of run files (default: data)
  --location NAME      name of this prober in the records (default: local)
  --once               run every check once, record, exit (0 all passed, 4 any failed)
  --metrics HOST:PORT  serve /metrics and /healthz (PORT alone: on 127.0.0.1)
  --log-format F       text (default) or json, one line per event on stderr
  --keep-raw DAYS      keep raw run files this long (default: 35d)
  --keep-hours DAYS    keep hour rollups this long (default: 400d)
  --webhook URL        POST incident events there (repeatable; also SONDE_WEBHOOK)
  --verbose, -v        log one line per run
  --var, --vars-file, --secret as for check
  signals: SIGHUP reloads the checks, SIGTERM / SIGINT stop after in-flight runs (up to 5 s)

options of status:
  --data DIR           data folder to read (default: data)

options of report:
  --data DIR           data folder (repeatable: one per location; default: data)
  --out DIR            where to write README.md, checks/, badges/, charts/ (default: reports)
  --checks DIR         check files whose @slo, @latency and @every apply (default: checks)
  --window DAYS        objective window for every check, e.g. 7d (default: each check's @slo)
  --json               print the figures as JSON instead of writing files

options of incidents:
  --data DIR           data folder (repeatable; default: data)
  --out DIR            write into DIR/incidents/ (default: reports)
  --checks DIR         check files whose @down-after and @up-after apply (default: checks)

options of demo:
  --seconds N          how long to probe the leaky shop (default: 45)
  --out DIR            where the report and write-ups go (default: reports)
  --checks DIR         folder of example checks (default: checks)
  --data DIR           keep the run files there (default: data/demo, emptied first)
  --once               run each check once against a healthy shop and print the results
  --serve [--faults]   only serve the sample shop (with the leak) until stopped
  --port N             port of the sample shop (default: a free one)
  --verbose, -v        log every run

global:
  --help, -h           show help
  --version            print the version

exit codes: 0 success, 1 usage error, 2 parse error, 3 runtime error, 4 assertion failure

"""

/// A command-line mistake: printed with the usage, exit 1.
private struct UsageError: Error, CustomStringConvertible {
    var description: String
}

/// Walks the arguments of one command.
private struct Arguments {
    var items: [String]
    var positional: [String] = []

    /// Reads the value of an option given as `--name value` or `--name=value`.
    mutating func value(for name: String, inline: String?) throws -> String {
        if let inline { return inline }
        guard !items.isEmpty else { throw UsageError(description: "option \(name) needs a value") }
        return items.removeFirst()
    }

    /// Splits `--name=value`.
    static func split(_ arg: String) -> (String, String?) {
        guard arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") else { return (arg, nil) }
        return (String(arg[..<eq]), String(arg[arg.index(after: eq)...]))
    }

    static func unknown(_ option: String, known: [String]) -> UsageError {
        var message = "unknown option \(option)"
        if let guess = Suggestion.closest(to: option, in: known) { message += "; did you mean \(guess)?" }
        return UsageError(description: message)
    }
}

private func parseCheck(_ args: [String]) throws -> CheckCommand {
    var rest = Arguments(items: args)
    var sources = VariableSources(environment: ProcessInfo.processInfo.environment)
    var json = false
    var verbose = false
    let known = ["--var", "--vars-file", "--secret", "--json", "--verbose", "--help"]
    while !rest.items.isEmpty {
        let arg = rest.items.removeFirst()
        let (name, inline) = Arguments.split(arg)
        switch name {
        case "--var": sources.vars.append(try rest.value(for: name, inline: inline))
        case "--vars-file": sources.varsFiles.append(try rest.value(for: name, inline: inline))
        case "--secret": sources.secrets.append(try rest.value(for: name, inline: inline))
        case "--json": json = true
        case "--verbose", "-v": verbose = true
        case "--": rest.positional += rest.items; rest.items = []
        default:
            if arg.hasPrefix("-") && arg != "-" { throw Arguments.unknown(name, known: known) }
            rest.positional.append(arg)
        }
    }
    var command = CheckCommand(paths: rest.positional, variables: sources)
    command.json = json
    command.verbose = verbose
    return command
}

private func parseValidate(_ args: [String]) throws -> ValidateCommand {
    var paths: [String] = []
    for arg in args {
        if arg.hasPrefix("-") { throw Arguments.unknown(arg, known: ["--help"]) }
        paths.append(arg)
    }
    return ValidateCommand(paths: paths)
}

private func parseStatus(_ args: [String]) throws -> StatusCommand {
    var rest = Arguments(items: args)
    var command = StatusCommand(data: "data")
    while !rest.items.isEmpty {
        let arg = rest.items.removeFirst()
        let (name, inline) = Arguments.split(arg)
        switch name {
        case "--data": command.data = try rest.value(for: name, inline: inline)
        default:
            if arg.hasPrefix("-") { throw Arguments.unknown(name, known: ["--data", "--help"]) }
            throw UsageError(description: "status takes no path: give the data folder with --data \(arg)")
        }
    }
    return command
}

private func parseDemo(_ args: [String]) throws -> DemoCommand {
    var rest = Arguments(items: args)
    var command = DemoCommand()
    let known = ["--checks", "--out", "--seconds", "--data", "--once", "--verbose", "--serve", "--faults", "--port", "--help"]
    while !rest.items.isEmpty {
        let arg = rest.items.removeFirst()
        let (name, inline) = Arguments.split(arg)
        switch name {
        case "--checks": command.checks = try rest.value(for: name, inline: inline)
        case "--out": command.out = try rest.value(for: name, inline: inline)
        case "--data": command.data = try rest.value(for: name, inline: inline)
        case "--seconds":
            let text = try rest.value(for: name, inline: inline)
            guard let seconds = Int(text), (5...3600).contains(seconds) else {
                throw UsageError(description: "--seconds '\(text)': expected a number of seconds from 5 to 3600")
            }
            command.seconds = seconds
        case "--once": command.once = true
        case "--verbose", "-v": command.verbose = true
        case "--serve": command.serve = true
        case "--faults": command.faults = true
        case "--port":
            let text = try rest.value(for: name, inline: inline)
            guard let port = UInt16(text) else { throw UsageError(description: "--port '\(text)': expected a port number 0-65535") }
            command.port = port
        default: throw Arguments.unknown(name, known: known)
        }
    }
    return command
}

/// `35d`, `35` (days) → days.
private func parseDays(_ text: String, option: String) throws -> Int {
    let digits = text.hasSuffix("d") ? String(text.dropLast()) : text
    guard let days = Int(digits), days >= 1, days <= 100_000 else {
        throw UsageError(description: "\(option) '\(text)': expected a number of days such as 35d")
    }
    return days
}

private func parseRun(_ args: [String]) throws -> RunCommand {
    var rest = Arguments(items: args)
    var command = RunCommand()
    command.variables = VariableSources(environment: ProcessInfo.processInfo.environment)
    let known = ["--checks", "--data", "--location", "--once", "--metrics", "--log-format", "--keep-raw",
                 "--keep-hours", "--webhook", "--verbose", "--var", "--vars-file", "--secret", "--help"]
    while !rest.items.isEmpty {
        let arg = rest.items.removeFirst()
        let (name, inline) = Arguments.split(arg)
        switch name {
        case "--checks": command.checks = try rest.value(for: name, inline: inline)
        case "--data": command.data = try rest.value(for: name, inline: inline)
        case "--location": command.location = try rest.value(for: name, inline: inline)
        case "--once": command.once = true
        case "--metrics": command.metrics = try rest.value(for: name, inline: inline)
        case "--log-format":
            let text = try rest.value(for: name, inline: inline)
            guard let format = EventLog.Format(rawValue: text) else {
                throw UsageError(description: "--log-format '\(text)': expected text or json")
            }
            command.logFormat = format
        case "--keep-raw": command.retention.rawDays = try parseDays(try rest.value(for: name, inline: inline), option: name)
        case "--keep-hours": command.retention.hourDays = try parseDays(try rest.value(for: name, inline: inline), option: name)
        case "--webhook": command.webhooks.append(try rest.value(for: name, inline: inline))
        case "--verbose", "-v": command.verbose = true
        case "--var": command.variables.vars.append(try rest.value(for: name, inline: inline))
        case "--vars-file": command.variables.varsFiles.append(try rest.value(for: name, inline: inline))
        case "--secret": command.variables.secrets.append(try rest.value(for: name, inline: inline))
        default:
            if arg.hasPrefix("-") { throw Arguments.unknown(name, known: known) }
            throw UsageError(description: "sonde run takes no paths: use --checks DIR (got '\(arg)')")
        }
    }
    return command
}

private func parseReport(_ args: [String]) throws -> ReportCommand {
    var rest = Arguments(items: args)
    var command = ReportCommand()
    var folders: [String] = []
    let known = ["--data", "--out", "--checks", "--window", "--json", "--help"]
    while !rest.items.isEmpty {
        let arg = rest.items.removeFirst()
        let (name, inline) = Arguments.split(arg)
        switch name {
        case "--data": folders.append(try rest.value(for: name, inline: inline))
        case "--out": command.out = try rest.value(for: name, inline: inline)
        case "--checks": command.checks = try rest.value(for: name, inline: inline)
        case "--window":
            command.windowMs = Int64(try parseDays(try rest.value(for: name, inline: inline), option: name)) * 86_400_000
        case "--json": command.json = true
        default:
            if arg.hasPrefix("-") { throw Arguments.unknown(name, known: known) }
            throw UsageError(description: "report takes no paths: give data folders with --data (got '\(arg)')")
        }
    }
    if !folders.isEmpty { command.data = folders }
    return command
}

private func parseIncidents(_ args: [String]) throws -> IncidentsCommand {
    var rest = Arguments(items: args)
    var command = IncidentsCommand()
    var folders: [String] = []
    while !rest.items.isEmpty {
        let arg = rest.items.removeFirst()
        let (name, inline) = Arguments.split(arg)
        switch name {
        case "--data": folders.append(try rest.value(for: name, inline: inline))
        case "--out": command.out = try rest.value(for: name, inline: inline)
        case "--checks": command.checks = try rest.value(for: name, inline: inline)
        default:
            if arg.hasPrefix("-") { throw Arguments.unknown(name, known: ["--data", "--out", "--checks", "--help"]) }
            throw UsageError(description: "incidents takes no paths: give data folders with --data (got '\(arg)')")
        }
    }
    if !folders.isEmpty { command.data = folders }
    return command
}

/// The `sonde` command line: parses `arguments` (without the program name), runs the command, returns the exit code.
package enum SondeMain {
    package static func run(arguments: [String]) async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        return await main(arguments)
    }
}

private func main(_ arguments: [String]) async -> Int32 {
    var args = arguments
    guard !args.isEmpty else {
        console.err(usage)
        return ExitCode.usage
    }
    let command = args.removeFirst()
    if args.contains("--help") || args.contains("-h") || ["help", "--help", "-h"].contains(command) {
        console.out(usage)
        return ExitCode.ok
    }
    do {
        switch command {
        case "--version", "version":
            console.out("sonde \(Sonde.version)\n")
            return ExitCode.ok
        case "check":
            return try await parseCheck(args).run(console: console)
        case "validate":
            return try parseValidate(args).run(console: console)
        case "run":
            return try await parseRun(args).run(console: console)
        case "status":
            let colour = StatusTable.shouldColour(isTerminal: isatty(1) == 1,
                                                  environment: ProcessInfo.processInfo.environment)
            return try parseStatus(args).run(console: console, colour: colour)
        case "report":
            return try parseReport(args).run(console: console)
        case "incidents":
            return try parseIncidents(args).run(console: console)
        case "demo":
            return try await parseDemo(args).run(console: console)
        default:
            var message = "unknown command '\(command)'"
            if let guess = Suggestion.closest(to: command, in: ["check", "validate", "run", "status", "report", "incidents", "demo", "help"]) {
                message += "; did you mean '\(guess)'?"
            }
            throw UsageError(description: message)
        }
    } catch {
        console.err("error: \(error)\n\n\(usage)")
        return ExitCode.usage
    }
}

