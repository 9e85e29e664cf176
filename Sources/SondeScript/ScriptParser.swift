import SondeSupport

/// Parses check scripts (docs/check-format.md: monitor directives and the Hurl subset) into a
/// `CheckScript`. Never traps on input: every problem is a `ParseError` with a position.
package enum ScriptParser {
    /// Parses raw file bytes: rejects NUL bytes and invalid UTF-8 with a position, ignores a BOM.
    static func parse(bytes: [UInt8], path: String) throws(ParseError) -> CheckScript {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        var line = 1
        var lineStart = body.startIndex
        var i = body.startIndex
        while i < body.endIndex {
            let b = body[i]
            if b == 0 {
                let column = String(decoding: body[lineStart..<i], as: UTF8.self).unicodeScalars.count + 1
                throw .encoding(
                    path: path, location: SourceLocation(line: line, column: column),
                    message: "the file holds a NUL byte: check scripts are UTF-8 text")
            }
            if b == 0x0A {
                line += 1
                lineStart = i + 1
            }
            i += 1
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            let position = firstInvalidUTF8(body) ?? body.startIndex
            var l = 1
            var start = body.startIndex
            for j in body.startIndex..<position where body[j] == 0x0A {
                l += 1
                start = j + 1
            }
            let column = String(decoding: body[start..<position], as: UTF8.self).unicodeScalars.count + 1
            let byte = position < body.endIndex ? body[position] : 0
            throw .encoding(
                path: path, location: SourceLocation(line: l, column: column),
                message: "the file is not UTF-8 text (invalid byte 0x\(String(byte, radix: 16, uppercase: true)))")
        }
        return try parse(source: text, path: path)
    }

    /// Index of the first byte that starts an invalid UTF-8 sequence.
    static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int? {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if c < 0x80 {
                i += 1
                continue
            }
            let length: Int
            switch c {
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return i
            }
            guard i + length <= bytes.endIndex else { return i }
            for k in 1..<length where bytes[i + k] & 0xC0 != 0x80 { return i }
            if String(validating: bytes[i..<i + length], as: UTF8.self) == nil { return i }
            i += length
        }
        return nil
    }

    /// Parses source text.
    static func parse(source: String, path: String) throws(ParseError) -> CheckScript {
        var text = source
        if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        var parser = Parser(source: text, path: path)
        let (settings, entries) = try parser.script()
        return CheckScript(
            path: path, name: checkName(path: path), source: source, settings: settings, entries: entries)
    }

    /// The check name of a file: its name without the folder and the `.hurl` extension.
    package static func checkName(path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        return file.hasSuffix(".hurl") ? String(file.dropLast(5)) : file
    }
}

/// The line-oriented parser state.
struct Parser {
    let lines: [[Unicode.Scalar]]
    let path: String
    var current = 0

    init(source: String, path: String) {
        var lines: [[Unicode.Scalar]] = [[]]
        var previousCR = false
        for scalar in source.unicodeScalars {
            if scalar == "\n" {
                if previousCR { lines[lines.count - 1].removeLast() }
                lines.append([])
                previousCR = false
                continue
            }
            lines[lines.count - 1].append(scalar)
            previousCR = scalar == "\r"
        }
        self.lines = lines
        self.path = path
    }

    func cursor(_ index: Int, at column: Int = 0) -> LineCursor {
        LineCursor(lines[index], line: index + 1, path: path, index: column)
    }

    func error(_ message: String, line: Int, column: Int) -> ParseError {
        .syntax(path: path, location: SourceLocation(line: line + 1, column: column + 1), message: message)
    }

    /// Index of the first non-space character of a line.
    func indent(_ index: Int) -> Int {
        var i = 0
        while i < lines[index].count, lines[index][i] == " " || lines[index][i] == "\t" { i += 1 }
        return i
    }

    func isBlankOrComment(_ index: Int) -> Bool {
        let i = indent(index)
        return i >= lines[index].count || lines[index][i] == "#"
    }

    /// A request line starts with an uppercase method followed by a space.
    func isRequestLine(_ index: Int) -> Bool {
        if isResponseLine(index) { return false }
        var c = cursor(index, at: indent(index))
        let start = c.index
        while let s = c.peek, ("A"..."Z").contains(s) { c.index += 1 }
        guard c.index > start, let next = c.peek, next == " " || next == "\t" else { return false }
        return true
    }

    func isResponseLine(_ index: Int) -> Bool {
        let c = cursor(index, at: indent(index))
        return c.hasPrefix("HTTP ") || c.hasPrefix("HTTP/") || c.hasPrefix("HTTP\t")
    }

    /// `[Name]` alone on its line (letters only): a section header, not a JSON array.
    func sectionName(_ index: Int) -> (String, Int)? {
        var c = cursor(index, at: indent(index))
        guard c.peek == "[" else { return nil }
        let column = c.index
        c.index += 1
        var name = ""
        while let s = c.peek, s.isASCII, s.properties.isAlphabetic {
            name.unicodeScalars.append(s)
            c.index += 1
        }
        guard !name.isEmpty, c.peek == "]" else { return nil }
        c.index += 1
        guard c.atLineEnd() else { return nil }
        return (name, column)
    }

    mutating func script() throws(ParseError) -> (MonitorSettings, [Entry]) {
        var settings = MonitorSettings()
        var seenDirectives: Set<String> = []
        var entries: [Entry] = []
        while current < lines.count {
            if isBlankOrComment(current) {
                if let directive = try directiveLine(current) {
                    guard entries.isEmpty else {
                        throw error(
                            "monitor directives must come before the first request", line: current,
                            column: directive.column)
                    }
                    guard seenDirectives.insert(directive.key).inserted || Self.repeatableKeys.contains(directive.key)
                    else {
                        throw error(
                            "directive @\(directive.key) is given twice", line: current, column: directive.column)
                    }
                    try apply(directive, to: &settings)
                }
                current += 1
                continue
            }
            guard isRequestLine(current) else {
                if isResponseLine(current) {
                    throw error(
                        "a response must follow a request: expected a request such as GET https://example.com",
                        line: current, column: indent(current))
                }
                if let (name, column) = sectionName(current) {
                    throw error("section [\(name)] must follow a request line", line: current, column: column)
                }
                throw error(
                    "expected a request line such as GET https://example.com (method in capitals, then the URL)",
                    line: current, column: indent(current))
            }
            entries.append(try entry())
        }
        try checkAlerts(settings)
        return (settings, entries)
    }
}
