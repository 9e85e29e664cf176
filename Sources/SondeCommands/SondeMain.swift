import Foundation
import SondeRender
import SondeSupport

/// The `sonde` executable's whole job: read the command line, run the command, return its exit code.
package enum SondeMain {
    /// Runs `sonde` with `arguments` (without the program's name). Usage errors print at most four
    /// lines on standard error and return 1; `isTerminal` says whether standard output is a terminal
    /// (for `status`'s colours).
    package static func run(
        arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        console: Console = StandardConsole(), isTerminal: Bool = isatty(1) == 1
    ) async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let invocation: Invocation
        do {
            invocation = try CommandTable.parse(arguments, environment: environment)
        } catch {
            console.err(error.text)
            return ExitCode.usage
        }
        switch invocation {
        case .help(let text):
            console.out(text)
            return ExitCode.ok
        case .missingCommand(let text):
            console.err(text)
            return ExitCode.usage
        case .version:
            console.out("sonde \(Sonde.version)\n")
            return ExitCode.ok
        case .check(let command):
            return await command.run(console: console)
        case .validate(let command):
            return command.run(console: console)
        case .run(let command):
            return await command.run(console: console)
        case .status(let command):
            let colour = StatusTable.shouldColour(isTerminal: isTerminal, environment: environment)
            return command.run(console: console, colour: colour)
        case .report(let command):
            return command.run(console: console)
        case .incidents(let command):
            return command.run(console: console)
        case .rules(let command):
            return command.run(console: console)
        case .maintenance(let command):
            return command.run(console: console)
        case .demo(let command):
            return await command.run(console: console)
        }
    }
}
