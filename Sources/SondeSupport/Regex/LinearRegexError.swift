/// Why a pattern is not accepted by ``LinearRegex``, and where.
///
/// Every case carries `offset`, the 0-based index of the Unicode scalar in the pattern where the fault
/// starts (``column`` is that plus one). The messages follow the syntax of Rust's `regex` crate, which
/// Hurl uses: what it rejects, sonde rejects, and for the same reason — matching must stay linear in
/// the length of the text.
package enum LinearRegexError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `\1`, `\k<name>`, `(?P=name)`: a backreference cannot be matched in linear time.
    case backreference(offset: Int, text: String)
    /// `(?=`, `(?!`, `(?<=`, `(?<!`: look-ahead and look-behind are not supported.
    case lookAround(offset: Int, text: String)
    /// `(?>…)`: atomic groups are not supported.
    case atomicGroup(offset: Int)
    /// `a++`, `a*+`, `a?+`, `a{2}+`: possessive quantifiers are not supported.
    case possessive(offset: Int)
    /// `(?R)`-style recursion, `(?1)`, conditionals `(?(…)`, branch reset `(?|`, comments `(?#…)`.
    case unsupportedGroup(offset: Int, text: String)
    /// A `(` without its `)`.
    case unclosedGroup(offset: Int)
    /// A `)` without its `(`.
    case unopenedGroup(offset: Int)
    /// A `[` without its `]`.
    case unclosedClass(offset: Int)
    /// A range such as `[z-a]` whose start is after its end.
    case invalidClassRange(offset: Int, text: String)
    /// Something that cannot stand in a class, such as `[\b]` or `[\d-z]`.
    case invalidClassItem(offset: Int, reason: String)
    /// An escape the syntax does not define, or a malformed one (`\x4`, `\u{110000}`, `\` at the end).
    case invalidEscape(offset: Int, reason: String)
    /// `\p{…}` naming a property sonde does not know (or a script, which sonde does not support).
    case unknownUnicodeClass(offset: Int, name: String)
    /// `*`, `+`, `?` or `{n}` with nothing before it to repeat.
    case repetitionMissing(offset: Int)
    /// A malformed counted repetition: `a{`, `a{x}`, `a{3,2}`.
    case invalidRepetition(offset: Int, reason: String)
    /// A counted repetition above the limit (`a{1001}`).
    case repetitionTooBig(offset: Int, limit: Int)
    /// An inline flag that is unknown, repeated or dangling: `(?a)`, `(?ii)`, `(?i-)`, `(?)`.
    case invalidFlag(offset: Int, reason: String)
    /// A capture-group name that is empty, malformed or used twice.
    case invalidGroupName(offset: Int, reason: String)
    /// Groups, classes or repetitions nested deeper than the limit.
    case nestedTooDeep(offset: Int, limit: Int)
    /// The compiled program would be larger than the limit (counted repetitions multiply it).
    case tooBig(offset: Int, limit: Int)

    /// The 0-based scalar index in the pattern where the fault starts.
    package var offset: Int {
        switch self {
        case .backreference(let o, _), .lookAround(let o, _), .atomicGroup(let o), .possessive(let o),
            .unsupportedGroup(let o, _), .unclosedGroup(let o), .unopenedGroup(let o), .unclosedClass(let o),
            .invalidClassRange(let o, _), .invalidClassItem(let o, _), .invalidEscape(let o, _),
            .unknownUnicodeClass(let o, _), .repetitionMissing(let o), .invalidRepetition(let o, _),
            .repetitionTooBig(let o, _), .invalidFlag(let o, _), .invalidGroupName(let o, _),
            .nestedTooDeep(let o, _), .tooBig(let o, _):
            return o
        }
    }

    /// The 1-based column in the pattern (counting Unicode scalars).
    var column: Int { offset + 1 }

    /// What is wrong, without the position.
    package var message: String {
        let linear = "sonde matches in linear time, as Hurl's Rust regex engine does"
        switch self {
        case .backreference(_, let text):
            return "backreference \(text) is not supported (\(linear))"
        case .lookAround(_, let text):
            return "look-around \(text) is not supported (\(linear))"
        case .atomicGroup:
            return "atomic group (?>…) is not supported (\(linear)); a plain group (?:…) usually does"
        case .possessive:
            return "possessive quantifier is not supported (\(linear)); "
                + "write (?:x+)+ if a repetition of a repetition is meant"
        case .unsupportedGroup(_, let text):
            return "\(text) is not supported by the regex syntax (as in Hurl)"
        case .unclosedGroup:
            return "unclosed group: this ( has no matching )"
        case .unopenedGroup:
            return "unopened group: this ) has no matching ("
        case .unclosedClass:
            return "unclosed character class: this [ has no matching ]"
        case .invalidClassRange(_, let text):
            return "invalid class range \(text): the start is after the end"
        case .invalidClassItem(_, let reason):
            return "invalid character class: \(reason)"
        case .invalidEscape(_, let reason):
            return "invalid escape: \(reason)"
        case .unknownUnicodeClass(_, let name):
            return "unknown or unsupported Unicode class \\p{\(name)} "
                + "(sonde knows general categories such as L, Lu, Nd and binary properties such as "
                + "Alphabetic and White_Space; scripts such as Greek are not supported)"
        case .repetitionMissing:
            return "repetition operator with nothing to repeat (escape it as \\* \\+ \\? \\{ for a literal)"
        case .invalidRepetition(_, let reason):
            return "invalid repetition: \(reason)"
        case .repetitionTooBig(_, let limit):
            return "repetition count is over the limit of \(limit)"
        case .invalidFlag(_, let reason):
            return "invalid flag: \(reason)"
        case .invalidGroupName(_, let reason):
            return "invalid group name: \(reason)"
        case .nestedTooDeep(_, let limit):
            return "pattern is nested more than \(limit) levels deep"
        case .tooBig(_, let limit):
            return "pattern is too big: it compiles to more than \(limit) instructions "
                + "(counted repetitions multiply its size)"
        }
    }

    /// `column N: message`.
    package var description: String { "column \(column): \(message)" }
}
