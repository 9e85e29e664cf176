import SondeSLO
import SondeSupport

/// `/api/status`: a `StatusPage` as one JSON object (the schema is in docs/status-page.md), the same
/// value the HTML page is rendered from.
package enum StatusPageJSON {
    /// The version of the schema, the object's `v`.
    package static let version: Int64 = 1

    /// The object, compact, without a trailing newline.
    package static func encode(_ page: StatusPage) -> String {
        let overall = page.overall
        return JSON.encode(
            .object([
                ("v", .integer(version)),
                ("source", .string(page.source.rawValue)),
                ("generated", .string(UTCTime.rfc3339(page.generatedMs))),
                ("origin", .string(page.origin)),
                ("state", .string(overall.state.rawValue)),
                ("summary", .string(overall.text)),
                ("checks", .list(page.checks.map(check))),
                ("incidents", .list(page.incidents.map(incident))),
                (
                    "maintenance",
                    .list(
                        page.maintenance.map { window in
                            .object(
                                self.window(window) + [
                                    ("in_progress", .bool(window.contains(page.generatedMs))),
                                    ("checks", .list(window.checks.map(Value.string))),
                                    ("every_check", .bool(window.everyCheck)),
                                ])
                        })
                ),
            ]))
    }

    /// A maintenance window's members: `window` (an ad hoc id or the recurring window as written),
    /// `reason` (null for a recurring one), `from`, `until`.
    static func window(_ window: StatusPage.Maintenance) -> [(key: String, value: Value)] {
        [
            ("window", .string(window.label)), ("reason", window.reason.map(Value.string) ?? .null),
            ("from", .string(UTCTime.rfc3339(window.fromMs))), ("until", .string(UTCTime.rfc3339(window.untilMs))),
        ]
    }

    static func check(_ check: StatusPage.Check) -> Value {
        .object([
            ("name", .string(check.name)),
            ("state", .string(check.state.rawValue)),
            ("last_run", check.lastRunMs.map { .string(UTCTime.rfc3339($0)) } ?? .null),
            (
                "error",
                check.failure.map { .object([("kind", .string($0.kind)), ("message", .string($0.message))]) } ?? .null
            ),
            ("objective", .float(check.objective)),
            (
                "uptime",
                .object(
                    check.uptime.map { window in
                        (
                            window.label,
                            .object([
                                ("good", .integer(window.good)), ("total", .integer(window.total)),
                                (
                                    "ratio",
                                    window.total > 0 ? .float(Double(window.good) / Double(window.total)) : .null
                                ),
                                ("coverage", window.coverage.map(Value.float) ?? .null),
                            ])
                        )
                    })
            ),
            (
                "days",
                .list(
                    check.days.map {
                        .object([("date", .string($0.date)), ("good", .integer($0.good)), ("runs", .integer($0.runs))])
                    })
            ),
            (
                "latency",
                .object([
                    ("label", .string(check.latency.label)),
                    ("points_ms", .list(check.latency.points.map { point in point.map(Value.float) ?? .null })),
                    ("threshold_ms", check.latency.thresholdMs.map(Value.float) ?? .null),
                ])
            ),
            ("shown", .string(check.shown.rawValue)),
            ("maintenance", check.maintenance.current.map { .object(window($0)) } ?? .null),
            ("maintenance_next", .list(check.maintenance.upcoming.map { .object(window($0)) })),
        ])
    }

    static func incident(_ incident: StatusPage.OpenIncident) -> Value {
        .object([
            ("id", .string(incident.id)),
            ("check", .string(incident.check)),
            ("location", .string(incident.location)),
            ("started", .string(UTCTime.rfc3339(incident.startedMs))),
            ("detected", .string(UTCTime.rfc3339(incident.detectedMs))),
            ("kind", .string(incident.kind)),
            ("message", .string(incident.message)),
        ])
    }
}
