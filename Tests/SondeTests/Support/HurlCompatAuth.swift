import Foundation

@testable import SondeServe
@testable import SondeSupport

/// The challenge-response routes of `HurlCompatRequestService`: HTTP Digest (RFC 7616, MD5 and
/// SHA-256) and NTLM, each accepting the user `bob` with the password `secret` only.
enum HurlCompatAuth {
    static let user = "bob"
    static let password = "secret"
    static let realm = "sonde-compat"
    /// This process's Digest nonce and NTLM server challenge.
    static let nonce = hex((0..<16).map { _ in UInt8.random(in: 0...255) })
    static let challenge = (0..<8).map { _ in UInt8.random(in: 0...255) }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// `WWW-Authenticate: Digest …` until the request carries a response that proves the password
    /// (qop `auth`), then 200.
    static func digest(_ request: HTTPRequest, sha256: Bool, counts: HurlCompatRequestService.Counts) -> HTTPResponse {
        let algorithm = sha256 ? "SHA-256" : "MD5"
        let hash: (String) -> String = { hex(sha256 ? Digest.sha256(Array($0.utf8)) : Digest.md5(Array($0.utf8))) }
        let challenge = HTTPResponse.text(
            "digest credentials needed", status: 401,
            headers: [
                HTTPField(
                    name: "WWW-Authenticate",
                    value: #"Digest realm="\#(realm)", qop="auth", algorithm=\#(algorithm), nonce="\#(nonce)""#)
            ])
        guard let header = request.header("Authorization") else {
            counts.add("digest-challenge")
            return challenge
        }
        guard header.hasPrefix("Digest ") else {
            counts.add("digest-other")
            return challenge
        }
        let fields = parameters(String(header.dropFirst(7)))
        guard fields["username"] == user, fields["realm"] == realm, fields["nonce"] == nonce,
            fields["uri"] == request.target, fields["qop"] == "auth",
            let nc = fields["nc"], let cnonce = fields["cnonce"], let response = fields["response"]
        else {
            counts.add("digest-bad")
            return .text("malformed digest response: \(header)", status: 400)
        }
        let ha1 = hash("\(user):\(realm):\(password)")
        let ha2 = hash("\(request.method):\(request.target)")
        guard response == hash("\(ha1):\(nonce):\(nc):\(cnonce):auth:\(ha2)") else {
            counts.add("digest-wrong")
            return challenge
        }
        counts.add("digest-ok")
        return .text("digest ok")
    }

    /// The `key="value", key=value` parameters of an `Authorization: Digest` header.
    static func parameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(text)
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let eq = rest.firstIndex(of: "=") else { break }
            let key = rest[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: eq)...]
            if rest.first == "\"" {
                rest = rest.dropFirst()
                let end = rest.firstIndex(of: "\"") ?? rest.endIndex
                result[key] = String(rest[..<end])
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                result[key] = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
        }
        return result
    }

    /// NTLM: `WWW-Authenticate: NTLM` to a request without it, a type-2 challenge to a type-1
    /// message, 200 to a type-3 message whose NTLMv2 response proves the password (counted as
    /// `ntlm-type1`, `ntlm-type3`, `ntlm-ok`).
    static func ntlm(_ request: HTTPRequest, counts: HurlCompatRequestService.Counts) -> HTTPResponse {
        let offer = HTTPResponse.text(
            "ntlm credentials needed", status: 401, headers: [HTTPField(name: "WWW-Authenticate", value: "NTLM")])
        guard let header = request.header("Authorization"), header.hasPrefix("NTLM "),
            let data = Data(base64Encoded: String(header.dropFirst(5)).trimmingCharacters(in: .whitespaces))
        else {
            counts.add("ntlm-offer")
            return offer
        }
        let message = [UInt8](data)
        switch NTLMv2.messageType(message) {
        case 1?:
            counts.add("ntlm-type1")
            let type2 = Data(NTLMv2.challengeMessage(challenge)).base64EncodedString()
            return .text(
                "ntlm challenge", status: 401, headers: [HTTPField(name: "WWW-Authenticate", value: "NTLM " + type2)])
        case 3?:
            counts.add("ntlm-type3")
            guard counts.get("ntlm-type1") > 0 else { return .text("type-3 message before any type-1", status: 400) }
            guard let result = NTLMv2.verify(message, challenge: challenge, password: password) else {
                return .text("malformed NTLM type-3 message", status: 400)
            }
            guard result.user.lowercased() == user, result.valid else {
                return .text(
                    "ntlm refused: user \(result.user), domain \(result.domain), NT response of "
                        + "\(result.responseLength) bytes did not verify", status: 401,
                    headers: [HTTPField(name: "WWW-Authenticate", value: "NTLM")])
            }
            counts.add("ntlm-ok")
            return .text("ntlm ok: \(result.user)")
        default:
            return .text("not an NTLM message: \(header)", status: 400)
        }
    }
}
