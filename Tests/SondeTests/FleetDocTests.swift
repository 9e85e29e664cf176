import Foundation
import Testing

/// docs/fleet.md shows the fleet's configs verbatim: each file under contrib/ that the fleet test
/// runs (FleetConfig.files) is the fenced block after its `<!-- include: PATH -->` marker, and every
/// placeholder a test replaces is named in the doc. Any other doc that includes one of those files
/// (docs/rules.md shows prometheus.yml) is held to the same marker.
@Suite("Fleet doc: docs/fleet.md shows the configs the tests run")
struct FleetDocTests {
    static func doc() throws -> String {
        try String(contentsOfFile: packageRoot + "/docs/fleet.md", encoding: .utf8)
    }

    /// The body of the first fenced block after `marker` in `text`, nil when there is none.
    static func block(after marker: String, in text: String) -> String? {
        guard let at = text.range(of: marker),
            let open = text.range(of: "```", range: at.upperBound..<text.endIndex),
            let lineEnd = text.range(of: "\n", range: open.upperBound..<text.endIndex),
            let close = text.range(of: "\n```", range: lineEnd.lowerBound..<text.endIndex)
        else { return nil }
        return String(text[lineEnd.upperBound..<close.lowerBound]) + "\n"
    }

    @Test(
        "each contrib file the fleet test runs is included in docs/fleet.md byte for byte", arguments: FleetConfig.files
    )
    func included(path: String) throws {
        let shown = try #require(
            Self.block(after: "<!-- include: \(path) -->", in: try Self.doc()),
            "docs/fleet.md has no '<!-- include: \(path) -->' followed by a fenced block")
        #expect(shown == (try FleetConfig.text(path)), "docs/fleet.md's block differs from \(path)")
    }

    @Test("every include marker in docs/ is followed by its file, byte for byte")
    func everyMarker() throws {
        let folder = packageRoot + "/docs"
        var markers = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".md") {
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            var rest = text[...]
            while let at = rest.range(of: "<!-- include: ") {
                let end = try #require(rest.range(of: " -->", range: at.upperBound..<rest.endIndex), "docs/\(name)")
                let path = String(rest[at.upperBound..<end.lowerBound])
                let marker = String(rest[at.lowerBound..<end.upperBound])
                let shown = Self.block(after: marker, in: String(rest))
                #expect(
                    shown == (try? FleetConfig.text(path)), "docs/\(name): the block after \(marker) is not \(path)")
                markers += 1
                rest = rest[end.upperBound...]
            }
        }
        #expect(markers >= FleetConfig.files.count + 1)
    }

    @Test("every placeholder a test replaces is named in docs/fleet.md", arguments: FleetConfig.placeholders)
    func placeholderNamed(placeholder: String) throws {
        #expect(try Self.doc().contains("`\(placeholder)`"), "docs/fleet.md does not name `\(placeholder)`")
    }

    @Test("the reader of a block finds the body between the fences")
    func blockReader() {
        let text = "intro\n<!-- include: x -->\n\n```yaml\na: 1\nb: 2\n```\nafter\n```\nother\n```\n"
        #expect(Self.block(after: "<!-- include: x -->", in: text) == "a: 1\nb: 2\n")
        #expect(Self.block(after: "<!-- include: y -->", in: text) == nil)
    }
}
