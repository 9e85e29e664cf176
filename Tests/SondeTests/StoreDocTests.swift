import Foundation
import Testing

@testable import SondeAlerts
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeDemoShop
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeRun
@testable import SondeSLO
@testable import SondeScript
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

/// `docs/data-format.md` is a public interface: its examples must be what the encoders write.
@Suite("Store: the data format document")
struct StoreDocTests {
    static let start = utc(2026, 11, 23, 7, 10, 0, 123)

    static let goodRun = RunRecord(
        time: start, check: "shop-api", location: "eu-west", ok: true, durationMs: 182.406, lateMs: 0.318,
        steps: [
            RunStep(
                status: 200,
                timings: PhaseTimings(
                    dns: 1.204, connect: 11.87, tls: 24.502, ttfb: 88.13, transfer: 0.9, total: 126.606,
                    bytes: 5312)),
            RunStep(status: 200, timings: PhaseTimings(ttfb: 54.75, transfer: 1.05, total: 55.8, bytes: 1290)),
        ],
        certDays: 61.25)

    static let failedRun = RunRecord(
        time: start + 30_000, check: "shop-api", location: "eu-west", ok: false, durationMs: 143.5, lateMs: 1.2,
        error: RunError(
            kind: "assert", entry: 2, line: 9,
            message: #"entry 2 line 9: jsonpath "$.count" == 5 (actual: integer <3>, expected: integer <5>)"#),
        steps: [
            RunStep(
                status: 200,
                timings: PhaseTimings(
                    dns: 1.1, connect: 12.02, tls: 25.3, ttfb: 90.4, transfer: 0.7, total: 129.52, bytes: 5312)),
            RunStep(status: 200, timings: PhaseTimings(ttfb: 12.5, total: 12.9, bytes: 88)),
        ],
        certDays: 61.25)

    static let plainRun = RunRecord(
        time: start + 60_000, check: "warm", location: "", ok: false, durationMs: 3.75,
        lateMs: 0,
        error: RunError(
            kind: "connect", entry: 1, line: 2,
            message: "entry 1 line 2: connection refused"))

    /// 30 runs every other minute of 07:00: one slow (640 ms), a timeout at :40, a 503 at :42.
    static var hour: HourRollup {
        let h = utc(2026, 11, 23, 7)
        var rollup = HourRollup(hour: h, check: "shop-api", location: "eu-west", fastMs: 500)
        for minute in stride(from: 0, to: 60, by: 2) {
            let ok = minute != 40 && minute != 42
            rollup.add(
                RunRecord(
                    time: h + Int64(minute) * 60_000 + 123, check: "shop-api", location: "eu-west", ok: ok,
                    durationMs: minute == 20 ? 640 : ok ? 150 + Double(minute) : 10_000, lateMs: 0,
                    error: ok
                        ? nil
                        : minute == 40
                            ? RunError(
                                kind: "timeout", entry: 1, line: 3, message: "entry 1 line 3: timeout after 10000 ms")
                            : RunError(
                                kind: "status", entry: 1, line: 3, message: "entry 1 line 3: HTTP 503 (expected 200)"),
                    steps: [
                        RunStep(
                            status: 200,
                            timings: PhaseTimings(dns: 1, connect: 10, tls: 20, ttfb: 100, transfer: 1, total: 132))
                    ]))
        }
        return rollup
    }

    static var documentText: String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/data-format.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    static func line(_ bytes: [UInt8]) -> String { String(decoding: bytes.dropLast(), as: UTF8.self) }

    @Test("the document shows the lines the encoders write for its example runs and hour")
    func examplesAreEncoderOutput() {
        let text = Self.documentText
        #expect(!text.isEmpty)
        for example in [
            RunLine.encode(Self.goodRun), RunLine.encode(Self.failedRun), RunLine.encode(Self.plainRun),
            HourLine.encode(Self.hour),
        ] {
            #expect(text.contains("\n" + Self.line(example) + "\n"), "\(Self.line(example))")
        }
    }

    @Test("every line of the document's json examples reads back and re-encodes byte for byte")
    func examplesRoundTrip() throws {
        var inJSON = false
        var count = 0
        for raw in Self.documentText.split(separator: "\n", omittingEmptySubsequences: false) {
            if raw.hasPrefix("```") {
                inJSON = raw == "```json"
                continue
            }
            guard inJSON, raw.hasPrefix("{") else { continue }
            let bytes = Array(raw.utf8)
            count += 1
            if raw.contains(#""event":"added""#) || raw.contains(#""event":"ended""#) {
                // A maintenance.jsonl example.
                let event = try #require(MaintenanceLog.decode(String(raw)), "\(raw)")
                #expect(event.encode() == bytes + [0x0A], "\(raw)")
            } else if raw.contains(#""event":"#) {
                // An incidents.jsonl example: reads as an event and re-encodes byte for byte.
                let event = try #require(IncidentEvent.decode(String(raw)), "\(raw)")
                #expect(event.encode() == bytes + [0x0A], "\(raw)")
            } else if raw.contains(#""hour":"#) {
                let rollup = try decodeHour(String(raw))
                #expect(HourLine.encode(rollup) == bytes + [0x0A], "\(raw)")
            } else {
                let record = try RunLine.decode(bytes)
                #expect(RunLine.encode(record) == bytes + [0x0A], "\(raw)")
            }
        }
        #expect(count >= 4)
    }

    @Test("print the examples", .enabled(if: ProcessInfo.processInfo.environment["SONDE_PRINT_EXAMPLES"] != nil))
    func printExamples() {
        for bytes in [
            RunLine.encode(Self.goodRun), RunLine.encode(Self.failedRun), RunLine.encode(Self.plainRun),
            HourLine.encode(Self.hour),
        ] {
            print(Self.line(bytes))
        }
    }
}
