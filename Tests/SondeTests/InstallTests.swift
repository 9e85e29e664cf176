import Foundation
import Testing

@testable import SondeCommands
@testable import SondeSupport

/// `make install` and the systemd units, on the debug build (`SONDE_BIN`): the files it lays out
/// under `DESTDIR`/`PREFIX`, `systemd-analyze verify` on every unit, and the units' commands run
/// for real against loopback. The release build's own checks (ldd, a run with the toolchain
/// hidden) are `make install-check` (.ci/install-check.sh), which CI runs after these tests: a
/// release build takes minutes, too long for the test suite.
@Suite("Install: make install's files, the systemd units and their commands")
struct InstallTests {
    static let units = [
        "sonde.service", "sonde-once@.service", "sonde-once@.timer", "sonde@.service", "sonde-rules.service",
    ]

    /// Runs `program` with `arguments` in `directory`, off the pool: status, stdout, stderr (each
    /// through a file, so neither pipe can fill up).
    static func tool(_ program: String, _ arguments: [String], in directory: String = packageRoot) async throws -> (
        code: Int32, out: String, err: String
    ) {
        try await offPool {
            let scratch = try TemporaryFolder()
            defer { scratch.cleanup() }
            let outPath = try scratch.write("out", "")
            let errPath = try scratch.write("err", "")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [program] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            var environment = ProcessInfo.processInfo.environment
            // A make of ours must not take the flags of the make that runs the tests.
            for name in ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR", "PREFIX", "SONDE_BIN"] {
                environment[name] = nil
            }
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            try process.run()
            process.waitUntilExit()
            return (
                process.terminationStatus, try String(contentsOfFile: outPath, encoding: .utf8),
                try String(contentsOfFile: errPath, encoding: .utf8)
            )
        }
    }

    /// Every regular file under `root`, as paths relative to it, sorted.
    static func files(under root: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root)
        var out: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                out.append(path)
            }
        }
        return out.sorted()
    }

    /// The files of the repository folder `folder` (relative to the root), names only, sorted.
    static func repositoryFiles(_ folder: String, suffix: String = "") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: packageRoot + "/" + folder).filter { $0.hasSuffix(suffix) }
            .sorted()
    }

    @Test(
        "make install DESTDIR=… PREFIX=/usr lays out the binary, the units and the docs; make uninstall takes them away"
    )
    func layout() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let stage = folder.path + "/stage"
        let binary = SondeProcess.binary
        let install = try await Self.tool(
            "make", ["-s", "install", "DESTDIR=\(stage)", "PREFIX=/usr", "SONDE_BIN=\(binary)"])
        #expect(install.code == 0, "make install: \(install.err)")

        var expected = ["usr/bin/sonde"] + Self.units.map { "usr/lib/systemd/system/" + $0 }
        expected += ["README.md", "CHANGELOG.md", "LICENSE"].map { "usr/share/doc/sonde/" + $0 }
        expected += try Self.repositoryFiles("docs", suffix: ".md").map { "usr/share/doc/sonde/docs/" + $0 }
        for sub in ["contrib/systemd", "contrib/fleet"] {
            expected += try Self.repositoryFiles(sub).map { "usr/share/doc/sonde/\(sub)/" + $0 }
        }
        #expect(Self.files(under: stage) == expected.sorted())
        #expect(try FileManager.default.contentsOfDirectory(atPath: stage + "/etc/sonde/checks").isEmpty)
        #expect(FileManager.default.isExecutableFile(atPath: stage + "/usr/bin/sonde"))
        let copied = try FileManager.default.attributesOfItem(atPath: stage + "/usr/bin/sonde")[.size] as? Int
        let built = try FileManager.default.attributesOfItem(atPath: binary)[.size] as? Int
        #expect(copied == built && copied != nil)

        // Each unit is its contrib/ file with the binary and the docs where PREFIX put them.
        for unit in Self.units {
            let installed = try String(contentsOfFile: stage + "/usr/lib/systemd/system/" + unit, encoding: .utf8)
            let source = try String(contentsOfFile: packageRoot + "/contrib/systemd/" + unit, encoding: .utf8)
            #expect(
                installed
                    == source.replacingOccurrences(of: "/usr/local/bin/sonde", with: "/usr/bin/sonde")
                    .replacingOccurrences(of: "/usr/local/share/doc/sonde", with: "/usr/share/doc/sonde"), "\(unit)")
            #expect(!installed.contains("/usr/local"), "\(unit) still names /usr/local")
        }
        let service = try String(contentsOfFile: stage + "/usr/lib/systemd/system/sonde.service", encoding: .utf8)
        let lines = Set(service.split(separator: "\n").map(String.init))
        for line in [
            "ExecReload=/bin/kill -HUP $MAINPID", "DynamicUser=yes", "StateDirectory=sonde", "NoNewPrivileges=yes",
            "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
            "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "Documentation=file:///usr/share/doc/sonde/README.md",
        ] {
            #expect(lines.contains(line), "sonde.service has no '\(line)'")
        }
        #expect(lines.contains { $0.hasPrefix("ExecStart=/usr/bin/sonde run --checks /etc/sonde/checks ") })

        let uninstall = try await Self.tool("make", ["-s", "uninstall", "DESTDIR=\(stage)", "PREFIX=/usr"])
        #expect(uninstall.code == 0, "make uninstall: \(uninstall.err)")
        #expect(Self.files(under: stage) == [])
        #expect(!FileManager.default.fileExists(atPath: stage + "/etc/sonde"), "the empty checks folder goes too")
    }

    @Test("make uninstall keeps a checks folder that has checks in it")
    func uninstallKeepsChecks() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let stage = folder.path + "/stage"
        let install = try await Self.tool(
            "make", ["-s", "install", "DESTDIR=\(stage)", "SONDE_BIN=\(SondeProcess.binary)"])
        #expect(install.code == 0, "make install: \(install.err)")
        #expect(FileManager.default.fileExists(atPath: stage + "/usr/local/bin/sonde"), "PREFIX is /usr/local")
        try folder.write("stage/etc/sonde/checks/api.hurl", "GET http://127.0.0.1:1/\n")
        let uninstall = try await Self.tool("make", ["-s", "uninstall", "DESTDIR=\(stage)"])
        #expect(uninstall.code == 0, "make uninstall: \(uninstall.err)")
        #expect(Self.files(under: stage) == ["etc/sonde/checks/api.hurl"])
    }

    @Test("systemd-analyze verify accepts every installed unit, each ExecStart naming the installed copy")
    func verifyUnits() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let prefix = folder.path + "/prefix"
        let install = try await Self.tool(
            "make",
            ["-s", "install", "PREFIX=\(prefix)", "SYSCONFDIR=\(folder.path)/etc", "SONDE_BIN=\(SondeProcess.binary)"])
        #expect(install.code == 0, "make install: \(install.err)")
        let unitFolder = prefix + "/lib/systemd/system"
        for unit in Self.units {
            let text = try String(contentsOfFile: unitFolder + "/" + unit, encoding: .utf8)
            if unit != "sonde-once@.timer" { #expect(text.contains("ExecStart=\(prefix)/bin/sonde "), "\(unit)") }
            let verify = try await Self.tool("systemd-analyze", ["verify", unit], in: unitFolder)
            #expect(verify.code == 0 && verify.err.isEmpty && verify.out.isEmpty, "\(unit): \(verify.err)\(verify.out)")
        }
        // The check has teeth: a unit whose binary is missing, or with a bad setting, is refused.
        try folder.write("bad/bad.service", "[Service]\nExecStart=\(folder.path)/nowhere/sonde run\n")
        let missing = try await Self.tool("systemd-analyze", ["verify", "bad.service"], in: folder.path + "/bad")
        #expect(missing.code != 0 && missing.err.contains("is not executable"), "\(missing)")
        try folder.write("bad/typo.service", "[Service]\nExecStart=\(prefix)/bin/sonde run\nProtectSystem=strickt\n")
        let typo = try await Self.tool("systemd-analyze", ["verify", "typo.service"], in: folder.path + "/bad")
        #expect(!typo.err.isEmpty, "a bad value is reported: \(typo)")
    }

    @Test("sonde-once@.timer fires every 5 minutes, shorter than a 15-minute idle time")
    func timerEveryFiveMinutes() async throws {
        let timer = try String(contentsOfFile: packageRoot + "/contrib/systemd/sonde-once@.timer", encoding: .utf8)
        let line = try #require(timer.split(separator: "\n").first { $0.hasPrefix("OnCalendar=") })
        let calendar = String(line.dropFirst("OnCalendar=".count))
        let next = try await Self.tool("systemd-analyze", ["calendar", "--iterations=4", calendar])
        #expect(next.code == 0, "\(next.err)")
        // "Next elapse: Tue 2026-12-01 17:05:00 UTC" then "Iter. #2: …": four times, 5 minutes apart.
        let times = next.out.split(separator: "\n").compactMap { line -> Date? in
            guard line.contains("Next elapse:") || line.contains("Iter. #") else { return nil }
            let words = line.split(separator: " ")
            guard words.count >= 4 else { return nil }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
            return formatter.date(from: "\(words[words.count - 3]) \(words[words.count - 2])")
        }
        #expect(times.count == 4, "\(next.out)")
        for (a, b) in zip(times, times.dropFirst()) { #expect(b.timeIntervalSince(a) == 300, "\(next.out)") }
    }

    /// The words of `unit`'s `ExecStart=` after the binary, `%i` replaced by `instance` and each
    /// `(from, to)` applied to every word.
    static func command(_ unit: String, instance: String = "", _ replacing: [(String, String)]) throws -> [String] {
        let words = try FleetConfig.execStart("contrib/systemd/" + unit, instance: instance)
        #expect(words.first == "/usr/local/bin/sonde")
        return words.dropFirst().map { word in
            replacing.reduce(word) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
        }
    }

    @Test("sonde.service's command runs the prober: SIGHUP (ExecReload) loads the checks again, SIGTERM stops it")
    func serviceCommand() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let etc = folder.path + "/etc/sonde"
        let state = folder.path + "/var/lib/sonde"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try folder.write("etc/sonde/checks/shop.hurl", "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n")
        let arguments = try Self.command(
            "sonde.service", [("/etc/sonde", etc), ("/var/lib/sonde", state), ("127.0.0.1:9115", "127.0.0.1:0")])
        #expect(arguments.prefix(1) == ["run"])
        #expect(arguments.contains("--listen") && !arguments.contains("--metrics"), "the option's current name")
        let prober = try SondeProcess(arguments, in: folder.path, tag: "service")
        defer { prober.signal(SIGKILL) }
        let start = try #require(try await prober.awaitLog("info start:"), "no start line: \(prober.stderr)")
        #expect(
            await pollUntil { DaemonTests.runCounts(state)["shop", default: 0] >= 1 },
            "no run of shop: \(prober.stderr)")
        // --listen serves the status page and /api/status beside /metrics.
        let port = try #require(SondeProcess.metricsPort(in: start), "\(start)")
        #expect(start.contains("status page on http://127.0.0.1:\(port)/"), "\(start)")
        let shown = await pollUntil {
            let status = try? RawHTTPClient(port: port).request("GET", "/api/status").json
            return ((status?["checks"] as? [[String: Any]]) ?? []).contains { $0["name"] as? String == "shop" }
        }
        #expect(shown, "shop is on /api/status")
        let page = try await offPool { try RawHTTPClient(port: port).request("GET", "/") }
        #expect(page.status == 200 && page.text.contains("<span class=\"name\">shop</span>"))

        // systemctl reload sonde: ExecReload=/bin/kill -HUP $MAINPID.
        try folder.write("etc/sonde/checks/search.hurl", "# @every 1s\nGET \(service.baseURL)/text\nHTTP 200\n")
        let reload = try String(contentsOfFile: packageRoot + "/contrib/systemd/sonde.service", encoding: .utf8)
        #expect(reload.contains("\nExecReload=/bin/kill -HUP $MAINPID\n"))
        prober.signal(SIGHUP)
        let line = try await prober.awaitLog("info reload: 2 checks")
        #expect(line?.hasSuffix("added search") == true, "shop is unchanged and keeps its state: \(prober.stderr)")
        #expect(
            await pollUntil { DaemonTests.runCounts(state)["search", default: 0] >= 1 },
            "no run of search after the reload")

        prober.signal(SIGTERM)
        let outcome = try await prober.finish(timeout: .seconds(60))
        #expect(outcome == .exited(0), "\(outcome): \(prober.stderr)")
        #expect(prober.stderr.contains("info stopped:"))
    }

    @Test("sonde-once@.service's command runs each check of its folder once: exit 0, or 4 (a success for the unit)")
    func onceCommand() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let etc = folder.path + "/etc/sonde"
        let state = folder.path + "/var/lib/sonde-once"
        try FileManager.default.createDirectory(atPath: state + "/keepwarm", withIntermediateDirectories: true)
        try folder.write(
            "etc/sonde/keepwarm/app.hurl", "# @every 5m\n# @keep-warm 15m\nGET \(service.baseURL)/json\nHTTP 200\n")
        let arguments = try Self.command(
            "sonde-once@.service", instance: "keepwarm", [("/etc/sonde", etc), ("/var/lib/sonde-once", state)])
        #expect(arguments.contains("\(etc)/keepwarm") && arguments.contains("\(state)/keepwarm"), "\(arguments)")
        let passed = try await SondeProcess.run(arguments, in: folder.path, tag: "once", timeout: .seconds(120))
        #expect(passed.outcome == .exited(0), "\(passed.err)")
        #expect(passed.out.contains("app"), "\(passed.out)")
        #expect(DaemonTests.runCounts(state + "/keepwarm") == ["app": 1])

        try folder.write("etc/sonde/keepwarm/down.hurl", "GET \(service.baseURL)/status?code=503\nHTTP 200\n")
        let failed = try await SondeProcess.run(arguments, in: folder.path, tag: "once-failed", timeout: .seconds(120))
        #expect(failed.outcome == .exited(4), "\(failed.err)")
        let unit = try String(contentsOfFile: packageRoot + "/contrib/systemd/sonde-once@.service", encoding: .utf8)
        #expect(unit.contains("\nSuccessExitStatus=4\n"), "a failed check is recorded, not a failed unit")
    }
}
