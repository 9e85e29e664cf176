import Foundation
import SondeAlerts
import SondeIncidents
import SondeProbe
import SondeRun
import SondeScript
import SondeStore
import SondeSupport
import Synchronization

/// Live certificate expiry in `sonde run`: one `CertificateWatch` per check fed the certificate of
/// every run that received one (a certificate that failed verification included). `cert_expiring`
/// and `cert_renewed` go to `data/incidents.jsonl`, the log, the webhooks and Alertmanager
/// (`SondeCertExpiring`). At start each watch takes the state the events file last recorded for its
/// check, so a restart announces nothing twice.
package final class CertificateMonitor: Sendable {
    private let location: String
    private let writer: RecordWriter
    private let sender: WebhookSender?
    private let alertmanager: AlertmanagerSender?
    private let log: EventLog
    private let watches = Mutex<[String: CertificateWatch]>([:])

    init(
        location: String, writer: RecordWriter, sender: WebhookSender?, log: EventLog,
        alertmanager: AlertmanagerSender?
    ) {
        self.location = location
        self.writer = writer
        self.sender = sender
        self.alertmanager = alertmanager
        self.log = log
    }

    /// Watches for `checks`: new ones resume from the events file; existing ones take changed
    /// directives; removed ones go.
    func apply(_ checks: CheckSet) {
        let existing = watches.withLock { Set($0.keys) }
        let fresh = checks.sorted.filter { !existing.contains($0.name) }
        var resumed: [String: CertificateWatch] = [:]
        var firing: [IncidentEvent] = []
        if !fresh.isEmpty {
            var skipped = 0
            let events = IncidentEvent.readAll(writer.folder.incidentsFile, skipped: &skipped).filter {
                $0.location == location && ($0.kind == .certExpiring || $0.kind == .certRenewed)
            }
            for script in fresh {
                let last = events.last { $0.check == script.name }
                let expiring = last?.kind == .certExpiring
                if expiring, let last { firing.append(last) }
                resumed[script.name] = CertificateWatch(settings: script.settings, expiring: expiring)
            }
        }
        watches.withLock { all in
            for name in all.keys where checks.scripts[name] == nil { all[name] = nil }
            for (name, script) in checks.scripts { all[name]?.update(settings: script.settings) }
            for (name, watch) in resumed { all[name] = watch }
        }
        // An alert still firing before a restart is active in Alertmanager again (not announced twice elsewhere).
        if let alertmanager {
            for event in firing { IncidentAlerts.forward(event, to: alertmanager) }
        }
    }

    /// Feeds the certificate of one live run (nothing when it received none).
    func observe(_ result: RunResult, timeMs: Int64) {
        guard let certificate = result.soonestCertificate, let days = result.certificateDaysLeft else { return }
        let sighting = CertificateWatch.Sighting(
            timeMs: timeMs, daysLeft: days, subject: certificate.subject, issuer: certificate.issuer,
            expiresMs: certificate.expireDate.map(UTCTime.milliseconds))
        let event = watches.withLock { all -> IncidentEvent? in
            guard var watch = all[result.check] else { return nil }
            let transition = watch.observe(sighting)
            all[result.check] = watch
            return transition.map { watch.event(for: $0, check: result.check, location: location) }
        }
        guard let event else { return }
        writer.appendIncidentEvent(event.encode())
        log.log(
            event.kind == .certExpiring ? .warn : .info, "certificate", IncidentNotification.text(event),
            [("check", event.check), ("event", event.kind.rawValue)])
        if let alertmanager { IncidentAlerts.forward(event, to: alertmanager) }
        sender?.send(
            IncidentNotification.payload(event, burn: [:], budgetRemaining: nil),
            id: "\(event.check)||\(event.kind.rawValue)")
    }

    /// Checks whose latest certificate expires within their threshold.
    var expiring: [String] {
        watches.withLock { all in all.filter { $0.value.expiring }.keys.sorted() }
    }
}
