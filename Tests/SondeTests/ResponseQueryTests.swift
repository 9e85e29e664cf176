import Foundation
import Testing

@testable import SondeProbe
@testable import SondeRun
@testable import SondeScript
@testable import SondeSupport

/// The response side of Hurl's format, piece by piece: JSONPath literals and functions, the body's
/// charset under `jsonpath`, hashes, dates, cookies, encodings, XPath, and secrets through filters.
@Suite("Hurl queries, filters and predicates")
struct ResponseQueryTests {
    static let fire = #"[{"value": "🔥", "name": "fire"}, {"value": "✈", "name": "plane"}]"#

    func response(_ body: [UInt8], contentType: String) -> ProbeResponse {
        ProbeResponse(
            status: 200, httpVersion: "1.1", headers: [HTTPField(name: "Content-Type", value: contentType)], body: body,
            effectiveURL: "http://127.0.0.1/", timings: PhaseTimings(), certificate: nil, redirects: 0)
    }

    @Test("a JSONPath string literal with a surrogate pair is the one character it encodes")
    func surrogatePairs() throws {
        let root = try JSON.parse(Self.fire)
        #expect(try JSONPath(#"$[?@.value == '\uD83D\uDD25'].name"#).evaluate(root) == [.string("fire")])
        #expect(try JSONPath(#"$[?@.value == '\u2708'].name"#).evaluate(root) == [.string("plane")])
        // A lone high surrogate stays a replacement character, and the text after it is kept.
        #expect(try JSONPath(#"$[?@.value == '\uD83Dx'].name"#).evaluate(root).isEmpty)
    }

    @Test("jsonpath reads a Latin-1 body in its charset, as body does")
    func jsonpathCharset() throws {
        let body = Array(#"{"name": "caf"#.utf8) + [0xE9] + Array(#""}"#.utf8)
        let context = ResponseContext(response: response(body, contentType: "application/json; charset=ISO-8859-1"))
        let query = Query(kind: .jsonpath(Template(literal: "$.name", location: loc(1, 1))), location: loc(1, 1))
        #expect(try QueryEvaluator.evaluate(query, in: context, variables: Variables()) == .string("café"))
        #expect(try context.text(at: loc(1, 1)).contains("café"))
    }

    @Test("JSONPath functions: length, count, value, match and search, with their arguments checked")
    func functions() throws {
        let root = try JSON.parse(
            #"[{"t": "Dune", "g": ["a", "b"]}, {"t": "Emma", "g": []}, {"t": "Ubik", "g": ["a"]}]"#)
        func titles(_ p: String) throws -> [Value] { try JSONPath(p).evaluate(root).map { $0 } }
        #expect(try titles("$[?length(@.g) == 2].t") == [.string("Dune")])
        #expect(try titles("$[?count(@.g[*]) == 0].t") == [.string("Emma")])
        #expect(try titles("$[?value(@.g[0]) == 'a'].t") == [.string("Dune"), .string("Ubik")])
        #expect(try titles("$[?match(@.t, '[DE].*')].t") == [.string("Dune"), .string("Emma")])
        #expect(try titles("$[?match(@.t, 'u')].t").isEmpty)
        #expect(try titles("$[?search(@.t, 'u')].t") == [.string("Dune")])
        #expect(try titles("$[?!search(@.t, 'm')].t") == [.string("Dune"), .string("Ubik")])
        for bad in [
            "$[?size(@.g) > 1]", "$[?length(@.g, @.t) > 1]", "$[?count(1) > 1]", "$[?length(@.g)]",
            "$[?match(@.t)]",
        ] {
            #expect(throws: JSONPathError.self, "\(bad)") { try JSONPath(bad) }
        }
    }

    @Test("JSONPath functions stay within the node limit")
    func functionsBounded() throws {
        let root = Value.list((0..<2_000).map { _ in .list((0..<10).map { .integer($0) }) })
        let path = try JSONPath("$[?count($..*) > 0]")
        #expect(throws: JSONPathLimitError.self) { try path.evaluate(root, limits: .init(maxSteps: 100_000)) }
    }

    @Test("SHA-256 and MD5 give the published digests")
    func digests() {
        #expect(
            TextCodings.hex(Digest.sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            TextCodings.hex(Digest.sha256(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array(String(repeating: "a", count: 1_000).utf8)
        #expect(
            TextCodings.hex(Digest.sha256(long)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
        #expect(TextCodings.hex(Digest.md5([])) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(TextCodings.hex(Digest.md5(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(TextCodings.hex(Digest.md5(long)) == "cabe45dcc9ae5b66ba86600cca6b8ba8")
    }

    @Test("strftime patterns format and parse dates, in UTC unless the text has an offset")
    func dates() throws {
        let date = try #require(StrftimeDate.parse("2023-01-23T18:25:43.511Z", "%+"))
        #expect(abs(date.timeIntervalSince1970 - 1_674_498_343.511) < 1e-6)
        #expect(
            try StrftimeDate.format(date, "%A %d %B %Y %H:%M:%S%.3f %j %-m").get()
                == "Monday 23 January 2023 18:25:43.511 023 1")
        #expect(
            StrftimeDate.parse("2023-01-23T20:25:43+02:00", "%Y-%m-%dT%H:%M:%S%:z")?.timeIntervalSince1970
                == 1_674_498_343)
        #expect(StrftimeDate.parse("Wed, 13 Jan 2021 22:23:01 GMT", "%a, %d %b %Y %H:%M:%S GMT") != nil)
        #expect(StrftimeDate.httpDate("Wed, 13-Jan-2021 22:23:01 GMT") != nil)
        #expect(StrftimeDate.parse("2023-02-30", "%Y-%m-%d") == nil)
        #expect(StrftimeDate.parse("2023-01-23 extra", "%Y-%m-%d") == nil)
        #expect(throws: StrftimeDate.PatternError.self) { try StrftimeDate.format(date, "%Q").get() }
        #expect(StrftimeDate.isISODate("2023-01-23T18:25:43.511Z"))
        #expect(StrftimeDate.isISODate("2023-01-23"))
        #expect(!StrftimeDate.isISODate("2023-01-23 18:25:43"))
        #expect(!StrftimeDate.isISODate("2023-13-01"))
    }

    @Test("a Set-Cookie header gives its value and each attribute with Hurl's types")
    func cookies() throws {
        let cookie = try #require(
            SetCookie(
                header:
                    "LSID=DQAAAKEaem_vYg; Expires=Wed, 13 Jan 2021 22:23:01 GMT; Secure; HttpOnly; Path=/a; SameSite=Lax; Max-Age=60"
            ))
        #expect(cookie.value(of: .value) == .string("DQAAAKEaem_vYg"))
        #expect(cookie.value(of: .path) == .string("/a"))
        #expect(cookie.value(of: .sameSite) == .string("Lax"))
        #expect(cookie.value(of: .maxAge) == .integer(60))
        #expect(cookie.value(of: .secure) != nil)
        #expect(cookie.value(of: .domain) == nil)
        if case .date(let expires)? = cookie.value(of: .expires) {
            #expect(expires.timeIntervalSince1970 == 1_610_576_581)
        } else {
            Issue.record("Expires is not a date")
        }
        #expect(CookieAttribute.split("id[httponly]")?.attribute == .httpOnly)
        #expect(CookieAttribute.split("id[Colour]") == nil)
        #expect(SetCookie(header: "no equals sign") == nil)
    }

    @Test("base64, percent, HTML and query-parameter codings")
    func codings() {
        #expect(TextCodings.base64Decode("PDw_Pz8-Pg", urlSafe: true) == [0x3C, 0x3C, 0x3F, 0x3F, 0x3F, 0x3E, 0x3E])
        #expect(TextCodings.base64Decode("PDw/Pz8+Pg", urlSafe: false) == [0x3C, 0x3C, 0x3F, 0x3F, 0x3F, 0x3E, 0x3E])
        #expect(TextCodings.base64Decode("PDw_Pz8-Pg", urlSafe: false) == nil)
        #expect(TextCodings.base64Encode([0x3C, 0x3C, 0x3F, 0x3F, 0x3F, 0x3E, 0x3E], urlSafe: true) == "PDw_Pz8-Pg")
        #expect(
            TextCodings.urlEncode("https://mozilla.org/?x=шеллы")
                == "https%3A//mozilla.org/%3Fx%3D%D1%88%D0%B5%D0%BB%D0%BB%D1%8B")
        #expect(
            TextCodings.percentDecode("https%3A//mozilla.org/%3Fx%3D%D1%88%D0%B5%D0%BB%D0%BB%D1%8B")
                == "https://mozilla.org/?x=шеллы")
        #expect(TextCodings.percentDecode("%zz") == nil)
        #expect(TextCodings.htmlUnescape("Foo &copy; bar &#x1D306; &#62; &unknown; &") == "Foo © bar 𝌆 > &unknown; &")
        #expect(TextCodings.htmlEscape("a > b & 'c'") == "a &gt; b &amp; &#x27;c&#x27;")
        #expect(TextCodings.queryParameter("q", in: "https://x.org/p?a=1&q=b+c%21#f") == "b c!")
        #expect(TextCodings.queryParameter("z", in: "https://x.org/p?a=1") == nil)
    }

    @Test("XPath over HTML and XML: strings, numbers, booleans and node sets; a bad expression is an error")
    func xpath() throws {
        let html = "<!doctype html><html><body><p>a<br>b</p><p class=x>c</p><img src=x></body></html>"
        func eval(_ e: String, _ text: String, html: Bool = true) throws -> Value? {
            try XPathEvaluator.evaluate(e, in: text, html: html, location: loc(1, 1))
        }
        #expect(try eval("count(//p)", html) == .integer(2))
        #expect(try eval("string(//p[@class='x'])", html) == .string("c"))
        #expect(try eval("boolean(//h1)", html) == .bool(false))
        #expect(try eval("//p", html) == .list([.string("ab"), .string("c")]))
        #expect(try eval("//h1", html) == nil)
        let xml = "<a:r xmlns:a='urn:a' xmlns='urn:d'><a:i>1</a:i><j>2.5</j></a:r>"
        #expect(try eval("number(//a:i) + 1", xml, html: false) == .integer(2))
        #expect(try eval("string(//_:j)", xml, html: false) == .string("2.5"))
        #expect(throws: EvalError.self) { try eval("//p[[", html) }
        #expect(XPathSyntax.problem(in: "string(//p") != nil)
        #expect(XPathSyntax.problem(in: "//p[@a=']']") == nil)
    }

    @Test("an XPath that would run for hours stops at its operation limit with a message saying so")
    func xpathBounded() throws {
        let xml = "<r>" + String(repeating: "<i>x</i>", count: 3_000) + "</r>"
        let expression = "count(//*[count(//*[count(//*) > 0]) > 0])"
        #expect {
            try XPathEvaluator.evaluate(expression, in: xml, html: false, location: loc(1, 1))
        } throws: { error in
            guard case .evaluationLimit(let message, _) = error as? EvalError else { return false }
            return message.contains("stopped after 20000000 operations")
        }
    }

    @Test("what filters make of a secret is redacted too")
    func secretsThroughFilters() throws {
        var variables = Variables()
        variables.set("token", .string("s3cr3t-t0ken"), secret: true)
        let filters = [
            Filter(kind: .utf8Encode, location: loc(1, 1)), Filter(kind: .base64Encode, location: loc(1, 1)),
        ]
        let query = Query(kind: .variable("token"), location: loc(1, 1))
        var derived: [String] = []
        let value = try ResponseChecker.filtered(
            .string("s3cr3t-t0ken"), filters, scope: variables, query: query,
            redactor: Redactor(secrets: variables.secretValues), stop: nil, derived: &derived)
        let encoded = Data("s3cr3t-t0ken".utf8).base64EncodedString()
        #expect(value == .string(encoded))
        #expect(derived.contains(encoded))
        let redactor = Redactor(secrets: variables.secretValues + derived)
        #expect(!redactor.redact("actual: string <\(encoded)>").contains(encoded))
        // A value without the secret is not collected.
        var none: [String] = []
        _ = try ResponseChecker.filtered(
            .string("public"), filters, scope: variables, query: Query(kind: .body, location: loc(1, 1)),
            redactor: Redactor(secrets: variables.secretValues), stop: nil, derived: &none)
        #expect(none.isEmpty)
    }
}
