/// Escapes control characters in text bound for a log line or a terminal, so a name or a value
/// can never start a new line, move the cursor or colour the screen: a newline becomes `\n`, a tab
/// `\t`, a carriage return `\r`, and every other control character (C0, DEL, C1) `\u{XX}`.
package enum ControlText {
    /// Whether `text` holds any control character.
    package static func hasControl(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: isControl)
    }

    /// `text` with its control characters escaped; text without any comes back unchanged.
    package static func escaped(_ text: String) -> String {
        guard hasControl(text) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else {
                out.append(scalar)
                continue
            }
            let escape: String
            switch scalar {
            case "\n": escape = "\\n"
            case "\t": escape = "\\t"
            case "\r": escape = "\\r"
            default: escape = "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
            out.append(contentsOf: escape.unicodeScalars)
        }
        return String(out)
    }

    /// C0 controls, DEL and C1 controls (Unicode's `Cc`).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
