/// Durations as text, one formatter for every output.
package enum DurationText {
    /// The form a check file's directives use: `5s`, `250ms`, `1.5ms`.
    package static func setting(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        if ms >= 1000, ms.truncatingRemainder(dividingBy: 1000) == 0 { return "\(Int(ms / 1000))s" }
        return ms.truncatingRemainder(dividingBy: 1) == 0 ? "\(Int(ms))ms" : "\(ms)ms"
    }
}
