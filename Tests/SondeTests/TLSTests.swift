import Foundation
import Testing

@testable import SondeAlerts
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeDemoShop
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeRun
@testable import SondeSLO
@testable import SondeScript
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

@Suite("HTTPS against a local TLS server with a self-signed certificate", .serialized)
struct TLSTests {
    @Test("with insecure: true the run passes and the certificate expiry is read")
    func expiryIsRead() async throws {
        let server = try await offPool { try TLSServer(days: 30) }
        defer { server.stop() }
        let result = try await runScript(
            """
            GET {{base_url}}/
            [Options]
            insecure: true
            HTTP 200
            [Asserts]
            certificate "Expire-Date" daysAfterNow >= 29
            certificate "Expire-Date" daysAfterNow <= 30
            certificate "Subject" contains "localhost"
            certificate "Issuer" contains "localhost"
            certificate "Serial-Number" exists
            certificate "Start-Date" exists
            """, baseURL: server.baseURL)
        #expect(result.ok, "\(String(describing: result.failure))")
        let days = try #require(result.certificateDaysLeft)
        #expect(days > 29.9 && days <= 30.01)
        let timings = try #require(result.entries.first?.response?.timings)
        #expect(timings.tls > 0)
    }

    @Test("without insecure the self-signed certificate fails verification as tls")
    func verificationFails() async throws {
        let server = try await offPool { try TLSServer(days: 30) }
        defer { server.stop() }
        let result = try await runScript("GET {{base_url}}/\nHTTP 200\n", baseURL: server.baseURL)
        #expect(result.failure?.kind == .tls)
        #expect(CheckCommand.exitCode([result]) == ExitCode.runtime)
    }
}
