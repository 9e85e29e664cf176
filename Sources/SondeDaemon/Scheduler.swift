import Foundation
import SondeAlerts
import SondeIncidents
import SondeProbe
import SondeRender
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport
import Synchronization

/// Starts each check at absolute times `first + k·interval` on the monotonic clock of `time`, with
/// `first` spread by a stable per-check offset. On the system clock the probe engine's thread is the
/// timer; on another `TimeSource` (a test's manual clock) each slot waits in `time.sleep(until:)`.
/// A check never overlaps itself: a slot that comes while its previous run is still going is taken
/// as soon as that run ends (late, and says by how much); slots missed beyond that one are skipped
/// and counted. After a pause (the process stopped, the machine suspended, the engine thread held up)
/// each check runs once, at its latest due slot; the slots it missed are skipped and counted, never
/// replayed.
///
/// With `startHeartbeat`, the scheduler also beats: a timer on the same path as a run's start (the
/// engine's thread, then a task) that records when it last ran. `liveness` compares that with the
/// time now, so `/healthz` turns red when runs cannot start on time, whatever answers the request.
package final class Scheduler: Sendable {
    /// How recently the heartbeat ran: `/healthz`.
    package struct Liveness: Sendable, Equatable {
        /// Time since the heartbeat last ran.
        package var sinceBeat: Duration
        /// How long without a beat counts as stalled.
        package var threshold: Duration

        /// False once the heartbeat has not run for `threshold`: runs cannot start on time.
        package var isLive: Bool { sinceBeat < threshold }
    }

    /// Runs one check for one slot; `lateness` is how late the run started. The closure records the
    /// result. It runs in a task of its own.
    typealias Execute = @Sendable (_ script: CheckScript, _ lateness: Duration) async -> Void

    /// A check's place in the schedule. Its script is not kept here but in `State.scripts`, the
    /// dictionary the prober's check set holds (shared storage, not a copy per check).
    private struct Slot {
        var generation: UInt64
        var interval: Duration
        var running = false
        /// A slot that came while the check was running: start it when the run ends.
        var missed: ContinuousClock.Instant?
        var skipped: Int64 = 0
    }

    private struct State {
        var slots: [String: Slot] = [:]
        /// The scripts of the scheduled checks, as given to `apply`.
        var scripts: [String: CheckScript] = [:]
        var tasks: [String: Task<Void, Never>] = [:]
        /// The run in flight of each check (its number), from the moment it is started: its task is
        /// registered in `tasks` just after, unless the run has already ended.
        var live: [String: UInt64] = [:]
        var runs: UInt64 = 0
        /// The task waiting for a check's next slot, when `time` is not real time.
        var timers: [String: Task<Void, Never>] = [:]
        /// `stop` waiting for the runs in flight to end.
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        var generation: UInt64 = 0
        var stopping = false
        /// When the heartbeat last ran (set when it starts), its period, and its timer task when
        /// `time` is not real time.
        var lastBeat: ContinuousClock.Instant?
        var beatEvery: Duration = .seconds(1)
        var beatTimer: Task<Void, Never>?
        var beatStopped = false
    }

    private let engine: ProbeEngine
    private let execute: Execute
    private let origin: ContinuousClock.Instant
    private let time: any TimeSource
    private let state = Mutex(State())

    /// A scheduler whose slots count from `origin`: by default the monotonic instant of the Unix
    /// epoch, read once from the wall clock of `time`, so a check keeps the same phase across
    /// restarts and on every prober (runs at wall times `offset + k·interval`); afterwards only the
    /// monotonic clock counts. `time` also measures lateness and the grace of `stop`.
    init(
        engine: ProbeEngine, time: any TimeSource = SystemTimeSource(), origin: ContinuousClock.Instant? = nil,
        execute: @escaping Execute
    ) {
        self.engine = engine
        self.time = time
        self.origin = origin ?? Self.epochOrigin(time)
        self.execute = execute
    }

    /// The monotonic instant that corresponds to 1970-01-01T00:00:00Z on the wall clock of `time` now.
    static func epochOrigin(_ time: any TimeSource = SystemTimeSource()) -> ContinuousClock.Instant {
        let sinceEpoch = time.wallDate.timeIntervalSince1970
        let whole = sinceEpoch.rounded(.down)
        return time.now - .seconds(Int64(whole)) - .nanoseconds(Int64((sinceEpoch - whole) * 1e9))
    }

    /// The stable offset of a check inside its interval: the same name always gets the same offset,
    /// and many names spread evenly (`SlotGrid.fraction(of:)`, which `sonde report` uses to line up
    /// the runs of several locations slot by slot).
    static func offset(of name: String, interval: Duration) -> Duration {
        interval * SlotGrid.fraction(of: name)
    }

    /// The first slot of a check at or after `now`.
    func nextSlot(name: String, interval: Duration, after now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let first = origin + Self.offset(of: name, interval: interval)
        if now <= first { return first }
        let k = ((now - first) / interval).rounded(.up)
        return first + interval * k
    }

    /// Adds or replaces checks and removes those not in `scripts`. A changed check keeps its place in
    /// the schedule when its interval is unchanged; a run in flight finishes with the old version.
    func apply(_ scripts: [CheckScript]) {
        apply(Dictionary(scripts.map { ($0.name, $0) }) { _, last in last })
    }

    /// `apply` with the scripts by check name: the prober passes its check set's dictionary, which
    /// the scheduler keeps as it is (its storage shared, not copied).
    func apply(_ scripts: [String: CheckScript]) {
        let now = time.now
        var toSchedule: [(String, UInt64, ContinuousClock.Instant)] = []
        state.withLock { state in
            for name in state.slots.keys where scripts[name] == nil {
                state.slots[name] = nil
                state.timers.removeValue(forKey: name)?.cancel()
            }
            for name in scripts.keys.sorted() {
                guard let script = scripts[name] else { continue }
                if state.slots[name] != nil, state.scripts[name] == script { continue }
                state.timers.removeValue(forKey: name)?.cancel()
                state.generation += 1
                let interval = script.settings.every
                var slot = Slot(generation: state.generation, interval: interval)
                if let existing = state.slots[name] {
                    slot.running = existing.running
                    slot.skipped = existing.skipped
                }
                state.slots[name] = slot
                toSchedule.append((name, slot.generation, nextSlot(name: name, interval: interval, after: now)))
            }
            state.scripts = scripts
        }
        for (name, generation, at) in toSchedule { arm(name, generation, at) }
    }

    /// Names of the scheduled checks.
    var checks: [String] { state.withLock { $0.slots.keys.sorted() } }

    /// Slots skipped so far because the check was still running (per check).
    var skipped: [String: Int64] {
        state.withLock { $0.slots.mapValues(\.skipped) }
    }

    /// Runs in flight.
    package var running: Int { state.withLock { $0.live.count } }

    /// Stops starting runs, waits up to `grace` (on `time`) for runs in flight, then cancels the
    /// rest. Returns the number of runs cancelled.
    func stop(grace: Duration) async -> Int {
        state.withLock { $0.stopping = true }
        let (time, deadline) = (self.time, self.time.now + grace)
        let left = await withTaskGroup(of: Bool.self) { group -> [Task<Void, Never>] in
            group.addTask { [self] in
                await untilIdle()
                return true
            }
            group.addTask {
                try? await time.sleep(until: deadline)
                return false
            }
            let idle = await group.next() ?? true
            // Past the grace: cancel what still runs, so that `untilIdle` returns too.
            let left = idle ? [] : state.withLock { state in Array(state.tasks.values) }
            for task in left { task.cancel() }
            group.cancelAll()
            return left
        }
        for task in left { await task.value }
        let timers = state.withLock { state in
            defer {
                state.timers.removeAll()
                state.beatTimer = nil
                state.beatStopped = true
            }
            return Array(state.timers.values) + (state.beatTimer.map { [$0] } ?? [])
        }
        for timer in timers { timer.cancel() }
        return left.count
    }

    /// Returns when no run is in flight.
    private func untilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state in
                if state.live.isEmpty { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Calls `fire` at `at`: from the engine thread on real time, else from a task asleep on `time`.
    private func arm(_ name: String, _ generation: UInt64, _ at: ContinuousClock.Instant) {
        guard !time.isRealTime else {
            engine.schedule(at: at) { [self] in fire(name, generation, at) }
            return
        }
        let time = self.time
        state.withLock { state in
            guard !state.stopping, state.slots[name]?.generation == generation else { return }
            state.timers[name] = Task { [self] in
                do {
                    try await time.sleep(until: at)
                } catch {
                    return
                }
                fire(name, generation, at)
            }
        }
    }

    /// On the engine thread (or a timer task): start the slot's run, or remember it when the check
    /// is still running. The run's first part runs right here (see `start`). A timer that fires
    /// whole intervals late (the process was stopped, the machine suspended, the engine thread held
    /// up) takes the latest slot that is due instead, and counts the ones before it as skipped: one
    /// run per check after a pause, never a replay.
    private func fire(_ name: String, _ generation: UInt64, _ at: ContinuousClock.Instant) {
        var launch: Launch?
        let next: ContinuousClock.Instant? = state.withLock { state in
            guard !state.stopping, var slot = state.slots[name], slot.generation == generation else { return nil }
            let slotTime = Self.latestDue(at, interval: slot.interval, now: time.now)
            slot.skipped += slotTime.skipped
            if slot.running {
                if slot.missed != nil { slot.skipped += 1 }
                slot.missed = slotTime.at
            } else if let script = state.scripts[name] {
                slot.running = true
                launch = Self.reserve(script, at: slotTime.at, in: &state)
            }
            state.slots[name] = slot
            return slotTime.at + slot.interval
        }
        if let launch { start(launch) }
        if let next { arm(name, generation, next) }
    }

    /// The latest slot `at + k × interval` that is due at `now` (`at` itself unless a whole interval
    /// has passed since), and `k`: the slots before it, skipped.
    static func latestDue(
        _ at: ContinuousClock.Instant, interval: Duration, now: ContinuousClock.Instant
    ) -> (at: ContinuousClock.Instant, skipped: Int64) {
        guard interval > .zero, now - at >= interval else { return (at, 0) }
        var behind = Int64(((now - at) / interval).rounded(.down))
        // Floating point may land one slot past `now`: step back to the last one due.
        while behind > 0, at + interval * behind > now { behind -= 1 }
        return (at + interval * behind, behind)
    }

    // MARK: Heartbeat

    /// Starts the heartbeat: every `interval` a timer on the engine's thread (on real time; a task
    /// asleep on `time` otherwise) starts a task that records the time, the path a run's start takes.
    /// Runs until `stop` has returned.
    package func startHeartbeat(every interval: Duration = .seconds(1)) {
        let at = state.withLock { state -> ContinuousClock.Instant? in
            guard state.lastBeat == nil else { return nil }
            state.lastBeat = time.now
            state.beatEvery = interval
            return time.now + interval
        }
        if let at { armBeat(at) }
    }

    /// How long since the heartbeat last ran, against `threshold`; live when the heartbeat was never
    /// started.
    package func liveness(threshold: Duration) -> Liveness {
        let last = state.withLock { $0.lastBeat }
        guard let last else { return Liveness(sinceBeat: .zero, threshold: threshold) }
        return Liveness(sinceBeat: max(.zero, time.now - last), threshold: threshold)
    }

    private func armBeat(_ at: ContinuousClock.Instant) {
        guard !time.isRealTime else {
            engine.schedule(at: at) { [self] in beat() }
            return
        }
        let time = self.time
        state.withLock { state in
            guard !state.beatStopped else { return }
            state.beatTimer = Task { [self] in
                do {
                    try await time.sleep(until: at)
                } catch {
                    return
                }
                beat()
            }
        }
    }

    /// On the engine thread (or the heartbeat's timer task): start the task that records the beat,
    /// and arm the next one.
    private func beat() {
        let every = state.withLock { state -> Duration? in state.beatStopped ? nil : state.beatEvery }
        guard let every else { return }
        Task { [self] in
            let now = time.now
            state.withLock { $0.lastBeat = now }
        }
        armBeat(time.now + every)
    }

    /// A run about to start: its check, its slot and its number.
    private struct Launch {
        var script: CheckScript
        var slot: ContinuousClock.Instant
        var run: UInt64
    }

    /// Marks a run of `script` as in flight (under the lock); `start` starts it after the lock is let go.
    private static func reserve(_ script: CheckScript, at slot: ContinuousClock.Instant, in state: inout State)
        -> Launch
    {
        state.runs &+= 1
        state.live[script.name] = state.runs
        return Launch(script: script, slot: slot, run: state.runs)
    }

    /// Starts a run in a task that begins on the calling thread (`Task.immediate`): from a slot's
    /// timer that is the engine thread, where the run renders its first request and hands it to
    /// libcurl without a hop through the cooperative pool; the run goes on on the pool once that
    /// request is answered. Called without the lock held, since a run that ends at once (a template
    /// error) reports back through `finished` before this returns.
    private func start(_ launch: Launch) {
        let (name, run, script, slotTime) = (launch.script.name, launch.run, launch.script, launch.slot)
        let task = Task.immediate { [self] in
            let lateness = max(.zero, time.now - slotTime)
            await execute(script, lateness)
            finished(name, run: run)
        }
        state.withLock { state in
            if state.live[name] == run { state.tasks[name] = task }
        }
    }

    private func finished(_ name: String, run: UInt64) {
        var launch: Launch?
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.tasks[name] = nil
            if state.live[name] == run { state.live[name] = nil }
            if var slot = state.slots[name] {
                slot.running = false
                if let missed = slot.missed, !state.stopping, let script = state.scripts[name] {
                    slot.missed = nil
                    slot.running = true
                    launch = Self.reserve(script, at: missed, in: &state)
                }
                state.slots[name] = slot
            }
            guard state.live.isEmpty else { return [] }
            defer { state.idleWaiters.removeAll() }
            return state.idleWaiters
        }
        if let launch { start(launch) }
        for waiter in waiters { waiter.resume() }
    }
}
