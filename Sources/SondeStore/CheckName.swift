import SondeSupport

/// The rules a check's name must follow, since it names a folder of the data folder and the files
/// of a report (docs/check-format.md, "Check names"): at most 128 bytes of UTF-8, no control
/// characters, not hidden (a leading `.`), and not one of sonde's own files in the data folder
/// (any name ending in `.jsonl` is kept for those).
package enum CheckName {
    /// The longest name, in bytes of UTF-8: with `runs-YYYY-MM-DD.jsonl` or a report's
    /// `-incident-N.md` after it, a path component stays well under the usual 255-byte limit.
    package static let maxBytes = 128

    /// Why `name` cannot be a check's name, or nil when it can.
    package static func problem(_ name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        if ControlText.hasControl(name) {
            return "the name holds control characters (\(ControlText.escaped(name))); rename the file"
        }
        if name.utf8.count > maxBytes {
            return
                "the name is \(name.utf8.count) bytes long; a check's name is at most \(maxBytes) bytes (UTF-8), rename the file"
        }
        if name.hasPrefix(".") { return "a name starting with '.' is hidden in the data folder; rename the file" }
        if DataFolder.ownNames.contains(name) || name.hasSuffix(".jsonl") {
            return
                "'\(name)' is one of sonde's own files in the data folder (names ending in .jsonl are kept for those); rename the file"
        }
        return nil
    }

    /// Whether `name` follows the rules.
    package static func isValid(_ name: String) -> Bool { problem(name) == nil }
}
