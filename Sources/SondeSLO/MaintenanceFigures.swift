import SondeScript
import SondeStore
import SondeSupport

/// What maintenance took out of one check's report windows: the time in maintenance windows and
/// the runs left out of uptime, budgets and burn rates in each, and the windows themselves
/// (README.md, "sonde report", Maintenance).
package struct MaintenanceFigures: Sendable, Equatable {
    /// One report window (`24h`, `7d`, `30d`, the objective's).
    package struct Window: Sendable, Equatable {
        package var label: String
        /// The window's length, ms.
        package var spanMs: Int64
        /// Time in maintenance within it (overlapping windows counted once), ms.
        package var maintenanceMs: Int64
        /// Runs that started in maintenance, left out of every figure of the window.
        package var excludedRuns: Int64
    }

    /// The report windows, shortest first.
    package var windows: [Window]
    /// The maintenance windows overlapping the longest report window, clipped to it, newest first.
    package var periods: [MaintenanceCalendar.Period]

    /// The figures of `check` (nil when no maintenance window or excluded run falls in its windows).
    package static func compute(
        _ check: CheckSLO, settings: MonitorSettings, calendar: MaintenanceCalendar
    ) -> MaintenanceFigures? {
        let windows = check.windows
        guard let longest = windows.max(by: { $0.counts.spanMs < $1.counts.spanMs }) else { return nil }
        let periods = calendar.periods(
            check: check.check, settings: settings, fromMs: longest.counts.fromMs, toMs: longest.counts.toMs)
        let rows = windows.map { window in
            Window(
                label: window.label, spanMs: window.counts.spanMs,
                maintenanceMs: MaintenanceCalendar.coveredMs(
                    periods, fromMs: window.counts.fromMs, toMs: window.counts.toMs),
                excludedRuns: window.counts.maintenance)
        }
        guard !periods.isEmpty || rows.contains(where: { $0.excludedRuns > 0 }) else { return nil }
        return MaintenanceFigures(windows: rows, periods: periods.reversed())
    }

    /// The figures of every check that has some, by name.
    package static func forChecks(
        _ checks: [CheckSLO], settings: [String: MonitorSettings], calendar: MaintenanceCalendar
    ) -> [String: MaintenanceFigures] {
        var out: [String: MaintenanceFigures] = [:]
        for check in checks {
            out[check.check] = compute(check, settings: settings[check.check] ?? MonitorSettings(), calendar: calendar)
        }
        return out
    }
}
