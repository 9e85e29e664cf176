import Foundation

/// Polls `condition` every few milliseconds of real time until it holds; false when `timeout`
/// passes first. For waiting on real I/O (a server, a child process, a task starting): the
/// deadline is generous because the machine may be busy, so assert on what happened (counts,
/// order), never on how long it took. Time a test controls goes through `ManualTimeSource`.
func pollUntil(timeout: Duration = .seconds(60), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now > deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}
