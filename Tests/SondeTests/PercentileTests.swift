import Testing

@testable import SondeStore

/// The one percentile definition: nearest rank, ⌈q·n⌉, shared by `sonde status`, `sonde report`,
/// incident write-ups and the hour histograms.
@Suite struct PercentileTests {
    @Test("the rank is ⌈q·n⌉, at least 1 and at most n, in exact arithmetic")
    func rank() {
        #expect(Percentile.rank(0.95, count: 20) == 19)
        #expect(Percentile.rank(0.95, count: 21) == 20)
        #expect(Percentile.rank(0.07, count: 100) == 7)  // 0.07 × 100 is 7.000000000000001 in floating point
        #expect(Percentile.rank(0.5, count: 45) == 23)
        #expect(Percentile.rank(0, count: 10) == 1)
        #expect(Percentile.rank(1, count: 10) == 10)
        #expect(Percentile.rank(-1, count: 10) == 1)
        #expect(Percentile.rank(2, count: 10) == 10)
        #expect(Percentile.rank(.nan, count: 10) == 1)
        #expect(Percentile.rank(0.5, count: 0) == 0)
        #expect(Percentile.rank(0.99, count: .max) == Int64((0.99 * Double(Int64.max)).rounded(.up)))
    }

    @Test("a percentile is the value at that rank of the sorted values, never between two values")
    func nearestRank() {
        #expect(Percentile.nearestRank(0.95, sorted: [1, 2, 3, 4, 5]) == 5)
        #expect(Percentile.nearestRank(0.95, sorted: Array(1...20).map(Double.init)) == 19)
        #expect(Percentile.nearestRank(0.95, sorted: Array(1...100).map(Double.init)) == 95)
        #expect(Percentile.nearestRank(0.5, sorted: [10, 20]) == 10)
        #expect(Percentile.nearestRank(0.95, sorted: []) == nil)
    }
}
