import Foundation
import SondeIncidents
import SondeProbe
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// A shields.io "flat" style badge (`uptime 30d | 99.953%`) as a self-contained SVG that GitHub
/// renders when a Markdown page references it as an image.
///
/// Two rectangles (grey label, coloured message) clipped to a rounded outline, a subtle vertical
/// gradient, and 11px Verdana text with a 1px shadow. Widths come from a Verdana 11px character
/// table, and each text carries `textLength`, so text never overflows whichever font is used.
struct Badge: Sendable, Equatable {
    /// The shields.io named colours.
    enum Color: String, Sendable, Equatable, CaseIterable {
        case brightgreen, green, yellowgreen, yellow, orange, red, blue, lightgrey

        /// The fill, as shields.io draws it.
        var hex: String {
            switch self {
            case .brightgreen: return "#4c1"
            case .green: return "#97ca00"
            case .yellowgreen: return "#a4a61d"
            case .yellow: return "#dfb317"
            case .orange: return "#fe7d37"
            case .red: return "#e05d44"
            case .blue: return "#007ec6"
            case .lightgrey: return "#9f9f9f"
            }
        }
    }

    /// The left, grey part: `uptime 30d`.
    var label: String
    /// The right, coloured part: `99.953%`.
    var message: String
    /// The colour of the message part.
    var color: Color

    /// Horizontal padding on each side of each text, as shields.io uses.
    static let padding = 5.0
    static let height = 20.0

    /// Width of the grey label part, text plus padding, in whole pixels.
    var labelWidth: Double { (SVG.textWidth(label)).rounded(.up) + 2 * Self.padding }
    /// Width of the coloured message part, text plus padding, in whole pixels.
    var messageWidth: Double { (SVG.textWidth(message)).rounded(.up) + 2 * Self.padding }
    /// Total width in pixels.
    var width: Double { labelWidth + messageWidth }

    /// The badge as a complete SVG document.
    var svg: String {
        let lw = labelWidth
        let mw = messageWidth
        let w = width
        let h = Self.height
        let n = SVG.number
        var out = SVG.open(width: w, height: h, label: "\(label): \(message)")
        out += "<linearGradient id=\"s\" x2=\"0\" y2=\"100%\">"
        out += "<stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/>"
        out += "</linearGradient>"
        out += "<clipPath id=\"r\"><rect width=\"\(n(w))\" height=\"\(n(h))\" rx=\"3\" fill=\"#fff\"/></clipPath>"
        out += "<g clip-path=\"url(#r)\">"
        out += "<rect width=\"\(n(lw))\" height=\"\(n(h))\" fill=\"#555\"/>"
        out += "<rect x=\"\(n(lw))\" width=\"\(n(mw))\" height=\"\(n(h))\" fill=\"\(color.hex)\"/>"
        out += "<rect width=\"\(n(w))\" height=\"\(n(h))\" fill=\"url(#s)\"/>"
        out += "</g>"
        out += "<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"\(SVG.fontFamily)\""
        out += " text-rendering=\"geometricPrecision\" font-size=\"11\">"
        out += text(label, centre: lw / 2, width: lw - 2 * Self.padding)
        out += text(message, centre: lw + mw / 2, width: mw - 2 * Self.padding)
        out += "</g></svg>"
        return out
    }

    /// One text with its shadow, squeezed or stretched to `width` so it fits its rectangle.
    private func text(_ text: String, centre: Double, width: Double) -> String {
        let x = SVG.number(centre)
        let length = SVG.number(max(width, 0))
        let body = SVG.escape(text)
        guard !text.isEmpty else { return "" }
        return "<text aria-hidden=\"true\" x=\"\(x)\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\""
            + " textLength=\"\(length)\" lengthAdjust=\"spacingAndGlyphs\">\(body)</text>"
            + "<text x=\"\(x)\" y=\"14\" textLength=\"\(length)\" lengthAdjust=\"spacingAndGlyphs\">\(body)</text>"
    }

    /// The `uptime 30d` badge. `percentText` is the uptime already truncated for display (`99.953%`
    /// or `99.953`; nil, empty or `-` for no data); its digits are shown as given, never rounded.
    /// `objective` is a percentage (`99.9`; a fraction such as `0.999` is accepted too).
    ///
    /// Colour: brightgreen at or above the objective; yellow while failures stay within ten error
    /// budgets (uptime ≥ 100 − 10 × (100 − objective): objective 99.9 → from 99.0); red below that; lightgrey without data or when the text is not a
    /// percentage. Comparisons use the text's digits exactly (thousandths of a percent).
    static func uptime(percentText: String?, objective: Double) -> Badge {
        let label = "uptime 30d"
        let trimmed = (percentText ?? "").trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed != "-" else {
            return Badge(label: label, message: "no data", color: .lightgrey)
        }
        let number = trimmed.hasSuffix("%") ? String(trimmed.dropLast()).trimmingCharacters(in: .whitespaces) : trimmed
        guard let value = thousandths(number) else {
            return Badge(label: label, message: trimmed, color: .lightgrey)
        }
        let message = number + "%"
        let objectivePercent = objective.isFinite ? (objective <= 1 ? objective * 100 : objective) : 100
        let target = Int64((min(max(objectivePercent, 0), 100) * 1000).rounded())
        let budget = 100_000 - target
        let color: Color
        if value >= target {
            color = .brightgreen
        } else if value >= 100_000 - 10 * budget {
            color = .yellow
        } else {
            color = .red
        }
        return Badge(label: label, message: message, color: color)
    }

    /// The `p95 24h` badge: `123 ms`, `1.2 s`, or `no data`. Green under (or at) the threshold or
    /// without one, red over it, lightgrey without data.
    static func latency(p95Ms: Double?, thresholdMs: Double?) -> Badge {
        let label = "p95 24h"
        guard let p95 = p95Ms, p95.isFinite else {
            return Badge(label: label, message: "no data", color: .lightgrey)
        }
        let value = max(p95, 0)
        var color = Color.green
        if let threshold = thresholdMs, threshold.isFinite, value > threshold { color = .red }
        return Badge(label: label, message: DurationText.latency(value), color: color)
    }

    /// `99.953` → 99953 thousandths of a percent, extra decimals cut off; nil unless it is a plain
    /// non-negative decimal of at most six whole digits.
    static func thousandths(_ text: String) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholePart = parts.first, !wholePart.isEmpty, wholePart.count <= 6,
            wholePart.allSatisfy({ $0.isASCII && $0.isNumber }),
            let whole = Int64(wholePart)
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            let kept = String(digits.prefix(3))
            fraction = (Int64(kept) ?? 0) * SVG.pow10Int(3 - kept.count)
        }
        return whole * 1000 + fraction
    }
}
