import SondeSupport

extension CheckScript {
    /// Options a check may hold for `hurl` or `sonde check` that the daemon does nothing with
    /// (`output`, `verbose`, `very-verbose`): one note per option and line,
    /// `path:line:col: note: option output is ignored by sonde run (…)`.
    package var daemonNotes: [String] {
        var notes: [String] = []
        for entry in entries {
            for option in entry.request.options {
                let name: String
                switch option.kind {
                case .text(.output, _): name = "output"
                case .flag(.verbose, _): name = "verbose"
                case .flag(.veryVerbose, _): name = "very-verbose"
                default: continue
                }
                notes.append(
                    "\(path):\(option.location.line):\(option.location.column): note: option \(name) is ignored by "
                        + "sonde run (it keeps no response bodies and prints no transfers)")
            }
        }
        return notes
    }
}
