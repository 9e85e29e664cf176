import SondeScript
import SondeStore

/// Replays one check's runs through `ThresholdEvaluator` — one per location, the code the live
/// prober runs — and collects the episodes of its `@alert` rules (`sonde incidents`, `sonde report`).
/// Feed each location's runs in time order; memory stays that of the evaluators' rings.
package struct ThresholdReplay: Sendable {
    package let check: String
    package let rules: [ThresholdRule]
    private var evaluators: [String: ThresholdEvaluator] = [:]
    private var open: [String: [String: ThresholdEpisode]] = [:]  // by location, then rule text
    private var done: [ThresholdEpisode] = []

    /// A replay of `check`'s `rules`.
    package init(check: String, rules: [ThresholdRule]) {
        self.check = check
        self.rules = rules
    }

    /// Feeds one run made at `location`.
    package mutating func add(_ run: ThresholdEvaluator.Run, location: String) {
        guard !rules.isEmpty else { return }
        var evaluator = evaluators[location] ?? ThresholdEvaluator(check: check, location: location, rules: rules)
        for transition in evaluator.observe(run) {
            switch transition {
            case .started(let rule, let timeMs, let value, _):
                open[location, default: [:]][rule.text] = ThresholdEpisode(
                    check: check, location: location, rule: rule, startedMs: timeMs, endedMs: nil, value: value,
                    peak: value)
            case .ended(let rule, let timeMs, _, _, _, let peak):
                if var episode = open[location]?.removeValue(forKey: rule.text) {
                    episode.endedMs = timeMs
                    episode.peak = peak
                    done.append(episode)
                }
            }
        }
        evaluators[location] = evaluator
    }

    /// Feeds one recorded run; a run in a maintenance window is left out, as the live prober does.
    package mutating func add(_ record: RunRecord) {
        guard record.maintenance == nil else { return }
        add(ThresholdEvaluator.Run(record), location: record.location)
    }

    /// The episodes so far, the ongoing ones included (with their worst value yet), by start.
    package var episodes: [ThresholdEpisode] {
        var out = done
        for (location, episodes) in open {
            for (text, var episode) in episodes {
                if let peak = evaluators[location]?.firing[text]?.peak { episode.peak = peak }
                out.append(episode)
            }
        }
        out.sort { ($0.startedMs, $0.location, $0.rule.text) < ($1.startedMs, $1.location, $1.rule.text) }
        return out
    }
}
