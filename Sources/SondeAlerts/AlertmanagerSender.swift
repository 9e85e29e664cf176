import SondeProbe
import SondeSupport
import Synchronization

/// Sends sonde's alerts to Alertmanagers (`POST {URL}/api/v2/alerts`) the way Prometheus does:
/// an alert is posted when it starts, re-posted every `repeatInterval` while it is active, and
/// posted once more with `endsAt` set to the resolution time when it ends.
///
/// - Each post — and each re-post — carries `endsAt` = now + `expiryIntervals` × `repeatInterval`:
///   if this prober dies, its alerts expire in Alertmanager a few minutes later instead of firing
///   for ever.
/// - Delivery is a `WebhookSender`'s: a queue and a worker per Alertmanager, the same retries
///   (5xx, timeouts, refused connections back off and retry; 400 and other 4xx give up at once,
///   the reason quoting Alertmanager's answer), the same masking. `fire` and `resolve` never wait,
///   so a dead Alertmanager never delays a probe.
/// - The re-post timer sleeps on `time`, so a test drives it with `ManualTimeSource`.
/// - `report` gets what the webhook sender reports, except a delivered re-post (routine) and a
///   give-up with the same reason as the previous give-up at that Alertmanager (logged once, until
///   a post gets through again).
package final class AlertmanagerSender: Sendable {
    /// The default re-post interval, Prometheus's.
    package static let defaultRepeatInterval: Duration = .seconds(60)
    /// Posted alerts expire this many re-post intervals after the last post.
    static let expiryIntervals: Int64 = 4
    /// The id prefix of re-posts in reports.
    static let repostPrefix = "re-post of "

    /// The Alertmanagers, in the order given, duplicates removed.
    let targets: [AlertmanagerTarget]
    /// How often active alerts are posted again.
    let repeatInterval: Duration

    private let sender: WebhookSender
    private let state: State
    private let time: any TimeSource
    private let repeater: Task<Void, Never>

    /// The active alerts, by the caller's key, and the last give-up reason per target.
    private final class State: Sendable {
        let active = Mutex<[String: AlertmanagerAlert]>([:])
        let lastGiveUp = Mutex<[String: String]>([:])

        /// Filters `event` for the report (see the class's documentation).
        func shouldReport(_ event: WebhookSender.Event) -> Bool {
            switch event {
            case .delivered(let target, let id, _):
                lastGiveUp.withLock { $0[target] = nil }
                return !id.hasPrefix(AlertmanagerSender.repostPrefix)
            case .gaveUp(let target, _, _, let reason):
                return lastGiveUp.withLock { all in
                    defer { all[target] = reason }
                    return all[target] != reason
                }
            case .retrying, .dropped:
                return true
            }
        }
    }

    /// Starts one delivery worker per Alertmanager and the re-post timer.
    /// - Parameters:
    ///   - engine: where requests run; by default an engine of its own, apart from the probes'.
    ///   - time: the clock of `startsAt`/`endsAt`, the re-post timer, backoff waits and `flush`.
    ///   - report: called for deliveries, retries, give-ups and drops (filtered as described above).
    package init(
        targets: [AlertmanagerTarget], policy: RetryPolicy = .init(), queueLimit: Int = 1000,
        repeatInterval: Duration = AlertmanagerSender.defaultRepeatInterval,
        engine: ProbeEngine = ProbeEngine(), time: any TimeSource = SystemTimeSource(),
        report: @escaping @Sendable (WebhookSender.Event) -> Void
    ) {
        var seen = Set<AlertmanagerTarget>()
        self.targets = targets.filter { seen.insert($0).inserted }
        let interval = repeatInterval > .zero ? repeatInterval : Self.defaultRepeatInterval
        self.repeatInterval = interval
        self.time = time
        let state = State()
        self.state = state
        let sender = WebhookSender(
            targets: self.targets.map(\.endpoint), policy: policy, queueLimit: queueLimit,
            engine: engine, time: time
        ) { event in
            if state.shouldReport(event) { report(event) }
        }
        self.sender = sender
        repeater = Task.detached {
            while !Task.isCancelled {
                do {
                    try await time.sleep(for: interval)
                } catch {
                    return
                }
                Self.repost(state: state, sender: sender, nowMs: time.wallMs, interval: interval)
            }
        }
    }

    deinit { repeater.cancel() }

    /// Starts (or updates) the alert known by `key` and posts it now. An active alert of the same
    /// key but other labels (a burn alert going from `ticket` to `page`) is ended first.
    /// - Parameter id: names the post in reports (e.g. `api|inc-7|opened`).
    package func fire(_ alert: AlertmanagerAlert, key: String, id: String) {
        let nowMs = time.wallMs
        let replaced = state.active.withLock { all -> AlertmanagerAlert? in
            defer { all[key] = alert }
            guard let old = all[key], old.fingerprint != alert.fingerprint else { return nil }
            return old
        }
        var posts: [AlertmanagerAlert] = []
        if var replaced {
            replaced.endsAtMs = nowMs
            posts.append(replaced)
        }
        var live = alert
        live.endsAtMs = Self.expiry(nowMs: nowMs, interval: repeatInterval)
        posts.append(live)
        sender.send(AlertmanagerAlert.body(posts), id: id)
    }

    /// Ends the alert known by `key` at `atMs` (posted once more with `endsAt` = `atMs`); nothing
    /// when no alert of that key is active.
    package func resolve(key: String, atMs: Int64, id: String) {
        guard var alert = state.active.withLock({ $0.removeValue(forKey: key) }) else { return }
        alert.endsAtMs = max(atMs, alert.startsAtMs)
        sender.send(AlertmanagerAlert.body([alert]), id: id)
    }

    /// The active alerts, by key.
    var active: [String: AlertmanagerAlert] { state.active.withLock { $0 } }

    /// Posts every active alert now, as the timer does every `repeatInterval`.
    func repostNow() {
        Self.repost(state: state, sender: sender, nowMs: time.wallMs, interval: repeatInterval)
    }

    /// Waits until every queued post is delivered or given up, or `timeout` passes; returns how
    /// many are still pending. For shutdown.
    package func flush(timeout: Duration) async -> Int {
        await sender.flush(timeout: timeout)
    }

    /// Posts waiting or in delivery.
    var pending: Int { sender.pending }

    /// Posts dropped because a queue was full.
    package var dropped: Int { sender.dropped }

    private static func expiry(nowMs: Int64, interval: Duration) -> Int64 {
        nowMs + expiryIntervals * Int64(interval.milliseconds.rounded())
    }

    private static func repost(state: State, sender: WebhookSender, nowMs: Int64, interval: Duration) {
        let alerts = state.active.withLock { all in all.sorted { $0.key < $1.key }.map(\.value) }
        guard !alerts.isEmpty else { return }
        let endsAt = expiry(nowMs: nowMs, interval: interval)
        let live = alerts.map { alert -> AlertmanagerAlert in
            var copy = alert
            copy.endsAtMs = endsAt
            return copy
        }
        sender.send(
            AlertmanagerAlert.body(live), id: repostPrefix + "\(live.count) active alert\(live.count == 1 ? "" : "s")")
    }
}
