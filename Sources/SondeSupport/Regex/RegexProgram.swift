import Synchronization

/// One state of a compiled Thompson NFA.
enum RegexInstruction: Sendable {
    /// Consume one scalar equal to the value.
    case scalar(UInt32, next: Int32)
    /// Consume one scalar of the class at this index of ``RegexProgram/classes``.
    case set(Int32, next: Int32)
    /// Consume one scalar that `.` accepts.
    case dot(RegexDot, next: Int32)
    /// Continue at each of `count` alternates starting at `first` in ``RegexProgram/alternates``,
    /// the earlier ones preferred.
    case union(first: Int32, count: Int32)
    /// Record the current position in a capture slot.
    case save(slot: Int32, next: Int32)
    /// Continue only when the assertion holds here.
    case look(RegexLook, next: Int32)
    /// The pattern has matched.
    case match
    /// No way on.
    case fail
}

/// A compiled pattern: the NFA the Pike VM runs, its classes, and what the search loop can use to
/// skip ahead.
final class RegexProgram: Sendable {
    /// The most NFA states a pattern may compile to.
    static let instructionLimit = 100_000

    /// The states; ``start`` is where a match begins.
    let instructions: [RegexInstruction]
    /// The targets of every ``RegexInstruction/union(first:count:)``.
    let alternates: [Int32]
    /// The classes that ``RegexInstruction/set(_:next:)`` refers to.
    let classes: [RegexCharacterClass]
    /// The ASCII bitmaps of ``classes``, two words per class (scalars 0–63, then 64–127), so the
    /// matcher tests ASCII without touching a class's tree.
    let classBits: [UInt64]
    /// The first state.
    let start: Int32
    /// Capture groups, not counting the whole match.
    let captureCount: Int
    /// True when every match must start at the start of the text (the pattern begins with `\A`).
    let anchoredStart: Bool
    /// When non-nil, a match can only start at a byte for which the table holds (the first byte of
    /// every scalar a match can start with); the search skips other positions while no thread lives.
    let firstBytes: [Bool]?
    /// Working memory of finished searches, reused by the next ones (see ``RegexMatcher``).
    let scratchPool = Mutex<[[Int]]>([])
    /// The single possible first byte, when there is exactly one (searched with `memchr`).
    let singleFirstByte: UInt8?
    /// The UTF-8 bytes every match starts with (the exact literals the start leads through before
    /// anything else), or empty. With two bytes or more, candidates are checked with `memcmp`.
    let literalPrefix: [UInt8]

    /// Compiles `node`; throws ``LinearRegexError/tooBig(offset:limit:)`` past ``instructionLimit``.
    init(_ node: RegexNode, captureCount: Int, limit: Int = RegexProgram.instructionLimit) throws(LinearRegexError) {
        var builder = RegexBuilder(limit: limit)
        let whole = try builder.compile(.capture(index: 0, node))
        let done = try builder.add(.match)
        builder.patch(whole.end, done)
        let built = builder.finish(start: whole.start)
        instructions = built.instructions
        alternates = built.alternates
        classes = builder.classes
        classBits = builder.classes.flatMap { [$0.low, $0.high] }
        start = built.start
        self.captureCount = captureCount
        anchoredStart = Self.isAnchoredAtStart(node)
        let first = Self.firstByteTable(
            instructions: built.instructions, alternates: built.alternates,
            classes: builder.classes, start: built.start)
        firstBytes = first
        if let first, first.filter({ $0 }).count == 1, let byte = first.firstIndex(of: true) {
            singleFirstByte = UInt8(byte)
        } else {
            singleFirstByte = nil
        }
        literalPrefix = Self.literalPrefix(instructions: built.instructions, start: built.start)
    }

    /// Slots the matcher needs for every group: two per group, the whole match included.
    var slotCount: Int { 2 * (captureCount + 1) }

    /// True when every match of `node` must start at offset 0.
    private static func isAnchoredAtStart(_ node: RegexNode) -> Bool {
        switch node {
        case .look(.startText): return true
        case .capture(_, let inner): return isAnchoredAtStart(inner)
        case .concat(let items): return items.first.map(isAnchoredAtStart) ?? false
        case .alternation(let items): return !items.isEmpty && items.allSatisfy(isAnchoredAtStart)
        case .repetition(let inner, let min, _, _): return min > 0 && isAnchoredAtStart(inner)
        default: return false
        }
    }

    /// The bytes of the exact scalars on the single path from `start` (through capture saves), up to
    /// the first state that is anything else.
    private static func literalPrefix(instructions: [RegexInstruction], start: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var id = Int(start)
        var hops = 0
        while hops < instructions.count && bytes.count < 64 {
            hops += 1
            switch instructions[id] {
            case .save(_, let next):
                id = Int(next)
            case .scalar(let value, let next):
                guard let scalar = Unicode.Scalar(value) else { return bytes }
                bytes += Array(String(scalar).utf8)
                id = Int(next)
            default:
                return bytes
            }
        }
        return bytes
    }

    /// The bytes a match can start with, or `nil` when the start can reach a match without
    /// consuming, or can consume something not reducible to a small set of leading bytes.
    private static func firstByteTable(
        instructions: [RegexInstruction], alternates: [Int32],
        classes: [RegexCharacterClass], start: Int32
    ) -> [Bool]? {
        var table = [Bool](repeating: false, count: 256)
        var seen = Set<Int32>()
        var stack: [Int32] = [start]
        while let id = stack.popLast() {
            guard seen.insert(id).inserted else { continue }
            switch instructions[Int(id)] {
            case .scalar(let value, _):
                guard let scalar = Unicode.Scalar(value) else { return nil }
                var lead: UInt8 = 0
                for byte in String(scalar).utf8 {
                    lead = byte
                    break
                }
                table[Int(lead)] = true
            case .set(let index, _):
                guard let bytes = classes[Int(index)].asciiScalars else { return nil }
                for byte in bytes { table[Int(byte)] = true }
            case .dot, .match:
                return nil
            case .union(let first, let count):
                for k in 0..<Int(count) { stack.append(alternates[Int(first) + k]) }
            case .save(_, let next), .look(_, let next):
                stack.append(next)
            case .fail:
                break
            }
        }
        return table
    }
}

/// Builds the NFA state by state with patchable exits, then removes the empty states.
struct RegexBuilder {
    /// A state while building: exits may still be open (`nil`) and unions still growing.
    enum State {
        /// No-op, removed by ``finish(start:)``.
        case empty(Int32?)
        /// As ``RegexInstruction/scalar(_:next:)``.
        case scalar(UInt32, Int32?)
        /// As ``RegexInstruction/set(_:next:)``.
        case set(Int32, Int32?)
        /// As ``RegexInstruction/dot(_:next:)``.
        case dot(RegexDot, Int32?)
        /// Alternatives in the order added, preferred last-added first when `reverse` (lazy).
        case union([Int32], reverse: Bool)
        /// As ``RegexInstruction/save(slot:next:)``.
        case save(Int32, Int32?)
        /// As ``RegexInstruction/look(_:next:)``.
        case look(RegexLook, Int32?)
        /// As ``RegexInstruction/match``.
        case match
        /// As ``RegexInstruction/fail``.
        case fail
    }

    /// The states so far.
    private(set) var states: [State] = []
    /// The classes so far.
    private(set) var classes: [RegexCharacterClass] = []
    /// Non-empty states so far (empty ones are removed and do not count against the limit).
    private var counted = 0
    /// The limit on non-empty states.
    let limit: Int

    /// A builder that throws past `limit` states.
    init(limit: Int) {
        self.limit = limit
    }

    /// Appends a state and returns its id.
    mutating func add(_ state: State) throws(LinearRegexError) -> Int32 {
        if case .empty = state {} else { counted += 1 }
        if counted > limit || states.count > 3 * limit { throw .tooBig(offset: 0, limit: limit) }
        states.append(state)
        return Int32(states.count - 1)
    }

    /// Points the open exit of `from` at `to` (for a union: adds `to` as its next alternate).
    mutating func patch(_ from: Int32, _ to: Int32) {
        let k = Int(from)
        switch states[k] {
        case .empty: states[k] = .empty(to)
        case .scalar(let v, _): states[k] = .scalar(v, to)
        case .set(let c, _): states[k] = .set(c, to)
        case .dot(let d, _): states[k] = .dot(d, to)
        case .union(var targets, let reverse):
            states[k] = .fail  // drop the reference so the array is not copied
            targets.append(to)
            states[k] = .union(targets, reverse: reverse)
        case .save(let s, _): states[k] = .save(s, to)
        case .look(let l, _): states[k] = .look(l, to)
        case .match, .fail: break
        }
    }

    private mutating func union(greedy: Bool) throws(LinearRegexError) -> Int32 {
        try add(.union([], reverse: !greedy))
    }

    /// Compiles `node` into states; returns its entry and its (open) exit.
    mutating func compile(_ node: RegexNode) throws(LinearRegexError) -> (start: Int32, end: Int32) {
        switch node {
        case .empty:
            let e = try add(.empty(nil))
            return (e, e)
        case .literal(let value):
            let s = try add(.scalar(value, nil))
            return (s, s)
        case .set(let cls):
            classes.append(cls)
            let s = try add(.set(Int32(classes.count - 1), nil))
            return (s, s)
        case .dot(let dot):
            let s = try add(.dot(dot, nil))
            return (s, s)
        case .look(let look):
            let s = try add(.look(look, nil))
            return (s, s)
        case .capture(let index, let inner):
            let open = try add(.save(Int32(2 * index), nil))
            let body = try compile(inner)
            let close = try add(.save(Int32(2 * index + 1), nil))
            patch(open, body.start)
            patch(body.end, close)
            return (open, close)
        case .concat(let items):
            return try concatenation(items)
        case .alternation(let items):
            if items.count == 1 { return try compile(items[0]) }
            let u = try add(.union([], reverse: false))
            let end = try add(.empty(nil))
            for item in items {
                let branch = try compile(item)
                patch(u, branch.start)
                patch(branch.end, end)
            }
            return (u, end)
        case .repetition(let inner, let min, let max, let greedy):
            switch (min, max) {
            case (0, 1?):
                let u = try union(greedy: greedy)
                let body = try compile(inner)
                let end = try add(.empty(nil))
                patch(u, body.start)
                patch(u, end)
                patch(body.end, end)
                return (u, end)
            case (_, nil):
                return try atLeast(inner, min, greedy: greedy)
            case (_, let max?) where max == min:
                return try exactly(inner, min)
            case (_, let max?):
                return try bounded(inner, min, max, greedy: greedy)
            }
        }
    }

    /// The nodes compiled one after the other.
    private mutating func concatenation(_ nodes: [RegexNode]) throws(LinearRegexError) -> (start: Int32, end: Int32) {
        guard let firstNode = nodes.first else {
            let e = try add(.empty(nil))
            return (e, e)
        }
        let first = try compile(firstNode)
        var end = first.end
        for node in nodes.dropFirst() {
            let next = try compile(node)
            patch(end, next.start)
            end = next.end
        }
        return (first.start, end)
    }

    /// `inner{n}`.
    private mutating func exactly(_ inner: RegexNode, _ n: Int) throws(LinearRegexError) -> (start: Int32, end: Int32) {
        try concatenation(Array(repeating: inner, count: n))
    }

    /// `inner{min,max}`: the required copies, then each optional copy skipping straight to the end
    /// (so the closure of a skip stays small).
    private mutating func bounded(
        _ inner: RegexNode, _ min: Int, _ max: Int,
        greedy: Bool
    ) throws(LinearRegexError) -> (start: Int32, end: Int32) {
        let prefix = try exactly(inner, min)
        let end = try add(.empty(nil))
        var previous = prefix.end
        for _ in min..<max {
            let u = try union(greedy: greedy)
            let body = try compile(inner)
            patch(previous, u)
            patch(u, body.start)
            patch(u, end)
            previous = body.end
        }
        patch(previous, end)
        return (prefix.start, end)
    }

    /// `inner{n,}`. When `inner` can match the empty string, `x*` is built as `(x+)?` so that the
    /// preference order stays leftmost-first (as Rust's compiler does).
    private mutating func atLeast(
        _ inner: RegexNode, _ n: Int,
        greedy: Bool
    ) throws(LinearRegexError) -> (start: Int32, end: Int32) {
        if n == 0 {
            if let length = inner.minimumLength, length > 0 {
                let u = try union(greedy: greedy)
                let body = try compile(inner)
                patch(u, body.start)
                patch(body.end, u)
                return (u, u)
            }
            let body = try compile(inner)
            let plus = try union(greedy: greedy)
            patch(body.end, plus)
            patch(plus, body.start)
            let question = try union(greedy: greedy)
            let end = try add(.empty(nil))
            patch(question, body.start)
            patch(question, end)
            patch(plus, end)
            return (question, end)
        }
        if n == 1 {
            let body = try compile(inner)
            let u = try union(greedy: greedy)
            patch(body.end, u)
            patch(u, body.start)
            return (body.start, u)
        }
        let prefix = try exactly(inner, n - 1)
        let last = try compile(inner)
        let u = try union(greedy: greedy)
        patch(prefix.end, last.start)
        patch(last.end, u)
        patch(u, last.start)
        return (prefix.start, u)
    }

    /// The final program: empty states and one-way unions bypassed, unreachable states dropped,
    /// states renumbered from the start.
    func finish(start: Int32) -> (instructions: [RegexInstruction], alternates: [Int32], start: Int32) {
        func resolve(_ id: Int32?) -> Int32? {
            guard var current = id else { return nil }
            var hops = 0
            while hops <= states.count {
                switch states[Int(current)] {
                case .empty(let next):
                    guard let next else { return nil }
                    current = next
                case .union(let targets, _) where targets.count == 1:
                    current = targets[0]
                default:
                    return current
                }
                hops += 1
            }
            return nil
        }
        func targets(_ state: State) -> [Int32?] {
            switch state {
            case .scalar(_, let n), .set(_, let n), .dot(_, let n), .save(_, let n), .look(_, let n):
                return [resolve(n)]
            case .union(let t, let reverse): return (reverse ? t.reversed() : t).map(resolve)
            case .empty, .match, .fail: return []
            }
        }
        // Number the reachable states in discovery order; a missing exit goes to one shared `fail`.
        var number: [Int32: Int32] = [:]
        var order: [Int32] = []
        let entry = resolve(start)
        var queue: [Int32] = entry.map { [$0] } ?? []
        var needsFail = entry == nil
        var head = 0
        while head < queue.count {
            let id = queue[head]
            head += 1
            guard number[id] == nil else { continue }
            number[id] = Int32(order.count)
            order.append(id)
            for target in targets(states[Int(id)]) {
                if let target { queue.append(target) } else { needsFail = true }
            }
        }
        let failID = Int32(order.count)
        func mapped(_ id: Int32?) -> Int32 { id.flatMap { number[$0] } ?? failID }
        var instructions: [RegexInstruction] = []
        instructions.reserveCapacity(order.count + 1)
        var alternates: [Int32] = []
        for id in order {
            let state = states[Int(id)]
            switch state {
            case .scalar(let v, let n): instructions.append(.scalar(v, next: mapped(resolve(n))))
            case .set(let c, let n): instructions.append(.set(c, next: mapped(resolve(n))))
            case .dot(let d, let n): instructions.append(.dot(d, next: mapped(resolve(n))))
            case .save(let s, let n): instructions.append(.save(slot: s, next: mapped(resolve(n))))
            case .look(let l, let n): instructions.append(.look(l, next: mapped(resolve(n))))
            case .union:
                let list = targets(state).map(mapped)
                if list.isEmpty {
                    instructions.append(.fail)
                } else {
                    instructions.append(.union(first: Int32(alternates.count), count: Int32(list.count)))
                    alternates += list
                }
            case .match: instructions.append(.match)
            case .empty, .fail: instructions.append(.fail)
            }
        }
        if needsFail || instructions.isEmpty { instructions.append(.fail) }
        return (instructions, alternates, entry.flatMap { number[$0] } ?? failID)
    }
}
