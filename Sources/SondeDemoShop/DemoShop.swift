import Foundation
import SondeServe
import SondeSupport

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
///
/// With `faults` (off by default) the shop reproduces a classic production fault, a connection
/// leak (see `DemoShop.Faults`): the DB-backed endpoints (`/api/games…`, `/api/search`,
/// `/api/login`, `/api/cart…`) share a pool of 5 connections, each request holding one for a few
/// milliseconds; about 30% of valid searches take a slow path (~2 s) and never give theirs back.
/// While no connection is free, DB-backed endpoints answer 503
/// `{"error": "connection pool exhausted", "pool": {"size": 5, "in_use": 5}}` at once and
/// `/health` answers 503 `{"status": "DOWN", "reason": "connection pool exhausted"}`. Once every
/// connection has leaked, the service "restarts" 15 s later: the pool is whole again, sessions
/// are dropped (clients log in again) and `restarts` counts one more. `pool`, `restarts`,
/// `exhaustedSince` and `faultLog` show what happened. Which searches leak follows from the
/// seed alone. Routing errors (404, 405) never touch the pool. For tests the fault can follow the
/// order of requests alone: the first N searches leak, and the service stays down until
/// `restart()` (see `Faults.leakingSearches` and `Faults.restartDelay`).
package final class DemoShop: Sendable {
    /// The fixed demo account.
    static let demoUsername = "demo"
    /// The fixed demo account's password.
    package static let demoPassword = "demo-password"
    /// Token lifetime in seconds (`expires_in`).
    static let tokenLifetime = 3600

    private let state: ShopState
    /// The injected fault, with out-of-range values brought into range; nil when off.
    package let faults: Faults?

    /// A shop with the built-in catalogue, healthy, with no sessions; `faults` nil (the default)
    /// serves without the connection leak.
    init(faults: Faults? = nil) {
        self.faults = faults?.normalized
        state = ShopState(pool: faults.map(PoolState.init(faults:)))
    }

    /// Starts an `HTTPServer` serving a new shop. Port 0 picks a free port.
    package static func start(
        host: String = "127.0.0.1", port: UInt16 = 0,
        faults: Faults? = nil
    ) throws(HTTPServerError) -> (DemoShop, HTTPServer) {
        let shop = DemoShop(faults: faults)
        let server = try HTTPServer(host: host, port: port) { shop.handle($0) }
        return (shop, server)
    }

    // MARK: Fault introspection

    /// The connection pool now: `inUse` counts requests in flight and leaks, `leaked` only leaks.
    /// All zero when faults are off.
    package var pool: (size: Int, inUse: Int, leaked: Int) {
        state.withLock { contents in
            contents.restartIfDue()
            guard let pool = contents.pool else { return (0, 0, 0) }
            return (pool.faults.poolSize, pool.inUse, pool.leaked)
        }
    }

    /// How many times the service has restarted after the pool ran dry.
    package var restarts: Int {
        state.withLock { contents in
            contents.restartIfDue()
            return contents.pool?.restarts ?? 0
        }
    }

    /// When the last connection leaked, while the service waits for its restart; nil otherwise.
    package var exhaustedSince: Date? {
        state.withLock { contents in
            contents.restartIfDue()
            return contents.pool?.exhaustedSince
        }
    }

    /// Leaks, exhaustions and restarts, oldest first (the last 1000). Nothing polls: a restart
    /// is applied by the first request or read after it is due, and dated when it was due.
    package var faultLog: [FaultEvent] {
        state.withLock { contents in
            contents.restartIfDue()
            return contents.pool?.log ?? []
        }
    }

    /// Restarts the service now if its pool is exhausted, as the delayed restart does: every
    /// connection is free again and every session is gone. False (and nothing done) otherwise.
    @discardableResult
    package func restart() -> Bool {
        state.withLock { contents in
            contents.restartIfDue()
            guard contents.pool?.restartNow() == true else { return false }
            contents.sessions = [:]
            return true
        }
    }

    /// Turns the health switch: while down, `/health` and `/api/*` answer 503.
    func setHealthy(_ up: Bool) {
        state.withLock { $0.healthy = up }
    }

    /// Whether the shop currently reports itself healthy.
    var isHealthy: Bool {
        state.withLock { $0.healthy }
    }

    /// Answers one request. Safe to call from many threads at once.
    func handle(_ req: HTTPRequest) -> HTTPResponse {
        let path = req.path.count > 1 && req.path.hasSuffix("/") ? String(req.path.dropLast()) : req.path
        let isRead = req.method == "GET" || req.method == "HEAD"
        let healthy = isHealthy

        if path == "/health" {
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            guard healthy else { return jsonResponse(.object([("status", .string("DOWN"))]), status: 503) }
            let poolDry = state.withLock { contents in
                contents.restartIfDue()
                return contents.pool.map { !$0.hasFreeConnection } ?? false
            }
            guard !poolDry else {
                return jsonResponse(
                    .object([("status", .string("DOWN")), ("reason", .string("connection pool exhausted"))]),
                    status: 503)
            }
            return jsonResponse(.object([("status", .string("UP"))]))
        }
        if path == "/old-shop" {
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return jsonResponse(
                .object([("location", .string("/api/games"))]), status: 301,
                headers: [HTTPField(name: "Location", value: "/api/games")])
        }
        guard path == "/api" || path.hasPrefix("/api/") else { return notFound() }
        if !healthy {
            return jsonResponse(
                .object([("error", .string("service unavailable"))]), status: 503,
                headers: [HTTPField(name: "Retry-After", value: "5")])
        }

        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(2).map(String.init)
        switch parts {
        case ["games"]:
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return withConnection(path) { _ in
                let games = DemoShop.catalogue
                return jsonResponse(
                    .object([("count", .integer(Int64(games.count))), ("games", .list(games.map(\.json)))]))
            }
        case _ where parts.count == 2 && parts[0] == "games":
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return withConnection(path) { _ in
                guard let id = Int(parts[1]) else { return error("game id must be an integer", status: 400) }
                guard let game = DemoShop.game(id) else { return error("game not found", status: 404) }
                return jsonResponse(game.json)
            }
        case ["search"]:
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return withConnection(path) { search(req, lease: $0) }
        case ["login"]:
            guard req.method == "POST" else { return methodNotAllowed("POST") }
            return withConnection(path) { _ in login(req) }
        case ["cart"]:
            guard isRead else { return methodNotAllowed("GET, HEAD") }
            return withConnection(path) { _ in
                guard let token = authenticate(req) else { return unauthorized(req) }
                return cartResponse(token: token, status: 200)
            }
        case ["cart", "items"]:
            guard req.method == "POST" else { return methodNotAllowed("POST") }
            return withConnection(path) { _ in
                guard let token = authenticate(req) else { return unauthorized(req) }
                return addToCart(req, token: token)
            }
        default:
            return notFound()
        }
    }

    // MARK: Connection pool

    /// One request's hold on a pool connection.
    private final class Lease {
        /// The request took the slow path: its connection is never given back.
        var leaks = false
    }

    /// Runs a DB-backed endpoint holding a pool connection (faults on): 503 at once when none is
    /// free; otherwise holds one for the drawn query time plus the body, then gives it back,
    /// unless the body took the slow path. Faults off: just the body.
    private func withConnection(_ path: String, _ body: (Lease) -> HTTPResponse) -> HTTPResponse {
        let lease = Lease()
        guard faults != nil else { return body(lease) }
        switch state.withLock({ $0.takeConnection() }) {
        case .refused(let size, let inUse):
            return jsonResponse(
                .object([
                    ("error", .string("connection pool exhausted")),
                    (
                        "pool",
                        .object([
                            ("size", .integer(Int64(size))),
                            ("in_use", .integer(Int64(inUse))),
                        ])
                    ),
                ]),
                status: 503)
        case .granted(let hold):
            DemoShop.sleep(hold)
            let response = body(lease)
            state.withLock { contents in
                if lease.leaks { contents.pool?.leak(path: path) } else { contents.pool?.giveBack() }
            }
            return response
        }
    }

    /// A search query with faults on: draws whether it takes the slow path, and if so runs
    /// `slowDuration` and marks the lease as leaking.
    private func runSearchQuery(_ lease: Lease) {
        guard let faults else { return }
        let slow = state.withLock { $0.pool?.drawSlowPath() ?? false }
        guard slow else { return }
        lease.leaks = true
        DemoShop.sleep(faults.slowDuration)
    }

    /// Blocks the connection thread (the server runs each connection on a thread of its own).
    private static func sleep(_ duration: Duration) {
        guard duration > .zero else { return }
        Thread.sleep(forTimeInterval: duration.seconds)
    }

    // MARK: Endpoints

    private func search(_ req: HTTPRequest, lease: Lease) -> HTTPResponse {
        let items = req.queryItems
        guard let q = items.first(where: { $0.name == "q" })?.value.trimmingCharacters(in: .whitespaces),
            !q.isEmpty
        else {
            return error("missing query parameter q", status: 400)
        }
        var limit = Int.max
        if let text = items.first(where: { $0.name == "limit" })?.value {
            guard let n = Int(text), n >= 0 else { return error("limit must be a non-negative integer", status: 400) }
            limit = n
        }
        runSearchQuery(lease)
        let needle = q.lowercased()
        let matches = DemoShop.catalogue.filter { game in
            game.title.lowercased().contains(needle) || game.tags.contains { $0.lowercased().contains(needle) }
        }
        let results = Array(matches.prefix(limit))
        return jsonResponse(
            .object([
                ("query", .string(q)), ("count", .integer(Int64(results.count))),
                ("results", .list(results.map(\.json))),
            ]))
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
        return jsonResponse(
            .object([("token", .string(token)), ("expires_in", .integer(Int64(DemoShop.tokenLifetime)))]),
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
            items.append(
                .object([
                    ("game_id", .integer(Int64(game.id))), ("title", .string(game.title)),
                    ("quantity", .integer(Int64(line.quantity))), ("unit_price", .float(game.price)),
                    ("subtotal", .float(subtotal)),
                ]))
        }
        return jsonResponse(
            .object([("items", .list(items)), ("total", .float(DemoShop.cents(total)))]),
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
        let challenge =
            req.header("Authorization") == nil
            ? "Bearer realm=\"shop\""
            : "Bearer realm=\"shop\", error=\"invalid_token\""
        return jsonResponse(
            .object([("error", .string("missing or invalid token"))]), status: 401,
            headers: [HTTPField(name: "WWW-Authenticate", value: challenge)])
    }

    private func methodNotAllowed(_ allow: String) -> HTTPResponse {
        jsonResponse(
            .object([("error", .string("method not allowed"))]), status: 405,
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
            .object([
                ("id", .integer(Int64(id))), ("title", .string(title)),
                ("price", price == 0 ? .integer(Int64(0)) : .float(price)),
                ("tags", .list(tags.map(Value.string))), ("in_stock", .bool(inStock)),
            ])
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
    struct CartLine {
        var gameID: Int
        var quantity: Int
    }
    struct Session {
        var username: String
        var expires: ContinuousClock.Instant
        var cart: [CartLine] = []
    }
    struct Contents {
        var healthy = true
        var sessions: [String: Session] = [:]
        /// The connection pool when faults are on.
        var pool: PoolState?

        /// Applies a restart that has come due: the pool is whole again, sessions are gone.
        mutating func restartIfDue() {
            if pool?.restartIfDue() == true { sessions = [:] }
        }

        /// Takes a pool connection after applying a due restart (granted at once when faults are off).
        mutating func takeConnection() -> PoolCheckout {
            restartIfDue()
            guard pool != nil else { return .granted(hold: .zero) }
            if let hold = pool?.take() { return .granted(hold: hold) }
            return .refused(size: pool?.faults.poolSize ?? 0, inUse: pool?.inUse ?? 0)
        }

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
    private var data: Contents

    init(pool: PoolState? = nil) {
        data = Contents(pool: pool)
    }

    func withLock<T>(_ body: (inout Contents) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&data)
    }
}
