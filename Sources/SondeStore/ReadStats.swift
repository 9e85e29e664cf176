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
    /// The first problem seen, `path:line: reason`, to show the user.
    package var firstProblem: String?

    package init() {}

    mutating func skip(_ path: String, line: Int, reason: String) {
        skipped += 1
        if firstProblem == nil { firstProblem = "\(path):\(line): \(reason)" }
    }

    package mutating func merge(_ other: ReadStats) {
        lines += other.lines
        skipped += other.skipped
        tornFinalLines += other.tornFinalLines
        unknownVersion += other.unknownVersion
        if firstProblem == nil { firstProblem = other.firstProblem }
    }
}
