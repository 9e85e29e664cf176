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
                (
                    "checks",
                    .list(
                        report.checks.map {
                            withFindings(
                                withThresholds(
                                    check(for: $0, defaulted: report.defaulted.contains($0.check)),
                                    report.thresholds[$0.check], nowMs: report.nowMs),
                                report.findings[$0.check] ?? [])
                        })
                ),
                ("certificates", certificates(report.certificates)),
                ("keep_warm", keepWarm(report.keepWarm)),
                ("maintenance", SLOReport.maintenanceJSON(report.maintenance)),
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
        }
        if let fleet = slo.fleet { fields.append(("fleet", Self.fleet(fleet))) }
        return .object(fields)
    }

    /// The fleet's slot figures under the quorum (README.md, "sonde report", Locations).
    static func fleet(_ fleet: FleetSLO) -> Value {
        func counts(_ counts: SlotCounts) -> [(key: String, value: Value)] {
            [
                ("slots", .integer(counts.slots)), ("down", .integer(counts.down)),
                ("possible", .integer(counts.possible)), ("full", .integer(counts.full)),
                ("short", .integer(counts.short)),
            ]
        }
        return .object([
            ("quorum", .string(fleet.quorum.applied.description)),
            ("quorum_requested", .string(fleet.quorum.requested.description)),
            ("locations", .integer(Int64(fleet.quorum.locations))),
            (
                "windows",
                .list(
                    fleet.windows.map { window in
                        .object(
                            [("window", .string(window.label))] + counts(window.counts) + [
                                ("uptime", optional(window.counts.uptime)),
                                ("coverage", .float(window.counts.coverage)),
                                ("full_coverage", .float(window.counts.fullCoverage)),
                            ])
                    })
            ),
            ("budget_remaining", optional(fleet.budgetRemaining)),
            ("time_to_exhaustion_s", optional(fleet.timeToExhaustionMs.map { $0 / 1000 })),
            (
                "burn",
                .list(
                    BurnWindow.allCases.map { burn in
                        .object(
                            [("window", .string(burn.rawValue))] + counts(fleet.burnCounts[burn] ?? SlotCounts())
                                + [("rate", optional(fleet.burnRates[burn]))])
                    })
            ),
            ("alert", .string(fleet.alert.level.rawValue)),
            ("firing", .list(fleet.alert.firing.map { .string($0.description) })),
        ])
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

    /// A check's object with `threshold_alerts` added when the check has `@alert` rules.
    static func withThresholds(_ value: Value, _ summary: ThresholdSummary?, nowMs: Int64) -> Value {
        guard let summary, case .object(var fields) = value else { return value }
        fields.append(("threshold_alerts", summary.json(nowMs: nowMs)))
        return .object(fields)
    }

    /// A check's object with `findings` added: what its last 24 hours of runs show.
    static func withFindings(_ value: Value, _ findings: [Finding]) -> Value {
        guard case .object(var fields) = value else { return value }
        fields.append(("findings", .list(findings.map(\.json))))
        return .object(fields)
    }
}
