/// The scheme, host and port of a request's URL, read from its bytes: what the engine needs of
/// every transfer (is it HTTPS, which host a certificate belongs to). libcurl parses the URL
/// itself; this scan only has to agree with it on those three parts, and costs a pass over a few
/// dozen bytes where `URLComponents` went through ICU on every run.
///
/// `scheme://[userinfo@]host[:port][/path][?query][#fragment]`: the scheme is lowercased, the host
/// is kept as written (an IPv6 literal without its brackets), the port is 0 when absent or not a
/// number. A URL without `://` has an empty scheme and host.
struct URLTarget: Equatable {
    /// Lowercased scheme (`https`), or empty.
    var scheme: String
    /// Host as written, IPv6 literals without brackets, or empty.
    var host: String
    /// Explicit port, or 0.
    var port: Int

    init(_ url: String) {
        let bytes = Array(url.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")),
            colon + 2 < bytes.count, bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
        else {
            scheme = ""
            host = ""
            port = 0
            return
        }
        scheme = String(decoding: bytes[..<colon], as: UTF8.self).lowercased()
        let authorityStart = colon + 3
        var authorityEnd = authorityStart
        while authorityEnd < bytes.count, !Self.endsAuthority(bytes[authorityEnd]) { authorityEnd += 1 }
        var start = authorityStart
        if let at = bytes[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) { start = at + 1 }
        var hostEnd = authorityEnd
        var portStart: Int?
        if start < authorityEnd, bytes[start] == UInt8(ascii: "[") {
            // An IPv6 literal: the port comes after the closing bracket.
            let close = bytes[start..<authorityEnd].firstIndex(of: UInt8(ascii: "]")) ?? authorityEnd
            host = String(decoding: bytes[(start + 1)..<close], as: UTF8.self)
            if close + 1 < authorityEnd, bytes[close + 1] == UInt8(ascii: ":") { portStart = close + 2 }
        } else {
            if let portColon = bytes[start..<authorityEnd].firstIndex(of: UInt8(ascii: ":")) {
                hostEnd = portColon
                portStart = portColon + 1
            }
            host = String(decoding: bytes[start..<hostEnd], as: UTF8.self)
        }
        port = 0
        if let portStart, portStart < authorityEnd {
            var value = 0
            for byte in bytes[portStart..<authorityEnd] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), value <= 65_535 else {
                    value = 0
                    break
                }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            port = value <= 65_535 ? value : 0
        }
    }

    private static func endsAuthority(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")
    }
}
