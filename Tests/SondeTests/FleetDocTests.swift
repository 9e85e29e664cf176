import Foundation
import Testing

/// docs/fleet.md shows the fleet's configs verbatim: each file under contrib/ that the fleet test
/// runs (FleetConfig.files) is the fenced block after its `<!-- include: PATH -->` marker, and every
/// placeholder a test replaces is named in the doc.
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
