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

@Suite("Demo shop API")
struct DemoShopTests {
    private let json = "Content-Type: application/json"

    @Test("health reports UP, and DOWN with 503 when switched off")
    func health() throws {
        let (shop, server) = try DemoShop.start()
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let up = try client.request("GET", "/health")
        #expect(up.status == 200)
        #expect(up.text == #"{"status": "UP"}"#)
        #expect(up.header("Content-Type") == "application/json; charset=utf-8")
        shop.setHealthy(false)
        let down = try client.request("GET", "/health")
        #expect(down.status == 503)
        #expect(down.json?["status"] as? String == "DOWN")
        #expect(try client.request("GET", "/api/games").status == 503)
        shop.setHealthy(true)
        #expect(try client.request("GET", "/health").status == 200)
    }

    @Test("the catalogue lists games with integer ids, float prices, a free game and stock flags")
    func games() throws {
        let (_, server) = try DemoShop.start()
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let r = try client.request("GET", "/api/games")
        #expect(r.status == 200)
        let body = try #require(r.json)
        let games = try #require(body["games"] as? [[String: Any]])
        #expect(body["count"] as? Int == games.count)
        #expect((8...10).contains(games.count))
        #expect(games.allSatisfy { $0["id"] is Int && $0["title"] is String && $0["tags"] is [String] })
        #expect(games.contains { ($0["price"] as? Double) == 0 })
        #expect(games.contains { ($0["in_stock"] as? Bool) == false })
        #expect(r.text.contains(#""price": 19.99"#))
        #expect(r.text.contains(#""price": 0,"#))
    }

    @Test("one game by id, 404 for an unknown id and 400 for a non-integer id")
    func gameByID() throws {
        let (_, server) = try DemoShop.start()
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let one = try client.request("GET", "/api/games/3")
        #expect(one.status == 200)
        #expect(one.json?["id"] as? Int == 3)
        let missing = try client.request("GET", "/api/games/999")
        #expect(missing.status == 404)
        #expect(missing.text == #"{"error": "game not found"}"#)
        #expect(try client.request("GET", "/api/games/abc").status == 400)
    }

    @Test("search matches titles and tags case-insensitively and honours limit")
    func search() throws {
        let (_, server) = try DemoShop.start()
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let zelda = try client.request("GET", "/api/search?q=ZELDA")
        #expect(zelda.status == 200)
        #expect(zelda.json?["query"] as? String == "ZELDA")
        #expect(zelda.json?["count"] as? Int == 1)
        let space = try client.request("GET", "/api/search?q=space")
        let spaceCount = try #require(space.json?["count"] as? Int)
        #expect(spaceCount >= 2)
        let limited = try client.request("GET", "/api/search?q=space&limit=1")
        #expect((limited.json?["results"] as? [Any])?.count == 1)
        #expect(limited.json?["count"] as? Int == 1)
        let spaced = try client.request("GET", "/api/search?q=tiny+farm")
        #expect(spaced.json?["count"] as? Int == 1)
        let missing = try client.request("GET", "/api/search")
        #expect(missing.status == 400)
        #expect(missing.text == #"{"error": "missing query parameter q"}"#)
        #expect(try client.request("GET", "/api/search?q=x&limit=many").status == 400)
    }

    @Test("login with JSON or a form gives a token and a session cookie; bad input is refused")
    func login() throws {
        let (_, server) = try DemoShop.start()
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let ok = try client.request(
            "POST", "/api/login", headers: [json],
            body: #"{"username": "demo", "password": "demo-password"}"#)
        #expect(ok.status == 200)
        let token = try #require(ok.json?["token"] as? String)
        #expect(token.count >= 32)
        #expect(ok.json?["expires_in"] as? Int == 3600)
        #expect(ok.header("Set-Cookie") == "session=\(token); Path=/; HttpOnly")

        let form = try client.request(
            "POST", "/api/login", headers: ["Content-Type: application/x-www-form-urlencoded"],
            body: "username=demo&password=demo-password")
        #expect(form.status == 200)
        #expect(form.json?["token"] as? String != token)

        let wrong = try client.request(
            "POST", "/api/login", headers: [json],
            body: #"{"username": "demo", "password": "nope"}"#)
        #expect(wrong.status == 401)
        #expect(wrong.text == #"{"error": "invalid credentials"}"#)
        #expect(try client.request("POST", "/api/login", headers: [json], body: "{not json").status == 400)
        #expect(try client.request("GET", "/api/login").status == 405)
    }

    @Test("login, then the token reads and fills the cart")
    func cartFlow() throws {
        let (_, server) = try DemoShop.start()
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let login = try client.request(
            "POST", "/api/login", headers: [json],
            body: #"{"username": "demo", "password": "demo-password"}"#)
        let token = try #require(login.json?["token"] as? String)
        let auth = "Authorization: Bearer \(token)"

        let empty = try client.request("GET", "/api/cart", headers: [auth])
        #expect(empty.status == 200)
        #expect(empty.text == #"{"items": [], "total": 0.0}"#)

        let added = try client.request(
            "POST", "/api/cart/items", headers: [auth, json], body: #"{"game_id": 3, "quantity": 2}"#)
        #expect(added.status == 201)
        #expect(added.json?["total"] as? Double == 49.98)
        _ = try client.request("POST", "/api/cart/items", headers: [auth, json], body: #"{"game_id": 1}"#)
        let cart = try client.request("GET", "/api/cart", headers: [auth])
        let items = try #require(cart.json?["items"] as? [[String: Any]])
        #expect(items.count == 2)
        #expect(items.first?["quantity"] as? Int == 2)
        #expect(cart.json?["total"] as? Double == 69.97)

        // The session cookie works too.
        let byCookie = try client.request("GET", "/api/cart", headers: ["Cookie: session=\(token)"])
        #expect(byCookie.status == 200)

        let unknown = try client.request("POST", "/api/cart/items", headers: [auth, json], body: #"{"game_id": 999}"#)
        #expect(unknown.status == 404)
        let bad = try client.request("POST", "/api/cart/items", headers: [auth, json], body: #"{"game_id": "three"}"#)
        #expect(bad.status == 400)
        let soldOut = try client.request("POST", "/api/cart/items", headers: [auth, json], body: #"{"game_id": 4}"#)
        #expect(soldOut.status == 409)
    }

    @Test("the cart refuses a missing or bad token with 401 and a Bearer challenge")
    func cartUnauthorized() throws {
        let (_, server) = try DemoShop.start()
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let none = try client.request("GET", "/api/cart")
        #expect(none.status == 401)
        #expect(none.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        let bad = try client.request(
            "POST", "/api/cart/items", headers: ["Authorization: Bearer nope", json],
            body: #"{"game_id": 3}"#)
        #expect(bad.status == 401)
        #expect(bad.header("WWW-Authenticate")?.contains("invalid_token") == true)
    }

    @Test("the old shop redirects permanently and unknown paths are 404 JSON")
    func redirectAndNotFound() throws {
        let (_, server) = try DemoShop.start()
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let old = try client.request("GET", "/old-shop")
        #expect(old.status == 301)
        #expect(old.header("Location") == "/api/games")
        let nope = try client.request("GET", "/nope")
        #expect(nope.status == 404)
        #expect(nope.header("Content-Type") == "application/json; charset=utf-8")
        #expect(nope.json?["error"] as? String == "not found")
        #expect(try client.request("GET", "/api/nope").status == 404)
    }

    @Test("HEAD on a shop endpoint returns headers only")
    func headOnShop() throws {
        let (_, server) = try DemoShop.start()
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let head = try client.request("HEAD", "/api/games")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        let get = try client.request("GET", "/api/games")
        #expect(head.header("Content-Length") == String(get.body.count))
    }
}
