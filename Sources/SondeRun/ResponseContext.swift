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

    /// The body parsed as JSON.
    func json(at location: SourceLocation) throws(EvalError) -> Value {
        if let cached = cache.withLock({ $0.json }) {
            switch cached {
            case .success(let v): return v
            case .failure(let e): throw .bodyNotJSON(message: e.description, location: location)
            }
        }
        let result: Result<Value, JSONError>
        do { result = .success(try JSON.parse(response.body, stop: stop)) } catch { result = .failure(error) }
        cache.withLock { $0.json = result }
        switch result {
        case .success(let v): return v
        case .failure(let e): throw .bodyNotJSON(message: e.description, location: location)
        }
    }

    static func decode(_ body: [UInt8], contentType: String?, location: SourceLocation) -> Result<String, EvalError> {
        var charset = "utf-8"
        if let contentType, let range = contentType.lowercased().range(of: "charset=") {
            charset =
                String(contentType.lowercased()[range.upperBound...])
                .split(separator: ";").first.map(String.init)?
                .trimmingCharacters(in: CharacterSet(charactersIn: "\"' ")) ?? "utf-8"
        }
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
