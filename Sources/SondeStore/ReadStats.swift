import SondeProbe
import SondeRun
import SondeScript

/// What a reader skipped, for the footnotes of reports and `sonde status`.
package struct ReadStats: Sendable, Equatable {
    /// Lines read: decoded into records, or passed over because their start time was outside the
    /// range asked for (their start time read fine).
    var lines = 0
    /// Lines that did not decode (garbage, missing fields) — torn final lines included.
    package var skipped = 0
    /// Files whose last line had no newline (a write cut short by a crash or a full disk).
    package var tornFinalLines = 0
    /// Lines with a format version this sonde does not read.
    package var unknownVersion = 0
    /// Lines longer than `LineReader.maxLineBytes`, skipped unread (counted in `skipped` too).
    package var oversized = 0
    /// The first problem seen, `path:line: reason`, to show the user.
    package var firstProblem: String?

    /// The line number of `firstProblem` within its file.
    private var firstProblemLine = 0

    package init() {}

    mutating func skip(_ path: String, line: Int, reason: String) {
        skipped += 1
        if firstProblem == nil {
            firstProblem = "\(path):\(line): \(reason)"
            firstProblemLine = line
        }
    }

    /// Counts what a pass of `LineReader` over `path` skipped: lines over the cap of `cap` bytes and
    /// a torn final line. For the stats of that one file (its line numbers are compared).
    mutating func count(_ summary: LineReader.Summary, path: String, cap: Int) {
        if let first = summary.firstOversized {
            let reason = "line longer than \(cap) bytes (the cap on a data line), skipped unread"
            if firstProblem == nil || first < firstProblemLine {
                firstProblem = "\(path):\(first): \(reason)"
                firstProblemLine = first
            }
            skipped += summary.oversized
            oversized += summary.oversized
        }
        if let torn = summary.tornFinalLine {
            tornFinalLines += 1
            skip(path, line: torn, reason: "torn final line (no newline): the write was cut short")
        }
    }

    package mutating func merge(_ other: ReadStats) {
        lines += other.lines
        skipped += other.skipped
        tornFinalLines += other.tornFinalLines
        unknownVersion += other.unknownVersion
        oversized += other.oversized
        if firstProblem == nil {
            firstProblem = other.firstProblem
            firstProblemLine = other.firstProblemLine
        }
    }
}
