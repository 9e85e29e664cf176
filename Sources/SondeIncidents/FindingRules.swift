import SondeSLO
import SondeStore
import SondeSupport

/// The findings of an incident, an outage of several checks, or a check's recent runs (README.md,
/// "sonde incidents", Findings): pure functions over run series, each finding a sentence with its
/// numbers and the runs behind it. Nothing is said without runs to show it; where a rule needs more
/// runs than there are, a `tooFewRuns` finding says so.
package enum FindingRules {
    /// Runs compared for the latency step: the last this many before the first failure…
    package static let recentRuns = 5
    /// …against at least this many before them.
    package static let earlierRuns = 5
    /// A step is this many times the earlier median, and at least `stepFloorMs` more.
    package static let stepFactor = 2.0
    package static let stepFloorMs = 5.0
    /// Error patterns listed per incident or check.
    package static let patternsShown = 3
    /// A cold start follows at least this many times the median spacing of the runs without a run.
    package static let idleFactor = 3.0

    /// Whether a run's duration is the service's answer: it passed, or failed on an assert or a
    /// timeout. Runs that failed on their status, a connection or the like took the error path,
    /// whose time says nothing of the service's latency.
    package static func answered(_ sample: Sample) -> Bool {
        sample.ok || sample.kind == "assert" || sample.kind == "timeout"
    }

    // MARK: Incidents

    /// Every finding of one incident: latency modes over the window (the 30 minutes before and the
    /// incident) and before it, the leading signals, the error patterns, cold starts.
    package static func incident(_ incident: Incident) -> [Finding] {
        let window = (incident.before + incident.samples).sorted { $0.timeMs < $1.timeMs }
        var out: [Finding] = []
        let verdict = LatencyModes.classify(window.filter(answered).map(\.ms))
        out += latency(verdict, window.filter(answered), check: incident.check, scope: "over the window")
        var modes: LatencyModes?
        if case .bimodal(let found) = verdict {
            modes = found
            let before = incident.before.filter(answered)
            let earlier = LatencyModes.classify(before.map(\.ms))
            out += latency(earlier, before, check: incident.check, scope: "before the incident")
            out += slowRequest(found, window.filter(answered), check: incident.check)
        }
        out += leading(incident, window: window, modes: modes)
        out += patterns(incident.patterns, check: incident.check)
        out += coldStarts(window, check: incident.check)
        return out
    }

    /// The findings of an outage: which check failed first, then each incident's.
    package static func group(_ group: IncidentGroup) -> [Finding] {
        var out: [Finding] = []
        if group.incidents.count > 1, let first = group.incidents.first {
            let others = group.incidents.dropFirst().map { other in
                "\(other.check) (\(clock(other.startedMs)), +\(DurationText.span(other.startedMs - first.startedMs)))"
            }
            out.append(
                Finding(
                    kind: .failedFirst, check: first.check,
                    text: "\(first.check) failed first, at \(clock(first.startedMs)) UTC; then "
                        + others.joined(separator: ", ") + ".",
                    runs: group.incidents.reduce(0) { $0 + $1.runs }, fromMs: first.startedMs,
                    toMs: group.incidents.map(\.startedMs).max(),
                    figures: ["checks": Double(group.incidents.count)]))
        }
        for incident in group.incidents { out += self.incident(incident) }
        return out
    }

    /// What the live prober can say when an incident resolves: it keeps no run samples (its memory
    /// stays flat), so the error patterns and which error kind came first.
    package static func live(_ incident: Incident) -> [Finding] {
        leading(incident, window: [], modes: nil) + patterns(incident.patterns, check: incident.check)
    }

    // MARK: Checks

    /// The findings of a check's runs (the check page: the last 24 hours): latency modes, the slow
    /// request, error patterns, cold starts.
    package static func check(_ check: String, runs: [RunRecord]) -> [Finding] {
        let samples = runs.map(Sample.init).sorted { $0.timeMs < $1.timeMs }
        let answered = samples.filter(answered)
        let verdict = LatencyModes.classify(answered.map(\.ms))
        var out = latency(verdict, answered, check: check, scope: "over the last 24 hours")
        if case .bimodal(let modes) = verdict { out += slowRequest(modes, answered, check: check) }
        var patterns = ErrorPatterns()
        for run in runs.sorted(by: { $0.time < $1.time }) where !run.ok {
            patterns.add(run.error?.message ?? "", kind: run.error?.kind ?? "internal", timeMs: run.time)
        }
        out += self.patterns(patterns, check: check)
        out += coldStarts(samples, check: check)
        return out
    }

    // MARK: Rules

    /// The bimodal finding (or too few runs) of one series; nothing when it is unimodal.
    static func latency(_ verdict: LatencyModes.Verdict, _ series: [Sample], check: String, scope: String)
        -> [Finding]
    {
        switch verdict {
        case .tooFew(let runs):
            return [
                Finding(
                    kind: .tooFewRuns, check: check,
                    text: "Too few runs to say whether latency is bimodal \(scope): \(runs) run\(runs == 1 ? "" : "s") "
                        + "with an answer, \(LatencyModes.minimumRuns) needed.",
                    runs: runs, fromMs: series.first?.timeMs, toMs: series.last?.timeMs)
            ]
        case .unimodal:
            return []
        case .bimodal(let modes):
            let share = PercentText.truncated(modes.slowShare, decimals: 0)
            let ratio = modes.slowMs / max(modes.fastMs, 0.001)
            var text = "Latency is bimodal \(scope): \(modes.slowRuns) of \(modes.runs) runs (\(share)) took "
            text += "≈\(DurationText.latency(modes.slowMs)) (slow mode, from \(DurationText.latency(modes.slowFromMs)))"
            text += "; the other \(modes.runs - modes.slowRuns) ≈\(DurationText.latency(modes.fastMs))"
            text +=
                " (up to \(DurationText.latency(modes.fastUpToMs))), \(ratio >= 100 ? String(Int(ratio)) : String(format: "%.0f", ratio))× apart"
            if let first = series.first, let last = series.last {
                text += " (\(clock(first.timeMs))–\(clock(last.timeMs)) UTC)"
            }
            return [
                Finding(
                    kind: .bimodal, check: check, text: text + ".", runs: modes.runs, fromMs: series.first?.timeMs,
                    toMs: series.last?.timeMs,
                    figures: [
                        "slow_share": modes.slowShare, "slow_runs": Double(modes.slowRuns),
                        "slow_ms": modes.slowMs, "fast_ms": modes.fastMs,
                    ])
            ]
        }
    }

    /// Which request holds the slow mode's time, when the check makes several.
    static func slowRequest(_ modes: LatencyModes, _ series: [Sample], check: String) -> [Finding] {
        guard series.contains(where: { $0.requests > 1 }) else { return [] }
        let slow = series.filter { modes.isSlow($0.ms) && $0.slowestStep > 0 }
        guard !slow.isEmpty else { return [] }
        let counts = Dictionary(grouping: slow, by: \.slowestStep)
        guard let (step, runs) = counts.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) }) else {
            return []
        }
        let stepMs = LatencyModes.median(runs.map(\.slowestStepMs).sorted())
        return [
            Finding(
                kind: .slowRequest, check: check,
                text: "The slow mode's time is in request \(step) of the check: it was the slowest request in "
                    + "\(runs.count) of the \(slow.count) slow runs (≈\(DurationText.latency(stepMs)) of "
                    + "≈\(DurationText.latency(modes.slowMs))).",
                runs: slow.count, fromMs: slow.first?.timeMs, toMs: slow.last?.timeMs,
                figures: ["request": Double(step), "request_ms": stepMs])
        ]
    }

    /// What came before the first failure of the incident's main error kind: slow runs (with
    /// `modes`), a rising share of them, a latency step before the first failure, other error
    /// kinds first.
    static func leading(_ incident: Incident, window: [Sample], modes: LatencyModes?) -> [Finding] {
        guard let main = incident.mainKind, let mainFirst = incident.kinds[main]?.firstMs else { return [] }
        let check = incident.check
        let status = window.first { $0.timeMs == mainFirst && $0.kind == main }?.status ?? 0
        let failure = "the first \(main) failure" + (status > 0 && main == "status" ? " (HTTP \(status))" : "")
        let pre = window.filter { $0.timeMs < mainFirst }
        var out: [Finding] = []
        if let modes {
            let answered = pre.filter(answered)
            let slow = answered.filter { modes.isSlow($0.ms) }
            if let first = slow.first {
                out.append(
                    Finding(
                        kind: .slowRunsFirst, check: check,
                        text: "The slow runs came first: \(slow.count) of the \(answered.count) runs before \(failure) "
                            + "at \(clock(mainFirst)) UTC took ≈\(DurationText.latency(modes.slowMs)), the first at "
                            + "\(clock(first.timeMs)) (\(DurationText.span(mainFirst - first.timeMs)) before).",
                        runs: answered.count, fromMs: answered.first?.timeMs, toMs: answered.last?.timeMs,
                        figures: ["slow_runs": Double(slow.count), "lead_ms": Double(mainFirst - first.timeMs)]))
            }
            let recent = answered.suffix(recentRuns)
            let earlier = answered.dropLast(recentRuns)
            let recentSlow = recent.filter { modes.isSlow($0.ms) }.count
            let earlierSlow = earlier.filter { modes.isSlow($0.ms) }.count
            if recent.count == recentRuns, earlier.count >= earlierRuns, recentSlow >= 2,
                Double(recentSlow) / Double(recent.count) > Double(earlierSlow) / Double(earlier.count),
                let from = recent.first
            {
                out.append(
                    Finding(
                        kind: .slowShareRising, check: check,
                        text: "Slow runs rose from \(earlierSlow) of \(earlier.count) to \(recentSlow) of the last "
                            + "\(recent.count) in the \(DurationText.span(mainFirst - from.timeMs)) before \(failure).",
                        runs: answered.count, fromMs: answered.first?.timeMs, toMs: recent.last?.timeMs,
                        figures: [
                            "recent_slow": Double(recentSlow), "earlier_slow": Double(earlierSlow),
                        ]))
            }
        }
        // A step of the median in the last runs before the incident's first failure.
        let before = window.filter { $0.timeMs < incident.startedMs && answered($0) }
        if before.count >= recentRuns + earlierRuns {
            let recent = before.suffix(recentRuns).map(\.ms).sorted()
            let earlier = before.dropLast(recentRuns).map(\.ms).sorted()
            let (now, then) = (LatencyModes.median(recent), LatencyModes.median(earlier))
            if now >= stepFactor * then, now - then >= stepFloorMs {
                out.append(
                    Finding(
                        kind: .latencyStep, check: check,
                        text:
                            "The median run time stepped up from \(DurationText.latency(then)) (\(earlier.count) runs) "
                            + "to \(DurationText.latency(now)) (\(String(format: "%.1f", now / max(then, 0.001)))×) in the "
                            + "last \(recentRuns) runs before the first failure at \(clock(incident.startedMs)) UTC.",
                        runs: before.count, fromMs: before.first?.timeMs, toMs: before.last?.timeMs,
                        figures: ["before_ms": then, "after_ms": now]))
            }
        }
        // Other error kinds before the main one: from the runs when there are samples, else from
        // the incident's own counts.
        var earlierKinds: [String: (count: Int, firstMs: Int64)] = [:]
        for sample in pre where !sample.ok {
            let kind = sample.kind ?? "internal"
            guard kind != main else { continue }
            let seen = earlierKinds[kind]
            earlierKinds[kind] = ((seen?.count ?? 0) + 1, seen?.firstMs ?? sample.timeMs)
        }
        if window.isEmpty {
            for (kind, summary) in incident.kinds where kind != main && summary.firstMs < mainFirst {
                earlierKinds[kind] = (summary.count, summary.firstMs)
            }
        }
        for (kind, seen) in earlierKinds.sorted(by: { $0.value.firstMs < $1.value.firstMs }) {
            out.append(
                Finding(
                    kind: .earlierErrorKind, check: check,
                    text: "\(kind) failures came first: \(seen.count) run\(seen.count == 1 ? "" : "s") from "
                        + "\(clock(seen.firstMs)) UTC, \(DurationText.span(mainFirst - seen.firstMs)) before \(failure).",
                    runs: seen.count, fromMs: seen.firstMs, toMs: mainFirst,
                    figures: ["runs": Double(seen.count), "lead_ms": Double(mainFirst - seen.firstMs)]))
        }
        return out
    }

    /// The most frequent masked error messages.
    static func patterns(_ patterns: ErrorPatterns, check: String) -> [Finding] {
        let ranked = patterns.ranked
        var out = ranked.prefix(patternsShown).map { pattern in
            Finding(
                kind: .errorPattern, check: check,
                text:
                    "\(pattern.count) × \(pattern.kind): \(short(pattern.text, 160)) (first at \(clock(pattern.firstMs)) UTC).",
                runs: pattern.count, fromMs: pattern.firstMs, figures: ["runs": Double(pattern.count)])
        }
        let rest = ranked.dropFirst(patternsShown).reduce(0) { $0 + $1.count } + patterns.others
        if rest > 0, let last = out.indices.last {
            out[last].text += " \(rest) more failed run\(rest == 1 ? "" : "s") had other messages."
        }
        return out
    }

    /// Runs whose time to first byte is above the keep-warm rule's floor and factor × the median
    /// (`KeepWarmFigures`) and that followed a gap without runs of at least `idleFactor` × the
    /// median spacing.
    static func coldStarts(_ series: [Sample], check: String) -> [Finding] {
        let ttfbs = series.filter { $0.ttfb > 0 }.map(\.ttfb).sorted()
        guard series.count >= 3, let median = Percentile.nearestRank(0.5, sorted: ttfbs) else { return [] }
        let spacing = zip(series, series.dropFirst()).map { Double($1.timeMs - $0.timeMs) }.sorted()
        guard let usual = Percentile.nearestRank(0.5, sorted: spacing) else { return [] }
        var cold: [(sample: Sample, gapMs: Int64)] = []
        for (previous, run) in zip(series, series.dropFirst())
        where run.ttfb > KeepWarmFigures.coldFloorMs && run.ttfb > KeepWarmFigures.coldFactor * median
            && Double(run.timeMs - previous.timeMs) >= idleFactor * usual
        {
            cold.append((run, run.timeMs - previous.timeMs))
        }
        guard let first = cold.first else { return [] }
        let listed = cold.prefix(3).map {
            "\(clock($0.sample.timeMs)) (\(DurationText.latency($0.sample.ttfb)) after \(DurationText.span($0.gapMs)) without a run)"
        }
        return [
            Finding(
                kind: .coldStart, check: check,
                text:
                    "\(cold.count) run\(cold.count == 1 ? "" : "s") look\(cold.count == 1 ? "s" : "") like a cold start — "
                    + "time to first byte above \(DurationText.latency(KeepWarmFigures.coldFloorMs)) and "
                    + "\(Int(KeepWarmFigures.coldFactor))× the median (\(DurationText.latency(median))) after an idle gap: "
                    + listed.joined(separator: ", ") + (cold.count > 3 ? ", …" : "") + ".",
                runs: series.count, fromMs: first.sample.timeMs, toMs: cold.last?.sample.timeMs,
                figures: ["cold_runs": Double(cold.count), "median_ttfb_ms": median])
        ]
    }

    // MARK: Text

    /// `15:54:42`.
    static func clock(_ ms: Int64) -> String { String(UTCTime.rfc3339(ms).dropFirst(11).prefix(8)) }

    static func short(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
