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
    package var typeName: String {
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
        case let (.bool(x), .bool(y)): return x == y
        case let (.integer(x), .integer(y)): return x == y
        case let (.float(x), .float(y)): return x == y
        case let (.integer(x), .float(y)), let (.float(y), .integer(x)): return Double(x) == y
        case let (.string(x), .string(y)): return x == y
        case let (.list(x), .list(y)): return x == y
        case let (.object(x), .object(y)):
            guard x.count == y.count else { return false }
            for (l, r) in zip(x, y) where l.key != r.key || l.value != r.value { return false }
            return true
        case let (.bytes(x), .bytes(y)): return x == y
        case let (.date(x), .date(y)): return x == y
        default: return false
        }
    }
}
