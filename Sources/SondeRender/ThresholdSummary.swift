import SondeIncidents
import SondeScript
import SondeSupport

/// A check's `@alert` rules and their episodes over a report's window (`sonde report`'s check page
/// and `--json`), replayed from the runs with the live prober's evaluator.
package struct ThresholdSummary: Sendable, Equatable {
    package var rules: [ThresholdRule]
    /// Episodes that overlap the window, by start.
    package var episodes: [ThresholdEpisode]
    /// The window's start, epoch ms.
    package var fromMs: Int64

    /// The rules of one check and their episodes since `fromMs`.
    package init(rules: [ThresholdRule], episodes: [ThresholdEpisode], fromMs: Int64) {
        self.rules = rules
        self.episodes = episodes
        self.fromMs = fromMs
    }

    /// Time an episode spent inside the window.
    func inWindowMs(_ episode: ThresholdEpisode, nowMs: Int64) -> Int64 {
        max(0, min(episode.endedMs ?? nowMs, nowMs) - max(episode.startedMs, fromMs))
    }

    /// `## Threshold alerts`: one row per rule, then the latest episodes.
    func markdown(nowMs: Int64) -> String {
        var md = "\n## Threshold alerts\n\n"
        md += "The check's `@alert` rules over the window (since \(SLOReport.time(fromMs))), replayed from the runs "
        md += "with the live prober's evaluator.\n\n"
        md += Markdown.header(["Rule", "Severity", "Episodes", "Ongoing", "Time in alert"], right: [2, 3, 4])
        for rule in rules {
            let mine = episodes.filter { $0.rule.text == rule.text }
            md += Markdown.row([
                Markdown.escape(rule.text), rule.severity.rawValue, String(mine.count),
                mine.contains { $0.endedMs == nil } ? "**yes**" : "no",
                DurationText.span(mine.reduce(0) { $0 + inWindowMs($1, nowMs: nowMs) }),
            ])
        }
        guard !episodes.isEmpty else { return md + "\nNo rule held over the window.\n" }
        md += "\n"
        md += Markdown.header(
            ["Started (UTC)", "Ended", "Location", "Rule", "Duration", "Value at start", "Worst"], right: [4, 5, 6])
        for episode in episodes.sorted(by: { $0.startedMs > $1.startedMs }).prefix(20) {
            md += Markdown.row([
                SLOReport.time(episode.startedMs), episode.endedMs.map(SLOReport.time) ?? "**ongoing**",
                Markdown.escape(episode.location), Markdown.escape(episode.rule.text),
                DurationText.span(episode.durationMs(nowMs: nowMs)), episode.rule.format(episode.value),
                episode.rule.format(episode.peak),
            ])
        }
        if episodes.count > 20 { md += "\n… and \(episodes.count - 20) older episodes.\n" }
        return md
    }

    /// `threshold_alerts` of `--json`: each rule with its episodes.
    func json(nowMs: Int64) -> Value {
        .list(
            rules.map { rule in
                let mine = episodes.filter { $0.rule.text == rule.text }
                return .object([
                    ("rule", .string(rule.text)), ("metric", .string(rule.metric.rawValue)),
                    ("severity", .string(rule.severity.rawValue)),
                    ("window", .string(ThresholdRule.durationText(rule.windowMs))),
                    ("alert_ms", .integer(mine.reduce(0) { $0 + inWindowMs($1, nowMs: nowMs) })),
                    (
                        "episodes",
                        .list(
                            mine.map { episode in
                                .object([
                                    ("location", .string(episode.location)),
                                    ("started", .string(UTCTime.rfc3339(episode.startedMs))),
                                    ("ended", episode.endedMs.map { .string(UTCTime.rfc3339($0)) } ?? .null),
                                    ("duration_ms", .integer(episode.durationMs(nowMs: nowMs))),
                                    ("value", .float((episode.value * 1000).rounded() / 1000)),
                                    ("peak", .float((episode.peak * 1000).rounded() / 1000)),
                                ])
                            })
                    ),
                ])
            })
    }
}
