import Foundation
import SondeProbe
import SondeScript
import SondeSupport
import Synchronization

/// A response with its decoded text and parsed JSON computed once, however many asserts read them.
/// The cache sits behind a `Mutex`, so the context is safely `Sendable`.
final class ResponseContext: Sendable {
    /// The response the queries read.
    let response: ProbeResponse
    /// Set when nobody waits for this evaluation any more: JSONPath and regex stop at their next check.
    let stop: StopFlag?
    private let cache = Mutex<(text: Result<String, EvalError>?, json: Result<Value, JSONError>?)>((nil, nil))
    /// The body parsed for XPath, on first use.
    private let xml = Mutex<Result<XMLTree, EvalError>?>(nil)

    /// A context for `response`; text and JSON are decoded on first use. Queries over it give up
    /// once `stop` is set.
    init(response: ProbeResponse, stop: StopFlag? = nil) {
        self.response = response
        self.stop = stop
    }

    /// The body decoded with the charset of `Content-Type` (UTF-8 by default).
    func text(at location: SourceLocation) throws(EvalError) -> String {
        if let cached = cache.withLock({ $0.text }) { return try cached.get() }
        let result = Self.decode(response.body, contentType: response.headers.first("Content-Type"), location: location)
        cache.withLock { $0.text = result }
        return try result.get()
    }

    /// The body parsed as HTML (when `Content-Type` says so, or it starts like HTML) or XML.
    func xmlTree(at location: SourceLocation) throws(EvalError) -> XMLTree {
        if let cached = xml.withLock({ $0 }) { return try cached.get() }
        let html = response.headers.first("Content-Type")?.lowercased().contains("html") ?? false
        let result: Result<XMLTree, EvalError>
        do {
            result = .success(try XPathEvaluator.document(try text(at: location), html: html, location: location))
        } catch {
            result = .failure(error)
        }
        xml.withLock { $0 = result }
        return try result.get()
    }

    /// The body parsed as JSON.
    func json(at location: SourceLocation) throws(EvalError) -> Value {
        if let cached = cache.withLock({ $0.json }) {
            switch cached {
            case .success(let v): return v
            case .failure(let e): throw .bodyNotJSON(message: e.description, location: location)
            }
        }
        // A body in another charset (`charset=iso-8859-1`) is decoded first, as `body` reads it;
        // UTF-8 (the default, and JSON's own) is parsed from the bytes as they came.
        let charset = Self.charset(response.headers.first("Content-Type"))
        let bytes = charset == "utf-8" || charset == "utf8" ? response.body : Array(try text(at: location).utf8)
        let result: Result<Value, JSONError>
        do { result = .success(try JSON.parse(bytes, stop: stop)) } catch { result = .failure(error) }
        cache.withLock { $0.json = result }
        switch result {
        case .success(let v): return v
        case .failure(let e): throw .bodyNotJSON(message: e.description, location: location)
        }
    }

    /// The charset of a `Content-Type` value, lowercased; `utf-8` when it names none.
    static func charset(_ contentType: String?) -> String {
        guard let contentType, let range = contentType.lowercased().range(of: "charset=") else { return "utf-8" }
        return String(contentType.lowercased()[range.upperBound...])
            .split(separator: ";").first.map(String.init)?
            .trimmingCharacters(in: CharacterSet(charactersIn: "\"' ")) ?? "utf-8"
    }

    /// The Foundation encoding of a charset name; nil for one sonde does not decode.
    static func encoding(_ charset: String) -> String.Encoding? {
        switch charset.lowercased() {
        case "utf-8", "utf8": return .utf8
        case "iso-8859-1", "latin1", "iso8859-1", "latin-1": return .isoLatin1
        case "us-ascii", "ascii": return .ascii
        case "windows-1252", "cp1252": return .windowsCP1252
        case "utf-16": return .utf16
        case "utf-16le": return .utf16LittleEndian
        case "utf-16be": return .utf16BigEndian
        default: return nil
        }
    }

    /// `bytes` as text in `charset`; nil when they are not valid text in it or it is unknown.
    static func decode(_ bytes: [UInt8], charset: String) -> String? {
        guard let encoding = encoding(charset) else { return nil }
        if encoding == .utf8 { return String(validating: bytes, as: UTF8.self) }
        return String(data: Data(bytes), encoding: encoding)
    }

    static func decode(_ body: [UInt8], contentType: String?, location: SourceLocation) -> Result<String, EvalError> {
        let charset = Self.charset(contentType)
        let encoding: String.Encoding
        switch charset {
        case "utf-8", "utf8": encoding = .utf8
        case "iso-8859-1", "latin1", "iso8859-1", "latin-1": encoding = .isoLatin1
        case "us-ascii", "ascii": encoding = .ascii
        case "windows-1252", "cp1252": encoding = .windowsCP1252
        case "utf-16": encoding = .utf16
        case "utf-16le": encoding = .utf16LittleEndian
        case "utf-16be": encoding = .utf16BigEndian
        default: return .failure(.bodyNotText(charset: charset, location: location))
        }
        if encoding == .utf8 {
            guard let text = String(validating: body, as: UTF8.self) else {
                return .failure(.bodyNotText(charset: charset, location: location))
            }
            return .success(text)
        }
        guard let text = String(data: Data(body), encoding: encoding) else {
            return .failure(.bodyNotText(charset: charset, location: location))
        }
        return .success(text)
    }
}
