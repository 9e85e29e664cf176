import SondeScript
import SondeStore
import SondeSupport

extension StatusPage {
    /// How far ahead the page looks for maintenance windows: 7 days.
    package static let upcomingMs: Int64 = 7 * UTCTime.msPerDay
    /// The upcoming windows a check's row lists, soonest first.
    package static let upcomingPerCheck = 3
    /// The upcoming windows the page's Maintenance section lists, soonest first.
    package static let upcomingOnPage = 10

    /// One maintenance window as the page shows it: an ad hoc one (`sonde maintenance add`, with its
    /// id and reason) or one occurrence of a check's recurring `@maintenance`.
    package struct Maintenance: Sendable, Equatable {
        /// The ad hoc window's id (`m3`) or the recurring window as written (`Sun 02:00-04:00 UTC`):
        /// the label run lines carry.
        package var label: String
        /// Why (`--reason`), for an ad hoc window; nil for a recurring one.
        package var reason: String?
        /// `[from, until)`, epoch ms: the whole window, not clipped to now.
        package var fromMs: Int64
        package var untilMs: Int64
        /// The checks it covers, by name.
        package var checks: [String]
        /// Added with `--all`: it covers every check.
        package var everyCheck: Bool

        /// A window.
        package init(
            label: String, reason: String?, fromMs: Int64, untilMs: Int64, checks: [String], everyCheck: Bool
        ) {
            self.label = label
            self.reason = reason
            self.fromMs = fromMs
            self.untilMs = untilMs
            self.checks = checks
            self.everyCheck = everyCheck
        }

        /// A recurring `@maintenance` occurrence (no reason) rather than an ad hoc window.
        package var recurring: Bool { reason == nil }

        /// Whether it is open at `ms`.
        package func contains(_ ms: Int64) -> Bool { ms >= fromMs && ms < untilMs }
    }

    /// One check's maintenance at a moment: the window it is in, if any, and the next ones.
    package struct CheckMaintenance: Sendable, Equatable {
        /// The window in progress (of several open at once, the one that lasts longest).
        package var current: Maintenance?
        /// Windows that start within `upcomingMs`, soonest first, at most `upcomingPerCheck`.
        package var upcoming: [Maintenance]

        /// Nothing in progress, nothing coming.
        package init(current: Maintenance? = nil, upcoming: [Maintenance] = []) {
            self.current = current
            self.upcoming = upcoming
        }

        /// `check`'s windows at `nowMs`: the ad hoc windows of `calendar` that cover it and the
        /// occurrences of its recurring `@maintenance` (from `settings`).
        package init(check: String, settings: MonitorSettings, calendar: MaintenanceCalendar, nowMs: Int64) {
            let horizon = nowMs + StatusPage.upcomingMs
            var windows: [Maintenance] = []
            for entry in calendar.entries
            where entry.covers(check) && entry.endMs > max(nowMs, entry.fromMs) && entry.fromMs < horizon {
                windows.append(
                    Maintenance(
                        label: entry.id, reason: entry.reason, fromMs: entry.fromMs, untilMs: entry.endMs,
                        checks: [check], everyCheck: entry.check == nil))
            }
            for window in settings.maintenance {
                for range in window.occurrences(fromMs: nowMs, toMs: horizon) {
                    windows.append(
                        Maintenance(
                            label: window.text, reason: nil, fromMs: range.lowerBound, untilMs: range.upperBound,
                            checks: [check], everyCheck: false))
                }
            }
            current = windows.filter { $0.contains(nowMs) }.max { ($0.untilMs, $1.label) < ($1.untilMs, $0.label) }
            upcoming = Array(
                windows.filter { $0.fromMs > nowMs }.sorted { ($0.fromMs, $0.label) < ($1.fromMs, $1.label) }
                    .prefix(StatusPage.upcomingPerCheck))
        }
    }

    /// The page's Maintenance section: every check's window in progress, then the upcoming ones
    /// (at most `upcomingOnPage`), each window once with the checks it covers.
    package var maintenance: [Maintenance] {
        func merged(_ windows: [Maintenance]) -> [Maintenance] {
            var out: [Maintenance] = []
            for window in windows {
                if let i = out.firstIndex(where: {
                    ($0.label, $0.fromMs, $0.untilMs, $0.reason) == (
                        window.label, window.fromMs, window.untilMs, window.reason
                    )
                }) {
                    out[i].checks += window.checks.filter { !out[i].checks.contains($0) }
                } else {
                    out.append(window)
                }
            }
            return out.sorted { ($0.fromMs, $0.label) < ($1.fromMs, $1.label) }
        }
        let now = merged(checks.compactMap { $0.maintenance.current })
        let next = merged(checks.flatMap { $0.maintenance.upcoming })
        return now + next.prefix(Self.upcomingOnPage)
    }
}
