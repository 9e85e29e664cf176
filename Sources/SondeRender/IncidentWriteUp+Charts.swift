import Foundation
import SondeIncidents
import SondeSupport

/// The write-ups' Mermaid charts: a Gantt of the outage whose bars are the facts table's times, and
/// run latency and failed share over evenly spaced time slices, each on its own chart (Mermaid's
/// xychart has one y-axis), on a numeric time axis so that Mermaid draws few, short labels.
extension IncidentWriteUp {
    /// Slice widths the latency charts choose from, ms: the smallest that makes at most
    /// `maxSlices` slices.
    static let sliceWidths: [Int64] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400,
    ].map { $0 * 1000 }
    /// At most this many slices a chart.
    static let maxSlices = 40

    /// One section a check, each with a bar until detection and one from detection to the
    /// resolution (or the latest run while ongoing); the labels carry the table's time to detect
    /// and duration, and the bars are exact to the millisecond.
    func gantt(_ incidents: [Incident]) -> String {
        let title = incidents.count == 1 ? "\(Self.mermaidText(incidents[0].check)) outage (UTC)" : "Outage (UTC)"
        var text = "```mermaid\ngantt\n    title \(title)\n"
        text += "    dateFormat YYYY-MM-DDTHH:mm:ss.SSS\n    axisFormat %H:%M:%S\n"
        for incident in incidents {
            let end = incident.resolvedMs ?? (incident.startedMs + incident.durationMs(nowMs: nowMs))
            let undetected = max(1, incident.timeToDetectMs)
            let down = max(1, end - incident.detectedMs)
            text += "    section \(Self.mermaidText(incident.check))\n"
            text += "    Not yet detected (\(DurationText.span(incident.timeToDetectMs))) :crit, "
            text += "\(Self.mermaidTime(incident.startedMs)), \(undetected)ms\n"
            text += "    \(incident.isResolved ? "Down until resolved" : "Down (ongoing)") "
            text += "(\(DurationText.span(end - incident.detectedMs))) :crit, "
            text += "\(Self.mermaidTime(incident.detectedMs)), \(down)ms\n"
        }
        return text + "```\n"
    }

    /// Two charts over the same evenly spaced slices of the last 10 runs before the incident and
    /// the incident's runs: the slowest run of each slice (ms), and the share of its runs that
    /// failed (%). A slice without a run repeats the slice before it.
    func latencyChart(_ incident: Incident) -> String {
        let all = (incident.before + incident.samples).sorted { $0.timeMs < $1.timeMs }
        let shown = Array(incident.before.suffix(10) + incident.samples).sorted { $0.timeMs < $1.timeMs }
        guard let start = shown.first?.timeMs, let last = shown.last?.timeMs, let earliest = all.first?.timeMs else {
            return ""
        }
        // Up to a few slices earlier (runs from before the incident) when that gives Mermaid's axis
        // at most 8 ticks.
        let width = Self.sliceWidth(spanMs: last - start)
        var first = start
        for extra in 0...Int64(Self.maxSlices / 4) where start - extra * width >= earliest {
            let slices = (last - start) / width + extra
            if Self.axisUnit(spanMs: slices * width).ticks <= 8 {
                first = start - extra * width
                break
            }
        }
        let samples = all.filter { $0.timeMs >= first }
        let slices = Self.slices(samples, from: first, to: last, widthMs: width)
        let axis = Self.timeAxis(spanMs: Int64(slices.values.count - 1) * slices.widthMs, from: first)
        let top = max(1, ((slices.values.map(\.maxMs).max() ?? 1) * 1.1).rounded(.up))
        var text = "```mermaid\nxychart-beta\n    title \"Slowest run per slice (ms)\"\n"
        text += "    x-axis \(axis)\n    y-axis \"ms\" 0 --> \(Int(top))\n"
        text += "    line [" + slices.values.map { String(format: "%.1f", $0.maxMs) }.joined(separator: ", ") + "]\n"
        text += "```\n\n"
        text += "```mermaid\nxychart-beta\n    title \"Runs failed per slice (%)\"\n"
        text += "    x-axis \(axis)\n    y-axis \"% failed\" 0 --> 100\n"
        text += "    bar [" + slices.values.map { String(format: "%.0f", $0.failedShare * 100) }.joined(separator: ", ")
        text += "]\n```\n\n"
        text += "Slices of \(DurationText.span(slices.widthMs)) from \(Self.clock(first)) UTC"
        text += slices.empty > 0 ? "; \(slices.empty) without a run repeat the slice before.\n" : ".\n"
        return text
    }

    /// Evenly spaced slices of `samples` over `[from, to]`: the narrowest width of `sliceWidths`
    /// that makes at most `maxSlices`, each slice's slowest run and failed share, and how many had
    /// no run.
    static func slices(_ samples: [Sample], from: Int64, to: Int64, widthMs: Int64? = nil)
        -> (widthMs: Int64, values: [(maxMs: Double, failedShare: Double)], empty: Int)
    {
        let span = max(0, to - from)
        let width = widthMs ?? sliceWidth(spanMs: span)
        let count = Int(span / width) + 1
        var values: [(maxMs: Double, failed: Int, runs: Int)] = Array(repeating: (0, 0, 0), count: count)
        for sample in samples {
            let index = min(count - 1, Int((sample.timeMs - from) / width))
            values[index].maxMs = max(values[index].maxMs, sample.ms)
            values[index].runs += 1
            if !sample.ok { values[index].failed += 1 }
        }
        var out: [(maxMs: Double, failedShare: Double)] = []
        var empty = 0
        for value in values {
            if value.runs == 0, let previous = out.last {
                out.append(previous)
                empty += 1
            } else {
                out.append((value.maxMs, value.runs == 0 ? 0 : Double(value.failed) / Double(value.runs)))
            }
        }
        return (width, out, empty)
    }

    /// The numeric x-axis from 0 to `spanMs` in seconds, minutes or hours after `from`, whichever
    /// gets the fewest ticks from Mermaid (which asks d3 for about ten), so labels stay short and
    /// few: `"seconds after 15:54:34 UTC" 0 --> 45`.
    static func timeAxis(spanMs: Int64, from: Int64) -> String {
        let best = axisUnit(spanMs: spanMs)
        let top = Double(max(spanMs, 1000)) / best.ms
        var number = String(format: "%.3f", top)
        while number.hasSuffix("0") { number.removeLast() }
        if number.hasSuffix(".") { number.removeLast() }
        return "\"\(best.name) after \(clock(from)) UTC\" 0 --> \(number)"
    }

    /// The narrowest of `sliceWidths` that cuts `spanMs` into at most `maxSlices` slices.
    static func sliceWidth(spanMs: Int64) -> Int64 {
        let span = max(0, spanMs)
        return sliceWidths.first { span / $0 + 1 <= Int64(maxSlices) } ?? (span / Int64(maxSlices - 1) + 1)
    }

    /// Seconds, minutes or hours for an axis of `spanMs`: the unit with the fewest ticks (ties: the
    /// smaller unit), and that count.
    static func axisUnit(spanMs: Int64) -> (name: String, ms: Double, ticks: Int) {
        let units: [(name: String, ms: Double)] = [("seconds", 1000), ("minutes", 60_000), ("hours", 3_600_000)]
        let span = Double(max(spanMs, 1000))
        let counted = units.filter { span / $0.ms >= 0.1 }.map { ($0.name, $0.ms, tickCount(span / $0.ms)) }
        return counted.min { $0.2 < $1.2 } ?? ("seconds", 1000, tickCount(span / 1000))
    }

    /// How many ticks d3's `ticks()` (count 10, as Mermaid asks) puts on a linear axis from 0 to `top`.
    static func tickCount(_ top: Double) -> Int {
        guard top > 0, top.isFinite else { return 1 }
        let step = top / 10
        let power = Foundation.floor(Foundation.log10(step))
        let error = step / Foundation.pow(10, power)
        let factor: Double =
            error >= 50.0.squareRoot() ? 10 : error >= 10.0.squareRoot() ? 5 : error >= 2.0.squareRoot() ? 2 : 1
        let increment = factor * Foundation.pow(10, power)
        return Int((top / increment + 1e-9).rounded(.down)) + 1
    }
}
