import Foundation
import Testing
@testable import SondeSupport
@testable import SondeScript
@testable import SondeCLI

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

    @Test("N shards split 1,000 names into disjoint parts that cover them all, each near 1/N",
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

    @Test("going from N to N + 1 shards moves about 1/(N + 1) of the names, every one to the new shard",
          arguments: [1, 2, 3, 5, 9])
    func growingMovesFew(count: Int) {
        let moved = Self.names.filter { Shard.part(of: $0, count: count) != Shard.part(of: $0, count: count + 1) }
        #expect(moved.allSatisfy { Shard.part(of: $0, count: count + 1) == count + 1 })
        let expected = Double(Self.names.count) / Double(count + 1)
        #expect(Double(moved.count) > expected * 0.7 && Double(moved.count) < expected * 1.3,
                "\(moved.count) moved, about \(Int(expected)) expected")
    }

    @Test("I/N reads back, and bad text or numbers are refused with the reason",
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
}

@Suite("Shard: --shard and SONDE_SHARD on the command line")
struct ShardCommandLineTests {
    /// A command with a shard option read from `SONDE_TEST_SHARD` and a repeatable one from `SONDE_TEST_URL`.
    static let spec = CommandSpec("probe", summary: "test", options: [
        OptionSpec("shard", .shard, environment: "SONDE_TEST_SHARD", help: "a shard"),
        OptionSpec("url", .repeatable, environment: "SONDE_TEST_URL", help: "URLs"),
    ])

    static func parse(_ arguments: [String], _ environment: [String: String]) throws(UsageError) -> ParsedArguments? {
        guard case .arguments(let parsed) = try ArgumentParser(spec: spec, commandPath: "sonde probe")
            .parse(arguments, environment: environment)
        else { return nil }
        return parsed
    }

    @Test("a single-value option takes its variable when not given, checked like the option; a repeatable one leaves its variable to the command")
    func environmentFallback() throws {
        let option = Self.spec.options[0]
        #expect(try Self.parse([], ["SONDE_TEST_SHARD": "2/5"])?.shard(option) == Shard(index: 2, count: 5))
        #expect(try Self.parse(["--shard", "1/5"], ["SONDE_TEST_SHARD": "2/5"])?.shard(option) == Shard(index: 1, count: 5))
        #expect(try Self.parse([], ["SONDE_TEST_SHARD": "  "])?.shard(option) == nil)
        #expect(try Self.parse([], ["SONDE_TEST_URL": "http://a"])?.strings(Self.spec.options[1]) == [])
        #expect(throws: UsageError.invalidEnvironment(variable: "SONDE_TEST_SHARD", option: "--shard",
                                                      command: "sonde probe", value: "9/5",
                                                      expected: OptionKind.shard.expected)) {
            try Self.parse([], ["SONDE_TEST_SHARD": "9/5"])
        }
    }
}
