import SondeAlerts
import SondeDaemon
import SondeIncidents
import SondeProbe
import SondeRender
import SondeRun
import SondeSLO
import SondeScript
import SondeServe
import SondeStore
import SondeSupport

/// `sonde validate [PATH...]`: parses only; exit 0 when every file parses (warnings, such as an
/// `@every` too slow for `@keep-warm`, go to stderr), 2 otherwise (1 for bad paths).
struct ValidateCommand: Sendable {
    /// Check files and folders to parse (`checks` when none is given).
    var paths: [String]
    /// `--file-root DIR`: where `file,name;` may read (default: each check file's folder).
    var fileRoot: String? = nil

    /// The command for `paths`; `checks` when empty.
    init(paths: [String]) {
        self.paths = paths.isEmpty ? ["checks"] : paths
    }

    /// Parses every file and prints one line each; returns the exit code.
    func run(console: Console) -> Int32 {
        switch CheckCommand.loadAll(paths, console: console, names: true, fileRoot: fileRoot) {
        case .failure(let failure):
            return failure.code
        case .success(let scripts):
            for script in scripts {
                let n = script.entries.count
                console.out(
                    "\(script.path): valid (\(n) \(n == 1 ? "entry" : "entries"), every \(DurationText.setting(script.settings.every)))\n"
                )
                if let warning = script.keepWarmWarning { console.err(warning + "\n") }
            }
            return ExitCode.ok
        }
    }
}
