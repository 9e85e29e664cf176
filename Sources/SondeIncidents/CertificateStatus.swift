import SondeScript
import SondeStore
import SondeSupport

/// One check's certificate as `sonde report` lists it: the latest run that received one, the days
/// left from the report's time, and the subject and issuer the latest `cert_expiring` /
/// `cert_renewed` event named (run lines carry only `cert_days`).
package struct CertificateStatus: Sendable, Equatable {
    /// How far back the report looks for a run with a certificate.
    package static let lookbackMs: Int64 = 2 * UTCTime.msPerDay

    package var check: String
    /// The run that saw it (epoch ms) and its location.
    package var seenMs: Int64
    package var location: String
    /// When it expires (epoch ms), from the run's `cert_days`.
    package var expiresMs: Int64
    /// Days left at the report's time (negative once expired).
    package var daysLeft: Double
    /// `@cert-expiry` in days; nil when off.
    package var thresholdDays: Double?
    /// From the latest certificate event of the check, when there is one.
    package var subject: String?
    package var issuer: String?

    /// True when the certificate expires within the check's threshold.
    package var isExpiring: Bool { thresholdDays.map { daysLeft <= $0 } ?? false }

    /// The rows of every check in `names` with a certificate seen in the last `lookbackMs`, fewest
    /// days left first. `events` are the folders' `incidents.jsonl` events.
    package static func rows(
        _ names: [String], readers: [RunReader], settings: [String: MonitorSettings], events: [IncidentEvent],
        nowMs: Int64
    ) -> [CertificateStatus] {
        var latestEvent: [String: IncidentEvent] = [:]
        for event in events where event.kind == .certExpiring || event.kind == .certRenewed {
            if let known = latestEvent[event.check], known.timeMs > event.timeMs { continue }
            latestEvent[event.check] = event
        }
        var out: [CertificateStatus] = []
        for name in names {
            var latest: RunRecord?
            var stats = ReadStats()
            for reader in readers {
                reader.forEachRun(check: name, from: nowMs - lookbackMs, to: nowMs + 1, stats: &stats) { run in
                    if run.certDays != nil, run.time >= latest?.time ?? .min { latest = run }
                }
            }
            guard let latest, let days = latest.certDays else { continue }
            let expires = latest.time + Int64((days * Double(UTCTime.msPerDay)).rounded())
            func text(_ key: String) -> String? {
                if case .string(let s)? = latestEvent[name]?[key] { return s }
                return nil
            }
            let threshold = (settings[name] ?? MonitorSettings()).certExpiry
            out.append(
                CertificateStatus(
                    check: name, seenMs: latest.time, location: latest.location, expiresMs: expires,
                    daysLeft: Double(expires - nowMs) / Double(UTCTime.msPerDay),
                    thresholdDays: threshold.map { Double($0.components.seconds) / 86_400 },
                    subject: text("subject"), issuer: text("issuer")))
        }
        return out.sorted { ($0.daysLeft, $0.check) < ($1.daysLeft, $1.check) }
    }
}
