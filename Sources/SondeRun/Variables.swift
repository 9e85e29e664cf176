import SondeProbe
import SondeScript
import SondeSupport

/// Template variables of a run, with the names whose values are secret.
package struct Variables: Sendable {
    private var values: [String: Value] = [:]
    private var secrets: Set<String> = []

    package init() {}

    package mutating func set(_ name: String, _ value: Value, secret: Bool = false) {
        values[name] = value
        if secret { secrets.insert(name) }
    }

    package subscript(name: String) -> Value? { values[name] }

    package func isSecret(_ name: String) -> Bool { secrets.contains(name) }

    /// Text renderings of the secret values, for the redactor.
    package var secretValues: [String] {
        secrets.compactMap { values[$0].map(ValueText.plain) }
    }
}
