import SondeProbe
import SondeSupport

/// One alert in Alertmanager's v2 API (`POST /api/v2/alerts` takes a JSON array of them): its
/// labels identify it (`alertname`, `check`, `location`, `severity`), its annotations describe it,
/// and `startsAt` / `endsAt` bound it. An alert whose `endsAt` has passed is resolved.
package struct AlertmanagerAlert: Sendable, Equatable {
    /// Labels: the alert's identity in Alertmanager (grouping, routing, silences, inhibition).
    var labels: [String: String]
    /// Annotations: `summary`, `error`, `started`, `detected`, `writeup`, … (not part of the identity).
    var annotations: [String: String]
    /// When the condition began, in UTC milliseconds.
    var startsAtMs: Int64
    /// When the alert ends (resolution) or expires unless re-posted; nil leaves it to Alertmanager's
    /// `resolve_timeout`.
    var endsAtMs: Int64?
    /// A link back to what raised the alert, when there is one.
    var generatorURL: String?

    /// An alert with these labels and annotations, starting at `startsAtMs`.
    package init(
        labels: [String: String], annotations: [String: String] = [:], startsAtMs: Int64,
        endsAtMs: Int64? = nil, generatorURL: String? = nil
    ) {
        self.labels = labels
        self.annotations = annotations
        self.startsAtMs = startsAtMs
        self.endsAtMs = endsAtMs
        self.generatorURL = generatorURL
    }

    /// The `alertname` label (empty when missing).
    package var name: String { labels["alertname"] ?? "" }

    /// The labels as one stable string (`alertname=…,check=…`): two alerts with the same
    /// fingerprint are the same alert to Alertmanager.
    var fingerprint: String {
        labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The alert as a JSON object; times in RFC 3339 UTC, keys in a stable order.
    package var json: Value {
        var object: [(key: String, value: Value)] = [
            ("labels", .object(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("annotations", .object(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("startsAt", .string(UTCTime.rfc3339(startsAtMs))),
        ]
        if let endsAtMs { object.append(("endsAt", .string(UTCTime.rfc3339(endsAtMs)))) }
        if let generatorURL { object.append(("generatorURL", .string(generatorURL))) }
        return .object(object)
    }

    /// The body of one `POST /api/v2/alerts`: a JSON array of `alerts`.
    static func body(_ alerts: [AlertmanagerAlert]) -> [UInt8] {
        Array(JSON.encode(.list(alerts.map(\.json))).utf8)
    }
}
