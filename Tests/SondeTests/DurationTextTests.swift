import Testing

@testable import SondeSupport

/// Every form of `DurationText`, with its edges and the values that must never show (`nan`, `inf`).
@Suite struct DurationTextTests {
    @Test("latency: one decimal under 10 ms, whole ms under a second, one decimal in seconds under 100 s")
    func latency() {
        #expect(DurationText.latency(0) == "0.0 ms")
        #expect(DurationText.latency(0.2) == "0.2 ms")
        #expect(DurationText.latency(0.04) == "0.0 ms")
        #expect(DurationText.latency(7.34) == "7.3 ms")
        #expect(DurationText.latency(9.94) == "9.9 ms")
        #expect(DurationText.latency(9.96) == "10 ms")
        #expect(DurationText.latency(123.4) == "123 ms")
        #expect(DurationText.latency(999.4) == "999 ms")
        #expect(DurationText.latency(999.6) == "1.0 s")
        #expect(DurationText.latency(1234) == "1.2 s")
        #expect(DurationText.latency(12_960) == "13.0 s")
        #expect(DurationText.latency(99_949) == "99.9 s")
        #expect(DurationText.latency(99_950) == "100 s")
        #expect(DurationText.latency(3_600_000) == "3600 s")
        #expect(DurationText.latency(1e9) == "1e6 s")
        #expect(DurationText.latency(1.5e9) == "1.5e6 s")
        #expect(DurationText.latency(9.96e9) == "1e7 s")
    }

    @Test("latency is never nan or inf, nor negative")
    func latencyEdges() {
        #expect(DurationText.latency(nil) == "-")
        #expect(DurationText.latency(Double.nan) == "-")
        #expect(DurationText.latency(Double.infinity) == "-")
        #expect(DurationText.latency(-Double.infinity) == "-")
        #expect(DurationText.latency(-5) == "0.0 ms")
        #expect(DurationText.latency(Double.greatestFiniteMagnitude) == "1.8e305 s")
    }

    @Test("setting: the largest unit that holds the duration a whole number of times, as a check file writes it")
    func setting() {
        #expect(DurationText.setting(.zero) == "0s")
        #expect(DurationText.setting(.milliseconds(250)) == "250ms")
        #expect(DurationText.setting(.milliseconds(1500)) == "1500ms")
        #expect(DurationText.setting(.microseconds(1500)) == "1.5ms")
        #expect(DurationText.setting(.microseconds(250)) == "0.25ms")
        #expect(DurationText.setting(.seconds(5)) == "5s")
        #expect(DurationText.setting(.seconds(90)) == "90s")
        #expect(DurationText.setting(.seconds(60)) == "1m")
        #expect(DurationText.setting(.seconds(90 * 60)) == "90m")
        #expect(DurationText.setting(.seconds(12 * 3600)) == "12h")
        #expect(DurationText.setting(.seconds(36 * 3600)) == "36h")
        #expect(DurationText.setting(.milliseconds(30 * 86_400_000)) == "30d")
        #expect(DurationText.setting(.seconds(-5)) == "-5s")
    }

    @Test("span: the two largest units, truncated")
    func span() {
        #expect(DurationText.span(-1) == "0 ms")
        #expect(DurationText.span(850) == "850 ms")
        #expect(DurationText.span(42_999) == "42 s")
        #expect(DurationText.span(200_000) == "3 min 20 s")
        #expect(DurationText.span(2 * 3_600_000 + 5 * 60_000 + 59_000) == "2 h 05 min")
        #expect(DurationText.span(28 * 3_600_000) == "1 d 4 h")
        #expect(DurationText.span(ms: 200_000.9) == "3 min 20 s")
        #expect(DurationText.span(ms: .nan) == "-")
        #expect(DurationText.span(ms: .infinity) == "-")
        #expect(DurationText.span(ms: 1e300).hasSuffix(" h"))
    }

    @Test("age: the largest whole unit, truncated")
    func age() {
        #expect(DurationText.age(-3) == "0s ago")
        #expect(DurationText.age(12_999) == "12s ago")
        #expect(DurationText.age(5 * 60_000 + 59_000) == "5m ago")
        #expect(DurationText.age(3 * 3_600_000 + 1) == "3h ago")
        #expect(DurationText.age(2 * 86_400_000 + 23 * 3_600_000) == "2d ago")
    }

    @Test("milliseconds: whole, truncated, as Hurl's summary writes them")
    func milliseconds() {
        #expect(DurationText.milliseconds(41.9) == "41 ms")
        #expect(DurationText.milliseconds(0.3) == "0 ms")
        #expect(DurationText.milliseconds(.nan) == "-")
        #expect(DurationText.milliseconds(.infinity) == "-")
    }
}
