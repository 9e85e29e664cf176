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

/// The error a source produces; fails the test when it parses.
func parseError(_ source: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> ParseError? {
    do {
        _ = try ScriptParser.parse(source: source, path: "checks/t.hurl")
        Issue.record("expected a parse error", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

@Suite("Parser: errors say where and what was expected", .cpuBound)
struct ParserErrorTests {
    @Test("a missing predicate names what was expected, at the column")
    func missingPredicate() throws {
        let error = try #require(parseError("GET http://x/\nHTTP 200\n[Asserts]\njsonpath \"$.count\" = 5\n"))
        #expect(error.location == loc(4, 20))
        #expect(error.message.contains("expected a predicate such as == or contains after the query"))
        #expect(error.description.hasPrefix("checks/t.hurl:4:20: "))
    }

    @Test("an error on an Authorization or Cookie line does not repeat the credential written there")
    func sensitiveHeaderLineIsMasked() throws {
        let source = "GET http://x/\nAuthorization: Basic dXNlcjpzM2NyM3Q= {{unclosed\nHTTP 200\n"
        let error = try #require(parseError(source))
        #expect(error.location.line == 2)
        let text = error.render(source: source)
        #expect(!text.contains("dXNlcjpzM2NyM3Q="), "\(text)")
        #expect(text.contains("2 | Authorization: Basic *** ***"), "\(text)")
        #expect(text.contains("--> checks/t.hurl:2:"))
        let cookie = "GET http://x/\ncookie :  session=abc123; theme=dark {{token}} {{x\nHTTP 200\n"
        let cookieText = try #require(parseError(cookie)).render(source: cookie)
        #expect(!cookieText.contains("abc123") && cookieText.contains("*** *** {{token}} ***"), "\(cookieText)")
        // Other lines are quoted as written.
        #expect(SourceText.maskingSensitiveHeader("X-Trace: abc123") == nil)
        #expect(
            SourceText.maskingSensitiveHeader("Authorization: Bearer {{token}}")?.line
                == "Authorization: Bearer {{token}}")
    }

    @Test("render prints the position, the line and a caret under the column")
    func render() throws {
        let source = "GET http://x/\nHTTP 200\n[Asserts]\njsonpath \"$.count\" = 5\n"
        let error = try #require(parseError(source))
        let text = error.render(source: source)
        #expect(text.contains("error: Parsing error"))
        #expect(text.contains(" --> checks/t.hurl:4:20"))
        #expect(text.contains("4 | jsonpath \"$.count\" = 5"))
        #expect(
            text.contains("  |                    ^ unknown predicate '=': expected a predicate such as == or contains")
        )
    }

    @Test("render keeps tabs so the caret lines up, and cuts huge lines")
    func renderTabsAndLongLines() throws {
        let tabbed = "GET http://x/\nHTTP 200\n[Asserts]\n\tstatus ~ 200\n"
        let error = try #require(parseError(tabbed))
        #expect(error.render(source: tabbed).contains("| \t       ^"))
        let long = "GET http://x/\nHTTP 200\n[Asserts]\nstatus " + String(repeating: "x", count: 100_000) + "\n"
        let longError = try #require(parseError(long))
        let rendered = longError.render(source: long)
        #expect(rendered.count < 1_000)
        #expect(rendered.contains("…"))
    }

    @Test("an unknown section suggests the closest one")
    func unknownSection() throws {
        let error = try #require(parseError("GET http://x/\nHTTP 200\n[Assert]\nstatus == 200\n"))
        #expect(error.location == loc(3, 1))
        #expect(error.message == "unknown section [Assert]; did you mean [Asserts]?")
    }

    @Test("a section on the wrong side says where it belongs")
    func misplacedSection() throws {
        let a = try #require(parseError("GET http://x/\n[Asserts]\nstatus == 200\n"))
        #expect(a.message.contains("belongs in the response"))
        let b = try #require(parseError("GET http://x/\nHTTP 200\n[Query]\na: b\n"))
        #expect(b.message.contains("belongs in the request"))
        let c = try #require(parseError("GET http://x/\n[Query]\na: b\n[Query]\nc: d\n"))
        #expect(c.message.contains("twice"))
        #expect(c.location == loc(4, 1))
    }

    @Test("a misspelt option suggests the closest, an unsupported one says so")
    func options() throws {
        let misspelt = try #require(parseError("GET http://x/\n[Options]\nretyr: 3\n"))
        #expect(misspelt.message == "unknown option 'retyr'; did you mean retry?")
        #expect(misspelt.location == loc(3, 1))
        let unsupported = try #require(parseError("GET http://x/\n[Options]\npinnedpubkey: sha256//abc\n"))
        #expect(unsupported.message == "option 'pinnedpubkey' is not supported by sonde yet")
        let badValue = try #require(parseError("GET http://x/\n[Options]\nretry: many\n"))
        #expect(badValue.location == loc(3, 8))
        #expect(badValue.message.contains("expected an integer"))
        let badDuration = try #require(parseError("GET http://x/\n[Options]\nmax-time: soon\n"))
        #expect(badDuration.message.contains("expected a duration"))
    }

    @Test("bad directive values, unknown, repeated and late directives")
    func directives() throws {
        let banana = try #require(parseError("# @every banana\nGET http://x/\n"))
        #expect(banana.location == loc(1, 10))
        #expect(banana.message == "expected a duration such as 30s or 5m after @every")
        let unknown = try #require(parseError("# @evry 30s\nGET http://x/\n"))
        #expect(unknown.message == "unknown directive @evry; did you mean @every?")
        #expect(unknown.location == loc(1, 3))
        let twice = try #require(parseError("# @every 30s\n# @every 1m\nGET http://x/\n"))
        #expect(twice.message.contains("twice"))
        let late = try #require(parseError("GET http://x/\n# @every 30s\n"))
        #expect(late.message == "monitor directives must come before the first request")
        let slo = try #require(parseError("# @slo 100% 30d\nGET http://x/\n"))
        #expect(slo.message.contains("between 0% and 100%"))
        let fast = try #require(parseError("# @every 500ms\nGET http://x/\n"))
        #expect(fast.message.contains("at least 1s"))
        let downAfter = try #require(parseError("# @down-after 0\nGET http://x/\n"))
        #expect(downAfter.message.contains("from 1 to 1000"))
    }

    @Test("invalid JSON bodies are positioned at the fault")
    func invalidJSON() throws {
        let error = try #require(parseError("POST http://x/\n{\n  \"a\": 1,\n  \"b\": tru\n}\n"))
        #expect(error.message.hasPrefix("invalid JSON body"))
        #expect(error.location.line == 4)
        let unterminated = try #require(parseError("POST http://x/\n{\"a\": [1, 2}\n"))
        #expect(unterminated.message.hasPrefix("invalid JSON body") || unterminated.message.contains("unterminated"))
    }

    @Test("an invalid regex is a parse error at the fault inside the pattern")
    func invalidRegex() throws {
        let error = try #require(parseError("GET http://x/\nHTTP 200\n[Asserts]\nbody matches \"([a-z\"\n"))
        #expect(error.message.contains("invalid regex: unclosed character class"))
        #expect(error.location == loc(4, 16))
        let literal = try #require(parseError("GET http://x/\nHTTP 200\n[Captures]\nid: regex /(unclosed/\n"))
        #expect(literal.message.contains("invalid regex: unclosed group"))
        #expect(literal.location == loc(4, 12))
    }

    @Test("an unterminated multiline string points at its opening fence")
    func unterminatedMultiline() throws {
        let error = try #require(parseError("POST http://x/\n```\nline\nmore\n"))
        #expect(error.location == loc(2, 1))
        #expect(error.message.contains("unterminated multiline string"))
        let tag = try #require(parseError("POST http://x/\n```yaml\n{ a }\n```\n"))
        #expect(tag.message.contains("unknown multiline body tag 'yaml'"))
    }

    @Test("unknown queries, filters and predicates suggest the closest; unsupported ones say so")
    func unknownWords() throws {
        let query = try #require(parseError("GET http://x/\nHTTP 200\n[Asserts]\njsonpth \"$.a\" == 1\n"))
        #expect(query.message == "unknown query 'jsonpth'; did you mean jsonpath?")
        #expect(throws: Never.self) {
            try ScriptParser.parse(source: "GET http://x/\nHTTP 200\n[Asserts]\nxpath \"//a\" exists\n", path: "t.hurl")
        }
        let xpath = try #require(parseError("GET http://x/\nHTTP 200\n[Asserts]\nxpath \"//a[1\" exists\n"))
        #expect(xpath.message == "invalid XPath \"//a[1\": missing ']'")
        #expect(xpath.location == loc(4, 7))
        let filter = try #require(parseError("GET http://x/\nHTTP 200\n[Captures]\nn: jsonpath \"$.a\" cuont\n"))
        #expect(filter.message.contains("did you mean count?"))
        let predicate = try #require(parseError("GET http://x/\nHTTP 200\n[Asserts]\nbody contain \"x\"\n"))
        #expect(predicate.message.contains("did you mean contains?"))
        let cert = try #require(parseError("GET http://x/\nHTTP 200\n[Asserts]\ncertificate \"Expiry\" exists\n"))
        #expect(cert.message.contains("\"Expire-Date\""))
    }

    @Test("templates: an unterminated placeholder or a bad name")
    func templates() throws {
        let open = try #require(parseError("GET http://x/{{path\n"))
        #expect(open.location == loc(1, 14))
        #expect(open.message.contains("}}"))
        let bad = try #require(parseError("GET http://x/{{9lives}}\n"))
        #expect(bad.message.contains("invalid variable name"))
    }

    @Test("bad values: strings without quotes, overflowing integers, bad status lines")
    func badValues() throws {
        let unquoted = try #require(parseError("GET http://x/\nHTTP 200\n[Asserts]\nbody == hello\n"))
        #expect(unquoted.message.contains("strings need quotes"))
        let overflow = try #require(parseError("GET http://x/\nHTTP 200\n[Asserts]\nstatus == 99999999999999999999\n"))
        #expect(overflow.message.contains("64-bit"))
        let status = try #require(parseError("GET http://x/\nHTTP 2000\n"))
        #expect(status.message.contains("status code"))
        let orphan = try #require(parseError("HTTP 200\n"))
        #expect(orphan.message.contains("must follow a request"))
        let lowercase = try #require(parseError("get http://x/\n"))
        #expect(lowercase.message.contains("expected a request line"))
    }

    @Test("NUL bytes and invalid UTF-8 are positioned")
    func encoding() throws {
        do {
            _ = try ScriptParser.parse(
                bytes: Array("GET http://x/\nHTTP 2".utf8) + [0] + Array("00\n".utf8), path: "n.hurl")
            Issue.record("NUL must be rejected")
        } catch {
            #expect(error.location == loc(2, 7))
            #expect(error.message.contains("NUL"))
        }
        do {
            _ = try ScriptParser.parse(
                bytes: Array("GET http://x/\n# caf".utf8) + [0xE9, 0x20] + Array("\n".utf8), path: "u.hurl")
            Issue.record("invalid UTF-8 must be rejected")
        } catch {
            #expect(error.location == loc(2, 6))
            #expect(error.message.contains("not UTF-8"))
        }
    }
}
