import Foundation
import Testing

@testable import SondeCommands
@testable import SondeScript
@testable import SondeSupport

/// Hurl-style files of the request side (Tests/hurl-compat/requests/<feature>/*.hurl), each run
/// through `sonde check` against `HurlCompatRequestService`; and Hurl's documented grammar examples
/// (Tests/hurl-compat/grammar), each accepted by `sonde validate`.
///
/// A file starts with `# expect-exit: N`; an `# args: …` line adds command-line arguments. The
/// files reach the server as `{{base}}` (`{{port}}` for its port) and their own folder as `{{dir}}`.
@Suite("Hurl compatibility: requests, bodies, options, templates, CLI", .serialized)
struct HurlCompatRequestTests {
    static let root = HurlCompatFiles.root

    @Test("every request-side compatibility file ends with its expected exit code")
    func requestFiles() async throws {
        let files = HurlCompatFiles.files(under: Self.root + "/requests")
        try #require(files.count >= 20)
        let service = try HurlCompatRequestService()
        var mismatches: [String] = []
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let expected = try #require(
                HurlCompatFiles.header("expect-exit", in: text).flatMap { Int32($0) }, "\(file)")
            let args = HurlCompatFiles.header("args", in: text)?.split(separator: " ").map(String.init) ?? []
            let console = CapturingConsole()
            let folder = (file as NSString).deletingLastPathComponent
            let arguments =
                [
                    "check", "--var", "base=\(service.baseURL)", "--var", "port=\(service.port)", "--var",
                    "dir=\(folder)",
                ]
                + args + [file]
            let code = await SondeMain.run(arguments: arguments, environment: [:], console: console)
            if code != expected {
                mismatches.append("\(file): exit \(code), expected \(expected)\n\(console.all)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test("a redirect loop with location: true stops after Hurl's 50 redirects")
    func redirectLoopStops() async throws {
        let service = try HurlCompatRequestService()
        let file = Self.root + "/requests/max-redirs/loop_default.hurl"
        let console = CapturingConsole()
        let code = await SondeMain.run(
            arguments: ["check", "--var", "base=\(service.baseURL)", file], environment: [:], console: console)
        #expect(code == ExitCode.runtime)
        #expect(service.count("loop") == 51)
        #expect(console.all.contains("redirect"))
    }

    @Test("repeat: 3 sends the request three times")
    func repeatCount() async throws {
        let service = try HurlCompatRequestService()
        let file = Self.root + "/requests/repeat/repeat.hurl"
        let console = CapturingConsole()
        let code = await SondeMain.run(
            arguments: ["check", "--var", "base=\(service.baseURL)", file], environment: [:], console: console)
        #expect(code == ExitCode.ok, "\(console.all)")
        #expect(service.count("repeat") == 3)
    }

    @Test("a file body outside the check's folder is refused unless --file-root allows it")
    func fileRoot() async throws {
        let service = try HurlCompatRequestService()
        let file = Self.root + "/requests/file-root/outside.hurl"
        let refused = CapturingConsole()
        let code = await SondeMain.run(
            arguments: ["check", "--var", "base=\(service.baseURL)", file], environment: [:], console: refused)
        #expect(code == ExitCode.parse)
        #expect(refused.stderr.contains("is outside"))
        #expect(refused.stderr.contains("--file-root"))
        let allowed = CapturingConsole()
        let allowedCode = await SondeMain.run(
            arguments: ["check", "--var", "base=\(service.baseURL)", "--file-root", Self.root + "/requests", file],
            environment: [:], console: allowed)
        #expect(allowedCode == ExitCode.ok, "\(allowed.all)")
    }

    @Test("sonde validate accepts every example of Hurl's documented grammar")
    func grammarExamples() async throws {
        let files = HurlCompatFiles.files(under: Self.root + "/grammar")
        // The 15 own examples and the 20 pages of Hurl's documentation (grammar/hurl-docs).
        try #require(files.count >= 35)
        try #require(files.filter { $0.contains("/hurl-docs/") }.count == 20)
        var refused: [String] = []
        for file in files {
            let console = CapturingConsole()
            let code = await SondeMain.run(arguments: ["validate", file], environment: [:], console: console)
            if code != ExitCode.ok { refused.append(console.stderr) }
        }
        #expect(refused.isEmpty, "\(refused.joined(separator: "\n"))")
    }

    @Test("the documentation's odd-digit hex,ab23456; stays refused, as Hurl's parser refuses it")
    func oddHexRefused() throws {
        #expect(throws: ParseError.self) {
            try ScriptParser.parse(
                source: "GET http://x/\nHTTP 200\n[Asserts]\nbytes endsWith hex,ab23456;\n", path: "t.hurl")
        }
    }

    @Test("a base64 body over several lines, redact, location-trusted, limit-rate and a big repeat parse")
    func documentedForms() throws {
        let script = try ScriptParser.parse(
            source: "POST http://x/\nbase64,SGVs\nbG8=;\nHTTP 200\n[Captures]\ntoken: header \"X-Token\" redact\n"
                + "\nGET http://x/\n[Options]\nlocation-trusted: true\nlimit-rate: 32000\nrepeat: 100000\n",
            path: "t.hurl")
        #expect(script.entries[0].request.body?.kind == .bytes(Array("Hello".utf8)))
        #expect(script.entries[0].response?.captures.first?.redact == true)
        #expect(script.entries[1].request.options.count == 3)
        #expect(throws: ParseError.self) {
            try ScriptParser.parse(source: "GET http://x/\n[Options]\nrepeat: 1000001\n", path: "t.hurl")
        }
    }

    @Test("a redact capture is masked in what sonde check prints")
    func redactCapture() async throws {
        let service = try HurlCompatRequestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let file = try folder.write(
            "redact.hurl",
            "GET {{base}}/echo-headers\nX-Token: tok-7c1e55a2-9d1b\nHTTP 200\n[Captures]\n"
                + "token: jsonpath \"$['x-token']\" redact\n\nGET {{base}}/ok\nHTTP 200\n[Asserts]\n"
                + "variable \"token\" == \"other\"\n")
        let console = CapturingConsole()
        let code = await SondeMain.run(
            arguments: ["check", "--var", "base=\(service.baseURL)", file], environment: [:], console: console)
        #expect(code == ExitCode.assertion, "\(console.all)")
        #expect(console.all.contains("variable \"token\""), "\(console.all)")
        #expect(!console.all.contains("tok-7c1e55a2-9d1b"), "\(console.all)")
    }

    @Test("a template in a header name is a header, and Name; an empty header")
    func headerNames() throws {
        let script = try ScriptParser.parse(
            source: "GET http://x/\n{{key}}: Raspberry\nX-Empty;\nHTTP 200\n{{name}}: text/plain\n", path: "t.hurl")
        let request = try #require(script.entries.first?.request)
        #expect(request.body == nil)
        #expect(request.headers.count == 2)
        #expect(request.headers.first?.key.description == "{{key}}")
        #expect(request.headers.first?.value.description == "Raspberry")
        #expect(request.headers.last?.key.description == "X-Empty")
        #expect(request.headers.last?.value.parts.isEmpty == true)
        #expect(script.entries.first?.response?.headers.first?.key.description == "{{name}}")
    }

    @Test("response bodies base64, hex and file parse into bytes and a file reference")
    func responseBodies() throws {
        let script = try ScriptParser.parse(
            source: "GET http://x/\nHTTP 200\nbase64,SGVsbG8=;\n\nGET http://x/\nHTTP 200\nhex,48 65 6c;\n"
                + "\nGET http://x/\nHTTP 200\nfile,a.bin;\n",
            path: "t.hurl")
        #expect(script.entries[0].response?.body?.kind == .bytes(Array("Hello".utf8)))
        #expect(script.entries[1].response?.body?.kind == .bytes([0x48, 0x65, 0x6c]))
        guard case .file(let file)? = script.entries[2].response?.body?.kind else {
            Issue.record("expected a file body")
            return
        }
        #expect(file.name == "a.bin")
        #expect(file.contents == nil)
    }

    @Test("a # @word comment that is no directive passes; a near miss is a typo")
    func atComments() throws {
        let script = try ScriptParser.parse(
            source: "# @cookie_storage_set: localhost\tFALSE\n# @every 30s\nGET http://x/\n# @see below\n",
            path: "t.hurl")
        #expect(script.settings.every == .seconds(30))
        #expect(throws: ParseError.self) {
            try ScriptParser.parse(source: "# @evrey 1m\nGET http://x/\n", path: "t.hurl")
        }
        do {
            _ = try ScriptParser.parse(source: "# @evrey 1m\nGET http://x/\n", path: "t.hurl")
        } catch {
            #expect(error.message == "unknown directive @evrey; did you mean @every?")
        }
    }

    @Test("sonde check --user sends basic credentials, as hurl --user")
    func userFlag() async throws {
        let service = try HurlCompatRequestService()
        let file = Self.root + "/requests/user/no_user.hurl"
        let console = CapturingConsole()
        let code = await SondeMain.run(
            arguments: ["check", "--var", "base=\(service.baseURL)", "--user", "bob@email.com:secret", file],
            environment: [:], console: console)
        #expect(code == ExitCode.ok, "\(console.all)")
    }

    @Test("output and verbose are accepted, and the daemon says it ignores them")
    func daemonNotes() throws {
        let script = try ScriptParser.parse(
            source: "GET http://x/\n[Options]\noutput: out.json\nverbose: true\nretry: 1\n", path: "c.hurl")
        #expect(
            script.daemonNotes == [
                "c.hurl:3:1: note: option output is ignored by sonde run (it keeps no response bodies and prints no transfers)",
                "c.hurl:4:1: note: option verbose is ignored by sonde run (it keeps no response bodies and prints no transfers)",
            ])
    }

    @Test("cacert trusts a server's own certificate; without it the run is a TLS failure")
    func caCertificate() async throws {
        let server = try TLSServer()
        defer { server.stop() }
        let untrusted = try await runScript("GET {{base_url}}/\nHTTP 200\n", baseURL: server.baseURL)
        #expect(untrusted.failure?.kind == .tls)
        let trusted = try await runScript(
            "GET {{base_url}}/\n[Options]\ncacert: {{ca}}\nHTTP 200\n", baseURL: server.baseURL,
            variables: ["ca": .string(server.certificatePath)])
        #expect(trusted.failure == nil, "\(String(describing: trusted.failure))")
    }
}
