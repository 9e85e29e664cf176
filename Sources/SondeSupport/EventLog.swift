import Foundation

/// The daemon's log on standard error: one line per event, as text for people or JSON for machines.
package struct EventLog: Sendable {
    package enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    package enum Level: String, Sendable {
        case info, warn, error
    }

    package var format: Format
    private let console: Console
    private let now: @Sendable () -> Date

    package init(format: Format, console: Console, now: @escaping @Sendable () -> Date = { Date() }) {
        self.format = format
        self.console = console
        self.now = now
    }

    /// Writes one line. `fields` appear as keys in JSON; the text form shows the message only.
    package func log(_ level: Level, _ event: String, _ message: String, _ fields: [(String, String)] = []) {
        let time = UTCTime.rfc3339(UTCTime.milliseconds(now()))
        switch format {
        case .text:
            // A message may quote a multi-line error; it stays one line, and control characters
            // (a name's ESC, say) are shown escaped, never written raw.
            let oneLine = ControlText.escaped(message.replacingOccurrences(of: "\n", with: " "))
            console.err("\(time) \(level.rawValue) \(event): \(oneLine)\n")
        case .json:
            var w = LineWriter()
            w.raw("{\"t\":")
            w.string(time)
            w.raw(",\"level\":")
            w.string(level.rawValue)
            w.raw(",\"event\":")
            w.string(event)
            w.raw(",\"msg\":")
            w.string(message)
            for (key, value) in fields {
                w.raw(",")
                w.string(key)
                w.raw(":")
                w.string(value)
            }
            w.raw("}\n")
            console.err(String(decoding: w.bytes, as: UTF8.self))
        }
    }

    package func info(_ event: String, _ message: String, _ fields: [(String, String)] = []) {
        log(.info, event, message, fields)
    }

    package func warn(_ event: String, _ message: String, _ fields: [(String, String)] = []) {
        log(.warn, event, message, fields)
    }

    package func error(_ event: String, _ message: String, _ fields: [(String, String)] = []) {
        log(.error, event, message, fields)
    }
}
