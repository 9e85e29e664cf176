import SondeProbe
import SondeRun
import SondeScript
import SondeSupport

/// Reads a data folder: run lines of a check over a time range, hour rollups (rebuilt from raw runs
/// where an hour line is missing), the latest run. Shared by `status`, reports and incidents.
/// Bad lines are skipped and counted in `ReadStats`, never fatal.
package struct RunReader: Sendable {
    package var folder: DataFolder

    package init(folder: DataFolder) {
        self.folder = folder
    }

    /// Calls `body` with every run of `check` that started in `[from, to)` (epoch ms), in file order
    /// (oldest day first; lines in the order they were appended).
    package func forEachRun(
        check: String, from: Int64 = .min, to: Int64 = .max, stats: inout ReadStats,
        _ body: (RunRecord) -> Void
    ) {
        for file in folder.runFiles(check: check) {
            let dayEnd = file.day + UTCTime.msPerDay
            // A run started at 23:59:59.9 is filed under its start day, so day files bound their runs.
            guard dayEnd > from, file.day < to else { continue }
            let inRange: (Int64) -> Bool = { $0 >= from && $0 < to }
            Self.decodeLines(file.path, RunLine.decode, stats: &stats, wanted: inRange) { record in
                if record.time >= from, record.time < to { body(record) }
            }
        }
    }

    /// Every run of `check` in `[from, to)`, oldest first.
    package func runs(check: String, from: Int64 = .min, to: Int64 = .max, stats: inout ReadStats) -> [RunRecord] {
        var out: [RunRecord] = []
        forEachRun(check: check, from: from, to: to, stats: &stats) { out.append($0) }
        // Files are appended in completion order; runs of one check never overlap, but lines from
        // other tools may not be sorted.
        if zip(out, out.dropFirst()).contains(where: { $0.time > $1.time }) {
            out.sort { $0.time < $1.time }
        }
        return out
    }

    /// Hour lines of `check` with hours in `[from, to)`, one per (hour, location), oldest first.
    /// When a file holds several lines for the same hour and location, the last one wins.
    func storedHours(
        check: String, from: Int64 = .min, to: Int64 = .max,
        stats: inout ReadStats
    ) -> [HourRollup] {
        var byKey: [HourKey: HourRollup] = [:]
        forEachStoredHour(check: check, from: from, to: to, stats: &stats) { rollup in
            byKey[HourKey(hour: rollup.hour, location: rollup.location)] = rollup
        }
        return byKey.values.sorted { ($0.hour, $0.location) < ($1.hour, $1.location) }
    }

    /// Every stored hour line of `check` for hours in `[from, to)`, in file order (month files in
    /// time order): where an hour and location has several lines, the last one given is the one
    /// that counts.
    package func forEachStoredHour(
        check: String, from: Int64 = .min, to: Int64 = .max, stats: inout ReadStats,
        _ body: (HourRollup) -> Void
    ) {
        for file in folder.hourFiles(check: check) {
            guard UTCTime.nextMonthStart(file.month) > from, file.month < to else { continue }
            Self.decodeLines(file.path, HourLine.decode, stats: &stats) { rollup in
                if rollup.hour >= from, rollup.hour < to { body(rollup) }
            }
        }
    }

    /// Hour rollups of `check` for closed hours in `[from, to)`: stored hour lines, plus hours rebuilt
    /// from raw runs wherever raw runs exist for an hour (and location) that has no line. `fastMs`
    /// is the latency threshold used for rebuilt hours.
    package func hours(
        check: String, from: Int64, to: Int64, fastMs: Double?,
        stats: inout ReadStats
    ) -> [HourRollup] {
        let stored = storedHours(check: check, from: from, to: to, stats: &stats)
        var byKey: [HourKey: HourRollup] = [:]
        for rollup in stored { byKey[HourKey(hour: rollup.hour, location: rollup.location)] = rollup }
        var rebuilt: [HourKey: HourRollup] = [:]
        forEachRun(check: check, from: from, to: to, stats: &stats) { record in
            let key = HourKey(hour: UTCTime.hourStart(record.time), location: record.location)
            guard byKey[key] == nil else { return }
            rebuilt[
                key,
                default: HourRollup(
                    hour: key.hour, check: check, location: key.location,
                    fastMs: fastMs)
            ].add(record)
        }
        for (key, rollup) in rebuilt { byKey[key] = rollup }
        return byKey.values.sorted { ($0.hour, $0.location) < ($1.hour, $1.location) }
    }

    /// The latest run of `check` (by start time), reading day files from the newest back.
    package func lastRun(check: String, stats: inout ReadStats) -> RunRecord? {
        for file in folder.runFiles(check: check).reversed() {
            var latest: RunRecord?
            forEachRunInFile(file.path, stats: &stats) { record in
                if latest == nil || record.time >= latest!.time { latest = record }
            }
            if let latest { return latest }
        }
        return nil
    }

    private func forEachRunInFile(_ path: String, stats: inout ReadStats, _ body: (RunRecord) -> Void) {
        Self.decodeLines(path, RunLine.decode, stats: &stats, body)
    }

    /// Decodes every complete line of a file, counting what it skips.
    /// With `wanted`, a run line whose start time (peeked without decoding the line) is not wanted
    /// is passed over undecoded: a report that needs one hour of a day file decodes that hour only.
    package static func decodeLines<T>(
        _ path: String, _ decode: (UnsafeBufferPointer<UInt8>) throws(LineError) -> T,
        stats: inout ReadStats, wanted: ((Int64) -> Bool)? = nil, _ body: (T) -> Void
    ) {
        var local = ReadStats()
        let reader = LineReader()
        var summary: LineReader.Summary?
        do {
            summary = try reader.forEachLine(path) { bytes, number in
                if let wanted, let time = RunLine.peekTime(bytes), !wanted(time) {
                    local.lines += 1
                    return
                }
                do throws(LineError) {
                    let value = try decode(bytes)
                    local.lines += 1
                    body(value)
                } catch {
                    if case .unknownVersion = error { local.unknownVersion += 1 }
                    local.skip(path, line: number, reason: error.description)
                }
            }
        } catch {
            switch error {
            case .cannotOpen(_, let reason): local.skip(path, line: 0, reason: "cannot read the file: \(reason)")
            case .cannotRead(_, let reason, let partial):
                summary = partial
                local.skip(path, line: partial.lines + 1, reason: "reading stopped: \(reason)")
            }
        }
        if let summary { local.count(summary, path: path, cap: reader.maxLineBytes) }
        stats.merge(local)
    }
}

/// An hour of one location.
struct HourKey: Hashable {
    var hour: Int64
    var location: String
}
