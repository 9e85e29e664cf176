import Foundation

@testable import SondeServe
@testable import SondeSupport

/// The loopback server of the Hurl-compatibility query files (`Tests/hurl-compat/queries`): one
/// route per kind of response those files query.
final class HurlCompatQueryService: Sendable {
    let server: HTTPServer

    init() throws {
        server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            HurlCompatQueryService.route(request)
        }
    }

    deinit { server.stop() }

    var baseURL: String { server.baseURL }

    /// The body of `/bytes`: the 3 bytes of `"abc"` then a zero byte.
    static let bytes: [UInt8] = [0x61, 0x62, 0x63, 0x00]

    static let json = #"""
        {"fire": [{"value": "🔥", "name": "fire"}, {"value": "✈", "name": "plane"}],
         "books": [{"title": "Dune", "tags": ["sf", "classic"], "price": 9.5},
                   {"title": "Emma", "tags": [], "price": 4},
                   {"title": "Ubik", "tags": ["sf"], "price": 7}],
         "id": "123e4567-e89b-12d3-a456-426614174000", "ipv4": "192.168.0.1", "ipv6": "2001:db8::1",
         "published": "2023-01-23T18:25:43.511Z", "day": "2023-01-23", "past": "2001-02-03 04:05:06",
         "b64": "aGVsbG8gd29ybGQ=", "b64url": "PDw_Pz8-Pg", "url": "https://example.org/?q=a%20b&x=%D1%88",
         "html": "a &lt; b &amp;&amp; c &#62; d &#x3e; e &copy;", "text": "a < b & \"c\"",
         "nested": "{\"inner\": {\"n\": 5}}", "xml": "<r><i>1</i><i>2</i></r>",
         "list": [1, 2, 3], "object": {"a": 1}, "empty": "", "count": "42", "pi": "3.14", "flag": true,
         "version": "v1.2.3-beta"}
        """#

    static let xml = """
        <?xml version="1.0"?>
        <bk:book xmlns:bk="urn:loc.gov:books" xmlns:isbn="urn:ISBN:0-395-36341-6">
            <bk:title>Cheaper by the Dozen</bk:title>
            <isbn:number>1568491379</isbn:number>
        </bk:book>
        """

    static let html = """
        <!doctype html>
        <html>
          <head><title>Example Domain</title></head>
          <body>
            <h1>Welcome</h1>
            <p>First<br>paragraph</p>
            <p class="second">Second</p>
            <article id="electric-cars" data-visible="true" data-books='[{"name":"Dune"}]'></article>
          </body>
        </html>
        """

    static func route(_ request: HTTPRequest) -> HTTPResponse {
        switch request.path {
        case "/json":
            return .json(json)
        case "/latin1":
            // `{"name": "café", "city": "Zürich"}` in ISO-8859-1: é is one byte, 0xE9.
            var body = Array(#"{"name": "caf"#.utf8) + [0xE9] + Array(#"", "city": "Z"#.utf8) + [0xFC]
            body += Array(#"rich"}"#.utf8)
            return HTTPResponse(
                status: 200, headers: [HTTPField(name: "Content-Type", value: "application/json; charset=iso-8859-1")],
                body: .bytes(body))
        case "/latin1-plain":
            // The same text with no charset: `bytes decode "iso-8859-1"` reads it.
            return HTTPResponse(
                status: 200, headers: [HTTPField(name: "Content-Type", value: "application/octet-stream")],
                body: .bytes(Array("caf".utf8) + [0xE9]))
        case "/bytes":
            return HTTPResponse(
                status: 200, headers: [HTTPField(name: "Content-Type", value: "application/octet-stream")],
                body: .bytes(bytes))
        case "/cookies":
            return HTTPResponse(
                status: 200,
                headers: [
                    HTTPField(
                        name: "Set-Cookie",
                        value: "LSID=DQAAAKEaem_vYg; Expires=Wed, 13 Jan 2021 22:23:01 GMT; Secure; HttpOnly; "
                            + "Path=/accounts; SameSite=Lax"),
                    HTTPField(name: "Set-Cookie", value: "HSID=AYQEVnDKrdst; Domain=localhost; Max-Age=3600; Path=/"),
                    HTTPField(name: "Content-Type", value: "text/plain"),
                ],
                body: .bytes(Array("cookies".utf8)))
        case "/redirect/1":
            return HTTPResponse(
                status: 302, headers: [HTTPField(name: "Location", value: "/redirect/2")], body: .bytes([]))
        case "/redirect/2":
            return HTTPResponse(
                status: 301, headers: [HTTPField(name: "Location", value: "/json?from=redirect")], body: .bytes([]))
        case "/xml":
            return HTTPResponse(
                status: 200, headers: [HTTPField(name: "Content-Type", value: "application/xml")],
                body: .bytes(Array(xml.utf8)))
        case "/html":
            return HTTPResponse(
                status: 200, headers: [HTTPField(name: "Content-Type", value: "text/html; charset=utf-8")],
                body: .bytes(Array(html.utf8)))
        case "/headers":
            return HTTPResponse(
                status: 200,
                headers: [
                    HTTPField(name: "Vary", value: "Content-Type"), HTTPField(name: "Vary", value: "User-Agent"),
                    HTTPField(name: "Expires", value: "Wed, 21 Oct 2015 07:28:00 GMT"),
                    HTTPField(name: "Content-Type", value: "text/plain"),
                ],
                body: .bytes(Array("ok".utf8)))
        default:
            return .text("not found", status: 404)
        }
    }
}
