import SondeProbe
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// The incident state machine of one check at one location (README.md, "Incidents and webhooks"),
/// fed its runs in time order. The same code runs live in `sonde run` and offline in
/// `sonde incidents`, so both find the same incidents with the same times.
package struct IncidentDetector: Sendable {
    /// What a run changed.
    package enum Transition: Sendable, Equatable {
        case opened(Incident)
        case resolved(Incident)
        case flappingStarted(timeMs: Int64, percent: Double)
        case flappingEnded(timeMs: Int64, percent: Double)
        case burnAlertStarted(timeMs: Int64, level: AlertState.Level, rules: [String])
        case burnAlertEnded(timeMs: Int64)
        /// A maintenance window began while `incident` was open (noted in its timeline).
        case maintenanceStarted(timeMs: Int64, window: String, incident: String)
    }

    /// Flapping thresholds on the weighted share of state changes over the last 21 runs (Nagios
    /// style, with hysteresis): starts above 20%, ends below 5%.
    static let flapHigh = 20.0
    /// Flapping ends below this weighted share of state changes, percent.
    static let flapLow = 5.0
    static let flapWindow = 21
    /// Rows of alternating success and failure beyond this many are collapsed into one.
    static let collapseAfter = 3
    /// Samples an incident keeps for its write-up; past this, every other one is dropped and only
    /// every 2nd (then 4th, …) run is kept, so a days-long outage stays a few hundred kilobytes.
    static let sampleLimit = 4_096
    /// Samples kept for "latency before": the last this many runs of the 30 minutes before.
    static let beforeLimit = 120

    package let check: String
    package let location: String
    package var downAfter: Int
    package var upAfter: Int
    package private(set) var policy: SLOPolicy
    /// Whether incidents keep latency samples and their exact peak 1-hour burn rate (`sonde
    /// incidents`: yes; the live daemon, which only needs the times and counts, no: memory stays
    /// flat however long an outage lasts).
    let keepsSamples: Bool

    /// The open incident, if any (detected, not yet resolved).
    package private(set) var open: Incident?
    /// Whether the check is flapping now.
    package private(set) var flapping = false
    /// The burn-rate alert level now (`page`, `ticket`, or `ok`).
    private(set) var burnLevel: AlertState.Level = .ok
    /// The rules that fired when the burn-rate alert started (with their rates).
    private var burnRules: [String] = []

    private var failures: [RunRecord] = []  // consecutive failures while no incident is open
    private var goodStreak = 0
    private var goodStreakStart: Int64?
    private var lastKind: String?
    private var lastOK = true
    /// The last `flapWindow` results, newest in bit 0 (1 = passed), and how many are known.
    private var resultBits: UInt32 = 0
    private var resultCount: UInt8 = 0
    private var before: [Sample] = []
    /// The detector's own burn counts; nil once it reads a ring it shares with the SLO tracker
    /// (`dropOwnCounts`, `observe(_:countedIn:)`), so the live daemon keeps one set per check.
    private var burn: BurnCounter?
    private var lastBurnMinute: Int64 = .min
    private var usedIDs: Set<String> = []
    /// The maintenance window of the latest run, if it was in one.
    private var maintenanceWindow: String?
    /// Runs seen since the open incident started, and the sampling stride (a power of two).
    private var runIndex = 0
    private var sampleStride = 1
    /// The runs of the last hour (only with `keepsSamples`): the exact 1-hour burn rate at every run.
    private var lastHour = SlidingWindow(lengthMs: BurnWindow.h1.milliseconds)
    /// Highest exact 1-hour burn rate since the first of the consecutive failures not yet an
    /// incident, and over the good streak that may resolve the open one (not part of it if it does).
    private var pendingPeak: Double?
    private var streakPeak: Double?

    package init(
        check: String, location: String, policy: SLOPolicy, downAfter: Int, upAfter: Int, startMs: Int64 = 0,
        keepsSamples: Bool = true
    ) {
        self.check = check
        self.location = location
        self.policy = policy
        self.downAfter = max(1, downAfter)
        self.upAfter = max(1, upAfter)
        self.keepsSamples = keepsSamples
        burn = BurnCounter(policy: policy, nowMs: startMs)
    }

    /// Whether the detector keeps burn counts of its own.
    package var hasOwnCounts: Bool { burn != nil }

    /// Frees the detector's own burn counts (the live daemon, after the start-up replay): from
    /// then on it is fed with `observe(_:countedIn:)`. A later plain `observe` starts new counts.
    package mutating func dropOwnCounts() {
        burn = nil
    }

    package init(
        check: String, location: String, settings: MonitorSettings, startMs: Int64 = 0, keepsSamples: Bool = true
    ) {
        self.init(
            check: check, location: location, policy: SLOPolicy(settings: settings),
            downAfter: settings.downAfter, upAfter: settings.upAfter, startMs: startMs, keepsSamples: keepsSamples)
    }

    /// Applies changed directives (a reload); the state is kept.
    package mutating func update(settings: MonitorSettings) {
        downAfter = max(1, settings.downAfter)
        upAfter = max(1, settings.upAfter)
        policy = SLOPolicy(settings: settings)
        if let own = burn, !own.hasLayout(of: policy) {
            burn = BurnCounter(resizing: own, to: policy)
        } else {
            burn?.policy = policy
        }
    }

    /// Feeds one run, counting it in the detector's own burn counts; returns what it changed.
    package mutating func observe(_ run: RunRecord) -> [Transition] {
        if let window = run.maintenance { return maintenance(run, window: window) }
        maintenanceWindow = nil
        var counts = burn ?? BurnCounter(policy: policy, nowMs: run.time)
        burn = nil  // the only reference while it is written: no copy of the rings
        counts.add(timeMs: run.time, ok: run.ok)
        burn = counts
        return step(run, ring: counts)
    }

    /// Feeds one run that `ring` has already counted (the rings the live daemon shares between the
    /// SLO tracker and this detector); the detector reads its burn rates from `ring` as of the run's
    /// start and does not keep it, and frees its own counts if it had any. Returns what the run
    /// changed: the same as `observe(_:)` when `ring` holds the runs the detector's own counts
    /// would. Without a ring (the tracker has not seeded the check yet) burn rates are not read:
    /// the burn-rate alert stays as it was and is decided at the first run that has one.
    package mutating func observe(_ run: RunRecord, countedIn ring: BurnCounter?) -> [Transition] {
        if let window = run.maintenance { return maintenance(run, window: window) }
        maintenanceWindow = nil
        burn = nil
        return step(run, ring: ring)
    }

    /// A run in a maintenance window: it changes nothing (no streak, no incident, no burn count),
    /// but the first run of a window notes it in the open incident's timeline.
    private mutating func maintenance(_ run: RunRecord, window: String) -> [Transition] {
        guard window != maintenanceWindow else { return [] }
        maintenanceWindow = window
        guard let id = open?.id else { return [] }
        open?.timeline.append(
            TimelineEntry(
                timeMs: run.time, event: .maintenance,
                evidence: "maintenance window \(window) began; runs until it ends are left out"))
        return [.maintenanceStarted(timeMs: run.time, window: window, incident: id)]
    }

    private mutating func step(_ run: RunRecord, ring: BurnCounter?) -> [Transition] {
        var out: [Transition] = []
        let sample = Sample(run)
        var hourRate: Double?
        if keepsSamples {
            lastHour.add(timeMs: run.time, ok: run.ok)
            hourRate = lastHour.burnRate(budget: policy.budget, minimumRuns: BurnWindow.h1.minimumRuns)
        }

        if var incident = open {
            incident.runs += 1
            incident.lastRunMs = run.time
            addSample(sample, to: &incident)
            if run.ok {
                streakPeak = Self.higher(streakPeak, hourRate)
                if goodStreak == 0 {
                    goodStreakStart = run.time
                    incident.addRow(
                        TimelineEntry(
                            timeMs: run.time, event: .succeeded,
                            evidence: Self.evidence(run)), collapseAfter: Self.collapseAfter)
                }
                goodStreak += 1
                if goodStreak >= upAfter, let resolvedAt = goodStreakStart {
                    incident.resolvedMs = resolvedAt
                    incident.samples.removeAll { $0.timeMs >= resolvedAt }
                    incident.runs -= goodStreak  // the closing streak starts at the resolution
                    incident.budgetShare = budgetShare(incident)
                    incident.allowedFailures = ErrorBudget(policy: policy).allowedFailures
                    streakPeak = nil  // the closing streak is not part of the incident
                    incident.timeline.append(
                        TimelineEntry(
                            timeMs: resolvedAt, event: .resolved,
                            evidence: "\(upAfter) consecutive good run\(upAfter == 1 ? "" : "s") (@up-after \(upAfter))"
                        ))
                    open = nil
                    goodStreak = 0
                    goodStreakStart = nil
                    before = []
                    out.append(.resolved(incident))
                } else {
                    open = incident
                }
            } else {
                if goodStreak > 0 {
                    incident.addRow(
                        TimelineEntry(timeMs: run.time, event: .failedAgain, evidence: Self.evidence(run)),
                        collapseAfter: Self.collapseAfter)
                }
                goodStreak = 0
                goodStreakStart = nil
                // The good runs were part of the incident after all.
                incident.peakBurnRate = Self.higher(Self.higher(incident.peakBurnRate, streakPeak), hourRate)
                streakPeak = nil
                record(failure: run, in: &incident)
                open = incident
            }
        } else if run.ok {
            pendingPeak = nil
            if keepsSamples {
                // Failures too few to open an incident are part of what came before one.
                before += failures.map(Sample.init)
                before.append(sample)
                // Trimmed in batches: amortised O(1) per run.
                if before.count >= 2 * Self.beforeLimit { before.removeFirst(before.count - Self.beforeLimit) }
            }
            failures.removeAll()
        } else {
            failures.append(run)
            pendingPeak = Self.higher(pendingPeak, hourRate)
            if failures.count >= downAfter, let first = failures.first {
                var id = Incident.makeID(check: check, startedMs: first.time)
                var n = 2
                while usedIDs.contains(id) {
                    id = Incident.makeID(check: check, startedMs: first.time) + "-\(n)"
                    n += 1
                }
                usedIDs.insert(id)
                var incident = Incident(
                    id: id, check: check, location: location, startedMs: first.time,
                    detectedMs: run.time, downAfter: downAfter, upAfter: upAfter)
                incident.before = Array(
                    before.filter { $0.timeMs >= first.time - 30 * 60_000 }.suffix(Self.beforeLimit))
                before = []
                lastKind = nil
                runIndex = 0
                sampleStride = 1
                for failure in failures {
                    incident.runs += 1
                    incident.lastRunMs = failure.time
                    addSample(Sample(failure), to: &incident)
                    record(failure: failure, in: &incident)
                }
                incident.timeline.append(
                    TimelineEntry(
                        timeMs: run.time, event: .detected,
                        evidence:
                            "\(downAfter) consecutive failed run\(downAfter == 1 ? "" : "s") (@down-after \(downAfter))"
                    ))
                if burnLevel == .page || burnLevel == .ticket {
                    incident.timeline.append(
                        TimelineEntry(
                            timeMs: run.time, event: .burnAlertStarted,
                            evidence: "\(burnLevel.rawValue) already firing: " + burnRules.joined(separator: "; ")))
                }
                incident.peakBurnRate = pendingPeak
                pendingPeak = nil
                streakPeak = nil
                failures.removeAll()
                goodStreak = 0
                open = incident
                out.append(.opened(incident))
            }
        }

        out += observeFlapping(run)
        out += observeBurn(run, ring: ring)
        lastOK = run.ok
        return out
    }

    /// Continues an incident opened before a restart (from `incidents.jsonl`): the next runs resolve
    /// it as usual.
    package mutating func resume(_ incident: Incident) {
        open = incident
        failures.removeAll()
        goodStreak = 0
        goodStreakStart = nil
        lastKind = incident.mainKind
        usedIDs.insert(incident.id)
        runIndex = incident.runs
        sampleStride = 1
    }

    /// Adds an "alert sent" row to the open incident (live, when a webhook went out).
    package mutating func noteAlertSent(timeMs: Int64, evidence: String) {
        guard var incident = open else { return }
        incident.timeline.append(TimelineEntry(timeMs: timeMs, event: .alertSent, evidence: evidence))
        open = incident
    }

    /// The open incident with its budget share brought up to date (for an "ongoing" write-up).
    package func ongoing() -> Incident? {
        guard var incident = open else { return nil }
        incident.budgetShare = budgetShare(incident)
        incident.allowedFailures = ErrorBudget(policy: policy).allowedFailures
        incident.peakBurnRate = Self.higher(incident.peakBurnRate, streakPeak)  // still part of it
        return incident
    }

    private mutating func record(failure run: RunRecord, in incident: inout Incident) {
        incident.failedRuns += 1
        let kind = run.error?.kind ?? "internal"
        let message = run.error?.message ?? ""
        incident.patterns.add(message, kind: kind, timeMs: run.time)
        if var summary = incident.kinds[kind] {
            summary.count += 1
            summary.latestMessage = message
            incident.kinds[kind] = summary
        } else {
            incident.kinds[kind] = KindSummary(
                count: 1, firstMs: run.time, firstMessage: message, latestMessage: message)
        }
        if lastKind == nil {
            incident.timeline.append(
                TimelineEntry(timeMs: run.time, event: .firstFailure, evidence: Self.evidence(run)))
        } else if lastKind != kind {
            incident.timeline.append(TimelineEntry(timeMs: run.time, event: .kindChanged, evidence: Self.evidence(run)))
        }
        lastKind = kind
    }

    /// Keeps every `sampleStride`-th run of the open incident; at the limit, halves the samples and
    /// doubles the stride.
    private mutating func addSample(_ sample: Sample, to incident: inout Incident) {
        defer { runIndex += 1 }
        guard keepsSamples, runIndex % sampleStride == 0 else { return }
        incident.samples.append(sample)
        if incident.samples.count > Self.sampleLimit {
            incident.samples = incident.samples.enumerated().compactMap { $0.offset % 2 == 0 ? $0.element : nil }
            sampleStride *= 2
        }
    }

    private mutating func observeFlapping(_ run: RunRecord) -> [Transition] {
        resultBits = (resultBits << 1 | (run.ok ? 1 : 0)) & (1 << Self.flapWindow - 1)
        resultCount = min(UInt8(Self.flapWindow), resultCount + 1)
        guard resultCount == Self.flapWindow else { return [] }
        let percent = Self.flapPercent(bits: resultBits, count: Self.flapWindow)
        if !flapping, percent > Self.flapHigh {
            flapping = true
            if var incident = open {
                incident.addRow(
                    TimelineEntry(
                        timeMs: run.time, event: .flapping,
                        evidence: String(format: "%.0f%% of the last 21 runs changed state", percent)),
                    collapseAfter: .max)
                open = incident
            }
            return [.flappingStarted(timeMs: run.time, percent: percent)]
        }
        if flapping, percent < Self.flapLow {
            flapping = false
            return [.flappingEnded(timeMs: run.time, percent: percent)]
        }
        return []
    }

    /// Nagios' weighted share of state changes: the 20 transitions between 21 results, the oldest
    /// weighted 0.8 and the newest 1.2, in percent (of at most 64 results, oldest first).
    static func flapPercent(_ results: [Bool]) -> Double {
        let bits = results.reduce(UInt64(0)) { $0 << 1 | ($1 ? 1 : 0) }
        return flapPercent(bits: bits, count: results.count)
    }

    /// `flapPercent` of the `count` results in the low bits of `bits`, the newest in bit 0.
    static func flapPercent<Bits: FixedWidthInteger>(bits: Bits, count: Int) -> Double {
        guard count >= 2 else { return 0 }
        let transitions = count - 1
        var total = 0.0
        // Result i (oldest 0) is bit count − 1 − i; transition i is between results i − 1 and i.
        for i in 1..<count where (bits >> (count - i)) & 1 != (bits >> (count - 1 - i)) & 1 {
            let weight = 0.8 + 0.4 * Double(i - 1) / Double(max(1, transitions - 1))
            total += weight
        }
        return total / Double(transitions) * 100
    }

    private mutating func observeBurn(_ run: RunRecord, ring: BurnCounter?) -> [Transition] {
        let minute = run.time / 60_000
        guard minute != lastBurnMinute, let ring else { return [] }
        lastBurnMinute = minute
        let rates = ring.burnRates(atMs: run.time)
        let state = AlertState.evaluate(rates)
        let level: AlertState.Level = state.level == .insufficientData ? .ok : state.level
        guard level != burnLevel else { return [] }
        let previous = burnLevel
        burnLevel = level
        if level == .ok {
            if var incident = open {
                incident.timeline.append(
                    TimelineEntry(
                        timeMs: run.time, event: .burnAlertEnded,
                        evidence: "no rule fires any more (was \(previous.rawValue))"))
                open = incident
            }
            return [.burnAlertEnded(timeMs: run.time)]
        }
        // The rules that fired at the alert's level, with the burn rates that made them fire.
        let rules = state.firing.filter { $0.severity.rawValue == level.rawValue }.map { $0.evidence(rates) }
        burnRules = rules
        if var incident = open {
            incident.timeline.append(
                TimelineEntry(
                    timeMs: run.time, event: .burnAlertStarted,
                    evidence: rules.joined(separator: "; ")))
            open = incident
        }
        return [.burnAlertStarted(timeMs: run.time, level: level, rules: rules)]
    }

    /// The incident's failed runs ÷ the failures the objective allows over its window at one
    /// location (`ErrorBudget`, from the schedule).
    private func budgetShare(_ incident: Incident) -> Double? {
        ErrorBudget(policy: policy).share(failed: Int64(incident.failedRuns))
    }

    private static func higher(_ a: Double?, _ b: Double?) -> Double? {
        guard let a else { return b }
        guard let b else { return a }
        return Swift.max(a, b)
    }

    static func evidence(_ run: RunRecord) -> String {
        if let error = run.error {
            let status = run.steps.last.map { " (HTTP \($0.status))" } ?? ""
            return "\(error.kind)\(status): \(error.message)"
        }
        let requests = run.steps.count
        return "\(requests) request\(requests == 1 ? "" : "s") passed in \(DurationText.latency(run.durationMs))"
    }
}

extension Incident {
    /// Appends a success or failed-again row, collapsing long alternations into one row.
    mutating func addRow(_ entry: TimelineEntry, collapseAfter: Int) {
        let alternating: Set<TimelineEntry.Event> = [.succeeded, .failedAgain]
        guard alternating.contains(entry.event) else {
            timeline.append(entry)
            return
        }
        // Count the alternating rows at the end of the timeline.
        var tail = 0
        for row in timeline.reversed() {
            guard alternating.contains(row.event) || row.event == .flapping else { break }
            tail += 1
        }
        if tail >= collapseAfter, let last = timeline.last, last.event == .flapping,
            last.untilMs != nil || last.count > 1
        {
            timeline[timeline.count - 1].count += 1
            timeline[timeline.count - 1].untilMs = entry.timeMs
            return
        }
        if tail >= collapseAfter {
            timeline.append(
                TimelineEntry(
                    timeMs: entry.timeMs, event: .flapping,
                    evidence: "alternating success and failure", count: 1, untilMs: entry.timeMs))
            return
        }
        timeline.append(entry)
    }
}
