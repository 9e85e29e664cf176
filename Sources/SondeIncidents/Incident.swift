import SondeProbe
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// One outage of one check at one location, as detected from its runs (README.md, "Incidents and
/// webhooks"): started at the first failed run, detected at the `@down-after`-th, resolved at the
/// first good run of the `@up-after` streak that closed it.
package struct Incident: Sendable, Equatable {
    /// `2026-11-23T0910Z-api`: the start minute and the check (also the write-up's file name).
    package var id: String
    package var check: String
    package var location: String
    package var startedMs: Int64
    package var detectedMs: Int64
    /// Nil while ongoing.
    package var resolvedMs: Int64?
    /// Runs from the first failure up to (not including) the resolving streak's first good run.
    package var runs: Int = 0
    package var failedRuns: Int = 0
    /// Failed runs per error kind, with the first and the latest message of each.
    package var kinds: [String: KindSummary] = [:]
    /// The failed runs' messages with numbers and ids masked, counted (`ErrorPatterns`).
    package var patterns = ErrorPatterns()
    package var timeline: [TimelineEntry] = []
    /// Runs from the first failure to the resolution (for latency during and the chart): every run up
    /// to `IncidentDetector.sampleLimit`, then an even thinning of them (every 2nd, 4th, … run).
    /// Empty in the live daemon, which writes no write-ups.
    package var samples: [Sample] = []
    /// Up to the last 120 runs in the 30 minutes before the first failure, failed ones included
    /// (for latency before and the findings' leading signals).
    package var before: [Sample] = []
    /// The latest run seen while the incident was open.
    package var lastRunMs: Int64?
    /// Highest 1-hour burn rate over `(t − 1h, t]` at the start `t` of every run of the incident
    /// (exact, from the runs; nil while the hour holds under 10 runs, and in the live daemon).
    package var peakBurnRate: Double?
    /// Failed runs of the incident ÷ the failures the objective allows over its window, at resolution
    /// (or now while ongoing).
    package var budgetShare: Double?
    /// The failures the objective allows over its window at one location (`ErrorBudget`): what
    /// `budgetShare` divides by.
    package var allowedFailures: Double?
    /// The check's `@down-after` / `@up-after` when it was detected.
    package var downAfter: Int
    package var upAfter: Int

    package var isResolved: Bool { resolvedMs != nil }

    /// Resolution minus start; while ongoing, the latest run minus start (the prober may have
    /// stopped: time without runs is not counted as down).
    package func durationMs(nowMs: Int64) -> Int64 {
        if let resolvedMs { return resolvedMs - startedMs }
        return min(nowMs, lastRunMs ?? detectedMs) - startedMs
    }

    /// Resolution minus start, for resolved incidents (what MTTR averages).
    package var resolvedDurationMs: Int64? { resolvedMs.map { $0 - startedMs } }

    /// Detection minus start.
    package var timeToDetectMs: Int64 { detectedMs - startedMs }

    /// The most frequent error kind (ties: the earliest seen).
    package var mainKind: String? {
        kinds.max { a, b in (a.value.count, b.value.firstMs) < (b.value.count, a.value.firstMs) }?.key
    }

    package init(
        id: String, check: String, location: String, startedMs: Int64, detectedMs: Int64, downAfter: Int,
        upAfter: Int
    ) {
        self.id = id
        self.check = check
        self.location = location
        self.startedMs = startedMs
        self.detectedMs = detectedMs
        self.downAfter = downAfter
        self.upAfter = upAfter
    }

    /// `YYYY-MM-DDTHHMMZ-<check>`.
    static func makeID(check: String, startedMs: Int64) -> String {
        let stamp = UTCTime.rfc3339Seconds(startedMs)  // 2026-11-23T09:10:00Z
        let compact = String(stamp.prefix(13)) + String(stamp.dropFirst(14).prefix(2))  // 2026-11-23T0910
        return compact + "Z-" + check
    }
}

/// Counts and messages of one error kind in an incident.
package struct KindSummary: Sendable, Equatable {
    package var count: Int
    package var firstMs: Int64
    package var firstMessage: String
    package var latestMessage: String

    /// A summary of `count` failures of one kind, the first at `firstMs`.
    package init(count: Int, firstMs: Int64, firstMessage: String, latestMessage: String) {
        self.count = count
        self.firstMs = firstMs
        self.firstMessage = firstMessage
        self.latestMessage = latestMessage
    }
}

/// One row of an incident's timeline.
package struct TimelineEntry: Sendable, Equatable {
    package enum Event: String, Sendable {
        case firstFailure = "first failure"
        case kindChanged = "error changed"
        case detected = "detected"
        case alertSent = "alert sent"
        case burnAlertStarted = "burn-rate alert"
        case burnAlertEnded = "burn-rate alert ended"
        case succeeded = "run succeeded"
        case failedAgain = "failed again"
        case flapping = "flapping"
        case thresholdStarted = "threshold alert"
        case thresholdEnded = "threshold alert ended"
        case maintenance = "maintenance"
        case certExpiring = "certificate expiring"
        case certRenewed = "certificate renewed"
        case resolved = "resolved"
    }

    package var timeMs: Int64
    package var event: Event
    package var evidence: String
    /// For collapsed rows: how many alternations the row stands for, and until when.
    package var count: Int = 1
    package var untilMs: Int64?
}

/// What one run contributes to latency figures and the chart.
package struct Sample: Sendable, Equatable {
    package var timeMs: Int64
    package var ms: Double
    package var ttfb: Double
    package var ok: Bool
    package var kind: String?
    /// HTTP status of the run's last response (0 without one).
    package var status: Int = 0
    /// The request (1-based) that took the longest, and its time, ms (0 without requests).
    package var slowestStep: Int = 0
    package var slowestStepMs: Double = 0
    /// Requests the run made.
    package var requests: Int = 0

    /// The sample of `run`: its start, duration, summed server time, outcome, error kind, last
    /// status and slowest request.
    package init(_ run: RunRecord) {
        timeMs = run.time
        ms = run.durationMs
        ttfb = run.steps.reduce(0) { $0 + $1.timings.ttfb }
        ok = run.ok
        kind = run.error?.kind
        status = run.steps.last?.status ?? 0
        requests = run.steps.count
        for (index, step) in run.steps.enumerated() where step.timings.total > slowestStepMs || slowestStep == 0 {
            slowestStep = index + 1
            slowestStepMs = step.timings.total
        }
    }

    /// A sample from its figures (tests and generated series).
    package init(timeMs: Int64, ms: Double, ttfb: Double = 0, ok: Bool = true, kind: String? = nil, status: Int = 200) {
        self.timeMs = timeMs
        self.ms = ms
        self.ttfb = ttfb
        self.ok = ok
        self.kind = kind
        self.status = status
    }
}
