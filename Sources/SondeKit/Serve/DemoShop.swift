import Foundation

/// The sample shop API that `sonde demo` and the example checks run against.
///
/// Endpoints (all JSON, `application/json; charset=utf-8`):
/// - `GET /health` → `{"status": "UP"}`, or 503 `{"status": "DOWN"}` when unhealthy.
/// - `GET /api/games`, `GET /api/games/{id}` (404 unknown, 400 non-integer id).
/// - `GET /api/search?q=…&limit=N` (title or tag contains q, case-insensitive; 400 without q).
/// - `POST /api/login` (JSON or form; user `demo` / `demo-password`) → token and session cookie.
/// - `GET /api/cart`, `POST /api/cart/items` with `Authorization: Bearer <token>`
///   (or the `session` cookie); 401 with `WWW-Authenticate: Bearer` otherwise.
/// - `GET /old-shop` → 301 to `/api/games`.
/// - Anything else → 404 `{"error": "not found"}`; a known path with the wrong method → 405.
///
/// While unhealthy (`setHealthy(false)`) `/health` and every `/api/` endpoint answer 503.
public final class DemoShop: Sendable {
    /// The fixed demo account.
    public static let demoUsername = "demo"
    /// The fixed demo account's password.
    public static let demoPassword = "demo-password"
    /// Token lifetime in seconds (`expires_in`).
    public static let tokenLifetime = 3600

    private let state = ShopState()

    /// A shop with the built-in catalogue, healthy, with no sessions.
    public init() {}

    /// Starts an `HTTPServer` serving a new shop. Port 0 picks a free port.
    public static func start(host: String = "127.0.0.1", port: UInt16 = 0) throws(HTTPServerError) -> (DemoShop, HTTPServer) {
        let shop = DemoShop()
        let server = try HTTPServer(host: host, port: port) { shop.handle($0) }
        return (shop, server)
    }

    /// Turns the health switch: while down, `/health` and `/api/*` answer 503.
    public func setHealthy(_ up: Bool) {
        state.withLock { $0.healthy = up }
    }

    /// Whether the shop currently reports itself healthy.
    public var isHealthy: Bool {
        state.withLock { $0.healthy }
    }

    /// Answers one request. Safe to call from many threads at once.
    public func handle(_ req: HTTPRequest) -> HTTPResponse {
        let path = req.path.count > 1 && req.path.hasSuffix("/") ? String(req.path.dropLast()) : req.path
        let isRead = req.method == "GET" || req.method == "HEAD"
        let healthy = isHealthy

        if path == "/health" {
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return healthy ? jsonResponse(.object([("status", .string("UP"))]))
                           : jsonResponse(.object([("status", .string("DOWN"))]), status: 503)
        }
        if path == "/old-shop" {
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return jsonResponse(.object([("location", .string("/api/games"))]), status: 301,
                                headers: [HTTPField(name: "Location", value: "/api/games")])
        }
        guard path == "/api" || path.hasPrefix("/api/") else { return notFound() }
        if !healthy {
            return jsonResponse(.object([("error", .string("service unavailable"))]), status: 503,
                                headers: [HTTPField(name: "Retry-After", value: "5")])
        }

        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(2).map(String.init)
        switch parts {
        case ["games"]:
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            let games = DemoShop.catalogue
            return jsonResponse(.object([("count", .integer(Int64(games.count))), ("games", .list(games.map(\.json)))]))
        case _ where parts.count == 2 && parts[0] == "games":
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            guard let id = Int(parts[1]) else { return error("game id must be an integer", status: 400) }
            guard let game = DemoShop.game(id) else { return error("game not found", status: 404) }
            return jsonResponse(game.json)
        case ["search"]:
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return search(req)
        case ["login"]:
            guard req.method == "POST" else { return methodNotAllowed("POST") }
            return login(req)
        case ["cart"]:
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            guard let token = authenticate(req) else { return unauthorized(req) }
            return cartResponse(token: token, status: 200)
        case ["cart", "items"]:
            guard req.method == "POST" else { return methodNotAllowed("POST") }
            guard let token = authenticate(req) else { return unauthorized(req) }
            return addToCart(req, token: token)
        default:
            return notFound()
        }
    }

    // MARK: Endpoints

    private func search(_ req: HTTPRequest) -> HTTPResponse {
        let items = req.queryItems
        guard let q = items.first(where: { $0.name == "q" })?.value.trimmingCharacters(in: .whitespaces),
              !q.isEmpty else {
            return error("missing query parameter q", status: 400)
        }
        var limit = Int.max
        if let text = items.first(where: { $0.name == "limit" })?.value {
            guard let n = Int(text), n >= 0 else { return error("limit must be a non-negative integer", status: 400) }
            limit = n
        }
        let needle = q.lowercased()
        let matches = DemoShop.catalogue.filter { game in
            game.title.lowercased().contains(needle) || game.tags.contains { $0.lowercased().contains(needle) }
        }
        let results = Array(matches.prefix(limit))
        return jsonResponse(.object([("query", .string(q)), ("count", .integer(Int64(results.count))),
                                     ("results", .list(results.map(\.json)))]))
    }

    private func login(_ req: HTTPRequest) -> HTTPResponse {
        var username: String?
        var password: String?
        let contentType = req.header("Content-Type")?.lowercased() ?? ""
        if contentType.contains("application/x-www-form-urlencoded") {
            let form = req.formItems
            username = form.first { $0.name == "username" }?.value
            password = form.first { $0.name == "password" }?.value
        } else {
            guard let object = DemoShop.jsonObject(req.body) else { return error("invalid JSON body", status: 400) }
            username = DemoShop.string(object["username"])
            password = DemoShop.string(object["password"])
        }
        guard let username, let password else { return error("username and password are required", status: 400) }
        guard username == DemoShop.demoUsername, password == DemoShop.demoPassword else {
            return error("invalid credentials", status: 401)
        }
        let token = state.withLock { $0.newSession(username: username) }
        return jsonResponse(.object([("token", .string(token)), ("expires_in", .integer(Int64(DemoShop.tokenLifetime)))]),
                            headers: [HTTPField(name: "Set-Cookie", value: "session=\(token); Path=/; HttpOnly")])
    }

    private func addToCart(_ req: HTTPRequest, token: String) -> HTTPResponse {
        guard let object = DemoShop.jsonObject(req.body) else { return error("invalid JSON body", status: 400) }
        guard let gameID = DemoShop.integer(object["game_id"]) else {
            return error("game_id must be an integer", status: 400)
        }
        var quantity = 1
        if let raw = object["quantity"] {
            guard let q = DemoShop.integer(raw), (1...99).contains(q) else {
                return error("quantity must be an integer from 1 to 99", status: 400)
            }
            quantity = q
        }
        guard let game = DemoShop.game(gameID) else { return error("game not found", status: 404) }
        guard game.inStock else { return error("game out of stock", status: 409) }
        state.withLock { $0.add(gameID: gameID, quantity: quantity, token: token) }
        return cartResponse(token: token, status: 201)
    }

    private func cartResponse(token: String, status: Int) -> HTTPResponse {
        let lines = state.withLock { $0.sessions[token]?.cart ?? [] }
        var total = 0.0
        var items: [Value] = []
        for line in lines {
            guard let game = DemoShop.game(line.gameID) else { continue }
            let subtotal = DemoShop.cents(game.price * Double(line.quantity))
            total += subtotal
            items.append(.object([("game_id", .integer(Int64(game.id))), ("title", .string(game.title)),
                                  ("quantity", .integer(Int64(line.quantity))), ("unit_price", .float(game.price)),
                                  ("subtotal", .float(subtotal))]))
        }
        return jsonResponse(.object([("items", .list(items)), ("total", .float(DemoShop.cents(total)))]),
                            status: status)
    }

    /// The session token from `Authorization: Bearer …` or the `session` cookie, if valid.
    private func authenticate(_ req: HTTPRequest) -> String? {
        var token: String?
        if let auth = req.header("Authorization") {
            let parts = auth.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                token = parts[1].trimmingCharacters(in: .whitespaces)
            }
        } else {
            token = req.cookies["session"]
        }
        guard let token else { return nil }
        return state.withLock { $0.isValid(token) } ? token : nil
    }

    private func unauthorized(_ req: HTTPRequest) -> HTTPResponse {
        let challenge = req.header("Authorization") == nil ? "Bearer realm=\"shop\""
                                                           : "Bearer realm=\"shop\", error=\"invalid_token\""
        return jsonResponse(.object([("error", .string("missing or invalid token"))]), status: 401,
                            headers: [HTTPField(name: "WWW-Authenticate", value: challenge)])
    }

    private func methodNotAllowed(_ allow: String) -> HTTPResponse {
        jsonResponse(.object([("error", .string("method not allowed"))]), status: 405,
                     headers: [HTTPField(name: "Allow", value: allow)])
    }

    private func notFound() -> HTTPResponse { error("not found", status: 404) }

    private func error(_ message: String, status: Int) -> HTTPResponse {
        jsonResponse(.object([("error", .string(message))]), status: status)
    }

    private func jsonResponse(_ value: Value, status: Int = 200, headers: [HTTPField] = []) -> HTTPResponse {
        .json(JSON.encode(value, spaced: true), status: status, headers: headers)
    }

    // MARK: Helpers

    /// The fields of a JSON object body, or nil when the body is not one.
    private static func jsonObject(_ body: [UInt8]) -> [String: Value]? {
        guard case .object(let pairs)? = try? JSON.parse(body) else { return nil }
        var fields: [String: Value] = [:]
        for pair in pairs where fields[pair.key] == nil { fields[pair.key] = pair.value }
        return fields
    }

    /// An integral JSON number (3 or 3.0), not a string, bool or fraction.
    private static func integer(_ value: Value?) -> Int? {
        switch value {
        case .integer(let i)?: return abs(i) < 1_000_000_000_000_000 ? Int(i) : nil
        case .float(let d)?: return d.rounded() == d && abs(d) < 1e15 ? Int(d) : nil
        default: return nil
        }
    }

    private static func string(_ value: Value?) -> String? {
        if case .string(let s)? = value { return s }
        return nil
    }

    private static func cents(_ x: Double) -> Double { (x * 100).rounded() / 100 }

    // MARK: Catalogue

    /// One game of the catalogue.
    struct Game: Sendable {
        var id: Int
        var title: String
        var price: Double
        var tags: [String]
        var inStock: Bool

        var json: Value {
            .object([("id", .integer(Int64(id))), ("title", .string(title)),
                     ("price", price == 0 ? .integer(Int64(0)) : .float(price)),
                     ("tags", .list(tags.map(Value.string))), ("in_stock", .bool(inStock))])
        }
    }

    /// The fixed catalogue: ten made-up games; #5 is free, #4, #7 and #10 are out of stock.
    static let catalogue: [Game] = [
        Game(id: 1, title: "Starfall Odyssey", price: 19.99, tags: ["space", "rpg"], inStock: true),
        Game(id: 2, title: "Pixel Pirates", price: 9.99, tags: ["pirates", "platformer"], inStock: true),
        Game(id: 3, title: "Zelda's Lost Lighthouse", price: 24.99, tags: ["adventure", "puzzle"], inStock: true),
        Game(id: 4, title: "Mech Garden", price: 14.5, tags: ["strategy", "mechs"], inStock: false),
        Game(id: 5, title: "Deep Sea Courier", price: 0, tags: ["simulation", "free"], inStock: true),
        Game(id: 6, title: "Neon Drift 2084", price: 29.99, tags: ["racing", "cyberpunk"], inStock: true),
        Game(id: 7, title: "Castle of Quiet Bells", price: 12.0, tags: ["puzzle", "horror"], inStock: false),
        Game(id: 8, title: "Tiny Farm Tactics", price: 4.99, tags: ["strategy", "farming"], inStock: true),
        Game(id: 9, title: "Orbital Chef", price: 7.49, tags: ["simulation", "cooking", "space"], inStock: true),
        Game(id: 10, title: "Rune Ranger", price: 39.99, tags: ["rpg", "adventure"], inStock: false),
    ]

    static func game(_ id: Int) -> Game? { catalogue.first { $0.id == id } }
}

/// The shop's mutable state. `@unchecked Sendable`: every access goes through `withLock`.
final class ShopState: @unchecked Sendable {
    struct CartLine { var gameID: Int; var quantity: Int }
    struct Session { var username: String; var expires: ContinuousClock.Instant; var cart: [CartLine] = [] }
    struct Contents {
        var healthy = true
        var sessions: [String: Session] = [:]

        mutating func newSession(username: String) -> String {
            let now = ContinuousClock.now
            sessions = sessions.filter { $0.value.expires > now }  // drop expired sessions
            var rng = SystemRandomNumberGenerator()
            var token = ""
            for _ in 0..<4 {
                let word = rng.next() as UInt64
                let hex = String(word, radix: 16)
                token += String(repeating: "0", count: 16 - hex.count) + hex
            }
            sessions[token] = Session(username: username, expires: now + .seconds(DemoShop.tokenLifetime))
            return token
        }

        func isValid(_ token: String) -> Bool {
            guard let session = sessions[token] else { return false }
            return session.expires > .now
        }

        mutating func add(gameID: Int, quantity: Int, token: String) {
            guard var session = sessions[token] else { return }
            if let i = session.cart.firstIndex(where: { $0.gameID == gameID }) {
                session.cart[i].quantity = min(999, session.cart[i].quantity + quantity)
            } else {
                session.cart.append(CartLine(gameID: gameID, quantity: quantity))
            }
            sessions[token] = session
        }
    }

    private let lock = NSLock()
    private var data = Contents()

    func withLock<T>(_ body: (inout Contents) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&data)
    }
}
