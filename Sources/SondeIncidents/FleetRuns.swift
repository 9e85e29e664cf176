import SondeSLO
import SondeStore
import SondeSupport

/// The fleet's runs of one check for `sonde incidents` over several locations: one run per time slot
/// in which a location ran, failed when the quorum of the locations that ran in it failed
/// (`QuorumSlots`, the verdicts `sonde report` counts), so the incident state machine finds the
/// fleet's incidents: down after `@down-after` slots down in a row, resolved after `@up-after` up.
package enum FleetRuns {
    /// The location an incident of the fleet is filed under: `fleet (quorum 2 of 3 locations)`.
    package static func label(_ quorum: LocationQuorum) -> String { "fleet (quorum \(quorum))" }

    /// One run per covered slot, in time order. A slot's run starts at the slot's earliest run; a
    /// down slot's run is its earliest failed run, with the locations that failed in front of its
    /// message (`at a, b: HTTP 503`); an up slot's run is its earliest good run (or its earliest run,
    /// when fewer locations than the quorum failed).
    package static func series(_ runs: [RunRecord], grid: SlotGrid, quorum: LocationQuorum) -> [RunRecord] {
        let names = Set(runs.map(\.location)).sorted()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let keyed = runs.map { (slot: grid.slot(timeMs: $0.time, lateMs: $0.lateMs), run: $0) }
        let marks = keyed.map { item in
            QuorumSlots.Mark(slot: item.slot, location: index[item.run.location] ?? 0, failed: !item.run.ok)
        }
        let slots = QuorumSlots(grid: grid, quorum: quorum, marks: marks)
        let bySlot = Dictionary(grouping: keyed, by: \.slot)
        let location = label(quorum)
        var out: [RunRecord] = []
        out.reserveCapacity(slots.verdicts.count)
        for verdict in slots.verdicts {
            guard let group = bySlot[verdict.slot]?.map(\.run).sorted(by: { $0.time < $1.time }),
                let earliest = group.first
            else { continue }
            var run: RunRecord
            if verdict.down, let failed = group.first(where: { !$0.ok }) {
                run = failed
                let failing = Set(group.filter { !$0.ok }.map(\.location)).sorted().joined(separator: ", ")
                run.error?.message = "at \(failing): " + (failed.error?.message ?? "failed")
            } else {
                run = group.first(where: \.ok) ?? earliest
                run.ok = true
                run.error = nil
            }
            run.time = earliest.time
            run.location = location
            run.lateMs = 0
            out.append(run)
        }
        return out
    }
}
