/// The one percentile definition of sonde, **nearest rank**: the `q` quantile of `n` values is the
/// value at rank ⌈q·n⌉ (at least 1) of the values sorted ascending, as `sonde status` and
/// `sonde report` document it (`README.md`; the hour histograms of `docs/data-format.md` read the same
/// rank, interpolated inside its bucket). No interpolation between values: a percentile is always a
/// duration some run took. p95 of `1...20` is 19, of `[5, 1, 4, 2, 3]` is 5.
package enum Percentile {
    /// The 1-based rank ⌈q·count⌉ of the `q` quantile (`0...1`, clamped) among `count` values,
    /// between 1 and `count`; 0 when `count` is 0. `q` is read to the millionth and the rank computed
    /// in integer arithmetic, so 0.95 × 20 is exactly 19, never 20 by a rounding error.
    static func rank(_ q: Double, count: Int64) -> Int64 {
        guard count > 0 else { return 0 }
        let perMillion = q.isNaN ? 0 : Int64((min(max(q, 0), 1) * 1_000_000).rounded())
        let (product, overflow) = perMillion.multipliedReportingOverflow(by: count)
        let rank =
            overflow
            ? Int64((Double(perMillion) / 1_000_000 * Double(count)).rounded(.up))
            : (product + 999_999) / 1_000_000
        return min(count, max(1, rank))
    }

    /// The `q` quantile of `sorted` (ascending) by nearest rank; `nil` when empty.
    package static func nearestRank(_ q: Double, sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted[Int(rank(q, count: Int64(sorted.count))) - 1]
    }
}
