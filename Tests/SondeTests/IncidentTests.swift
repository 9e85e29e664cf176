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

@Suite("Incidents: detection, timelines, write-ups", .cpuBound)
struct IncidentTests {
    static let t0: Int64 = SLOTests.now - UTCTime.msPerHour

    /// Runs one a second from t0: "." good, "s" status failure, "c" connect failure.
    static func runs(_ pattern: String, check: String = "api", every: Int64 = 1000, start: Int64 = t0) -> [RunRecord] {
        pattern.enumerated().map { index, c in
            let time = start + Int64(index) * every
            switch c {
            case ".":
                return RunRecord(
                    time: time, check: check, location: "eu", ok: true, durationMs: 20, lateMs: 0,
                    steps: [RunStep(status: 200, timings: PhaseTimings(ttfb: 15, total: 20))])
            case "c":
                return RunRecord(
                    time: time, check: check, location: "eu", ok: false, durationMs: 1, lateMs: 0,
                    error: RunError(kind: "connect", entry: 1, line: 2, message: "connection refused"))
            default:
                return RunRecord(
                    time: time, check: check, location: "eu", ok: false, durationMs: 900, lateMs: 0,
                    error: RunError(kind: "status", entry: 1, line: 3, message: "HTTP 503 (expected 200)"),
                    steps: [RunStep(status: 503, timings: PhaseTimings(ttfb: 880, total: 900))])
            }
        }
    }

    static func replay(_ runs: [RunRecord], downAfter: Int = 3, upAfter: Int = 2) -> (
        transitions: [IncidentDetector.Transition], detector: IncidentDetector
    ) {
        var detector = IncidentDetector(
            check: "api", location: "eu", policy: SLOPolicy(), downAfter: downAfter, upAfter: upAfter,
            startMs: runs.first?.time ?? 0)
        var out: [IncidentDetector.Transition] = []
        for run in runs { out += detector.observe(run) }
        return (out, detector)
    }

    static func incidents(_ transitions: [IncidentDetector.Transition]) -> (opened: [Incident], resolved: [Incident]) {
        var opened: [Incident] = []
        var resolved: [Incident] = []
        for transition in transitions {
            if case .opened(let incident) = transition { opened.append(incident) }
            if case .resolved(let incident) = transition { resolved.append(incident) }
        }
        return (opened, resolved)
    }

    @Test("started at the first failed run, detected at the third, resolved at the first good run of two")
    func stateMachine() {
        let (transitions, detector) = Self.replay(Self.runs("..ssss...."))
        let (opened, resolved) = Self.incidents(transitions)
        #expect(opened.count == 1 && resolved.count == 1)
        let incident = resolved[0]
        #expect(incident.startedMs == Self.t0 + 2000)
        #expect(incident.detectedMs == Self.t0 + 4000)
        #expect(incident.resolvedMs == Self.t0 + 6000)
        #expect(incident.durationMs(nowMs: 0) == 4000 && incident.timeToDetectMs == 2000)
        #expect(incident.failedRuns == 4 && incident.runs == 4)
        #expect(incident.id == "2026-11-23T1100Z-api")
        #expect(detector.open == nil)
        #expect(incident.timeline.map(\.event) == [.firstFailure, .detected, .succeeded, .resolved])
    }

    @Test("failures below @down-after open nothing; a good run in the closing streak that fails again restarts it")
    func streaks() {
        let (transitions, _) = Self.replay(Self.runs("ss.sss.s.."))
        let (opened, resolved) = Self.incidents(transitions)
        #expect(opened.count == 1 && resolved.count == 1)
        #expect(resolved[0].startedMs == Self.t0 + 3000)
        #expect(resolved[0].resolvedMs == Self.t0 + 8000)
        #expect(resolved[0].failedRuns == 4)
        #expect(
            resolved[0].timeline.map(\.event) == [
                .firstFailure, .detected, .succeeded, .failedAgain, .succeeded, .resolved,
            ])
    }

    @Test("each change of error kind is a timeline row, and kinds are counted with their messages")
    func kindChanges() {
        let (transitions, _) = Self.replay(Self.runs(".cccsss.."))
        let incident = Self.incidents(transitions).resolved[0]
        #expect(incident.kinds["connect"]?.count == 3 && incident.kinds["status"]?.count == 3)
        #expect(incident.mainKind == "connect", "ties go to the earliest kind")
        let changed = incident.timeline.first { $0.event == .kindChanged }
        #expect(changed?.timeMs == Self.t0 + 4000)
        #expect(changed?.evidence == "status (HTTP 503): HTTP 503 (expected 200)")
    }

    @Test("an incident still open at the end is ongoing; the latency before and during is kept")
    func ongoingAndLatency() {
        let (_, detector) = Self.replay(Self.runs(".....sssss"))
        let incident = detector.ongoing()
        #expect(incident?.isResolved == false)
        #expect(incident?.before.count == 5)
        #expect(incident?.samples.count == 5)
        #expect(incident?.durationMs(nowMs: .max) == 4000, "until the latest run, not until now")
    }

    @Test("a day-long outage keeps exact counts and times but a bounded, evenly thinned set of samples")
    func longOutageStaysSmall() throws {
        // 300 good runs, then 86,400 failures at one a second, then two good runs.
        let pattern = String(repeating: ".", count: 300) + String(repeating: "s", count: 86_400) + ".."
        let runs = Self.runs(pattern, start: Self.t0 - 2 * 86_400_000)
        let (transitions, _) = Self.replay(runs)
        let incident = try #require(Self.incidents(transitions).resolved.first)
        #expect(incident.runs == 86_400 && incident.failedRuns == 86_400)
        #expect(incident.startedMs == runs[300].time && incident.resolvedMs == runs[300 + 86_400].time)
        #expect(
            incident.samples.count <= IncidentDetector.sampleLimit
                && incident.samples.count > IncidentDetector.sampleLimit / 2)
        let gaps = Set(zip(incident.samples.dropFirst(), incident.samples).map { $0.timeMs - $1.timeMs })
        #expect(gaps.count == 1, "samples are evenly spaced: \(gaps.sorted().prefix(5))")
        #expect(incident.before.count == IncidentDetector.beforeLimit, "the last 120 good runs before the outage")
        #expect(incident.before.last?.timeMs == runs[299].time)

        // The live detector finds the same incident and keeps no samples at all.
        var live = IncidentDetector(
            check: "api", location: "eu", policy: SLOPolicy(), downAfter: 3, upAfter: 2,
            startMs: runs[0].time, keepsSamples: false)
        var liveResolved: [Incident] = []
        for run in runs { for case .resolved(let i) in live.observe(run) { liveResolved.append(i) } }
        let same = try #require(liveResolved.first)
        #expect(
            (same.startedMs, same.detectedMs, same.resolvedMs, same.runs, same.failedRuns)
                == (incident.startedMs, incident.detectedMs, incident.resolvedMs, incident.runs, incident.failedRuns))
        #expect(same.samples.isEmpty && same.before.isEmpty)
    }

    @Test("the 'before' samples cover only the 30 minutes before the first failure")
    func beforeIsThirtyMinutes() throws {
        // A good run every 5 minutes for 2 hours, then an outage.
        let runs = Self.runs(
            String(repeating: ".", count: 24) + "sss..", every: 300_000, start: Self.t0 - 3 * UTCTime.msPerHour)
        let incident = try #require(Self.incidents(Self.replay(runs).transitions).resolved.first)
        #expect(incident.before.map(\.timeMs) == runs[18..<24].map(\.time).filter { $0 >= runs[24].time - 30 * 60_000 })
        #expect(incident.before.count == 6)
    }

    @Test("flapping starts above 20% weighted changes over 21 runs and ends below 5%")
    func flapping() {
        #expect(IncidentDetector.flapPercent(Array(repeating: true, count: 21)) == 0)
        let alternating = (0..<21).map { $0 % 2 == 0 }
        #expect(abs(IncidentDetector.flapPercent(alternating) - 100) < 1e-9)
        // One change, newest: weight 1.2 of 20 transitions = 6%.
        #expect(abs(IncidentDetector.flapPercent(Array(repeating: true, count: 20) + [false]) - 6) < 1e-9)
        let (transitions, detector) = Self.replay(
            Self.runs(String(repeating: ".s", count: 15) + String(repeating: ".", count: 30)),
            downAfter: 5, upAfter: 5)
        var started = 0
        var ended = 0
        for transition in transitions {
            if case .flappingStarted = transition { started += 1 }
            if case .flappingEnded = transition { ended += 1 }
        }
        #expect(started == 1 && ended == 1)
        #expect(!detector.flapping)
    }

    @Test("10,000 flaps inside one incident keep the timeline short")
    func tenThousandFlaps() {
        let pattern = "sss" + String(repeating: ".s", count: 10_000) + ".."
        let (transitions, _) = Self.replay(Self.runs(pattern), downAfter: 3, upAfter: 2)
        let incident = Self.incidents(transitions).resolved[0]
        #expect(incident.timeline.count < 15, "\(incident.timeline.count) rows")
        let collapsed = incident.timeline.filter { $0.event == .flapping && $0.untilMs != nil }
        #expect(collapsed.count <= 3)
        #expect(collapsed.reduce(0) { $0 + $1.count } > 19_000, "every alternation is counted in a collapsed row")
        let page = IncidentWriteUp(incidents: [incident], nowMs: SLOTests.now, folders: ["data"]).page(incident)
        #expect(page.split(separator: "\n").count < 120)
    }

    @Test("a burn-rate alert starts during a sustained outage and shows in the timeline")
    func burnAlert() {
        // One run a minute for 3 hours, then 20 minutes of failures.
        let runs = Self.runs(
            String(repeating: ".", count: 180) + String(repeating: "s", count: 20), every: 60_000,
            start: Self.t0 - 3 * UTCTime.msPerHour)
        let (transitions, detector) = Self.replay(runs)
        let started = transitions.compactMap { transition -> AlertState.Level? in
            if case .burnAlertStarted(_, let level, _) = transition { return level }
            return nil
        }
        #expect(started.first == .page)
        #expect(detector.burnLevel == .page)
        let incident = detector.ongoing()
        #expect(incident?.timeline.contains { $0.event == .burnAlertStarted } == true)
        #expect((incident?.peakBurnRate ?? 0) > 14.4)
    }

    @Test(
        "a detector reading burn counts it shares with the SLO tracker decides exactly as one counting on its own"
    )
    func sharedRingsDecideTheSame() throws {
        // Six hours, a run every 37 s (runs land at every second of the minute): healthy, a
        // sustained outage (page), recovery, flapping, a short outage, then healthy again.
        let pattern =
            String(repeating: ".", count: 200) + String(repeating: "s", count: 60) + String(repeating: ".", count: 100)
            + String(repeating: ".s", count: 40) + String(repeating: "c", count: 8) + String(repeating: ".", count: 136)
        let runs = Self.runs(pattern, every: 37_000, start: Self.t0 - 5 * UTCTime.msPerHour)
        let (own, ownDetector) = Self.replay(runs)
        var shared = IncidentDetector(
            check: "api", location: "eu", policy: SLOPolicy(), downAfter: 3, upAfter: 2, startMs: runs[0].time)
        var ring = BurnCounter(policy: SLOPolicy(), nowMs: runs[0].time)
        var transitions: [IncidentDetector.Transition] = []
        for run in runs {
            ring.add(timeMs: run.time, ok: run.ok)  // what SLOTracker.add does before the monitor sees the run
            transitions += shared.observe(run, countedIn: ring)
        }
        #expect(!shared.hasOwnCounts && ownDetector.hasOwnCounts)
        let kinds = Set(own.map { "\($0)".prefix { $0 != "(" } })
        #expect(kinds.isSuperset(of: ["opened", "resolved", "flappingStarted", "flappingEnded", "burnAlertStarted"]))
        #expect(transitions == own)
        #expect(shared.ongoing() == ownDetector.ongoing())
        #expect(shared.burnLevel == ownDetector.burnLevel && shared.flapping == ownDetector.flapping)
    }

    @Test("after the replay a detector drops its own counts; until the shared ones are seeded its burn alert stays")
    func burnStateKeptUntilSeeded() {
        let runs = Self.runs(
            String(repeating: ".", count: 180) + String(repeating: "s", count: 20) + String(repeating: ".", count: 30),
            every: 60_000, start: Self.t0 - 4 * UTCTime.msPerHour)
        var detector = IncidentDetector(
            check: "api", location: "eu", policy: SLOPolicy(), downAfter: 3, upAfter: 2, startMs: runs[0].time)
        for run in runs.prefix(200) { _ = detector.observe(run) }
        #expect(detector.burnLevel == .page && detector.hasOwnCounts)
        detector.dropOwnCounts()
        #expect(!detector.hasOwnCounts)
        var unseeded: [IncidentDetector.Transition] = []
        for run in runs.suffix(30) { unseeded += detector.observe(run, countedIn: nil) }
        #expect(!unseeded.contains { if case .burnAlertEnded = $0 { return true } else { return false } })
        #expect(detector.burnLevel == .page && detector.open == nil, "resolved; the alert waits for counts")
        // Seeded counts of a healthy check: the next run ends the alert.
        var ring = BurnCounter(policy: SLOPolicy(), nowMs: runs[0].time)
        let next = Self.runs(".", start: runs[229].time + 60_000)[0]
        for k in 0..<300 { ring.add(timeMs: next.time - Int64(k) * 60_000, ok: true) }
        #expect(detector.observe(next, countedIn: ring) == [.burnAlertEnded(timeMs: next.time)])
    }

    @Test("the flapping share from a bit history is the share from the list of results")
    func flapBitsMatchList() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let results = (0..<21).map { _ in Bool.random(using: &generator) }
            let bits = results.reduce(UInt32(0)) { $0 << 1 | ($1 ? 1 : 0) }
            let slow: Double = {
                var total = 0.0
                for i in 1..<21 where results[i] != results[i - 1] { total += 0.8 + 0.4 * Double(i - 1) / 19 }
                return total / 20 * 100
            }()
            #expect(abs(IncidentDetector.flapPercent(bits: bits, count: 21) - slow) < 1e-9)
        }
    }

    @Test("write-ups escape hostile messages and list the sections people fill in")
    func writeUpEscapes() {
        var runs = Self.runs("..sss..")
        for index in runs.indices where !runs[index].ok {
            runs[index].error?.message = "body: `x` | <script>alert(1)</script> *b*"
        }
        let incident = Self.incidents(Self.replay(runs).transitions).resolved[0]
        let page = IncidentWriteUp(incidents: [incident], nowMs: SLOTests.now, folders: ["data"]).page(incident)
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;"))
        #expect(page.contains("\\`x\\` \\|"))
        for section in [
            "## Impact", "## Timeline", "| Time (UTC) | Event | Evidence |", "```mermaid", "## Root cause",
            "## Trigger", "## Resolution", "## Action items",
        ] {
            #expect(page.contains(section), "missing \(section)")
        }
    }

    @Test("the finder replays the files and agrees with the detector; the index gives MTTD and MTTR")
    func finderAndIndex() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        data.runs = Self.runs("...ssss.....sss..") + Self.runs("..ccc..", check: "web", start: Self.t0 + 4000)
        try data.write(to: folder.path)
        var settings = MonitorSettings()
        settings.downAfter = 3
        settings.upAfter = 2
        let result = IncidentFinder.find(
            readers: [RunReader(folder: DataFolder(folder.path))],
            settings: ["api": settings, "web": settings], nowMs: SLOTests.now)
        #expect(result.incidents.map(\.check) == ["api", "web", "api"])
        #expect(result.incidents.map(\.startedMs) == [Self.t0 + 3000, Self.t0 + 6000, Self.t0 + 12_000])
        var writeUp = IncidentWriteUp(incidents: result.incidents, nowMs: SLOTests.now, folders: [folder.path])
        let index = writeUp.index()
        // Time to detect: 2 s each; durations 4 s, 3 s and 3 s.
        #expect(index.contains("**Overall:** MTTD 2 s, MTTR 3 s."))
        #expect(index.contains("| api | 2 | 0 | 2 s | 3 s |"))
        // api and web went down 3 s apart (within 5 minute intervals) and overlap: one outage.
        #expect(writeUp.files().map(\.path) == ["README.md", "2026-11-23T1100Z-api.md", "2026-11-23T1100Z-api-2.md"])
        #expect(index.contains("[2026-11-23T1100Z-web](2026-11-23T1100Z-api.md#check-web)"))
        writeUp.grouping = IncidentGrouping(intervals: 0)
        let page = writeUp.page(result.incidents[0])
        #expect(page.contains("[web](2026-11-23T1100Z-web.md)"), "also affected")
    }
}
