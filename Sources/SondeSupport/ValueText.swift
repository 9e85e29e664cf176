import Foundation

/// Text forms of values: as templates render them, and as failure messages show them (`integer <4>`).
package enum ValueText {
    /// The value as text in a URL, header or plain body: strings as they are, numbers and booleans
    /// as written, lists and objects as JSON.
    package static func plain(_ value: Value) -> String {
        switch value {
        case .string(let s): return s
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .float(let d): return JSON.formatFloat(d)
        case .date(let d): return iso8601(d)
        case .bytes(let b): return Data(b).base64EncodedString()
        case .list, .object: return JSON.encode(value)
        }
    }

    /// `integer <4>`, `string <abc>`, `none` for a missing value.
    package static func typed(_ value: Value?) -> String {
        guard let value else { return "none" }
        switch value {
        case .null: return "null"
        case .list, .object: return "\(value.typeName) <\(JSON.encode(value))>"
        case .bytes(let b): return "bytes <\(b.count) bytes>"
        default: return "\(value.typeName) <\(plain(value))>"
        }
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
