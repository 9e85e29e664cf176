import Foundation
import SondeProbe
import SondeScript
import SondeSupport

/// Applies Hurl filters left to right. A filter on a missing value is an error, not a silent pass.
enum FilterEvaluator {
    /// `value` through `filter`; `now` is the time date filters compare with; a regex gives up
    /// once `stop` is set.
    static func apply(
        _ filter: Filter, to value: Value?, variables: Variables,
        now: Date = Date(), stop: StopFlag? = nil
    ) throws(EvalError) -> Value? {
        let name = Self.name(filter.kind)
        guard let value else {
            throw .filterFailed(filter: name, message: "there is no value to filter", location: filter.location)
        }
        func fail(_ message: String) -> EvalError {
            .filterFailed(filter: name, message: message, location: filter.location)
        }
        switch filter.kind {
        case .count:
            switch value {
            case .list(let items): return .integer(Int64(items.count))
            case .bytes(let b): return .integer(Int64(b.count))
            case .object(let pairs): return .integer(Int64(pairs.count))
            default: throw fail("expected a list, got \(ValueText.typed(value))")
            }
        case .nth(let n):
            guard case .list(let items) = value else { throw fail("expected a list, got \(ValueText.typed(value))") }
            let i = n < 0 ? items.count + n : n
            guard i >= 0, i < items.count else { throw fail("index \(n) is out of range for a list of \(items.count)") }
            return items[i]
        case .first, .last:
            guard case .list(let items) = value else { throw fail("expected a list, got \(ValueText.typed(value))") }
            guard let item = filter.kind == .first ? items.first : items.last else { throw fail("the list is empty") }
            return item
        case .regex(let template):
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            let pattern = try TemplateRenderer.render(template, variables)
            return try QueryEvaluator.firstMatch(pattern, in: text, location: template.location, stop: stop)
                .map(Value.string)
        case .split(let template):
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            let separator = try TemplateRenderer.render(template, variables)
            guard !separator.isEmpty else { throw fail("the separator is empty") }
            return .list(text.components(separatedBy: separator).map(Value.string))
        case .replace(let old, let new):
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            let from = try TemplateRenderer.render(old, variables)
            let to = try TemplateRenderer.render(new, variables)
            guard !from.isEmpty else { return .string(text) }
            return .string(text.replacingOccurrences(of: from, with: to))
        case .toInt:
            switch value {
            case .integer: return value
            case .float(let d):
                guard d.isFinite, abs(d) < 9.2e18 else { throw fail("\(JSON.formatFloat(d)) does not fit an integer") }
                return .integer(Int64(d))
            case .string(let s):
                guard let i = Int64(s.trimmingCharacters(in: .whitespaces)) else {
                    throw fail("<\(s)> is not an integer")
                }
                return .integer(i)
            default: throw fail("cannot convert \(ValueText.typed(value)) to an integer")
            }
        case .toFloat:
            switch value {
            case .float: return value
            case .integer(let i): return .float(Double(i))
            case .string(let s):
                guard let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite else {
                    throw fail("<\(s)> is not a number")
                }
                return .float(d)
            default: throw fail("cannot convert \(ValueText.typed(value)) to a float")
            }
        case .toString:
            return .string(ValueText.plain(value))
        case .daysAfterNow:
            guard case .date(let date) = value else { throw fail("expected a date, got \(ValueText.typed(value))") }
            return .integer(Int64((date.timeIntervalSince(now) / 86_400).rounded(.towardZero)))
        case .daysBeforeNow:
            guard case .date(let date) = value else { throw fail("expected a date, got \(ValueText.typed(value))") }
            return .integer(Int64((now.timeIntervalSince(date) / 86_400).rounded(.towardZero)))
        case .base64Decode, .base64UrlSafeDecode:
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            guard let bytes = TextCodings.base64Decode(text, urlSafe: filter.kind == .base64UrlSafeDecode) else {
                throw fail("<\(ValueText.plain(value).prefix(40))> is not base64")
            }
            return .bytes(bytes)
        case .base64Encode, .base64UrlSafeEncode:
            let bytes = try Self.bytes(of: value, fail)
            return .string(TextCodings.base64Encode(bytes, urlSafe: filter.kind == .base64UrlSafeEncode))
        case .decode(let template):
            guard case .bytes(let bytes) = value else { throw fail("expected bytes, got \(ValueText.typed(value))") }
            let charset = try TemplateRenderer.render(template, variables)
            guard ResponseContext.encoding(charset) != nil else {
                throw fail(
                    "unknown charset <\(charset)>: sonde decodes utf-8, iso-8859-1, windows-1252, us-ascii, utf-16")
            }
            guard let text = ResponseContext.decode(bytes, charset: charset) else {
                throw fail("the bytes are not valid \(charset) text")
            }
            return .string(text)
        case .format(let template):
            guard case .date(let date) = value else { throw fail("expected a date, got \(ValueText.typed(value))") }
            let pattern = try TemplateRenderer.render(template, variables)
            switch StrftimeDate.format(date, pattern) {
            case .success(let text): return .string(text)
            case .failure(let error): throw fail(error.description)
            }
        case .toDate(let template):
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            let pattern = try TemplateRenderer.render(template, variables)
            guard let date = StrftimeDate.parse(text, pattern) else {
                throw fail("<\(text.prefix(60))> does not match the date format <\(pattern)>")
            }
            return .date(date)
        case .htmlEscape:
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            return .string(TextCodings.htmlEscape(text))
        case .htmlUnescape:
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            return .string(TextCodings.htmlUnescape(text))
        case .urlEncode:
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            return .string(TextCodings.urlEncode(text))
        case .urlDecode:
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            guard let decoded = TextCodings.percentDecode(text) else {
                throw fail("<\(text.prefix(60))> is not valid percent-encoded UTF-8")
            }
            return .string(decoded)
        case .urlQueryParam(let template):
            guard case .string(let text) = value else {
                throw fail("expected a URL string, got \(ValueText.typed(value))")
            }
            let name = try TemplateRenderer.render(template, variables)
            return TextCodings.queryParameter(name, in: text).map(Value.string)
        case .jsonpath(let template):
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            let expression = try TemplateRenderer.render(template, variables)
            let path: JSONPath
            do { path = try JSONPath(expression) } catch {
                throw .invalidJSONPath(message: error.description, location: template.location)
            }
            let document: Value
            do { document = try JSON.parse(Array(text.utf8), stop: stop) } catch {
                throw fail("the value is not JSON: \(error.description)")
            }
            let nodes: [Value]
            do { nodes = try path.evaluate(document, stop: stop) } catch {
                throw .evaluationLimit(message: error.description, location: template.location)
            }
            switch nodes.count {
            case 0: return nil
            case 1: return nodes[0]
            default: return .list(nodes)
            }
        case .xpath(let template):
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            let expression = try TemplateRenderer.render(template, variables)
            return try XPathEvaluator.evaluate(expression, in: text, html: false, location: template.location)
        case .utf8Decode:
            guard case .bytes(let bytes) = value else { throw fail("expected bytes, got \(ValueText.typed(value))") }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw fail("the bytes are not valid UTF-8")
            }
            return .string(text)
        case .utf8Encode:
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            return .bytes(Array(text.utf8))
        case .toHex:
            let bytes = try Self.bytes(of: value, fail)
            return .string(TextCodings.hex(bytes))
        case .location:
            guard case .object(let pairs) = value, let location = pairs.first(where: { $0.key == "location" })?.value
            else { throw fail("expected a redirect (of the redirects query), got \(ValueText.typed(value))") }
            return location
        case .replaceRegex(let patternTemplate, let newTemplate):
            guard case .string(let text) = value else { throw fail("expected a string, got \(ValueText.typed(value))") }
            let pattern = try TemplateRenderer.render(patternTemplate, variables)
            let replacement = try TemplateRenderer.render(newTemplate, variables)
            let regex = try QueryEvaluator.compiled(pattern, location: patternTemplate.location)
            var out = ""
            var rest = Substring(text)
            // Each search starts where the last match ended; a pattern anchored at the start matches once.
            let anchored = pattern.hasPrefix("^") || pattern.hasPrefix("\\A")
            var first = true
            while first || (!rest.isEmpty && !anchored) {
                first = false
                let (match, stopped) = regex.firstMatch(in: String(rest), groups: 0, stop: stop)
                if stopped {
                    throw .evaluationLimit(message: QueryEvaluator.regexStopped, location: patternTemplate.location)
                }
                guard let whole = match?[0] else { break }
                let searched = whole.base
                out += searched[..<whole.startIndex] + replacement
                if whole.isEmpty {
                    // An empty match: keep one character and go on after it.
                    guard whole.endIndex < searched.endIndex else {
                        rest = ""
                        break
                    }
                    out.append(searched[whole.endIndex])
                    rest = searched[searched.index(after: whole.endIndex)...]
                } else {
                    rest = searched[whole.endIndex...]
                }
            }
            return .string(out + rest)
        }
    }

    /// The bytes of a `bytes` value, or of a string's UTF-8.
    private static func bytes(of value: Value, _ fail: (String) -> EvalError) throws(EvalError) -> [UInt8] {
        switch value {
        case .bytes(let b): return b
        case .string(let s): return Array(s.utf8)
        default: throw fail("expected bytes, got \(ValueText.typed(value))")
        }
    }

    static func name(_ kind: Filter.Kind) -> String {
        switch kind {
        case .count: return "count"
        case .nth: return "nth"
        case .first: return "first"
        case .last: return "last"
        case .regex: return "regex"
        case .split: return "split"
        case .replace: return "replace"
        case .toInt: return "toInt"
        case .toFloat: return "toFloat"
        case .toString: return "toString"
        case .daysAfterNow: return "daysAfterNow"
        case .daysBeforeNow: return "daysBeforeNow"
        case .base64Decode: return "base64Decode"
        case .base64Encode: return "base64Encode"
        case .base64UrlSafeDecode: return "base64UrlSafeDecode"
        case .base64UrlSafeEncode: return "base64UrlSafeEncode"
        case .decode: return "decode"
        case .format: return "format"
        case .toDate: return "toDate"
        case .htmlEscape: return "htmlEscape"
        case .htmlUnescape: return "htmlUnescape"
        case .urlEncode: return "urlEncode"
        case .urlDecode: return "urlDecode"
        case .urlQueryParam: return "urlQueryParam"
        case .jsonpath: return "jsonpath"
        case .xpath: return "xpath"
        case .utf8Decode: return "utf8Decode"
        case .utf8Encode: return "utf8Encode"
        case .toHex: return "toHex"
        case .location: return "location"
        case .replaceRegex: return "replaceRegex"
        }
    }
}
