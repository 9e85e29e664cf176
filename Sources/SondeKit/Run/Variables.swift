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

    /// Empty secrets are ignored; longer secrets are replaced first.
    public init(secrets: [String]) {
        self.secrets = Array(Set(secrets.filter { !$0.isEmpty })).sorted { $0.count > $1.count }
    }

    public func redact(_ text: String) -> String {
        var out = text
        for secret in secrets where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: "***")
        }
        return out
    }

    /// Headers whose values are never shown: `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`.
    public static func isSensitiveHeader(_ name: String) -> Bool {
        switch name.lowercased() {
        case "authorization", "proxy-authorization", "cookie", "set-cookie": return true
        default: return false
        }
    }
}
