import Foundation
import Testing

@testable import SondeCLI
@testable import SondeCommands
@testable import SondeStore
@testable import SondeSupport

@Suite("CLI: usage errors are short, say what is wrong and where to look")
struct CommandLineErrorTests {
    /// Runs `sonde` in-process with `arguments`: exit code and what it printed.
    static func sonde(_ arguments: [String]) async -> (code: Int32, console: CapturingConsole) {
        let console = CapturingConsole()
        let code = await SondeMain.run(arguments: arguments, environment: [:], console: console)
        return (code, console)
    }

    @Test(
        "each mistake: exit 1, nothing on stdout, at most 4 lines on stderr, this first line",
        arguments: [
            (["check", "--jsno"], "error: unknown option --jsno for 'sonde check' (did you mean --json?)"),
            (["check", "--var", "-h"], "error: option --var needs a value (got -h)"),
            (["check", "--var"], "error: option --var needs a value"),
            (["check", "--json=yes"], "error: option --json takes no value (got --json=yes)"),
            (["demo", "extra"], "error: 'sonde demo' takes no arguments (got 'extra')"),
            (
                ["demo", "--seconds", "x"],
                "error: invalid value 'x' for --seconds: expected a whole number from 5 to 3600"
            ),
            (
                ["demo", "--port", "70000"],
                "error: invalid value '70000' for --port: expected a whole number from 0 to 65535"
            ),
            (["run", "--log-format", "xml"], "error: invalid value 'xml' for --log-format: expected text or json"),
            (
                ["run", "--keep-raw", "0d"],
                "error: invalid value '0d' for --keep-raw: expected a number of days from 1 to 100000, such as 35d"
            ),
            (["run", "checks"], "error: 'sonde run' takes no arguments (got 'checks')"),
            (["chek"], "error: unknown command 'chek' for 'sonde' (did you mean 'check'?)"),
            (["help", "nope"], "error: unknown command 'nope' for 'sonde'"),
            (["--jsno"], "error: unknown option --jsno for 'sonde'"),
        ])
    func shape(arguments: [String], first: String) async {
        let (code, console) = await Self.sonde(arguments)
        #expect(code == ExitCode.usage)
        #expect(console.stdout == "", "no help on stdout")
        let lines = console.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(console.stderr.hasSuffix("\n"))
        #expect(lines.count >= 2 && lines.count <= 4, "\(console.stderr)")
        #expect(lines.first.map(String.init) == first)
        #expect(lines.last?.hasPrefix("See 'sonde ") == true)
    }

    @Test("the unknown option, whole: two lines")
    func unknownOptionWhole() async {
        let (_, console) = await Self.sonde(["check", "--jsno"])
        #expect(
            console.stderr == """
                error: unknown option --jsno for 'sonde check' (did you mean --json?)
                See 'sonde check --help'.

                """)
    }

    @Test("a missing value says how to give one, and how to give one that starts with a dash")
    func missingValueWhole() async {
        let (_, console) = await Self.sonde(["check", "--var", "-h"])
        #expect(
            console.stderr == """
                error: option --var needs a value (got -h)
                hint: give it as --var NAME=VALUE; a value that starts with '-' goes as --var=-h
                See 'sonde check --help'.

                """)
    }

    @Test("a path given to run points at --checks")
    func positionalHint() async {
        let (_, console) = await Self.sonde(["run", "checks"])
        #expect(console.stderr.contains("hint: give the folder of checks with --checks DIR\nSee 'sonde run --help'.\n"))
    }

    @Test("no command prints the global help on stderr and exits 1; help and --version exit 0 on stdout")
    func helpStreams() async {
        let none = await Self.sonde([])
        #expect(none.code == ExitCode.usage && none.console.stdout == "")
        #expect(none.console.stderr == CommandTable.helpText.global())
        let help = await Self.sonde(["help", "run"])
        #expect(help.code == ExitCode.ok && help.console.stderr == "")
        #expect(help.console.stdout.hasPrefix("sonde run: "))
        let version = await Self.sonde(["--version"])
        #expect(version.code == ExitCode.ok && version.console.stdout == "sonde \(Sonde.version)\n")
    }

    @Test("the errors read as sentences: description, hint, see also")
    func errorParts() {
        let error = UsageError.unexpectedArgument("x", command: "sonde help", allowed: 1, hint: nil)
        #expect(error.description == "'sonde help' takes at most 1 argument (got 'x')")
        #expect(error.text == "error: 'sonde help' takes at most 1 argument (got 'x')\nSee 'sonde help --help'.\n")
        #expect(UsageError.unknownCommand("x", program: "sonde", suggestion: nil).seeAlso == "sonde --help")
        #expect(
            UsageError.flagWithValue(option: "--json", command: "sonde check", value: "1").hint == "write --json alone")
    }
}
