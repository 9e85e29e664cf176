/// A light check of an XPath 1.0 expression when the check is parsed: what can be told without a
/// document (balanced quotes, brackets and parentheses, not empty). The full compile happens when
/// the expression first runs, on the evaluation pool.
package enum XPathSyntax {
    /// What is wrong with `expression`, or nil when it looks well formed.
    package static func problem(in expression: String) -> String? {
        if expression.allSatisfy(\.isWhitespace) { return "the expression is empty" }
        var closers: [Character] = []
        var quote: Character?
        for ch in expression {
            if let open = quote {
                if ch == open { quote = nil }
                continue
            }
            switch ch {
            case "'", "\"": quote = ch
            case "(": closers.append(")")
            case "[": closers.append("]")
            case ")", "]":
                guard closers.popLast() == ch else { return "unexpected '\(ch)'" }
            default: break
            }
        }
        if let quote { return "unterminated string (\(quote))" }
        if let closer = closers.last { return "missing '\(closer)'" }
        return nil
    }
}
