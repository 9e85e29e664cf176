import Foundation

/// Replaces secret values with `***` in any text about to leave the process: whole secrets, and
/// every run of `Redactor.run` (8) characters or more of one, as a value derived from a secret shows.
package struct Redactor: Sendable {
    private let secrets: [String]

    /// Empty secrets are ignored; longer secrets are replaced first. Each secret is also looked for
    /// percent-encoded and form-encoded, as `[Query]` and `[Form]` send it: a URL or a form body
    /// quoted in a message must not carry it either.
    package init(secrets: [String]) {
        var all = Set<String>()
        for secret in secrets where !secret.isEmpty {
            all.insert(secret)
            all.insert(URLEncoding.percentEncode(secret))
            all.insert(URLEncoding.formEncode(secret))
        }
        self.secrets = all.sorted { $0.count > $1.count }
        var windows: [UInt64: [(secret: Int, offset: Int)]] = [:]
        var scalars: [[Unicode.Scalar]] = []
        for secret in self.secrets {
            let chars = Array(secret.unicodeScalars)
            guard chars.count >= Self.run else { continue }
            for offset in 0...(chars.count - Self.run) {
                windows[Self.key(chars, offset), default: []].append((scalars.count, offset))
            }
            scalars.append(chars)
        }
        self.windows = windows
        self.secretScalars = scalars
    }

    /// The rule: no `run` characters of a secret in a row in any output. A value derived from a
    /// secret by a filter (`split`, `replace`, `substring`…), a capture or a template keeps such
    /// runs, so they are masked wherever they appear, not only the whole secret.
    package static let run = 8

    /// The secrets of `run` characters or more, as scalars, for the run search.
    private let secretScalars: [[Unicode.Scalar]]
    /// Every window of `run` scalars of those secrets, by the key of its first three scalars.
    private let windows: [UInt64: [(secret: Int, offset: Int)]]

    package func redact(_ text: String) -> String {
        var out = text
        for secret in secrets where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: "***")
        }
        if !windows.isEmpty { out = maskRuns(out) }
        return out.contains("…") ? maskCut(out) : out
    }

    /// The first three scalars at `offset`, packed (21 bits each).
    private static func key(_ chars: [Unicode.Scalar], _ offset: Int) -> UInt64 {
        UInt64(chars[offset].value) << 42 | UInt64(chars[offset + 1].value) << 21 | UInt64(chars[offset + 2].value)
    }

    /// Replaces every stretch of text covered by windows of `run` characters of a secret with `***`.
    private func maskRuns(_ text: String) -> String {
        let chars = Array(text.unicodeScalars)
        guard chars.count >= Self.run else { return text }
        var covered = [Bool](repeating: false, count: chars.count)
        var any = false
        for i in 0...(chars.count - Self.run) {
            guard let candidates = windows[Self.key(chars, i)] else { continue }
            for (secret, offset) in candidates {
                let source = secretScalars[secret]
                var k = 3
                while k < Self.run, source[offset + k] == chars[i + k] { k += 1 }
                if k == Self.run {
                    for j in i..<(i + Self.run) { covered[j] = true }
                    any = true
                    break
                }
            }
        }
        guard any else { return text }
        var out = String.UnicodeScalarView()
        var i = 0
        while i < chars.count {
            if covered[i] {
                out.append(contentsOf: "***".unicodeScalars)
                while i < chars.count, covered[i] { i += 1 }
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        return String(out)
    }

    /// A quote of a body cut inside a secret would show the secret's start. Every cut sonde makes
    /// ends in `…`, so the text just before each `…` is masked when it is a secret's first three
    /// characters or more.
    private func maskCut(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let mark = rest.firstIndex(of: "…") {
            var before = String(rest[..<mark])
            for secret in secrets {
                var n = secret.count - 1
                while n >= 3, !before.hasSuffix(secret.prefix(n)) { n -= 1 }
                if n >= 3 { before = String(before.dropLast(n)) + "***" }
            }
            out += before + "…"
            rest = rest[rest.index(after: mark)...]
        }
        return out + rest
    }

    /// Headers whose values are never shown: `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`.
    package static func isSensitiveHeader(_ name: String) -> Bool {
        switch name.lowercased() {
        case "authorization", "proxy-authorization", "cookie", "set-cookie": return true
        default: return false
        }
    }
}
