/// A zero-width assertion.
enum RegexLook: Sendable, Equatable {
    /// `\A`, or `^` without `(?m)`.
    case startText
    /// `\z`, or `$` without `(?m)`.
    case endText
    /// `^` with `(?m)`: the start of the text or just after `\n`.
    case startLine
    /// `$` with `(?m)`: the end of the text or just before `\n`.
    case endLine
    /// `^` with `(?mR)`: as ``startLine`` with `\r`, `\n` and `\r\n` as line ends.
    case startLineCRLF
    /// `$` with `(?mR)`: as ``endLine`` with `\r`, `\n` and `\r\n` as line ends.
    case endLineCRLF
    /// `\b`: a word character on exactly one side.
    case wordBoundary(unicode: Bool)
    /// `\B`: not a word boundary.
    case notWordBoundary(unicode: Bool)
    /// `\b{start}` or `\<`: a non-word (or nothing) before, a word character after.
    case wordStart(unicode: Bool)
    /// `\b{end}` or `\>`: a word character before, a non-word (or nothing) after.
    case wordEnd(unicode: Bool)
    /// `\b{start-half}`: no word character before.
    case wordStartHalf(unicode: Bool)
    /// `\b{end-half}`: no word character after.
    case wordEndHalf(unicode: Bool)
}

/// What `.` matches.
enum RegexDot: Sendable, Equatable {
    /// `(?s).`: any scalar.
    case any
    /// `.`: any scalar but `\n`.
    case notNewline
    /// `(?R).`: any scalar but `\r` and `\n`.
    case notCRLF
}

/// The syntax tree of a pattern, with flags already applied (case-insensitive literals are classes,
/// `^` and `$` are the assertion their flags select).
indirect enum RegexNode: Sendable {
    /// Matches the empty string.
    case empty
    /// One scalar, exactly.
    case literal(UInt32)
    /// One scalar of a class.
    case set(RegexCharacterClass)
    /// `.`.
    case dot(RegexDot)
    /// A zero-width assertion.
    case look(RegexLook)
    /// A capturing group (index 1 and up; 0 is the whole match).
    case capture(index: Int, RegexNode)
    /// A sequence.
    case concat([RegexNode])
    /// Alternatives, the first preferred.
    case alternation([RegexNode])
    /// `min` to `max` (nil: unbounded) repetitions, greedy or lazy.
    case repetition(RegexNode, min: Int, max: Int?, greedy: Bool)

    /// The fewest scalars a match consumes, or `nil` when the node can never match.
    var minimumLength: Int? {
        switch self {
        case .empty, .look: return 0
        case .literal, .set, .dot: return 1
        case .capture(_, let inner): return inner.minimumLength
        case .concat(let items):
            var total = 0
            for item in items {
                guard let length = item.minimumLength else { return nil }
                total += length
            }
            return total
        case .alternation(let items):
            return items.compactMap(\.minimumLength).min()
        case .repetition(let inner, let min, _, _):
            if min == 0 { return 0 }
            return inner.minimumLength.map { $0 * min }
        }
    }
}

/// Inline flags in effect at a point of the pattern.
struct RegexFlags: Sendable, Equatable {
    /// `i`: case-insensitive (simple case folding).
    var caseInsensitive = false
    /// `m`: `^` and `$` match at line starts and ends.
    var multiLine = false
    /// `s`: `.` matches `\n`.
    var dotMatchesNewline = false
    /// `U`: `x*` is lazy and `x*?` greedy.
    var swapGreed = false
    /// `u`: Unicode-aware `\d \s \w \b` and case folding (on by default).
    var unicode = true
    /// `R`: `\r\n` line ends for `(?m)` and `.`.
    var crlf = false
    /// `x`: whitespace is ignored and `#` starts a comment to the end of the line.
    var verbose = false
}

/// A recursive-descent parser of the syntax of Rust's `regex` crate (the engine Hurl uses), rejecting
/// with a position what cannot be matched in linear time.
struct RegexParser {
    /// The deepest nesting of groups, classes and repetitions accepted (as Rust's default). Parsing
    /// and compiling recurse once per level: at the limit that is about 256 KiB of stack in an
    /// optimized build (2 MiB in a debug one), well within a thread's 8 MiB here.
    static let nestLimit = 250
    /// The largest count accepted in `{n}`, `{n,}` and `{n,m}`.
    static let repetitionLimit = 1_000

    /// The pattern's scalars.
    private let s: [Unicode.Scalar]
    /// The index of the next scalar to read.
    private var i = 0
    /// The flags in effect at `i`.
    private var flags = RegexFlags()
    /// Capture groups seen so far.
    private(set) var captureCount = 0
    /// The name of each group (index 0 is the whole match and has none).
    private(set) var groupNames: [String?] = [nil]

    /// A parser over `pattern`.
    init(_ pattern: String) {
        s = Array(pattern.unicodeScalars)
    }

    /// The whole pattern as a tree.
    mutating func parse() throws(LinearRegexError) -> RegexNode {
        let (node, _) = try alternation(level: 0)
        if i < s.count { throw .unopenedGroup(offset: i) }  // only a `)` stops the top level early
        return node
    }

    // MARK: reading

    private var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

    private func peek(_ offset: Int) -> Unicode.Scalar? { i + offset < s.count ? s[i + offset] : nil }

    private func has(_ prefix: String) -> Bool {
        var k = i
        for scalar in prefix.unicodeScalars {
            guard k < s.count, s[k] == scalar else { return false }
            k += 1
        }
        return true
    }

    private func text(_ range: Range<Int>) -> String {
        var out = ""
        out.unicodeScalars.append(contentsOf: s[max(0, range.lowerBound)..<min(s.count, range.upperBound)])
        return out
    }

    /// In `(?x)` mode, skips whitespace and `#` comments.
    private mutating func skipVerbose() {
        guard flags.verbose else { return }
        while let c = peek {
            if c.properties.isWhitespace {
                i += 1
            } else if c == "#" {
                while let d = peek, d != "\n" { i += 1 }
            } else {
                return
            }
        }
    }

    // MARK: alternation, concatenation, repetition

    /// Branches separated by `|`, up to the end or a `)`. Returns the node and its nesting depth.
    private mutating func alternation(level: Int) throws(LinearRegexError) -> (RegexNode, Int) {
        var branches: [RegexNode] = []
        var depth = 0
        while true {
            let (branch, d) = try concatenation(level: level)
            branches.append(branch)
            depth = max(depth, d)
            guard peek == "|" else { break }
            i += 1
        }
        return (branches.count == 1 ? branches[0] : .alternation(branches), depth)
    }

    /// Items up to `|`, `)` or the end.
    private mutating func concatenation(level: Int) throws(LinearRegexError) -> (RegexNode, Int) {
        var items: [(node: RegexNode, depth: Int)] = []
        var lastWasFlags = false
        while true {
            skipVerbose()
            guard let c = peek else { break }
            if c == "|" || c == ")" { break }
            switch c {
            case "(":
                if let group = try group(level: level) {
                    items.append(group)
                    lastWasFlags = false
                } else {
                    lastWasFlags = true
                }
                continue
            case "*", "+", "?":
                guard let last = items.last, !lastWasFlags else { throw .repetitionMissing(offset: i) }
                i += 1
                let (min, max): (Int, Int?) = c == "*" ? (0, nil) : c == "+" ? (1, nil) : (0, 1)
                items[items.count - 1] = try repeated(last, min: min, max: max, operatorAt: i - 1)
            case "{":
                guard let last = items.last, !lastWasFlags else { throw .repetitionMissing(offset: i) }
                let open = i
                let (min, max) = try countedRepetition()
                items[items.count - 1] = try repeated(last, min: min, max: max, operatorAt: open)
            case "[":
                items.append((.set(RegexCharacterClass(try bracketedClass(level: level))), 1))
            case "\\":
                switch try escape(inClass: false) {
                case .literal(let scalar): items.append((literalNode(scalar), 0))
                case .tree(let tree): items.append((.set(RegexCharacterClass(tree)), 0))
                case .look(let look): items.append((.look(look), 0))
                case .empty: break
                }
            case ".":
                i += 1
                let dot: RegexDot = flags.dotMatchesNewline ? .any : flags.crlf ? .notCRLF : .notNewline
                items.append((.dot(dot), 0))
            case "^":
                i += 1
                let look: RegexLook = !flags.multiLine ? .startText : flags.crlf ? .startLineCRLF : .startLine
                items.append((.look(look), 0))
            case "$":
                i += 1
                let look: RegexLook = !flags.multiLine ? .endText : flags.crlf ? .endLineCRLF : .endLine
                items.append((.look(look), 0))
            default:
                i += 1
                items.append((literalNode(c.value), 0))
            }
            lastWasFlags = false
        }
        let depth = items.map(\.depth).max() ?? 0
        switch items.count {
        case 0: return (.empty, 0)
        case 1: return (items[0].node, depth)
        default: return (.concat(items.map(\.node)), depth)
        }
    }

    /// Applies a repetition (the operator already read) and its lazy `?`; rejects a possessive `+`.
    private mutating func repeated(
        _ item: (node: RegexNode, depth: Int), min: Int, max: Int?,
        operatorAt: Int
    ) throws(LinearRegexError) -> (node: RegexNode, depth: Int) {
        var greedy = true
        if peek == "?" {
            greedy = false
            i += 1
        }
        if peek == "+" { throw .possessive(offset: i) }
        if flags.swapGreed { greedy.toggle() }
        let depth = item.depth + 1
        if depth > Self.nestLimit { throw .nestedTooDeep(offset: operatorAt, limit: Self.nestLimit) }
        return (.repetition(item.node, min: min, max: max, greedy: greedy), depth)
    }

    /// `{n}`, `{n,}` or `{n,m}` at `{` (spaces around the numbers allowed, as in Rust).
    private mutating func countedRepetition() throws(LinearRegexError) -> (Int, Int?) {
        let open = i
        i += 1
        skipVerbose()
        func number() throws(LinearRegexError) -> Int? {
            while let c = peek, c.properties.isWhitespace { i += 1 }
            var value = 0
            var digits = 0
            while let c = peek, ("0"..."9").contains(c) {
                value = Swift.min(value * 10 + Int(c.value - 48), 1_000_000_000)
                digits += 1
                i += 1
            }
            while let c = peek, c.properties.isWhitespace { i += 1 }
            return digits == 0 ? nil : value
        }
        guard peek != nil else { throw .invalidRepetition(offset: open, reason: "unclosed counted repetition {") }
        if peek == "," {
            throw .invalidRepetition(offset: open, reason: "a minimum is required before the comma, such as {0,3}")
        }
        guard let min = try number() else {
            throw .invalidRepetition(offset: open, reason: "expected a count such as {3} or {2,5} after {")
        }
        var max: Int? = min
        if peek == "," {
            i += 1
            skipVerbose()
            if peek == "}" {
                max = nil
            } else if let m = try number() {
                max = m
            } else {
                throw .invalidRepetition(offset: open, reason: "expected a maximum or } after the comma")
            }
        }
        guard peek == "}" else {
            throw .invalidRepetition(offset: open, reason: "unclosed counted repetition: expected }")
        }
        i += 1
        if let max, min > max {
            throw .invalidRepetition(offset: open, reason: "{\(min),\(max)}: the minimum is above the maximum")
        }
        if min > Self.repetitionLimit || (max ?? 0) > Self.repetitionLimit {
            throw .repetitionTooBig(offset: open, limit: Self.repetitionLimit)
        }
        return (min, max)
    }

    /// A literal scalar under the current flags: a class of its case variants when case-insensitive.
    private func literalNode(_ scalar: UInt32) -> RegexNode {
        guard flags.caseInsensitive else { return .literal(scalar) }
        let isASCIILetter = (scalar >= 0x41 && scalar <= 0x5A) || (scalar >= 0x61 && scalar <= 0x7A)
        if flags.unicode ? RegexCase.hasVariants(scalar) : isASCIILetter {
            let tree = RegexClassTree.caseInsensitive(.ranges([scalar...scalar]), unicode: flags.unicode)
            return .set(RegexCharacterClass(tree))
        }
        return .literal(scalar)
    }

    // MARK: groups and flags

    /// A group at `(`; `nil` for a flags-only group such as `(?i)`, whose flags then hold to the end
    /// of the enclosing group.
    private mutating func group(level: Int) throws(LinearRegexError) -> (node: RegexNode, depth: Int)? {
        let open = i
        i += 1
        skipVerbose()
        if level + 1 > Self.nestLimit { throw .nestedTooDeep(offset: open, limit: Self.nestLimit) }
        for prefix in ["?=", "?!", "?<=", "?<!"] where has(prefix) {
            throw .lookAround(offset: open, text: "(" + prefix)
        }
        if has("?>") { throw .atomicGroup(offset: open) }
        if has("?P=") { throw .backreference(offset: open, text: "(?P=name)") }
        if has("?P>") || has("?&") { throw .unsupportedGroup(offset: open, text: "recursion (?P>name)") }
        if has("?#") { throw .unsupportedGroup(offset: open, text: "a comment group (?#…); use (?x) and # comments,") }
        if has("?|") { throw .unsupportedGroup(offset: open, text: "a branch reset group (?|…)") }
        if has("?(") { throw .unsupportedGroup(offset: open, text: "a conditional group (?(…)…)") }
        if peek == "?", let next = peek(1),
            ("0"..."9").contains(next)
                || ((next == "+" || next == "-") && peek(2).map { ("0"..."9").contains($0) } == true)
        {
            throw .unsupportedGroup(offset: open, text: "recursion (?1)")
        }
        let saved = flags
        var captureIndex: Int? = nil
        if has("?P<") || has("?<") {
            i += has("?P<") ? 3 : 2
            let name = try groupName()
            captureCount += 1
            captureIndex = captureCount
            groupNames.append(name)
        } else if peek == "?" {
            i += 1
            let (newFlags, closed) = try inlineFlags(open: open)
            flags = newFlags
            if closed { return nil }
        } else {
            captureCount += 1
            captureIndex = captureCount
            groupNames.append(nil)
        }
        let (inner, depth) = try alternation(level: level + 1)
        guard peek == ")" else { throw .unclosedGroup(offset: open) }
        i += 1
        flags = saved
        if let captureIndex { return (.capture(index: captureIndex, inner), depth + 1) }
        return (inner, depth + 1)
    }

    /// The name of `(?P<name>` or `(?<name>`, through the `>`.
    private mutating func groupName() throws(LinearRegexError) -> String {
        let start = i
        var name = ""
        while true {
            guard let c = peek else {
                throw .invalidGroupName(offset: start, reason: "unterminated name: expected >")
            }
            if c == ">" { break }
            let ok =
                name.isEmpty
                ? c == "_" || c.properties.isAlphabetic
                : c == "_" || c == "." || c == "[" || c == "]" || c.properties.isAlphabetic
                    || c.properties.numericType == .decimal
            guard ok else {
                throw .invalidGroupName(
                    offset: i,
                    reason: "'\(c)' cannot appear in a group name "
                        + "(a letter or _ first, then letters, digits, _ . [ ])")
            }
            name.unicodeScalars.append(c)
            i += 1
        }
        if name.isEmpty { throw .invalidGroupName(offset: start, reason: "the name is empty") }
        if groupNames.contains(name) { throw .invalidGroupName(offset: start, reason: "duplicate name '\(name)'") }
        i += 1
        return name
    }

    /// Flags after `(?` up to `)` (returns `closed` true) or `:` (false), consuming that scalar.
    private mutating func inlineFlags(open: Int) throws(LinearRegexError) -> (RegexFlags, closed: Bool) {
        var result = flags
        var negate = false
        var negationAt: Int? = nil
        var danglingNegation: Int? = nil
        var seen: Set<Unicode.Scalar> = []
        var any = false
        while let c = peek, c != ":", c != ")" {
            if c == "-" {
                if negationAt != nil { throw .invalidFlag(offset: i, reason: "the negation - appears twice") }
                negationAt = i
                danglingNegation = i
                negate = true
            } else {
                guard "imsUuRx".unicodeScalars.contains(c) else {
                    throw .invalidFlag(offset: i, reason: "unknown flag '\(c)' (flags are i, m, s, U, u, R and x)")
                }
                if seen.contains(c) { throw .invalidFlag(offset: i, reason: "flag '\(c)' appears twice") }
                seen.insert(c)
                danglingNegation = nil
                any = true
                let on = !negate
                switch c {
                case "i": result.caseInsensitive = on
                case "m": result.multiLine = on
                case "s": result.dotMatchesNewline = on
                case "U": result.swapGreed = on
                case "u": result.unicode = on
                case "R": result.crlf = on
                default: result.verbose = on
                }
            }
            i += 1
        }
        guard let end = peek else { throw .unclosedGroup(offset: open) }
        if let danglingNegation {
            throw .invalidFlag(offset: danglingNegation, reason: "nothing after -: name the flags to turn off")
        }
        if !any && end == ")" { throw .invalidFlag(offset: open, reason: "empty flag group (?)") }
        i += 1
        return (result, end == ")")
    }

    // MARK: escapes

    /// What one escape sequence stands for.
    private enum Escaped {
        case literal(UInt32)
        case tree(RegexClassTree)
        case look(RegexLook)
        case empty
    }

    /// The escape sequence at `\`.
    private mutating func escape(inClass: Bool) throws(LinearRegexError) -> Escaped {
        let start = i
        i += 1
        guard let c = peek else {
            throw .invalidEscape(offset: start, reason: "\\ at the end of the pattern (write \\\\ for a backslash)")
        }
        let u = flags.unicode
        func look(_ l: RegexLook) throws(LinearRegexError) -> Escaped {
            if inClass {
                throw .invalidClassItem(offset: start, reason: "the assertion \\\(c) cannot appear in a class")
            }
            return .look(l)
        }
        switch c {
        case "0"..."9":
            var k = i
            while k < s.count, ("0"..."9").contains(s[k]) { k += 1 }
            throw .backreference(offset: start, text: text(start..<k))
        case "k", "g":
            throw .backreference(offset: start, text: "\\\(c)…")
        case "x", "u", "U":
            return .literal(try hexEscape(start: start, kind: c))
        case "p", "P":
            return .tree(try unicodeClass(start: start, negated: c == "P"))
        case "d", "D", "s", "S", "w", "W":
            i += 1
            let tree: RegexClassTree
            switch c {
            case "d", "D": tree = u ? .property(.digit) : .ranges([0x30...0x39])
            case "s", "S": tree = u ? .property(.space) : .ranges([0x09...0x0D, 0x20...0x20])
            default: tree = u ? .property(.word) : .ranges([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
            }
            return .tree(c.properties.isUppercase ? .negated(tree) : tree)
        case "a":
            i += 1
            return .literal(0x07)
        case "f":
            i += 1
            return .literal(0x0C)
        case "t":
            i += 1
            return .literal(0x09)
        case "n":
            i += 1
            return .literal(0x0A)
        case "r":
            i += 1
            return .literal(0x0D)
        case "v":
            i += 1
            return .literal(0x0B)
        case "A":
            i += 1
            return try look(.startText)
        case "z":
            i += 1
            return try look(.endText)
        case "B":
            i += 1
            return try look(.notWordBoundary(unicode: u))
        case "<":
            i += 1
            return try look(.wordStart(unicode: u))
        case ">":
            i += 1
            return try look(.wordEnd(unicode: u))
        case "b":
            i += 1
            if !inClass, peek == "{", let next = peek(1), ("a"..."z").contains(next) || next == "-" {
                var k = i + 1
                var name = ""
                while k < s.count, ("a"..."z").contains(s[k]) || s[k] == "-" {
                    name.unicodeScalars.append(s[k])
                    k += 1
                }
                guard k < s.count, s[k] == "}" else {
                    throw .invalidEscape(offset: start, reason: "unclosed special word boundary \\b{\(name)")
                }
                let special: RegexLook
                switch name {
                case "start": special = .wordStart(unicode: u)
                case "end": special = .wordEnd(unicode: u)
                case "start-half": special = .wordStartHalf(unicode: u)
                case "end-half": special = .wordEndHalf(unicode: u)
                default:
                    throw .invalidEscape(
                        offset: start,
                        reason: "unknown word boundary \\b{\(name)} "
                            + "(known: start, end, start-half, end-half)")
                }
                i = k + 1
                return .look(special)
            }
            return try look(.wordBoundary(unicode: u))
        case "Z":
            throw .invalidEscape(offset: start, reason: "\\Z is not supported; \\z is the end of the text")
        case "Q", "E":
            throw .invalidEscape(offset: start, reason: "quoting with \\Q…\\E is not supported; escape each character")
        default:
            if c.isASCII && !c.properties.isAlphabetic {
                i += 1  // any ASCII punctuation, space or control can be escaped (letters are reserved)
                return .literal(c.value)
            }
            throw .invalidEscape(offset: start, reason: "unknown escape \\\(c)")
        }
    }

    /// `\xHH`, `\x{H…}`, `\uHHHH`, `\u{H…}`, `\UHHHHHHHH`, `\U{H…}` at the letter.
    private mutating func hexEscape(start: Int, kind: Unicode.Scalar) throws(LinearRegexError) -> UInt32 {
        i += 1
        var hex = ""
        if peek == "{" {
            i += 1
            while let c = peek, c != "}" {
                guard c.properties.isASCIIHexDigit else {
                    throw .invalidEscape(offset: start, reason: "'\(c)' is not a hexadecimal digit")
                }
                hex.unicodeScalars.append(c)
                i += 1
            }
            guard peek == "}" else { throw .invalidEscape(offset: start, reason: "unclosed \\\(kind){…}") }
            i += 1
            if hex.isEmpty { throw .invalidEscape(offset: start, reason: "empty \\\(kind){}") }
        } else {
            let digits = kind == "x" ? 2 : kind == "u" ? 4 : 8
            for _ in 0..<digits {
                guard let c = peek, c.properties.isASCIIHexDigit else {
                    throw .invalidEscape(
                        offset: start,
                        reason: "\\\(kind) takes exactly \(digits) hexadecimal digits "
                            + "or braces such as \\\(kind){7F}")
                }
                hex.unicodeScalars.append(c)
                i += 1
            }
        }
        guard hex.count <= 8, let value = UInt32(hex, radix: 16), Unicode.Scalar(value) != nil else {
            throw .invalidEscape(offset: start, reason: "\\\(kind){\(hex)} is not a Unicode scalar value")
        }
        return value
    }

    /// `\pL`, `\p{Name}`, `\PL`, `\P{Name}` at the letter.
    private mutating func unicodeClass(start: Int, negated: Bool) throws(LinearRegexError) -> RegexClassTree {
        i += 1
        var name = ""
        if peek == "{" {
            i += 1
            while let c = peek, c != "}" {
                name.unicodeScalars.append(c)
                i += 1
            }
            guard peek == "}" else { throw .invalidEscape(offset: start, reason: "unclosed \\p{…}") }
            i += 1
        } else if let c = peek, c != "\\" {
            name.unicodeScalars.append(c)
            i += 1
        } else {
            throw .invalidEscape(offset: start, reason: "\\p needs a class name such as \\pL or \\p{Lu}")
        }
        var negate = negated
        var key = name
        let scalars = Array(name.unicodeScalars)
        if let bang = scalars.indices.dropLast().first(where: { scalars[$0] == "!" && scalars[$0 + 1] == "=" }) {
            key = ""
            key.unicodeScalars.append(contentsOf: scalars[..<bang])
            key.unicodeScalars.append("=")
            key.unicodeScalars.append(contentsOf: scalars[(bang + 2)...])
            negate.toggle()
        }
        var tree: RegexClassTree
        let loose = String(key.lowercased().unicodeScalars.filter { $0 != " " && $0 != "_" && $0 != "-" })
        if loose == "ascii" || loose == "isascii" {
            tree = .ranges([0...0x7F])
        } else if let property = RegexScalarProperty.named(key) {
            tree = .property(property)
        } else {
            throw .unknownUnicodeClass(offset: start, name: name)
        }
        if flags.caseInsensitive { tree = RegexClassTree.caseInsensitive(tree, unicode: flags.unicode) }
        return negate ? .negated(tree) : tree
    }

    // MARK: classes

    /// A bracketed class at `[`, nested classes and `&&` `--` `~~` included; negation applied.
    private mutating func bracketedClass(level: Int) throws(LinearRegexError) -> RegexClassTree {
        let open = i
        if level + 1 > Self.nestLimit { throw .nestedTooDeep(offset: open, limit: Self.nestLimit) }
        i += 1
        skipVerbose()
        var negated = false
        if peek == "^" {
            negated = true
            i += 1
            skipVerbose()
        }
        var ranges: [ClosedRange<UInt32>] = []
        var others: [RegexClassTree] = []
        while peek == "-" {  // leading dashes are literal
            ranges.append(0x2D...0x2D)
            i += 1
            skipVerbose()
        }
        if ranges.isEmpty && peek == "]" {  // so is a leading ]
            ranges.append(0x5D...0x5D)
            i += 1
        }
        var pending: (op: Unicode.Scalar, lhs: RegexClassTree)? = nil
        func current() -> RegexClassTree {
            var leaf = RegexClassTree.ranges(RegexClassTree.normalized(ranges))
            if flags.caseInsensitive && !ranges.isEmpty {
                leaf = RegexClassTree.caseInsensitive(leaf, unicode: flags.unicode)
            }
            var set = RegexClassTree.union(of: [leaf] + others)
            if let (op, lhs) = pending {
                switch op {
                case "&": set = .intersection(lhs, set)
                case "-": set = .difference(lhs, set)
                default: set = .symmetricDifference(lhs, set)
                }
            }
            return set
        }
        while true {
            skipVerbose()
            guard let c = peek else { throw .unclosedClass(offset: open) }
            if c == "]" {
                i += 1
                let set = current()
                return negated ? .negated(set) : set
            }
            if c == "&" || c == "-" || c == "~", peek(1) == c {
                pending = (c, current())
                ranges = []
                others = []
                i += 2
                continue
            }
            if c == "[" {
                if let ascii = asciiClass() {
                    if case .ranges(let r) = ascii { ranges += r } else { others.append(ascii) }
                } else {
                    others.append(try bracketedClass(level: level + 1))
                }
                continue
            }
            let itemStart = i
            let first = try classItem()
            skipVerbose()
            if peek == "-", let after = peekSkippingVerbose(from: i + 1), after != "]", after != "-" {
                i += 1
                skipVerbose()
                guard peek != nil else { throw .unclosedClass(offset: open) }
                let endStart = i
                let last = try classItem()
                guard case .literal(let low) = first else {
                    throw .invalidClassItem(offset: itemStart, reason: "a range must start with a single character")
                }
                guard case .literal(let high) = last else {
                    throw .invalidClassItem(offset: endStart, reason: "a range must end with a single character")
                }
                guard low <= high else { throw .invalidClassRange(offset: itemStart, text: text(itemStart..<i)) }
                ranges.append(low...high)
                continue
            }
            switch first {
            case .literal(let scalar): ranges.append(scalar...scalar)
            case .tree(let tree): others.append(tree)
            case .look, .empty: break
            }
        }
    }

    /// The scalar at `from`, skipping whitespace and comments in `(?x)` mode.
    private func peekSkippingVerbose(from: Int) -> Unicode.Scalar? {
        var k = from
        if flags.verbose {
            while k < s.count {
                if s[k].properties.isWhitespace {
                    k += 1
                } else if s[k] == "#" {
                    while k < s.count, s[k] != "\n" { k += 1 }
                } else {
                    break
                }
            }
        }
        return k < s.count ? s[k] : nil
    }

    /// One literal or escape inside a class.
    private mutating func classItem() throws(LinearRegexError) -> Escaped {
        guard let c = peek else { return .empty }
        if c == "\\" { return try escape(inClass: true) }
        i += 1
        return .literal(c.value)
    }

    /// `[:name:]` or `[:^name:]` at `[`, or `nil` (and nothing read) when it is not one.
    private mutating func asciiClass() -> RegexClassTree? {
        guard peek(1) == ":" else { return nil }
        var k = i + 2
        var negated = false
        if k < s.count, s[k] == "^" {
            negated = true
            k += 1
        }
        var name = ""
        while k < s.count, s[k] != ":" {
            name.unicodeScalars.append(s[k])
            k += 1
        }
        guard k + 1 < s.count, s[k] == ":", s[k + 1] == "]" else { return nil }
        let ranges: [ClosedRange<UInt32>]
        switch name {
        case "alnum": ranges = [0x30...0x39, 0x41...0x5A, 0x61...0x7A]
        case "alpha": ranges = [0x41...0x5A, 0x61...0x7A]
        case "ascii": ranges = [0x00...0x7F]
        case "blank": ranges = [0x09...0x09, 0x20...0x20]
        case "cntrl": ranges = [0x00...0x1F, 0x7F...0x7F]
        case "digit": ranges = [0x30...0x39]
        case "graph": ranges = [0x21...0x7E]
        case "lower": ranges = [0x61...0x7A]
        case "print": ranges = [0x20...0x7E]
        case "punct": ranges = [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E]
        case "space": ranges = [0x09...0x0D, 0x20...0x20]
        case "upper": ranges = [0x41...0x5A]
        case "word": ranges = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
        case "xdigit": ranges = [0x30...0x39, 0x41...0x46, 0x61...0x66]
        default: return nil
        }
        i = k + 2
        if negated {
            var tree = RegexClassTree.ranges(ranges)
            if flags.caseInsensitive { tree = RegexClassTree.caseInsensitive(tree, unicode: flags.unicode) }
            return .negated(tree)
        }
        return .ranges(ranges)
    }
}
