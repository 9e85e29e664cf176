import Foundation

/// Replaces secret values with `***` in any text about to leave the process.
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
    }

    package func redact(_ text: String) -> String {
        var out = text
        for secret in secrets where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: "***")
        }
        return out.contains("…") ? maskCut(out) : out
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
