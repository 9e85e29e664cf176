import SondeSLO
import SondeStore
import SondeSupport

/// The report's maintenance sections: time in maintenance windows per report window, the runs left
/// out, and the windows (README.md, "sonde report", Maintenance).
extension SLOReport {
    /// What every maintenance section says about the accounting.
    static let maintenanceNote =
        "Runs that start in a maintenance window (`@maintenance` in the check file, or `sonde maintenance add`) "
        + "are recorded but **excluded** from uptime, error budgets and burn rates, and open no incident or "
        + "alert; the figures above do not count them.\n\n"

    /// `## Maintenance` for the index: one row per check with maintenance in its windows; empty when none has.
    func maintenanceSection() -> String {
        guard !maintenance.isEmpty else { return "" }
        var md = "\n## Maintenance\n\n" + Self.maintenanceNote
        md += "Each cell is the time in maintenance in that window, and the runs excluded.\n\n"
        md += Markdown.header(["Check", "24h", "7d", "30d"], right: [1, 2, 3])
        for name in maintenance.keys.sorted() {
            guard let figures = maintenance[name] else { continue }
            md += Markdown.row(
                ["[\(Markdown.escape(name))](\(Markdown.link(pageName(name))))"]
                    + ["24h", "7d", "30d"].map { label in
                        figures.windows.first { $0.label == label }.map(Self.maintenanceCell) ?? "-"
                    })
        }
        return md
    }

    /// `## Maintenance` for a check's page: per window, then the windows themselves (at most 20,
    /// newest first); empty without maintenance.
    func maintenancePage(_ check: String) -> String {
        guard let figures = maintenance[check] else { return "" }
        var md = "\n## Maintenance\n\n" + Self.maintenanceNote
        md += Markdown.header(["Window", "Time in maintenance", "Runs excluded"], right: [1, 2])
        for window in figures.windows {
            md += Markdown.row([
                window.label,
                DurationText.span(window.maintenanceMs) + " ("
                    + PercentText.truncated(
                        window.spanMs > 0 ? Double(window.maintenanceMs) / Double(window.spanMs) : 0, decimals: 2)
                    + ")",
                String(window.excludedRuns),
            ])
        }
        guard !figures.periods.isEmpty else { return md }
        md += "\n" + Markdown.header(["Maintenance window", "From", "Until", "Length", "Reason"], right: [3])
        for period in figures.periods.prefix(20) {
            md += Markdown.row([
                "`\(Markdown.escape(period.label))`", Self.time(period.fromMs), Self.time(period.untilMs),
                DurationText.span(period.durationMs), Markdown.escape(period.reason ?? "recurring (`@maintenance`)"),
            ])
        }
        if figures.periods.count > 20 { md += "\n\(figures.periods.count - 20) older windows are not shown.\n" }
        return md
    }

    static func maintenanceCell(_ window: MaintenanceFigures.Window) -> String {
        guard window.maintenanceMs > 0 || window.excludedRuns > 0 else { return "-" }
        return DurationText.span(window.maintenanceMs) + ", \(window.excludedRuns) runs excluded"
    }

    /// The `maintenance` member of `report --json`: by check, per window and the windows.
    static func maintenanceJSON(_ figures: [String: MaintenanceFigures]) -> Value {
        .object(
            figures.keys.sorted().compactMap { name in
                guard let f = figures[name] else { return nil }
                return (
                    name,
                    .object([
                        ("excluded_from_slo", .bool(true)),
                        (
                            "windows",
                            .list(
                                f.windows.map { w in
                                    .object([
                                        ("window", .string(w.label)), ("maintenance_ms", .integer(w.maintenanceMs)),
                                        ("runs_excluded", .integer(w.excludedRuns)),
                                    ])
                                })
                        ),
                        (
                            "periods",
                            .list(
                                f.periods.map { p in
                                    .object([
                                        ("window", .string(p.label)), ("reason", p.reason.map(Value.string) ?? .null),
                                        ("from", .string(UTCTime.rfc3339(p.fromMs))),
                                        ("until", .string(UTCTime.rfc3339(p.untilMs))),
                                        ("duration_ms", .integer(p.durationMs)),
                                    ])
                                })
                        ),
                    ])
                )
            })
    }
}
