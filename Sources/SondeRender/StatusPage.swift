import SondeSLO
import SondeSupport

/// What the HTML status page and `/api/status` show (docs/status-page.md): the overall state, each
/// check's state, uptime windows, daily bars and latency points, the open incidents and the
/// maintenance windows in progress and coming. Built from
/// a report's figures (`sonde report` → `index.html`, `init(report:openIncidents:)`) or from the
/// running prober's memory (`sonde run --listen` → `/`), and rendered by `StatusPageHTML` and
/// `StatusPageJSON`: both outputs come from this one value.
package struct StatusPage: Sendable {
    /// Where the figures come from.
    package enum Source: String, Sendable {
        /// `sonde report`: the data folders, with links to the Markdown pages beside `index.html`.
        case report
        /// `sonde run --listen`: the prober's memory, since its start (SLO counts seeded from the files).
        case live
    }

    /// What a check or the page shows: the last run's verdict, or maintenance while a window is open.
    package enum Shown: String, Sendable, Equatable {
        /// The last run passed (or, for the page, every check outside maintenance with a run is up).
        case up
        /// The last run failed (for the page: a check outside maintenance is down).
        case down
        /// A maintenance window is open now (for the page: for every check with a run).
        case maintenance
        /// No run yet.
        case noData = "no data"

        /// The CSS class: `up`, `down`, `maintenance`, `nodata`.
        package var cssClass: String { self == .noData ? "nodata" : rawValue }

        /// A check's verdict as shown.
        package init(_ state: CheckSLO.State) {
            switch state {
            case .up: self = .up
            case .down: self = .down
            case .noData: self = .noData
            }
        }
    }

    /// The page's one-line verdict. Checks in a maintenance window are counted apart, never as down.
    package enum Overall: Sendable, Equatable {
        /// No check outside maintenance is down and `up` are up, of `count`; `maintenance` are in a
        /// window (the rest have no run yet).
        case allUp(up: Int, count: Int, maintenance: Int)
        /// `down` of `count` checks are down, outside maintenance; `maintenance` are in a window.
        case someDown(down: Int, count: Int, maintenance: Int)
        /// No check outside maintenance has a run; `maintenance` of `count` are in a window.
        case inMaintenance(maintenance: Int, count: Int)
        /// No check has a run yet, and none is in maintenance.
        case noData

        /// `All 3 checks up`, `1 of 3 checks down, 1 in maintenance`, `No runs yet`.
        package var text: String {
            func plus(_ maintenance: Int) -> String { maintenance > 0 ? ", \(maintenance) in maintenance" : "" }
            switch self {
            case .allUp(let up, let count, 0) where up == count:
                return count == 1 ? "The check is up" : "All \(count) checks up"
            case .allUp(let up, let count, let maintenance) where up + maintenance == count:
                return "\(up) of \(count) checks up" + plus(maintenance)
            case .allUp(let up, let count, let maintenance):
                return "\(up) of \(count) checks up" + plus(maintenance) + ", the rest without runs yet"
            case .someDown(let down, let count, let maintenance):
                return "\(down) of \(count) \(count == 1 ? "check" : "checks") down" + plus(maintenance)
            case .inMaintenance(let maintenance, let count) where maintenance == count:
                return count == 1 ? "The check is in maintenance" : "All \(count) checks in maintenance"
            case .inMaintenance(let maintenance, let count):
                return "\(maintenance) of \(count) checks in maintenance, the rest without runs yet"
            case .noData: return "No runs yet"
            }
        }

        /// `up`, `down`, `maintenance`, `no data`: the CSS class and the JSON value.
        package var state: Shown {
            switch self {
            case .allUp: return .up
            case .someDown: return .down
            case .inMaintenance: return .maintenance
            case .noData: return .noData
            }
        }
    }

    /// Good ÷ total over one window; with a coverage when the source knows it.
    package struct Uptime: Sendable, Equatable {
        /// `24h`, `7d`, `30d`.
        package var label: String
        /// Good runs (or up slots for a fleet).
        package var good: Int64
        /// Runs (or slots with a run).
        package var total: Int64
        /// Share of the window with runs; nil when unknown (the live page).
        package var coverage: Double?

        /// One window's figures.
        package init(label: String, good: Int64, total: Int64, coverage: Double?) {
            self.label = label
            self.good = good
            self.total = total
            self.coverage = coverage
        }

        /// `99.930% (100%)` as the Markdown README shows it; `no data` without runs.
        package var text: String {
            guard total > 0 else { return "no data" }
            let ratio = PercentText.ratio(good, total)
            return coverage.map { ratio + " (\(SLOReport.coverageText($0)))" } ?? ratio
        }
    }

    /// One UTC day of the bar strip.
    package struct Day: Sendable, Equatable {
        /// `YYYY-MM-DD`.
        package var date: String
        package var good: Int64
        package var runs: Int64

        /// One day's counts.
        package init(date: String, good: Int64, runs: Int64) {
            self.date = date
            self.good = good
            self.runs = runs
        }

        /// Good ÷ runs; nil without runs.
        package var uptime: Double? { runs > 0 ? Double(good) / Double(runs) : nil }
    }

    /// The latency line: points oldest first (nil: a gap), what they are, the `@latency` threshold.
    package struct Latency: Sendable, Equatable {
        /// `p95 per hour, last 7 days`.
        package var label: String
        /// Milliseconds, oldest first.
        package var points: [Double?]
        /// The `@latency` threshold, ms.
        package var thresholdMs: Double?

        /// A latency line.
        package init(label: String, points: [Double?], thresholdMs: Double?) {
            self.label = label
            self.points = points
            self.thresholdMs = thresholdMs
        }
    }

    /// The failure of a check's last run.
    package struct Failure: Sendable, Equatable {
        /// The error kind (`status`, `timeout`...).
        package var kind: String
        /// The run's one-line message (secrets already redacted by the prober).
        package var message: String

        /// A failure.
        package init(kind: String, message: String) {
            self.kind = kind
            self.message = message
        }
    }

    /// One check's row.
    package struct Check: Sendable, Equatable {
        package var name: String
        package var state: CheckSLO.State
        /// When the last run started, epoch ms.
        package var lastRunMs: Int64?
        /// Why the last run failed, when it did.
        package var failure: Failure?
        /// The availability objective, a ratio (`0.999`).
        package var objective: Double
        /// 24h, 7d, 30d (those the source holds).
        package var uptime: [Uptime]
        /// Oldest first, at most 90.
        package var days: [Day]
        package var latency: Latency
        /// The check's Markdown page, relative to the page (report only).
        package var link: String?
        /// The maintenance window it is in and the next ones.
        package var maintenance: CheckMaintenance

        /// A check's row.
        package init(
            name: String, state: CheckSLO.State, lastRunMs: Int64?, failure: Failure?, objective: Double,
            uptime: [Uptime], days: [Day], latency: Latency, link: String?,
            maintenance: CheckMaintenance = CheckMaintenance()
        ) {
            self.name = name
            self.state = state
            self.lastRunMs = lastRunMs
            self.failure = failure
            self.objective = objective
            self.uptime = uptime
            self.days = days
            self.latency = latency
            self.link = link
            self.maintenance = maintenance
        }

        /// Maintenance while a window is open, whatever the last run said; else its state.
        package var shown: Shown { maintenance.current == nil ? Shown(state) : .maintenance }
    }

    /// An incident not resolved yet.
    package struct OpenIncident: Sendable, Equatable {
        /// `2026-11-23T0910Z-api`.
        package var id: String
        package var check: String
        package var location: String
        package var startedMs: Int64
        package var detectedMs: Int64
        /// The main error kind and its latest message.
        package var kind: String
        package var message: String
        /// The write-up, relative to the page (report only, when `sonde incidents` wrote it).
        package var link: String?

        /// An open incident.
        package init(
            id: String, check: String, location: String, startedMs: Int64, detectedMs: Int64, kind: String,
            message: String, link: String?
        ) {
            self.id = id
            self.check = check
            self.location = location
            self.startedMs = startedMs
            self.detectedMs = detectedMs
            self.kind = kind
            self.message = message
            self.link = link
        }
    }

    package var source: Source
    /// When the figures were taken, epoch ms.
    package var generatedMs: Int64
    /// Where they come from: the data folders (report) or `location` (live).
    package var origin: String
    /// Checks by name.
    package var checks: [Check]
    /// Oldest first.
    package var incidents: [OpenIncident]
    /// Links at the foot of the page: (text, relative address).
    package var links: [(text: String, href: String)]

    /// A page.
    package init(
        source: Source, generatedMs: Int64, origin: String, checks: [Check], incidents: [OpenIncident],
        links: [(text: String, href: String)]
    ) {
        self.source = source
        self.generatedMs = generatedMs
        self.origin = origin
        self.checks = checks
        self.incidents = incidents
        self.links = links
    }

    /// Down if any check outside maintenance is down; up when every such check with data is up;
    /// maintenance when the only checks left are in a window; no data without any.
    package var overall: Overall {
        let maintenance = checks.filter { $0.shown == .maintenance }.count
        let down = checks.filter { $0.shown == .down }.count
        if down > 0 { return .someDown(down: down, count: checks.count, maintenance: maintenance) }
        let up = checks.filter { $0.shown == .up }.count
        if up > 0 { return .allUp(up: up, count: checks.count, maintenance: maintenance) }
        if maintenance > 0 { return .inMaintenance(maintenance: maintenance, count: checks.count) }
        return .noData
    }

    /// `2026-11-23 12:00 UTC`, as the Markdown report writes times.
    package static func time(_ ms: Int64) -> String { SLOReport.time(ms) }
}
