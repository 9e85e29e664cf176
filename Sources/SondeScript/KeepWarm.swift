import SondeSupport

/// `# @keep-warm 15m`: the target goes to sleep after this long without a request (a free-tier
/// host), so the check's `@every` should be shorter to keep it awake (docs/check-format.md,
/// "Monitor directives").
package struct KeepWarm: Sendable, Equatable {
    /// How long the target stays awake without a request.
    package var idle: Duration
    /// Where the directive is written (its `@`), for warnings.
    package var location: SourceLocation

    /// The shortest idle time the directive accepts.
    package static let minimumIdle: Duration = .seconds(60)
    /// The longest idle time the directive accepts.
    package static let maximumIdle: Duration = .seconds(7 * 86_400)

    package init(idle: Duration, location: SourceLocation) {
        self.idle = idle
        self.location = location
    }
}

extension CheckScript {
    /// `path:line:col: warning: …` when `@keep-warm` is set and `@every` is not shorter than its idle
    /// time (the runs alone cannot keep the target awake); nil otherwise.
    package var keepWarmWarning: String? {
        guard let warm = settings.keepWarm, settings.every >= warm.idle else { return nil }
        return "\(path):\(warm.location.line):\(warm.location.column): warning: @every "
            + "\(DurationText.setting(settings.every)) is not shorter than @keep-warm "
            + "\(DurationText.setting(warm.idle)): the target may fall asleep between runs; "
            + "run it more often, e.g. @every \(DurationText.setting(Self.suggestedEvery(warm.idle)))"
    }

    /// An interval that keeps a target with `idle` awake: a third of it, whole minutes when it is
    /// at least 3 minutes.
    static func suggestedEvery(_ idle: Duration) -> Duration {
        let seconds = idle.components.seconds / 3
        return seconds >= 180 ? .seconds(seconds / 60 * 60) : .seconds(max(seconds, 1))
    }
}
