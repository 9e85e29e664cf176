import SondeIncidents
import SondeProbe
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// Writes the Prometheus text exposition format (version 0.0.4): one `# HELP` and `# TYPE` per
/// family, its samples together, label values escaped.
package struct PrometheusText {
    /// Metric types used here.
    package enum Kind: String {
        case gauge, counter, histogram
    }

    /// The text written and not yet handed to the sink (all of it without a sink).
    package private(set) var text = ""
    private let sink: ((String) -> Void)?
    private let pieceBytes: Int

    /// Collects the whole text in `text`.
    package init() {
        sink = nil
        pieceBytes = .max
    }

    /// Hands the text to `sink` in pieces of about `pieceBytes` bytes, each ending at a line's end,
    /// so a large exposition is never held whole; call `finish()` for the last piece.
    package init(pieceBytes: Int, sink: @escaping (String) -> Void) {
        self.sink = sink
        self.pieceBytes = max(1, pieceBytes)
    }

    /// Hands what is left to the sink (nothing without one).
    package mutating func finish() {
        guard let sink, !text.isEmpty else { return }
        sink(text)
        text.removeAll(keepingCapacity: true)
    }

    private mutating func handOffIfFull() {
        guard let sink, text.utf8.count >= pieceBytes else { return }
        sink(text)
        text.removeAll(keepingCapacity: true)
    }

    /// Starts a family.
    package mutating func family(_ name: String, _ kind: Kind, help: String) {
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
        handOffIfFull()
    }

    /// One sample line.
    package mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (index, (key, raw)) in labels.enumerated() {
                if index > 0 { text += "," }
                text += key + "=\"" + Self.escapeLabel(raw) + "\""
            }
            text += "}"
        }
        text += " " + Self.format(value) + "\n"
        handOffIfFull()
    }

    /// The `_bucket`, `_sum` and `_count` samples of a histogram; `counts[i]` counts observations
    /// in bucket `i` (not cumulative); `counts` has one more element than `bounds` (+Inf).
    package mutating func histogram(
        _ name: String, _ labels: [(String, String)], bounds: [Double], counts: [Int64],
        sum: Double
    ) {
        var cumulative: Int64 = 0
        for (index, bound) in bounds.enumerated() {
            cumulative += index < counts.count ? counts[index] : 0
            sample(name + "_bucket", labels + [("le", Self.format(bound))], Double(cumulative))
        }
        if counts.count > bounds.count { cumulative += counts[bounds.count] }
        sample(name + "_bucket", labels + [("le", "+Inf")], Double(cumulative))
        sample(name + "_sum", labels, sum)
        sample(name + "_count", labels, Double(cumulative))
    }

    /// Go-style float text: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
    package static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func escapeLabel(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func escapeHelp(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
