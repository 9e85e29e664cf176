import Foundation
import SondeSupport

/// Entries: the request line, headers, sections and body, then the optional response.
extension Parser {
    static let requestSections = [
        "Query", "QueryStringParams", "Form", "FormParams", "Multipart", "MultipartFormData", "BasicAuth",
        "Cookies", "Options",
    ]
    static let responseSections = ["Captures", "Asserts"]
    static let unsupportedSections: [String] = []

    enum BodyStart { case json, multiline, oneline, encoded, xml }

    func bodyStart(_ index: Int) -> BodyStart? {
        let c = cursor(index, at: indent(index))
        if c.hasPrefix("```") { return .multiline }
        if c.peek == "`" { return .oneline }
        // `{{name}}: value` is a header whose name is a template, not a JSON body.
        if c.hasPrefix("{{") { return nil }
        if c.peek == "{" { return .json }
        if c.peek == "[", sectionName(index) == nil { return .json }
        if c.peek == "<" { return .xml }
        if c.hasPrefix("base64,") || c.hasPrefix("hex,") || c.hasPrefix("file,") { return .encoded }
        return nil
    }

    /// Rejects a `# @directive` inside an entry.
    func checkComment(_ index: Int) throws(ParseError) {
        if let d = try directiveLine(index) {
            throw error("monitor directives must come before the first request", line: index, column: d.column)
        }
    }

    mutating func entry() throws(ParseError) -> Entry {
        var c = cursor(current, at: indent(current))
        let location = c.location
        var method = ""
        while let s = c.peek, ("A"..."Z").contains(s) {
            method.unicodeScalars.append(s)
            c.index += 1
        }
        guard !c.atLineEnd() else {
            throw error("expected a URL after \(method)", line: current, column: c.index)
        }
        let url = try c.valueTemplate()
        if url.parts.isEmpty { throw error("expected a URL after \(method)", line: current, column: c.index) }
        var request = Request(method: method, url: url, location: location)
        current += 1

        var seen: Set<String> = []
        var section: String?
        while current < lines.count {
            if isBlankOrComment(current) {
                try checkComment(current)
                current += 1
                continue
            }
            if isRequestLine(current) || isResponseLine(current) { break }
            if let (name, column) = sectionName(current) {
                section = try enterSection(name, column: column, request: true, seen: &seen)
                current += 1
                continue
            }
            if let start = bodyStart(current) {
                request.body = try body(start)
                break
            }
            var line = cursor(current, at: indent(current))
            switch section {
            case nil: request.headers.append(try keyValue(&line, what: "header"))
            case "Query": request.query.append(try keyValue(&line, what: "query parameter"))
            case "Form": request.form.append(try keyValue(&line, what: "form field"))
            case "Cookies": request.cookies.append(try keyValue(&line, what: "cookie"))
            case "Multipart": request.multipart.append(try multipartPart(&line))
            case "BasicAuth":
                guard request.basicAuth == nil else {
                    throw error("[BasicAuth] takes one user: password line", line: current, column: indent(current))
                }
                request.basicAuth = try keyValue(&line, what: "user: password")
            case "Options": request.options.append(try option(&line))
            default: break
            }
            current += 1
        }

        var response: ResponseSpec?
        while current < lines.count {
            if isBlankOrComment(current) {
                try checkComment(current)
                current += 1
                continue
            }
            if isResponseLine(current) { response = try responseSpec() }
            break
        }
        if request.body != nil, current < lines.count, !isRequestLine(current), !isResponseLine(current),
            !isBlankOrComment(current)
        {
            throw error(
                "expected the response (HTTP 200) or the next request after the body",
                line: current, column: indent(current))
        }
        return Entry(request: request, response: response, location: location)
    }

    /// Validates a section header; returns its canonical name.
    mutating func enterSection(
        _ name: String, column: Int, request: Bool,
        seen: inout Set<String>
    ) throws(ParseError) -> String {
        let canonical: String
        switch name {
        case "QueryStringParams": canonical = "Query"
        case "FormParams": canonical = "Form"
        case "MultipartFormData": canonical = "Multipart"
        default: canonical = name
        }
        if Self.unsupportedSections.contains(name) {
            throw error("section [\(name)] is not supported by sonde yet", line: current, column: column)
        }
        let mine = request ? Self.requestSections : Self.responseSections
        let theirs = request ? Self.responseSections : Self.requestSections
        if !mine.contains(name) {
            if theirs.contains(name) {
                let place = request ? "in the response, after the HTTP line" : "in the request, before the HTTP line"
                throw error("section [\(name)] belongs \(place)", line: current, column: column)
            }
            var message = "unknown section [\(name)]"
            if let guess = Suggestion.closest(to: name, in: Self.requestSections + Self.responseSections) {
                message += "; did you mean [\(guess)]?"
            }
            throw error(message, line: current, column: column)
        }
        guard seen.insert(canonical).inserted else {
            throw error(
                "section [\(name)] appears twice in this \(request ? "request" : "response")", line: current,
                column: column)
        }
        return canonical
    }

    /// `key: value` with templates on both sides; a header may also be `Name;`, a header with an
    /// empty value.
    func keyValue(_ c: inout LineCursor, what: String) throws(ParseError) -> KeyValue {
        let start = c.location
        var key = try c.valueTemplate(stopAtColon: true)
        if what == "header", c.peek != ":", case .literal(let last)? = key.parts.last, last.hasSuffix(";"),
            last.count > 1
        {
            key.parts[key.parts.count - 1] = .literal(String(last.dropLast()))
            if let literal = key.literalValue, literal.contains(where: { $0 == " " || $0 == "\t" || $0 == ";" }) {
                throw c.error("expected a header line such as name: value (the name has a space)", at: start)
            }
            return KeyValue(key: key, value: Template(literal: "", location: c.location), location: start)
        }
        guard c.peek == ":" else {
            throw c.error("expected a \(what) line such as name: value", at: start)
        }
        if key.parts.isEmpty { throw c.error("expected a name before ':'", at: start) }
        if let literal = key.literalValue, literal.contains(where: { $0 == " " || $0 == "\t" }) {
            throw c.error("expected a \(what) line such as name: value (the name has a space)", at: start)
        }
        c.index += 1
        let value = try c.valueTemplate()
        return KeyValue(key: key, value: value, location: start)
    }

    mutating func responseSpec() throws(ParseError) -> ResponseSpec {
        var c = cursor(current, at: indent(current))
        let location = c.location
        c.index += 4
        var version = ResponseSpec.Version.any
        if c.peek == "/" {
            c.index += 1
            let v = c.word()
            switch v {
            case "1.0": version = .http1_0
            case "1.1": version = .http1_1
            case "2": version = .http2
            case "3": version = .http3
            default: throw c.error("expected an HTTP version: HTTP, HTTP/1.0, HTTP/1.1, HTTP/2 or HTTP/3")
            }
        }
        guard c.peek == " " || c.peek == "\t" else {
            throw c.error("expected a status code such as 200 or * after HTTP")
        }
        c.skipSpaces()
        let statusLocation = c.location
        let status: ResponseSpec.Status
        if c.peek == "*" {
            c.index += 1
            status = .any
        } else {
            let digits = c.word()
            guard digits.count == 3, let code = Int(digits), code >= 100 else {
                throw c.error("expected a status code such as 200 or * after HTTP", at: statusLocation)
            }
            status = .code(code)
        }
        try c.expectLineEnd("the status line")
        var spec = ResponseSpec(version: version, status: status, location: location, statusLocation: statusLocation)
        current += 1

        var seen: Set<String> = []
        var section: String?
        while current < lines.count {
            if isBlankOrComment(current) {
                try checkComment(current)
                current += 1
                continue
            }
            if isRequestLine(current) { break }
            if isResponseLine(current) {
                throw error(
                    "this entry already has a response; start a new entry with a request line",
                    line: current, column: indent(current))
            }
            if let (name, column) = sectionName(current) {
                section = try enterSection(name, column: column, request: false, seen: &seen)
                current += 1
                continue
            }
            if let start = bodyStart(current) {
                spec.body = try body(start)
                break
            }
            var line = cursor(current, at: indent(current))
            switch section {
            case nil: spec.headers.append(try keyValue(&line, what: "header"))
            case "Captures": spec.captures.append(try capture(&line))
            case "Asserts": spec.asserts.append(try assertLine(&line))
            default: break
            }
            current += 1
        }
        return spec
    }

    // MARK: bodies

    mutating func body(_ start: BodyStart) throws(ParseError) -> Body {
        switch start {
        case .oneline:
            var c = cursor(current, at: indent(current))
            let location = c.location
            let template = try c.backtick()
            try c.expectLineEnd("the body")
            current += 1
            return Body(kind: .oneline(template), location: location)
        case .multiline:
            return try multilineBody()
        case .json:
            return try jsonBody()
        case .encoded:
            var c = cursor(current, at: indent(current))
            if c.hasPrefix("base64,"), !lines[current].contains(";") { return try multilineBase64Body() }
            let body = try encodedBody(&c)
            try c.expectLineEnd("the body")
            current += 1
            return body
        case .xml:
            return try xmlBody()
        }
    }

    /// `base64,…;`, `hex,…;` or `file,name;` at the cursor.
    func encodedBody(_ c: inout LineCursor) throws(ParseError) -> Body {
        let location = c.location
        let word = c.word()
        c.index += 1  // the comma
        c.skipSpaces()
        var text = ""
        let valueStart = c.location
        while let s = c.peek, s != ";" {
            text.unicodeScalars.append(s)
            c.index += 1
        }
        guard c.peek == ";" else {
            throw c.error("expected ; to end the \(word), value", at: location)
        }
        c.index += 1
        while let last = text.unicodeScalars.last, last == " " || last == "\t" { text.unicodeScalars.removeLast() }
        switch word {
        case "base64":
            let compact = text.filter { $0 != " " && $0 != "\t" }
            guard let data = Data(base64Encoded: compact) else {
                throw c.error("invalid base64 value: expected letters, digits, +, / and = padding", at: valueStart)
            }
            return Body(kind: .bytes([UInt8](data)), location: location)
        case "hex":
            guard let bytes = Self.hexBytes(text) else {
                throw c.error("invalid hex value: expected pairs of hexadecimal digits", at: valueStart)
            }
            return Body(kind: .bytes(bytes), location: location)
        default:
            return Body(kind: .file(try fileName(text, at: valueStart, cursor: c)), location: location)
        }
    }

    /// A `base64,…;` body whose value runs over several lines: MIME's Base64, as Hurl reads it
    /// (line breaks and spaces inside the value are ignored).
    mutating func multilineBase64Body() throws(ParseError) -> Body {
        let first = cursor(current, at: indent(current))
        let location = first.location
        var c = first
        c.index += "base64,".unicodeScalars.count
        var text = ""
        while true {
            while let s = c.peek, s != ";" {
                if s != " " && s != "\t" && s != "\r" { text.unicodeScalars.append(s) }
                c.index += 1
            }
            if c.peek == ";" { break }
            current += 1
            guard current < lines.count else { throw first.error("expected ; to end the base64, value", at: location) }
            c = cursor(current, at: 0)
        }
        c.index += 1
        try c.expectLineEnd("the body")
        current += 1
        guard let data = Data(base64Encoded: text) else {
            throw first.error("invalid base64 value: expected letters, digits, +, / and = padding", at: location)
        }
        return Body(kind: .bytes([UInt8](data)), location: location)
    }

    /// The file of `file,name;`: a relative path (resolved when the check is loaded).
    func fileName(_ text: String, at location: SourceLocation, cursor c: LineCursor) throws(ParseError) -> BodyFile {
        guard !text.isEmpty else { throw c.error("expected a file name after file,", at: location) }
        guard !text.contains("{{") else {
            throw c.error(
                "a file name cannot hold {{templates}} in sonde: the file is read when the check is loaded",
                at: location)
        }
        return BodyFile(name: text.replacingOccurrences(of: "\\;", with: ";"), location: location)
    }

    /// An XML body: lines from the one starting with `<` up to the blank line, comment, request or
    /// response line that ends it, sent as written.
    mutating func xmlBody() throws(ParseError) -> Body {
        let location = SourceLocation(line: current + 1, column: indent(current) + 1)
        var text = ""
        while current < lines.count {
            if indent(current) >= lines[current].count || isRequestLine(current) || isResponseLine(current) { break }
            if !text.isEmpty { text += "\n" }
            text += String(String.UnicodeScalarView(lines[current]))
            current += 1
        }
        return Body(kind: .xml(text), location: location)
    }

    /// One line of `[Multipart]`: `name: value` or `name: file,name; type/subtype`.
    func multipartPart(_ c: inout LineCursor) throws(ParseError) -> MultipartPart {
        let start = c.location
        let key = try c.valueTemplate(stopAtColon: true)
        guard c.peek == ":", !key.parts.isEmpty else {
            throw c.error("expected a multipart line such as name: value or name: file,photo.png;", at: start)
        }
        c.index += 1
        c.skipSpaces()
        guard c.hasPrefix("file,") else {
            let value = try c.valueTemplate()
            return .field(KeyValue(key: key, value: value, location: start))
        }
        guard case .file(let file) = try encodedBody(&c).kind else {
            throw c.error("expected file,name; for a multipart file", at: start)
        }
        var contentType = ""
        c.skipSpaces()
        while let s = c.peek, s != "#" {
            contentType.unicodeScalars.append(s)
            c.index += 1
        }
        while let last = contentType.unicodeScalars.last, last == " " || last == "\t" {
            contentType.unicodeScalars.removeLast()
        }
        return .file(name: key, file: file, contentType: contentType.isEmpty ? nil : contentType)
    }

    mutating func multilineBody() throws(ParseError) -> Body {
        var c = cursor(current, at: indent(current))
        let location = c.location
        c.index += 3
        let tag = c.word()
        let tagColumn = c.index
        var tagValue: String?
        switch tag {
        case "": tagValue = nil
        case "json", "raw", "xml", "graphql": tagValue = tag
        default:
            throw error(
                "unknown multiline body tag '\(tag)': expected json, xml, graphql, raw or nothing after ```",
                line: current, column: tagColumn - tag.count)
        }
        if !c.atLineEnd() { throw c.error("expected the end of the line after ```\(tag)") }
        let opening = current
        current += 1
        var parts: [Template.Part] = []
        var literal = ""
        var variablesParts: [Template.Part]?  // the query's parts once `variables` is seen
        var variablesLocation = location
        while true {
            guard current < lines.count else {
                throw error(
                    "unterminated multiline string: expected a closing ``` line", line: opening,
                    column: location.column - 1)
            }
            let line = lines[current]
            var trimmed = line[...]
            while let f = trimmed.first, f == " " || f == "\t" { trimmed = trimmed.dropFirst() }
            while let l = trimmed.last, l == " " || l == "\t" { trimmed = trimmed.dropLast() }
            if Array(trimmed) == Array("```".unicodeScalars) {
                current += 1
                break
            }
            if tag == "graphql", variablesParts == nil, trimmed.starts(with: "variables".unicodeScalars),
                trimmed.dropFirst(9).drop(while: { $0 == " " || $0 == "\t" }).first == "{"
            {
                // The GraphQL variables: a JSON object from here to the closing ```.
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = ""
                variablesParts = parts
                parts = []
                let brace = line.firstIndex(of: "{") ?? 0
                variablesLocation = SourceLocation(line: current + 1, column: brace + 1)
                try appendRawTemplate(
                    Array(line[brace...]), line: current, literal: &literal, parts: &parts, encoding: .plain)
                literal += "\n"
                current += 1
                continue
            }
            try appendRawTemplate(line, line: current, literal: &literal, parts: &parts, encoding: .plain)
            literal += "\n"
            current += 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        if tag == "graphql" {
            if let query = variablesParts {
                // `query` holds the lines before `variables`, `parts` the variables' object.
                return Body(
                    kind: .graphql(
                        query: Template(parts: query, location: location),
                        variables: Template(parts: parts, location: variablesLocation)),
                    location: location)
            }
            return Body(
                kind: .graphql(query: Template(parts: parts, location: location), variables: nil), location: location)
        }
        return Body(kind: .multiline(Template(parts: parts, location: location), tag: tagValue), location: location)
    }

    /// Splits raw text into literals and `{{name}}` placeholders (no escapes, no comments).
    func appendRawTemplate(
        _ scalars: [Unicode.Scalar], line: Int, literal: inout String,
        parts: inout [Template.Part], encoding: Placeholder.Encoding
    ) throws(ParseError) {
        var c = LineCursor(scalars, line: line + 1, path: path)
        while let s = c.peek {
            if c.hasPrefix("{{") {
                if !literal.isEmpty {
                    parts.append(.literal(literal))
                    literal = ""
                }
                parts.append(.placeholder(try c.placeholder(encoding: encoding)))
                continue
            }
            literal.unicodeScalars.append(s)
            c.index += 1
        }
    }

    mutating func jsonBody() throws(ParseError) -> Body {
        let firstLine = current
        let firstColumn = indent(current)
        let location = SourceLocation(line: firstLine + 1, column: firstColumn + 1)
        var parts: [Template.Part] = []
        var literal = ""
        var validation = ""
        var depth = 0
        var inString = false
        var line = firstLine
        var column = firstColumn
        var closing: Unicode.Scalar = "}"
        var done = false
        while !done {
            guard line < lines.count else {
                throw error(
                    "unterminated JSON body: expected a closing \(closing)", line: firstLine, column: firstColumn)
            }
            var c = LineCursor(lines[line], line: line + 1, path: path, index: column)
            while let s = c.peek {
                if c.hasPrefix("{{") {
                    let start = c.index
                    let p = try c.placeholder(encoding: inString ? .jsonString : .jsonValue)
                    if !literal.isEmpty {
                        parts.append(.literal(literal))
                        literal = ""
                    }
                    parts.append(.placeholder(p))
                    let width = c.index - start
                    validation +=
                        inString ? String(repeating: "x", count: width) : "0" + String(repeating: " ", count: width - 1)
                    continue
                }
                literal.unicodeScalars.append(s)
                validation.unicodeScalars.append(s)
                c.index += 1
                if inString {
                    if s == "\\", let next = c.peek {
                        literal.unicodeScalars.append(next)
                        validation.unicodeScalars.append(next)
                        c.index += 1
                    } else if s == "\"" {
                        inString = false
                    }
                    continue
                }
                switch s {
                case "\"": inString = true
                case "{", "[":
                    depth += 1
                    closing = s == "{" ? "}" : "]"
                case "}", "]":
                    depth -= 1
                default: break
                }
                if depth == 0 {
                    done = true
                    break
                }
            }
            if done {
                var rest = c
                if !rest.atLineEnd() {
                    throw error("unexpected text after the JSON body", line: line, column: rest.index)
                }
                current = line + 1
            } else {
                literal += "\n"
                validation += "\n"
                line += 1
                column = 0
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        do {
            _ = try JSON.parse(validation)
        } catch let jsonError {
            let (l, col) = Self.position(ofByte: jsonError.offset, in: validation)
            throw error(
                "invalid JSON body: \(jsonError.message)", line: firstLine + l,
                column: (l == 0 ? firstColumn : 0) + col)
        }
        return Body(kind: .json(Template(parts: parts, location: location)), location: location)
    }

    /// Line (0-based, relative) and column (0-based, scalars) of a UTF-8 byte offset.
    static func position(ofByte offset: Int, in text: String) -> (Int, Int) {
        var bytes = 0
        var line = 0
        var column = 0
        for scalar in text.unicodeScalars {
            if bytes >= offset { break }
            bytes += String(scalar).utf8.count
            if scalar == "\n" {
                line += 1
                column = 0
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
