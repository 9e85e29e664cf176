/// A YAML document written by hand, for the few files sonde emits (the Prometheus rule file):
/// block mappings and sequences of strings, each scalar written in the plainest style that reads
/// back as the same string under YAML 1.1 and 1.2 (plain, single-quoted, literal block or
/// double-quoted).
indirect enum YAMLNode: Sendable, Equatable {
    /// A string.
    case scalar(String)
    /// Keys and values, in the order given.
    case mapping([(String, YAMLNode)])
    /// Items, in order.
    case sequence([YAMLNode])

    /// Two mappings are equal when they hold the same pairs in the same order.
    static func == (a: YAMLNode, b: YAMLNode) -> Bool {
        switch (a, b) {
        case (.scalar(let x), .scalar(let y)): return x == y
        case (.sequence(let x), .sequence(let y)): return x == y
        case (.mapping(let x), .mapping(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The document's text, ending with a newline; nested levels are indented by two spaces.
    var text: String {
        var out = ""
        switch self {
        case .scalar(let value):
            out = YAMLText.scalar(value, indent: 0) + "\n"
        case .mapping, .sequence:
            write(into: &out, indent: 0)
        }
        return out
    }

    /// Writes a mapping or a sequence whose first line starts at the current position of `out`
    /// (at `indent`, or after a `- ` that already stands there).
    private func write(into out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .scalar(let value):
            out += YAMLText.scalar(value, indent: indent) + "\n"
        case .mapping(let pairs):
            guard !pairs.isEmpty else {
                out += "{}\n"
                return
            }
            for (index, (key, value)) in pairs.enumerated() {
                if index > 0 { out += pad }
                out += YAMLText.scalar(key, indent: indent) + ":"
                switch value {
                case .scalar(let text):
                    out += " " + YAMLText.scalar(text, indent: indent + 2) + "\n"
                case .mapping(let inner) where inner.isEmpty:
                    out += " {}\n"
                case .sequence(let inner) where inner.isEmpty:
                    out += " []\n"
                case .mapping:
                    out += "\n" + pad + "  "
                    value.write(into: &out, indent: indent + 2)
                case .sequence:
                    out += "\n" + pad + "  "
                    value.write(into: &out, indent: indent + 2)
                }
            }
        case .sequence(let items):
            guard !items.isEmpty else {
                out += "[]\n"
                return
            }
            for (index, item) in items.enumerated() {
                if index > 0 { out += pad }
                out += "- "
                item.write(into: &out, indent: indent + 2)
            }
        }
    }
}

/// How one YAML scalar is written.
enum YAMLText {
    /// Words that YAML 1.1 reads as booleans or null when plain.
    private static let reserved: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"]

    /// `value` as a YAML scalar whose continuation lines (a literal block's) are indented by
    /// `indent` spaces: plain when that is unambiguous, a literal block (`|-`) for several lines,
    /// single quotes otherwise, double quotes with escapes when it holds a character YAML cannot
    /// carry unescaped.
    static func scalar(_ value: String, indent: Int) -> String {
        if isPlain(value) { return value }
        let printable = value.unicodeScalars.allSatisfy(isPrintable)
        if printable, !value.contains("\n") { return "'" + value.replacingOccurrences(of: "'", with: "''") + "'" }
        if printable, let first = value.first, first != " ", first != "\n",
            !value.hasSuffix("\n"), !value.contains("\r")
        {
            let pad = String(repeating: " ", count: indent)
            return "|-\n"
                + value.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
        }
        return doubleQuoted(value)
    }

    /// A name-like word (`sonde:check_error_ratio:rate5m`, `page`) or a duration (`3m`, `1m30s`).
    static func isPlain(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first else { return false }
        if isDuration(value) { return true }
        guard first == "_" || ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        let allowed = value.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || $0 == "_" || $0 == "-" || $0 == "." || $0 == ":" || $0 == "/"
        }
        return allowed && !value.hasSuffix(":") && !reserved.contains(value.lowercased())
    }

    /// `3m`, `90s`, `1h30m`, `4s500ms`: digits and a unit, repeated.
    static func isDuration(_ value: String) -> Bool {
        var rest = Substring(value)
        guard !rest.isEmpty else { return false }
        while !rest.isEmpty {
            let digits = rest.prefix { ("0"..."9").contains($0) }
            guard !digits.isEmpty else { return false }
            rest = rest.dropFirst(digits.count)
            guard let unit = ["ms", "s", "m", "h", "d", "w", "y"].first(where: { rest.hasPrefix($0) }) else {
                return false
            }
            rest = rest.dropFirst(unit.count)
        }
        return true
    }

    /// Printable in a YAML document without an escape: no control characters, no byte-order mark,
    /// no Unicode line or paragraph separator (YAML 1.1 breaks lines there). `\n` counts as
    /// printable here; callers decide about line breaks.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A: return true
        case 0x00..<0x20, 0x7F...0x9F, 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF: return false
        default: return true
        }
    }

    /// `"…"` with `\\`, `\"`, `\n`, `\t` and `\xNN` / `\uNNNN` for every other unprintable character.
    static func doubleQuoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if isPrintable(scalar) {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value < 0x100 {
                    out += "\\x" + hex(scalar.value, digits: 2)
                } else {
                    out += "\\u" + hex(scalar.value, digits: 4)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
