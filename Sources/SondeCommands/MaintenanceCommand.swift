import Foundation
import SondeScript
import SondeStore
import SondeSupport

/// `sonde maintenance add|list|end`: ad hoc maintenance windows in `DATA/maintenance.jsonl`
/// (README.md, "Maintenance windows"). Every mistake is a one-line `error: …` on standard error,
/// exit 1, and nothing is written. Works while a prober holds the data folder: the file has a lock
/// of its own (`MaintenanceLog`).
struct MaintenanceCommand: Sendable {
    /// The longest `--reason`, in characters.
    static let maximumReason = MaintenanceLog.maximumReason

    /// What to do.
    enum Action: Sendable, Equatable {
        /// Add a window for `check` (or every check with `all`).
        case add(check: String?, all: Bool, from: String, until: String?, reason: String?)
        /// List the windows.
        case list
        /// End window `id` now.
        case end(id: String)
    }

    var action: Action
    /// The data folder (`--data`).
    var data = "data"
    /// The check files (`--checks`).
    var checks = "checks"

    /// Why nothing was written.
    enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case checkAndAll(String)
        case noTarget
        case unknownCheck(String, checks: String, data: String, suggestion: String?)
        case missingUntil
        case missingReason
        case reasonLength(Int)
        case badTime(option: String, value: String)
        case endsBeforeStart(from: Int64, until: Int64)
        case inPast(until: Int64, now: Int64)
        case unknownID(String, path: String, known: [String])
        case alreadyOver(String, at: Int64)

        var description: String {
            switch self {
            case .checkAndAll(let check):
                return "give a check name or --all, not both (got '\(check)' and --all)"
            case .noTarget:
                return "give the check the window covers, or --all for every check"
            case .unknownCheck(let name, let checks, let data, let suggestion):
                return "unknown check '\(name)': no \(name).hurl in \(checks) and no runs of it in \(data)"
                    + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
            case .missingUntil:
                return "give the end with --until TIME or --until +DURATION (such as +2h)"
            case .missingReason:
                return "give the reason with --reason TEXT (reports show it)"
            case .reasonLength(let count):
                return count == 0
                    ? "--reason is empty: say why, reports show it"
                    : "--reason is \(count) characters long; at most \(MaintenanceCommand.maximumReason)"
            case .badTime(let option, let value):
                let extra = option == "--until" ? ", or a length such as +2h or +1h30m" : ", or now"
                return "\(option) '\(value)' is not a time: give an RFC 3339 time such as 2026-12-06T02:00:00Z\(extra)"
            case .endsBeforeStart(let from, let until):
                return "the window ends (\(UTCTime.rfc3339(until))) before it starts (\(UTCTime.rfc3339(from)))"
            case .inPast(let until, let now):
                return
                    "--until \(UTCTime.rfc3339(until)) is in the past (now is \(UTCTime.rfc3339(now))): nothing to add"
            case .unknownID(let id, let path, let known):
                return "no maintenance window '\(id)' in \(path)"
                    + (known.isEmpty ? " (it holds none)" : " (ids: \(known.joined(separator: ", ")))")
            case .alreadyOver(let id, let at):
                return "maintenance window \(id) is already over (since \(UTCTime.rfc3339(at)))"
            }
        }
    }

    /// Runs the subcommand: 0 done, 1 usage (nothing written), 3 the file cannot be written.
    func run(console: Console, now: Date = Date()) -> Int32 {
        let nowMs = UTCTime.milliseconds(now)
        let log = MaintenanceLog(folder: DataFolder(data))
        switch action {
        case .list:
            console.out(list(log.read(), nowMs: nowMs))
            return ExitCode.ok
        case .add(let check, let all, let from, let until, let reason):
            let entry: MaintenanceEntry
            do {
                entry = try validated(check: check, all: all, from: from, until: until, reason: reason, nowMs: nowMs)
            } catch {
                console.err("error: \(error)\n")
                return ExitCode.usage
            }
            var added = entry
            let outcome = write(log, console: console) { contents throws(Failure) in
                added.id = Self.nextID(contents.entries)
                return [.added(added)]
            }
            guard outcome == ExitCode.ok else { return outcome }
            console.out(
                "added maintenance window \(added.id): \(added.scope) from \(UTCTime.rfc3339(added.fromMs)) "
                    + "until \(UTCTime.rfc3339(added.untilMs)) (\(added.reason))\n")
            return ExitCode.ok
        case .end(let id):
            var ended: MaintenanceEntry?
            let outcome = write(log, console: console) { contents throws(Failure) in
                guard let entry = contents.entries.first(where: { $0.id == id }) else {
                    throw .unknownID(id, path: log.path, known: contents.entries.map(\.id))
                }
                guard entry.endMs > nowMs else { throw .alreadyOver(id, at: entry.endMs) }
                ended = entry
                return [.ended(id: id, atMs: nowMs)]
            }
            guard outcome == ExitCode.ok, let entry = ended else { return outcome }
            let what = entry.fromMs > nowMs ? "cancelled (it had not started)" : "ended"
            console.out("maintenance window \(id) (\(entry.scope)) \(what) at \(UTCTime.rfc3339(nowMs))\n")
            return ExitCode.ok
        }
    }

    /// Appends what `body` returns under the file's lock; prints the error and returns its exit code.
    private func write(
        _ log: MaintenanceLog, console: Console,
        _ body: (MaintenanceLog.Contents) throws(Failure) -> [MaintenanceLog.Event]
    ) -> Int32 {
        do {
            try log.update(body)
            return ExitCode.ok
        } catch {
            console.err("error: \(error)\n")
            if case .refused = error { return ExitCode.usage }
            return ExitCode.runtime
        }
    }

    /// The window the options describe (its id is given under the file's lock).
    func validated(
        check: String?, all: Bool, from: String, until: String?, reason: String?, nowMs: Int64
    ) throws(Failure) -> MaintenanceEntry {
        if let check, all { throw .checkAndAll(check) }
        guard check != nil || all else { throw .noTarget }
        if let check { try known(check) }
        let fromMs: Int64
        if from == "now" {
            fromMs = nowMs
        } else {
            guard let parsed = Self.time(from) else { throw .badTime(option: "--from", value: from) }
            fromMs = parsed
        }
        guard let until else { throw .missingUntil }
        let untilMs: Int64
        if until.hasPrefix("+") {
            guard let length = Self.length(until.dropFirst()) else { throw .badTime(option: "--until", value: until) }
            untilMs = fromMs + length
        } else {
            guard let parsed = Self.time(until) else { throw .badTime(option: "--until", value: until) }
            untilMs = parsed
        }
        guard untilMs > nowMs else { throw .inPast(until: untilMs, now: nowMs) }
        guard untilMs > fromMs else { throw .endsBeforeStart(from: fromMs, until: untilMs) }
        guard let reason else { throw .missingReason }
        let text = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= Self.maximumReason else { throw .reasonLength(text.count) }
        return MaintenanceEntry(
            id: "", check: check, fromMs: fromMs, untilMs: untilMs,
            reason: ControlText.escaped(text), addedMs: nowMs)
    }

    /// Refuses a name that is neither a check file of `checks` nor a check with runs in `data`.
    private func known(_ name: String) throws(Failure) {
        var names = Set(DataFolder(data).checks())
        if let paths = try? ScriptLoader.expand([checks]) {
            for path in paths { names.insert(((path as NSString).lastPathComponent as NSString).deletingPathExtension) }
        }
        guard !names.contains(name) else { return }
        throw .unknownCheck(
            name, checks: checks, data: data, suggestion: Suggestion.closest(to: name, in: names.sorted()))
    }

    /// `m` and one more than the highest number given so far.
    static func nextID(_ entries: [MaintenanceEntry]) -> String {
        let highest = entries.compactMap { $0.id.hasPrefix("m") ? Int($0.id.dropFirst()) : nil }.max() ?? 0
        return "m\(highest + 1)"
    }

    /// An RFC 3339 time, in epoch ms.
    static func time(_ text: String) -> Int64? {
        Array(text.utf8).withUnsafeBufferPointer(UTCTime.parseRFC3339)
    }

    /// `2h`, `1h30m`, `90m`, `45s`, `1d` in ms; nil for anything else or zero.
    static func length(_ text: Substring) -> Int64? {
        var total: Int64 = 0
        var digits = ""
        var units = 0
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            let unit: Int64
            switch character {
            case "d": unit = UTCTime.msPerDay
            case "h": unit = UTCTime.msPerHour
            case "m": unit = 60_000
            case "s": unit = 1000
            default: return nil
            }
            guard !digits.isEmpty, digits.count <= 6, let n = Int64(digits) else { return nil }
            total += n * unit
            digits = ""
            units += 1
        }
        guard digits.isEmpty, units > 0, total > 0 else { return nil }
        return total
    }

    /// The table of `sonde maintenance list`: ad hoc windows (with their state at `nowMs`), then the
    /// check files' recurring windows.
    func list(_ contents: MaintenanceLog.Contents, nowMs: Int64) -> String {
        var lines: [String] = []
        if contents.entries.isEmpty {
            lines.append("no ad hoc maintenance windows in \(MaintenanceLog(folder: DataFolder(data)).path)")
        } else {
            var rows = [["ID", "CHECK", "FROM", "UNTIL", "STATE", "REASON"]]
            for entry in contents.entries {
                let state: String
                if entry.endedMs != nil, entry.endMs < entry.untilMs {
                    state = entry.endMs <= entry.fromMs ? "cancelled" : "ended early"
                } else if nowMs < entry.fromMs {
                    state = "scheduled"
                } else {
                    state = entry.contains(nowMs) ? "active" : "over"
                }
                rows.append([
                    entry.id, entry.check ?? "(all)", UTCTime.rfc3339Seconds(entry.fromMs),
                    UTCTime.rfc3339Seconds(entry.endMs), state, entry.reason,
                ])
            }
            lines += Self.columns(rows)
        }
        if contents.skipped > 0 { lines.append("(\(contents.skipped) lines could not be read)") }
        var recurring = [["CHECK", "WINDOW", "FILE"]]
        if let paths = try? ScriptLoader.expand([checks]) {
            for path in paths {
                guard let script = try? ScriptLoader.load(path) else { continue }
                for window in script.settings.maintenance {
                    recurring.append([script.name, window.text, "\(path):\(window.location.line)"])
                }
            }
        }
        if recurring.count > 1 {
            lines += ["", "recurring (# @maintenance in \(checks)):"]
            lines += Self.columns(recurring)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Rows padded into columns.
    static func columns(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).enumerated().map { index, cell in
                index == row.count - 1 ? cell.0 : cell.0 + String(repeating: " ", count: cell.1 - cell.0.count)
            }.joined(separator: "  ")
        }
    }
}
