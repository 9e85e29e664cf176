import Synchronization

/// A regular expression with the syntax and semantics of Rust's `regex` crate (the engine Hurl
/// uses), matched in time linear in the text: a Thompson NFA run as a Pike VM.
///
/// - Matching is on the Unicode scalars of the text; positions are UTF-8 offsets.
/// - Leftmost-first: among matches starting at the leftmost position, the one the pattern prefers
///   (earlier alternatives, greedy or lazy repetition) wins, and captures are those of that match
///   (as in Perl and Rust, not POSIX leftmost-longest).
/// - `\d`, `\s`, `\w` and `\b` are Unicode-aware unless `(?-u)`; `(?i)` uses simple case folding.
/// - Backreferences and look-around are rejected when the pattern is parsed, with the column.
///
/// Not named `Regex`, which is Swift's own type.
package struct LinearRegex: Sendable {
    /// The pattern as written.
    let pattern: String
    /// The compiled program.
    let program: RegexProgram
    /// Each group's name, index 0 (the whole match) included; `nil` for unnamed groups.
    let groupNames: [String?]

    /// Parses and compiles `pattern`.
    init(_ pattern: String) throws(LinearRegexError) {
        var parser = RegexParser(pattern)
        let node = try parser.parse()
        self.pattern = pattern
        program = try RegexProgram(node, captureCount: parser.captureCount)
        groupNames = parser.groupNames
    }

    /// The number of capture groups, not counting the whole match.
    package var captureCount: Int { program.captureCount }

    /// The number of NFA states (the "program size" the matching work is proportional to).
    var instructionCount: Int { program.instructions.count }

    /// True when the pattern matches somewhere in `text`.
    package func isMatch(_ text: String) -> Bool {
        search(text, groups: -1, earliest: true).match != nil
    }

    /// True when the pattern matches somewhere in `text`; `nil` when `stop` was set before the
    /// search could tell.
    package func isMatch(_ text: String, stop: StopFlag?) -> Bool? {
        let outcome = search(text, groups: -1, earliest: true, stop: stop)
        return outcome.stopped ? nil : outcome.match != nil
    }

    /// The leftmost-first match in `text`, with every group.
    package func firstMatch(in text: String) -> LinearRegexMatch? {
        search(text, groups: captureCount, earliest: false).match
    }

    /// The leftmost-first match in `text`, tracking only groups 1 through `groups` (fewer groups,
    /// less copying; the match itself is the same).
    package func firstMatch(in text: String, groups: Int) -> LinearRegexMatch? {
        search(text, groups: min(groups, captureCount), earliest: false).match
    }

    /// As `firstMatch(in:groups:)`, giving up once `stop` is set: then `stopped` is true and there
    /// is no match.
    package func firstMatch(
        in text: String, groups: Int, stop: StopFlag?
    ) -> (match: LinearRegexMatch?, stopped: Bool) {
        let outcome = search(text, groups: min(groups, captureCount), earliest: false, stop: stop)
        return (outcome.match, outcome.stopped)
    }

    /// A search, with the matcher's work count. `groups` is the highest group tracked (-1: none,
    /// only whether there is a match); `earliest` stops at the first match state reached; the
    /// search gives up (`stopped`, no match) once `stop` is set.
    func search(
        _ text: String, groups: Int, earliest: Bool, stop: StopFlag? = nil
    ) -> (match: LinearRegexMatch?, steps: Int, stopped: Bool) {
        var copy = text
        let outcome = copy.withUTF8 { buffer in
            RegexMatcher.search(program, in: buffer, slotCount: 2 * (groups + 1), earliest: earliest, stop: stop)
        }
        guard let slots = outcome.slots else { return (nil, outcome.steps, outcome.stopped) }
        return (LinearRegexMatch(text: text, offsets: slots, names: groupNames), outcome.steps, false)
    }

    // MARK: cache

    /// Compiled patterns by their text, so a pattern that is the same on every run (or a template that
    /// renders the same) is compiled once.
    private static let cache = Mutex<[String: LinearRegex]>([:])

    /// How many compiled patterns the cache keeps before it starts over.
    static let cacheLimit = 1_024

    /// `LinearRegex(pattern)`, compiled once and then taken from a process-wide cache. Errors are not
    /// cached.
    package static func cached(_ pattern: String) throws(LinearRegexError) -> LinearRegex {
        if let hit = cache.withLock({ $0[pattern] }) { return hit }
        let regex = try LinearRegex(pattern)
        cache.withLock { table in
            if table.count >= cacheLimit { table.removeAll(keepingCapacity: true) }
            table[pattern] = regex
        }
        return regex
    }
}

/// A match of a ``LinearRegex``: the range of the whole match and of each group.
package struct LinearRegexMatch: Sendable {
    /// The text that was searched.
    let text: String
    /// UTF-8 offsets: `2 × group` the start, `2 × group + 1` the end, -1 when the group did not match.
    let offsets: [Int]
    /// Group names, index 0 included.
    let names: [String?]

    /// Groups tracked, the whole match (group 0) included.
    var groupCount: Int { offsets.count / 2 }

    /// The UTF-8 offsets of `group`, or `nil` when it did not take part (or was not tracked).
    func utf8Range(_ group: Int) -> Range<Int>? {
        guard group >= 0, 2 * group + 1 < offsets.count else { return nil }
        let start = offsets[2 * group]
        let end = offsets[2 * group + 1]
        guard start >= 0, end >= start else { return nil }
        return start..<end
    }

    /// The range of `group` in ``text``.
    func range(_ group: Int) -> Range<String.Index>? {
        guard let r = utf8Range(group) else { return nil }
        let utf8 = text.utf8
        return utf8.index(utf8.startIndex, offsetBy: r.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: r.upperBound)
    }

    /// The range of the whole match.
    var range: Range<String.Index> {
        range(0) ?? text.startIndex..<text.startIndex
    }

    /// The text of `group`, or `nil` when it did not take part.
    package subscript(group: Int) -> Substring? {
        range(group).map { text[$0] }
    }

    /// The text of the group called `name`, or `nil`.
    subscript(name: String) -> Substring? {
        guard let index = names.firstIndex(of: name) else { return nil }
        return self[index]
    }
}
