import Foundation

/// A typed value produced by a query or a filter, compared with Hurl's typing rules:
/// `"1"` is not `1`, `true` is not `"true"`, `5 == 5.0` holds.
package enum Value: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case float(Double)
    case string(String)
    case list([Value])
    /// A JSON object, keys in document order.
    case object([(key: String, value: Value)])
    case bytes([UInt8])
    case date(Date)

    /// Hurl's type name, as shown in failure messages (`integer`, `string`, ...).
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .float: return "float"
        case .string: return "string"
        case .list: return "list"
        case .object: return "object"
        case .bytes: return "bytes"
        case .date: return "date"
        }
    }

    package static func == (a: Value, b: Value) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y
        case (.integer(let x), .float(let y)), (.float(let y), .integer(let x)): return Double(x) == y
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (l, r) in zip(x, y) where l.key != r.key || l.value != r.value { return false }
            return true
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.date(let x), .date(let y)): return x == y
        default: return false
        }
    }
}
