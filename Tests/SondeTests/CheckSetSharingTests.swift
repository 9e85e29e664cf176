import Foundation
import Testing

@testable import SondeDaemon
@testable import SondeScript

@Suite("CheckSet: files with the same text share one parsed script")
struct CheckSetSharingTests {
    static let health = "# @every 30s\nGET http://127.0.0.1:9/health\nHTTP 200\n"

    @Test("identical files in one folder share a parse; their names, paths and other files stay their own")
    func identicalFilesShare() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("checks/a.hurl", Self.health)
        try folder.write("checks/b.hurl", Self.health)
        try folder.write("checks/c.hurl", "GET http://127.0.0.1:9/other\nHTTP 200\n")
        try folder.write("checks/sub/d.hurl", Self.health)
        let (set, problems) = try CheckSet.load(folder.path + "/checks")
        #expect(problems.isEmpty)
        let a = try #require(set.scripts["a"])
        let b = try #require(set.scripts["b"])
        let c = try #require(set.scripts["c"])
        let d = try #require(set.scripts["d"])
        #expect(a.sharesParse(with: b))
        #expect((a.name, b.name) == ("a", "b"))
        #expect(b.path == folder.path + "/checks/b.hurl")
        #expect(a.entries == b.entries && a.settings.every == .seconds(30))
        #expect(!a.sharesParse(with: c))
        #expect(c.entries.first?.request.url != a.entries.first?.request.url)
        // Another folder: its `file,name;` bodies would be read from there, so it parses on its own.
        #expect(!a.sharesParse(with: d))
        #expect(a.entries == d.entries)
        // The same scripts as ScriptLoader.load gives, one file at a time.
        #expect(b == (try ScriptLoader.load(folder.path + "/checks/b.hurl")))
    }

    @Test("a change to one script leaves the scripts it shares its parse with as they were")
    func changeIsLocal() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("checks/a.hurl", Self.health)
        try folder.write("checks/b.hurl", Self.health)
        var (set, _) = try CheckSet.load(folder.path + "/checks")
        set.scripts["a"]?.settings.every = .seconds(5)
        #expect(set.scripts["a"]?.settings.every == .seconds(5))
        #expect(set.scripts["b"]?.settings.every == .seconds(30))
        #expect(set.scripts["a"] != set.scripts["b"])
    }

    @Test("a reload keeps the parse of an unchanged file, parses a changed one, and reads named files again")
    func reloadShares() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("checks/a.hurl", Self.health)
        try folder.write("checks/b.hurl", Self.health)
        try folder.write("checks/body.txt", "one")
        try folder.write("checks/f.hurl", "POST http://127.0.0.1:9/\nfile,body.txt;\nHTTP 200\n")
        let (first, _) = try CheckSet.load(folder.path + "/checks")
        try folder.write("checks/b.hurl", Self.health + "[Asserts]\nbody contains \"ok\"\n")
        try folder.write("checks/body.txt", "two")
        let (second, problems) = try CheckSet.load(folder.path + "/checks", previous: first)
        #expect(problems.isEmpty)
        let (a1, a2) = (try #require(first.scripts["a"]), try #require(second.scripts["a"]))
        #expect(a2.sharesParse(with: a1))
        #expect(try #require(second.scripts["b"]).entries.first?.response?.asserts.count == 1)
        guard case .file(let body)? = second.scripts["f"]?.entries.first?.request.body?.kind else {
            Issue.record("f.hurl has no file body")
            return
        }
        #expect(body.contents == Array("two".utf8))
        #expect(second.changes(from: first).changed == ["b", "f"])
    }
}
