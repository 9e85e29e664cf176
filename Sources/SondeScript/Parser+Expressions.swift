import Foundation
import SondeSupport

/// Captures, asserts and options: queries, filters, predicates and values.
extension Parser {
    static let queries = [
        "status", "version", "header", "body", "jsonpath", "regex", "variable", "duration", "url",
        "certificate", "cookie", "bytes", "xpath", "sha256", "md5", "ip", "redirects",
    ]
    static let unsupportedQueries: [String] = []
    static let filters = [
        "count", "nth", "first", "last", "regex", "split", "replace", "replaceRegex", "toInt", "toFloat",
        "toString", "daysAfterNow", "daysBeforeNow", "base64Decode", "base64Encode", "base64UrlSafeDecode",
        "base64UrlSafeEncode", "decode", "format", "dateFormat", "toDate", "htmlEscape", "htmlUnescape",
        "urlEncode", "urlDecode", "urlQueryParam", "jsonpath", "xpath", "utf8Decode", "utf8Encode", "toHex",
        "location",
    ]
    static let unsupportedFilters: [String] = []
    static let predicates = [
        "==", "!=", ">", ">=", "<", "<=", "contains", "startsWith", "endsWith", "matches", "exists",
        "isString", "isInteger", "isFloat", "isNumber", "isBoolean", "isList", "isEmpty", "not",
        "includes", "isCollection", "isObject", "isDate", "isIsoDate", "isUuid", "isIpv4", "isIpv6",
        "equals", "notEquals", "greaterThan", "greaterThanOrEquals", "lessThan", "lessThanOrEquals",
    ]
    static let unsupportedPredicates: [String] = []

    /// A word from the source, shortened for messages.
    static func shown(_ word: String) -> String {
        word.count <= 40 ? word : String(word.prefix(40)) + "…"
    }

    // MARK: lines

    func capture(_ c: inout LineCursor) throws(ParseError) -> Capture {
        let start = c.location
        var name = ""
        while let s = c.peek, s.isASCII, s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "_" || s == "-" {
            name.unicodeScalars.append(s)
            c.index += 1
        }
        guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else {
            throw c.error("expected a capture such as token: jsonpath \"$.token\"", at: start)
        }
        c.skipSpaces()
        guard c.peek == ":" else { throw c.error("expected ':' after the capture name \(name)") }
        c.index += 1
        c.skipSpaces()
        let query = try self.query(&c)
        let filters = try self.filters(&c, inAssert: false)
        c.skipSpaces()
        var redact = false
        if c.hasPrefix("redact"), c.peek(6) == nil || c.peek(6) == " " || c.peek(6) == "\t" || c.peek(6) == "#" {
            redact = true
            c.index += 6
        }
        try c.expectLineEnd("the capture")
        return Capture(name: name, query: query, filters: filters, redact: redact, location: start)
    }

    func assertLine(_ c: inout LineCursor) throws(ParseError) -> Assert {
        let start = c.location
        let query = try self.query(&c)
        let filters = try self.filters(&c, inAssert: true)
        c.skipSpaces()
        let predicate = try self.predicate(&c)
        try c.expectLineEnd("the predicate")
        return Assert(query: query, filters: filters, predicate: predicate, location: start)
    }

    // MARK: queries

    func query(_ c: inout LineCursor) throws(ParseError) -> Query {
        let start = c.location
        let name = c.word()
        func quotedArgument(_ what: String) throws(ParseError) -> Template {
            c.skipSpaces()
            guard c.peek == "\"" else {
                throw c.error("expected \(what) in quotes after \(name), such as \(name) \"...\"")
            }
            return try c.quoted()
        }
        let kind: Query.Kind
        switch name {
        case "status": kind = .status
        case "version": kind = .version
        case "body": kind = .body
        case "bytes": kind = .bytes
        case "sha256": kind = .sha256
        case "md5": kind = .md5
        case "ip": kind = .ip
        case "redirects": kind = .redirects
        case "cookie":
            let argument = try quotedArgument("a cookie name")
            if let literal = argument.literalValue {
                guard let (cookie, _) = CookieAttribute.split(literal), !cookie.isEmpty else {
                    throw c.error(
                        "expected a cookie such as cookie \"id\" or cookie \"id[Path]\"; attributes: "
                            + CookieAttribute.allCases.map(\.rawValue).joined(separator: ", "),
                        at: argument.location)
                }
            }
            kind = .cookie(argument)
        case "xpath":
            kind = .xpath(try xpathArgument(&c, after: "xpath"))
        case "duration": kind = .duration
        case "url": kind = .url
        case "header": kind = .header(try quotedArgument("a header name"))
        case "jsonpath":
            let expression = try quotedArgument("a JSONPath expression")
            if let literal = expression.literalValue {
                do { _ = try JSONPath(literal) } catch {
                    throw c.error("invalid JSONPath \"\(literal)\": \(error.message)", at: expression.location)
                }
            }
            kind = .jsonpath(expression)
        case "regex": kind = .regex(try regexArgument(&c, after: "regex"))
        case "variable":
            let argument = try quotedArgument("a variable name")
            guard let literal = argument.literalValue, !literal.isEmpty else {
                throw c.error("expected a variable name such as variable \"token\"", at: argument.location)
            }
            kind = .variable(literal)
        case "certificate":
            let argument = try quotedArgument("a certificate field")
            let valid = CertificateField.allCases.map(\.rawValue)
            guard let literal = argument.literalValue, let field = CertificateField(rawValue: literal) else {
                throw c.error(
                    "unknown certificate field \(argument): expected one of "
                        + valid.map { "\"\($0)\"" }.joined(separator: ", "), at: argument.location)
            }
            kind = .certificate(field)
        default:
            if Self.unsupportedQueries.contains(name) {
                throw c.error("query '\(name)' is not supported by sonde yet", at: start)
            }
            var message =
                name.isEmpty
                ? "expected a query such as status, header \"Name\" or jsonpath \"$.x\""
                : "unknown query '\(Self.shown(name))'"
            if !name.isEmpty, let guess = Suggestion.closest(to: name, in: Self.queries) {
                message += "; did you mean \(guess)?"
            } else if !name.isEmpty {
                message += "; expected one of " + Self.queries.joined(separator: ", ")
            }
            throw c.error(message, at: start)
        }
        return Query(kind: kind, location: start)
    }

    /// `"pattern"` or `/pattern/`, compiled (and cached for the runs) when it has no placeholder. An
    /// invalid pattern is an error at the column of the fault inside it.
    func regexArgument(_ c: inout LineCursor, after what: String) throws(ParseError) -> Template {
        c.skipSpaces()
        let template: Template
        let open = c.index
        let slashes = c.peek == "/"
        if c.peek == "\"" {
            template = try c.quoted()
        } else if slashes {
            template = try c.regexLiteral()
        } else {
            throw c.error("expected a regex such as \"([0-9]+)\" or /([0-9]+)/ after \(what)")
        }
        if let literal = template.literalValue {
            do { _ = try LinearRegex.cached(literal) } catch {
                let columns = c.patternColumns(from: open, to: c.index, slashDelimited: slashes)
                let column = error.offset < columns.count ? columns[error.offset] : c.index
                throw c.error("invalid regex: \(error.message)", at: SourceLocation(line: c.line, column: column))
            }
        }
        return template
    }

    /// The quoted argument of a filter such as `decode "iso-8859-1"`.
    func quotedFilterArgument(_ c: inout LineCursor, _ name: String, example: String) throws(ParseError) -> Template {
        c.skipSpaces()
        guard c.peek == "\"" else { throw c.error("expected an argument in quotes such as \(name) \(example)") }
        return try c.quoted()
    }

    /// The quoted XPath expression of an `xpath` query or filter, checked now when it has no placeholder.
    func xpathArgument(_ c: inout LineCursor, after what: String) throws(ParseError) -> Template {
        c.skipSpaces()
        guard c.peek == "\"" else {
            throw c.error("expected an XPath expression in quotes after \(what), such as \(what) \"//h1\"")
        }
        let expression = try c.quoted()
        if let literal = expression.literalValue, let problem = XPathSyntax.problem(in: literal) {
            throw c.error("invalid XPath \"\(Self.shown(literal))\": \(problem)", at: expression.location)
        }
        return expression
    }

    /// The bytes of hex digits (`0a1B`, spaces and tabs between them allowed); nil for an odd
    /// count or another character.
    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") })
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let high = hexValue(digits[i]), let low = hexValue(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    // MARK: filters

    func filters(_ c: inout LineCursor, inAssert: Bool) throws(ParseError) -> [Filter] {
        var out: [Filter] = []
        while true {
            c.skipSpaces()
            if c.atEnd || c.peek == "#" { return out }
            let save = c.index
            let start = c.location
            let name = c.word()
            guard !name.isEmpty else {
                c.index = save
                return out
            }
            if Self.unsupportedFilters.contains(name) {
                throw c.error("filter '\(name)' is not supported by sonde yet", at: start)
            }
            if !Self.filters.contains(name) {
                if !inAssert && name == "redact" {
                    c.index = save
                    return out
                }
                if inAssert && (Self.predicates.contains(name) || Self.unsupportedPredicates.contains(name)) {
                    c.index = save
                    return out
                }
                var message =
                    inAssert
                    ? "expected a filter or a predicate such as == or contains after the query, found '\(Self.shown(name))'"
                    : "expected a filter such as count or nth 0, found '\(Self.shown(name))'"
                if let guess = Suggestion.closest(to: name, in: Self.filters + (inAssert ? Self.predicates : [])) {
                    message += "; did you mean \(guess)?"
                }
                throw c.error(message, at: start)
            }
            let kind: Filter.Kind
            switch name {
            case "count": kind = .count
            case "first": kind = .first
            case "last": kind = .last
            case "toInt": kind = .toInt
            case "toFloat": kind = .toFloat
            case "toString": kind = .toString
            case "daysAfterNow": kind = .daysAfterNow
            case "daysBeforeNow": kind = .daysBeforeNow
            case "base64Decode": kind = .base64Decode
            case "base64Encode": kind = .base64Encode
            case "base64UrlSafeDecode": kind = .base64UrlSafeDecode
            case "base64UrlSafeEncode": kind = .base64UrlSafeEncode
            case "htmlEscape": kind = .htmlEscape
            case "htmlUnescape": kind = .htmlUnescape
            case "urlEncode": kind = .urlEncode
            case "urlDecode": kind = .urlDecode
            case "utf8Decode": kind = .utf8Decode
            case "utf8Encode": kind = .utf8Encode
            case "toHex": kind = .toHex
            case "location": kind = .location
            case "decode": kind = .decode(try quotedFilterArgument(&c, name, example: "\"iso-8859-1\""))
            case "format", "dateFormat": kind = .format(try quotedFilterArgument(&c, name, example: "\"%Y-%m-%d\""))
            case "toDate": kind = .toDate(try quotedFilterArgument(&c, name, example: "\"%Y-%m-%dT%H:%M:%S%z\""))
            case "urlQueryParam": kind = .urlQueryParam(try quotedFilterArgument(&c, name, example: "\"id\""))
            case "jsonpath":
                let expression = try quotedFilterArgument(&c, name, example: "\"$.id\"")
                if let literal = expression.literalValue {
                    do { _ = try JSONPath(literal) } catch {
                        throw c.error("invalid JSONPath \"\(literal)\": \(error.message)", at: expression.location)
                    }
                }
                kind = .jsonpath(expression)
            case "xpath": kind = .xpath(try xpathArgument(&c, after: "xpath"))
            case "replaceRegex":
                let pattern = try regexArgument(&c, after: "replaceRegex")
                c.skipSpaces()
                guard c.peek == "\"" else {
                    throw c.error("expected the replacement in quotes such as replaceRegex /[0-9]+/ \"n\"")
                }
                kind = .replaceRegex(pattern, try c.quoted())
            case "nth":
                c.skipSpaces()
                let numberStart = c.location
                var text = ""
                if c.peek == "-" {
                    text = "-"
                    c.index += 1
                }
                while let s = c.peek, ("0"..."9").contains(s) {
                    text.unicodeScalars.append(s)
                    c.index += 1
                }
                guard let n = Int(text) else {
                    throw c.error("expected an index such as nth 0 or nth -1", at: numberStart)
                }
                kind = .nth(n)
            case "regex":
                kind = .regex(try regexArgument(&c, after: "regex"))
            case "split":
                c.skipSpaces()
                guard c.peek == "\"" else { throw c.error("expected a separator in quotes such as split \",\"") }
                kind = .split(try c.quoted())
            case "replace":
                c.skipSpaces()
                guard c.peek == "\"" else { throw c.error("expected two strings such as replace \"old\" \"new\"") }
                let old = try c.quoted()
                c.skipSpaces()
                guard c.peek == "\"" else {
                    throw c.error("expected the replacement in quotes such as replace \"old\" \"new\"")
                }
                kind = .replace(old, try c.quoted())
            default:
                throw c.error("unknown filter '\(Self.shown(name))'", at: start)
            }
            out.append(Filter(kind: kind, location: start))
        }
    }

    // MARK: predicates

    func predicate(_ c: inout LineCursor) throws(ParseError) -> Predicate {
        let start = c.location
        var negated = false
        if c.hasPrefix("not"), c.peek(3) == " " || c.peek(3) == "\t" {
            negated = true
            c.index += 3
            c.skipSpaces()
        }
        let functionStart = c.location
        var name = ""
        if let s = c.peek, "=!<>".unicodeScalars.contains(s) {
            while let s = c.peek, "=!<>".unicodeScalars.contains(s) {
                name.unicodeScalars.append(s)
                c.index += 1
            }
        } else {
            name = c.word()
        }
        func value() throws(ParseError) -> PredicateValue {
            c.skipSpaces()
            return try predicateValue(&c, after: name)
        }
        let function: Predicate.Function
        switch name {
        case "==", "equals": function = .equal(try value())
        case "!=", "notEquals": function = .notEqual(try value())
        case ">", "greaterThan": function = .greater(try value())
        case ">=", "greaterThanOrEquals": function = .greaterOrEqual(try value())
        case "<", "lessThan": function = .less(try value())
        case "<=", "lessThanOrEquals": function = .lessOrEqual(try value())
        case "includes": function = .includes(try value())
        case "isCollection": function = .isCollection
        case "isObject": function = .isObject
        case "isDate": function = .isDate
        case "isIsoDate": function = .isIsoDate
        case "isUuid": function = .isUuid
        case "isIpv4": function = .isIpv4
        case "isIpv6": function = .isIpv6
        case "contains": function = .contains(try value())
        case "startsWith": function = .startsWith(try value())
        case "endsWith": function = .endsWith(try value())
        case "matches": function = .matches(try regexArgument(&c, after: "matches"))
        case "exists": function = .exists
        case "isString": function = .isString
        case "isInteger": function = .isInteger
        case "isFloat": function = .isFloat
        case "isNumber": function = .isNumber
        case "isBoolean": function = .isBoolean
        case "isList": function = .isList
        case "isEmpty": function = .isEmpty
        default:
            if Self.unsupportedPredicates.contains(name) {
                throw c.error("predicate '\(name)' is not supported by sonde yet", at: functionStart)
            }
            var message =
                name.isEmpty || name == "not"
                ? "expected a predicate such as == or contains after the query"
                : "unknown predicate '\(Self.shown(name))': expected a predicate such as == or contains after the query"
            if !name.isEmpty, let guess = Suggestion.closest(to: name, in: Self.predicates) {
                message += "; did you mean \(guess)?"
            }
            throw c.error(message, at: functionStart)
        }
        return Predicate(negated: negated, function: function, location: start)
    }

    /// `null`, `true`, `false`, numbers, `"string"`, `` `string` ``, `{{var}}`.
    func predicateValue(_ c: inout LineCursor, after what: String) throws(ParseError) -> PredicateValue {
        let start = c.location
        guard let s = c.peek, s != "#" else {
            throw c.error("expected a value after \(what), such as 200, \"text\", true or null")
        }
        if s == "\"" { return .string(try c.quoted()) }
        if s == "`" { return .string(try c.backtick()) }
        if c.hasPrefix("{{") {
            let p = try c.placeholder(encoding: .plain)
            return .placeholder(p)
        }
        if s == "-" || ("0"..."9").contains(s) {
            var text = ""
            while let d = c.peek, ("0"..."9").contains(d) || d == "-" || d == "." || d == "e" || d == "E" || d == "+" {
                text.unicodeScalars.append(d)
                c.index += 1
            }
            if !text.contains("."), !text.contains("e"), !text.contains("E") {
                guard let i = Int64(text) else {
                    throw c.error("number \(text) does not fit a 64-bit integer", at: start)
                }
                return .integer(i)
            }
            guard let d = Double(text), d.isFinite else { throw c.error("invalid number \(text)", at: start) }
            return .float(d, text: text)
        }
        let word = c.word()
        switch word {
        case "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "file" where c.peek == ",":
            c.index += 1
            var text = ""
            let nameStart = c.location
            while let s = c.peek, s != ";" {
                if s == "\\", c.peek(1) == ";" {
                    text += ";"
                    c.index += 2
                    continue
                }
                text.unicodeScalars.append(s)
                c.index += 1
            }
            guard c.peek == ";" else { throw c.error("expected ';' to end the file value", at: start) }
            c.index += 1
            let name = text.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw c.error("expected a file name after file,", at: nameStart) }
            guard !name.contains("{{") else {
                throw c.error(
                    "a file name cannot hold {{templates}} in sonde: the file is read when the check is loaded",
                    at: nameStart)
            }
            return .file(BodyFile(name: name, location: start))
        case "hex" where c.peek == ",", "base64" where c.peek == ",":
            c.index += 1
            var text = ""
            while let s = c.peek, s != ";" {
                if s != " " && s != "\t" { text.unicodeScalars.append(s) }
                c.index += 1
            }
            guard c.peek == ";" else { throw c.error("expected ';' to end the \(word) value", at: start) }
            c.index += 1
            if word == "hex" {
                guard let bytes = Self.hexBytes(text) else {
                    throw c.error("expected an even number of hex digits in hex,...;", at: start)
                }
                return .bytes(bytes)
            }
            guard let data = Data(base64Encoded: text) else {
                throw c.error("invalid base64 in base64,...;", at: start)
            }
            return .bytes(Array(data))
        default:
            if word.hasPrefix("hex") || word.hasPrefix("base64") {
                throw c.error("\(Self.shown(word)) values are not supported by sonde yet", at: start)
            }
            throw c.error(
                "expected a value after \(what), such as 200, \"text\", true or null (strings need quotes)", at: start)
        }
    }
}
