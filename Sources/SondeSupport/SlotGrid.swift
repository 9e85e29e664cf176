/// The time slots of one check: the instants `phase + k × interval` (wall clock, epoch ms) at which
/// `sonde run` starts it, on every prober alike (docs/architecture.md, "Schedule"). `phase` is a
/// stable hash of the check's name as a fraction of the interval, so every location runs a check in
/// the same slots, and the files' runs can be lined up slot by slot across locations.
package struct SlotGrid: Sendable, Equatable {
    /// The check's `@every`, ms (at least 1).
    package let intervalMs: Int64
    /// The offset of the check's slots inside the interval, ms (`0 ..< intervalMs`).
    package let phaseMs: Int64

    /// The grid the scheduler gives `check` at `intervalMs`.
    package init(check: String, intervalMs: Int64) {
        let interval = max(1, intervalMs)
        self.intervalMs = interval
        self.phaseMs = min(interval - 1, Int64(Double(interval) * Self.fraction(of: check)))
    }

    /// A grid from its parts (`phaseMs` is taken modulo the interval).
    package init(intervalMs: Int64, phaseMs: Int64) {
        let interval = max(1, intervalMs)
        self.intervalMs = interval
        self.phaseMs = ((phaseMs % interval) + interval) % interval
    }

    /// Where a check's slots sit in its interval, as a fraction in `[0, 1)`: FNV-1a of the name, then
    /// a splitmix64 finaliser (FNV alone leaves names that differ in their last characters close
    /// together in the high bits). The same name always gets the same fraction; many names spread
    /// evenly.
    package static func fraction(of check: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in check.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        hash ^= hash >> 30
        hash &*= 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        hash &*= 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return Double(hash >> 11) / Double(1 << 53)
    }

    /// The slot whose start is nearest to `scheduledMs` (a run's start minus its lateness): runs start
    /// at their slot's start plus a few milliseconds, so the nearest start is theirs even when a clock
    /// or a record is off by up to half an interval.
    package func slot(scheduledMs: Int64) -> Int64 {
        let shifted = scheduledMs - phaseMs + intervalMs / 2
        return shifted >= 0 ? shifted / intervalMs : -((-shifted + intervalMs - 1) / intervalMs)
    }

    /// The slot of a run that started at `timeMs`, `lateMs` after its scheduled instant.
    package func slot(timeMs: Int64, lateMs: Double) -> Int64 {
        let late = lateMs.isFinite && lateMs > 0 ? Int64(min(lateMs, 1e15).rounded()) : 0
        return slot(scheduledMs: timeMs - late)
    }

    /// The start of slot `k`, epoch ms.
    package func startMs(_ k: Int64) -> Int64 { phaseMs + k * intervalMs }
}
