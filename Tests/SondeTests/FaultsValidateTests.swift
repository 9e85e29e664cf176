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

extension Faults {
    /// Fault area 1: mutated check files through the `sonde validate` executable. Each process must end
    /// on its own with 0 or 2 (no crash signal, no hang), and every error must say `file:line:col` with
    /// the line and a caret. Files go to the executable in batches; a batch that crashes or hangs is run
    /// again one file per process so the crash is pinned on a file (kept for reproduction).
    @Suite("Faults: mutated check files through sonde validate")
    struct FaultsValidateTests {
        static let mutations = FaultSize.pick(fast: 100, full: 1000)
        static let batchSize = 25
        static let deadline: Duration = .seconds(30)

        /// Hurl-ish fragments that steer mutations into the parser's deeper paths.
        static let tokens = [
            "[Asserts]", "[Captures]", "[Options]", "HTTP", "HTTP/1.1 *", "{{", "}}", "```", "`", "\"",
            "# @every", "# @timeout 0s", "jsonpath", "==", "not", "\\u{", "\\", "{\"a\":", "[", "]",
            "\r\n", "\t", "GET", "POST", "retry: -1", "max-time: 99999999999999999999ms",
        ]

        /// One seeded mutation of `seed`: one to four edits of the kinds the brief lists.
        static func mutate(_ seed: [UInt8], rng: inout SplitMix64) -> (bytes: [UInt8], kinds: [String]) {
            var bytes = seed
            var kinds: [String] = []
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
                var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
                let lineIndex = Int.random(in: 0..<max(lines.count, 1), using: &rng)
                switch Int.random(in: 0..<10, using: &rng) {
                case 0 where !bytes.isEmpty:
                    bytes[at] ^= UInt8.random(in: 1...255, using: &rng)
                    kinds.append("flip")
                case 1:
                    bytes = Array(bytes[0..<at])
                    kinds.append("truncate")
                case 2:
                    bytes.insert(0x00, at: at)
                    kinds.append("nul")
                case 3:
                    let invalid: [[UInt8]] = [
                        [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0x80, 0x80],
                    ]
                    bytes.insert(contentsOf: invalid.randomElement(using: &rng)!, at: at)
                    kinds.append("utf8")
                case 4 where !lines.isEmpty:
                    lines.insert(lines[lineIndex], at: lineIndex)
                    bytes = Array(lines.joined(separator: [0x0A]))
                    kinds.append("dupe-line")
                case 5 where lines.count > 1:
                    lines.remove(at: lineIndex)
                    bytes = Array(lines.joined(separator: [0x0A]))
                    kinds.append("delete-line")
                case 6:
                    // A huge line: long URL, long header value or long junk, 10 KB to 1 MB.
                    let length = Int.random(in: 10_000...1_000_000, using: &rng)
                    let filler = UInt8(ascii: ["a", "{", "\"", " ", "%", "9"].randomElement(using: &rng)!)
                    let prefixes = ["", "GET http://127.0.0.1/", "X-Long: ", "jsonpath \"$.", "# @tags "]
                    let line =
                        Array(prefixes.randomElement(using: &rng)!.utf8) + [UInt8](repeating: filler, count: length)
                    lines.insert(line, at: min(lineIndex, lines.count))
                    bytes = Array(lines.joined(separator: [0x0A]))
                    kinds.append("huge-line")
                case 7:
                    bytes.insert(contentsOf: Array(tokens.randomElement(using: &rng)!.utf8), at: at)
                    kinds.append("token")
                case 8 where lines.count > 1:
                    let other = Int.random(in: 0..<lines.count, using: &rng)
                    lines.swapAt(lineIndex, other)
                    bytes = Array(lines.joined(separator: [0x0A]))
                    kinds.append("swap-lines")
                default:
                    bytes.insert(UInt8.random(in: 0...255, using: &rng), at: at)
                    kinds.append("insert")
                }
            }
            return (bytes, kinds)
        }

        /// One mutated file and what the library's parser says of it.
        struct Mutant: Sendable {
            var path: String
            var bytes: [UInt8]
            var kinds: [String]
            var expected: Position?
        }

        struct Position: Sendable, Equatable {
            var line: Int
            var column: Int
        }

        /// What the library's parser says of a file: nil when valid, else the position.
        static func expected(_ bytes: [UInt8], path: String) -> Position? {
            do {
                _ = try ScriptParser.parse(bytes: bytes, path: path)
                return nil
            } catch {
                return Position(line: error.location.line, column: error.location.column)
            }
        }

        /// The error blocks of `sonde validate`'s standard error, by file: position and whether the
        /// block shows the source line and a caret under it.
        static func blocks(_ stderr: String) -> [String: (line: Int, column: Int, caret: Bool, count: Int)] {
            var out: [String: (line: Int, column: Int, caret: Bool, count: Int)] = [:]
            let lines = stderr.split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                guard let arrow = line.range(of: "--> ") else { continue }
                let position = line[arrow.upperBound...]
                let parts = position.split(separator: ":")
                guard parts.count >= 3, let l = Int(parts[parts.count - 2]), let c = Int(parts[parts.count - 1]) else {
                    continue
                }
                let path = parts.dropLast(2).joined(separator: ":")
                // `  |`, `N | source`, `  | <spaces>^ message`.
                let window = lines[(index + 1)..<min(lines.count, index + 5)]
                let source = window.contains { $0.hasPrefix("\(l) | ") }
                let caret = window.contains { $0.contains("| ") && $0.contains("^ ") && !$0.hasPrefix("\(l) | ") }
                let previous = out[path]?.count ?? 0
                out[path] = (l, c, source && caret, previous + 1)
            }
            return out
        }

        /// Runs `sonde validate` on `files`; returns the outcome and output.
        static func validate(_ files: [String], in directory: String, tag: String) async throws
            -> (outcome: SondeProcess.Outcome, out: String, err: String, seconds: Double)
        {
            try await SondeProcess.run(["validate"] + files, in: directory, tag: tag, timeout: deadline)
        }

        @Test(
            "seeded mutations of the example checks: validate exits 0 or 2 in time, every error at file:line:col with a caret"
        )
        func mutatedExamples() async throws {
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            let seedFiles = try FileManager.default.contentsOfDirectory(atPath: packageRoot + "/checks")
                .filter { $0.hasSuffix(".hurl") }.sorted()
            try #require(seedFiles.count >= 3)
            let seeds = try seedFiles.map {
                [UInt8](try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/checks/" + $0)))
            }

            // Made and parsed on a thread of its own: megabyte lines would hold a cooperative-pool
            // thread for seconds, and other suites' timings rely on the pool.
            let files = try await offPool { () throws -> [Mutant] in
                var rng = SplitMix64(state: 0xFA17_5EED)
                var files: [Mutant] = []
                for index in 0..<Self.mutations {
                    let (bytes, kinds) = Self.mutate(seeds[index % seeds.count], rng: &rng)
                    let name = String(format: "m%04d.hurl", index)
                    try folder.write(name, bytes: bytes)
                    files.append(
                        Mutant(path: name, bytes: bytes, kinds: kinds, expected: Self.expected(bytes, path: name)))
                }
                return files
            }
            let invalidCount = files.filter { $0.expected != nil }.count
            #expect(
                invalidCount > Self.mutations / 3, "most mutations break the file: \(invalidCount) of \(Self.mutations)"
            )
            #expect(invalidCount < Self.mutations, "some mutations keep the file valid")

            var processes = 0
            var slowest = 0.0
            for start in stride(from: 0, to: files.count, by: Self.batchSize) {
                let batch = Array(files[start..<min(files.count, start + Self.batchSize)])
                let result = try await Self.validate(batch.map(\.path), in: folder.path, tag: "batch-\(start)")
                processes += 1
                slowest = max(slowest, result.seconds)
                // A file over the 1 MiB cap is refused unread, whether it parses or not.
                let anyInvalid = batch.contains { $0.expected != nil || $0.bytes.count > ScriptLoader.maxFileBytes }
                guard result.outcome == .exited(0) || result.outcome == .exited(2) else {
                    // Pin it on a file: one process per file of the batch.
                    for file in batch {
                        let single = try await Self.validate([file.path], in: folder.path, tag: "single-\(file.path)")
                        processes += 1
                        if single.outcome != .exited(0) && single.outcome != .exited(2) {
                            let kept = NSTemporaryDirectory() + "sonde-faults-\(file.path)"
                            try? Data(file.bytes).write(to: URL(fileURLWithPath: kept))
                            Issue.record(
                                "\(file.path) (\(file.kinds.joined(separator: "+"))): \(single.outcome); copy kept at \(kept); stderr: \(single.err.suffix(400))"
                            )
                        }
                    }
                    Issue.record("batch from \(batch[0].path): \(result.outcome)")
                    continue
                }
                #expect(result.outcome == .exited(anyInvalid ? 2 : 0), "batch from \(batch[0].path): \(result.outcome)")
                let reported = Self.blocks(result.err)
                for file in batch {
                    if file.bytes.count > ScriptLoader.maxFileBytes {
                        #expect(
                            result.err.contains("\(file.path): the file is \(file.bytes.count) bytes"),
                            "\(file.path): over the cap, refused with its size")
                        continue
                    }
                    if let position = file.expected {
                        guard let block = reported[file.path] else {
                            Issue.record(
                                "\(file.path) (\(file.kinds.joined(separator: "+"))) does not parse but got no positioned error: \(result.err.prefix(300))"
                            )
                            continue
                        }
                        #expect(block.count == 1, "\(file.path): one error block")
                        #expect(
                            block.line == position.line && block.column == position.column,
                            "\(file.path): \(block.line):\(block.column), the parser says \(position.line):\(position.column)"
                        )
                        #expect(
                            block.line >= 1 && block.column >= 1, "\(file.path): position \(block.line):\(block.column)"
                        )
                        #expect(block.caret, "\(file.path): the block shows the source line and a caret")
                    } else {
                        #expect(reported[file.path] == nil, "\(file.path) parses but got an error")
                        if !anyInvalid {
                            #expect(result.out.contains("\(file.path): valid ("), "\(file.path) listed as valid")
                        }
                    }
                }
                #expect(Set(reported.keys).isSubset(of: Set(batch.map(\.path))), "errors only for the batch's files")
            }
            #expect(processes >= Self.mutations / Self.batchSize)
            #expect(slowest < 30, "slowest validate process took \(slowest) s")
        }
    }
}
