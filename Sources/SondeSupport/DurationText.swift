/// Durations as text: every place sonde writes a duration for people uses one of these forms, so a
/// run's latency reads the same in `sonde status`, a report page, a badge and the log.
///
/// | form | for | examples |
/// | --- | --- | --- |
/// | ``latency(_:)`` | how long a run or request took: tables, badges, charts, logs | `0.7 ms`, `123 ms`, `1.2 s` |
/// | ``setting(_:)`` | a configured duration, as a check file writes it; window labels | `250ms`, `5s`, `1m`, `30d` |
/// | ``span(_:)`` | how long something went on: incidents, time to exhaustion | `42 s`, `3 min 20 s`, `1 d 4 h` |
/// | ``age(_:)`` | how long ago | `12s ago`, `3h ago` |
/// | ``milliseconds(_:)`` | `sonde check`'s Hurl-style summary, libcurl limits | `41 ms`, `max-time 500 ms` |
///
/// No form ever writes `nan` or `inf`.
package enum DurationText {
    /// A measured duration in milliseconds with two or three significant digits:
    ///
    /// - under 10 ms, one decimal: `0.0 ms`, `0.7 ms`, `9.9 ms`;
    /// - under a second, whole milliseconds: `10 ms`, `123 ms`, `999 ms`;
    /// - under 100 s, seconds with one decimal: `1.0 s`, `13.0 s`, `99.9 s`;
    /// - up to a day, whole seconds: `100 s`, `3600 s`; beyond, seconds in scientific notation: `1.5e6 s`.
    ///
    /// Values round to the nearest shown digit (999.6 ms is `1.0 s`); negative values show as `0.0 ms`;
    /// `nil` and non-finite values as `-`.
    package static func latency(_ ms: Double?) -> String {
        guard let ms, ms.isFinite else { return "-" }
        let value = max(0, ms)
        let tenthsOfMs = (value * 10).rounded()
        if tenthsOfMs < 100 { return decimal(Int64(tenthsOfMs)) + " ms" }
        let wholeMs = value.rounded()
        if wholeMs < 1000 { return "\(Int64(wholeMs)) ms" }
        let tenthsOfSeconds = (value / 100).rounded()
        if tenthsOfSeconds < 1000 { return decimal(Int64(tenthsOfSeconds)) + " s" }
        if value < 86_400_000 { return "\(Int64((value / 1000).rounded())) s" }
        return scientific(value / 1000) + " s"
    }

    /// A configured duration as a check file's directives write it: the largest unit that holds it a
    /// whole number of times, `d`, `h`, `m`, `s` or `ms`, without a space: `30d`, `12h`, `90m`, `5s`,
    /// `250ms`; below a millisecond to the microsecond: `1.5ms`, `0.25ms`. Zero is `0s`. Used for
    /// directive values in messages (`every 1m`, `retrying in 2s`) and window labels (`24h`, `7d`, `30d`).
    package static func setting(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return "-" + setting(.zero - duration) }
        if attoseconds == 0 {
            for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] as [(String, Int64)] where seconds >= size {
                if seconds % size == 0 { return "\(seconds / size)\(unit)" }
            }
            return "\(seconds)s"
        }
        // Microseconds, rounded; a duration this fine is never longer than a few days.
        let micros = min(seconds, 1_000_000_000) * 1_000_000 + (attoseconds + 500_000_000_000) / 1_000_000_000_000
        if micros % 1000 == 0 { return "\(micros / 1000)ms" }
        var fraction = String(micros % 1000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(micros / 1000).\(fraction)ms"
    }

    /// Whole milliseconds in the compound form of directives and Prometheus durations: `5m`,
    /// `1h30m`, `4s500ms`, `1d`; `0s` for zero or less.
    package static func compound(_ ms: Int64) -> String {
        guard ms > 0 else { return "0s" }
        var rest = ms
        var out = ""
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
            let count = rest / size
            if count > 0 {
                out += "\(count)\(unit)"
                rest -= count * size
            }
        }
        return out
    }

    /// How long something went on, in milliseconds, to the second in its two largest units:
    /// `850 ms` under a second, `42 s`, `3 min 20 s`, `2 h 05 min`, `1 d 4 h`. Truncated, never
    /// rounded up; negative values show as `0 ms`.
    package static func span(_ ms: Int64) -> String {
        let ms = max(0, ms)
        let seconds = ms / 1000
        if seconds < 60 { return ms < 1000 ? "\(ms) ms" : "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min \(seconds % 60) s" }
        if seconds < 86_400 { return "\(seconds / 3600) h \(String(seconds % 3600 / 60).leftPadded(to: 2)) min" }
        return "\(seconds / 86_400) d \(seconds % 86_400 / 3600) h"
    }

    /// ``span(_:)`` of a computed duration: non-finite values show as `-`; the value is clamped
    /// to about 285 000 years.
    package static func span(ms: Double) -> String {
        guard ms.isFinite else { return "-" }
        return span(Int64(min(max(ms, 0), 9e15)))
    }

    /// How long ago, in milliseconds, in the largest whole unit, truncated: `12s ago`, `5m ago`,
    /// `3h ago`, `2d ago`. Negative values (a clock that went back) show as `0s ago`.
    package static func age(_ ms: Int64) -> String {
        let seconds = max(0, ms) / 1000
        if seconds < 60 { return "\(seconds)s ago" }
        if seconds < 3600 { return "\(seconds / 60)m ago" }
        if seconds < 86_400 { return "\(seconds / 3600)h ago" }
        return "\(seconds / 86_400)d ago"
    }

    /// Whole milliseconds, truncated: `41 ms`, `0 ms`; non-finite values show as `-`. The form of
    /// `sonde check`'s summary, which follows Hurl's (`Success (3 requests in 9 ms)`), and of the
    /// libcurl limits and waits a timeout message names (`max-time 500 ms`, as curl counts them).
    package static func milliseconds(_ ms: Double) -> String {
        guard ms.isFinite else { return "-" }
        return "\(Int64(min(max(ms, 0), 9e15))) ms"
    }

    /// Tenths as a decimal with one digit after the point: 73 → `7.3`.
    private static func decimal(_ tenths: Int64) -> String { "\(tenths / 10).\(tenths % 10)" }

    /// A positive finite value with two significant digits in scientific notation, no locale:
    /// 1 500 000 → `1.5e6`, 1e6 → `1e6`.
    private static func scientific(_ value: Double) -> String {
        var exponent = 0
        var power = 1.0
        while power * 10 <= value, exponent < 308 {
            power *= 10
            exponent += 1
        }
        var tenths = Int64((value / power * 10).rounded())
        if tenths >= 100 {
            exponent += 1
            tenths = (tenths + 5) / 10
        }
        return (tenths % 10 == 0 ? "\(tenths / 10)" : decimal(tenths)) + "e\(exponent)"
    }
}
