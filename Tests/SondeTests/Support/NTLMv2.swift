import Foundation

@testable import SondeSupport

/// The server side of an NTLM handshake, enough to check a client's messages: the type-1
/// (negotiate) message is recognised, a type-2 (challenge) message offering extended session
/// security and target information is built (so that libcurl answers with NTLMv2, which needs MD4
/// and HMAC-MD5 only, not NTLMv1's DES), and the NTLMv2 response of a type-3 (authenticate)
/// message is verified against a known password.
enum NTLMv2 {
    /// NEGOTIATE_UNICODE | REQUEST_TARGET | NEGOTIATE_NTLM | NEGOTIATE_ALWAYS_SIGN | TARGET_TYPE_DOMAIN
    /// | NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_TARGET_INFO. libcurl answers a challenge with
    /// extended session security with NTLMv2, any other with NTLMv1 (DES).
    static let challengeFlags: UInt32 =
        0x0000_0001 | 0x0000_0004 | 0x0000_0200 | 0x0000_8000 | 0x0001_0000
        | 0x0008_0000 | 0x0080_0000

    static let signature = Array("NTLMSSP".utf8) + [0]

    /// The message type (1, 2 or 3) of an NTLM message, or nil when it is not one.
    static func messageType(_ message: [UInt8]) -> UInt32? {
        guard message.count >= 12, Array(message[0..<8]) == signature else { return nil }
        return uint32(message, at: 8)
    }

    /// A type-2 message carrying `challenge` (8 bytes) and a target information block naming the
    /// domain `SONDE`.
    static func challengeMessage(_ challenge: [UInt8]) -> [UInt8] {
        let domain = utf16LE("SONDE")
        // AV pairs: MsvAvNbDomainName, then MsvAvEOL.
        let targetInfo = le16(2) + le16(UInt16(domain.count)) + domain + le16(0) + le16(0)
        let headerSize = 48
        var message = signature + le32(2)
        message += le16(0) + le16(0) + le32(UInt32(headerSize))  // target name: empty
        message += le32(challengeFlags)
        message += challenge
        message += [UInt8](repeating: 0, count: 8)  // reserved
        message += le16(UInt16(targetInfo.count)) + le16(UInt16(targetInfo.count)) + le32(UInt32(headerSize))
        return message + targetInfo
    }

    /// The user, domain, length of the NT response and whether the NTLMv2 response of a type-3 `message` proves `password`
    /// for `challenge`; nil when the message is malformed.
    static func verify(
        _ message: [UInt8], challenge: [UInt8], password: String
    ) -> (user: String, domain: String, responseLength: Int, valid: Bool)? {
        guard messageType(message) == 3, message.count >= 64,
            let response = field(message, at: 20), let domainBytes = field(message, at: 28),
            let userBytes = field(message, at: 36)
        else { return nil }
        let unicode = uint32(message, at: 60) & 1 != 0
        let user = decode(userBytes, unicode: unicode)
        let domain = decode(domainBytes, unicode: unicode)
        // NTLMv2: an NTProofStr of 16 bytes, then the client's blob (at least 28 bytes).
        guard response.count >= 16 + 28 else { return (user, domain, response.count, false) }
        let ntHash = md4(utf16LE(password))
        let ntlmv2Hash = hmacMD5(key: ntHash, utf16LE(user.uppercased() + domain))
        let blob = Array(response[16...])
        let proof = hmacMD5(key: ntlmv2Hash, challenge + blob)
        return (user, domain, response.count, proof == Array(response[0..<16]))
    }

    /// The bytes of the security buffer (length, allocated, offset) at `offset`, or nil when it
    /// points outside the message.
    static func field(_ message: [UInt8], at offset: Int) -> [UInt8]? {
        let length = Int(uint16(message, at: offset))
        let start = Int(uint32(message, at: offset + 4))
        guard start >= 0, start + length <= message.count else { return nil }
        return Array(message[start..<start + length])
    }

    static func decode(_ bytes: [UInt8], unicode: Bool) -> String {
        guard unicode else { return String(decoding: bytes, as: UTF8.self) }
        let units = stride(from: 0, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
        return String(decoding: units, as: UTF16.self)
    }

    static func utf16LE(_ text: String) -> [UInt8] { text.utf16.flatMap { le16($0) } }
    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8)] }
    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xff) } }
    static func uint16(_ bytes: [UInt8], at offset: Int) -> UInt16 {
        guard offset + 2 <= bytes.count else { return 0 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }
    static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        guard offset + 4 <= bytes.count else { return 0 }
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    /// HMAC-MD5 (RFC 2104) of `message`.
    static func hmacMD5(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var block = key.count > 64 ? Digest.md5(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        let inner = Digest.md5(block.map { $0 ^ 0x36 } + message)
        return Digest.md5(block.map { $0 ^ 0x5c } + inner)
    }

    /// MD4 (RFC 1320), the hash of NTLM's password hash.
    static func md4(_ message: [UInt8]) -> [UInt8] {
        var padded = message + [0x80]
        while padded.count % 64 != 56 { padded.append(0) }
        let bits = UInt64(message.count) * 8
        padded += (0..<8).map { UInt8((bits >> (8 * UInt64($0))) & 0xff) }
        var state: [UInt32] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476]
        func rotl(_ v: UInt32, _ s: UInt32) -> UInt32 { (v << s) | (v >> (32 - s)) }
        let order2 = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15]
        let order3 = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15]
        for chunk in stride(from: 0, to: padded.count, by: 64) {
            let x = (0..<16).map { uint32(padded, at: chunk + 4 * $0) }
            var (a, b, c, d) = (state[0], state[1], state[2], state[3])
            // Each step computes the new value of the word in a's place, then the words rotate:
            // [abcd], [dabc], [cdab], [bcda] as RFC 1320 writes them.
            func step(_ f: UInt32, _ k: Int, _ s: UInt32, _ constant: UInt32) {
                let t = rotl(a &+ f &+ x[k] &+ constant, s)
                (a, b, c, d) = (d, t, b, c)
            }
            for i in 0..<16 { step((b & c) | (~b & d), i, [3, 7, 11, 19][i % 4], 0) }
            for i in 0..<16 { step((b & c) | (b & d) | (c & d), order2[i], [3, 5, 9, 13][i % 4], 0x5a82_7999) }
            for i in 0..<16 { step(b ^ c ^ d, order3[i], [3, 9, 11, 15][i % 4], 0x6ed9_eba1) }
            state[0] &+= a
            state[1] &+= b
            state[2] &+= c
            state[3] &+= d
        }
        return state.flatMap { le32($0) }
    }
}
