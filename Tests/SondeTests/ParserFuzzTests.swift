import Foundation
import Testing

@testable import SondeAlerts
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeDemoShop
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeRun
@testable import SondeSLO
@testable import SondeScript
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

/// A small deterministic PRNG (SplitMix64), so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Parser: mutated input never crashes", .cpuBound)
struct ParserFuzzTests {
    static let seeds: [String] = [
        """
        # @every 30s
        # @latency 300ms 99%
        GET {{base_url}}/health
        Accept: application/json
        HTTP 200
        [Asserts]
        jsonpath "$.status" == "UP"
        duration < 300
        """,
        """
        POST {{base_url}}/api/login
        [Options]
        retry: 2
        variable: n=5
        {
          "username": "demo",
          "password": "{{password}}",
          "list": [1, 2.5, true, null, {"a": "b"}]
        }
        HTTP 200
        [Captures]
        token: jsonpath "$.token"
        id: regex /id=(\\d+)/ toInt
        [Asserts]
        header "Set-Cookie" contains "HttpOnly"
        jsonpath "$.items[*].id" count >= 1
        body not matches "^error"
        """,
        """
        GET {{base_url}}/search
        [Query]
        q: zelda
        [Cookies]
        theme: dark
        [BasicAuth]
        bob: secret
        HTTP/1.1 *
        ```
        multi {{line}}
        ```
        """,
    ]

    /// Parses and checks the outcome: a script, or an error positioned inside the text.
    func check(_ bytes: [UInt8]) {
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
        do {
            _ = try ScriptParser.parse(bytes: bytes, path: "fuzz.hurl")
        } catch {
            #expect(error.location.line >= 1 && error.location.line <= lines + 1, "\(error)")
            #expect(error.location.column >= 1)
            #expect(!error.message.isEmpty)
            _ = error.render(source: String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test("hundreds of seeded mutations give a script or a positioned error")
    func mutations() {
        var rng = SplitMix64(state: 0x5EED_50DE)
        var count = 0
        for seed in Self.seeds {
            let original = Array(seed.utf8)
            for _ in 0..<150 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...6, using: &rng) {
                    guard !bytes.isEmpty else { break }
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<7, using: &rng) {
                    case 0: bytes[i] ^= UInt8.random(in: 1...255, using: &rng)
                    case 1: bytes.remove(at: i)
                    case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                    case 3: bytes.insert(contentsOf: [0x00, 0xFF, 0xC3], at: i)
                    case 4: bytes.insert(contentsOf: Array("{{[\"`#\\".utf8).shuffled(using: &rng), at: i)
                    case 5:
                        let j = Int.random(in: i..<bytes.count, using: &rng)
                        bytes.insert(contentsOf: bytes[i...j], at: j)
                    default: bytes = Array(bytes[0..<i])
                    }
                }
                check(bytes)
                count += 1
            }
            // Every truncation point of the seed.
            for end in stride(from: 0, through: original.count, by: 3) {
                check(Array(original[0..<end]))
                count += 1
            }
        }
        #expect(count > 500)
    }

    @Test("hostile shapes: huge lines, deep nesting, binary junk, lone fences")
    func hostileShapes() {
        let shapes: [[UInt8]] = [
            Array(("GET http://x/" + String(repeating: "a", count: 1 << 20) + "\n").utf8),
            Array(("POST http://x/\n" + String(repeating: "[", count: 10_000) + "\n").utf8),
            Array(
                ("POST http://x/\n" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
                    + "\n").utf8),
            Array(
                ("POST http://x/\n" + String(repeating: "{\"a\":", count: 5_000) + "1"
                    + String(repeating: "}", count: 5_000)).utf8),
            (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) },
            Array("```\n```\n```".utf8),
            Array("GET http://x/\nHTTP 200\n[Asserts]\n".utf8) + Array(repeating: 0x22, count: 100_000),
            Array(String(repeating: "GET http://x/\n", count: 20_000).utf8),
            Array(String(repeating: "# @every 1s\n", count: 2).utf8),
            [],
        ]
        for shape in shapes { check(shape) }
    }
}
