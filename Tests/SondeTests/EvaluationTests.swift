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

@Suite("JSON and JSONPath")
struct JSONTests {
    @Test("integers stay integers, floats floats, and object order is kept")
    func typing() throws {
        let v = try JSON.parse(#"{"b": 1, "a": 1.0, "c": 1e2, "d": -0, "e": "\u00e9\ud83d\ude00", "f": [true, null]}"#)
        #expect(try JSONPath("$.b").evaluate(v) == [.integer(1)])
        guard case .object(let pairs) = v else {
            Issue.record("object")
            return
        }
        #expect(pairs.map(\.key) == ["b", "a", "c", "d", "e", "f"])
        if case .float = pairs[1].value {} else { Issue.record("1.0 must be a float") }
        if case .float(let d) = pairs[2].value { #expect(d == 100) } else { Issue.record("1e2 must be a float") }
        #expect(pairs[4].value == .string("é😀"))
        #expect(JSON.encode(v) == #"{"b":1,"a":1.0,"c":100.0,"d":0,"e":"é😀","f":[true,null]}"#)
    }

    @Test("hostile JSON is an error with an offset, never a crash")
    func hostile() {
        let inputs: [[UInt8]] = [
            Array(String(repeating: "[", count: 100_000).utf8),
            Array("1e999999".utf8), Array("[1,".utf8), Array("{\"a\" 1}".utf8), Array("\"\\ud800\"".utf8),
            [0x22, 0xFF, 0xFE, 0x22], Array("01".utf8), Array("tru".utf8), [],
        ]
        for input in inputs {
            do {
                let value = try JSON.parse(input)
                // Only the huge exponent and the lone surrogate may parse (as a float / a replacement).
                #expect(
                    value == .float(.infinity) || value == .string("\u{FFFD}") || value == .string("\u{FFFD}\u{FFFD}"))
            } catch {
                #expect(error.offset >= 0 && error.offset <= input.count)
            }
        }
        #expect(throws: JSONError.self) {
            try JSON.parse(String(repeating: "[", count: 600) + String(repeating: "]", count: 600))
        }
    }

    static let store = #"""
        {"store": {"book": [
          {"category": "reference", "author": "Rees", "title": "Sayings", "price": 8.95},
          {"category": "fiction", "author": "Waugh", "title": "Sword", "price": 12.99},
          {"category": "fiction", "author": "Melville", "title": "Moby Dick", "isbn": "0-553", "price": 8.99},
          {"category": "fiction", "author": "Tolkien", "title": "LOTR", "isbn": "0-395", "price": 22.99}
        ], "bicycle": {"color": "red", "price": 399}}}
        """#

    @Test("RFC 9535 selectors on the bookstore")
    func bookstore() throws {
        let root = try JSON.parse(Self.store)
        func eval(_ p: String) throws -> [Value] { try JSONPath(p).evaluate(root) }
        #expect(try eval("$.store.book[*].author").count == 4)
        #expect(try eval("$..author").count == 4)
        #expect(try eval("$.store.*").count == 2)
        #expect(try eval("$.store..price").count == 5)
        #expect(try eval("$..book[2].title") == [.string("Moby Dick")])
        #expect(try eval("$..book[-1].title") == [.string("LOTR")])
        #expect(try eval("$..book[0,1].title") == [.string("Sayings"), .string("Sword")])
        #expect(try eval("$..book[:2].title") == [.string("Sayings"), .string("Sword")])
        #expect(try eval("$..book[::-1].title").first == .string("LOTR"))
        #expect(try eval("$..book[?@.isbn].title") == [.string("Moby Dick"), .string("LOTR")])
        #expect(try eval("$..book[?@.price < 10].title") == [.string("Sayings"), .string("Moby Dick")])
        #expect(try eval("$..book[?(@.category == 'fiction' && @.price > 20)].author") == [.string("Tolkien")])
        #expect(try eval("$..book[?!(@.category == 'fiction')].author") == [.string("Rees")])
        #expect(try eval("$.store['bicycle'][\"color\"]") == [.string("red")])
        #expect(try eval("$..*").count > 20)
        #expect(try eval("$.nothing").isEmpty)
    }

    @Test("invalid JSONPath expressions are errors with a position")
    func invalidPaths() {
        for bad in ["store", "$.", "$[", "$[?@.a ==]", "$['unterminated", "$..[1"] {
            #expect(throws: JSONPathError.self, "\(bad)") { try JSONPath(bad) }
        }
    }
}

@Suite("Predicates, filters and templates")
struct EvaluationTests {
    func outcome(
        _ function: SondeScript.Predicate.Function, _ actual: Value?, negated: Bool = false,
        variables: Variables = Variables()
    ) throws -> PredicateOutcome {
        try PredicateEvaluator.evaluate(
            SondeScript.Predicate(negated: negated, function: function, location: loc(1, 1)),
            actual: actual, variables: variables)
    }

    func str(_ s: String) -> PredicateValue { .string(Template(literal: s, location: loc(1, 1))) }

    @Test("typing: \"1\" is not 1, true is not \"true\", 5 equals 5.0, null only equals null")
    func typing() throws {
        #expect(try outcome(.equal(.integer(1)), .string("1")).passed == false)
        #expect(try outcome(.equal(str("true")), .bool(true)).passed == false)
        #expect(try outcome(.equal(.float(5.0, text: "5.0")), .integer(5)).passed)
        #expect(try outcome(.equal(.null), .null).passed)
        #expect(try outcome(.equal(.null), .integer(0)).passed == false)
        #expect(try outcome(.equal(.null), nil).passed == false)
        #expect(try outcome(.notEqual(.integer(1)), .string("1")).passed)
    }

    @Test("failure messages show both sides with their types")
    func messages() throws {
        let o = try outcome(.equal(.integer(5)), .integer(4))
        #expect(o.actual == "integer <4>" && o.expected == "integer <5>")
        #expect(try outcome(.greater(.integer(5)), .integer(4)).expected == "greater than integer <5>")
        #expect(try outcome(.contains(str("x")), .string("abc")).expected == "contains string <x>")
        #expect(try outcome(.exists, nil).actual == "none")
        #expect(try outcome(.equal(.integer(5)), .integer(4), negated: true).expected == "not integer <5>")
        #expect(try outcome(.equal(.integer(1)), .list([.integer(1), .integer(2)])).actual == "list <[1,2]>")
    }

    @Test("ordering works between numbers, strings and dates, and fails across types")
    func ordering() throws {
        #expect(try outcome(.greater(.float(2.5, text: "2.5")), .integer(3)).passed)
        #expect(try outcome(.lessOrEqual(.integer(3)), .float(3.0)).passed)
        #expect(try outcome(.less(str("b")), .string("a")).passed)
        #expect(try outcome(.greater(.integer(1)), .string("2")).passed == false)
        #expect(try outcome(.greaterOrEqual(.integer(1)), nil).passed == false)
    }

    @Test("string and list predicates, types and emptiness, with not")
    func otherPredicates() throws {
        #expect(try outcome(.contains(.integer(2)), .list([.integer(1), .integer(2)])).passed)
        #expect(try outcome(.contains(str("2")), .list([.integer(2)])).passed == false)
        #expect(try outcome(.startsWith(str("ab")), .string("abc")).passed)
        #expect(try outcome(.endsWith(str("bc")), .string("abc")).passed)
        #expect(try outcome(.matches(Template(literal: "^a.c$", location: loc(1, 1))), .string("abc")).passed)
        #expect(try outcome(.isInteger, .integer(1)).passed)
        #expect(try outcome(.isInteger, .float(1)).passed == false)
        #expect(try outcome(.isFloat, .float(1)).passed)
        #expect(try outcome(.isFloat, .integer(1)).passed == false)
        #expect(try outcome(.isNumber, .float(1)).passed)
        #expect(try outcome(.isNumber, .string("1")).passed == false)
        #expect(try outcome(.isBoolean, .bool(false)).passed)
        #expect(try outcome(.isList, .list([])).passed)
        #expect(try outcome(.isString, .string("")).passed)
        #expect(try outcome(.isEmpty, .string("")).passed)
        #expect(try outcome(.isEmpty, .list([])).passed)
        #expect(try outcome(.isEmpty, .string(" ")).passed == false)
        #expect(try outcome(.exists, nil, negated: true).passed)
        #expect(try outcome(.exists, .null).passed)
        #expect(throws: EvalError.self) {
            try outcome(
                .matches(
                    Template(parts: [.placeholder(Placeholder(name: "re", location: loc(1, 1)))], location: loc(1, 1))),
                .string("x"),
                variables: {
                    var v = Variables()
                    v.set("re", .string("("))
                    return v
                }())
        }
    }

    func filter(_ kind: Filter.Kind, _ value: Value?, now: Date = Date()) throws -> Value? {
        try FilterEvaluator.apply(Filter(kind: kind, location: loc(1, 1)), to: value, variables: Variables(), now: now)
    }

    @Test("filters transform values and fail clearly on the wrong input")
    func filters() throws {
        let list = Value.list([.string("a"), .string("b"), .string("c")])
        #expect(try filter(.count, list) == .integer(3))
        #expect(try filter(.nth(-1), list) == .string("c"))
        #expect(try filter(.first, list) == .string("a"))
        #expect(try filter(.last, list) == .string("c"))
        #expect(
            try filter(.split(Template(literal: ",", location: loc(1, 1))), .string("x,y"))
                == .list([.string("x"), .string("y")]))
        #expect(
            try filter(
                .replace(Template(literal: ".", location: loc(1, 1)), Template(literal: "-", location: loc(1, 1))),
                .string("1.2.3")) == .string("1-2-3"))
        #expect(try filter(.regex(Template(literal: "v(\\d+)", location: loc(1, 1))), .string("v42")) == .string("42"))
        #expect(try filter(.toInt, .string("42")) == .integer(42))
        #expect(try filter(.toInt, .float(4.9)) == .integer(4))
        #expect(try filter(.toFloat, .string("2.5")) == .float(2.5))
        #expect(try filter(.toString, .integer(7)) == .string("7"))
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(try filter(.daysAfterNow, .date(now.addingTimeInterval(15.5 * 86_400)), now: now) == .integer(15))
        let bad: [(Filter.Kind, Value)] = [
            (.count, .string("abc")), (.nth(5), list), (.first, .list([])),
            (.toInt, .string("abc")), (.daysAfterNow, .string("x")),
        ]
        for (kind, value) in bad {
            #expect(throws: EvalError.self) { try filter(kind, value) }
        }
        do {
            _ = try filter(.count, nil)
            Issue.record("a filter on no value must fail")
        } catch {
            #expect((error as? EvalError)?.message.contains("count") == true)
        }
    }

    @Test("templates render each encoding and name an undefined variable")
    func templates() throws {
        var vars = Variables()
        vars.set("n", .integer(5))
        vars.set("s", .string("a\"b"))
        vars.set("f", .float(2.0))
        let at = loc(3, 7)
        func t(_ name: String, _ encoding: Placeholder.Encoding) -> Template {
            Template(
                parts: [
                    .literal("<"), .placeholder(Placeholder(name: name, encoding: encoding, location: at)),
                    .literal(">"),
                ],
                location: at)
        }
        #expect(try TemplateRenderer.render(t("n", .plain), vars) == "<5>")
        #expect(try TemplateRenderer.render(t("s", .plain), vars) == "<a\"b>")
        #expect(try TemplateRenderer.render(t("s", .jsonValue), vars) == "<\"a\\\"b\">")
        #expect(try TemplateRenderer.render(t("s", .jsonString), vars) == "<a\\\"b>")
        #expect(try TemplateRenderer.render(t("f", .plain), vars) == "<2.0>")
        #expect(try TemplateRenderer.value(of: .placeholder(Placeholder(name: "n", location: at)), vars) == .integer(5))
        do {
            _ = try TemplateRenderer.render(t("missing", .plain), vars)
            Issue.record("undefined variable must fail")
        } catch {
            #expect(error.isTemplateError)
            #expect(error.location == at)
            #expect(error.message.contains("'missing'"))
        }
    }

    @Test("the redactor hides every secret, longest first, and knows the sensitive headers")
    func redactor() {
        let r = Redactor(secrets: ["abc", "abcdef", ""])
        #expect(r.redact("x abcdef y abc z") == "x *** y *** z")
        #expect(Redactor.isSensitiveHeader("authorization") && Redactor.isSensitiveHeader("Set-Cookie"))
        #expect(!Redactor.isSensitiveHeader("Content-Type"))
        var vars = Variables()
        vars.set("k", .string("secret-value"), secret: true)
        vars.set("plain", .string("shown"))
        #expect(vars.secretValues == ["secret-value"])
    }
}
