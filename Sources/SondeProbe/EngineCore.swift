import CCurl
import Foundation
import SondeSupport
import Synchronization

/// Work sent to the engine thread.
enum EngineCommand: Sendable {
    case add(Transfer)
    case cancel(UInt64)
    case closeSession(UInt64)
    case timer(ContinuousClock.Instant, @Sendable () -> Void)
    /// Resumes a task once the timer action that runs it has returned (see `ProbeEngine.leaveEngineThread`).
    case resume(CheckedContinuation<Void, Never>)
}

/// The engine thread and its libcurl state. The multi handle, the shares and the transfers are
/// touched only by the engine thread; other threads talk to it through `commands` (a `Mutex`) and
/// `curl_multi_wakeup`, the one multi call that is safe from any thread.
///
/// Hand-offs are kept few, because each costs a context switch and a handful of syscalls:
/// - a command sent from the engine thread itself (a run started by a timer action renders and
///   adds its first request right there) goes on a local list that the loop drains before it
///   drives libcurl: no lock, no wakeup;
/// - a command from another thread wakes the engine only when it sleeps (`curl_multi_poll`), and
///   only once per sleep: an engine that is awake takes the command when it next goes round;
/// - closing a session never wakes it unless requests wait for a turn: the share is released the
///   next time the loop goes round (at the next timer, socket event, or within a second).
///
/// At most `maxInFlight` sessions hold connections at once, so sockets never take every
/// descriptor (the share of the open-files limit in `ResourceLimits.budget`). A session holds its
/// connections from its first transfer until it is closed and idle — between two requests of a
/// run — or until its last request (`ProbeRequest.endsSession`) completes, so a run waiting for a
/// pool thread to check its response holds no turn; sessions are what is counted, not transfers. A
/// transfer of a session that holds connections always starts; the first transfer of a new
/// session waits its turn, in order, when the sessions are all taken, and one that waits past its
/// max-time fails as `internal` without being sent.
final class EngineCore: @unchecked Sendable {
    /// Sessions holding connections at once.
    let maxInFlight: Int
    private let multi: UnsafeMutableRawPointer
    /// Commands from other threads, and whether the engine sleeps in `curl_multi_poll` without a
    /// wakeup on its way (set by the loop before it polls, cleared by the first sender to wake it).
    private let commands = Mutex<(queue: [EngineCommand], sleeping: Bool)>(([], false))
    /// Requests waiting for a turn (read by other threads: a session close wakes the engine then).
    private let waitingCount = Atomic<Int>(0)
    /// `curl_multi_wakeup` calls so far, and sessions holding connections (for tests and the docs'
    /// figures: both are plain counters, never read on the hot path).
    private let wakeupCount = Atomic<Int>(0)
    private let heldSessions = Atomic<Int>(0)
    private let ids = Atomic<UInt64>(1)
    private let active = Atomic<Int>(0)
    /// Nanoseconds on the monotonic clock when the loop last went round (it wakes at least once a second).
    private let heartbeat = Atomic<Int64>(0)
    /// `pthread_self()` of the engine thread, stored when its loop starts (0 before).
    private let engineThread = Atomic<UInt>(0)

    // Engine-thread state.
    /// Commands sent from the engine thread itself, drained by the loop before it drives libcurl.
    private var local: [EngineCommand] = []
    private var transfers: [UInt64: Transfer] = [:]
    private var byHandle: [UnsafeMutableRawPointer: Transfer] = [:]
    private var shares: [UInt64: UnsafeMutableRawPointer] = [:]
    private var sessionTransfers: [UInt64: Int] = [:]
    private var closedSessions: Set<UInt64> = []
    private var cancelledEarly: Set<UInt64> = []
    /// Last leaf certificate per session and host: a reused connection reports no certificate.
    private var certificates: [UInt64: [String: CertificateInfo]] = [:]
    private var timers = TimerHeap()
    private let clock = ContinuousClock()
    private let origin = ContinuousClock.now
    /// Transfers waiting for a turn (by id, with the time they came) and their order.
    private var waiting: [UInt64: (transfer: Transfer, since: ContinuousClock.Instant)] = [:]
    private var waitingOrder: [UInt64] = []
    private var waitingHead = 0
    private var lastExpiry = ContinuousClock.now

    private static let globalInit: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    /// `maxInFlight` defaults to the sessions' share of the current soft open-files limit.
    init(maxInFlight: Int? = nil) {
        self.maxInFlight = max(
            1, maxInFlight ?? ResourceLimits.budget(softLimit: ResourceLimits.openFiles().soft).sessions)
        _ = Self.globalInit
        guard let handle = curl_multi_init() else {
            fatalError("curl_multi_init failed: out of memory")
        }
        multi = handle
        let thread = Thread { [self] in loop() }
        thread.name = "sonde-probe"
        thread.start()
    }

    func nextID() -> UInt64 { ids.wrappingAdd(1, ordering: .relaxed).oldValue }

    var activeCount: Int { active.load(ordering: .relaxed) }

    /// Times another thread has woken the engine.
    var wakeups: Int { wakeupCount.load(ordering: .relaxed) }

    /// Sessions holding connections (a closed session counts until the loop has released it).
    var sessionsHeld: Int { heldSessions.load(ordering: .relaxed) }

    /// Time since the loop last went round.
    var sinceHeartbeat: Duration {
        let beat = Duration.nanoseconds(heartbeat.load(ordering: .relaxed))
        return (clock.now - origin) - beat
    }

    /// True on the engine thread.
    var isEngineThread: Bool { engineThread.load(ordering: .relaxed) == UInt(pthread_self()) }

    func enqueue(_ command: EngineCommand) {
        if isEngineThread {
            if case .timer(let deadline, let action) = command {
                // A timer set from the engine thread itself (the scheduler arming a check's next slot
                // from the one firing): straight into the heap. The loop takes its poll timeout from
                // the heap after firing timers, so the new one counts at once.
                timers.insert(deadline, action)
            } else {
                // Sent from a timer action (a run's first request, rendered right there) or from a
                // run that ended there: taken before the loop next drives libcurl.
                local.append(command)
            }
            return
        }
        let wake: Bool
        if case .closeSession = command, waitingCount.load(ordering: .relaxed) == 0 {
            // Nothing waits for the connections this frees: the loop releases them next time round.
            commands.withLock { $0.queue.append(command) }
            wake = false
        } else {
            wake = commands.withLock { state in
                state.queue.append(command)
                guard state.sleeping else { return false }
                state.sleeping = false
                return true
            }
        }
        if wake {
            wakeupCount.add(1, ordering: .relaxed)
            curl_multi_wakeup(multi)
        }
    }

    private func loop() {
        engineThread.store(UInt(pthread_self()), ordering: .relaxed)
        var pending: [EngineCommand] = []
        while true {
            commands.withLock { state in swap(&pending, &state.queue) }
            for command in pending { handle(command) }
            pending.removeAll(keepingCapacity: true)
            fireDueTimers()
            drainLocal()
            if !waiting.isEmpty { expireWaiting() }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            drainMessages()
            drainLocal()
            let timeout = pollTimeout()
            // Sleep only when no command came meanwhile; from here on a sender wakes the poll.
            let idle = commands.withLock { state -> Bool in
                guard state.queue.isEmpty else { return false }
                state.sleeping = true
                return true
            }
            if idle {
                var fds: Int32 = 0
                curl_multi_poll(multi, nil, 0, timeout, &fds)
                commands.withLock { $0.sleeping = false }
            }
            let elapsed = (clock.now - origin).components
            heartbeat.store(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000, ordering: .relaxed)
        }
    }

    /// Handles the commands sent from the engine thread, including those they lead to.
    private func drainLocal() {
        while !local.isEmpty {
            let batch = local
            local.removeAll(keepingCapacity: true)
            for command in batch { handle(command) }
        }
    }

    private func fireDueTimers() {
        let now = clock.now
        while let timer = timers.popDue(now) { timer.action() }
    }

    /// Milliseconds until the next timer, rounded up (never early), at most one second.
    private func pollTimeout() -> Int32 {
        // Waiting transfers are checked against their max-time ten times a second.
        let longest: Int32 = waiting.isEmpty ? 1000 : 100
        guard let next = timers.nextDeadline else { return longest }
        let wait = next - clock.now
        if wait <= .zero { return 0 }
        let ms = (wait.milliseconds).rounded(.up)
        return Int32(min(Double(longest), max(0, ms)))
    }

    private func handle(_ command: EngineCommand) {
        switch command {
        case .timer(let deadline, let action):
            timers.insert(deadline, action)
        case .add(let transfer):
            if cancelledEarly.remove(transfer.id) != nil {
                transfer.finish(.failure(.timeout("the run was cancelled before the request was sent")))
                return
            }
            if shares[transfer.session] == nil, shares.count >= maxInFlight {
                waiting[transfer.id] = (transfer, clock.now)
                waitingOrder.append(transfer.id)
                waitingCount.store(waiting.count, ordering: .relaxed)
                return
            }
            start(transfer)
        case .cancel(let id):
            if let transfer = transfers[id] {
                complete(transfer, with: .failure(.timeout("the run was cancelled")))
            } else if let entry = waiting.removeValue(forKey: id) {
                waitingCount.store(waiting.count, ordering: .relaxed)
                entry.transfer.finish(.failure(.timeout("the run was cancelled before the request was sent")))
            } else {
                cancelledEarly.insert(id)
            }
        case .closeSession(let id):
            closedSessions.insert(id)
            releaseSessionIfIdle(id)
        case .resume(let continuation):
            continuation.resume()
        }
    }

    private func share(for session: UInt64) -> UnsafeMutableRawPointer? {
        if let existing = shares[session] { return existing }
        guard let share = curl_share_init() else { return nil }
        for data in [CURL_LOCK_DATA_CONNECT, CURL_LOCK_DATA_DNS, CURL_LOCK_DATA_SSL_SESSION, CURL_LOCK_DATA_COOKIE] {
            sonde_share_setopt_long(share, CURLSHOPT_SHARE, Int(data.rawValue))
        }
        shares[session] = share
        heldSessions.store(shares.count, ordering: .relaxed)
        return share
    }

    private func releaseSessionIfIdle(_ id: UInt64) {
        guard closedSessions.contains(id), (sessionTransfers[id] ?? 0) == 0 else { return }
        closedSessions.remove(id)
        sessionTransfers[id] = nil
        certificates[id] = nil
        if let share = shares.removeValue(forKey: id) {
            heldSessions.store(shares.count, ordering: .relaxed)
            curl_share_cleanup(share)
            admitWaiting()
        }
    }

    private func start(_ transfer: Transfer) {
        guard let easy = curl_easy_init() else {
            transfer.finish(.failure(.internal("curl_easy_init failed: out of memory")))
            return
        }
        transfer.easy = easy
        if let problem = transfer.configure(share: share(for: transfer.session)) {
            curl_easy_cleanup(easy)
            transfer.easy = nil
            transfer.releaseBuffers()
            transfer.finish(.failure(problem))
            return
        }
        transfers[transfer.id] = transfer
        byHandle[easy] = transfer
        sessionTransfers[transfer.session, default: 0] += 1
        active.add(1, ordering: .relaxed)
        curl_multi_add_handle(multi, easy)
    }

    private func drainMessages() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let transfer = byHandle[easy]
            else { continue }
            let code = message.pointee.data.result
            let result: Result<ProbeResponse, ProbeError>
            if code == CURLE_OK {
                var response = transfer.response()
                if response.certificate == nil, transfer.isHTTPS {
                    response.certificate = certificates[transfer.session]?[transfer.host]
                } else if let cert = response.certificate {
                    certificates[transfer.session, default: [:]][transfer.host] = cert
                }
                result = .success(response)
            } else {
                result = .failure(transfer.error(for: code))
            }
            complete(transfer, with: result)
        }
    }

    private func complete(_ transfer: Transfer, with result: Result<ProbeResponse, ProbeError>) {
        if let easy = transfer.easy {
            curl_multi_remove_handle(multi, easy)
            curl_easy_cleanup(easy)
            byHandle[easy] = nil
            transfer.easy = nil
        }
        transfer.releaseBuffers()
        transfers[transfer.id] = nil
        active.subtract(1, ordering: .relaxed)
        sessionTransfers[transfer.session, default: 1] -= 1
        // The session's last request: release it now, not when the run gets round to closing it.
        if transfer.request.endsSession { closedSessions.insert(transfer.session) }
        releaseSessionIfIdle(transfer.session)
        transfer.finish(result)
    }

    /// Starts waiting transfers, oldest first, while sessions may take connections.
    private func admitWaiting() {
        while shares.count < maxInFlight, waitingHead < waitingOrder.count {
            let id = waitingOrder[waitingHead]
            waitingHead += 1
            guard let entry = waiting.removeValue(forKey: id) else { continue }
            waitingCount.store(waiting.count, ordering: .relaxed)
            let waited = clock.now - entry.since
            if let maxTime = entry.transfer.request.maxTime, waited >= maxTime {
                notSent(entry.transfer, waited: waited)
                continue
            }
            entry.transfer.waited = waited
            start(entry.transfer)
        }
        if waitingHead == waitingOrder.count {
            waitingOrder.removeAll(keepingCapacity: true)
            waitingHead = 0
        } else if waitingHead >= 1024, waitingHead * 2 >= waitingOrder.count {
            waitingOrder.removeFirst(waitingHead)
            waitingHead = 0
        }
    }

    /// Fails waiting transfers whose max-time has passed (at most ten times a second).
    private func expireWaiting() {
        let now = clock.now
        guard now - lastExpiry >= .milliseconds(100) else { return }
        lastExpiry = now
        for (id, entry) in waiting {
            guard let maxTime = entry.transfer.request.maxTime, now - entry.since >= maxTime else { continue }
            waiting[id] = nil
            waitingCount.store(waiting.count, ordering: .relaxed)
            notSent(entry.transfer, waited: now - entry.since)
        }
    }

    private func notSent(_ transfer: Transfer, waited: Duration) {
        transfer.finish(
            .failure(
                .internal(
                    "request to \(transfer.request.url) not sent: waited \(DurationText.milliseconds(waited.milliseconds)), its whole max-time, for a turn (sonde keeps the connections of \(maxInFlight) runs open at once, the share of its open-files limit)"
                )))
    }
}
