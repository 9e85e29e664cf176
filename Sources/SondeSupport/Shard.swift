/// One prober's part of a checks folder that `count` probers share (`sonde run --shard I/N`): the
/// checks whose names hash to part `index` of `count`.
///
/// The hash is rendezvous hashing (highest random weight): each check gives every part a weight
/// computed from its name and the part's number, and belongs to the part with the highest weight.
/// It depends only on the name's bytes, so every prober, in every process and on every machine,
/// agrees without talking to the others. And when `count` grows from N to N + 1, a check moves
/// only when the new part outweighs its old one — about 1 check in N + 1, every one of them to the
/// new part; shrinking from N + 1 to N moves only the checks of part N + 1. A modulo of a hash would
/// move about N / (N + 1) of the checks instead. The cost is `count` hashes per check at load time,
/// which the bound on `count` keeps small.
package struct Shard: Sendable, Hashable, CustomStringConvertible {
    /// The largest number of parts accepted.
    package static let maxCount = 1000

    /// The whole folder: part 1 of 1 (no `--shard`).
    package static let whole = Shard(checkedIndex: 1, count: 1)

    /// This part's number, from 1 to `count`.
    package let index: Int
    /// How many parts the folder is split into.
    package let count: Int

    /// Part `index` of `count`; `count` from 1 to `maxCount`, `index` from 1 to `count`.
    package init(index: Int, count: Int) throws(ShardError) {
        guard (1...Self.maxCount).contains(count) else { throw .countOutOfRange(count) }
        guard (1...count).contains(index) else { throw .indexOutOfRange(index: index, count: count) }
        self.init(checkedIndex: index, count: count)
    }

    /// Reads `I/N` (`2/3`): two whole numbers in decimal digits around one slash.
    package init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Self.number(parts[0]), let count = Self.number(parts[1]) else {
            throw .notAShard(text)
        }
        try self.init(index: index, count: count)
    }

    private init(checkedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// `I/N`.
    package var description: String { "\(index)/\(count)" }

    /// Whether this is the whole folder (1/1).
    package var isWhole: Bool { count == 1 }

    /// Whether the check called `name` belongs to this part.
    package func contains(_ name: String) -> Bool {
        Self.part(of: name, count: count) == index
    }

    /// The part, from 1 to `count`, that the check called `name` belongs to when the folder is split
    /// into `count` parts: the part of highest weight (rendezvous hashing).
    static func part(of name: String, count: Int) -> Int {
        let key = nameHash(name)
        var best = 1
        var bestWeight: UInt64 = 0
        for part in 1...max(1, count) {
            let weight = mix(key ^ mix(UInt64(part)))
            if part == 1 || weight > bestWeight {
                best = part
                bestWeight = weight
            }
        }
        return best
    }

    /// FNV-1a (64 bits) of the name's UTF-8 bytes: the same in every process, unlike `hashValue`.
    static func nameHash(_ name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }

    /// SplitMix64's step and finaliser: a bijection that spreads every input bit over the output, so
    /// the weights of one name's parts, and of names that differ in one byte, look independent.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A whole number written in ASCII digits only (no sign, no spaces), of at most 9 digits.
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text)
    }
}

/// Why a shard was refused.
package enum ShardError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not two whole numbers around one slash (`x`, `1/`, `1/2/3`).
    case notAShard(String)
    /// A count of parts that is 0 or above `Shard.maxCount`.
    case countOutOfRange(Int)
    /// A part number outside 1 to the count (`0/2`, `3/2`).
    case indexOutOfRange(index: Int, count: Int)

    /// One line.
    package var description: String {
        switch self {
        case .notAShard(let text):
            return "'\(text)' is not a shard: write I/N, two whole numbers such as 2/3"
        case .countOutOfRange(let count):
            return "\(count) shards: the count must be from 1 to \(Shard.maxCount)"
        case .indexOutOfRange(let index, let count):
            return "shard \(index) of \(count): the shard number must be from 1 to \(count)"
        }
    }
}
