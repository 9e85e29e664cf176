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

/// Parses an RFC 3339 string through the byte-level parser.
func parseTime(_ text: String) -> Int64? {
    Array(text.utf8).withUnsafeBufferPointer { UTCTime.parseRFC3339($0) }
}

/// Decodes an hour line given as text (without its newline).
func decodeHour(_ text: String) throws(LineError) -> HourRollup {
    let bytes = Array(text.utf8)
    do {
        return try bytes.withUnsafeBufferPointer { buffer in try HourLine.decode(buffer) }
    } catch let error as LineError {
        throw error
    } catch {
        throw .malformed("\(error)")
    }
}

/// The error a run line decodes to, or nil when it decodes.
func runLineError(_ bytes: [UInt8]) -> LineError? {
    do throws(LineError) {
        _ = try RunLine.decode(bytes)
        return nil
    } catch {
        return error
    }
}

func runLineError(_ text: String) -> LineError? { runLineError(Array(text.utf8)) }

/// Epoch ms of a UTC civil time.
func utc(
    _ year: Int64, _ month: Int64, _ day: Int64, _ hour: Int64 = 0, _ minute: Int64 = 0,
    _ second: Int64 = 0, _ ms: Int64 = 0
) -> Int64 {
    UTCTime.days(year: year, month: month, day: day) * UTCTime.msPerDay
        + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms
}

@Suite("Store: time, run lines, histograms, hour lines", .cpuBound)
struct StoreTests {
    // MARK: UTCTime

    @Test("civil dates map to day numbers around leap days and month and year ends")
    func civilDays() {
        // Hand-counted: 2024-01-01 is day 19723 (54 years, 13 leap days since 1970).
        let cases: [(Int64, Int64, Int64, Int64)] = [
            (1970, 1, 1, 0), (1969, 12, 31, -1), (1968, 2, 29, -672), (1968, 3, 1, -671),
            (1900, 2, 28, -25509), (1900, 3, 1, -25508), (2000, 2, 29, 11016), (2000, 3, 1, 11017),
            (2023, 12, 31, 19722), (2024, 1, 1, 19723), (2024, 2, 28, 19781), (2024, 2, 29, 19782),
            (2024, 3, 1, 19783), (2024, 12, 31, 20088), (2025, 1, 1, 20089), (2026, 11, 23, 20780),
        ]
        for (y, m, d, n) in cases {
            #expect(UTCTime.days(year: y, month: m, day: d) == n, "\(y)-\(m)-\(d)")
            let back = UTCTime.civil(days: n)
            #expect(back.year == y && back.month == m && back.day == d, "day \(n)")
        }
        // 2100 is not a leap year: 28 February is followed by 1 March.
        let march = UTCTime.civil(days: UTCTime.days(year: 2100, month: 2, day: 28) + 1)
        #expect(march.year == 2100 && march.month == 3 && march.day == 1)
    }

    @Test("every day from 1600 to 2400 round-trips and follows the previous one")
    func civilRoundTrip() {
        var previous = UTCTime.civil(days: UTCTime.days(year: 1600, month: 1, day: 1) - 1)
        #expect(previous.year == 1599 && previous.month == 12 && previous.day == 31)
        for n in UTCTime.days(year: 1600, month: 1, day: 1)...UTCTime.days(year: 2400, month: 12, day: 31) {
            let c = UTCTime.civil(days: n)
            if UTCTime.days(year: c.year, month: c.month, day: c.day) != n {
                Issue.record("day \(n) is \(c), which maps back to another day")
                return
            }
            let nextDay = c.day == previous.day + 1 && c.month == previous.month && c.year == previous.year
            let nextMonth =
                c.day == 1
                && (c.month == previous.month + 1 && c.year == previous.year
                    || c.month == 1 && previous.month == 12 && c.year == previous.year + 1)
            if !(nextDay || nextMonth) {
                Issue.record("day \(n) is \(c) after \(previous)")
                return
            }
            previous = c
        }
    }

    @Test("hour, day and month starts floor towards the past, also before 1970")
    func starts() {
        #expect(UTCTime.hourStart(-1) == -3_600_000)
        #expect(UTCTime.dayStart(-1) == -86_400_000)
        #expect(UTCTime.dayStart(0) == 0)
        #expect(UTCTime.hourStart(utc(2024, 2, 29, 23, 59, 59, 999)) == utc(2024, 2, 29, 23))
        #expect(UTCTime.monthStart(utc(2024, 2, 29, 12)) == utc(2024, 2, 1))
        #expect(UTCTime.nextMonthStart(utc(2024, 2, 29, 12)) == utc(2024, 3, 1))
        #expect(UTCTime.nextMonthStart(utc(2024, 12, 31, 23, 59)) == utc(2025, 1, 1))
        #expect(UTCTime.monthStart(-1) == utc(1969, 12, 1))
    }

    @Test("times format as RFC 3339 with milliseconds, before and after 1970")
    func formatting() {
        #expect(UTCTime.rfc3339(0) == "1970-01-01T00:00:00.000Z")
        #expect(UTCTime.rfc3339(-1) == "1969-12-31T23:59:59.999Z")
        #expect(UTCTime.rfc3339(1_700_000_000_000) == "2023-11-14T22:13:20.000Z")
        #expect(UTCTime.rfc3339(1_709_251_199_999) == "2024-02-29T23:59:59.999Z")
        #expect(UTCTime.rfc3339(1_709_251_200_000) == "2024-03-01T00:00:00.000Z")
        #expect(UTCTime.rfc3339Seconds(1_795_417_800_123) == "2026-11-23T07:10:00Z")
        #expect(UTCTime.rfc3339(-86_400_000 * 365 - 1) == "1968-12-31T23:59:59.999Z")
    }

    @Test("day and month strings name the UTC day and month, before 1970 too")
    func dayAndMonthStrings() {
        #expect(UTCTime.dayString(-1) == "1969-12-31")
        #expect(UTCTime.monthString(-1) == "1969-12")
        #expect(UTCTime.dayString(1_709_251_199_999) == "2024-02-29")
        #expect(UTCTime.dayString(1_709_251_200_000) == "2024-03-01")
        #expect(UTCTime.monthString(1_709_251_200_000) == "2024-03")
        #expect(UTCTime.dayString(utc(2024, 12, 31, 23, 59, 59, 999)) == "2024-12-31")
        #expect(UTCTime.monthString(utc(2025, 1, 1)) == "2025-01")
        #expect(UTCTime.parseDay("2024-02-29") == utc(2024, 2, 29))
        #expect(UTCTime.parseMonth("1969-12") == utc(1969, 12, 1))
        for bad in ["2024-2-29", "2024-13-01", "2024-00-10", "2024-01-32", "2024-01-1x", "20240101", "2024-01-010"] {
            #expect(UTCTime.parseDay(Substring(bad)) == nil, "\(bad)")
        }
        for bad in ["2024-13", "2024-00", "2024-1", "2024_01"] {
            #expect(UTCTime.parseMonth(Substring(bad)) == nil, "\(bad)")
        }
    }

    @Test("RFC 3339 parses Z, offsets, lowercase t and z, and 1 to 9 fraction digits")
    func parsing() {
        // 2026-11-23 is day 20780: 20780 × 86 400 000 + 7 h 10 min + 123 ms.
        let expected: Int64 = 1_795_417_800_123
        #expect(parseTime("2026-11-23T07:10:00.123Z") == expected)
        #expect(parseTime("2026-11-23T09:10:00.123+02:00") == expected)
        #expect(parseTime("2026-11-23T02:40:00.123-04:30") == expected)
        #expect(parseTime("2026-11-23t07:10:00.123z") == expected)
        #expect(parseTime("2026-11-23 07:10:00.123Z") == expected)
        #expect(parseTime("2026-11-24T00:10:00.123+17:00") == expected)
        #expect(parseTime("2026-11-23T07:10:00Z") == expected - 123)
        let fractions: [(String, Int64)] = [
            ("1", 100), ("12", 120), ("123", 123), ("1234", 123), ("12345", 123), ("999999", 999),
            ("123456789", 123), ("000000001", 0), ("5", 500),
        ]
        for (digits, ms) in fractions {
            #expect(parseTime("2026-11-23T07:10:00.\(digits)Z") == expected - 123 + ms, "\(digits)")
        }
        // A leap second reads as the last second of its minute.
        #expect(parseTime("2016-12-31T23:59:60Z") == utc(2016, 12, 31, 23, 59, 59))
        #expect(parseTime("1969-12-31T23:59:59.500Z") == -500)
        #expect(parseTime("1900-03-01T00:00:00Z") == -25508 * 86_400_000)
    }

    @Test("formatting then parsing gives the same time, from 1900 to 2100")
    func formatParseRoundTrip() {
        var rng = SplitMix64(state: 3339)
        let low = utc(1900, 1, 1)
        let high = utc(2100, 1, 1)
        for _ in 0..<2000 {
            let ms = Int64.random(in: low..<high, using: &rng)
            #expect(parseTime(UTCTime.rfc3339(ms)) == ms)
            #expect(parseTime(UTCTime.rfc3339Seconds(ms)) == UTCTime.floorDiv(ms, 1000) * 1000)
        }
    }

    @Test("malformed RFC 3339 strings give nil")
    func badTimes() {
        let bad = [
            "", "2026-11-23", "2026-11-23T07:10:00", "2026-11-23T07:10:00.123", "2026-11-23T07:10Z",
            "2026-13-23T07:10:00Z", "2026-00-23T07:10:00Z", "2026-11-32T07:10:00Z", "2026-11-00T07:10:00Z",
            "2026-11-23T24:00:00Z", "2026-11-23T07:60:00Z", "2026-11-23T07:10:61Z", "2026-11-23T07:10:00.Z",
            "2026-11-23T07:10:00+0200", "2026-11-23T07:10:00+02", "2026-11-23T07:10:00+24:00",
            "2026-11-23T07:10:00+02:60", "2026-11-23X07:10:00Z", "2026-11-23T07:10:00Zjunk",
            "2026-11-23T07:10:00.123ZZ", " 2026-11-23T07:10:00Z", "2026/11/23T07:10:00Z", "2026-11-23T07:1a:00Z",
            "+2026-11-23T07:10:00Z", "2026-11-23T07:10:00.12a3Z", "2026-11-23T07:10:00 Z",
            "2026-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "1900-02-29T00:00:00Z",
        ]
        for text in bad {
            #expect(parseTime(text) == nil, "\(text)")
        }
        #expect(parseTime("2024-02-29T00:00:00Z") == utc(2024, 2, 29))
        #expect(parseTime("2000-02-29T00:00:00Z") == utc(2000, 2, 29))
        #expect(UTCTime.daysInMonth(year: 2000, month: 2) == 29 && UTCTime.daysInMonth(year: 1900, month: 2) == 28)
        #expect(UTCTime.daysInMonth(year: 2024, month: 2) == 29 && UTCTime.daysInMonth(year: 2023, month: 2) == 28)
        #expect(UTCTime.daysInMonth(year: 2026, month: 4) == 30 && UTCTime.daysInMonth(year: 2026, month: 12) == 31)
        #expect(UTCTime.parseDay("2023-02-29") == nil)
        #expect(UTCTime.parseDay("2026-06-31") == nil)
    }

    // MARK: Run lines

    static let failedRecord = RunRecord(
        time: 1_795_417_800_123, check: "shop-api", location: "eu-west", ok: false, durationMs: 1234.5678,
        lateMs: 2, error: RunError(kind: "status", entry: 2, line: 7, message: "expected 200, got 503"),
        steps: [
            RunStep(
                status: 200,
                timings: PhaseTimings(
                    dns: 1.25, connect: 0.5, tls: 12.3456, ttfb: 100, transfer: 0.001, total: 114.097,
                    bytes: 512)),
            RunStep(status: 503),
        ],
        certDays: 29.5)

    static let failedLine =
        #"{"v":1,"t":"2026-11-23T07:10:00.123Z","check":"shop-api","loc":"eu-west","ok":false,"#
        + #""ms":1234.568,"late_ms":2,"err":{"kind":"status","entry":2,"line":7,"msg":"expected 200, got 503"},"#
        + #""steps":[{"status":200,"dns":1.25,"connect":0.5,"tls":12.346,"ttfb":100,"transfer":0.001,"total":114.097,"#
        + #""bytes":512},{"status":503,"dns":0,"connect":0,"tls":0,"ttfb":0,"transfer":0,"total":0,"bytes":0}],"#
        + #""cert_days":29.5}"#

    @Test("a run line is written with a fixed key order and milliseconds to the microsecond")
    func encodeExact() {
        #expect(String(decoding: RunLine.encode(Self.failedRecord), as: UTF8.self) == Self.failedLine + "\n")
        let good = RunRecord(time: 0, check: "c", location: "", ok: true, durationMs: 0.0004, lateMs: -0.5)
        #expect(
            String(decoding: RunLine.encode(good), as: UTF8.self)
                == #"{"v":1,"t":"1970-01-01T00:00:00.000Z","check":"c","loc":"","ok":true,"ms":0,"late_ms":-0.5,"steps":[]}"#
                + "\n")
    }

    @Test("milliseconds drop trailing zeros and round to the microsecond")
    func millisFormatting() {
        let cases: [(Double, String)] = [
            (0, "0"), (1, "1"), (1.5, "1.5"), (1.25, "1.25"), (1.125, "1.125"), (0.001, "0.001"),
            (0.0004, "0"), (0.0005, "0.001"), (12.3456, "12.346"), (1000.1, "1000.1"), (-1.5, "-1.5"),
            (-0.25, "-0.25"), (60_000, "60000"), (Double.nan, "0"), (Double.infinity, "0"),
        ]
        for (value, text) in cases {
            var w = LineWriter()
            w.millis(value)
            #expect(String(decoding: w.bytes, as: UTF8.self) == text, "\(value)")
        }
    }

    @Test("a decoded run line equals the record, rounded to the microsecond")
    func decodeRoundTrip() throws {
        let decoded = try RunLine.decode(Array(Self.failedLine.utf8))
        var expected = Self.failedRecord
        expected.durationMs = 1234.568
        expected.steps[0].timings.tls = 12.346
        #expect(decoded == expected)
        #expect(RunLine.encode(decoded) == Array((Self.failedLine + "\n").utf8))
    }

    @Test("messages with quotes, backslashes, newlines, control characters and emoji survive a round trip")
    func escapes() throws {
        let message = "say \"hi\"\\ back\nline2\r\t\u{01}\u{1F}\u{7F} café 😀 /"
        var record = Self.failedRecord
        record.error?.message = message
        record.check = "a\"b"
        let line = RunLine.encode(record)
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains(#""msg":"say \"hi\"\\ back\nline2\r\t\u0001\u001f\u007f café 😀 /""#))
        #expect(text.contains(#""check":"a\"b""#))
        #expect(!line.dropLast().contains(0x0A), "one line")
        let decoded = try RunLine.decode(Array(line.dropLast()))
        #expect(decoded.error?.message == message)
        #expect(decoded.check == "a\"b")
    }

    @Test("JSON escapes from other writers decode: \\u, surrogate pairs, \\/ and the short forms")
    func foreignEscapes() throws {
        func message(_ escaped: String) throws -> String? {
            let line =
                #"{"v":1,"t":"2026-11-23T07:10:00Z","check":"c","ok":false,"err":{"kind":"dns","entry":1,"line":1,"msg":""#
                + escaped + #""}}"#
            return try RunLine.decode(Array(line.utf8)).error?.message
        }
        #expect(try message(#"\ud83d\ude00"#) == "😀")
        #expect(try message(#"\uD83D\uDE00!"#) == "😀!")
        #expect(try message(#"caf\u00e9"#) == "café")
        #expect(try message(#"a\/b\b\f\n\r\t\"\\"#) == "a/b\u{08}\u{0C}\n\r\t\"\\")
        #expect(try message(#"\ud83d"#) == "\u{FFFD}", "a lone high surrogate")
        #expect(try message(#"\ude00x"#) == "\u{FFFD}x", "a lone low surrogate")
        #expect(try message(#"\ud83d\u0041"#) == "\u{FFFD}A", "a high surrogate before a non-surrogate")
        for bad in [#"\x"#, #"\u12"#, #"\u12g4"#, #"\"#] {
            #expect(throws: LineError.self, "\(bad)") { _ = try message(bad) }
        }
    }

    @Test("keys in any order with spaces, and unknown keys of any shape, still decode")
    func anyKeyOrder() throws {
        let line = """
             { "cert_days" : null , "steps" : [ { "bytes" : 3 , "status" : 204 , "future" : [1, {"a": null}] } ] ,
             "extra": {"nested": [true, false, null, -1.5e3, "s\\"q"]}, "err" : null, "late_ms": null,
             "ok" : true , "loc" : null , "check" : "api" , "t" : "2026-11-23T09:10:00+02:00" , "ms" : 12.5 , "v" : 1 }\r
            """.replacingOccurrences(of: "\n", with: "")
        let record = try RunLine.decode(Array(line.utf8))
        #expect(
            record
                == RunRecord(
                    time: 1_795_417_800_000, check: "api", location: "", ok: true, durationMs: 12.5,
                    lateMs: 0, steps: [RunStep(status: 204, timings: PhaseTimings(bytes: 3))]))
    }

    @Test("a run line without v, t, check or ok is malformed; v 2 is an unknown version")
    func requiredFields() {
        let t = #""t":"2026-11-23T07:10:00Z""#
        #expect(runLineError(#"{\#(t),"check":"c","ok":true}"#) == .malformed("missing v"))
        #expect(runLineError(#"{"v":1,"check":"c","ok":true}"#) == .malformed("missing t"))
        #expect(runLineError(#"{"v":1,\#(t),"ok":true}"#) == .malformed("missing check"))
        #expect(runLineError(#"{"v":1,\#(t),"check":"","ok":true}"#) == .malformed("missing check"))
        #expect(runLineError(#"{"v":1,\#(t),"check":"c"}"#) == .malformed("missing ok"))
        #expect(runLineError(#"{"v":2,\#(t),"check":"c","ok":true}"#) == .unknownVersion(2))
        #expect(runLineError(#"{"v":2}"#) == .unknownVersion(2))
        #expect(
            runLineError(#"{"v":1,"t":"yesterday","check":"c","ok":true}"#)
                == .malformed("t is not an RFC 3339 time"))
        #expect(runLineError(#"{"v":1,\#(t),"check":"c","ok":true} {}"#) == .malformed("data after the object"))
        #expect(runLineError(#"{"v":1,\#(t),"check":"c","ok":true}"#) == nil)
        #expect(runLineError(#"{"v":1.5,\#(t),"check":"c","ok":true}"#) != nil)
        #expect(runLineError(#"{"v":"1",\#(t),"check":"c","ok":true}"#) != nil)
        #expect(runLineError(#"{"v":1,\#(t),"check":"c","ok":"yes"}"#) != nil)
        #expect(runLineError(#"{"v":1,\#(t),"check":7,"ok":true}"#) != nil)
        #expect(runLineError(#"{"v":1,\#(t),"check":"c","ok":true,"steps":[1]}"#) != nil)
        #expect(runLineError(#"{"v":1,\#(t),"check":"c","ok":true,"err":{"entry":1e300}}"#) != nil)
    }

    @Test("garbage, NUL bytes, deep nesting and every truncation of a line are errors, not crashes")
    func garbage() {
        let cases: [[UInt8]] = [
            [], Array("null".utf8), Array("[]".utf8), Array("{".utf8), Array("}".utf8), Array("not json".utf8),
            Array(#"{"v":1,"t":"2026-11-23T07:10:00Z","check":"c"#.utf8) + [0] + Array(#"","ok":true}"#.utf8),
            [0, 0, 0], Array(#"{"v":1"#.utf8) + [0],
            Array(#"{"x":"#.utf8) + Array(repeating: 0x5B, count: 100_000),
            Array(#"{"x":"#.utf8) + Array(String(repeating: #"{"a":"#, count: 10_000).utf8),
            Array(String(repeating: "[", count: 10_000).utf8),
            Array(#"{"v":99999999999999999999999,"t":1}"#.utf8), Array(#"{"v":-}"#.utf8),
            Array(#"{"v":1e}"#.utf8), Array(#"{"v":1.}"#.utf8), Array(#"{"v":tru}"#.utf8),
            [0xFF, 0xFE, 0x7B, 0x7D], Array(#"{"check":"\#u{0}"}"#.utf8),
        ]
        for bytes in cases {
            #expect(runLineError(bytes) != nil, "\(String(decoding: bytes.prefix(40), as: UTF8.self))")
        }
        let full = Array(Self.failedLine.utf8)
        for length in 0..<full.count {
            #expect(runLineError(Array(full.prefix(length))) != nil, "prefix of \(length) bytes")
        }
    }

    @Test("hundreds of seeded random mutations of a valid line decode to a record or a LineError")
    func mutations() {
        var rng = SplitMix64(state: 0x5EED)
        let seed = Array(Self.failedLine.utf8)
        let alphabet = Array(#"{}[]":,\0123456789.-+eEtrufalsn \#u{0}\#u{7F}"#.utf8) + [0xC3, 0xFF, 0x0A]
        var decoded = 0
        for round in 0..<600 {
            var line = seed
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<max(1, line.count), using: &rng)
                switch Int.random(in: 0..<6, using: &rng) {
                case 0 where !line.isEmpty: line[at] = alphabet.randomElement(using: &rng)!
                case 1 where !line.isEmpty: line.remove(at: at)
                case 2: line.insert(alphabet.randomElement(using: &rng)!, at: min(at, line.count))
                case 3: line = Array(line.prefix(at))
                case 4 where !line.isEmpty:
                    let end = Int.random(in: at..<line.count, using: &rng)
                    let copy = Array(line[at...end])
                    line.insert(contentsOf: copy, at: at)
                default:
                    line.insert(
                        contentsOf: Array(
                            repeating: UInt8.random(in: 0x30...0x39, using: &rng),
                            count: Int.random(in: 1...25, using: &rng)), at: min(at, line.count))
                }
            }
            do throws(LineError) {
                let record = try RunLine.decode(line)
                decoded += 1
                // Whatever decoded must encode again and decode to the same line.
                let again = RunLine.encode(record)
                let back = try RunLine.decode(Array(again.dropLast()))
                #expect(RunLine.encode(back) == again, "round \(round)")
            } catch {
                #expect(!error.description.isEmpty)
            }
        }
        #expect(decoded > 0, "some mutations stay valid")
    }

    @Test("huge durations from foreign lines encode as JSON numbers instead of trapping")
    func hugeNumbers() throws {
        let line =
            #"{"v":1,"t":"2026-11-23T07:10:00Z","check":"c","ok":true,"ms":1e300,"late_ms":-12345678901234567890,"cert_days":9223372036854775807}"#
        let record = try RunLine.decode(Array(line.utf8))
        #expect(record.durationMs == 1e300)
        let again = RunLine.encode(record)
        let back = try RunLine.decode(Array(again.dropLast()))
        #expect(back == record)
        var w = LineWriter()
        w.millis(9.3e15)
        #expect(String(decoding: w.bytes, as: UTF8.self) == "9.3e+15")
        var rollup = HourRollup(hour: 0, check: "c", location: "", fastMs: 1e20)
        rollup.add(record)
        let hour = try decodeHour(String(decoding: HourLine.encode(rollup).dropLast(), as: UTF8.self))
        #expect(hour.sumMs == 1e300)
        #expect(hour.fastMs == 1e20)
    }

    // MARK: Histogram

    @Test("a duration equal to a bound goes in that bound's bucket; the next one up in the next")
    func bucketBoundaries() {
        #expect(LatencyHistogram.bounds.count == 45)
        #expect(LatencyHistogram().counts.count == 46)
        for (index, bound) in LatencyHistogram.bounds.enumerated() {
            #expect(LatencyHistogram.bucket(bound) == index, "\(bound)")
            #expect(LatencyHistogram.bucket(bound.nextUp) == index + 1, "just over \(bound)")
        }
        #expect(LatencyHistogram.bucket(0) == 0)
        #expect(LatencyHistogram.bucket(-5) == 0)
        #expect(LatencyHistogram.bucket(7) == 8)
        #expect(LatencyHistogram.bucket(100) == 19)
        #expect(LatencyHistogram.bucket(100.001) == 20)
        #expect(LatencyHistogram.bucket(60_000.001) == 45, "overflow bucket")
        #expect(LatencyHistogram.bucket(1e12) == 45)
    }

    /// 0.3 → b0; 0.7, 0.9 → b1; 1.2 → b2; 7 ×4 → b8 (6, 8]; 90 → b19 (80, 100]; 70 s → overflow b45.
    static func sample() -> LatencyHistogram {
        var h = LatencyHistogram()
        for ms in [0.3, 0.7, 0.9, 1.2, 7, 7, 7, 7, 90, 70_000] { h.add(ms) }
        return h
    }

    @Test("quantiles interpolate inside the bucket holding the rank, computed by hand")
    func quantiles() {
        let h = Self.sample()
        var counts = [Int64](repeating: 0, count: 46)
        counts[0] = 1
        counts[1] = 2
        counts[2] = 1
        counts[8] = 4
        counts[19] = 1
        counts[45] = 1
        #expect(h.counts == counts)
        #expect(h.total == 10)
        #expect(h.quantile(0) == 0.5)  // rank 1: all of b0 (0, 0.5]
        #expect(h.quantile(0.1) == 0.5)  // rank 1
        #expect(h.quantile(0.2) == 0.75)  // rank 2: half of b1 (0.5, 1]
        #expect(h.quantile(0.5) == 6.5)  // rank 5: first of 4 in (6, 8]: 6 + 2 × 1/4
        #expect(h.quantile(0.75) == 8)  // rank 8: last of 4 in (6, 8]
        #expect(h.quantile(0.9) == 100)  // rank 9: all of b19 (80, 100]
        #expect(h.quantile(0.99) == 60_000)  // rank 10: overflow reports the last bound
        #expect(h.quantile(1) == 60_000)
        #expect(LatencyHistogram().quantile(0.5) == nil)
        #expect(h.count(atMost: 8) == 8)
        #expect(h.count(atMost: 7) == 6)  // 4 below + 4 × (7 − 6) / 2
        #expect(h.count(atMost: 0.25) == 0.5)  // 1 × 0.25 / 0.5
        #expect(h.count(atMost: 1e9) == 10)
    }

    @Test("histograms merge by adding counts, and merged quantiles equal those of all durations")
    func merging() {
        var a = LatencyHistogram()
        var b = LatencyHistogram()
        var all = LatencyHistogram()
        for (index, ms) in [3.0, 45, 45, 120, 800, 999, 2500, 61_000, 0.1].enumerated() {
            if index % 2 == 0 { a.add(ms) } else { b.add(ms) }
            all.add(ms)
        }
        var merged = a
        merged.merge(b)
        #expect(merged == all)
        #expect(merged.total == a.total + b.total)
        for q in [0.1, 0.5, 0.9, 0.99] { #expect(merged.quantile(q) == all.quantile(q)) }
    }

    @Test("stored counts: short arrays pad with zeros, extra buckets go to the overflow, negatives to zero")
    func storedCounts() {
        #expect(LatencyHistogram(counts: [1, 2]).counts == [1, 2] + [Int64](repeating: 0, count: 44))
        let long = LatencyHistogram(counts: [Int64](repeating: 1, count: 50))
        #expect(long.counts[44] == 1)
        #expect(long.counts[45] == 5)  // indices 45 to 49
        #expect(long.total == 50)
        #expect(LatencyHistogram(counts: [-3, 2]).total == 2)
    }

    @Test("counts past 32 bits (sums of months) are kept exactly; equality ignores how counts are stored")
    func wideCounts() {
        let big = Int64(UInt32.max) - 1
        var sum = LatencyHistogram(counts: [big, 0, 7])
        sum.merge(LatencyHistogram(counts: [3, 0, 1]))
        #expect(sum.counts[0] == big + 3)
        #expect(sum.counts[2] == 8)
        #expect(sum.total == big + 11)
        sum.add(0.1)
        #expect(sum.counts[0] == big + 4)
        #expect(LatencyHistogram() == LatencyHistogram(counts: [0, 0, 0]))
        var narrow = LatencyHistogram(counts: [2, 5])
        #expect(narrow != LatencyHistogram())
        narrow.merge(LatencyHistogram(counts: [Int64(UInt32.max)]))
        #expect(narrow == LatencyHistogram(counts: [Int64(UInt32.max) + 2, 5]))
        #expect(narrow.quantile(1) == LatencyHistogram(counts: [0, 5]).quantile(1))
    }
    // MARK: Hour lines

    static let hour: Int64 = 1_795_417_200_000  // 2026-11-23T07:00:00Z

    /// Five runs: good-fast at 0:00, good-slow at 1:01, timeout at 59:59.999, status and an
    /// error-less failure at 30:00.
    static func sampleRollup() -> HourRollup {
        var rollup = HourRollup(hour: hour, check: "shop", location: "eu", fastMs: 500)
        rollup.add(
            RunRecord(
                time: hour, check: "shop", location: "eu", ok: true, durationMs: 120, lateMs: 0,
                steps: [
                    RunStep(
                        status: 200, timings: PhaseTimings(dns: 1, connect: 2, tls: 3, ttfb: 4, transfer: 5, total: 15))
                ]))
        rollup.add(RunRecord(time: hour + 61_000, check: "shop", location: "eu", ok: true, durationMs: 700, lateMs: 0))
        rollup.add(
            RunRecord(
                time: hour + 3_599_999, check: "shop", location: "eu", ok: false, durationMs: 10_000,
                lateMs: 0, error: RunError(kind: "timeout", entry: 1, line: 1, message: "")))
        rollup.add(
            RunRecord(
                time: hour + 1_800_000, check: "shop", location: "eu", ok: false, durationMs: 50,
                lateMs: 0, error: RunError(kind: "status", entry: 1, line: 2, message: "")))
        rollup.add(
            RunRecord(
                time: hour + 1_800_500, check: "shop", location: "eu", ok: false, durationMs: 0.4,
                lateMs: 0))
        return rollup
    }

    static var sampleHourLine: String {
        var hist = [Int](repeating: 0, count: 40)
        for index in [0, 16, 20, 28, 39] { hist[index] = 1 }  // 0.4, 50, 120, 700, 10 000 ms
        return #"{"v":1,"hour":"2026-11-23T07:00:00Z","check":"shop","loc":"eu","runs":5,"good":2,"fast":1,"#
            + #""fast_ms":500,"errors":{"internal":1,"status":1,"timeout":1},"sum_ms":10870.4,"#
            + #""phase_ms":{"dns":1,"connect":2,"tls":3,"ttfb":4,"transfer":5},"#
            + #""hist":[\#(hist.map(String.init).joined(separator: ","))],"#
            + #""mins":"800000040000003","bad_mins":"800000040000000"}"#
    }

    @Test("an hour line keeps the latest message of each error kind, by run time, and reads back")
    func hourLineMessages() throws {
        let hour = Self.hour
        func failed(_ minute: Int64, _ kind: String, _ message: String) -> RunRecord {
            RunRecord(
                time: hour + minute * 60_000, check: "shop", location: "eu", ok: false, durationMs: 5, lateMs: 0,
                error: RunError(kind: kind, entry: 1, line: 2, message: message))
        }
        var rollup = HourRollup(hour: hour, check: "shop", location: "eu", fastMs: nil)
        // Out of order, as foreign files may be: the run at minute 30 is the latest status.
        for record in [
            failed(10, "status", "HTTP 500"), failed(30, "status", "HTTP 503 \"quoted\""),
            failed(20, "status", "HTTP 502"), failed(5, "timeout", "timeout after 2000 ms"),
            failed(40, "connect", ""),
        ] {
            rollup.add(record)
        }
        #expect(
            rollup.messages.mapValues(\.text) == ["status": #"HTTP 503 "quoted""#, "timeout": "timeout after 2000 ms"])
        let line = String(decoding: HourLine.encode(rollup).dropLast(), as: UTF8.self)
        #expect(
            line.contains(
                #""errors":{"connect":1,"status":3,"timeout":1},"msgs":{"status":"HTTP 503 \"quoted\"","timeout":"timeout after 2000 ms"},"sum_ms":"#
            ), "\(line)")
        let decoded = try decodeHour(line)
        #expect(decoded.messages == rollup.messages && decoded == rollup)
        // A line without msgs (older writers) reads with none; merging keeps the message whose time is known.
        let plain = try decodeHour(Self.sampleHourLine)
        #expect(plain.messages.isEmpty)
        var merged = decoded
        merged.merge(HourRollup.build([failed(1, "status", "HTTP 504")], check: "shop", location: "us", fastMs: nil)[0])
        #expect(merged.messages["status"]?.text == "HTTP 504", "a time beats an unknown time")
        var later = rollup
        later.merge(HourRollup.build([failed(1, "status", "HTTP 504")], check: "shop", location: "us", fastMs: nil)[0])
        #expect(later.messages["status"]?.text == #"HTTP 503 "quoted""#, "minute 30 beats minute 1")
    }

    @Test("an hour line counts runs, good, fast and error kinds, with minute masks in 15 hex digits")
    func hourLineExact() throws {
        let rollup = Self.sampleRollup()
        #expect(rollup.runs == 5 && rollup.good == 2 && rollup.fast == 1)
        #expect(rollup.errors == ["timeout": 1, "status": 1, "internal": 1])
        #expect(rollup.minutes == 1 << 0 | 1 << 1 | 1 << 30 | 1 << 59)
        #expect(rollup.badMinutes == 1 << 30 | 1 << 59)
        #expect(String(decoding: HourLine.encode(rollup), as: UTF8.self) == Self.sampleHourLine + "\n")
        let decoded = try decodeHour(Self.sampleHourLine)
        #expect(HourLine.encode(decoded) == HourLine.encode(rollup))
        #expect(decoded.hour == Self.hour && decoded.histogram == rollup.histogram)
        #expect(decoded.minutes == rollup.minutes && decoded.badMinutes == rollup.badMinutes)
    }

    @Test("without a latency objective every good run is fast, and fast_ms is null")
    func noLatencyObjective() throws {
        var rollup = HourRollup(hour: Self.hour, check: "c", location: "", fastMs: nil)
        rollup.add(RunRecord(time: Self.hour, check: "c", location: "", ok: true, durationMs: 90_000, lateMs: 0))
        rollup.add(RunRecord(time: Self.hour, check: "c", location: "", ok: false, durationMs: 1, lateMs: 0))
        #expect(rollup.fast == 1 && rollup.good == 1 && rollup.runs == 2)
        let text = String(decoding: HourLine.encode(rollup), as: UTF8.self)
        #expect(text.contains(#""fast_ms":null"#))
        #expect(text.contains(#""hist":[0,1,"#))
        #expect(text.contains(#",0,1],"mins":"000000000000001","bad_mins":"000000000000001"}"#), "\(text)")
        #expect(try decodeHour(String(text.dropLast())).fastMs == nil)
    }

    @Test("a run exactly at the latency threshold is not fast")
    func fastIsStrictlyUnder() {
        var rollup = HourRollup(hour: 0, check: "c", location: "", fastMs: 300)
        rollup.add(RunRecord(time: 0, check: "c", location: "", ok: true, durationMs: 300, lateMs: 0))
        rollup.add(RunRecord(time: 0, check: "c", location: "", ok: true, durationMs: 299.999, lateMs: 0))
        #expect(rollup.fast == 1)
    }

    @Test("hour rollups merge by adding every count and or-ing the minute masks")
    func rollupMerge() throws {
        var a = Self.sampleRollup()
        var b = HourRollup(hour: Self.hour, check: "shop", location: "us", fastMs: 500)
        b.add(
            RunRecord(
                time: Self.hour + 120_000, check: "shop", location: "us", ok: false, durationMs: 5,
                lateMs: 0, error: RunError(kind: "dns", entry: 1, line: 1, message: "")))
        b.add(
            RunRecord(time: Self.hour + 1_800_000, check: "shop", location: "us", ok: true, durationMs: 20, lateMs: 0))
        a.merge(b)
        #expect(a.runs == 7 && a.good == 3 && a.fast == 2)
        #expect(a.errors == ["timeout": 1, "status": 1, "internal": 1, "dns": 1])
        #expect(abs(a.sumMs - 10895.4) < 1e-9)
        #expect(a.histogram.total == 7)
        #expect(a.minutes == 1 << 0 | 1 << 1 | 1 << 2 | 1 << 30 | 1 << 59)
        #expect(a.badMinutes == 1 << 2 | 1 << 30 | 1 << 59)
        #expect(a.phaseSums.dns == 1 && a.phaseSums.transfer == 5)
    }

    @Test("hour lines read masks of up to 16 hex digits in either case and reject the rest")
    func masks() throws {
        func line(_ mins: String) -> String {
            #"{"v":1,"hour":"2026-11-23T07:00:00Z","check":"c","runs":0,"good":0,"fast":0,"mins":"\#(mins)"}"#
        }
        #expect(try decodeHour(line("3")).minutes == 3)
        #expect(try decodeHour(line("")).minutes == 0)
        #expect(try decodeHour(line("8000000400000AB")).minutes == 1 << 59 | 1 << 30 | 0xAB)
        #expect(try decodeHour(line("fffffffffffffff")).minutes == 1 << 60 - 1)
        #expect(try decodeHour(line("ffffffffffffffff")).minutes == 1 << 60 - 1, "bits past minute 59 dropped")
        #expect(throws: LineError.malformed("minute mask longer than 16 hex digits")) {
            _ = try decodeHour(line("00000000000000000"))
        }
        #expect(throws: LineError.malformed("minute mask is not hexadecimal")) { _ = try decodeHour(line("12g")) }
    }

    @Test("hour lines with counts out of range, a missing hour or another version are rejected")
    func hourCounts() throws {
        func line(_ body: String) -> String {
            #"{"v":1,"hour":"2026-11-23T07:30:00Z","check":"c",\#(body)}"#
        }
        let outOfRange = LineError.malformed("counts out of range (need 0 ≤ fast ≤ good ≤ runs, error counts ≥ 0)")
        for body in [
            #""runs":1,"good":2,"fast":0"#, #""runs":2,"good":1,"fast":2"#, #""runs":-1,"good":0,"fast":0"#,
            #""runs":2,"good":1,"fast":-1"#, #""runs":2,"good":1,"fast":1,"errors":{"dns":-1}"#,
        ] {
            #expect(throws: outOfRange, "\(body)") { _ = try decodeHour(line(body)) }
        }
        let ok = try decodeHour(line(#""runs":2,"good":2,"fast":2,"errors":{},"extra":[{"x":1}]"#))
        #expect(ok.hour == Self.hour, "an hour not on the hour is floored")
        #expect(ok.runs == 2)
        #expect(throws: LineError.malformed("missing hour")) {
            _ = try decodeHour(#"{"v":1,"check":"c","runs":0,"good":0,"fast":0}"#)
        }
        #expect(throws: LineError.malformed("missing check")) {
            _ = try decodeHour(#"{"v":1,"hour":"2026-11-23T07:00:00Z"}"#)
        }
        #expect(throws: LineError.unknownVersion(3)) {
            _ = try decodeHour(#"{"v":3,"hour":"2026-11-23T07:00:00Z","check":"c"}"#)
        }
        #expect(throws: LineError.self) { _ = try decodeHour(#"{"v":1,"hour":"x","check":"c"}"#) }
        #expect(throws: LineError.self) {
            _ = try decodeHour(#"{"v":1,"hour":"2026-11-23T07:00:00Z","check":"c","hist":[1.5]}"#)
        }
    }
}
