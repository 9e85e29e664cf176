/// The writer's memory of failing files, so each (file, reason) is logged at most once a minute
/// with a count of the failures in between, and a file that works again says so once. Other files
/// writing fine meanwhile change nothing. At most `capacity` files are remembered (the ones that
/// failed longest ago are forgotten first), so a stream of new failing paths cannot grow it.
struct FailureReports {
    /// What is remembered of one failing file.
    struct Failure {
        /// The reason of its last reported line.
        var reason: String
        /// When its last line was reported (ms).
        var reportedAt: Int64
        /// When it last failed (ms).
        var failedAt: Int64
        /// Failures since its last line, not reported.
        var suppressed = 0
        /// Records of it dropped since it started failing.
        var dropped = 0
    }

    /// How long a (file, reason) stays quiet after its line.
    static let intervalMs: Int64 = 60_000
    /// How many failing files are remembered.
    static let capacity = 1_024

    private(set) var failing: [String: Failure] = [:]

    /// Notes a failure of `path`; returns the count of unreported failures when a line is due
    /// (first failure, another reason, or a minute since its last line), nil when it stays quiet.
    mutating func failed(path: String, reason: String, at now: Int64, dropped: Bool) -> Int? {
        if var failure = failing[path] {
            failure.failedAt = now
            if dropped { failure.dropped += 1 }
            if failure.reason == reason, now - failure.reportedAt < Self.intervalMs {
                failure.suppressed += 1
                failing[path] = failure
                return nil
            }
            let suppressed = failure.suppressed
            failure.reason = reason
            failure.reportedAt = now
            failure.suppressed = 0
            failing[path] = failure
            return suppressed
        }
        if failing.count >= Self.capacity, let oldest = failing.min(by: { $0.value.failedAt < $1.value.failedAt }) {
            failing.removeValue(forKey: oldest.key)
        }
        failing[path] = Failure(reason: reason, reportedAt: now, failedAt: now, dropped: dropped ? 1 : 0)
        return 0
    }

    /// Notes a write of `path` that worked; returns the records of it dropped while it failed
    /// when it was failing (report "resumed" once), nil otherwise.
    mutating func succeeded(path: String) -> Int? {
        guard !failing.isEmpty, let failure = failing.removeValue(forKey: path) else { return nil }
        return failure.dropped
    }
}
