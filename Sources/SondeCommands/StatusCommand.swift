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

/// `sonde status [--data DIR]`: a table of every check in the data folder — state by the latest
/// run, its time and age, the latest error when down, and runs, uptime and p95 over 24 hours.
/// Exit 0 with a table, 1 when the folder is missing or holds no run data.
struct StatusCommand: Sendable {
    /// The data folder (`--data`, default `data`).
    var data: String

    /// Prints the table on standard output, or the reason there is none on standard error.
    func run(console: Console, now: Date = Date(), colour: Bool) -> Int32 {
        let folder = DataFolder(data)
        let checks = folder.checks()
        if checks.isEmpty {
            console.err("error: \(Self.emptyReason(data))\n")
            return ExitCode.usage
        }
        let reader = RunReader(folder: folder)
        var stats = ReadStats()
        let rows = checks.map { CheckStatus.compute(check: $0, reader: reader, now: now, stats: &stats) }
        let table = StatusTable(colour: colour)
        console.out(table.render(rows) + "\n" + table.footer(rows, stats: stats, folder: data))
        return ExitCode.ok
    }

    /// Why a folder without checks has no table: missing, not a folder, or empty.
    static func emptyReason(_ path: String) -> StatusError {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .missingFolder(path)
        }
        return isDirectory.boolValue ? .noRunData(path) : .notAFolder(path)
    }
}

/// Why `sonde status` has no table to print.
enum StatusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The data folder does not exist.
    case missingFolder(String)
    /// The path exists but is a file.
    case notAFolder(String)
    /// The folder holds no check with run or hour files.
    case noRunData(String)

    /// One line for the error message.
    var description: String {
        switch self {
        case .missingFolder(let path):
            return "no data folder \(path): start the prober with 'sonde run --data \(path)'"
        case .notAFolder(let path):
            return "\(path) is not a folder: give the data folder with --data DIR"
        case .noRunData(let path):
            return "no run data in \(path): start the prober with 'sonde run --data \(path)'"
        }
    }
}
