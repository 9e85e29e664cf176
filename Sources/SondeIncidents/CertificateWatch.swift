import Foundation
import SondeScript
import SondeSupport

/// The certificate-expiry rule of one check (`# @cert-expiry 14d`): fed the certificate of every run
/// that received one, it announces `cert_expiring` when the days left first fall to the threshold or
/// below, and `cert_renewed` once a later run sees a certificate with more days left than that
/// (docs/check-format.md, "Monitor directives"). Runs without a certificate change nothing.
package struct CertificateWatch: Sendable, Equatable {
    /// What one run's certificate showed.
    package struct Sighting: Sendable, Equatable {
        /// When the run started, epoch ms.
        package var timeMs: Int64
        /// Days left until the certificate expires (negative once it has).
        package var daysLeft: Double
        package var subject: String
        package var issuer: String
        /// The certificate's expiry, epoch ms; nil when it could not be read.
        package var expiresMs: Int64?

        package init(timeMs: Int64, daysLeft: Double, subject: String, issuer: String, expiresMs: Int64?) {
            self.timeMs = timeMs
            self.daysLeft = daysLeft
            self.subject = subject
            self.issuer = issuer
            self.expiresMs = expiresMs
        }
    }

    /// A change of the rule's state.
    package enum Transition: Sendable, Equatable {
        case expiring(Sighting)
        case renewed(Sighting)
    }

    /// The threshold; nil when the rule is off (`@cert-expiry off`).
    package private(set) var threshold: Duration?
    /// True while the latest certificate seen expires within the threshold.
    package private(set) var expiring = false

    /// A watch with `@cert-expiry` from `settings`; `expiring` resumes the state the events file
    /// last recorded.
    package init(settings: MonitorSettings, expiring: Bool = false) {
        threshold = settings.certExpiry
        self.expiring = expiring
    }

    /// The threshold in days; nil when off.
    package var thresholdDays: Double? { threshold.map { Double($0.components.seconds) / 86_400 } }

    /// Takes changed directives; an alert in progress ends (announced as renewed by the next
    /// certificate) when the new threshold no longer covers it.
    package mutating func update(settings: MonitorSettings) {
        threshold = settings.certExpiry
    }

    /// Feeds one run's certificate; returns the transition it caused, if any.
    package mutating func observe(_ sighting: Sighting) -> Transition? {
        guard let days = thresholdDays else {
            if expiring {
                expiring = false
                return .renewed(sighting)
            }
            return nil
        }
        if !expiring, sighting.daysLeft <= days {
            expiring = true
            return .expiring(sighting)
        }
        if expiring, sighting.daysLeft > days {
            expiring = false
            return .renewed(sighting)
        }
        return nil
    }

    /// The event line of `transition` for `check` at `location`: days left (to 0.001), subject,
    /// issuer, expiry and the threshold.
    package func event(for transition: Transition, check: String, location: String) -> IncidentEvent {
        let (kind, sighting): (IncidentEvent.Kind, Sighting)
        switch transition {
        case .expiring(let s): (kind, sighting) = (.certExpiring, s)
        case .renewed(let s): (kind, sighting) = (.certRenewed, s)
        }
        var fields: [(key: String, value: Value)] = [
            ("days_left", .float((sighting.daysLeft * 1000).rounded(.down) / 1000)),
            ("subject", .string(sighting.subject)),
            ("issuer", .string(sighting.issuer)),
        ]
        if let expires = sighting.expiresMs { fields.append(("expires", .string(UTCTime.rfc3339(expires)))) }
        fields.append(("threshold_days", thresholdDays.map(Value.float) ?? .null))
        return IncidentEvent(timeMs: sighting.timeMs, kind: kind, check: check, location: location, fields: fields)
    }

    /// One line for people (the log and Slack's `text`).
    package static func text(_ event: IncidentEvent) -> String {
        func string(_ key: String) -> String {
            if case .string(let s)? = event[key] { return s }
            return ""
        }
        var days = ""
        switch event["days_left"] {
        case .float(let d)?: days = String(format: "%.1f", d)
        case .integer(let i)?: days = String(i)
        default: break
        }
        let expires = string("expires").isEmpty ? "" : " (expires \(string("expires")))"
        switch event.kind {
        case .certRenewed:
            return "🔒 \(event.check): certificate renewed, \(days) days left\(expires) — \(string("subject"))"
        default:
            return "⏳ \(event.check): certificate expires in \(days) days\(expires) — "
                + "subject \(string("subject")), issuer \(string("issuer"))"
        }
    }

}
