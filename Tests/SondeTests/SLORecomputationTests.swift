import Foundation
import Testing

@testable import SondeCommands
@testable import SondeIncidents
@testable import SondeRender
@testable import SondeSLO
@testable import SondeScript
@testable import SondeStore
@testable import SondeSupport

/// An independent-style check of every figure: a generator writes a month of runs with known
/// answers — a gap, runs exactly on window edges, a failure streak across midnight, lines out of
/// order, hour lines for most of one location and raw runs only for the other — and each figure of
/// `sonde report --json`, `sonde status` and `sonde incidents` is compared with a straightforward
/// recomputation from the list of runs, written from the documented definitions only.
@Suite("SLO figures against a straightforward recomputation", .cpuBound)
struct SLORecomputationTests {
    static let now = SLOTests.now
    static let minute: Int64 = 60_000
    static let budget = 0.001
    static let allowedPerLocation = 0.001 * 43_200

    /// The generated runs of both locations (a: a month, hour lines; b: two days, raw only).
    static func generate() -> (a: [RunRecord], b: [RunRecord]) {
        let day = UTCTime.msPerDay
        let gap = (now - 3 * day - 6 * UTCTime.msPerHour)..<(now - 3 * day)
        let midnight = UTCTime.dayStart(now) - 2 * day  // a failure streak from 23:58 to 00:02
        let outage = (now - 5 * UTCTime.msPerHour)..<(now - 5 * UTCTime.msPerHour + 40 * minute)
        var a: [RunRecord] = []
        var t = UTCTime.dayStart(now - 31 * day) + 17_000
        while t <= now {
            defer { t += minute }
            if gap.contains(t) { continue }
            let failed =
                (t >= midnight - 2 * minute && t < midnight + 3 * minute) || outage.contains(t)
                || (t / minute) % 997 == 0
            a.append(SLOTruthTests.run(t, ok: !failed, location: "a"))
        }
        // Runs exactly on the edges of the 24 h and 7 d windows, one a millisecond inside, and one at now.
        for edge in [now - day, now - day + 1, now - 7 * day, now] {
            a.append(SLOTruthTests.run(edge, ok: edge != now - day, location: "a"))
        }
        // A second run in a minute that already has one (appended after later lines).
        a.append(SLOTruthTests.run(now - 2 * day + 17_000 + 20_000, ok: false, location: "a"))
        var b: [RunRecord] = []
        t = now - 2 * day + 41_000
        while t <= now {
            defer { t += minute }
            let failed =
                (outage.lowerBound + 30_000..<outage.lowerBound + 4 * minute).contains(t) || (t / minute) % 301 == 0
            b.append(SLOTruthTests.run(t, ok: !failed, location: "b"))
        }
        for edge in [now - UTCTime.msPerHour, now - 5 * minute] {
            b.append(SLOTruthTests.run(edge, ok: false, location: "b"))
        }
        return (a, b)
    }

    /// Unsorted files: every 50th pair of lines swapped, and the extra runs at the end of their day.
    static func scramble(_ runs: [RunRecord]) -> [RunRecord] {
        let end = runs.indices.first { $0 > 0 && runs[$0].time < runs[$0 - 1].time } ?? runs.count
        let regular = runs[..<end]
        var out = Array(regular)
        for index in stride(from: 0, to: out.count - 1, by: 50) { out.swapAt(index, index + 1) }
        return out + runs[regular.count...]
    }

    static func counts(_ runs: [RunRecord], _ windowMs: Int64, at nowMs: Int64 = now) -> (
        runs: Int, bad: Int, minutes: Int
    ) {
        let inside = runs.filter { $0.time > nowMs - windowMs && $0.time <= nowMs }
        return (inside.count, inside.filter { !$0.ok }.count, Set(inside.map { $0.time / minute }).count)
    }

    static func rate(_ c: (runs: Int, bad: Int, minutes: Int), minimum: Int) -> Double? {
        c.runs >= minimum ? Double(c.bad) / Double(c.runs) / budget : nil
    }

    // JSON access.
    static func get(_ value: Value?, _ key: String) -> Value? {
        guard case .object(let pairs)? = value else { return nil }
        return pairs.first { $0.key == key }?.value
    }
    static func number(_ value: Value?) -> Double? {
        switch value {
        case .integer(let i)?: return Double(i)
        case .float(let d)?: return d
        default: return nil
        }
    }
    static func list(_ value: Value?) -> [Value] {
        if case .list(let items)? = value { return items }
        return []
    }
    static func close(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let x?, let y?): return abs(x - y) <= 1e-9 * max(1, abs(y))
        default: return false
        }
    }

    @Test("every figure of report --json, status and incidents matches the recomputation")
    func everyFigure() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (a, b) = Self.generate()
        let all = (a + b).sorted { $0.time < $1.time }
        // Location a: hour lines for the hours that closed more than 2 hours ago, then raw lines.
        var builder = DataBuilder()
        builder.runs = Self.scramble(a)
        try builder.write(to: folder.path + "/a", hoursBefore: UTCTime.hourStart(Self.now) - 2 * UTCTime.msPerHour)
        try SLOTruthTests.write(Self.scramble(b), to: folder.path + "/b")
        try SLOTruthTests.checkFile(folder, "api", "# @every 1m\n# @slo 99.9% 30d\n# @down-after 3\n# @up-after 2")

        // sonde report --json
        var report = ReportTests.command([folder.path + "/a", folder.path + "/b"], out: folder.path + "/reports")
        report.checks = folder.path + "/checks"
        report.json = true
        let console = CapturingConsole()
        #expect(report.run(console: console, now: SLOTruthTests.nowDate) == ExitCode.ok)
        #expect(console.stderr.isEmpty, "\(console.stderr)")
        let json = try JSON.parse(console.stdout)
        let check = try #require(Self.list(Self.get(json, "checks")).first)
        var compared = 0
        func expectClose(_ actual: Double?, _ expected: Double?, _ what: String) {
            let shown = "\(what): \(String(describing: actual)) ≠ \(String(describing: expected))"
            #expect(Self.close(actual, expected), Comment(rawValue: shown))
            compared += 1
        }

        let spans: [String: Int64] = [
            "24h": UTCTime.msPerDay, "7d": 7 * UTCTime.msPerDay, "30d": 30 * UTCTime.msPerDay,
        ]
        for window in Self.list(Self.get(check, "windows")) {
            guard case .string(let label)? = Self.get(window, "window"), let span = spans[label] else {
                Issue.record("unexpected window \(window)")
                continue
            }
            let c = Self.counts(all, span)
            expectClose(Self.number(Self.get(window, "runs")), Double(c.runs), "\(label) runs")
            expectClose(Self.number(Self.get(window, "good")), Double(c.runs - c.bad), "\(label) good")
            expectClose(Self.number(Self.get(window, "fast")), Double(c.runs - c.bad), "\(label) fast")
            expectClose(
                Self.number(Self.get(window, "uptime")), Double(c.runs - c.bad) / Double(c.runs), "\(label) uptime")
            expectClose(
                Self.number(Self.get(window, "coverage")), min(1, Double(c.minutes) * 60_000 / Double(span)),
                "\(label) coverage")
        }
        var rates: [BurnWindow: Double] = [:]
        for entry in Self.list(Self.get(check, "burn")) {
            guard case .string(let label)? = Self.get(entry, "window"), let window = BurnWindow(rawValue: label) else {
                continue
            }
            let c = Self.counts(all, window.milliseconds)
            let expected = Self.rate(c, minimum: Int(window.minimumRuns))
            rates[window] = expected
            expectClose(Self.number(Self.get(entry, "runs")), Double(c.runs), "burn \(label) runs")
            expectClose(Self.number(Self.get(entry, "bad")), Double(c.bad), "burn \(label) bad")
            expectClose(Self.number(Self.get(entry, "rate")), expected, "burn \(label) rate")
        }
        #expect(rates.count == 7)
        let month = Self.counts(all, 30 * UTCTime.msPerDay)
        let allowed = 2 * Self.allowedPerLocation  // both locations ran in the window
        let remaining = 1 - Double(month.bad) / allowed
        expectClose(Self.number(Self.get(check, "allowed_failures")), allowed, "allowed failures")
        expectClose(Self.number(Self.get(check, "budget_remaining")), remaining, "budget left")
        let exhaustion = (rates[.h1] ?? 0) > 0 && remaining > 0 ? remaining * 30 * 86_400 / rates[.h1]! : nil
        expectClose(Self.number(Self.get(check, "time_to_exhaustion_s")), exhaustion, "time to exhaustion")
        // The rules, by hand: both windows above the threshold.
        func above(_ long: BurnWindow, _ short: BurnWindow, _ threshold: Double) -> Bool {
            (rates[long] ?? 0) > threshold && (rates[short] ?? 0) > threshold
        }
        let level =
            above(.h1, .m5, 14.4) || above(.h6, .m30, 6)
            ? "page" : above(.d1, .h2, 3) || above(.d3, .h6, 1) ? "ticket" : "ok"
        #expect(Self.get(check, "alert") == .string(level))
        let errors = Self.get(Self.get(check, "errors"), "status")
        expectClose(Self.number(Self.get(errors, "count")), Double(month.bad), "errors")
        #expect(Self.get(check, "last_run") == .string(UTCTime.rfc3339(Self.now)))

        // Per location, and the combined minutes.
        for location in Self.list(Self.get(check, "locations")) {
            guard case .string(let name)? = Self.get(location, "location") else { continue }
            let runs = name == "a" ? a : b
            for window in Self.list(Self.get(location, "windows")) {
                guard case .string(let label)? = Self.get(window, "window"), let span = spans[label] else { continue }
                let c = Self.counts(runs, span)
                expectClose(Self.number(Self.get(window, "runs")), Double(c.runs), "\(name) \(label) runs")
                expectClose(Self.number(Self.get(window, "good")), Double(c.runs - c.bad), "\(name) \(label) good")
                expectClose(
                    Self.number(Self.get(window, "coverage")), min(1, Double(c.minutes) * 60_000 / Double(span)),
                    "\(name) \(label) coverage")
            }
        }
        for combined in Self.list(Self.get(check, "combined")) {
            guard case .string(let label)? = Self.get(combined, "window"), let span = spans[label] else { continue }
            var byMinute: [Int64: [String: Bool]] = [:]  // minute → location → had a failed run
            for run in all where run.time > Self.now - span && run.time <= Self.now {
                byMinute[run.time / Self.minute, default: [:]][run.location, default: false] =
                    (byMinute[run.time / Self.minute]?[run.location] ?? false) || !run.ok
            }
            let down = byMinute.values.filter { $0.values.allSatisfy { $0 } }.count
            expectClose(Self.number(Self.get(combined, "minutes_covered")), Double(byMinute.count), "\(label) covered")
            expectClose(Self.number(Self.get(combined, "minutes_down")), Double(down), "\(label) down")
        }

        // sonde status, one folder at a time.
        for (name, runs) in [("a", a), ("b", b)] {
            var stats = ReadStats()
            let status = CheckStatus.compute(
                check: "api", reader: RunReader(folder: DataFolder(folder.path + "/" + name)),
                now: SLOTruthTests.nowDate, stats: &stats)
            let c = Self.counts(runs, UTCTime.msPerDay)
            expectClose(Double(status.runs), Double(c.runs), "status \(name) runs")
            expectClose(Double(status.good), Double(c.runs - c.bad), "status \(name) good")
            #expect(status.lastRun?.time == runs.map(\.time).max())
            #expect(status.state == (runs.max { $0.time < $1.time }?.ok == true ? .up : .down))
        }

        // sonde incidents: the state machine by hand, per location.
        let found = IncidentFinder.find(
            readers: [
                RunReader(folder: DataFolder(folder.path + "/a")), RunReader(folder: DataFolder(folder.path + "/b")),
            ],
            settings: ReportCommand.settings(folder.path + "/checks"), nowMs: Self.now)
        var expected: [(location: String, start: Int64, detected: Int64, resolved: Int64?, runs: Int, failed: Int)] = []
        for (name, unsorted) in [("a", a), ("b", b)] {
            let runs = unsorted.sorted { $0.time < $1.time }
            var streak: [RunRecord] = []
            var open: (start: Int64, detected: Int64, index: Int)?
            var goods = 0
            for (index, run) in runs.enumerated() {
                if let current = open {
                    goods = run.ok ? goods + 1 : 0
                    if goods == 2 {
                        let resolvedIndex = index - 1
                        let inside = runs[current.index..<resolvedIndex]
                        expected.append(
                            (
                                name, current.start, current.detected, runs[resolvedIndex].time, inside.count,
                                inside.filter { !$0.ok }.count
                            ))
                        open = nil
                        goods = 0
                    }
                } else if run.ok {
                    streak = []
                } else {
                    streak.append(run)
                    if streak.count == 3, let first = streak.first,
                        let start = runs.firstIndex(where: { $0.time == first.time && $0.location == name })
                    {
                        open = (first.time, run.time, start)
                        streak = []
                    }
                }
            }
            if let current = open {
                let inside = runs[current.index...]
                expected.append(
                    (name, current.start, current.detected, nil, inside.count, inside.filter { !$0.ok }.count))
            }
        }
        expected.sort { ($0.start, $0.location) < ($1.start, $1.location) }
        #expect(found.incidents.count == expected.count, "\(found.incidents.map(\.id)) vs \(expected.map(\.start))")
        for (incident, want) in zip(found.incidents, expected) {
            #expect(incident.location == want.location && incident.startedMs == want.start)
            #expect(incident.detectedMs == want.detected && incident.resolvedMs == want.resolved)
            #expect(incident.runs == want.runs && incident.failedRuns == want.failed, "\(incident.id)")
            expectClose(incident.budgetShare, Double(want.failed) / Self.allowedPerLocation, "\(incident.id) share")
            let runs = (want.location == "a" ? a : b).sorted { $0.time < $1.time }
            var peak: Double?
            for run in runs where run.time >= want.start && run.time < (want.resolved ?? .max) {
                if let rate = Self.rate(Self.counts(runs, UTCTime.msPerHour, at: run.time), minimum: 10) {
                    peak = max(peak ?? 0, rate)
                }
            }
            expectClose(incident.peakBurnRate, peak, "\(incident.id) peak")
        }
        #expect(
            expected.contains {
                $0.start == UTCTime.dayStart(Self.now) - 2 * UTCTime.msPerDay - 2 * Self.minute + 17_000
            })
        #expect(compared > 60, "\(compared) figures compared")
    }
}
