import Foundation
import SondeSupport

/// The text transformations of Hurl's filters: base64 (standard and URL-safe), hex, percent
/// encoding, HTML escaping, and a URL's query parameters.
enum TextCodings {
    /// Base64 text to bytes; padding is optional and white space is ignored. `urlSafe` reads the
    /// `-` and `_` alphabet of RFC 4648 section 5. Nil for any other character.
    static func base64Decode(_ text: String, urlSafe: Bool) -> [UInt8]? {
        var clean = String(text.filter { !$0.isWhitespace })
        if urlSafe {
            guard !clean.contains("+"), !clean.contains("/") else { return nil }
            clean = clean.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        }
        let remainder = clean.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { clean += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: clean).map(Array.init)
    }

    /// Bytes as base64 text: standard with padding, or URL-safe without (as Hurl writes it).
    static func base64Encode(_ bytes: [UInt8], urlSafe: Bool) -> String {
        let text = Data(bytes).base64EncodedString()
        guard urlSafe else { return text }
        return
            text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Lowercase hex digits of `bytes`.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Percent-encodes every byte but the unreserved characters of RFC 3986 and `/` (Hurl's `urlEncode`).
    static func urlEncode(_ text: String) -> String {
        URLEncoding.percentEncode(text).replacingOccurrences(of: "%2F", with: "/")
    }

    /// `%xx` escapes replaced by their bytes, read as UTF-8; `+` stays. Nil for a broken escape or
    /// bytes that are not UTF-8.
    static func percentDecode(_ text: String) -> String? {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let b = bytes.popFirst() {
            guard b == UInt8(ascii: "%") else {
                out.append(b)
                continue
            }
            guard bytes.count >= 2, let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.removeFirst(2)
            out.append(v)
        }
        return String(validating: out, as: UTF8.self)
    }

    /// The value of the first query parameter `name` of a URL, decoded (`+` as a space); nil when
    /// the URL has none.
    static func queryParameter(_ name: String, in url: String) -> String? {
        guard let question = url.firstIndex(of: "?") else { return nil }
        var query = url[url.index(after: question)...]
        if let hash = query.firstIndex(of: "#") { query = query[..<hash] }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(parts[0].replacingOccurrences(of: "+", with: " ")) ?? String(parts[0])
            guard key == name else { continue }
            let raw = parts.count > 1 ? String(parts[1]) : ""
            return percentDecode(raw.replacingOccurrences(of: "+", with: " ")) ?? raw
        }
        return nil
    }

    /// `&`, `<`, `>`, `"` and `'` as character references (as Hurl's `htmlEscape`).
    static func htmlEscape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#x27;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// Named references sonde knows (the common ones of HTML5; others stay as written).
    static let entities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "copy": "©",
        "reg": "®", "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’",
        "ldquo": "“", "rdquo": "”", "laquo": "«", "raquo": "»", "euro": "€", "pound": "£", "yen": "¥",
        "cent": "¢", "sect": "§", "para": "¶", "middot": "·", "deg": "°", "plusmn": "±", "times": "×",
        "divide": "÷", "micro": "µ", "eacute": "é", "egrave": "è", "ecirc": "ê", "agrave": "à",
        "aacute": "á", "acirc": "â", "auml": "ä", "ouml": "ö", "uuml": "ü", "szlig": "ß", "ccedil": "ç",
        "ntilde": "ñ", "iexcl": "¡", "iquest": "¿", "bull": "•", "larr": "←", "rarr": "→", "uarr": "↑",
        "darr": "↓", "hearts": "♥",
    ]

    /// Numeric (`&#62;`, `&#x3e;`) and named (`&gt;`) character references replaced by their characters.
    static func htmlUnescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            guard let semi = after.prefix(32).firstIndex(of: ";") else {
                out += "&"
                rest = after
                continue
            }
            let name = after[..<semi]
            var replacement: String?
            if name.hasPrefix("#x") || name.hasPrefix("#X") {
                replacement = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
            } else if name.hasPrefix("#") {
                replacement = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
            } else {
                replacement = entities[String(name)]
            }
            if let replacement {
                out += replacement
                rest = after[after.index(after: semi)...]
            } else {
                out += "&"
                rest = after
            }
        }
        return out + rest
    }
}
