import Foundation

/// Percent-encoding as `[Query]` and `[Form]` sections send values.
package enum URLEncoding {
    private static let unreserved: Set<UInt8> = Set(
        Array(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    /// RFC 3986 percent-encoding of everything but unreserved characters.
    package static func percentEncode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// `application/x-www-form-urlencoded` encoding (space as `+`).
    package static func formEncode(_ text: String) -> String {
        percentEncode(text).replacingOccurrences(of: "%20", with: "+")
    }
}

extension String {
    /// The text padded on the left with `pad` up to `width` characters.
    package func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
