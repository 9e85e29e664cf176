/// A header name and value.
package struct HTTPField: Sendable, Equatable {
    package var name: String
    package var value: String

    package init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HTTPField {
    /// Values of the headers named `name` (case-insensitive), in order.
    package func values(for name: String) -> [String] {
        let lower = name.lowercased()
        return filter { $0.name.lowercased() == lower }.map(\.value)
    }

    /// The first value of the header named `name` (case-insensitive).
    package func first(_ name: String) -> String? {
        let lower = name.lowercased()
        return first { $0.name.lowercased() == lower }?.value
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs (HTTP's OWS).
    package func trimmingHTTPWhitespace() -> String {
        let isWS: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isWS($0) }) else { return "" }
        guard let end = lastIndex(where: { !isWS($0) }) else { return "" }
        return String(self[start...end])
    }
}
