import Foundation
import Testing

@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeSLO
@testable import SondeScript
@testable import SondeStore
@testable import SondeSupport

/// Three data folders `a`, `b`, `c` whose runs sit on the check's slots as `sonde run` schedules
/// them: `state(i, location)` says what location did in slot `i` (nil: it did not run).
struct FleetData {
    static let locations = ["a", "b", "c"]
    let folder: TemporaryFolder
    let grid: SlotGrid
    /// The slot number of slot 0.
    let first: Int64
    let count: Int

    /// Slots `0 ..< count`, the last one starting 30 s before `SLOTests.now` minus `endBeforeMs`.
    init(
        check: String = "api", intervalMs: Int64 = 60_000, count: Int, endBeforeMs: Int64 = 0,
        hourLines: Bool = false, state: (Int, String) -> Bool?
    ) throws {
        folder = try TemporaryFolder()
        grid = SlotGrid(check: check, intervalMs: intervalMs)
        let last = grid.slot(scheduledMs: SLOTests.now - endBeforeMs - 30_000)
        first = last - Int64(count) + 1
        self.count = count
        for (index, location) in Self.locations.enumerated() {
            var data = DataBuilder()
            for i in 0..<count {
                guard let ok = state(i, location) else { continue }
                let time = grid.startMs(first + Int64(i)) + 3 + Int64(index) * 40
                data.runs.append(
                    RunRecord(
                        time: time, check: check, location: location, ok: ok, durationMs: 80, lateMs: 0,
                        error: ok ? nil : RunError(kind: "status", entry: 1, line: 2, message: "HTTP 503"),
                        steps: [RunStep(status: ok ? 200 : 503, timings: PhaseTimings(ttfb: 40, total: 80))]))
            }
            try data.write(to: folder.path + "/" + location, hoursBefore: hourLines ? SLOTests.now : nil)
        }
    }

    var folders: [String] { Self.locations.map { folder.path + "/" + $0 } }

    /// When slot `i` starts, epoch ms.
    func startMs(_ i: Int) -> Int64 { grid.startMs(first + Int64(i)) }

    /// The report's moment: 30 s into the last slot.
    var nowMs: Int64 { startMs(count - 1) + 30_000 }
}

@Suite("Fleet quorum: time slots across locations in sonde report and sonde incidents", .cpuBound)
struct QuorumTests {
    /// 180 slots of one minute. Slots 60–69: a and b fail (2 of 3); 100–109: c alone; 120–124: all
    /// three; 140–149: c does not run, a fails in 140–144 (1 of the 2 that ran), a and b in 145–149
    /// (2 of 2); 175–179: a and b.
    static func pattern(_ i: Int, _ location: String) -> Bool? {
        switch (i, location) {
        case (140..<150, "c"): return nil
        case (60..<70, "a"), (60..<70, "b"), (175..<180, "a"), (175..<180, "b"): return false
        case (100..<110, "c"): return false
        case (120..<125, _): return false
        case (140..<150, "a"): return false
        case (145..<150, "b"): return false
        default: return true
        }
    }

    @Test("the slots are the scheduler's: same phase as Scheduler.offset, a late run belongs to its scheduled slot")
    func slotsAreTheSchedulers() {
        for (name, interval) in [("api", Int64(60_000)), ("shop", 30_000), ("q\"x", 300_000), ("edge", 1_500)] {
            let grid = SlotGrid(check: name, intervalMs: interval)
            let offset = Scheduler.offset(of: name, interval: .milliseconds(interval)).milliseconds
            #expect(abs(Double(grid.phaseMs) - offset) < 1, "\(name)")
            let k: Int64 = 29_000_000
            #expect(grid.slot(timeMs: grid.startMs(k) + 4, lateMs: 0) == k)
            #expect(grid.slot(timeMs: grid.startMs(k) + interval * 3 / 4, lateMs: Double(interval) * 3 / 4) == k)
            #expect(grid.slot(timeMs: grid.startMs(k) - 2, lateMs: 0) == k, "a clock a little behind")
        }
    }

    static func evaluate(_ data: FleetData, quorum: Quorum, policy: SLOPolicy = SLOPolicy()) -> CheckSLO {
        SLOEvaluator.evaluate(
            check: "api", readers: data.folders.map { RunReader(folder: DataFolder($0)) }, policy: policy,
            nowMs: data.nowMs, quorum: LocationQuorum(quorum, locations: 3))
    }

    @Test("--quorum 2: the slots where 2 of 3 failed are down, 1 of 3 is not; uptime, budget and burn follow")
    func twoOfThree() throws {
        let data = try FleetData(count: 180, state: Self.pattern)
        defer { data.folder.cleanup() }
        let slo = Self.evaluate(data, quorum: .atLeast(2))
        let fleet = try #require(slo.fleet)
        let day = try #require(fleet.windows.first { $0.label == "24h" }).counts
        #expect(day.slots == 180)
        #expect(day.down == 10 + 5 + 5 + 5, "60–69, 120–124, 145–149, 175–179")
        #expect(day.full == 170, "c missed 10 slots")
        #expect(day.short == 0, "2 locations ran in c's gap, enough for a quorum of 2")
        #expect(day.possible == 1440)
        #expect(day.uptime == 155.0 / 180)
        // Error budget over 30 days: 25 down slots against the 43.2 that 0.1% of 43,200 slots allows.
        #expect(abs(fleet.budget.allowedFailures - 43.2) < 1e-9)
        let remaining = try #require(fleet.budgetRemaining)
        #expect(abs(remaining - (1 - 25 / 43.2)) < 1e-9)
        // 1h: slots 120–179, 15 down; 5m: 175–179, all down → the page rule fires.
        #expect(fleet.burnCounts[.h1]?.slots == 60 && fleet.burnCounts[.h1]?.down == 15)
        #expect(fleet.burnCounts[.m5]?.slots == 5 && fleet.burnCounts[.m5]?.down == 5)
        #expect(abs((fleet.burnRates[.h1] ?? 0) - 0.25 / 0.001) < 1e-6)
        #expect(fleet.alert.level == .page)
        #expect(slo.state == .down)
        // Per location, counted on its own runs.
        #expect(slo.locations.map(\.name) == ["a", "b", "c"])
        #expect(slo.locations[0].windows[0].counts.bad == 10 + 5 + 10 + 5)
        #expect(slo.locations[2].windows[0].counts.runs == 170 && slo.locations[2].windows[0].counts.bad == 15)
    }

    @Test("--quorum all keeps the every-location rule: only slots where every location that ran failed")
    func allLocations() throws {
        let data = try FleetData(count: 180, state: Self.pattern)
        defer { data.folder.cleanup() }
        let fleet = try #require(Self.evaluate(data, quorum: .all).fleet)
        let day = try #require(fleet.windows.first).counts
        #expect(day.down == 5 + 5, "120–124, and 145–149 where a and b were the only ones to run")
        #expect(fleet.burnCounts[.m5]?.down == 0)
        #expect(
            fleet.alert.level == .ticket, "10 down slots of 120 over 2h still burn fast; the 5m window clears the page")
    }

    @Test("a location missing in some slots does not count toward N: 1 of 2 that ran is short of a quorum of 2")
    func missingLocation() throws {
        // c never runs in 0–59; a fails alone in 10–19 (1 of 2 ran), a and b in 30–39; with @quorum 3
        // (capped at 3) the slots where only two ran are short and cannot be down.
        let data = try FleetData(count: 60) { i, location in
            if location == "c" { return i < 60 ? nil : true }
            if (10..<20).contains(i) { return location != "a" }
            if (30..<40).contains(i) { return false }
            return true
        }
        defer { data.folder.cleanup() }
        let two = try #require(Self.evaluate(data, quorum: .atLeast(2)).fleet?.windows.first).counts
        #expect(two.slots == 60 && two.down == 10 && two.full == 0 && two.short == 0)
        let three = try #require(Self.evaluate(data, quorum: .atLeast(3)).fleet?.windows.first).counts
        #expect(three.down == 0, "fewer locations ran than the quorum: up, as for the Prometheus rule")
        #expect(three.short == 60)
        let all = try #require(Self.evaluate(data, quorum: .all).fleet?.windows.first).counts
        #expect(all.down == 10 && all.short == 0)
    }

    @Test("runs older than a day count from the hour lines' minute marks, slot for slot")
    func fromHourLines() throws {
        // Two days back: the 3-hour pattern ends 2 days before now, so only hour lines and rebuilt
        // hours hold it.
        let data = try FleetData(count: 180, endBeforeMs: 2 * UTCTime.msPerDay, hourLines: true, state: Self.pattern)
        defer { data.folder.cleanup() }
        var policy = SLOPolicy()
        policy.intervalMs = 60_000
        let slo = SLOEvaluator.evaluate(
            check: "api", readers: data.folders.map { RunReader(folder: DataFolder($0)) }, policy: policy,
            nowMs: SLOTests.now, quorum: LocationQuorum(.atLeast(2), locations: 3))
        let week = try #require(slo.fleet?.windows.first { $0.label == "7d" }).counts
        #expect(week.slots == 180)
        #expect(week.down == 25)
        #expect(try #require(slo.fleet?.windows.first { $0.label == "24h" }).counts.slots == 0)
    }

    @Test("sonde report and sonde incidents from the files: fleet rows, the definition, fleet incidents")
    func commandsFromFiles() throws {
        let data = try FleetData(count: 180, state: Self.pattern)
        defer { data.folder.cleanup() }
        let now = Date(timeIntervalSince1970: Double(data.nowMs) / 1000)
        var report = ReportCommand()
        report.data = data.folders
        report.out = data.folder.path + "/reports"
        report.checks = "/nonexistent"
        report.quorum = .atLeast(2)
        let console = CapturingConsole()
        #expect(report.run(console: console, now: now) == ExitCode.ok, "\(console.all)")
        let readme = try String(contentsOfFile: report.out + "/README.md", encoding: .utf8)
        #expect(readme.contains("| [api](checks/api.md) | 🔴 down | 86.111% (12%) |"), "\(readme)")
        #expect(readme.contains("| 🚨 page |"))
        #expect(readme.contains("| api | **fleet** (quorum 2 of 3 locations) | 86.111% (12%), 25 down |"))
        #expect(readme.contains("A slot is **down** when at least *N* of the locations that ran in it failed"))
        let page = try String(contentsOfFile: report.out + "/checks/api.md", encoding: .utf8)
        #expect(page.contains("## Fleet (quorum 2 of 3 locations)"))
        #expect(page.contains("| 24h | 180 | 25 | 86.111% | 12.5% | 11.8% | 0 |"), "\(page)")
        #expect(page.contains("| 99.9% | 180 | 43.2 | 25 | 42.1% |"), "\(page)")
        #expect(page.contains("| 1h | 60 | 15 | 250.00 |"))

        var incidents = IncidentsCommand()
        incidents.data = data.folders
        incidents.out = data.folder.path + "/reports"
        incidents.checks = "/nonexistent"
        incidents.quorum = .atLeast(2)
        let out = CapturingConsole()
        #expect(incidents.run(console: out, now: now) == ExitCode.ok, "\(out.all)")
        #expect(out.stdout.contains("4 write-ups (1 ongoing)"), "\(out.all)")
        let index = try String(contentsOfFile: report.out + "/incidents/README.md", encoding: .utf8)
        #expect(index.contains("these are the **fleet's** incidents"))
        #expect(index.contains("## Per location"))

        let found = IncidentFinder.find(
            readers: data.folders.map { RunReader(folder: DataFolder($0)) }, settings: [:], nowMs: data.nowMs
        ) { _ in LocationQuorum(.atLeast(2), locations: 3) }
        // A fleet run starts at its slot's earliest run: a's, 3 ms into the slot.
        #expect(found.incidents.map(\.startedMs) == [60, 120, 145, 175].map { data.startMs($0) + 3 })
        #expect(found.incidents.map(\.resolvedMs) == [70, 125, 150].map { data.startMs($0) + 3 } + [nil])
        #expect(found.incidents.allSatisfy { $0.location == "fleet (quorum 2 of 3 locations)" })
        #expect(found.incidents.first?.kinds["status"]?.firstMessage == "at a, b: HTTP 503")
        #expect(found.locationIncidents.contains { $0.location == "c" && $0.startedMs == data.startMs(100) + 83 })
        let everyLocation = IncidentFinder.find(
            readers: data.folders.map { RunReader(folder: DataFolder($0)) }, settings: [:], nowMs: data.nowMs
        ) { _ in LocationQuorum(.all, locations: 3) }
        #expect(everyLocation.incidents.map(\.startedMs) == [120, 145].map { data.startMs($0) + 3 })
    }

    // MARK: - Bad input

    /// Runs `sonde` in-process.
    static func sonde(_ arguments: [String]) async -> (code: Int32, console: CapturingConsole) {
        let console = CapturingConsole()
        let code = await SondeMain.run(arguments: arguments, environment: [:], console: console)
        return (code, console)
    }

    @Test("--quorum 0, --quorum x and a quorum above the --data folders are usage errors, for both commands")
    func badQuorum() async throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let data = ["--data", folder.path + "/a", "--data", folder.path + "/b", "--out", folder.path + "/r"]
        for command in ["report", "incidents"] {
            for value in ["0", "x", "2.5", "1001"] {
                let (code, console) = await Self.sonde([command, "--quorum", value] + data)
                #expect(code == ExitCode.usage)
                #expect(
                    console.stderr.hasPrefix(
                        "error: invalid value '\(value)' for --quorum: expected a whole number from 1 to 1000, or all\n"
                    ),
                    "\(console.stderr)")
            }
            let (code, console) = await Self.sonde([command, "--quorum", "3"] + data)
            #expect(code == ExitCode.usage)
            #expect(
                console.stderr
                    == "error: --quorum 3 is more than the number of locations: 2 locations are given with --data; give --quorum from 1 to 2, or all\n"
            )
        }
    }

    @Test("@quorum above the locations given is capped, said once on stderr and noted in the report")
    func cappedQuorum() async throws {
        let data = try FleetData(count: 30) { i, location in !(i >= 10 && i < 20) }
        defer { data.folder.cleanup() }
        try data.folder.write("checks/api.hurl", "# @every 1m\n# @quorum 5\nGET http://127.0.0.1:9/\nHTTP 200\n")
        let arguments =
            data.folders.flatMap { ["--data", $0] } + [
                "--checks", data.folder.path + "/checks", "--out", data.folder.path + "/r", "--quorum", "2",
            ]
        let (code, console) = await Self.sonde(["report"] + arguments)
        #expect(code == ExitCode.ok, "\(console.all)")
        #expect(
            console.stderr
                == "note: @quorum is above the 3 locations given, so it counts as 3 for: api (@quorum 5)\n")
        let readme = try String(contentsOfFile: data.folder.path + "/r/README.md", encoding: .utf8)
        #expect(
            readme.contains(
                "- **Quorum capped.** A quorum above the 3 locations given was lowered to 3 for `api` (`@quorum 5`)."))
        #expect(readme.contains("**fleet** (quorum 3 of 3 locations)"), "the file's @quorum wins over --quorum 2")
        let (incidentsCode, incidents) = await Self.sonde(["incidents"] + arguments)
        #expect(incidentsCode == ExitCode.ok, "\(incidents.all)")
        #expect(incidents.stderr.components(separatedBy: "note: @quorum").count == 2, "said once")
    }

    // MARK: - Agreement with the Prometheus rules

    @Test("report --quorum 2 and the generated rules under promtool agree on the same runs: down slots and error ratio")
    func agreesWithPrometheusRules() async throws {
        // 120 one-minute slots: a and b fail in 30–49 (2 of 3: an outage), c alone in 70–79 (not one).
        let outage = 30..<50
        let data = try FleetData(count: 120) { i, location in
            if outage.contains(i) { return location == "c" }
            if (70..<80).contains(i) { return location != "c" }
            return true
        }
        defer { data.folder.cleanup() }
        try data.folder.write("checks/api.hurl", "# @every 1m\n# @down-after 3\nGET http://127.0.0.1:9/\nHTTP 200\n")

        // The report, from the files.
        var report = ReportCommand()
        report.data = data.folders
        report.checks = data.folder.path + "/checks"
        report.quorum = .atLeast(2)
        let figures = try report.build(now: Date(timeIntervalSince1970: Double(data.nowMs) / 1000))
        let fleet = try #require(figures.checks.first?.fleet)
        let twoHours = try #require(fleet.burnCounts[.h2])
        #expect(twoHours.slots == 120 && twoHours.down == 20)
        var incidents = IncidentsCommand()
        incidents.quorum = .atLeast(2)
        let found = IncidentFinder.find(
            readers: data.folders.map { RunReader(folder: DataFolder($0)) },
            settings: ReportCommand.settings(data.folder.path + "/checks"), nowMs: data.nowMs
        ) { _ in LocationQuorum(incidents.quorum, locations: 3) }
        let incident = try #require(found.incidents.first)
        #expect(found.incidents.count == 1)
        // In promtool's clock, slot i is minute i.
        let startMinute = Int((incident.startedMs - data.startMs(0)) / 60_000)
        let endMinute = Int((try #require(incident.resolvedMs) - data.startMs(0)) / 60_000)
        #expect(startMinute == outage.lowerBound && endMinute == outage.upperBound)

        // The same runs as the series a prober exports: sonde_check_up after each slot's run, and the
        // run counters by result.
        var series = ""
        for location in FleetData.locations {
            var up: [String] = []
            var success: [String] = []
            var failed: [String] = []
            var (good, bad) = (0, 0)
            for i in 0..<data.count {
                let ok = outage.contains(i) ? location == "c" : (70..<80).contains(i) ? location != "c" : true
                if ok { good += 1 } else { bad += 1 }
                up.append(ok ? "1" : "0")
                success.append(String(good))
                failed.append(String(bad))
            }
            series += """
                      - series: 'sonde_check_up{check="api",location="\(location)"}'
                        values: '\(up.joined(separator: " "))'
                      - series: 'sonde_runs_total{check="api",location="\(location)",result="success"}'
                        values: '\(success.joined(separator: " "))'
                      - series: 'sonde_runs_total{check="api",location="\(location)",result="status"}'
                        values: '\(failed.joined(separator: " "))'

                """
        }
        let firing = [
            "        exp_alerts:",
            "          - exp_labels:",
            "              check: api",
            "              severity: page",
            "            exp_annotations:",
            "              summary: 'api is down at a, b'",
            "              description: 'At least 2 locations report the check down (sonde_check_up == 0), held for 3m"
                + " (@every 1m × @down-after 3).'",
            "              error: 'a: status, b: status'",
        ].joined(separator: "\n")
        // Quiet before the report's first down slot, firing from @down-after slots in until its last
        // down slot, quiet from the slot the report resolves it in, and through c's lone failures.
        var alerts = ""
        for minute in [startMinute - 1, endMinute, endMinute + 5, 72, 79, 119] {
            alerts += "      - eval_time: \(minute)m\n        alertname: SondeCheckDown\n        exp_alerts: []\n"
        }
        for minute in [startMinute + 3, startMinute + 10, endMinute - 1] {
            alerts += "      - eval_time: \(minute)m\n        alertname: SondeCheckDown\n\(firing)\n"
        }
        // The fleet error ratio over 2h at the last slot = the report's down share of its 2h slots (to
        // 1e-9: Prometheus averages incrementally, so the last bit of the float may differ).
        let ratio = Int64((Double(twoHours.down) / Double(twoHours.slots) * 1e9).rounded())
        let tests = """
              - interval: 1m
                input_series:
            \(series)    alert_rule_test:
            \(alerts)    promql_expr_test:
                  - expr: round(sonde:check_fleet_error_ratio:avg_over_time2h{check="api"} * 1e9)
                    eval_time: \(data.count - 1)m
                    exp_samples:
                      - labels: '{check="api"}'
                        value: \(ratio)
                  - expr: round(sonde:check_fleet_error_ratio:avg_over_time1h{check="api"} * 1e9)
                    eval_time: 59m
                    exp_samples:
                      - labels: '{check="api"}'
                        value: \(Int64((20.0 / 60 * 1e9).rounded()))

            """
        try await PrometheusRulesTests.promtoolTest(tests, checks: ["api": "# @every 1m\n# @down-after 3\n"])
        // And the report's 1h figure at minute 59 (slots 0–59) is the same share.
        let earlier = try report.build(now: Date(timeIntervalSince1970: Double(data.startMs(59) + 30_000) / 1000))
        let hour = try #require(earlier.checks.first?.fleet?.burnCounts[.h1])
        #expect(hour.slots == 60 && hour.down == 20)
    }
}
