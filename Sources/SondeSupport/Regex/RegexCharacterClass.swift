/// A set of Unicode scalars as the parser builds it: ranges, named properties and set operations.
///
/// The tree is evaluated per scalar only for non-ASCII text; ASCII membership is precomputed into a
/// bitmap by ``RegexCharacterClass``.
indirect enum RegexClassTree: Sendable, Equatable {
    /// Sorted, non-overlapping, non-adjacent inclusive ranges of scalar values.
    case ranges([ClosedRange<UInt32>])
    /// A named property such as `\d`, `\w`, `\p{Lu}`.
    case property(RegexScalarProperty)
    /// Case-insensitive closure of a set: a scalar belongs when it, or one of its simple case
    /// variants, belongs to the inner set.
    case caseFolded(RegexClassTree)
    /// Every scalar not in the inner set.
    case negated(RegexClassTree)
    /// Scalars in any of the sets.
    case union([RegexClassTree])
    /// `[a&&b]`: scalars in both.
    case intersection(RegexClassTree, RegexClassTree)
    /// `[a--b]`: scalars in the first and not the second.
    case difference(RegexClassTree, RegexClassTree)
    /// `[a~~b]`: scalars in exactly one of the two.
    case symmetricDifference(RegexClassTree, RegexClassTree)

    /// The empty set.
    static let nothing = RegexClassTree.ranges([])

    /// True when `scalar` belongs to the set.
    func contains(_ scalar: UInt32) -> Bool {
        switch self {
        case .ranges(let ranges):
            return Self.rangesContain(ranges, scalar)
        case .property(let property):
            return property.contains(scalar)
        case .caseFolded(let inner):
            if inner.contains(scalar) { return true }
            let lower = RegexCase.lower(scalar)
            let upper = RegexCase.upper(scalar)
            if lower != scalar && inner.contains(lower) { return true }
            if upper != scalar && inner.contains(upper) { return true }
            let folded = RegexCase.fold(scalar)
            return folded != scalar && folded != lower && inner.contains(folded)
        case .negated(let inner):
            return !inner.contains(scalar)
        case .union(let items):
            for item in items where item.contains(scalar) { return true }
            return false
        case .intersection(let a, let b):
            return a.contains(scalar) && b.contains(scalar)
        case .difference(let a, let b):
            return a.contains(scalar) && !b.contains(scalar)
        case .symmetricDifference(let a, let b):
            return a.contains(scalar) != b.contains(scalar)
        }
    }

    /// Binary search over sorted ranges.
    static func rangesContain(_ ranges: [ClosedRange<UInt32>], _ scalar: UInt32) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            let range = ranges[mid]
            if scalar < range.lowerBound {
                high = mid
            } else if scalar > range.upperBound {
                low = mid + 1
            } else {
                return true
            }
        }
        return false
    }

    /// Sorts and merges ranges so that membership can use a binary search.
    static func normalized(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var out: [ClosedRange<UInt32>] = []
        out.reserveCapacity(sorted.count)
        for range in sorted {
            if let last = out.last, range.lowerBound <= last.upperBound &+ 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                out.append(range)
            }
        }
        return out
    }

    /// A union of items, with all plain ranges merged into one leaf.
    static func union(of items: [RegexClassTree]) -> RegexClassTree {
        var ranges: [ClosedRange<UInt32>] = []
        var others: [RegexClassTree] = []
        for item in items {
            switch item {
            case .ranges(let r): ranges += r
            case .union(let inner): others += inner
            default: others.append(item)
            }
        }
        let merged = RegexClassTree.ranges(normalized(ranges))
        if others.isEmpty { return merged }
        if ranges.isEmpty && others.count == 1 { return others[0] }
        return .union(ranges.isEmpty ? others : [merged] + others)
    }

    /// The set made case-insensitive. With Unicode on, explicit ranges (when small) gain their simple
    /// case variants and the whole is wrapped in ``caseFolded(_:)``; with Unicode off, only ASCII
    /// letters gain their other case.
    static func caseInsensitive(_ tree: RegexClassTree, unicode: Bool) -> RegexClassTree {
        guard case .ranges(let ranges) = tree else {
            return unicode ? .caseFolded(tree) : tree
        }
        var extra: [ClosedRange<UInt32>] = []
        if unicode {
            let size = ranges.reduce(0) { $0 + Int($1.upperBound - $1.lowerBound) + 1 }
            if size <= 4_096 {
                for range in ranges {
                    for scalar in range {
                        for variant in [RegexCase.lower(scalar), RegexCase.upper(scalar), RegexCase.fold(scalar)]
                        where variant != scalar {
                            extra.append(variant...variant)
                        }
                    }
                }
            }
        } else {
            for range in ranges {
                let lowStart = max(range.lowerBound, 0x61)
                let lowEnd = min(range.upperBound, 0x7A)
                if lowStart <= lowEnd { extra.append((lowStart - 0x20)...(lowEnd - 0x20)) }
                let upStart = max(range.lowerBound, 0x41)
                let upEnd = min(range.upperBound, 0x5A)
                if upStart <= upEnd { extra.append((upStart + 0x20)...(upEnd + 0x20)) }
            }
        }
        let expanded = RegexClassTree.ranges(normalized(ranges + extra))
        return unicode ? .caseFolded(expanded) : expanded
    }
}

/// A compiled class: a bitmap for ASCII and the tree for everything else.
struct RegexCharacterClass: Sendable, Equatable {
    /// Membership of scalars 0–63.
    let low: UInt64
    /// Membership of scalars 64–127.
    let high: UInt64
    /// The full set, consulted for scalars from 128 up.
    let tree: RegexClassTree

    /// Precomputes the ASCII bitmap of `tree`.
    init(_ tree: RegexClassTree) {
        var low: UInt64 = 0
        var high: UInt64 = 0
        for scalar in UInt32(0)..<128 where tree.contains(scalar) {
            if scalar < 64 { low |= 1 << UInt64(scalar) } else { high |= 1 << UInt64(scalar - 64) }
        }
        self.low = low
        self.high = high
        self.tree = tree
    }

    /// True when `scalar` belongs to the class.
    @inline(__always)
    func contains(_ scalar: UInt32) -> Bool {
        if scalar < 64 { return (low >> UInt64(scalar)) & 1 != 0 }
        if scalar < 128 { return (high >> UInt64(scalar - 64)) & 1 != 0 }
        return tree.contains(scalar)
    }

    /// Every scalar of the class as bytes, when the class is plain ranges inside ASCII (used by the
    /// first-byte prefilter); `nil` otherwise.
    var asciiScalars: [UInt8]? {
        guard case .ranges(let ranges) = tree, let last = ranges.last, last.upperBound < 128 else { return nil }
        var out: [UInt8] = []
        for range in ranges { for scalar in range { out.append(UInt8(scalar)) } }
        return out
    }
}

/// Simple (one scalar to one scalar) case mappings, as Rust's `regex` uses for `(?i)`.
enum RegexCase {
    /// The simple lowercase mapping of `scalar`, or `scalar` itself.
    @inline(__always)
    static func lower(_ scalar: UInt32) -> UInt32 {
        if scalar < 128 { return scalar >= 0x41 && scalar <= 0x5A ? scalar + 0x20 : scalar }
        guard let s = Unicode.Scalar(scalar) else { return scalar }
        return single(s.properties.lowercaseMapping) ?? scalar
    }

    /// The simple uppercase mapping of `scalar`, or `scalar` itself.
    @inline(__always)
    static func upper(_ scalar: UInt32) -> UInt32 {
        if scalar < 128 { return scalar >= 0x61 && scalar <= 0x7A ? scalar - 0x20 : scalar }
        guard let s = Unicode.Scalar(scalar) else { return scalar }
        return single(s.properties.uppercaseMapping) ?? scalar
    }

    /// A simple case fold: the lowercase of the uppercase (so `ſ`, `s` and `S` all fold to `s`).
    static func fold(_ scalar: UInt32) -> UInt32 {
        if scalar < 128 { return lower(scalar) }
        let up = upper(scalar)
        return lower(up == scalar ? scalar : up)
    }

    /// True when `scalar` has a case variant (so a case-insensitive literal needs a class).
    static func hasVariants(_ scalar: UInt32) -> Bool {
        lower(scalar) != scalar || upper(scalar) != scalar || fold(scalar) != scalar
    }

    /// The only scalar of `text`, or `nil` when it has none or several.
    private static func single(_ text: String) -> UInt32? {
        var iterator = text.unicodeScalars.makeIterator()
        guard let first = iterator.next(), iterator.next() == nil else { return nil }
        return first.value
    }
}

/// Named sets of scalars: Perl classes, POSIX classes and Unicode properties.
enum RegexScalarProperty: Sendable, Equatable {
    /// `\d` with Unicode on: general category Nd.
    case digit
    /// `\s` with Unicode on: the White_Space property.
    case space
    /// `\w` with Unicode on: Alphabetic, M, Nd, Pc and Join_Control (UTS #18, as Rust).
    case word
    /// Any of these general categories.
    case categories(Set<RegexGeneralCategory>)
    /// A binary property that Swift's `Unicode.Scalar.Properties` exposes.
    case binary(RegexBinaryProperty)
    /// Every scalar.
    case any
    /// Scalars that are assigned (general category other than Cn).
    case assigned

    /// True when `scalar` has the property.
    func contains(_ scalar: UInt32) -> Bool {
        if scalar < 128 {
            switch self {
            case .digit: return scalar >= 0x30 && scalar <= 0x39
            case .space: return (scalar >= 0x09 && scalar <= 0x0D) || scalar == 0x20
            case .word: return RegexWord.isASCIIWord(scalar)
            default: break
            }
        }
        guard let s = Unicode.Scalar(scalar) else { return false }
        switch self {
        case .digit: return s.properties.generalCategory == .decimalNumber
        case .space: return s.properties.isWhitespace
        case .word: return RegexWord.isUnicodeWord(s)
        case .categories(let set): return set.contains(RegexGeneralCategory(s.properties.generalCategory))
        case .binary(let property): return property.holds(for: s)
        case .any: return true
        case .assigned: return s.properties.generalCategory != .unassigned
        }
    }

    /// The property named in `\p{name}` (loose matching: case, spaces, `_` and `-` ignored, an `is`
    /// prefix allowed), or `nil`.
    static func named(_ name: String) -> RegexScalarProperty? {
        var key = String(name.lowercased().unicodeScalars.filter { $0 != " " && $0 != "_" && $0 != "-" })
        for prefix in ["generalcategory=", "generalcategory:", "gc=", "gc:"] where key.hasPrefix(prefix) {
            key.removeFirst(prefix.count)
            return RegexGeneralCategory.named(key).map(RegexScalarProperty.categories)
        }
        if let categories = RegexGeneralCategory.named(key) { return .categories(categories) }
        switch key {
        case "any": return .any
        case "assigned": return .assigned
        case "ascii": return nil  // handled by the parser as a range
        default: break
        }
        if let binary = RegexBinaryProperty.named(key) { return .binary(binary) }
        if key.hasPrefix("is"), key.count > 2 { return named(String(key.dropFirst(2))) }
        return nil
    }
}

/// Unicode general categories, hashable (Swift's own enum is used to read them).
enum RegexGeneralCategory: Hashable, Sendable {
    /// Letters (upper, lower, title, modifier, other), marks, numbers, punctuation, symbols,
    /// separators, by their two-letter Unicode abbreviations.
    case lu, ll, lt, lm, lo, mn, mc, me, nd, nl, no, pc, pd, ps, pe, pi, pf, po, sm, sc, sk, so, zs, zl, zp
    /// Control, format, surrogate, private use, unassigned.
    case cc, cf, cs, co, cn

    /// The category of a scalar as Swift reports it.
    init(_ category: Unicode.GeneralCategory) {
        switch category {
        case .uppercaseLetter: self = .lu
        case .lowercaseLetter: self = .ll
        case .titlecaseLetter: self = .lt
        case .modifierLetter: self = .lm
        case .otherLetter: self = .lo
        case .nonspacingMark: self = .mn
        case .spacingMark: self = .mc
        case .enclosingMark: self = .me
        case .decimalNumber: self = .nd
        case .letterNumber: self = .nl
        case .otherNumber: self = .no
        case .connectorPunctuation: self = .pc
        case .dashPunctuation: self = .pd
        case .openPunctuation: self = .ps
        case .closePunctuation: self = .pe
        case .initialPunctuation: self = .pi
        case .finalPunctuation: self = .pf
        case .otherPunctuation: self = .po
        case .mathSymbol: self = .sm
        case .currencySymbol: self = .sc
        case .modifierSymbol: self = .sk
        case .otherSymbol: self = .so
        case .spaceSeparator: self = .zs
        case .lineSeparator: self = .zl
        case .paragraphSeparator: self = .zp
        case .control: self = .cc
        case .format: self = .cf
        case .surrogate: self = .cs
        case .privateUse: self = .co
        case .unassigned: self = .cn
        @unknown default: self = .cn
        }
    }

    /// The categories named by a short or long alias (already loosened: lowercase, no separators).
    static func named(_ key: String) -> Set<RegexGeneralCategory>? {
        switch key {
        case "l", "letter": return [.lu, .ll, .lt, .lm, .lo]
        case "lc", "casedletter": return [.lu, .ll, .lt]
        case "lu", "uppercaseletter": return [.lu]
        case "ll", "lowercaseletter": return [.ll]
        case "lt", "titlecaseletter": return [.lt]
        case "lm", "modifierletter": return [.lm]
        case "lo", "otherletter": return [.lo]
        case "m", "mark", "combiningmark": return [.mn, .mc, .me]
        case "mn", "nonspacingmark": return [.mn]
        case "mc", "spacingmark": return [.mc]
        case "me", "enclosingmark": return [.me]
        case "n", "number": return [.nd, .nl, .no]
        case "nd", "decimalnumber", "digit": return [.nd]
        case "nl", "letternumber": return [.nl]
        case "no", "othernumber": return [.no]
        case "p", "punctuation", "punct": return [.pc, .pd, .ps, .pe, .pi, .pf, .po]
        case "pc", "connectorpunctuation": return [.pc]
        case "pd", "dashpunctuation": return [.pd]
        case "ps", "openpunctuation": return [.ps]
        case "pe", "closepunctuation": return [.pe]
        case "pi", "initialpunctuation": return [.pi]
        case "pf", "finalpunctuation": return [.pf]
        case "po", "otherpunctuation": return [.po]
        case "s", "symbol": return [.sm, .sc, .sk, .so]
        case "sm", "mathsymbol": return [.sm]
        case "sc", "currencysymbol": return [.sc]
        case "sk", "modifiersymbol": return [.sk]
        case "so", "othersymbol": return [.so]
        case "z", "separator": return [.zs, .zl, .zp]
        case "zs", "spaceseparator": return [.zs]
        case "zl", "lineseparator": return [.zl]
        case "zp", "paragraphseparator": return [.zp]
        case "c", "other": return [.cc, .cf, .cs, .co, .cn]
        case "cc", "control", "cntrl": return [.cc]
        case "cf", "format": return [.cf]
        case "cs", "surrogate": return [.cs]
        case "co", "privateuse": return [.co]
        case "cn", "unassigned": return [.cn]
        default: return nil
        }
    }
}

/// Binary Unicode properties that `\p{…}` can name.
enum RegexBinaryProperty: String, Sendable, CaseIterable {
    /// Properties named as in the Unicode Character Database (`White_Space` is `whiteSpace`).
    case alphabetic, whiteSpace, uppercase, lowercase, math, hexDigit, asciiHexDigit, ideographic, dash
    /// Emoji and identifier properties, and the others Swift exposes.
    case emoji, emojiPresentation, emojiModifier, emojiModifierBase, joinControl, noncharacterCodePoint
    case defaultIgnorableCodePoint, cased, caseIgnorable, idStart, idContinue, xidStart, xidContinue
    case diacritic, extender, quotationMark, terminalPunctuation, sentenceTerminal, variationSelector
    case patternWhiteSpace, patternSyntax, softDotted, radical, unifiedIdeograph, changesWhenLowercased
    case changesWhenUppercased, changesWhenCaseFolded, changesWhenCaseMapped

    /// True when `scalar` has the property.
    func holds(for scalar: Unicode.Scalar) -> Bool {
        let p = scalar.properties
        switch self {
        case .alphabetic: return p.isAlphabetic
        case .whiteSpace: return p.isWhitespace
        case .uppercase: return p.isUppercase
        case .lowercase: return p.isLowercase
        case .math: return p.isMath
        case .hexDigit: return p.isHexDigit
        case .asciiHexDigit: return p.isASCIIHexDigit
        case .ideographic: return p.isIdeographic
        case .dash: return p.isDash
        case .emoji: return p.isEmoji
        case .emojiPresentation: return p.isEmojiPresentation
        case .emojiModifier: return p.isEmojiModifier
        case .emojiModifierBase: return p.isEmojiModifierBase
        case .joinControl: return p.isJoinControl
        case .noncharacterCodePoint: return p.isNoncharacterCodePoint
        case .defaultIgnorableCodePoint: return p.isDefaultIgnorableCodePoint
        case .cased: return p.isCased
        case .caseIgnorable: return p.isCaseIgnorable
        case .idStart: return p.isIDStart
        case .idContinue: return p.isIDContinue
        case .xidStart: return p.isXIDStart
        case .xidContinue: return p.isXIDContinue
        case .diacritic: return p.isDiacritic
        case .extender: return p.isExtender
        case .quotationMark: return p.isQuotationMark
        case .terminalPunctuation: return p.isTerminalPunctuation
        case .sentenceTerminal: return p.isSentenceTerminal
        case .variationSelector: return p.isVariationSelector
        case .patternWhiteSpace: return p.isPatternWhitespace
        case .patternSyntax: return p.isPatternSyntax
        case .softDotted: return p.isSoftDotted
        case .radical: return p.isRadical
        case .unifiedIdeograph: return p.isUnifiedIdeograph
        case .changesWhenLowercased: return p.changesWhenLowercased
        case .changesWhenUppercased: return p.changesWhenUppercased
        case .changesWhenCaseFolded: return p.changesWhenCaseFolded
        case .changesWhenCaseMapped: return p.changesWhenCaseMapped
        }
    }

    /// The property for a loosened name (long name or the usual short alias).
    static func named(_ key: String) -> RegexBinaryProperty? {
        let aliases: [String: RegexBinaryProperty] = [
            "alpha": .alphabetic, "wspace": .whiteSpace, "space": .whiteSpace, "upper": .uppercase,
            "lower": .lowercase, "hex": .hexDigit, "ahex": .asciiHexDigit, "ideo": .ideographic,
            "epres": .emojiPresentation, "emod": .emojiModifier, "ebase": .emojiModifierBase,
            "joinc": .joinControl, "nchar": .noncharacterCodePoint, "di": .defaultIgnorableCodePoint,
            "ci": .caseIgnorable, "ids": .idStart, "idc": .idContinue, "xids": .xidStart,
            "xidc": .xidContinue, "dia": .diacritic, "ext": .extender, "qmark": .quotationMark,
            "term": .terminalPunctuation, "sterm": .sentenceTerminal, "vs": .variationSelector,
            "patws": .patternWhiteSpace, "patsyn": .patternSyntax, "sd": .softDotted,
            "uideo": .unifiedIdeograph, "cwl": .changesWhenLowercased, "cwu": .changesWhenUppercased,
            "cwcf": .changesWhenCaseFolded, "cwcm": .changesWhenCaseMapped,
        ]
        if let property = aliases[key] { return property }
        return allCases.first { $0.rawValue.lowercased() == key }
    }
}

/// Word characters, for `\w` and the word-boundary assertions.
enum RegexWord {
    /// `[0-9A-Za-z_]`.
    @inline(__always)
    static func isASCIIWord(_ scalar: UInt32) -> Bool {
        (scalar >= 0x30 && scalar <= 0x39) || (scalar >= 0x41 && scalar <= 0x5A)
            || (scalar >= 0x61 && scalar <= 0x7A) || scalar == 0x5F
    }

    /// Rust's Unicode `\w`: Alphabetic, M, Nd, Pc, Join_Control.
    static func isUnicodeWord(_ scalar: Unicode.Scalar) -> Bool {
        let p = scalar.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// A word character, Unicode-aware or ASCII-only.
    @inline(__always)
    static func isWord(_ scalar: UInt32, unicode: Bool) -> Bool {
        if scalar < 128 { return isASCIIWord(scalar) }
        guard unicode, let s = Unicode.Scalar(scalar) else { return false }
        return isUnicodeWord(s)
    }
}
