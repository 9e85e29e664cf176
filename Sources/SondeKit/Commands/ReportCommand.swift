import Foundation

/// `sonde report`: SLO figures of every check from one or more data folders, written as Markdown and
/// SVG into `reports/` (design §7, §9, §11), or printed as JSON.
public struct ReportCommand: Sendable {
    public var data: [String] = ["data"]
    public var out = "reports"
    /// Folder of check scripts whose `@slo`, `@latency` and `@every` set each check's objectives.
    public var checks = "checks"
    /// Overrides every check's objective window (`--window 7d`).
    public var windowMs: Int64?
    public var json = false

    public init() {}

    /// Why a report cannot be made.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case missingFolder(String)
        case noData([String])
        case cannotWrite(String, String)

        public var description: String {
            switch self {
            case .missingFolder(let path):
                return "no data folder \(path): start the prober with 'sonde run --data \(path)', or point --data at one"
            case .noData(let paths):
                return "no run data in \(paths.joined(separator: ", ")): nothing to report yet (sonde run writes <check>/runs-*.jsonl there)"
            case .cannotWrite(let path, let reason):
                return "cannot write \(path): \(reason)"
            }
        }
    }

    public func run(console: Console, now: Date = Date()) -> Int32 {
        do {
            let report = try build(now: now)
            if json {
                console.out(ReportJSON.encode(report) + "\n")
            } else {
                try write(report)
                console.out("wrote \(out)/README.md and \(report.checks.count) check pages\n")
            }
            let skipped = report.checks.reduce(0) { $0 + $1.stats.skipped }
            if skipped > 0 { console.err("note: \(skipped) data lines could not be read (see the report's footnote)\n") }
            return ExitCode.ok
        } catch {
            console.err("error: \(error)\n")
            return ExitCode.usage
        }
    }

    /// Reads every folder and computes each check's figures.
    public func build(now: Date) throws(Failure) -> SLOReport {
        var isDirectory: ObjCBool = false
        for folder in data where !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw .missingFolder(folder)
        }
        let readers = data.map { RunReader(folder: DataFolder($0)) }
        let names = Set(readers.flatMap { $0.folder.checks() }).sorted()
        guard !names.isEmpty else { throw .noData(data) }
        let settings = Self.settings(checks)
        let nowMs = UTCTime.milliseconds(now)
        var defaulted = Set<String>()
        var figures: [CheckSLO] = []
        for name in names {
            var policy: SLOPolicy
            if let found = settings[name] {
                policy = SLOPolicy(settings: found)
            } else {
                policy = SLOPolicy()
                defaulted.insert(name)
            }
            if let windowMs { policy.windowMs = windowMs }
            figures.append(SLOEvaluator.evaluate(check: name, readers: readers, policy: policy, nowMs: nowMs))
        }
        return SLOReport(checks: figures, folders: data, nowMs: nowMs, defaulted: defaulted)
    }

    /// Writes the report's files, replacing the previous ones it wrote.
    func write(_ report: SLOReport) throws(Failure) {
        for file in report.files() {
            let path = out + "/" + file.path
            do {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw .cannotWrite(path, (error as NSError).localizedDescription)
            }
        }
    }

    /// Monitor settings by check name from the scripts in `folder`; files that do not parse are left
    /// out (their checks get the defaults, and the report says so).
    static func settings(_ folder: String) -> [String: MonitorSettings] {
        guard let files = try? ScriptLoader.expand([folder]) else { return [:] }
        var out: [String: MonitorSettings] = [:]
        for file in files {
            if let script = try? ScriptLoader.load(file) { out[script.name] = script.settings }
        }
        return out
    }
}
