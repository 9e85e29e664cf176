import Foundation

/// Appends JSON text for the fixed-order line encoders.
package struct LineWriter {
    package var bytes: [UInt8] = []

    package init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    package mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    package mutating func int(_ v: Int64) { bytes.append(contentsOf: Array(String(v).utf8)) }

    /// Milliseconds with microsecond precision: `12.345`, `0`, `-1.5`. Magnitudes of 10¹⁵ ms and
    /// more (only from foreign lines: 30,000 years) have no microseconds left in a Double and would
    /// overflow the integer conversion; they are written in Swift's shortest form (`1e+300`), still JSON.
    package mutating func millis(_ v: Double) {
        guard v.isFinite else {
            raw("0")
            return
        }
        guard abs(v) < 1e15 else {
            bytes.append(contentsOf: Array(v.description.utf8))
            return
        }
        var micros = Int64((v * 1000).rounded())
        if micros < 0 {
            bytes.append(0x2D)
            micros = -micros
        }
        int(micros / 1000)
        var fraction = micros % 1000
        guard fraction != 0 else { return }
        var digits: [UInt8] = [
            0x30 + UInt8(fraction / 100), 0x30 + UInt8(fraction / 10 % 10), 0x30 + UInt8(fraction % 10),
        ]
        while digits.last == 0x30 { digits.removeLast() }
        bytes.append(0x2E)
        bytes.append(contentsOf: digits)
        fraction = 0
    }

    package mutating func bool(_ b: Bool) { b ? raw("true") : raw("false") }

    package mutating func string(_ s: String) {
        bytes.append(0x22)
        for c in s.utf8 {
            switch c {
            case 0x22: raw("\\\"")
            case 0x5C: raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20, 0x7F:
                raw("\\u00")
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(hex[Int(c >> 4)])
                bytes.append(hex[Int(c & 0xF)])
            default: bytes.append(c)
            }
        }
        bytes.append(0x22)
    }
}
