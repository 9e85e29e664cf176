import SondeSupport

/// A check script that cannot be parsed: where, and what was expected.
package enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text does not follow the check-script grammar.
    case syntax(path: String, location: SourceLocation, message: String)
    /// The file is not UTF-8 text (or holds a NUL byte).
    case encoding(path: String, location: SourceLocation, message: String)

    /// The file that failed to parse.
    var path: String {
        switch self {
        case .syntax(let p, _, _), .encoding(let p, _, _): return p
        }
    }

    /// Where in the file.
    var location: SourceLocation {
        switch self {
        case .syntax(_, let l, _), .encoding(_, let l, _): return l
        }
    }

    /// What was expected, without the position.
    package var message: String {
        switch self {
        case .syntax(_, _, let m), .encoding(_, _, let m): return m
        }
    }

    /// `path:line:col: message`.
    package var description: String { "\(path):\(location.line):\(location.column): \(message)" }

    /// Hurl-style block: the position, the offending line, a caret under the column and the message.
    package func render(source: String) -> String {
        let line = location.line
        let gutter = String(line).count
        let pad = String(repeating: " ", count: gutter)
        var text = SourceText.line(line, in: source) ?? ""
        var column = max(location.column, 1)
        // A credential written into an auth or cookie header is not repeated in the error.
        if let masked = SourceText.maskingSensitiveHeader(text) {
            text = masked.line
            column = min(column, masked.valueColumn)
        }
        // Cut long lines around the column so a huge line does not flood the terminal.
        let scalars = Array(text.unicodeScalars)
        if scalars.count > 200 {
            let start = max(0, min(column - 60, scalars.count - 120))
            let end = min(scalars.count, start + 120)
            var cut = String(String.UnicodeScalarView(scalars[start..<end]))
            if start > 0 {
                cut = "…" + cut
                column = column - start + 1
            }
            if end < scalars.count { cut += "…" }
            text = cut
        }
        let printable = String(text.unicodeScalars.map { $0.value < 0x20 && $0 != "\t" ? "\u{FFFD}" : Character($0) })
        let prefix = String(printable.unicodeScalars.prefix(column - 1).map { $0 == "\t" ? "\t" : " " })
        let title: String
        switch self {
        case .syntax: title = "Parsing error"
        case .encoding: title = "Invalid file"
        }
        return """
            error: \(title)
            \(pad)--> \(path):\(line):\(location.column)
            \(pad) |
            \(line) | \(printable)
            \(pad) | \(prefix)^ \(message)
            \(pad) |

            """
    }
}
