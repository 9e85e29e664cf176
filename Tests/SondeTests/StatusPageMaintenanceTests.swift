import Foundation
import Testing

@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeRender
@testable import SondeSLO
@testable import SondeScript
@testable import SondeStore
@testable import SondeSupport

@Suite("Status page: maintenance windows in progress and coming, on the page and in /api/status")
struct StatusPageMaintenanceTests {
    /// A reason as hostile as `--reason` allows: markup, both quotes, an ampersand.
    static let hostile = "<script>alert(1)</script> \"q\" & 'a' <b>bold</b>"

    static func at(_ text: String) -> Int64 {
        Array(text.utf8).withUnsafeBufferPointer(UTCTime.parseRFC3339) ?? 0
    }

    static func entry(
        _ id: String, _ check: String?, _ from: String, _ until: String, reason: String = "work",
        ended: String? = nil
    ) -> MaintenanceEntry {
        MaintenanceEntry(
            id: id, check: check, fromMs: at(from), untilMs: at(until), reason: reason, addedMs: at(from) - 60_000,
            endedMs: ended.map(at))
    }

    static func row(
        _ name: String, _ state: CheckSLO.State, maintenance: StatusPage.CheckMaintenance = .init()
    ) -> StatusPage.Check {
        StatusPage.Check(
            name: name, state: state, lastRunMs: SLOTests.now - 5_000,
            failure: state == .down ? StatusPage.Failure(kind: "status", message: "HTTP 503") : nil, objective: 0.999,
            uptime: [], days: [], latency: StatusPage.Latency(label: "runs", points: [], thresholdMs: nil), link: nil,
            maintenance: maintenance)
    }

    static func page(_ checks: [StatusPage.Check], nowMs: Int64 = SLOTests.now) -> StatusPage {
        StatusPage(source: .live, generatedMs: nowMs, origin: "eu", checks: checks, incidents: [], links: [])
    }

    @Test("a check's windows: the one in progress that lasts longest, the next three within 7 days, none empty or past")
    func checkWindows() throws {
        let script = try MaintenanceTests.parse("# @maintenance daily 02:00-03:00 UTC\n")
        let calendar = MaintenanceCalendar(entries: [
            Self.entry("m1", "svc", "2026-12-01T02:00:00Z", "2026-12-01T04:00:00Z", reason: "db upgrade"),
            Self.entry("m2", nil, "2026-12-02T10:00:00Z", "2026-12-02T11:00:00Z", reason: "network"),
            Self.entry("m3", "svc", "2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z"),
            Self.entry("m4", "svc", "2026-12-09T00:00:00Z", "2026-12-09T01:00:00Z"),
            Self.entry("m5", "svc", "2026-12-01T05:00:00Z", "2026-12-01T06:00:00Z", ended: "2026-12-01T01:00:00Z"),
            Self.entry("m6", "web", "2026-12-01T02:00:00Z", "2026-12-01T09:00:00Z"),
        ])
        let now = Self.at("2026-12-01T02:30:00Z")
        let svc = StatusPage.CheckMaintenance(check: "svc", settings: script.settings, calendar: calendar, nowMs: now)
        let current = try #require(svc.current)
        #expect(current.label == "m1" && current.reason == "db upgrade", "m1 ends at 04:00, the daily window at 03:00")
        #expect(current.fromMs == Self.at("2026-12-01T02:00:00Z") && current.untilMs == Self.at("2026-12-01T04:00:00Z"))
        #expect(
            svc.upcoming.map { [$0.label, UTCTime.rfc3339Seconds($0.fromMs)] } == [
                ["daily 02:00-03:00 UTC", "2026-12-02T02:00:00Z"], ["m2", "2026-12-02T10:00:00Z"],
                ["daily 02:00-03:00 UTC", "2026-12-03T02:00:00Z"],
            ], "m3 is over, m4 is past 7 days, m5 was ended before it began, m6 is web's")
        #expect(svc.upcoming[0].recurring && svc.upcoming[0].reason == nil)
        #expect(svc.upcoming[1].everyCheck && !svc.upcoming[0].everyCheck)

        let web = StatusPage.CheckMaintenance(check: "web", settings: MonitorSettings(), calendar: calendar, nowMs: now)
        #expect(web.current?.label == "m6" && web.upcoming.map(\.label) == ["m2"])
        let later = StatusPage.CheckMaintenance(
            check: "web", settings: MonitorSettings(), calendar: calendar, nowMs: Self.at("2026-12-01T09:00:00Z"))
        #expect(later.current == nil, "a window ends at its until (not included)")
    }

    @Test("a check in maintenance is shown as such and not counted as down; the headline counts it apart")
    func overall() {
        let window = StatusPage.Maintenance(
            label: "m1", reason: "upgrade", fromMs: SLOTests.now - 60_000, untilMs: SLOTests.now + 3_600_000,
            checks: ["svc"], everyCheck: false)
        let inWindow = StatusPage.CheckMaintenance(current: window)
        let cases: [([StatusPage.Check], String, StatusPage.Shown)] = [
            (
                [Self.row("api", .up), Self.row("svc", .down, maintenance: inWindow)],
                "1 of 2 checks up, 1 in maintenance", .up
            ),
            (
                [Self.row("api", .down), Self.row("svc", .down, maintenance: inWindow), Self.row("web", .up)],
                "1 of 3 checks down, 1 in maintenance", .down
            ),
            ([Self.row("svc", .down, maintenance: inWindow)], "The check is in maintenance", .maintenance),
            (
                [Self.row("svc", .up, maintenance: inWindow), Self.row("web", .noData, maintenance: inWindow)],
                "All 2 checks in maintenance", .maintenance
            ),
            (
                [Self.row("svc", .down, maintenance: inWindow), Self.row("web", .noData)],
                "1 of 2 checks in maintenance, the rest without runs yet", .maintenance
            ),
            ([Self.row("api", .up), Self.row("web", .up)], "All 2 checks up", .up),
            ([Self.row("api", .up), Self.row("web", .noData)], "1 of 2 checks up, the rest without runs yet", .up),
            ([Self.row("api", .noData)], "No runs yet", .noData),
        ]
        for (checks, text, state) in cases {
            let page = Self.page(checks)
            #expect(page.overall.text == text)
            #expect(page.overall.state == state, "\(text)")
        }
        #expect(Self.row("svc", .down, maintenance: inWindow).shown == .maintenance)
        #expect(Self.row("svc", .down).shown == .down)
    }

    /// A page with a check in an ad hoc window (hostile reason), one with a recurring window in
    /// progress, one with an upcoming `--all` window, and one down without maintenance.
    static func mixedPage() -> StatusPage {
        let now = SLOTests.now
        let adHoc = StatusPage.Maintenance(
            label: "m1", reason: hostile, fromMs: now - 600_000, untilMs: now + 3_600_000, checks: ["svc"],
            everyCheck: false)
        let recurring = StatusPage.Maintenance(
            label: "Mon 11:00-13:00 UTC", reason: nil, fromMs: now - 3_600_000, untilMs: now + 3_600_000,
            checks: ["batch"], everyCheck: false)
        let next = { (check: String) in
            StatusPage.Maintenance(
                label: "m2", reason: "network", fromMs: now + 2 * UTCTime.msPerDay,
                untilMs: now + 2 * UTCTime.msPerDay + 1_800_000, checks: [check], everyCheck: true)
        }
        return Self.page([
            Self.row("api", .down, maintenance: .init(upcoming: [next("api")])),
            Self.row("batch", .up, maintenance: .init(current: recurring, upcoming: [next("batch")])),
            Self.row("svc", .down, maintenance: .init(current: adHoc, upcoming: [next("svc")])),
        ])
    }

    @Test("the HTML shows the window in progress with its end and escaped reason, the next ones, per check and on top")
    func html() {
        let html = StatusPageHTML.render(Self.mixedPage())
        #expect(html.contains("<p id=\"overall\" class=\"overall down\">"))
        #expect(html.contains("1 of 3 checks down, 2 in maintenance"))
        // Per check: the state, the end, the reason as text.
        #expect(html.contains("<article class=\"check maintenance\">"))
        #expect(html.contains("<span class=\"name\">svc</span> <span class=\"state\">maintenance</span>"))
        #expect(html.contains("<span class=\"name\">api</span> <span class=\"state\">down</span>"))
        let reason = "<span class=\"reason\">\(StatusPageHTML.escape(Self.hostile))</span> (<code>m1</code>)"
        #expect(html.contains("<p class=\"maint-now\">In maintenance until 2026-11-23 13:00:00Z, reason \(reason)</p>"))
        #expect(
            html.contains(
                "<p class=\"maint-now\">In maintenance until 2026-11-23 13:00:00Z, recurring window <code>Mon 11:00-13:00 UTC</code></p>"
            ))
        #expect(
            html.contains(
                "<p class=\"maint-next\">Next maintenance: from 2026-11-25 12:00:00Z until 2026-11-25 12:30:00Z, reason <span class=\"reason\">network</span> (<code>m2</code>)</p>"
            ))
        // On top: both windows in progress, then the upcoming --all window once.
        let section = html.components(separatedBy: "<section id=\"maintenance\">").last ?? ""
        #expect(section.components(separatedBy: "<li class=\"maint-now\">").count == 3)
        #expect(section.components(separatedBy: "<li class=\"maint-next\">").count == 2, "m2 once, for every check")
        #expect(section.contains("until 2026-11-23 13:00:00Z: <strong>svc</strong>, reason \(reason)"))
        #expect(section.contains("From 2026-11-25 12:00:00Z until 2026-11-25 12:30:00Z: every check, reason"))
        // The hostile reason never became markup.
        #expect(!html.contains("<script") && !html.contains("<b>") && !html.contains("\"q\""))
        #expect(StatusPageTests.externalReferences(html).isEmpty)

        let quiet = StatusPageHTML.render(Self.page([Self.row("api", .up)]))
        #expect(quiet.contains("<section id=\"maintenance\">\n<h2>Maintenance</h2>\n<p class=\"none\">No maintenance"))
    }

    @Test("the style sheet gives maintenance a colour of its own in light and in dark")
    func colours() throws {
        let css = StatusPageHTML.css
        let dark = try #require(css.range(of: "@media (prefers-color-scheme:dark)"))
        func variables(_ text: Substring) -> [String: String] {
            var out: [String: String] = [:]
            for name in ["--up", "--down", "--maint", "--nodata"] {
                if let r = text.range(of: name + ":") {
                    out[name] = String(text[r.upperBound...].prefix { $0 != ";" && $0 != "}" })
                }
            }
            return out
        }
        for (label, scheme) in [
            ("light", variables(css[..<dark.lowerBound])), ("dark", variables(css[dark.upperBound...])),
        ] {
            let maint = try #require(scheme["--maint"], "\(label)")
            #expect(scheme.count == 4 && Set(scheme.values).count == 4, "\(label): \(scheme)")
            #expect(maint.hasPrefix("#") && maint.count == 7, "\(label): \(maint)")
        }
        #expect(variables(css[..<dark.lowerBound])["--maint"] != variables(css[dark.upperBound...])["--maint"])
        for rule in [
            ".maintenance .dot", ".check.maintenance{border-left:4px solid var(--maint)}",
            ".maintenance .state{color:var(--maint)}", ".overall.maintenance{border-color:var(--maint)}",
        ] {
            #expect(css.contains(rule), "\(rule)")
        }
    }

    @Test("/api/status: state and summary leave maintenance out of down; each check's window and the page's list")
    func json() throws {
        let text = StatusPageJSON.encode(Self.mixedPage())
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(json["v"] as? Int == 1 && json["state"] as? String == "down")
        #expect(json["summary"] as? String == "1 of 3 checks down, 2 in maintenance")
        let checks = try #require(json["checks"] as? [[String: Any]])
        let svc = try #require(checks.first { $0["name"] as? String == "svc" })
        #expect(svc["state"] as? String == "down", "the last run's verdict, as before")
        #expect(svc["shown"] as? String == "maintenance")
        let window = try #require(svc["maintenance"] as? [String: Any])
        #expect(window["window"] as? String == "m1" && window["reason"] as? String == Self.hostile)
        #expect(window["from"] as? String == "2026-11-23T11:50:00.000Z")
        #expect(window["until"] as? String == "2026-11-23T13:00:00.000Z")
        let next = try #require((svc["maintenance_next"] as? [[String: Any]])?.first)
        #expect(next["window"] as? String == "m2" && next["reason"] as? String == "network")
        let api = try #require(checks.first { $0["name"] as? String == "api" })
        #expect(api["maintenance"] is NSNull && api["shown"] as? String == "down")
        let batch = try #require(checks.first { $0["name"] as? String == "batch" })
        #expect((batch["maintenance"] as? [String: Any])?["reason"] is NSNull, "a recurring window has no reason")

        let list = try #require(json["maintenance"] as? [[String: Any]])
        #expect(list.map { $0["window"] as? String } == ["Mon 11:00-13:00 UTC", "m1", "m2"])
        #expect(list.map { $0["in_progress"] as? Bool } == [true, true, false])
        #expect(list[2]["every_check"] as? Bool == true)
        #expect(list[2]["checks"] as? [String] == ["api", "batch", "svc"])
        #expect(list[1]["checks"] as? [String] == ["svc"] && list[1]["every_check"] as? Bool == false)
    }

    @Test("sonde report's index.html shows the ad hoc and recurring windows of the data folder and the check files")
    func reportPage() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        data.every(60_000, from: SLOTests.now - 3_600_000, to: SLOTests.now + 1) { _ in false }
        data.every(60_000, from: SLOTests.now - 3_600_000, to: SLOTests.now + 1, check: "web") { _ in true }
        try data.write(to: folder.path + "/data")
        let log =
            MaintenanceLog.Event.added(
                MaintenanceEntry(
                    id: "m1", check: "web", fromMs: SLOTests.now - 1_800_000, untilMs: SLOTests.now + 1_800_000,
                    reason: Self.hostile, addedMs: SLOTests.now - 1_900_000)
            ).encode()
            + MaintenanceLog.Event.added(
                MaintenanceEntry(
                    id: "m2", check: nil, fromMs: SLOTests.now + UTCTime.msPerDay,
                    untilMs: SLOTests.now + UTCTime.msPerDay + 600_000, reason: "network",
                    addedMs: SLOTests.now - 1_900_000)
            ).encode()
        try folder.write("data/maintenance.jsonl", bytes: log)
        // 2026-11-23 is a Monday.
        try folder.write("checks/api.hurl", "# @maintenance Tue 03:00-04:00 UTC\nGET http://x/\nHTTP 200\n")
        let console = CapturingConsole()
        let code = ReportTests.command(
            [folder.path + "/data"], out: folder.path + "/r", checks: folder.path + "/checks"
        ).run(console: console, now: ReportTests.now)
        #expect(code == 0, "\(console.all)")
        let html = try StatusPageTests.read(folder.path + "/r/index.html")
        #expect(html.contains("1 of 2 checks up, 1 in maintenance"))
        #expect(
            html.contains(
                "<a class=\"name\" href=\"checks/web.md\">web</a> <span class=\"state\">maintenance</span>"))
        #expect(html.contains("In maintenance until 2026-11-23 12:30:00Z, reason <span class=\"reason\">"))
        #expect(html.contains(StatusPageHTML.escape(Self.hostile)) && !html.contains("<script"))
        #expect(
            html.contains(
                "Next maintenance: from 2026-11-24 03:00:00Z until 2026-11-24 04:00:00Z, recurring window <code>Tue 03:00-04:00 UTC</code>"
            ))
        #expect(html.contains("From 2026-11-24 12:00:00Z until 2026-11-24 12:10:00Z: every check, reason"))
    }

    @Test("the live page shows a window added with sonde maintenance while the prober runs, and the next one")
    func livePageAfterAdd() async throws {
        let fixture = try LiveStatusFixture { base in
            [
                "good": "# @every 1s\nGET \(base)/ok\nHTTP 200\n",
                "bad": "# @every 1s\n# @down-after 1\nGET \(base)/down\nHTTP 200\n",
            ]
        }
        defer { fixture.folder.cleanup() }
        #expect(try await fixture.waitFor { $0["state"] as? String == "down" }, "both checks ran, bad is down")
        let data = fixture.folder.path + "/data"
        let soon = UTCTime.rfc3339(UTCTime.milliseconds(Date()) + 2 * UTCTime.msPerHour)
        for arguments in [
            ["bad", "--from", "now", "--until", "+1h", "--reason", Self.hostile],
            ["--all", "--from", soon, "--until", "+30m", "--reason", "network"],
        ] {
            let added = await MaintenanceDaemonTests.sonde(
                ["maintenance", "add"] + arguments + ["--data", data, "--checks", fixture.folder.path + "/checks"])
            #expect(added.code == 0, "\(added.console.all)")
        }
        // The watcher reads the file within a moment; the page is built again at most once a second.
        let shown = try await fixture.waitFor { body in
            let checks = (body["checks"] as? [[String: Any]]) ?? []
            return checks.contains { $0["name"] as? String == "bad" && $0["shown"] as? String == "maintenance" }
                && ((body["maintenance"] as? [Any]) ?? []).count == 2
        }
        #expect(shown, "the live page noticed both windows")
        let json = try #require(try await fixture.status())
        #expect(json["state"] as? String == "up", "bad is in maintenance: not counted as down")
        #expect(json["summary"] as? String == "1 of 2 checks up, 1 in maintenance")
        let checks = try #require(json["checks"] as? [[String: Any]])
        let bad = try #require(checks.first { $0["name"] as? String == "bad" })
        #expect(bad["state"] as? String == "down", "its last run still failed")
        let window = try #require(bad["maintenance"] as? [String: Any])
        #expect(window["window"] as? String == "m1" && window["reason"] as? String == Self.hostile)
        let good = try #require(checks.first { $0["name"] as? String == "good" })
        #expect(good["maintenance"] is NSNull)
        #expect((good["maintenance_next"] as? [[String: Any]])?.map { $0["window"] as? String } == ["m2"])

        let html = try await fixture.get("/").text
        #expect(html.contains("<span class=\"name\">bad</span> <span class=\"state\">maintenance</span>"))
        #expect(html.contains("<span class=\"name\">good</span> <span class=\"state\">up</span>"))
        #expect(html.contains("In maintenance until ") && html.contains(StatusPageHTML.escape(Self.hostile)))
        #expect(html.contains("<p class=\"maint-next\">Next maintenance: from "))
        #expect(!html.contains("<script") && !html.contains("<b>"))

        // Ended early: the page goes back to the last run's verdict.
        let ended = await MaintenanceDaemonTests.sonde(["maintenance", "end", "m1", "--data", data])
        #expect(ended.code == 0, "\(ended.console.all)")
        #expect(try await fixture.waitFor { $0["state"] as? String == "down" }, "bad is down again once m1 ended")
        await fixture.stop()
    }
}
