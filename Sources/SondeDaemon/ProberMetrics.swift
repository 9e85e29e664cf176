import Foundation
import SondeAlerts
import SondeIncidents
import SondeProbe
import SondeRender
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport
import Synchronization

/// What `/metrics` shows: the latest state of each check and counters since the prober started
/// (README.md, "/metrics and /healthz"). Updated after every run; rendered on request.
package final class ProberMetrics: Sendable {
    /// Lateness histogram bounds, seconds.
    static let latenessBounds: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Run duration histogram bounds, seconds; each check adds its `@latency` threshold.
    static let durationBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// What `sonde_check_info` says of a check, from its directives.
    struct CheckInfo: Sendable, Equatable {
        /// `@every`, seconds.
        var interval: Double
        /// `@slo` as a ratio (0.999).
        var objective: Double
        /// `@latency`'s threshold, seconds; nil without `@latency`.
        var latencyThreshold: Double?

        /// The figures of a check's settings.
        init(settings: MonitorSettings) {
            let policy = SLOPolicy(settings: settings)
            interval = ProberMetrics.seconds(settings.every.milliseconds)
            objective = policy.objective
            latencyThreshold = policy.latencyThresholdMs.map { ProberMetrics.seconds($0) }
        }

        /// The default bounds with the latency threshold among them, ascending.
        var durationBounds: [Double] {
            guard let threshold = latencyThreshold, !ProberMetrics.durationBounds.contains(threshold) else {
                return ProberMetrics.durationBounds
            }
            return (ProberMetrics.durationBounds + [threshold]).sorted()
        }
    }

    /// Passed runs by duration: `counts[i]` counts the runs in bucket `i` (not cumulative), the last
    /// one above every bound. One array a check, no samples kept.
    private struct DurationHistogram {
        var bounds: [Double]
        var counts: [Int64]
        var sum: Double = 0

        init(bounds: [Double]) {
            self.bounds = bounds
            counts = [Int64](repeating: 0, count: bounds.count + 1)
        }

        mutating func observe(_ seconds: Double) {
            counts[bounds.firstIndex { seconds <= $0 } ?? bounds.count] += 1
            sum += seconds
        }
    }

    private struct CheckState {
        var up: Bool
        var lastRun: Int64
        var results: [String: Int64] = [:]
        var phases = PhaseTimings()
        var runSeconds: Double = 0
        var certExpiry: Double?
        var durations: DurationHistogram
        /// Whether the last run was in a maintenance window.
        var maintenance = false
    }

    private struct State {
        var checks: [String: CheckState] = [:]
        var lateness = [Int64](repeating: 0, count: ProberMetrics.latenessBounds.count + 1)
        var latenessSum: Double = 0
        var loaded: Set<String> = []
        var info: [String: CheckInfo] = [:]
    }

    /// The prober's location, a label of every check's series.
    let location: String
    /// The part of the checks folder this prober runs (`sonde_shard_info`).
    let shard: Shard
    private let state = Mutex(State())

    /// Empty metrics for a prober at `location` running `shard` of its folder.
    init(location: String, shard: Shard = .whole) {
        self.location = location
        self.shard = shard
    }

    /// The checks currently loaded (removed checks disappear from the metrics). A check whose
    /// `@latency` threshold changed starts its duration histogram again with the new bucket.
    func setChecks(_ scripts: [CheckScript]) {
        state.withLock { state in
            state.loaded = Set(scripts.map(\.name))
            state.info = Dictionary(scripts.map { ($0.name, CheckInfo(settings: $0.settings)) }) { _, last in last }
            for name in state.checks.keys {
                guard let info = state.info[name] else {
                    state.checks[name] = nil
                    continue
                }
                let bounds = info.durationBounds
                if state.checks[name]?.durations.bounds != bounds {
                    state.checks[name]?.durations = DurationHistogram(bounds: bounds)
                }
            }
        }
    }

    /// Counts a finished run.
    func record(_ record: RunRecord, lateness: Duration) {
        let late = max(0, lateness.milliseconds / 1000)
        let bucket = Self.latenessBounds.firstIndex { late <= $0 } ?? Self.latenessBounds.count
        state.withLock { state in
            state.lateness[bucket] += 1
            state.latenessSum += Self.seconds(late * 1000)
            guard state.loaded.contains(record.check) else { return }
            let bounds = state.info[record.check]?.durationBounds ?? Self.durationBounds
            var check =
                state.checks[record.check]
                ?? CheckState(up: record.ok, lastRun: record.time, durations: DurationHistogram(bounds: bounds))
            check.up = record.ok
            check.lastRun = record.time
            check.maintenance = record.maintenance != nil
            check.results[record.error?.kind ?? "success", default: 0] += 1
            check.phases = record.phaseTotals
            check.runSeconds = Self.seconds(record.durationMs)
            if record.ok { check.durations.observe(check.runSeconds) }
            if let days = record.certDays {
                check.certExpiry = (Double(record.time) / 1000 + days * 86_400).rounded()
            }
            state.checks[record.check] = check
        }
    }

    /// Milliseconds to seconds, rounded to the microsecond (no `3.5999999999999994e-05`).
    static func seconds(_ ms: Double) -> Double { (ms * 1000).rounded() / 1_000_000 }

    /// The exposition text. `skipped` comes from the scheduler; `dropped` (and `store`, when given)
    /// from the writer.
    func render(
        skipped: [String: Int64], dropped: Int, store: RecordWriter.Counts? = nil,
        slo: [String: SLOTracker.Figures] = [:]
    ) -> String {
        var out = PrometheusText()
        write(to: &out, skipped: skipped, dropped: dropped, store: store, slo: slo)
        return out.text
    }

    /// Writes the exposition text to `out` (which may hand it on in pieces; see `PrometheusText`).
    func write(
        to out: inout PrometheusText, skipped: [String: Int64], dropped: Int,
        store: RecordWriter.Counts? = nil, slo: [String: SLOTracker.Figures] = [:]
    ) {
        let snapshot = state.withLock { $0 }
        let checks = snapshot.checks.sorted { $0.key < $1.key }
        let loc = ("location", location)

        out.family("sonde_check_up", .gauge, help: "1 when the check's last run passed, 0 when it failed.")
        for (name, check) in checks { out.sample("sonde_check_up", [("check", name), loc], check.up ? 1 : 0) }

        out.family(
            "sonde_runs_total", .counter,
            help: "Runs since the prober started, by result: success or the failed run's error kind.")
        for (name, check) in checks {
            for (result, count) in check.results.sorted(by: { $0.key < $1.key }) {
                out.sample("sonde_runs_total", [("check", name), loc, ("result", result)], Double(count))
            }
        }

        out.family(
            "sonde_last_run_phase_seconds", .gauge,
            help: "Last run's phases summed over its requests; phase total is the whole run.")
        for (name, check) in checks {
            let phases: [(String, Double)] = [
                ("dns", check.phases.dns), ("connect", check.phases.connect), ("tls", check.phases.tls),
                ("ttfb", check.phases.ttfb), ("transfer", check.phases.transfer),
            ]
            for (phase, ms) in phases {
                out.sample("sonde_last_run_phase_seconds", [("check", name), loc, ("phase", phase)], Self.seconds(ms))
            }
            out.sample("sonde_last_run_phase_seconds", [("check", name), loc, ("phase", "total")], check.runSeconds)
        }

        out.family(
            "sonde_run_duration_seconds", .histogram,
            help:
                "Durations of passed runs (failed runs count in sonde_runs_total only); the buckets include the check's @latency threshold."
        )
        for (name, check) in checks {
            let durations = check.durations
            out.histogram(
                "sonde_run_duration_seconds", [("check", name), loc], bounds: durations.bounds,
                counts: durations.counts, sum: (durations.sum * 1_000_000).rounded() / 1_000_000)
        }

        out.family(
            "sonde_cert_expiry_timestamp_seconds", .gauge,
            help: "Unix time when the earliest leaf certificate seen by the last HTTPS run expires.")
        for (name, check) in checks {
            if let expiry = check.certExpiry {
                out.sample("sonde_cert_expiry_timestamp_seconds", [("check", name), loc], expiry)
            }
        }

        out.family(
            "sonde_check_maintenance", .gauge,
            help: "1 while the check's last run was in a maintenance window (left out of the SLO gauges), else 0.")
        for (name, check) in checks {
            out.sample("sonde_check_maintenance", [("check", name), loc], check.maintenance ? 1 : 0)
        }

        out.family("sonde_last_run_timestamp_seconds", .gauge, help: "Unix time when the check's last run started.")
        for (name, check) in checks {
            out.sample("sonde_last_run_timestamp_seconds", [("check", name), loc], Double(check.lastRun) / 1000)
        }

        let tracked = slo.sorted { $0.key < $1.key }.filter { snapshot.loaded.contains($0.key) }
        out.family("sonde_slo_objective_ratio", .gauge, help: "The check's availability objective (@slo), as a ratio.")
        for (name, figures) in tracked {
            out.sample("sonde_slo_objective_ratio", [("check", name), loc], figures.policy.objective)
        }
        out.family(
            "sonde_slo_burn_rate", .gauge,
            help: "Error ratio over the window divided by the error budget; absent when the window has too few runs.")
        for (name, figures) in tracked {
            for window in BurnWindow.allCases {
                if let rate = figures.burn[window] {
                    out.sample("sonde_slo_burn_rate", [("check", name), loc, ("window", window.rawValue)], rate)
                }
            }
        }
        out.family(
            "sonde_slo_error_budget_remaining_ratio", .gauge,
            help: "Share of the error budget left over the objective's window (negative once overspent).")
        for (name, figures) in tracked {
            if let remaining = figures.remaining {
                out.sample("sonde_slo_error_budget_remaining_ratio", [("check", name), loc], remaining)
            }
        }

        out.family(
            "sonde_runs_skipped_total", .counter,
            help: "Scheduled runs skipped because the previous run of the check was still going.")
        for name in snapshot.loaded.sorted() {
            out.sample("sonde_runs_skipped_total", [("check", name), loc], Double(skipped[name] ?? 0))
        }

        out.family(
            "sonde_schedule_lateness_seconds", .histogram,
            help: "How late runs started against their schedule.")
        out.histogram(
            "sonde_schedule_lateness_seconds", [loc], bounds: Self.latenessBounds, counts: snapshot.lateness,
            sum: snapshot.latenessSum)

        out.family(
            "sonde_records_dropped_total", .counter,
            help: "Run records that could not be written to the data folder (disk full, I/O error, no descriptor).")
        out.sample("sonde_records_dropped_total", [loc], Double(dropped))
        if let store {
            out.family(
                "sonde_descriptor_shortages_total", .counter,
                help: "Data files that could not be opened at once for want of descriptors (EMFILE, ENFILE).")
            out.sample("sonde_descriptor_shortages_total", [loc], Double(store.descriptorShortages))
            out.family(
                "sonde_records_held", .gauge,
                help: "Run records held in memory until a descriptor frees up.")
            out.sample("sonde_records_held", [loc], Double(store.held))
        }

        out.family("sonde_checks", .gauge, help: "Checks loaded.")
        out.sample("sonde_checks", [loc], Double(snapshot.loaded.count))

        out.family(
            "sonde_check_info", .gauge,
            help:
                "Always 1; the labels carry the check's @every (seconds), @slo objective (ratio) and @latency threshold (seconds, empty without one)."
        )
        for (name, info) in snapshot.info.sorted(by: { $0.key < $1.key }) {
            let labels = [
                ("check", name), loc, ("interval", PrometheusText.format(info.interval)),
                ("objective", PrometheusText.format(info.objective)),
                ("latency_threshold", info.latencyThreshold.map(PrometheusText.format) ?? ""),
            ]
            out.sample("sonde_check_info", labels, 1)
        }

        out.family(
            "sonde_shard_info", .gauge,
            help: "Always 1; the shard label says which part I/N of the checks folder this prober runs.")
        out.sample("sonde_shard_info", [loc, ("shard", shard.description)], 1)

        out.family("sonde_build_info", .gauge, help: "Always 1; the version label says which sonde runs.")
        out.sample("sonde_build_info", [("version", Sonde.version)], 1)
        out.finish()
    }
}
