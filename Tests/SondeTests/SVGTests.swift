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

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One element of a parsed SVG: its name, attributes and direct text.
struct SVGElement {
    var name: String
    var attributes: [String: String]
    var text = ""
}

/// Parses SVG text with `XMLParser`; `elements` is nil when the document is not well-formed.
final class SVGDocument: NSObject, XMLParserDelegate {
    private(set) var all: [SVGElement] = []
    private var stack: [Int] = []
    private(set) var error: Error?

    init(_ text: String) {
        super.init()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = self
        if !parser.parse() { error = parser.parserError ?? CocoaError(.coderReadCorrupt) }
    }

    var wellFormed: Bool { error == nil && !all.isEmpty }
    var root: SVGElement? { all.first }
    func elements(_ name: String) -> [SVGElement] { all.filter { $0.name == name } }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        all.append(SVGElement(name: elementName, attributes: attributeDict))
        stack.append(all.count - 1)
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = stack.last { all[index].text += string }
    }
}

@Suite("SVG badges, uptime strips and sparklines", .cpuBound)
struct SVGTests {
    static let allowed: Set<String> = [
        "svg", "title", "rect", "text", "path", "polyline", "linearGradient", "stop", "g", "clipPath",
    ]

    /// Every check GitHub's sanitised image serving needs, plus no `nan`/`inf`/scripts/links.
    func checkGitHubSafe(_ svg: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let document = SVGDocument(svg)
        #expect(
            document.wellFormed, "not well-formed XML: \(String(describing: document.error))\n\(svg)",
            sourceLocation: sourceLocation)
        guard let root = document.root else { return }
        #expect(root.name == "svg", sourceLocation: sourceLocation)
        #expect(root.attributes["xmlns"] == "http://www.w3.org/2000/svg", sourceLocation: sourceLocation)
        #expect(root.attributes["role"] == "img", sourceLocation: sourceLocation)
        #expect(!(root.attributes["aria-label"] ?? "").isEmpty, sourceLocation: sourceLocation)
        for name in ["width", "height"] {
            let value = root.attributes[name].flatMap(Double.init)
            #expect(
                value.map { $0 > 0 } == true, "\(name) missing or not a positive number", sourceLocation: sourceLocation
            )
        }
        let viewBox = (root.attributes["viewBox"] ?? "").split(separator: " ").compactMap { Double($0) }
        #expect(
            viewBox == [
                0, 0, Double(root.attributes["width"] ?? "") ?? -1, Double(root.attributes["height"] ?? "") ?? -1,
            ],
            sourceLocation: sourceLocation)
        let lower = svg.lowercased()
        for banned in ["nan", "inf", "<script", "href=", "foreignobject", "@import", "<style", "http://", "https://"] {
            let hits = lower.components(separatedBy: banned).count - 1
            let allowedHits = banned == "http://" ? 1 : 0  // the xmlns declaration
            #expect(hits == allowedHits, "contains \(banned)", sourceLocation: sourceLocation)
        }
        for element in document.all {
            #expect(
                Self.allowed.contains(element.name), "unexpected element <\(element.name)>",
                sourceLocation: sourceLocation)
            for (name, value) in element.attributes where name.hasPrefix("on") {
                Issue.record("event handler \(name)=\(value)", sourceLocation: sourceLocation)
            }
        }
    }

    // MARK: Badge

    @Test("A badge is well-formed SVG with the attributes GitHub needs")
    func badgeIsGitHubSafe() {
        let badges = [
            Badge.uptime(percentText: "99.953%", objective: 99.9),
            Badge.uptime(percentText: nil, objective: 99.9),
            Badge.latency(p95Ms: 123, thresholdMs: 500),
            Badge.latency(p95Ms: .nan, thresholdMs: .infinity),
            Badge.latency(p95Ms: 1e300, thresholdMs: nil),
            Badge(label: "", message: "", color: .blue),
        ]
        for badge in badges { checkGitHubSafe(badge.svg) }
    }

    @Test("A badge is two rectangles clipped to a rounded outline, with a gradient and shadowed text")
    func badgeShape() throws {
        let badge = Badge.uptime(percentText: "99.953%", objective: 99.9)
        let document = SVGDocument(badge.svg)
        let fills = document.elements("rect").compactMap { $0.attributes["fill"] }
        #expect(fills.contains("#555"))
        #expect(fills.contains(Badge.Color.brightgreen.hex))
        #expect(document.elements("clipPath").count == 1)
        #expect(document.elements("linearGradient").count == 1)
        let texts = document.elements("text")
        #expect(texts.map(\.text) == ["uptime 30d", "uptime 30d", "99.953%", "99.953%"])
        #expect(texts.filter { $0.attributes["fill-opacity"] == ".3" }.count == 2)
        #expect(document.root?.attributes["aria-label"] == "uptime 30d: 99.953%")
        #expect(document.root?.attributes["height"] == "20")
    }

    @Test(
        "Uptime badge colours at the thresholds of a 99.9 objective: 99.900 green, 99.899 and 99.000 yellow, 98.999 red"
    )
    func uptimeBadgeColours() {
        #expect(Badge.uptime(percentText: "100.000%", objective: 99.9).color == .brightgreen)
        #expect(Badge.uptime(percentText: "99.900%", objective: 99.9).color == .brightgreen)
        #expect(Badge.uptime(percentText: "99.899%", objective: 99.9).color == .yellow)
        #expect(Badge.uptime(percentText: "99.000%", objective: 99.9).color == .yellow)
        #expect(Badge.uptime(percentText: "98.999%", objective: 99.9).color == .red)
        #expect(Badge.uptime(percentText: "0.000%", objective: 99.9).color == .red)
        #expect(Badge.uptime(percentText: "99.900%", objective: 0.999).color == .brightgreen)
        #expect(Badge.uptime(percentText: "99.899%", objective: 0.999).color == .yellow)
        #expect(Badge.uptime(percentText: "99.4", objective: 99.5).color == .yellow)
        #expect(Badge.uptime(percentText: "94.999", objective: 99.5).color == .red)
    }

    @Test("Uptime badge shows the caller's digits as given, never rounded, and no data without them")
    func uptimeBadgeMessage() {
        #expect(Badge.uptime(percentText: "99.999%", objective: 99.9).message == "99.999%")
        #expect(Badge.uptime(percentText: "99.9999", objective: 99.9).message == "99.9999%")
        #expect(Badge.uptime(percentText: "99.9999", objective: 99.9).color == .brightgreen)
        #expect(Badge.uptime(percentText: "99.8999", objective: 99.9).color == .yellow)
        #expect(Badge.uptime(percentText: "99.953%", objective: 99.9).label == "uptime 30d")
        for missing in [nil, "", "-", "  "] as [String?] {
            let badge = Badge.uptime(percentText: missing, objective: 99.9)
            #expect(badge.message == "no data")
            #expect(badge.color == .lightgrey)
        }
        let odd = Badge.uptime(percentText: "n/a", objective: 99.9)
        #expect(odd.message == "n/a")
        #expect(odd.color == .lightgrey)
    }

    @Test("Latency badge: ms under a second, tenths of seconds above, green under the threshold, red over")
    func latencyBadge() {
        #expect(
            Badge.latency(p95Ms: 123.4, thresholdMs: 500) == Badge(label: "p95 24h", message: "123 ms", color: .green))
        #expect(Badge.latency(p95Ms: 1234, thresholdMs: 1000) == Badge(label: "p95 24h", message: "1.2 s", color: .red))
        #expect(Badge.latency(p95Ms: 500, thresholdMs: 500).color == .green)
        #expect(Badge.latency(p95Ms: 9000, thresholdMs: nil).color == .green)
        #expect(
            Badge.latency(p95Ms: nil, thresholdMs: 500)
                == Badge(label: "p95 24h", message: "no data", color: .lightgrey))
        #expect(Badge.latency(p95Ms: .infinity, thresholdMs: 500).message == "no data")
        #expect(Badge.latency(p95Ms: 1e300, thresholdMs: nil).message == "1e297 s")
    }

    @Test("Badge widths grow with the text, and every character is counted")
    func badgeWidths() {
        let short = Badge(label: "a", message: "1", color: .green)
        let long = Badge(label: "a much longer label", message: "1", color: .green)
        let wide = Badge(label: "WWWW", message: "1", color: .green)
        let narrow = Badge(label: "iiii", message: "1", color: .green)
        let unicode = Badge(label: "健康检查", message: "1", color: .green)
        #expect(long.labelWidth > short.labelWidth)
        #expect(wide.labelWidth > narrow.labelWidth)
        #expect(unicode.labelWidth >= 4 * 11 + 10)
        #expect(
            Badge(label: "a", message: "99.953%", color: .green).messageWidth
                > Badge(label: "a", message: "99%", color: .green).messageWidth)
        let document = SVGDocument(long.svg)
        #expect(document.root?.attributes["width"] == SVG.number(long.width))
        let lengths = document.elements("text").compactMap { $0.attributes["textLength"].flatMap(Double.init) }
        #expect(lengths.count == 4)
        #expect(lengths[0] == long.labelWidth - 10)
    }

    @Test("Hostile text in a badge label or message is escaped and the SVG stays well-formed")
    func badgeEscaping() {
        let hostile = "<script>alert('x')</script> & \"quoted\" \u{1}"
        let badge = Badge(label: hostile, message: hostile, color: .red)
        let svg = badge.svg
        checkGitHubSafe(svg)
        #expect(svg.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"))
        let texts = SVGDocument(svg).elements("text").map(\.text)
        #expect(texts.first == "<script>alert('x')</script> & \"quoted\"  ")
    }

    // MARK: UptimeStrip

    static func days(_ count: Int, start: Int = 1) -> [UptimeStrip.Day] {
        (0..<count).map { index in
            let day = start + index
            let month = 9 + (day - 1) / 30
            let date = "2026-\(month < 10 ? "0" : "")\(month)-" + String(format: "%02d", (day - 1) % 30 + 1)
            switch index % 10 {
            case 3: return UptimeStrip.Day(date: date, uptime: nil, runs: 0)
            case 5: return UptimeStrip.Day(date: date, uptime: 0.995, runs: 1440)
            case 7: return UptimeStrip.Day(date: date, uptime: 0.9, runs: 1440)
            default: return UptimeStrip.Day(date: date, uptime: 0.9995, runs: 1440)
            }
        }
    }

    @Test("An uptime strip of 90 days is GitHub-safe with one bar and one tooltip per day")
    func stripNinetyDays() throws {
        let strip = UptimeStrip(days: Self.days(90), objective: 0.999)
        checkGitHubSafe(strip.svg)
        let document = SVGDocument(strip.svg)
        let bars = document.elements("rect").filter { $0.attributes["height"] == "30" }
        #expect(bars.count == 90)
        #expect(document.elements("title").count == 91)  // the document's own, then one per bar
        let width = try #require(document.root?.attributes["width"].flatMap(Double.init))
        let height = try #require(document.root?.attributes["height"].flatMap(Double.init))
        #expect((500...600).contains(width) && (40...60).contains(height))
        let xs = bars.compactMap { $0.attributes["x"].flatMap(Double.init) }
        #expect(xs == xs.sorted())
        #expect(xs.allSatisfy { $0 >= 0 && $0 + UptimeStrip.barWidth <= width })
    }

    @Test("Uptime strip bars: green at the objective, yellow within ten error budgets, red beyond, grey without data")
    func stripColours() {
        let strip = UptimeStrip(days: [], objective: 0.999)
        func colour(_ uptime: Double?) -> String { strip.colour(.init(date: "2026-11-20", uptime: uptime, runs: 10)) }
        #expect(colour(1) == UptimeStrip.green)
        #expect(colour(0.999) == UptimeStrip.green)
        #expect(colour(0.99899) == UptimeStrip.yellow)
        #expect(colour(0.99) == UptimeStrip.yellow)
        #expect(colour(0.98999) == UptimeStrip.red)
        #expect(colour(0.989) == UptimeStrip.red)
        #expect(colour(nil) == UptimeStrip.noData)
        #expect(colour(.nan) == UptimeStrip.noData)
        #expect(
            UptimeStrip(days: [], objective: 99.9).colour(.init(date: "d", uptime: 0.999, runs: 1)) == UptimeStrip.green
        )
    }

    @Test("A bar's tooltip reads '2026-11-20: 99.95% uptime (1440 runs)', truncated and never rounded up")
    func stripTitles() {
        let days = [
            UptimeStrip.Day(date: "2026-11-18", uptime: nil, runs: 0),
            UptimeStrip.Day(date: "2026-11-19", uptime: 0.999996, runs: 250_000),
            UptimeStrip.Day(date: "2026-11-20", uptime: 0.9995, runs: 1440),
        ]
        let titles = SVGDocument(UptimeStrip(days: days, objective: 0.999).svg).elements("title").map(\.text)
        #expect(
            titles.dropFirst() == [
                "2026-11-18: no data",
                "2026-11-19: 99.999% uptime (250000 runs)",
                "2026-11-20: 99.95% uptime (1440 runs)",
            ])
        #expect(UptimeStrip.title(.init(date: "2026-11-20", uptime: 1, runs: 1)) == "2026-11-20: 100% uptime (1 run)")
        #expect(
            UptimeStrip.title(.init(date: "2026-11-20", uptime: 0.99949, runs: 9))
                == "2026-11-20: 99.949% uptime (9 runs)")
        #expect(UptimeStrip.title(.init(date: "2026-11-20", uptime: 0, runs: 9)) == "2026-11-20: 0% uptime (9 runs)")
    }

    @Test("An uptime strip keeps the last 90 days in date order and says which dates it covers")
    func stripOrderAndCaption() throws {
        let many = Self.days(100)
        let strip = UptimeStrip(days: many.reversed(), objective: 0.999)
        #expect(strip.shownDays.map(\.date) == Array(many.suffix(90)).map(\.date))
        let document = SVGDocument(strip.svg)
        let first = try #require(many.suffix(90).first?.date)
        let last = try #require(many.last?.date)
        #expect(document.elements("text").contains { $0.text.contains(first) && $0.text.contains(last) })
        #expect(document.root?.attributes["aria-label"]?.contains("\(first) – \(last)") == true)
    }

    @Test("Uptime strips with few days, one day, no days or hostile dates stay well-formed")
    func stripEdgeCases() {
        let hostile = UptimeStrip.Day(date: "<script>&\"'</script>", uptime: .infinity, runs: -3)
        let strips = [
            UptimeStrip(days: Self.days(7), objective: 0.999),
            UptimeStrip(days: Self.days(1), objective: 0.95),
            UptimeStrip(days: [], objective: 0.999),
            UptimeStrip(days: [hostile, .init(date: "2026-11-20", uptime: -1, runs: 5)], objective: .nan),
        ]
        for strip in strips { checkGitHubSafe(strip.svg) }
        #expect(
            SVGDocument(UptimeStrip(days: Self.days(7), objective: 0.999).svg).elements("rect")
                .filter { $0.attributes["height"] == "30" }.count == 7)
        #expect(strips[3].svg.contains("&lt;script&gt;&amp;&quot;&#39;&lt;/script&gt;: no data"))
    }

    // MARK: Sparkline

    @Test("A sparkline with gaps draws one polyline per run of points and a dot for a lone point")
    func sparklineGaps() {
        let points: [Double?] = [120, 130, 125, nil, nil, 200, 210, nil, 90, nil, .nan, 100, 101]
        let svg = Sparkline(points: points, label: "p95 latency, hourly", threshold: 150).svg
        checkGitHubSafe(svg)
        let document = SVGDocument(svg)
        #expect(document.elements("polyline").count == 3)
        #expect(
            document.elements("polyline").map { $0.attributes["points"]?.split(separator: " ").count } == [3, 2, 2])
        #expect(document.elements("rect").count == 1)  // the lone 90
        #expect(document.elements("path").contains { $0.attributes["stroke-dasharray"] == "4 3" })
        let texts = document.elements("text").map(\.text)
        #expect(texts.contains("max 210 ms"))
        #expect(texts.contains("last 101 ms"))
        #expect(texts.contains("threshold 150 ms"))
        #expect(texts.contains("500 ms"))  // the axis top: 210 rounded up to 1, 2 or 5 × 10ⁿ
    }

    @Test("Sparklines survive empty, all-missing, single, all-zero, huge and non-finite input")
    func sparklineEdgeCases() {
        let inputs: [[Double?]] = [
            [], [nil, nil, nil], [42], [0, 0, 0, 0], [1e9, 2e9, nil, 5e8], [.nan, .infinity, -.infinity],
            [1e308, .greatestFiniteMagnitude], [-5, 3, .leastNonzeroMagnitude], Array(repeating: 7, count: 5000),
        ]
        for points in inputs {
            for threshold in [nil, 0, -1, 100, .nan, .infinity, 1e300] as [Double?] {
                checkGitHubSafe(Sparkline(points: points, label: "p95", threshold: threshold).svg)
                checkGitHubSafe(
                    Sparkline(points: points, label: "runs", unit: .plain(suffix: "req"), threshold: threshold).svg)
            }
        }
        let empty = SVGDocument(Sparkline(points: [nil, .nan], label: "p95").svg)
        #expect(empty.elements("polyline").isEmpty)
        #expect(empty.elements("text").contains { $0.text == "no data" })
        let single = SVGDocument(Sparkline(points: [42], label: "p95").svg)
        #expect(single.elements("rect").count == 1)
        #expect(single.elements("text").contains { $0.text == "last 42 ms" })
    }

    @Test("The y axis runs from 0 to a round maximum, including a nearby threshold")
    func sparklineAxis() {
        #expect(SVG.niceCeiling(0) == 1)
        #expect(SVG.niceCeiling(1) == 1)
        #expect(SVG.niceCeiling(1.01) == 2)
        #expect(SVG.niceCeiling(210) == 500)
        #expect(SVG.niceCeiling(600) == 1000)
        #expect(SVG.niceCeiling(0.003) == 0.005)
        #expect(SVG.niceCeiling(1e9) == 1e9)
        #expect(SVG.niceCeiling(.greatestFiniteMagnitude).isFinite)
        #expect(SVG.niceCeiling(.nan) == 1)
        #expect(Sparkline.axisMaximum(dataMax: 210, threshold: 800) == 1000)
        #expect(Sparkline.axisMaximum(dataMax: 210, threshold: 5000) == 500)
        #expect(Sparkline.axisMaximum(dataMax: 0, threshold: 200) == 200)
        #expect(Sparkline.axisMaximum(dataMax: 0, threshold: nil) == 1)
    }

    @Test("Hostile sparkline labels and units are escaped, long labels cut with an ellipsis")
    func sparklineEscaping() {
        let hostile = "check <script>alert(\"x\")</script> & 'co'"
        let svg = Sparkline(points: [1, 2, 3], label: hostile, unit: .plain(suffix: "<b>&"), threshold: 2).svg
        checkGitHubSafe(svg)
        #expect(svg.contains("check &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;"))
        #expect(svg.contains("3 &lt;b&gt;&amp;"))
        let long = SVGDocument(Sparkline(points: [1], label: String(repeating: "W", count: 200)).svg)
        let label = long.elements("text").first?.text ?? ""
        #expect(label.hasSuffix("…"))
        #expect(SVG.textWidth(label) < 540)
    }

    // MARK: Helpers

    @Test("Coordinates and numbers are never nan or inf")
    func numbers() {
        #expect(SVG.number(.nan) == "0")
        #expect(SVG.number(.infinity) == "0")
        #expect(SVG.number(1.005) == "1" || SVG.number(1.005) == "1.01")
        #expect(SVG.number(12.5) == "12.5")
        #expect(SVG.number(-0.25) == "-0.25")
        #expect(SVG.number(3.04) == "3.04")
        #expect(SVG.plain(2e12) == "2e12")
        #expect(SVG.truncatedPercent(0.999996) == "99.999")
        #expect(SVG.truncatedPercent(0.9995) == "99.95")
        #expect(SVG.truncatedPercent(.nan) == "0")
    }
}
