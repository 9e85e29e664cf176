import Foundation
import Synchronization
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

extension Faults {
    /// Fault area 6: a sweep for secrets. Every command runs with `--secret` values, `SONDE_SECRET_*`
    /// variables, and literal `Authorization` / `Cookie` headers in the scripts, against a loopback
    /// server that echoes what it receives, so the secrets come back in bodies, in failed asserts and in
    /// status errors. Then stdout, stderr, every file under data/ and reports/, the /metrics text and
    /// every webhook body are searched for each secret: as written, JSON-escaped, and any 8 characters
    /// of it in a row (a secret cut in half by a truncated quote is still a leak).
    @Suite("Faults: no secret reaches any output of any command")
    struct FaultsSecretsTests {
        /// Every secret of the sweep, by how it reaches sonde.
        static let secrets: [(name: String, value: String)] = [
            ("--secret api_key", "apikey-7Hq2ZpL9x4Wc"),
            ("SONDE_SECRET_token", "token-Vb3Nm8Kd2Qr5"),
            ("literal Authorization", "basic-Jt6Yw1Hs9Fa3"),
            ("literal Cookie", "cookie-Rz4Pe7Uc2Lm8"),
            ("Set-Cookie from the server", "setcookie-Gk5Xa9Tn3Wy"),
            ("--secret special (JSON metacharacters)", #"spec"i\al-Mq8Dv2Bo"#),
            ("--secret b64 (URL metacharacters)", "b64+Kx/7Wq9=Jd2&Zr?"),
            ("--secret derived (through filters)", "Tk9+aB3/cD4=eF5gH"),
        ]

        /// Secret parts of the webhook URL (user-info and path), which logs show masked.
        static let webhookSecrets: [(name: String, value: String)] = [
            ("webhook URL password", "hookpass-Yt5Rw2Qe"),
            ("webhook URL path token", "hookpath-Nc8Vd3Kx"),
        ]

        static func value(_ name: String) -> String { secrets.first { $0.name == name }!.value }

        /// The echo target. `/raw` answers with the sensitive request headers as plain text (nothing
        /// escaped); `/cut?pad=N&status=S` puts the `X-Cut` header N characters into the body, where
        /// sonde's quotes of a body are cut (status snippet 119, assert actual 200, --verbose 2048);
        /// `/set-cookie` sets a session cookie; anything else is `TestService`'s routes (`/echo`, `/cookies`).
        final class Target: Sendable {
            let server: HTTPServer
            private let seen = TextList()

            init() throws {
                let seen = self.seen
                let flaky = Counter()
                server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
                    let query = request.queryItems.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
                    let form = request.formItems.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
                    seen.append(
                        request.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n") + "\n" + query + "\n"
                            + form)
                    switch request.path {
                    case "/raw":
                        let text = ["Authorization", "X-Special", "X-Api-Key", "Cookie"]
                            .map { "\($0.lowercased())=\(request.header($0) ?? "-")" }.joined(separator: " ")
                        return .text(text)
                    case "/token":
                        // Echoes the X-Token header as `{"token": ...}`, for checks that filter it.
                        return .json("{\"token\":" + JSON.encode(.string(request.header("X-Token") ?? "")) + "}")
                    case "/cut":
                        let pad = request.queryItems.first { $0.name == "pad" }.flatMap { Int($0.value) } ?? 0
                        let status = request.queryItems.first { $0.name == "status" }.flatMap { Int($0.value) } ?? 200
                        return .text(
                            String(repeating: "p", count: pad) + (request.header("X-Cut") ?? "")
                                + " and the rest of it", status: status)
                    case "/set-cookie":
                        return HTTPResponse(
                            status: 200,
                            headers: [
                                HTTPField(
                                    name: "Set-Cookie",
                                    value: "session=\(FaultsSecretsTests.value("Set-Cookie from the server")); Path=/")
                            ],
                            body: .bytes(Array("set".utf8)))
                    default:
                        return TestService.route(request, flaky: flaky)
                    }
                }
            }

            /// Everything the target received (headers and query of each request).
            var received: String { seen.all.joined(separator: "\n") }
        }

        /// Texts kept from server threads.
        final class TextList: Sendable {
            private let list = Mutex<[String]>([])
            func append(_ text: String) { list.withLock { $0.append(text) } }
            var all: [String] { list.withLock { $0 } }
        }

        /// A webhook receiver that keeps each body.
        final class Sink: Sendable {
            let server: HTTPServer
            private let list = TextList()
            init() throws {
                let list = self.list
                let paths = self.pathList
                server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
                    list.append(String(decoding: request.body, as: UTF8.self))
                    paths.append(request.path + " " + (request.header("Authorization") ?? ""))
                    return .text("ok")
                }
            }
            var bodies: [String] { list.all }
            var paths: [String] { pathList.all }
            private let pathList = TextList()
        }

        static func scripts(_ base: String) -> [String: String] {
            let authorization = value("literal Authorization")
            let cookie = value("literal Cookie")
            return [
                // Secrets in the query, a header and Authorization; the echo answers in JSON; an assert quotes it.
                "echo-json": """
                # @every 1s
                # @down-after 1
                GET \(base)/echo?key={{api_key}}
                Authorization: Bearer {{token}}
                X-Api-Key: {{api_key}}
                Cookie: session=\(cookie)
                HTTP 200
                [Asserts]
                jsonpath "$.headers.authorization" == "nope"

                """,
                // The raw echo quoted whole by a failed body assert, JSON metacharacters unescaped.
                "echo-raw": """
                # @every 1s
                # @down-after 1
                GET \(base)/raw
                Authorization: Basic \(authorization)
                X-Special: {{special}}
                X-Api-Key: {{api_key}}
                Cookie: theme=dark; session=\(cookie)
                HTTP 200
                [Asserts]
                body == "nope"

                """,
                // A secret where the assert's quote of the body is cut (200 characters).
                "cut-assert": """
                # @every 1s
                GET \(base)/cut?pad=188
                X-Cut: {{api_key}}
                HTTP 200
                [Asserts]
                body == "nope"

                """,
                // A secret where a status error's quote of the body is cut (119 characters).
                "cut-status": """
                # @every 1s
                # @down-after 1
                GET \(base)/cut?pad=108&status=500
                X-Cut: {{token}}
                HTTP 200

                """,
                // A passing check whose body --verbose cuts at 2,048 bytes, right inside a secret.
                "cut-verbose": """
                # @every 1s
                GET \(base)/cut?pad=2038
                X-Cut: {{api_key}}
                HTTP 200

                """,
                // A base64-like secret in a query and a form: percent-encoded on the wire, in the URL
                // that a status error names, and in the echoed form body.
                "encoded": """
                # @every 1s
                # @down-after 1
                POST \(base)/echo?x=1
                [Query]
                key: {{b64}}
                [Form]
                password: {{b64}}
                HTTP 200
                [Asserts]
                jsonpath "$.body" == "nope"
                GET \(base)/status?code=500
                [Query]
                key: {{b64}}
                HTTP 200

                """,
                "encoded-status": """
                # @every 1s
                GET \(base)/status?code=503
                [Query]
                key: {{b64}}
                HTTP 200

                """,
                // Values derived from a secret by filters, a capture and a template: each keeps 8
                // characters or more of it in a row (`split` 11, `replace` 16), and fails quoting it.
                "derived-split": """
                # @every 1s
                # @down-after 1
                GET \(base)/token
                X-Token: {{derived}}
                HTTP 200
                [Asserts]
                jsonpath "$.token" split "=" nth 0 == "nope"

                """,
                "derived-replace": """
                # @every 1s
                # @down-after 1
                GET \(base)/token
                X-Token: {{derived}}
                HTTP 200
                [Asserts]
                jsonpath "$.token" replace "=" "_" == "nope"

                """,
                "derived-capture": """
                # @every 1s
                # @down-after 1
                GET \(base)/token
                X-Token: {{derived}}
                HTTP 200
                [Captures]
                part: jsonpath "$.token" replace "=" "-"
                GET \(base)/token
                X-Token: x{{part}}y
                HTTP 200
                [Asserts]
                jsonpath "$.token" == "nope"
                GET \(base)/status?code=500&echo={{part}}
                HTTP 200

                """,
                // A cookie set by the server, sent back by the jar, echoed and quoted.
                "cookie-flow": """
                # @every 1s
                # @down-after 1
                GET \(base)/set-cookie
                HTTP 200
                GET \(base)/cookies
                HTTP 200
                [Asserts]
                body == "nope"

                """,
            ]
        }

        /// Each way a secret could show in `text` (and the text found); nil when none does.
        static func leak(of secret: String, in text: String) -> (how: String, found: String)? {
            let escaped = String(JSON.encode(.string(secret)).dropFirst().dropLast())
            let percent = URLEncoding.percentEncode(secret)
            let form = URLEncoding.formEncode(secret)
            for (how, form) in [
                ("as is", secret), ("JSON-escaped", escaped), ("percent-encoded", percent), ("form-encoded", form),
            ] {
                if text.contains(form) { return ("whole (\(how))", form) }
                let characters = Array(form)
                for start in 0...(characters.count - 8) {
                    let window = String(characters[start..<(start + 8)])
                    if text.contains(window) { return ("in part", window) }
                }
            }
            return nil
        }

        /// `found` with up to 80 characters before it.
        static func context(of found: String, in text: String) -> String {
            guard let range = text.range(of: found) else { return found }
            let start = text.index(range.lowerBound, offsetBy: -80, limitedBy: text.startIndex) ?? text.startIndex
            return "…" + String(text[start..<range.upperBound])
        }

        /// Every regular file under `path`, with its text.
        static func files(under path: String) -> [(path: String, text: String)] {
            guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
            var out: [(String, String)] = []
            while let relative = walker.nextObject() as? String {
                let full = path + "/" + relative
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                    let data = FileManager.default.contents(atPath: full)
                {
                    out.append((full, String(decoding: data, as: UTF8.self)))
                }
            }
            return out
        }

        @Test(
            "check, validate, run, status, report and incidents, with secrets echoed back: no secret in any output, whole or in part"
        )
        func sweep() async throws {
            let target = try Target()
            let sink = try Sink()
            let folder = try TemporaryFolder()
            defer { folder.cleanup() }
            for (name, text) in Self.scripts(target.server.baseURL) { try folder.write("checks/\(name).hurl", text) }
            let secretArgs = [
                "--secret", "api_key=\(Self.value("--secret api_key"))",
                "--secret", "b64=\(Self.value("--secret b64 (URL metacharacters)"))",
                "--secret", "special=\(Self.value("--secret special (JSON metacharacters)"))",
                "--secret", "derived=\(Self.value("--secret derived (through filters)"))",
            ]
            let env = ["SONDE_SECRET_token": Self.value("SONDE_SECRET_token")]
            let hook =
                "http://hookuser:\(Self.webhookSecrets[0].value)@127.0.0.1:\(sink.server.port)/hooks/\(Self.webhookSecrets[1].value)"
            var outputs: [(what: String, text: String)] = []
            let timeout: Duration = .seconds(60)

            func run(_ arguments: [String], tag: String, expect codes: Set<Int32>) async throws {
                let result = try await SondeProcess.run(
                    arguments, in: folder.path, environment: env, tag: tag, timeout: timeout)
                guard case .exited(let code) = result.outcome, codes.contains(code) else {
                    Issue.record(
                        "sonde \(arguments.prefix(2).joined(separator: " ")): \(result.outcome), expected \(codes): \(result.err.suffix(500))"
                    )
                    outputs.append(("\(tag) stdout", result.out))
                    outputs.append(("\(tag) stderr", result.err))
                    return
                }
                outputs.append(("\(tag) stdout", result.out))
                outputs.append(("\(tag) stderr", result.err))
            }

            try await run(
                ["check", "checks"] + secretArgs, tag: "check", expect: [ExitCode.assertion, ExitCode.runtime])
            try await run(
                ["check", "--verbose", "checks"] + secretArgs, tag: "check-verbose",
                expect: [ExitCode.assertion, ExitCode.runtime])
            try await run(
                ["check", "--json", "checks"] + secretArgs, tag: "check-json",
                expect: [ExitCode.assertion, ExitCode.runtime])
            try await run(
                ["check", "--secret", "1bad=\(Self.value("--secret api_key"))", "checks"], tag: "check-bad-secret",
                expect: [ExitCode.usage])
            try await run(["validate", "checks"], tag: "validate", expect: [ExitCode.ok])
            // A parse error elsewhere in a file with a literal Authorization header.
            try folder.write(
                "broken/broken.hurl",
                "GET \(target.server.baseURL)/echo\nAuthorization: Basic \(Self.value("literal Authorization"))\nHTTP banana\n"
            )
            try await run(["validate", "broken"], tag: "validate-broken", expect: [ExitCode.parse])
            #expect(outputs.last?.text.contains("broken.hurl:3:6") == true, "the parse error was reported")

            try await run(
                ["run", "--once", "--webhook", hook] + secretArgs, tag: "run-once",
                expect: [ExitCode.assertion])
            let onceBodies = sink.bodies.count

            let daemon = try SondeProcess(
                ["run", "--verbose", "--metrics", "127.0.0.1:0", "--webhook", hook]
                    + secretArgs, in: folder.path, environment: env, tag: "run")
            let startLine = try #require(try await daemon.awaitLog(" start: "), "\(daemon.stderr)")
            let port = try #require(SondeProcess.metricsPort(in: startLine), "\(startLine)")
            try await Task.sleep(for: .seconds(3))
            let metrics = await fetchMetrics(port: port)
            outputs.append(("/metrics", metrics))
            daemon.signal(SIGTERM)
            #expect(try await daemon.finish(timeout: .seconds(20)) == .exited(0))
            outputs.append(("run stdout", daemon.stdout))
            outputs.append(("run stderr", daemon.stderr))

            try await run(["status"], tag: "status", expect: [ExitCode.ok, ExitCode.assertion, ExitCode.runtime])
            try await run(["report", "--out", "reports"], tag: "report", expect: [ExitCode.ok])
            try await run(["report", "--json", "--out", "reports-json"], tag: "report-json", expect: [ExitCode.ok])
            try await run(["incidents", "--out", "reports"], tag: "incidents", expect: [ExitCode.ok])
            for (index, body) in sink.bodies.enumerated() { outputs.append(("webhook body \(index + 1)", body)) }
            for root in ["data", "reports", "reports-json"] {
                for file in Self.files(under: folder.path + "/" + root) { outputs.append((file.path, file.text)) }
            }

            // The sweep is not vacuous: the secrets went out and came back, and every output is there.
            let received = target.received
            for (name, secret) in Self.secrets {
                #expect(received.contains(secret), "the target received \(name)")
            }
            #expect(
                sink.paths.contains { $0.hasPrefix("/hooks/\(Self.webhookSecrets[1].value) Basic ") },
                "webhooks went to the URL with credentials")
            #expect(metrics.contains("sonde_runs_total"), "/metrics answered")
            #expect(onceBodies >= 1, "run --once delivered its webhooks before exiting: \(onceBodies)")
            #expect(sink.bodies.count > onceBodies, "the daemon delivered webhooks")
            #expect(outputs.contains { $0.what.hasSuffix("incidents.jsonl") }, "incidents.jsonl written")
            #expect(outputs.contains { $0.what.hasSuffix("reports/README.md") }, "report written")
            #expect(outputs.contains { $0.what.contains("reports/incidents/") }, "incident write-ups written")
            #expect(outputs.contains { $0.text.contains("***") }, "redactions show as ***")
            #expect(outputs.count >= 20, "\(outputs.count) outputs searched")

            // Searched on a thread of its own (a few MB of text, many windows): the pool stays free.
            let searched = outputs.map { (what: $0.what, text: $0.text) }
            let leaks = try await offPool { () -> [String] in
                var found: [String] = []
                for (what, text) in searched {
                    for (name, secret) in Self.secrets + Self.webhookSecrets {
                        if let (how, match) = Self.leak(of: secret, in: text) {
                            found.append("\(name) leaked \(how) in \(what): \(Self.context(of: match, in: text))")
                        }
                    }
                }
                return found
            }
            for leak in leaks { Issue.record(Comment(rawValue: leak)) }
        }

        @Test("a quote cut inside a secret keeps none of it; JSON output escapes nothing the redactor then misses")
        func cutAndEscaped() {
            let secret = "s3cr3t-Value-42x"
            let redactor = Redactor(secrets: [secret, #"a"b\c-d9"#])
            #expect(redactor.redact("status 500 — pppp" + secret.prefix(9) + "…") == "status 500 — pppp***…")
            #expect(redactor.redact("<ppp" + secret.prefix(12) + "…> (300 bytes)") == "<ppp***…> (300 bytes)")
            #expect(redactor.redact("x " + secret + " y " + secret.prefix(5) + "…") == "x *** y ***…")
            // Two characters are not masked: too little to matter, and too likely to be ordinary text.
            #expect(redactor.redact("ends with s3…") == "ends with s3…")
            // Seven characters in a row are left; eight are masked wherever they stand.
            #expect(redactor.redact("no cut here s3cr3t-") == "no cut here s3cr3t-")
            #expect(redactor.redact("no cut here s3cr3t-V") == "no cut here ***")
            let derived = Redactor(secrets: ["Tk9+aB3/cD4=eF5gH"])
            #expect(derived.redact("<Tk9+aB3/cD4>") == "<***>")
            #expect(derived.redact("actual: Tk9+aB3/cD4_eF5gH") == "actual: ***_eF5gH")
            #expect(derived.redact("x9+aB3/cD4=eF5gHx") == "x***x")
            let result = RunResult(
                check: "c", path: "c.hurl", startedAt: Date(), durationMs: 1, entries: [],
                failure: RunFailure(
                    kind: .assert, entry: 1, location: SourceLocation(line: 2, column: 1),
                    summary: #"body == "x" (actual: a"b\c-d9)"#))
            let json = CheckReport(redactor: redactor).json(result)
            #expect(!json.contains(#"a\"b\\c-d9"#) && json.contains("***"), "\(json)")
        }

        @Test("a secret sent percent-encoded in a query or a form is redacted in that form too")
        func encodedForms() {
            let redactor = Redactor(secrets: ["b64+Kx/7 Wq9="])
            #expect(redactor.redact("HTTP status of /s?key=b64%2BKx%2F7%20Wq9%3D") == "HTTP status of /s?key=***")
            #expect(redactor.redact("actual: string <password=b64%2BKx%2F7+Wq9%3D>") == "actual: string <password=***>")
            #expect(redactor.redact("plain b64+Kx/7 Wq9=") == "plain ***")
        }
    }
}
