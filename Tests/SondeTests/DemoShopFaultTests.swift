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

@Suite("Demo shop connection-leak fault", .offPool)
struct DemoShopFaultTests {
    private let json = "Content-Type: application/json"
    private let credentials = #"{"username": "demo", "password": "demo-password"}"#
    private let exhausted503 = #"{"error": "connection pool exhausted", "pool": {"size": 5, "in_use": 5}}"#

    private func login(_ client: RawHTTPClient) throws -> String {
        let r = try client.request("POST", "/api/login", headers: [json], body: credentials)
        #expect(r.status == 200)
        return try #require(r.json?["token"] as? String)
    }

    @Test("the default fault is the demo's: 5 connections, 30% slow searches of 2 s, restart after 15 s")
    func defaults() {
        let f = DemoShop.Faults()
        #expect(f.poolSize == 5 && f.slowShare == 0.3)
        #expect(f.slowDuration == .seconds(2) && f.restartDelay == .seconds(15))
        #expect(f.queryTime == .milliseconds(2) ... .milliseconds(5))
        let odd = DemoShop(faults: DemoShop.Faults(poolSize: 0, slowShare: 7, slowDuration: .seconds(-1)))
        #expect(odd.faults?.poolSize == 1 && odd.faults?.slowShare == 1 && odd.faults?.slowDuration == .zero)
        #expect(odd.pool == (1, 0, 0))
        #expect(DemoShop().faults == nil)
    }

    @Test("when every search is slow, five searches leak the pool; 503 until the restart, which drops sessions")
    func leakExhaustRestart() async throws {
        // Long enough that the requests below are done well before the restart, even on a busy machine.
        let delay = Duration.seconds(5)
        let faults = DemoShop.Faults(slowShare: 1, slowDuration: .milliseconds(50), restartDelay: delay, seed: 7)
        let (shop, server) = try DemoShop.start(faults: faults)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let token = try login(client)
        let auth = "Authorization: Bearer \(token)"
        #expect(try client.request("GET", "/api/cart", headers: [auth]).status == 200)
        #expect(shop.pool == (5, 0, 0))

        // Everything up to the restart runs on a thread of its own, so a busy test pool cannot
        // delay these checks past the restart delay.
        struct Observed: Sendable {
            var searches: [(Int, Int?, Duration, Int, Int)] = []
            var since: Date?
            var restartsBefore = -1
            var log: [DemoShop.FaultEvent.Kind] = []
            var games = 0, gamesText = "", gamesType: String?, health = 0, healthText = ""
            var others: [Int] = []
            var restartsAfter = -1
            var pool = (size: 0, inUse: 0, leaked: 0)
        }
        let port = server.port
        let seen = try await offPool { () throws -> Observed in
            var o = Observed()
            let slow = try RawHTTPClient(port: port)
            let c = try RawHTTPClient(port: port)
            o.searches = try (1...5).map { _ in
                let start = ContinuousClock.now
                let r = try slow.request("GET", "/api/search?q=zelda")
                return (
                    r.status, r.json?["count"] as? Int, ContinuousClock.now - start, shop.pool.inUse, shop.pool.leaked
                )
            }
            o.since = shop.exhaustedSince
            o.restartsBefore = shop.restarts
            o.log = shop.faultLog.map(\.kind)
            let games = try c.request("GET", "/api/games")
            (o.games, o.gamesText, o.gamesType) = (games.status, games.text, games.header("Content-Type"))
            let health = try c.request("GET", "/health")
            (o.health, o.healthText) = (health.status, health.text)
            o.others = [
                try c.request("GET", "/api/games/3").status,
                try c.request("GET", "/api/search?q=zelda").status,
                try c.request("POST", "/api/login", headers: [json], body: credentials).status,
                try c.request("GET", "/api/cart", headers: [auth]).status,
                try c.request("POST", "/api/cart/items", headers: [auth, json], body: #"{"game_id": 3}"#).status,
                // Not DB-backed: routing errors and the redirect never touch the pool.
                try c.request("GET", "/old-shop").status,
                try c.request("GET", "/api/nope").status,
                try c.request("DELETE", "/api/games").status,
            ]
            o.restartsAfter = shop.restarts
            o.pool = shop.pool
            return o
        }
        for (i, (status, count, elapsed, inUse, leaked)) in zip(1..., seen.searches) {
            #expect(status == 200 && count == 1, "search \(i) still answers")
            #expect(elapsed >= .milliseconds(50), "search \(i) took the slow path")
            #expect(inUse == i && leaked == i)
        }
        let since = try #require(seen.since)
        #expect(seen.restartsBefore == 0)
        #expect(seen.log == Array(repeating: .leak(path: "/api/search"), count: 5) + [.exhausted])
        #expect(seen.games == 503)
        #expect(seen.gamesText == exhausted503)
        #expect(seen.gamesType == "application/json; charset=utf-8")
        #expect(seen.health == 503)
        #expect(seen.healthText == #"{"status": "DOWN", "reason": "connection pool exhausted"}"#)
        #expect(seen.others == [503, 503, 503, 503, 503, 301, 404, 405])
        #expect(seen.restartsAfter == 0, "the restart waits for its delay")
        #expect(seen.pool == (5, 5, 5))

        try await Task.sleep(for: .seconds(since.addingTimeInterval(delay.seconds + 0.05).timeIntervalSinceNow))
        #expect(try client.request("GET", "/health").status == 200)
        #expect(shop.restarts == 1)
        #expect(shop.exhaustedSince == nil)
        let log = shop.faultLog
        #expect(log.last?.kind == .restarted)
        #expect(abs((log.last?.date.timeIntervalSince(since) ?? 0) - delay.seconds) < 0.001)
        #expect(try client.request("GET", "/api/games").status == 200)
        #expect(shop.pool == (5, 0, 0))

        let old = try client.request("GET", "/api/cart", headers: [auth])
        #expect(old.status == 401, "sessions did not survive the restart")
        let fresh = try login(client)
        #expect(try client.request("GET", "/api/cart", headers: ["Authorization: Bearer \(fresh)"]).status == 200)
        // The leak goes on after the restart.
        #expect(try client.request("GET", "/api/search?q=space").status == 200)
        #expect(shop.pool == (5, 1, 1))
    }

    @Test("with a fixed pattern the first five searches leak and no others; with no delay only restart() restarts")
    func fixedPatternManualRestart() throws {
        let faults = DemoShop.Faults(
            slowShare: 0, slowDuration: .milliseconds(1), restartDelay: nil, leakingSearches: 5)
        let (shop, server) = try DemoShop.start(faults: faults)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        #expect(!shop.restart(), "nothing to restart while the pool has connections")
        let token = try login(client)
        for i in 1...5 {
            #expect(try client.request("GET", "/api/search").status == 400, "an invalid search takes no path")
            #expect(try client.request("GET", "/api/search?q=zelda").status == 200)
            #expect(shop.pool == (5, i, i), "search \(i) leaked")
        }
        #expect(shop.faultLog.map(\.kind) == Array(repeating: .leak(path: "/api/search"), count: 5) + [.exhausted])
        #expect(shop.exhaustedSince != nil)
        #expect(try client.request("GET", "/health").status == 503)
        #expect(try client.request("GET", "/api/search?q=zelda").status == 503)
        #expect(shop.restarts == 0, "no restart without a delay or a call")

        #expect(shop.restart())
        #expect(shop.restarts == 1 && shop.exhaustedSince == nil && shop.pool == (5, 0, 0))
        #expect(shop.faultLog.last?.kind == .restarted)
        #expect(
            try client.request("GET", "/api/cart", headers: ["Authorization: Bearer \(token)"]).status == 401,
            "sessions did not survive the restart")
        for _ in 0..<20 { #expect(try client.request("GET", "/api/search?q=zelda").status == 200) }
        #expect(try client.request("GET", "/health").status == 200)
        #expect(shop.pool == (5, 0, 0), "the sixth search and later never leak")
        #expect(!shop.restart())
        #expect(shop.restarts == 1)
    }

    @Test("with no slow searches nothing ever leaks, across many requests of every kind")
    func noLeakAtShareZero() throws {
        let faults = DemoShop.Faults(slowShare: 0, slowDuration: .seconds(5), queryTime: .zero ... .milliseconds(1))
        let (shop, server) = try DemoShop.start(faults: faults)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        let auth = "Authorization: Bearer \(try login(client))"
        for i in 0..<30 {
            #expect(try client.request("GET", "/api/search?q=space&limit=\(i % 3)").status == 200)
            #expect(try client.request("GET", "/api/search").status == 400)
            #expect(try client.request("GET", "/api/games").status == 200)
            #expect(try client.request("GET", "/api/games/\(i % 12)").status == ((1...10).contains(i % 12) ? 200 : 404))
            #expect(
                try client.request("POST", "/api/cart/items", headers: [auth, json], body: #"{"game_id": 1}"#).status
                    == 201)
            #expect(try client.request("GET", "/api/cart").status == 401)
        }
        #expect(try client.request("GET", "/health").status == 200)
        #expect(shop.pool == (5, 0, 0))
        #expect(shop.faultLog.isEmpty)
        #expect(shop.restarts == 0 && shop.exhaustedSince == nil)
    }

    /// Which of `count` searches leaked, in order, read off the pool after each one.
    private static func slowPattern(seed: UInt64, count: Int, interleave: Bool) throws -> [Bool] {
        let faults = DemoShop.Faults(
            poolSize: 1000, slowShare: 0.3, slowDuration: .milliseconds(5),
            queryTime: .zero ... .zero, seed: seed)
        let (shop, server) = try DemoShop.start(faults: faults)
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        var pattern: [Bool] = []
        for _ in 0..<count {
            if interleave {  // other endpoints and invalid searches draw nothing from the generator
                _ = try client.request("GET", "/api/games")
                _ = try client.request("GET", "/api/search")
                _ = try client.request(
                    "POST", "/api/login", headers: ["Content-Type: application/json"],
                    body: #"{"username": "demo", "password": "demo-password"}"#)
            }
            let before = shop.pool.leaked
            let r = try client.request("GET", "/api/search?q=rpg")
            guard r.status == 200 else { throw RawClientError.malformed("search answered \(r.status)") }
            pattern.append(shop.pool.leaked == before + 1)
        }
        return pattern
    }

    @Test("with the seed fixed, two shops pick the same slow searches")
    func seededSequence() async throws {
        let (a, b, c) = try await offPool {
            (
                try Self.slowPattern(seed: 42, count: 40, interleave: false),
                try Self.slowPattern(seed: 42, count: 40, interleave: true),
                try Self.slowPattern(seed: 43, count: 40, interleave: false)
            )
        }
        #expect(a == b)
        #expect(a != c)
        #expect(a.contains(true) && a.contains(false))
        #expect((4...20).contains(a.filter { $0 }.count), "about 30% of 40")
    }

    @Test("the generator is SplitMix64: its first output for seed 0 is the reference value")
    func splitMixReference() {
        var rng = SeededGenerator(seed: 0)
        #expect(rng.next() == 0xE220_A839_7B1D_CDAF)
        #expect(rng.next() == 0x6E78_9E6A_A1B9_65F4)
        var unit = SeededGenerator(seed: 1)
        #expect((0..<1000).allSatisfy { _ in (0..<1).contains(unit.nextUnit()) })
    }

    @Test("many parallel requests never take more connections than the pool has, nor fewer than none")
    func parallelRequests() async throws {
        let (shop, server) = try DemoShop.start(faults: DemoShop.Faults(slowShare: 0, seed: 3))
        defer { server.stop() }
        let port = server.port
        let results = Results()
        let samples = try await offPool { () -> [Int] in
            let group = DispatchGroup()
            for worker in 0..<12 {
                group.enter()
                Thread {
                    defer { group.leave() }
                    do {
                        let client = try RawHTTPClient(port: port)
                        for i in 0..<15 {
                            let path = (worker + i) % 2 == 0 ? "/api/games" : "/api/search?q=space"
                            let r = try client.request("GET", path)
                            results.add(status: r.status, inUse: (r.json?["pool"] as? [String: Any])?["in_use"] as? Int)
                        }
                    } catch {
                        results.fail("\(error)")
                    }
                }.start()
            }
            var samples: [Int] = []
            while group.wait(timeout: .now() + .milliseconds(2)) == .timedOut {
                samples.append(shop.pool.inUse)
            }
            return samples
        }
        let (statuses, reported, failures) = results.snapshot
        #expect(failures.isEmpty)
        #expect(statuses.count == 12 * 15)
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 503 })
        #expect(statuses.contains(200))
        #expect(reported.allSatisfy { $0 == 5 }, "a refusal reports a full pool")
        #expect(samples.allSatisfy { (0...5).contains($0) })
        #expect(shop.pool == (5, 0, 0))
        #expect(shop.faultLog.isEmpty, "a busy pool is not an exhausted one")
        #expect(shop.restarts == 0)
    }

    @Test("without faults the shop has no pool and never refuses")
    func faultsOff() throws {
        let (shop, server) = try DemoShop.start()
        defer { server.stop() }
        let client = try RawHTTPClient(port: server.port)
        for _ in 0..<20 {
            #expect(try client.request("GET", "/api/search?q=zelda").status == 200)
        }
        #expect(try client.request("GET", "/health").text == #"{"status": "UP"}"#)
        #expect(shop.pool == (0, 0, 0))
        #expect(shop.faultLog.isEmpty && shop.restarts == 0 && shop.exhaustedSince == nil)
    }
}

/// What the parallel clients saw, collected across threads.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [Int] = []
    private var reported: [Int] = []
    private var failures: [String] = []

    func add(status: Int, inUse: Int?) {
        lock.lock()
        defer { lock.unlock() }
        statuses.append(status)
        if let inUse { reported.append(inUse) }
    }

    func fail(_ message: String) {
        lock.lock()
        defer { lock.unlock() }
        failures.append(message)
    }

    var snapshot: ([Int], [Int], [String]) {
        lock.lock()
        defer { lock.unlock() }
        return (statuses, reported, failures)
    }
}
