import Foundation

/// A byte-level JSON parser and encoder over `Value`. Integers that fit `Int64` stay integers,
/// object keys keep their order; Foundation's JSON is not used (it blurs integer, float and bool).
package enum JSON {
    /// Maximum nesting of arrays and objects accepted.
    static let maxDepth = 512

    package static func parse(_ text: String) throws(JSONError) -> Value {
        try parse(Array(text.utf8))
    }

    /// Parses `bytes`; gives up with an error once `stop` is set (checked every 4,096 values).
    package static func parse(_ bytes: [UInt8], stop: StopFlag? = nil) throws(JSONError) -> Value {
        var parser = Parser(bytes: bytes, stop: stop)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    /// Deterministic JSON text; keys in their order; whole floats keep `.0`. Compact by default;
    /// `spaced` writes `{"a": 1, "b": 2}` (the demo shop's answers).
    package static func encode(_ value: Value, spaced: Bool = false) -> String {
        var out = ""
        write(value, to: &out, spaced: spaced)
        return out
    }

    static func write(_ value: Value, to out: inout String, spaced: Bool = false) {
        let comma = spaced ? ", " : ","
        let colon = spaced ? ": " : ":"
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .float(let d): out += formatFloat(d)
        case .string(let s): writeString(s, to: &out)
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += comma }
                write(item, to: &out, spaced: spaced)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += comma }
                writeString(pair.key, to: &out)
                out += colon
                write(pair.value, to: &out, spaced: spaced)
            }
            out += "}"
        case .bytes(let b): writeString(Data(b).base64EncodedString(), to: &out)
        case .date(let d): writeString(ISO8601DateFormatter().string(from: d), to: &out)
        }
    }

    /// Shortest round-trip text; whole values keep `.0`; non-finite values become `null`.
    package static func formatFloat(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        var text = "\(d)"
        if text.contains("e") {
            return text
        }
        if !text.contains(".") { text += ".0" }
        return text
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        out += escape(s)
        out += "\""
    }

    /// JSON string content escaping (no quotes around).
    package static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0
        let stop: StopFlag?
        var values = 0

        init(bytes: [UInt8], stop: StopFlag? = nil) {
            self.bytes = bytes
            self.stop = stop
        }

        func error(_ message: String) -> JSONError { JSONError(offset: index, message: message) }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(JSONError) -> Value {
            guard depth <= JSON.maxDepth else { throw error("nesting deeper than \(JSON.maxDepth) levels") }
            values += 1
            if values & 0xFFF == 0, stop?.isSet == true { throw error("parsing stopped: the run's deadline passed") }
            guard index < bytes.count else { throw error("expected a value, found the end of the text") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("expected a value (object, array, string, number, true, false or null)")
            }
        }

        mutating func literal(_ word: String) throws(JSONError) {
            let w = Array(word.utf8)
            guard index + w.count <= bytes.count, Array(bytes[index..<index + w.count]) == w else {
                throw error("expected \(word)")
            }
            index += w.count
        }

        mutating func object(depth: Int) throws(JSONError) -> Value {
            index += 1
            var pairs: [(key: String, value: Value)] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(pairs)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw error("expected a string key")
                }
                let key = try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                    throw error("expected ':' after the key")
                }
                index += 1
                skipSpace()
                pairs.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard index < bytes.count else { throw error("expected ',' or '}', found the end of the text") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(pairs)
                }
                throw error("expected ',' or '}'")
            }
        }

        mutating func array(depth: Int) throws(JSONError) -> Value {
            index += 1
            var items: [Value] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .list(items)
            }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw error("expected ',' or ']', found the end of the text") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .list(items)
                }
                throw error("expected ',' or ']'")
            }
        }

        mutating func number() throws(JSONError) -> Value {
            let start = index
            var isFloat = false
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digitsStart = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digitsStart else { throw error("expected a digit") }
            if bytes[digitsStart] == UInt8(ascii: "0"), index - digitsStart > 1 {
                throw error("leading zeros are not allowed")
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isFloat = true
                index += 1
                let f = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                guard index > f else { throw error("expected a digit after '.'") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isFloat = true
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                let e = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                guard index > e else { throw error("expected a digit in the exponent") }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if !isFloat, let i = Int64(text) { return .integer(i) }
            guard let d = Double(text) else { throw JSONError(offset: start, message: "invalid number \(text)") }
            return .float(d)
        }

        mutating func string() throws(JSONError) -> String {
            index += 1
            var out = [UInt8]()
            while true {
                guard index < bytes.count else { throw error("unterminated string") }
                let b = bytes[index]
                if b == UInt8(ascii: "\"") {
                    index += 1
                    break
                }
                if b < 0x20 { throw error("control character in a string") }
                if b != UInt8(ascii: "\\") {
                    out.append(b)
                    index += 1
                    continue
                }
                index += 1
                guard index < bytes.count else { throw error("unterminated escape") }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code), index + 1 < bytes.count,
                        bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                    {
                        index += 2
                        let low = try hex4()
                        if (0xDC00...0xDFFF).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            out += Array("\u{FFFD}".utf8)
                            code = low
                        }
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    out += Array(String(scalar).utf8)
                default: throw error("invalid escape \\\(Character(Unicode.Scalar(e)))")
                }
            }
            // Invalid UTF-8 inside strings is replaced, never trusted.
            return String(decoding: out, as: UTF8.self)
        }

        mutating func hex4() throws(JSONError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("expected 4 hex digits after \\u") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw error("expected a hex digit after \\u")
                }
                v = v * 16 + d
                index += 1
            }
            return v
        }
    }
}

/// Invalid JSON: where (byte offset) and what was expected.
package struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    package var offset: Int
    package var message: String

    package var description: String { "\(message) at byte \(offset)" }
}
