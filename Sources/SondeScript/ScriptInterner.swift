import Foundation

/// Loads check files for a set of checks, parsing each distinct text once per folder: files with
/// the same bytes in the same folder (a fleet generated from one template, the same check under
/// many names) share one parsed script, its settings and entries stored once. A file whose text
/// differs from every other costs what `ScriptLoader.load` costs. The folder is part of the key
/// because a script's `file,name;` bodies are read relative to its folder.
///
/// Scripts handed in at the start (the set a reload replaces) are shared the same way, so an
/// unchanged file keeps the parsed script it had and compares equal without a walk of its entries;
/// those that name files are not, so a reload reads those files again. One interner serves one
/// `fileRoot`.
package struct ScriptInterner {
    /// Parsed scripts by folder, then by source text.
    private var parsed: [String: [String: CheckScript]] = [:]

    /// An interner that starts from `scripts` (those of the previous load, on a reload).
    package init<Scripts: Sequence>(sharing scripts: Scripts) where Scripts.Element == CheckScript {
        // A script that reads files is parsed again: a reload reads its files again.
        for script in scripts where !script.entries.contains(where: \.namesFiles) {
            parsed[Self.folder(of: script.path), default: [:]][script.source] = script
        }
    }

    /// An empty interner.
    package init() {}

    /// Reads `path` and returns its script: the parse of an earlier file with the same text in the
    /// same folder under this file's path and name, or a new parse (as `ScriptLoader.load`).
    package mutating func load(_ path: String, fileRoot: String? = nil) throws(LoadError) -> CheckScript {
        let data = try ScriptLoader.read(path)
        let folder = Self.folder(of: path)
        let text = String(decoding: data, as: UTF8.self)
        if let known = parsed[folder]?[text] {
            return known.sharing(path: path, name: ScriptParser.checkName(path: path))
        }
        let script = try ScriptLoader.parse(data, path: path, fileRoot: fileRoot)
        // Keyed by the script's own copy of the text: the key costs no second copy.
        parsed[folder, default: [:]][script.source] = script
        return script
    }

    private static func folder(of path: String) -> String {
        (path as NSString).deletingLastPathComponent
    }
}
