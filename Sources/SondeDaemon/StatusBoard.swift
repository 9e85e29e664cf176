import SondeRender
import SondeStore
import SondeSupport
import Synchronization

/// What the live status page needs that the metrics and SLO counts do not keep: each check's last
/// run (time, verdict, error) and the durations of its recent runs (docs/status-page.md). Kept only
/// when the prober serves the page (`sonde run --listen`): about 300 bytes a check.
///
/// Written once per run from the run's task (one short lock); read by the HTTP server's threads,
/// one check at a time, so a page never holds the lock for long. Built pages are kept for a second
/// and built by one thread at a time: a burst of reloads costs one snapshot.
final class StatusBoard: Sendable {
    /// Runs whose durations the latency line shows.
    static let recentRuns = 60

    /// One check's last run and recent durations.
    struct Entry: Sendable {
        var ok: Bool
        var lastRunMs: Int64
        var failure: StatusPage.Failure?
        /// Durations in ms, a ring of `recentRuns` (NaN: a failed run, shown as a gap).
        var ring: ContiguousArray<Float> = []
        /// Where the next duration goes once the ring is full.
        var next = 0

        /// The durations oldest first, failed runs as nil.
        var durations: [Double?] {
            let ordered = ring.count < StatusBoard.recentRuns ? Array(ring) : Array(ring[next...] + ring[..<next])
            return ordered.map { $0.isNaN ? nil : Double($0) }
        }
    }

    /// Whether runs are kept at all (false: `record` does nothing).
    let enabled: Bool
    private let entries = Mutex<[String: Entry]>([:])
    private let cache = Mutex<(atMs: Int64, page: StatusPage)?>(nil)

    /// A board that keeps runs when `enabled`.
    init(enabled: Bool) {
        self.enabled = enabled
    }

    /// Notes a finished run.
    func record(_ record: RunRecord) {
        guard enabled else { return }
        let duration = record.ok ? Float(record.durationMs) : .nan
        let failure = record.error.map { StatusPage.Failure(kind: $0.kind, message: $0.message) }
        entries.withLock { all in
            var entry = all.removeValue(forKey: record.check) ?? Entry(ok: record.ok, lastRunMs: record.time)
            entry.ok = record.ok
            entry.lastRunMs = record.time
            entry.failure = record.ok ? nil : failure
            if entry.ring.count < Self.recentRuns {
                entry.ring.append(duration)
            } else {
                entry.ring[entry.next] = duration
                entry.next = (entry.next + 1) % Self.recentRuns
            }
            all[record.check] = entry
        }
    }

    /// Forgets the checks no longer loaded.
    func keep(_ names: Set<String>) {
        entries.withLock { all in
            for name in all.keys where !names.contains(name) { all[name] = nil }
        }
    }

    /// One check's entry (a copy), nil before its first run.
    func entry(_ check: String) -> Entry? {
        entries.withLock { $0[check] }
    }

    /// The page built within the last second, or a new one from `build`; one build at a time.
    func page(nowMs: Int64, build: () -> StatusPage) -> StatusPage {
        cache.withLock { cached in
            if let cached, nowMs >= cached.atMs, nowMs - cached.atMs < 1000 { return cached.page }
            let page = build()
            cached = (nowMs, page)
            return page
        }
    }
}
