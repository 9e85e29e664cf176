/// An RFC 9535 JSONPath expression (the common subset): `$`, `.name`, `['name']`, `[n]` (negative from
/// the end), `[*]`, `.*`, `..name`, `..*`, slices `[a:b:c]`, unions `[0,1]`, and filters
/// `[?@.price > 10 && @.in_stock]` with `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`, `!`, parentheses, and the
/// functions `length()`, `count()`, `value()`, `match()` and `search()`.
package struct JSONPath: Sendable {
    indirect enum Selector: Sendable {
        case name(String)
        case wildcard
        case index(Int)
        case slice(Int?, Int?, Int)
        case filter(FilterExpr)
    }

    struct Segment: Sendable {
        var descendant: Bool
        var selectors: [Selector]
    }

    indirect enum FilterExpr: Sendable {
        case or(FilterExpr, FilterExpr)
        case and(FilterExpr, FilterExpr)
        case not(FilterExpr)
        case exists(Operand)
        case compare(Operand, String, Operand)
        /// `match(…)` or `search(…)` as a test.
        case test(Function, [Operand])
    }

    enum Operand: Sendable {
        case literal(Value)
        /// A path relative to the current node (`@`) or the root (`$`).
        case path(relative: Bool, segments: [Segment])
        /// `length(…)`, `count(…)`, `value(…)`: a value (or Nothing).
        case function(Function, [Operand])
    }

    /// The function extensions of RFC 9535, section 2.4.
    enum Function: String, Sendable {
        case length, count, value, match, search

        /// Whether the function gives a logical result (a test) rather than a value.
        var isTest: Bool { self == .match || self == .search }
    }

    /// The parsed path, root first.
    let segments: [Segment]
    /// The path as written.
    let expression: String

    package init(_ expression: String) throws(JSONPathError) {
        self.expression = expression
        var parser = PathParser(chars: Array(expression.unicodeScalars))
        parser.skipSpace()
        guard parser.peek == "$" else { throw parser.error("a JSONPath starts with $") }
        parser.index += 1
        segments = try parser.segments(depth: 0)
        parser.skipSpace()
        guard parser.index == parser.chars.count else { throw parser.error("unexpected character") }
    }

    /// How much work one evaluation may do: the bound that keeps a query over a large body (the
    /// descendant segment `..` above all) from taking unbounded time and memory.
    package struct Limits: Sendable, Equatable {
        /// Nodes one evaluation may touch, counting each node a descendant segment walks, each node
        /// a selector returns and each node a filter tests (its own sub-queries included). Every node
        /// kept in a node list was counted, so this also bounds the memory of the lists.
        package var maxSteps: Int

        /// A limit of `maxSteps` nodes.
        package init(maxSteps: Int) {
            self.maxSteps = maxSteps
        }

        /// The limit of a check's queries: 2,000,000 nodes (tens of milliseconds; an 8 MiB
        /// document of small objects holds about a million).
        package static let standard = Limits(maxSteps: 2_000_000)
    }

    /// The node list the expression selects from `root`, touching at most `limits.maxSteps` nodes;
    /// stops early, with `JSONPathLimitError.stopped`, once `stop` is set.
    package func evaluate(
        _ root: Value, limits: Limits = .standard, stop: StopFlag? = nil
    ) throws(JSONPathLimitError) -> [Value] {
        var walk = Walk(root: root, limit: limits.maxSteps, stop: stop, expression: expression)
        return try walk.apply(segments, to: [root])
    }

    /// One evaluation: the root, the work done so far and its bounds.
    private struct Walk {
        let root: Value
        let limit: Int
        let stop: StopFlag?
        let expression: String
        var steps = 0

        /// Counts `n` nodes; throws past the limit or once the stop flag is set (checked every
        /// 4,096 nodes).
        @inline(__always)
        mutating func count(_ n: Int = 1) throws(JSONPathLimitError) {
            let before = steps
            steps += n
            if steps > limit { throw .tooManyNodes(expression: expression, limit: limit) }
            if before >> 12 != steps >> 12, stop?.isSet == true { throw .stopped }
        }

        mutating func apply(_ segments: [Segment], to nodes: [Value]) throws(JSONPathLimitError) -> [Value] {
            var current = nodes
            for segment in segments {
                var next: [Value] = []
                for node in current {
                    if segment.descendant {
                        try descendants(of: node) { walk, target throws(JSONPathLimitError) in
                            for selector in segment.selectors {
                                try walk.select(selector, from: target, into: &next)
                            }
                        }
                    } else {
                        for selector in segment.selectors {
                            try select(selector, from: node, into: &next)
                        }
                    }
                }
                current = next
            }
            return current
        }

        /// Calls `visit` with the node and each of its descendants, in document order (pre-order),
        /// iteratively: no array of descendants is built and no stack frame is used per level.
        mutating func descendants(
            of node: Value, _ visit: (inout Walk, Value) throws(JSONPathLimitError) -> Void
        ) throws(JSONPathLimitError) {
            var pending: [Value] = [node]
            while let next = pending.popLast() {
                try count()
                try visit(&self, next)
                switch next {
                case .list(let items):
                    for item in items.reversed() { pending.append(item) }
                case .object(let pairs):
                    for pair in pairs.reversed() { pending.append(pair.value) }
                default: break
                }
            }
        }

        mutating func select(_ selector: Selector, from node: Value, into out: inout [Value]) throws(JSONPathLimitError)
        {
            switch selector {
            case .name(let name):
                if case .object(let pairs) = node, let pair = pairs.first(where: { $0.key == name }) {
                    try count()
                    out.append(pair.value)
                }
            case .wildcard:
                if case .list(let items) = node {
                    try count(items.count)
                    out += items
                }
                if case .object(let pairs) = node {
                    try count(pairs.count)
                    for pair in pairs { out.append(pair.value) }
                }
            case .index(let i):
                if case .list(let items) = node {
                    let j = i < 0 ? items.count + i : i
                    if j >= 0 && j < items.count {
                        try count()
                        out.append(items[j])
                    }
                }
            case .slice(let start, let end, let step):
                guard case .list(let items) = node, step != 0 else { return }
                let n = items.count
                func normalize(_ v: Int) -> Int { v >= 0 ? v : n + v }
                if step > 0 {
                    let lower = min(max(normalize(start ?? 0), 0), n)
                    let upper = min(max(normalize(end ?? n), 0), n)
                    var i = lower
                    while i < upper {
                        try count()
                        out.append(items[i])
                        i += step
                    }
                } else {
                    let upper = min(max(normalize(start ?? n - 1), -1), n - 1)
                    let lower = min(max(normalize(end ?? -n - 1), -1), n - 1)
                    var i = upper
                    while i > lower {
                        try count()
                        out.append(items[i])
                        i += step
                    }
                }
            case .filter(let expr):
                switch node {
                case .list(let items):
                    for child in items {
                        try count()
                        if try test(expr, current: child) { out.append(child) }
                    }
                case .object(let pairs):
                    for pair in pairs {
                        try count()
                        if try test(expr, current: pair.value) { out.append(pair.value) }
                    }
                default: break
                }
            }
        }

        mutating func test(_ expr: FilterExpr, current: Value) throws(JSONPathLimitError) -> Bool {
            switch expr {
            case .or(let a, let b):
                if try test(a, current: current) { return true }
                return try test(b, current: current)
            case .and(let a, let b):
                guard try test(a, current: current) else { return false }
                return try test(b, current: current)
            case .not(let a): return try !test(a, current: current)
            case .exists(let operand): return try !nodes(operand, current: current).isEmpty
            case .compare(let l, let op, let r):
                let left = try nodes(l, current: current)
                let right = try nodes(r, current: current)
                // Singular queries: an empty node list compares as "Nothing".
                let a = left.count == 1 ? left[0] : nil
                let b = right.count == 1 ? right[0] : nil
                return JSONPath.compare(a, op, b)
            case .test(let function, let arguments):
                try count()
                guard arguments.count == 2,
                    case .string(let text)? = try singular(arguments[0], current: current),
                    case .string(let pattern)? = try singular(arguments[1], current: current)
                else { return false }
                // I-Regexp (RFC 9485): match() anchors the pattern at both ends, search() finds it anywhere.
                let source = function == .match ? "\\A(?:" + pattern + ")\\z" : pattern
                guard let regex = try? LinearRegex.cached(source) else { return false }
                guard let found = regex.isMatch(text, stop: stop) else { throw .stopped }
                return found
            }
        }

        mutating func nodes(_ operand: Operand, current: Value) throws(JSONPathLimitError) -> [Value] {
            switch operand {
            case .literal(let v): return [v]
            case .path(let relative, let segments): return try apply(segments, to: [relative ? current : root])
            case .function(let function, let arguments):
                try count()
                guard let argument = arguments.first else { return [] }
                switch function {
                case .count:
                    return [.integer(Int64(try nodes(argument, current: current).count))]
                case .value:
                    return try singular(argument, current: current).map { [$0] } ?? []
                case .length:
                    switch try singular(argument, current: current) {
                    case .string(let s)?: return [.integer(Int64(s.unicodeScalars.count))]
                    case .list(let items)?: return [.integer(Int64(items.count))]
                    case .object(let pairs)?: return [.integer(Int64(pairs.count))]
                    default: return []
                    }
                case .match, .search:
                    return []
                }
            }
        }

        /// The value of a value-typed argument: a literal, a function's value, or the one node of a
        /// singular query (Nothing otherwise).
        mutating func singular(_ operand: Operand, current: Value) throws(JSONPathLimitError) -> Value? {
            let list = try nodes(operand, current: current)
            return list.count == 1 ? list[0] : nil
        }
    }

    static func compare(_ a: Value?, _ op: String, _ b: Value?) -> Bool {
        switch op {
        case "==": return equal(a, b)
        case "!=": return !equal(a, b)
        case "<": return less(a, b)
        case "<=": return less(a, b) || equal(a, b)
        case ">": return less(b, a)
        case ">=": return less(b, a) || equal(a, b)
        default: return false
        }
    }

    static func equal(_ a: Value?, _ b: Value?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let x?, let y?): return x == y
        default: return false
        }
    }

    static func less(_ a: Value?, _ b: Value?) -> Bool {
        switch (a, b) {
        case (.integer(let x)?, .integer(let y)?): return x < y
        case (.integer(let x)?, .float(let y)?): return Double(x) < y
        case (.float(let x)?, .integer(let y)?): return x < Double(y)
        case (.float(let x)?, .float(let y)?): return x < y
        case (.string(let x)?, .string(let y)?): return x < y
        default: return false
        }
    }
}

/// Why a JSONPath evaluation stopped without a result.
package enum JSONPathLimitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The query touched more nodes than `JSONPath.Limits.maxSteps`.
    case tooManyNodes(expression: String, limit: Int)
    /// The evaluation's stop flag was set (its run's deadline passed, or the run was cancelled).
    case stopped

    /// A one-line message that says what to change.
    package var description: String {
        switch self {
        case .tooManyNodes(let expression, let limit):
            let shown = Self.grouped(limit)
            return
                "JSONPath \(expression) touched more than \(shown) nodes, the limit of one query: select a narrower part of the body (a path such as $.items[*].id rather than $..id)"
        case .stopped:
            return "JSONPath evaluation stopped: the run's deadline passed"
        }
    }

    /// `2000000` as `2,000,000`.
    static func grouped(_ n: Int) -> String {
        var digits = Array(String(n))
        var index = digits.count - 3
        while index > (digits.first == "-" ? 1 : 0) {
            digits.insert(",", at: index)
            index -= 3
        }
        return String(digits)
    }
}

/// An invalid JSONPath: position (in characters) and what was expected.
package struct JSONPathError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the mistake is, 0-based in characters.
    var offset: Int
    package var message: String
    package var description: String { "invalid JSONPath: \(message) at character \(offset + 1)" }
}

private struct PathParser {
    let chars: [Unicode.Scalar]
    var index = 0

    init(chars: [Unicode.Scalar]) { self.chars = chars }

    var peek: Unicode.Scalar? { index < chars.count ? chars[index] : nil }
    func peek(_ offset: Int) -> Unicode.Scalar? { index + offset < chars.count ? chars[index + offset] : nil }

    func error(_ message: String) -> JSONPathError { JSONPathError(offset: index, message: message) }

    mutating func skipSpace() {
        while let c = peek, c == " " || c == "\t" || c == "\n" || c == "\r" { index += 1 }
    }

    static func isNameStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isAlphabetic || c.value >= 0x80
    }

    static func isNameChar(_ c: Unicode.Scalar) -> Bool {
        isNameStart(c) || ("0"..."9").contains(c) || c == "-"
    }

    mutating func segments(depth: Int) throws(JSONPathError) -> [JSONPath.Segment] {
        guard depth < 64 else { throw error("filters nested too deeply") }
        var out: [JSONPath.Segment] = []
        while true {
            let save = index
            skipSpace()
            if peek == "." {
                if peek(1) == "." {
                    index += 2
                    if peek == "[" {
                        out.append(.init(descendant: true, selectors: try bracket(depth: depth)))
                    } else {
                        out.append(.init(descendant: true, selectors: [try dotMember()]))
                    }
                } else {
                    index += 1
                    out.append(.init(descendant: false, selectors: [try dotMember()]))
                }
            } else if peek == "[" {
                out.append(.init(descendant: false, selectors: try bracket(depth: depth)))
            } else {
                index = save
                return out
            }
        }
    }

    mutating func dotMember() throws(JSONPathError) -> JSONPath.Selector {
        if peek == "*" {
            index += 1
            return .wildcard
        }
        guard let c = peek, Self.isNameStart(c) else { throw error("expected a member name or * after '.'") }
        var name = ""
        while let c = peek, Self.isNameChar(c) {
            name.unicodeScalars.append(c)
            index += 1
        }
        return .name(name)
    }

    mutating func bracket(depth: Int) throws(JSONPathError) -> [JSONPath.Selector] {
        index += 1
        var selectors: [JSONPath.Selector] = []
        while true {
            skipSpace()
            selectors.append(try selector(depth: depth))
            skipSpace()
            if peek == "," {
                index += 1
                continue
            }
            if peek == "]" {
                index += 1
                return selectors
            }
            throw error("expected ',' or ']' in a bracket selector")
        }
    }

    mutating func selector(depth: Int) throws(JSONPathError) -> JSONPath.Selector {
        guard let c = peek else { throw error("expected a selector, found the end") }
        if c == "*" {
            index += 1
            return .wildcard
        }
        if c == "'" || c == "\"" { return .name(try quoted()) }
        if c == "?" {
            index += 1
            skipSpace()
            return .filter(try orExpr(depth: depth + 1))
        }
        if c == "-" || ("0"..."9").contains(c) || c == ":" {
            let start = try optionalInt()
            skipSpace()
            guard peek == ":" else {
                guard let start else { throw error("expected an index") }
                return .index(start)
            }
            index += 1
            skipSpace()
            let end = try optionalInt()
            skipSpace()
            var step = 1
            if peek == ":" {
                index += 1
                skipSpace()
                step = try optionalInt() ?? 1
            }
            return .slice(start, end, step)
        }
        throw error("expected a name in quotes, an index, *, a slice or a ?filter")
    }

    mutating func optionalInt() throws(JSONPathError) -> Int? {
        var text = ""
        if peek == "-" {
            text = "-"
            index += 1
        }
        while let c = peek, ("0"..."9").contains(c) {
            text.unicodeScalars.append(c)
            index += 1
        }
        if text.isEmpty { return nil }
        guard let n = Int(text) else { throw error("invalid integer \(text)") }
        return n
    }

    mutating func quoted() throws(JSONPathError) -> String {
        guard let quote = peek else { throw error("expected a quote") }
        index += 1
        var out = ""
        while true {
            guard let c = peek else { throw error("unterminated string") }
            index += 1
            if c == quote { return out }
            if c == "\\" {
                guard let e = peek else { throw error("unterminated escape") }
                index += 1
                switch e {
                case "n": out += "\n"
                case "t": out += "\t"
                case "r": out += "\r"
                case "b": out += "\u{08}"
                case "f": out += "\u{0C}"
                case "u":
                    let v = try hex4()
                    if (0xD800...0xDBFF).contains(v), peek == "\\", peek(1) == "u" {
                        // A surrogate pair, as JSON writes a scalar beyond U+FFFF: `\uD83D\uDD25`.
                        let save = index
                        index += 2
                        let low = try hex4()
                        if (0xDC00...0xDFFF).contains(low) {
                            let scalar = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                            out.unicodeScalars.append(Unicode.Scalar(scalar) ?? "\u{FFFD}")
                            continue
                        }
                        index = save
                    }
                    out.unicodeScalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
                default: out.unicodeScalars.append(e)
                }
            } else {
                out.unicodeScalars.append(c)
            }
        }
    }

    /// The arguments of `function` up to its `)`, checked for count and kind (RFC 9535, 2.4.3).
    mutating func arguments(of function: JSONPath.Function, depth: Int) throws(JSONPathError) -> [JSONPath.Operand] {
        guard depth < 64 else { throw error("functions nested too deeply") }
        var out: [JSONPath.Operand] = []
        skipSpace()
        if peek != ")" {
            while true {
                out.append(try operand(depth: depth + 1))
                skipSpace()
                if peek == "," {
                    index += 1
                    continue
                }
                break
            }
        }
        guard peek == ")" else { throw error("expected ',' or ')' after an argument of \(function.rawValue)()") }
        index += 1
        let expected = function.isTest ? 2 : 1
        guard out.count == expected else {
            throw error(
                "\(function.rawValue)() takes \(expected) argument\(expected == 1 ? "" : "s"), found \(out.count)")
        }
        if function == .count || function == .value {
            guard case .path = out[0] else { throw error("\(function.rawValue)() takes a query such as @.items") }
        }
        for argument in out {
            if case .function(let inner, _) = argument, inner.isTest {
                throw error("\(inner.rawValue)() gives a test, not a value, so it cannot be an argument")
            }
        }
        return out
    }

    /// Four hex digits (after a backslash-u escape).
    mutating func hex4() throws(JSONPathError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let h = peek, let d = UInt32(String(h), radix: 16) else {
                throw error("expected 4 hex digits after \\u")
            }
            v = v * 16 + d
            index += 1
        }
        return v
    }

    mutating func orExpr(depth: Int) throws(JSONPathError) -> JSONPath.FilterExpr {
        var left = try andExpr(depth: depth)
        while true {
            skipSpace()
            guard peek == "|", peek(1) == "|" else { return left }
            index += 2
            left = .or(left, try andExpr(depth: depth))
        }
    }

    mutating func andExpr(depth: Int) throws(JSONPathError) -> JSONPath.FilterExpr {
        var left = try unary(depth: depth)
        while true {
            skipSpace()
            guard peek == "&", peek(1) == "&" else { return left }
            index += 2
            left = .and(left, try unary(depth: depth))
        }
    }

    mutating func unary(depth: Int) throws(JSONPathError) -> JSONPath.FilterExpr {
        guard depth < 64 else { throw error("filter nested too deeply") }
        skipSpace()
        if peek == "!", peek(1) != "=" {
            index += 1
            return .not(try unary(depth: depth + 1))
        }
        if peek == "(" {
            index += 1
            let inner = try orExpr(depth: depth + 1)
            skipSpace()
            guard peek == ")" else { throw error("expected ')'") }
            index += 1
            return inner
        }
        let left = try operand(depth: depth)
        skipSpace()
        if case .function(let function, let arguments) = left, function.isTest {
            return .test(function, arguments)
        }
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            let scalars = Array(op.unicodeScalars)
            if peek == scalars[0], scalars.count == 1 || peek(1) == scalars[1] {
                index += scalars.count
                skipSpace()
                return .compare(left, op, try operand(depth: depth))
            }
        }
        switch left {
        case .path: return .exists(left)
        case .function: throw error("expected a comparison after a function such as length(@) > 2")
        case .literal: throw error("expected a comparison after a literal")
        }
    }

    mutating func operand(depth: Int) throws(JSONPathError) -> JSONPath.Operand {
        skipSpace()
        guard let c = peek else { throw error("expected a value or a path in the filter") }
        if c == "@" || c == "$" {
            index += 1
            return .path(relative: c == "@", segments: try segments(depth: depth + 1))
        }
        if c == "'" || c == "\"" { return .literal(.string(try quoted())) }
        if ("a"..."z").contains(c) {
            var name = ""
            var end = index
            while end < chars.count, ("a"..."z").contains(chars[end]) {
                name.unicodeScalars.append(chars[end])
                end += 1
            }
            if end < chars.count, chars[end] == "(" {
                guard let function = JSONPath.Function(rawValue: name) else {
                    throw error("unknown function \(name)(): expected length, count, value, match or search")
                }
                index = end + 1
                return .function(function, try arguments(of: function, depth: depth))
            }
        }
        if c == "-" || ("0"..."9").contains(c) {
            var text = ""
            while let d = peek, ("0"..."9").contains(d) || d == "-" || d == "+" || d == "." || d == "e" || d == "E" {
                text.unicodeScalars.append(d)
                index += 1
            }
            if let i = Int64(text) { return .literal(.integer(i)) }
            if let d = Double(text) { return .literal(.float(d)) }
            throw error("invalid number \(text)")
        }
        for (word, value) in [("true", Value.bool(true)), ("false", .bool(false)), ("null", .null)] {
            let w = Array(word.unicodeScalars)
            if index + w.count <= chars.count, Array(chars[index..<index + w.count]) == w {
                index += w.count
                return .literal(value)
            }
        }
        throw error("expected @, $, a string, a number, true, false or null in the filter")
    }
}
