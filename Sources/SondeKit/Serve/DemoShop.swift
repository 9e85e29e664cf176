import Foundation
import Synchronization

/// The sample shop API of `sonde demo` and the example checks: health, games, search, login, cart.
/// State (health switch, sessions, carts) sits behind a `Mutex`.
public final class DemoShop: Sendable {
    /// The demo user's password.
    public static let demoPassword = "demo-password"
    /// The demo user's name.
    public static let demoUser = "demo"
    /// At most this many sessions are kept (oldest dropped first).
    static let maxSessions = 10_000

    struct Game: Sendable {
        var id: Int
        var title: String
        var price: Double
        var tags: [String]
        var inStock: Bool

        var value: Value {
            .object([("id", .integer(Int64(id))), ("title", .string(title)), ("price", .float(price)),
                     ("tags", .list(tags.map(Value.string))), ("in_stock", .bool(inStock))])
        }
    }

    static let games: [Game] = [
        Game(id: 1, title: "Legend of Zelda: Tears of Time", price: 59.99, tags: ["adventure", "rpg"], inStock: true),
        Game(id: 2, title: "Zelda Kart", price: 39.5, tags: ["racing", "party"], inStock: true),
        Game(id: 3, title: "Stardew Acres", price: 14.99, tags: ["farming", "indie"], inStock: true),
        Game(id: 4, title: "Hollow Lantern", price: 19.99, tags: ["metroidvania", "indie"], inStock: false),
        Game(id: 5, title: "Orbital Chess", price: 0.99, tags: ["strategy", "board"], inStock: true),
        Game(id: 6, title: "Pixel Dungeon Deluxe", price: 9.49, tags: ["roguelike", "indie"], inStock: true),
        Game(id: 7, title: "Night Train Tycoon", price: 24.75, tags: ["simulation", "strategy"], inStock: false),
        Game(id: 8, title: "Celeste Summit", price: 19.95, tags: ["platformer", "indie"], inStock: true),
        Game(id: 9, title: "Kart Legends Online", price: 4.99, tags: ["racing", "online"], inStock: true),
    ]

    struct CartItem: Sendable {
        var gameID: Int
        var quantity: Int
    }

    struct State {
        var healthy = true
        var sessions: [String: [CartItem]] = [:]
        var order: [String] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Starts a shop on a new server.
    public static func start(host: String = "127.0.0.1", port: UInt16 = 0) throws -> (DemoShop, HTTPServer) {
        let shop = DemoShop()
        let server = try HTTPServer(host: host, port: port) { shop.handle($0) }
        return (shop, server)
    }

    /// Switches `/health` between UP and DOWN.
    public func setHealthy(_ up: Bool) {
        state.withLock { $0.healthy = up }
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let path = request.path.hasSuffix("/") && request.path.count > 1 ? String(request.path.dropLast()) : request.path
        switch (request.method, path) {
        case ("GET", "/health"), ("HEAD", "/health"):
            return state.withLock({ $0.healthy })
                ? json(.object([("status", .string("UP"))]))
                : json(.object([("status", .string("DOWN"))]), status: 503)
        case ("GET", "/api/games"):
            return json(.object([("count", .integer(Int64(Self.games.count))), ("games", .list(Self.games.map(\.value)))]))
        case ("GET", "/api/search"):
            return search(request)
        case ("POST", "/api/login"):
            return login(request)
        case ("GET", "/api/cart"):
            guard let token = bearer(request), let items = state.withLock({ $0.sessions[token] }) else { return unauthorized() }
            return json(cart(items))
        case ("POST", "/api/cart/items"):
            return addToCart(request)
        case ("GET", "/old-shop"):
            return HTTPResponse(status: 301, headers: [HTTPField(name: "Location", value: "/api/games")])
        default:
            if request.method == "GET", path.hasPrefix("/api/games/") {
                guard let id = Int(path.dropFirst("/api/games/".count)) else {
                    return error("game id must be an integer", status: 400)
                }
                guard let game = Self.games.first(where: { $0.id == id }) else { return error("game not found", status: 404) }
                return json(game.value)
            }
            return error("no route for \(request.method) \(path)", status: 404)
        }
    }

    private func search(_ request: HTTPRequest) -> HTTPResponse {
        let items = request.queryItems
        guard let q = items.first(where: { $0.name == "q" })?.value, !q.isEmpty else {
            return error("missing query parameter q", status: 400)
        }
        var limit = 20
        if let text = items.first(where: { $0.name == "limit" })?.value {
            guard let n = Int(text), n > 0, n <= 100 else { return error("limit must be an integer from 1 to 100", status: 400) }
            limit = n
        }
        let needle = q.lowercased()
        let found = Self.games.filter { game in
            game.title.lowercased().contains(needle) || game.tags.contains { $0.lowercased().contains(needle) }
        }.prefix(limit)
        return json(.object([("query", .string(q)), ("count", .integer(Int64(found.count))),
                             ("results", .list(found.map(\.value)))]))
    }

    private func login(_ request: HTTPRequest) -> HTTPResponse {
        var user: String?
        var password: String?
        if request.header("Content-Type")?.lowercased().contains("application/x-www-form-urlencoded") == true {
            user = request.formItems.first { $0.name == "username" }?.value
            password = request.formItems.first { $0.name == "password" }?.value
        } else {
            guard case .object(let fields)? = try? JSON.parse(request.body) else {
                return error("expected a JSON object with username and password", status: 400)
            }
            if case .string(let u)? = fields.first(where: { $0.key == "username" })?.value { user = u }
            if case .string(let p)? = fields.first(where: { $0.key == "password" })?.value { password = p }
        }
        guard user == Self.demoUser, password == Self.demoPassword else {
            return error("invalid credentials", status: 401)
        }
        let token = Self.randomToken()
        state.withLock { s in
            s.sessions[token] = []
            s.order.append(token)
            if s.order.count > Self.maxSessions {
                let dropped = s.order.removeFirst()
                s.sessions[dropped] = nil
            }
        }
        return json(.object([("token", .string(token)), ("expires_in", .integer(3600))]),
                    headers: [HTTPField(name: "Set-Cookie", value: "session=\(Self.randomToken()); Path=/; HttpOnly")])
    }

    private func addToCart(_ request: HTTPRequest) -> HTTPResponse {
        guard let token = bearer(request), state.withLock({ $0.sessions[token] }) != nil else { return unauthorized() }
        guard case .object(let fields)? = try? JSON.parse(request.body),
              case .integer(let gameID)? = fields.first(where: { $0.key == "game_id" })?.value else {
            return error("expected a JSON object with an integer game_id", status: 400)
        }
        var quantity: Int64 = 1
        if let q = fields.first(where: { $0.key == "quantity" })?.value {
            guard case .integer(let n) = q, n >= 1, n <= 99 else { return error("quantity must be an integer from 1 to 99", status: 400) }
            quantity = n
        }
        guard Self.games.contains(where: { $0.id == Int(gameID) }) else { return error("game not found", status: 404) }
        let items = state.withLock { s -> [CartItem] in
            var items = s.sessions[token] ?? []
            if let i = items.firstIndex(where: { $0.gameID == Int(gameID) }) {
                items[i].quantity = min(items[i].quantity + Int(quantity), 99)
            } else {
                items.append(CartItem(gameID: Int(gameID), quantity: Int(quantity)))
            }
            s.sessions[token] = items
            return items
        }
        return json(cart(items), status: 201)
    }

    private func cart(_ items: [CartItem]) -> Value {
        var total = 0.0
        var list: [Value] = []
        for item in items {
            guard let game = Self.games.first(where: { $0.id == item.gameID }) else { continue }
            total += game.price * Double(item.quantity)
            list.append(.object([("game_id", .integer(Int64(item.gameID))), ("title", .string(game.title)),
                                 ("quantity", .integer(Int64(item.quantity))), ("price", .float(game.price))]))
        }
        return .object([("items", .list(list)), ("total", .float((total * 100).rounded() / 100))])
    }

    private func bearer(_ request: HTTPRequest) -> String? {
        guard let auth = request.header("Authorization"), auth.hasPrefix("Bearer ") else { return nil }
        return String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    private func unauthorized() -> HTTPResponse {
        error("missing or invalid bearer token", status: 401, headers: [HTTPField(name: "WWW-Authenticate", value: "Bearer")])
    }

    private func json(_ value: Value, status: Int = 200, headers: [HTTPField] = []) -> HTTPResponse {
        .json(JSON.encode(value), status: status, headers: headers)
    }

    private func error(_ message: String, status: Int, headers: [HTTPField] = []) -> HTTPResponse {
        json(.object([("error", .string(message))]), status: status, headers: headers)
    }

    static func randomToken() -> String {
        (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16).leftPadded(to: 16) }.joined()
    }
}
