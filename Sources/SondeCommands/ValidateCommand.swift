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

/// `sonde validate [PATH...]`: parses only; exit 0 when every file parses, 2 otherwise (1 for bad paths).
package struct ValidateCommand: Sendable {
    package var paths: [String]

    package init(paths: [String]) {
        self.paths = paths.isEmpty ? ["checks"] : paths
    }

    package func run(console: Console) -> Int32 {
        switch CheckCommand.loadAll(paths, console: console) {
        case .failure(let failure):
            return failure.code
        case .success(let scripts):
            for script in scripts {
                let n = script.entries.count
                console.out(
                    "\(script.path): valid (\(n) \(n == 1 ? "entry" : "entries"), every \(DurationText.setting(script.settings.every)))\n"
                )
            }
            return ExitCode.ok
        }
    }
}
