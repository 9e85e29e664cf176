import SondeSupport

/// A parsed check file: monitor settings from `# @key value` directives and the Hurl entries.
package struct CheckScript: Sendable, Equatable {
    /// What a script is made of, parsed: the part that identical files share (`ScriptInterner`).
    /// Immutable: a change makes a new one, so a copy of a script never sees another's change.
    private final class Parsed: Sendable {
        let source: String
        let settings: MonitorSettings
        let entries: [Entry]

        init(source: String, settings: MonitorSettings, entries: [Entry]) {
            self.source = source
            self.settings = settings
            self.entries = entries
        }
    }

    /// Path as given by the user (used in messages).
    package var path: String
    /// Check name: the file name without `.hurl`.
    package var name: String
    /// The source, settings and entries, in one shared block: a script is 40 bytes where it is
    /// stored (a dictionary of 100,000 checks reserves room for more than twice as many), and
    /// files with the same text share one parsed script.
    private var parsed: Parsed

    /// A script from its parts.
    init(path: String, name: String, source: String, settings: MonitorSettings, entries: [Entry]) {
        self.path = path
        self.name = name
        self.parsed = Parsed(source: source, settings: settings, entries: entries)
    }

    /// The full source text, kept for error rendering.
    var source: String {
        get { parsed.source }
        set { parsed = Parsed(source: newValue, settings: parsed.settings, entries: parsed.entries) }
    }

    /// The `# @key value` directives.
    package var settings: MonitorSettings {
        get { parsed.settings }
        set { parsed = Parsed(source: parsed.source, settings: newValue, entries: parsed.entries) }
    }

    /// The entries (requests and their response specs), in order.
    package var entries: [Entry] {
        get { parsed.entries }
        set { parsed = Parsed(source: parsed.source, settings: parsed.settings, entries: newValue) }
    }

    /// This script's parsed part under another file's path and name: what `ScriptInterner` hands
    /// out for a file whose text it has parsed before.
    func sharing(path: String, name: String) -> CheckScript {
        var copy = self
        copy.path = path
        copy.name = name
        return copy
    }

    /// Whether two scripts share one parsed part (not only equal ones).
    func sharesParse(with other: CheckScript) -> Bool { parsed === other.parsed }

    package static func == (a: CheckScript, b: CheckScript) -> Bool {
        guard a.path == b.path, a.name == b.name else { return false }
        if a.parsed === b.parsed { return true }
        return a.parsed.source == b.parsed.source && a.parsed.settings == b.parsed.settings
            && a.parsed.entries == b.parsed.entries
    }

    /// The source line with the given 1-based number, or `nil` when out of range.
    package func sourceLine(_ number: Int) -> String? {
        SourceText.line(number, in: source)
    }
}

/// Helpers over source text shared by parse and run error rendering.
enum SourceText {
    /// The 1-based line `number` of `text` without its line terminator.
    static func line(_ number: Int, in text: String) -> String? {
        guard number >= 1 else { return nil }
        var current = 1
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if c == "\n" || c == "\r\n" || c == "\r" {
                if current == number { return String(text[start..<index]) }
                current += 1
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        return current == number ? String(text[start..<text.endIndex]) : nil
    }

    /// Auth schemes shown as they are in front of a masked credential.
    static let authSchemes: Set<String> = [
        "basic", "bearer", "digest", "token", "negotiate", "ntlm", "aws4-hmac-sha256",
    ]

    /// A source line that is an `Authorization`, `Proxy-Authorization`, `Cookie` or `Set-Cookie`
    /// header, with its literal value masked as `***` (an auth scheme and `{{templates}}` stay
    /// readable), and the 1-based column where the value starts; nil for any other line. Error
    /// blocks quote the line, and the value may be a credential written into the script.
    static func maskingSensitiveHeader(_ line: String) -> (line: String, valueColumn: Int)? {
        let scalars = Array(line.unicodeScalars)
        var index = 0
        while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
        let nameStart = index
        while index < scalars.count, scalars[index] != ":", scalars[index] != " ", scalars[index] != "\t" { index += 1 }
        let name = String(String.UnicodeScalarView(scalars[nameStart..<index]))
        while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
        guard index < scalars.count, scalars[index] == ":", Redactor.isSensitiveHeader(name) else { return nil }
        index += 1
        while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
        let valueStart = index
        let value = String(String.UnicodeScalarView(scalars[valueStart...]))
        var words: [String] = []
        for (position, word) in value.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            if word.isEmpty
                || word.hasPrefix("{{") && word.hasSuffix("}}") && !word.dropFirst(2).dropLast(2).contains("}}")
                || position == 0 && authSchemes.contains(word.lowercased())
            {
                words.append(String(word))
            } else {
                words.append("***")
            }
        }
        let head = String(String.UnicodeScalarView(scalars[..<valueStart]))
        return (head + words.joined(separator: " "), valueStart + 1)
    }
}
