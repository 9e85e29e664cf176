import Foundation
import Synchronization
import Testing

@testable import SondeAlerts
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeRun
@testable import SondeSLO
@testable import SondeScript
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

@Suite("Certificate expiry: cert_days on failed handshakes, cert_expiring / cert_renewed, the report", .serialized)
struct CertificateExpiryTests {
    /// A prober over one check file in `folder/checks`, data in `folder/data`, webhooks to `sink`.
    static func prober(
        _ folder: TemporaryFolder, source: String, sink: HTTPServer, engine: ProbeEngine
    ) throws -> (Prober, WebhookSender) {
        let script = try ScriptParser.parse(source: source, path: folder.path + "/checks/site.hurl")
        var set = CheckSet()
        set.scripts["site"] = script
        let writer = try RecordWriter(folder: DataFolder(folder.path + "/data"), report: { _ in })
        let sender = WebhookSender(
            targets: [try WebhookTarget(parsing: sink.baseURL + "/hook")],
            policy: RetryPolicy(firstDelay: .milliseconds(20), maxAttempts: 3, attemptTimeout: .seconds(30)),
            engine: engine, report: { _ in })
        let prober = Prober(
            configuration: Prober.Configuration(
                checksFolder: folder.path + "/checks", location: "lab", variables: Variables()),
            checks: set, writer: writer, engine: engine,
            log: EventLog(format: .text, console: CapturingConsole()), webhooks: sender)
        return (prober, sender)
    }

    static func stop(_ prober: Prober, _ sender: WebhookSender) async throws {
        _ = await prober.stop(grace: .seconds(2))
        try #require(await pollUntil { sender.pending == 0 }, "webhooks still pending")
        _ = await sender.flush(timeout: .seconds(3))
        await prober.writer.flush()
    }

    static func certEvents(_ folder: TemporaryFolder) -> [IncidentEvent] {
        var skipped = 0
        return IncidentEvent.readAll(folder.path + "/data/incidents.jsonl", skipped: &skipped)
            .filter { $0.kind == .certExpiring || $0.kind == .certRenewed }
    }

    @Test("a certificate that fails verification still gives cert_days, subject and issuer")
    func rejectedCertificateIsRead() async throws {
        let server = try await offPool { try TLSServer(days: 5) }
        defer { server.stop() }
        let result = try await runScript("GET {{base_url}}/\nHTTP 200\n", baseURL: server.baseURL)
        #expect(result.failure?.kind == .tls)
        let days = try #require(result.certificateDaysLeft, "no certificate on the failed handshake")
        #expect(days > 4.9 && days <= 5.01)
        let certificate = try #require(result.soonestCertificate)
        #expect(certificate.subject.contains("localhost"))
        #expect(certificate.issuer.contains("localhost"))
        let record = RunRecord(result, location: "lab", lateMs: 0, redactor: Redactor(secrets: []))
        let decoded = try RunLine.decode(Array(RunLine.encode(record).dropLast()))
        let stored = try #require(decoded.certDays, "no cert_days in the run line")
        #expect(stored > 4.9 && stored <= 5.01)
    }

    @Test("a handshake that never gets a certificate records none")
    func noCertificateWithoutHandshake() async throws {
        let service = try TestService()
        // An HTTPS request to a plain-HTTP server: the TLS handshake fails before any certificate.
        let url = service.baseURL.replacingOccurrences(of: "http://", with: "https://")
        let result = try await runScript("GET {{base_url}}/\nHTTP 200\n", baseURL: url)
        #expect(result.failure?.kind == .tls || result.failure?.kind == .protocol)
        #expect(result.certificateDaysLeft == nil)
    }

    @Test(
        "5 days left under the default 14d: one cert_expiring, webhook, log; cleared as cert_renewed after a restart with 2d; the report lists it"
    )
    func expiringThenRenewed() async throws {
        let server = try await offPool { try TLSServer(days: 5) }
        defer { server.stop() }
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let received = Mutex<[String]>([])
        let sink = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            received.withLock { $0.append(String(decoding: request.body, as: UTF8.self)) }
            return .text("ok")
        }
        defer { sink.stop() }
        let engine = ProbeEngine()
        // No `insecure`: the self-signed certificate fails verification, and is still watched.
        let source = "GET \(server.baseURL)/\nHTTP 200\n"
        let (first, sender) = try Self.prober(folder, source: source, sink: sink, engine: engine)
        for _ in 0..<3 { _ = await first.runOnce() }
        try await Self.stop(first, sender)
        var events = Self.certEvents(folder)
        try #require(events.count == 1, "\(events)")
        let expiring = events[0]
        #expect(expiring.kind == .certExpiring)
        guard case .float(let days)? = expiring["days_left"] else {
            Issue.record("no days_left in \(expiring)")
            return
        }
        #expect(days > 4.9 && days <= 5)
        #expect(expiring["subject"] == .string("CN = localhost"))
        #expect(expiring["issuer"] == .string("CN = localhost"))
        #expect(expiring["threshold_days"] == .float(14))
        #expect(first.certificates.expiring == ["site"])
        #expect(await pollUntil { received.withLock { $0 }.contains { $0.contains("\"event\":\"cert_expiring\"") } })
        let hook = try #require(received.withLock { $0 }.first { $0.contains("cert_expiring") })
        #expect(hook.contains("certificate expires in 5.0 days") || hook.contains("certificate expires in 4.9 days"))

        // A restart with the same threshold announces nothing again…
        let (second, sender2) = try Self.prober(folder, source: source, sink: sink, engine: engine)
        _ = await second.runOnce()
        try await Self.stop(second, sender2)
        #expect(Self.certEvents(folder).count == 1)
        // …and with a threshold the certificate no longer falls within, the alert clears.
        let (third, sender3) = try Self.prober(
            folder, source: "# @cert-expiry 2d\n" + source, sink: sink, engine: engine)
        _ = await third.runOnce()
        _ = await third.runOnce()
        try await Self.stop(third, sender3)
        events = Self.certEvents(folder)
        #expect(events.map(\.kind) == [.certExpiring, .certRenewed])
        #expect(await pollUntil { received.withLock { $0 }.contains { $0.contains("\"event\":\"cert_renewed\"") } })

        // The report lists the certificate by days left, with the subject from the events.
        try folder.write("checks/site.hurl", source)
        let console = CapturingConsole()
        var report = ReportCommand()
        report.data = [folder.path + "/data"]
        report.checks = folder.path + "/checks"
        report.json = true
        #expect(report.run(console: console) == ExitCode.ok)
        guard case .object(let top) = try JSON.parse(console.stdout),
            case .list(let rows)? = top.first(where: { $0.key == "certificates" })?.value,
            case .object(let row)? = rows.first
        else {
            Issue.record("no certificates in \(console.stdout)")
            return
        }
        #expect(row.first { $0.key == "check" }?.value == .string("site"))
        #expect(row.first { $0.key == "expiring" }?.value == .bool(true))
        #expect(row.first { $0.key == "subject" }?.value == .string("CN = localhost"))
        report.json = false
        report.out = folder.path + "/reports"
        #expect(report.run(console: console) == ExitCode.ok)
        let index = try String(contentsOfFile: folder.path + "/reports/README.md", encoding: .utf8)
        #expect(index.contains("## Certificates"))
        #expect(index.contains("| site | 4.9 |") || index.contains("| site | 5.0 |"))
    }

    @Test("@cert-expiry off: no event for a certificate 5 days from expiry")
    func off() async throws {
        let server = try await offPool { try TLSServer(days: 5) }
        defer { server.stop() }
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let sink = try HTTPServer(host: "127.0.0.1", port: 0) { _ in .text("ok") }
        defer { sink.stop() }
        let engine = ProbeEngine()
        let (prober, sender) = try Self.prober(
            folder, source: "# @cert-expiry off\nGET \(server.baseURL)/\n[Options]\ninsecure: true\nHTTP 200\n",
            sink: sink, engine: engine)
        let results = await prober.runOnce()
        try await Self.stop(prober, sender)
        #expect(results.first?.ok == true)
        #expect(results.first?.certificateDaysLeft != nil)
        #expect(Self.certEvents(folder).isEmpty)
    }

    @Test("a cert_expiring event becomes a SondeCertExpiring alert; cert_renewed resolves it")
    func alertmanagerAction() {
        var watch = CertificateWatch(settings: MonitorSettings())
        let sighting = CertificateWatch.Sighting(
            timeMs: 1_000, daysLeft: 5, subject: "CN = a", issuer: "CN = b", expiresMs: 1_000 + 5 * UTCTime.msPerDay)
        guard let transition = watch.observe(sighting) else {
            Issue.record("5 days left under 14d did not start the alert")
            return
        }
        let event = watch.event(for: transition, check: "site", location: "lab")
        guard case .fire(let key, let alert)? = IncidentAlerts.action(for: event) else {
            Issue.record("no alert for \(event)")
            return
        }
        #expect(alert.labels["alertname"] == "SondeCertExpiring")
        #expect(alert.labels["check"] == "site")
        #expect(alert.annotations["subject"] == "CN = a")
        #expect(watch.observe(sighting) == nil, "still expiring: nothing new")
        var renewed = sighting
        renewed.daysLeft = 90
        guard let cleared = watch.observe(renewed) else {
            Issue.record("90 days left did not clear the alert")
            return
        }
        #expect(
            IncidentAlerts.action(for: watch.event(for: cleared, check: "site", location: "lab"))
                == .resolve(key: key, atMs: 1_000))
    }
}
