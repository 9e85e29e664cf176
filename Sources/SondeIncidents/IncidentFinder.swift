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
        /// Resolved and ongoing incidents, oldest first: the fleet's when several locations are read
        /// with a quorum, else each location's.
        package var incidents: [Incident]
        /// Each location's own incidents when `incidents` are the fleet's (empty otherwise), oldest
        /// first.
        package var locationIncidents: [Incident] = []
        package var stats: ReadStats
        /// Lines of `incidents.jsonl` that could not be read.
        var skippedEvents: Int
        /// Episodes of the checks' `@alert` rules, replayed over the same runs, by start.
        package var episodes: [ThresholdEpisode] = []
    }

    /// Replays `readers`' runs up to `nowMs`. `settings` gives each check's `@down-after`,
    /// `@up-after` and objectives (defaults for checks without a file). `quorum` gives a check's
    /// location quorum when several locations are read: its incidents are then the fleet's, found on
    /// time slots (`FleetRuns`), and each location's go to `locationIncidents`.
    package static func find(
        readers: [RunReader], settings: [String: MonitorSettings], nowMs: Int64,
        quorum: (String) -> LocationQuorum? = { _ in nil }
    ) -> Result {
        var locationIncidents: [Incident] = []
        var stats = ReadStats()
        var incidents: [Incident] = []
        var skippedEvents = 0
        var alerts: [String: [IncidentEvent]] = [:]
        var certificates: [String: [IncidentEvent]] = [:]
        for reader in readers {
            for event in IncidentEvent.readAll(reader.folder.incidentsFile, skipped: &skippedEvents) {
                if event.kind == .alertSent, let id = event.incident { alerts[id, default: []].append(event) }
                if event.kind == .certExpiring || event.kind == .certRenewed {
                    certificates[event.check, default: []].append(event)
                }
            }
        }
        let names = Set(readers.flatMap { $0.folder.checks() }).sorted()
        var episodes: [ThresholdEpisode] = []
        var fleetChecks: Set<String> = []  // checks whose incidents are the fleet's
        for name in names {
            let monitor = settings[name] ?? MonitorSettings()
            let fleetQuorum = quorum(name)
            var all: [RunRecord] = []
            var found: [Incident] = []
            var detectors: [String: IncidentDetector] = [:]
            var thresholds = ThresholdReplay(check: name, rules: monitor.alerts)
            for reader in readers {
                for file in reader.folder.runFiles(check: name) where file.day <= nowMs {
                    var runs: [RunRecord] = []
                    RunReader.decodeLines(file.path, RunLine.decode, stats: &stats) { run in
                        if run.time <= nowMs { runs.append(run) }
                    }
                    if zip(runs, runs.dropFirst()).contains(where: { $0.time > $1.time }) {
                        runs.sort { $0.time < $1.time }
                    }
                    if fleetQuorum != nil { all += runs.filter { $0.maintenance == nil } }
                    for run in runs {
                        var detector =
                            detectors[run.location]
                            ?? IncidentDetector(
                                check: name, location: run.location, settings: monitor, startMs: run.time)
                        for transition in detector.observe(run) {
                            if case .resolved(let incident) = transition { found.append(incident) }
                        }
                        detectors[run.location] = detector
                        thresholds.add(run)
                    }
                }
            }
            for (_, detector) in detectors.sorted(by: { $0.key < $1.key }) {
                if let ongoing = detector.ongoing() { found.append(ongoing) }
            }
            episodes += thresholds.episodes
            guard let fleetQuorum else {
                incidents += found
                continue
            }
            fleetChecks.insert(name)
            locationIncidents += found
            all.sort { $0.time < $1.time }
            let grid = SlotGrid(check: name, intervalMs: Int64(monitor.every.milliseconds))
            let series = FleetRuns.series(all, grid: grid, quorum: fleetQuorum)
            if let first = series.first {
                var fleet = IncidentDetector(
                    check: name, location: FleetRuns.label(fleetQuorum), settings: monitor, startMs: first.time)
                for run in series {
                    for transition in fleet.observe(run) {
                        if case .resolved(let incident) = transition { incidents.append(incident) }
                    }
                }
                if let ongoing = fleet.ongoing() { incidents.append(ongoing) }
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
        // Each incident's timeline shows the threshold episodes of its check and location (any location for
        // the fleet's incidents) that started or ended while it was open.
        let episodeLocations = Set(episodes.map(\.location))
        for index in incidents.indices {
            let incident = incidents[index]
            let until = incident.resolvedMs ?? Int64.max
            // The certificate events the live prober wrote while the incident was open (any
            // location's for the fleet's incidents).
            let fleetIncident = fleetChecks.contains(incident.check)
            for event in certificates[incident.check] ?? []
            where (fleetIncident || event.location == incident.location) && event.timeMs >= incident.startedMs
                && event.timeMs <= until
            {
                incidents[index].timeline.append(
                    TimelineEntry(
                        timeMs: event.timeMs, event: event.kind == .certExpiring ? .certExpiring : .certRenewed,
                        evidence: CertificateWatch.text(event) + (fleetIncident ? " (at \(event.location))" : "")))
            }
            let fleet = !episodeLocations.contains(incident.location)
            for episode in episodes
            where episode.check == incident.check && (fleet || episode.location == incident.location) {
                if episode.startedMs >= incident.startedMs, episode.startedMs <= until {
                    incidents[index].timeline.append(
                        TimelineEntry(
                            timeMs: episode.startedMs, event: .thresholdStarted,
                            evidence: "\(episode.rule.severity.rawValue): \(episode.rule.text) "
                                + "(\(episode.rule.format(episode.value))\(fleet ? " at \(episode.location)" : ""))"))
                }
                if let ended = episode.endedMs, ended >= incident.startedMs, ended <= until {
                    incidents[index].timeline.append(
                        TimelineEntry(timeMs: ended, event: .thresholdEnded, evidence: episode.rule.text))
                }
            }
            incidents[index].timeline = incidents[index].timeline.enumerated()
                .sorted { ($0.element.timeMs, $0.offset) < ($1.element.timeMs, $1.offset) }.map(\.element)
        }
        episodes.sort { ($0.startedMs, $0.check, $0.location) < ($1.startedMs, $1.check, $1.location) }
        locationIncidents.sort { ($0.startedMs, $0.check, $0.location) < ($1.startedMs, $1.check, $1.location) }
        return Result(
            incidents: incidents, locationIncidents: locationIncidents, stats: stats, skippedEvents: skippedEvents,
            episodes: episodes)
    }
}
