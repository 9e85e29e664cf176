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

@Suite("Commands: check and validate")
struct CommandTests {
    let service: TestService
    let folder: TemporaryFolder

    init() throws {
        service = try TestService()
        folder = try TemporaryFolder()
    }

    func check(
        _ paths: [String], vars: [String] = [], secrets: [String] = [], env: [String: String] = [:],
        json: Bool = false, verbose: Bool = false
    ) async -> (Int32, CapturingConsole) {
        let console = CapturingConsole()
        var command = CheckCommand(
            paths: paths,
            variables: VariableSources(
                environment: env, vars: ["base_url=\(service.baseURL)"] + vars, secrets: secrets))
        command.json = json
        command.verbose = verbose
        let code = await command.run(console: console)
        return (code, console)
    }

    @Test("a passing file prints a success line and a summary, exit 0")
    func successLine() async throws {
        defer { folder.cleanup() }
        let file = try folder.write("ok.hurl", "GET {{base_url}}/json\nHTTP 200\n\nGET {{base_url}}/text\nHTTP 200\n")
        let (code, console) = await check([file])
        #expect(code == ExitCode.ok)
        #expect(console.stdout.contains("\(file): Success (2 requests in "))
        #expect(console.stdout.contains("Executed files:    1"))
        #expect(console.stdout.contains("Succeeded files:   1 (100.0%)"))
    }

    @Test("an assertion failure prints the Hurl error block and exits 4")
    func assertionBlock() async throws {
        defer { folder.cleanup() }
        let file = try folder.write(
            "bad.hurl",
            """
            GET {{base_url}}/json
            HTTP 200
            [Asserts]
            jsonpath "$.count" == 5
            """)
        let (code, console) = await check([file])
        #expect(code == ExitCode.assertion)
        #expect(console.stderr.contains("error: Assert failure"))
        #expect(console.stderr.contains("--> \(file):4:1"))
        #expect(console.stderr.contains("4 | jsonpath \"$.count\" == 5"))
        #expect(console.stderr.contains("actual:   integer <3>"))
        #expect(console.stderr.contains("expected: integer <5>"))
        #expect(console.stdout.contains("\(file): Failure (1 request in "))
    }

    @Test("a runtime error exits 3 and wins over an assertion failure in another file")
    func runtimeWins() async throws {
        defer { folder.cleanup() }
        let a = try folder.write("a.hurl", "GET {{base_url}}/json\nHTTP 500\n")
        let b = try folder.write("b.hurl", "GET {{base_url}}/{{missing}}\nHTTP 200\n")
        let (code, console) = await check([a, b])
        #expect(code == ExitCode.runtime)
        #expect(console.stderr.contains("missing"))
        #expect(console.stdout.contains("Failed files:      2 (100.0%)"))
    }

    @Test("files run in parallel: two files meet at a server-side barrier")
    func parallelFiles() async throws {
        defer { folder.cleanup() }
        let a = try folder.write("a.hurl", "GET {{base_url}}/barrier\nHTTP 200\n")
        let b = try folder.write("b.hurl", "GET {{base_url}}/barrier\nHTTP 200\n")
        let (code, console) = await check([a, b])
        #expect(code == ExitCode.ok, "\(console.all)")
    }

    @Test("a parse error prints the caret block, runs nothing and exits 2")
    func parseErrorExit() async throws {
        defer { folder.cleanup() }
        let good = try folder.write("good.hurl", "GET {{base_url}}/json\nHTTP 200\n")
        let bad = try folder.write("bad.hurl", "GET {{base_url}}/json\nHTTP 200\n[Asserts]\njsonpath \"$.a\" = 5\n")
        let before = service.server.requestsServed
        let (code, console) = await check([good, bad])
        #expect(code == ExitCode.parse)
        #expect(console.stderr.contains("\(bad):4:"))
        #expect(console.stderr.contains("^"))
        #expect(service.server.requestsServed == before)
    }

    @Test("a folder without .hurl files and a missing path are usage errors")
    func badPaths() async throws {
        defer { folder.cleanup() }
        try folder.write("empty/readme.txt", "nothing here")
        let (code, console) = await check([folder.path + "/empty"])
        #expect(code == ExitCode.usage)
        #expect(console.stderr.contains("no .hurl files"))
        let (missing, console2) = await check([folder.path + "/nope.hurl"])
        #expect(missing == ExitCode.usage)
        #expect(console2.stderr.contains("no such file"))
    }

    @Test("a file that is not UTF-8 is a parse error with a position")
    func notUTF8() async throws {
        defer { folder.cleanup() }
        let file = try folder.write("latin.hurl", bytes: Array("GET http://x/caf".utf8) + [0xE9] + Array("\n".utf8))
        let (code, console) = await check([file])
        #expect(code == ExitCode.parse)
        #expect(console.stderr.contains("\(file):1:"))
        #expect(console.stderr.lowercased().contains("utf-8"))
    }

    @Test("a folder runs every .hurl file inside, sorted")
    func folderExpansion() async throws {
        defer { folder.cleanup() }
        try folder.write("checks/b.hurl", "GET {{base_url}}/json\nHTTP 200\n")
        try folder.write("checks/sub/a.hurl", "GET {{base_url}}/json\nHTTP 200\n")
        try folder.write("checks/notes.txt", "ignored")
        let (code, console) = await check([folder.path + "/checks"])
        #expect(code == ExitCode.ok)
        #expect(console.stdout.contains("Executed files:    2"))
    }

    @Test("secrets and sensitive headers never print, verbose and json included")
    func secretsRedacted() async throws {
        defer { folder.cleanup() }
        let file = try folder.write(
            "secret.hurl",
            """
            GET {{base_url}}/set-cookie
            HTTP 200

            POST {{base_url}}/echo
            Authorization: Bearer {{token}}
            X-Api-Key: {{key}}
            {"password": "{{key}}"}
            HTTP 200
            [Asserts]
            jsonpath "$.body" == "wrong {{key}}"
            """)
        let (code, console) = await check(
            [file], secrets: ["key=hunter2-key"],
            env: ["SONDE_SECRET_token": "tok-XYZ-789"], verbose: true)
        #expect(code == ExitCode.assertion)
        #expect(console.all.contains("> POST"))
        #expect(!console.all.contains("hunter2-key"))
        #expect(!console.all.contains("tok-XYZ-789"))
        #expect(!console.all.contains("s3cr3t"))
        #expect(console.all.contains("***"))
        let (_, json) = await check(
            [file], secrets: ["key=hunter2-key"],
            env: ["SONDE_SECRET_token": "tok-XYZ-789"], json: true)
        #expect(!json.all.contains("hunter2-key"))
        #expect(!json.all.contains("tok-XYZ-789"))
    }

    @Test("--json prints one parseable object per file with per-entry timings")
    func jsonOutput() async throws {
        defer { folder.cleanup() }
        let a = try folder.write("a.hurl", "GET {{base_url}}/json\nHTTP 200\n")
        let b = try folder.write("b.hurl", "GET {{base_url}}/json\nHTTP 201\n")
        let (code, console) = await check([a, b], json: true)
        #expect(code == ExitCode.assertion)
        let lines = console.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try JSON.parse(String(lines[0]))
        let second = try JSON.parse(String(lines[1]))
        #expect(try JSONPath("$.ok").evaluate(first) == [.bool(true)])
        #expect(try JSONPath("$.steps[0].status").evaluate(first) == [.integer(200)])
        #expect(
            try JSONPath("$.steps[0].total").evaluate(first).first.map { if case .float = $0 { true } else { false } }
                == true)
        #expect(try JSONPath("$.err.kind").evaluate(second) == [.string("status")])
        #expect(try JSONPath("$.err.line").evaluate(second) == [.integer(2)])
    }

    @Test("variables come from --var, --vars-file and SONDE_VAR_ with typed values")
    func variableSources() throws {
        defer { folder.cleanup() }
        let file = try folder.write("vars.env", "# comment\nhost=example.org\ncount=3\n")
        let vars = try VariableSources(
            environment: ["SONDE_VAR_region": "eu", "SONDE_VAR_count": "1", "OTHER": "x"],
            varsFiles: [file], vars: ["flag=true", "ratio=0.5"]
        ).resolve()
        #expect(vars["region"] == .string("eu"))
        #expect(vars["host"] == .string("example.org"))
        #expect(vars["count"] == .integer(3))
        #expect(vars["flag"] == .bool(true))
        #expect(vars["ratio"] == .float(0.5))
        #expect(vars["OTHER"] == nil)
        #expect(throws: VariableError.self) { try VariableSources(vars: ["novalue"]).resolve() }
        #expect(throws: VariableError.self) { try VariableSources(varsFiles: [folder.path + "/none"]).resolve() }
        do {
            _ = try VariableSources(secrets: ["oops-hunter2"]).resolve()
            Issue.record("a malformed secret must be rejected")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
        }
    }

    @Test("validate parses only and exits 0 or 2")
    func validate() throws {
        defer { folder.cleanup() }
        let good = try folder.write("good.hurl", "# @every 30s\nGET http://127.0.0.1:1/\nHTTP 200\n")
        let console = CapturingConsole()
        #expect(ValidateCommand(paths: [good]).run(console: console) == ExitCode.ok)
        #expect(console.stdout.contains("valid (1 entry, every 30s)"))
        let bad = try folder.write("bad.hurl", "# @every banana\nGET http://127.0.0.1:1/\n")
        let console2 = CapturingConsole()
        #expect(ValidateCommand(paths: [good, bad]).run(console: console2) == ExitCode.parse)
        #expect(console2.stderr.contains("\(bad):1:"))
    }
}
