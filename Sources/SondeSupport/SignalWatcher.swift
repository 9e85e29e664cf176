import Dispatch
import Foundation

/// Delivers SIGTERM, SIGINT and SIGHUP (or any set) as an async sequence, through dispatch signal
/// sources: the default actions are ignored first, so the process is not killed.
/// `@unchecked Sendable`: `sources` is set once in `init` and dispatch sources are thread-safe.
package final class SignalWatcher: @unchecked Sendable {
    package let signals: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    package init(_ numbers: [Int32]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        signals = stream
        let queue = DispatchQueue(label: "sonde-signals")
        var made: [any DispatchSourceSignal] = []
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            made.append(source)
        }
        sources = made
    }

    /// Stops watching and restores the default actions.
    package func cancel() {
        for source in sources {
            source.cancel()
            signal(Int32(source.handle), SIG_DFL)
        }
    }

    /// `SIGTERM`, `SIGINT`, `SIGHUP`… for log lines.
    package static func name(_ number: Int32) -> String {
        switch number {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(number)"
        }
    }
}
