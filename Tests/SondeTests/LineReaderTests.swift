import Foundation
import Testing

@testable import SondeStore
@testable import SondeSupport

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Store: the bounded line reader", .cpuBound)
struct LineReaderTests {
    let folder: TemporaryFolder

    init() throws {
        folder = try TemporaryFolder()
    }

    /// Every line `reader` hands over for `bytes`, with its number, and the summary.
    func read(_ bytes: [UInt8], cap: Int) throws -> ([(String, Int)], LineReader.Summary) {
        let path = try folder.write("lines.jsonl", bytes: bytes)
        var out: [(String, Int)] = []
        let summary = try LineReader(maxLineBytes: cap).forEachLine(path) { line, number in
            out.append((String(decoding: line, as: UTF8.self), number))
        }
        return (out, summary)
    }

    @Test("lines up to the cap are handed over with their numbers; longer ones are skipped and counted")
    func capOnLines() throws {
        defer { folder.cleanup() }
        let text = "1234\n12345\n123456\n\n" + String(repeating: "x", count: 40) + "\nend\n"
        let (lines, summary) = try read(Array(text.utf8), cap: 5)
        #expect(lines.map(\.0) == ["1234", "12345", "end"])
        #expect(lines.map(\.1) == [1, 2, 6])
        #expect(summary.oversized == 2 && summary.firstOversized == 3)
        #expect(summary.lines == 6 && summary.tornFinalLine == nil)
    }

    @Test("lines that straddle the read chunks come out whole; a line over the cap across chunks is skipped")
    func acrossChunks() throws {
        defer { folder.cleanup() }
        let chunk = LineReader.chunkBytes
        // Short lines whose newlines fall on either side of each chunk boundary.
        var bytes: [UInt8] = []
        var expected: [String] = []
        var k = 0
        while bytes.count < 3 * chunk {
            let line = "line \(k) " + String(repeating: "y", count: 1_000 + k % 7)
            expected.append(line)
            bytes += Array(line.utf8) + [0x0A]
            k += 1
        }
        // One line of 1.5 chunks: over a cap of one chunk, after a partial line already buffered.
        bytes += [UInt8](repeating: 0x7A, count: chunk + chunk / 2) + [0x0A]
        bytes += Array("after\n".utf8)
        let (lines, summary) = try read(bytes, cap: chunk)
        #expect(lines.map(\.0) == expected + ["after"])
        #expect(summary.oversized == 1 && summary.firstOversized == expected.count + 1)
    }

    @Test("a final line without its newline is reported as torn, not handed over")
    func tornFinal() throws {
        defer { folder.cleanup() }
        let (lines, summary) = try read(Array("a\nb\nhalf a li".utf8), cap: 100)
        #expect(lines.map(\.0) == ["a", "b"])
        #expect(summary.tornFinalLine == 3)
        let (_, long) = try read(Array(("a\n" + String(repeating: "z", count: 500)).utf8), cap: 100)
        #expect(long.tornFinalLine == 2 && long.oversized == 0)
    }

    @Test("a hole of zeros in a sparse file is one long line, skipped without reading it into memory")
    func sparseHole() throws {
        defer { folder.cleanup() }
        let path = try folder.write("sparse.jsonl", bytes: Array("first\nstart of a line".utf8))
        let size = 1 << 30
        #expect(truncate(path, off_t(size)) == 0)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(" end\nlast\n".utf8))
        handle.closeFile()
        var lines: [String] = []
        let summary = try LineReader().forEachLine(path) { line, _ in
            lines.append(String(decoding: line, as: UTF8.self))
        }
        #expect(lines == ["first", "last"])
        #expect(summary.oversized == 1 && summary.firstOversized == 2 && summary.lines == 3)
        // A hole at the end: the line never ends.
        #expect(truncate(path, off_t(2 * size)) == 0)
        let torn = try LineReader().forEachLine(path) { _, _ in }
        #expect(torn.tornFinalLine == 4 && torn.oversized == 1)
    }

    @Test("a missing file and a folder fail with the system's reason")
    func cannotOpen() throws {
        defer { folder.cleanup() }
        #expect(throws: LineReader.Failure.self) { try LineReader().forEachLine(folder.path + "/none") { _, _ in } }
        do {
            try LineReader().forEachLine(folder.path) { _, _ in }
            Issue.record("a folder was read")
        } catch {
            #expect(error.description.contains("is a directory"))
        }
    }

    @Test("a device or a FIFO in a data file's place fails at once instead of reading without end")
    func devicesAndFIFOsFail() throws {
        defer { folder.cleanup() }
        for device in ["/dev/zero", "/dev/full"] {
            let path = folder.path + "/runs-\((device as NSString).lastPathComponent).jsonl"
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: device)
            do {
                try LineReader().forEachLine(path) { _, _ in }
                Issue.record("\(device) was read")
            } catch {
                #expect(error.description.contains("not a regular file"))
            }
        }
        let fifo = folder.path + "/runs-fifo.jsonl"
        #expect(mkfifo(fifo, 0o600) == 0)
        do {
            try LineReader().forEachLine(fifo) { _, _ in }
            Issue.record("a FIFO was read")
        } catch {
            #expect(error.description.contains("not a regular file"))
        }
    }

    @Test("the reader's skips reach ReadStats: lines over the cap are skipped, counted, and named when first")
    func statsCountOversized() throws {
        defer { folder.cleanup() }
        let long = String(repeating: "q", count: LineReader.maxLineBytes + 1)
        let path = try folder.write("runs.jsonl", long + "\ngarbage\n")
        var stats = ReadStats()
        RunReader.decodeLines(path, RunLine.decode, stats: &stats) { _ in }
        #expect(stats.skipped == 2 && stats.oversized == 1)
        #expect(
            stats.firstProblem == "\(path):1: line longer than 1048576 bytes (the cap on a data line), skipped unread")
        try folder.write("runs.jsonl", "garbage\n" + long + "\n")
        var later = ReadStats()
        RunReader.decodeLines(path, RunLine.decode, stats: &later) { _ in }
        #expect(later.skipped == 2 && later.oversized == 1)
        #expect(later.firstProblem == "\(path):1: malformed line: expected '{' at byte 0")
    }
}
