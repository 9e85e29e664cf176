import Foundation
import Testing

@testable import SondeCLI
@testable import SondeCommands
@testable import SondeStore
@testable import SondeSupport

@Suite("CLI: help per command and for the program")
struct CommandLineHelpTests {
    /// What a command line prints on standard output as help.
    static func help(_ arguments: [String]) throws -> String {
        guard case .help(let text) = try parseLine(arguments) else {
            Issue.record("\(arguments) is not help")
            return ""
        }
        return text
    }

    static let commands = CommandTable.program.commands

    @Test("help CMD, CMD --help and CMD -h print the same", arguments: commands.map(\.name))
    func threeWays(name: String) throws {
        let text = try Self.help(["help", name])
        #expect(text.hasPrefix("sonde \(name): "))
        #expect(try Self.help([name, "--help"]) == text)
        #expect(try Self.help([name, "-h"]) == text)
        #expect(try Self.help(["--help", name]) == text)
    }

    @Test("a command's help lists its own options and no other command's", arguments: commands.map(\.name))
    func onlyItsOptions(name: String) throws {
        let text = try Self.help([name, "--help"])
        let spec = try #require(CommandTable.program.command(named: name))
        let own = Set(spec.allOptions.map(\.flagName))
        for option in own { #expect(text.contains(option), "\(name) --help lacks \(option)") }
        let others = Set(Self.commands.flatMap(\.options).map(\.flagName)).subtracting(own)
        for option in others {
            #expect(!text.contains(option + " ") && !text.contains(option + "\n"), "\(name) --help shows \(option)")
        }
    }

    @Test("run's help: summary, usage line, its options with defaults, environment, exit codes, signals")
    func runHelp() throws {
        let lines = try Self.help(["run", "--help"]).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "sonde run: the prober: run every check of a folder on its schedule, record each run")
        #expect(lines.contains("usage: sonde run [options]"))
        #expect(lines.contains { $0.contains("--keep-raw DAYS") && $0.contains("(default: 35d)") })
        #expect(lines.contains { $0.contains("--log-format text|json") && $0.contains("(default: text)") })
        #expect(lines.contains { $0.hasPrefix("  -v, --verbose") })
        #expect(lines.contains { $0.contains("--webhook URL") && $0.contains("repeatable; also SONDE_WEBHOOK") })
        #expect(lines.contains("environment:") && lines.contains("exit codes:"))
        #expect(lines.contains { $0.hasPrefix("  3  cannot start: the metrics address is taken") })
        #expect(lines.contains { $0.hasPrefix("signals: SIGHUP reloads") })
    }

    @Test("check's help says what PATH is and shows ranges and env vars")
    func checkAndDemoHelp() throws {
        let check = try Self.help(["help", "check"])
        #expect(check.contains("usage: sonde check [options] [PATH...]"))
        #expect(check.contains("PATH is a .hurl file or a folder"))
        #expect(check.contains("SONDE_SECRET_NAME"))
        let demo = try Self.help(["help", "demo"])
        #expect(demo.contains("--seconds N") && demo.contains("(5-3600; default: 45)"))
        #expect(!demo.contains("environment:"), "demo reads no environment variable")
    }

    @Test("the global help lists every command with its summary, the global options and exit codes")
    func globalHelp() throws {
        let text = try Self.help(["--help"])
        #expect(text.hasPrefix("sonde: "))
        for command in Self.commands {
            #expect(
                text.split(separator: "\n").contains {
                    $0.hasPrefix("  " + command.name + " ") && $0.hasSuffix(command.summary)
                }, "\(command.name) missing")
        }
        #expect(text.contains("--version"))
        #expect(
            text.contains("exit codes: 0 success, 1 usage error, 2 parse error, 3 runtime error, 4 assertion failure"))
        #expect(text.contains("See 'sonde help <command>'"))
        #expect(!text.contains("--keep-raw"), "options belong to each command's help")
    }

    @Test("every help line fits in 120 columns")
    func width() throws {
        for arguments in [["--help"]] + Self.commands.map({ [$0.name, "--help"] }) {
            for line in try Self.help(arguments).split(separator: "\n") {
                #expect(line.count <= 120, "\(arguments): \(line)")
            }
        }
    }
}
