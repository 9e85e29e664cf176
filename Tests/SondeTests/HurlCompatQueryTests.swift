import Foundation
import Testing

@testable import SondeCommands
@testable import SondeRun
@testable import SondeSupport

/// The Hurl-compatibility files of the response side (`Tests/hurl-compat/queries/<feature>/*.hurl`):
/// queries, filters, predicates and JSONPath written as Hurl's integration tests are, each run
/// through `sonde check` against the suite's own loopback server, each with the exit code its first
/// line names (`# expect-exit: 4`).
@Suite("Hurl compatibility: queries, filters, predicates")
struct HurlCompatQueryTests {
    /// The folder of the files.
    static let root = HurlCompatFiles.root + "/queries"

    /// Every `.hurl` file under `root`, as `feature/name.hurl`, sorted.
    static let files: [String] = HurlCompatFiles.files(under: root).map { String($0.dropFirst(root.count + 1)) }

    /// The exit code a file's first line names: `# expect-exit: N`.
    static func expectedExit(_ text: String) -> Int32? {
        guard let first = text.split(separator: "\n", maxSplits: 1).first,
            first.hasPrefix("# expect-exit:")
        else { return nil }
        return Int32(first.dropFirst("# expect-exit:".count).trimmingCharacters(in: .whitespaces))
    }

    @Test("there are files for every feature folder, each naming its exit code")
    func filesAreThere() throws {
        #expect(Self.files.count >= 20)
        for file in Self.files {
            let text = try String(contentsOfFile: Self.root + "/" + file, encoding: .utf8)
            #expect(Self.expectedExit(text) != nil, "\(file) has no '# expect-exit: N' first line")
        }
    }

    @Test("each file exits as its first line says", arguments: files)
    func runsAsExpected(_ file: String) async throws {
        let path = Self.root + "/" + file
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let expected = try #require(Self.expectedExit(text))
        let service = try HurlCompatQueryService()
        var vars = ["base=\(service.baseURL)"]
        var tls: TLSServer?
        if text.contains("{{tls}}") {
            let server = try await offPool { try TLSServer() }
            tls = server
            vars.append("tls=\(server.baseURL)")
        }
        defer { tls?.stop() }
        let console = CapturingConsole()
        let command = CheckCommand(
            paths: [path],
            variables: VariableSources(environment: [:], vars: vars, secrets: ["token=s3cr3t-t0ken-value"]))
        let code = await command.run(console: console)
        #expect(code == expected, "\(file) exited \(code), expected \(expected):\n\(console.all)")
    }

    @Test("an XPath expression is compiled once, not at each evaluation")
    func xpathCompiledOnce() async throws {
        let service = try HurlCompatQueryService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let expression = "count(//p[@data-run='\(UUID().uuidString)'])"
        let entry = "GET {{base}}/html\nHTTP 200\n[Asserts]\nxpath \"\(expression)\" == 0\n\n"
        let file = try folder.write("xpath.hurl", String(repeating: entry, count: 3))
        let console = CapturingConsole()
        let command = CheckCommand(
            paths: [file], variables: VariableSources(environment: [:], vars: ["base=\(service.baseURL)"]))
        let code = await command.run(console: console)
        #expect(code == 0, "\(console.all)")
        #expect(XPathEvaluator.compileCount(of: expression) == 1)
    }
}
