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

/// Writes run lines (and, when asked, their hour lines) into a data folder the way `sonde run` does.
struct DataBuilder {
    var runs: [RunRecord] = []

    mutating func every(
        _ stepMs: Int64, from: Int64, to: Int64, check: String = "api", location: String = "eu",
        durationMs: Double = 100, failing: (Int64) -> Bool = { _ in false }
    ) {
        var t = from
        while t < to {
            let bad = failing(t)
            runs.append(
                RunRecord(
                    time: t, check: check, location: location, ok: !bad, durationMs: durationMs, lateMs: 0,
                    error: bad ? RunError(kind: "status", entry: 1, line: 2, message: "entry 1 line 2: HTTP 503") : nil,
                    steps: [
                        RunStep(status: bad ? 503 : 200, timings: PhaseTimings(ttfb: durationMs / 2, total: durationMs))
                    ]))
            t += stepMs
        }
    }

    /// Writes the raw files; with `hoursBefore`, also hour lines for every hour that ends by then.
    func write(to root: String, hoursBefore: Int64? = nil, fastMs: Double? = nil) throws {
        var files: [String: [UInt8]] = [:]
        let folder = DataFolder(root)
        for run in runs { files[folder.runsFile(check: run.check, at: run.time), default: []] += RunLine.encode(run) }
        if let hoursBefore {
            for (key, group) in Dictionary(grouping: runs, by: { "\($0.check)\u{0}\($0.location)" }) {
                let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
                for rollup in HourRollup.build(group, check: parts[0], location: parts[1], fastMs: fastMs)
                where rollup.hour + UTCTime.msPerHour <= hoursBefore {
                    files[folder.hoursFile(check: rollup.check, at: rollup.hour), default: []] += HourLine.encode(
                        rollup)
                }
            }
        }
        for (path, bytes) in files {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
    }
}

@Suite("SLO engine: hand-computed answers", .cpuBound)
struct SLOTests {
    /// 2026-11-23T12:00:00Z.
    static let now: Int64 = UTCTime.days(year: 2026, month: 11, day: 23) * UTCTime.msPerDay + 12 * UTCTime.msPerHour

    static func evaluate(_ roots: [String], policy: SLOPolicy = SLOPolicy(), check: String = "api") -> CheckSLO {
        SLOEvaluator.evaluate(
            check: check, readers: roots.map { RunReader(folder: DataFolder($0)) }, policy: policy,
            nowMs: now)
    }

    @Test("30 bad runs in 43,200 at 99.9% give uptime 99.930% and 30.5% of the budget left, with or without hour lines")
    func thirtyBadRuns() throws {
        for withHours in [true, false] {
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            var data = DataBuilder()
            let start = Self.now - 30 * UTCTime.msPerDay + 60_000  // (now − 30d, now]: 43,200 minutes
            // 30 failures spread over the month, one every 1,440 runs.
            data.every(60_000, from: start, to: Self.now + 1) { t in (t - start) / 60_000 % 1440 == 7 }
            try data.write(to: folder.path, hoursBefore: withHours ? Self.now : nil)
            let slo = Self.evaluate([folder.path])
            let month = slo.objectiveWindow.counts
            #expect(month.runs == 43_200 && month.bad == 30, "hours: \(withHours)")
            #expect(PercentText.ratio(month.good, month.runs) == "99.930%")
            #expect(PercentText.truncated(slo.budgetRemaining ?? -1) == "30.5%")
            #expect(abs((slo.budgetRemaining ?? 0) - (1 - 30.0 / 43.2)) < 1e-12)
            #expect(abs(slo.objectiveWindow.coverage - 1) < 1e-9)
            #expect(slo.windows.map(\.label) == ["24h", "7d", "30d"])
            #expect(slo.windows[0].counts.runs == 1440)
            #expect(slo.windows[1].counts.runs == 7 * 1440 && slo.windows[1].counts.bad == 7)
            #expect(slo.stats.skipped == 0)
        }
    }

    @Test("the SRE workbook: 14.4× for an hour spends 2% of a 30-day budget; 1000× empties it in 43.2 minutes")
    func workbookExamples() {
        let month = 30 * UTCTime.msPerDay
        #expect(
            abs(ErrorBudget.consumed(burnRate: 14.4, durationMs: UTCTime.msPerHour, windowMs: month) - 0.02) < 1e-12)
        let minutes = (ErrorBudget.timeToExhaustionMs(remaining: 1, windowMs: month, burnRate: 1000) ?? 0) / 60_000
        #expect(abs(minutes - 43.2) < 1e-9)
        #expect(ErrorBudget.timeToExhaustionMs(remaining: 1, windowMs: month, burnRate: 0) == nil)
    }

    @Test("a prober that was off half the day shows 50% coverage, and its uptime counts only the runs it made")
    func coverageWithAGap() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        let dayStart = Self.now - UTCTime.msPerDay + 1
        data.every(60_000, from: Self.now - UTCTime.msPerDay + 60_000, to: Self.now - 12 * UTCTime.msPerHour + 1)
        try data.write(to: folder.path, hoursBefore: Self.now)
        let slo = Self.evaluate([folder.path])
        let day = slo.windows[0]
        #expect(day.counts.fromMs == dayStart)
        #expect(day.counts.runs == 720)
        #expect(abs(day.coverage - 0.5) < 1e-9)
        #expect(PercentText.ratio(day.counts.good, day.counts.runs) == "100.000%")
        // A 5-minute check: each run covers its 5 minutes.
        #expect(abs(WindowCounts(fromMs: 0, toMs: UTCTime.msPerHour).coverage(intervalMs: 300_000)) < 1e-9)
        var fiveMinute = WindowCounts(fromMs: 0, toMs: UTCTime.msPerHour)
        fiveMinute.minutesWithRuns = 12
        #expect(fiveMinute.coverage(intervalMs: 300_000) == 1)
    }

    @Test("burn counters saturate instead of wrapping, and never count more failures than runs")
    func burnCounterSaturates() {
        // Every 60 s: two-byte hours; every second: three-byte hours.
        for (intervalMs, limit) in [(60_000, BurnCounter.narrowHourLimit), (1_000, BurnCounter.hourLimit)] {
            var counter = BurnCounter(policy: SLOPolicy(intervalMs: Int64(intervalMs)), nowMs: Self.now)
            counter.addHour(timeMs: Self.now, runs: 70_000, bad: 80_000)
            counter.addHour(timeMs: Self.now, runs: 10, bad: 0)
            let counts = counter.sum(7 * UTCTime.msPerHour)  // past 6 h: the hour ring
            #expect(counts.runs == Int64(limit) && counts.bad == Int64(limit), "every \(intervalMs) ms")
            for _ in 0..<3 { counter.add(timeMs: Self.now, ok: false) }
            counter.add(timeMs: Self.now, ok: true)
            #expect(counter.sum(60_000) == (runs: 4, bad: 3))
        }
    }

    @Test("a check every 20 s or slower keeps two bytes an hour, a faster one three; a new @every keeps the counts")
    func burnCounterWidth() {
        let slow = SLOPolicy(intervalMs: 20_000)
        var counter = BurnCounter(policy: slow, nowMs: Self.now)
        #expect(counter.byteCount == 2 * 360 + 2 * 720)
        #expect(BurnCounter(policy: SLOPolicy(intervalMs: 19_999), nowMs: Self.now).byteCount == 2 * 360 + 3 * 720)
        // The most a check every 20 s runs in an hour, with a failure every 7th run, for 10 hours.
        for k in 0..<(10 * 180) {
            counter.add(timeMs: Self.now - 10 * UTCTime.msPerHour + Int64(k) * 20_000, ok: k % 7 != 0)
        }
        let fast = BurnCounter(resizing: counter, to: SLOPolicy(intervalMs: 5_000))
        #expect(!counter.hasLayout(of: SLOPolicy(intervalMs: 5_000)) && counter.hasLayout(of: SLOPolicy()))
        #expect(fast.byteCount == 2 * 360 + 3 * 720)
        for window: Int64 in [5 * 60_000, 6 * UTCTime.msPerHour, 3 * UTCTime.msPerDay, 30 * UTCTime.msPerDay] {
            #expect(fast.sum(window) == counter.sum(window), "\(window) ms")
        }
        #expect(counter.sum(3 * UTCTime.msPerDay) == (runs: 1800, bad: 258))
        let back = BurnCounter(resizing: fast, to: slow)
        #expect(back.sum(30 * UTCTime.msPerDay) == counter.sum(30 * UTCTime.msPerDay))
    }

    @Test("the tracker widens a check's hour buckets when its interval shortens, keeping its counts")
    func trackerWidens() throws {
        let tracker = SLOTracker()
        tracker.setPolicies(["a": SLOPolicy()], nowMs: Self.now - UTCTime.msPerHour)
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        tracker.seed(
            check: "a", reader: RunReader(folder: DataFolder(folder.path)), location: "eu", beforeMs: Self.now,
            nowMs: Self.now)
        for k in 0..<60 { tracker.add(check: "a", timeMs: Self.now - Int64(k) * 60_000, ok: k % 10 != 0) }
        let before = try #require(tracker.counter(check: "a"))
        tracker.setPolicies(["a": SLOPolicy(intervalMs: 1_000)], nowMs: Self.now)
        let after = try #require(tracker.counter(check: "a"))
        #expect(before.byteCount == 2 * 360 + 2 * 720 && after.byteCount == 2 * 360 + 3 * 720)
        #expect(after.sum(UTCTime.msPerDay) == before.sum(UTCTime.msPerDay) && after.sum(UTCTime.msPerDay).runs == 60)
        #expect(after.policy.intervalMs == 1_000)
    }

    @Test("the latest message of an error kind comes from the hour lines once the raw runs are gone")
    func latestMessageFromHourLines() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        // A failure 5 days ago (the only one of its kind), then good runs; hour lines for closed hours.
        let failedAt = Self.now - 5 * UTCTime.msPerDay
        data.every(60_000, from: Self.now - 6 * UTCTime.msPerDay, to: Self.now + 1) { $0 == failedAt }
        data.runs = data.runs.map { run in
            guard !run.ok else { return run }
            var run = run
            run.error = RunError(kind: "timeout", entry: 1, line: 4, message: "entry 1 line 4: timeout after 10000 ms")
            return run
        }
        try data.write(to: folder.path + "/data", hoursBefore: Self.now)
        let rawFile = DataFolder(folder.path + "/data").runsFile(check: "api", at: failedAt)
        #expect(
            Self.evaluate([folder.path + "/data"]).latestMessages == [
                "timeout": "entry 1 line 4: timeout after 10000 ms"
            ])
        // Raw retention removed that day: the hour line still has the message.
        try FileManager.default.removeItem(atPath: rawFile)
        let slo = Self.evaluate([folder.path + "/data"])
        #expect(slo.windows.first { $0.label == "7d" }?.counts.errors == ["timeout": 1])
        #expect(slo.latestMessages == ["timeout": "entry 1 line 4: timeout after 10000 ms"])
    }

    @Test("the live tracker gives one check's figures, the same as the whole snapshot")
    func trackerFiguresForOneCheck() throws {
        let tracker = SLOTracker()
        tracker.setPolicies(["a": SLOPolicy(), "b": SLOPolicy()], nowMs: Self.now)
        for k in 0..<60 {
            tracker.add(check: "a", timeMs: Self.now - Int64(k) * 1000, ok: k % 10 != 0)
        }
        let one = try #require(tracker.figures(check: "a", nowMs: Self.now))
        let all = try #require(tracker.snapshot(nowMs: Self.now)["a"])
        #expect(one.burn == all.burn && one.remaining == all.remaining)
        #expect(one.burn[.m5] == 100, "6 of 60 runs failed against a 0.1% budget: burn 100")
        #expect(tracker.figures(check: "nope", nowMs: Self.now) == nil)
    }

    @Test("the tracker's figures at a later time are those of rings moved forward to it, and reading writes nothing")
    func trackerReadsAtLaterTimes() throws {
        let tracker = SLOTracker()
        let start = Self.now - 8 * UTCTime.msPerHour
        tracker.setPolicies(["a": SLOPolicy()], nowMs: start)
        #expect(tracker.counter(check: "a") == nil, "not lent out before it is seeded")
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        tracker.seed(
            check: "a", reader: RunReader(folder: DataFolder(folder.path)), location: "eu", beforeMs: start,
            nowMs: start)
        var moved = BurnCounter(policy: SLOPolicy(), nowMs: start)
        // A run every 50 s for 6 hours, one in seven failing.
        for k in 0..<432 {
            let time = start + Int64(k) * 50_000
            tracker.add(check: "a", timeMs: time, ok: k % 7 != 0)
            moved.advance(to: time + 20_000)  // the old way: rings moved to the run's end first
            moved.add(timeMs: time, ok: k % 7 != 0)
        }
        for later: Int64 in [0, 30_000, 4 * 60_000, 61 * 60_000, 7 * UTCTime.msPerHour, 4 * UTCTime.msPerDay] {
            let at = start + 432 * 50_000 + later
            var old = moved
            old.advance(to: at)
            let figures = try #require(tracker.figures(check: "a", nowMs: at))
            #expect(figures.burn == old.burnRates(), "\(later) ms after the last run")
            #expect(figures.remaining == old.budgetRemaining())
        }
        let ring = try #require(tracker.counter(check: "a"))
        #expect(ring.lastMinute == (start + 431 * 50_000) / 60_000, "reads moved nothing")
        #expect(tracker.figures(check: "a", nowMs: start + 432 * 50_000)?.burn[.m5] != nil)
    }

    @Test("a longer objective window keeps the minutes and the hours the ring had")
    func burnCounterResized() {
        var counter = BurnCounter(policy: SLOPolicy(), nowMs: Self.now)
        for k in 0..<(100 * 60) {
            counter.add(timeMs: Self.now - 100 * UTCTime.msPerHour + Int64(k) * 60_000, ok: k % 50 != 0)
        }
        let resized = BurnCounter(resizing: counter, to: SLOPolicy(windowMs: 90 * UTCTime.msPerDay))
        #expect(resized.hourCount == 2160 && counter.hourCount == 720)
        for window: Int64 in [5 * 60_000, 6 * UTCTime.msPerHour, 3 * UTCTime.msPerDay, 30 * UTCTime.msPerDay] {
            #expect(resized.sum(window) == counter.sum(window), "\(window) ms")
        }
        let shorter = BurnCounter(resizing: resized, to: SLOPolicy(windowMs: 3 * UTCTime.msPerDay))
        #expect(shorter.hourCount == 72 && shorter.sum(3 * UTCTime.msPerDay) == counter.sum(3 * UTCTime.msPerDay))
    }

    @Test("uptime is truncated, never rounded up")
    func truncation() {
        #expect(PercentText.ratio(999_996, 1_000_000) == "99.999%")
        #expect(PercentText.ratio(2, 3) == "66.666%")
        #expect(PercentText.ratio(43_170, 43_200) == "99.930%")
        #expect(PercentText.ratio(5, 5) == "100.000%")
        #expect(PercentText.ratio(0, 0) == "-")
        #expect(PercentText.truncated(0.999, decimals: 1) == "99.9%")
        #expect(PercentText.truncated(0.30555, decimals: 1) == "30.5%")
        #expect(PercentText.truncated(-0.25, decimals: 1) == "-25.0%")
    }

    @Test("rules fire strictly above their thresholds and need both windows: 14.39 does not page, 14.41 does")
    func rulesAtThresholds() {
        /// Every window at 0 except those given; windows in `missing` lack runs.
        func state(_ rates: [BurnWindow: Double], missing: Set<BurnWindow> = []) -> AlertState {
            var all: [BurnWindow: Double] = [:]
            for window in BurnWindow.allCases where !missing.contains(window) { all[window] = rates[window] ?? 0 }
            return AlertState.evaluate(all)
        }
        #expect(state([.h1: 14.39, .m5: 14.39]).level == .ok)
        #expect(state([.h1: 14.41, .m5: 14.41]).level == .page)
        #expect(state([.h1: 14.41, .m5: 14.39]).level == .ok)
        #expect(state([.h1: 14.39, .m5: 100]).level == .ok)
        #expect(state([.h1: 14.4, .m5: 14.4]).level == .ok, "strictly above")
        #expect(state([.h6: 6.01, .m30: 6.01]).level == .page)
        #expect(state([.h6: 6.01, .m30: 6.01]).firing.map(\.description) == ["page: 6h and 30m burn > 6"])
        #expect(state([.d1: 3.01, .h2: 3.01]).level == .ticket)
        #expect(state([.d3: 1.01, .h6: 1.01]).level == .ticket)
        #expect(state([.d3: 1.01, .h6: 1.0]).level == .ok)
        // A page and a ticket at once: page, with both rules listed, page first.
        let both = state([.h1: 20, .m5: 20, .d1: 4, .h2: 4])
        #expect(both.level == .page && both.firing.map(\.severity) == [.page, .ticket])
        // Windows without enough runs: undecided; only all-undecided is "insufficient data".
        #expect(AlertState.evaluate([:]).level == .insufficientData)
        #expect(state([:], missing: [.h1]).level == .ok)
        #expect(state([.m5: 50], missing: [.h1]).undecided.count == 1)
        #expect(state([.m5: 10], missing: [.h1]).undecided.isEmpty, "the short window rules it out")
    }

    @Test("burn rates per window from a failing stretch: a 10-minute outage at one run a minute pages")
    func burnRatesFromData() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        let start = Self.now - 30 * UTCTime.msPerDay + 60_000
        data.every(60_000, from: start, to: Self.now + 1) { t in t > Self.now - 10 * 60_000 }
        try data.write(to: folder.path, hoursBefore: Self.now)
        let slo = Self.evaluate([folder.path])
        // Last 5 minutes: 5 of 5 failed → error ratio 1 → burn 1000. Last hour: 10 of 60 → 166.67.
        #expect(slo.burnCounts[.m5]?.runs == 5 && slo.burnCounts[.m5]?.bad == 5)
        let m5 = slo.burnRates[.m5] ?? 0
        let h1 = slo.burnRates[.h1] ?? 0
        let d3 = slo.burnRates[.d3] ?? 0
        #expect(abs(m5 - 1000) < 1e-9)
        #expect(abs(h1 - 10.0 / 60 / 0.001) < 1e-9)
        #expect(abs(d3 - 10.0 / 4320 / 0.001) < 1e-9)
        #expect(slo.alert.level == .page)
        #expect(slo.state == .down)
        // Time to exhaustion at the 1-hour rate: remaining × 30 d ÷ burn.
        let remaining = 1 - 10.0 / (0.001 * 43_200)
        #expect(abs((slo.budgetRemaining ?? 0) - remaining) < 1e-12)
        let expected = remaining * Double(30 * UTCTime.msPerDay) / (10.0 / 60 / 0.001)
        #expect(abs((slo.timeToExhaustionMs ?? 0) - expected) < 1)
        #expect(slo.latestMessages == ["status": "entry 1 line 2: HTTP 503"])
    }

    @Test("the latency SLI counts good runs under the threshold; percentiles are exact over 24 hours")
    func latencySLIAndPercentiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        // 100 runs in the last 24 h with durations 1...100 ms.
        for i in 1...100 {
            data.every(
                1, from: Self.now - Int64(i) * 600_000, to: Self.now - Int64(i) * 600_000 + 1, durationMs: Double(i))
        }
        try data.write(to: folder.path, hoursBefore: Self.now, fastMs: 90)
        let policy = SLOPolicy(latencyThresholdMs: 90, latencyObjective: 0.99, intervalMs: 600_000)
        let slo = Self.evaluate([folder.path], policy: policy)
        #expect(slo.windows[0].counts.runs == 100)
        #expect(slo.windows[0].counts.fast == 89, "1...89 are under 90 ms")
        #expect(slo.p50 == 50 && slo.p95 == 95 && slo.p99 == 99)
    }

    @Test("two locations: a slot is down for the fleet (quorum all) only when every location that ran in it failed")
    func locationsCombine() throws {
        let a = try TemporaryFolder()
        let b = try TemporaryFolder()
        defer {
            a.cleanup()
            b.cleanup()
        }
        let hour = Self.now - UTCTime.msPerHour + 1
        var dataA = DataBuilder()
        var dataB = DataBuilder()
        // Each location runs once a minute for the last hour. A fails minutes 0–9, B fails minutes 5–14.
        dataA.every(60_000, from: hour, to: Self.now + 1, location: "a") { t in (t - hour) / 60_000 < 10 }
        dataB.every(60_000, from: hour + 2_000, to: Self.now + 1, location: "b") { t in
            let minute = (t - hour) / 60_000
            return minute >= 5 && minute < 15
        }
        try dataA.write(to: a.path, hoursBefore: Self.now)
        try dataB.write(to: b.path, hoursBefore: Self.now)
        let slo = SLOEvaluator.evaluate(
            check: "api", readers: [a.path, b.path].map { RunReader(folder: DataFolder($0)) },
            policy: SLOPolicy(intervalMs: 60_000), nowMs: Self.now, quorum: LocationQuorum(.all, locations: 2))
        #expect(slo.locations.map(\.name) == ["a", "b"])
        #expect(slo.locations[0].windows[0].counts.bad == 10 && slo.locations[1].windows[0].counts.bad == 10)
        #expect(slo.windows[0].counts.runs == 120 && slo.windows[0].counts.bad == 20)
        let day = try #require(slo.fleet?.windows.first).counts
        #expect(day.down == 5, "minutes 5–9 failed everywhere")
        #expect(day.slots == 60 || day.slots == 61)
    }

    @Test("runs stamped in the future are ignored and counted; garbage lines are skipped and counted")
    func futureAndGarbage() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var data = DataBuilder()
        data.every(60_000, from: Self.now - 10 * 60_000, to: Self.now + 5 * 60_000)
        try data.write(to: folder.path)
        let file = DataFolder(folder.path).runsFile(check: "api", at: Self.now)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        handle.seekToEndOfFile()
        handle.write(Data("garbage\n{\"v\":9,\"t\":\"2026-11-23T11:00:00Z\",\"check\":\"api\",\"ok\":true}\n".utf8))
        try handle.close()
        let slo = Self.evaluate([folder.path])
        #expect(slo.windows[0].counts.runs == 11)
        #expect(slo.futureRuns == 4)
        #expect(slo.stats.skipped == 2 && slo.stats.unknownVersion == 1)
    }
}
