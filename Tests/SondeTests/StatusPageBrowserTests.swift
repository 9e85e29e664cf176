import Foundation
import Testing

@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeRender
@testable import SondeStore
@testable import SondeSupport

/// The status page in a real browser: headless Chromium (`make test-deps` installs Debian's
/// `chromium`) opens the page `sonde report` writes (file://) and the one `sonde run --listen`
/// serves (http://127.0.0.1), and the tests read the DOM it built. Six Chromium runs in all, one at
/// a time (the suite is serialized), each with its own profile in the test's folder.
@Suite("Status page in headless Chromium: DOM, loads, screenshots, hostile text", .serialized)
struct StatusPageBrowserTests {
    /// The report of a live fixture's data folder, written to `out`; the path of its index.html.
    static func report(_ fixture: LiveStatusFixture, out: String) throws -> String {
        var command = ReportCommand()
        command.data = [fixture.folder.path + "/data"]
        command.checks = fixture.folder.path + "/checks"
        command.out = out
        let console = CapturingConsole()
        #expect(command.run(console: console) == 0, "\(console.all)")
        return out + "/index.html"
    }

    /// `sonde maintenance add ARGUMENTS` over the fixture's data folder, as a user would while it runs.
    static func addMaintenance(_ fixture: LiveStatusFixture, _ arguments: [String]) async {
        let added = await MaintenanceDaemonTests.sonde(
            ["maintenance", "add"] + arguments
                + ["--data", fixture.folder.path + "/data", "--checks", fixture.folder.path + "/checks"])
        #expect(added.code == 0, "\(added.console.all)")
    }

    /// Waits until `/api/status` shows `check` in maintenance.
    static func inMaintenance(_ fixture: LiveStatusFixture, _ check: String) async throws -> Bool {
        try await fixture.waitFor { body in
            ((body["checks"] as? [[String: Any]]) ?? []).contains {
                $0["name"] as? String == check && $0["shown"] as? String == "maintenance"
            }
        }
    }

    /// The DOM's body, after Chromium has parsed and laid out the page.
    static func body(_ dom: String) -> String {
        guard let start = dom.range(of: "<body>"), let end = dom.range(of: "</body>", options: .backwards) else {
            return ""
        }
        return String(dom[start.upperBound..<end.lowerBound])
    }

    /// The tags of a serialized DOM (`<` in text is serialized as `&lt;`, so every `<` starts a
    /// tag or a comment), lowercased.
    static func tags(_ dom: String) -> [String] {
        dom.lowercased().split(separator: "<", omittingEmptySubsequences: true).dropFirst().map { piece in
            "<" + (piece.firstIndex(of: ">").map { String(piece[...$0]) } ?? String(piece))
        }
    }

    /// Tags by which a DOM would load something or run something: elements that fetch or run,
    /// `src`/`srcset` and event-handler attributes, links other than the empty `data:` favicon, and
    /// `url(` or `@import` in the style sheet.
    static func loadingMarkup(_ dom: String) -> [String] {
        let fetching = ["<script", "<img", "<iframe", "<object", "<embed", "<video", "<audio", "<source", "<image"]
        var found = tags(dom).filter { tag in
            fetching.contains { tag.hasPrefix($0 + " ") || tag.hasPrefix($0 + ">") }
                || tag.contains(" src=") || tag.contains(" srcset=") || tag.contains(" href=\"http")
                || tag.range(of: #" on[a-z]+="#, options: .regularExpression) != nil
                || (tag.hasPrefix("<link") && tag != "<link rel=\"icon\" href=\"data:,\">")
        }
        let lowered = dom.lowercased()
        if let style = lowered.range(of: "<style>"), let end = lowered.range(of: "</style>") {
            let css = lowered[style.upperBound..<end.lowerBound]
            found += ["url(", "@import"].filter { css.contains($0) }
        }
        return found
    }

    @Test(
        "the report's page and the live page show every check, its state and maintenance, load nothing else, and render at desktop and phone widths"
    )
    func staticAndLivePages() async throws {
        let fixture = try LiveStatusFixture { base in
            [
                "shop-home": "# @every 1s\nGET \(base)/ok\nHTTP 200\n",
                "checkout api": "# @every 1s\n# @latency 300ms 99%\nGET \(base)/ok\nHTTP 200\n",
                "payments": "# @every 1s\n# @down-after 1\nGET \(base)/down\nHTTP 200\n",
            ]
        }
        defer { fixture.folder.cleanup() }
        let expected = [("checkout api", "maintenance"), ("payments", "down"), ("shop-home", "up")]
        #expect(try await fixture.waitFor { (($0["incidents"] as? [Any]) ?? []).count == 1 })
        // A window in progress for one check, and one coming for every check.
        let soon = UTCTime.rfc3339(UTCTime.milliseconds(Date()) + 3 * UTCTime.msPerHour)
        await Self.addMaintenance(fixture, ["checkout api", "--from", "now", "--until", "+2h", "--reason", "DB move"])
        await Self.addMaintenance(fixture, ["--all", "--from", soon, "--until", "+1h", "--reason", "network"])
        #expect(try await Self.inMaintenance(fixture, "checkout api"), "the prober read the new window")
        let chromium = Chromium(folder: fixture.folder.path)

        // Live: the page the daemon renders from memory, over loopback HTTP.
        _ = fixture.takeRequested()
        let live = try await chromium.dumpDOM(fixture.baseURL + "/")
        let asked = fixture.takeRequested()
        #expect(live.status == 0, "\(live.stderr.suffix(2000))")
        let liveBody = Self.body(live.stdout)
        #expect(!liveBody.isEmpty, "\(live.stdout.prefix(500))")
        for (name, state) in expected {
            #expect(
                liveBody.contains("<span class=\"name\">\(name)</span> <span class=\"state\">\(state)</span>"),
                "\(name) is \(state) on the live page")
        }
        #expect(liveBody.contains("1 of 3 checks down, 1 in maintenance"))
        #expect(liveBody.contains("<strong>payments</strong> at loopback: down since"))
        Self.expectMaintenance(liveBody, "live")
        #expect(Self.loadingMarkup(live.stdout).isEmpty, "\(Self.loadingMarkup(live.stdout))")
        // Every request the browser made reached this server: the page and nothing else (the
        // favicon is an empty data: URL, so not even /favicon.ico).
        #expect(asked == ["/"], "the browser asked for \(asked)")
        #expect(!live.stderr.contains("Failed to load resource"), "\(live.stderr.suffix(2000))")
        for (width, height) in [(1280, 900), (390, 844)] {
            let path = fixture.folder.path + "/live-\(width)x\(height).png"
            let shot = try await chromium.screenshot(fixture.baseURL + "/", to: path, width: width, height: height)
            #expect(shot.status == 0, "\(shot.stderr.suffix(2000))")
            #expect(Chromium.isPNG(path, width: width, height: height), "\(path) is a \(width)×\(height) PNG")
        }
        #expect(fixture.takeRequested() == ["/", "/"], "each screenshot loaded the page and nothing else")

        // Static: the report of the same data folder, from file://.
        await fixture.stop()
        let index = try Self.report(fixture, out: fixture.folder.path + "/reports")
        let url = URL(fileURLWithPath: index).absoluteString
        let page = try await chromium.dumpDOM(url, logLoads: true)
        #expect(page.status == 0, "\(page.stderr.suffix(2000))")
        let body = Self.body(page.stdout)
        for (name, state) in expected {
            let link = "checks/\(Markdown.link(name)).md"
            #expect(
                body.contains("<a class=\"name\" href=\"\(link)\">\(name)</a> <span class=\"state\">\(state)</span>"),
                "\(name) is \(state) on the report's page")
        }
        #expect(body.contains("1 of 3 checks down, 1 in maintenance"))
        Self.expectMaintenance(body, "report")
        #expect(Self.loadingMarkup(page.stdout).isEmpty, "\(Self.loadingMarkup(page.stdout))")
        // Chromium's verbose log names every file it loads: the page itself, and only it.
        #expect(Chromium.fileLoads(page.stderr) == [url], "loads: \(Chromium.fileLoads(page.stderr))")
        #expect(!page.stderr.contains("Failed to load resource"))

        for (width, height) in [(1280, 900), (390, 844)] {
            let path = fixture.folder.path + "/status-\(width)x\(height).png"
            let shot = try await chromium.screenshot(url, to: path, width: width, height: height)
            #expect(shot.status == 0, "\(shot.stderr.suffix(2000))")
            #expect(Chromium.isPNG(path, width: width, height: height), "\(path) is a \(width)×\(height) PNG")
        }
    }

    /// The maintenance a DOM shows in `staticAndLivePages`: the window in progress on the check and
    /// on top, and the one coming for every check.
    static func expectMaintenance(_ body: String, _ label: String) {
        #expect(body.contains("<article class=\"check maintenance\">"), "\(label)")
        #expect(
            body.contains("In maintenance until ")
                && body.contains(", reason <span class=\"reason\">DB move</span> (<code>m1</code>)"), "\(label)")
        #expect(body.contains("<li class=\"maint-now\">") && body.contains("<strong>checkout api</strong>"), "\(label)")
        #expect(body.contains("<li class=\"maint-next\">From ") && body.contains(": every check, reason"), "\(label)")
        #expect(body.contains("<p class=\"maint-next\">Next maintenance: from "), "\(label)")
    }

    @Test("hostile check names, a target echoing markup and a hostile maintenance reason are text in both DOMs")
    func hostileTextIsEscaped() async throws {
        let names = ["<img src=x onerror=alert(1)>", "\"quoted\" & 'single' <b>bold"]
        let fixture = try LiveStatusFixture { base in
            [
                names[0]: "# @every 1s\nGET \(base)/markup\nHTTP 200\n",
                names[1]: "# @every 1s\nGET \(base)/ok\nHTTP 200\n",
            ]
        }
        defer { fixture.folder.cleanup() }
        #expect(try await fixture.waitFor())
        let reason = "<script>alert(3)</script><img src=x onerror=alert(4)> \"q\" & 'a' <b>bold</b>"
        await Self.addMaintenance(fixture, [names[0], "--from", "now", "--until", "+2h", "--reason", reason])
        #expect(try await Self.inMaintenance(fixture, names[0]))
        let chromium = Chromium(folder: fixture.folder.path)
        let live = try await chromium.dumpDOM(fixture.baseURL + "/")
        await fixture.stop()
        let index = try Self.report(fixture, out: fixture.folder.path + "/reports")
        let report = try await chromium.dumpDOM(URL(fileURLWithPath: index).absoluteString)
        for (label, output) in [("live", live), ("report", report)] {
            #expect(output.status == 0, "\(label): \(output.stderr.suffix(2000))")
            let body = Self.body(output.stdout)
            #expect(!body.isEmpty, "\(label)")
            // No element came out of a name or a message: no script, image or <b> in the DOM.
            #expect(Self.loadingMarkup(output.stdout).isEmpty, "\(label): \(Self.loadingMarkup(output.stdout))")
            #expect(!body.contains("<b>"), "\(label)")
            // Each hostile string is in the DOM as text.
            for name in names {
                #expect(body.contains(">\(domText(name))</"), "\(label): the name \(name) is a text node")
            }
            #expect(
                body.contains(domText("<script>alert(1)</script><img src=x onerror=alert(2)>")),
                "\(label): the echoed body is text in the failure message")
            #expect(body.contains(domText(reason)), "\(label): the maintenance reason is text")
            #expect(
                body.contains("<span class=\"state\">maintenance</span>")
                    && body.contains("<span class=\"state\">up</span>"))
        }
    }
}
