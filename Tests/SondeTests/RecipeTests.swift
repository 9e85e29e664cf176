import Foundation
import Synchronization
import Testing

@testable import SondeIncidents
@testable import SondeServe
@testable import SondeSupport

/// The README's recipes ("Install and recipes"), run as written: each is the fenced block after a
/// `<!-- recipe: NAME -->` marker, and only its addresses and paths are replaced by loopback ones
/// and a temporary folder. The service recipe is InstallTests (make install, the units' commands).
@Suite("README recipes: Slack, keep-warm, several locations, run as written")
struct RecipeTests {
    /// The body of the block after `<!-- recipe: name -->` in README.md.
    static func recipe(_ name: String) throws -> String {
        let readme = try String(contentsOfFile: packageRoot + "/README.md", encoding: .utf8)
        return try #require(
            FleetDocTests.block(after: "<!-- recipe: \(name) -->", in: readme),
            "README.md has no '<!-- recipe: \(name) -->' followed by a fenced block")
    }

    /// A command line of a recipe as arguments: the comment after `#` dropped, `sonde` first.
    static func words(_ line: Substring, replacing: [(String, String)] = []) throws -> [String] {
        let command = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let words = command.split(separator: " ").map(String.init)
        try #require(words.first == "sonde", "a recipe line starts with sonde: \(line)")
        return words.dropFirst().map { word in replacing.reduce(word) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
        }
    }

    /// A receiver that keeps every POST: its path, Content-Type and body.
    final class Receiver: Sendable {
        struct Post: Sendable {
            var path: String
            var contentType: String?
            var body: [UInt8]
        }

        let server: HTTPServer
        private let box: Box

        final class Box: Sendable { let posts = Mutex<[Post]>([]) }

        init() throws {
            let box = Box()
            server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
                box.posts.withLock {
                    $0.append(Post(path: request.path, contentType: request.header("Content-Type"), body: request.body))
                }
                return .text("ok")
            }
            self.box = box
        }

        deinit { server.stop() }

        var all: [Post] { box.posts.withLock { $0 } }
    }

    static func member(_ value: Value, _ key: String) -> Value? {
        guard case .object(let fields) = value else { return nil }
        return fields.first { $0.key == key }?.value
    }

    @Test("Slack: sonde run --webhook posts JSON whose text field Slack shows")
    func slack() async throws {
        let service = try TestService()
        let receiver = try Receiver()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write(
            "checks/search.hurl", "# @every 1s\n# @down-after 1\nGET \(service.baseURL)/status?code=503\nHTTP 200\n")
        let lines = try Self.recipe("slack").split(separator: "\n")
        try #require(lines.count == 1)
        let slackURL = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXX"
        let arguments = try Self.words(
            lines[0], replacing: [(slackURL, receiver.server.baseURL + "/services/T0000/B0000/XXXXXXXX")])
        #expect(
            arguments.contains(receiver.server.baseURL + "/services/T0000/B0000/XXXXXXXX"),
            "the recipe names \(slackURL)")
        let prober = try SondeProcess(arguments + ["--quiet"], in: folder.path, tag: "slack")
        defer { prober.signal(SIGKILL) }
        #expect(await pollUntil { !receiver.all.isEmpty }, "nothing posted: \(prober.stderr)")
        prober.signal(SIGTERM)
        _ = try await prober.finish(timeout: .seconds(60))

        let post = try #require(receiver.all.first)
        #expect(post.path == "/services/T0000/B0000/XXXXXXXX")
        #expect(post.contentType == "application/json")
        let body = try JSON.parse(post.body)
        guard case .string(let text)? = Self.member(body, "text") else {
            Issue.record("no string text in \(String(decoding: post.body, as: UTF8.self))")
            return
        }
        #expect(text.hasPrefix("🔴 search is DOWN since "), "\(text)")
        #expect(text.contains("expected HTTP status 200 but got 503") || text.contains("503"), "\(text)")
        #expect(!text.contains("<") && !text.contains(">"), "Slack reads < and > as markup: \(text)")
    }

    @Test("Slack's text escapes &, < and > (only those); the log line keeps them as they are")
    func slackEscaping() throws {
        #expect(IncidentNotification.slackEscaped("a <b> & c → ok") == "a &lt;b&gt; &amp; c → ok")
        #expect(IncidentNotification.slackEscaped("plain 🔴 text") == "plain 🔴 text")
        let event = IncidentEvent(
            timeMs: 1_767_225_600_000, kind: .opened, check: "api", location: "eu", incident: "x",
            fields: [
                ("started", .string("2026-01-01T00:00:00.000Z")), ("kind", .string("assert")),
                ("msg", .string("body contains <html> & more")), ("failed_runs", .integer(3)),
            ])
        #expect(IncidentNotification.text(event).contains("body contains <html> & more"))
        let body = try JSON.parse(IncidentNotification.payload(event, burn: [:], budgetRemaining: nil))
        guard case .string(let text)? = Self.member(body, "text"), case .string(let message)? = Self.member(body, "msg")
        else {
            Issue.record("no text or msg")
            return
        }
        #expect(text.contains("body contains &lt;html&gt; &amp; more"), "\(text)")
        #expect(message == "body contains <html> & more", "the other fields stay as they were")
    }

    @Test("keep-warm: the check validates without a warning, and the cron line's command records one run")
    func keepWarm() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let check = try Self.recipe("keep-warm-check")
        #expect(check.contains("# @every 5m\n# @keep-warm 15m\n"))
        let srv = folder.path + "/srv/sonde"
        try folder.write(
            "srv/sonde/checks/my-app.hurl",
            check.replacingOccurrences(of: "https://my-app.onrender.com/health", with: service.baseURL + "/json"))
        let validate = try await SondeProcess.run(
            ["validate", srv + "/checks"], in: folder.path, tag: "validate", timeout: .seconds(60))
        #expect(validate.outcome == .exited(0) && validate.err.isEmpty, "\(validate.err)")

        let cron = try Self.recipe("keep-warm-cron").split(separator: "\n")
        try #require(cron.count == 1)
        let fields = cron[0].split(separator: " ", maxSplits: 5).map(String.init)
        try #require(fields.count == 6)
        #expect(fields[0...4] == ["*/5", "*", "*", "*", "*"], "every 5 minutes, shorter than the 15-minute idle time")
        // The command as cron runs it: through /bin/sh, with sonde on PATH.
        let command = fields[5].replacingOccurrences(of: "/srv/sonde", with: srv)
        let bin = (SondeProcess.binary as NSString).deletingLastPathComponent
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let shell = try await offPool { () -> (Int32, String) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command]
            process.environment = ["PATH": path, "HOME": folder.path]
            process.currentDirectoryURL = URL(fileURLWithPath: folder.path)
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        #expect(shell.0 == 0, "the cron line's command: \(shell.1)")
        #expect(shell.1.contains("my-app"), "\(shell.1)")
        #expect(DaemonTests.runCounts(srv + "/data") == ["my-app": 1])
    }

    @Test("several locations: a prober at each, then one report over both folders with a quorum of 2")
    func locations() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("checks/shop.hurl", "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n")
        let lines = try Self.recipe("locations").split(separator: "\n")
        try #require(lines.count == 3)
        var probers: [SondeProcess] = []
        defer { for prober in probers { prober.signal(SIGKILL) } }
        for (index, line) in lines.prefix(2).enumerated() {
            let arguments = try Self.words(line)
            #expect(arguments.first == "run")
            probers.append(try SondeProcess(arguments, in: folder.path, tag: "location-\(index)"))
        }
        for location in ["eu", "us"] {
            #expect(
                await pollUntil { DaemonTests.runCounts(folder.path + "/data/" + location)["shop", default: 0] >= 2 },
                "no runs at \(location)")
        }
        for prober in probers {
            prober.signal(SIGTERM)
            #expect(try await prober.finish(timeout: .seconds(60)) == .exited(0), "\(prober.stderr)")
        }
        let report = try Self.words(lines[2])
        #expect(report.first == "report")
        let result = try await SondeProcess.run(report, in: folder.path, tag: "report", timeout: .seconds(120))
        #expect(result.outcome == .exited(0), "\(result.err)")
        let index = try String(contentsOfFile: folder.path + "/reports/README.md", encoding: .utf8)
        #expect(index.contains("eu") && index.contains("us"), "the report names both locations")
        #expect(index.contains("shop"))
    }
}
