/// Template variables of a run, with the names whose values are secret.
public struct Variables: Sendable {
    private var values: [String: Value] = [:]
    private var secrets: Set<String> = []

    public init() {}

    public mutating func set(_ name: String, _ value: Value, secret: Bool = false) {
        values[name] = value
        if secret { secrets.insert(name) }
    }

    public subscript(name: String) -> Value? { values[name] }

    public func isSecret(_ name: String) -> Bool { secrets.contains(name) }

    /// Text renderings of the secret values, for the redactor.
    public var secretValues: [String] {
        secrets.compactMap { values[$0].map(ValueText.plain) }
    }
}

/// Replaces secret values with `***` in any text about to leave the process.
public struct Redactor: Sendable {
    private let secrets: [String]

    /// Empty secrets are ignored; longer secrets are replaced first. Each secret is also looked for
    /// percent-encoded and form-encoded, as `[Query]` and `[Form]` send it: a URL or a form body
    /// quoted in a message must not carry it either.
    public init(secrets: [String]) {
        var all = Set<String>()
        for secret in secrets where !secret.isEmpty {
            all.insert(secret)
            all.insert(RequestRenderer.percentEncode(secret))
            all.insert(RequestRenderer.formEncode(secret))
        }
        self.secrets = all.sorted { $0.count > $1.count }
    }

    public func redact(_ text: String) -> String {
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
    public static func isSensitiveHeader(_ name: String) -> Bool {
        switch name.lowercased() {
        case "authorization", "proxy-authorization", "cookie", "set-cookie": return true
        default: return false
        }
    }
}
