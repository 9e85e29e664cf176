import SondeProbe
import SondeScript
import SondeSupport

/// Template variables of a run, with the names whose values are secret.
package struct Variables: Sendable {
    private var values: [String: Value] = [:]
    private var secrets: Set<String> = []

    /// Sets `name` to `value`; a secret one is masked wherever sonde prints.
    mutating func set(_ name: String, _ value: Value, secret: Bool = false) {
        values[name] = value
        if secret { secrets.insert(name) }
    }

    package subscript(name: String) -> Value? { values[name] }

    /// Whether `name` holds a secret.
    func isSecret(_ name: String) -> Bool { secrets.contains(name) }

    /// Text renderings of the secret values, for the redactor.
    package var secretValues: [String] {
        secrets.compactMap { values[$0].map(ValueText.plain) }
    }
}
