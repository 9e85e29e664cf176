import Foundation
import Testing

@testable import SondeCommands
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeSLO
@testable import SondeStore
@testable import SondeSupport

/// Generated run series for the findings: seeded, so every run of the tests sees the same numbers.
struct RunSeries {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(state: seed) }

    /// A uniform double in (0, 1).
    mutating func unit() -> Double { (Double(rng.next() >> 11) + 0.5) * 0x1p-53 }

    /// A log-normal duration: median `median` ms, spread `sigma` in log space (Box–Muller).
    mutating func logNormal(median: Double, sigma: Double) -> Double {
        let normal = (-2 * Foundation.log(unit())).squareRoot() * Foundation.cos(2 * Double.pi * unit())
        return median * Foundation.exp(sigma * normal)
    }

    /// A passed run at `time` taking `ms`, with one request whose time to first byte is most of it.
    static func run(_ time: Int64, _ ms: Double, check: String = "api") -> RunRecord {
        RunRecord(
            time: time, check: check, location: "eu", ok: true, durationMs: ms, lateMs: 0,
            steps: [RunStep(status: 200, timings: PhaseTimings(ttfb: ms * 0.9, total: ms))])
    }

    /// A failed run of `kind`.
    static func failed(
        _ time: Int64, _ ms: Double, kind: String, message: String, status: Int = 503, check: String = "api"
    ) -> RunRecord {
        RunRecord(
            time: time, check: check, location: "eu", ok: false, durationMs: ms, lateMs: 0,
            error: RunError(kind: kind, entry: 1, line: 3, message: message),
            steps: [RunStep(status: status, timings: PhaseTimings(ttfb: ms * 0.9, total: ms))])
    }
}

@Suite("Findings: latency modes, leading signals, error patterns, outages")
struct FindingsTests {
    static let t0: Int64 = 1_795_000_000_000

    // MARK: Bimodal latency

    @Test("two log-normal modes 300× apart are found with their share and centres")
    func bimodal() {
        for seed: UInt64 in [1, 2, 3, 4, 5] {
            var series = RunSeries(seed: seed)
            var durations: [Double] = []
            var slow = 0
            for _ in 0..<200 {
                if series.unit() < 0.3 {
                    slow += 1
                    durations.append(series.logNormal(median: 2000, sigma: 0.05))
                } else {
                    durations.append(series.logNormal(median: 7, sigma: 0.3))
                }
            }
            guard case .bimodal(let modes) = LatencyModes.classify(durations) else {
                Issue.record("seed \(seed): no second mode found")
                continue
            }
            #expect(modes.slowRuns == slow, "seed \(seed)")
            #expect(abs(modes.slowShare - 0.3) < 0.08, "seed \(seed): \(modes.slowShare)")
            #expect(abs(modes.slowMs - 2000) < 50 && abs(modes.fastMs - 7) < 1.5, "seed \(seed): \(modes)")
        }
    }

    @Test("a unimodal log-normal never makes a bimodal finding, however wide or long")
    func unimodal() {
        for seed: UInt64 in 1...20 {
            for sigma in [0.2, 0.5, 1.0] {
                // σ 1 (a 19× spread for 95% of the runs) is one wide mode; over few runs its ends can
                // look like two, so it is checked over many.
                for count in sigma < 1 ? [10, 50, 200, 1000] : [200, 1000] {
                    var series = RunSeries(seed: seed &* 7919 &+ UInt64(count))
                    let durations = (0..<count).map { _ in series.logNormal(median: 40, sigma: sigma) }
                    let verdict = LatencyModes.classify(durations)
                    #expect(verdict == .unimodal(runs: count), "seed \(seed), σ \(sigma), \(count) runs: \(verdict)")
                }
            }
        }
    }

    @Test("under ten runs it says too few runs, and a lone outlier is not a mode")
    func thinData() {
        #expect(LatencyModes.classify([5, 6, 2000, 7]) == .tooFew(runs: 4))
        let findings = FindingRules.check("api", runs: (0..<4).map { RunSeries.run(Self.t0 + Int64($0) * 1000, 5) })
        #expect(findings.map(\.kind) == [.tooFewRuns])
        #expect(findings.first?.text.contains("4 runs with an answer, 10 needed") == true)
        // 1 slow run in 40: under the smaller mode's 3 runs and 5%.
        var durations = Array(repeating: 7.0, count: 39)
        durations.append(2000)
        #expect(LatencyModes.classify(durations) == .unimodal(runs: 40))
    }

    @Test("a check page names the slow request of a check with several")
    func slowRequest() {
        var series = RunSeries(seed: 9)
        var runs: [RunRecord] = []
        for index in 0..<60 {
            let slow = series.unit() < 0.25
            let first = slow ? 2000.0 : 4.0
            runs.append(
                RunRecord(
                    time: Self.t0 + Int64(index) * 1000, check: "shop", location: "eu", ok: true,
                    durationMs: first + 3, lateMs: 0,
                    steps: [
                        RunStep(status: 200, timings: PhaseTimings(ttfb: first, total: first)),
                        RunStep(status: 200, timings: PhaseTimings(ttfb: 3, total: 3)),
                    ]))
        }
        let findings = FindingRules.check("shop", runs: runs)
        #expect(findings.map(\.kind) == [.bimodal, .slowRequest])
        #expect(findings[1].text.hasPrefix("The slow mode's time is in request 1 of the check"), "\(findings[1].text)")
        #expect(findings[1].figures["request"] == 1)
    }

    // MARK: Leading signals

    /// Replays `runs` through a detector and returns the incident it resolved (or the open one).
    static func incident(_ runs: [RunRecord], check: String = "api") -> Incident? {
        var detector = IncidentDetector(
            check: check, location: "eu", policy: SLOPolicy(), downAfter: 3, upAfter: 2, startMs: runs[0].time)
        var found: Incident?
        for run in runs {
            for case .resolved(let incident) in detector.observe(run) { found = incident }
        }
        return found ?? detector.ongoing()
    }

    @Test("a latency step before the first failure is found, with both medians")
    func step() throws {
        var runs = (0..<30).map { RunSeries.run(Self.t0 + Int64($0) * 1000, 10 + Double($0 % 3)) }
        runs += (30..<35).map { RunSeries.run(Self.t0 + Int64($0) * 1000, 60) }
        runs += (35..<40).map {
            RunSeries.failed(Self.t0 + Int64($0) * 1000, 1, kind: "status", message: "HTTP 503 (expected 200)")
        }
        runs += (40..<43).map { RunSeries.run(Self.t0 + Int64($0) * 1000, 10) }
        let incident = try #require(Self.incident(runs))
        let findings = FindingRules.incident(incident)
        let step = try #require(findings.first { $0.kind == .latencyStep }, "\(findings.map(\.text))")
        #expect(step.figures["before_ms"] == 11 && step.figures["after_ms"] == 60)
        #expect(step.text.contains("from 11 ms (30 runs) to 60 ms (5.5×)"), "\(step.text)")
        // Flat latency: no step.
        var flat = runs
        for index in 30..<35 { flat[index] = RunSeries.run(flat[index].time, 11) }
        let quiet = try #require(Self.incident(flat))
        #expect(!FindingRules.incident(quiet).contains { $0.kind == .latencyStep })
    }

    @Test("a new error kind before the main one is named with its lead, offline and live")
    func earlierKind() throws {
        var runs = (0..<18).map { RunSeries.run(Self.t0 + Int64($0) * 1000, 8) }
        runs.append(
            RunSeries.failed(
                Self.t0 + 18_000, 2080, kind: "assert", message: "duration < 500 (actual: 2080)", status: 200))
        runs.append(
            RunSeries.failed(
                Self.t0 + 20_000, 2100, kind: "assert", message: "duration < 500 (actual: 2100)", status: 200))
        runs.append(
            RunSeries.failed(
                Self.t0 + 22_000, 2050, kind: "assert", message: "duration < 500 (actual: 2050)", status: 200))
        runs += (24..<40).map {
            RunSeries.failed(
                Self.t0 + Int64($0) * 1000, 1, kind: "status",
                message: "HTTP status (actual: 503 — pool exhausted, in use \($0 % 5)), request id 9f8e7d6c5b4a\($0)")
        }
        runs += (40..<42).map { RunSeries.run(Self.t0 + Int64($0) * 1000, 8) }
        let incident = try #require(Self.incident(runs))
        let findings = FindingRules.incident(incident)
        let earlier = try #require(findings.first { $0.kind == .earlierErrorKind }, "\(findings.map(\.text))")
        #expect(
            earlier.text
                == "assert failures came first: 3 runs from \(FindingRules.clock(Self.t0 + 18_000)) UTC, 6 s before the "
                + "first status failure (HTTP 503).")
        // The slow runs came before the 503s, and the window is bimodal: 3 of the 21 answered runs.
        let bimodal = try #require(findings.first { $0.kind == .bimodal })
        #expect(bimodal.figures["slow_runs"] == 3 && bimodal.runs == 21)
        let first = try #require(findings.first { $0.kind == .slowRunsFirst })
        #expect(first.text.hasPrefix("The slow runs came first: 3 of the 21 runs before the first status failure"))
        // The 16 messages differ in numbers and ids only: one pattern.
        let patterns = findings.filter { $0.kind == .errorPattern }
        #expect(patterns.map(\.runs) == [16, 3], "\(patterns.map(\.text))")
        #expect(
            patterns[0].text.hasPrefix(
                "16 × status: HTTP status (actual: 503 — pool exhausted, in use #), request id <id>"))
        // The live prober keeps no samples: it still knows which kind came first, and the patterns.
        let live = FindingRules.live(incident)
        #expect(live.map(\.kind) == [.earlierErrorKind, .errorPattern, .errorPattern])
    }

    @Test("a rising share of slow runs before the failures is said with its counts")
    func risingShare() throws {
        var runs: [RunRecord] = []
        var time = Self.t0
        for index in 0..<30 {
            // One slow run in 15, then 3 of the last 5.
            let slow = index == 7 || index == 22 || [26, 28, 29].contains(index)
            runs.append(
                slow
                    ? RunSeries.failed(time, 2000, kind: "assert", message: "duration < 500", status: 200)
                    : RunSeries.run(time, 6))
            time += slow ? 2000 : 1000
        }
        runs += (0..<5).map {
            RunSeries.failed(time + Int64($0) * 1000, 1, kind: "status", message: "HTTP 503")
        }
        let incident = try #require(Self.incident(runs))
        let findings = FindingRules.incident(incident)
        let rising = try #require(findings.first { $0.kind == .slowShareRising }, "\(findings.map(\.text))")
        #expect(rising.text.hasPrefix("Slow runs rose from 2 of 25 to 3 of the last 5"), "\(rising.text)")
    }

    // MARK: Error patterns

    @Test("messages are masked: numbers as #, ids as <id>, words kept")
    func masking() {
        #expect(
            ErrorPatterns.mask("HTTP 503 after 12.5 ms (pool size 5, in use 5)")
                == "HTTP 503 after # ms (pool size #, in use #)")
        #expect(ErrorPatterns.mask("entry 2 line 14: got 1042 items, 6000 ms") == "entry 2 line 14: got # items, # ms")
        let long = "entry 1 line 10: HTTP status of /api/search?q=zelda&limit=5 (actual: 503 — pool size 5, in use 5)"
        #expect(
            ErrorPatterns.mask(long)
                == "entry 1 line 10: HTTP status of /api/search?q=zelda&limit=# (actual: 503 — pool size #, in use #)")
        #expect(ErrorPatterns.mask("order 3f2a9c1e-77b0-4c1d-9e2f-0a1b2c3d4e5f not found") == "order <id> not found")
        #expect(ErrorPatterns.mask("entry 1 line 10: timeout\nafter  5s") == "entry 1 line 10: timeout after #s")
        var patterns = ErrorPatterns()
        for index in 0..<30 { patterns.add("user \(index) locked", kind: "status", timeMs: Int64(index)) }
        for index in 0..<(ErrorPatterns.limit + 3) {
            patterns.add("distinct word \(String(repeating: "x", count: index))", kind: "assert", timeMs: 100)
        }
        #expect(patterns.ranked.first?.count == 30 && patterns.ranked.first?.text == "user # locked")
        #expect(patterns.patterns.count == ErrorPatterns.limit && patterns.others == 4)
    }

    // MARK: Outages

    static func incident(_ check: String, start: Int64, end: Int64?) -> Incident {
        var incident = Incident(
            id: Incident.makeID(check: check, startedMs: start), check: check, location: "eu", startedMs: start,
            detectedMs: start + 2000, downAfter: 3, upAfter: 2)
        incident.resolvedMs = end
        incident.lastRunMs = end ?? start + 60_000
        incident.runs = 10
        incident.failedRuns = 10
        return incident
    }

    @Test("overlapping incidents that start within N intervals are one outage; distant ones are not")
    func grouping() {
        let every: (String) -> Int64 = { _ in 1000 }
        let search = Self.incident("search", start: Self.t0, end: Self.t0 + 20_000)
        let health = Self.incident("health", start: Self.t0 + 2000, end: Self.t0 + 18_000)
        let cart = Self.incident("login-cart", start: Self.t0 + 2000, end: Self.t0 + 18_000)
        let later = Self.incident("health", start: Self.t0 + 600_000, end: Self.t0 + 610_000)
        // Starts 4 s after search (within 5 intervals) but after search ended: not the same outage.
        let after = Self.incident("api", start: Self.t0 + 21_000, end: Self.t0 + 30_000)
        let groups = IncidentGrouping().groups(
            [later, cart, health, search, after], nowMs: Self.t0 + 3_600_000, intervalMs: every)
        #expect(groups.map(\.checks) == [["search", "health", "login-cart"], ["api"], ["health"]])
        #expect(groups[0].id == search.id && groups[0].resolvedMs == Self.t0 + 20_000)
        // Further apart than the rule allows: alone.
        let tight = IncidentGrouping(intervals: 1).groups([search, health], nowMs: Self.t0, intervalMs: every)
        #expect(tight.map(\.incidents.count) == [1, 1])
        // With minute checks, 2 s apart is well within 5 intervals; 0 turns grouping off.
        #expect(IncidentGrouping(intervals: 1).groups([search, health], nowMs: Self.t0) { _ in 60_000 }.count == 1)
        #expect(
            IncidentGrouping(intervals: 0).groups([search, health, cart], nowMs: Self.t0, intervalMs: every).count == 3)
        // An ongoing incident overlaps up to its latest run.
        let ongoing = Self.incident("db", start: Self.t0 + 1000, end: nil)
        #expect(IncidentGrouping().groups([search, ongoing], nowMs: Self.t0, intervalMs: every).count == 1)
    }

    @Test("one write-up for an outage: findings first, the check that failed first, each check's section")
    func groupedWriteUp() throws {
        var search = Self.incident("search", start: Self.t0, end: Self.t0 + 20_000)
        search.kinds["status"] = KindSummary(
            count: 10, firstMs: Self.t0, firstMessage: "HTTP 503", latestMessage: "HTTP 503")
        let health = Self.incident("health", start: Self.t0 + 2000, end: Self.t0 + 18_000)
        let alone = Self.incident("api", start: Self.t0 + 600_000, end: Self.t0 + 610_000)
        var writeUp = IncidentWriteUp(
            incidents: [search, health, alone], nowMs: Self.t0 + 3_600_000, folders: ["data"])
        writeUp.intervals = ["search": 1000, "health": 1000, "api": 1000]
        let files = writeUp.files()
        #expect(files.map(\.path) == ["README.md", search.id + ".md", alone.id + ".md"])
        let page = files[1].contents
        #expect(page.hasPrefix("<!-- sonde incident write-up: search health -->\n# Outage of 2 checks: search, health"))
        #expect(IncidentWriteUp.markedChecks(firstLine: String(page.prefix { $0 != "\n" })) == ["search", "health"])
        let findings = try #require(page.range(of: "## Findings"))
        #expect(findings.lowerBound < (page.range(of: "## Checks")?.lowerBound ?? page.startIndex))
        #expect(page.contains("- **search** — search failed first, at \(FindingRules.clock(Self.t0)) UTC; then health"))
        #expect(
            page.contains("## Shared timeline") && page.contains("## Check: search")
                && page.contains("## Check: health"))
        #expect(page.components(separatedBy: "## Root cause").count == 2, "the sections for people come once")
        // The index lists each check, linking its section of the outage's write-up.
        let index = files[0].contents
        #expect(index.contains("[\(health.id)](\(search.id).md#check-health)"))
        #expect(index.contains("| health |") && index.contains("| search |") && index.contains("| api |"))
        #expect(index.hasSuffix(IncidentWriteUp.findingsNote))
        #expect(files[2].contents.hasPrefix("<!-- sonde incident write-up: api -->\n# api: down 10 s"))
        // Without grouping every incident has its page again.
        writeUp.grouping = IncidentGrouping(intervals: 0)
        #expect(writeUp.files().count == 4)
    }

    // MARK: Charts

    @Test("the Gantt's first bar is the table's time to detect, to the millisecond")
    func ganttAgreesWithTable() {
        var incident = Self.incident("search", start: Self.t0 + 900, end: Self.t0 + 20_600)
        incident.detectedMs = Self.t0 + 4_912  // 4.012 s: the table says 4 s; whole seconds would say 5
        let writeUp = IncidentWriteUp(incidents: [incident], nowMs: Self.t0 + 60_000, folders: ["data"])
        let page = writeUp.page(incident)
        #expect(page.contains("time to detect 4 s"))
        let gantt = writeUp.gantt([incident])
        #expect(
            gantt.contains("    Not yet detected (4 s) :crit, \(UTCTime.rfc3339(Self.t0 + 900).prefix(23)), 4012ms\n"))
        #expect(
            gantt.contains(
                "    Down until resolved (15 s) :crit, \(UTCTime.rfc3339(Self.t0 + 4912).prefix(23)), 15688ms\n"))
        #expect(gantt.contains("dateFormat YYYY-MM-DDTHH:mm:ss.SSS"))
    }

    @Test("latency and failed share are on separate charts over evenly spaced slices and a numeric time axis")
    func latencyCharts() throws {
        var incident = Self.incident("search", start: Self.t0 + 10_000, end: Self.t0 + 40_000)
        // Runs every second, with a 6 s hole, then failures.
        incident.before = (0..<10).map { Sample(timeMs: Self.t0 + Int64($0) * 1000, ms: 7) }
        incident.samples =
            (16..<30).map { Sample(timeMs: Self.t0 + Int64($0) * 1000, ms: 1, ok: false, kind: "status", status: 503) }
            + (30..<45).map { Sample(timeMs: Self.t0 + Int64($0) * 1000, ms: $0 == 31 ? 2000 : 1, ok: false) }
        let writeUp = IncidentWriteUp(incidents: [incident], nowMs: Self.t0 + 60_000, folders: ["data"])
        let chart = writeUp.latencyChart(incident)
        let blocks = chart.components(separatedBy: "```mermaid").dropFirst()
        #expect(blocks.count == 2)
        let latency = try #require(blocks.first)
        let failed = try #require(blocks.last)
        #expect(
            latency.contains("title \"Slowest run per slice (ms)\"") && latency.contains("line [")
                && !latency.contains("bar ["))
        #expect(
            failed.contains("title \"Runs failed per slice (%)\"") && failed.contains("y-axis \"% failed\" 0 --> 100"))
        #expect(failed.contains("bar [0, 0, 0, 0, 0, 0, 0, 0, 100,"), "\(failed)")
        // 23 slices of 2 s (1 s would make more than 40): the axis runs 0 to 44 s, one value a slice.
        let axis = try #require(latency.split(separator: "\n").first { $0.contains("x-axis") })
        #expect(axis.contains("after \(FindingRules.clock(Self.t0)) UTC\" 0 --> "), "\(axis)")
        let values = try #require(latency.split(separator: "\n").first { $0.contains("line [") })
        #expect(values.split(separator: ",").count == 23)
        #expect(
            chart.contains(
                "Slices of 2 s from \(FindingRules.clock(Self.t0)) UTC; 3 without a run repeat the slice before."))
        // The axis unit is the one with the fewest d3 ticks: 44 s → 0.733 min has 8.
        #expect(axis.contains("\"minutes after") && axis.hasSuffix("0 --> 0.733"), "\(axis)")
        #expect(IncidentWriteUp.tickCount(0.733) == 8 && IncidentWriteUp.tickCount(44) == 9)
        #expect(IncidentWriteUp.tickCount(100) == 11 && IncidentWriteUp.tickCount(45) == 10)
        // Long outages get wider slices: at most 40.
        let wide = IncidentWriteUp.slices(
            (0..<500).map { Sample(timeMs: Self.t0 + Int64($0) * 10_000, ms: 5) }, from: Self.t0,
            to: Self.t0 + 4_990_000)
        #expect(wide.widthMs == 300_000 && wide.values.count == 17)
    }

    // MARK: Stale write-ups

    @Test("the demo removes only the write-ups sonde wrote that belong to no current incident")
    func staleWriteUps() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let files: [(String, String)] = [
            ("2026-12-01T1554Z-search.md", "<!-- sonde incident write-up: search health -->\n# Outage\n"),
            ("2026-12-01T1600Z-health.md", "<!-- sonde incident write-up: health -->\n# health\n"),
            ("2026-11-30T1000Z-api.md", "# api: down 5 s — `status`\n\n[← all incidents](README.md)\n"),
            ("notes.md", "# Our notes\n\n[← all incidents](README.md)\n"),
            ("2026-11-30T1000Z-mine.md", "# My own post-mortem\n\nWritten by hand.\n"),
            ("README.md", "# Incidents\n"),
        ]
        for (name, text) in files {
            try text.write(toFile: folder.path + "/" + name, atomically: true, encoding: .utf8)
        }
        let stale = IncidentsCommand.stale(in: folder.path, keeping: ["README.md", "2026-12-01T1600Z-health.md"])
        #expect(stale == ["2026-11-30T1000Z-api.md", "2026-12-01T1554Z-search.md"])
        // The report links an outage's write-up from every check it names.
        let pages = SLOReport.incidentPages(in: folder.path, checks: ["search", "health", "api"])
        #expect(pages["health"] == ["2026-12-01T1600Z-health.md", "2026-12-01T1554Z-search.md"])
        #expect(pages["search"] == ["2026-12-01T1554Z-search.md"] && pages["api"] == ["2026-11-30T1000Z-api.md"])
    }
}
