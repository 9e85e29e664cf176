import SondeIncidents
import SondeProbe
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// A small line chart of one series (for example hourly p95 latency) as a self-contained SVG, about
/// 540×80: a header with the label and the last and largest values, a y axis from 0 to a round
/// maximum, the line broken wherever a point is missing, a light area under it, and an optional
/// dashed threshold line.
///
/// Missing points (nil), NaN and infinities are gaps; negative values are drawn as 0. Nothing in
/// the output is ever `nan` or `inf`.
struct Sparkline: Sendable, Equatable {
    /// How values are written in the header and on the axis.
    enum Unit: Sendable, Equatable {
        /// Milliseconds: `123 ms`, `1.2 s`.
        case milliseconds
        /// A plain number followed by `suffix` (which may be empty): `42 req`.
        case plain(suffix: String)

        /// `value` written in this unit.
        func format(_ value: Double) -> String {
            switch self {
            case .milliseconds:
                return DurationText.latency(value)
            case .plain(let suffix):
                let number = SVG.plain(value)
                return suffix.isEmpty ? number : "\(number) \(suffix)"
            }
        }
    }

    /// The series, oldest first, evenly spaced in time; nil where there is no data.
    var points: [Double?]
    /// What the series is: `p95 latency, hourly (UTC)`.
    var label: String
    /// How values are written.
    var unit: Unit = .milliseconds
    /// A level to mark with a dashed line, in the series' unit (for example the `@latency` threshold).
    var threshold: Double?

    static let width = 540.0
    static let height = 80.0
    static let headerBaseline = 11.0
    static let plotTop = 20.0
    static let plotBottom = 77.0
    static let lineColour = "#2f81f7"
    static let thresholdColour = "#e05d44"
    /// Mid greys, readable on GitHub's light and dark backgrounds.
    static let textColour = "#7d8590"
    static let labelColour = "#768390"

    /// The points with gaps for nil, NaN and infinities, negatives raised to 0.
    var cleanPoints: [Double?] {
        points.map { point in
            guard let value = point, value.isFinite else { return nil }
            return max(value, 0)
        }
    }

    /// The usable threshold: finite and positive, else nil.
    var cleanThreshold: Double? {
        guard let threshold, threshold.isFinite, threshold > 0 else { return nil }
        return threshold
    }

    /// Runs of consecutive points, as (index, value) pairs.
    static func segments(_ points: [Double?]) -> [[(Int, Double)]] {
        var result: [[(Int, Double)]] = []
        var current: [(Int, Double)] = []
        for (index, point) in points.enumerated() {
            if let value = point {
                current.append((index, value))
            } else if !current.isEmpty {
                result.append(current)
                current = []
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// The top of the y axis: a round number at or above the largest value, raised to include the
    /// threshold when that is no more than four times the largest value (or every value is 0), so a
    /// far-off threshold does not flatten the line.
    static func axisMaximum(dataMax: Double, threshold: Double?) -> Double {
        var top = dataMax
        if let threshold, threshold <= 4 * dataMax || dataMax == 0 { top = max(top, threshold) }
        return SVG.niceCeiling(top)
    }

    /// The chart as a complete SVG document.
    var svg: String {
        let n = SVG.number
        let values = cleanPoints
        let present = values.compactMap { $0 }
        let threshold = cleanThreshold
        let dataMax = present.max()
        let last = values.last(where: { $0 != nil }) ?? nil

        // Header: the label on the left, then from the right edge: max, last, threshold.
        var items: [(text: String, colour: String)] = []
        if let threshold { items.append(("threshold \(unit.format(threshold))", Self.thresholdColour)) }
        if let last { items.append(("last \(unit.format(last))", Self.textColour)) }
        if let dataMax { items.append(("max \(unit.format(dataMax))", Self.textColour)) }
        if present.isEmpty { items.append(("no data", Self.textColour)) }

        let summary =
            present.isEmpty
            ? "\(label): no data"
            : "\(label): " + items.map(\.text).joined(separator: ", ")
        var out = SVG.open(width: Self.width, height: Self.height, label: summary)
        out += "<g font-family=\"\(SVG.fontFamily)\" font-size=\"10\">"
        var right = Self.width - 1
        var headerOut = ""
        for item in items.reversed() {
            headerOut +=
                "<text x=\"\(n(right))\" y=\"\(n(Self.headerBaseline))\" text-anchor=\"end\" fill=\"\(item.colour)\">"
                + "\(SVG.escape(item.text))</text>"
            right -= SVG.textWidth(item.text, fontSize: 10) + 12
        }
        let shownLabel = SVG.fit(label, width: max(right - 8, 0), fontSize: 11)
        out +=
            "<text x=\"1\" y=\"\(n(Self.headerBaseline))\" font-size=\"11\" fill=\"\(Self.labelColour)\">\(SVG.escape(shownLabel))</text>"
        out += headerOut

        guard let dataMax else {
            out += "<path d=\"M1 \(n(Self.plotBottom))H\(n(Self.width - 1))\" stroke=\"#d0d7de\" stroke-width=\"1\"/>"
            out +=
                "<text x=\"\(n(Self.width / 2))\" y=\"\(n((Self.plotTop + Self.plotBottom) / 2 + 4))\" text-anchor=\"middle\""
                + " fill=\"\(Self.textColour)\">no data</text>"
            out += "</g></svg>"
            return out
        }

        // Y axis labels in a gutter on the left.
        let axisTop = Self.axisMaximum(dataMax: dataMax, threshold: threshold)
        var topLabel = unit.format(axisTop)
        // The axis top is a round number: `1 ms` and `1 s`, not `1.0 ms` and `1.0 s`.
        for unit in [" ms", " s"] where topLabel.hasSuffix(".0" + unit) {
            topLabel = String(topLabel.dropLast(2 + unit.count)) + unit
        }
        let gutter = (max(SVG.textWidth(topLabel, fontSize: 9), SVG.textWidth("0", fontSize: 9)) + 6).rounded(.up)
        let left = gutter + 2
        let rightEdge = Self.width - 2
        let top = Self.plotTop
        let bottom = Self.plotBottom
        out +=
            "<text x=\"\(n(gutter - 2))\" y=\"\(n(top + 7))\" font-size=\"9\" text-anchor=\"end\" fill=\"\(Self.textColour)\">"
            + "\(SVG.escape(topLabel))</text>"
        out +=
            "<text x=\"\(n(gutter - 2))\" y=\"\(n(bottom))\" font-size=\"9\" text-anchor=\"end\" fill=\"\(Self.textColour)\">0</text>"
        out += "</g>"
        out +=
            "<path d=\"M\(n(left)) \(n(top))H\(n(rightEdge))\" stroke=\"#d0d7de\" stroke-width=\"1\" stroke-dasharray=\"2 3\"/>"
        out += "<path d=\"M\(n(left)) \(n(bottom))H\(n(rightEdge))\" stroke=\"#d0d7de\" stroke-width=\"1\"/>"

        let count = values.count
        func x(_ index: Int) -> Double {
            count <= 1 ? rightEdge : left + (rightEdge - left) * Double(index) / Double(count - 1)
        }
        func y(_ value: Double) -> Double {
            let share = axisTop > 0 ? min(max(value / axisTop, 0), 1) : 0
            return bottom - (bottom - top) * share
        }

        for segment in Self.segments(values) {
            guard let first = segment.first, let final = segment.last else { continue }
            if segment.count == 1 {
                out +=
                    "<rect x=\"\(n(x(first.0) - 1.5))\" y=\"\(n(y(first.1) - 1.5))\" width=\"3\" height=\"3\" fill=\"\(Self.lineColour)\"/>"
                continue
            }
            let coordinates = segment.map { "\(n(x($0.0))),\(n(y($0.1)))" }
            out +=
                "<path d=\"M\(n(x(first.0))),\(n(bottom))L" + coordinates.joined(separator: " ")
                + " \(n(x(final.0))),\(n(bottom))Z\" fill=\"\(Self.lineColour)\" fill-opacity=\".15\"/>"
            out +=
                "<polyline points=\"" + coordinates.joined(separator: " ")
                + "\" fill=\"none\" stroke=\"\(Self.lineColour)\" stroke-width=\"1.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>"
        }

        if let threshold, threshold <= axisTop {
            out +=
                "<path d=\"M\(n(left)) \(n(y(threshold)))H\(n(rightEdge))\" stroke=\"\(Self.thresholdColour)\""
                + " stroke-width=\"1\" stroke-dasharray=\"4 3\"/>"
        }
        out += "</svg>"
        return out
    }
}
