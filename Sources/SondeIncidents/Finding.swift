import SondeSupport

/// One thing the runs show, said as a sentence with its numbers and the runs behind it (README.md,
/// "sonde incidents", Findings). Plain text: the write-ups escape it, the JSON carries it as is.
package struct Finding: Sendable, Equatable {
    /// What kind of finding it is (the `kind` of the JSON).
    package enum Kind: String, Sendable, CaseIterable {
        /// Run durations in two modes (`LatencyModes`).
        case bimodal
        /// Which request of the check the slow mode's time is in.
        case slowRequest = "slow_request"
        /// Slow runs before the first failure of the main error kind.
        case slowRunsFirst = "slow_runs_first"
        /// The share of slow runs rose in the last runs before the failures.
        case slowShareRising = "slow_share_rising"
        /// The median run time stepped up before the first failure.
        case latencyStep = "latency_step"
        /// Another error kind came before the main one.
        case earlierErrorKind = "earlier_error_kind"
        /// A masked error message and its runs (`ErrorPatterns`).
        case errorPattern = "error_pattern"
        /// Runs whose time to first byte jumped after an idle gap.
        case coldStart = "cold_start"
        /// Which check of a grouped outage failed first.
        case failedFirst = "failed_first"
        /// The rule could not be applied: too few runs.
        case tooFewRuns = "too_few_runs"
    }

    package var kind: Kind
    package var check: String
    /// The sentence.
    package var text: String
    /// The runs behind it.
    package var runs: Int
    /// The first and last run it rests on (epoch ms).
    package var fromMs: Int64?
    package var toMs: Int64?
    /// Its figures by name (ms, shares 0…1, counts), for machines.
    package var figures: [String: Double] = [:]

    /// A finding.
    package init(
        kind: Kind, check: String, text: String, runs: Int, fromMs: Int64? = nil, toMs: Int64? = nil,
        figures: [String: Double] = [:]
    ) {
        self.kind = kind
        self.check = check
        self.text = text
        self.runs = runs
        self.fromMs = fromMs
        self.toMs = toMs
        self.figures = figures
    }

    /// The JSON object of `sonde report --json` and of the findings of `sonde incidents`:
    /// `kind`, `check`, `text`, `runs`, `from`, `to`, `figures`.
    package var json: Value {
        .object([
            ("kind", .string(kind.rawValue)), ("check", .string(check)), ("text", .string(text)),
            ("runs", .integer(Int64(runs))),
            ("from", fromMs.map { .string(UTCTime.rfc3339($0)) } ?? .null),
            ("to", toMs.map { .string(UTCTime.rfc3339($0)) } ?? .null),
            (
                "figures",
                .object(
                    figures.sorted { $0.key < $1.key }.map { ($0.key, .float(($0.value * 10_000).rounded() / 10_000)) })
            ),
        ])
    }
}
