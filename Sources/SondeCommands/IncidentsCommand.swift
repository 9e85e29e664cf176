import Foundation
import SondeAlerts
import SondeDaemon
import SondeDemoShop
import SondeIncidents
import SondeProbe
import SondeRender
import SondeRun
import SondeSLO
import SondeScript
import SondeServe
import SondeStore
import SondeSupport

/// `sonde incidents`: finds the incidents in the data folders (the live detector's state machine,
/// replayed over the runs) and writes the write-ups into `<out>/incidents/`.
struct IncidentsCommand: Sendable {
    /// Data folders to read, one per location.
    var data: [String] = ["data"]
    /// The write-ups go into `<out>/incidents/`.
    var out = "reports"
    /// Check files whose `@down-after`, `@up-after` and objectives apply.
    var checks = "checks"
    /// Monitor settings by check, used instead of reading `checks` (`sonde demo`).
    var settings: [String: MonitorSettings]?
    /// `--quorum`: with several data folders, how many locations must fail in a time slot for the
    /// fleet to count it down, for checks whose file has no `@quorum`.
    var quorum: Quorum = .all
    /// `--group-within N`: incidents of several checks that start within N intervals of an
    /// outage's first start and overlap it are written up together; 0 writes each alone.
    var groupWithin = IncidentGrouping.defaultIntervals
    /// Remove the write-ups sonde wrote that belong to no incident found now (`sonde demo`, whose
    /// data folder starts empty): files whose first line is sonde's marker, or older write-ups of
    /// sonde's with its back link (`IncidentsCommand.stale`). Other files are left alone.
    var prune = false

    /// Finds the incidents up to `now`, writes the index and one page per incident; returns the exit code.
    func run(console: Console, now: Date = Date()) -> Int32 {
        do {
            try ReportCommand.validate(quorum, folders: data)
        } catch {
            console.err("error: \(error)\n")
            return ExitCode.usage
        }
        var isDirectory: ObjCBool = false
        for folder in data
        where !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) || !isDirectory.boolValue {
            console.err("error: \(ReportCommand.Failure.missingFolder(folder))\n")
            return ExitCode.usage
        }
        let readers = data.map { RunReader(folder: DataFolder($0)) }
        guard readers.contains(where: { !$0.folder.checks().isEmpty }) else {
            console.err("error: \(ReportCommand.Failure.noData(data))\n")
            return ExitCode.usage
        }
        let nowMs = UTCTime.milliseconds(now)
        let settings = self.settings ?? ReportCommand.settings(checks)
        let (fallback, folders) = (quorum, data.count)
        let names = Set(readers.flatMap { $0.folder.checks() }).sorted()
        if let note = ReportCommand.defaultsNote(Set(names.filter { settings[$0] == nil }), checks: checks) {
            console.err(note)
        }
        let quorums = Dictionary(
            uniqueKeysWithValues: names.compactMap { name in
                ReportCommand.quorum(of: settings[name], default: fallback, folders: folders).map { (name, $0) }
            })
        if let note = ReportCommand.cappedNote(quorums.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }) {
            console.err(note)
        }
        let result = IncidentFinder.find(readers: readers, settings: settings, nowMs: nowMs) { quorums[$0] }
        var writeUp = IncidentWriteUp(
            incidents: result.incidents, nowMs: nowMs, folders: data, stats: result.stats, episodes: result.episodes)
        writeUp.locationIncidents = result.locationIncidents
        writeUp.quorums = quorums
        writeUp.grouping = IncidentGrouping(intervals: groupWithin)
        writeUp.intervals = Dictionary(
            uniqueKeysWithValues: names.map { ($0, Int64((settings[$0] ?? MonitorSettings()).every.milliseconds)) })
        let folder = out + "/incidents"
        var removed = 0
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let files = writeUp.files()
            for file in files {
                try Data(file.contents.utf8).write(to: URL(fileURLWithPath: folder + "/" + file.path), options: .atomic)
            }
            if prune {
                for name in Self.stale(in: folder, keeping: Set(files.map(\.path))) {
                    try FileManager.default.removeItem(atPath: folder + "/" + name)
                    removed += 1
                }
            }
        } catch {
            console.err("error: cannot write \(folder): \((error as NSError).localizedDescription)\n")
            return ExitCode.runtime
        }
        let ongoing = result.incidents.filter { !$0.isResolved }.count
        let pages = writeUp.groups.count
        console.out(
            "wrote \(folder)/README.md and \(pages) write-up\(pages == 1 ? "" : "s")"
                + (pages == result.incidents.count ? "" : " of \(result.incidents.count) incidents")
                + (ongoing > 0 ? " (\(ongoing) ongoing)" : "")
                + (removed > 0 ? ", removed \(removed) stale write-up\(removed == 1 ? "" : "s")" : "")
                + (result.episodes.isEmpty
                    ? "" : ", \(result.episodes.count) threshold alert episode\(result.episodes.count == 1 ? "" : "s")")
                + "\n")
        if result.stats.skipped > 0 { console.err("note: \(result.stats.skipped) data lines could not be read\n") }
        return ExitCode.ok
    }

    /// The write-ups sonde wrote in `folder` that are not in `keeping`: Markdown files other than
    /// `README.md` whose first line is sonde's marker (`IncidentWriteUp.markedChecks`), or — written
    /// before the marker — whose name is `YYYY-MM-DDTHHMMZ-….md` and whose third line is the
    /// write-ups' back link `[← all incidents](README.md)`. Anything else is not sonde's.
    static func stale(in folder: String, keeping: Set<String>) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.sorted().filter { name in
            guard name.hasSuffix(".md"), name != "README.md", !keeping.contains(name),
                let handle = FileHandle(forReadingAtPath: folder + "/" + name)
            else { return false }
            defer { try? handle.close() }
            let head = String(decoding: handle.readData(ofLength: 4096), as: UTF8.self)
            let lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if let first = lines.first, IncidentWriteUp.markedChecks(firstLine: first) != nil { return true }
            let stamped = name.count > 18 && name.dropFirst(15).hasPrefix("Z-") && name.prefix(11).hasSuffix("T")
            return stamped && lines.count > 2 && lines[2] == "[← all incidents](README.md)"
        }
    }
}
