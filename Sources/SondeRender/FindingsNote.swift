import SondeIncidents
import SondeSLO
import SondeSupport

/// How each finding is computed, as the incident index and the report's "How this report counts"
/// say it (README.md has the same text).
enum FindingsNote {
    /// The note, a Markdown list.
    static var markdown: String {
        var md = "- **Runs with an answer.** Latency findings use the runs that passed or failed on an assert or a "
        md += "timeout; a run that failed on its status, a connection or the like took the error path, whose "
        md += "time says nothing of the service's. An incident's window is its runs and the last 120 runs of the "
        md += "30 minutes before it; a check page's, the last 24 hours.\n"
        md += "- **Bimodal latency.** The durations, sorted in log space, are split at the widest gap between "
        md += "neighbours that leaves at least \(PercentText.truncated(LatencyModes.minimumShare, decimals: 0)) "
        md += "of the runs (and 3) on each side; each side's median is its mode. Bimodal when the slow mode is at "
        md += "least \(Int(LatencyModes.minimumRatio))× the fast one and the fastest slow run at least "
        md += "\(Int(LatencyModes.minimumGap))× the slowest fast one, a gap at least half as wide as the larger mode's "
        md += "spread from its 10th to its 90th percentile; under \(LatencyModes.minimumRuns) runs: "
        md += "too few runs to say. With several requests, the slow mode's request is the one that was slowest "
        md += "in most slow runs.\n"
        md += "- **Leading signals**, before the first failure of the incident's main error kind: how many runs "
        md += "were in the slow mode and since when; whether slow runs rose in the last "
        md += "\(FindingRules.recentRuns) runs against those before (at least \(FindingRules.earlierRuns)); a "
        md += "latency step — the median of the last \(FindingRules.recentRuns) runs before the first failure at "
        md += "least \(Int(FindingRules.stepFactor))× and \(Int(FindingRules.stepFloorMs)) ms above the median of "
        md += "the runs before them; and other error kinds that came first, with their first time.\n"
        md += "- **One outage, one write-up.** Incidents are taken by start; one joins the outage before it when it "
        md += "started at most N × the longest `@every` of its checks after the outage's first start (N = "
        md += "`--group-within`, default \(IncidentGrouping.defaultIntervals); 0 writes each incident up alone) and "
        md += "overlaps one of its incidents in time. The write-up says which check failed first.\n"
        md += "- **Error patterns.** Each failed run's message with numbers masked as `#` and ids (words of 8 or "
        md += "more characters with 3 or more digits) as `<id>`; the \(FindingRules.patternsShown) most frequent "
        md += "patterns are counted, at most \(ErrorPatterns.limit) distinct ones an incident.\n"
        md += "- **Cold starts.** A run whose time to first byte is above "
        md += "\(Int(KeepWarmFigures.coldFloorMs)) ms and \(Int(KeepWarmFigures.coldFactor))× the median (the "
        md += "keep-warm rule) after a gap without runs of at least \(Int(FindingRules.idleFactor))× the usual "
        md += "spacing.\n"
        return md
    }
}
