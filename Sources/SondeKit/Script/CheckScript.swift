/// A parsed check file: monitor settings from `# @key value` directives and the Hurl entries.
public struct CheckScript: Sendable, Equatable {
    /// Path as given by the user (used in messages).
    public var path: String
    /// Check name: the file name without `.hurl`.
    public var name: String
    /// The full source text, kept for error rendering.
    public var source: String
    public var settings: MonitorSettings
    public var entries: [Entry]

    public init(path: String, name: String, source: String, settings: MonitorSettings, entries: [Entry]) {
        self.path = path
        self.name = name
        self.source = source
        self.settings = settings
        self.entries = entries
    }

    /// The source line with the given 1-based number, or `nil` when out of range.
    public func sourceLine(_ number: Int) -> String? {
        SourceText.line(number, in: source)
    }
}

/// Helpers over source text shared by parse and run error rendering.
public enum SourceText {
    /// The 1-based line `number` of `text` without its line terminator.
    public static func line(_ number: Int, in text: String) -> String? {
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
}
