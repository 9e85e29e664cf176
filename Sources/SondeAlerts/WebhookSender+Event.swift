import SondeProbe
import SondeSupport

extension WebhookSender {
    /// What happened to one event at one target, for the daemon's log. `target` is always the
    /// masked URL and `reason` never quotes the full one.
    package enum Event: Sendable, Equatable, CustomStringConvertible {
        /// The target answered 2xx on attempt `attempts`.
        case delivered(target: String, id: String, attempts: Int)
        /// Attempt `attempt` failed for a reason worth another try; the next comes after `delay`.
        case retrying(target: String, id: String, attempt: Int, reason: String, delay: Duration)
        /// No more tries: the last of `attempts` failed, or the answer (3xx, most 4xx) will not
        /// change by retrying.
        case gaveUp(target: String, id: String, attempts: Int, reason: String)
        /// The target's queue was full: this event, the oldest waiting, made room for a new one.
        case dropped(target: String, id: String)

        /// The masked target URL.
        var target: String {
            switch self {
            case .delivered(let target, _, _), .retrying(let target, _, _, _, _), .gaveUp(let target, _, _, _),
                .dropped(let target, _):
                return target
            }
        }

        /// The event's id as given to `send`.
        package var id: String {
            switch self {
            case .delivered(_, let id, _), .retrying(_, let id, _, _, _), .gaveUp(_, let id, _, _), .dropped(_, let id):
                return id
            }
        }

        /// `info` when delivered, `warn` when retrying or dropping, `error` when given up.
        package var level: EventLog.Level {
            switch self {
            case .delivered: return .info
            case .retrying, .dropped: return .warn
            case .gaveUp: return .error
            }
        }

        /// Fields for the JSON log: `target`, `id`, `result`, and `attempts`, `reason`, `delay_ms`
        /// where they apply.
        package var fields: [(String, String)] {
            switch self {
            case .delivered(let target, let id, let attempts):
                return [("target", target), ("id", id), ("result", "delivered"), ("attempts", String(attempts))]
            case .retrying(let target, let id, let attempt, let reason, let delay):
                return [
                    ("target", target), ("id", id), ("result", "retrying"), ("attempts", String(attempt)),
                    ("reason", reason), ("delay_ms", String(Int(delay.milliseconds.rounded()))),
                ]
            case .gaveUp(let target, let id, let attempts, let reason):
                return [
                    ("target", target), ("id", id), ("result", "gave-up"), ("attempts", String(attempts)),
                    ("reason", reason),
                ]
            case .dropped(let target, let id):
                return [("target", target), ("id", id), ("result", "dropped")]
            }
        }

        /// One line, e.g. `https://hooks.slack.com/…: attempt 2 for inc-7 failed (HTTP 503); retrying in 2s`.
        package var description: String {
            switch self {
            case .delivered(let target, let id, let attempts):
                return "\(target): delivered \(id) on attempt \(attempts)"
            case .retrying(let target, let id, let attempt, let reason, let delay):
                return
                    "\(target): attempt \(attempt) for \(id) failed (\(reason)); retrying in \(DurationText.setting(delay))"
            case .gaveUp(let target, let id, let attempts, let reason):
                return "\(target): gave up on \(id) after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(reason)"
            case .dropped(let target, let id):
                return
                    "\(target): dropped \(id): too many events waiting (the target is slow or down); the oldest goes first"
            }
        }

        /// Writes the event as one `webhook` line.
        package func write(to log: EventLog) {
            log.log(level, "webhook", description, fields)
        }
    }
}
