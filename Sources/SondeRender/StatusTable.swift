import SondeIncidents
import SondeProbe
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// Renders `sonde status`: one aligned row per check, then footnotes. Colour (green up, red down,
/// yellow no data) is a parameter: the caller decides from the terminal and `NO_COLOR`.
package struct StatusTable: Sendable {
    /// Colour the state column with ANSI escapes.
    var colour: Bool
    /// Longest `last error` cell, in characters; longer ones end in `…`.
    var errorWidth = 60

    package init(colour: Bool) {
        self.colour = colour
    }

    /// Whether to colour: only on a terminal, and never when `NO_COLOR` is set to a non-empty value
    /// (https://no-color.org).
    package static func shouldColour(isTerminal: Bool, environment: [String: String]) -> Bool {
        isTerminal && (environment["NO_COLOR"] ?? "").isEmpty
    }

    /// The table: a header line and one line per row, columns padded by character count.
    package func render(_ rows: [CheckStatus]) -> String {
        let header = ["check", "state", "last run (UTC)", "age", "runs 24h", "uptime 24h", "p95 24h", "last error"]
        let rightAligned: Set<Int> = [3, 4, 5, 6]
        let body = rows.map(rowCells)
        var widths = header.map(\.count)
        for line in body {
            for (index, cell) in line.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var out = ""
        for (lineIndex, line) in ([header] + body).enumerated() {
            var text = ""
            for (index, cell) in line.enumerated() {
                let last = index == line.count - 1
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                var shown = cell
                if index == 1, lineIndex > 0 { shown = paint(cell, rows[lineIndex - 1].state) }
                if rightAligned.contains(index) {
                    text += padding + shown
                } else {
                    text += last ? shown : shown + padding
                }
                if !last { text += "  " }
            }
            out += text + "\n"
        }
        return out
    }

    /// Footnotes: lines the reader skipped (when any), then the data folder and a count per state.
    package func footer(_ rows: [CheckStatus], stats: ReadStats, folder: String) -> String {
        var out = ""
        if stats.skipped > 0 {
            var line = "\(stats.skipped) \(stats.skipped == 1 ? "line" : "lines") skipped"
            var notes: [String] = []
            if stats.tornFinalLines > 0 {
                notes.append("\(stats.tornFinalLines) torn final \(stats.tornFinalLines == 1 ? "line" : "lines")")
            }
            if stats.unknownVersion > 0 { notes.append("\(stats.unknownVersion) of an unknown format version") }
            if stats.oversized > 0 {
                notes.append("\(stats.oversized) over the \(LineReader.maxLineBytes)-byte line cap")
            }
            if !notes.isEmpty { line += " (" + notes.joined(separator: ", ") + ")" }
            if let first = stats.firstProblem { line += "; first: " + Self.printable(first) }
            out += line + "\n"
        }
        let up = rows.filter { $0.state == .up }.count
        let down = rows.filter { $0.state == .down }.count
        let none = rows.count - up - down
        out +=
            "data: \(Self.printable(folder)) (\(rows.count) \(rows.count == 1 ? "check" : "checks"): "
            + "\(up) up, \(down) down, \(none) no data)\n"
        return out
    }

    /// The cells of one row, uncoloured.
    func rowCells(_ row: CheckStatus) -> [String] {
        let error: String
        if row.state == .down {
            if let failure = row.lastError {
                error = Self.truncate(Self.printable("\(failure.kind): \(failure.message)"), to: errorWidth)
            } else {
                error = "failed (no error recorded)"
            }
        } else {
            error = "-"
        }
        return [
            Self.printable(row.check),
            row.state.rawValue,
            row.lastRun.map { Self.time($0.time) } ?? "-",
            row.ageMs.map(DurationText.age) ?? "-",
            String(row.runs),
            Self.uptime(good: row.good, runs: row.runs),
            DurationText.latency(row.p95Ms),
            error,
        ]
    }

    private func paint(_ text: String, _ state: CheckStatus.State) -> String {
        guard colour else { return text }
        let code: String
        switch state {
        case .up: code = "32"
        case .down: code = "31"
        case .noData: code = "33"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    /// `99.966%`: good ÷ runs as a percentage truncated (never rounded up) to 3 decimals; `-` without runs.
    static func uptime(good: Int, runs: Int) -> String {
        PercentText.ratio(Int64(good), Int64(runs), decimals: 3)
    }

    /// `2026-11-23 07:10:03Z`.
    package static func time(_ ms: Int64) -> String {
        String(UTCTime.rfc3339Seconds(ms).map { $0 == "T" ? " " : $0 })
    }

    /// `text` cut to `width` characters, the last one `…` when cut.
    static func truncate(_ text: String, to width: Int) -> String {
        guard text.count > width, width > 0 else { return text }
        return String(text.prefix(width - 1)) + "…"
    }

    /// Control characters (escapes, newlines) from data files shown as spaces: a data line must not
    /// drive the terminal.
    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { out.append(isControl(scalar) ? " " : scalar) }
        return String(out)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
