import Foundation
import Testing

@testable import SondeCLI
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeScript
@testable import SondeSupport

@Suite("Shard: probers split one checks folder by a stable hash of each check's name")
struct ShardTests {
    /// A thousand check names of the shapes people use.
    static let names: [String] = (0..<1000).map { i in
        switch i % 4 {
        case 0: return "check-\(i)"
        case 1: return "api.v\(i % 7).endpoint-\(i)"
        case 2: return "shop_\(i)_login"
        default: return "région-\(i)"
        }
    }

    @Test("a name gets the same shard in every process: the values are pinned by an independent implementation")
    func pinnedValues() {
        // Computed once by a separate implementation of FNV-1a 64 + SplitMix64 rendezvous (a Python
        // script): a change that would move checks between a fleet's probers fails here first.
        let pinned: [(String, [Int])] = [
            ("health", [2, 3, 3, 9]), ("login-cart", [1, 1, 1, 10]), ("search", [1, 1, 1, 6]),
            ("checkout", [1, 3, 4, 4]), ("api", [1, 1, 5, 9]), ("", [2, 2, 4, 4]), ("é", [2, 2, 5, 5]),
        ]
        for (name, parts) in pinned {
            let computed = [2, 3, 5, 10].map { Shard.part(of: name, count: $0) }
            #expect(computed == parts, "'\(name)'")
        }
    }

    @Test("the same name always lands in the same shard, call after call")
    func stableAcrossCalls() {
        for name in Self.names.prefix(100) {
            let first = Shard.part(of: name, count: 7)
            #expect((0..<5).allSatisfy { _ in Shard.part(of: name, count: 7) == first })
        }
    }

    @Test(
        "N shards split 1,000 names into disjoint parts that cover them all, each near 1/N",
        arguments: [1, 2, 3, 5, 10])
    func partitions(count: Int) throws {
        let shards = try (1...count).map { try Shard(index: $0, count: count) }
        for name in Self.names {
            #expect(shards.filter { $0.contains(name) }.count == 1, "'\(name)' is in exactly one shard")
        }
        let sizes = shards.map { shard in Self.names.filter { shard.contains($0) }.count }
        #expect(sizes.reduce(0, +) == Self.names.count)
        let even = Double(Self.names.count) / Double(count)
        for size in sizes {
            #expect(Double(size) > even * 0.7 && Double(size) < even * 1.3, "sizes \(sizes), even \(even)")
        }
    }

    @Test(
        "going from N to N + 1 shards moves about 1/(N + 1) of the names, every one to the new shard",
        arguments: [1, 2, 3, 5, 9])
    func growingMovesFew(count: Int) {
        let moved = Self.names.filter { Shard.part(of: $0, count: count) != Shard.part(of: $0, count: count + 1) }
        #expect(moved.allSatisfy { Shard.part(of: $0, count: count + 1) == count + 1 })
        let expected = Double(Self.names.count) / Double(count + 1)
        #expect(
            Double(moved.count) > expected * 0.7 && Double(moved.count) < expected * 1.3,
            "\(moved.count) moved, about \(Int(expected)) expected")
    }

    @Test(
        "I/N reads back, and bad text or numbers are refused with the reason",
        arguments: [
            ("2/3", nil), ("1/1", nil), ("1000/1000", nil),
            ("x", ShardError.notAShard("x")), ("1/", .notAShard("1/")), ("/2", .notAShard("/2")),
            ("1/2/3", .notAShard("1/2/3")), ("+1/2", .notAShard("+1/2")), (" 1/2", .notAShard(" 1/2")),
            ("3/2", .indexOutOfRange(index: 3, count: 2)), ("0/2", .indexOutOfRange(index: 0, count: 2)),
            ("1/0", .countOutOfRange(0)), ("1/1001", .countOutOfRange(1001)),
        ] as [(String, ShardError?)])
    func parsing(text: String, expected: ShardError?) {
        do {
            let shard = try Shard(parsing: text)
            #expect(expected == nil, "'\(text)' was accepted")
            #expect(shard.description == text)
        } catch {
            #expect(error == expected, "'\(text)': \(error)")
            #expect(!error.description.isEmpty)
        }
    }

    @Test("a check set loads only its shard's files, counts the whole folder, and skips others' broken files")
    func checkSetFilters() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let names = Self.names.prefix(12)
        for name in names { try folder.write("checks/\(name).hurl", "GET http://127.0.0.1:9/\nHTTP 200\n") }
        // A broken file in shard 2 only troubles shard 2.
        let broken = try #require(Self.names.first { Shard.part(of: $0, count: 2) == 2 && !names.contains($0) })
        try folder.write("checks/\(broken).hurl", "GET http://127.0.0.1:9/\nHTTP banana\n")
        let first = try Shard(index: 1, count: 2)
        let second = try Shard(index: 2, count: 2)
        let (one, oneProblems) = try CheckSet.load(folder.path + "/checks", shard: first)
        let (two, twoProblems) = try CheckSet.load(folder.path + "/checks", shard: second)
        #expect(oneProblems.isEmpty)
        #expect(twoProblems.count == 1 && twoProblems.first?.description.contains(broken) == true)
        #expect(Set(one.scripts.keys).isDisjoint(with: two.scripts.keys))
        #expect(Set(one.scripts.keys).union(two.scripts.keys) == Set(names))
        #expect(one.inFolder == 13 && two.inFolder == 13)
        #expect(one.summary == "\(one.scripts.count) of 13 checks (shard 1/2)")
        let (whole, _) = try CheckSet.load(folder.path + "/checks")
        #expect(whole.summary == "12 checks" && whole.shard == .whole)
    }
}

@Suite("Shard: --shard and SONDE_SHARD on the command line")
struct ShardCommandLineTests {
    /// A command with a shard option read from `SONDE_TEST_SHARD` and a repeatable one from `SONDE_TEST_URL`.
    static let spec = CommandSpec(
        "probe", summary: "test",
        options: [
            OptionSpec("shard", .shard, environment: "SONDE_TEST_SHARD", help: "a shard"),
            OptionSpec("url", .repeatable, environment: "SONDE_TEST_URL", help: "URLs"),
        ])

    static func parse(_ arguments: [String], _ environment: [String: String]) throws(UsageError) -> ParsedArguments? {
        guard
            case .arguments(let parsed) = try ArgumentParser(spec: spec, commandPath: "sonde probe")
                .parse(arguments, environment: environment)
        else { return nil }
        return parsed
    }

    @Test(
        "a single-value option takes its variable when not given, checked like the option; a repeatable one leaves its variable to the command"
    )
    func environmentFallback() throws {
        let option = Self.spec.options[0]
        #expect(try Self.parse([], ["SONDE_TEST_SHARD": "2/5"])?.shard(option) == Shard(index: 2, count: 5))
        #expect(
            try Self.parse(["--shard", "1/5"], ["SONDE_TEST_SHARD": "2/5"])?.shard(option) == Shard(index: 1, count: 5))
        #expect(try Self.parse([], ["SONDE_TEST_SHARD": "  "])?.shard(option) == nil)
        #expect(try Self.parse([], ["SONDE_TEST_URL": "http://a"])?.strings(Self.spec.options[1]) == [])
        #expect(
            throws: UsageError.invalidEnvironment(
                variable: "SONDE_TEST_SHARD", option: "--shard",
                command: "sonde probe", value: "9/5",
                expected: OptionKind.shard.expected)
        ) {
            try Self.parse([], ["SONDE_TEST_SHARD": "9/5"])
        }
    }

    @Test(
        "a bad --shard is a usage error: exit 1, nothing on stdout, this first line",
        arguments: ["3/2", "0/2", "x", "1/0", "1/", "2/1001"])
    func badShard(value: String) async {
        let (code, console) = await CommandLineErrorTests.sonde(["run", "--shard", value])
        #expect(code == ExitCode.usage)
        #expect(console.stdout == "")
        let lines = console.stderr.split(separator: "\n").map(String.init)
        #expect(
            lines.first
                == "error: invalid value '\(value)' for --shard: expected I/N with N from 1 to 1000 and I from 1 to N, such as 2/3"
        )
        #expect(lines.count == 2 && lines.last == "See 'sonde run --help'.", "\(console.stderr)")
    }

    @Test("a bad SONDE_SHARD is a usage error that names the variable")
    func badEnvironment() async {
        let console = CapturingConsole()
        let code = await SondeMain.run(arguments: ["run"], environment: ["SONDE_SHARD": "2/x"], console: console)
        #expect(code == ExitCode.usage && console.stdout == "")
        #expect(
            console.stderr == """
                error: invalid value '2/x' in SONDE_SHARD (for --shard): expected I/N with N from 1 to 1000 and I from 1 to N, such as 2/3
                See 'sonde run --help'.

                """)
    }

    @Test("--shard sets the shard, SONDE_SHARD stands in when it is absent, and the option wins over the variable")
    func sources() throws {
        func shard(_ arguments: [String], _ environment: [String: String]) throws -> Shard? {
            guard case .run(let command) = try CommandTable.parse(arguments, environment: environment) else {
                return nil
            }
            return command.shard
        }
        #expect(try shard(["run"], [:]) == .whole)
        #expect(try shard(["run", "--shard", "2/3"], [:]) == Shard(index: 2, count: 3))
        #expect(try shard(["run", "--shard=1/4"], [:]) == Shard(index: 1, count: 4))
        #expect(try shard(["run"], ["SONDE_SHARD": " 3/3 "]) == Shard(index: 3, count: 3))
        #expect(try shard(["run"], ["SONDE_SHARD": ""]) == .whole)
        #expect(try shard(["run", "--shard", "1/2"], ["SONDE_SHARD": "nonsense"]) == Shard(index: 1, count: 2))
    }

    @Test("run --help shows --shard I/N and SONDE_SHARD")
    func help() {
        let text = CommandTable.helpText.command(RunSpec.spec)
        #expect(text.contains("--shard I/N"))
        #expect(text.contains("also SONDE_SHARD"))
        #expect(text.contains("SONDE_SHARD  "))
    }
}
