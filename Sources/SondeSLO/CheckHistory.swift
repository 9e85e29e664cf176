import SondeProbe
import SondeScript
import SondeStore
import SondeSupport

/// One check's data for SLO figures, read once: closed hours (stored hour lines, or rebuilt from raw
/// runs where a line is missing) and raw runs where exact figures need them — the recent range and
/// the partial hours at the start of long windows. Windows are then summed from whole hours plus
/// raw runs for partial hours, so every figure is exact. Several data folders (locations) merge.
package struct CheckHistory: Sendable {
    package let check: String
    package let nowMs: Int64
    /// Closed hours: hour start → location → counts.
    package private(set) var hours: [Int64: [String: HourRollup]] = [:]
    /// Raw runs kept (recent range and edge hours), sorted by start time.
    package private(set) var runs: [RunRecord] = []
    /// Raw runs are complete from here to `nowMs`.
    let rawFromMs: Int64
    /// Locations seen, sorted.
    package private(set) var locations: [String] = []
    /// What the readers skipped.
    package private(set) var stats = ReadStats()
    /// Runs stamped after `nowMs` (clock trouble on a prober), ignored.
    private(set) var future = 0
    private let fastMs: Double?

    /// Reads `check` from every folder: hours in `[hoursFromMs, now)`, raw runs in
    /// `[rawFromMs, now]` and in the hours holding each of `edgesMs`.
    package init(
        check: String, readers: [RunReader], nowMs: Int64, hoursFromMs: Int64, rawFromMs: Int64,
        edgesMs: [Int64], fastMs: Double?
    ) {
        self.check = check
        self.nowMs = nowMs
        self.rawFromMs = rawFromMs
        self.fastMs = fastMs
        let currentHour = UTCTime.hourStart(nowMs)
        let edgeHours = Set(edgesMs.map(UTCTime.hourStart))
        var locationSet = Set<String>()
        for reader in readers {
            var readStats = ReadStats()
            var stored: [Int64: [String: HourRollup]] = [:]
            reader.forEachStoredHour(check: check, from: hoursFromMs, to: currentHour, stats: &readStats) { rollup in
                stored[rollup.hour, default: [:]][rollup.location] = rollup  // the last line wins
            }
            var rebuilt: [Int64: [String: HourRollup]] = [:]
            for file in reader.folder.runFiles(check: check) {
                let dayEnd = file.day + UTCTime.msPerDay
                guard dayEnd > min(hoursFromMs, rawFromMs), file.day <= nowMs else { continue }
                let recent = dayEnd > rawFromMs
                let edge = edgeHours.contains { $0 >= file.day && $0 < dayEnd }
                // A day whose closed hours (in range) all have lines needs no rebuilding.
                var missing = false
                var hour = max(file.day, UTCTime.hourStart(hoursFromMs))
                while hour < min(dayEnd, currentHour) {
                    if stored[hour] == nil {
                        missing = true
                        break
                    }
                    hour += UTCTime.msPerHour
                }
                guard recent || edge || missing else { continue }
                let wanted = { (time: Int64) -> Bool in
                    let hour = UTCTime.hourStart(time)
                    return time >= rawFromMs || edgeHours.contains(hour)
                        || (hour < currentHour && hour >= hoursFromMs && stored[hour] == nil) || time > nowMs
                }
                RunReader.decodeLines(file.path, RunLine.decode, stats: &readStats, wanted: wanted) { record in
                    guard record.time >= file.day, record.time < dayEnd else { return }
                    if record.time > nowMs {
                        future += 1
                        return
                    }
                    let hour = UTCTime.hourStart(record.time)
                    if record.time >= rawFromMs || edgeHours.contains(hour) { runs.append(record) }
                    if hour < currentHour, hour >= hoursFromMs, stored[hour]?[record.location] == nil {
                        rebuilt[hour, default: [:]][
                            record.location,
                            default: HourRollup(
                                hour: hour, check: check, location: record.location, fastMs: fastMs)
                        ].add(record)
                    }
                }
            }
            for (hour, byLocation) in stored.merging(rebuilt, uniquingKeysWith: { a, b in a.merging(b) { x, _ in x } })
            {
                for (location, rollup) in byLocation {
                    hours[hour, default: [:]][location] = rollup
                    locationSet.insert(location)
                }
            }
            stats.merge(readStats)
        }
        for record in runs { locationSet.insert(record.location) }
        runs.sort { $0.time < $1.time }
        locations = locationSet.sorted()
    }

    /// Counts over `[fromMs, toMs)` for one location, or all of them merged (`nil`).
    package func counts(fromMs: Int64, toMs: Int64, location: String? = nil) -> WindowCounts {
        var counts = WindowCounts(fromMs: fromMs, toMs: toMs)
        forEachPiece(fromMs: fromMs, toMs: toMs) { pieces in
            counts.add(hour: pieces.lazy.filter { location == nil || $0.key == location }.map(\.value))
        }
        return counts
    }

    /// The latest run kept (recent range), if any.
    var latestRun: RunRecord? { runs.last }

    /// Raw runs in `[fromMs, toMs)` (within the kept ranges).
    package func rawRuns(fromMs: Int64, toMs: Int64) -> ArraySlice<RunRecord> {
        runs[lowerBound(fromMs)..<lowerBound(toMs)]
    }

    /// Calls `body` with the per-location pieces of each hour overlapping the window: whole closed
    /// hours from `hours`, partial hours built from raw runs.
    private func forEachPiece(fromMs: Int64, toMs: Int64, _ body: ([String: HourRollup]) -> Void) {
        guard toMs > fromMs else { return }
        var hour = UTCTime.hourStart(fromMs)
        while hour < toMs {
            let end = hour + UTCTime.msPerHour
            if hour >= fromMs, end <= toMs, end <= nowMs {
                if let pieces = hours[hour] { body(pieces) }
            } else {
                var pieces: [String: HourRollup] = [:]
                for record in rawRuns(fromMs: max(fromMs, hour), toMs: min(toMs, end)) {
                    pieces[
                        record.location,
                        default: HourRollup(
                            hour: hour, check: check, location: record.location,
                            fastMs: fastMs)
                    ].add(record)
                }
                if !pieces.isEmpty { body(pieces) }
            }
            hour = end
        }
    }

    private func lowerBound(_ time: Int64) -> Int {
        var low = 0
        var high = runs.count
        while low < high {
            let mid = (low + high) / 2
            if runs[mid].time < time { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
