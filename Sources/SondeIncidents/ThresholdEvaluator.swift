import SondeScript
import SondeStore

/// The `@alert` rules of one check at one location, fed its runs in time order (README.md,
/// "Threshold alerts"). The same code runs live in `sonde run` and offline in `sonde incidents` and
/// `sonde report`, so both find the same episodes with the same times.
///
/// At every run, each rule's metric is computed over the runs of `(t − window, t]`, `t` the run's
/// start. A rule whose window holds fewer than `ThresholdRule.minimumRuns` runs (passed runs for the
/// latency metrics) has insufficient data: its state does not change — a quiet rule does not start,
/// a firing one does not end — until the window holds enough runs again. The runs are kept in one
/// ring per check, bounded by the longest window and by `capacity` runs.
package struct ThresholdEvaluator: Sendable {
    /// What one run contributes to the rules.
    package struct Run: Sendable, Equatable {
        package var timeMs: Int64
        package var durationMs: Double
        /// Time to first byte summed over the run's requests.
        package var ttfbMs: Double
        package var ok: Bool

        /// A run from its figures.
        package init(timeMs: Int64, durationMs: Double, ttfbMs: Double, ok: Bool) {
            self.timeMs = timeMs
            self.durationMs = durationMs
            self.ttfbMs = ttfbMs
            self.ok = ok
        }

        /// The figures of a recorded run.
        package init(_ record: RunRecord) {
            self.init(
                timeMs: record.time, durationMs: record.durationMs,
                ttfbMs: record.steps.reduce(0) { $0 + $1.timings.ttfb }, ok: record.ok)
        }
    }

    /// What a run changed.
    package enum Transition: Sendable, Equatable {
        /// The rule holds now and did not before: `value` crossed its threshold over `runs` runs.
        case started(rule: ThresholdRule, timeMs: Int64, value: Double, runs: Int)
        /// The rule no longer holds; it had held since `startedMs`, at worst `peak`.
        case ended(rule: ThresholdRule, timeMs: Int64, value: Double, runs: Int, startedMs: Int64, peak: Double)
    }

    /// A firing rule.
    package struct Firing: Sendable, Equatable {
        package var startedMs: Int64
        /// The value that crossed the threshold at the start.
        package var value: Double
        /// The worst value since.
        package var peak: Double

        /// A rule firing since `startedMs`.
        package init(startedMs: Int64, value: Double, peak: Double) {
            self.startedMs = startedMs
            self.value = value
            self.peak = peak
        }
    }

    /// The most runs the ring keeps: with a 1 s `@every` and a long window, the latest this many
    /// runs of the window stand for it.
    package static let capacity = 4_096

    package let check: String
    package let location: String
    package private(set) var rules: [ThresholdRule]
    /// Firing rules by their text.
    package private(set) var firing: [String: Firing] = [:]
    private var ring: [Run] = []
    private var head = 0

    /// Rules of one check at one location, none firing.
    package init(check: String, location: String, rules: [ThresholdRule]) {
        self.check = check
        self.location = location
        self.rules = rules
    }

    /// The runs the ring holds now, oldest first.
    package var runs: ArraySlice<Run> { ring[head...] }

    /// The longest window of the rules.
    var longestWindowMs: Int64 { rules.map(\.windowMs).max() ?? 0 }

    /// Applies changed rules (a reload): rules kept keep their state, removed ones are forgotten.
    package mutating func update(rules: [ThresholdRule]) {
        self.rules = rules
        let texts = Set(rules.map(\.text))
        firing = firing.filter { texts.contains($0.key) }
    }

    /// Marks `rule` as firing (a prober that restarts while an alert is on, from the events file).
    package mutating func resume(rule text: String, _ state: Firing) {
        guard rules.contains(where: { $0.text == text }) else { return }
        firing[text] = state
    }

    /// Adds a run to the ring without evaluating the rules (priming at start).
    package mutating func prime(_ run: Run) { insert(run) }

    /// Feeds one run; returns what it changed.
    package mutating func observe(_ run: Run) -> [Transition] {
        guard !rules.isEmpty else { return [] }
        insert(run)
        var out: [Transition] = []
        let window = ring[head...]
        for rule in rules {
            guard let (value, count) = Self.value(rule, runs: window, at: run.timeMs) else { continue }
            let holds = rule.comparison.holds(value, rule.threshold)
            if var state = firing[rule.text] {
                if holds {
                    if rule.comparison.worse(value, than: state.peak) { state.peak = value }
                    firing[rule.text] = state
                } else {
                    firing[rule.text] = nil
                    out.append(
                        .ended(
                            rule: rule, timeMs: run.timeMs, value: value, runs: count, startedMs: state.startedMs,
                            peak: state.peak))
                }
            } else if holds {
                firing[rule.text] = Firing(startedMs: run.timeMs, value: value, peak: value)
                out.append(.started(rule: rule, timeMs: run.timeMs, value: value, runs: count))
            }
        }
        return out
    }

    /// Feeds one recorded run.
    package mutating func observe(_ record: RunRecord) -> [Transition] { observe(Run(record)) }

    /// The rule's metric over the runs of `(atMs − window, atMs]` and how many runs it counted; nil
    /// when they are too few (insufficient data).
    package static func value(_ rule: ThresholdRule, runs: ArraySlice<Run>, at atMs: Int64) -> (Double, Int)? {
        let from = atMs - rule.windowMs
        // The ring is in time order: the window is its tail.
        var low = runs.startIndex
        var high = runs.endIndex
        while low < high {
            let mid = (low + high) / 2
            if runs[mid].timeMs > from { high = mid } else { low = mid + 1 }
        }
        let inWindow = runs[low...].prefix { $0.timeMs <= atMs }
        switch rule.metric {
        case .errorRate, .failures:
            guard inWindow.count >= ThresholdRule.minimumRuns else { return nil }
            let failed = Double(inWindow.count(where: { !$0.ok }))
            if rule.metric == .errorRate { return (failed / Double(inWindow.count) * 100, inWindow.count) }
            if let per = rule.perMs { return (failed * Double(per) / Double(rule.windowMs), inWindow.count) }
            return (failed, inWindow.count)
        case .p50, .p95, .p99, .mean, .ttfbP95:
            let passed = inWindow.filter(\.ok).map { rule.metric == .ttfbP95 ? $0.ttfbMs : $0.durationMs }
            guard passed.count >= ThresholdRule.minimumRuns else { return nil }
            if let q = rule.metric.quantile {
                guard let v = Percentile.nearestRank(q, sorted: passed.sorted()) else { return nil }
                return (v, passed.count)
            }
            return (passed.reduce(0, +) / Double(passed.count), passed.count)
        }
    }

    /// Adds a run in time order and drops what no window reaches any more.
    private mutating func insert(_ run: Run) {
        if let last = ring.last, last.timeMs > run.timeMs {
            let index = ring[head...].firstIndex { $0.timeMs > run.timeMs } ?? ring.endIndex
            ring.insert(run, at: index)
        } else {
            ring.append(run)
        }
        let newest = ring.last?.timeMs ?? run.timeMs
        let from = newest - longestWindowMs
        while head < ring.count, ring[head].timeMs <= from || ring.count - head > Self.capacity { head += 1 }
        if head > 64, head * 2 > ring.count {
            ring.removeFirst(head)
            head = 0
        }
    }
}
