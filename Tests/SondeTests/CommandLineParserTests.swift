import Foundation
import Testing

@testable import SondeCLI
@testable import SondeCommands
@testable import SondeStore
@testable import SondeSupport

/// Parses a command line the way the executable does; the command struct or the usage error.
func parseLine(_ arguments: [String], environment: [String: String] = [:]) throws(UsageError) -> Invocation {
    try CommandTable.parse(arguments, environment: environment)
}

/// The usage error a command line makes, nil when it parses.
func usageError(_ arguments: [String]) -> UsageError? {
    do {
        _ = try parseLine(arguments)
        return nil
    } catch {
        return error
    }
}

@Suite("CLI: each command's options parse into its command")
struct CommandLineParserTests {
    @Test("check takes paths, repeatable variables in both forms, flags, and the environment")
    func check() throws {
        let environment = ["SONDE_VAR_base_url": "http://x", "SONDE_SECRET_token": "t"]
        let line = [
            "check", "a.hurl", "--var", "a=1", "--var=b=2", "--vars-file", "v.env", "--secret=s=x", "--json",
            "-v", "b.hurl",
        ]
        guard case .check(let command) = try parseLine(line, environment: environment) else {
            Issue.record("not a check")
            return
        }
        #expect(command.paths == ["a.hurl", "b.hurl"])
        #expect(command.variables.vars == ["a=1", "b=2"])
        #expect(command.variables.varsFiles == ["v.env"])
        #expect(command.variables.secrets == ["s=x"])
        #expect(command.variables.environment == environment)
        #expect(command.json && command.verbose)
    }

    @Test("check defaults to the checks folder, no flags")
    func checkDefaults() throws {
        guard case .check(let command) = try parseLine(["check"]) else {
            Issue.record("not a check")
            return
        }
        #expect(command.paths == ["checks"])
        #expect(!command.json && !command.verbose)
        #expect(command.variables.vars.isEmpty && command.variables.secrets.isEmpty)
    }

    @Test("-- ends the options and - alone is a path")
    func endOfOptions() throws {
        guard case .check(let command) = try parseLine(["check", "-", "--", "--json", "-v"]) else {
            Issue.record("not a check")
            return
        }
        #expect(command.paths == ["-", "--json", "-v"])
        #expect(!command.json && !command.verbose)
    }

    @Test("a value may be '-' but not another option")
    func valueThatIsADash() throws {
        guard case .check(let command) = try parseLine(["check", "--vars-file", "-"]) else {
            Issue.record("not a check")
            return
        }
        #expect(command.variables.varsFiles == ["-"])
        #expect(
            usageError(["check", "--var", "-h"])
                == .missingValue(option: "--var", command: "sonde check", synopsis: "--var NAME=VALUE", got: "-h"))
        #expect(
            usageError(["check", "--var"])
                == .missingValue(option: "--var", command: "sonde check", synopsis: "--var NAME=VALUE", got: nil))
        #expect(
            usageError(["check", "--var="])
                == .missingValue(option: "--var", command: "sonde check", synopsis: "--var NAME=VALUE", got: nil))
    }

    @Test("validate takes paths and no options")
    func validate() throws {
        guard case .validate(let command) = try parseLine(["validate", "a.hurl", "dir"]) else {
            Issue.record("not a validate")
            return
        }
        #expect(command.paths == ["a.hurl", "dir"])
        guard case .validate(let defaults) = try parseLine(["validate"]) else {
            Issue.record("not a validate")
            return
        }
        #expect(defaults.paths == ["checks"])
        #expect(
            usageError(["validate", "--json"]) == .unknownOption("--json", command: "sonde validate", suggestion: nil))
    }

    @Test("run reads every option, days with or without d, repeatable webhooks and the environment")
    func run() throws {
        let environment = ["SONDE_WEBHOOK": "https://a.example/h", "SONDE_VAR_x": "1"]
        let line = [
            "run", "--checks", "c", "--data=d", "--location", "eu-1", "--once", "--metrics", ":9115",
            "--log-format=json", "--keep-raw", "7", "--keep-hours=30d", "--webhook", "https://b.example/1",
            "--webhook=https://b.example/2", "-v", "--var", "a=1", "--vars-file", "f", "--secret", "s=2",
        ]
        guard case .run(let command) = try parseLine(line, environment: environment) else {
            Issue.record("not a run")
            return
        }
        #expect(command.checks == "c" && command.data == "d" && command.location == "eu-1")
        #expect(command.once && command.verbose)
        #expect(command.metrics == ":9115")
        #expect(command.logFormat == .json)
        #expect(command.retention == RecordWriter.Retention(rawDays: 7, hourDays: 30))
        #expect(command.webhooks == ["https://b.example/1", "https://b.example/2"])
        #expect(command.variables.environment == environment, "SONDE_WEBHOOK is read from here at start")
        #expect(command.variables.vars == ["a=1"] && command.variables.varsFiles == ["f"])
        #expect(command.variables.secrets == ["s=2"])
    }

    @Test("run's defaults are RunCommand's")
    func runDefaults() throws {
        guard case .run(let command) = try parseLine(["run"]) else {
            Issue.record("not a run")
            return
        }
        #expect(command.checks == "checks" && command.data == "data" && command.location == "local")
        #expect(!command.once && !command.verbose && command.metrics == nil && command.webhooks.isEmpty)
        #expect(command.logFormat == .text)
        #expect(command.retention == RecordWriter.Retention(rawDays: 35, hourDays: 400))
    }

    @Test("run refuses a bad log format, zero days and a path")
    func runErrors() {
        #expect(
            usageError(["run", "--log-format", "xml"])
                == .invalidValue(option: "--log-format", command: "sonde run", value: "xml", expected: "text or json"))
        #expect(
            usageError(["run", "--keep-raw", "0d"])
                == .invalidValue(
                    option: "--keep-raw", command: "sonde run", value: "0d",
                    expected: "a number of days from 1 to 100000, such as 35d"))
        #expect(usageError(["run", "--keep-hours", "many"]) != nil)
        #expect(
            usageError(["run", "checks"])
                == .unexpectedArgument(
                    "checks", command: "sonde run", allowed: 0,
                    hint: "give the folder of checks with --checks DIR"))
    }

    @Test("status reads --data in both forms and takes no path")
    func status() throws {
        guard case .status(let command) = try parseLine(["status", "--data=d"]) else {
            Issue.record("not a status")
            return
        }
        #expect(command.data == "d")
        guard case .status(let defaults) = try parseLine(["status"]) else {
            Issue.record("not a status")
            return
        }
        #expect(defaults.data == "data")
        #expect(
            usageError(["status", "d"])
                == .unexpectedArgument(
                    "d", command: "sonde status", allowed: 0,
                    hint: "give the data folder with --data DIR"))
    }

    @Test("report reads several data folders, a window in days and --json")
    func report() throws {
        let line = ["report", "--data", "eu", "--data=us", "--out", "o", "--checks", "c", "--window", "7d", "--json"]
        guard case .report(let command) = try parseLine(line) else {
            Issue.record("not a report")
            return
        }
        #expect(command.data == ["eu", "us"] && command.out == "o" && command.checks == "c")
        #expect(command.windowMs == Int64(7) * 86_400_000)
        #expect(command.json)
        guard case .report(let defaults) = try parseLine(["report"]) else {
            Issue.record("not a report")
            return
        }
        #expect(defaults.data == ["data"] && defaults.out == "reports" && defaults.checks == "checks")
        #expect(defaults.windowMs == nil && !defaults.json)
        #expect(usageError(["report", "--window", "0"]) != nil)
        #expect(usageError(["report", "data"]) != nil)
    }

    @Test("incidents reads several data folders, --out and --checks")
    func incidents() throws {
        guard
            case .incidents(let command) = try parseLine([
                "incidents", "--data", "a", "--data", "b", "--out=o",
                "--checks", "c",
            ])
        else {
            Issue.record("not incidents")
            return
        }
        #expect(command.data == ["a", "b"] && command.out == "o" && command.checks == "c")
        guard case .incidents(let defaults) = try parseLine(["incidents"]) else {
            Issue.record("not incidents")
            return
        }
        #expect(defaults.data == ["data"] && defaults.out == "reports" && defaults.checks == "checks")
        #expect(
            usageError(["incidents", "--json"])
                == .unknownOption("--json", command: "sonde incidents", suggestion: nil))
    }

    @Test("demo reads seconds and port within their ranges, and its flags")
    func demo() throws {
        let line = [
            "demo", "--seconds", "5", "--out", "o", "--checks=c", "--data", "d", "--once", "--serve",
            "--faults", "--port", "65535", "-v",
        ]
        guard case .demo(let command) = try parseLine(line) else {
            Issue.record("not a demo")
            return
        }
        #expect(command.seconds == 5 && command.port == 65535)
        #expect(command.out == "o" && command.checks == "c" && command.data == "d")
        #expect(command.once && command.serve && command.faults && command.verbose)
        guard case .demo(let defaults) = try parseLine(["demo"]) else {
            Issue.record("not a demo")
            return
        }
        #expect(defaults.seconds == 45 && defaults.port == 0 && defaults.data == nil)
        #expect(!defaults.once && !defaults.serve && !defaults.faults && !defaults.verbose)
    }

    @Test("demo refuses seconds and ports out of range, and any argument")
    func demoErrors() {
        let seconds = "a whole number from 5 to 3600"
        #expect(
            usageError(["demo", "--seconds", "x"])
                == .invalidValue(option: "--seconds", command: "sonde demo", value: "x", expected: seconds))
        #expect(
            usageError(["demo", "--seconds=4"])
                == .invalidValue(option: "--seconds", command: "sonde demo", value: "4", expected: seconds))
        #expect(
            usageError(["demo", "--port", "70000"])
                == .invalidValue(
                    option: "--port", command: "sonde demo", value: "70000",
                    expected: "a whole number from 0 to 65535"))
        #expect(
            usageError(["demo", "extra"])
                == .unexpectedArgument("extra", command: "sonde demo", allowed: 0, hint: nil))
    }

    @Test("a flag given a value is refused")
    func flagWithValue() {
        #expect(
            usageError(["check", "--json=yes"])
                == .flagWithValue(option: "--json", command: "sonde check", value: "yes"))
        #expect(usageError(["run", "--help=1"]) == .flagWithValue(option: "--help", command: "sonde run", value: "1"))
        #expect(usageError(["--version=2"]) == .flagWithValue(option: "--version", command: "sonde", value: "2"))
    }

    @Test("help and version: every way to ask")
    func helpAndVersion() throws {
        for line in [["--version"], ["version"]] {
            guard case .version = try parseLine(line) else {
                Issue.record("\(line) is not the version")
                continue
            }
        }
        for line in [["--help"], ["-h"], ["help"]] {
            guard case .help(let text) = try parseLine(line) else {
                Issue.record("\(line) is not help")
                continue
            }
            #expect(text == CommandTable.helpText.global())
        }
        guard case .missingCommand(let text) = try parseLine([]) else {
            Issue.record("no command is not the missing-command help")
            return
        }
        #expect(text == CommandTable.helpText.global())
        #expect(
            usageError(["version", "x"]) == .unexpectedArgument("x", command: "sonde version", allowed: 0, hint: nil))
        #expect(
            usageError(["help", "run", "x"])
                == .unexpectedArgument(
                    "x", command: "sonde help", allowed: 1,
                    hint: "give one command, as in 'sonde help run'"))
    }

    @Test("unknown commands and options suggest the closest name")
    func unknownNames() {
        #expect(usageError(["chek"]) == .unknownCommand("chek", program: "sonde", suggestion: "check"))
        #expect(usageError(["help", "reprot"]) == .unknownCommand("reprot", program: "sonde", suggestion: "report"))
        #expect(usageError(["frobnicate"]) == .unknownCommand("frobnicate", program: "sonde", suggestion: nil))
        #expect(
            usageError(["check", "--jsno"]) == .unknownOption("--jsno", command: "sonde check", suggestion: "--json"))
        #expect(
            usageError(["run", "--metric", ":1"])
                == .unknownOption("--metric", command: "sonde run", suggestion: "--metrics"))
        #expect(usageError(["--verison"]) == .unknownOption("--verison", command: "sonde", suggestion: "--version"))
        #expect(usageError(["status", "-x"]) == .unknownOption("-x", command: "sonde status", suggestion: nil))
    }
}
