import SondeProbe
import SondeRun
import SondeScript
import SondeSupport

/// Why a data line was skipped.
package enum LineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a JSON object of the documented shape; `reason` says what was wrong.
    case malformed(String)
    /// A well-formed line with a format version this sonde does not read.
    case unknownVersion(Int64)

    package var description: String {
        switch self {
        case .malformed(let reason): return "malformed line: \(reason)"
        case .unknownVersion(let v): return "unknown format version v=\(v)"
        }
    }
}

/// A forward-only JSON scanner over one line's bytes, for the fixed shapes of run and hour lines.
/// It allocates only for string values it is asked to read; unknown keys are skipped.
struct LineScanner {
    let p: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ p: UnsafeBufferPointer<UInt8>) { self.p = p }

    var atEnd: Bool { i >= p.count }

    mutating func skipSpace() {
        while i < p.count, p[i] == 0x20 || p[i] == 0x09 || p[i] == 0x0D || p[i] == 0x0A { i += 1 }
    }

    mutating func expect(_ c: UInt8, _ what: String) throws(LineError) {
        skipSpace()
        guard i < p.count, p[i] == c else { throw .malformed("expected \(what) at byte \(i)") }
        i += 1
    }

    /// True (and consumed) when the next non-space byte is `c`.
    mutating func take(_ c: UInt8) -> Bool {
        skipSpace()
        if i < p.count, p[i] == c {
            i += 1
            return true
        }
        return false
    }

    /// Iterates the members of an object; `body` must consume each value.
    mutating func object(_ body: (inout LineScanner, UnsafeBufferPointer<UInt8>) throws(LineError) -> Void)
        throws(LineError)
    {
        try expect(0x7B, "'{'")
        if take(0x7D) { return }
        while true {
            let key = try rawString()
            try expect(0x3A, "':'")
            skipSpace()
            try body(&self, key)
            if take(0x2C) { continue }
            try expect(0x7D, "',' or '}'")
            return
        }
    }

    /// Iterates the elements of an array; `body` must consume each value.
    mutating func array(_ body: (inout LineScanner) throws(LineError) -> Void) throws(LineError) {
        try expect(0x5B, "'['")
        if take(0x5D) { return }
        while true {
            skipSpace()
            try body(&self)
            if take(0x2C) { continue }
            try expect(0x5D, "',' or ']'")
            return
        }
    }

    /// The bytes of a string without escapes decoded (keys are plain ASCII in our formats).
    mutating func rawString() throws(LineError) -> UnsafeBufferPointer<UInt8> {
        try expect(0x22, "a string")
        let start = i
        while i < p.count {
            let c = p[i]
            if c == 0x22 {
                let slice = UnsafeBufferPointer(rebasing: p[start..<i])
                i += 1
                return slice
            }
            if c == 0x5C {
                i += 2
                continue
            }
            if c < 0x20 { throw .malformed("control character in a string") }
            i += 1
        }
        throw .malformed("unterminated string")
    }

    mutating func string() throws(LineError) -> String {
        let raw = try rawString()
        if !raw.contains(0x5C) { return String(decoding: raw, as: UTF8.self) }
        return try Self.unescape(raw)
    }

    mutating func stringOrNull() throws(LineError) -> String? {
        if takeLiteral("null") { return nil }
        return try string()
    }

    mutating func bool() throws(LineError) -> Bool {
        skipSpace()
        if takeLiteral("true") { return true }
        if takeLiteral("false") { return false }
        throw .malformed("expected true or false at byte \(i)")
    }

    mutating func takeLiteral(_ word: StaticString) -> Bool {
        skipSpace()
        let n = word.utf8CodeUnitCount
        guard i + n <= p.count else { return false }
        let w = word.utf8Start
        for k in 0..<n where p[i + k] != w[k] { return false }
        i += n
        return true
    }

    /// A JSON number as a Double (integers and decimals; exponents accepted). Up to 15 significant
    /// digits are converted exactly (mantissa ÷ power of ten, one rounding); longer ones go through
    /// the standard library.
    mutating func number() throws(LineError) -> Double {
        skipSpace()
        let start = i
        var negative = false
        if i < p.count, p[i] == 0x2D {
            negative = true
            i += 1
        }
        var mantissa: Int64 = 0
        var digits = 0
        while i < p.count, p[i] >= 0x30, p[i] <= 0x39 {
            if digits < 18 { mantissa = mantissa * 10 + Int64(p[i] - 0x30) }
            i += 1
            digits += 1
        }
        guard digits > 0 else { throw .malformed("expected a number at byte \(start)") }
        var fraction = 0
        if i < p.count, p[i] == 0x2E {
            i += 1
            while i < p.count, p[i] >= 0x30, p[i] <= 0x39 {
                if digits + fraction < 18 { mantissa = mantissa * 10 + Int64(p[i] - 0x30) }
                i += 1
                fraction += 1
            }
            guard fraction > 0 else { throw .malformed("expected digits after '.' at byte \(i)") }
        }
        var exponent = false
        if i < p.count, p[i] == 0x65 || p[i] == 0x45 {
            exponent = true
            i += 1
            if i < p.count, p[i] == 0x2B || p[i] == 0x2D { i += 1 }
            while i < p.count, p[i] >= 0x30, p[i] <= 0x39 { i += 1 }
        }
        if exponent || digits + fraction > 15 {
            guard let exact = Double(String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self))
            else {
                throw .malformed("bad number at byte \(start)")
            }
            return exact
        }
        let value = Double(mantissa) / Self.powersOfTen[fraction]
        return negative ? -value : value
    }

    private static let powersOfTen: [Double] = (0...15).map { (0..<$0).reduce(1.0) { acc, _ in acc * 10 } }

    mutating func integer() throws(LineError) -> Int64 {
        skipSpace()
        let at = i
        // Fast path: plain digits (counts, statuses, histogram buckets), at most 15 of them.
        var j = i
        var negative = false
        if j < p.count, p[j] == 0x2D {
            negative = true
            j += 1
        }
        var value: Int64 = 0
        var digits = 0
        while j < p.count, p[j] >= 0x30, p[j] <= 0x39, digits < 16 {
            value = value * 10 + Int64(p[j] - 0x30)
            j += 1
            digits += 1
        }
        if digits > 0, digits < 16,
            j == p.count || (p[j] != 0x2E && p[j] != 0x65 && p[j] != 0x45 && (p[j] < 0x30 || p[j] > 0x39))
        {
            i = j
            return negative ? -value : value
        }
        return try slowInteger(at: at)
    }

    private mutating func slowInteger(at: Int) throws(LineError) -> Int64 {
        i = at
        let value = try number()
        guard value == value.rounded(), abs(value) < 9.0e15 else {
            throw .malformed("expected an integer at byte \(at)")
        }
        return Int64(value)
    }

    mutating func numberOrNull() throws(LineError) -> Double? {
        if takeLiteral("null") { return nil }
        return try number()
    }

    /// Skips any JSON value.
    mutating func skipValue(depth: Int = 0) throws(LineError) {
        guard depth < 64 else { throw .malformed("nested too deeply") }
        skipSpace()
        guard i < p.count else { throw .malformed("unexpected end of line") }
        switch p[i] {
        case 0x22: _ = try rawString()
        case 0x7B: try object { (s: inout LineScanner, _) throws(LineError) in try s.skipValue(depth: depth + 1) }
        case 0x5B: try array { (s: inout LineScanner) throws(LineError) in try s.skipValue(depth: depth + 1) }
        case 0x74, 0x66: _ = try bool()
        case 0x6E:
            guard takeLiteral("null") else { throw .malformed("unexpected byte at \(i)") }
        default: _ = try number()
        }
    }

    static func equals(_ key: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        let n = name.utf8CodeUnitCount
        guard key.count == n else { return false }
        let w = name.utf8Start
        for k in 0..<n where key[k] != w[k] { return false }
        return true
    }

    static func unescape(_ raw: UnsafeBufferPointer<UInt8>) throws(LineError) -> String {
        var out = [UInt8]()
        out.reserveCapacity(raw.count)
        var k = 0
        func hex4(_ at: Int) throws(LineError) -> UInt32 {
            guard at + 4 <= raw.count else { throw .malformed("short \\u escape") }
            var v: UInt32 = 0
            for j in at..<(at + 4) {
                let c = raw[j]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw .malformed("bad \\u escape")
                }
                v = v << 4 | d
            }
            return v
        }
        while k < raw.count {
            let c = raw[k]
            guard c == 0x5C else {
                out.append(c)
                k += 1
                continue
            }
            guard k + 1 < raw.count else { throw .malformed("dangling backslash") }
            let e = raw[k + 1]
            k += 2
            switch e {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try hex4(k)
                k += 4
                if (0xD800..<0xDC00).contains(scalar), k + 6 <= raw.count, raw[k] == 0x5C, raw[k + 1] == 0x75 {
                    let low = try hex4(k + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        k += 6
                    }
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw .malformed("bad escape \\\(Character(Unicode.Scalar(e)))")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
