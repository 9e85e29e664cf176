import Foundation
import SondeProbe
import SondeRun
import SondeScript
import SondeSupport

/// The layout of a data folder (docs/data-format.md, "Layout"):
/// `<check>/runs-YYYY-MM-DD.jsonl`, `<check>/hours-YYYY-MM.jsonl`, `incidents.jsonl`.
package struct DataFolder: Sendable, Equatable {
    /// The folder's path, as given.
    var root: String

    package init(_ root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    /// The folder of one check's files.
    func directory(of check: String) -> String { root + "/" + check }

    /// The raw-run file of the UTC day holding `ms`.
    func runsFile(check: String, at ms: Int64) -> String {
        directory(of: check) + "/runs-" + UTCTime.dayString(ms) + ".jsonl"
    }

    /// The hour-rollup file of the UTC month holding `ms`.
    func hoursFile(check: String, at ms: Int64) -> String {
        directory(of: check) + "/hours-" + UTCTime.monthString(ms) + ".jsonl"
    }

    package var incidentsFile: String { root + "/" + Self.incidentsName }

    /// The name of the incident log in the folder's root.
    package static let incidentsName = "incidents.jsonl"

    /// The names sonde itself writes in the folder's root, which no check may take
    /// (`CheckName`): the incident log, the maintenance log and the prober's lock.
    package static let ownNames: Set<String> = [incidentsName, "maintenance.jsonl", DataFolderLock.fileName]

    /// Folders holding run or hour files, sorted by name. Hidden names and sonde's own names
    /// (`incidents.jsonl`, any name ending in `.jsonl`) are never a check's and are left out.
    package func checks() -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        return names.filter { name in
            !name.hasPrefix(".") && !name.hasSuffix(".jsonl")
                && (!runFiles(check: name).isEmpty || !hourFiles(check: name).isEmpty)
        }.sorted()
    }

    /// Raw-run files of a check with their day's start, oldest first.
    package func runFiles(check: String) -> [(day: Int64, path: String)] {
        files(check: check, prefix: "runs-", parse: UTCTime.parseDay)
    }

    /// Hour files of a check with their month's start, oldest first.
    func hourFiles(check: String) -> [(month: Int64, path: String)] {
        files(check: check, prefix: "hours-", parse: UTCTime.parseMonth).map { (month: $0.0, path: $0.1) }
    }

    private func files(
        check: String, prefix: String,
        parse: (Substring) -> Int64?
    ) -> [(day: Int64, path: String)] {
        let directory = directory(of: check)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var out: [(day: Int64, path: String)] = []
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".jsonl") {
            let stamp = name.dropFirst(prefix.count).dropLast(6)
            if let start = parse(stamp) { out.append((start, directory + "/" + name)) }
        }
        return out.sorted { $0.day < $1.day }
    }
}
