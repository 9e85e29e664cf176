import SondeProbe
import SondeRun
import SondeScript
import SondeSupport

/// Run durations counted in fixed buckets that merge by addition, so percentiles over months come
/// from summed hour lines. Bucket `i` counts durations `≤ bounds[i]` and `> bounds[i-1]`; the last
/// bucket (index `bounds.count`) counts everything slower than 60 s. The bounds are part of the data
/// format (`docs/data-format.md`): about 25% apart, so an estimate is within one bucket's width.
///
/// The writer keeps one per check for the open hour, so the counts are stored compactly: nothing
/// until the first duration, then 32-bit counts (184 bytes), and 64-bit ones only once a bucket
/// passes `UInt32.max` (sums over a fleet and months).
package struct LatencyHistogram: Sendable, Equatable {
    /// Upper bounds in milliseconds, inclusive.
    package static let bounds: [Double] = [
        0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300,
        400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10_000, 12_000,
        15_000, 20_000, 30_000, 60_000,
    ]

    /// Buckets: `bounds.count + 1`.
    package static var bucketCount: Int { bounds.count + 1 }

    /// 32-bit counts per bucket, or empty when every count is zero or `wide` holds them.
    private var narrow = ContiguousArray<UInt32>()
    /// 64-bit counts per bucket once a count passed `UInt32.max`, else empty.
    private var wide = ContiguousArray<Int64>()

    package init() {}

    /// A histogram from stored counts; missing trailing buckets are zero, extra ones are added to the last.
    package init(counts stored: [Int64]) {
        for (index, count) in stored.enumerated() where count > 0 {
            increment(min(index, Self.bounds.count), by: count)
        }
    }

    /// Counts per bucket; always `bounds.count + 1` long.
    package var counts: [Int64] {
        if !wide.isEmpty { return Array(wide) }
        if !narrow.isEmpty { return narrow.map { Int64($0) } }
        return [Int64](repeating: 0, count: Self.bucketCount)
    }

    /// The count of bucket `index` (0 ..< `bucketCount`).
    package subscript(index: Int) -> Int64 {
        if !wide.isEmpty { return wide[index] }
        return narrow.isEmpty ? 0 : Int64(narrow[index])
    }

    /// Number of durations counted.
    package var total: Int64 {
        if !wide.isEmpty { return wide.reduce(0, +) }
        return narrow.reduce(0) { $0 + Int64($1) }
    }

    /// Index of the bucket that holds `ms`.
    package static func bucket(_ ms: Double) -> Int {
        var low = 0
        var high = bounds.count
        while low < high {
            let mid = (low + high) / 2
            if ms <= bounds[mid] { high = mid } else { low = mid + 1 }
        }
        return low
    }

    package mutating func add(_ ms: Double) { increment(Self.bucket(ms), by: 1) }

    package mutating func merge(_ other: LatencyHistogram) {
        guard !other.narrow.isEmpty || !other.wide.isEmpty else { return }
        for index in 0..<Self.bucketCount {
            let count = other[index]
            if count > 0 { increment(index, by: count) }
        }
    }

    /// Adds `count` (> 0) to bucket `index`, widening the counts when a bucket would pass `UInt32.max`.
    private mutating func increment(_ index: Int, by count: Int64) {
        if !wide.isEmpty {
            wide[index] += count
            return
        }
        if narrow.isEmpty { narrow = ContiguousArray(repeating: 0, count: Self.bucketCount) }
        let sum = Int64(narrow[index]) + count
        if sum <= Int64(UInt32.max) {
            narrow[index] = UInt32(sum)
            return
        }
        wide = ContiguousArray(narrow.lazy.map { Int64($0) })
        narrow = []
        wide[index] = sum
    }

    /// Equal when every bucket holds the same count, however they are stored.
    package static func == (a: LatencyHistogram, b: LatencyHistogram) -> Bool {
        (0..<bucketCount).allSatisfy { a[$0] == b[$0] }
    }

    /// Number of durations at or under `ms`, counting the bucket holding `ms` in full only when `ms`
    /// is one of the bounds (exact then); otherwise interpolated linearly inside the bucket.
    package func count(atMost ms: Double) -> Double {
        let b = Self.bucket(ms)
        var below: Int64 = 0
        for index in 0..<b { below += self[index] }
        guard b < Self.bounds.count else { return Double(below) + Double(self[b]) }
        if ms == Self.bounds[b] { return Double(below + self[b]) }
        let low = b == 0 ? 0 : Self.bounds[b - 1]
        let share = (ms - low) / (Self.bounds[b] - low)
        return Double(below) + Double(self[b]) * share
    }

    /// The `q` quantile (0...1): the bucket holding rank ⌈q·n⌉ (`Percentile.rank`, the same rank as
    /// the exact percentiles), linearly interpolated inside that bucket; `nil` when empty. Durations
    /// over the last bound report that bound (60 s).
    package func quantile(_ q: Double) -> Double? {
        let n = total
        guard n > 0 else { return nil }
        let rank = Double(Percentile.rank(q, count: n))
        var seen: Int64 = 0
        for index in 0..<Self.bucketCount {
            let count = self[index]
            guard count > 0 else { continue }
            if Double(seen + count) >= rank {
                guard index < Self.bounds.count else { return Self.bounds[Self.bounds.count - 1] }
                let low = index == 0 ? 0 : Self.bounds[index - 1]
                let high = Self.bounds[index]
                let within = (rank - Double(seen)) / Double(count)
                return low + (high - low) * within
            }
            seen += count
        }
        return Self.bounds[Self.bounds.count - 1]
    }
}
