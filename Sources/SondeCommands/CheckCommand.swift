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

/// `sonde check [PATH...]`: runs each file once, files in parallel, and reports like `hurl --test`.
struct CheckCommand: Sendable {
    /// Check files and folders to run (`checks` when none is given).
    var paths: [String]
    /// Where template variables and secrets come from: `--var`, `--vars-file`, `--secret`, `SONDE_VAR_*`.
    var variables: VariableSources
    /// `--json`: one JSON object per file instead of the text report.
    var json = false
    /// `--verbose`: requests and responses on stderr, sensitive values masked.
    var verbose = false
    /// Runs each file; tests swap in one with other limits.
    var runner = CheckRunner()
    /// `--user`, `--location`, `--insecure`, `--max-time`, `--connect-timeout`, `--retry`.
    var hurl = HurlFlags()
    /// `--file-root DIR`: where `file,name;` may read (default: each check file's folder).
    var fileRoot: String? = nil

    /// The command for `paths` (`checks` when empty) with these variable sources.
    init(paths: [String], variables: VariableSources) {
        self.paths = paths.isEmpty ? ["checks"] : paths
        self.variables = variables
    }

    /// Runs the command; returns the exit code (0 ok, 1 usage, 2 parse, 3 runtime, 4 assertion).
    func run(console: Console) async -> Int32 {
        let resolved: Variables
        do {
            resolved = try variables.resolve()
        } catch {
            console.err("error: \(error)\n")
            return ExitCode.usage
        }

        var runner = runner
        do {
            runner.defaults = try hurl.options()
        } catch {
            console.err("error: \(error)\n")
            return ExitCode.usage
        }

        let scripts: [CheckScript]
        switch Self.loadAll(paths, console: console, fileRoot: fileRoot) {
        case .success(let loaded): scripts = loaded
        case .failure(let failure): return failure.code
        }

        let clock = ContinuousClock()
        let start = clock.now
        let results = await runAll(scripts, variables: resolved, runner: runner)
        let elapsed = (clock.now - start).milliseconds

        for (script, result) in zip(scripts, results) {
            let report = CheckReport(redactor: Redactor(secrets: resolved.secretValues + result.sensitiveValues))
            if verbose { console.err(report.verbose(result)) }
            if json {
                console.out(report.json(result) + "\n")
            } else {
                console.err(report.errorBlocks(result, script: script))
                console.out(report.fileLine(result) + "\n")
            }
        }
        if !json {
            console.out(
                CheckReport(redactor: Redactor(secrets: resolved.secretValues)).summary(results, durationMs: elapsed))
        }
        return Self.exitCode(results)
    }

    /// Runtime errors win over assertion failures, as in Hurl.
    static func exitCode(_ results: [RunResult]) -> Int32 {
        let failures = results.compactMap(\.failure)
        if failures.contains(where: { !$0.isAssertion }) { return ExitCode.runtime }
        if !failures.isEmpty { return ExitCode.assertion }
        return ExitCode.ok
    }

    private func runAll(_ scripts: [CheckScript], variables: Variables, runner: CheckRunner) async -> [RunResult] {
        await withTaskGroup(of: (Int, RunResult).self) { group in
            for (index, script) in scripts.enumerated() {
                group.addTask { (index, await runner.run(script, variables: variables)) }
            }
            var results = [RunResult?](repeating: nil, count: scripts.count)
            for await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
    }

    /// Expands and parses every path; prints errors. Fails with 1 (paths) or 2 (parse) when any file is bad.
    /// With `names`, a file whose name no check may have (`CheckName`) is refused too (2), as
    /// `sonde run` refuses it.
    static func loadAll(
        _ paths: [String], console: Console, names: Bool = false, fileRoot: String? = nil
    ) -> Result<[CheckScript], ExitFailure> {
        let files: [String]
        do {
            files = try ScriptLoader.expand(paths)
        } catch {
            console.err("error: \(error)\n")
            return .failure(ExitFailure(code: ExitCode.usage))
        }
        var scripts: [CheckScript] = []
        var code: Int32 = ExitCode.ok
        for file in files {
            if names, let reason = CheckName.problem(ScriptParser.checkName(path: file)) {
                console.err("error: \(ControlText.escaped(file)): not a check's name: \(reason)\n")
                code = max(code, ExitCode.parse)
                continue
            }
            do {
                scripts.append(try ScriptLoader.load(file, fileRoot: fileRoot))
            } catch {
                switch error {
                case .parse(let parseError, let source):
                    console.err(parseError.render(source: source) + "\n")
                    code = max(code, ExitCode.parse)
                case .tooLarge:
                    console.err("error: \(ControlText.escaped(error.description))\n")
                    code = max(code, ExitCode.parse)
                default:
                    console.err("error: \(ControlText.escaped(error.description))\n")
                    code = max(code, ExitCode.usage)
                }
            }
        }
        if code != ExitCode.ok { return .failure(ExitFailure(code: code)) }
        return .success(scripts)
    }
}

/// A command that stopped early with an exit code (its message is already printed).
struct ExitFailure: Error, Sendable {
    /// The exit code the command ends with.
    var code: Int32
}
