import Foundation
import Testing

@testable import SondeIncidents
@testable import SondeScript
@testable import SondeStore
@testable import SondeSupport

@Suite("sonde incidents: certificate events in the write-ups' timelines")
struct CertificateReplayTests {
    @Test("cert_expiring and cert_renewed written while an incident was open become rows of its timeline")
    func certificateRows() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let start: Int64 = 1_767_225_600_000
        var lines: [UInt8] = []
        for i in 0..<8 {
            let ok = !(2..<5).contains(i)
            var run = RunRecord(
                time: start + Int64(i) * 60_000, check: "shop", location: "eu", ok: ok, durationMs: 10, lateMs: 0)
            if !ok {
                run.error = RunError(kind: "tls", entry: 1, line: 1, message: "entry 1 line 1: certificate has expired")
            }
            lines += RunLine.encode(run)
        }
        try folder.write("data/shop/runs-2026-01-01.jsonl", bytes: lines)
        let expiring = IncidentEvent(
            timeMs: start + 3 * 60_000, kind: .certExpiring, check: "shop", location: "eu",
            fields: [
                ("days_left", .float(-0.5)), ("subject", .string("CN = shop.example.com")),
                ("issuer", .string("CN = Test CA")), ("expires", .string("2025-12-31T12:00:00Z")),
                ("threshold_days", .integer(14)),
            ])
        let renewed = IncidentEvent(
            timeMs: start + 5 * 60_000, kind: .certRenewed, check: "shop", location: "eu",
            fields: [("days_left", .float(89.9)), ("subject", .string("CN = shop.example.com"))])
        let before = IncidentEvent(
            timeMs: start - 60_000, kind: .certExpiring, check: "shop", location: "eu",
            fields: [("days_left", .float(1))])
        try folder.write(
            "data/incidents.jsonl", bytes: before.encode() + expiring.encode() + renewed.encode())
        var settings = MonitorSettings()
        settings.downAfter = 2
        settings.upAfter = 2
        let found = IncidentFinder.find(
            readers: [RunReader(folder: DataFolder(folder.path + "/data"))], settings: ["shop": settings],
            nowMs: start + 10 * 60_000)
        let incident = try #require(found.incidents.first)
        #expect(found.incidents.count == 1 && incident.resolvedMs == start + 5 * 60_000)
        let rows = incident.timeline.filter { $0.event == .certExpiring || $0.event == .certRenewed }
        #expect(
            rows.map(\.timeMs) == [start + 3 * 60_000, start + 5 * 60_000], "the event before the incident is not in it"
        )
        #expect(rows.first?.event == .certExpiring && rows.last?.event == .certRenewed)
        #expect(rows.first?.evidence == CertificateWatch.text(expiring))
        let times = incident.timeline.map(\.timeMs)
        #expect(times == times.sorted(), "rows in time order")
    }
}
