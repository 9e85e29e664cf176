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
        let folder = out + "/incidents"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for file in writeUp.files() {
                try Data(file.contents.utf8).write(to: URL(fileURLWithPath: folder + "/" + file.path), options: .atomic)
            }
        } catch {
            console.err("error: cannot write \(folder): \((error as NSError).localizedDescription)\n")
            return ExitCode.runtime
        }
        let ongoing = result.incidents.filter { !$0.isResolved }.count
        console.out(
            "wrote \(folder)/README.md and \(result.incidents.count) write-up\(result.incidents.count == 1 ? "" : "s")"
                + (ongoing > 0 ? " (\(ongoing) ongoing)" : "")
                + (result.episodes.isEmpty
                    ? "" : ", \(result.episodes.count) threshold alert episode\(result.episodes.count == 1 ? "" : "s")")
                + "\n")
        if result.stats.skipped > 0 { console.err("note: \(result.stats.skipped) data lines could not be read\n") }
        return ExitCode.ok
    }
}
