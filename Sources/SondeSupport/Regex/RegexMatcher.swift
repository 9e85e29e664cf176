#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A Pike VM: runs a ``RegexProgram`` over UTF-8 text in one pass, keeping at most one thread per
/// NFA state, so the work is O(program size × text length) whatever the pattern.
///
/// Threads are kept in priority order (leftmost-first, as Perl and Rust): when a thread reaches the
/// match state, the threads behind it are dropped and the search goes on only with those ahead of it,
/// which may still extend the match. The working memory (two sparse sets of states, their capture
/// slots, the closure stack) is one buffer sized by the program, taken from the program's pool and
/// given back after the search; no step allocates.
struct RegexMatcher {
    /// What a search found.
    struct Outcome {
        /// The capture slots of the match (`2 × group` is a start, `2 × group + 1` an end, in UTF-8
        /// offsets; -1 when the group did not take part), or `nil` without a match.
        var slots: [Int]?
        /// NFA states visited and threads stepped: bounded by a small multiple of
        /// program size × (text length + 1).
        var steps: Int
        /// True when the search gave up because its stop flag was set (`slots` is then `nil`).
        var stopped = false
    }

    /// A set of states with insertion order and O(1) insert, test and clear.
    private struct SparseSet {
        /// The members in insertion (priority) order.
        let dense: UnsafeMutablePointer<Int>
        /// For each state, its index in `dense` when it is a member.
        let sparse: UnsafeMutablePointer<Int>
        /// The number of members.
        var count = 0

        /// Adds `id`; false when it was already there.
        @inline(__always)
        mutating func insert(_ id: Int) -> Bool {
            let s = sparse[id]
            if s < count && dense[s] == id { return false }
            dense[count] = id
            sparse[id] = count
            count += 1
            return true
        }
    }

    /// Pooled buffers are kept up to this many `Int`s (512 KiB); larger ones are freed after use.
    private static let poolableSize = 1 << 16
    /// At most this many buffers wait in a program's pool.
    private static let poolDepth = 4

    private let program: RegexProgram
    private let instructions: UnsafeBufferPointer<RegexInstruction>
    private let alternates: UnsafeBufferPointer<Int32>
    private let classBits: UnsafeBufferPointer<UInt64>
    private let firstBytes: UnsafeBufferPointer<Bool>?
    private let text: UnsafeBufferPointer<UInt8>
    private let end: Int
    private let slotCount: Int
    private var current: SparseSet
    private var next: SparseSet
    private var currentSlots: UnsafeMutablePointer<Int>
    private var nextSlots: UnsafeMutablePointer<Int>
    private let scratch: UnsafeMutablePointer<Int>
    /// Closure frames, two words each: a slot to restore (or -1 to explore a state) and a value.
    private let stack: UnsafeMutablePointer<Int>
    private var steps = 0
    /// Set by whoever stops waiting for the search; polled every `stopCheckSteps` steps.
    private let stop: StopFlag?
    private var nextStopCheck = RegexMatcher.stopCheckSteps
    private var stopped = false
    /// Steps between two looks at the stop flag (well under a millisecond of work).
    private static let stopCheckSteps = 1 << 16

    /// The buffer size a search of `program` with `slotCount` slots needs.
    private static func bufferSize(_ program: RegexProgram, slotCount: Int) -> Int {
        let n = program.instructions.count
        return 4 * n + 2 * n * slotCount + slotCount + 2 * (program.alternates.count + n + 2)
    }

    private init(
        program: RegexProgram, instructions: UnsafeBufferPointer<RegexInstruction>,
        alternates: UnsafeBufferPointer<Int32>, classBits: UnsafeBufferPointer<UInt64>,
        firstBytes: UnsafeBufferPointer<Bool>?, text: UnsafeBufferPointer<UInt8>,
        slotCount: Int, memory: UnsafeMutablePointer<Int>, stop: StopFlag?
    ) {
        self.program = program
        self.stop = stop
        self.instructions = instructions
        self.alternates = alternates
        self.classBits = classBits
        self.firstBytes = firstBytes
        self.text = text
        self.end = text.count
        self.slotCount = slotCount
        let n = instructions.count
        current = SparseSet(dense: memory, sparse: memory + n)
        next = SparseSet(dense: memory + 2 * n, sparse: memory + 3 * n)
        currentSlots = memory + 4 * n
        nextSlots = currentSlots + n * slotCount
        scratch = nextSlots + n * slotCount
        stack = scratch + slotCount
    }

    /// Finds the leftmost-first match of `program` in `text`, tracking the first `slotCount` slots
    /// (0: no captures, 2: the match range). With `earliest`, stops at the first match state reached
    /// (enough to say whether there is a match; the slots are then not the leftmost-first ones).
    /// Gives up, with `stopped`, once `stop` is set.
    static func search(
        _ program: RegexProgram, in text: UnsafeBufferPointer<UInt8>, slotCount: Int,
        earliest: Bool, stop: StopFlag? = nil
    ) -> Outcome {
        let slots = max(0, min(slotCount, program.slotCount))
        let size = bufferSize(program, slotCount: slots)
        var memory =
            program.scratchPool.withLock { pool -> [Int]? in
                guard let last = pool.last, last.count >= size else { return nil }
                return pool.removeLast()
            } ?? [Int](repeating: 0, count: size)
        let outcome = memory.withUnsafeMutableBufferPointer { buffer -> Outcome in
            guard let base = buffer.baseAddress else { return Outcome(slots: nil, steps: 0) }
            return program.instructions.withUnsafeBufferPointer { instructions in
                program.alternates.withUnsafeBufferPointer { alternates in
                    program.classBits.withUnsafeBufferPointer { classBits in
                        func run(_ firstBytes: UnsafeBufferPointer<Bool>?) -> Outcome {
                            var vm = RegexMatcher(
                                program: program, instructions: instructions,
                                alternates: alternates, classBits: classBits,
                                firstBytes: firstBytes, text: text, slotCount: slots,
                                memory: base, stop: stop)
                            let found = vm.run(earliest: earliest)
                            return Outcome(slots: vm.stopped ? nil : found, steps: vm.steps, stopped: vm.stopped)
                        }
                        guard let table = program.firstBytes else { return run(nil) }
                        return table.withUnsafeBufferPointer { run($0) }
                    }
                }
            }
        }
        if memory.count <= poolableSize {
            program.scratchPool.withLock { pool in
                if pool.count < poolDepth { pool.append(memory) }
            }
        }
        return outcome
    }

    // MARK: the search loop

    private mutating func run(earliest: Bool) -> [Int]? {
        var result: [Int]? = nil
        let anchored = program.anchoredStart
        let start = program.start
        var at = 0
        var previous: Int32 = -1
        var (scalar, length) = decode(at)
        while true {
            if steps >= nextStopCheck {
                nextStopCheck = steps + Self.stopCheckSteps
                if stop?.isSet == true {
                    stopped = true
                    return nil
                }
            }
            if current.count == 0 {
                if result != nil { break }
                if anchored && at > 0 { break }
                if firstBytes != nil {
                    let candidate = nextCandidate(from: at)
                    if candidate >= end { break }  // no match can start in the rest, nor at the end
                    if candidate != at {
                        at = candidate
                        previous = decodeBefore(at)
                        (scalar, length) = decode(at)
                    }
                }
            }
            if result == nil && (!anchored || at == 0) {
                for k in 0..<slotCount { scratch[k] = -1 }
                closure(intoNext: false, from: start, at: at, previous: previous, next: scalar)
            }
            let nextAt = at + length
            let (following, followingLength) = decode(nextAt)
            var k = 0
            while k < current.count {
                let id = current.dense[k]
                k += 1
                steps += 1
                let target: Int32
                switch instructions[id] {
                case .match:
                    var slots = [Int](repeating: -1, count: slotCount)
                    for s in 0..<slotCount { slots[s] = currentSlots[id * slotCount + s] }
                    result = slots
                    if earliest { return result }
                    k = current.count  // drop the lower-priority threads
                    continue
                case .scalar(let value, let n):
                    guard scalar >= 0, UInt32(scalar) == value else { continue }
                    target = n
                case .set(let index, let n):
                    guard scalar >= 0, inClass(Int(index), UInt32(scalar)) else { continue }
                    target = n
                case .dot(let dot, let n):
                    guard scalar >= 0 else { continue }
                    switch dot {
                    case .any: break
                    case .notNewline: if scalar == 0x0A { continue }
                    case .notCRLF: if scalar == 0x0A || scalar == 0x0D { continue }
                    }
                    target = n
                default:
                    continue
                }
                let row = currentSlots + id * slotCount
                for s in 0..<slotCount { scratch[s] = row[s] }
                closure(intoNext: true, from: target, at: nextAt, previous: scalar, next: following)
            }
            swap(&current, &next)
            swap(&currentSlots, &nextSlots)
            next.count = 0
            if at >= end { break }
            previous = scalar
            scalar = following
            length = followingLength
            at = nextAt
        }
        return result
    }

    /// Adds to the current (or next) set every state reachable from `from` without consuming, in
    /// priority order, and records the slots of each consuming (or match) state reached in that set's
    /// slot table. Starts from `scratch` and leaves it as it found it.
    private mutating func closure(intoNext: Bool, from: Int32, at: Int, previous: Int32, next: Int32) {
        var set = intoNext ? self.next : current
        let table = intoNext ? nextSlots : currentSlots
        defer { if intoNext { self.next.count = set.count } else { current.count = set.count } }
        stack[0] = -1
        stack[1] = Int(from)
        var top = 2
        while top > 0 {
            top -= 2
            let slot = stack[top]
            if slot >= 0 {
                scratch[slot] = stack[top + 1]
                continue
            }
            var id = stack[top + 1]
            explore: while true {
                steps += 1
                guard set.insert(id) else { break }
                switch instructions[id] {
                case .union(let first, let count):
                    var k = Int(first) + Int(count) - 1
                    while k > Int(first) {
                        stack[top] = -1
                        stack[top + 1] = Int(alternates[k])
                        top += 2
                        k -= 1
                    }
                    id = Int(alternates[Int(first)])
                case .save(let slot, let n):
                    let s = Int(slot)
                    if s < slotCount {
                        stack[top] = s
                        stack[top + 1] = scratch[s]
                        top += 2
                        scratch[s] = at
                    }
                    id = Int(n)
                case .look(let look, let n):
                    guard holds(look, at: at, previous: previous, next: next) else { break explore }
                    id = Int(n)
                case .fail:
                    break explore
                case .scalar, .set, .dot, .match:
                    if slotCount > 0 {
                        let row = table + id * slotCount
                        for s in 0..<slotCount { row[s] = scratch[s] }
                    }
                    break explore
                }
            }
        }
    }

    /// True when `scalar` belongs to class `index` (ASCII from the bitmaps, the rest from the tree).
    @inline(__always)
    private func inClass(_ index: Int, _ scalar: UInt32) -> Bool {
        if scalar < 64 { return (classBits[2 * index] >> UInt64(scalar)) & 1 != 0 }
        if scalar < 128 { return (classBits[2 * index + 1] >> UInt64(scalar - 64)) & 1 != 0 }
        return program.classes[index].tree.contains(scalar)
    }

    /// Whether `look` holds between `previous` and `next` (-1: the text's start or end) at `at`.
    @inline(__always)
    private func holds(_ look: RegexLook, at: Int, previous: Int32, next: Int32) -> Bool {
        func word(_ scalar: Int32, _ unicode: Bool) -> Bool {
            scalar >= 0 && RegexWord.isWord(UInt32(scalar), unicode: unicode)
        }
        switch look {
        case .startText: return at == 0
        case .endText: return at == end
        case .startLine: return at == 0 || previous == 0x0A
        case .endLine: return at == end || next == 0x0A
        case .startLineCRLF: return at == 0 || previous == 0x0A || (previous == 0x0D && next != 0x0A)
        case .endLineCRLF: return at == end || next == 0x0D || (next == 0x0A && previous != 0x0D)
        case .wordBoundary(let u): return word(previous, u) != word(next, u)
        case .notWordBoundary(let u): return word(previous, u) == word(next, u)
        case .wordStart(let u): return !word(previous, u) && word(next, u)
        case .wordEnd(let u): return word(previous, u) && !word(next, u)
        case .wordStartHalf(let u): return !word(previous, u)
        case .wordEndHalf(let u): return !word(next, u)
        }
    }

    // MARK: text

    /// The scalar at byte `i` and its length in bytes; (-1, 0) at the end.
    @inline(__always)
    private func decode(_ i: Int) -> (Int32, Int) {
        guard i < end else { return (-1, 0) }
        let b0 = UInt32(text[i])
        if b0 < 0x80 { return (Int32(b0), 1) }
        let length = b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4
        guard i + length <= end, b0 >= 0xC0 else { return (0xFFFD, 1) }
        var value = b0 & (0xFF >> UInt32(length + 1))
        for k in 1..<length { value = value << 6 | (UInt32(text[i + k]) & 0x3F) }
        return (Int32(value), length)
    }

    /// The scalar that ends at byte `i`, or -1 at the start.
    private func decodeBefore(_ i: Int) -> Int32 {
        guard i > 0 else { return -1 }
        var k = i - 1
        while k > 0 && text[k] & 0xC0 == 0x80 { k -= 1 }
        return decode(k).0
    }

    /// The first byte offset from `i` at which a match can start (per the program's first-byte
    /// table), or `end`.
    private func nextCandidate(from i: Int) -> Int {
        guard i < end, let table = firstBytes, let base = text.baseAddress else { return end }
        if let byte = program.singleFirstByte {
            let prefix = program.literalPrefix
            var from = i
            while from < end {
                guard let hit = memchr(base + from, Int32(byte), end - from) else { return end }
                let at = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
                if prefix.count < 2 { return at }
                if end - at < prefix.count { return end }
                let rest = prefix.withUnsafeBufferPointer { p in
                    p.baseAddress.map { memcmp(base + at + 1, $0 + 1, prefix.count - 1) } ?? 0
                }
                if rest == 0 { return at }
                from = at + 1
            }
            return end
        }
        var k = i
        while k < end && !table[Int(text[k])] { k += 1 }
        return k
    }
}
