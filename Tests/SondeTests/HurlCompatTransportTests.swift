import Foundation
import Testing

@testable import SondeCommands
@testable import SondeServe
@testable import SondeSupport

/// The per-entry options that need a server of their own, each as Hurl-style files run through
/// `sonde check` against a real loopback server: Digest and NTLM authentication
/// (Tests/hurl-compat/requests/{digest,ntlm}, on `HurlCompatRequestService`, also run by the
/// request-side suite), and under Tests/hurl-compat/transports/: client certificates (`openssl
/// s_server -Verify`), a Unix domain socket and HTTP/2 over TLS (a private nginx), IPv6 (`[::1]`).
///
/// A file starts with `# expect-exit: N` (and a failing one with `# expect-output: TEXT`, a part of
/// its error); the server's address is `{{base}}` (`{{port}}`), and
/// each folder's test names the other variables its files use.
@Suite("Hurl compatibility: authentication and transports against real servers", .serialized)
struct HurlCompatTransportTests {
    static let transports = HurlCompatFiles.root + "/transports"
    static let requests = HurlCompatFiles.root + "/requests"

    /// Whether this machine can listen on the IPv6 loopback address.
    static let hasIPv6Loopback: Bool = {
        guard let server = try? HTTPServer(host: "::1", port: 0, handler: { _ in .text("ok") }) else { return false }
        server.stop()
        return true
    }()

    /// Runs `file` with `variables`; a description of the run when its exit code is not the
    /// file's `# expect-exit`, or its output lacks the file's `# expect-output` text, else nil.
    static func run(_ file: String, variables: [String: String]) async throws -> String? {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let expected = try #require(HurlCompatFiles.header("expect-exit", in: text).flatMap { Int32($0) }, "\(file)")
        let console = CapturingConsole()
        let arguments = ["check"] + variables.sorted { $0.key < $1.key }.flatMap { ["--var", "\($0.key)=\($0.value)"] }
        let code = await SondeMain.run(arguments: arguments + [file], environment: [:], console: console)
        if code != expected { return "\(file): exit \(code), expected \(expected)\n\(console.all)" }
        if let output = HurlCompatFiles.header("expect-output", in: text), !console.all.contains(output) {
            return "\(file): no \"\(output)\" in its output\n\(console.all)"
        }
        return nil
    }

    /// Runs every file of `folder`; the mismatches.
    static func runAll(_ folder: String, variables: [String: String], atLeast count: Int) async throws -> [String] {
        let files = HurlCompatFiles.files(under: folder)
        try #require(files.count >= count, "\(folder) holds \(files.count) files")
        var mismatches: [String] = []
        for file in files {
            if let mismatch = try await run(file, variables: variables) { mismatches.append(mismatch) }
        }
        return mismatches
    }

    @Test("digest: the client answers the challenge with a hash the server verifies; a wrong password fails")
    func digest() async throws {
        let service = try HurlCompatRequestService()
        let variables = ["base": service.baseURL]
        let mismatches = try await Self.runAll(Self.requests + "/digest", variables: variables, atLeast: 4)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        // MD5 and SHA-256 each verified once; the wrong password answered with a hash that did
        // not verify; basic credentials seen without the option.
        #expect(service.count("digest-ok") == 2)
        #expect(service.count("digest-wrong") >= 1)
        #expect(service.count("digest-other") >= 1)
        #expect(service.count("digest-bad") == 0)
    }

    @Test("ntlm: a type-1 message, then a type-3 message whose NTLMv2 response proves the password")
    func ntlm() async throws {
        let service = try HurlCompatRequestService()
        let ok = try await Self.run(Self.requests + "/ntlm/ntlm.hurl", variables: ["base": service.baseURL])
        #expect(ok == nil, "\(ok ?? "")")
        #expect(service.count("ntlm-type1") == 1)
        #expect(service.count("ntlm-type3") == 1)
        #expect(service.count("ntlm-ok") == 1)
        let mismatches = try await Self.runAll(
            Self.requests + "/ntlm", variables: ["base": service.baseURL], atLeast: 3)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        // ntlm.hurl twice and ntlm_domain.hurl verified; the wrong password's type-3 did not.
        #expect(service.count("ntlm-type3") == 4)
        #expect(service.count("ntlm-ok") == 3)
    }

    @Test("the NTLM test server's MD4 and HMAC-MD5 match their published test vectors")
    func ntlmHashes() {
        #expect(HurlCompatAuth.hex(NTLMv2.md4([])) == "31d6cfe0d16ae931b73c59d7e0c089c0")
        #expect(HurlCompatAuth.hex(NTLMv2.md4(Array("abc".utf8))) == "a448017aaf21d8525fc10ae87aa6729d")
        let alphabet = Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)
        #expect(HurlCompatAuth.hex(NTLMv2.md4(alphabet)) == "e33b4ddc9c38f2199c3e7b164fcc0536")
        // RFC 2104's first test case.
        let mac = NTLMv2.hmacMD5(key: [UInt8](repeating: 0x0b, count: 16), Array("Hi There".utf8))
        #expect(HurlCompatAuth.hex(mac) == "9294727a3638bb1c13f48ef8158bfc9d")
    }

    @Test("cert and key: a server that requires a client certificate accepts it, refuses none or another")
    func clientCertificates() async throws {
        let certificates = try ClientCertificates()
        defer { certificates.cleanup() }
        let server = try TLSServer(clientCA: certificates.caPath)
        defer { server.stop() }
        var variables = certificates.variables
        variables["base"] = server.baseURL
        variables["cacert"] = server.certificatePath
        let mismatches = try await Self.runAll(Self.transports + "/client-cert", variables: variables, atLeast: 6)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test("unix-socket: the request goes through nginx's Unix domain socket; a missing socket fails")
    func unixSocket() async throws {
        let nginx = try await NginxServer()
        let mismatches = try await Self.runAll(
            Self.transports + "/unix-socket", variables: ["socket": nginx.socketPath], atLeast: 3)
        nginx.stop()
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test("http2: nginx over TLS answers in HTTP/2 by ALPN, by default too; http1.1 keeps HTTP/1.1")
    func http2() async throws {
        let nginx = try await NginxServer()
        let mismatches = try await Self.runAll(
            Self.transports + "/http2",
            variables: ["base": nginx.baseURL, "port": "\(nginx.port)", "cacert": nginx.certificatePath], atLeast: 4)
        nginx.stop()
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test(
        "ipv6: a server on [::1] only is reached by literal and by a name resolved to ::1, not with ipv4",
        .enabled(if: HurlCompatTransportTests.hasIPv6Loopback, "this machine has no IPv6 loopback address (::1)"))
    func ipv6() async throws {
        let service = try HurlCompatRequestService(host: "::1")
        #expect(service.baseURL.hasPrefix("http://[::1]:"))
        let mismatches = try await Self.runAll(
            Self.transports + "/ipv6", variables: ["base": service.baseURL, "port": "\(service.port)"], atLeast: 3)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test("http3 on a libcurl without HTTP/3 is a runtime error that says so")
    func http3Missing() async throws {
        let service = try HurlCompatRequestService()
        let console = CapturingConsole()
        let code = await SondeMain.run(
            arguments: [
                "check", "--var", "base=\(service.baseURL)", Self.requests + "/http-version/http3_missing.hurl",
            ],
            environment: [:], console: console)
        #expect(code == ExitCode.runtime)
        #expect(console.all.contains("option http3: this system's libcurl"), "\(console.all)")
        #expect(console.all.contains("has no HTTP/3 support"), "\(console.all)")
    }
}
