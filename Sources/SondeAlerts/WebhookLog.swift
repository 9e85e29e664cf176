import SondeProbe
import SondeSupport
import Synchronization

/// Writes webhook events to the daemon's log without flooding it: when a target is down and its
/// queue overflows, the first drop is logged and later ones are counted, one summary line a minute
/// per target ("dropped 412 more events in the last minute"). Every other event is logged as is.
package final class WebhookLog: Sendable {
    private struct Drops {
        var lastLineMs: Int64
        var suppressed: Int
    }

    /// At most one "dropped N more events" line per target in this many milliseconds.
    static let dropSummaryMs: Int64 = 60_000
    private let log: EventLog
    private let drops = Mutex<[String: Drops]>([:])

    package init(log: EventLog) {
        self.log = log
    }

    /// Logs `event` (drops: at most one line a minute per target) at time `nowMs`.
    package func write(_ event: WebhookSender.Event, nowMs: Int64) {
        guard case .dropped(let target, _) = event else {
            event.write(to: log)
            return
        }
        let more: Int? = drops.withLock { all in
            guard var entry = all[target] else {
                all[target] = Drops(lastLineMs: nowMs, suppressed: 0)
                return 0
            }
            entry.suppressed += 1
            defer { all[target] = entry }
            guard nowMs - entry.lastLineMs >= Self.dropSummaryMs else { return nil }
            let count = entry.suppressed
            entry = Drops(lastLineMs: nowMs, suppressed: 0)
            return count
        }
        guard let more else { return }
        if more == 0 {
            event.write(to: log)
        } else {
            log.log(
                .warn, "webhook",
                "\(target): dropped \(more) events in the last minute: too many waiting "
                    + "(the target is slow or down); the oldest go first",
                [("target", target), ("result", "dropped"), ("count", String(more))])
        }
    }

    /// Logs the drops counted since the last line, if any (at shutdown).
    package func flush() {
        let pending = drops.withLock { all -> [(String, Int)] in
            defer { for key in all.keys { all[key]?.suppressed = 0 } }
            return all.compactMap { $0.value.suppressed > 0 ? ($0.key, $0.value.suppressed) : nil }.sorted {
                $0.0 < $1.0
            }
        }
        for (target, count) in pending {
            log.log(
                .warn, "webhook",
                "\(target): dropped \(count) more events (too many waiting: the target is slow or down)",
                [("target", target), ("result", "dropped"), ("count", String(count))])
        }
    }
}
