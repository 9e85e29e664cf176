import Foundation
import SondeProbe
import SondeRun
import SondeScript
import SondeSupport

/// One run as stored in `data/<check>/runs-YYYY-MM-DD.jsonl` (docs/data-format.md, "Run lines").
package struct RunRecord: Sendable, Equatable {
    /// The run-line format version this sonde writes and reads.
    static let formatVersion: Int64 = 1

    /// Start of the run, epoch milliseconds UTC (`t`).
    package var time: Int64
    package var check: String
    /// Location of the prober (`loc`).
    package var location: String
    package var ok: Bool
    /// Run duration in milliseconds (`ms`).
    package var durationMs: Double
    /// How late the run started against its schedule, in milliseconds (`late_ms`).
    package var lateMs: Double
    /// The failure (`err`), absent for a good run.
    package var error: RunError?
    /// Per-entry timings (`steps`), in order; entries that got no response are absent.
    package var steps: [RunStep]
    /// Days until the earliest leaf-certificate expiry (`cert_days`), HTTPS only.
    package var certDays: Double?
    /// The maintenance window the run started in (`maintenance`): an ad hoc window's id (`m3`) or
    /// a recurring window as written (`Sun 02:00-04:00 UTC`); nil outside maintenance. Such a run
    /// is kept but left out of uptime, budgets, burn rates, incidents and alerts.
    package var maintenance: String?

    package init(
        time: Int64, check: String, location: String, ok: Bool, durationMs: Double, lateMs: Double,
        error: RunError? = nil, steps: [RunStep] = [], certDays: Double? = nil
    ) {
        self.time = time
        self.check = check
        self.location = location
        self.ok = ok
        self.durationMs = durationMs
        self.lateMs = lateMs
        self.error = error
        self.steps = steps
        self.certDays = certDays
    }

    /// The record of a finished run. Messages pass through `redactor`: secrets never reach the files.
    package init(_ result: RunResult, location: String, lateMs: Double, redactor: Redactor) {
        self.init(
            time: UTCTime.milliseconds(result.startedAt), check: result.check, location: location,
            ok: result.ok, durationMs: result.durationMs, lateMs: max(0, lateMs))
        if let failure = result.failure {
            error = RunError(
                kind: failure.kind.rawValue, entry: failure.entry, line: failure.location.line,
                message: redactor.redact(failure.message))
        }
        steps = result.entries.compactMap { entry in
            guard let response = entry.response else { return nil }
            return RunStep(status: response.status, timings: response.timings)
        }
        certDays = result.certificateDaysLeft
    }

    /// Phase durations and bytes summed over the steps.
    package var phaseTotals: PhaseTimings {
        steps.reduce(into: PhaseTimings()) { $0 += $1.timings }
    }
}

/// The `err` object of a failed run.
package struct RunError: Sendable, Equatable {
    /// One of the error kinds of docs/data-format.md (`timeout`, `status`...); kept as text so
    /// lines written by other tools with kinds unknown here still read.
    package var kind: String
    /// 1-based index of the failing entry.
    package var entry: Int
    /// Script line of what failed.
    package var line: Int
    /// One-line message, secrets redacted.
    package var message: String
}

/// One item of a run line's `steps`: the status and phase timings of one entry of a run. On disk the
/// timings' seven fields sit beside `status` in one flat object (`docs/data-format.md`).
package struct RunStep: Sendable, Equatable {
    /// HTTP status of the entry's last response (`status`).
    package var status: Int
    /// The entry's phase timings and body size as the probe measured them (`dns`, `connect`, `tls`,
    /// `ttfb`, `transfer`, `total`, `bytes`).
    package var timings = PhaseTimings()
}
