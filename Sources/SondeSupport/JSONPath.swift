/// An RFC 9535 JSONPath expression (the common subset): `$`, `.name`, `['name']`, `[n]` (negative from
/// the end), `[*]`, `.*`, `..name`, `..*`, slices `[a:b:c]`, unions `[0,1]`, and filters
/// `[?@.price > 10 && @.in_stock]` with `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`, `!`, parentheses.
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
    }

    enum Operand: Sendable {
        case literal(Value)
        /// A path relative to the current node (`@`) or the root (`$`).
        case path(relative: Bool, segments: [Segment])
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

    /// The node list the expression selects from `root`.
    package func evaluate(_ root: Value) -> [Value] {
        Self.apply(segments, to: [root], root: root)
    }

    static func apply(_ segments: [Segment], to nodes: [Value], root: Value) -> [Value] {
        var current = nodes
        for segment in segments {
            var next: [Value] = []
            for node in current {
                let targets = segment.descendant ? descendants(of: node) : [node]
                for target in targets {
                    for selector in segment.selectors {
                        select(selector, from: target, root: root, into: &next)
                    }
                }
            }
            current = next
        }
        return current
    }

    /// The node and all its descendants, document order.
    static func descendants(of node: Value) -> [Value] {
        var out = [node]
        switch node {
        case .list(let items): for item in items { out += descendants(of: item) }
        case .object(let pairs): for pair in pairs { out += descendants(of: pair.value) }
        default: break
        }
        return out
    }

    static func select(_ selector: Selector, from node: Value, root: Value, into out: inout [Value]) {
        switch selector {
        case .name(let name):
            if case .object(let pairs) = node, let pair = pairs.first(where: { $0.key == name }) {
                out.append(pair.value)
            }
        case .wildcard:
            if case .list(let items) = node { out += items }
            if case .object(let pairs) = node { out += pairs.map(\.value) }
        case .index(let i):
            if case .list(let items) = node {
                let j = i < 0 ? items.count + i : i
                if j >= 0 && j < items.count { out.append(items[j]) }
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
                    out.append(items[i])
                    i += step
                }
            } else {
                let upper = min(max(normalize(start ?? n - 1), -1), n - 1)
                let lower = min(max(normalize(end ?? -n - 1), -1), n - 1)
                var i = upper
                while i > lower {
                    out.append(items[i])
                    i += step
                }
            }
        case .filter(let expr):
            let children: [Value]
            switch node {
            case .list(let items): children = items
            case .object(let pairs): children = pairs.map(\.value)
            default: children = []
            }
            for child in children where test(expr, current: child, root: root) { out.append(child) }
        }
    }

    static func test(_ expr: FilterExpr, current: Value, root: Value) -> Bool {
        switch expr {
        case .or(let a, let b): return test(a, current: current, root: root) || test(b, current: current, root: root)
        case .and(let a, let b): return test(a, current: current, root: root) && test(b, current: current, root: root)
        case .not(let a): return !test(a, current: current, root: root)
        case .exists(let operand): return !nodes(operand, current: current, root: root).isEmpty
        case .compare(let l, let op, let r):
            let left = nodes(l, current: current, root: root)
            let right = nodes(r, current: current, root: root)
            // Singular queries: an empty node list compares as "Nothing".
            let a = left.count == 1 ? left[0] : nil
            let b = right.count == 1 ? right[0] : nil
            return compare(a, op, b)
        }
    }

    static func nodes(_ operand: Operand, current: Value, root: Value) -> [Value] {
        switch operand {
        case .literal(let v): return [v]
        case .path(let relative, let segments): return apply(segments, to: [relative ? current : root], root: root)
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
                    var v: UInt32 = 0
                    for _ in 0..<4 {
                        guard let h = peek, let d = UInt32(String(h), radix: 16) else {
                            throw error("expected 4 hex digits after \\u")
                        }
                        v = v * 16 + d
                        index += 1
                    }
                    out.unicodeScalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
                default: out.unicodeScalars.append(e)
                }
            } else {
                out.unicodeScalars.append(c)
            }
        }
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
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            let scalars = Array(op.unicodeScalars)
            if peek == scalars[0], scalars.count == 1 || peek(1) == scalars[1] {
                index += scalars.count
                skipSpace()
                return .compare(left, op, try operand(depth: depth))
            }
        }
        guard case .path = left else { throw error("expected a comparison after a literal") }
        return .exists(left)
    }

    mutating func operand(depth: Int) throws(JSONPathError) -> JSONPath.Operand {
        skipSpace()
        guard let c = peek else { throw error("expected a value or a path in the filter") }
        if c == "@" || c == "$" {
            index += 1
            return .path(relative: c == "@", segments: try segments(depth: depth + 1))
        }
        if c == "'" || c == "\"" { return .literal(.string(try quoted())) }
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
