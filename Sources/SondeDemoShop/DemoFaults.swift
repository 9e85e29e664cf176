import Foundation
import SondeServe
import SondeSupport

extension DemoShop {
    /// The demo's production fault: a database connection pool that `/api/search` leaks.
    ///
    /// Every DB-backed request (`/api/games…`, `/api/search`, `/api/login`, `/api/cart…`) takes a
    /// connection for as long as it runs (`queryTime`). A share `slowShare` of searches takes a
    /// slow path (`slowDuration`) and never gives its connection back. When every connection has
    /// leaked, DB-backed endpoints and `/health` answer 503 until the service "restarts",
    /// `restartDelay` after the pool ran dry: the pool is whole again and sessions are gone.
    ///
    /// The defaults are the demo's: 5 connections, 30% slow searches of 2 s, restart after 15 s.
    /// Which searches are slow follows from `seed` alone, so a run can be repeated exactly. The
    /// default seed's draws are close to the share in the short run a demo makes: 5 of the first 16
    /// searches (31%) are slow, so the pool runs dry at the 16th, and 19 of the first 60 (32%).
    ///
    /// Tests can make the fault follow the order of requests instead of time and chance:
    /// `leakingSearches` makes exactly the first N searches leak, and a nil `restartDelay` leaves
    /// the service down until `DemoShop.restart()` is called.
    package struct Faults: Sendable, Equatable {
        /// Connections in the pool; below 1 counts as 1.
        var poolSize: Int
        /// Share of searches (0…1) that take the slow, leaking path.
        var slowShare: Double
        /// How long a slow search runs before it answers (and keeps its connection).
        var slowDuration: Duration
        /// How long after the pool ran dry the service comes back; nil: it stays down until
        /// `DemoShop.restart()`.
        package var restartDelay: Duration?
        /// How long a normal DB-backed request holds its connection (uniform in the range).
        var queryTime: ClosedRange<Duration>
        /// Seed of the generator that picks slow searches and query times.
        var seed: UInt64
        /// When set, a fixed pattern instead of `slowShare`: exactly the first N searches since
        /// the shop started take the slow path and leak, and no others (below 0 counts as 0).
        var leakingSearches: Int?

        /// The demo's fault; tests pass short durations.
        package init(
            poolSize: Int = 5, slowShare: Double = 0.3, slowDuration: Duration = .seconds(2),
            restartDelay: Duration? = .seconds(15),
            queryTime: ClosedRange<Duration> = .milliseconds(2) ... .milliseconds(5),
            seed: UInt64 = 0x5133, leakingSearches: Int? = nil
        ) {
            self.poolSize = poolSize
            self.slowShare = slowShare
            self.slowDuration = slowDuration
            self.restartDelay = restartDelay
            self.queryTime = queryTime
            self.seed = seed
            self.leakingSearches = leakingSearches
        }

        /// The same settings with out-of-range values brought into range.
        var normalized: Faults {
            var f = self
            f.poolSize = max(1, poolSize)
            f.slowShare = slowShare.isNaN ? 0 : min(1, max(0, slowShare))
            f.slowDuration = max(.zero, slowDuration)
            f.restartDelay = restartDelay.map { max(.zero, $0) }
            f.queryTime = max(.zero, queryTime.lowerBound)...max(.zero, queryTime.upperBound)
            f.leakingSearches = leakingSearches.map { max(0, $0) }
            return f
        }
    }

    /// Something that happened to the connection pool, for the demo to tell.
    package struct FaultEvent: Sendable, Equatable {
        package enum Kind: Sendable, Equatable {
            /// A slow request on `path` finished without returning its connection.
            case leak(path: String)
            /// The last free connection leaked: DB-backed endpoints and `/health` answer 503.
            case exhausted
            /// The service restarted: every connection is free and every session is gone.
            case restarted
        }

        /// When it happened (for a restart: when it was due, see `DemoShop.faultLog`).
        var date: Date
        package var kind: Kind
    }
}

/// The outcome of asking the pool for a connection.
enum PoolCheckout {
    /// Got one, to hold for `hold` (the drawn query time).
    case granted(hold: Duration)
    /// None free: `inUse` of `size` are taken.
    case refused(size: Int, inUse: Int)
}

/// The fault's mutable state, kept in `ShopState.Contents` under the shop's lock.
struct PoolState {
    let faults: DemoShop.Faults
    /// Connections taken: by requests in flight and by leaks.
    var inUse = 0
    /// Connections that will never come back (until a restart).
    var leaked = 0
    var restarts = 0
    var exhaustedSince: Date?
    /// When the pending restart is due (set with `exhaustedSince` when there is a restart delay).
    var restartDue: ContinuousClock.Instant?
    /// Searches that took the slow path so far (counted for `leakingSearches`).
    var slowSearches = 0
    var log: [DemoShop.FaultEvent] = []
    /// Picks slow searches; advanced once per search query, and by nothing else.
    var slowRNG: SeededGenerator
    /// Picks query times; advanced once per connection taken.
    var timeRNG: SeededGenerator

    /// At most this many events are kept (the oldest go first).
    static let logLimit = 1000

    init(faults: DemoShop.Faults) {
        self.faults = faults.normalized
        slowRNG = SeededGenerator(seed: faults.seed)
        timeRNG = SeededGenerator(seed: faults.seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    var hasFreeConnection: Bool { inUse < faults.poolSize }

    mutating func record(_ kind: DemoShop.FaultEvent.Kind, at date: Date = Date()) {
        log.append(DemoShop.FaultEvent(date: date, kind: kind))
        if log.count > PoolState.logLimit { log.removeFirst(log.count - PoolState.logLimit) }
    }

    /// Takes a connection and draws how long the request holds it; nil when none is free.
    mutating func take() -> Duration? {
        guard hasFreeConnection else { return nil }
        inUse += 1
        let range = faults.queryTime
        return range.lowerBound + (range.upperBound - range.lowerBound) * timeRNG.nextUnit()
    }

    /// Whether this search query takes the slow path: the first `leakingSearches` do when that is
    /// set, otherwise a seeded draw at `slowShare`.
    mutating func drawSlowPath() -> Bool {
        let slow: Bool
        if let fixed = faults.leakingSearches {
            slow = slowSearches < fixed
        } else {
            slow = slowRNG.nextUnit() < faults.slowShare
        }
        if slow { slowSearches += 1 }
        return slow
    }

    mutating func giveBack() {
        inUse = max(0, inUse - 1)
    }

    /// A request on `path` ends without giving its connection back. When that was the last one
    /// the pool is exhausted and a restart is scheduled (when there is a restart delay).
    mutating func leak(path: String) {
        leaked += 1
        record(.leak(path: path))
        guard leaked >= faults.poolSize, exhaustedSince == nil else { return }
        let now = Date()
        exhaustedSince = now
        restartDue = faults.restartDelay.map { ContinuousClock.now + $0 }
        record(.exhausted, at: now)
    }

    /// Applies a restart that has come due; true when it did (the caller drops the sessions).
    mutating func restartIfDue(now: ContinuousClock.Instant = .now) -> Bool {
        guard let due = restartDue, let since = exhaustedSince, let delay = faults.restartDelay, now >= due else {
            return false
        }
        restart(at: since.addingTimeInterval(delay.seconds))
        return true
    }

    /// Restarts now while the pool is exhausted, due or not; true when it did (the caller drops
    /// the sessions).
    mutating func restartNow() -> Bool {
        guard exhaustedSince != nil else { return false }
        restart(at: Date())
        return true
    }

    /// Every connection is free again; the restart is logged at `date`.
    private mutating func restart(at date: Date) {
        inUse = max(0, inUse - leaked)
        leaked = 0
        restarts += 1
        exhaustedSince = nil
        restartDue = nil
        record(.restarted, at: date)
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, fast, well-mixed generator whose whole
/// sequence follows from the seed, so the demo's fault can be replayed exactly.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) from the top 53 bits.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
