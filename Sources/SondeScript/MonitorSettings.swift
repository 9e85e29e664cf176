/// Monitor settings read from `# @key value` comment directives before the first request
/// (docs/check-format.md, "Monitor directives").
package struct MonitorSettings: Sendable, Equatable {
    /// How often the whole script runs.
    package var every: Duration = .seconds(60)
    /// Deadline for one whole run.
    package var timeout: Duration = .seconds(10)
    /// Availability objective and its rolling window.
    package var slo: AvailabilityObjective = AvailabilityObjective(target: 99.9, window: .seconds(30 * 86_400))
    /// Latency SLI: `target`% of runs must finish under `threshold`. `nil` when not set.
    package var latency: LatencyObjective? = nil
    /// Consecutive failed runs that open an incident.
    package var downAfter: Int = 3
    /// Consecutive good runs that resolve it.
    package var upAfter: Int = 2
    /// How many locations must report the check down for the fleet to count it down
    /// (`# @quorum 2`, `# @quorum all`); nil when the file does not say, and the command's
    /// `--quorum` applies.
    package var quorum: Quorum? = nil
    /// `@cert-expiry`: a certificate expiring within this is announced (`cert_expiring`); nil when
    /// `off`. Only HTTPS runs carry a certificate.
    package var certExpiry: Duration? = .seconds(14 * 86_400)
    /// `@keep-warm`: how long the target stays awake without a request; nil when not set.
    package var keepWarm: KeepWarm? = nil
    /// `@tags`: labels for people, in the order written.
    var tags: [String] = []
    /// `@alert` threshold rules, in the order written (repeatable).
    package var alerts: [ThresholdRule] = []
    /// `@maintenance` recurring windows, in the order written (repeatable; no two overlap).
    package var maintenance: [MaintenanceWindow] = []

    package init() {}
}

/// `# @slo 99.9% 30d`: target in percent (0 < target < 100) over a rolling window.
package struct AvailabilityObjective: Sendable, Equatable {
    package var target: Double
    package var window: Duration
}

/// `# @latency 500ms 99%`: `target` percent of runs must be good and faster than `threshold`.
package struct LatencyObjective: Sendable, Equatable {
    package var threshold: Duration
    package var target: Double
}

/// `# @quorum N` or `# @quorum all`: how many of the locations that report a check must see it down
/// for the fleet to count it down.
package enum Quorum: Sendable, Equatable, CustomStringConvertible {
    /// Every location that reports the check.
    case all
    /// At least this many locations (1 or more).
    case atLeast(Int)

    /// The most locations a quorum may name.
    package static let maximum = 1000

    /// `all` or the number, as written in a directive.
    package var description: String {
        switch self {
        case .all: return "all"
        case .atLeast(let n): return String(n)
        }
    }
}
