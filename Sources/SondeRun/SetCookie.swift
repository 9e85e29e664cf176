import Foundation
import SondeScript
import SondeSupport

/// One `Set-Cookie` header of a response, read as RFC 6265 writes it: `name=value` then
/// `; Attribute=value` pairs (names case-insensitive) and flags (`Secure`, `HttpOnly`).
struct SetCookie: Sendable, Equatable {
    /// The cookie's name.
    var name: String
    /// The cookie's value (quotes kept, as sent).
    var value: String
    /// The attributes after the first `;`, names lowercased, in order; a flag has an empty value.
    var attributes: [(name: String, value: String)]

    static func == (a: SetCookie, b: SetCookie) -> Bool {
        a.name == b.name && a.value == b.value && a.attributes.map(\.name) == b.attributes.map(\.name)
            && a.attributes.map(\.value) == b.attributes.map(\.value)
    }

    /// The cookie of one header value; nil without a `name=` start.
    init?(header: String) {
        var parts = header.split(separator: ";", omittingEmptySubsequences: false).makeIterator()
        guard let first = parts.next(), let equals = first.firstIndex(of: "=") else { return nil }
        name = first[..<equals].trimmingCharacters(in: .whitespaces)
        value = first[first.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        attributes = []
        while let part = parts.next() {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if let eq = trimmed.firstIndex(of: "=") {
                attributes.append(
                    (
                        trimmed[..<eq].trimmingCharacters(in: .whitespaces).lowercased(),
                        trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                    ))
            } else {
                attributes.append((trimmed.lowercased(), ""))
            }
        }
    }

    /// The value of `attribute` as Hurl gives it: `Expires` a date (a string when it is not an
    /// HTTP date), `Max-Age` an integer, `Secure` and `HttpOnly` present or not (nil when absent).
    func value(of attribute: CookieAttribute) -> Value? {
        if attribute == .value { return .string(value) }
        // The last occurrence wins (RFC 6265, 5.3).
        guard let found = attributes.last(where: { $0.name == attribute.rawValue.lowercased() }) else { return nil }
        switch attribute {
        case .value: return .string(value)
        case .expires: return StrftimeDate.httpDate(found.value).map(Value.date) ?? .string(found.value)
        case .maxAge: return Int64(found.value).map(Value.integer) ?? .string(found.value)
        case .secure, .httpOnly: return .bool(true)
        case .domain, .path, .sameSite: return .string(found.value)
        }
    }

    /// The last `Set-Cookie` of `headers` named `name` (a later one replaces an earlier one).
    static func find(_ name: String, in headers: [HTTPField]) -> SetCookie? {
        var found: SetCookie?
        for header in headers where header.name.lowercased() == "set-cookie" {
            if let cookie = SetCookie(header: header.value), cookie.name == name { found = cookie }
        }
        return found
    }
}
