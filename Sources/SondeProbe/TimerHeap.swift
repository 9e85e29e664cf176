import SondeSupport

/// Timers of the engine thread: a binary min-heap on the monotonic clock. Ties fire in the order
/// they were added.
struct TimerHeap {
    struct Timer {
        var deadline: ContinuousClock.Instant
        var sequence: UInt64
        var action: @Sendable () -> Void
    }

    private var items: [Timer] = []
    private var sequence: UInt64 = 0

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var nextDeadline: ContinuousClock.Instant? { items.first?.deadline }

    mutating func insert(_ deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) {
        sequence &+= 1
        items.append(Timer(deadline: deadline, sequence: sequence, action: action))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest timer when it is due at `now`.
    mutating func popDue(_ now: ContinuousClock.Instant) -> Timer? {
        guard let first = items.first, first.deadline <= now else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count, less(left, smallest) { smallest = left }
                if right < items.count, less(right, smallest) { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        items[a].deadline < items[b].deadline
            || (items[a].deadline == items[b].deadline && items[a].sequence < items[b].sequence)
    }
}
