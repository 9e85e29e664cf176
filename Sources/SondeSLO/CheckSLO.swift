import SondeProbe
import SondeScript
import SondeStore
import SondeSupport

/// Every SLO figure of one check at one moment: what `sonde report` prints and `--json` exports.
package struct CheckSLO: Sendable {
    /// Up, down, or no data, by the latest run.
    package enum State: String, Sendable {
        case up, down
        case noData = "no data"
    }

    /// Counts over one named window (`24h`, `7d`, `30d`...).
    package struct Window: Sendable {
        package var label: String
        package var counts: WindowCounts
        package var coverage: Double
    }

    /// One location's windows, when a check has runs from several.
    package struct Location: Sendable {
        package var name: String
        package var windows: [Window]
    }

    package var check: String
    package var policy: SLOPolicy
    package var nowMs: Int64
    package var state: State
    /// The report windows, shortest first (24h, 7d, 30d and the objective's window when it differs).
    package var windows: [Window]
    /// The objective's window (`@slo 99.9% 30d` → 30 days).
    package var objectiveWindow: Window
    /// Burn-rate counts and rates per window (no rate = insufficient data).
    package var burnCounts: [BurnWindow: WindowCounts]
    package var burnRates: [BurnWindow: Double]
    package var alert: AlertState
    /// The failures the objective allows over its window, from the schedule (`ErrorBudget`).
    package var budget: ErrorBudget
    /// Share of the error budget left over the objective's window: 1 − failed ÷ allowed failures;
    /// nil without runs.
    package var budgetRemaining: Double?
    /// At the 1-hour burn rate; nil when nothing burns or the 1-hour window lacks runs.
    package var timeToExhaustionMs: Double?
    /// Exact nearest-rank percentiles of run durations over the last 24 hours (ms).
    package var p50: Double?
    package var p95: Double?
    package var p99: Double?
    package var latest: RunRecord?
    /// Per UTC day, oldest first (the last 90 days).
    package var daily: [(day: Int64, counts: WindowCounts)]
    /// p95 run duration per hour over the last 7 days, oldest first (histogram estimate).
    package var hourlyP95: [Double?]
    /// The latest message of each error kind seen in the objective's window.
    package var latestMessages: [String: String]
    package var certDays: Double?
    /// Per-location windows, when there are several locations.
    package var locations: [Location]
    /// The fleet's figures on time slots under the location quorum, when the report reads several
    /// locations (README.md, "sonde report", Locations).
    package var fleet: FleetSLO?
    package var stats: ReadStats
    /// Runs stamped after `now`, ignored.
    package var futureRuns: Int
}

/// Computes `CheckSLO` figures from the data folders.
package enum SLOEvaluator {
    /// The report's windows. A window of length W ending at `now` holds the runs started in
    /// `(now − W, now]`.
    static let reportWindows: [(label: String, ms: Int64)] = [
        ("24h", UTCTime.msPerDay), ("7d", 7 * UTCTime.msPerDay), ("30d", 30 * UTCTime.msPerDay),
    ]
    /// Days in the daily uptime strip.
    package static let stripDays = 90

    /// The figures of `check` at `nowMs`. With `quorum` (a report over several locations) the fleet's
    /// figures are computed on time slots as well.
    package static func evaluate(
        check: String, readers: [RunReader], policy: SLOPolicy, nowMs: Int64, quorum: LocationQuorum? = nil
    ) -> CheckSLO {
        var windowSpecs = reportWindows
        if !windowSpecs.contains(where: { $0.ms == policy.windowMs }) {
            windowSpecs.append((DurationText.setting(.milliseconds(policy.windowMs)), policy.windowMs))
            windowSpecs.sort { $0.ms < $1.ms }
        }
        let todayStart = UTCTime.dayStart(nowMs)
        let stripStart = todayStart - Int64(stripDays - 1) * UTCTime.msPerDay
        let longest = windowSpecs.map(\.ms).max() ?? policy.windowMs
        let hoursFrom = min(stripStart, nowMs - longest)
        let rawFrom = nowMs - UTCTime.msPerDay
        let edges = windowSpecs.map { nowMs - $0.ms } + BurnWindow.allCases.map { nowMs - $0.milliseconds }
        let history = CheckHistory(
            check: check, readers: readers, nowMs: nowMs, hoursFromMs: hoursFrom,
            rawFromMs: rawFrom, edgesMs: edges, fastMs: policy.latencyThresholdMs)

        func window(_ label: String, _ ms: Int64, location: String? = nil) -> CheckSLO.Window {
            let counts = history.counts(fromMs: nowMs - ms + 1, toMs: nowMs + 1, location: location)
            return CheckSLO.Window(
                label: label, counts: counts, coverage: counts.coverage(intervalMs: policy.intervalMs))
        }
        let windows = windowSpecs.map { window($0.label, $0.ms) }
        let objectiveWindow =
            windows.first { $0.counts.spanMs == policy.windowMs }
            ?? window(DurationText.setting(.milliseconds(policy.windowMs)), policy.windowMs)

        var burnCounts: [BurnWindow: WindowCounts] = [:]
        var burnRates: [BurnWindow: Double] = [:]
        for burn in BurnWindow.allCases {
            let counts = history.counts(fromMs: nowMs - burn.milliseconds + 1, toMs: nowMs + 1)
            burnCounts[burn] = counts
            burnRates[burn] = counts.burnRate(budget: policy.budget, minimumRuns: burn.minimumRuns)
        }
        let alert = AlertState.evaluate(burnRates)
        // The allowance comes from the schedule; with several locations each runs it, and their
        // runs pool in these figures.
        let ranInWindow =
            history.locations.count < 2
            ? 1
            : history.locations.filter {
                history.counts(fromMs: nowMs - policy.windowMs + 1, toMs: nowMs + 1, location: $0).runs > 0
            }.count
        let budget = ErrorBudget(policy: policy, locations: ranInWindow)
        let remaining = objectiveWindow.counts.runs > 0 ? budget.remaining(failed: objectiveWindow.counts.bad) : nil
        var exhaustion: Double?
        if let remaining, let rate = burnRates[.h1] {
            exhaustion = ErrorBudget.timeToExhaustionMs(remaining: remaining, windowMs: policy.windowMs, burnRate: rate)
        }

        let recent = history.rawRuns(fromMs: nowMs - UTCTime.msPerDay + 1, toMs: nowMs + 1)
        let durations = recent.map(\.durationMs).sorted()

        var latest = history.latestRun
        if latest == nil {
            var ignored = ReadStats()
            for reader in readers {
                if let run = reader.lastRun(check: check, stats: &ignored), run.time <= nowMs,
                    latest.map({ run.time > $0.time }) ?? true
                {
                    latest = run
                }
            }
        }
        var state = CheckSLO.State.noData
        if let latest {
            let staleAfter = max(3 * policy.intervalMs, 60_000)
            if nowMs - latest.time <= staleAfter { state = latest.ok ? .up : .down }
        }

        var daily: [(day: Int64, counts: WindowCounts)] = []
        var day = stripStart
        while day <= todayStart {
            daily.append((day, history.counts(fromMs: day, toMs: min(day + UTCTime.msPerDay, nowMs + 1))))
            day += UTCTime.msPerDay
        }
        var hourly: [Double?] = []
        var hour = UTCTime.hourStart(nowMs) - 167 * UTCTime.msPerHour
        while hour <= nowMs {
            hourly.append(
                history.counts(fromMs: hour, toMs: min(hour + UTCTime.msPerHour, nowMs + 1)).histogram.quantile(0.95))
            hour += UTCTime.msPerHour
        }

        let kinds = Set(objectiveWindow.counts.errors.keys)
        let messages = latestMessages(
            check: check, kinds: kinds, history: history, readers: readers,
            fromMs: nowMs - policy.windowMs, nowMs: nowMs)

        var locations: [CheckSLO.Location] = []
        var fleet: FleetSLO?
        if history.locations.count > 1 {
            for name in history.locations {
                locations.append(
                    CheckSLO.Location(name: name, windows: windowSpecs.map { window($0.label, $0.ms, location: name) }))
            }
        }
        if let quorum, history.locations.count > 1 || quorum.locations > 1 {
            let grid = SlotGrid(check: check, intervalMs: policy.intervalMs)
            let fromMs = nowMs - max(longest, BurnWindow.d3.milliseconds) + 1
            let slots = QuorumSlots(
                grid: grid, quorum: quorum, marks: QuorumSlots.marks(history, grid: grid, fromMs: fromMs))
            fleet = FleetSLO.evaluate(slots, policy: policy, windowSpecs: windowSpecs, nowMs: nowMs)
        }
        if let latest = fleet?.latest {
            let staleAfter = max(3 * policy.intervalMs, 60_000)
            state = nowMs - latest.startMs <= staleAfter ? (latest.down ? .down : .up) : .noData
        }

        return CheckSLO(
            check: check, policy: policy, nowMs: nowMs, state: state, windows: windows,
            objectiveWindow: objectiveWindow,
            burnCounts: burnCounts, burnRates: burnRates, alert: alert, budget: budget, budgetRemaining: remaining,
            timeToExhaustionMs: exhaustion,
            p50: Percentile.nearestRank(0.50, sorted: durations), p95: Percentile.nearestRank(0.95, sorted: durations),
            p99: Percentile.nearestRank(0.99, sorted: durations),
            latest: latest, daily: daily, hourlyP95: hourly, latestMessages: messages,
            certDays: recent.last(where: { $0.certDays != nil })?.certDays ?? latest?.certDays,
            locations: locations, fleet: fleet, stats: history.stats, futureRuns: history.future)
    }

    /// The newest message of each kind: recent raw runs first, then older day files, newest first.
    static func latestMessages(
        check: String, kinds: Set<String>, history: CheckHistory, readers: [RunReader],
        fromMs: Int64, nowMs: Int64
    ) -> [String: String] {
        var found: [String: (time: Int64, message: String)] = [:]
        for record in history.runs.reversed() {
            guard let error = record.error, kinds.contains(error.kind), found[error.kind] == nil else { continue }
            found[error.kind] = (record.time, error.message)
        }
        var wanted = kinds.subtracting(found.keys)
        guard !wanted.isEmpty else { return found.mapValues(\.message) }
        // The hour lines say in which hour each kind last happened, and lines written by sonde
        // carry that hour's latest message of each kind; raw runs are read only for hours whose
        // line has none (older lines, other writers).
        var latestHour: [String: Int64] = [:]
        for (hour, byLocation) in history.hours where hour >= UTCTime.hourStart(fromMs) {
            for rollup in byLocation.values {
                for kind in wanted where (rollup.errors[kind] ?? 0) > 0 {
                    latestHour[kind] = max(latestHour[kind] ?? .min, hour)
                }
            }
        }
        for (kind, hour) in latestHour {
            // Several locations in that hour: the one whose message is known to be latest, else
            // the last location by name.
            let rollups = (history.hours[hour] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
            var best: LatestMessage?
            for rollup in rollups {
                guard let message = rollup.messages[kind] else { continue }
                if best.map({ message.isNewer(than: $0) || $0.timeMs == nil }) ?? true { best = message }
            }
            if let best {
                found[kind] = (hour, best.text)
                wanted.remove(kind)
                latestHour[kind] = nil
            }
        }
        guard !wanted.isEmpty else { return found.mapValues(\.message) }
        let hours = Set(latestHour.values)
        for reader in readers {
            for file in reader.folder.runFiles(check: check)
            where hours.contains(where: { $0 >= file.day && $0 < file.day + UTCTime.msPerDay }) {
                var ignored = ReadStats()
                let inHours: (Int64) -> Bool = { hours.contains(UTCTime.hourStart($0)) }
                RunReader.decodeLines(file.path, RunLine.decode, stats: &ignored, wanted: inHours) { record in
                    guard let error = record.error, wanted.contains(error.kind), record.time >= fromMs,
                        record.time <= nowMs,
                        record.time >= (found[error.kind]?.time ?? .min)
                    else { return }
                    found[error.kind] = (record.time, error.message)
                }
            }
        }
        return found.mapValues(\.message)
    }
}
