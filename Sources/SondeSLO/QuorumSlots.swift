import SondeStore
import SondeSupport

/// The fleet's verdict on one check, slot by slot (README.md, "sonde report", Locations): the runs of
/// every location lined up on the check's `SlotGrid`, and each slot counted down when the quorum of
/// the locations that ran in it failed (`LocationQuorum`). Windows are then counted from prefix sums,
/// so any window costs two binary searches.
package struct QuorumSlots: Sendable {
    /// One location's outcome in one slot: it ran, and failed or not.
    package struct Mark: Sendable, Equatable {
        /// The slot number on the grid.
        package var slot: Int64
        /// The location's index (0-based) among the check's locations.
        package var location: Int
        /// Whether a run of the location in the slot failed.
        package var failed: Bool
        /// How many slots the mark stands for: 1, or more for a minute mark of a check that runs
        /// more often than once a minute.
        package var weight: Int64 = 1

        /// A mark from its parts.
        package init(slot: Int64, location: Int, failed: Bool, weight: Int64 = 1) {
            self.slot = slot
            self.location = location
            self.failed = failed
            self.weight = weight
        }
    }

    /// One covered slot: how many locations ran and failed, and the quorum's verdict.
    package struct Verdict: Sendable, Equatable {
        package var slot: Int64
        package var ran: Int
        package var failed: Int
        package var weight: Int64
        package var down: Bool
    }

    /// The check's slots.
    package let grid: SlotGrid
    /// The quorum the verdicts apply.
    package let quorum: LocationQuorum
    /// Covered slots, in time order.
    package private(set) var verdicts: [Verdict] = []
    /// Running totals before each verdict (and after the last): covered, down, full, short.
    private var totals: [SlotCounts] = [SlotCounts()]

    /// The verdicts of `marks`. A location with several marks in a slot failed there when any of
    /// them failed.
    package init(grid: SlotGrid, quorum: LocationQuorum, marks: [Mark]) {
        self.grid = grid
        self.quorum = quorum
        let sorted = marks.sorted { ($0.slot, $0.location) < ($1.slot, $1.location) }
        var index = 0
        while index < sorted.count {
            let slot = sorted[index].slot
            var ran = 0
            var failed = 0
            var weight: Int64 = 1
            while index < sorted.count, sorted[index].slot == slot {
                let location = sorted[index].location
                var bad = false
                while index < sorted.count, sorted[index].slot == slot, sorted[index].location == location {
                    bad = bad || sorted[index].failed
                    weight = max(weight, sorted[index].weight)
                    index += 1
                }
                ran += 1
                if bad { failed += 1 }
            }
            verdicts.append(
                Verdict(
                    slot: slot, ran: ran, failed: failed, weight: weight,
                    down: quorum.isDown(ran: ran, failed: failed)))
        }
        totals.reserveCapacity(verdicts.count + 1)
        var running = SlotCounts()
        for verdict in verdicts {
            running.slots += verdict.weight
            if verdict.down { running.down += verdict.weight }
            if verdict.ran >= quorum.locations { running.full += verdict.weight }
            if quorum.isShort(ran: verdict.ran) { running.short += verdict.weight }
            totals.append(running)
        }
    }

    /// The slots whose start lies in `[fromMs, toMs)`.
    package func counts(fromMs: Int64, toMs: Int64) -> SlotCounts {
        guard toMs > fromMs else { return SlotCounts() }
        let first = firstSlot(atOrAfter: fromMs)
        let end = firstSlot(atOrAfter: toMs)
        let low = lowerBound(first)
        let high = lowerBound(end)
        var counts = SlotCounts()
        counts.possible = max(0, end - first)
        counts.slots = totals[high].slots - totals[low].slots
        counts.down = totals[high].down - totals[low].down
        counts.full = totals[high].full - totals[low].full
        counts.short = totals[high].short - totals[low].short
        return counts
    }

    /// The latest covered slot starting before `toMs`, if any.
    package func latest(before toMs: Int64) -> Verdict? {
        let index = lowerBound(firstSlot(atOrAfter: toMs))
        return index > 0 ? verdicts[index - 1] : nil
    }

    /// The first slot number whose start is at or after `timeMs`.
    func firstSlot(atOrAfter timeMs: Int64) -> Int64 {
        let offset = timeMs - grid.phaseMs
        let up = offset >= 0 ? (offset + grid.intervalMs - 1) / grid.intervalMs : -((-offset) / grid.intervalMs)
        return up
    }

    private func lowerBound(_ slot: Int64) -> Int {
        var low = 0
        var high = verdicts.count
        while low < high {
            let mid = (low + high) / 2
            if verdicts[mid].slot < slot { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The marks of `history` from `fromMs` on: exact for the raw runs it keeps (the last day), and
    /// from the hour lines' minute marks before that — a location that ran in a minute ran in the
    /// slot nearest the middle of the minute, and failed there when a run of the minute failed;
    /// with `@every` under a minute, such a minute stands for a minute's worth of slots.
    package static func marks(_ history: CheckHistory, grid: SlotGrid, fromMs: Int64) -> [Mark] {
        let index = Dictionary(uniqueKeysWithValues: history.locations.enumerated().map { ($1, $0) })
        let rawFrom = UTCTime.hourStart(history.rawFromMs)
        var marks: [Mark] = []
        let weight = grid.intervalMs >= 60_000 ? 1 : max(1, 60_000 / grid.intervalMs)
        for (hour, byLocation) in history.hours where hour < rawFrom && hour + UTCTime.msPerHour > fromMs {
            for (name, rollup) in byLocation {
                guard let location = index[name], rollup.minutes != 0 else { continue }
                for minute in 0..<60 where rollup.minutes & (1 << UInt64(minute)) != 0 {
                    let middle = hour + Int64(minute) * 60_000 + 30_000
                    guard middle >= fromMs else { continue }
                    marks.append(
                        Mark(
                            slot: grid.slot(scheduledMs: middle), location: location,
                            failed: rollup.badMinutes & (1 << UInt64(minute)) != 0, weight: weight))
                }
            }
        }
        for run in history.runs where run.time >= rawFrom && run.time >= fromMs {
            guard let location = index[run.location] else { continue }
            marks.append(
                Mark(slot: grid.slot(timeMs: run.time, lateMs: run.lateMs), location: location, failed: !run.ok))
        }
        return marks
    }
}
