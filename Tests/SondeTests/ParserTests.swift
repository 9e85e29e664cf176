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

func parse(_ source: String) throws -> CheckScript {
    try ScriptParser.parse(source: source, path: "checks/t.hurl")
}

func loc(_ line: Int, _ column: Int) -> SondeScript.SourceLocation {
    SondeScript.SourceLocation(line: line, column: column)
}

@Suite("Parser: constructs")
struct ParserTests {
    @Test("directives set the monitor settings and the name comes from the file")
    func directives() throws {
        let script = try parse(
            """
            # A health check
            # @every 30s
            # @timeout 5s
            # @slo 99.5% 7d
            # @latency 250ms 95%
            # @down-after 4
            # @up-after 1
            # @tags shop, api
            GET http://x/health
            """)
        #expect(script.name == "t")
        let s = script.settings
        #expect(s.every == .seconds(30))
        #expect(s.timeout == .seconds(5))
        #expect(s.slo == AvailabilityObjective(target: 99.5, window: .seconds(7 * 86_400)))
        #expect(s.latency == LatencyObjective(threshold: .milliseconds(250), target: 95))
        #expect(s.downAfter == 4)
        #expect(s.upAfter == 1)
        #expect(s.tags == ["shop", "api"])
    }

    @Test("defaults apply without directives")
    func defaults() throws {
        let s = try parse("GET http://x/\n").settings
        #expect(s.every == .seconds(60))
        #expect(s.timeout == .seconds(10))
        #expect(s.slo.target == 99.9)
        #expect(s.latency == nil)
        #expect(s.downAfter == 3 && s.upAfter == 2)
    }

    @Test("a request line, headers with templates and the entry position")
    func requestAndHeaders() throws {
        let script = try parse(
            """

              POST https://api.example.com/v1/{{path}}?a=1 # comment
            Authorization: Bearer {{token}}
            X-Hash: a\\#b
            """)
        let entry = try #require(script.entries.first)
        #expect(entry.location == loc(2, 3))
        #expect(entry.request.method == "POST")
        #expect(
            entry.request.url.parts == [
                .literal("https://api.example.com/v1/"),
                .placeholder(Placeholder(name: "path", location: loc(2, 35))),
                .literal("?a=1"),
            ])
        #expect(entry.request.headers.count == 2)
        #expect(entry.request.headers[0].key.literalValue == "Authorization")
        #expect(entry.request.headers[0].value.description == "Bearer {{token}}")
        #expect(entry.request.headers[1].value.literalValue == "a#b")
    }

    @Test("request sections and their aliases")
    func requestSections() throws {
        let entry = try #require(
            try parse(
                """
                GET http://x/
                [QueryStringParams]
                q: zelda
                [FormParams]
                user: demo
                [BasicAuth]
                bob: secret
                [Cookies]
                theme: dark
                [Options]
                retry: 3
                retry-interval: 250ms
                max-time: 2s
                connect-timeout: 500
                location: true
                max-redirs: 5
                insecure: false
                delay: 1m
                skip: false
                variable: n=5
                variable: name=bob
                variable: ratio=0.5
                variable: quoted="x y"
                """
            ).entries.first)
        let r = entry.request
        #expect(r.query.map { $0.key.description + "=" + $0.value.description } == ["q=zelda"])
        #expect(r.form.first?.value.literalValue == "demo")
        #expect(r.basicAuth?.key.literalValue == "bob")
        #expect(r.cookies.first?.key.literalValue == "theme")
        let kinds = r.options.map(\.kind)
        #expect(
            kinds == [
                .retry(3), .retryInterval(.milliseconds(250)), .maxTime(.seconds(2)),
                .connectTimeout(.milliseconds(500)), .location(true), .maxRedirs(5), .insecure(false),
                .delay(.seconds(60)), .skip(false),
                .variable(name: "n", value: .integer(5)),
                .variable(name: "name", value: .string(Template(literal: "bob", location: loc(21, 16)))),
                .variable(name: "ratio", value: .float(0.5, text: "0.5")),
                .variable(name: "quoted", value: .string(Template(literal: "x y", location: loc(23, 18)))),
            ])
    }

    @Test("a JSON body keeps its text and types its placeholders")
    func jsonBody() throws {
        let entry = try #require(
            try parse(
                """
                POST http://x/
                {
                  "n": {{count}},
                  "name": "hi {{who}}"
                }
                HTTP 201
                """
            ).entries.first)
        guard case .json(let template)? = entry.request.body?.kind else {
            Issue.record("expected a JSON body")
            return
        }
        let placeholders = template.parts.compactMap { part -> Placeholder? in
            if case .placeholder(let p) = part { return p }
            return nil
        }
        #expect(placeholders.map(\.name) == ["count", "who"])
        #expect(placeholders.map(\.encoding) == [.jsonValue, .jsonString])
        #expect(template.description == "{\n  \"n\": {{count}},\n  \"name\": \"hi {{who}}\"\n}")
        #expect(entry.response?.status == .code(201))
    }

    @Test("a JSON array body is not mistaken for a section")
    func jsonArrayBody() throws {
        let entry = try #require(try parse("POST http://x/\n[1, 2, {\"a\": [3]}]\nHTTP 200\n").entries.first)
        guard case .json(let t)? = entry.request.body?.kind else {
            Issue.record("expected JSON")
            return
        }
        #expect(t.literalValue == "[1, 2, {\"a\": [3]}]")
    }

    @Test("multiline and one-line bodies")
    func textBodies() throws {
        let script = try parse(
            """
            POST http://x/
            ```json
            {"a": {{n}}}
            line two
            ```

            POST http://x/
            `one {{x}} line`
            """)
        guard case .multiline(let m, let tag)? = script.entries[0].request.body?.kind else {
            Issue.record("multiline")
            return
        }
        #expect(tag == "json")
        #expect(m.description == "{\"a\": {{n}}}\nline two\n")
        guard case .oneline(let o)? = script.entries[1].request.body?.kind else {
            Issue.record("oneline")
            return
        }
        #expect(o.description == "one {{x}} line")
    }

    @Test("response status lines: versions, wildcard and the status position")
    func statusLines() throws {
        let script = try parse(
            """
            GET http://x/1
            HTTP 200
            GET http://x/2
            HTTP/1.1 404
            GET http://x/3
            HTTP/2 *
            GET http://x/4
            """)
        #expect(script.entries.count == 4)
        #expect(script.entries[0].response?.version == .any)
        #expect(script.entries[0].response?.statusLocation == loc(2, 6))
        #expect(script.entries[1].response?.version == .http1_1)
        #expect(script.entries[1].response?.status == .code(404))
        #expect(script.entries[2].response?.status == .any)
        #expect(script.entries[2].response?.version == .http2)
        #expect(script.entries[3].response == nil)
    }

    @Test("response headers, captures, asserts and body")
    func responseParts() throws {
        let response = try #require(
            try parse(
                """
                GET http://x/
                HTTP 200
                Content-Type: application/json
                [Captures]
                token: jsonpath "$.token"
                id: header "X-Id" regex /(\\d+)/ toInt
                [Asserts]
                status == 200
                `exact`
                """
            ).entries.first?.response)
        #expect(response.headers.first?.value.literalValue == "application/json")
        #expect(response.captures.map(\.name) == ["token", "id"])
        #expect(
            response.captures[1].filters.map(\.kind) == [
                .regex(Template(literal: "(\\d+)", location: loc(6, 25))), .toInt,
            ])
        #expect(response.asserts.count == 1)
        guard case .oneline(let body)? = response.body?.kind else {
            Issue.record("body")
            return
        }
        #expect(body.literalValue == "exact")
    }

    @Test("every query parses with its argument")
    func queries() throws {
        let asserts = try #require(
            try parse(
                """
                GET http://x/
                HTTP 200
                [Asserts]
                status == 200
                version == "1.1"
                header "Content-Type" contains "json"
                body contains "ok"
                jsonpath "$.items[0].id" == 1
                regex "id=([0-9]+)" == "7"
                regex /id=(\\d+)/ == "7"
                variable "token" exists
                duration < 500
                url endsWith "/x"
                certificate "Expire-Date" daysAfterNow > 14
                certificate "Subject" contains "CN"
                """
            ).entries.first?.response?.asserts)
        let kinds = asserts.map(\.query.kind)
        #expect(kinds[0] == .status)
        #expect(kinds[1] == .version)
        #expect(kinds[2] == .header(Template(literal: "Content-Type", location: loc(6, 8))))
        #expect(kinds[3] == .body)
        #expect(kinds[4] == .jsonpath(Template(literal: "$.items[0].id", location: loc(8, 10))))
        #expect(kinds[6] == .regex(Template(literal: "id=(\\d+)", location: loc(10, 7))))
        #expect(kinds[7] == .variable("token"))
        #expect(kinds[8] == .duration)
        #expect(kinds[9] == .url)
        #expect(kinds[10] == .certificate(.expireDate))
        #expect(asserts[10].filters.map(\.kind) == [.daysAfterNow])
        #expect(kinds[11] == .certificate(.subject))
        #expect(asserts[0].location == loc(4, 1))
        #expect(asserts[0].predicate.location == loc(4, 8))
    }

    @Test("every filter parses")
    func filters() throws {
        let assert = try #require(
            try parse(
                """
                GET http://x/
                HTTP 200
                [Asserts]
                jsonpath "$.a" count nth -1 first last regex "(x)" split "," replace "a" "b" toInt toFloat toString daysAfterNow exists
                """
            ).entries.first?.response?.asserts.first)
        let names = assert.filters.map { FilterEvaluator.name($0.kind) }
        #expect(
            names == [
                "count", "nth", "first", "last", "regex", "split", "replace", "toInt", "toFloat", "toString",
                "daysAfterNow",
            ])
        #expect(assert.filters[1].kind == .nth(-1))
    }

    @Test("every predicate parses, with not and typed values")
    func predicates() throws {
        let asserts = try #require(
            try parse(
                """
                GET http://x/
                HTTP 200
                [Asserts]
                status == 200
                status != 500
                status > 1
                status >= 1
                status < 600
                status <= 599
                body contains "a"
                body startsWith "a"
                body endsWith `b`
                body matches "^a"
                body matches /^a/
                body exists
                body isString
                body isInteger
                body isFloat
                body isNumber
                body isBoolean
                body isList
                body isEmpty
                body not contains "z"
                jsonpath "$.a" == null
                jsonpath "$.a" == true
                jsonpath "$.a" == false
                jsonpath "$.a" == -12
                jsonpath "$.a" == 5.0
                jsonpath "$.a" == {{v}}
                jsonpath "$.a" == "q\\"uote\\u{1F600}"
                """
            ).entries.first?.response?.asserts)
        #expect(asserts.count == 27)
        #expect(asserts[0].predicate.function == .equal(.integer(200)))
        #expect(asserts[19].predicate.negated)
        #expect(asserts[19].predicate.location == loc(23, 6))
        #expect(asserts[20].predicate.function == .equal(.null))
        #expect(asserts[21].predicate.function == .equal(.bool(true)))
        #expect(asserts[23].predicate.function == .equal(.integer(-12)))
        #expect(asserts[24].predicate.function == .equal(.float(5.0, text: "5.0")))
        guard case .equal(.placeholder(let p)) = asserts[25].predicate.function else {
            Issue.record("placeholder")
            return
        }
        #expect(p.name == "v")
        guard case .equal(.string(let s)) = asserts[26].predicate.function else {
            Issue.record("string")
            return
        }
        #expect(s.literalValue == "q\"uote😀")
    }

    @Test("CRLF line endings and a BOM are accepted")
    func crlfAndBOM() throws {
        let bytes: [UInt8] =
            [0xEF, 0xBB, 0xBF] + Array("GET http://x/\r\nHTTP 200\r\n[Asserts]\r\nstatus == 200\r\n".utf8)
        let script = try ScriptParser.parse(bytes: bytes, path: "a/b/crlf.hurl")
        #expect(script.name == "crlf")
        #expect(script.entries.first?.request.url.literalValue == "http://x/")
        #expect(script.entries.first?.response?.asserts.count == 1)
    }

    @Test("every example check in checks/ parses")
    func examples() throws {
        let files = try ScriptLoader.expand([packageRoot + "/checks"])
        #expect(files.count >= 3)
        for file in files { _ = try ScriptLoader.load(file) }
    }
}
