import SondeIncidents
import SondeProbe
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// Helpers shared by the hand-written SVG images (`Badge`, `UptimeStrip`, `Sparkline`): XML escaping,
/// coordinates that are always finite, text widths from a Verdana 11px table, and number formatting.
///
/// The images are meant to be served by GitHub as `<img>` sources, so they keep to plain elements
/// (`svg`, `rect`, `text`, `polyline`, `path`, `linearGradient`, `clipPath`, `title`, `g`): no scripts,
/// no links, no external resources, no web fonts.
enum SVG {
    /// Font stack: Verdana where present (Windows, macOS), DejaVu Sans on most Linux systems.
    static let fontFamily = "Verdana,Geneva,DejaVu Sans,sans-serif"

    /// The opening `<svg>` tag with every attribute GitHub needs, then a `<title>` for the label.
    static func open(width: Double, height: Double, label: String) -> String {
        let w = number(width)
        let h = number(height)
        let text = escape(label)
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\""
            + " role=\"img\" aria-label=\"\(text)\"><title>\(text)</title>"
    }

    /// Text made safe for XML content and attribute values: `& < > " '` escaped, characters XML 1.0
    /// forbids (C0 controls other than tab and line breaks, U+FFFE, U+FFFF) replaced by a space.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out += " "
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += " "
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// A coordinate: at most two decimals, no trailing zeros, never `nan` or `inf` (non-finite → `0`,
    /// magnitudes clamped to 1e9).
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let clamped = min(max(value, -1e9), 1e9)
        let hundredths = Int64((clamped * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let magnitude = hundredths.magnitude
        let whole = magnitude / 100
        let fraction = magnitude % 100
        if fraction == 0 { return "\(sign)\(whole)" }
        let digits = fraction < 10 ? "0\(fraction)" : "\(fraction)"
        return "\(sign)\(whole).\(digits.hasSuffix("0") ? String(digits.dropLast()) : digits)"
    }

    /// Approximate advance widths of Verdana at 11px for printable ASCII (U+0020 to U+007E).
    private static let verdana11: [Double] = [
        3.87, 4.33, 5.05, 9.00, 7.00, 11.84, 7.99, 2.95, 4.99, 4.99, 7.00, 9.00, 4.00, 4.99, 4.00, 4.99,  // space to /
        7.00, 7.00, 7.00, 7.00, 7.00, 7.00, 7.00, 7.00, 7.00, 7.00, 4.99, 4.99, 9.00, 9.00, 9.00, 6.00,  // 0 to ?
        11.00, 7.52, 7.54, 7.68, 8.48, 6.96, 6.32, 8.53, 8.27, 4.63, 5.00, 7.62, 6.12, 9.27, 8.23, 8.66,  // @ to O
        6.63, 8.66, 7.65, 7.52, 6.78, 8.05, 7.52, 10.88, 7.54, 6.77, 7.54, 4.99, 4.99, 4.99, 9.00, 7.00,  // P to _
        7.00, 6.61, 6.85, 5.73, 6.85, 6.55, 3.87, 6.85, 6.96, 3.02, 3.79, 6.51, 3.02, 10.70, 6.96, 6.68,  // ` to o
        6.85, 6.85, 4.69, 5.73, 4.33, 6.96, 6.51, 9.00, 6.51, 6.51, 5.78, 6.98, 4.99, 6.98, 9.00,  // p to ~
    ]

    /// Width of anything outside printable ASCII: wide enough for CJK and most symbols.
    private static let otherWidth = 11.0

    /// The estimated width of `text` in pixels at `fontSize`, one table entry per character.
    static func textWidth(_ text: String, fontSize: Double = 11) -> Double {
        var total = 0.0
        for character in text {
            total += characterWidth(character)
        }
        return total * fontSize / 11
    }

    private static func characterWidth(_ character: Character) -> Double {
        if character.unicodeScalars.count == 1, let scalar = character.unicodeScalars.first,
            scalar.value >= 0x20, scalar.value <= 0x7E
        {
            return verdana11[Int(scalar.value) - 0x20]
        }
        return otherWidth
    }

    /// `text` unchanged when it fits in `width`, else cut at a character boundary and ended with `…`.
    static func fit(_ text: String, width: Double, fontSize: Double) -> String {
        guard textWidth(text, fontSize: fontSize) > width else { return text }
        let ellipsis = textWidth("…", fontSize: fontSize)
        var out = ""
        var used = 0.0
        for character in text {
            let next = textWidth(String(character), fontSize: fontSize)
            if used + next + ellipsis > width { break }
            out.append(character)
            used += next
        }
        return out + "…"
    }

    /// A fraction (0...1) as a percentage truncated, never rounded up, to three decimals, trailing
    /// zeros dropped: `0.99996` → `99.999`, `0.9995` → `99.95`, `1` → `100`. Non-finite → `0`.
    static func truncatedPercent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "0" }
        let clamped = min(max(fraction, 0), 1)
        // The tiny nudge keeps 0.9995 (stored as 0.99949999…) from showing as 99.949.
        let thousandths = Int64((clamped * 100_000 + 1e-6).rounded(.down))
        return thousandthsText(min(thousandths, 100_000))
    }

    /// A non-negative number of thousandths as a decimal with trailing zeros dropped: 99950 → `99.95`.
    static func thousandthsText(_ thousandths: Int64) -> String {
        let whole = thousandths / 1000
        let fraction = thousandths % 1000
        guard fraction > 0 else { return "\(whole)" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }

    /// A plain number: whole numbers as integers, others with up to two decimals, huge ones in
    /// scientific notation. Never `nan` or `inf` (non-finite → `-`).
    static func plain(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        if value.magnitude >= 1e9 { return scientific(value) }
        return number(value)
    }

    /// `1.2e15`: two significant digits, no locale, no `inf`.
    private static func scientific(_ value: Double) -> String {
        guard value.isFinite, value != 0 else { return "0" }
        var exponent = Int(value.magnitude.log10Floor)
        var mantissa = value / pow10(exponent)
        var tenths = (mantissa * 10).rounded()
        if tenths.magnitude >= 100 {
            exponent += 1
            mantissa = value / pow10(exponent)
            tenths = (mantissa * 10).rounded()
        }
        let t = Int(tenths)
        let sign = t < 0 ? "-" : ""
        let m = abs(t)
        let body = m % 10 == 0 ? "\(m / 10)" : "\(m / 10).\(m % 10)"
        return "\(sign)\(body)e\(exponent)"
    }

    /// 10 to an integer power, by repeated multiplication (no libm).
    static func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        if exponent >= 0 {
            for _ in 0..<min(exponent, 308) { result *= 10 }
        } else {
            for _ in 0..<min(-exponent, 323) { result /= 10 }
        }
        return result
    }

    /// 10 to a small non-negative power as an integer: `pow10Int(2)` → 100.
    static func pow10Int(_ exponent: Int) -> Int64 {
        var result: Int64 = 1
        for _ in 0..<min(max(exponent, 0), 18) { result *= 10 }
        return result
    }

    /// The smallest of 1, 2 or 5 × 10ⁿ that is at least `value`: the top of a chart's y axis.
    /// Zero, negative or non-finite values give 1; the result is always finite.
    static func niceCeiling(_ value: Double) -> Double {
        guard value.isFinite, value > 0 else { return 1 }
        let exponent = Int(value.log10Floor)
        let base = pow10(exponent)
        for step in [1.0, 2.0, 5.0, 10.0] where step * base >= value * (1 - 1e-12) {
            let nice = step * base
            return nice.isFinite ? nice : value
        }
        return value
    }
}

extension Double {
    /// ⌊log₁₀(self)⌋ for positive finite values, by comparison (no libm); 0 otherwise.
    fileprivate var log10Floor: Double {
        guard isFinite, self > 0 else { return 0 }
        var exponent = 0
        var power = 1.0
        if self >= 1 {
            while power * 10 <= self, exponent < 308 {
                power *= 10
                exponent += 1
            }
        } else {
            while power > self, exponent > -324 {
                power /= 10
                exponent -= 1
            }
        }
        return Double(exponent)
    }
}
