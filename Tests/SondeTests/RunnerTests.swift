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

@Suite("Runner, end to end over loopback")
struct RunnerTests {
    let service: TestService

    init() throws {
        service = try TestService()
    }

    func run(_ source: String, _ variables: [String: Value] = [:]) async throws -> RunResult {
        try await runScript(source, baseURL: service.baseURL, variables: variables)
    }

    // MARK: queries

    @Test("status, header, body and url queries read the response")
    func basicQueries() async throws {
        let result = try await run(
            """
            GET {{base_url}}/text
            HTTP 200
            X-Trace: abc-123
            [Asserts]
            status == 200
            header "x-trace" == "abc-123"
            header "X-Missing" not exists
            body contains "hello sonde"
            body startsWith "hello"
            body endsWith "second line"
            url endsWith "/text"
            version == "1.1"
            duration < 5000
            """)
        #expect(result.ok, "\(String(describing: result.failure))")
        #expect(result.entries.count == 1)
    }

    @Test("jsonpath queries follow Hurl's coercion and typing")
    func jsonpathQueries() async throws {
        let result = try await run(
            """
            GET {{base_url}}/json
            HTTP 200
            [Asserts]
            jsonpath "$.name" == "sonde"
            jsonpath "$.count" == 3
            jsonpath "$.count" == 3.0
            jsonpath "$.count" != "3"
            jsonpath "$.price" == 19.99
            jsonpath "$.ratio" isFloat
            jsonpath "$.count" isInteger
            jsonpath "$.count" isNumber
            jsonpath "$.ok" isBoolean
            jsonpath "$.ok" == true
            jsonpath "$.ok" != "true"
            jsonpath "$.none" == null
            jsonpath "$.tags" isList
            jsonpath "$.tags" contains "b"
            jsonpath "$.empty" isEmpty
            jsonpath "$.blank" isEmpty
            jsonpath "$.name" isString
            jsonpath "$.missing" not exists
            jsonpath "$.items[*].id" count == 3
            jsonpath "$.items[?(@.price > 10)].id" count == 2
            jsonpath "$.items[-1].id" == 3
            jsonpath "$.count" > 2
            jsonpath "$.count" >= 3
            jsonpath "$.count" < 4
            jsonpath "$.count" <= 3
            jsonpath "$.name" matches "^so.de$"
            jsonpath "$.name" matches /^so.de$/
            """)
        #expect(result.ok, "\(String(describing: result.failure))")
    }

    @Test("regex and variable queries, and every filter")
    func regexVariableAndFilters() async throws {
        let result = try await run(
            """
            GET {{base_url}}/text
            HTTP 200
            [Captures]
            version: regex "version ([0-9.]+)"
            [Asserts]
            variable "version" == "1.2.3"
            regex /version (\\d+)/ == "1"
            body regex "hello (\\\\w+)" == "sonde"

            GET {{base_url}}/json
            HTTP 200
            [Asserts]
            jsonpath "$.tags" count == 3
            jsonpath "$.tags" nth 1 == "b"
            jsonpath "$.tags" first == "a"
            jsonpath "$.tags" last == "c"
            jsonpath "$.csv" split "," count == 3
            jsonpath "$.csv" split "," nth 2 == "z"
            jsonpath "$.csv" replace "," ";" == "x;y;z"
            jsonpath "$.num" toInt == 42
            jsonpath "$.fnum" toFloat == 2.5
            jsonpath "$.count" toString == "3"
            jsonpath "$.name" regex "(s..)" == "son"
            """)
        #expect(result.ok, "\(String(describing: result.failure))")
    }

    @Test("a repeated response header matches any of its values and counts as a list")
    func repeatedHeaders() async throws {
        let result = try await run(
            """
            GET {{base_url}}/multi-header
            HTTP 200
            X-Dup: two
            [Asserts]
            header "X-Dup" count == 2
            header "X-Dup" contains "one"
            """)
        #expect(result.ok, "\(String(describing: result.failure))")
    }

    // MARK: request sections and bodies

    @Test("query, form, basic auth, cookies and headers reach the server")
    func requestSections() async throws {
        let result = try await run(
            """
            POST {{base_url}}/echo
            X-Custom: {{who}}
            [Query]
            q: hello world
            n: {{n}}
            [Form]
            name: sonde probe
            [BasicAuth]
            bob: secret
            [Cookies]
            theme: dark
            HTTP 200
            [Asserts]
            jsonpath "$.method" == "POST"
            jsonpath "$.query" == "q=hello%20world&n=7"
            jsonpath "$.body" == "name=sonde+probe"
            jsonpath "$.headers['x-custom']" == "me"
            jsonpath "$.headers['content-type']" == "application/x-www-form-urlencoded"
            jsonpath "$.headers['authorization']" == "Basic Ym9iOnNlY3JldA=="
            jsonpath "$.headers['cookie']" contains "theme=dark"
            """, ["who": .string("me"), "n": .integer(7)])
        #expect(result.ok, "\(String(describing: result.failure))")
    }

    @Test("JSON bodies insert typed variables and set the content type")
    func jsonBody() async throws {
        let result = try await run(
            """
            PUT {{base_url}}/echo
            {"count": {{n}}, "name": "{{who}}", "flag": {{flag}}}
            HTTP 200
            [Asserts]
            jsonpath "$.method" == "PUT"
            jsonpath "$.body" == "{\\"count\\": 7, \\"name\\": \\"me\\", \\"flag\\": true}"
            jsonpath "$.headers['content-type']" == "application/json"
            """, ["who": .string("me"), "n": .integer(7), "flag": .bool(true)])
        #expect(result.ok, "\(String(describing: result.failure))")
    }

    @Test("multiline and one-line bodies are sent verbatim")
    func textBodies() async throws {
        let result = try await run(
            """
            POST {{base_url}}/echo
            ```
            line one
            line {{n}}
            ```
            HTTP 200
            [Asserts]
            jsonpath "$.body" == "line one\\nline 2\\n"

            POST {{base_url}}/echo
            `single line`
            HTTP 200
            [Asserts]
            jsonpath "$.body" == "single line"
            """, ["n": .integer(2)])
        #expect(result.ok, "\(String(describing: result.failure))")
    }

    @Test("implicit JSON and text bodies are compared")
    func implicitBodies() async throws {
        let pass = try await run(
            """
            GET {{base_url}}/cookies
            Cookie: a=1
            HTTP 200
            `a=1`
            """)
        #expect(pass.ok, "\(String(describing: pass.failure))")
        let fail = try await run(
            """
            GET {{base_url}}/text
            HTTP 200
            `something else`
            """)
        #expect(fail.failure?.kind == .assert)
    }

    // MARK: captures and variables

    @Test("captures feed later entries and keep their type")
    func capturesChain() async throws {
        let result = try await run(
            """
            GET {{base_url}}/json
            HTTP 200
            [Captures]
            count: jsonpath "$.count"
            name: jsonpath "$.name"

            GET {{base_url}}/echo?c={{count}}
            HTTP 200
            [Asserts]
            jsonpath "$.query" == "c=3"
            variable "count" == 3
            variable "count" isInteger
            variable "name" == "sonde"
            jsonpath "$.method" == {{method}}
            """, ["method": .string("GET")])
        #expect(result.ok, "\(String(describing: result.failure))")
    }

    @Test("an unknown variable fails the run as a template error at the placeholder")
    func unknownVariable() async throws {
        let result = try await run(
            """
            GET {{base_url}}/json
            HTTP 200

            GET {{base_url}}/{{nope}}
            HTTP 200
            """)
        #expect(result.failure?.kind == .template)
        #expect(result.failure?.entry == 2)
        #expect(result.failure?.location.line == 4)
        #expect(result.failure?.summary.contains("nope") == true)
        #expect(CheckCommand.exitCode([result]) == ExitCode.runtime)
    }

    @Test("a capture without a value is a capture error")
    func captureWithoutValue() async throws {
        let result = try await run(
            """
            GET {{base_url}}/json
            HTTP 200
            [Captures]
            token: jsonpath "$.token"
            """)
        #expect(result.failure?.kind == .capture)
        #expect(result.failure?.summary.contains("token") == true)
    }

    // MARK: failures and the order of checks

    @Test("a failing second entry stops the run and names its line, actual and expected")
    func failingSecondEntry() async throws {
        let result = try await run(
            """
            GET {{base_url}}/json
            HTTP 200

            GET {{base_url}}/json
            HTTP 200
            [Asserts]
            jsonpath "$.count" == 4

            GET {{base_url}}/json
            HTTP 200
            """)
        let failure = try #require(result.failure)
        #expect(failure.kind == .assert)
        #expect(failure.entry == 2)
        #expect(failure.location == SondeScript.SourceLocation(line: 7, column: 1))
        #expect(failure.actual == "integer <3>")
        #expect(failure.expected == "integer <4>")
        #expect(
            failure.message == "entry 2 line 7: jsonpath \"$.count\" == 4 (actual: integer <3>, expected: integer <4>)")
        #expect(result.entries.count == 2)
        #expect(CheckCommand.exitCode([result]) == ExitCode.assertion)
    }

    @Test("a wrong status is a status error and hides the entry's asserts")
    func wrongStatus() async throws {
        let result = try await run(
            """
            GET {{base_url}}/status?code=503
            HTTP 200
            [Asserts]
            body == "nope"
            """)
        let failure = try #require(result.failure)
        #expect(failure.kind == .status)
        #expect(failure.actual == "503 — status 503", "the status and what the server said")
        #expect(failure.expected == "200")
        #expect(failure.summary == "HTTP status of /status?code=503")
        #expect(failure.location == SondeScript.SourceLocation(line: 2, column: 6))
        #expect(failure.others.isEmpty)
    }

    @Test("HTTP * accepts any status and a missing header is a header error")
    func anyStatusAndHeaders() async throws {
        let any = try await run(
            """
            GET {{base_url}}/status?code=418
            HTTP *
            [Asserts]
            status == 418
            """)
        #expect(any.ok)
        let header = try await run(
            """
            GET {{base_url}}/text
            HTTP 200
            X-Trace: other
            """)
        #expect(header.failure?.kind == .header)
    }

    @Test("every failing assert of the entry is reported, the first gives the kind")
    func allAssertsReported() async throws {
        let result = try await run(
            """
            GET {{base_url}}/json
            HTTP 200
            [Asserts]
            jsonpath "$.count" == 1
            jsonpath "$.name" == "sonde"
            jsonpath "$.ok" == false
            """)
        let failure = try #require(result.failure)
        #expect(failure.location.line == 4)
        #expect(failure.others.count == 1)
        #expect(failure.others.first?.location.line == 6)
    }

    // MARK: options

    @Test("retry re-runs a failing entry until it passes")
    func retryUntilPass() async throws {
        let result = try await run(
            """
            GET {{base_url}}/flaky
            [Options]
            retry: 5
            retry-interval: 10ms
            HTTP 200
            """)
        #expect(result.ok)
        #expect(result.entries.first?.attempts == 3)
    }

    @Test("retry gives up after the given number of retries")
    func retryGivesUp() async throws {
        let result = try await run(
            """
            GET {{base_url}}/status?code=500
            [Options]
            retry: 2
            retry-interval: 1ms
            HTTP 200
            """)
        #expect(result.failure?.kind == .status)
        #expect(result.entries.first?.attempts == 3)
    }

    @Test("redirects are followed only with location: true")
    func redirects() async throws {
        let plain = try await run(
            """
            GET {{base_url}}/redirect
            HTTP 302
            [Asserts]
            header "Location" == "/json"
            """)
        #expect(plain.ok, "\(String(describing: plain.failure))")
        let followed = try await run(
            """
            GET {{base_url}}/redirect
            [Options]
            location: true
            max-redirs: 3
            HTTP 200
            [Asserts]
            url endsWith "/json"
            jsonpath "$.name" == "sonde"
            """)
        #expect(followed.ok, "\(String(describing: followed.failure))")
        let capped = try await run(
            """
            GET {{base_url}}/redirect
            [Options]
            location: true
            max-redirs: 0
            HTTP 200
            """)
        #expect(capped.ok == false)
    }

    @Test("skip leaves an entry out, delay waits and variable sets a value")
    func skipDelayVariable() async throws {
        let started = ContinuousClock.now
        let result = try await run(
            """
            GET {{base_url}}/status?code=500
            [Options]
            skip: true
            HTTP 200

            GET {{base_url}}/echo?x={{x}}
            [Options]
            delay: 200ms
            variable: x=5
            HTTP 200
            [Asserts]
            jsonpath "$.query" == "x=5"
            variable "x" == 5
            """)
        #expect(result.ok, "\(String(describing: result.failure))")
        #expect(result.entries.first?.skipped == true)
        #expect(ContinuousClock.now - started >= .milliseconds(200))
    }

    @Test("cookies set by one entry are sent by the next, in one run only")
    func cookieJarPerRun() async throws {
        let source = """
            GET {{base_url}}/set-cookie
            HTTP 200

            GET {{base_url}}/cookies
            HTTP 200
            [Asserts]
            body == "session=s3cr3t"
            """
        #expect(try await run(source).ok)
        let fresh = try await run(
            """
            GET {{base_url}}/cookies
            HTTP 200
            [Asserts]
            body == ""
            """)
        #expect(fresh.ok)
    }

    // MARK: faults

    @Test("max-time against a server that never answers fails as timeout")
    func timeout() async throws {
        let result = try await run(
            """
            GET {{base_url}}/hang
            [Options]
            max-time: 500ms
            HTTP 200
            """)
        #expect(result.failure?.kind == .timeout)
        #expect(result.failure?.summary.contains("max-time 500 ms") == true)
        #expect(CheckCommand.exitCode([result]) == ExitCode.runtime)
    }

    @Test("the run deadline of @timeout caps every request")
    func runDeadline() async throws {
        let result = try await run(
            """
            # @timeout 400ms
            GET {{base_url}}/hang
            HTTP 200
            """)
        #expect(result.failure?.kind == .timeout)
        #expect(result.failure?.summary.contains("deadline") == true)
    }

    @Test("a refused connection is a connect error")
    func connectionRefused() async throws {
        let closed = try HTTPServer(host: "127.0.0.1", port: 0) { _ in .text("") }
        let url = closed.baseURL
        closed.stop()
        let result = try await runScript("GET {{base_url}}/\nHTTP 200\n", baseURL: url)
        #expect(result.failure?.kind == .connect)
    }

    @Test("an unknown host is a dns error")
    func unknownHost() async throws {
        let result = try await runScript(
            "GET http://sonde-test-host.invalid/\n[Options]\nmax-time: 5s\nHTTP 200\n", baseURL: "")
        #expect(result.failure?.kind == .dns)
    }

    @Test("malformed HTTP is a protocol error")
    func malformed() async throws {
        let result = try await run("GET {{base_url}}/malformed\nHTTP 200\n")
        #expect(result.failure?.kind == .protocol)
    }

    @Test("a 200 MiB body is cut at the cap as too-large")
    func hugeBody() async throws {
        let result = try await run("GET {{base_url}}/big\nHTTP 200\n")
        #expect(result.failure?.kind == .tooLarge)
    }

    @Test("a body in ISO-8859-1 is decoded by its charset")
    func charset() async throws {
        let result = try await run(
            """
            GET {{base_url}}/latin1
            HTTP 200
            [Asserts]
            body == "café"
            """)
        #expect(result.ok, "\(String(describing: result.failure))")
    }
}
