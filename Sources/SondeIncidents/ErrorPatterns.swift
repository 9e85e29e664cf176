/// The distinct error messages of an incident with their numbers and ids masked, counted: the same
/// failure with another request id or count is one pattern (README.md, "sonde incidents",
/// Findings). A linear scan of each message, no regex: it runs on the run's task in the live
/// prober.
package struct ErrorPatterns: Sendable, Equatable {
    /// One pattern: its masked text, error kind, runs, first time and its first message as written.
    package struct Pattern: Sendable, Equatable {
        package var text: String
        package var kind: String
        package var count: Int
        package var firstMs: Int64
        package var example: String
    }

    /// Distinct patterns kept; the failures of any further ones are counted in `others`.
    package static let limit = 20
    /// Characters of a message that are masked and compared; the rest is cut.
    package static let messageLimit = 300

    /// The patterns in the order they first appeared.
    package private(set) var patterns: [Pattern] = []
    /// Failed runs whose pattern did not fit under `limit`.
    package private(set) var others = 0

    /// No pattern yet.
    package init() {}

    /// Counts one failed run's message.
    package mutating func add(_ message: String, kind: String, timeMs: Int64) {
        let text = Self.mask(message)
        if let index = patterns.firstIndex(where: { $0.text == text && $0.kind == kind }) {
            patterns[index].count += 1
        } else if patterns.count < Self.limit {
            patterns.append(
                Pattern(
                    text: text, kind: kind, count: 1, firstMs: timeMs,
                    example: String(message.prefix(Self.messageLimit))))
        } else {
            others += 1
        }
    }

    /// The patterns, most runs first (ties: the earliest).
    package var ranked: [Pattern] {
        patterns.sorted { ($1.count, $0.firstMs) < ($0.count, $1.firstMs) }
    }

    /// `message` with every number masked as `#` and every id — a word of 8 or more letters,
    /// digits, `-` or `_` with at least 3 digits, such as a UUID or a hex token — as `<id>`;
    /// control characters become spaces and runs of spaces one space. Kept as written: the
    /// `entry N line N: ` that starts sonde's messages (the same for every run of a check) and
    /// three-digit numbers from 100 to 599 standing alone (HTTP statuses).
    package static func mask(_ message: String) -> String {
        var out = ""
        var message = Substring(message)
        let words = message.prefix(40).split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
        if words.count == 5, words[0] == "entry", words[2] == "line", words[1].allSatisfy(\.isNumber),
            words[3].hasSuffix(":"), words[3].dropLast().allSatisfy(\.isNumber)
        {
            let kept = words[0...3].joined(separator: " ") + " "
            out = kept
            message = message.dropFirst(kept.count)
        }
        var word: [Unicode.Scalar] = []
        func flush() {
            guard !word.isEmpty else { return }
            let digits = word.filter { ("0"..."9").contains($0) }.count
            if digits == 3, word.count == 3, let status = Int(String(String.UnicodeScalarView(word))),
                (100...599).contains(status)
            {
                out.unicodeScalars.append(contentsOf: word)
            } else if word.count >= 8, digits >= 3 {
                out += "<id>"
            } else if digits == 0 {
                out.unicodeScalars.append(contentsOf: word)
            } else {
                // Runs of digits (with a decimal point between digits) become one `#`.
                var index = 0
                while index < word.count {
                    let scalar = word[index]
                    if ("0"..."9").contains(scalar) {
                        out += "#"
                        while index < word.count,
                            ("0"..."9").contains(word[index])
                                || (word[index] == "." && index + 1 < word.count
                                    && ("0"..."9").contains(word[index + 1]))
                        {
                            index += 1
                        }
                    } else {
                        out.unicodeScalars.append(scalar)
                        index += 1
                    }
                }
            }
            word.removeAll(keepingCapacity: true)
        }
        for scalar in message.unicodeScalars.prefix(messageLimit) {
            if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_"
                || (scalar == "." && !word.isEmpty && ("0"..."9").contains(word[word.count - 1]))
            {
                word.append(scalar)
                continue
            }
            flush()
            let space = scalar.value < 0x20 || scalar == " " || scalar.value == 0x7F
            if space {
                if !out.hasSuffix(" ") { out += " " }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        flush()
        return out
    }
}
