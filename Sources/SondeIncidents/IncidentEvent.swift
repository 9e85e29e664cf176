import SondeProbe
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// One line of `data/incidents.jsonl`: what the live prober noticed and when (docs/data-format.md,
/// "Incident events"). Append-only; `sonde run` reads it at start to resume an open incident.
package struct IncidentEvent: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable {
        case opened
        case resolved
        case alertSent = "alert_sent"
        case burnAlertStarted = "burn_alert_started"
        case burnAlertEnded = "burn_alert_ended"
        case flappingStarted = "flapping_started"
        case flappingEnded = "flapping_ended"
        case certExpiring = "cert_expiring"
        case certRenewed = "cert_renewed"
        /// An `@alert` threshold rule started to hold.
        case alertStarted = "alert_started"
        /// It no longer holds.
        case alertEnded = "alert_ended"
        /// A maintenance window began while an incident was open.
        case maintenanceStarted = "maintenance_started"
    }

    package var timeMs: Int64
    package var kind: Kind
    package var check: String
    package var location: String
    /// The incident it belongs to (opened, resolved, alert_sent).
    package var incident: String?
    /// Other fields, in order: strings, numbers, booleans (values of `Value`).
    package var fields: [(key: String, value: Value)]

    package init(
        timeMs: Int64, kind: Kind, check: String, location: String, incident: String? = nil,
        fields: [(key: String, value: Value)] = []
    ) {
        self.timeMs = timeMs
        self.kind = kind
        self.check = check
        self.location = location
        self.incident = incident
        self.fields = fields
    }

    package static func == (a: IncidentEvent, b: IncidentEvent) -> Bool {
        a.timeMs == b.timeMs && a.kind == b.kind && a.check == b.check && a.location == b.location
            && a.incident == b.incident && a.fields.map(\.key) == b.fields.map(\.key)
            && zip(a.fields, b.fields).allSatisfy { $0.value == $1.value }
    }

    /// A field's value.
    package subscript(key: String) -> Value? { fields.first { $0.key == key }?.value }

    /// The line, ending in `\n`: `v`, `t`, `event`, `check`, `loc`, `incident`, then the fields.
    package func encode() -> [UInt8] {
        var object: [(key: String, value: Value)] = [
            ("v", .integer(1)), ("t", .string(UTCTime.rfc3339(timeMs))), ("event", .string(kind.rawValue)),
            ("check", .string(check)), ("loc", .string(location)),
        ]
        if let incident { object.append(("incident", .string(incident))) }
        object += fields
        return Array((JSON.encode(.object(object)) + "\n").utf8)
    }

    /// Decodes a line; nil for anything that is not a version-1 event.
    static func decode(_ line: String) -> IncidentEvent? {
        guard case .object(let pairs)? = try? JSON.parse(line) else { return nil }
        func string(_ key: String) -> String? {
            if case .string(let s)? = pairs.first(where: { $0.key == key })?.value { return s }
            return nil
        }
        guard case .integer(1)? = pairs.first(where: { $0.key == "v" })?.value,
            let t = string("t"), let time = Array(t.utf8).withUnsafeBufferPointer(UTCTime.parseRFC3339),
            let kind = string("event").flatMap(Kind.init(rawValue:)), let check = string("check")
        else { return nil }
        let known: Set<String> = ["v", "t", "event", "check", "loc", "incident"]
        return IncidentEvent(
            timeMs: time, kind: kind, check: check, location: string("loc") ?? "",
            incident: string("incident"), fields: pairs.filter { !known.contains($0.key) })
    }

    /// Every event in a file, in order, read through `LineReader`; unreadable lines and lines over
    /// its cap are counted in `skipped`.
    package static func readAll(_ path: String, skipped: inout Int) -> [IncidentEvent] {
        var out: [IncidentEvent] = []
        var bad = 0
        let summary = try? LineReader().forEachLine(path) { bytes, _ in
            if let event = decode(String(decoding: bytes, as: UTF8.self)) { out.append(event) } else { bad += 1 }
        }
        skipped += bad + (summary?.oversized ?? 0)
        return out
    }
}
