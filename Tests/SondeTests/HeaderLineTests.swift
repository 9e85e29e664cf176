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

@Suite("Header lines from libcurl")
struct HeaderLineTests {
    func parse(_ text: String) -> HeaderLine {
        Array(text.utf8).withUnsafeBufferPointer { HeaderLine($0) }
    }

    @Test("status lines, fields, blank lines and lines without a colon")
    func kinds() {
        #expect(parse("HTTP/1.1 200 OK\r\n") == .status)
        #expect(parse("HTTP/2 301\r\n") == .status)
        #expect(parse("Content-Type:  text/plain \r\n") == .field(HTTPField(name: "Content-Type", value: "text/plain")))
        #expect(parse("X-Empty:\r\n") == .field(HTTPField(name: "X-Empty", value: "")))
        #expect(parse("Name : v\r\n") == .field(HTTPField(name: "Name ", value: "v")))
        #expect(
            parse("Location: http://a/b?c=d:e\r\n") == .field(HTTPField(name: "Location", value: "http://a/b?c=d:e")))
        #expect(parse("\r\n") == .other)
        #expect(parse("no colon here\r\n") == .other)
        #expect(parse("") == .other)
    }

    @Test("the byte path splits every ASCII line as Foundation's trimming does")
    func sameAsFoundationOnASCII() {
        var lines: [String] = []
        for byte in UInt8(0)..<0x80 {
            let c = String(UnicodeScalar(byte))
            lines += [
                "\(c)Name\(c):\(c)value\(c)\r\n", "\(c)\(c)X:\(c)\(c)\r\n", "\(c)HTTP/1.1 200\(c)\r\n",
                "A:\(c) v \(c)\n", "\(c)", "\(c):\(c)", "N:v\(c)\(c)\r\n",
            ]
        }
        for line in lines {
            #expect(parse(line) == HeaderLine(foundation: line), "line \(Array(line.utf8))")
        }
    }

    @Test("a line with other bytes takes Foundation's path: non-ASCII white space is trimmed as before")
    func nonASCII() {
        #expect(parse("X-A: v\u{00A0}\r\n") == .field(HTTPField(name: "X-A", value: "v")))
        #expect(parse("X-Name: caf\u{00E9}\r\n") == .field(HTTPField(name: "X-Name", value: "café")))
        let invalid: [UInt8] = Array("X-B: a".utf8) + [0xFF] + Array("\r\n".utf8)
        let parsed = invalid.withUnsafeBufferPointer { HeaderLine($0) }
        #expect(parsed == .field(HTTPField(name: "X-B", value: "a\u{FFFD}")))
    }
}
