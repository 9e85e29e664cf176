/// Why waiting on a `ManualTimeSource` gave up.
enum ManualTimeSourceError: Error, Equatable, CustomStringConvertible {
    /// Fewer than `wanted` tasks were asleep on the source after `waited` of real time.
    case sleepersNotReached(wanted: Int, asleep: Int, waited: Duration)

    /// One line for the failing test.
    var description: String {
        switch self {
        case .sleepersNotReached(let wanted, let asleep, let waited):
            return
                "\(asleep) of \(wanted) expected tasks were asleep on the manual clock after \(DurationText.span(ms: waited.milliseconds)) of real time"
        }
    }
}
