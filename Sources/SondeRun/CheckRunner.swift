import Foundation
import SondeProbe
import SondeScript
import SondeSupport

/// Runs check scripts on the probe engine: one session (cold connections, one cookie jar) per run,
/// entries in order, stopping at the first failing entry. A run may begin on the engine thread (the
/// scheduler starts it there, in the timer action of its slot): rendering the first request and
/// handing it to libcurl then costs no thread hop; the result always comes back on the
/// cooperative pool. A run's start time is read from `time`'s wall clock; its deadline, delays and retry waits stay on the real monotonic clock, because they
/// bound real transfers (libcurl's time limits).
///
/// What the check's author wrote about a response (captures, asserts, the body, with their JSONPath,
/// regex and filters) is evaluated on `evaluation`'s threads under the run's deadline, never on the
/// engine's thread or the cooperative pool: an evaluation still going at the deadline makes the run
/// a `timeout` then, and the run does not wait for it. Status, version and header checks alone are
/// cheap and bounded, and are checked in place.
package struct CheckRunner: Sendable {
    /// Limits applied to every run.
    package struct Limits: Sendable {
        /// Response body cap per request.
        var bodyLimit: Int = 8 * 1024 * 1024
        /// Overrides the script's `@timeout` when set.
        var runTimeout: Duration? = nil
    }

    package var engine: ProbeEngine
    /// Body size and run-time limits of every run.
    var limits: Limits
    /// Where a run's start time (`RunResult.startedAt`) comes from.
    package var time: any TimeSource
    /// The threads captures and asserts are evaluated on.
    package var evaluation: EvaluationPool
    /// Options every entry starts from, before its own `[Options]` (`sonde check --location`, …).
    package var defaults: [EntryOption] = []

    package init(
        engine: ProbeEngine = .shared, limits: Limits = Limits(), time: any TimeSource = SystemTimeSource(),
        evaluation: EvaluationPool = .shared
    ) {
        self.engine = engine
        self.limits = limits
        self.time = time
        self.evaluation = evaluation
    }

    /// Runs `script` once with the given variables (from `--var`, `--secret`, the environment).
    package func run(_ script: CheckScript, variables initial: Variables) async -> RunResult {
        let startedAt = time.wallDate
        let clock = ContinuousClock()
        let start = clock.now
        let timeout = limits.runTimeout ?? script.settings.timeout
        let deadline = start + timeout
        let session = engine.makeSession()
        defer { session.close() }

        var variables = initial
        var entries: [EntryResult] = []
        var runFailure: RunFailure?

        entryLoop: for (offset, entry) in script.entries.enumerated() {
            var written = defaults.isEmpty ? entry.request.options : defaults + entry.request.options
            if written.contains(where: { if case .deferred = $0.kind { true } else { false } }) {
                do {
                    written = try RequestRenderer.resolvingTemplates(written, variables: variables)
                } catch {
                    var failed = EntryResult(
                        index: offset + 1, line: entry.location.line, request: nil, response: nil, attempts: 0)
                    let failure = ResponseChecker.failure(from: error, entry: offset + 1, kind: .template)
                    failed.failure = failure
                    entries.append(failed)
                    runFailure = failure
                    break entryLoop
                }
            }
            let options = RequestRenderer.EntryOptions(written)
            // `repeat: N` runs the entry N times (0: not at all), each time with its asserts.
            let repetitions = options.skip ? 1 : options.repeatCount
            for repetition in 0..<repetitions {
                let result = await runEntry(
                    entry, options: options, index: offset + 1,
                    last: offset + 1 == script.entries.count && repetition + 1 == repetitions,
                    variables: &variables, session: session,
                    deadline: deadline, timeout: timeout, clock: clock)
                if var failure = result.failure {
                    failure = Self.namingSource(failure, in: script)
                    var failed = result
                    failed.failure = failure
                    entries.append(failed)
                    runFailure = failure
                    break entryLoop
                }
                entries.append(result)
            }
        }

        let elapsed = clock.now - start
        // A run started on the engine thread that ended before waiting for a transfer (a template
        // error, every entry skipped): its record is kept on the pool, not on the engine thread.
        await engine.leaveEngineThread()
        return RunResult(
            check: script.name, path: script.path, startedAt: startedAt,
            durationMs: elapsed.milliseconds, entries: entries, failure: runFailure)
    }

    /// Runs one entry with its retries; `last` when it is the run's last entry (its last attempt
    /// then ends the session: `ProbeRequest.endsSession`).
    private func runEntry(
        _ entry: Entry, options: RequestRenderer.EntryOptions, index: Int, last: Bool, variables: inout Variables,
        session: ProbeSession, deadline: ContinuousClock.Instant, timeout: Duration, clock: ContinuousClock
    ) async -> EntryResult {
        var result = EntryResult(index: index, line: entry.location.line, request: nil, response: nil, attempts: 0)
        if options.skip {
            result.skipped = true
            return result
        }
        for option in options.variables {
            do {
                variables.set(option.name, try TemplateRenderer.value(of: option.value, variables))
            } catch {
                result.failure = ResponseChecker.failure(from: error, entry: index, kind: .template)
                return result
            }
        }

        var attempt = 0
        while true {
            attempt += 1
            result.attempts = attempt
            if options.delay > .zero, !(await sleep(options.delay, before: deadline, clock: clock)) {
                result.failure = deadlineFailure(entry, index: index)
                return result
            }
            let (outcome, captures) = await attemptEntry(
                entry, index: index, options: options, endsSession: last && attempt > options.retry,
                variables: variables,
                session: session, deadline: deadline, timeout: timeout, clock: clock,
                result: &result)
            if outcome == nil {
                for capture in captures { variables.set(capture.name, capture.value, secret: capture.secret) }
                result.failure = nil
                return result
            }
            result.failure = outcome
            // A template error will fail the same way again: do not retry it.
            guard attempt <= options.retry, outcome?.kind != .template else { return result }
            if !(await sleep(options.retryInterval, before: deadline, clock: clock)) {
                return result
            }
        }
    }

    /// One attempt: render, send, check. Returns the failure (nil on success) and the captures.
    private func attemptEntry(
        _ entry: Entry, index: Int, options: RequestRenderer.EntryOptions, endsSession: Bool,
        variables: Variables, session: ProbeSession, deadline: ContinuousClock.Instant,
        timeout: Duration, clock: ContinuousClock,
        result: inout EntryResult
    ) async -> (RunFailure?, [(name: String, value: Value, secret: Bool)]) {
        var request: ProbeRequest
        do {
            request = try RequestRenderer.render(
                entry.request, options: options, variables: variables,
                bodyLimit: limits.bodyLimit)
        } catch {
            return (ResponseChecker.failure(from: error, entry: index, kind: .template), [])
        }
        let remaining = deadline - clock.now
        if remaining <= .zero {
            return (deadlineFailure(entry, index: index), [])
        }
        var deadlineBound = false
        if let maxTime = request.maxTime, maxTime <= remaining {
            request.maxTime = maxTime
        } else {
            request.maxTime = remaining
            deadlineBound = true
        }
        request.endsSession = endsSession
        result.request = request

        switch await engine.perform(request, in: session) {
        case .failure(let error):
            result.response = nil
            result.rejectedCertificate = nil
            if case .untrusted(_, let certificate) = error { result.rejectedCertificate = certificate }
            var summary = error.description
            if case .timeout = error, deadlineBound {
                summary = "run deadline exceeded: \(error.description)"
            }
            return (
                RunFailure(
                    kind: error.kind, entry: index, location: entry.request.url.location,
                    summary: summary), []
            )
        case .success(let response):
            result.response = response
            guard let spec = entry.response else { return (nil, []) }
            // The in-place check (status, headers) and the wait for the pool happen off the engine thread.
            await engine.leaveEngineThread()
            let outcome = await evaluate(
                spec, response: response, variables: variables, entry: index, deadline: deadline, timeout: timeout)
            result.derivedSecrets += outcome.derivedSecrets
            return (outcome.failure, outcome.captures)
        }
    }

    /// Checks `response` against `spec`: in place when only the status, version and headers are
    /// checked, else on the evaluation pool under `deadline`. Past the deadline the outcome is a
    /// `timeout` that says what was being evaluated.
    private func evaluate(
        _ spec: ResponseSpec, response: ProbeResponse, variables: Variables, entry index: Int,
        deadline: ContinuousClock.Instant, timeout: Duration
    ) async -> ResponseChecker.Outcome {
        if spec.captures.isEmpty && spec.asserts.isEmpty && spec.body == nil {
            return ResponseChecker.check(
                spec, context: ResponseContext(response: response), variables: variables, entry: index)
        }
        let result = await evaluation.run(until: deadline) { stop in
            ResponseChecker.check(
                spec, context: ResponseContext(response: response, stop: stop), variables: variables, entry: index)
        }
        switch result {
        case .success(let outcome):
            return outcome
        case .failure(let failure):
            var outcome = ResponseChecker.Outcome()
            outcome.failure = Self.evaluationFailure(failure, spec: spec, entry: index, timeout: timeout)
            return outcome
        }
    }

    /// The run's failure when its evaluation gave no result: `timed out after 2s while evaluating
    /// the asserts of entry 1`.
    static func evaluationFailure(
        _ failure: EvaluationPool.Failure, spec: ResponseSpec, entry index: Int, timeout: Duration
    ) -> RunFailure {
        let what: String
        switch (spec.captures.isEmpty, spec.asserts.isEmpty && spec.body == nil) {
        case (false, false): what = "the captures and asserts"
        case (false, true): what = "the captures"
        default: what = "the asserts"
        }
        let summary: String
        switch failure {
        case .timedOut:
            summary = "timed out after \(DurationText.setting(timeout)) while evaluating \(what) of entry \(index)"
        case .timedOutWaiting:
            summary = "timed out after \(DurationText.setting(timeout)) \(failure) for \(what) of entry \(index)"
        case .saturated:
            summary = "\(what) of entry \(index) were not evaluated: \(failure)"
        case .cancelled:
            summary = "the run was cancelled while evaluating \(what) of entry \(index)"
        }
        let kind: ErrorKind = failure == .cancelled ? .internal : .timeout
        return RunFailure(kind: kind, entry: index, location: spec.location, summary: summary)
    }

    /// Assert failures say which assert: the source text of its line (`jsonpath "$.count" == 5`).
    static func namingSource(_ failure: RunFailure, in script: CheckScript) -> RunFailure {
        var named = failure
        if failure.summary == ResponseChecker.assertSummary,
            let line = script.sourceLine(failure.location.line)?.trimmingCharacters(in: .whitespaces), !line.isEmpty
        {
            named.summary = line
        }
        named.others = failure.others.map { namingSource($0, in: script) }
        return named
    }

    private func deadlineFailure(_ entry: Entry, index: Int) -> RunFailure {
        RunFailure(
            kind: .timeout, entry: index, location: entry.location,
            summary: "run deadline exceeded before the request was sent")
    }

    /// Sleeps without blocking a thread; false when the deadline comes first.
    private func sleep(
        _ duration: Duration, before deadline: ContinuousClock.Instant,
        clock: ContinuousClock
    ) async -> Bool {
        let wake = clock.now + duration
        if wake > deadline {
            try? await Task.sleep(until: deadline, tolerance: .zero, clock: clock)
            return false
        }
        do {
            try await Task.sleep(until: wake, tolerance: .zero, clock: clock)
            return true
        } catch {
            return false
        }
    }
}
