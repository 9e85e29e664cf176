import SondeSupport

/// A cursor over the Unicode scalars of one source line, with the small lexers the grammar needs.
struct LineCursor {
    let scalars: [Unicode.Scalar]
    let line: Int
    var index: Int
    let path: String

    init(_ scalars: [Unicode.Scalar], line: Int, path: String, index: Int = 0) {
        self.scalars = scalars
        self.line = line
        self.path = path
        self.index = index
    }

    var location: SourceLocation { SourceLocation(line: line, column: index + 1) }
    var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }
    func peek(_ offset: Int) -> Unicode.Scalar? { index + offset < scalars.count ? scalars[index + offset] : nil }
    var atEnd: Bool { index >= scalars.count }

    func error(_ message: String, at location: SourceLocation? = nil) -> ParseError {
        .syntax(path: path, location: location ?? self.location, message: message)
    }

    mutating func skipSpaces() {
        while let c = peek, c == " " || c == "\t" { index += 1 }
    }

    /// True when only spaces and an optional `# comment` remain.
    mutating func atLineEnd() -> Bool {
        skipSpaces()
        return atEnd || peek == "#"
    }

    mutating func expectLineEnd(_ what: String) throws(ParseError) {
        if !atLineEnd() { throw error("unexpected text after \(what)") }
    }

    /// A run of letters, digits, `-`, `_`, `.`.
    mutating func word() -> String {
        var out = ""
        while let c = peek, c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_" || c == "." {
            out.unicodeScalars.append(c)
            index += 1
        }
        return out
    }

    /// The rest of the line up to spaces, for messages.
    mutating func token() -> String {
        var out = ""
        while let c = peek, c != " " && c != "\t" {
            out.unicodeScalars.append(c)
            index += 1
        }
        return out
    }

    func hasPrefix(_ text: String) -> Bool {
        let t = Array(text.unicodeScalars)
        guard index + t.count <= scalars.count else { return false }
        return Array(scalars[index..<index + t.count]) == t
    }

    /// A `{{name}}` placeholder starting at the cursor.
    mutating func placeholder(encoding: Placeholder.Encoding) throws(ParseError) -> Placeholder {
        let start = location
        index += 2
        skipSpaces()
        var name = ""
        while let c = peek, c.isASCII, c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-" {
            name.unicodeScalars.append(c)
            index += 1
        }
        skipSpaces()
        guard hasPrefix("}}") else {
            if name.isEmpty {
                throw error("expected a variable name such as {{token}} after {{", at: start)
            }
            throw error("expected }} to close the placeholder {{\(name)", at: start)
        }
        guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else {
            throw error("invalid variable name '\(name)': it must start with a letter or _", at: start)
        }
        index += 2
        return Placeholder(
            name: name, function: Placeholder.Function(rawValue: name), encoding: encoding, location: start)
    }

    /// A `"quoted"` string with escapes and placeholders.
    mutating func quoted() throws(ParseError) -> Template {
        try delimited(by: "\"")
    }

    /// A `` `backtick` `` string with escapes and placeholders.
    mutating func backtick() throws(ParseError) -> Template {
        try delimited(by: "`")
    }

    /// A string between two `delimiter`s, with escapes and placeholders.
    private mutating func delimited(by delimiter: Unicode.Scalar) throws(ParseError) -> Template {
        let start = location
        index += 1
        var parts: [Template.Part] = []
        var literal = ""
        while true {
            guard let c = peek else { throw error("unterminated string: expected a closing \(delimiter)", at: start) }
            if c == delimiter {
                index += 1
                break
            }
            if c == "\\" {
                literal += try escape()
                continue
            }
            if hasPrefix("{{") {
                if !literal.isEmpty {
                    parts.append(.literal(literal))
                    literal = ""
                }
                parts.append(.placeholder(try placeholder(encoding: .plain)))
                continue
            }
            literal.unicodeScalars.append(c)
            index += 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return Template(parts: parts, location: start)
    }

    /// A `/regex/` literal; `\/` is a slash, other escapes are kept for the regex engine.
    mutating func regexLiteral() throws(ParseError) -> Template {
        let start = location
        index += 1
        var text = ""
        while true {
            guard let c = peek else { throw error("unterminated regex: expected a closing /", at: start) }
            if c == "/" {
                index += 1
                break
            }
            if c == "\\", peek(1) == "/" {
                text += "/"
                index += 2
                continue
            }
            if c == "\\", let n = peek(1) {
                text.unicodeScalars.append(c)
                text.unicodeScalars.append(n)
                index += 2
                continue
            }
            text.unicodeScalars.append(c)
            index += 1
        }
        return Template(parts: text.isEmpty ? [] : [.literal(text)], location: start)
    }

    /// For a string or `/regex/` literal between `open` (its opening delimiter) and `end` (just past
    /// its closing one), the source column of each scalar of its decoded text: an escape such as
    /// `\\` or `\u{41}` in a string (or `\/` in a regex literal) maps to its backslash.
    func patternColumns(from open: Int, to end: Int, slashDelimited: Bool) -> [Int] {
        var columns: [Int] = []
        var k = open + 1
        let stop = max(k, end - 1)
        while k < stop {
            let column = k + 1
            if scalars[k] == "\\", k + 1 < stop {
                if slashDelimited {
                    if scalars[k + 1] == "/" {
                        columns.append(column)
                    } else {
                        columns += [column, column + 1]
                    }
                    k += 2
                    continue
                }
                var length = 2
                if scalars[k + 1] == "u", k + 2 < stop, scalars[k + 2] == "{" {
                    while k + length < stop, scalars[k + length - 1] != "}" { length += 1 }
                }
                columns.append(column)
                k += length
                continue
            }
            columns.append(column)
            k += 1
        }
        return columns
    }

    /// One escape sequence after a backslash.
    mutating func escape() throws(ParseError) -> String {
        let start = location
        index += 1
        guard let c = peek else { throw error("unfinished escape sequence at the end of the line", at: start) }
        index += 1
        switch c {
        case "\"": return "\""
        case "\\": return "\\"
        case "#": return "#"
        case ":": return ":"
        case "/": return "/"
        case "`": return "`"
        case "b": return "\u{08}"
        case "f": return "\u{0C}"
        case "n": return "\n"
        case "r": return "\r"
        case "t": return "\t"
        case "{": return "{"
        case "}": return "}"
        case "u":
            guard peek == "{" else { throw error("expected \\u{XXXX} for a Unicode escape", at: start) }
            index += 1
            var hex = ""
            while let h = peek, h != "}", hex.count < 8 {
                hex.unicodeScalars.append(h)
                index += 1
            }
            guard peek == "}", let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else {
                throw error("invalid Unicode escape \\u{\(hex)}", at: start)
            }
            index += 1
            return String(scalar)
        default:
            throw error("invalid escape \\\(c); use \\\\ for a backslash", at: start)
        }
    }

    /// Text up to the end of the line or an unescaped `#`, trimmed, as a template (URLs, header values).
    mutating func valueTemplate(stopAtColon: Bool = false) throws(ParseError) -> Template {
        skipSpaces()
        let start = location
        var parts: [Template.Part] = []
        var literal = ""
        while let c = peek {
            if c == "#" { break }
            if stopAtColon && c == ":" { break }
            if c == "\\" {
                literal += try escape()
                continue
            }
            if hasPrefix("{{") {
                if !literal.isEmpty {
                    parts.append(.literal(literal))
                    literal = ""
                }
                parts.append(.placeholder(try placeholder(encoding: .plain)))
                continue
            }
            literal.unicodeScalars.append(c)
            index += 1
        }
        // Trim trailing spaces of the last literal.
        while let last = literal.unicodeScalars.last, last == " " || last == "\t" {
            literal.unicodeScalars.removeLast()
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return Template(parts: parts, location: start)
    }
}
