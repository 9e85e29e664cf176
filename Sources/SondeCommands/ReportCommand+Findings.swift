import Foundation
import SondeIncidents
import SondeStore
import Synchronization

extension ReportCommand {
    /// What each check's raw runs of the last 24 hours show (`FindingRules.check`), on every core.
    static func findings(_ names: [String], readers: [RunReader], nowMs: Int64) -> [String: [Finding]] {
        let out = Mutex([String: [Finding]]())
        DispatchQueue.concurrentPerform(iterations: names.count) { index in
            var stats = ReadStats()
            let runs = readers.flatMap {
                $0.runs(check: names[index], from: nowMs - 86_400_000 + 1, to: nowMs + 1, stats: &stats)
            }
            let found = FindingRules.check(names[index], runs: runs)
            out.withLock { $0[names[index]] = found }
        }
        return out.withLock { $0 }
    }
}
