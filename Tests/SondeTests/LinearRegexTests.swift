import Foundation
import Testing

@testable import SondeRun
@testable import SondeScript
@testable import SondeSupport

/// A small deterministic generator (SplitMix64), so a failing random case is the same on every run.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random small patterns over `a`, `b` and a space: literals, `.`, classes, groups, alternation,
/// every quantifier (greedy and lazy), `^`, `$`, `\b`.
private struct PatternMaker {
    var rng: SeededGenerator

    mutating func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
    mutating func chance(_ percent: Int) -> Bool { Int(rng.next() % 100) < percent }

    mutating func atom(_ depth: Int) -> String {
        if depth < 3 && chance(30) {
            let inner = alternation(depth + 1)
            return chance(60) ? "(\(inner))" : "(?:\(inner))"
        }
        return pick(["a", "b", "a", "b", ".", "[ab]", "[^a]", "[a ]", " ", "\\b", "^", "$"])
    }

    mutating func piece(_ depth: Int) -> String {
        let base = atom(depth)
        // Assertions are not repeated: ICU treats a quantified `$` or `\b` in its own way.
        guard chance(45), !["\\b", "^", "$"].contains(base) else { return base }
        var quantifier = pick(["*", "+", "?", "{2}", "{0,2}", "{1,3}", "{2,}"])
        if chance(30) { quantifier += "?" }
        return base + quantifier
    }

    mutating func concatenation(_ depth: Int) -> String {
        (0..<(1 + Int(rng.next() % 3))).map { _ in piece(depth) }.joined()
    }

    mutating func alternation(_ depth: Int) -> String {
        chance(25) ? concatenation(depth) + "|" + concatenation(depth) : concatenation(depth)
    }

    mutating func text() -> String {
        String((0..<Int(rng.next() % 9)).map { _ in pick(["a", "b", " ", "a", "b"] as [Character]) })
    }
}

/// True when a repetition of more than one iteration has a body that can match the empty string.
/// There Perl-style backtrackers (ICU, behind NSRegularExpression) stop on an empty iteration while
/// Rust's Pike VM follows its priority order, so spans and captures legitimately differ (and ICU can
/// take seconds on an 8-character text); such patterns are checked against Rust's answers instead.
private func hasNullableLoop(_ node: RegexNode) -> Bool {
    switch node {
    case .capture(_, let inner): return hasNullableLoop(inner)
    case .concat(let items), .alternation(let items): return items.contains(where: hasNullableLoop)
    case .repetition(let inner, _, let max, _):
        return ((max ?? 2) > 1 && inner.minimumLength == 0) || hasNullableLoop(inner)
    default: return false
    }
}

/// The UTF-8 range of `group` in an NSRegularExpression match (texts here are ASCII).
private func nsRange(_ match: NSTextCheckingResult, _ group: Int) -> Range<Int>? {
    let r = match.range(at: group)
    return r.location == NSNotFound ? nil : r.location..<(r.location + r.length)
}

@Suite("LinearRegex: Hurl's regex syntax, matched in linear time")
struct LinearRegexTests {
    /// The whole match and group 1 of `pattern` in `text` (nil: no match; inner nil: group absent).
    func find(_ pattern: String, _ text: String) throws -> (String, String?)? {
        let regex = try LinearRegex(pattern)
        guard let m = regex.firstMatch(in: text) else { return nil }
        return (String(m[0] ?? ""), m[1].map(String.init))
    }

    @Test("literals, quantifiers and laziness match as Rust's regex does (leftmost-first)")
    func basics() throws {
        let table: [(String, String, String?, String?)] = [
            ("a+", "baaa", "aaa", nil),
            ("(a+)(b)?", "aab", "aab", "aa"),
            ("a*?", "aaa", "", nil),
            ("a+?", "aaa", "a", nil),
            ("a{2,3}", "aaaa", "aaa", nil),
            ("a{2,3}?", "aaaa", "aa", nil),
            ("a{2,}", "a", nil, nil),
            ("a{2}", "aaa", "aa", nil),
            ("a{ 2 , 3 }", "aaaa", "aaa", nil),
            ("a|ab", "ab", "a", nil),
            ("sam|samwise", "samwise", "sam", nil),
            ("samwise|sam", "samwise", "samwise", nil),
            ("(a|ab)(c|bcd)", "abcd", "abcd", "a"),
            ("(a)|b", "b", "b", nil),
            ("", "abc", "", nil),
            ("x*", "abc", "", nil),
            ("(?U)a+", "aaa", "a", nil),
            ("(?U)a+?", "aaa", "aaa", nil),
            ("a**", "aaa", "aaa", nil),
            ("(?:|a)*", "aa", "", nil),
            ("(?:a|)*", "aa", "aa", nil),
            ("HTTP/1\\.[01] (\\d{3})", "HTTP/1.1 204 No Content", "HTTP/1.1 204", "204"),
        ]
        for (pattern, text, whole, group) in table {
            let found = try find(pattern, text)
            #expect(found?.0 == whole, "\(pattern) on \(text)")
            #expect(found?.1 == group, "\(pattern) on \(text): group 1")
        }
    }

    @Test("repetitions of what can match empty capture as Rust's crate does (not as Perl does)")
    func emptyIterations() throws {
        // Answers of Rust's regex crate (1.10.5, regex-automata 0.4.7), group 1 as UTF-8 offsets.
        let table: [(String, String, Range<Int>?, Range<Int>?)] = [
            ("(a*)*", "b", 0..<0, 0..<0),
            ("(a*)*", "aab", 0..<2, 0..<2),  // Perl and Python: group 1 is the empty 2..<2
            ("(a*)+", "aab", 0..<2, 0..<2),
            ("(a*)*b", "aab", 0..<3, 0..<2),
            ("(a|)+", "aa", 0..<2, 1..<2),
            ("(|a)+", "aa", 0..<0, 0..<0),
            ("(a?)*?b", "aab", 0..<3, 1..<2),
            ("(a*)+?b", "ab", 0..<2, 0..<1),
            ("(a*?)*", "aa", 0..<0, 0..<0),
            ("(?:(a)|b)*", "ab", 0..<2, 0..<1),
            ("(a*){2}", "aa", 0..<2, 2..<2),
            ("(a*){2,3}", "aaa", 0..<3, 3..<3),
            ("(\\b)*a", "a", 0..<1, 0..<0),
            ("(a*)*(b)", "b", 0..<1, 0..<0),
        ]
        for (pattern, text, whole, group) in table {
            let m = try LinearRegex(pattern).firstMatch(in: text)
            #expect(m?.utf8Range(0) == whole, "\(pattern) on \(text)")
            #expect(m?.utf8Range(1) == group, "\(pattern) on \(text): group 1")
        }
    }

    @Test("anchors, dot and the flags i, m, s, x, R and U behave as in Rust")
    func anchorsAndFlags() throws {
        let table: [(String, String, String?)] = [
            ("a$", "a\n", nil),  // $ is the end of the text only, not before a final newline
            ("(?m)a$", "a\n", "a"),
            ("^b", "a\nb", nil),
            ("(?m)^b", "a\nb", "b"),
            ("\\Ab", "ab", nil),
            ("a\\z", "ba", "a"),
            ("a.b", "a\nb", nil),
            ("(?s)a.b", "a\nb", "a\nb"),
            ("(?i)hello", "HeLLo", "HeLLo"),
            ("(?i:a)a", "Aa", "Aa"),
            ("(?i:a)a", "AA", nil),
            ("a(?i)b|c", "C", "C"),  // a flag holds to the end of its group, across |
            ("(?i)[a-c]+", "xABCd", "ABC"),
            ("(?i)[^a]", "A", nil),
            ("(?x) a b  # a comment\n c", "abc", "abc"),
            ("(?x)[a b]+", "ba ab", "ba"),
            ("(?mR)^b$", "a\r\nb\r\n", "b"),
            ("(?R).+", "ab\rc", "ab"),
            ("(?m)^$", "a\n\nb", ""),
        ]
        for (pattern, text, whole) in table {
            #expect(try find(pattern, text)?.0 == whole, "\(pattern) on \(text.debugDescription)")
        }
    }

    @Test("classes: ranges, negation, POSIX names, nesting, and &&, --, ~~")
    func classes() throws {
        let table: [(String, String, String?)] = [
            ("[a-c]+", "xxabcd", "abc"),
            ("[^a-c]+", "abcxyz", "xyz"),
            ("[]a]+", "x]a]", "]a]"),
            ("[-a]+", "x-a", "-a"),
            ("[a-]+", "x-a", "-a"),
            ("[[:digit:]x]+", "ab12x3", "12x3"),
            ("[[:^alpha:]]+", "ab12", "12"),
            ("[a-z&&[^aeiou]]+", "aebcd", "bcd"),
            ("[0-9--4]+", "01234", "0123"),
            ("[a-g~~b-h]+", "dha", "ha"),
            ("[x[^xyz]]+", "yab", "ab"),
            ("[.]", "a.b", "."),
            ("[\\d\\s]+", "x1 2y", "1 2"),
            ("[\\p{Lu}\\d]+", "abC4d", "C4"),
            ("[\\x41-\\x43]+", "ABCD", "ABC"),
            ("[a&&b]", "ab", nil),
        ]
        for (pattern, text, whole) in table {
            #expect(try find(pattern, text)?.0 == whole, "\(pattern) on \(text)")
        }
    }

    @Test("escapes: \\. \\\\ \\n \\t \\x7F \\x{…} \\u{…} and escaped punctuation")
    func escapes() throws {
        let table: [(String, String, String?)] = [
            ("a\\.b", "axb a.b", "a.b"),
            ("\\\\", "a\\b", "\\"),
            ("a\\tb", "a\tb", "a\tb"),
            ("a\\nb", "a\nb", "a\nb"),
            ("\\x41\\u{42}\\u0043\\U00000044", "ABCD", "ABCD"),
            ("\\x{1F525}", "hot 🔥", "🔥"),
            ("\\x7F", "a\u{7F}", "\u{7F}"),
            ("\\u00e9", "café", "é"),
            ("\\*\\+\\?\\(\\)\\[\\]\\{\\}\\^\\$\\|\\#\\&\\-\\~\\/\\ ", "*+?()[]{}^$|#&-~/ ", "*+?()[]{}^$|#&-~/ "),
            ("\\a\\f\\v\\r", "\u{07}\u{0C}\u{0B}\r", "\u{07}\u{0C}\u{0B}\r"),
        ]
        for (pattern, text, whole) in table {
            #expect(try find(pattern, text)?.0 == whole, "\(pattern)")
        }
    }

    @Test("\\d, \\w, \\s and \\b are Unicode-aware as Rust's default; (?-u) makes them ASCII")
    func unicode() throws {
        let table: [(String, String, String?)] = [
            ("\\d+", "x٣٤", "٣٤"),
            ("(?-u)\\d+", "x٣٤5", "5"),
            ("\\w+", "héllo wörld", "héllo"),
            ("(?-u)\\w+", "héllo", "h"),
            ("\\bcafé\\b", "un café noir", "café"),
            ("\\s+", "a\u{00A0}\u{2003}b", "\u{00A0}\u{2003}"),
            ("(?i)δ+", "ΔδΔ", "ΔδΔ"),
            ("(?i)k", "\u{212A}", "\u{212A}"),
            ("(?i)\u{212A}", "k", "k"),
            ("(?i)ſ", "S", "S"),
            ("\\p{L}+", "12Ωmega!", "Ωmega"),
            ("\\pN+", "x٣5", "٣5"),
            ("\\P{L}+", "ab12cd", "12"),
            ("\\p{gc=Lu}", "aBc", "B"),
            ("(?i)\\p{Lu}", "ab", "a"),
            ("\\<b\\w*", "ab bc", "bc"),
            ("\\b{start}b\\w*\\b{end}", "ab bc", "bc"),
            ("a\\b{end-half}", "ab a!", "a"),
            ("(?P<year>\\d{4})", "in 2024", "2024"),
            ("é.", "é🔥x", "é🔥"),
        ]
        for (pattern, text, whole) in table {
            #expect(try find(pattern, text)?.0 == whole, "\(pattern) on \(text)")
        }
    }

    @Test("named groups (?P<name>…) and (?<name>…) are numbered and found by name")
    func namedGroups() throws {
        let regex = try LinearRegex("(?P<year>\\d{4})-(?<month>\\d{2})(?:-(\\d{2}))?")
        #expect(regex.captureCount == 3)
        let m = try #require(regex.firstMatch(in: "on 2024-05-01"))
        #expect(m["year"] == "2024")
        #expect(m["month"] == "05")
        #expect(m[3] == "01")
        #expect(m["day"] == nil)
        #expect(String(m.text[m.range]) == "2024-05-01")
        #expect(m.utf8Range(0) == 3..<13)
    }

    @Test("random small patterns agree with NSRegularExpression on match ranges and group 1")
    func crossCheck() async throws {
        // A few seconds of CPU in a debug build: run it off the cooperative pool, which other
        // tests' timings rely on, and check the collected disagreements here.
        let (compared, groupsCompared, disagreements) = try await offPool { () throws -> (Int, Int, [String]) in
            var maker = PatternMaker(rng: SeededGenerator(state: 20_240_501))
            var compared = 0
            var groupsCompared = 0
            var patterns = 0
            var disagreements: [String] = []
            while patterns < 400 {
                var pattern = maker.alternation(0)
                if maker.chance(10) { pattern = "(?i)" + pattern }
                var parser = RegexParser(pattern)
                guard let node = try? parser.parse(), !hasNullableLoop(node), let ours = try? LinearRegex(pattern),
                    let theirs = try? NSRegularExpression(pattern: pattern)
                else { continue }
                patterns += 1
                for _ in 0..<12 {
                    var text = maker.text()
                    if pattern.hasPrefix("(?i)") && maker.chance(50) { text = text.uppercased() }
                    let mine = ours.firstMatch(in: text)
                    let length = (text as NSString).length
                    let other = theirs.firstMatch(in: text, range: NSRange(location: 0, length: length))
                    let expected = other.flatMap { nsRange($0, 0) }
                    if mine?.utf8Range(0) != expected {
                        disagreements.append(
                            "\(pattern) on \(text.debugDescription): \(String(describing: mine?.utf8Range(0))) "
                                + "vs \(String(describing: expected))")
                    }
                    if ours.isMatch(text) != (mine != nil) {
                        disagreements.append(
                            "\(pattern) on \(text.debugDescription): isMatch disagrees with firstMatch")
                    }
                    if ours.captureCount > 0, let mine, let other {
                        if mine.utf8Range(1) != nsRange(other, 1) {
                            disagreements.append(
                                "\(pattern) on \(text.debugDescription): group 1 "
                                    + "\(String(describing: mine.utf8Range(1))) vs \(String(describing: nsRange(other, 1)))"
                            )
                        }
                        groupsCompared += 1
                    }
                    compared += 1
                }
            }
            return (compared, groupsCompared, disagreements)
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10).joined(separator: "\n"))")
        #expect(compared == 4_800)
        #expect(groupsCompared > 500)
    }

    @Test("what cannot be matched in linear time, or is malformed, is rejected with its column")
    func rejections() {
        let table: [(String, Int, String)] = [
            ("(a)\\1", 4, "backreference \\1"),
            ("(?P<n>a)(?P=n)", 9, "backreference"),
            ("a\\k<n>", 2, "backreference"),
            ("a(?=b)", 2, "look-around (?="),
            ("(?!x)", 1, "look-around (?!"),
            ("x(?<=a)b", 2, "look-around (?<="),
            ("(?<!a)b", 1, "look-around (?<!"),
            ("(?>a+)b", 1, "atomic group"),
            ("a++", 3, "possessive"),
            ("a*+", 3, "possessive"),
            ("a{2}+", 5, "possessive"),
            ("(ab", 1, "unclosed group"),
            ("a(b(c)", 2, "unclosed group"),
            ("ab)", 3, "unopened group"),
            ("[abc", 1, "unclosed character class"),
            ("x[^a-", 2, "unclosed character class"),
            ("[z-a]", 2, "invalid class range z-a"),
            ("[\\d-z]", 2, "a range must start with a single character"),
            ("[\\b]", 2, "cannot appear in a class"),
            ("*a", 1, "nothing to repeat"),
            ("a|*", 3, "nothing to repeat"),
            ("(?i)*", 5, "nothing to repeat"),
            ("a{3,2}", 2, "the minimum is above the maximum"),
            ("a{", 2, "unclosed counted repetition"),
            ("a{x}", 2, "expected a count"),
            ("a{,3}", 2, "a minimum is required"),
            ("a{1001}", 2, "over the limit of 1000"),
            ("(?z)", 3, "unknown flag 'z'"),
            ("(?i-)", 4, "nothing after -"),
            ("(?ii)", 4, "appears twice"),
            ("(?)", 1, "empty flag group"),
            ("(?P<1a>x)", 5, "cannot appear in a group name"),
            ("(?P<n>a)(?P<n>b)", 13, "duplicate name"),
            ("(?<>a)", 4, "the name is empty"),
            ("\\p{Greek}", 1, "scripts such as Greek are not supported"),
            ("\\x{110000}", 1, "not a Unicode scalar value"),
            ("\\x4", 1, "exactly 2 hexadecimal digits"),
            ("abc\\", 4, "at the end of the pattern"),
            ("\\y", 1, "unknown escape \\y"),
            ("\\Z", 1, "\\z is the end of the text"),
            ("(?#note)", 1, "comment group"),
            ("(?1)", 1, "recursion"),
            ("a\\b{middle}", 2, "unknown word boundary"),
        ]
        for (pattern, column, message) in table {
            do {
                _ = try LinearRegex(pattern)
                Issue.record("\(pattern) should be rejected")
            } catch {
                #expect(error.column == column, "\(pattern): \(error)")
                #expect(error.message.contains(message), "\(pattern): \(error)")
                #expect(error.description.hasPrefix("column \(column): "))
            }
        }
    }

    @Test("size limits: deep nesting and programs over 100,000 instructions are errors, not hangs")
    func limits() throws {
        let deep = String(repeating: "(", count: 300) + "a" + String(repeating: ")", count: 300)
        #expect(throws: LinearRegexError.nestedTooDeep(offset: 250, limit: 250)) { try LinearRegex(deep) }
        #expect(throws: LinearRegexError.tooBig(offset: 0, limit: 100_000)) { try LinearRegex("a{1000}{1000}") }
        #expect(throws: LinearRegexError.tooBig(offset: 0, limit: 100_000)) { try LinearRegex("(\\w{1000}){200}") }
        let fits = try LinearRegex("[a-z]{1000}")
        #expect(fits.instructionCount < 1_100)
        #expect(fits.isMatch(String(repeating: "q", count: 1_000)))
    }

    /// The work bound the Pike VM guarantees: each position visits each state a few times at most.
    func bound(_ regex: LinearRegex, _ text: String) -> Int {
        let alternates = regex.program.alternates.count
        return 3 * (regex.instructionCount + alternates) * (text.unicodeScalars.count + 1)
    }

    @Test("(a*)*b on 32 × a and ! does work proportional to pattern × text, not exponential")
    func catastrophicNestedStar() throws {
        let regex = try LinearRegex("(a*)*b")
        let text = String(repeating: "a", count: 32) + "!"
        let search = regex.search(text, groups: regex.captureCount, earliest: false)
        #expect(search.match == nil)
        #expect(search.steps <= bound(regex, text), "steps \(search.steps), bound \(bound(regex, text))")
        #expect(!regex.isMatch(text))
        // Doubling the text doubles the work (linear), it does not square or explode it.
        let longer = regex.search(String(repeating: "a", count: 64) + "!", groups: 1, earliest: false)
        #expect(longer.steps < 2 * search.steps + 200)
    }

    @Test("(x+x+)+y on 5,000 × x does work proportional to pattern × text")
    func catastrophicOverlappingPlus() throws {
        let regex = try LinearRegex("(x+x+)+y")
        let text = String(repeating: "x", count: 5_000)
        let search = regex.search(text, groups: regex.captureCount, earliest: false)
        #expect(search.match == nil)
        #expect(search.steps <= bound(regex, text), "steps \(search.steps), bound \(bound(regex, text))")
        let found = try #require(regex.firstMatch(in: text + "y"))
        #expect(found.utf8Range(0) == 0..<5_001)
        #expect(found.utf8Range(1) == 0..<5_000)  // as a backtracker would: the first x+ took all it could
    }

    @Test("a status line costs a few steps per character; a literal skips ahead with memchr")
    func cheapCommonCases() throws {
        let status = try LinearRegex("^HTTP/1\\.[01] (\\d{3})")
        let line = "HTTP/1.1 200 OK" + String(repeating: " ", count: 85)
        let search = status.search(line, groups: 1, earliest: false)
        #expect(search.match?[1] == "200")
        #expect(search.steps < 100)  // anchored: stops once no thread survives
        let literal = try LinearRegex("error")
        let body = String(repeating: "all good. ", count: 10_000) + "an error"
        let found = literal.search(body, groups: 0, earliest: false)
        #expect(found.match.map { String($0.text[$0.range]) } == "error")
        #expect(found.steps < 100)
    }

    @Test("the runner's regex query and matches predicate use the engine and its errors")
    func runnerUse() throws {
        let at = SondeScript.SourceLocation(line: 3, column: 7)
        #expect(try QueryEvaluator.firstMatch("id=(\\d+)", in: "x id=42 y", location: at) == "42")
        #expect(try QueryEvaluator.firstMatch("\\d+", in: "x 42", location: at) == "42")
        #expect(try QueryEvaluator.firstMatch("(a)|b", in: "b", location: at) == nil)
        #expect(try QueryEvaluator.matches("(a*)*b", String(repeating: "a", count: 32) + "!", location: at) == false)
        do {
            _ = try QueryEvaluator.matches("(a)\\1", "aa", location: at)
            Issue.record("a backreference must be rejected")
        } catch {
            #expect(error.location == at)
            #expect(error.message.contains("column 4: backreference \\1 is not supported"))
        }
    }

    @Test("a check file with a backreference fails sonde validate at the pattern's column")
    func validateRejectsBackreference() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let slashes = try folder.write(
            "slashes.hurl", "GET http://127.0.0.1:1/\nHTTP 200\n[Asserts]\nbody matches /(a)\\1/\n")
        let quoted = try folder.write(
            "quoted.hurl",
            "GET http://127.0.0.1:1/\nHTTP 200\n[Captures]\nid: regex \"x\\u{41}(a)\\\\1\"\n")
        let result = try await offPool { try CLITests.runSonde(["validate", slashes]) }
        #expect(result.code == 2)
        #expect(result.err.contains("\(slashes):4:18"), "\(result.err)")
        #expect(result.err.contains("4 | body matches /(a)\\1/"), "\(result.err)")
        #expect(
            result.err.contains(" | " + String(repeating: " ", count: 17) + "^ invalid regex: backreference \\1"),
            "\(result.err)")
        // In a quoted string, an escape is one scalar of the pattern: \u{41} and \\ map to their backslash.
        let second = try await offPool { try CLITests.runSonde(["validate", quoted]) }
        #expect(second.code == 2)
        #expect(second.err.contains("\(quoted):4:22"), "\(second.err)")
        let good = try folder.write(
            "good.hurl", "GET http://127.0.0.1:1/\nHTTP 200\n[Asserts]\nbody matches /^(a+)\\d$/\n")
        let third = try await offPool { try CLITests.runSonde(["validate", good]) }
        #expect(third.code == 0, "\(third.err)")
    }
}
