import Foundation
import Testing

@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeIncidents
@testable import SondeRender
@testable import SondeSLO
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

@Suite("Status page: index.html from the report's figures, /, /api/status, escaping")
struct StatusPageTests {
    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// What a self-contained page must not hold: anything a browser would fetch (the inline SVGs'
    /// `xmlns` is a name, not an address).
    static func externalReferences(_ html: String) -> [String] {
        let lowered = html.lowercased()
        return [
            "<script", " src=", "srcset=", "url(", "@import", "<iframe", "<object", "<embed", "href=\"http",
            "href=\"//",
        ]
        .filter { lowered.contains($0) }
            + lowered.components(separatedBy: "<link").dropFirst().filter {
                !$0.hasPrefix(" rel=\"icon\" href=\"data:,\">")
            }
            .map { "<link" + $0.prefix(40) }
    }

    @Test("the page's one escaping function turns & < > \" ' into entities and control characters into spaces")
    func escapes() {
        #expect(StatusPageHTML.escape("plain text, 99.9% – ünïcode") == "plain text, 99.9% – ünïcode")
        #expect(
            StatusPageHTML.escape("<script>alert(\"x\" & 'y')</script>")
                == "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;")
        #expect(StatusPageHTML.escape("a\u{1B}[31mb\nc\u{0}d") == "a [31mb c d")
        #expect(StatusPageHTML.escape("&amp;") == "&amp;amp;", "already escaped text is escaped again: it is text")
    }

    @Test(
        "sonde report writes index.html with the README's uptime cells, the same charts, links and no outside references"
    )
    func reportPageAgreesWithTheMarkdown() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        let start = SLOTests.now - 30 * UTCTime.msPerDay + 60_000
        data.every(60_000, from: start, to: SLOTests.now + 1) { t in (t - start) / 60_000 % 1440 == 7 }
        data.every(60_000, from: SLOTests.now - 3_600_000, to: SLOTests.now + 1, check: "web") { t in
            t > SLOTests.now - 300_000
        }
        try data.write(to: folder.path + "/data", hoursBefore: SLOTests.now)
        let opened = IncidentEvent(
            timeMs: SLOTests.now - 180_000, kind: .opened, check: "web", location: "eu",
            incident: "2026-11-23T1155Z-web",
            fields: [
                ("started", .string(UTCTime.rfc3339(SLOTests.now - 240_000))),
                ("detected", .string(UTCTime.rfc3339(SLOTests.now - 180_000))), ("kind", .string("status")),
                ("msg", .string("entry 1 line 2: HTTP 503")),
            ])
        let closed = IncidentEvent(
            timeMs: SLOTests.now - 9_000_000, kind: .opened, check: "api", location: "eu",
            incident: "2026-11-23T0930Z-api")
        let resolved = IncidentEvent(
            timeMs: SLOTests.now - 8_000_000, kind: .resolved, check: "api", location: "eu",
            incident: "2026-11-23T0930Z-api")
        try folder.write(
            "data/incidents.jsonl", bytes: closed.encode() + resolved.encode() + opened.encode())
        try folder.write("reports/incidents/2026-11-23T1155Z-web.md", "# web\n")
        try folder.write(
            "checks/api.hurl", "# @every 1m\n# @slo 99.9% 30d\n# @latency 200ms 99%\nGET http://x/\nHTTP 200\n")
        let console = CapturingConsole()
        let code = ReportTests.command(
            [folder.path + "/data"], out: folder.path + "/reports", checks: folder.path + "/checks"
        ).run(console: console, now: ReportTests.now)
        #expect(code == 0, "\(console.all)")
        #expect(console.stdout.contains("/reports/index.html"))
        let html = try Self.read(folder.path + "/reports/index.html")
        let readme = try Self.read(folder.path + "/reports/README.md")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        #expect(html.contains("@media (prefers-color-scheme:dark)"))
        #expect(Self.externalReferences(html).isEmpty, "\(Self.externalReferences(html))")
        #expect(html.contains("1 of 2 checks down"))
        // The README's cells, word for word.
        #expect(readme.contains("| [api](checks/api.md) | 🟢 up | 99.930% (100%) | 99.930% (100%) | 99.930% (100%) |"))
        #expect(html.contains("<a class=\"name\" href=\"checks/api.md\">api</a> <span class=\"state\">up</span>"))
        #expect(html.components(separatedBy: "<dd>99.930% (100%)</dd>").count == 4, "24h, 7d and 30d")
        #expect(html.contains("<a class=\"name\" href=\"checks/web.md\">web</a> <span class=\"state\">down</span>"))
        #expect(html.contains("<code>status</code> <span class=\"msg\">entry 1 line 2: HTTP 503</span>"))
        // The charts are the report's own SVG files, inline.
        for chart in ["api-daily", "api-latency", "web-daily", "web-latency"] {
            let svg = try Self.read(folder.path + "/reports/charts/\(chart).svg")
            #expect(html.contains(svg), "\(chart).svg is inline as written")
        }
        // The open incident (not the resolved one), linked to its write-up.
        #expect(html.contains("<strong>web</strong> at eu: down since 2026-11-23 11:56:00Z"))
        #expect(html.contains("(<a href=\"incidents/2026-11-23T1155Z-web.md\">write-up</a>)"))
        #expect(!html.contains("0930Z-api"))
        #expect(html.contains("<a href=\"README.md\">Service levels (Markdown)</a>"))
    }

    @Test("hostile check names and messages are text in index.html: no element, no attribute breaks out")
    func reportPageEscapesHostileText() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let name = "<img src=x onerror=alert(1)> \"q\" & 'a'"
        let message = "got <script>alert(1)</script> \" onmouseover=\"alert(2) & more"
        var data = DataBuilder()
        data.every(60_000, from: SLOTests.now - 600_000, to: SLOTests.now + 1, check: name) { _ in true }
        data.runs = data.runs.map { run in
            var run = run
            run.error?.message = message
            return run
        }
        try data.write(to: folder.path + "/data")
        let console = CapturingConsole()
        #expect(
            ReportTests.command([folder.path + "/data"], out: folder.path + "/r").run(
                console: console, now: ReportTests.now) == 0, "\(console.all)")
        let html = try Self.read(folder.path + "/r/index.html")
        #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("\" onmouseover"))
        #expect(html.contains(StatusPageHTML.escape(name)) && html.contains(StatusPageHTML.escape(message)))
        #expect(
            html.contains("href=\"checks/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%20%22q%22%20%26%20%27a%27.md\""))
    }

    @Test("the live page and /api/status show each check's state, error, uptime and open incident from memory")
    func livePageAndJSON() async throws {
        let fixture = try LiveStatusFixture { base in
            [
                "good": "# @every 1s\nGET \(base)/ok\nHTTP 200\n",
                "bad": "# @every 1s\n# @down-after 1\nGET \(base)/down\nHTTP 200\n",
            ]
        }
        defer { fixture.folder.cleanup() }
        let ready = try await fixture.waitFor { body in ((body["incidents"] as? [Any]) ?? []).count == 1 }
        #expect(ready, "both checks ran and the failing one opened an incident")
        let json = try #require(try await fixture.status())
        #expect(json["v"] as? Int == 1 && json["source"] as? String == "live")
        #expect(json["origin"] as? String == "loopback" && json["state"] as? String == "down")
        #expect(json["summary"] as? String == "1 of 2 checks down")
        let checks = try #require(json["checks"] as? [[String: Any]])
        #expect(checks.map { $0["name"] as? String } == ["bad", "good"])
        let bad = checks[0]
        #expect(bad["state"] as? String == "down")
        let error = try #require(bad["error"] as? [String: Any])
        #expect(error["kind"] as? String == "status")
        #expect((error["message"] as? String)?.contains("actual: 503") == true, "\(error)")
        let good = checks[1]
        #expect(good["state"] as? String == "up" && good["error"] is NSNull)
        let uptime = try #require(good["uptime"] as? [String: [String: Any]])
        #expect(Set(uptime.keys) == ["24h", "7d", "30d"])
        let day = try #require(uptime["24h"])
        #expect((day["total"] as? Int ?? 0) >= 1 && day["good"] as? Int == day["total"] as? Int)
        #expect(day["ratio"] as? Double == 1 && day["coverage"] is NSNull)
        let days = try #require(good["days"] as? [[String: Any]])
        #expect(days.last?["date"] as? String == UTCTime.dayString(UTCTime.milliseconds(Date())))
        let latency = try #require(good["latency"] as? [String: Any])
        #expect(((latency["points_ms"] as? [Any]) ?? []).contains { $0 is Double })
        let incident = try #require((json["incidents"] as? [[String: Any]])?.first)
        #expect(incident["check"] as? String == "bad" && incident["kind"] as? String == "status")

        let page = try await fixture.get("/")
        #expect(page.status == 200 && page.header("Content-Type") == "text/html; charset=utf-8")
        #expect(page.header("Cache-Control") == "no-store")
        let html = page.text
        #expect(html.contains("<span class=\"name\">bad</span> <span class=\"state\">down</span>"))
        #expect(html.contains("<span class=\"name\">good</span> <span class=\"state\">up</span>"))
        #expect(html.contains("Live from the prober at location loopback"))
        #expect(html.contains("<strong>bad</strong> at loopback: down since"))
        #expect(Self.externalReferences(html).isEmpty, "\(Self.externalReferences(html))")
        #expect(try await fixture.get("/healthz").status == 200)
        #expect(try await fixture.get("/metrics").text.contains("sonde_check_up"))
        let missing = try await fixture.get("/nope")
        #expect(missing.status == 404 && missing.text.contains("/api/status"))

        // Refreshed on reload: a later load (past the one-second reuse) has newer figures.
        @Sendable func lastRun(_ body: [String: Any]?) -> String? {
            ((body?["checks"] as? [[String: Any]]) ?? []).first { $0["name"] as? String == "good" }?["last_run"]
                as? String
        }
        let before = try #require(lastRun(json))
        let generated = try #require(json["generated"] as? String)
        let refreshed = try await fixture.waitFor { body in
            (lastRun(body) ?? "") > before && (body["generated"] as? String ?? "") > generated
        }
        #expect(refreshed, "a reload shows the runs since the first load")
        await fixture.stop()
    }

    @Test("the live figures: windows and days from the SLO tracker's rings, the last 60 durations in order")
    func liveFigures() {
        let now = SLOTests.now
        let tracker = SLOTracker()
        tracker.setPolicies(["api": SLOPolicy()], nowMs: now - 3 * UTCTime.msPerDay)
        tracker.add(check: "api", timeMs: now - 2 * UTCTime.msPerDay, ok: false)
        tracker.add(check: "api", timeMs: now - UTCTime.msPerDay - UTCTime.msPerHour, ok: true)
        tracker.add(check: "api", timeMs: now - 60_000, ok: true)
        let week = 7 * UTCTime.msPerDay
        let figures = tracker.statusCounts(
            check: "api", nowMs: now, windowsMs: [UTCTime.msPerDay, week, 40 * UTCTime.msPerDay], maxDays: 90)
        #expect(
            figures?.windows.map { $0.map { [$0.runs, $0.good] } } == [[1, 1], [3, 2], nil], "40d is past the ring")
        let days = figures?.days ?? []
        #expect(days.count == 30, "the whole days of a 30-day ring, then today")
        #expect(days.last?.dayMs == UTCTime.dayStart(now))
        #expect(days.suffix(3).map { [$0.counts.runs, $0.counts.good] } == [[1, 0], [1, 1], [1, 1]])
        #expect(tracker.statusCounts(check: "web", nowMs: now, windowsMs: [week], maxDays: 90) == nil)

        let board = StatusBoard(enabled: true)
        for k in 0..<65 {
            var run = RunRecord(
                time: now + Int64(k) * 1000, check: "api", location: "eu", ok: k % 10 != 3, durationMs: Double(k),
                lateMs: 0, error: nil, steps: [])
            if !run.ok { run.error = RunError(kind: "timeout", entry: 1, line: 1, message: "slow \(k)") }
            board.record(run)
        }
        let entry = board.entry("api")
        #expect(entry?.durations.count == 60)
        #expect(entry?.durations.first == 5 && entry?.durations.last == 64, "oldest first: runs 5 to 64")
        #expect(entry?.durations[58] == nil, "run 63 failed: a gap")
        #expect(entry?.ok == true && entry?.failure == nil && entry?.lastRunMs == now + 64_000)
        board.keep([])
        #expect(board.entry("api") == nil)
        let off = StatusBoard(enabled: false)
        off.record(
            RunRecord(
                time: now, check: "api", location: "eu", ok: true, durationMs: 1, lateMs: 0, error: nil, steps: []))
        #expect(off.entry("api") == nil, "without --listen nothing is kept")
    }

    @Test("run takes --listen, and --metrics as its earlier name; help shows both")
    func listenOption() throws {
        guard case .run(let listen) = try parseLine(["run", "--listen", "127.0.0.1:9115"]),
            case .run(let metrics) = try parseLine(["run", "--metrics", ":9116"])
        else {
            Issue.record("not a run")
            return
        }
        #expect(listen.metrics == "127.0.0.1:9115" && listen.listenOption == "--listen")
        #expect(metrics.metrics == ":9116" && metrics.listenOption == "--metrics")
        let help = try #require(try? CommandLineHelpTests.help(["run", "--help"]))
        #expect(help.contains("--listen HOST:PORT") && help.contains("serve the status page at /"))
    }
}
