import SondeProbe
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// Finds the incidents in the data folders by replaying every check's runs, in time order, through
/// the same `IncidentDetector` the live prober uses; alert rows come from `incidents.jsonl`.
package enum IncidentFinder {
    /// What a replay found.
    package struct Result: Sendable {
        /// Resolved and ongoing incidents, oldest first.
        package var incidents: [Incident]
        package var stats: ReadStats
        /// Lines of `incidents.jsonl` that could not be read.
        var skippedEvents: Int
    }

    /// Replays `readers`' runs up to `nowMs`. `settings` gives each check's `@down-after`,
    /// `@up-after` and objectives (defaults for checks without a file).
    package static func find(readers: [RunReader], settings: [String: MonitorSettings], nowMs: Int64) -> Result {
        var stats = ReadStats()
        var incidents: [Incident] = []
        var skippedEvents = 0
        var alerts: [String: [IncidentEvent]] = [:]
        for reader in readers {
            for event in IncidentEvent.readAll(reader.folder.incidentsFile, skipped: &skippedEvents)
            where event.kind == .alertSent {
                if let id = event.incident { alerts[id, default: []].append(event) }
            }
        }
        let names = Set(readers.flatMap { $0.folder.checks() }).sorted()
        for name in names {
            let monitor = settings[name] ?? MonitorSettings()
            var detectors: [String: IncidentDetector] = [:]
            for reader in readers {
                for file in reader.folder.runFiles(check: name) where file.day <= nowMs {
                    var runs: [RunRecord] = []
                    RunReader.decodeLines(file.path, RunLine.decode, stats: &stats) { run in
                        if run.time <= nowMs { runs.append(run) }
                    }
                    if zip(runs, runs.dropFirst()).contains(where: { $0.time > $1.time }) {
                        runs.sort { $0.time < $1.time }
                    }
                    for run in runs {
                        var detector =
                            detectors[run.location]
                            ?? IncidentDetector(
                                check: name, location: run.location, settings: monitor, startMs: run.time)
                        for transition in detector.observe(run) {
                            if case .resolved(let incident) = transition { incidents.append(incident) }
                        }
                        detectors[run.location] = detector
                    }
                }
            }
            for (_, detector) in detectors.sorted(by: { $0.key < $1.key }) {
                if let ongoing = detector.ongoing() { incidents.append(ongoing) }
            }
        }
        for index in incidents.indices {
            guard let rows = alerts[incidents[index].id] else { continue }
            for event in rows {
                let target: String
                if case .string(let s)? = event["target"] { target = s } else { target = "webhook" }
                let about: String
                if case .string(let s)? = event["about"] { about = s } else { about = "incident" }
                incidents[index].timeline.append(
                    TimelineEntry(
                        timeMs: event.timeMs, event: .alertSent,
                        evidence: "\(about) → \(target)"))
            }
            // Stable: rows at the same millisecond keep their order (detected before alert sent).
            incidents[index].timeline = incidents[index].timeline.enumerated()
                .sorted { ($0.element.timeMs, $0.offset) < ($1.element.timeMs, $1.offset) }.map(\.element)
        }
        incidents.sort { ($0.startedMs, $0.check) < ($1.startedMs, $1.check) }
        return Result(incidents: incidents, stats: stats, skippedEvents: skippedEvents)
    }
}
