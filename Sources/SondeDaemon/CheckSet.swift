import SondeIncidents
import SondeProbe
import SondeRender
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// The checks of a folder, loaded for the daemon: one script per check name. Loading again (SIGHUP)
/// keeps the previous version of a check whose file no longer parses. With a shard, only the checks
/// whose names fall in it are loaded.
package struct CheckSet: Sendable {
    /// Scripts by check name.
    package var scripts: [String: CheckScript] = [:]
    /// The part of the folder loaded (`--shard`); the whole folder by default.
    package var shard: Shard = .whole
    /// How many check names the folder holds, in every shard (the count the log compares with).
    package var inFolder = 0

    /// An empty set.

    /// Why a load found problems; each is one log line.
    package struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// True for a second file with a name already taken; false for a file that does not parse.
        package var isDuplicate: Bool
        package var description: String
        /// True for a file whose name no check may have (`CheckName`): it is refused, and the rest
        /// of the folder runs, at start as on reload.
        package var isRefusedName = false
    }

    /// What changed between two sets.
    package struct Changes: Sendable, Equatable {
        /// Checks in the new set only.
        var added: [String] = []
        /// Checks in both sets whose scripts differ.
        var changed: [String] = []
        /// Checks in the old set only.
        var removed: [String] = []

        /// Whether nothing changed.
        var isEmpty: Bool { added.isEmpty && changed.isEmpty && removed.isEmpty }
    }

    /// Sorted scripts.
    package var sorted: [CheckScript] { scripts.keys.sorted().compactMap { scripts[$0] } }

    /// `3 checks`, or with a shard `3 of 8 checks (shard 2/3)`: what the log says at start and reload.
    package var summary: String {
        let noun = (shard.isWhole ? scripts.count : inFolder) == 1 ? "check" : "checks"
        guard !shard.isWhole else { return "\(scripts.count) \(noun)" }
        return "\(scripts.count) of \(inFolder) \(noun) (shard \(shard))"
    }

    /// Loads every `.hurl` under `folder` whose check name falls in `shard`. Files that do not parse,
    /// and second files with a name already taken, are left out and reported; when `previous` holds a
    /// check whose file now fails to parse, its previous version is kept. Files of other shards are
    /// not read, so their problems are reported by the prober that runs them. Files with the same
    /// text in the same folder share one parsed script (`ScriptInterner`).
    package static func load(
        _ folder: String, previous: CheckSet? = nil,
        shard: Shard = .whole
    ) throws(LoadError) -> (CheckSet, [Problem]) {
        let files = try ScriptLoader.expand([folder])
        var set = CheckSet()
        set.shard = shard
        set.inFolder = Set(files.map { ScriptParser.checkName(path: $0) }).count
        var paths: [String: String] = [:]
        var problems: [Problem] = []
        // Files with the same text share one parsed script; on a reload, the unchanged ones keep theirs.
        var interner = ScriptInterner(sharing: previous.map { Array($0.scripts.values) } ?? [])
        for file in files {
            let name = ScriptParser.checkName(path: file)
            guard shard.contains(name) else { continue }
            if let reason = CheckName.problem(name) {
                problems.append(
                    Problem(
                        isDuplicate: false,
                        description: "\(ControlText.escaped(file)): not loaded: \(reason)", isRefusedName: true))
                continue
            }
            if let first = paths[name] {
                problems.append(
                    Problem(
                        isDuplicate: true,
                        description:
                            "\(file): a check named '\(name)' is already loaded from \(first); a check's name is its file name, so rename one (this file is not loaded)"
                    ))
                continue
            }
            paths[name] = file
            do {
                set.scripts[name] = try interner.load(file)
            } catch {
                var text = error.description
                if let old = previous?.scripts[name] {
                    set.scripts[name] = old
                    text += " (keeping the previous version of '\(name)')"
                }
                problems.append(Problem(isDuplicate: false, description: text))
            }
        }
        return (set, problems)
    }

    /// What differs from `old` to `self`.
    func changes(from old: CheckSet) -> Changes {
        var changes = Changes()
        for name in scripts.keys.sorted() {
            if let before = old.scripts[name] {
                if before != scripts[name] { changes.changed.append(name) }
            } else {
                changes.added.append(name)
            }
        }
        changes.removed = old.scripts.keys.filter { scripts[$0] == nil }.sorted()
        return changes
    }
}
