import Foundation
import SondeIncidents
import SondeProbe
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// Renders run results the way `hurl --test` does: one line per file, an error block per failure,
/// then a summary. Every string passes through the redactor: secrets never reach the output.
package struct CheckReport: Sendable {
    /// Masks secrets in everything written.
    var redactor: Redactor

    package init(redactor: Redactor) {
        self.redactor = redactor
    }

    /// `checks/health.hurl: Success (2 requests in 41 ms)`.
    package func fileLine(_ result: RunResult) -> String {
        let requests = result.entries.filter { !$0.skipped }.reduce(0) { $0 + $1.attempts }
        let noun = requests == 1 ? "request" : "requests"
        let verdict = result.ok ? "Success" : "Failure"
        return redactor.redact(
            "\(result.path): \(verdict) (\(requests) \(noun) in \(DurationText.milliseconds(result.durationMs)))")
    }

    /// The Hurl-style error block for a failed run, with the source line and a caret.
    package func errorBlocks(_ result: RunResult, script: CheckScript) -> String {
        guard let failure = result.failure else { return "" }
        let entry = script.entries.indices.contains(failure.entry - 1) ? script.entries[failure.entry - 1] : nil
        var out = block(failure, script: script, requestLine: entry?.location.line)
        for other in failure.others {
            out += block(other, script: script, requestLine: entry?.location.line)
        }
        return redactor.redact(out)
    }

    private func block(_ failure: RunFailure, script: CheckScript, requestLine: Int?) -> String {
        let line = failure.location.line
        let gutter = String(max(line, 1)).count + 1
        let blank = String(repeating: " ", count: gutter)
        var out = "error: \(failure.title)\n"
        out += "\(blank)--> \(script.path):\(line):\(failure.location.column)\n"
        out += "\(blank)|\n"
        if let requestLine, requestLine != line, let text = script.sourceLine(requestLine) {
            out += "\(blank)| \(text)\n"
            if line > requestLine + 1 { out += "\(blank)| ...\n" }
        }
        if line >= 1, let text = script.sourceLine(line) {
            out += String(line).leftPadded(to: gutter - 1, with: " ") + " | \(text)\n"
            if let actual = failure.actual, let expected = failure.expected {
                if failure.summary != text.trimmingCharacters(in: .whitespaces) {
                    out += "\(blank)|   \(failure.summary)\n"
                }
                out += "\(blank)|   actual:   \(actual)\n"
                out += "\(blank)|   expected: \(expected)\n"
            } else {
                let prefix = caretPrefix(text, column: failure.location.column)
                let width = caretWidth(text, column: failure.location.column)
                out += "\(blank)| \(prefix)\(String(repeating: "^", count: width)) \(failure.summary)\n"
            }
        } else {
            out += "\(blank)| \(failure.summary)\n"
        }
        out += "\(blank)|\n\n"
        return out
    }

    /// Spaces (tabs kept) up to `column` so the caret lines up under the source.
    private func caretPrefix(_ line: String, column: Int) -> String {
        String(line.unicodeScalars.prefix(max(column - 1, 0)).map { $0 == "\t" ? "\t" : " " })
    }

    /// The caret spans the word at `column` (a URL, a status code), at least one character.
    private func caretWidth(_ line: String, column: Int) -> Int {
        let scalars = Array(line.unicodeScalars.dropFirst(max(column - 1, 0)))
        let word = scalars.prefix { $0 != " " && $0 != "\t" }.count
        return max(1, min(word, 120))
    }

    /// The closing summary.
    package func summary(_ results: [RunResult], durationMs: Double) -> String {
        let files = results.count
        let succeeded = results.filter(\.ok).count
        let failed = files - succeeded
        let requests = results.reduce(0) { total, run in
            total + run.entries.filter { !$0.skipped }.reduce(0) { $0 + $1.attempts }
        }
        let seconds = max(durationMs / 1000, 0.001)
        func percent(_ n: Int) -> String {
            files == 0 ? "0.0%" : String(format: "%.1f%%", Double(n) * 100 / Double(files))
        }
        return """
            --------------------------------------------------------------------------------
            Executed files:    \(files)
            Executed requests: \(requests) (\(String(format: "%.1f", Double(requests) / seconds))/s)
            Succeeded files:   \(succeeded) (\(percent(succeeded)))
            Failed files:      \(failed) (\(percent(failed)))
            Duration:          \(DurationText.milliseconds(durationMs))

            """
    }

    /// One JSON object (one line) per file: outcome, error and per-entry timings.
    package func json(_ result: RunResult) -> String {
        var fields: [(key: String, value: Value)] = [
            ("file", .string(result.path)),
            ("check", .string(result.check)),
            ("ok", .bool(result.ok)),
            ("started", .string(Self.timestamp(result.startedAt))),
            ("ms", .float(Self.micro(result.durationMs))),
        ]
        if let failure = result.failure {
            var error: [(key: String, value: Value)] = [
                ("kind", .string(failure.kind.rawValue)),
                ("entry", .integer(Int64(failure.entry))),
                ("line", .integer(Int64(failure.location.line))),
                ("column", .integer(Int64(failure.location.column))),
                ("msg", .string(failure.message)),
            ]
            if let actual = failure.actual { error.append(("actual", .string(actual))) }
            if let expected = failure.expected { error.append(("expected", .string(expected))) }
            fields.append(("err", .object(error)))
        }
        var steps: [Value] = []
        for entry in result.entries {
            var step: [(key: String, value: Value)] = [
                ("entry", .integer(Int64(entry.index))),
                ("line", .integer(Int64(entry.line))),
            ]
            if let request = entry.request {
                step.append(("method", .string(request.method)))
                step.append(("url", .string(request.url)))
            }
            step.append(("attempts", .integer(Int64(entry.attempts))))
            if entry.skipped { step.append(("skipped", .bool(true))) }
            if let response = entry.response {
                let t = response.timings
                step.append(("status", .integer(Int64(response.status))))
                step.append(("dns", .float(Self.micro(t.dns))))
                step.append(("connect", .float(Self.micro(t.connect))))
                step.append(("tls", .float(Self.micro(t.tls))))
                step.append(("ttfb", .float(Self.micro(t.ttfb))))
                step.append(("transfer", .float(Self.micro(t.transfer))))
                step.append(("total", .float(Self.micro(t.total))))
                step.append(("bytes", .integer(Int64(t.bytes))))
            }
            steps.append(.object(step))
        }
        fields.append(("steps", .list(steps)))
        if let days = result.certificateDaysLeft {
            fields.append(("cert_days", .float((days * 1000).rounded(.down) / 1000)))
        }
        // Strings are redacted before encoding: a secret with `"` or `\\` in it is escaped by the
        // encoder and would no longer match.
        return redactor.redact(JSON.encode(redacted(.object(fields))))
    }

    private func redacted(_ value: Value) -> Value {
        switch value {
        case .string(let text): return .string(redactor.redact(text))
        case .list(let items): return .list(items.map(redacted))
        case .object(let pairs): return .object(pairs.map { ($0.key, redacted($0.value)) })
        default: return value
        }
    }

    /// Requests and responses of every entry, for `--verbose`; sensitive headers show as `***`.
    package func verbose(_ result: RunResult, bodyPreview: Int = 2048) -> String {
        var out = "* \(result.path)\n"
        for entry in result.entries {
            if entry.skipped {
                out += "* entry \(entry.index) (line \(entry.line)): skipped\n"
                continue
            }
            out += "* entry \(entry.index) (line \(entry.line)), attempt \(entry.attempts)\n"
            if let request = entry.request {
                out += "> \(request.method) \(request.url)\n"
                for header in request.headers {
                    out += "> \(header.name): \(Self.shownValue(header))\n"
                }
                if let body = request.body, !body.isEmpty {
                    out += "> \n" + Self.preview(body, limit: bodyPreview, prefix: "> ")
                }
            }
            if let response = entry.response {
                out += "< HTTP/\(response.httpVersion) \(response.status)\n"
                for header in response.headers {
                    out += "< \(header.name): \(Self.shownValue(header))\n"
                }
                if !response.body.isEmpty {
                    out += "< \n" + Self.preview(response.body, limit: bodyPreview, prefix: "< ")
                }
                let t = response.timings
                out += String(
                    format:
                        "* timings (ms): dns %.3f connect %.3f tls %.3f ttfb %.3f transfer %.3f total %.3f, %d bytes\n",
                    t.dns, t.connect, t.tls, t.ttfb, t.transfer, t.total, t.bytes)
            }
            if let failure = entry.failure {
                out += "* failed: \(failure.kind.rawValue): \(failure.message)\n"
            }
        }
        return redactor.redact(out)
    }

    static func shownValue(_ header: HTTPField) -> String {
        Redactor.isSensitiveHeader(header.name) ? "***" : header.value
    }

    static func preview(_ body: [UInt8], limit: Int, prefix: String) -> String {
        let shown = body.prefix(limit)
        var text = String(decoding: shown, as: UTF8.self)
        // The mark sits right at the cut, where the redactor looks for a secret cut in half.
        if body.count > limit { text += "…\n(\(body.count - limit) more bytes)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { prefix + $0 }.joined(separator: "\n") + "\n"
    }

    /// Milliseconds rounded to microseconds.
    static func micro(_ ms: Double) -> Double {
        (ms * 1000).rounded() / 1000
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
