import SondeIncidents
import SondeProbe
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// `sonde report --json`: the report's figures for machines, one JSON object.
package enum ReportJSON {
    package static func encode(_ report: SLOReport) -> String {
        JSON.encode(
            .object([
                ("generated", .string(UTCTime.rfc3339(report.nowMs))),
                ("data", .list(report.folders.map(Value.string))),
                ("checks", .list(report.checks.map { check(for: $0, defaulted: report.defaulted.contains($0.check)) })),
            ]))
    }

    static func check(for slo: CheckSLO, defaulted: Bool) -> Value {
        var fields: [(key: String, value: Value)] = [
            ("check", .string(slo.check)),
            ("state", .string(slo.state.rawValue)),
            ("objective", .float(slo.policy.objective)),
            ("objective_window", .string(DurationText.setting(.milliseconds(slo.policy.windowMs)))),
            ("objective_from_defaults", .bool(defaulted)),
            ("latency_threshold_ms", slo.policy.latencyThresholdMs.map(Value.float) ?? .null),
            ("latency_objective", slo.policy.latencyObjective.map(Value.float) ?? .null),
            ("windows", .list(slo.windows.map(window))),
            ("p50_ms_24h", optional(slo.p50)), ("p95_ms_24h", optional(slo.p95)), ("p99_ms_24h", optional(slo.p99)),
            ("allowed_failures", optional(slo.budget.allowedFailures)),
            ("budget_remaining", optional(slo.budgetRemaining)),
            ("time_to_exhaustion_s", optional(slo.timeToExhaustionMs.map { $0 / 1000 })),
            (
                "burn",
                .list(
                    BurnWindow.allCases.map { burn in
                        let counts = slo.burnCounts[burn]
                        return .object([
                            ("window", .string(burn.rawValue)),
                            ("runs", .integer(counts?.runs ?? 0)), ("bad", .integer(counts?.bad ?? 0)),
                            ("rate", optional(slo.burnRates[burn])),
                        ])
                    })
            ),
            ("alert", .string(slo.alert.level.rawValue)),
            ("firing", .list(slo.alert.firing.map { .string($0.description) })),
            (
                "errors",
                .object(
                    slo.objectiveWindow.counts.errors.sorted { $0.key < $1.key }.map { kind, count in
                        (
                            kind,
                            .object([
                                ("count", .integer(count)),
                                ("latest", slo.latestMessages[kind].map(Value.string) ?? .null),
                            ])
                        )
                    })
            ),
            ("cert_days", optional(slo.certDays)),
            ("last_run", slo.latest.map { .string(UTCTime.rfc3339($0.time)) } ?? .null),
            ("skipped_lines", .integer(Int64(slo.stats.skipped))),
            ("future_runs", .integer(Int64(slo.futureRuns))),
        ]
        if !slo.locations.isEmpty {
            fields.append(
                (
                    "locations",
                    .list(
                        slo.locations.map { location in
                            .object([
                                ("location", .string(location.name)), ("windows", .list(location.windows.map(window))),
                            ])
                        })
                ))
            fields.append(
                (
                    "combined",
                    .list(
                        slo.combined.map { combined in
                            .object([
                                ("window", .string(combined.label)),
                                ("minutes_covered", .integer(combined.minutesCovered)),
                                ("minutes_down", .integer(combined.minutesDown)), ("uptime", optional(combined.uptime)),
                            ])
                        })
                ))
        }
        return .object(fields)
    }

    static func window(_ window: CheckSLO.Window) -> Value {
        let counts = window.counts
        return .object([
            ("window", .string(window.label)),
            ("runs", .integer(counts.runs)), ("good", .integer(counts.good)), ("fast", .integer(counts.fast)),
            ("uptime", optional(counts.availability)),
            ("uptime_text", .string(PercentText.ratio(counts.good, counts.runs))),
            ("latency_sli", optional(counts.latencySLI)),
            ("coverage", .float(window.coverage)),
        ])
    }

    static func optional(_ value: Double?) -> Value {
        guard let value, value.isFinite else { return .null }
        return .float(value)
    }
}
