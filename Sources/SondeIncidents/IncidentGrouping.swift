/// One outage, one write-up (README.md, "sonde incidents"): which incidents of several checks are
/// one outage. Incidents are taken by start; an incident joins the latest group when it started at
/// most `intervals` × the longest `@every` among the group's checks and its own after the group's
/// first start, and it overlaps in time an incident of the group (from its start to its resolution,
/// or to its latest run while ongoing). Otherwise it starts a group of its own. `intervals` 0 puts
/// every incident in a group of its own.
package struct IncidentGrouping: Sendable, Equatable {
    /// The default of `--group-within`: five intervals.
    package static let defaultIntervals = 5

    /// How many check intervals apart two starts may be.
    package var intervals: Int

    /// The rule with `intervals` (below 0 counts as 0).
    package init(intervals: Int = IncidentGrouping.defaultIntervals) {
        self.intervals = max(0, intervals)
    }

    /// `incidents` in groups, by the first start; within a group by start (ties: the check's name).
    /// `intervalMs` gives each check's `@every`.
    package func groups(_ incidents: [Incident], nowMs: Int64, intervalMs: (String) -> Int64) -> [IncidentGroup] {
        let sorted = incidents.sorted { ($0.startedMs, $0.check, $0.id) < ($1.startedMs, $1.check, $1.id) }
        var out: [IncidentGroup] = []
        for incident in sorted {
            if intervals > 0, var group = out.last {
                let longest = (group.incidents.map { intervalMs($0.check) } + [intervalMs(incident.check)]).max() ?? 0
                let near = incident.startedMs - group.startedMs <= Int64(intervals) * longest
                let end = Self.endMs(incident, nowMs: nowMs)
                let overlaps = group.incidents.contains { other in
                    incident.startedMs <= Self.endMs(other, nowMs: nowMs) && other.startedMs <= end
                }
                if near, overlaps {
                    group.incidents.append(incident)
                    out[out.count - 1] = group
                    continue
                }
            }
            out.append(IncidentGroup(incidents: [incident]))
        }
        return out
    }

    /// When an incident ends for the overlap test: its resolution, or while ongoing its latest run.
    static func endMs(_ incident: Incident, nowMs: Int64) -> Int64 {
        incident.resolvedMs ?? (incident.startedMs + incident.durationMs(nowMs: nowMs))
    }
}

/// Incidents of one outage: one write-up, named after the incident that started first.
package struct IncidentGroup: Sendable, Equatable {
    /// By start (ties: the check's name); never empty.
    package var incidents: [Incident]

    /// The write-up's name (without `.md`): the first incident's id.
    package var id: String { incidents.first?.id ?? "" }
    /// The first start.
    package var startedMs: Int64 { incidents.first?.startedMs ?? 0 }
    /// The checks, in the order they failed (each once).
    package var checks: [String] {
        var seen: Set<String> = []
        return incidents.map(\.check).filter { seen.insert($0).inserted }
    }
    /// Whether every incident of the group is resolved.
    package var isResolved: Bool { incidents.allSatisfy(\.isResolved) }
    /// The last resolution (nil while one is ongoing).
    package var resolvedMs: Int64? {
        isResolved ? incidents.compactMap(\.resolvedMs).max() : nil
    }
}
