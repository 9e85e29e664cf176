import Foundation
import Testing

@testable import SondeAlerts
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeDemoShop
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeRun
@testable import SondeSLO
@testable import SondeScript
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

/// The package root, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Suite("The sonde executable and the demo")
struct CLITests {
    /// Runs the built `sonde` binary (make test builds it with the tests).
    func sonde(_ arguments: [String]) async throws -> (code: Int32, out: String, err: String) {
        try await offPool { try Self.runSonde(arguments) }
    }

    static func runSonde(_ arguments: [String]) throws -> (code: Int32, out: String, err: String) {
        let binary = packageRoot + "/.build/debug/sonde"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the executable first: swift build")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }

    @Test("a misspelt option is a two-line usage error with a suggestion, exit 1")
    func misspeltOption() async throws {
        let result = try await sonde(["check", "--jsn", "x.hurl"])
        #expect(result.code == 1)
        #expect(
            result.err
                == "error: unknown option --jsn for 'sonde check' (did you mean --json?)\nSee 'sonde check --help'.\n")
        #expect(result.out == "")
    }

    @Test("an unknown command suggests the closest one")
    func unknownCommand() async throws {
        let result = try await sonde(["chek"])
        #expect(result.code == 1)
        #expect(result.err.contains("did you mean 'check'?"))
    }

    @Test("--version and --help answer with exit 0")
    func versionAndHelp() async throws {
        let version = try await sonde(["--version"])
        #expect(version.code == 0)
        #expect(version.out == "sonde \(Sonde.version)\n")
        let help = try await sonde(["check", "--help"])
        #expect(help.code == 0)
        #expect(help.out.contains("--secret NAME=VALUE"))
        #expect(!help.out.contains("--metrics"), "check's help shows check's options only")
        #expect(try await sonde(["help", "check"]).out == help.out)
    }

    @Test("validate of the example checks exits 0")
    func validateExamples() async throws {
        let result = try await sonde(["validate", packageRoot + "/checks"])
        #expect(result.code == 0, "\(result.err)")
    }

    @Test("a server that never answers fails as timeout at max-time, and @timeout caps a run")
    func timeoutBound() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let maxTime = try folder.write(
            "max-time.hurl", "GET \(service.baseURL)/hang\n[Options]\nmax-time: 500ms\nHTTP 200\n")
        let deadline = try folder.write("deadline.hurl", "# @timeout 400ms\nGET \(service.baseURL)/hang\nHTTP 200\n")
        for (file, limit) in [(maxTime, 500.0), (deadline, 400.0)] {
            // Timed on a thread of its own, around a separate process: the test pool's load does not count.
            let (result, ms) = try await offPool { () throws -> ((code: Int32, out: String, err: String), Double) in
                let start = Date()
                let result = try Self.runSonde(["check", "--json", file])
                return (result, Date().timeIntervalSince(start) * 1000)
            }
            #expect(result.code == ExitCode.runtime)
            #expect(result.out.contains("\"kind\":\"timeout\""))
            // The run's own duration (sonde's monotonic clock): never before the limit, and far from
            // the 10 s default deadline, which is what a run that ignored the limit would take. How
            // closely it follows the limit depends on the machine's load: bench/timeouts.sh measures
            // it on an idle one. The process as a whole only has to end (start-up of a debug binary
            // on a loaded machine takes a variable while).
            let object = try JSON.parse(result.out.trimmingCharacters(in: .whitespacesAndNewlines))
            guard case .object(let fields) = object, let runMs = fields.first(where: { $0.key == "ms" })?.value else {
                Issue.record("no ms in \(result.out)")
                continue
            }
            let measured: Double
            switch runMs {
            case .float(let d): measured = d
            case .integer(let i): measured = Double(i)
            default: measured = .infinity
            }
            #expect(measured >= limit - 5 && measured < limit + 4000, "run took \(measured) ms")
            #expect(ms < 60_000, "the process took \(ms) ms")
        }
    }

    @Test("the demo's leaky shop makes incidents that the report and the write-ups explain")
    func demoOutage() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var demo = DemoCommand()
        demo.checks = packageRoot + "/checks"
        demo.out = folder.path + "/reports"
        demo.data = folder.path + "/data"
        demo.interval = .milliseconds(200)
        // The fault follows the order of events, not the clock: the first five searches leak the
        // pool, every check fails until its incident has been alerted, then the shop restarts and
        // every check recovers. The demo ends once each incident is resolved and alerted; the
        // minutes are only a limit for a machine that is very busy.
        let checks = ["health", "login-cart", "search"]
        demo.untilIncidents = Set(checks)
        demo.seconds = 300
        // At 200 ms a busy machine can spread the checks' first failures over more than the
        // default five intervals (1 s): 100 intervals (20 s) still groups only this one outage.
        demo.groupWithin = 100
        demo.shopFaults = DemoShop.Faults(slowDuration: .milliseconds(100), restartDelay: nil, leakingSearches: 5)
        let console = CapturingConsole()
        #expect(await demo.run(console: console) == ExitCode.ok, "\(console.all)")
        #expect(console.stdout.contains("Open \(folder.path)/reports/README.md"))
        #expect(console.stderr.contains("connection pool exhausted"))
        #expect(console.stderr.contains("every incident has been opened and resolved"), "\(console.stderr)")
        let index = try String(contentsOfFile: folder.path + "/reports/incidents/README.md", encoding: .utf8)
        for check in checks { #expect(index.contains("| \(check) |"), "\(check) went down with the pool") }
        // The outage's write-up: one for the three checks, the one whose health section names the pool
        // (on a loaded machine a slow answer can open an incident of its own before the pool runs dry).
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path + "/reports/incidents")
        let pages = try files.filter { $0 != "README.md" }.sorted().map { name in
            (name: name, text: try String(contentsOfFile: folder.path + "/reports/incidents/" + name, encoding: .utf8))
        }
        let (health, page) = try #require(
            pages.first { $0.text.contains("## Check: health") && $0.text.contains("connection pool exhausted") },
            "one write-up holds the outage of every check: \(pages.map(\.name))")
        #expect(page.hasPrefix("<!-- sonde incident write-up: "))
        for check in checks { #expect(page.contains("## Check: \(check)"), "\(check) is in the outage's write-up") }
        #expect(page.contains("## Findings") && page.contains("failed first"))
        #expect(index.contains("](\(health)#check-health)"), "the index links health's section")
        #expect(page.contains("| **detected** |"))
        #expect(page.contains("alert sent"), "the loopback webhook sink received the alert")
        #expect(!console.all.contains(DemoShop.demoPassword))
        let report = try String(contentsOfFile: folder.path + "/reports/README.md", encoding: .utf8)
        #expect(report.contains("[search](checks/search.md)"))
        let healthPage = try String(contentsOfFile: folder.path + "/reports/checks/health.md", encoding: .utf8)
        #expect(healthPage.contains("](../incidents/\(health))"), "the check page links its incidents")
        // The pages count with the interval the demo ran at, and say what a short trial covers.
        #expect(healthPage.contains("a run every 200ms"), "\(healthPage)")
        #expect(healthPage.contains("**Coverage (30d):**"))
        #expect(!healthPage.contains("× spent") && !report.contains("× spent"), "\(healthPage)")
        #expect(!page.contains("× the whole error budget"), "\(page)")
        #expect(!console.stderr.contains("no check file"))
    }

    @Test("every example check passes against the sample shop")
    func demoPasses() async {
        // The examples' latency asserts (`duration < 300`) can miss while a loaded machine holds
        // the shop's or the engine's thread; everything else they check comes out the same on
        // every run against the healthy shop. So an attempt that failed on latency asserts only is
        // made again, for up to two minutes; any other failure ends the test at once.
        let deadline = ContinuousClock.now + .seconds(120)
        var failures: [String] = []
        repeat {
            var demo = DemoCommand()
            demo.once = true
            demo.checks = packageRoot + "/checks"
            let console = CapturingConsole()
            let code = await demo.run(console: console)
            #expect(!console.all.contains(DemoShop.demoPassword))
            if code == ExitCode.ok {
                #expect(console.stdout.contains("Failed files:      0"), "\(console.all)")
                return
            }
            failures.append(console.all)
            guard code == ExitCode.assertion, Self.onlyLatencyAssertsFailed(console.stderr) else { break }
            try? await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < deadline
        Issue.record("the examples failed \(failures.count) time(s); the last time:\n\(failures.last ?? "")")
    }

    /// Whether every error block of a check's output is a failed assert on `duration`: the
    /// numbered line of a block is the assert that failed (`16 | duration < 300`).
    static func onlyLatencyAssertsFailed(_ stderr: String) -> Bool {
        let blocks = stderr.components(separatedBy: "error: ").dropFirst()
        return !blocks.isEmpty
            && blocks.allSatisfy { block in
                let numbered = block.split(separator: "\n").filter {
                    $0.range(of: #"^\s*[0-9]+ \| "#, options: .regularExpression) != nil
                }
                return block.hasPrefix("Assert failure") && !numbered.isEmpty
                    && numbered.allSatisfy {
                        $0.range(of: #"^\s*[0-9]+ \| duration [<>]"#, options: .regularExpression) != nil
                    }
            }
    }
}
