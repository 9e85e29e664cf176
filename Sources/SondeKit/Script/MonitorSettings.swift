/// Monitor settings read from `# @key value` comment directives before the first request (design §4.1).
public struct MonitorSettings: Sendable, Equatable {
    /// How often the whole script runs.
    public var every: Duration = .seconds(60)
    /// Deadline for one whole run.
    public var timeout: Duration = .seconds(10)
    /// Availability objective and its rolling window.
    public var slo: AvailabilityObjective = AvailabilityObjective(target: 99.9, window: .seconds(30 * 86_400))
    /// Latency SLI: `target`% of runs must finish under `threshold`. `nil` when not set.
    public var latency: LatencyObjective? = nil
    /// Consecutive failed runs that open an incident.
    public var downAfter: Int = 3
    /// Consecutive good runs that resolve it.
    public var upAfter: Int = 2
    public var tags: [String] = []

    public init() {}
}

/// `# @slo 99.9% 30d`: target in percent (0 < target < 100) over a rolling window.
public struct AvailabilityObjective: Sendable, Equatable {
    public var target: Double
    public var window: Duration

    public init(target: Double, window: Duration) {
        self.target = target
        self.window = window
    }
}

/// `# @latency 500ms 99%`: `target` percent of runs must be good and faster than `threshold`.
public struct LatencyObjective: Sendable, Equatable {
    public var threshold: Duration
    public var target: Double

    public init(threshold: Duration, target: Double) {
        self.threshold = threshold
        self.target = target
    }
}
