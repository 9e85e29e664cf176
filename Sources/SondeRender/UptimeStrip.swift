import SondeIncidents
import SondeProbe
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// Daily uptime as a strip of bars, oldest on the left, one bar per UTC day (at most the last 90),
/// with a tooltip per bar and a caption line giving the date range and a colour legend.
///
/// Colours (the same rule as `Badge.uptime`): green at or above the objective; yellow while failures
/// stay within ten error budgets (uptime ≥ 1 − 10 × (1 − objective): objective 99.9% → from 99.0%);
/// red below that; light grey for days without data.
struct UptimeStrip: Sendable, Equatable {
    /// One UTC day.
    struct Day: Sendable, Equatable {
        /// `YYYY-MM-DD`, UTC.
        var date: String
        /// Good runs ÷ runs, 0...1; nil when the prober did not run that day.
        var uptime: Double?
        /// Runs that day.
        var runs: Int
    }

    /// The days to draw. Drawn in date order; only the most recent `maxDays` are kept.
    var days: [Day]
    /// The availability objective as a fraction (`0.999`; a percentage such as `99.9` is accepted too).
    var objective: Double

    /// The most days one strip shows.
    static let maxDays = 90

    static let width = 540.0
    static let height = 50.0
    static let slot = width / Double(maxDays)
    static let barWidth = slot - 2
    static let barTop = 2.0
    static let barHeight = 30.0
    static let captionBaseline = 46.0
    static let captionSize = 10.0

    static let green = "#4c1"
    static let yellow = "#dfb317"
    static let red = "#e05d44"
    static let noData = "#d0d7de"
    static let captionColour = "#7d8590"

    /// The days drawn: sorted by date (stable), the last `maxDays`.
    var shownDays: [Day] {
        let sorted = days.enumerated().sorted { a, b in
            a.element.date == b.element.date ? a.offset < b.offset : a.element.date < b.element.date
        }.map(\.element)
        return Array(sorted.suffix(Self.maxDays))
    }

    /// The objective in thousandths of a percent, 0...100000: `0.999` → 99900.
    var targetThousandths: Int64 {
        guard objective.isFinite else { return 100_000 }
        let percent = objective <= 1 ? objective * 100 : objective
        return Int64((min(max(percent, 0), 100) * 1000).rounded())
    }

    /// The lower edge of the yellow band, in thousandths of a percent: failures at ten error budgets.
    var warningThousandths: Int64 {
        max(0, 100_000 - 10 * (100_000 - targetThousandths))
    }

    /// The fill of one day's bar.
    func colour(_ day: Day) -> String {
        guard let uptime = day.uptime, uptime.isFinite else { return Self.noData }
        let value = min(max(uptime, 0), 1) * 100_000
        if value >= Double(targetThousandths) - 1e-4 { return Self.green }
        if value >= Double(warningThousandths) - 1e-4 { return Self.yellow }
        return Self.red
    }

    /// The tooltip of one day's bar: `2026-11-20: 99.95% uptime (1440 runs)` or `2026-11-20: no data`.
    /// The percentage is truncated, never rounded up, to three decimals.
    static func title(_ day: Day) -> String {
        guard let uptime = day.uptime, uptime.isFinite else { return "\(day.date): no data" }
        let runs = max(day.runs, 0)
        return "\(day.date): \(SVG.truncatedPercent(uptime))% uptime (\(runs) \(runs == 1 ? "run" : "runs"))"
    }

    /// The strip as a complete SVG document, about 540×50.
    var svg: String {
        let shown = shownDays
        let n = SVG.number
        let range: String
        if let first = shown.first, let last = shown.last {
            let count = shown.count
            range =
                first.date == last.date
                ? "\(first.date) · 1 day, UTC"
                : "\(first.date) – \(last.date) · \(count) \(count == 1 ? "day" : "days"), UTC"
        } else {
            range = "no data"
        }
        var out = SVG.open(width: Self.width, height: Self.height, label: "Daily uptime: \(range)")
        for (index, day) in shown.enumerated() {
            let x = Double(index) * Self.slot + 1
            out +=
                "<rect x=\"\(n(x))\" y=\"\(n(Self.barTop))\" width=\"\(n(Self.barWidth))\" height=\"\(n(Self.barHeight))\""
            out += " rx=\"1\" fill=\"\(colour(day))\"><title>\(SVG.escape(Self.title(day)))</title></rect>"
        }
        out +=
            "<g font-family=\"\(SVG.fontFamily)\" font-size=\"\(n(Self.captionSize))\" fill=\"\(Self.captionColour)\">"
        // Legend, laid out from the right edge leftwards.
        let target = SVG.thousandthsText(targetThousandths)
        let warning = SVG.thousandthsText(warningThousandths)
        let legend: [(String, String)] = [
            (Self.green, "≥ \(target)%"), (Self.yellow, "≥ \(warning)%"), (Self.red, "< \(warning)%"),
            (Self.noData, "no data"),
        ]
        var right = Self.width - 1
        var legendOut = ""
        for (fill, text) in legend.reversed() {
            let textWidth = SVG.textWidth(text, fontSize: Self.captionSize)
            let textX = right - textWidth
            let swatchX = textX - 11
            legendOut =
                "<rect x=\"\(n(swatchX))\" y=\"\(n(Self.captionBaseline - 8))\" width=\"8\" height=\"8\" rx=\"1\" fill=\"\(fill)\"/>"
                + "<text x=\"\(n(textX))\" y=\"\(n(Self.captionBaseline))\">\(SVG.escape(text))</text>" + legendOut
            right = swatchX - 10
        }
        let caption = SVG.fit(range, width: max(right - 1, 0), fontSize: Self.captionSize)
        out += "<text x=\"1\" y=\"\(n(Self.captionBaseline))\">\(SVG.escape(caption))</text>"
        out += legendOut
        out += "</g></svg>"
        return out
    }
}
